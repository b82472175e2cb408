"""tabplot (Nick Cox's SSC command, built in): one-, two- and three-way tables drawn as bars.

    tabplot rowvar [colvar] [if] [in] [weight] [, percent[(varlist)] fraction[(varlist)]
        missing height(#) showval[(offset(#) format(%fmt))] horizontal barwidth(#)
        bcolor() bfcolor() blcolor() blwidth() barall(rbar options) graph options by()]

As tabplot's help describes the layout: the categories of rowvar are rows from top (lowest
value) to bottom, those of colvar columns from left to right, at 1, 2, ...; each cell's
frequency (or fraction or percent: of the total, or within the groups of the varlist given)
is a bar of width 0.5 rising from its row's line, the tallest bar height(#) (0.8 by default)
of the distance between rows, so 20% of the space stays free; no numeric scale, the rows and
columns labelled with their value labels (or values). `tabplot varname` draws one row of
bars. showval writes each value below its bar (offset 0.1 by default). by() draws one panel
per group on one common scale (three-way tables). Weights (fweight, aweight, iweight) add up.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.output.numfmt import FormatError, fmt
from hlmshell.registry import abbrev_match, command
from hlmshell.syntax.ast import Command
from hlmshell.syntax.evaluate import evaluate, marksample
from hlmshell.syntax.parser import fill_qualifiers, parse_options
from hlmshell.syntax.varlist import expand_varlist

# canonical name -> (minimal abbreviation, takes an argument: True, False, None = optional)
_OWN = {"percent": ("perc", None), "fraction": ("frac", None), "missing": ("miss", False),
        "height": ("h", True), "showval": ("showv", None), "horizontal": ("hor", False),
        "barwidth": ("barw", True), "bcolor": ("bc", True), "bfcolor": ("bfc", True),
        "blcolor": ("blc", True), "blwidth": ("blw", True), "color": ("color", True),
        "fcolor": ("fc", True), "lcolor": ("lc", True), "lwidth": ("lw", True),
        "barall": ("barall", True)}


def _read(session, text: str):
    cmd = Command(name="tabplot")
    fill_qualifiers(cmd, text, allow_exp=False)
    if cmd.weight is not None and cmd.weight.kind not in ("fweight", "aweight", "iweight"):
        raise StataError(f"{cmd.weight.kind}s not allowed", 101)
    own, gopts = gc.split_options(cmd.options, _OWN)
    if not cmd.body.strip():
        raise StataError("varlist required", 100)
    names = list(expand_varlist(session.data, cmd.body))
    if len(names) > 2:
        raise StataError("too many variables specified", 103)
    mask = np.asarray(marksample(session, cmd, [] if "missing" in own else names, strok=True), dtype=bool)
    w = np.ones(session.data.n)
    if cmd.weight is not None:
        w = np.broadcast_to(np.asarray(evaluate(cmd.weight.exp, session), dtype=float), (session.data.n,))
        if np.any(w[mask] < 0) and cmd.weight.kind == "fweight":
            raise StataError("may not use noninteger frequency weights", 401)
    return cmd, names, mask, np.array(w, dtype=float), own, gopts


def _levels(ds, name: str, mask) -> list:
    """The variable's distinct values in the sample, in sort order (missing last)."""
    vals = ds.var(name).values
    got = {v for v, m in zip(vals, mask) if m}
    if ds.var(name).is_string:
        return sorted(got)
    nums = sorted(v for v in got if v == v and float(v) < 8.988e307)
    return nums + sorted((v for v in got if not (v == v and float(v) < 8.988e307)), key=str)


def _codes(ds, name: str, levels: list) -> np.ndarray:
    """Each observation's 0-based level index (-1 outside the levels)."""
    index = {("nan" if isinstance(v, float) and v != v else v): k for k, v in enumerate(levels)}
    out = np.full(ds.n, -1, dtype=np.int64)
    for i, v in enumerate(ds.var(name).values):
        out[i] = index.get("nan" if isinstance(v, float) and v != v else v, -1)
    return out


def _group_totals(session, varlist: str | None, mask, w) -> np.ndarray:
    """Each observation's denominator: the total weight of its group of percent(varlist) /
    fraction(varlist), or of the whole sample."""
    total = np.full(session.data.n, float(w[mask].sum()))
    if not varlist or not varlist.strip():
        return total
    names = list(expand_varlist(session.data, varlist))
    keys = list(zip(*[list(session.data.var(n).values) for n in names]))
    sums: dict = {}
    for k, m, wi in zip(keys, mask, w):
        if m:
            sums[k] = sums.get(k, 0.0) + wi
    return np.array([sums.get(k, np.nan) for k in keys], dtype=float)


def _table(rows, cols, nr, nc, mask, contrib) -> np.ndarray:
    t = np.zeros((nr, nc))
    ok = mask & (rows >= 0) & (cols >= 0)
    np.add.at(t, (rows[ok], cols[ok]), contrib[ok])
    return t


