"""Profiled (restricted) deviance of a nested linear mixed model and its exact gradient.

Works on SuffStats only. Forward: for each level, innermost first, absorb every group's own
random effects into the cross products of the level above (a batched block Cholesky / Schur
complement of [Z Lambda, X, y]'[Z Lambda, X, y] + diag(I, 0)); what reaches the top is
[X y]' H^-1 [X y] with H = V / sigma^2, and the log-determinants add up to log|H|.
Backward: reverse-mode adjoints of exactly those steps, so the gradient costs one more pass.
"""
from __future__ import annotations

import math

import numpy as np

from .suffstats import SuffStats

LOG2PI = math.log(2 * math.pi)


def _T(a):
    return np.swapaxes(a, -1, -2)


def inv_logdet(W: np.ndarray):
    """Batched inverse and log-determinant of SPD matrices (G, q, q); closed forms for q <= 3,
    where LAPACK's per-matrix overhead would dominate."""
    q = W.shape[-1]
    if q == 1:
        w = W[:, 0, 0]
        if np.any(w <= 0):
            raise np.linalg.LinAlgError("not positive definite")
        return (1.0 / w)[:, None, None], float(np.log(w).sum())
    if q == 2:
        a, b, d = W[:, 0, 0], W[:, 0, 1], W[:, 1, 1]
        det = a * d - b * b
        if np.any(det <= 0) or np.any(a <= 0):
            raise np.linalg.LinAlgError("not positive definite")
        inv = np.empty_like(W)
        inv[:, 0, 0] = d / det
        inv[:, 1, 1] = a / det
        inv[:, 0, 1] = inv[:, 1, 0] = -b / det
        return inv, float(np.log(det).sum())
    if q == 3:
        a, b, c = W[:, 0, 0], W[:, 0, 1], W[:, 0, 2]
        d, e, f = W[:, 1, 1], W[:, 1, 2], W[:, 2, 2]
        A = d * f - e * e
        B = c * e - b * f
        C = b * e - c * d
        det = a * A + b * B + c * C
        if np.any(det <= 0) or np.any(a <= 0) or np.any(a * d - b * b <= 0):
            raise np.linalg.LinAlgError("not positive definite")
        inv = np.empty_like(W)
        inv[:, 0, 0] = A
        inv[:, 0, 1] = inv[:, 1, 0] = B
        inv[:, 0, 2] = inv[:, 2, 0] = C
        inv[:, 1, 1] = a * f - c * c
        inv[:, 1, 2] = inv[:, 2, 1] = b * c - a * e
        inv[:, 2, 2] = a * d - b * b
        inv /= det[:, None, None]
        return inv, float(np.log(det).sum())
    sign, ld = np.linalg.slogdet(W)
    if np.any(sign <= 0):
        raise np.linalg.LinAlgError("not positive definite")
    return np.linalg.inv(W), float(ld.sum())


class Evaluation:
    """Forward quantities at one Lambda (kept for the backward pass)."""

    __slots__ = ("lams", "cache", "logdet", "M0", "Q", "Qc", "beta", "r2", "logdetQ", "ok")


def forward(ss: SuffStats, lams: list[np.ndarray]) -> Evaluation:
    ev = Evaluation()
    ev.lams = lams
    ev.cache = [None] * len(ss.levels)
    p = ss.p
    logdet = 0.0
    corr = None                                  # correction for the current level's groups
    for k in range(len(ss.levels) - 1, -1, -1):
        lev = ss.levels[k]
        q, off = lev.q, lev.off
        lam = lams[k]
        if corr is None:
            A, B, Ctt = lev.Rww, lev.Rwt, None
        else:
            own = slice(off, off + q)
            tail = np.r_[0:off, off + q:off + q + p + 1]
            A = lev.Rww - corr[:, own, own]
            B = lev.Rwt - corr[:, own][:, :, tail]
            Ctt = corr[:, tail][:, :, tail]
        W = lam.T @ A @ lam
        W[:, range(q), range(q)] += 1.0
        Winv, ld = inv_logdet(W)
        logdet += ld
        E = lam.T @ B
        WiE = Winv @ E
        if k == 0:
            t = E.shape[-1]
            corr = E.reshape(-1, t).T @ WiE.reshape(-1, t)
            if Ctt is not None:
                corr += Ctt.sum(axis=0)
        else:
            K = _T(E) @ WiE
            if Ctt is not None:
                K += Ctt
            corr = np.add.reduceat(K, lev.starts, axis=0)
        ev.cache[k] = (A, B, Winv, E, WiE)
    M0 = ss.R0 - corr if corr is not None else ss.R0.copy()
    M0 = 0.5 * (M0 + M0.T)
    ev.M0 = M0
    ev.logdet = logdet
    Q = M0[:p, :p]
    c = M0[:p, p]
    if p:
        Qc = np.linalg.cholesky(Q)
        beta = np.linalg.solve(Q, c)
        ev.logdetQ = 2.0 * np.log(np.diag(Qc)).sum()
    else:
        Qc = np.zeros((0, 0))
        beta = np.zeros(0)
        ev.logdetQ = 0.0
    ev.Q, ev.Qc, ev.beta = Q, Qc, beta
    ev.r2 = float(M0[p, p] - c @ beta)
    return ev


