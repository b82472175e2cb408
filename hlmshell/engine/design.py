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

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from hlmshell.engine import factorize
from hlmshell.engine.standardize import centre_value
from hlmshell.engine.types import IndicatorMatrix, RandomBlock
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
    """The fixed part. X stores (Fortran order: each column contiguous, as the column-wise
    statistics and BLAS want them) only the columns that can be estimated: base and empty
    columns are all-zero in b and need no storage. slots[j] is column j's index in X, -1 when
    it has none; X_keep is X itself (no copy) when no stored column is omitted."""

    X: np.ndarray                      # n x (stored columns), Fortran order
    columns: list[FixedColumn]
    terms: list[FixedTerm]
    constant: bool
    notes: list[str]                   # _rmcoll's diagnostics, in column order
    slots: list[int] = field(default_factory=list)

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
        """The estimated columns, in column order: X itself when none is omitted."""
        idx = [self.slots[j] for j in np.flatnonzero(self.keep)]
        if idx == list(range(self.X.shape[1])):
            return self.X
        return self.X[:, idx]

    def column(self, j: int) -> np.ndarray:
        """Column j's values (zeros for a base or empty column, which are not stored)."""
        k = self.slots[j]
        return self.X[:, k] if k >= 0 else np.zeros(self.X.shape[0])

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
    return factorize.factorize(v)[0].astype(np.int64)


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
    if isinstance(b, str) and b.startswith("#"):        # ib(#2).x: the second level
        k = int(b[1:])
        if not 1 <= k <= levels.size:
            raise StataError(f"{part.name}: level #{k} not found", 111)
        return int(levels[k - 1])
    return int(b)


def _vars_key(factors, continuous) -> frozenset:
    """Which variables a term has, and in which role: decides whether a term's marginal (the
    term without one of its factors) is in the model."""
    return frozenset([(p.name, True) for p in factors] + [(c, False) for c in continuous])


def _term_key(term: Term):
    """A factor term typed twice is one term (Stata drops the repeat silently)."""
    return tuple(sorted([(p.name, True, p.levels, "none" if p.bn else p.base) for p in term.factors]
                        + [(c, False, None, None) for c in term.continuous])) + (term.omit,)


def column_name(factors, levels: tuple[int, ...], continuous) -> str:
    """The e(b) name of one cell of a term: `2.sized#c.ses`, `1.female#2.sized`, `ses`.

    These names identify coefficients for everything after the fit (test, lincom, predict,
    e(b) column stripes), so they belong with the design, not with its display."""
    parts = [f"{lv}.{p.name}" for p, lv in zip(factors, levels)]
    if len(factors) + len(continuous) == 1 and continuous:
        return continuous[0]
    parts += [f"c.{c}" for c in continuous]
    return "#".join(parts)


def drop_constant(design: "Design") -> "Design":
    """A design built with a constant, with the _cons column taken out: for models whose
    groups' own intercepts absorb the constant (conditional logit and Poisson). Building it
    with the constant gives factor variables their base levels and judges collinearity as
    Stata's _rmcoll does beside those intercepts."""
    from dataclasses import replace
    drop = [j for j, c in enumerate(design.columns) if c.term < 0 and c.name == "_cons"]
    if not drop:
        return design
    j = drop[0]
    slot = design.slots[j]
    keep_cols = [i for i in range(design.X.shape[1]) if i != slot]
    slots = [(-1 if s < 0 else s - (s > slot)) for i, s in enumerate(design.slots) if i != j]
    terms = [replace(t, columns=[c - (c > j) for c in t.columns if c != j]) for t in design.terms]
    return replace(design, X=np.asfortranarray(design.X[:, keep_cols]),
                   columns=[c for i, c in enumerate(design.columns) if i != j],
                   terms=terms, constant=False, slots=slots)


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
    fills: list[tuple] = []            # per term: how to write its stored columns into X
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
        fills.append(_add_cells(ft, ti, fvals, level_sets, bases, cols) + (continuous,))
        if term.omit:                  # `o.x`, `2o.g`: in e(b) as omitted, no note
            for j in ft.columns:
                cols[j].omitted = not (cols[j].base or cols[j].empty)
    if constant:
        cols.append(FixedColumn("_cons", -1))
    slots, nstored = [], 0
    for c in cols:
        stored = not (c.base or c.empty)
        slots.append(nstored if stored else -1)
        nstored += stored
    X = np.zeros((n, nstored), order="F")
    for ft, cell_of_row, continuous in fills:
        _fill_term(X, ft, cell_of_row, continuous, column, slots)
    if constant:
        X[:, slots[-1]] = 1.0
    notes = _mark_collinear(X, cols, slots, constant)
    return Design(X, cols, fterms, constant, notes, slots)


