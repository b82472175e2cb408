"""coefplot: the community command (SSC coefplot, Ben Jann) that plots estimates and their
confidence intervals, built in because course do-files run it after `ssc install coefplot`.

    coefplot [name ...] [, options]                   one plot per model
    coefplot (m1, label(A)) (m2 \\ m3, label(B))       plots of one or more models
    coefplot m1 || m2 [, bylabels()]                  subgraphs (one panel each)
    coefplot matrix(C), ci((2 3))                     a row of a matrix, limits in rows 2, 3

Markers at the point estimates and spikes for the confidence intervals (rspike, or
ciopts(recast(rcap)) ...), coefficients on the vertical axis from top to bottom
(horizontal, the default) or on the horizontal axis (vertical, the default with `at`, which
places margins results at their at() values after `margins, post`). What is collected:
hlmshell/commands/coefplot_data.py (matrix() and ci()/se()/v(): coefplot_matrix.py); where
it goes: coefplot_layout.py; the syntax: coefplot_syntax.py. The graph options (title(),
xline(0), legend(), scheme(), name(), saving(), ...) are twoway's; r(n_plot), r(n_subgr),
r(n_ci), r(labels), r(eqlabels), r(headings) are left as coefplot leaves them."""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands import coefplot_data as cd
from hlmshell.commands import coefplot_layout as cl
from hlmshell.commands import coefplot_syntax as cs
from hlmshell.commands import graph_common as gc
from hlmshell.commands import graph_twoway as gt
from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.output.numfmt import fmt
from hlmshell.registry import Opt, command
from hlmshell.results import RResults
from hlmshell.syntax.ast import Command
from hlmshell.syntax.lexer import top_words
from hlmshell.syntax.parser import parse_options

CI_KINDS = ("rspike", "rcap", "rarea", "rline", "rconnected")
MARK_KINDS = ("scatter", "line", "connected", "bar", "area", "spike", "dropline", "dot")


class PlotInfo:
    """One plot as drawn: its number, subgraph(s), label and options."""

    def __init__(self, number: int, label: str, opts: dict, n_ci: int):
        self.number, self.label, self.opts, self.n_ci = number, label, opts, n_ci


def collect(session, spec: cs.Spec) -> tuple[cd.Rows, dict, list, dict]:
    """All rows; {plot number: PlotInfo}; the subgraph labels; {subgraph: [plot numbers]}."""
    rows = cd.Rows()
    plots: dict = {}
    by_labels: list = []
    members: dict = {}
    recycle = "norecycle" not in spec.opts
    number = 0
    for j, sg in enumerate(spec.subgraphs, 1):
        if recycle:
            number = 0
        first_model = None
        for plot in sg.plots:
            number += 1
            members.setdefault(j, []).append(number)
            if plot.skip:
                continue
            popts = cs.merged(spec, sg, plot, number, None)
            label = None
            for model in plot.models:
                mopts = cs.merged(spec, sg, plot, number, model)
                got, mlabel = cd.collect(session, model.name, mopts, number, j)
                rows.extend(got)
                label = label or mlabel
                first_model = first_model or model.name
                n_ci = max((len(c) for c in got.cis), default=len(cd.levels(session, mopts)))
                info = plots.get(number)
                if info is None:
                    plots[number] = PlotInfo(number, label, dict(popts), n_ci)
                else:                       # the same plot in a later subgraph: its options win
                    info.n_ci = max(info.n_ci, n_ci)
                    info.opts.update(popts)
            if number in plots and "label" in popts:
                plots[number].label = gc.text_arg(popts["label"])
        by_labels.append(gc.text_arg(sg.opts["bylabel"]) if "bylabel" in sg.opts
                         else (first_model or ""))
    _relabel(spec, plots, by_labels)
    return rows, plots, by_labels, members


def _relabel(spec: cs.Spec, plots: dict, by_labels: list) -> None:
    """plotlabels("..." ...) and bylabels("..." ...) override, one after the other."""
    for key, target in (("plotlabels", None), ("bylabels", by_labels)):
        text = spec.opts.get(key)
        if not text:
            continue
        head = text.split(",")[0]
        words = [gc.text_arg(head[s:e]) for s, e in top_words(head)]
        for k, w in enumerate(words):
            if target is None and k + 1 in plots:
                plots[k + 1].label = w
            elif target is not None and k < len(target):
                target[k] = w


