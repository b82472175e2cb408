"""Resampling statistics behind bootstrap, jackknife and permute: drawing bootstrap samples
(simple, within strata, of whole clusters), and turning replicates into standard errors and
confidence intervals as Stata's bstat and jackknife define them.

Pure numerics: the commands (hlmshell/commands/resample.py) run the user's command on each
sample and hand the replicate matrix here.

    rows, ids = bootstrap_rows(rng, strata, clusters, size)   # one bootstrap sample
    s = bootstrap_summary(observed, reps, level=95)           # se, bias, CIs per statistic
    j = jackknife_summary(observed, leave_one_out)             # pseudo-values, se
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist


# ---- drawing samples ---------------------------------------------------------------------
def _group_codes(codes: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)


def bootstrap_rows(rng: np.random.Generator, n: int, strata: np.ndarray | None = None,
                   clusters: np.ndarray | None = None, size: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray | None]:
    """One bootstrap sample of n observations, as row indices into them.

    strata  : integer codes 0..S-1 per observation (None: one stratum); samples are drawn
              independently within each stratum.
    clusters: integer codes per observation (None: each observation is its own cluster);
              whole clusters are drawn with replacement, each keeping all its rows.
    size    : clusters (or observations) drawn per stratum; None: as many as there are.
    Returns the rows (in draw order, grouped by stratum) and, with clusters, a new cluster id
    (1, 2, ... one per draw, so that a cluster drawn twice is two clusters: idcluster())."""
    strata = _group_codes(strata, n)
    rows: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    next_id = 1
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        if clusters is None:
            k = len(members) if size is None else size
            rows.append(members[rng.integers(0, len(members), size=k)])
            continue
        cl = np.asarray(clusters)[members]
        uniq, inv = np.unique(cl, return_inverse=True)
        by_cluster = [members[inv == j] for j in range(len(uniq))]
        k = len(uniq) if size is None else size
        for j in rng.integers(0, len(uniq), size=k):
            part = by_cluster[int(j)]
            rows.append(part)
            ids.append(np.full(len(part), next_id, dtype=np.int64))
            next_id += 1
    out = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    if clusters is None:
        return out, None
    return out, (np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64))


# ---- Stata's percentiles -------------------------------------------------------------------
def stata_percentile(x: np.ndarray, p: float) -> float:
    """The p-th percentile (0 < p < 100) by Stata's default definition (_pctile, summarize):
    with the data sorted and P = n p / 100, the mean of x[P] and x[P+1] when P is an integer,
    else x[ceil(P)] (1-based)."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    if n == 0:
        return math.nan
    pos = n * p / 100.0
    i = math.floor(pos)
    if abs(pos - round(pos)) < 1e-12:
        i = int(round(pos))
        if i <= 0:
            return float(x[0])
        if i >= n:
            return float(x[-1])
        return float((x[i - 1] + x[i]) / 2)
    return float(x[min(max(i, 0), n - 1)])


# ---- bootstrap ------------------------------------------------------------------------------
@dataclass
class BootstrapSummary:
    """Per statistic: replications used, mean of the replicates, bias, standard error, and the
    normal, percentile and bias-corrected intervals (2 x k: lower row, upper row); V is the
    covariance of the replicates (over replications complete in every statistic)."""

    reps: np.ndarray
    mean: np.ndarray
    bias: np.ndarray
    se: np.ndarray
    V: np.ndarray
    z0: np.ndarray
    ci_normal: np.ndarray
    ci_percentile: np.ndarray
    ci_bc: np.ndarray
    n_complete: int


def bootstrap_variance(observed: np.ndarray, reps: np.ndarray, mse: bool = False) -> tuple[np.ndarray, int]:
    """Covariance of the replicates over the replications complete in every statistic:
    deviations from their mean over R - 1 (or, mse, from the observed values over R)."""
    reps = np.asarray(reps, dtype=float)
    k = reps.shape[1]
    ok = ~np.isnan(reps).any(axis=1)
    r = reps[ok]
    m = len(r)
    if m < 2 and not (mse and m >= 1):
        return np.full((k, k), np.nan), m
    center = np.asarray(observed, dtype=float) if mse else r.mean(axis=0)
    d = r - center
    return d.T @ d / (m if mse else m - 1), m


