"""Display labels: how the coefficient table and the random-effects table name what the
engine computed.

The engine describes a design by structure (terms, their factor parts and levels, flags per
column) and the variance part by numbers (hlmshell.engine.types.VarComponent); the words a
reader sees -- a factor group's header (`female#sized`), a level row (`2`, `1 3`, a value
label), `var(ses)`, `cov(ses,_cons)`, `R.id`, `id: Unstructured` -- are chosen here, so that
layout rules stay beside the layout and the engine stays free of them. Objects are read by
attribute (design, terms, components), so this module imports nothing from the engine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hlmshell.data.timeseries import ts_label
from hlmshell.output.coeftable import Group, Row
from hlmshell.output.mixed_output import RERow, level_title


# --- the fixed part ----------------------------------------------------------------------------
def term_label(term) -> str:
    """A term's name in the table: the group header of a factor term (`sized`, `female#sized`,
    `sized#c.ses`), the row label of a continuous one (`ses`, `c.ses#c.sector`)."""
    factors, continuous = list(term.factors), list(term.continuous)
    if not factors and len(continuous) == 1:
        return continuous[0]
    return ts_spelling("#".join([p.name for p in factors] + [f"c.{c}" for c in continuous]))


# --- time-series operators ---------------------------------------------------------------------
_TS_IN_NAME = re.compile(r"(^|#)(\d*[bon]*|c|co)\.((?:[LFDS]\d*)+)\.")


def ts_spelling(name: str) -> str:
    """Stata's spelling of operated parts of an interaction: `c.L.x` -> `cL.x`, `1.L.f` ->
    `1L.f` (the design names a lagged variable `L.x` and prefixes it like any other)."""
    return _TS_IN_NAME.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}.", name)


@dataclass
class TsGroup(Group):
    """A variable's operated terms, as Stata shows them: the variable as header, a row per
    operator (`--.`, `L1.`, `LD.`) aligned as a name (coeftable.body_lines)."""

    plain_rows: bool = True


def _ts_key(g) -> tuple[str, str] | None:
    """(variable, row label) of a one-row continuous item that is a variable, operated or
    not; None for anything else."""
    if g.header is not None or len(g.rows) != 1:
        return None
    name = g.rows[0].label
    if "#" in name or name == "_cons":
        return None
    return ts_label(name) or (name, "--.")


def ts_groups(groups: list[Group]) -> list[Group]:
    """Consecutive items of one variable with at least one operator become one TsGroup
    (`L(0/2).x` -> `x |` over `--. |`, `L1. |`, `L2. |`); the rest stays as it is."""
    out: list[Group] = []
    i = 0
    while i < len(groups):
        key = _ts_key(groups[i])
        j = i + 1
        while key is not None and j < len(groups) and (_ts_key(groups[j]) or ("",))[0] == key[0]:
            j += 1
        keys = [_ts_key(g) for g in groups[i:j]]
        if key is None or all(k[1] == "--." for k in keys):
            out += groups[i:j]
        else:
            rows = [Row(k[1], g.rows[0].index, g.rows[0].status) for k, g in zip(keys, groups[i:j])]
            out.append(TsGroup(key[0], rows))
        i = j
    return out


def _level_text(term, levels: tuple[int, ...], value_labels: dict) -> str:
    """A level row under a factor header: the value label of a lone labelled factor's level,
    else the levels joined by blanks (`2`, `1 3`)."""
    single = len(term.factors) == 1 and not term.continuous
    if single and term.factors[0].name in value_labels:
        return value_labels[term.factors[0].name].get(float(levels[0]), str(levels[0]))
    return " ".join(str(v) for v in levels)


def _term_groups(design, term, rows, value_labels: dict) -> list[Group]:
    """The group(s) one term shows: a row per column for a continuous term, a one-row item for a
    lone unlabelled factor level (`2.sized`), else a header over level rows."""
    if not term.is_factor:
        return [Group(None, [Row(ts_spelling(design.columns[j].name), j, st)]) for j, st in rows]
    single = len(term.factors) == 1 and not term.continuous
    if single and len(rows) == 1 and term.factors[0].name not in value_labels:
        j, st = rows[0]
        return [Group(None, [Row(ts_spelling(design.columns[j].name), j, st)])]
    return [Group(term_label(term), [Row(_level_text(term, design.columns[j].levels, value_labels), j, st)
                                     for j, st in rows])]


def display_groups(design, *, baselevels: bool = False,
                   value_labels: dict[str, dict[float, str]] | None = None) -> list[Group]:
    """How the coefficient table shows a design (hlmshell.engine.design.Design): term order,
    base levels hidden unless `baselevels`, `_cons` last. `value_labels` (variable -> value ->
    label) name the levels of a single labelled factor, as Stata does."""
    value_labels = value_labels or {}
    out: list[Group] = []
    for term in design.terms:
        rows = [(j, design.status(j)) for j in term.columns]
        rows = [(j, st) for j, st in rows if baselevels or st != "base"]
        if rows:
            out += _term_groups(design, term, rows, value_labels)
    for j, c in enumerate(design.columns):
        if c.name == "_cons":
            out.append(Group(None, [Row("_cons", j, design.status(j))]))
    return ts_groups(out)


# --- the random part ---------------------------------------------------------------------------
def _identity_label(names) -> str:
    """One variance shared by several columns: `R.id` when they are the levels of one
    variable (`_all: R.id`), else the names joined by blanks."""
    if len(names) > 1:
        bases = {nm.split(".", 1)[1] for nm in names if "." in nm}
        if len(bases) == 1 and all("." in nm for nm in names):
            return "R." + bases.pop()
    return " ".join(names)


def component_label(component, structure: str | None = None) -> str:
    """`var(ses)`, `sd(_cons)`, `cov(ses,_cons)`, `corr(ses _cons)` (exchangeable),
    `var(R.id)`, `var(Residual)` (a component with no names)."""
    names = tuple(component.names)
    if not names:
        inner = "Residual"
    elif structure == "identity":
        inner = _identity_label(names)
    elif structure == "exchangeable":
        inner = " ".join(names)
    else:
        inner = ",".join(names)
    return f"{component.kind}({inner})"


def _row(component, structure: str | None = None) -> RERow:
    c = component
    return RERow(component_label(c, structure), c.est, c.se, c.lo, c.hi)


def re_rows(blocks, residual) -> tuple[list[tuple[str, list[RERow]]], RERow]:
    """The random-effects table's rows from the engine's components
    (hlmshell.engine.lmm.variance_components): [(title like 'id: Unstructured', rows)], and
    the residual's row."""
    tables = [(level_title(b.level, b.structure), [_row(c, b.structure) for c in b.rows])
              for b in blocks]
    return tables, _row(residual)
