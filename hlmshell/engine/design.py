"""Design matrices with Stata's factor-variable rules (pure: arrays in, arrays out).

Fixed part: `build_fixed(terms, column)` turns engine Terms (hlmshell.engine.terms) into X with
one column per Stata coefficient (base levels and collinear columns included, flagged), the
names Stata gives those columns in e(b) (`2.sized#c.ses`, with markers `1b.sized`, `o.ses`)
and the `note: ... omitted because of collinearity.` diagnostics Stata's _rmcoll emits.
Random part: `build_random(...)` gives the RandomBlocks (Z, group codes; inner levels nested
within outer ones). How the coefficient table groups and labels these columns is the output
layer's business (hlmshell.output.labels).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from hlmshell.engine.standardize import centre_value
from hlmshell.engine.types import RandomBlock
from hlmshell.engine.terms import FactorPart, Term
from hlmshell.errors import StataError

# a column is collinear with earlier ones when what is left after projecting it on them
# has less than this share of its (centred) sum of squares: a ratio, so the test does not
# depend on the column's units or (after exact centring) its location
COLLINEAR_TOL = 1e-13


@dataclass
class FixedColumn:
    name: str                          # e(b) name: 'ses', '2.sized#c.ses', '1.female#2.sized', '_cons'
    term: int                          # index into Design.terms (-1 for _cons)
    levels: tuple[int, ...] = ()       # level of each factor part, in display (factor-first) order
    base: bool = False                 # a base level / base cell: b = 0, shown only with baselevels
    omitted: bool = False              # collinear with earlier columns: `0  (omitted)` and a note
    empty: bool = False                # an interaction cell with no observations: `0  (empty)`


@dataclass
class FixedTerm:
    """One term of the fixed part and the columns it produced."""

    factors: list[FactorPart]          # factor parts (Stata's order: as typed)
    continuous: list[str]              # continuous variables (as typed)
    columns: list[int] = field(default_factory=list)
    bases: list[int | None] = field(default_factory=list)   # base level of each factor part

    @property
    def is_factor(self) -> bool:
        return bool(self.factors)

    @property
    def is_interaction(self) -> bool:
        return len(self.factors) + len(self.continuous) > 1


@dataclass
class Design:
    X: np.ndarray                      # n x k, every column (base/omitted/empty ones too)
    columns: list[FixedColumn]
    terms: list[FixedTerm]
    constant: bool
    notes: list[str]                   # _rmcoll's diagnostics, in column order

    @property
    def names(self) -> list[str]:
        """Plain names (`1.sector`, `ses`), without Stata's base/omitted markers."""
        return [c.name for c in self.columns]

    @property
    def stata_names(self) -> list[str]:
        """e(b) names with Stata's markers: `1b.sized`, `o.ses`, `1o.sector`,
        `0b.female#1o.sector`, `1b.sized#co.ses`."""
        return [self.stata_name(j) for j in range(len(self.columns))]

    def stata_name(self, j: int) -> str:
        c = self.columns[j]
        if not (c.base or c.omitted or c.empty):
            return c.name
        if c.term < 0:
            return "o." + c.name
        term = self.terms[c.term]
        parts = []
        for p, base, lv in zip(term.factors, term.bases, c.levels):
            mark = "b" if c.base and base is not None and lv == base else "o"
            parts.append(f"{lv}{mark}.{p.name}")
        single = not term.factors and len(term.continuous) == 1
        parts += [f"o.{v}" if single else f"co.{v}" for v in term.continuous]
        return "#".join(parts)

    @property
    def base(self) -> np.ndarray:
        return np.array([c.base for c in self.columns], dtype=bool)

    @property
    def omitted(self) -> np.ndarray:
        """Columns that are not estimated (base, collinear or empty): b = 0."""
        return np.array([c.base or c.omitted or c.empty for c in self.columns], dtype=bool)

    @property
    def keep(self) -> np.ndarray:
        return ~self.omitted

    @property
    def X_keep(self) -> np.ndarray:
        return self.X[:, self.keep]

    def status(self, j: int) -> str | None:
        c = self.columns[j]
        if c.base:
            return "base"
        if c.empty:
            return "empty"
        if c.omitted:
            return "omitted"
        return None


