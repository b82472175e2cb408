"""combomarginsplot (SSC, N. Winter): one marginsplot of several files saved by
`margins, saving()`.

    combomarginsplot file1 [file2 ...] [, labels("a" "b" ...) x(dim) noci recast()
        recastci() horizontal plotopts() ciopts() plot#opts() ci#opts() file#opts()
        fileci#opts() lplot#() savefile(file[, replace]) graph options]

The files are stacked with a file-number dimension (labelled `File 1`, `File 2`, ... or by
labels()), added after the margins' own dimensions as combomarginsplot.ado does; the x
dimension is chosen as marginsplot chooses it (the first at() variable that varies, else the
first marginlist factor), and every other dimension makes one line with its capped interval.
plot#opts()/ci#opts() style the #th line and its interval, file#opts()/fileci#opts() every
line of file #. savefile() writes the stacked margins (with the file number, named by
filevarname(), default _filenumber) as a dataset. The title and prediction label are the
files' own when they agree, else `Combined margins results` and `Predictions`.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands import marginsplot as mp
from hlmshell.commands.graph_twoway import option_style
from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.registry import command
from hlmshell.syntax.lexer import find_top
from hlmshell.syntax.parser import parse_options

OWN = {"noci": ("noci", False), "recast": ("recast", True), "recastci": ("recastci", True),
       "x": ("x", True), "xdimension": ("xdim", True), "plotopts": ("plotopts", True),
       "ciopts": ("ciopts", True), "horizontal": ("horiz", False),
       "labels": ("l", True), "savefile": ("save", True), "filevarname": ("filev", True),
       "level": ("level", True), "offset": ("offset", True)}
_NUMBERED = re.compile(r"^(plot|ci|file|fileci)(\d+)opts?$|^(lplot)(\d+)$")
_STATS = ("_margin", "_ci_lb", "_ci_ub")


def _load(name: str):
    from hlmshell.data.dta import read_dta
    from hlmshell.data.locate import find_data
    ds = read_dta(find_data(name.strip().strip('"'), ".dta"))
    if any(v not in ds for v in _STATS):
        raise StataError(f"file {name} was not saved by margins, saving()", 198)
    return ds


def _cells(ds) -> tuple[list[dict], dict]:
    """Each margin's dimensions {name: value} and the value labels of the named ones."""
    n = ds.n
    cells: list[dict] = [{} for _ in range(n)]
    labels: dict = {}
    for var in (ds.var(v) for v in ds.names):
        src = (var.chars or {}).get("varname")
        if var.name.startswith(("_by", "_m")) and src:
            for i in range(n):
                cells[i][src] = float(var.values[i])
            if var.vallab and var.vallab in ds.value_labels:
                labels[src] = ds.value_labels[var.vallab]
        elif var.name.startswith("_at") and var.name != "_at" and src:
            head, dot, fv = src.partition(".")
            for i in range(n):
                v = float(var.values[i])
                if v != v:                         # as observed: not a dimension
                    continue
                if not dot:
                    cells[i][src] = v
                elif v == 1:                       # a factor's indicator: its level
                    cells[i][fv] = float(head.rstrip("bno") or 0)
    if "_deriv" in ds and len(set(ds.var("_deriv").values)) > 1:
        for i in range(n):
            cells[i]["_deriv"] = float(ds.var("_deriv").values[i])
        labels["_deriv"] = ds.value_labels.get(ds.var("_deriv").vallab, {})
    return cells, labels


def _level(ds) -> float:
    m = re.search(r"\[(\d+(?:\.\d+)?)%", ds.var("_ci_lb").label or "")
    return float(m.group(1)) if m else 95.0


def _margins_view(ds, level: float):
    """What marginsplot's title functions read, from a saved file's characteristics."""
    ch = ds.dta_chars
    factors = (ch.get("margin_vars") or "").split()
    deriv = []
    if "_deriv" in ds:
        lab = ds.value_labels.get(ds.var("_deriv").vallab, {})
        deriv = [lab.get(float(v), "") for v in ds.var("_deriv").values]
    return SimpleNamespace(title=ch.get("title", ""), predict_label=ch.get("predict_label", ""),
                           level=level, deriv=deriv, over=(ch.get("by_vars") or "").split(),
                           all_dims=None, dims=factors, at_names=(ch.get("at_vars") or "").split())


