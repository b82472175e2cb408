"""From the parser's factor-variable terms to the engine's model terms.

The parser's FVTerm keeps the notation typed (`ibn.`, `ib(freq).`, `i(1 2).`, parts in the
order typed); the engine's Term (hlmshell.engine.terms) says only what decides X. This is
the one place that knows both, so neither the parser nor the engine depends on the other.
"""
from __future__ import annotations

from dataclasses import replace

from hlmshell.engine.terms import FactorPart, Term
from hlmshell.errors import syntax_error
from hlmshell.syntax.ast import FVPart, FVTerm
from hlmshell.syntax.varlist import expand_varlist


def factor_part(part: FVPart) -> FactorPart:
    """`ibn.x` has base 'none' in the parser and bn=True in the engine."""
    if part.base == "none":
        return FactorPart(part.name, None, True, part.levels)
    return FactorPart(part.name, part.base, False, part.levels)


def engine_term(term: FVTerm) -> Term:
    """`o.x` / `2o.g` (a part marked omitted) makes the whole term's columns omitted."""
    return Term(tuple(factor_part(p) for p in term.parts if p.factor),
                tuple(p.name for p in term.parts if not p.factor),
                omit=any(p.omit for p in term.parts))


def engine_terms(terms) -> list[Term]:
    return [engine_term(t) for t in terms]


def resolve_var(ds, name: str) -> list[str]:
    """A varlist word unabbreviated (time-series operators allowed: `L.x`)."""
    return expand_varlist(ds, name, ts=True)


def resolve_terms(ds, terms: list[FVTerm]) -> list[FVTerm]:
    """Unabbreviate the variable names of each term (keeping repeats: Stata keeps a repeated
    continuous variable and notes it as omitted); an interaction part that names several
    variables (`d*#c.educ`) interacts each of them, as the group `(d1 d2)#c.educ` does.
    A factor typed without a base takes the one `fvset base` stored with the variable."""
    import itertools
    out = []
    for t in terms:
        if t.is_interaction:
            choices = [[fvset_base(ds, replace(p, name=v)) for v in resolve_var(ds, p.name)]
                       for p in t.parts]
            if any(not c for c in choices):
                raise syntax_error()
            out += [FVTerm(tuple(combo)) for combo in itertools.product(*choices)]
        else:
            p = t.parts[0]
            out += [FVTerm((fvset_base(ds, replace(p, name=v)),)) for v in resolve_var(ds, p.name)]
    return out


# `fvset base` values (the variable's _fv_base characteristic) as the parser's FVPart.base
_FVSET_BASES = {"first": "first", "last": "last", "frequent": "freq", "none": "none"}


def fvset_base(ds, part: FVPart) -> FVPart:
    """`i.x` with no base typed: the base `fvset base` declared for x, if any."""
    if not part.factor or part.base is not None or part.levels is not None or part.name not in ds:
        return part
    text = ds.char(part.name, "_fv_base")
    if not text:
        return part
    base = int(text) if text.isdigit() else _FVSET_BASES.get(text)
    return part if base is None else replace(part, base=base)


def factor_labels(ds, terms: list[FVTerm]) -> dict:
    """Value labels of the factor variables of `terms`: Stata shows them for the levels."""
    labels = {}
    for p in (p for t in terms for p in t.parts if p.factor):
        vl = ds.var(p.name).vallab
        if vl and vl in ds.value_labels:
            labels[p.name] = ds.value_labels[vl]
    return labels