# --- helpers ------------------------------------------------------------------------------------
def factor_levels(name: str, values: np.ndarray) -> np.ndarray:
    """Sorted distinct levels of a factor variable, with Stata's r(452) checks."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size and np.any(v < 0):
        raise StataError(f"{name}:  factor variables may not contain negative values", 452)
    if v.size and np.any(v != np.floor(v)):
        raise StataError(f"{name}:  factor variables may not contain noninteger values", 452)
    return np.unique(v).astype(np.int64)


def _base_level(part: FactorPart, values: np.ndarray, levels: np.ndarray) -> int | None:
    if part.levels is not None or part.bn:
        return None
    if levels.size == 0:
        return None
    b = part.base
    if b is None or b == "first":
        return int(levels[0])
    if b == "last":
        return int(levels[-1])
    if b == "freq":
        counts = [(int(np.sum(values == lv)), -int(lv)) for lv in levels]
        return -max(counts)[1]
    return int(b)


def _vars_key(factors, continuous) -> frozenset:
    """Which variables a term has, and in which role: decides whether a term's marginal (the
    term without one of its factors) is in the model."""
    return frozenset([(p.name, True) for p in factors] + [(c, False) for c in continuous])


def _term_key(term: Term):
    """A factor term typed twice is one term (Stata drops the repeat silently)."""
    return tuple(sorted([(p.name, True, p.levels, "none" if p.bn else p.base) for p in term.factors]
                        + [(c, False, None, None) for c in term.continuous]))


def column_name(factors, levels: tuple[int, ...], continuous) -> str:
    """The e(b) name of one cell of a term: `2.sized#c.ses`, `1.female#2.sized`, `ses`.

    These names identify coefficients for everything after the fit (test, lincom, predict,
    e(b) column stripes), so they belong with the design, not with its display."""
    parts = [f"{lv}.{p.name}" for p, lv in zip(factors, levels)]
    if len(factors) + len(continuous) == 1 and continuous:
        return continuous[0]
    parts += [f"c.{c}" for c in continuous]
    return "#".join(parts)


# --- fixed part ---------------------------------------------------------------------------------
def build_fixed(terms: list[Term], column: Callable[[str], np.ndarray], n: int, *,
                constant: bool = True) -> Design:
    """X and Stata's coefficient list for `terms` on the estimation sample.

    `column(name)` returns that variable's values on the estimation sample (float64, no missing);
    n is the sample size.
    A repeated factor term is dropped silently; a repeated continuous term stays and is
    omitted as collinear, as Stata does.
    """
    cols: list[FixedColumn] = []
    xs: list[np.ndarray] = []
    fterms: list[FixedTerm] = []
    seen: set = set()
    # Stata treats a factor's level as base inside a term only when the term without that
    # factor is in the model too (the constant standing for the empty term): `i.g#c.x`
    # alone gives a slope for every group, `c.x i.g#c.x` drops the base group's
    present = {_vars_key(t.factors, t.continuous) for t in terms}
    if constant:
        present.add(frozenset())
    for term in terms:
        factors = list(term.factors)
        continuous = list(term.continuous)
        if factors:
            key = _term_key(term)
            if key in seen:
                continue
            seen.add(key)
        ft = FixedTerm(factors, continuous)
        ti = len(fterms)
        fterms.append(ft)
        level_sets, bases, fvals = _factor_parts(term, column, present)
        ft.bases = list(bases)
        _add_cells(ft, ti, n, _continuous_product(continuous, column), fvals, bases,
                   _cells(level_sets), cols, xs)
    if constant:
        cols.append(FixedColumn("_cons", -1))
        xs.append(np.ones(n))
    X = np.column_stack(xs) if xs else np.zeros((n, 0))
    notes = _mark_collinear(X, cols, constant)
    return Design(X, cols, fterms, constant, notes)


def _continuous_product(continuous: list[str], column) -> np.ndarray | None:
    """The product of a term's continuous variables (None when it has none)."""
    cont = None
    for c in continuous:
        v = np.asarray(column(c), dtype=np.float64)
        cont = v.copy() if cont is None else cont * v
    return cont


def _factor_parts(term: Term, column, present: set):
    """Per factor part of `term`: its levels, its base level (None when Stata keeps every level
    because the term without this factor is not in the model) and its values."""
    level_sets, bases, fvals = [], [], []
    for k, p in enumerate(term.factors):
        v = np.asarray(column(p.name), dtype=np.float64)
        present_levels = factor_levels(p.name, v)
        levels = (np.array(sorted(set(p.levels)), dtype=np.int64) if p.levels is not None
                  else present_levels)
        level_sets.append(levels)
        marginal = _vars_key(term.factors[:k] + term.factors[k + 1:], term.continuous)
        bases.append(_base_level(p, v, present_levels) if marginal in present else None)
        fvals.append(v)
    return level_sets, bases, fvals


def _cells(level_sets: list[np.ndarray]) -> list[tuple]:
    """Every combination of levels, first factor slowest (Stata's column order); [()] for a
    term without factors, [] when a factor has no levels."""
    if not level_sets:
        return [()]
    if not all(len(s) for s in level_sets):
        return []
    grids = np.meshgrid(*level_sets, indexing="ij")
    return list(zip(*[g.ravel().tolist() for g in grids]))


