"""marginsplot: the graph of the last `margins` (r(), or e() after `margins, post`), drawn with
hlmshell.graphics as the twoway plots are.

Stata's defaults: the x axis is the first at() variable that takes several values (else the
first factor of the marginlist); every other dimension makes one line per combination of its
values; each margin is a connected point with a capped confidence interval; the title is
`Predictive margins with 95% CIs` (`Adjusted predictions ...`, `Average marginal effects of x
...`), the y title the prediction's label. Options: x() / xdimension(), noci, recast(plottype),
recastci(plottype), plotopts() and ciopts() (the plot options of the lines and of the
intervals), horizontal (margins along the x axis, the x dimension up the y axis), by() / bydimension() (one panel per value of those margins dimensions),
addplot(), and the graph options (title(), xtitle(), legend(), name(), saving(), nodraw,
...)."""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands.graph_addplot import AddPlot
from hlmshell.commands.graph_twoway import option_style
from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.registry import command
from hlmshell.syntax.parser import parse_options

OWN = {"noci": ("noci", False), "recast": ("recast", True), "recastci": ("recastci", True),
       "x": ("x", True), "xdimension": ("xdim", True), "plotopts": ("plotopts", True),
       "plotdimension": ("plot", True),
       "ciopts": ("ciopts", True), "allxlabels": ("allx", False),
       "bydimension": ("bydim", True), "addplot": ("addplot", True),
       "horizontal": ("horiz", False), "allsimple": ("allsimple", False)}
LINE_KINDS = ("connected", "line", "scatter", "bar")
CI_KINDS = ("rcap", "rarea", "rline", "rspike", "rconnected")


def _table(session):
    m = getattr(session.r, "margins", None) if session.r is not None else None
    if m is None and session.e is not None:
        m = getattr(session.e, "margins", None)
    if m is None:
        raise StataError("previous command was not margins", 301)
    return m


def _cell_values(m, j: int) -> dict:
    """Per dimension of column j its value: an at() scenario becomes the values of its
    variables (`ses` = -2), a factor its level."""
    dims = m.all_dims[j] if m.all_dims else m.dims
    out = {}
    for d, v in zip(dims, m.cells[j]):
        if d == "_at":
            scen = int(v) - 1
            for k, nm in enumerate(m.at_names):
                v_at = float(m.at[scen, k])
                if v_at != v_at:                 # as observed: not a dimension of the plot
                    continue
                head, dot, var = nm.partition(".")
                if not dot:
                    out[nm] = v_at
                elif v_at == 1:                  # a factor's indicator (`1.sector`): its level
                    out[var] = float(head.rstrip("bno") or 0)
        else:
            out[d] = float(v)
    return out


def _x_dimension(m, cells: list[dict], asked: str | None) -> str:
    if asked:
        if not cells or asked not in cells[0]:
            raise StataError(f"variable {asked} not found in the margins", 111)
        return asked
    keys = [k for k in (cells[0] if cells else {}) if all(k in c for c in cells)]
    varying = [k for k in keys if len({c[k] for c in cells}) > 1]
    at_vars = [k for k in varying if k in (m.at_names or [])]
    factors = [k for k in varying if k != "_predict"]        # outcomes make the lines
    pick = at_vars[:1] or factors[:1] or varying[:1] or keys[:1]
    if not pick:
        raise StataError("nothing to plot: margins has a single margin without dimensions", 198)
    return pick[0]


def _deriv_names(m, cols) -> list[str]:
    """The variables of dydx()/eyex()... in order when there are several (a plot dimension)."""
    if not m.deriv:
        return []
    names: list[str] = []
    for j in cols:
        d = m.deriv[j]
        if d and d not in names:
            names.append(d)
    return names if len(names) > 1 else []


def _fmt(v: float) -> str:
    """A level or value as Stata writes it in the legend."""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _level_text(labels: dict, dim: str, v: float) -> str:
    """A level as marginsplot names it: its value label, else `dim=value`."""
    text = labels.get(dim, {}).get(float(v))
    return text if text else f"{dim}={_fmt(v)}"


def value_labels(session, dims) -> dict:
    """{dimension: {value: label}} for the dimensions that are value-labelled variables."""
    out = {}
    ds = session.data
    for d in dims:
        if ds is not None and d in ds:
            vl = ds.var(d).vallab
            if vl:
                out[d] = ds.value_labels.get(vl, {})
    return out


