"""twoway: `twoway (scatter y x) (lfit y x), opts`, `scatter y x || lfit y x, opts`, and the
plot types as commands of their own (scatter, line). The command text is read here (the
commands are registered raw): plots are split at top-level `||` or taken from parenthesised
groups; each plot's `if`/`in`/weight and options are read by the shared qualifier splitter
(hlmshell.syntax.parser.fill_qualifiers); options are sorted into the plot's own and the
graph's (titles, axes, legend, by(), name(), ...)."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands._toolkit import value_text
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.errors import StataError
from hlmshell.graphics import stats
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.registry import abbrev_match, command
from hlmshell.syntax.ast import Command
from hlmshell.syntax.evaluate import evaluate, marksample
from hlmshell.syntax.lexer import matching_paren, split_top
from hlmshell.syntax.parser import fill_qualifiers, parse_expr, parse_options
from hlmshell.syntax.varlist import expand_varlist

# plot type -> minimum abbreviation; exact names are looked up first
PLOT_TYPES = {"scatter": "sc", "line": "line", "connected": "conn", "lfit": "lfit",
              "qfit": "qfit", "lfitci": "lfitci", "qfitci": "qfitci", "lowess": "lowess",
              "function": "function", "area": "area", "bar": "bar", "rcap": "rcap",
              "rspike": "rspike", "rarea": "rarea", "rconnected": "rcon", "rline": "rline",
              "kdensity": "kdensity", "histogram": "hist"}
RANGE_TYPES = ("rcap", "rspike", "rarea", "rconnected", "rline")
FIT_TYPES = ("lfit", "qfit", "lfitci", "qfitci", "lowess")

PLOT_OPTIONS = {
    "msymbol": ("m", True), "mcolor": ("mc", True), "msize": ("msiz", True),
    "mfcolor": ("mfc", True), "mlcolor": ("mlc", True), "mlabel": ("mlab", True),
    "mlabposition": ("mlabp", True), "mlabsize": ("mlabs", True), "mlabcolor": ("mlabc", True),
    "mlabvposition": ("mlabv", True), "mlabangle": ("mlabang", True), "mlabgap": ("mlabg", True),
    "mlabstyle": ("mlabsty", True),
    "mlwidth": ("mlw", True), "msangle": ("msa", True), "lcolor": ("lc", True),
    "lpattern": ("lp", True), "lwidth": ("lw", True), "lstyle": ("lsty", True),
    "color": ("color", True), "fcolor": ("fc", True), "fintensity": ("fi", True),
    "pstyle": ("psty", True), "sort": ("sort", None), "connect": ("c", True),
    "cmissing": ("cmis", True), "jitter": ("jitter", True), "jitterseed": ("jitterseed", True),
    "range": ("ra", True), "n": ("n", True), "level": ("l", True), "stdp": ("stdp", False),
    "stdf": ("stdf", False), "stdr": ("stdr", False), "bwidth": ("bw", True),
    "mean": ("mean", False), "noweight": ("now", False), "atobs": ("atobs", False),
    "barwidth": ("barw", True), "base": ("base", True), "horizontal": ("hor", False),
    "vertical": ("vert", False), "clcolor": ("clc", True), "clpattern": ("clp", True),
    "clwidth": ("clw", True), "acolor": ("acol", True), "alcolor": ("alc", True),
    "alwidth": ("alw", True), "alpattern": ("alp", True), "ciplot": ("ciplot", True),
    "blcolor": ("blc", True), "blpattern": ("blp", True), "blwidth": ("blw", True),
    "nofit": ("nofit", False), "kernel": ("k", True), "normal": ("normal", False),
    "recast": ("recast", True), "discrete": ("discrete", False), "width": ("w", True),
    "bin": ("bin", True), "start": ("start", True), "density": ("den", False),
    "fraction": ("frac", False), "frequency": ("freq", False), "percent": ("percent", False),
    "droplines": ("drop", True), "estopts": ("estopts", True), "predopts": ("predopts", True),
    "logit": ("logit", False), "adjust": ("adjust", False),
}


@dataclass
class Plot:
    """One plot of a twoway graph, read but not yet computed."""

    kind: str
    cmd: Command
    varnames: list = field(default_factory=list)
    opts: dict = field(default_factory=dict)
    expr: object = None                # function: the expression
    expr_text: str = ""
    fname: str = "y"
    mask: np.ndarray | None = None


# ---- reading the command -------------------------------------------------------------------
def plot_type(word: str) -> str:
    if word in PLOT_TYPES:
        return word
    for full, mn in PLOT_TYPES.items():
        if abbrev_match(word, full, mn):
            return full
    raise StataError(f"{word} is not a twoway plot type", 198)


def split_plots(text: str) -> tuple[list[str], str]:
    """(plot texts, graph-options text) of a twoway command body."""
    plots: list[str] = []
    gtext = ""
    for seg in split_top(text, "||"):
        seg = seg.strip()
        if not seg:
            continue
        if not seg.startswith("("):
            plots.append(seg)
            continue
        i = 0
        while i < len(seg) and seg[i] == "(":
            j = matching_paren(seg, i)
            if j < 0:
                raise StataError("invalid syntax", 198)
            inner, inner_g = split_plots(seg[i + 1:j])
            plots += inner
            gtext += " " + inner_g
            i = j + 1
            while i < len(seg) and seg[i].isspace():
                i += 1
        gtext += " " + seg[i:].strip()
    return plots, gtext


def read_plot(session, text: str, kind: str | None = None) -> tuple[Plot, dict]:
    """One plot's text (`scatter y x if f, msymbol(Oh)`) -> (Plot, its graph options)."""
    if kind is None:
        word, _, text = text.strip().partition(" ")
        if "," in word:                       # `scatter,opts` without a space
            word, _, more = word.partition(",")
            text = "," + more + " " + text
        if word in ("tsline", "tsrline"):
            return _read_tsline(session, text, word)
        kind = plot_type(word)
    cmd = Command(name=kind)
    fill_qualifiers(cmd, text, allow_exp=kind == "function")
    own, gopts = gc.split_options(cmd.options, PLOT_OPTIONS)
    plot = Plot(kind, cmd, opts=own)
    if kind == "function":
        _read_function(plot, cmd)
    else:
        _read_varlist(session, plot, cmd)
    return plot, gopts


