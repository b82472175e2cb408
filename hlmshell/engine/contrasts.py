"""Numerics of `contrast` and `pwcompare`: balanced cell means of the fixed part, contrast
operators on them, joint Wald tests and multiple-comparison adjustments (pure: arrays in,
arrays out).

Stata's contrast and pwcompare work on marginal linear predictions with the factors
"asbalanced": the mean of cell (a = 1) averages the prediction over every level of the other
factors with equal weight, with continuous covariates at their estimation-sample means. A
column of e(b) is a product of parts, and the balanced grid makes the parts independent, so
the cell's row of L (mean = L b) is, column by column, the product of

    the indicator of the cell's level   (a factor of the term)
    1 / number of levels                (any other factor)
    the covariate's mean                (a continuous part; c.x#c.x gives mean^2, as at means)

    L = grid(cols, ["diet"], levels, means)      # cells x k, cells in Stata's order
    C, tags = operator_rows("r", [1, 2, 3], 1)    # (2 vs 1), (3 vs 1)
    df, chi2, p = wald(C @ L @ b, C @ L @ V @ L'C', None)
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from hlmshell import distributions as dist

OPERATORS = ("r", "a", "ar", "g", "h", "j", "p", "q")
_POLY = ("linear", "quadratic", "cubic", "quartic", "quintic", "sextic", "septic", "octic")


def grid_row(cols, cell: dict, levels: dict, means: dict) -> np.ndarray:
    """The row of L giving the balanced mean of one cell ({var: level})."""
    row = np.ones(len(cols))
    for j, parts in enumerate(cols):
        for p in parts:
            if p.level is None:
                row[j] *= means.get(p.var, 0.0)
            elif p.var in cell:
                row[j] *= float(cell[p.var] == p.level)
            else:
                row[j] *= 1.0 / max(len(levels.get(p.var, [])), 1)
    return row


def cells_of(variables: list[str], levels: dict) -> list[tuple]:
    """Every combination of the variables' levels, the first variable varying slowest."""
    return list(itertools.product(*[levels[v] for v in variables]))


def grid(cols, variables: list[str], levels: dict, means: dict) -> tuple[list[tuple], np.ndarray]:
    cells = cells_of(variables, levels)
    if not cells:
        return [], np.zeros((0, len(cols)))
    L = np.vstack([grid_row(cols, dict(zip(variables, c)), levels, means) for c in cells])
    return cells, L


def operator_rows(op: str | None, levels: list[int], ref: int | None = None
                  ) -> tuple[np.ndarray, list[tuple]]:
    """(C, tags) of a contrast operator over a factor's levels: C is contrasts x levels and a
    tag is (kind, a, b) -- ('vs', 2, 1) for (2 vs 1), ('mean', 2) for (2 vs mean), ('gt', 1)
    for (1 vs >), ('lt', 2) for (2 vs <), ('poly', 1) for (linear). `None` (an unoperated
    factor) means the reference contrasts r."""
    k = len(levels)
    op = op or "r"
    rows: list[np.ndarray] = []
    tags: list[tuple] = []
    if op == "r":
        base = levels.index(ref if ref in levels else levels[0])
        for i in range(k):
            if i != base:
                rows.append(_unit(k, i) - _unit(k, base))
                tags.append(("vs", levels[i], levels[base]))
    elif op in ("a", "ar"):
        for i in range(k - 1):
            hi, lo = (i, i + 1) if op == "a" else (i + 1, i)
            rows.append(_unit(k, hi) - _unit(k, lo))
            tags.append(("vs", levels[hi], levels[lo]))
    elif op == "g":
        for i in range(k):
            rows.append(_unit(k, i) - np.full(k, 1.0 / k))
            tags.append(("mean", levels[i]))
    elif op == "h":
        for i in range(k - 1):
            r = _unit(k, i)
            r[i + 1:] -= 1.0 / (k - i - 1)
            rows.append(r)
            tags.append(("gt", levels[i]))
    elif op == "j":
        for i in range(1, k):
            r = _unit(k, i)
            r[:i] -= 1.0 / i
            rows.append(r)
            tags.append(("lt", levels[i]))
    elif op in ("p", "q"):
        x = np.asarray(levels if op == "p" else range(1, k + 1), dtype=float)
        P = orthonormal_poly(x)
        for d in range(P.shape[1]):
            rows.append(P[:, d])
            tags.append(("poly", d + 1))
    else:
        raise ValueError(op)
    C = np.array(rows).reshape(-1, k)
    return C, tags


