"""Two-level linear mixed model with weights on the groups: Stata's `|| id:, pweight()` and
`fweight()` (with or without level-one weights).

Why a separate engine: a group weight multiplies the group's whole log likelihood,
    L = sum_j w_j log integral exp(sum_i a_ij log f(y_ij | u_j)) phi(u_j) du_j,
log-determinant included, which the cross-product engine (suffstats/blocked) cannot express
(scaling a group's cross products by w_j is not the same). For one random-effects level the
groups are independent, so everything is a batch of small q x q problems:
    -2 L = sum_j w_j log|I + Lambda' A_j Lambda| + N_w log(2 pi sigma^2) + Q(beta)/sigma^2,
A_j = Z_j' diag(a) Z_j, N_w = sum_j w_j sum_i a_ij, Q the weighted penalised residual sum of
squares: sum_j w_j (C_j - B_j' Lambda M_j^-1 Lambda' B_j) reduced over beta, with
B_j = Z_j' diag(a) [X y], C_j = [X y]' diag(a) [X y], M_j = I + Lambda' A_j Lambda. beta and
sigma^2 are profiled out (REML adds log|X' V^-1 X| and uses N_w - p, as for the expanded data
under integer group weights). Lambda is optimised by BFGS on numerical derivatives (few
parameters); the variance part's covariance is the inverse of the observed information in
Stata's metric (ln sd, atanh corr, lnsig_e) from central second differences. The data are
centred and scaled first (engine.standardize) and the results mapped back.
"""
from __future__ import annotations

import math

import numpy as np

from . import standardize
from .types import LmmFit, RandomBlock

LOG2PI = math.log(2 * math.pi)


class _Groups:
    """The per-group cross products on the standardized data."""

    def __init__(self, y, X, Z, codes, a, wg):
        G = int(codes.max()) + 1
        p = X.shape[1]
        q = Z.shape[1]
        W = np.column_stack([X, y])
        Za = Z * a[:, None]
        self.A = np.zeros((G, q, q))
        self.B = np.zeros((G, q, p + 1))
        for i in range(q):
            for k in range(q):
                self.A[:, i, k] = np.bincount(codes, weights=Za[:, i] * Z[:, k], minlength=G)
            for k in range(p + 1):
                self.B[:, i, k] = np.bincount(codes, weights=Za[:, i] * W[:, k], minlength=G)
        wrow = wg[codes] * a
        self.C = W.T @ (W * wrow[:, None])
        self.Nw = float(wrow.sum())
        self.wg = wg
        self.p, self.q = p, q


def _factor(st, theta, q):
    lam = st.lam(theta)
    return lam[0, 0] * np.eye(q) if st.kind == "identity" else lam


def _pieces(g: _Groups, Lam: np.ndarray):
    """(sum_j w_j log|M_j|, the reduced [X y] cross products S)."""
    q = g.q
    LtA = np.einsum("ji,gjk->gik", Lam, g.A)
    M = np.einsum("gik,kl->gil", LtA, Lam) + np.eye(q)[None]
    Lc = np.linalg.cholesky(M)
    logdet = 2.0 * np.log(np.diagonal(Lc, axis1=1, axis2=2)).sum(axis=1)
    LtB = np.einsum("ji,gjk->gik", Lam, g.B)
    K = np.linalg.solve(M, LtB)
    S = g.C - np.einsum("g,gia,gib->ab", g.wg, LtB, K)
    return float(g.wg @ logdet), 0.5 * (S + S.T)


def _profiled(g: _Groups, S: np.ndarray, reml: bool):
    """(beta, Q, log|S_XX|) from the reduced cross products."""
    p = g.p
    if p:
        L = np.linalg.cholesky(S[:p, :p])
        z = np.linalg.solve(L, S[:p, p])
        beta = np.linalg.solve(L.T, z)
        Q = float(S[p, p] - z @ z)
        ld = 2.0 * float(np.log(np.diag(L)).sum())
    else:
        beta, Q, ld = np.zeros(0), float(S[0, 0]), 0.0
    if not Q > 0:
        raise np.linalg.LinAlgError("non-positive residual sum of squares")
    return beta, Q, ld


def _dev(g: _Groups, st, theta, reml: bool) -> float:
    try:
        ld, S = _pieces(g, _factor(st, theta, g.q))
        _, Q, ldx = _profiled(g, S, reml)
    except np.linalg.LinAlgError:
        return math.inf
    nu = g.Nw - g.p if reml else g.Nw
    d = ld + nu * (1.0 + LOG2PI + math.log(Q / nu))
    return d + ldx if reml else d


def _dev_stata(g: _Groups, st, s: np.ndarray, reml: bool) -> float:
    """-2 L in Stata's metric (beta at its GLS value, sigma^2 free: lnsig_e last)."""
    sigma2 = math.exp(2 * s[-1])
    psi, _ = st.cov_from_stata(s[:-1])
    rel = psi / sigma2
    if st.kind == "identity":
        Lam = math.sqrt(rel[0, 0]) * np.eye(g.q)
    else:
        w, U = np.linalg.eigh(0.5 * (rel + rel.T))
        Lam = U * np.sqrt(np.clip(w, 0.0, None))[None, :]
    ld, S = _pieces(g, Lam)
    _, Q, ldx = _profiled(g, S, reml)
    nu = g.Nw - g.p if reml else g.Nw
    d = ld + nu * (LOG2PI + math.log(sigma2)) + Q / sigma2
    return d + ldx if reml else d