def _fill_term(X: np.ndarray, ft: FixedTerm, cell_of_row, continuous, column, slots) -> None:
    """Write a term's stored columns into X in one pass: the continuous product (or 1) at each
    row's own cell, zero elsewhere (X starts as zeros)."""
    cont = _continuous_product(continuous, column)
    targets = np.array([slots[j] for j in ft.columns], dtype=np.int64)
    if cell_of_row is None:                      # no factor: one column
        if len(targets) and targets[0] >= 0:
            X[:, targets[0]] = cont
        return
    n = X.shape[0]
    dest = np.full(len(targets) + 1, -1, dtype=np.int64)
    dest[:-1] = targets                          # cell -1 (a level outside the term) -> -1
    slot = dest[cell_of_row]
    rows = np.flatnonzero(slot >= 0)
    flat = X.reshape(-1, order="F")              # a view: X is Fortran-contiguous
    flat[slot[rows] * n + rows] = 1.0 if cont is None else cont[rows]


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


def _add_cells(ft: FixedTerm, ti: int, fvals, level_sets, bases, cols) -> tuple:
    """One column per cell of a term (the continuous product times the cell's indicator),
    flagged base (a base level in it) or empty (no observations). Returns (ft, the cell of
    every row, -1 when a row's level is not in the term's level sets; None without factors)."""
    cells = _cells(level_sets)
    cell_of_row, counts = _cell_index(fvals, level_sets)
    for ci, cell in enumerate(cells):
        is_base = any(b is not None and lv == b for b, lv in zip(bases, cell))
        empty = bool(ft.factors) and not is_base and counts[ci] == 0
        levels = tuple(int(c) for c in cell)
        ft.columns.append(len(cols))
        cols.append(FixedColumn(column_name(ft.factors, levels, ft.continuous), ti, levels,
                                base=is_base, empty=empty))
    return ft, cell_of_row


def _cell_index(fvals, level_sets):
    """Per row, the index of its cell in _cells' order (first factor slowest), -1 when one of
    its levels is not in the term's set; and the number of rows in each cell. O(n) per factor
    (engine.factorize), not a pass per cell."""
    if not fvals:
        return None, np.zeros(1, dtype=np.int64)
    n = len(fvals[0])
    idx = np.zeros(n, dtype=np.int64)
    valid = np.ones(n, dtype=bool)
    for v, levels in zip(fvals, level_sets):
        lv = np.asarray(levels, dtype=np.float64)
        pos = np.searchsorted(lv, v)
        pos_c = np.minimum(pos, max(len(lv) - 1, 0))
        valid &= (len(lv) > 0) & (lv[pos_c] == v) if len(lv) else np.zeros(n, dtype=bool)
        idx = idx * len(lv) + pos_c
    ncells = int(np.prod([len(lv) for lv in level_sets]))
    idx = np.where(valid, idx, -1)
    counts = np.bincount(idx[valid], minlength=ncells) if ncells else np.zeros(0, dtype=np.int64)
    return idx, counts


def _mark_collinear(X: np.ndarray, cols: list[FixedColumn], slots: list[int],
                    constant: bool) -> list[str]:
    """Stata's _rmcoll: in order (constant first), drop a column lying in the span of the
    columns kept before it; returns the note lines.

    Decided on the cross-products of the candidate columns, centred (when there is a constant)
    and scaled to unit length, by an incremental Cholesky factor in column order: a column is
    omitted when its squared distance to the span of the kept ones is below COLLINEAR_TOL of
    its own length. One pass of BLAS over X (in row chunks, so no copy of X is made) instead
    of a Gram-Schmidt sweep per column."""
    notes: list[str | None] = [None] * len(cols)
    cand = []
    for j, c in enumerate(cols):
        if c.empty:
            notes[j] = f"note: {c.name} identifies no observations in the sample."
        elif c.name != "_cons" and not c.base and not c.omitted:
            cand.append(j)
    if cand:
        by_slot = {slots[j]: j for j in cand}
        for k in _collinear_columns(X, [slots[j] for j in cand], constant):
            j = by_slot[k]
            cols[j].omitted = True
            notes[j] = f"note: {cols[j].name} omitted because of collinearity."
    return [t for t in notes if t is not None]


_CHUNK_ROWS = 1 << 16


