"""From the parser's factor-variable terms to the engine's model terms.

The parser's FVTerm keeps the notation typed (`ibn.`, `ib(freq).`, `i(1 2).`, parts in the
order typed); the engine's Term (hlmshell.engine.terms) says only what decides X. This is
the one place that knows both, so neither the parser nor the engine depends on the other.
"""
from __future__ import annotations

from hlmshell.engine.terms import FactorPart, Term
from hlmshell.syntax.ast import FVPart, FVTerm


def factor_part(part: FVPart) -> FactorPart:
    """`ibn.x` has base 'none' in the parser and bn=True in the engine."""
    if part.base == "none":
        return FactorPart(part.name, None, True, part.levels)
    return FactorPart(part.name, part.base, False, part.levels)


def engine_term(term: FVTerm) -> Term:
    return Term(tuple(factor_part(p) for p in term.parts if p.factor),
                tuple(p.name for p in term.parts if not p.factor))


def engine_terms(terms) -> list[Term]:
    return [engine_term(t) for t in terms]