def _unit(k: int, i: int) -> np.ndarray:
    u = np.zeros(k)
    u[i] = 1.0
    return u


def orthonormal_poly(x: np.ndarray) -> np.ndarray:
    """Orthogonal polynomial contrasts in the values x (k x (k-1)): the columns of the QR
    factor of the Vandermonde matrix after the constant, of unit length, each ending with a
    positive coefficient (R's contr.poly for equally spaced values)."""
    k = x.size
    z = (x - x.mean()) / (x.std() or 1.0)
    Vm = np.vander(z, k, increasing=True)
    Q, _ = np.linalg.qr(Vm)
    P = Q[:, 1:]
    signs = np.sign(P[-1, :])
    signs[signs == 0] = 1.0
    return P * signs


def poly_name(d: int) -> str:
    return _POLY[d - 1] if d <= len(_POLY) else f"degree {d}"


def tag_name(op: str | None, tag: tuple) -> str:
    """The r(b) column prefix of one contrast: r2vs1, ar2vs1, g1, h1, j2, p1."""
    op = op or "r"
    kind = tag[0]
    if kind == "vs":
        return f"{op}{tag[1]}vs{tag[2]}"
    return f"{op}{tag[1]}"


def wald(c: np.ndarray, V: np.ndarray, df_r: float | None) -> tuple[int, float, float]:
    """(df, chi2 or F, p) of the hypothesis c = 0 with var(c) = V; df is V's rank (a
    generalized inverse over its non-null eigenvectors)."""
    if c.size == 0:
        return 0, float("nan"), float("nan")
    w, U = np.linalg.eigh((V + V.T) / 2)
    top = max(float(w.max()), 0.0)
    keep = w > top * 1e-12 if top > 0 else np.zeros(w.size, dtype=bool)
    df = int(np.count_nonzero(keep))
    if df == 0:
        return 0, float("nan"), float("nan")
    z = U[:, keep].T @ c
    chi2 = float(np.sum(z ** 2 / w[keep]))
    if df_r is not None:
        F = chi2 / df
        return df, F, float(dist.f_sf(F, df, df_r))
    return df, chi2, float(dist.chi2_sf(chi2, df))


def adjusted(method: str, q: np.ndarray, m: int, rank: int, level: float,
             df_r: float | None, ncells: int = 0) -> tuple[np.ndarray, float]:
    """(p-values, critical value) of the statistics q (z or t) of m comparisons adjusted by
    `method`: noadjust, bonferroni (m p), sidak (1 - (1 - p)^m), scheffe (q^2 / rank against
    chi2(rank) or F(rank, df_r)), tukey (studentized range of ncells means)."""
    q = np.abs(np.asarray(q, dtype=float))
    alpha = 1 - level / 100
    raw = 2 * (dist.t_sf(q, df_r) if df_r is not None else dist.norm_sf(q))
    raw = np.asarray(raw, dtype=float)

    def quant(a):                                   # two-sided critical value at level 1 - a
        return float(dist.t_isf(a / 2, df_r) if df_r is not None else dist.norm_isf(a / 2))

    m = max(int(m), 1)
    if method == "bonferroni":
        return np.minimum(1.0, raw * m), quant(alpha / m)
    if method == "sidak":
        return 1 - (1 - raw) ** m, quant(1 - (1 - alpha) ** (1.0 / m))
    if method == "scheffe":
        r = max(int(rank), 1)
        if df_r is not None:
            p = np.asarray(dist.f_sf(q ** 2 / r, r, df_r), dtype=float)
            from scipy.special import fdtri
            return p, math.sqrt(r * float(fdtri(r, df_r, 1 - alpha)))
        p = np.asarray(dist.chi2_sf(q ** 2, r), dtype=float)
        return p, math.sqrt(float(dist.chi2_isf(alpha, r)))
    if method == "tukey":
        return _tukey(q, ncells, alpha, df_r)
    return raw, quant(alpha)