def _add_cells(ft: FixedTerm, ti: int, n: int, cont, fvals, bases, cells, cols, xs) -> None:
    """One column per cell of a term: the continuous product times the cell's indicator,
    flagged base (a base level in it) or empty (no observations)."""
    for cell in cells:
        x = np.ones(n) if cont is None else cont.copy()
        for v, lv in zip(fvals, cell):
            x = x * (v == lv)
        is_base = any(b is not None and lv == b for b, lv in zip(bases, cell))
        empty = bool(ft.factors) and not is_base and not np.any(
            np.logical_and.reduce([v == lv for v, lv in zip(fvals, cell)]))
        levels = tuple(int(c) for c in cell)
        ft.columns.append(len(cols))
        cols.append(FixedColumn(column_name(ft.factors, levels, ft.continuous), ti, levels,
                                base=is_base, empty=empty))
        xs.append(x)


def _mark_collinear(X: np.ndarray, cols: list[FixedColumn], constant: bool) -> list[str]:
    """Stata's _rmcoll: in order (constant first), drop a column lying in the span of the
    columns kept before it; returns the note lines."""
    n = X.shape[0]
    basis: list[np.ndarray] = []
    if constant and n:
        basis.append(np.ones(n) / np.sqrt(n))
    notes = []
    for j, c in enumerate(cols):
        if c.empty:
            notes.append(f"note: {c.name} identifies no observations in the sample.")
            continue
        if c.name == "_cons" or c.base:
            continue
        x = X[:, j].astype(np.float64)
        # centred first (exactly, see standardize.centre_value): a covariate with mean 1e9
        # would otherwise carry the rounding error of projecting out its mean into r
        ref = x - centre_value(x) if constant else x
        r = ref.copy()
        for _ in range(2):
            for q in basis:
                r -= (q @ r) * q
        ss_ref = float(ref @ ref)
        ss = float(r @ r)
        if ss_ref <= 0 or ss <= COLLINEAR_TOL * max(ss_ref, 1e-300) or ss <= 1e-300:
            c.omitted = True
            notes.append(f"note: {c.name} omitted because of collinearity.")
            continue
        basis.append(r / np.sqrt(ss))
    return notes


# --- random part ----------------------------------------------------------------------------------
@dataclass
class RandomSpec:
    """One `|| level:` after the handler has resolved names and options."""

    group: str                      # variable name or '_all'
    terms: list[Term]               # slope terms (continuous or factor)
    rterms: list[str] = field(default_factory=list)   # R.var names (crossed effects)
    constant: bool = True
    covariance: str | None = None   # None -> Stata's default


def group_codes(keys: list[np.ndarray], n: int) -> np.ndarray:
    """Codes 0..G-1 for the distinct combinations of `keys` (sorted, as Stata's egen group())."""
    if not keys:
        return np.zeros(n, dtype=np.int64)
    arr = np.column_stack([np.asarray(k, dtype=np.float64) for k in keys])
    _, inv = np.unique(arr, axis=0, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def build_random(specs: list[RandomSpec], column: Callable[[str], np.ndarray], n: int) -> list[RandomBlock]:
    blocks = []
    keys: list[np.ndarray] = []
    for depth, sp in enumerate(specs, start=1):
        if sp.group != "_all":
            keys = keys + [np.asarray(column(sp.group), dtype=np.float64)]
        codes = group_codes(keys, n)
        zs, names = [], []
        for rv in sp.rterms:
            v = np.asarray(column(rv), dtype=np.float64)
            for lv in factor_levels(rv, v):
                zs.append((v == lv).astype(np.float64))
                names.append(f"R.{rv}")
        for term in sp.terms:
            if not term.factors:
                zs.append(_continuous_product(list(term.continuous), column))
                names.append("#".join(("c." + c) if term.is_interaction else c for c in term.continuous))
                continue
            # the level's own constant decides whether a base level drops out, as in the fixed part
            sub = build_fixed([term], column, n, constant=sp.constant)
            for j, c in enumerate(sub.columns):
                if not c.base and not c.empty and c.name != "_cons":
                    zs.append(sub.X[:, j])
                    names.append(c.name)
        if sp.constant and not sp.rterms:
            zs.append(np.ones(n))
            names.append("_cons")
        if not zs:
            raise StataError("invalid syntax", 198)
        cov = sp.covariance
        if sp.rterms:
            cov = "identity"
        elif cov is None:
            cov = "identity" if names == ["_cons"] else "independent"
        blocks.append(RandomBlock(codes, np.column_stack(zs), names, cov, sp.group, depth))
    return blocks
