"""Nonparametric survival numerics: the Kaplan-Meier product-limit estimate with Greenwood
standard errors and log-log intervals (as Stata's sts list), and the k-sample logrank and
Wilcoxon (Breslow-Gehan) tests of sts test.

Records are (t0, t, d): at risk on (t0, t], failing at t when d is 1, so delayed entry and
multiple records per subject need nothing special. Pure numpy; no session, no printing."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class KMTable:
    """One row per distinct exit time: at risk just before, failures, net lost (censored
    minus entered), survivor function, Greenwood SE and the log-log interval."""

    time: np.ndarray
    at_risk: np.ndarray
    fail: np.ndarray
    lost: np.ndarray
    entered: np.ndarray
    surv: np.ndarray
    se: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def at_risk(t0: np.ndarray, t: np.ndarray, times: np.ndarray, w=None) -> np.ndarray:
    """Weighted count of records with t0 < time <= t at each of `times`."""
    w = np.ones(len(t)) if w is None else w
    o_t, o_0 = np.argsort(t), np.argsort(t0)
    cum_t = np.r_[0.0, np.cumsum(w[o_t])]
    cum_0 = np.r_[0.0, np.cumsum(w[o_0])]
    left_exit = cum_t[np.searchsorted(t[o_t], times, side="left")]     # exited before time
    entered = cum_0[np.searchsorted(t0[o_0], times, side="left")]       # t0 < time
    return entered - left_exit


def kaplan_meier(t0, t, d, z: float, w=None) -> KMTable:
    """Product-limit estimate over the records; z the normal quantile of the interval."""
    w = np.ones(len(t)) if w is None else np.asarray(w, float)
    times = np.unique(t)
    n = at_risk(t0, t, times, w)
    idx = np.searchsorted(times, t)
    fail = np.bincount(idx, weights=w * (d > 0), minlength=len(times))
    out = np.bincount(idx, weights=w, minlength=len(times))
    ent_idx = np.searchsorted(times, t0, side="right")     # entries in (time[j-1], time[j]]
    keep = (t0 > 0) & (ent_idx < len(times))
    entered = np.bincount(ent_idx[keep], weights=w[keep], minlength=len(times))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, 1 - fail / n, 1.0)
        surv = np.cumprod(factor)
        term = np.where(n > fail, fail / (n * (n - fail)), np.where(fail > 0, np.inf, 0.0))
        gw = np.cumsum(term)
        se = surv * np.sqrt(gw)
        logs = np.cumsum(np.log(np.where(factor > 0, factor, np.nan)))
        sig = np.sqrt(gw) / np.abs(logs)
        lower = surv ** np.exp(z * sig)
        upper = surv ** np.exp(-z * sig)
    bad = ~(surv > 0) | ~(surv < 1) | ~np.isfinite(sig)
    se = np.where(surv > 0, se, np.nan)
    lower, upper = np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)
    return KMTable(times, n, fail, out - fail - entered, entered, surv, se, lower, upper)


def km_at(table: KMTable, when: np.ndarray) -> np.ndarray:
    """S(when): the last step at or before each time (1 before the first)."""
    j = np.searchsorted(table.time, when, side="right") - 1
    return np.where(j >= 0, table.surv[np.maximum(j, 0)], 1.0)


def km_quantile(table: KMTable, p: float) -> float:
    """Smallest time with S(t) <= 1 - p (Stata's sts/stsum percentiles); nan if never."""
    hit = np.flatnonzero(table.surv <= 1 - p + 1e-12)
    return float(table.time[hit[0]]) if hit.size else float("nan")


@dataclass
class RankTest:
    groups: list
    observed: np.ndarray
    expected: np.ndarray
    chi2: float
    df: int
    sum_ranks: np.ndarray


def rank_test(t0, t, d, g, kind: str = "logrank", strata=None) -> RankTest:
    """k-sample logrank (weight 1) or Wilcoxon-Breslow-Gehan (weight n at risk) test of equal
    survivor functions; with strata the stratum-wise O - E and variances are summed."""
    groups = list(np.unique(g))
    k = len(groups)
    gi = np.searchsorted(groups, g)
    strata = np.zeros(len(t)) if strata is None else strata
    O, E, U = np.zeros(k), np.zeros(k), np.zeros(k)
    V = np.zeros((k, k))
    for s in np.unique(strata):
        m = strata == s
        times = np.unique(t[m & (d > 0)])
        if not times.size:
            continue
        nj = np.column_stack([at_risk(t0[m & (gi == j)], t[m & (gi == j)], times) for j in range(k)])
        fj = np.column_stack([np.bincount(np.searchsorted(times, t[m & (gi == j) & (d > 0)]),
                                          minlength=len(times)) for j in range(k)]).astype(float)
        n, f = nj.sum(1), fj.sum(1)
        wt = n if kind == "wilcoxon" else np.ones_like(n)
        e = nj * (f / n)[:, None]
        O += fj.sum(0)
        E += e.sum(0)
        U += (wt[:, None] * (fj - e)).sum(0)
        c = np.where(n > 1, wt ** 2 * f * (n - f) / (n ** 2 * (n - 1)), 0.0)
        for a in range(k):
            for b in range(k):
                V[a, b] += np.sum(c * nj[:, a] * ((a == b) * n - nj[:, b]))
    Ur, Vr = U[:-1], V[:-1, :-1]
    chi2 = float(Ur @ np.linalg.pinv(Vr) @ Ur)
    return RankTest(groups, O, E, chi2, int(np.linalg.matrix_rank(Vr)), U)