def _series(m, cols, cells, xdim, own, level, skip=(), labels=None):
    """One line (and its CI) per combination of the other dimensions (but `skip`, the by()
    dimensions), named by their value labels where they have them. plot#opts()/ci#opts()
    style the #th line and its interval; an offset (mplotoffset, offset()) moves line g of G
    along x by offset * (g - (G-1)/2), so that intervals at one x do not overlap."""
    labels = labels or {}
    others = [k for k in (cells[0] if cells else {}) if k != xdim and k not in skip
              and all(k in c for c in cells) and len({c[k] for c in cells}) > 1]
    others, names = _plot_dimension(own.get("plotdimension"), others, cells, xdim)
    groups: dict = {}
    for j, c in zip(cols, cells):
        key = tuple(c[k] for k in others)
        groups.setdefault(key, []).append(j)
    kind = (own.get("recast") or "connected").strip()
    ci_kind = (own.get("recastci") or "rcap").strip()
    if kind not in LINE_KINDS or ci_kind not in CI_KINDS:
        raise StataError("invalid recast()", 198)
    numbered = own.get("_numbered", {})
    shift = float(own.get("_offset") or 0.0)
    out = []
    for g, (key, js) in enumerate(groups.items()):
        order = sorted(js, key=lambda j: cells[cols.index(j)][xdim])
        x = np.array([cells[cols.index(j)][xdim] for j in order], dtype=float)
        x = x + shift * (g - (len(groups) - 1) / 2.0)
        label = ", ".join(_level_text(labels, k, v) for k, v in zip(others, key)) or \
            ("Margins" if len(groups) == 1 else "")
        label = names.get(g + 1, label)
        out += _line_pair(own, numbered, g, (kind, ci_kind), x,
                          (m.table[0, order], m.table[4, order], m.table[5, order]),
                          label, len(groups) > 1, level)
    return out


def _plot_dimension(text: str | None, others: list[str], cells, xdim: str):
    """plotdimension(dimlist [, labels("a" "b" ...) elabels(# "a" ...)]): the dimensions whose
    combinations make the lines (default: every other one that varies) and the lines' names."""
    if not text:
        return others, {}
    from hlmshell.syntax.lexer import find_top
    comma = find_top(text, ",")
    dims_text, opt_text = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    dims = dims_text.split()
    for d in dims:
        if not cells or d not in cells[0]:
            raise StataError(f"{d} not a dimension in margins results", 322)
        if d == xdim:
            raise StataError(f"{d} may not be both the x dimension and a plot dimension", 198)
    names: dict[int, str] = {}
    for o in parse_options(opt_text):
        words = re.findall(r'"([^"]*)"|(\S+)', o.arg or "")
        vals = [a if b == "" else b for a, b in words]
        if "labels".startswith(o.name) and len(o.name) >= 3:
            names.update({k: v for k, v in enumerate(vals, start=1)})
        elif "elabels".startswith(o.name) and len(o.name) >= 4:
            if len(vals) % 2:
                raise StataError("option elabels() invalid", 198)
            for num, lab in zip(vals[::2], vals[1::2]):
                if not num.isdigit():
                    raise StataError("option elabels() invalid", 198)
                names[int(num)] = lab
        elif o.name not in ("nolabels", "allsimplelabels", "nosimplelabels", "separator"):
            raise StataError(f"option {o.name} not allowed", 198)
    return (dims or others), names


def _line_pair(own, numbered, g, kinds, x, stats, label, legend, level) -> list[Series]:
    """One line's interval (unless noci) and the line, styled by plotopts()/ciopts() and the
    line's own plot#opts()/ci#opts()."""
    kind, ci_kind = kinds
    b, lo, hi = stats
    hor = "horizontal" in own       # margins along x, the x dimension up the y axis
    out = []
    if "noci" not in own:
        ci = " ".join([own.get("ciopts") or ""] + numbered.get(("ci", g + 1), []))
        style = option_style(ci, g)
        if hor:
            style["horizontal"] = True
        out.append(Series(ci_kind, x, lo, hi, label=f"{level:g}% CI", legend=False, style=style))
    line = " ".join([own.get("plotopts") or ""] + numbered.get(("plot", g + 1), []))
    out.append(Series(kind, *((b, x) if hor else (x, b)), label=label, legend=legend,
                      style=option_style(line, g)))
    return out


_NUMBERED = re.compile(r"^(plot|ci)(\d+)opts?$")


def numbered_options(options) -> tuple[list, dict]:
    """plot#opts() and ci#opts() taken out of the option list: {("plot", #): [text, ...]}."""
    rest, numbered = [], {}
    for o in options:
        m = _NUMBERED.match(o.name.lower())
        if m:
            numbered.setdefault((m.group(1), int(m.group(2))), []).append(o.arg or "")
        else:
            rest.append(o)
    return rest, numbered


def _by_dims(own: dict, gopts: dict, cells: list[dict], xdim: str) -> list[str]:
    """The margins dimensions of by() / bydimension(), checked."""
    text = (gopts.pop("by", None) or own.get("bydimension") or "").split(",")[0]
    dims = text.split()
    for d in dims:
        if not cells or d not in cells[0]:
            raise StataError(f"variable {d} not found in the margins", 111)
        if d == xdim:
            raise StataError(f"{d} may not be both the x dimension and a by() dimension", 198)
    return dims