_HELP = (Opt("keep", "keep", "string", desc="coefficients to plot (eq:coef, * and ?)"),
         Opt("drop", "drop", "string", desc="coefficients to leave out, e.g. drop(_cons)"),
         Opt("levels", "l", "numlist", desc="confidence levels, e.g. levels(99 95)"),
         Opt("noci", desc="no confidence intervals"),
         Opt("eform", desc="exponentiated estimates and limits"),
         Opt("rescale", "rescale", "string", desc="multiply estimates and limits by #"),
         Opt("rename", "rename", "string", desc="rename coefficients: old = new"),
         Opt("baselevels", "base", desc="include base levels of factor variables"),
         Opt("omitted", "omit", desc="include omitted coefficients"),
         Opt("at", desc="plot positions from e(at) after margins, post"),
         Opt("label", "lab", "string", desc="a plot's label in the legend"),
         Opt("ciopts", "ciop", "string", desc="look of the intervals; recast(rcap) ..."),
         Opt("recast", "recast", "string", desc="markers drawn as line, connected, bar"),
         Opt("mlabel", "ml", "string", desc="marker labels with the estimates"),
         Opt("vertical", "vert", desc="coefficients on the x axis"),
         Opt("horizontal", "hor", desc="coefficients on the y axis (the default)"),
         Opt("order", "order", "string", desc="order of the coefficients (. for a gap)"),
         Opt("coeflabels", "coefl", "string", desc='coefficient labels: ses = "SES"'),
         Opt("nolabels", "nolab", desc="coefficient names instead of labels"),
         Opt("format", "format", "string", desc="format of marker labels"),
         Opt("bylabels", "bylabels", "string", desc="labels of the || subgraphs"))


@command("coefplot", abbrev="coefplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="plot coefficients and confidence intervals (SSC coefplot)",
         example="coefplot m1 m2, drop(_cons) xline(0)", options=_HELP)
def coefplot(session, cmd) -> None:
    spec = cs.parse(session, cmd.body or "")
    opts, gopts = spec.opts, spec.gopts
    if "horizontal" in opts and "vertical" in opts:
        raise StataError("horizontal and vertical not both allowed", 198)
    gc.check_finish(session, gopts)
    rows, plots, by_labels, members = collect(session, spec)
    if not len(rows):
        session.out.line("(nothing to plot)")
        return
    atmode = not all(math.isnan(a) for a in rows.at)
    if atmode and any(math.isnan(a) for a in rows.at):
        raise StataError("at() has to be specified for all models or for none", 198)
    vertical = "vertical" in opts or (atmode and "horizontal" not in opts)
    if atmode:
        for key in ("order", "coeflabels", "eqlabels"):
            if key in opts:
                raise StataError(f"at() and {key}() not both allowed", 198)
        layout = cl.Layout(pos=np.asarray(rows.at, dtype=float), atmode=True)
        meqs = False
    else:
        layout, meqs = _layout(session, rows, opts, plots, members, vertical)
    graph = _graph(session, rows, plots, by_labels, layout, opts, gopts, vertical, atmode)
    gc.finish(session, graph, gopts, cmd.text)
    _results(session, rows, plots, by_labels, layout, meqs)


def _layout(session, rows, opts, plots, members, vertical) -> tuple[cl.Layout, bool]:
    meqs = cl.unify_equations(rows, "eqstrict" in opts)
    keys = cl.apply_order(cl.apply_sort(cl.nice_order(rows), rows, opts.get("sort")),
                          opts.get("order"))
    where, ticks, heads = cl.positions(keys, meqs, "noeqlabels" not in opts)
    heads = cl.equation_labels(heads, opts)
    extra = cl.add_headings(where, ticks, heads, opts.get("headings"))
    pos = np.array([where[(e, c)] for e, c in zip(rows.eq, rows.coef)], dtype=float)
    custom = {}
    for p, info in plots.items():
        if info.opts.get("offset") not in (None, ""):
            off = gc.number(info.opts["offset"], "offset")
            custom[p] = off if vertical else -off
    many = len({p for v in members.values() for p in v}) > 1
    pos = cl.offsets(rows, pos, custom, many and "nooffsets" not in opts, members,
                     "norecycle" not in opts)
    layout = cl.Layout(pos=pos, ticks=[p for _k, p in ticks],
                       labels=cl.labels_for(session.data, ticks, opts),
                       headings=sorted(heads), extra=extra)
    every = [p for _k, p in ticks] + [p for p, _t in heads + extra]
    layout.lo, layout.hi = min(every) - 0.5, max(every) + 0.5
    return layout, meqs


# ---- the graph -------------------------------------------------------------------------------
def _pick(arg: str, k: int) -> str:
    """The k-th (1-based) element of a style list (`thin medium ..`: the last repeats)."""
    words = arg.split()
    if not words:
        return arg
    if ".." in words:
        words = words[:words.index("..")]
    return words[min(k, len(words)) - 1]


