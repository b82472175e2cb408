"""Multi-way fixed effects by the method of alternating projections (reghdfe's MAP).

Each absorbed term is a set of group codes 0..G-1, optionally with a continuous variable z:
an intercept term projects each column on its group means, a slope term (`i.g#c.z`) on the
group-specific line through the origin in z, and an intercept-and-slope term (`i.g##c.z`) on
the group-specific regression on (1, z). Sweeping the terms in turn converges to the residual
of the projection on all of them together (von Neumann-Halperin); the sweep stops when no
column moves by more than `tol` relative to its size (reghdfe's default 1e-8) and the
geometric rate of the sweeps says the limit is as close.

The absorbed degrees of freedom follow reghdfe: every category of the first term counts; the
second term loses one category per connected component of the bipartite graph of the first
two (its mobility groups); later terms lose one (a conservative bound); a term whose groups
nest within the cluster variable counts nothing and is left out of that order. Singletons (groups of one observation in any
intercept term) are dropped repeatedly until none is left, as reghdfe does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class AbsorbTerm:
    """One absorbed term: group codes 0..G-1 on the sample; z for slope terms."""
    label: str
    codes: np.ndarray
    z: np.ndarray | None = None
    intercept: bool = True
    zlabel: str = ""

    @property
    def levels(self) -> int:
        return int(self.codes.max()) + 1 if len(self.codes) else 0


def recode(codes: np.ndarray) -> np.ndarray:
    """Codes renumbered 0..G-1 in the order of their values."""
    _, inv = np.unique(codes, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def singletons(code_sets: list[np.ndarray]) -> np.ndarray:
    """Mask of the observations kept after dropping singleton groups repeatedly."""
    keep = np.ones(len(code_sets[0]) if code_sets else 0, dtype=bool)
    while True:
        drop = np.zeros_like(keep)
        for c in code_sets:
            counts = np.bincount(c[keep], minlength=int(c.max()) + 1 if len(c) else 0)
            drop |= keep & (counts[c] == 1)
        if not drop.any():
            return keep
        keep &= ~drop


def _project_once(M: np.ndarray, t: AbsorbTerm) -> np.ndarray:
    """M minus its projection on term t (columns of M at once)."""
    g, G = t.codes, t.levels
    n1 = np.bincount(g, minlength=G).astype(float)

    def gsum(v):
        return np.stack([np.bincount(g, weights=v[:, j], minlength=G) for j in range(v.shape[1])],
                        axis=1)
    if t.z is None:
        return M - (gsum(M) / n1[:, None])[g]
    z = t.z
    sz, szz = np.bincount(g, weights=z, minlength=G), np.bincount(g, weights=z * z, minlength=G)
    szm = gsum(M * z[:, None])
    if not t.intercept:
        with np.errstate(invalid="ignore", divide="ignore"):
            coef = np.where(szz[:, None] > 0, szm / szz[:, None], 0.0)
        return M - coef[g] * z[:, None]
    sm = gsum(M)
    det = n1 * szz - sz * sz
    ok = det > 1e-12 * np.maximum(n1 * szz, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(ok[:, None], (szz[:, None] * sm - sz[:, None] * szm) / det[:, None],
                     sm / n1[:, None])
        b = np.where(ok[:, None], (n1[:, None] * szm - sz[:, None] * sm) / det[:, None], 0.0)
    return M - a[g] - b[g] * z[:, None]


def demean(M: np.ndarray, terms: list[AbsorbTerm], tol: float = 1e-8,
           maxiter: int = 10000) -> tuple[np.ndarray, int]:
    """Residuals of the columns of M on all the terms, and the number of sweeps made."""
    R = np.array(M, dtype=float, copy=True)
    if not terms:
        return R - R.mean(axis=0), 0
    if len(terms) == 1:
        return _project_once(R, terms[0]), 1
    scale = np.maximum(np.abs(M).max(axis=0), 1.0)
    prev_change = math.inf
    for it in range(1, maxiter + 1):
        prev = R
        for t in terms:
            R = _project_once(R, t)
        change = float(np.max(np.abs(R - prev) / scale))
        # alternating projections converge geometrically: the distance to the limit is about
        # change * rho / (1 - rho), which a slow sweep makes much larger than the change itself
        rho = change / prev_change if prev_change > 0 else 0.0
        bound = change * rho / (1.0 - rho) if rho < 1.0 else math.inf
        if change < tol and (bound < tol or change == 0.0):
            return R, it
        prev_change = change
    return R, maxiter


def _components(a: np.ndarray, b: np.ndarray) -> int:
    """Connected components of the bipartite graph with edges (a_i, b_i)."""
    na, nb = int(a.max()) + 1, int(b.max()) + 1
    parent = np.arange(na + nb)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root
    for u, v in set(zip(a.tolist(), (b + na).tolist())):
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
    return len({find(x) for x in range(na + nb)})


def nested_in(codes: np.ndarray, clusters: np.ndarray) -> bool:
    """True when every group of `codes` lies within one cluster."""
    G = int(codes.max()) + 1
    first = np.full(G, -1, dtype=np.int64)
    first[codes[::-1]] = clusters[::-1]
    return bool(np.all(first[codes] == clusters))


@dataclass
class DofRow:
    label: str
    categories: int
    redundant: int
    nested: bool = False
    slope: bool = False
    maybe: bool = False        # reghdfe's `?`: the redundant count is only a lower bound

    @property
    def coefs(self) -> int:
        return self.categories - self.redundant


def constant_dof(rows: list[DofRow]) -> int:
    """1 when every intercept term is nested within a cluster: the constant then costs one
    degree of freedom of its own (reghdfe's counting matches xtreg, fe there), else 0."""
    ints = [r for r in rows if not r.slope]
    return int(bool(ints) and all(r.nested for r in ints))


def _slope_row(t: AbsorbTerm) -> DofRow:
    """Slopes: a group whose z is constant (with an intercept) or zero adds nothing."""
    G, z = t.levels, t.z
    n1 = np.bincount(t.codes, minlength=G).astype(float)
    if t.intercept:
        mz = np.bincount(t.codes, weights=z, minlength=G) / n1
        dev = np.bincount(t.codes, weights=(z - mz[t.codes]) ** 2, minlength=G)
    else:
        dev = np.bincount(t.codes, weights=z * z, minlength=G)
    return DofRow(f"{t.label}#c.{t.zlabel}", G, int(np.sum(dev <= 1e-12)), slope=True, maybe=True)


def absorbed_dof(terms: list[AbsorbTerm], clusters: list[np.ndarray]) -> list[DofRow]:
    """reghdfe's table of absorbed degrees of freedom (see the module doc). Terms nested in a
    cluster are set aside first: the first of the others counts every category, the second
    loses its mobility groups. With every intercept term nested, the constant still costs one
    degree of freedom (`constant_dof`)."""
    rows: list[DofRow] = []
    first_int = None
    n_int = 0
    for t in terms:
        if not t.intercept:
            rows.append(_slope_row(t))
            continue
        G = t.levels
        if any(nested_in(t.codes, c) for c in clusters):
            rows.append(DofRow(t.label, G, G, True))
        else:
            if n_int == 0:
                rows.append(DofRow(t.label, G, 0))
                first_int = t.codes
            elif n_int == 1 and first_int is not None:
                rows.append(DofRow(t.label, G, _components(first_int, t.codes)))
            else:
                rows.append(DofRow(t.label, G, 1, maybe=True))
            n_int += 1
        if t.z is not None:
            rows.append(_slope_row(t))
    return rows
