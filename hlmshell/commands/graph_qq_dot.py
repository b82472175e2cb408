"""qqplot and dotplot: two distribution graphs of [R], drawn through the graphics layer.

    qqplot varname1 varname2 [if] [in] [, graph options]
    dotplot varname [if] [in] [, over(groupvar) nx(#) ny(#) center {mean|median} bar nogroup incr(#)]
    dotplot varlist [if] [in] [, ...]

qqplot draws the quantiles of varname1 (y) against those of varname2 (x) with the line y = x:
each variable uses its own nonmissing values; when the counts differ, the larger sample's
quantiles are interpolated at the smaller one's plotting positions i/(n+1), so every point
pairs equal fractions of both distributions.

dotplot shows each group's (or each variable's) values as a column of dots: the y range is
cut into ny() intervals (35 by default; `nogroup` keeps the exact values) and the dots of an
interval are laid side by side from the column's position to the right (`center`: centred),
nx() setting how many dots fit in the space between columns. With over() the columns stand at
the group values (a numeric groupvar) or at 1, 2, ... with the group names; with a varlist, at
1, 2, ... named by the variables. `mean` or `median` marks each column's centre with a
horizontal line and `bar` adds the mean +/- one standard deviation or the quartiles.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands.graph_stat import make_graph, read
from hlmshell.errors import StataError
from hlmshell.graphics.model import Panel, Series
from hlmshell.registry import command
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.varlist import expand_varlist

QQ_OPTS = {"msymbol": ("m", True), "mcolor": ("mc", True), "msize": ("msiz", True),
           "rlopts": ("rlop", True), "addplot": ("addplot", True)}
DOT_OPTS = {"over": ("over", True), "nx": ("nx", True), "ny": ("ny", True),
            "center": ("center", False), "mean": ("mean", False), "median": ("median", False),
            "bar": ("bar", False), "nogroup": ("nogroup", False), "incr": ("incr", True),
            "msymbol": ("m", True), "mcolor": ("mc", True), "msize": ("msiz", True)}


def _marker_style(own: dict) -> dict:
    st = {"pstyle": 0}
    for o, key in (("msymbol", "marker"), ("mcolor", "mcolor"), ("msize", "msize")):
        if own.get(o):
            st[key] = own[o].strip()
    return st


# ---- qqplot -------------------------------------------------------------------------------------
def paired_quantiles(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted a and b paired at equal fractions: the larger sample interpolated at the smaller
    one's plotting positions i/(n+1)."""
    a, b = np.sort(a), np.sort(b)
    if len(a) == len(b):
        return a, b
    small, large = (a, b) if len(a) < len(b) else (b, a)
    n, m = len(small), len(large)
    p = np.arange(1, n + 1) / (n + 1)
    interp = np.interp(p, np.arange(1, m + 1) / (m + 1), large)
    return (small, interp) if len(a) < len(b) else (interp, small)


@command("qqplot", abbrev="qqplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="quantile-quantile plot of two variables",
         example="qqplot mathach ses")
def qqplot(session, cmd):
    c, names, _mask, own, gopts = read(session, cmd.body, "qqplot", QQ_OPTS, nvars=(2, 2))
    base = np.asarray(marksample(session, c, []), dtype=bool)
    cols = [np.asarray(session.data.var(nm).values, dtype=float) for nm in names]
    samples = [v[base & ~np.isnan(v)] for v in cols]
    if any(len(s) == 0 for s in samples):
        raise StataError("no observations", 2000)
    y, x = paired_quantiles(samples[0], samples[1])
    lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))

    def build(m, title):
        return Panel(series=[Series("scatter", x, y, label=names[0], style=_marker_style(own)),
                             Series("line", [lo, hi], [lo, hi], legend=False,
                                    style={"pstyle": 1, "lcolor": "gs8"})])

    gopts.pop("by", None)
    gopts.setdefault("legend", "off")
    make_graph(session, "qqplot", gopts, build,
               (gc.var_title(session.data, names[1]), session.data.var(names[1])),
               (gc.var_title(session.data, names[0]), session.data.var(names[0])), cmd.text, own=own)


# ---- dotplot ------------------------------------------------------------------------------------
def binned(y: np.ndarray, lo: float, hi: float, ny: int) -> np.ndarray:
    """y moved to the midpoint of its interval among ny equal intervals of [lo, hi]."""
    if hi <= lo:
        return y.copy()
    width = (hi - lo) / ny
    k = np.clip(np.floor((y - lo) / width), 0, ny - 1)
    return lo + (k + 0.5) * width


