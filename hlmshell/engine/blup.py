"""BLUPs of the random effects and their standard errors from a fitted MixedModel.

With G = sigma2 Lambda Lambda' (any factor; a singular G at the boundary is fine) and
A = Lambda'Z'Z Lambda + I, the blocked factorisation (engine.blocked) gives, level by level and
group by group (nested, crossed or partially crossed effects alike, Z held as level codes):

    u_hat = G Z' V^-1 (y - X b) = Lambda A^-1 Lambda'Z'(y - X b)
    Var(u_hat - u) = G - G Z' P Z G
                   = sigma2 Lambda A^-1 Lambda' + K V_b K',   K = Lambda A^-1 Lambda'Z'X

(P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1; V_b = (X'V^-1 X)^-1 is the fitted VCE of the fixed
effects), i.e. the standard errors count the uncertainty of the fixed effects, as Stata's
`predict, reses` does. Only the diagonal of Lambda A^-1 Lambda' is formed (blocked.inverse_diag).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlmshell.engine import blocked
from hlmshell.engine.suffstats import build
from hlmshell.engine.types import BlockBlups, IndicatorMatrix, MixedModel




def sqrt_psd(G: np.ndarray) -> np.ndarray:
    G = np.atleast_2d(np.asarray(G, dtype=float))
    w, Q = np.linalg.eigh((G + G.T) / 2)
    w = np.clip(w, 0.0, None)
    return (Q * np.sqrt(w)) @ Q.T


def _relative_factor(block, cov, s2: float) -> np.ndarray:
    """Lambda with Lambda Lambda' = cov / s2; 1 x 1 (lambda I) for an identity block, so that an
    `R.var` block with L levels never needs an L x L matrix."""
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    if (block.covariance or "").lower().startswith("id") or isinstance(block.Z, IndicatorMatrix):
        return np.array([[np.sqrt(max(float(cov[0, 0]), 0.0) / s2)]])
    return sqrt_psd(cov / s2)


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
    if isinstance(fit.extra, dict) and fit.extra.get("residual_data") is not None:
        from hlmshell.engine import marginal       # a residual structure: V per group
        return marginal.compute_blups(model, with_se=with_se)
    y = np.asarray(model.y, dtype=float)
    X = np.asarray(model.X, dtype=float)
    n = len(y)
    if X.size == 0:
        X = np.zeros((n, 0))
    resid, X, Vb = _fixed_part(model, y, X)
    s2 = float(fit.sigma2)
    blocks = model.blocks
    order = sorted(range(len(blocks)), key=lambda i: blocks[i].depth)   # build's level order
    ss = build(resid, X, blocks, weights=getattr(model, "weights", None))
    ev = blocked.forward(ss, [_relative_factor(blocks[i], fit.covs[i], s2) for i in order])
    p = X.shape[1]
    V = np.zeros((p + 1, p + 1))
    V[p, 0] = 1.0                                 # the residuals: u_hat
    V[:p, 1:] = np.eye(p)                         # X: K
    sol = blocked.solve(ss, ev, V)
    var = blocked.inverse_diag(ss, ev) if with_se else None
    out: list = [None] * len(blocks)
    for pos, i in enumerate(order):
        u = sol[pos][:, :, 0]
        se = None
        if with_se:
            K = sol[pos][:, :, 1:]
            v = s2 * var[pos]
            if Vb is not None:
                v = v + np.einsum("gaj,jk,gak->ga", K, Vb, K)
            se = np.sqrt(np.clip(v, 0.0, None))
        out[i] = _absent_nan(blocks[i], u, se)
    return out


def _absent_nan(block, u: np.ndarray, se):
    """Groups with no observations (codes not used) get missing BLUPs."""
    g = np.asarray(block.group, dtype=np.int64)
    absent = np.bincount(g, minlength=u.shape[0]) == 0 if len(g) else np.ones(u.shape[0], bool)
    if absent.any():
        u[absent] = np.nan
        if se is not None:
            se[absent] = np.nan
    return BlockBlups(u, se)


def _zu(block, u: np.ndarray) -> np.ndarray:
    """Z_b u_b for every observation, Z_b as stored (R.var columns as level codes)."""
    g = np.asarray(block.group)
    Z = block.Z
    if not isinstance(Z, IndicatorMatrix):
        return np.sum(np.asarray(Z, dtype=float) * u[g], axis=1)
    f = np.zeros(len(g))
    col = 0
    for codes, L, v in Z.factors:
        part = u[g, col + codes]
        f += part if v is None else part * v
        col += L
    if Z.dense is not None:
        f += np.sum(Z.dense * u[g, col:], axis=1)
    return f


def fitted_values(model: MixedModel, blups: list[BlockBlups], upto_depth: int | None = None) -> np.ndarray:
    """xb + Zu on the estimation sample (only blocks with depth <= upto_depth when given)."""
    X = np.asarray(model.X, dtype=float)
    beta = np.asarray(model.fit.beta, dtype=float).reshape(-1)
    f = X @ beta if X.size else np.zeros(len(model.y))
    for b, bl in zip(model.blocks, blups):
        if upto_depth is not None and b.depth > upto_depth:
            continue
        f = f + _zu(b, bl.u)
    return f