def _labels_list(text: str | None) -> list[str]:
    if not text:
        return []
    comma = find_top(text, ",")
    head = text if comma < 0 else text[:comma]
    return [a if a is not None else b for a, b in re.findall(r'"([^"]*)"|(\S+)', head)]


def _numbered(options) -> tuple[list, dict]:
    """plot#opts(), ci#opts(), file#opts(), fileci#opts(), lplot#() taken out of the list."""
    rest, numbered = [], {}
    for o in options:
        m = _NUMBERED.match(o.name)
        if m:
            kind, k = (m.group(1), m.group(2)) if m.group(1) else ("plot", m.group(4))
            numbered.setdefault((kind, int(k)), []).append(o.arg or "")
        else:
            rest.append(o)
    return rest, numbered


def _series(cells, values, xdim, own, numbered, names, level, labels):
    others = [k for k in cells[0] if k not in (xdim, "_filenr") and all(k in c for c in cells)
              and len({c[k] for c in cells}) > 1]
    if len(names) > 1:
        others.append("_filenr")
    groups: dict = {}
    for i, c in enumerate(cells):
        groups.setdefault(tuple(c[k] for k in others), []).append(i)
    kind = (own.get("recast") or "connected").strip()
    ci_kind = (own.get("recastci") or "rcap").strip()
    if kind not in mp.LINE_KINDS or ci_kind not in mp.CI_KINDS:
        raise StataError("invalid recast()", 198)
    hor = "horizontal" in own
    shift = _offset(own.get("offset"))
    out = []
    for g, (key, rows) in enumerate(groups.items()):
        rows = sorted(rows, key=lambda i: cells[i][xdim])
        x = np.array([cells[i][xdim] for i in rows], dtype=float)
        x = x + shift * (g - (len(groups) - 1) / 2.0)
        b, lo, hi = (values[k][rows] for k in range(3))
        f = int(cells[rows[0]].get("_filenr", 1))
        label = ", ".join(names[int(v) - 1] if k == "_filenr" else mp._level_text(labels, k, v)
                          for k, v in zip(others, key)) or names[0]
        line = " ".join([own.get("plotopts") or ""] + numbered.get(("file", f), [])
                        + numbered.get(("plot", g + 1), []))
        ci = " ".join([own.get("ciopts") or ""] + numbered.get(("fileci", f), [])
                      + numbered.get(("ci", g + 1), []))
        if "noci" not in own:
            style = option_style(ci, g)
            if hor:
                style["horizontal"] = True
            out.append(Series(ci_kind, x, lo, hi, label=f"{level:g}% CI", legend=False, style=style))
        out.append(Series(kind, *((b, x) if hor else (x, b)), label=label,
                          legend=len(groups) > 1, style=option_style(line, g)))
    return out


def _offset(text: str | None) -> float:
    """offset(#): line g of G moves along x by # * (g - (G-1)/2) (mplotoffset's spacing)."""
    if text is None:
        return 0.0
    try:
        return float(text)
    except ValueError:
        raise StataError("option offset() incorrectly specified", 198) from None


def _stacked(datasets, filevar: str, names: list[str]):
    """The files' margins one under another, with the file number (savefile())."""
    from hlmshell.data.dataset import Dataset, Variable
    out = Dataset()
    common = [n for n in datasets[0].names if all(n in d for d in datasets)]
    for n in common:
        v0 = datasets[0].var(n)
        vals = np.concatenate([np.asarray(d.var(n).values) for d in datasets])
        out.add(Variable(n, vals, vtype="double" if not v0.is_string else v0.vtype,
                         label=v0.label, vallab=v0.vallab, chars=dict(v0.chars or {})))
        if v0.vallab and v0.vallab in datasets[0].value_labels:
            out.value_labels[v0.vallab] = dict(datasets[0].value_labels[v0.vallab])
    nr = np.concatenate([np.full(d.n, k + 1.0) for k, d in enumerate(datasets)])
    out.add(Variable(filevar, nr, vtype="byte", label="File Number", vallab=filevar))
    out.value_labels[filevar] = {float(k + 1): n for k, n in enumerate(names)}
    out.dta_chars.update(datasets[0].dta_chars)
    return out