def _centred_cross(X: np.ndarray, cand: list[int], constant: bool) -> np.ndarray:
    """(X_c - 1 m')'(X_c - 1 m') / (s s') for the candidate columns X_c, m their means (zero
    without a constant) and s a power-of-two scale per column so that nothing overflows.

    Three vectorised passes: the means, the largest deviations, and the chunked cross-products
    about the first-pass means m1; the rounding error d = mean - m1 of the first pass is then
    taken out exactly (sum (x - m1)(x - m1)' = sum (x - m)(x - m)' + n d d'), so a covariate
    with mean 1e9 keeps all the digits of its spread. A constant column comes out as
    exactly zero (its first-pass centre is its value)."""
    n, k = X.shape
    if not n:
        return np.zeros((len(cand), len(cand)))
    sub = X                      # all columns (no copy of a column subset); cand picked at the end
    lo, hi = sub.min(axis=0), sub.max(axis=0)
    m1 = np.where(lo == hi, lo, sub.mean(axis=0)) if constant else np.zeros(k)
    top = np.maximum(hi - m1, m1 - lo) if constant else np.maximum(np.abs(lo), np.abs(hi))
    s = np.array([math.ldexp(1.0, math.frexp(t)[1]) if 0 < t < math.inf else 1.0 for t in top])
    C = np.zeros((k, k))
    tot = np.zeros(k)
    for a in range(0, n, _CHUNK_ROWS):
        blk = (sub[a:a + _CHUNK_ROWS] - m1) / s
        C += blk.T @ blk
        tot += blk.sum(axis=0)
    if constant:
        d = tot / n
        C -= n * np.outer(d, d)
    return C[np.ix_(cand, cand)]


def _collinear_columns(X: np.ndarray, cand: list[int], constant: bool) -> list[int]:
    """The candidates to omit: a right-looking Cholesky of their unit-scaled cross-products in
    column order, where a pivot (the squared distance to the span of the columns kept before,
    relative to the column's own length) below COLLINEAR_TOL omits the column and is not
    eliminated from the ones after it."""
    C = _centred_cross(X, cand, constant)
    d = np.diag(C).copy()
    ok = (d > 0) & np.isfinite(d)
    inv = np.where(ok, 1.0 / np.sqrt(np.where(ok, d, 1.0)), 0.0)
    R = C * inv[:, None] * inv[None, :]          # unit diagonal where a column is not zero
    out = []
    for pos, j in enumerate(cand):
        ss = float(R[pos, pos])
        if not ok[pos] or ss <= COLLINEAR_TOL:
            out.append(j)
            continue
        li = R[pos, pos + 1:] / math.sqrt(ss)
        R[pos + 1:, pos + 1:] -= np.outer(li, li)
    return out


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
    """Codes 0..G-1 for the distinct combinations of `keys` (sorted, as Stata's egen group());
    O(n), see engine.factorize."""
    return factorize.group_codes(keys, n)


def build_random(specs: list[RandomSpec], column: Callable[[str], np.ndarray], n: int,
                 allow_empty: bool = False) -> list[RandomBlock]:
    """One RandomBlock per `||` equation; with allow_empty (a residual structure), an equation
    with no random effects (`|| id:, noconstant`) only defines its groups (Z is n x 0)."""
    blocks = []
    keys: list[np.ndarray] = []
    for depth, sp in enumerate(specs, start=1):
        if sp.group != "_all":
            keys = keys + [np.asarray(column(sp.group), dtype=np.float64)]
        codes = group_codes(keys, n)
        zs, names, factors = [], [], []
        for rv in sp.rterms:
            # R.var: one identity-covariance effect per level, kept as level codes (an
            # IndicatorMatrix), never as n x L dense indicator columns. R. is not a factor-variable
            # operator: its levels are the distinct values, negative or fractional ones included
            v = np.asarray(column(rv), dtype=np.float64)
            levels = np.unique(v[~np.isnan(v)])
            factors.append((np.searchsorted(levels.astype(np.float64), v), len(levels), None))
            names += [f"R.{rv}"] * len(levels)
        for term in sp.terms:
            if not term.factors:
                zs.append(_continuous_product(list(term.continuous), column))
                names.append("#".join(("c." + c) if term.is_interaction else c for c in term.continuous))
                continue
            # the level's own constant decides whether a base level drops out, as in the fixed part
            sub = build_fixed([term], column, n, constant=sp.constant)
            for j, c in enumerate(sub.columns):
                if not c.base and not c.empty and c.name != "_cons":
                    zs.append(sub.column(j))
                    names.append(c.name)
        if sp.constant and not sp.rterms:
            zs.append(np.ones(n))
            names.append("_cons")
        if not zs and not factors:
            if not allow_empty:
                raise StataError("invalid syntax", 198)
            blocks.append(RandomBlock(codes, np.zeros((n, 0)), [], "identity", sp.group, depth))
            continue
        cov = sp.covariance
        if sp.rterms:
            cov = "identity"
        elif cov is None:
            cov = "identity" if names == ["_cons"] else "independent"
        Z = (IndicatorMatrix(factors, np.column_stack(zs) if zs else None, n) if factors
             else np.column_stack(zs))
        blocks.append(RandomBlock(codes, Z, names, cov, sp.group, depth))
    return blocks