class _Spec:
    """What the options ask for, checked before anything is drawn."""

    def __init__(self, own: dict):
        scale = [k for k in ("percent", "fraction") if k in own]
        if len(scale) > 1:
            raise StataError("percent and fraction may not be combined", 198)
        self.scale = scale[0] if scale else None
        self.scale_by = own.get(self.scale) if self.scale else None
        self.height = gc.number(own["height"], "height") if own.get("height") else 0.8
        self.width = gc.number(own["barwidth"], "barwidth") if own.get("barwidth") else 0.5
        if not (self.height > 0 and self.width > 0):
            raise StataError("option height() or barwidth() invalid", 198)
        self.horizontal = "horizontal" in own
        self.showval = "showval" in own
        self.offset, self.format = 0.1, {"percent": "%2.1f", "fraction": "%4.3f"}.get(self.scale or "", "%9.0g")
        if own.get("showval"):
            self._showval(own["showval"])
        self.style = _bar_style(own)

    def _showval(self, text: str) -> None:
        _head, opts = gc.head_and_options("," + text)
        for o in opts:
            if o.name == "offset" and o.arg is not None:
                self.offset = gc.number(o.arg, "offset")
            elif abbrev_match(o.name, "format", "f") and o.arg is not None:
                self.format = o.arg.strip()
                try:
                    fmt(1.0, self.format)
                except FormatError:
                    raise StataError(f"invalid format {self.format}", 120) from None
            elif o.name in ("mlabsize", "mlabcolor", "mlabposition", "mlabangle", "mlabgap", "size",
                            "color", "placement", "mlabpos", "mlabc", "mlabs"):
                continue
            else:
                raise gc.not_allowed(o.name)


def _bar_style(own: dict) -> dict:
    """rbar look: bcolor() / color() colour fill and outline; bfcolor()/fcolor() the fill,
    blcolor()/lcolor() the outline; barall() holds the same options."""
    from hlmshell.graphics import schemes
    style = {"pstyle": 0}
    items = [(k, v) for k, v in own.items() if k in ("bcolor", "color", "bfcolor", "fcolor", "blcolor",
                                                      "lcolor", "blwidth", "lwidth")]
    if own.get("barall"):
        for o in parse_options(own["barall"]):
            found = gc.resolve(o.name, {k: _OWN[k] for k in ("bcolor", "color", "bfcolor", "fcolor",
                                                              "blcolor", "lcolor", "blwidth", "lwidth")})
            if found is None or o.arg is None:
                raise gc.not_allowed(o.name)
            items.append((found[0], o.arg))
    for key, val in items:
        val = gc.text_arg(val or "")
        if key.endswith("width"):
            style["lwidth"] = val
            continue
        schemes.color(val)                      # a bad colour is r(198) before drawing
        if key in ("bcolor", "color"):
            style["fcolor"] = style["lcolor"] = val
        else:
            style["fcolor" if "f" in key[:2] else "lcolor"] = val
    return style


def _labels(ds, name: str, levels: list) -> list[str]:
    return [gc.group_label(ds, name, v) if not (isinstance(v, float) and v != v) else "." for v in levels]


def _panel(tab: np.ndarray, vmax: float, spec: _Spec, two_way: bool, title: str) -> Panel:
    """One panel: row r's line at nr - r (the top row the first level), bars at columns 1..nc
    (vertical), or the mirror with horizontal."""
    nr, nc = tab.shape
    series, texts = [], []
    for r in range(nr):
        base = float(nr - r) if two_way else 0.0
        # one-way horizontal: the first category on top, as the rows of a table
        pos = np.arange(nc, 0, -1, dtype=float) if spec.horizontal else np.arange(1, nc + 1, dtype=float)
        if spec.horizontal and two_way:         # columns are the lines, rows the positions
            continue
        top = base + spec.height * tab[r] / vmax
        series.append(Series("bar", pos, top, base=base, label="", legend=False,
                             style={**spec.style, "barwidth": spec.width, "horizontal": spec.horizontal}))
        texts += _values(tab[r], pos, base, spec)
    if spec.horizontal and two_way:
        for c in range(nc):
            base = float(c + 1)
            pos = np.arange(nr, 0, -1, dtype=float)
            top = base + spec.height * tab[:, c] / vmax
            series.append(Series("bar", pos, top, base=base, label="", legend=False,
                                 style={**spec.style, "barwidth": spec.width, "horizontal": True}))
            texts += _values(tab[:, c], pos, base, spec)
    return Panel(series=series, title=title, texts=texts)


def _values(vals, pos, base: float, spec: _Spec) -> list[dict]:
    if not spec.showval:
        return []
    out = []
    for v, p in zip(vals, pos):
        text = _shown(float(v), spec.format)
        x, y = (base - spec.offset, p) if spec.horizontal else (p, base - spec.offset)
        out.append({"x": float(x), "y": float(y), "text": text, "place": "c", "angle": 0, "box": False,
                    "size": "small"})
    return out


def _shown(v: float, form: str) -> str:
    """A value in a %fmt; a fixed format wider than its width shows every digit, as display
    does (`%2.1f` of 30.54 is 30.5)."""
    m = re.fullmatch(r"%-?0?(\d+)\.(\d+)fc?", form)
    if m:
        return f"{v:.{int(m.group(2))}f}"
    return fmt(v, form).strip()