def _savefile(session, arg: str, datasets, filevar: str, names: list[str]) -> None:
    from hlmshell.commands.margins_saving import saving_target
    from hlmshell.data.dta import write_dta
    path, _ = saving_target(arg)
    session.out.line(f"Saving combined margins file {arg.split(',')[0].strip()}")
    write_dta(_stacked(datasets, filevar, names), path, shown=path)


def _common(datasets, key: str, other: str) -> str:
    """A characteristic the files agree on, else the generic text."""
    vals = {d.dta_chars.get(key, "") for d in datasets}
    return vals.pop() if len(vals) == 1 else other


def _file_names(own: dict, n: int) -> tuple[list[str], str]:
    """The files' labels (labels(), else `File #`) and the file variable's name."""
    given = _labels_list(own.get("labels"))
    names = [given[k] if k < len(given) else f"File {k + 1}" for k in range(n)]
    filevar = (own.get("filevarname") or "_filenumber").strip()
    if not re.fullmatch(r"[A-Za-z_]\w{0,31}", filevar):
        raise StataError(f"{filevar} invalid name", 198)
    return names, filevar


def _gathered(datasets):
    """The stacked margins: cells with their file number, value labels, [b, lower, upper]."""
    cells, labels, vals = [], {}, [[], [], []]
    for k, ds in enumerate(datasets):
        c, lab = _cells(ds)
        for row in c:
            row["_filenr"] = float(k + 1)
        cells += c
        labels = {**lab, **labels}
        for j, s in enumerate(_STATS):
            vals[j].append(np.asarray(ds.var(s).values, dtype=float))
    return cells, labels, [np.concatenate(v) for v in vals]


@command("combomarginsplot", family="Graphics", raw=True, byable=False, changes_data=False,
         desc="graph the margins of several margins, saving() files together (SSC)",
         example='combomarginsplot m1 m2, labels("Model 1" "Model 2")')
def combomarginsplot(session, cmd) -> None:
    text = (cmd.body or "").strip()
    comma = find_top(text, ",")
    files_text, opt_text = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    files = re.findall(r'"[^"]*"|\S+', files_text)
    if not files:
        raise StataError("filename required", 100)
    rest, numbered = _numbered(parse_options(opt_text))
    own, gopts = gc.split_options(rest, OWN)
    if "level" in own:
        raise StataError("Must specify level() option when creating margins files", 198)
    datasets = [_load(f) for f in files]
    names, filevar = _file_names(own, len(files))
    cells, labels, values = _gathered(datasets)
    view = _margins_view(datasets[0], _level(datasets[0]))
    view.title = _common(datasets, "title", "Combined margins results")
    view.predict_label = _common(datasets, "predict_label", "Predictions")
    plain = [{k: v for k, v in c.items() if k != "_filenr"} for c in cells]
    xdim = mp._x_dimension(view, plain, (own.get("x") or own.get("xdimension") or "").strip() or None)
    gc.check_finish(session, gopts)
    if own.get("savefile"):
        _savefile(session, own["savefile"], datasets, filevar, names)
    series = _series(cells, values, xdim, own, numbered, names, view.level, labels)
    title, ytitle = mp._titles(view, xdim)
    graph = Graph(kind="marginsplot", panels=[Panel(series=series)], title=title)
    graph.legend.show = None
    gc.apply_text(graph, gopts)
    var = session.data.var(xdim) if session.data is not None and xdim in session.data else None
    xaxis = ((var.label or xdim) if var is not None else xdim, var)
    axes = ((ytitle, None), xaxis) if "horizontal" in own else (xaxis, (ytitle, None))
    gc.apply_axes(graph, gopts, *axes)
    gc.finish(session, graph, gopts, cmd.text)