def _hessian(f, x, h=1e-4):
    k = len(x)
    H = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / (h * h)
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * h * h)
    return H


def _polish(f, x, report, steps: int = 6):
    """Newton steps on central differences (BFGS on numerical gradients stops a few 1e-8
    short); a step is kept only when the deviance does not rise."""
    fx = f(x)
    for _ in range(steps):
        k = len(x)
        grad = np.empty(k)
        for i in range(k):
            e = np.zeros(k)
            e[i] = 1e-6 * max(1.0, abs(x[i]))
            grad[i] = (f(x + e) - f(x - e)) / (2 * e[i])
        if not np.all(np.isfinite(grad)) or np.abs(grad).max() < 1e-9:
            break
        try:
            w, U = np.linalg.eigh(_hessian(f, x))
        except np.linalg.LinAlgError:
            break
        step = U @ ((U.T @ grad) / np.maximum(np.abs(w), 1e-8 * max(np.abs(w).max(), 1.0)))
        cand = x - step
        fc = f(cand)
        if not fc <= fx:
            break
        x, fx = cand, fc
        report(x)
    return x


def fit(y, X, block: RandomBlock, obs_weights, group_weights, *, reml: bool = False,
        maxiter: int = 300, callback=None) -> LmmFit:
    """The fit of y = X b + Z u_j + e with level-one weights obs_weights (per row; None: 1)
    and group weights group_weights (per group code of block.group); fit_lmm's LmmFit (the
    same extra keys: fixed_map, beta_std, V_beta_std, theta, lambdas)."""
    from scipy.optimize import minimize  # lazy: scipy.optimize is a heavy import

    y = np.asarray(y, dtype=float).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=float).reshape(n, -1)
    a = np.ones(n) if obs_weights is None else np.asarray(obs_weights, dtype=float).reshape(n)
    codes = np.asarray(block.group, dtype=np.int64).reshape(-1)
    wg = np.asarray(group_weights, dtype=float).reshape(-1)
    Z = np.asarray(block.Z, dtype=float).reshape(n, -1)
    st = standardize.structure_of(block)
    fm = standardize.fixed_map(y, X)
    yt, Xt = fm.apply(y, X)
    g = _Groups(yt, Xt, Z, codes, a, wg)
    offset = fm.ll_offset(g.Nw, reml)
    it = [0]

    def report(theta):
        if callback is not None:
            callback("gradient", it[0], -0.5 * _dev(g, st, theta, reml) + offset)
        it[0] += 1

    theta0 = st.start(1.0)
    if not math.isfinite(_dev(g, st, theta0, reml)):
        theta0 = st.start(0.1)
    if callback is not None:
        callback("em", 0, -0.5 * _dev(g, st, theta0, reml) + offset)
    report(theta0)
    res = minimize(lambda t: _dev(g, st, t, reml), theta0, method="BFGS", callback=report,
                   options={"gtol": 1e-9, "maxiter": maxiter})
    theta = _polish(lambda t: _dev(g, st, t, reml), res.x, report)
    Lam = _factor(st, theta, g.q)
    _, S = _pieces(g, Lam)
    bt, Q, _ = _profiled(g, S, reml)
    nu = g.Nw - g.p if reml else g.Nw
    s2 = Q / nu
    Vt = s2 * np.linalg.inv(S[:g.p, :g.p]) if g.p else np.zeros((0, 0))
    rel = Lam @ Lam.T
    cov_full = s2 * rel
    s_hat = np.concatenate([st.stata_from_cov(cov_full if st.kind != "identity"
                                              else cov_full[:1, :1]), [0.5 * math.log(s2)]])
    vc_V = None
    try:
        if np.all(np.isfinite(s_hat)):
            info = 0.5 * _hessian(lambda s: _dev_stata(g, st, s, reml), s_hat)
            ev = np.linalg.eigvalsh(info)
            if ev.min() > 1e-10 * max(ev.max(), 1.0):
                vc_V = np.linalg.inv(info)
                vc_V = 0.5 * (vc_V + vc_V.T)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        vc_V = None
    c = fm.y_scale
    names = [(nm, "_cons") for nm in st.stata_names(block.depth, 1)] + [("lnsig_e", "_cons")]
    shift = np.concatenate([st.stata_shift(math.log(c), np.zeros(st.q)), [math.log(c)]])
    converged = bool(res.success or np.max(np.abs(res.jac)) < 1e-4)
    cov_out = c * c * (cov_full[:1, :1] if st.kind == "identity" and g.q > COMPACT else cov_full)
    return LmmFit(beta=fm.beta(bt), V_beta=fm.vbeta(Vt), ll=-0.5 * _dev(g, st, theta, reml) + offset,
                  reml=reml, converged=converged, iterations=max(it[0] - 1, 0), sigma2=c * c * s2,
                  covs=[cov_out], vc_names=names, vc_theta=s_hat + shift, vc_V=vc_V, n_obs=n,
                  extra={"theta": theta, "lambdas": [Lam], "block_order": [0],
                         "fixed_map": fm, "beta_std": bt, "V_beta_std": Vt, "nfev": res.nfev,
                         "group_weights": wg})


COMPACT = 1000   # as engine.lmm: identity blocks wider than this stay 1 x 1