def _axes(panel: Panel, ds, names, levels, spec: _Spec) -> None:
    """Category labels on the axes (no numeric scale), the variables' labels as titles."""
    two_way = len(names) == 2
    rlab = _labels(ds, names[0], levels[0])
    nr = len(rlab)
    if two_way:
        clab = _labels(ds, names[1], levels[1])
        rows_at, cols_at = [float(nr - r) for r in range(nr)], [float(c + 1) for c in range(len(clab))]
        yax, xax = (panel.yaxis, panel.xaxis)
        yax.ticks, yax.ticklabels, yax.angle = rows_at, rlab, 0
        xax.ticks, xax.ticklabels = cols_at, clab
        yax.title, xax.title = gc.var_title(ds, names[0]), gc.var_title(ds, names[1])
        yax.range = [0.5, nr + spec.height + 0.1] if not spec.horizontal else [0.5, nr + 0.5]
        xax.range = [0.5, len(clab) + 0.5] if not spec.horizontal else [0.5, len(clab) + spec.height + 0.1]
    else:
        cat, val = (panel.yaxis, panel.xaxis) if spec.horizontal else (panel.xaxis, panel.yaxis)
        cat.ticks = [float(nr - k) if spec.horizontal else float(k + 1) for k in range(nr)]
        cat.ticklabels = rlab
        cat.angle = 0 if spec.horizontal else None
        cat.title = gc.var_title(ds, names[0])
        cat.range = [0.5, nr + 0.5]
        val.ticks, val.title, val.range = [], "", [0.0 - (spec.offset + 0.1 if spec.showval else 0), spec.height + 0.1]
    panel.xaxis.grid = panel.yaxis.grid = False


@command("tabplot", raw=True, byable=False, changes_data=False, family="Graphics",
         desc="one-, two- and three-way tables as bar charts (Nick Cox's tabplot, SSC; built in)",
         example="tabplot sector himinty, percent(sector) showval")
def tabplot_cmd(session, cmd) -> None:
    _c, names, mask, w, own, gopts = _read(session, cmd.body or "")
    spec = _Spec(own)
    ds = session.data
    if not mask.any():
        raise StataError("no observations", 2000)
    levels = [_levels(ds, n, mask) for n in names]
    rows = _codes(ds, names[0], levels[0])
    cols = _codes(ds, names[1], levels[1]) if len(names) == 2 else np.zeros(ds.n, dtype=np.int64)
    nr, nc = len(levels[0]), (len(levels[1]) if len(names) == 2 else 1)
    groups = _by_groups(session, gopts, mask)
    tables = []
    for gmask, title in groups:
        contrib = w.copy()
        if spec.scale is not None:
            denom = _group_totals(session, spec.scale_by, gmask, w)
            contrib = w / denom * (100.0 if spec.scale == "percent" else 1.0)
        tab = _table(rows, cols, nr, nc, gmask, contrib)
        tables.append(((tab if len(names) == 2 else tab.T), title))
    vmax = max(float(t.max()) for t, _ in tables)
    if not vmax > 0:
        raise StataError("no observations", 2000)
    gc.check_finish(session, gopts)
    panels = []
    for tab, title in tables:
        panel = _panel(tab, vmax, spec, len(names) == 2, title)
        _axes(panel, ds, names, levels, spec)
        panels.append(panel)
    graph = Graph(kind="twoway", panels=panels)
    graph.legend.show = False
    _by_layout(session, graph, gopts)
    gc.apply_text(graph, gopts)
    gc.apply_axes(graph, gopts, ds=ds)
    gc.finish(session, graph, {k: v for k, v in gopts.items() if k != "by"}, cmd.text)


def _by_groups(session, gopts: dict, mask) -> list[tuple[np.ndarray, str]]:
    """(sample of the panel, its title): the whole sample, or one per by() group."""
    if "by" not in gopts:
        return [(mask, "")]
    rule = gc.by_rule(gopts["by"], lambda t: list(expand_varlist(session.data, t)))
    ds = session.data
    cols = [list(ds.var(n).values) for n in rule.varnames]
    keys = list(zip(*cols))
    seen = sorted({k for k, m in zip(keys, mask) if m and not any(isinstance(v, float) and v != v for v in k)},
                  key=lambda t: tuple((0, v) if not isinstance(v, str) else (1, v) for v in t))
    out = []
    for key in seen:
        gmask = mask & np.array([k == key for k in keys])
        title = ", ".join(gc.group_label(ds, n, v) for n, v in zip(rule.varnames, key))
        out.append((gmask, title))
    if rule.total:
        out.append((mask, "Total"))
    return out


def _by_layout(session, graph: Graph, gopts: dict) -> None:
    if "by" not in gopts:
        return
    rule = gc.by_rule(gopts["by"], lambda t: list(expand_varlist(session.data, t)))
    graph.rows, graph.cols = rule.rows, rule.cols
    graph.title = rule.title or ""
    names = rule.varnames
    graph.note = rule.note if rule.note is not None else "Graphs by " + (
        gc.var_title(session.data, names[0]) if len(names) == 1 else " ".join(names))