def _read_tsline(session, text: str, word: str) -> tuple[Plot, dict]:
    """`twoway tsline y1 [y2 ...]` (`tsrline y1 y2`: its range as an rline): the same plot
    as line (rline) against the time variable of tsset/xtset, in time order; tsline's own
    tscale(), tlabel() and ttitle() are the x axis's."""
    from hlmshell.commands._panel import time_settings
    tvar = time_settings(session).timevar
    kind = "line" if word == "tsline" else "rline"
    cmd = Command(name=kind)
    fill_qualifiers(cmd, text, allow_exp=False)
    _time_axis_options(cmd)
    own, gopts = gc.split_options(cmd.options, PLOT_OPTIONS)
    if not cmd.body.strip():
        raise StataError("varlist required", 100)
    cmd.body = f"{cmd.body} {tvar}"
    plot = Plot(kind, cmd, opts=own)
    own.setdefault("sort", "")
    _read_varlist(session, plot, cmd)
    return plot, gopts


def _read_function(plot: Plot, cmd: Command) -> None:
    if cmd.if_ is not None or cmd.in_ is not None or cmd.weight is not None:
        raise StataError("invalid syntax", 198)
    if cmd.exp is not None:
        plot.fname = cmd.body.strip() or "y"
        plot.expr, plot.expr_text = cmd.exp, cmd.exp_text
    else:
        if not cmd.body.strip():
            raise StataError("invalid syntax", 198)
        plot.expr, plot.expr_text = parse_expr(cmd.body), cmd.body.strip()


def _read_varlist(session, plot: Plot, cmd: Command) -> None:
    if cmd.weight is not None and cmd.weight.kind not in ("fweight", "aweight"):
        raise StataError(f"{cmd.weight.kind}s not allowed", 101)
    if not cmd.body.strip():
        raise StataError("varlist required", 100)
    names = expand_varlist(session.data, cmd.body)
    single = plot.kind in ("kdensity", "histogram")
    need = 3 if plot.kind in RANGE_TYPES else (1 if single else 2)
    if len(names) < need:
        raise StataError("too few variables specified", 102)
    if (single or plot.kind in FIT_TYPES + RANGE_TYPES) and len(names) > need:
        raise StataError("too many variables specified", 103)
    for nm in names:
        if session.data.var(nm).is_string:
            raise StataError("type mismatch", 109)
    plot.varnames = names
    plot.mask = np.asarray(marksample(session, cmd, names), dtype=bool)