def dot_offsets(yb: np.ndarray, step: float, center: bool) -> np.ndarray:
    """Horizontal offsets of the dots: the j-th dot of a level at j*step (centred: minus half
    the stack)."""
    out = np.zeros(len(yb))
    order = np.argsort(yb, kind="stable")
    vals = yb[order]
    start = 0
    while start < len(vals):
        end = start
        while end < len(vals) and vals[end] == vals[start]:
            end += 1
        j = np.arange(end - start, dtype=float)
        out[order[start:end]] = (j - (end - start - 1) / 2.0 if center else j) * step
        start = end
    return out


def _columns(session, names, mask, own):
    """[(position, values, label)] and whether the positions are the group values."""
    ds = session.data
    if own.get("over"):
        if len(names) != 1:
            raise StataError("only one variable allowed with over()", 103)
        g = list(expand_varlist(ds, own["over"].strip()))
        if len(g) != 1:
            raise StataError("option over() incorrectly specified", 198)
        gv = ds.var(g[0])
        vals = np.asarray(ds.var(names[0]).values, dtype=float)
        keep = mask & (gv.values != "" if gv.is_string else ~np.isnan(np.asarray(gv.values, dtype=float)))
        levels = sorted(set(gv.values[keep]))
        if gv.is_string:
            return [(i + 1.0, vals[keep & (gv.values == lv)], str(lv)) for i, lv in enumerate(levels)], False, g[0]
        return [(float(lv), vals[keep & (gv.values == lv)], "") for lv in levels], True, g[0]
    return [(i + 1.0, np.asarray(ds.var(nm).values, dtype=float)[mask & ~np.isnan(
        np.asarray(ds.var(nm).values, dtype=float))], nm) for i, nm in enumerate(names)], False, None


def _centre_lines(pos, v, half, own) -> list[Series]:
    if "median" in own:
        mid, lo, hi = np.median(v), np.percentile(v, 25), np.percentile(v, 75)
    else:
        mid = float(np.mean(v))
        sd = float(np.std(v, ddof=1)) if len(v) > 1 else 0.0
        lo, hi = mid - sd, mid + sd
    rows = [mid] + ([lo, hi] if "bar" in own else [])
    return [Series("line", [pos - half, pos + half], [r, r], legend=False,
                   style={"pstyle": 1, "lcolor": "gs6"}) for r in rows]


def _int_opt(own, name, default, lo):
    return default if not own.get(name) else gc.integer(own[name], name, lo)


@command("dotplot", abbrev="dotplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="comparative scatterplot of values as columns of dots",
         example="dotplot mathach, over(sector)")
def dotplot(session, cmd):
    _c, names, mask, own, gopts = read(session, cmd.body, "dotplot", DOT_OPTS, nvars=(1, None))
    if "mean" in own and "median" in own:
        raise StataError("options mean and median may not be combined", 198)
    ny = _int_opt(own, "ny", 35, 2)
    nx = _int_opt(own, "nx", 0, 0)
    if not own.get("over"):             # each variable its own nonmissing values
        mask = np.asarray(marksample(session, _c, []), dtype=bool)
    cols, numeric_pos, gname = _columns(session, names, mask, own)
    cols = [c for c in cols if len(c[1])]
    if not cols:
        raise StataError("no observations", 2000)
    allv = np.concatenate([c[1] for c in cols])
    lo, hi = float(allv.min()), float(allv.max())
    pos = np.array([c[0] for c in cols])
    gap = float(np.min(np.diff(pos))) if len(pos) > 1 else 1.0
    ybs = [c[1].copy() if "nogroup" in own else binned(c[1], lo, hi, ny) for c in cols]
    widest = max(int(np.max(np.unique(yb, return_counts=True)[1])) for yb in ybs)
    step = (0.8 * gap / nx) if nx else 0.8 * gap / max(widest, 2)
    center = "center" in own
    xs = np.concatenate([p + dot_offsets(yb, step, center) - (0 if center else 0.4 * gap)
                         for p, yb in zip(pos, ybs)])
    ys = np.concatenate(ybs)
    marks = "mean" in own or "median" in own or "bar" in own

    def build(m, title):
        series = [Series("scatter", xs, ys, label=names[0], style=_marker_style(own))]
        if marks:
            for p, (_pos, v, _lab) in zip(pos, cols):
                series += _centre_lines(p, v, 0.4 * gap, own)
        return Panel(series=series)

    gopts.pop("by", None)
    gopts.setdefault("legend", "off")
    if not numeric_pos:
        gopts.setdefault("xlabel", " ".join(f'{p:g} "{c[2]}"' for p, c in zip(pos, cols)) + ", noticks")
    ds = session.data
    xinfo = (gc.var_title(ds, gname), ds.var(gname)) if gname else ("", None)
    ytitle = gc.var_title(ds, names[0]) if len(names) == 1 else ""
    make_graph(session, "dotplot", gopts, build, xinfo, (ytitle, None), cmd.text, own=own)
