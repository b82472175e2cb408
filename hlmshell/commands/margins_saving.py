"""margins, saving(filename[, replace]): the margins as a dataset, one observation per margin,
with Stata's variable names -- _margin, _se, _statistic, _pvalue, _ci_lb, _ci_ub (the
estimate, its standard error, z or t, p-value and interval), _deriv (the variable of a
derivative, value-labelled), _term (the marginlist term), _predict, _at (the at()
scenario), _by1, _by2 ... (the over() variables' values), _m1, _m2 ... (the marginlist
factors' levels) and _at1, _at2 ... (the at() values of r(at)'s columns; as observed:
missing). Each _by#/_m#/_at# carries the source variable's name in its `varname`
characteristic (its value label and variable label too); the dataset's characteristics
hold by_vars, margin_vars, at_vars, k_at, title, predict_label and expression, which
marginsplot-style tools read. The file is written atomically (temporary file + rename), as
every save; the data in memory are not touched."""
from __future__ import annotations

import os

import numpy as np

from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.dta import write_dta
from hlmshell.data.locate import file_spec, target_path
from hlmshell.errors import StataError
from hlmshell.syntax.lexer import find_top
from hlmshell.syntax.parser import parse_options


def saving_target(arg: str | None) -> tuple[str, bool]:
    """saving(filename[, replace]) -> (path, replace); checked before margins computes."""
    text = arg or ""
    comma = find_top(text, ",")
    head, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    name = file_spec(head)
    if not name:
        raise StataError("invalid file specification", 198)
    replace = False
    for o in parse_options(opts):
        if o.name == "replace" and o.arg is None:
            replace = True
        else:
            raise StataError(f"option {o.name} not allowed", 198)
    path = str(target_path(name))
    if os.path.exists(path) and not replace:
        raise StataError(f"file {path} already exists", 602)
    return path, replace


def _coded(values: list, name: str, ds: Dataset, label: str) -> None:
    """A numeric variable coding `values` 1, 2, ... by first appearance, value-labelled."""
    codes: dict = {}
    col = np.array([codes.setdefault(v, len(codes) + 1) for v in values], dtype=float)
    ds.add(Variable(name, col, vtype="byte", label=label, vallab=name))
    ds.value_labels[name] = {float(c): str(v) for v, c in codes.items()}


def _source(session, name: str, target: Variable) -> None:
    """_by#/_m#/_at# take their source variable's label and value label."""
    target.chars = {"varname": name}
    src = session.data.var(name) if session.data is not None and name in session.data else None
    if src is None:
        return
    target.label = src.label
    if src.vallab and src.vallab in session.data.value_labels:
        target.vallab = src.vallab


def margins_dataset(session, table) -> Dataset:
    ds = Dataset()
    k = len(table.b)
    all_dims = table.all_dims or [table.dims] * k
    cells = [dict(zip(d, c)) for d, c in zip(all_dims, table.cells)]
    over = list(getattr(table, "over", None) or [])
    factors = [d for d in dict.fromkeys(x for dims in all_dims for x in dims)
               if d not in ("_at", "_predict") and d not in over]
    at_no = _id_columns(ds, table, all_dims, cells, factors)
    for kind, names in (("_by", over), ("_m", factors)):
        _source_columns(session, ds, kind, names, cells)
    at = np.atleast_2d(np.asarray(table.at, dtype=float))
    _at_columns(ds, table, at, at_no)
    _stat_columns(ds, table)
    ds.dta_chars.update({
        "cmd": "margins", "title": table.title, "predict_label": table.predict_label,
        "expression": table.expr, "k_at": str(max(1, at.shape[0] if at.size else 1)),
        "by_vars": " ".join(over), "margin_vars": " ".join(factors),
        "at_vars": " ".join(table.at_names)})
    return ds


def _id_columns(ds, table, all_dims, cells, factors) -> np.ndarray:
    """_deriv, _term, _predict, _at; returns the at() scenario of every margin."""
    if any(table.deriv):
        _coded([d or "" for d in table.deriv], "_deriv", ds, "Derivatives")
    terms = ["#".join(x for x in dims if x in factors) or "_cons" for dims in all_dims]
    _coded(terms, "_term", ds, "Margin term")
    ds.add(Variable("_predict", np.ones(len(cells)), vtype="byte", label="Prediction"))
    at_no = np.array([float(c.get("_at", 1)) for c in cells])
    ds.add(Variable("_at", at_no, vtype="byte", label="_at"))
    return at_no


def _source_columns(session, ds, kind: str, names: list[str], cells) -> None:
    """_by# (over()) or _m# (marginlist factors): each margin's level of the variable."""
    for i, name in enumerate(names, 1):
        var = Variable(f"{kind}{i}", np.array([float(c.get(name, np.nan)) for c in cells]),
                       vtype="double")
        _source(session, name, var)
        ds.add(var)
        if var.vallab:
            ds.value_labels[var.vallab] = dict(session.data.value_labels[var.vallab])


def _at_columns(ds, table, at: np.ndarray, at_no: np.ndarray) -> None:
    """_at#: r(at)'s columns at each margin's scenario (as observed: missing)."""
    rows = (at_no.astype(int) - 1).clip(0, max(at.shape[0] - 1, 0))
    for i, name in enumerate(table.at_names, 1):
        vals = at[rows, i - 1] if at.size else np.full(len(at_no), np.nan)
        ds.add(Variable(f"_at{i}", vals, vtype="double", label=name, chars={"varname": name}))


def _stat_columns(ds, table) -> None:
    tab = np.asarray(table.table, dtype=float)
    stat = "z" if table.stat == "z" else "t"
    for name, row, label in (("_margin", 0, table.predict_label or "Margin"),
                             ("_se", 1, "Delta-method std. err."),
                             ("_statistic", 2, stat), ("_pvalue", 3, f"P>|{stat}|"),
                             ("_ci_lb", 4, f"[{table.level:g}% conf. interval]"),
                             ("_ci_ub", 5, "")):
        ds.add(Variable(name, tab[row], vtype="double", label=label))


def save_margins(session, table, target: tuple[str, bool]) -> None:
    path, _replace = target
    write_dta(margins_dataset(session, table), path, shown=path)
