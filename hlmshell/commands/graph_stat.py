"""Statistical graphs: histogram, kdensity, qnorm, pnorm, rvfplot, xtline (commands) and
graph box, graph matrix, graph combine (called by `graph`, graph_cmd.py; graph bar is in
graph_bar.py, over() in graph_over.py). Each
reads its text, computes its series (hlmshell.graphics.stats), applies the shared graph
options (graph_common) and finishes like twoway."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands._toolkit import percentile
from hlmshell.commands.graph_addplot import AddPlot
from hlmshell.commands.graph_over import over_groups
from hlmshell.commands.graph_twoway import by_panels, kernel_name
from hlmshell.distributions import norm_cdf, norm_ppf
from hlmshell.errors import StataError
from hlmshell.graphics import schemes, stats
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import command
from hlmshell.syntax.ast import Command
from hlmshell.syntax.evaluate import evaluate, marksample
from hlmshell.syntax.parser import fill_qualifiers
from hlmshell.syntax.varlist import expand_varlist


def read(session, text: str, name: str, own_opts: dict, weights=(), nvars=(1, 1)):
    """`varlist [if] [in] [weight] [, options]` -> (cmd, varnames, sample, own, graph opts)."""
    cmd = Command(name=name)
    fill_qualifiers(cmd, text, allow_exp=False)
    if cmd.weight is not None and cmd.weight.kind not in weights:
        raise StataError(f"{cmd.weight.kind}s not allowed" if weights else "weights not allowed",
                         101)
    own, gopts = gc.split_options(cmd.options, own_opts)
    if not cmd.body.strip():
        raise StataError("varlist required", 100)
    names = list(expand_varlist(session.data, cmd.body))
    lo, hi = nvars
    if len(names) < lo:
        raise StataError("too few variables specified", 102)
    if hi is not None and len(names) > hi:
        raise StataError("too many variables specified", 103)
    for nm in names:
        if session.data.var(nm).is_string:
            raise StataError("type mismatch", 109)
    mask = np.asarray(marksample(session, cmd, names), dtype=bool)
    return cmd, names, mask, own, gopts


def _x(session, name: str) -> np.ndarray:
    return np.asarray(session.data.var(name).values, dtype=float)


def _panels(session, gopts: dict, build) -> tuple[list[Panel], str | None, gc.ByRule | None]:
    if "by" not in gopts:
        return [build(None, "")], None, None
    rule = gc.by_rule(gopts["by"], lambda t: list(expand_varlist(session.data, t)))
    panels, _ = by_panels(session, rule, build)
    names = " ".join(rule.varnames)
    note = rule.note if rule.note is not None else "Graphs by " + (
        gc.var_title(session.data, rule.varnames[0]) if len(rule.varnames) == 1 else names)
    return panels, note, rule


def make_graph(session, kind: str, gopts: dict, build, xinfo, yinfo, cmdtext: str,
               check=True, own: dict | None = None) -> Graph:
    """Panels (by() or one) from build(mask, title), the options, then store/show; own's
    addplot() adds its plots to every panel."""
    extra = AddPlot(session, (own or {}).get("addplot"))
    if extra:
        extra.merge_options(gopts)
        build = extra.wrap(session, build)
    if check:
        gc.check_finish(session, gopts)
    panels, note, rule = _panels(session, gopts, build)
    panels = [p for p in panels if p is not None]
    if not any(p.series for p in panels):
        raise StataError("no observations", 2000)
    graph = Graph(kind=kind, panels=panels)
    if note:
        graph.note = note
    if rule is not None:
        graph.rows, graph.cols = rule.rows, rule.cols
        graph.xrescale, graph.yrescale = rule.xrescale, rule.yrescale
        graph.title = rule.title or ""
    gc.apply_text(graph, gopts)
    xs = [s.x for s in graph.all_series() if s.x is not None]
    ys = [s.y for s in graph.all_series() if s.y is not None]
    gc.apply_axes(graph, gopts, xinfo, yinfo, np.concatenate(xs) if xs else None,
                  np.concatenate(ys) if ys else None, session.data)
    gc.finish(session, graph, gopts, cmdtext)
    return graph


# ---- histogram -----------------------------------------------------------------------------
HIST_OPTS = {"bin": ("bin", True), "width": ("w", True), "start": ("start", True),
             "discrete": ("d", False), "density": ("den", False), "fraction": ("frac", False),
             "frequency": ("freq", False), "percent": ("percent", False),
             "normal": ("norm", False), "kdensity": ("kden", False), "gap": ("gap", True),
             "addlabels": ("addl", False), "horizontal": ("hor", False),
             "fcolor": ("fc", True), "lcolor": ("lc", True), "color": ("color", True),
             "barwidth": ("barw", True), "lwidth": ("lw", True), "normopts": ("normop", True),
             "kdenopts": ("kdenop", True), "fintensity": ("fi", True),
             "addplot": ("addplot", True)}
HIST_YTITLES = {"density": "Density", "fraction": "Fraction", "frequency": "Frequency",
                "percent": "Percent"}


def _hist_scale(own: dict) -> str:
    given = [k for k in ("density", "fraction", "frequency", "percent") if k in own]
    if len(given) > 1:
        raise StataError(f"options {given[0]} and {given[1]} may not be combined", 198)
    return given[0] if given else "density"


def _hist_bins(own: dict, x: np.ndarray):
    bins = gc.integer(own["bin"], "bin", 1) if own.get("bin") else None
    width = gc.number(own["width"], "width") if own.get("width") else None
    if width is not None and width <= 0:
        raise StataError("width() must be positive", 198)
    if bins is not None and width is not None:
        raise StataError("options bin() and width() may not be combined", 198)
    if bins is not None and "discrete" in own:        # discrete: one bin per value
        raise StataError("options bin() and discrete may not be combined", 198)
    start = gc.number(own["start"], "start") if own.get("start") else None
    if start is not None and len(x) and start > np.min(x):
        raise StataError(f"start() must be less than or equal to {fmt_g(float(np.min(x)), 9).strip()}", 198)
    return stats.histogram_bins(x, bins, width, start, "discrete" in own)


def _hist_heights(counts: np.ndarray, edges: np.ndarray, scale: str) -> np.ndarray:
    total = counts.sum()
    widths = np.diff(edges)
    if scale == "frequency":
        return counts
    if scale == "fraction":
        return counts / total
    if scale == "percent":
        return 100 * counts / total
    return counts / (total * widths)


def _overlay_factor(scale: str, total: float, width: float) -> float:
    return {"frequency": total * width, "fraction": width, "percent": 100 * width}.get(scale, 1.0)


def histogram_panel(x: np.ndarray, w, own: dict, scale: str, title: str, edges) -> Panel:
    counts = stats.bin_counts(x, edges, w)
    heights = _hist_heights(counts, edges, scale)
    centers = (edges[:-1] + edges[1:]) / 2
    width = float(edges[1] - edges[0])
    style = {"pstyle": 0, "fcolor": own.get("fcolor") or own.get("color") or "_hist",
             "lcolor": own.get("lcolor") or own.get("color") or "_histline",
             "barwidth": width * (1 - (gc.number(own["gap"], "gap") / 100 if own.get("gap") else 0))}
    style = {k: v.strip().strip('"') if isinstance(v, str) else v for k, v in style.items()}
    for key, own_default in (("fcolor", "_hist"), ("lcolor", "_histline")):
        if style[key][:1] in ("%", "*"):                # color(%30): the bars' own color
            style[key] = own_default + style[key]
        if not style[key].startswith("_"):
            schemes.color(style[key])
    panel = Panel(title=title, series=[Series("bar", centers, heights, style=style,
                                              label=title or "", legend=False)])
    grid = np.linspace(edges[0], edges[-1], 100)
    factor = _overlay_factor(scale, counts.sum(), width)
    if "normal" in own and len(x) > 1:
        dens = stats.normal_pdf(grid, float(np.mean(x)), float(np.std(x, ddof=1))) * factor
        panel.series.append(Series("line", grid, dens, label="Normal density",
                                   style={"pstyle": 1}))
    if "kdensity" in own and len(x) > 1:
        g, dens, _h = stats.kdensity(x, n=100)
        panel.series.append(Series("line", g, dens * factor, label="Kernel density estimate",
                                   style={"pstyle": 2}))
    return panel


@command("histogram", abbrev="hist", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="histogram of a continuous or discrete variable",
         example="histogram mathach, normal")
def histogram(session, cmd):
    c, names, mask, own, gopts = read(session, cmd.body, "histogram", HIST_OPTS, ("fweight",))
    scale = _hist_scale(own)
    w_all = None
    if c.weight is not None:
        w_all = np.broadcast_to(np.asarray(evaluate(c.weight.exp, session), dtype=float),
                                (session.data.n,))
        if np.any(w_all[mask] < 0) or np.any(w_all[mask] != np.round(w_all[mask])):
            raise StataError("may not use noninteger frequency weights", 401)
    x_all = _x(session, names[0])
    if not mask.any():
        raise StataError("no observations", 2000)
    edges = _hist_bins(own, x_all[mask])
    gc.check_finish(session, gopts)

    def build(m, title):
        sel = mask if m is None else mask & m
        if not sel.any():
            return None
        return histogram_panel(x_all[sel], None if w_all is None else w_all[sel], own, scale,
                               title, edges)

    make_graph(session, "histogram", gopts, build,
                       (gc.var_title(session.data, names[0]), session.data.var(names[0])),
                       (HIST_YTITLES[scale], None), cmd.text, check=False, own=own)
    # start and width as display shows them (%10.0g); discrete bins have no count
    start, width = fmt_g(float(edges[0]), 10).strip(), fmt_g(float(edges[1] - edges[0]), 10).strip()
    if "discrete" in own:          # start: the lowest value, the centre of the first bar
        start = fmt_g(float(edges[0] + (edges[1] - edges[0]) / 2), 10).strip()
        session.out.line(f"(start={start}, width={width})")
    else:
        session.out.line(f"(bin={len(edges) - 1}, start={start}, width={width})")


# ---- kdensity ------------------------------------------------------------------------------
KDENS_OPTS = {"kernel": ("k", True), "bwidth": ("bw", True), "normal": ("norm", False),
              "n": ("n", True), "at": ("at", True), "generate": ("gen", True),
              "nograph": ("nogr", False), "lcolor": ("lc", True), "lpattern": ("lp", True),
              "lwidth": ("lw", True), "color": ("color", True), "normopts": ("normop", True),
              "student": ("stu", True), "range": ("range", True),
              "addplot": ("addplot", True)}


@command("kdensity", abbrev="kdens", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="univariate kernel density estimation",
         example="kdensity mathach, normal")
def kdensity(session, cmd):
    _c, names, mask, own, gopts = read(session, cmd.body, "kdensity", KDENS_OPTS)
    if own.get("generate") or own.get("at"):
        raise StataError("options generate() and at() are not available in hlmshell", 198)
    kern = kernel_name(own.get("kernel"))
    bw = gc.number(own["bwidth"], "bwidth") if own.get("bwidth") else None
    if bw is not None and bw <= 0:
        raise StataError("bwidth() must be positive", 198)
    n = gc.integer(own["n"], "n", 2) if own.get("n") else None
    x_all = _x(session, names[0])
    if not mask.any():
        raise StataError("no observations", 2000)

    def build(m, title):
        sel = mask if m is None else mask & m
        if sel.sum() < 1:
            return None
        x = x_all[sel]
        grid, dens, h = stats.kdensity(x, bw, kern, n)
        st = {"pstyle": 0}
        for o in ("lcolor", "lpattern", "lwidth", "color"):
            if own.get(o):
                st[o] = own[o].strip()
        p = Panel(title=title, series=[Series("line", grid, dens, label="Kernel density estimate",
                                              style=st)])
        if "normal" in own and len(x) > 1:
            p.series.append(Series("line", grid, stats.normal_pdf(grid, float(np.mean(x)),
                                                                  float(np.std(x, ddof=1))),
                                   label="Normal density", style={"pstyle": 1}))
        return p

    if "nograph" in own:
        return
    gopts.setdefault("title", '"Kernel density estimate"')
    if "by" not in gopts:
        h0 = bw or stats.optimal_bandwidth(x_all[mask])
        gopts.setdefault("note", f'"kernel = {kern}, bandwidth = {h0:.4f}"')
    make_graph(session, "kdensity", gopts, build,
               (gc.var_title(session.data, names[0]), session.data.var(names[0])),
               ("Density", None), cmd.text, own=own)


# ---- qnorm, pnorm -----------------------------------------------------------------------------
DIAG_OPTS = {"grid": ("grid", False), "msymbol": ("m", True), "mcolor": ("mc", True),
             "msize": ("msiz", True), "rlopts": ("rlop", True), "addplot": ("addplot", True)}


def _diag_style(own: dict) -> dict:
    st = {"pstyle": 0}
    for o, key in (("msymbol", "marker"), ("mcolor", "mcolor"), ("msize", "msize")):
        if own.get(o):
            st[key] = own[o].strip()
    return st


@command("qnorm", abbrev="qnorm", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="quantile plot against the normal distribution",
         example="qnorm mathach")
def qnorm(session, cmd):
    _c, names, mask, own, gopts = read(session, cmd.body, "qnorm", DIAG_OPTS)
    x = np.sort(_x(session, names[0])[mask])
    if len(x) < 2:
        raise StataError("no observations" if len(x) == 0 else "insufficient observations",
                         2000 if len(x) == 0 else 2001)
    n = len(x)
    q = float(np.mean(x)) + float(np.std(x, ddof=1)) * np.asarray(
        norm_ppf(np.arange(1, n + 1) / (n + 1)), dtype=float)

    def build(m, title):
        lo, hi = min(q[0], x[0]), max(q[-1], x[-1])
        return Panel(series=[Series("scatter", q, x, label=gc.var_title(session.data, names[0]),
                                    style=_diag_style(own)),
                             Series("line", [lo, hi], [lo, hi], legend=False,
                                    style={"pstyle": 1, "lcolor": "gs8"})])

    gopts.pop("by", None)
    make_graph(session, "qnorm", gopts, build, ("Inverse Normal", None),
               (gc.var_title(session.data, names[0]), None), cmd.text, own=own)


@command("pnorm", abbrev="pnorm", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="standardized normal probability plot",
         example="pnorm mathach")
def pnorm(session, cmd):
    _c, names, mask, own, gopts = read(session, cmd.body, "pnorm", DIAG_OPTS)
    x = np.sort(_x(session, names[0])[mask])
    if len(x) < 2:
        raise StataError("no observations" if len(x) == 0 else "insufficient observations",
                         2000 if len(x) == 0 else 2001)
    n = len(x)
    p = np.arange(1, n + 1) / (n + 1)
    f = np.asarray(norm_cdf((x - np.mean(x)) / np.std(x, ddof=1)), dtype=float)

    def build(m, title):
        return Panel(series=[Series("scatter", p, f, label=names[0], style=_diag_style(own)),
                             Series("line", [0, 1], [0, 1], legend=False,
                                    style={"pstyle": 1, "lcolor": "gs8"})])

    gopts.pop("by", None)
    make_graph(session, "pnorm", gopts, build, ("Empirical P[i] = i/(N+1)", None),
               (f"Normal F[({names[0]}-m)/s]", None), cmd.text, own=own)


# ---- rvfplot -------------------------------------------------------------------------------------
@command("rvfplot", abbrev="rvfplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="residual-versus-fitted plot after regress",
         example="rvfplot, yline(0)")
def rvfplot(session, cmd):
    from hlmshell.commands.predict import xb_all

    text = cmd.body.strip()
    if text and not text.startswith(","):
        raise StataError("varlist not allowed", 101)
    c = Command(name="rvfplot")
    fill_qualifiers(c, text, allow_exp=False)
    own, gopts = gc.split_options(c.options, DIAG_OPTS)
    res = session.e
    if res is None or getattr(res, "cmd", "") != "regress":
        raise StataError("last estimates not found" if res is None else
                         "rvfplot is only available after regress", 301)
    data = session.data
    depvar = res.macros.get("depvar", "")
    if depvar not in data:
        raise StataError(f"variable {depvar} not found", 111)
    sample = np.asarray(res.sample, dtype=bool) if res.sample is not None else None
    if sample is None or len(sample) != data.n:
        raise StataError("estimation sample changed; rvfplot needs the data regress used", 459)
    fit = xb_all(res, data)
    resid = np.asarray(data.var(depvar).values, dtype=float) - fit

    def build(m, title):
        return Panel(series=[Series("scatter", fit[sample], resid[sample], label="Residuals",
                                    style=_diag_style(own))])

    gopts.pop("by", None)
    make_graph(session, "rvfplot", gopts, build, ("Fitted values", None), ("Residuals", None),
               cmd.text, own=own)


# ---- xtline ------------------------------------------------------------------------------------
XTLINE_OPTS = {"overlay": ("overlay", False), "i": ("i", True), "t": ("t", True),
               "tlabel": ("tlabel", True), "lcolor": ("lc", True), "lpattern": ("lp", True),
               "lwidth": ("lw", True), "plot1opts": ("plot1opts", True),
               "addplot": ("addplot", True)}


@command("xtline", abbrev="xtline", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="panel-data line plots (one panel, or one line, per unit)",
         example="xtline ses, overlay")
def xtline(session, cmd):
    from hlmshell.commands._panel import panel_settings

    _c, names, mask, own, gopts = read(session, cmd.body, "xtline", XTLINE_OPTS, nvars=(1, None))
    # i() and t() stand in for xtset's variables; only what they leave out must be set
    ps = None if own.get("i") and own.get("t") else panel_settings(session, need_time=not own.get("t"))
    ivar = expand_varlist(session.data, own["i"])[0] if own.get("i") else ps.panelvar
    tvar = expand_varlist(session.data, own["t"])[0] if own.get("t") else ps.timevar
    ids = np.asarray(session.data.var(ivar).values)
    t = _x(session, tvar)
    mask = mask & ~np.isnan(t)
    units = [u for u in dict.fromkeys(ids[mask].tolist())]
    units.sort(key=lambda v: (isinstance(v, str), v))
    ys = [_x(session, n) for n in names]

    def series_for(sel, k, label):
        out = []
        for j, y in enumerate(ys):
            o = np.argsort(t[sel], kind="stable")
            out.append(Series("line", t[sel][o], y[sel][o],
                              label=label or gc.var_title(session.data, names[j]),
                              style={"pstyle": k + j}))
        return out

    ilabel = lambda u: gc.group_label(session.data, ivar, u)   # noqa: E731
    extra = AddPlot(session, own.get("addplot"))
    extra.merge_options(gopts)
    if "overlay" in own:
        panels = [extra.extend(session, Panel(series=[s for k, u in enumerate(units)
                               for s in series_for(mask & (ids == u), k, ilabel(u))]), None)]
    else:
        panels = [extra.extend(session, Panel(title=ilabel(u), series=series_for(mask & (ids == u), 0, "")),
                               ids == u) for u in units]
    gopts.pop("by", None)
    ytitle = gc.var_title(session.data, names[0]) if len(names) == 1 else ""
    gc.check_finish(session, gopts)
    graph = Graph(kind="xtline", panels=panels)
    if not any(p.series for p in panels):
        raise StataError("no observations", 2000)
    if "overlay" not in own:
        graph.legend.show = len(names) > 1
    gc.apply_text(graph, gopts)
    gc.apply_axes(graph, gopts, (gc.var_title(session.data, tvar), session.data.var(tvar)),
                  (ytitle, None), None, None, session.data)
    gc.finish(session, graph, gopts, cmd.text)


# ---- graph box / graph bar --------------------------------------------------------------------
OVER_OPTS = {"over": ("over", True), "medtype": ("medtype", True), "nooutsides": ("noout", False),
             "horizontal": ("hor", False), "asyvars": ("asy", False), "bar": ("bar", True),
             "box": ("box", True), "blabel": ("blab", True), "missing": ("mis", False),
             "stack": ("stack", False), "percentages": ("perc", False), "nofill": ("nofill", False),
             "intensity": ("intensity", True), "cw": ("cw", False), "outergap": ("outergap", True),
             "bargap": ("bargap", True), "boxgap": ("boxgap", True), "marker": ("marker", True),
             "yvaroptions": ("yvaroptions", True), "showyvars": ("showyvars", False)}


def _box_stats(x: np.ndarray, pos: float, label: str) -> dict:
    x = np.sort(x)
    q1, med, q3 = percentile(x, 25), percentile(x, 50), percentile(x, 75)
    iqr = q3 - q1
    inside = x[(x >= q1 - 1.5 * iqr) & (x <= q3 + 1.5 * iqr)]
    lo, hi = float(inside.min()), float(inside.max())
    out = [float(v) for v in x if v < lo or v > hi]
    return {"pos": pos, "q1": q1, "med": med, "q3": q3, "lo": lo, "hi": hi, "out": out,
            "label": label}


def _box_stat(how: str, x: np.ndarray) -> float:
    """over(, sort((stat) var)) of graph box: mean or median."""
    if how not in ("mean", "median", "med", "p50"):
        raise StataError(f"{how} is not a valid statistic", 198)
    if len(x) == 0:
        return float("nan")
    return float(np.mean(x)) if how == "mean" else percentile(np.sort(x), 50)


def graph_box(session, text: str, horizontal: bool = False) -> None:
    _c, names, mask, own, gopts = read(session, text, "graph box", OVER_OPTS, nvars=(1, None))
    if not mask.any():
        raise StataError("no observations", 2000)
    over = over_groups(session, own, mask)
    if over.sort is not None or over.descending:        # sort(#): by the boxes' medians
        sel = mask & (over.codes >= 0)
        meds = [[_box_stat("median", _x(session, n)[sel & (over.codes == u)])
                 for u in over.cats] for n in names]
        over.sort_by(session, sel, meds, _box_stat)
    oname, ov, vals, labels = over.name, over.codes, over.cats, over.labels

    def build(m, title):
        sel = mask if m is None else mask & m
        series, k = [], 0
        for j, name in enumerate(names):
            x = _x(session, name)
            boxes = []
            for g, (u, lab) in enumerate(zip(vals, labels)):
                s2 = sel if ov is None else sel & (ov == u)
                if s2.any():
                    boxes.append(_box_stats(x[s2], g + 1 + (j - (len(names) - 1) / 2) * 0.8 /
                                            max(len(names), 1), lab))
            if boxes:
                series.append(Series("box", [b["pos"] for b in boxes], [b["med"] for b in boxes],
                                     boxes=boxes, label=gc.var_title(session.data, name),
                                     style={"pstyle": k, "barwidth": 0.5 / len(names),
                                            "horizontal": horizontal}))
            k += 1
        panel = Panel(title=title, series=series, horizontal=horizontal,
                      xcategories=labels if oname is not None else [""])
        panel.xaxis.angle = over.angle
        return panel

    ytitle = gc.var_title(session.data, names[0]) if len(names) == 1 else ""
    make_graph(session, "hbox" if horizontal else "box", gopts, build, ("", None), (ytitle, None),
               "graph box" + text)


# ---- graph matrix -----------------------------------------------------------------------------
MATRIX_OPTS = {"half": ("half", False), "msymbol": ("m", True), "mcolor": ("mc", True),
               "msize": ("msiz", True), "diagonal": ("diag", True), "maxes": ("maxes", True),
               "jitter": ("jitter", True)}


def graph_matrix(session, text: str) -> None:
    _c, names, mask, own, gopts = read(session, text, "graph matrix", MATRIX_OPTS, nvars=(2, None))
    if not mask.any():
        raise StataError("no observations", 2000)
    gopts.pop("by", None)
    k = len(names)
    vals = [_x(session, n)[mask] for n in names]
    panels = []
    for i in range(k):
        for j in range(k):
            if i == j:
                panels.append(Panel(label=gc.var_title(session.data, names[i])))
            elif "half" in own and j > i:
                panels.append(Panel(label=" "))
            else:
                panels.append(Panel(series=[Series("scatter", vals[j], vals[i],
                                                   style=_diag_style(own), legend=False)]))
    gc.check_finish(session, gopts)
    graph = Graph(kind="matrix", panels=panels, rows=k, cols=k)
    graph.legend.show = False
    gc.apply_text(graph, gopts)
    gc.finish(session, graph, gopts, "graph matrix" + text)


# ---- graph combine -----------------------------------------------------------------------------
COMBINE_OPTS = {"cols": ("c", True), "rows": ("r", True), "colfirst": ("colf", False),
                "holes": ("hole", True), "iscale": ("isc", True), "altshrink": ("alt", False),
                "imargin": ("imar", True), "ycommon": ("yc", False), "xcommon": ("xc", False),
                "commonscheme": ("commonscheme", False)}


def _iscale(arg: str) -> float:
    """iscale(#) or iscale(*#): the parts' text size, a factor in (0, 1]."""
    t = arg.strip().lstrip("*")
    try:
        v = float(t)
    except ValueError:
        raise StataError(f"option iscale() invalid: {arg}", 198) from None
    if not 0 < v <= 1:
        raise StataError("option iscale() must be in (0, 1]", 198)
    return v


def _holes(arg: str) -> list[int]:
    """holes(numlist): grid positions (1-based) left empty."""
    from hlmshell.syntax.numlist import numlist
    try:
        vals = numlist(arg)
    except StataError:
        raise StataError(f"option holes() invalid: {arg}", 198) from None
    if not vals or any(v != int(v) or v < 1 for v in vals):
        raise StataError(f"option holes() invalid: {arg}", 198)
    return sorted({int(v) for v in vals})


def graph_combine(session, text: str) -> None:
    import copy
    import os

    from hlmshell.graphics import store as gstore

    words, opts = gc.split_words(text)
    if not words:
        raise StataError("invalid syntax", 198)
    own, gopts = gc.split_options(opts, COMBINE_OPTS)
    st = gc.store(session)
    panels, parts = [], []
    for w in words:
        if w in st.graphs:
            g = st.graphs[w]
        elif w.endswith(".gph") or os.path.isfile(w + ".gph"):
            g = gstore.load(w if w.endswith(".gph") else w + ".gph")
        else:
            raise StataError(f"graph {w} not found", 111)
        parts.append(copy.deepcopy(g))            # drawn whole, in its own cell
        panels += copy.deepcopy(g.panels)         # every plotted series, for describe
    gc.check_finish(session, gopts)
    graph = Graph(kind="combine", panels=panels, parts=parts)
    if own.get("cols"):
        graph.cols = gc.integer(own["cols"], "cols", 1)
    if own.get("rows"):
        graph.rows = gc.integer(own["rows"], "rows", 1)
    if own.get("iscale"):
        graph.iscale = _iscale(own["iscale"])
    if own.get("holes"):
        graph.holes = _holes(own["holes"])
    graph.legend.show = False
    gc.apply_text(graph, gopts)
    gc.finish(session, graph, gopts, "graph combine " + text)

