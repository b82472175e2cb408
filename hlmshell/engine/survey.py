"""Taylor-linearized variance of survey estimators, as Stata's svy (first sampling stage).

Every svy estimator here is a solution of weighted estimating equations; its variance is
D^-1 G D^-1', where G estimates the design variance of the weighted score total
sum_hij w_hij u_hij ([SVY] Variance estimation):

    G = sum_h (1 - f_h) n_h / (n_h - 1) sum_i (y_hi - ybar_h)(y_hi - ybar_h)'

y_hi the weighted score total of primary sampling unit i of stratum h, ybar_h their mean over
the n_h PSUs of the stratum, f_h the sampling fraction from fpc() (a rate when <= 1, otherwise
the number of PSUs in the stratum's population). Observations outside a subpopulation stay in
the design with zero scores, so the strata and PSU counts (and the design df, #PSU - #strata)
are those of the whole estimation sample.

Why first stage only: with PSUs sampled with replacement (no fpc) later stages add nothing; with
an fpc at stage 1 Stata adds the later stages' terms, which hlmshell does not (the caller says so).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SurveyDesign:
    """The first-stage design over the estimation sample: stratum and PSU codes per
    observation (0..H-1; PSU codes unique across strata), sampling fractions per stratum,
    pweights, and the singleunit() rule."""

    strata: np.ndarray
    psu: np.ndarray
    weights: np.ndarray
    fraction: np.ndarray            # f_h per stratum (0 without fpc)
    singleunit: str = "missing"
    dof: float | None = None

    @property
    def n_strata(self) -> int:
        return int(self.strata.max()) + 1 if self.strata.size else 0

    @property
    def n_psu(self) -> int:
        return int(self.psu.max()) + 1 if self.psu.size else 0

    def psu_per_stratum(self) -> np.ndarray:
        stratum_of_psu = np.zeros(self.n_psu, dtype=np.int64)
        stratum_of_psu[self.psu] = self.strata
        return np.bincount(stratum_of_psu, minlength=self.n_strata)

    @property
    def df(self) -> float:
        return float(self.dof) if self.dof is not None else float(self.n_psu - self.n_strata)

    @property
    def singletons(self) -> int:
        return int(np.sum(self.psu_per_stratum() == 1))


def codes(values: np.ndarray) -> np.ndarray:
    """0..K-1 codes of the distinct values, in sort order."""
    _, inv = np.unique(values, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def nested_codes(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Codes of the (outer, inner) pairs: PSUs numbered within their strata."""
    _, inv = np.unique(np.stack([outer, inner], axis=1), axis=0, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def fractions(strata: np.ndarray, psu: np.ndarray, fpc: np.ndarray | None) -> np.ndarray:
    """f_h per stratum from the fpc values (constant within a stratum; checked by the caller):
    a rate when every value is <= 1, else N_h PSUs in the population, f_h = n_h / N_h."""
    H = int(strata.max()) + 1
    if fpc is None:
        return np.zeros(H)
    first = np.zeros(H)
    first[strata] = fpc
    n_h = np.bincount(np.unique(np.stack([strata, psu], axis=1), axis=0)[:, 0], minlength=H)
    if np.all(fpc <= 1):
        return first
    return n_h / first


def score_variance(design: SurveyDesign, scores: np.ndarray) -> np.ndarray:
    """G, the design-based covariance of the total of `scores` (n x k, each row already
    multiplied by its weight), with Stata's singleunit() rules: `missing` gives missing
    values, `certainty` no contribution, `scaled` the certainty figure times H / (H - H1),
    `centered` singleton PSUs centred at the grand mean of the PSU totals."""
    k = scores.shape[1]
    totals = np.zeros((design.n_psu, k))
    np.add.at(totals, design.psu, scores)
    stratum_of_psu = np.zeros(design.n_psu, dtype=np.int64)
    stratum_of_psu[design.psu] = design.strata
    H = design.n_strata
    n_h = np.bincount(stratum_of_psu, minlength=H)
    sums = np.zeros((H, k))
    np.add.at(sums, stratum_of_psu, totals)
    means = sums / np.maximum(n_h, 1)[:, None]
    single = n_h[stratum_of_psu] == 1
    if single.any() and design.singleunit == "missing":
        return np.full((k, k), np.nan)
    dev = totals - means[stratum_of_psu]
    if design.singleunit == "centered":
        dev[single] = totals[single] - totals.mean(axis=0)
    factor = np.where(n_h > 1, n_h / np.maximum(n_h - 1, 1), 1.0) * (1.0 - design.fraction)
    if design.singleunit in ("certainty", "scaled"):
        factor = np.where(n_h > 1, factor, 0.0)
    G = (dev * factor[stratum_of_psu][:, None]).T @ dev
    if design.singleunit == "scaled":
        multi = int(np.sum(n_h > 1))
        G = G * (H / multi) if multi else np.full((k, k), np.nan)
    return G


def sandwich(design: SurveyDesign, bread: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """bread G bread' (bread = D^-1, the inverse of the estimating equations' derivative)."""
    return bread @ score_variance(design, scores) @ bread.T


# ---- descriptive estimators: (estimates, linearized scores per observation) ------------------
def total(y: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Total sum w y; its weighted scores are w y."""
    return float(np.sum(w * y)), w * y


def mean(y: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean sum w y / sum w; weighted scores w (y - ybar) / W (zero where w is 0)."""
    W = float(np.sum(w))
    if W <= 0:
        return np.nan, np.zeros_like(y)
    m = float(np.sum(w * y)) / W
    return m, w * (y - m) / W


def ratio(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Ratio sum w y / sum w x; weighted scores w (y - R x) / X."""
    X = float(np.sum(w * x))
    if X == 0:
        return np.nan, np.zeros_like(y)
    r = float(np.sum(w * y)) / X
    return r, w * (y - r * x) / X


# ---- tests ---------------------------------------------------------------------------------------
@dataclass
class AdjustedWald:
    F: float
    df1: int
    df2: float
    p: float


def adjusted_wald(b: np.ndarray, V: np.ndarray, df: float) -> AdjustedWald | None:
    """Stata's adjusted Wald test of b = 0: F = (d - k + 1) / (d k) b'V^-1 b on (k, d - k + 1)
    degrees of freedom, d the design df (missing when d - k + 1 < 1 or V is singular)."""
    from hlmshell import distributions as dist

    k = len(b)
    if k == 0:
        return None
    try:
        W = float(b @ np.linalg.solve(V, b))
    except np.linalg.LinAlgError:
        return AdjustedWald(np.nan, k, df - k + 1, np.nan)
    d2 = df - k + 1
    if not np.isfinite(W) or d2 < 1:
        return AdjustedWald(np.nan, k, d2, np.nan)
    F = W * d2 / (df * k)
    return AdjustedWald(F, k, d2, float(dist.f_sf(F, k, d2)))


def srs_score_variance(scores: np.ndarray, w: np.ndarray, fpc: bool) -> tuple[np.ndarray, np.ndarray]:
    """(G_srswor, G_srswr): the variance of the total of `scores` (weighted, n x k) had the m
    observations been a simple random sample from the M = sum w population, for the design
    effects: M^2 / m * sum_j w_j (u_j - ubar)(u_j - ubar)' / (M - 1), u_j the unweighted score
    and ubar = sum w u / M; without replacement times (1 - m/M) when the design has an fpc."""
    M, m = float(np.sum(w)), len(w)
    pos = w > 0
    u = np.zeros_like(scores)
    u[pos] = scores[pos] / w[pos, None]          # zero-weight rows weigh nothing
    d = u - scores.sum(axis=0) / M
    G_wr = (M * M / m) / (M - 1.0) * (d * w[:, None]).T @ d if M > 1 else np.full((scores.shape[1],) * 2, np.nan)
    f = m / M if fpc and M > 0 else 0.0
    return (1.0 - f) * G_wr, G_wr
