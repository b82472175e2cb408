"""lowess: Stata's [R] lowess -- the smooth of yvar on xvar, its graph, and generate().

    lowess yvar xvar [if] [in] [, mean noweight bwidth(#) logit adjust nograph
                                  generate(newvar) lineopts() addplot() marker options
                                  twoway options]

The smooth is hlmshell.graphics.stats.lowess_values (running-line least squares with
Cleveland's tricube weights over the bwidth*N neighbours centred on each observation, no
robustness iterations); adjust and logit transform it afterwards, in that order. The graph
is the scatter of yvar against xvar with the smooth as a line (logit: the smooth alone),
titled `Lowess smoother` (`Running mean smoother` with mean) with the note `bandwidth = #`;
with by() the smooth is computed within each group, as the graph shows it."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands import graph_twoway as gt
from hlmshell.commands._toolkit import check_name
from hlmshell.commands.graph_addplot import AddPlot
from hlmshell.commands.graph_stat import read
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.graphics import stats
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, command
from hlmshell.syntax.ast import Command
from hlmshell.syntax.varlist import expand_varlist

_OWN = {"mean": ("m", False), "noweight": ("now", False), "bwidth": ("bw", True),
        "logit": ("lo", False), "adjust": ("a", False), "nograph": ("nog", False),
        "generate": ("gen", True), "lineopts": ("lineop", True), "addplot": ("addplot", True)}


def _bandwidth(own: dict) -> float:
    if not own.get("bwidth"):
        return 0.8
    bw = gc.number(own["bwidth"], "bwidth")
    if not 0 < bw <= 1:
        raise StataError("bwidth() must be between 0 and 1", 198)
    return bw


def _new_name(session, own: dict) -> str | None:
    if own.get("generate") is None:
        return None
    words = own["generate"].split()
    if len(words) != 1:
        raise StataError("option generate() incorrectly specified", 198)
    name = words[0]
    check_name(name)
    if name in session.data:
        raise StataError(f"variable {name} already defined", 110)
    return name


def smooth(y: np.ndarray, x: np.ndarray, groups: list[np.ndarray], own: dict) -> np.ndarray:
    """The smoothed values per observation (NaN outside the groups), each group on its own."""
    out = np.full(len(y), np.nan)
    bw = _bandwidth(own)
    if not any(m.any() for m in groups):
        raise StataError("no observations", 2000)
    for mask in groups:
        idx = np.flatnonzero(mask)
        if len(idx) < 3:
            raise StataError("insufficient observations", 2001)
        if float(np.max(x[idx]) - np.min(x[idx])) < 1e-30:
            raise StataError("Range of x is too small", 499)
        s = stats.lowess_values(x[idx], y[idx], bw, "mean" in own, "noweight" in own)
        out[idx] = stats.lowess_adjust_logit(s, y[idx], "adjust" in own, "logit" in own)
    return out


def _groups(session, gopts: dict, sample: np.ndarray) -> list[np.ndarray]:
    if "by" not in gopts:
        return [sample]
    rule = gc.by_rule(gopts["by"], lambda t: list(expand_varlist(session.data, t)))
    cols = [np.asarray(session.data.var(n).values) for n in rule.varnames]
    keys = list(zip(*cols))
    out = []
    for key in dict.fromkeys(k for k, ok in zip(keys, sample) if ok):
        mask = sample.copy()
        for col, v in zip(cols, key):
            mask &= col == v
        out.append(mask)
    return out


_HELP = (Opt("mean", "m", desc="running-mean smooth (default: running-line least squares)"),
         Opt("noweight", "now", desc="no tricube weights"),
         Opt("bwidth", "bw", "real", 0.8, desc="bandwidth, a fraction of N (default .8)"),
         Opt("logit", "lo", desc="the smooth as logits"),
         Opt("adjust", "a", desc="the smooth's mean set to yvar's mean"),
         Opt("nograph", "nog", desc="no graph"),
         Opt("generate", "gen", "name", desc="a new variable with the smoothed values"))


@command("lowess", abbrev="lowess", family="Statistics", raw=True, byable=False,
         changes_data=True, desc="lowess smoothing (graph and generate())",
         example="lowess mathach ses, bwidth(.5) generate(smooth)", options=_HELP)
def lowess(session, cmd) -> None:
    table = {**_OWN, **{k: v for k, v in gt.PLOT_OPTIONS.items() if k not in _OWN}}
    _c, names, sample, own, gopts = read(session, cmd.body, "lowess", table, nvars=(2, 2))
    marker, own = _marker_options(own)
    yname, xname = names
    newvar = _new_name(session, own)
    ds = session.data
    y = np.asarray(ds.var(yname).values, dtype=float)
    x = np.asarray(ds.var(xname).values, dtype=float)
    graph = "nograph" not in own
    if graph:
        gc.check_finish(session, gopts)
    fitted = smooth(y, x, _groups(session, gopts, sample), own)
    if graph:
        _draw(session, cmd.text, names, sample, fitted, own, marker, gopts)
    if newvar is not None:
        ds.add(Variable(newvar, fitted.astype(np.float32).astype(float), vtype="float"))


def _marker_options(own: dict) -> tuple[dict, dict]:
    """Marker options (msymbol() mcolor() ... typed for the scatter) apart from lowess's."""
    marker = {k: v for k, v in own.items() if k not in _OWN}
    return marker, {k: v for k, v in own.items() if k in _OWN}


def _draw(session, text, names, sample, fitted, own, marker, gopts) -> None:
    yname, xname = names
    ds = session.data
    x = np.asarray(ds.var(xname).values, dtype=float)
    y = np.asarray(ds.var(yname).values, dtype=float)
    line_style = gt.option_style(own.get("lineopts"), 1)
    point = gt.Plot(kind="scatter", cmd=Command(name="scatter"), opts=marker)
    point_style = gt._style(point, 0)

    def build(mask, title):
        use = sample if mask is None else sample & mask
        idx = np.flatnonzero(use)
        o = idx[np.lexsort((y[idx], x[idx]))]
        series = []
        if "logit" not in own:
            series.append(Series("scatter", x[o], y[o], label=gc.var_title(ds, yname),
                                 style=dict(point_style)))
        series.append(Series("line", x[o], fitted[o], label="lowess " + yname + " " + xname,
                             style=dict(line_style)))
        return Panel(title=title, series=series)

    extra = AddPlot(session, own.get("addplot"))
    extra.merge_options(gopts)
    build = extra.wrap(session, build)
    graph = Graph(kind="twoway")
    if "by" in gopts:
        rule = gc.by_rule(gopts["by"], lambda t: list(expand_varlist(ds, t)))
        graph.panels, _ = gt.by_panels(session, rule, build)
        graph.rows, graph.cols = rule.rows, rule.cols
    else:
        graph.panels = [build(None, "")]
    graph.title = "Running mean smoother" if "mean" in own else "Lowess smoother"
    graph.note = f"bandwidth = {fmt_g(_bandwidth(own)).strip()}"
    graph.legend.show = False
    gc.apply_text(graph, gopts)
    gc.apply_axes(graph, gopts, (gc.var_title(ds, xname), ds.var(xname)),
                  (gc.var_title(ds, yname), None), x[sample], y[sample], ds)
    gc.finish(session, graph, gopts, text)