def _ci_style(info: PlotInfo, level_no: int, pstyle: int, horizontal: bool):
    """(kind, style) of the level_no-th confidence interval of a plot."""
    text = info.opts.get("ciopts") or ""
    kind = (info.opts.get("cirecast") or "rspike").strip()
    chosen = []
    widths = False
    for o in parse_options(text):
        if gc.abbrev_match(o.name, "recast", "recast"):
            kind = _pick(o.arg or "", level_no)
            widths = True
            continue
        if gc.abbrev_match(o.name, "lwidth", "lw"):
            widths = True
        chosen.append(o.name if o.arg is None else f"{o.name}({_pick(o.arg, level_no)})")
    if kind not in CI_KINDS:
        raise StataError(f"ciopts(recast({kind})) not allowed", 198)
    style = gt.option_style(" ".join(chosen), pstyle)
    if "pstyle" not in info.opts:
        style["pstyle"] = pstyle
    if not widths and info.n_ci > 1:
        style["lwidth"] = f"*{1 + math.log10(level_no) / math.log10(2):.6g}"
    if horizontal:
        style["horizontal"] = True
    return kind, style


def _mark_style(info: PlotInfo, pstyle: int) -> dict:
    look = {k: v for k, v in info.opts.items() if k in gt.PLOT_OPTIONS and k in cs.PLOT_OPTS}
    plot = gt.Plot(kind="scatter", cmd=Command(name="plot"), opts=look)
    return gt._style(plot, pstyle)


def _pstyle(info: PlotInfo, number: int) -> int:
    p = (info.opts.get("pstyle") or "").strip()
    if p[:1] == "p" and p[1:].isdigit() and int(p[1:]) > 0:
        return int(p[1:]) - 1
    return number - 1


def _plot_series(rows, idx, info: PlotInfo, layout, vertical: bool, fmt_spec: str) -> list:
    """The series of one plot in one panel: its intervals and its markers. Rows run in
    position order; with at, one run per coefficient without its `#._at` part (a line
    through margins at several at() values breaks between the lines' groups)."""
    pos = layout.pos[idx]
    group = [_without_at(rows.coef[i]) for i in idx]
    order = np.array(sorted(range(len(idx)), key=lambda k: (group[k], pos[k])), dtype=int) \
        if layout.atmode else np.argsort(pos, kind="stable")
    idx = idx[order]
    pos = layout.pos[idx]
    b = np.asarray(rows.b, dtype=float)[idx]
    if layout.atmode:
        breaks = [k for k in range(1, len(idx)) if group[order[k]] != group[order[k - 1]]]
        pos, b = np.insert(pos, breaks, np.nan), np.insert(b, breaks, np.nan)
        idx = np.insert(idx, breaks, -1)
    ps = _pstyle(info, info.number)
    cis = []
    for level_no in range(1, info.n_ci + 1):
        lo = np.array([_limit(rows, i, level_no, 0) for i in idx])
        hi = np.array([_limit(rows, i, level_no, 1) for i in idx])
        kind, style = _ci_style(info, level_no, ps, not vertical)
        cis += _ci_series(kind, pos, lo, hi, style, vertical, f"CI{level_no}")
    marks = []
    if "cionly" not in info.opts:
        marks = [_marker_series(info, pos, b, ps, vertical, fmt_spec)]
    for s in marks or cis[:1]:
        s.label = info.label
        s.style["coefplot_key"] = "nokey" not in info.opts   # the plot's key in the legend
    return cis + marks if "citop" not in info.opts else marks + cis


def _limit(rows, i: int, level_no: int, side: int) -> float:
    if i < 0 or level_no > len(rows.cis[i]):
        return float("nan")
    return rows.cis[i][level_no - 1][side]


def _without_at(name: str) -> str:
    return "#".join(p for p in name.split("#") if not p.endswith("._at"))


def _ci_series(kind, pos, lo, hi, style, vertical, label) -> list:
    if kind in ("rline", "rconnected"):
        line = "line" if kind == "rline" else "connected"
        if vertical:
            return [Series(line, pos, lo, label=label, style=style),
                    Series(line, pos, hi, label=label, legend=False, style=style)]
        return [Series(line, lo, pos, label=label, style=style),
                Series(line, hi, pos, label=label, legend=False, style=style)]
    return [Series(kind, pos, lo, y2=hi, label=label, style=style)]


def _marker_series(info, pos, b, ps, vertical, fmt_spec) -> Series:
    kind = (info.opts.get("recast") or "scatter").strip()
    if kind not in MARK_KINDS:
        raise StataError(f"recast({kind}) not allowed", 198)
    kind = {"dot": "scatter", "spike": "bar", "dropline": "bar"}.get(kind, kind)
    style = _mark_style(info, ps)
    if "mlabel" in info.opts:
        style["mlabels"] = _mlabels(info.opts["mlabel"], b, fmt_spec)
        if info.opts.get("mlabposition"):
            style["mlabpos"] = gc.integer(info.opts["mlabposition"], "mlabposition")
            if style["mlabpos"] > 12:
                raise StataError("option mlabposition() incorrectly specified", 198)
    if kind in ("bar", "area"):
        if not vertical:
            style["horizontal"] = True
        return Series("bar" if kind == "bar" else "area", pos, b, style=style)
    if vertical:
        return Series(kind, pos, b, style=style)
    return Series(kind, b, pos, style=style)