def read_twoway(session, text: str, first_kind: str | None = None):
    """(plots, graph options) of a twoway command; first_kind for `scatter ...` typed as a
    command (its first plot has no type word)."""
    texts, gtext = split_plots(text)
    if not texts:
        raise StataError("invalid syntax", 198)
    plots, gopts = [], {}
    for k, t in enumerate(texts):
        plot, g = read_plot(session, t, first_kind if k == 0 else None)
        plots.append(plot)
        gopts.update(g)
    if gtext.strip():
        common = _common_qualifiers(session, gtext)
        if any(t.strip().lstrip("(").split(" ", 1)[0] in ("tsline", "tsrline") for t in texts):
            _time_axis_options(common)
        _own, g = gc.split_options(common.options, {})
        gopts.update(g)
        if common.if_ is not None or common.in_ is not None or common.weight is not None:
            mask = np.asarray(marksample(session, common), dtype=bool)
            for plot in plots:
                if plot.mask is not None:
                    plot.mask = plot.mask & mask
    return plots, gopts


_TIME_AXIS = {"tscale": "xscale", "tsc": "xscale", "tlabel": "xlabel", "tlab": "xlabel",
              "ttitle": "xtitle", "tti": "xtitle"}


def _time_axis_options(common: Command) -> None:
    """With a tsline plot, tscale(), tlabel() and ttitle() name the x (time) axis."""
    from hlmshell.syntax.ast import Option
    common.options = [Option(_TIME_AXIS[o.name], o.arg) if o.name in _TIME_AXIS else o
                      for o in common.options]


def _common_qualifiers(session, text: str) -> Command:
    """`[if] [in] [weight] [, options]` after parenthesised plots: for every plot."""
    common = Command(name="twoway")
    fill_qualifiers(common, text, allow_exp=False)
    if common.body.strip():
        raise StataError("invalid syntax", 198)
    if common.weight is not None and common.weight.kind not in ("fweight", "aweight"):
        raise StataError(f"{common.weight.kind}s not allowed", 101)
    return common


# ---- computing the series ----------------------------------------------------------------------
def _values(session, name: str) -> np.ndarray:
    return np.asarray(session.data.var(name).values, dtype=float)


