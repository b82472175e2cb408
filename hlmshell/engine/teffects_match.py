"""Nearest-neighbor matching estimators of a binary treatment's effect with Abadie and Imbens'
standard errors (Stata's teffects nnmatch and psmatch).

Why its own module: matching is not an M-estimator (the estimate is not differentiable in the
data), so its variance comes from Abadie and Imbens (2006): the spread of the unit-level
effects plus the conditional outcome variances, weighted by how often each unit serves as a
match (K) and by the squared shares it gets (K'), with each unit's conditional variance
estimated by matching it to its nearest neighbours within its own treatment group.

Matches are taken with replacement; every candidate within dtol of the M-th nearest distance
is a match (ties share the weight); ematch() restricts candidates to identical values of the
exact-matching variables; biasadj() adds Abadie and Imbens' (2011) regression correction,
fitted by least squares within each treatment group.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 512


class MatchError(ValueError):
    def __init__(self, message: str, code: int = 459):
        super().__init__(message)
        self.code = code


@dataclass
class MatchSpec:
    stat: str = "ate"          # ate | atet
    m: int = 1                 # nneighbor()
    nn_var: int = 2            # matches for the conditional variances, vce(robust, nn(#))
    caliper: float | None = None
    dtol: float = 1e-10


@dataclass
class MatchFit:
    tau: float
    se: float
    k_min: int
    k_max: int
    pairs: list                # per unit: indices of its matches in the other group (or None)
    y0: np.ndarray             # imputed potential outcomes
    y1: np.ndarray


def scaling(Xm: np.ndarray, metric: str) -> np.ndarray:
    """Weighting matrix W of the distance (x_i - x_j)' W (x_i - x_j)."""
    k = Xm.shape[1]
    if metric == "euclidean":
        return np.eye(k)
    S = np.atleast_2d(np.cov(Xm, rowvar=False))
    if metric == "ivariance":
        return np.diag(1.0 / np.diag(S))
    return np.linalg.pinv(S)


def _transform(Xm, W):
    """Coordinates in which the metric is Euclidean (W = L L')."""
    vals, vecs = np.linalg.eigh((W + W.T) / 2)
    vals = np.clip(vals, 0, None)
    return Xm @ (vecs * np.sqrt(vals))


def _nearest(Zi, Zc, idx_c, m, dtol, exclude=None):
    """For each row of Zi, indices (into idx_c) of the m nearest rows of Zc with ties, and
    the m-th distance."""
    out = []
    dist_m = []
    for s in range(0, Zi.shape[0], BLOCK):
        zi = Zi[s:s + BLOCK]
        d = np.sqrt(((zi[:, None, :] - Zc[None, :, :]) ** 2).sum(axis=2))
        if exclude is not None:
            ex = exclude[s:s + BLOCK]
            d[np.arange(len(ex)), ex] = np.inf
        mm = min(m, d.shape[1] - (0 if exclude is None else 1))
        if mm < 1:
            out += [np.array([], dtype=int)] * len(zi)
            dist_m += [np.inf] * len(zi)
            continue
        kth = np.partition(d, mm - 1, axis=1)[:, mm - 1]
        for r in range(len(zi)):
            sel = np.flatnonzero(d[r] <= kth[r] + dtol)
            out.append(idx_c[sel])
            dist_m.append(kth[r])
    return out, np.array(dist_m)


def _groups(E):
    """Keys of the exact-matching cells (all one cell without ematch)."""
    if E is None or E.shape[1] == 0:
        return np.zeros(0 if E is None else E.shape[0], dtype=int)
    _, inv = np.unique(E, axis=0, return_inverse=True)
    return inv.ravel()


