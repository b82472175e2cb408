"""The engine's own description of a model term, independent of how it was typed.

The parser has its factor-variable notation (`ib3.sized#c.ses`, `i(1 2).x`, `ibn.g`); the
engine needs only what decides the columns of X: which variables are factors, which levels
they take, which level is the base, and which variables multiply in continuously. Keeping this
description here, as plain frozen values, lets the engine be used (and tested) without the
parser, and lets the parser change its notation without touching the numerics. The commands
layer translates parsed terms into these (hlmshell.commands.model_terms).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FactorPart:
    """A factor variable in a term: one indicator column per level.

    name   : the variable.
    base   : which level is the base (its column is kept at zero): None (Stata's default, the
             first level), 'first', 'last', 'freq' (the most frequent level) or a level number.
    bn     : no base level at all (`ibn.`): every level gets an estimated column.
    levels : an explicit selection (`2.x`, `i(1 2).x`): exactly these levels, and no base.
    """

    name: str
    base: int | str | None = None
    bn: bool = False
    levels: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Term:
    """One model term: the indicator of a cell of its factor parts times the product of its
    continuous variables. `ses` is Term((), ('ses',)); `i.sized#c.ses` is
    Term((FactorPart('sized'),), ('ses',)). Factor parts and continuous variables each keep
    the order typed; Stata's names list the factor parts first."""

    factors: tuple[FactorPart, ...] = ()
    continuous: tuple[str, ...] = ()
    omit: bool = False        # typed with Stata's o. operator: every column kept, omitted (b = 0)

    @property
    def is_interaction(self) -> bool:
        return len(self.factors) + len(self.continuous) > 1

    @property
    def variables(self) -> tuple[str, ...]:
        """Every variable the term reads (factors first), a repeat kept once."""
        return tuple(dict.fromkeys([p.name for p in self.factors] + list(self.continuous)))