def _order(session, plot: Plot, idx: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Observation order of a plot: data order, or sorted on x (sort) or on sort(varlist)."""
    if "sort" not in plot.opts:
        return idx
    spec = (plot.opts["sort"] or "").strip()
    if not spec:
        return idx[np.argsort(x[idx], kind="stable")]
    names = expand_varlist(session.data, spec)
    keys = [_values(session, n)[idx] for n in reversed(names)]
    return idx[np.lexsort(keys)]


def _connect_breaks(plot: Plot, x: np.ndarray, y: np.ndarray):
    """connect(L): a new line wherever x goes back (one line per group); NaN breaks it."""
    c = (plot.opts.get("connect") or "l").strip()
    if c[:1] != "L" or len(x) < 2:
        return x, y
    back = np.nonzero(np.diff(x) < 0)[0] + 1
    return np.insert(x, back, np.nan), np.insert(y, back, np.nan)


def _jitter(plot: Plot, v: np.ndarray) -> np.ndarray:
    if "jitter" not in plot.opts or len(v) == 0:
        return v
    amount = gc.number(plot.opts["jitter"], "jitter")
    span = float(np.nanmax(v) - np.nanmin(v)) or 1.0
    rng = np.random.default_rng(int(gc.number(plot.opts.get("jitterseed") or "1", "jitterseed")))
    return v + rng.uniform(-1, 1, len(v)) * span * amount / 200


def _style(plot: Plot, k: int) -> dict:
    o = plot.opts
    st: dict = {"pstyle": k}
    table = {"msymbol": "marker", "mcolor": "mcolor", "msize": "msize", "lcolor": "lcolor",
             "lpattern": "lpattern", "lwidth": "lwidth", "color": "color", "fcolor": "fcolor",
             "barwidth": "barwidth"}
    for outline, line in (("blcolor", "lcolor"), ("blpattern", "lpattern"), ("blwidth", "lwidth")):
        if o.get(outline) and not o.get(line):      # a bar's or cap's outline is its line
            o[line] = o[outline]
    for opt, key in table.items():
        if o.get(opt):
            val = o[opt].strip().split()[0] if opt in ("msymbol", "msize", "lwidth",
                                                       "lpattern") else o[opt].strip()
            st[key] = gc.number(val, opt) if opt == "barwidth" else val.strip('"')
    _validate_style(st)
    if "pstyle" in o:
        p = o["pstyle"].strip()
        st["pstyle"] = int(p[1:]) - 1 if p[:1] == "p" and p[1:].isdigit() else k
    return st


def option_style(text: str | None, k: int) -> dict:
    """The style of a plot's options typed elsewhere (marginsplot's plotopts() and ciopts()):
    `msymbol(D) lcolor(red)` -> {'pstyle': k, 'marker': 'D', 'lcolor': 'red'}; options
    that are not plot options are r(198)."""
    own, gopts = gc.split_options(parse_options(text or ""), PLOT_OPTIONS)
    if gopts:
        raise gc.not_allowed(next(iter(gopts)))
    return _style(Plot(kind="scatter", cmd=Command(name="plot"), opts=own), k)


def _validate_style(st: dict) -> None:
    from hlmshell.graphics import schemes
    checks = {"marker": schemes.marker, "mcolor": schemes.color, "lcolor": schemes.color,
              "color": schemes.color, "fcolor": schemes.color, "msize": schemes.msize,
              "lwidth": schemes.lwidth, "lpattern": schemes.lpattern}
    for key, fn in checks.items():
        if key in st:
            fn(st[key])


def _label(session, name: str) -> str:
    return gc.var_title(session.data, name)


def plot_series(session, plot: Plot, k: int, panel_mask: np.ndarray | None) -> list[Series]:
    """The series one plot draws in one panel (restricted to panel_mask)."""
    if plot.kind == "function":
        return [_function(session, plot, k)]
    mask = plot.mask if panel_mask is None else plot.mask & panel_mask
    idx = np.nonzero(mask)[0]
    if len(idx) == 0:
        return []
    builder = _BUILDERS.get(plot.kind, _xy_series)
    return builder(session, plot, k, idx)


def _xy_series(session, plot: Plot, k: int, idx: np.ndarray) -> list[Series]:
    xname = plot.varnames[-1]
    x = _values(session, xname)
    kind = {"scatter": "scatter", "line": "line", "connected": "connected", "area": "area",
            "bar": "bar"}[plot.kind]
    if plot.kind == "scatter" and (plot.opts.get("connect") or "i").strip()[:1] in ("l", "L"):
        kind = "connected"
    out = []
    order = _order(session, plot, idx, x)
    for j, yname in enumerate(plot.varnames[:-1]):
        y = _values(session, yname)
        xs, ys = _jitter(plot, x[order]), _jitter(plot, y[order])
        if kind in ("line", "connected", "area"):
            xs, ys = _connect_breaks(plot, xs, ys)
        st = _style(plot, k + j)
        if plot.opts.get("mlabel"):
            st["mlabels"] = _mlabels(session, plot.opts["mlabel"], order)
            _mlabel_places(session, plot, order, st)
        base = gc.number(plot.opts["base"], "base") if plot.opts.get("base") else 0.0
        out.append(Series(kind, xs, ys, label=_label(session, yname), style=st, base=base))
    return out


def _mlabels(session, spec: str, order: np.ndarray) -> list[str]:
    names = expand_varlist(session.data, spec)
    var = session.data.var(names[0])
    return [value_text(session.data, var, v) for v in np.asarray(var.values)[order]]


def _mlabel_places(session, plot: Plot, order: np.ndarray, st: dict) -> None:
    """Where each marker label goes: mlabposition(clock) for all, mlabvposition(var) per
    observation (a clock position 0-12; missing or out of range: 3, Stata's default, at the
    right); mlabcolor() its color."""
    o = plot.opts
    pos = gc.integer(o["mlabposition"], "mlabposition") if o.get("mlabposition") else 3
    if pos > 12:
        raise StataError("option mlabposition() incorrectly specified", 198)
    st["mlabpos"] = pos
    if o.get("mlabvposition"):
        names = expand_varlist(session.data, o["mlabvposition"])
        if len(names) != 1:
            raise StataError("too many variables specified", 103)
        var = session.data.var(names[0])
        if var.is_string:
            raise StataError("type mismatch", 109)
        v = np.asarray(var.values, dtype=float)[order]
        ok = np.isfinite(v) & (v >= 0) & (v <= 12) & (v == np.round(v))
        st["mlabpos"] = [int(p) if good else pos for p, good in zip(v, ok)]
    if o.get("mlabcolor"):
        st["mlabcolor"] = o["mlabcolor"].strip().strip('"')
        from hlmshell.graphics import schemes
        schemes.color(st["mlabcolor"])


def _range_series(session, plot: Plot, k: int, idx: np.ndarray) -> list[Series]:
    y1, y2, xname = plot.varnames
    x = _values(session, xname)
    order = _order(session, plot, idx, x)
    kind = {"rline": "line"}.get(plot.kind, plot.kind)
    label = f"{_label(session, y1)}/{_label(session, y2)}"
    st = _style(plot, k)
    if "horizontal" in plot.opts and kind in ("rcap", "rspike", "rarea"):
        st["horizontal"] = True                  # the ranges run along x, at height xvar
    a, b = _values(session, y1)[order], _values(session, y2)[order]
    if kind == "line":
        return [Series("line", x[order], a, label=label, style=st),
                Series("line", x[order], b, label=label, style=st, legend=False)]
    return [Series(kind, x[order], a, b, label=label, style=st)]


def _grid(plot: Plot, x: np.ndarray, default_n: int) -> np.ndarray:
    if "atobs" in plot.opts:
        return np.unique(x)
    lo, hi = float(np.min(x)), float(np.max(x))
    if plot.opts.get("range"):
        r = [gc.number(v, "range") for v in plot.opts["range"].replace(",", " ").split()]
        if len(r) != 2:
            raise StataError("option range() incorrectly specified", 198)
        lo = r[0] if r[0] == r[0] else lo
        hi = r[1] if r[1] == r[1] else hi
    n = gc.integer(plot.opts["n"], "n", 1) if plot.opts.get("n") else default_n
    return np.linspace(lo, hi, max(n, 2))


def _level(session, plot: Plot) -> float:
    lev = gc.number(plot.opts["level"], "level") if plot.opts.get("level") \
        else float(session.settings.get("level", 95.0))
    if not 10 <= lev <= 99.99:
        raise StataError("level() must be between 10 and 99.99 inclusive", 198)
    return lev


def _fit_series(session, plot: Plot, k: int, idx: np.ndarray) -> list[Series]:
    yname, xname = plot.varnames
    x, y = _values(session, xname)[idx], _values(session, yname)[idx]
    if plot.kind == "lowess":
        xs, smooth = stats.lowess(x, y, _bwidth(plot), "mean" in plot.opts, "noweight" in plot.opts)
        smooth = stats.lowess_adjust_logit(smooth, y, "adjust" in plot.opts, "logit" in plot.opts)
        return [Series("line", xs, smooth, label=f"lowess {yname} {xname}", style=_style(plot, k))]
    degree = 1 if plot.kind.startswith("l") else 2
    grid = _grid(plot, x, 3 if plot.kind == "lfit" else 100)
    st = _style(plot, k)
    if plot.kind in ("lfit", "qfit"):
        return [Series("line", grid, stats.polyfit(x, y, degree, grid), label="Fitted values",
                       style=st)]
    lev = _level(session, plot)
    fit, lo, hi = stats.polyfit_ci(x, y, degree, grid, lev, "stdf" in plot.opts)
    ci_style = {"pstyle": k, "fcolor": _ci_color(plot)}
    fit_style = dict(st)
    for src, dst in (("clcolor", "lcolor"), ("clpattern", "lpattern"), ("clwidth", "lwidth")):
        if plot.opts.get(src):
            fit_style[dst] = plot.opts[src].strip()
    out = [Series("rarea", grid, lo, hi, label=f"{lev:g}% CI", style=ci_style)]
    if "nofit" not in plot.opts:
        out.append(Series("line", grid, fit, label="Fitted values", style=fit_style))
    return out


def _ci_color(plot: Plot):
    c = plot.opts.get("fcolor") or plot.opts.get("acolor") or plot.opts.get("color")
    return c.strip().strip('"') if c else "gs12"


def _bwidth(plot: Plot) -> float:
    if not plot.opts.get("bwidth"):
        return 0.8
    bw = gc.number(plot.opts["bwidth"], "bwidth")
    if not 0 < bw <= 1:
        raise StataError("bwidth() must be between 0 and 1", 198)
    return bw


def _kdensity_series(session, plot: Plot, k: int, idx: np.ndarray) -> list[Series]:
    x = _values(session, plot.varnames[0])[idx]
    kern = kernel_name(plot.opts.get("kernel"))
    bw = gc.number(plot.opts["bwidth"], "bwidth") if plot.opts.get("bwidth") else None
    if bw is not None and bw <= 0:
        raise StataError("bwidth() must be positive", 198)
    n = gc.integer(plot.opts["n"], "n", 2) if plot.opts.get("n") else None
    grid, dens, _h = stats.kdensity(x, bw, kern, n)
    return [Series("line", grid, dens, label=f"kdensity {plot.varnames[0]}", style=_style(plot, k))]


def _histogram_series(session, plot: Plot, k: int, idx: np.ndarray) -> list[Series]:
    """twoway histogram: density (or frequency/fraction/percent) bars."""
    x = _values(session, plot.varnames[0])[idx]
    o = plot.opts
    bins = gc.integer(o["bin"], "bin", 1) if o.get("bin") else None
    width = gc.number(o["width"], "width") if o.get("width") else None
    if width is not None and width <= 0:
        raise StataError("width() must be positive", 198)
    start = gc.number(o["start"], "start") if o.get("start") else None
    edges = stats.histogram_bins(x, bins, width, start if start is None or start <= x.min()
                                 else None, "discrete" in o)
    counts = stats.bin_counts(x, edges)
    scale = {"frequency": counts, "fraction": counts / counts.sum(),
             "percent": 100 * counts / counts.sum()}
    key = next((w for w in scale if w in o), None)
    h = scale[key] if key else counts / (counts.sum() * np.diff(edges))
    st = _style(plot, k)
    st.setdefault("barwidth", float(edges[1] - edges[0]))
    st.setdefault("fcolor", "_hist")
    st.setdefault("lcolor", "_histline")
    return [Series("bar", (edges[:-1] + edges[1:]) / 2, h, label=_label(session, plot.varnames[0]),
                   style=st)]


def kernel_name(text: str | None) -> str:
    word = (text or "epanechnikov").strip()
    for full in stats.KERNELS:
        if full == word or (len(word) >= 2 and full.startswith(word)):
            return full
    raise StataError(f"kernel {word} invalid", 198)


def _function(session, plot: Plot, k: int) -> Series:
    lo, hi = 0.0, 1.0
    if plot.opts.get("range"):
        r = plot.opts["range"].split()
        if len(r) != 2:
            names = expand_varlist(session.data, plot.opts["range"])
            v = _values(session, names[0])
            lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
        else:
            lo, hi = gc.number(r[0], "range"), gc.number(r[1], "range")
    n = gc.integer(plot.opts["n"], "n", 2) if plot.opts.get("n") else 300
    grid = np.linspace(lo, hi, n)
    fake = copy.copy(session)
    fake.data = Dataset()
    fake.data.add(Variable("x", grid, vtype="double"))
    y = evaluate(plot.expr, fake)
    if isinstance(y, np.ndarray) and y.dtype == object or isinstance(y, str):
        raise StataError("type mismatch", 109)
    y = np.broadcast_to(np.asarray(y, dtype=float), grid.shape)
    return Series("line", grid, y, label=plot.fname, style=_style(plot, k))


_BUILDERS = {"rcap": _range_series, "rspike": _range_series, "rarea": _range_series,
             "rconnected": _range_series, "rline": _range_series,
             "lfit": _fit_series, "qfit": _fit_series, "lfitci": _fit_series,
             "qfitci": _fit_series, "lowess": _fit_series,
             "kdensity": _kdensity_series, "histogram": _histogram_series}


# ---- the graph ------------------------------------------------------------------------------
def _axis_titles(session, plots: list[Plot], panels: list[Panel]) -> tuple[str, str]:
    first = plots[0]
    xt = "x" if first.kind == "function" else _label(session, first.varnames[-1])
    if first.kind in ("kdensity", "histogram"):
        xt = _label(session, first.varnames[0])
    ytitles: list[str] = []
    for s in (panels[0].series if panels else []):
        if s.legend and s.label and s.label not in ytitles and s.kind != "rarea":
            ytitles.append(s.label)
    if first.kind in ("kdensity", "histogram") and len(plots) == 1:
        ytitles = ["Density"]
    return xt, "/".join(ytitles)


def _panel(session, plots: list[Plot], mask, title: str = "") -> Panel:
    panel = Panel(title=title)
    k = 0
    for plot in plots:
        panel.series += plot_series(session, plot, k, mask)
        k += max(1, len(plot.varnames) - 1) if plot.kind in ("scatter", "line", "connected",
                                                           "area", "bar") else 1
    return panel


def _has_data(panel: Panel) -> bool:
    for s in panel.series:
        if s.boxes:
            return True
        for v in (s.y, s.x):
            if v is not None and np.size(v) and np.any(np.isfinite(np.asarray(v, dtype=float))):
                return True
    return False


def by_panels(session, rule: gc.ByRule, build) -> tuple[list[Panel], list]:
    """One panel per group of the by() variables (value labels as titles), plus Total."""
    ds = session.data
    cols = [np.asarray(ds.var(n).values) for n in rule.varnames]
    keys = list(zip(*cols)) if cols else []
    seen = []
    for key in keys:
        if key not in seen and not any(isinstance(v, float) and v != v for v in key):
            seen.append(key)
    seen.sort(key=lambda t: tuple((0, v) if not isinstance(v, str) else (1, v) for v in t))
    panels = []
    for key in seen:
        mask = np.ones(ds.n, dtype=bool)
        for col, v in zip(cols, key):
            mask &= col == v
        title = ", ".join(gc.group_label(ds, n, v) for n, v in zip(rule.varnames, key))
        panel = build(mask, title)
        if panel is not None and _has_data(panel):   # groups outside if/in get no panel
            panels.append(panel)
    if rule.total:
        panels.append(build(None, "Total"))
    return panels, seen


def build_twoway(session, plots: list[Plot], gopts: dict, command: str = "twoway") -> Graph:
    graph = Graph(kind="twoway")
    if "by" in gopts:
        rule = gc.by_rule(gopts["by"], lambda t: list(expand_varlist(session.data, t)))
        panels, _ = by_panels(session, rule, lambda m, t: _panel(session, plots, m, t))
        graph.panels, graph.rows, graph.cols = panels, rule.rows, rule.cols
        graph.xrescale, graph.yrescale = rule.xrescale, rule.yrescale
        names = " ".join(rule.varnames)
        graph.note = rule.note if rule.note is not None else \
            "Graphs by " + (gc.var_title(session.data, rule.varnames[0])
                            if len(rule.varnames) == 1 else names)
        if rule.title:
            graph.title = rule.title
        if rule.legend_off:
            graph.legend.show = False
    else:
        graph.panels = [_panel(session, plots, None)]
    if not any(p.series for p in graph.panels):
        raise StataError("no observations", 2000)
    xt, yt = _axis_titles(session, plots, graph.panels)
    gc.apply_text(graph, gopts)
    xvar = None if plots[0].kind == "function" else session.data.var(plots[0].varnames[-1])
    xvals = np.concatenate([s.x for s in graph.all_series() if s.x is not None])
    yvals = np.concatenate([s.y for s in graph.all_series() if s.y is not None])
    gc.apply_axes(graph, gopts, (xt, xvar), (yt, None), xvals, yvals, session.data)
    return graph


def run_twoway(session, text: str, first_kind: str | None = None, command: str = "twoway") -> None:
    if not text.strip():
        raise StataError("invalid syntax", 198)
    plots, gopts = read_twoway(session, text, first_kind)
    gc.check_finish(session, gopts)
    graph = build_twoway(session, plots, gopts, command)
    gc.finish(session, graph, gopts, command)


@command("twoway", abbrev="tw", family="Graphics", raw=True, byable=False, changes_data=False,
         desc="twoway graphs: scatter, line, fits, ranges, overlaid",
         example="twoway (scatter mathach ses) (lfit mathach ses), by(sector)")
def twoway(session, cmd):
    run_twoway(session, cmd.body, command=cmd.text)


@command("scatter", abbrev="sc", family="Graphics", raw=True, byable=False, changes_data=False,
         desc="twoway scatterplot", example="scatter mathach ses || lfit mathach ses")
def scatter(session, cmd):
    run_twoway(session, cmd.body, "scatter", command=cmd.text)


@command("line", abbrev="line", family="Graphics", raw=True, byable=False, changes_data=False,
         desc="twoway line plot", example="line yhat ses, connect(L) sort(id ses)")
def line(session, cmd):
    run_twoway(session, cmd.body, "line", command=cmd.text)