def _mlabels(spec: str, b, fmt_spec: str) -> list:
    spec = (spec or "").strip()
    if spec not in ("", "@b"):
        raise StataError(f"mlabel({spec}) not supported by hlmshell's coefplot", 198)
    return [fmt(float(v), fmt_spec).strip() for v in b]


def _axes(panel: Panel, layout: cl.Layout, vertical: bool, atmode: bool) -> None:
    """The categorical axis: coefficient labels at their positions, equation labels in the
    gaps, a half unit of room at each end, top to bottom when horizontal."""
    cat, val = (panel.xaxis, panel.yaxis) if vertical else (panel.yaxis, panel.xaxis)
    cat.title = val.title = ""
    if atmode:
        return
    heads = [(p, "{bf:" + t + "}") for p, t in layout.headings] + layout.extra
    ticks = list(zip(layout.ticks, layout.labels)) + heads      # equation labels in bold
    ticks.sort(key=lambda t: t[0])
    cat.ticks = [p for p, _t in ticks]
    cat.ticklabels = [t for _p, t in ticks]
    cat.range = [layout.lo, layout.hi]
    cat.angle = 0
    cat.grid = True
    cat.reverse = not vertical


def _graph(session, rows, plots, by_labels, layout, opts, gopts, vertical, atmode) -> Graph:
    fmt_spec = (opts.get("format") or "%10.0g").strip()
    try:
        fmt(1.0, fmt_spec)
    except (StataError, ValueError):
        raise StataError(f"invalid %format {fmt_spec}", 120) from None
    plot_of, by_of = np.asarray(rows.plot), np.asarray(rows.by)
    panels = []
    for j, title in enumerate(by_labels, 1):
        panel = Panel(title=title if len(by_labels) > 1 else "")
        for number in sorted(plots):
            idx = np.flatnonzero((plot_of == number) & (by_of == j))
            if len(idx):
                panel.series += _plot_series(rows, idx, plots[number], layout, vertical,
                                             fmt_spec)
        _axes(panel, layout, vertical, atmode)
        panels.append(panel)
    graph = Graph(kind="coefplot", panels=panels)
    _byopts(graph, opts.get("byopts"))
    graph.legend.show = len(plots) > 1 or "legend" in gopts
    graph.legend.order = _legend_keys(panels[0]) if panels else None
    gc.apply_text(graph, gopts)
    gc.apply_axes(graph, gopts, ("", None), ("", None))
    return graph


def _legend_keys(panel: Panel) -> list:
    """Every plotted series is a legend key, numbered as twoway numbers coefplot's plots
    (intervals, then markers), so legend(order(2 "A" 4 "B")) picks what it picks in Stata;
    by default the legend shows each plot's marker (its first interval with cionly)."""
    keys = [s for s in panel.series if s.legend]
    return [k for k, s in enumerate(keys, 1) if s.style.get("coefplot_key")]


def _byopts(graph: Graph, text: str | None) -> None:
    for o in parse_options(text or ""):
        n = o.name
        if gc.abbrev_match(n, "cols", "c"):
            graph.cols, graph.rows = gc.integer(o.arg, "cols", 1), None
        elif gc.abbrev_match(n, "rows", "r"):
            graph.rows, graph.cols = gc.integer(o.arg, "rows", 1), None
        elif n in ("xrescale", "yrescale", "rescale"):
            graph.xrescale |= n != "yrescale"
            graph.yrescale |= n != "xrescale"
        elif gc.abbrev_match(n, "title", "ti"):
            graph.title = gc.text_arg(o.arg or "")
        elif n == "note":
            graph.note = gc.text_arg(o.arg or "")
        elif gc.abbrev_match(n, "legend", "leg"):
            graph.legend.show = False if "off" in (o.arg or "") else graph.legend.show


def _results(session, rows, plots, by_labels, layout, meqs) -> None:
    labels = " ".join(f'{p:g} "{t}"' for p, t in zip(layout.ticks, layout.labels))
    eqlabels = " ".join(f'{p:g} "{t}"' for p, t in layout.headings) if meqs else ""
    session.r = RResults(
        scalars={"n_ci": float(max([p.n_ci for p in plots.values()] or [0])),
                 "n_plot": float(max(plots) if plots else 0),
                 "n_subgr": float(len(by_labels))},
        macros={"labels": labels, "eqlabels": eqlabels,
                "headings": " ".join(f'{p:g} "{t}"' for p, t in layout.extra),
                "legend": " ".join(f'label({k} "{p.label}")' for k, p in sorted(plots.items()))})
