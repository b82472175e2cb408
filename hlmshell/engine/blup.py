"""BLUPs of the random effects and their standard errors from a fitted MixedModel.

With G = Lambda Lambda' (Lambda a symmetric square root, so a singular G at the boundary is
fine) and W = Z Lambda, Woodbury's identity gives, cluster by cluster (observations linked
by any random effect; V is block-diagonal over them):

    M = W'W + sigma2 I
    u_hat = G Z' V^-1 (y - X b) = Lambda M^-1 W' (y - X b)
    Var(u_hat - u) = G - G Z' P Z G
                   = Lambda [sigma2 M^-1 + K V_b K'] Lambda',   K = M^-1 W' X

(P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1; V_b = (X'V^-1 X)^-1 is the fitted VCE of the fixed
effects), i.e. the standard errors count the uncertainty of the fixed effects, as Stata's
`predict, reses` does. Only cluster-sized dense matrices are ever formed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hlmshell.engine.types import MixedModel


@dataclass
class BlockBlups:
    """BLUPs of one random-effects block: row g = group code g, column = block.names."""

    u: np.ndarray           # G x q
    se: np.ndarray | None   # G x q, or None when not requested


def sqrt_psd(G: np.ndarray) -> np.ndarray:
    G = np.atleast_2d(np.asarray(G, dtype=float))
    w, Q = np.linalg.eigh((G + G.T) / 2)
    w = np.clip(w, 0.0, None)
    return (Q * np.sqrt(w)) @ Q.T


def clusters(model: MixedModel) -> np.ndarray:
    """Connected components of observations linked through shared groups (any block)."""
    n = len(model.y)
    if len(model.blocks) == 1:
        return np.asarray(model.blocks[0].group, dtype=np.int64)
    rows, cols = [], []
    offset = n
    for b in model.blocks:
        g = np.asarray(b.group, dtype=np.int64)
        rows.append(np.arange(n))
        cols.append(offset + g)
        offset += int(g.max()) + 1 if len(g) else 0
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    A = coo_matrix((np.ones(len(r)), (r, c)), shape=(offset, offset))
    _, lab = connected_components(A, directed=False)
    return lab[:n]


def _fixed_part(model: MixedModel, y: np.ndarray, X: np.ndarray):
    """(y - X b, X, V_b) for the BLUPs, on the standardized fixed part when the fit carries
    one (engine.standardize): y - X b of a covariate with mean 1e12 would cancel 1e12-sized
    terms, and X V_b X' equals X~ V~ X~' c_y^2, whose terms are O(1)."""
    fit = model.fit
    p = X.shape[1]
    extra = fit.extra if isinstance(fit.extra, dict) else {}
    fm = extra.get("fixed_map")
    if fm is not None and len(fm.scale) == p and "beta_std" in extra:
        yt, Xt = fm.apply(y, X)
        resid = fm.y_scale * (yt - (Xt @ extra["beta_std"] if p else 0.0))
        Vb = fm.y_scale ** 2 * np.asarray(extra["V_beta_std"], dtype=float) if p else None
        return resid, Xt, Vb
    beta = np.asarray(fit.beta, dtype=float).reshape(-1)
    resid = y - (X @ beta if p else 0.0)
    Vb = np.asarray(fit.V_beta, dtype=float).reshape(p, p) if p else None
    return resid, X, Vb


def compute_blups(model: MixedModel, *, with_se: bool = True) -> list[BlockBlups]:
    fit = model.fit
    y = np.asarray(model.y, dtype=float)
    X = np.asarray(model.X, dtype=float)
    n = len(y)
    if X.size == 0:
        X = np.zeros((n, 0))
    resid, X, Vb = _fixed_part(model, y, X)
    s2 = float(fit.sigma2)
    lams = [sqrt_psd(G) for G in fit.covs]
    blocks = model.blocks
    out = []
    for b in blocks:
        G = int(np.max(b.group)) + 1 if len(b.group) else 0
        q = len(b.names)
        out.append(BlockBlups(np.full((G, q), np.nan),
                              np.full((G, q), np.nan) if with_se else None))

    lab = clusters(model)
    order = np.argsort(lab, kind="stable")
    bounds = np.flatnonzero(np.diff(lab[order])) + 1
    for idx in np.split(order, bounds):
        if len(idx) == 0:
            continue
        # columns of W for this cluster: (block, local group) pieces of width q_b
        pieces = []      # (block index, group codes, start column)
        ncol = 0
        for bi, b in enumerate(blocks):
            codes, inv = np.unique(np.asarray(b.group)[idx], return_inverse=True)
            pieces.append((bi, codes, inv, ncol))
            ncol += len(codes) * len(b.names)
        W = np.zeros((len(idx), ncol))
        for bi, codes, inv, start in pieces:
            Zb = np.asarray(blocks[bi].Z, dtype=float)[idx] @ lams[bi]
            q = Zb.shape[1]
            for j in range(q):
                W[np.arange(len(idx)), start + inv * q + j] = Zb[:, j]
        M = W.T @ W + s2 * np.eye(ncol)
        L = np.linalg.cholesky(M)

        def msolve(B):
            return np.linalg.solve(L.T, np.linalg.solve(L, B))

        w = msolve(W.T @ resid[idx])
        if with_se:
            Minv = msolve(np.eye(ncol))
            C = s2 * Minv
            if Vb is not None:
                K = Minv @ (W.T @ X[idx])
                C = C + K @ Vb @ K.T
        for bi, codes, inv, start in pieces:
            lam = lams[bi]
            q = lam.shape[0]
            for gi, g in enumerate(codes):
                sl = slice(start + gi * q, start + (gi + 1) * q)
                out[bi].u[g] = lam @ w[sl]
                if with_se:
                    var = lam @ C[sl, sl] @ lam.T
                    out[bi].se[g] = np.sqrt(np.clip(np.diag(var), 0.0, None))
    return out


def fitted_values(model: MixedModel, blups: list[BlockBlups], upto_depth: int | None = None) -> np.ndarray:
    """xb + Zu on the estimation sample (only blocks with depth <= upto_depth when given)."""
    X = np.asarray(model.X, dtype=float)
    beta = np.asarray(model.fit.beta, dtype=float).reshape(-1)
    f = X @ beta if X.size else np.zeros(len(model.y))
    for b, bl in zip(model.blocks, blups):
        if upto_depth is not None and b.depth > upto_depth:
            continue
        f = f + np.sum(np.asarray(b.Z, dtype=float) * bl.u[np.asarray(b.group)], axis=1)
    return f