def _panels(m, cols, cells, xdim, own, by: list[str], labels: dict) -> list[Panel]:
    if not by:
        return [Panel(series=_series(m, cols, cells, xdim, own, m.level, labels=labels))]
    keys = sorted({tuple(c[d] for d in by) for c in cells})
    panels = []
    for key in keys:
        sel = [(j, c) for j, c in zip(cols, cells) if tuple(c[d] for d in by) == key]
        title = ", ".join(_level_text(labels, d, v) for d, v in zip(by, key))
        panels.append(Panel(title=title, series=_series(m, [j for j, _ in sel], [c for _, c in sel],
                                                        xdim, own, m.level, skip=by,
                                                        labels=labels)))
    return panels


def _titles(m, xdim: str) -> tuple[str, str]:
    level = f"{m.level:g}%"
    if m.deriv and any(m.deriv):
        var = next(d for d in m.deriv if d)
        kind = m.title if (m.title or "").endswith("marginal effects") else \
            "Average marginal effects"          # Conditional ... after atmeans
        several = len({d for d in m.deriv if d}) > 1
        title = f"{kind} with {level} CIs" if several else f"{kind} of {var.split('.')[-1]} with {level} CIs"
        ytitle = f"Effects on {m.predict_label or 'Linear prediction'}"
    else:
        kind = "Adjusted predictions" if "Adjusted" in (m.title or "") else "Predictive margins"
        terms = _terms(m)
        of = f" of {' '.join(terms)}" if terms else ""
        title, ytitle = f"{kind}{of} with {level} CIs", m.predict_label or "Linear prediction"
    return title, ytitle


def _terms(m) -> list[str]:
    """The margins' marginlist terms (`sector`, `sector#female`): each column's dimensions
    less _at, _predict and the over() variables; Stata's title names them."""
    out: list[str] = []
    skip = {"_at", "_predict", *(m.over or [])}
    for dims in (m.all_dims or [m.dims]):
        term = "#".join(d for d in dims if d not in skip)
        if term and term not in out:
            out.append(term)
    return out


@command("marginsplot", abbrev="marginsplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="graph the results of the last margins",
         example="marginsplot, noci")
def marginsplot(session, cmd) -> None:
    text = (cmd.body or "").strip()
    if text and not text.startswith(","):
        raise StataError("invalid syntax", 198)
    rest, numbered = numbered_options(parse_options(text[1:] if text else ""))
    own, gopts = gc.split_options(rest, OWN)
    own["_numbered"] = numbered
    draw(session, cmd, own, gopts)


def draw(session, cmd, own: dict, gopts: dict) -> None:
    """The marginsplot of the last margins under the parsed options (also mplotoffset's)."""
    m = _table(session)
    extra = AddPlot(session, own.get("addplot"))
    extra.merge_options(gopts)
    cols = [j for j in range(len(m.b)) if not (m.status and m.status[j] == "base")]
    cells = [_cell_values(m, j) for j in cols]
    derivs = _deriv_names(m, cols)
    for j, c in zip(cols, cells):       # dydx(a b c): the variables are a dimension, 1..k
        if derivs:
            c["_deriv"] = float(derivs.index(m.deriv[j]) + 1)
    xdim = _x_dimension(m, cells, (own.get("x") or own.get("xdimension") or "").strip() or None)
    by = _by_dims(own, gopts, cells, xdim)
    gc.check_finish(session, gopts)
    labels = value_labels(session, cells[0] if cells else {})
    if derivs:
        labels["_deriv"] = {float(k + 1): _deriv_label(d) for k, d in enumerate(derivs)}
    panels = [extra.extend(session, p, None) for p in _panels(m, cols, cells, xdim, own, by, labels)]
    title, ytitle = _titles(m, xdim)
    graph = Graph(kind="marginsplot", panels=panels, title=title)
    graph.legend.show = None
    gc.apply_text(graph, gopts)
    xaxis = _x_axis(session, xdim, panels, labels, "horizontal" in own)
    axes = ((ytitle, None), xaxis) if "horizontal" in own else (xaxis, (ytitle, None))
    gc.apply_axes(graph, gopts, *axes)
    gc.finish(session, graph, gopts, cmd.text)


def _deriv_label(d: str) -> str:
    """A dydx() variable as the axis names it: `ses` for c.ses, `1.sector` for a factor level."""
    head, dot, rest = d.partition(".")
    return rest if dot and head in ("c", "") else d


def _x_axis(session, xdim: str, panels, labels: dict, horizontal: bool):
    """(title, Variable) of the x dimension's axis; for dydx() variables their names are put
    at 1..k on that axis (the y axis when horizontal)."""
    if xdim != "_deriv":
        var = session.data.var(xdim) if session.data is not None and xdim in session.data else None
        return ((var.label or xdim) if var is not None else xdim, var)
    names = labels["_deriv"]
    for p in panels:
        ax = p.yaxis if horizontal else p.xaxis
        ax.ticks = sorted(names)
        ax.ticklabels = [names[t] for t in ax.ticks]
        ax.range = [0.5, len(names) + 0.5]
    return ("Effects with respect to", None)