def backward(ss: SuffStats, ev: Evaluation, M0bar: np.ndarray) -> list[np.ndarray]:
    """Adjoint of f = log|H| + g(M0) given dg/dM0 (symmetric) -> d f / d Lambda_k (full)."""
    p = ss.p
    nlev = len(ss.levels)
    lam_bars = [None] * nlev
    Cbar = -M0bar
    for k in range(nlev):
        lev = ss.levels[k]
        q, off = lev.q, lev.off
        lam = ev.lams[k]
        A, B, Winv, E, WiE = ev.cache[k]
        Kbar = Cbar if k == 0 else Cbar[lev.parent]
        WiEK = WiE @ Kbar
        Ebar = 2.0 * WiEK
        Wbar = Winv - WiEK @ _T(WiE)
        Bbar = lam @ Ebar
        t = B.shape[-1]
        lam_bar = (np.swapaxes(B, 0, 1).reshape(q, -1) @ np.swapaxes(Ebar, 0, 1).reshape(q, -1).T
                   + 2.0 * np.swapaxes(A, 0, 1).reshape(q, -1) @ (lam @ Wbar).reshape(-1, q))
        lam_bars[k] = lam_bar
        if k + 1 < nlev:
            Abar = lam @ Wbar @ lam.T
            G = lev.ngroups
            m = off + q + p + 1
            own = np.arange(off, off + q)
            tail = np.r_[0:off, off + q:m]
            C = np.empty((G, m, m))
            C[:, own[:, None], own[None, :]] = -Abar
            C[:, own[:, None], tail[None, :]] = -0.5 * Bbar
            C[:, tail[:, None], own[None, :]] = -0.5 * _T(Bbar)
            C[:, tail[:, None], tail[None, :]] = Kbar
            Cbar = C
    return lam_bars


def profiled_terms(ss: SuffStats, ev: Evaluation, reml: bool):
    """Profiled deviance (-2 ll, sigma^2 and beta profiled) and dDev/dM0."""
    n, p = ss.n, ss.p
    nu = n - p if reml else n
    r2 = ev.r2
    if not (r2 > 0):
        raise np.linalg.LinAlgError("non-positive residual sum of squares")
    dev = ev.logdet + nu * (1.0 + LOG2PI + math.log(r2 / nu))
    v = np.r_[-ev.beta, 1.0]
    M0bar = (nu / r2) * np.outer(v, v)
    if reml:
        dev += ev.logdetQ
        M0bar[:p, :p] += np.linalg.inv(ev.Q)
    return dev, M0bar


def unprofiled_terms(ss: SuffStats, ev: Evaluation, sigma2: float, reml: bool):
    """-2 ll at a given sigma^2 (beta still at its GLS value), dF/dM0 and dF/dsigma^2."""
    n, p = ss.n, ss.p
    nu = n - p if reml else n
    r2 = ev.r2
    f = ev.logdet + r2 / sigma2 + nu * (LOG2PI + math.log(sigma2))
    v = np.r_[-ev.beta, 1.0]
    M0bar = np.outer(v, v) / sigma2
    if reml:
        f += ev.logdetQ
        M0bar[:p, :p] += np.linalg.inv(ev.Q)
    dsig = nu / sigma2 - r2 / sigma2 ** 2
    return f, M0bar, dsig