def match_sets(Z, t, need, cells, m, dtol, caliper, *, own=False):
    """Matches of every unit in `need`: in the other treatment group (own=False) or in its own
    group excluding itself (own=True, the variance matches), within its ematch cell."""
    n = Z.shape[0]
    sets: list = [None] * n
    dist = np.full(n, np.nan)
    for cell in np.unique(cells):
        in_cell = cells == cell
        for g in (0, 1):
            who = np.flatnonzero(in_cell & need & (t == g))
            if who.size == 0:
                continue
            pool = np.flatnonzero(in_cell & (t == (g if own else 1 - g)))
            if pool.size == 0 or (own and pool.size < 2):
                if own:
                    continue
                raise MatchError(f"no exact matches for observation {who[0] + 1}; this is "
                                 "not allowed", 459)
            excl = np.searchsorted(pool, who) if own else None
            found, dm = _nearest(Z[who], Z[pool], pool, m, dtol, excl)
            for i, f, d in zip(who, found, dm):
                sets[i] = f
                dist[i] = d
    if caliper is not None and not own:
        bad = np.flatnonzero(need & (dist > caliper))
        if bad.size:
            raise MatchError(f"no nearest-neighbor matches for observation {bad[0] + 1} within "
                             f"caliper {caliper:g}; this is not allowed", 459)
    return sets


def _bias_models(Xb, y, t, K):
    """Least-squares fits of y on the bias-adjustment covariates within each group, each unit
    weighted by how much it serves as a match (K), as Stata fits them."""
    out = {}
    for g in (0, 1):
        sel = (t == g) & (K > 0)
        r = np.sqrt(K[sel])
        out[g] = np.linalg.lstsq(Xb[sel] * r[:, None], y[sel] * r, rcond=None)[0]
    return out


def _impute(y, t, sets, need, Xb, K):
    """Potential outcomes: own outcome for the observed level, the matches' mean (bias
    corrected) for the other."""
    n = y.size
    y0 = np.where(t == 0, y, np.nan)
    y1 = np.where(t == 1, y, np.nan)
    fits = _bias_models(Xb, y, t, K) if Xb is not None else None
    for i in np.flatnonzero(need):
        js = sets[i]
        g = 1 - int(t[i])
        val = y[js]
        if fits is not None:
            val = val + Xb[i] @ fits[g] - Xb[js] @ fits[g]
        (y1 if g == 1 else y0)[i] = val.mean()
    return y0[:n], y1[:n]


def _usage(sets, need, n):
    """K (matches' summed shares) and K' (summed squared shares) of every unit."""
    K = np.zeros(n)
    K2 = np.zeros(n)
    for i in np.flatnonzero(need):
        js = sets[i]
        share = 1.0 / len(js)
        K[js] += share
        K2[js] += share * share
    return K, K2


def _cond_var(Z, y, t, cells, nn, dtol):
    """sigma^2(x_i): the sample variance (n - 1 divisor) of y_i and its J nearest own-group
    neighbours' outcomes (all of them when they tie), as Stata computes it."""
    n = y.size
    sets = match_sets(Z, t, np.ones(n, dtype=bool), cells, nn, dtol, None, own=True)
    s2 = np.zeros(n)
    for i in range(n):
        js = sets[i]
        if js is None or len(js) == 0:
            continue
        s2[i] = np.var(np.concatenate([[y[i]], y[js]]), ddof=1)
    return s2


def estimate(y, t, Z, spec: MatchSpec, *, E=None, Xb=None) -> MatchFit:
    """Z: matching coordinates already in the metric (see scaling/_transform); E: exact-match
    columns; Xb: bias-adjustment design with its constant."""
    n = y.size
    cells = _groups(E) if E is not None else np.zeros(n, dtype=int)
    need = np.ones(n, dtype=bool) if spec.stat == "ate" else (t == 1)
    sets = match_sets(Z, t, need, cells, spec.m, spec.dtol, spec.caliper)
    K, K2 = _usage(sets, need, n)
    y0, y1 = _impute(y, t, sets, need, Xb, K)
    counts = [len(sets[i]) for i in np.flatnonzero(need)]
    s2 = _cond_var(Z, y, t, cells, spec.nn_var, spec.dtol)
    if spec.stat == "ate":
        te = y1 - y0
        tau = te.mean()
        v = np.sum((te - tau) ** 2 + s2 * (K * K + 2 * K - K2)) / n ** 2
    else:
        tr = t == 1
        n1 = tr.sum()
        te = y[tr] - y0[tr]
        tau = te.mean()
        v = (np.sum((te - tau) ** 2) + np.sum(((K * K - K2) * s2)[~tr])) / n1 ** 2
    return MatchFit(tau=float(tau), se=float(np.sqrt(v)), k_min=int(min(counts)),
                    k_max=int(max(counts)), pairs=sets, y0=y0, y1=y1)


def coordinates(Xm, metric: str):
    return _transform(Xm, scaling(Xm, metric))
