"""Per-group scores and conditional probabilities of the conditional (fixed-effects) logit,
for clogit's robust variance and its predictions.

Why a module of its own: the fit (engine.panel_glmm.conditional_logit) sums the likelihood
over groups; the sandwich needs each group's score d ll_g / d b = sum_t y_t x_t - d log
e_k(w) / d b, and predict's pc1 needs each row's share of its group, both computed here from
the same elementary-symmetric-polynomial recursion (first derivatives only), group by group
on a (G, T) grid so that the loop runs over positions within groups, never over groups.
"""
from __future__ import annotations

import numpy as np


def group_grid(groups: np.ndarray) -> np.ndarray:
    """(G, T) row positions of each group's rows in order, -1 where a group is shorter."""
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1
    order = np.argsort(g, kind="stable")
    counts = np.bincount(g, minlength=G)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    t = np.empty(len(g), dtype=np.int64)
    t[order] = np.arange(len(g)) - np.repeat(starts, counts)
    pos = np.full((G, int(counts.max())), -1, dtype=np.int64)
    pos[g, t] = np.arange(len(g))
    return pos


def group_scores(beta, X, y, groups, offset=None) -> np.ndarray:
    """(G, p) scores of the conditional logit, one row per group (codes 0..G-1)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    pos = group_grid(groups)
    mask = pos >= 0
    ext = np.vstack([X, np.zeros((1, X.shape[1]))])
    Xg = ext[pos]                                            # (G, T, p)
    yg = np.where(mask, np.append(y, 0.0)[pos], 0.0)
    eta = X @ np.asarray(beta, dtype=float) + (0.0 if offset is None else np.asarray(offset))
    etag = np.where(mask, np.append(eta, 0.0)[pos], -np.inf)
    m = etag.max(axis=1)
    w = np.where(mask, np.exp(etag - m[:, None]), 0.0)
    k = yg.sum(axis=1).round().astype(np.int64)
    G, T, p = Xg.shape
    K = int(k.max())
    E = np.zeros((G, K + 1))
    E[:, 0] = 1.0
    dE = np.zeros((G, K + 1, p))
    for t in range(T):
        wt = w[:, t][:, None]
        add1 = Xg[:, t, None, :] * E[:, :-1, None] + dE[:, :-1]
        dE[:, 1:] = dE[:, 1:] + wt[:, :, None] * add1
        E[:, 1:] = E[:, 1:] + wt * E[:, :-1]
    idx = np.arange(G)
    return np.einsum("gt,gtp->gp", yg, Xg) - dE[idx, k] / E[idx, k][:, None]


def share_of_group(xb: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """exp(xb_i) / sum over i's group of exp(xb_j): the probability that row i is the group's
    positive outcome given that the group has exactly one (clogit's predict pc1)."""
    xb = np.asarray(xb, dtype=float)
    g = np.asarray(groups, dtype=np.int64)
    G = int(g.max()) + 1
    m = np.full(G, -np.inf)
    np.maximum.at(m, g, xb)
    e = np.exp(xb - m[g])
    s = np.bincount(g, weights=e, minlength=G)
    return e / s[g]
