"""Linear equality constraints R b = r on a coefficient vector, the way Stata's makecns and
matcproc set them up: every b that satisfies them is b = T a + t, with T (k x (k - m)) an
orthonormal basis of R's null space and t a particular solution. A model is then fitted over
the free parameters a, and the variance of b is V = T (T' H T)^-1 T' (H the information of b),
so constrained directions carry no variance.

Why a separate module: the same reparametrisation serves restricted least squares (cnsreg)
and every maximum-likelihood command (logit, probit, poisson: a design X T and an offset X t;
mlogit: the Newton iterations below)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class InconsistentConstraints(ValueError):
    """The constraints have no solution (Stata: redundant or inconsistent constraints)."""


@dataclass
class Basis:
    T: np.ndarray            # (k, k - rank): the free directions
    t: np.ndarray            # (k,): a particular solution of R b = r (minimum norm)
    kept: list[int]          # rows of R that were used (the others were redundant)

    def expand(self, a: np.ndarray) -> np.ndarray:
        return self.T @ a + self.t

    def project(self, b: np.ndarray) -> np.ndarray:
        """Free parameters of the point of the constrained set nearest to b."""
        return self.T.T @ (np.asarray(b, dtype=float) - self.t)

    def variance(self, H_free: np.ndarray) -> np.ndarray:
        """V(b) from the information of the free parameters: T (T' H T)^-1 T'."""
        return self.T @ np.linalg.inv(H_free) @ self.T.T


def independent_rows(R: np.ndarray, tol: float = 1e-10) -> tuple[list[int], list[int]]:
    """(kept, dropped): rows of R taken in order, a row dropped when it is zero or a linear
    combination of the rows kept before it."""
    kept: list[int] = []
    dropped: list[int] = []
    for i in range(R.shape[0]):
        trial = R[kept + [i]]
        scale = max(float(np.max(np.abs(trial))), 1.0)
        if np.any(R[i] != 0) and np.linalg.matrix_rank(trial / scale, tol=tol) == len(kept) + 1:
            kept.append(i)
        else:
            dropped.append(i)
    return kept, dropped


def basis(R: np.ndarray, r: np.ndarray, tol: float = 1e-10) -> Basis:
    """The reparametrisation of {b : R b = r}; InconsistentConstraints when a dropped
    (dependent) row contradicts the kept ones."""
    R = np.atleast_2d(np.asarray(R, dtype=float))
    r = np.asarray(r, dtype=float).reshape(-1)
    k = R.shape[1]
    kept, _ = independent_rows(R, tol)
    Rk = R[kept]
    t = np.linalg.lstsq(Rk, r[kept], rcond=None)[0] if kept else np.zeros(k)
    resid = R @ t - r
    if np.any(np.abs(resid) > 1e-8 * max(1.0, float(np.max(np.abs(r))) if len(r) else 1.0)):
        raise InconsistentConstraints("redundant or inconsistent constraints")
    if kept:
        _, s, vt = np.linalg.svd(Rk)
        T = vt[len(kept):].T
        T[np.abs(T) < 1e-13] = 0.0          # pinned coefficients: exactly no free direction
    else:
        T = np.eye(k)
    return Basis(T=T, t=t, kept=kept)


@dataclass
class RestrictedLS:
    b: np.ndarray
    V: np.ndarray
    rss: float
    df_r: int
    rank: int


def restricted_ls(X: np.ndarray, y: np.ndarray, B: Basis, w: np.ndarray | None = None) -> RestrictedLS:
    """Least squares subject to the constraints (cnsreg): regress y - X t on X T; the
    variance s^2 T ((XT)'(XT))^-1 T' with s^2 on n - (k - m) degrees of freedom."""
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    Z = X @ B.T
    yy = y - X @ B.t
    ZtW = Z.T * w
    G = ZtW @ Z
    a = np.linalg.solve(G, ZtW @ yy) if Z.shape[1] else np.zeros(0)
    b = B.expand(a)
    e = y - X @ b
    rss = float(np.sum(w * e * e))
    rank = Z.shape[1]
    n = float(np.sum(w))
    df_r = int(round(n)) - rank
    s2 = rss / df_r if df_r > 0 else float("nan")
    V = B.T @ np.linalg.inv(G) @ B.T.T * s2 if rank else np.zeros((X.shape[1], X.shape[1]))
    return RestrictedLS(b=b, V=V, rss=rss, df_r=df_r, rank=rank)


@dataclass
class NewtonFit:
    b: np.ndarray
    V: np.ndarray
    ll: float
    lines: list
    converged: bool


def maximize(derivs, B: Basis, b0: np.ndarray, maxit: int = 300) -> NewtonFit:
    """Newton-Raphson with step halving over the free parameters. derivs(b) -> (ll, gradient,
    information) of the full vector b; the start b0 is projected onto the constrained set."""
    a = B.project(b0)
    b = B.expand(a)
    ll, g, H = derivs(b)
    lines = [ll]
    converged = False
    change = np.inf
    for _ in range(maxit):
        gf = B.T.T @ g
        Hf = B.T.T @ H @ B.T
        step = np.linalg.solve(Hf, gf)
        if abs(change) < 1e-11 * max(1.0, abs(ll)) and float(gf @ step) < 1e-12:
            converged = True
            break
        t = 1.0
        while True:
            new = B.expand(a + t * step)
            ll_new, g_new, H_new = derivs(new)
            if ll_new >= ll - 1e-12 or t < 1e-8:
                break
            t /= 2
        change = ll_new - ll
        a, b, ll, g, H = a + t * step, new, ll_new, g_new, H_new
        lines.append(ll)
    Hf = B.T.T @ H @ B.T
    return NewtonFit(b=b, V=B.variance(Hf), ll=ll, lines=lines, converged=converged)


def mlogit_fit(X: np.ndarray, codes: np.ndarray, J: int, base: int, B: Basis, maxit: int = 300):
    """Multinomial logit under constraints: engine.mlogit's likelihood and information over
    b = vec of the non-base outcomes' coefficients (equation-major, as its fit orders them),
    maximised over the free parameters; the start is the constant-only model's, projected."""
    from hlmshell.engine import mlogit as em
    n, k = X.shape
    Y, ll_0, beta0, _ = em.start(X, codes, J, base)

    def derivs(b):
        beta = b.reshape(J - 1, k)
        scores, H = em._derivs(X, Y, beta, base)
        return em._loglik(X, Y, beta, base), scores.sum(axis=0), H

    fit = maximize(derivs, B, beta0.reshape(-1), maxit)
    scores, _ = em._derivs(X, Y, fit.b.reshape(J - 1, k), base)
    return em.MlogitFit(beta=fit.b.reshape(J - 1, k), V=fit.V, ll=fit.ll, ll_0=ll_0, scores=scores,
                        iterations=fit.lines, converged=fit.converged)


def maximize_function(loglik, B: Basis, x0: np.ndarray, derivs=None) -> tuple[np.ndarray, float, list]:
    """Maximise loglik(x) over x = T a + t: BFGS on a (numerical gradient), then Newton steps
    with derivs(x) -> (gradient, information) when given. For models whose parameters include
    more than a linear predictor (cutpoints, ln alpha), where the constraints may touch any of
    them. Returns (x, loglik(x), the log likelihood at the start and after each stage)."""
    from scipy.optimize import minimize

    def neg(a):
        v = loglik(B.expand(a))
        return -v if np.isfinite(v) else 1e300

    a = B.project(x0)
    lines = [-neg(a)]
    best = minimize(neg, a, method="BFGS", options={"gtol": 1e-6, "maxiter": 2000})
    a, ll = best.x, float(-best.fun)
    lines.append(ll)
    for _ in range(8 if derivs is not None else 0):
        g, H = derivs(B.expand(a))
        gf, Hf = B.T.T @ g, B.T.T @ H @ B.T
        step = np.linalg.solve(Hf, gf)
        t = 1.0
        while t > 1e-6 and -neg(a + t * step) < ll - 1e-10:
            t /= 2
        new = -neg(a + t * step)
        if new < ll - 1e-10:
            break
        a, change, ll = a + t * step, new - ll, new
        lines.append(ll)
        if abs(change) < 1e-12 * max(1.0, abs(ll)):
            break
    return B.expand(a), ll, lines