def bc_interval(x: np.ndarray, observed: float, level: float) -> tuple[float, float, float]:
    """(z0, lower, upper) of the bias-corrected percentile interval: z0 = invnormal of the
    share of replicates at or below the observed value; the percentiles taken at
    Phi(2 z0 -+ z_(1-a/2))."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    share = np.count_nonzero(x <= observed) / len(x)
    if share <= 0 or share >= 1:
        return math.nan, math.nan, math.nan
    z0 = float(dist.norm_ppf(share))
    zc = float(dist.norm_isf((1 - level / 100) / 2))
    p1 = float(dist.norm_cdf(2 * z0 - zc)) * 100
    p2 = float(dist.norm_cdf(2 * z0 + zc)) * 100
    return z0, stata_percentile(x, p1), stata_percentile(x, p2)


def acceleration(loo: np.ndarray) -> float:
    """The BCa acceleration from the leave-one-out values: sum d^3 / (6 (sum d^2)^(3/2)),
    d = mean - value (Efron; Stata's skewness of the pseudo-values over 6 sqrt(n))."""
    x = np.asarray(loo, dtype=float)
    x = x[~np.isnan(x)]
    d = x.mean() - x if len(x) else x
    ss = float(np.sum(d ** 2))
    if ss == 0:
        return 0.0
    return float(np.sum(d ** 3) / (6 * ss ** 1.5))


def bca_interval(x: np.ndarray, observed: float, accel: float, level: float) -> tuple[float, float]:
    """The bias-corrected and accelerated interval: percentiles at
    Phi(z0 + (z0 -+ zc) / (1 - a (z0 -+ zc)))."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0 or not math.isfinite(accel):
        return math.nan, math.nan
    share = np.count_nonzero(x <= observed) / len(x)
    if share <= 0 or share >= 1:
        return math.nan, math.nan
    z0 = float(dist.norm_ppf(share))
    zc = float(dist.norm_isf((1 - level / 100) / 2))
    ends = []
    for z in (z0 - zc, z0 + zc):
        p = float(dist.norm_cdf(z0 + z / (1 - accel * z))) * 100
        ends.append(stata_percentile(x, p))
    return ends[0], ends[1]


def bootstrap_summary(observed: np.ndarray, reps: np.ndarray, *, level: float = 95.0,
                      mse: bool = False) -> BootstrapSummary:
    """Everything bootstrap reports from the observed statistics (k) and replicates (R x k)."""
    obs = np.asarray(observed, dtype=float)
    reps = np.asarray(reps, dtype=float).reshape(-1, len(obs))
    k = len(obs)
    V, m = bootstrap_variance(obs, reps, mse)
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    zc = float(dist.norm_isf((1 - level / 100) / 2))
    counts = np.zeros(k)
    mean = np.full(k, np.nan)
    pct = np.full((2, k), np.nan)
    bc = np.full((2, k), np.nan)
    z0 = np.full(k, np.nan)
    a = (100 - level) / 2
    for j in range(k):
        x = reps[:, j]
        x = x[~np.isnan(x)]
        counts[j] = len(x)
        if len(x):
            mean[j] = x.mean()
            pct[:, j] = stata_percentile(x, a), stata_percentile(x, 100 - a)
            z0[j], bc[0, j], bc[1, j] = bc_interval(x, obs[j], level)
    normal = np.vstack([obs - zc * se, obs + zc * se])
    return BootstrapSummary(counts, mean, mean - obs, se, V, z0, normal, pct, bc, m)


# ---- jackknife ------------------------------------------------------------------------------
@dataclass
class JackknifeSummary:
    """Pseudo-values (n x k), their mean (e(b_jk)), the jackknife VCE and standard errors."""

    pseudo: np.ndarray
    mean_pseudo: np.ndarray
    V: np.ndarray
    se: np.ndarray
    n: int


def jackknife_summary(observed: np.ndarray, loo: np.ndarray, mse: bool = False) -> JackknifeSummary:
    """Jackknife from the leave-one-out (or leave-one-cluster-out) values (n x k):
    V = (n-1)/n sum (t_(i) - t_(.))(t_(i) - t_(.))' over the replicates complete in every
    statistic, t_(.) their mean (mse: the observed value instead); pseudo-values
    n t - (n-1) t_(i)."""
    obs = np.asarray(observed, dtype=float)
    loo = np.asarray(loo, dtype=float).reshape(-1, len(obs))
    ok = ~np.isnan(loo).any(axis=1)
    r = loo[ok]
    n = len(r)
    k = len(obs)
    pseudo = len(loo) * obs - (len(loo) - 1) * loo
    if n < 2:
        V = np.full((k, k), np.nan)
    else:
        d = r - (obs if mse else r.mean(axis=0))
        V = (n - 1) / n * (d.T @ d)
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    mean_pseudo = np.nanmean(pseudo, axis=0) if len(pseudo) else np.full(k, np.nan)
    return JackknifeSummary(pseudo, mean_pseudo, V, se, n)


# ---- permutation tests ------------------------------------------------------------------------
@dataclass
class PermutationCount:
    """One statistic's Monte Carlo permutation test: c (count of permuted values as extreme as
    the observed), n (permutations with a value), p = c/n and its binomial standard error and
    exact (Clopper-Pearson) interval."""

    c: int
    n: int
    p: float
    se: float
    lo: float
    hi: float


def permutation_count(observed: float, values: np.ndarray, kind: str = "two",
                      level: float = 95.0, eps: float = 1e-7) -> PermutationCount:
    """kind 'two': |T| >= |T(obs)|; 'upper': T >= T(obs); 'lower': T <= T(obs); each
    comparison eps-tolerant (Stata's eps(), so that ties from rounding count)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if kind == "upper":
        c = int(np.count_nonzero(v >= observed - eps))
    elif kind == "lower":
        c = int(np.count_nonzero(v <= observed + eps))
    else:
        c = int(np.count_nonzero(np.abs(v) >= abs(observed) - eps))
    if n == 0:
        return PermutationCount(c, 0, math.nan, math.nan, math.nan, math.nan)
    p = c / n
    se = math.sqrt(p * (1 - p) / n)
    lo, hi = clopper_pearson(c, n, level)
    return PermutationCount(c, n, p, se, lo, hi)


def clopper_pearson(c: int, n: int, level: float = 95.0) -> tuple[float, float]:
    """The exact binomial interval for c successes in n trials (as Stata's cii, exact)."""
    from scipy import stats

    a = (1 - level / 100) / 2
    lo = 0.0 if c == 0 else float(stats.beta.ppf(a, c, n - c + 1))
    hi = 1.0 if c == n else float(stats.beta.ppf(1 - a, c + 1, n - c))
    return lo, hi