def _tukey(q: np.ndarray, k: int, alpha: float, df_r: float | None) -> tuple[np.ndarray, float]:
    """Tukey's HSD: P(studentized range of k means > q sqrt 2) and the critical value / sqrt 2.
    With large-sample z statistics (no df_r) the tail is integrated directly (scipy's
    studentized_range loses tiny p-values to cancellation there)."""
    import warnings

    from scipy.stats import studentized_range
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = df_r if df_r is not None else np.inf
        crit = float(studentized_range.isf(alpha, k, df)) / math.sqrt(2)
        if df_r is not None:
            p = np.asarray(studentized_range.sf(q * math.sqrt(2), k, df), dtype=float)
            p = np.array([_range_sf_t(x * math.sqrt(2), k, float(df_r)) if pv < 1e-8 else pv
                          for x, pv in zip(np.atleast_1d(q), np.atleast_1d(p))])
        else:
            p = np.array([_range_sf_normal(x * math.sqrt(2), k) for x in np.atleast_1d(q)])
    return p.reshape(np.shape(q)), crit


def _range_sf_normal(w: float, k: int) -> float:
    """P(range of k standard normals > w) = k int phi(z) [S(z)^(k-1) - (S(z) - S(z+w))^(k-1)]
    dz with S = 1 - Phi, written as S^(k-1) (1 - (1 - r)^(k-1)), r = S(z+w)/S(z), so that
    the difference keeps its digits when it is tiny."""
    from scipy import integrate, special
    if not np.isfinite(w):
        return float("nan")

    def f(z):
        s = special.ndtr(-z)
        if s <= 0:
            return 0.0
        r = min(float(special.ndtr(-z - w) / s), 1.0)
        inner = 1.0 if r >= 1.0 else -math.expm1((k - 1) * math.log1p(-r))
        return k * math.exp(-z * z / 2) / math.sqrt(2 * math.pi) * s ** (k - 1) * inner

    lo, hi = -w - 12.0, 12.0
    val, _ = integrate.quad(f, lo, hi, points=[-w / 2, 0.0], epsabs=0, epsrel=1e-12, limit=200)
    return float(min(max(val, 0.0), 1.0))


def _range_sf_t(w: float, k: int, df: float) -> float:
    """The studentized range's tail with df degrees of freedom, mixed over the scale
    s = sqrt(chi2_df / df): int f(s) P(normal range > w s) ds.  Used only where scipy's
    studentized_range.sf has lost the value to rounding (tiny p-values)."""
    from scipy import integrate, special
    if not np.isfinite(w):
        return float("nan")
    c = df / 2 * math.log(df / 2) - special.gammaln(df / 2) + math.log(2)

    def f(s):
        if s <= 0:
            return 0.0
        return math.exp(c + (df - 1) * math.log(s) - df * s * s / 2) * _range_sf_normal(w * s, k)

    sd = 1 / math.sqrt(2 * df)
    hi = 1 + 40 * sd
    val, _ = integrate.quad(f, 0.0, hi, points=[max(1 - 5 * sd, 1e-6), 1.0], epsabs=0,
                            epsrel=1e-10, limit=200)
    return float(min(max(val, 0.0), 1.0))
