"""Quantile regression: the fit and the VCE Stata's qreg reports ([R] qreg, Methods and formulas).

The fit minimizes sum rho_tau(y - Xb), rho_tau(r) = r (tau - 1(r < 0)), by the Frisch-Newton
interior-point method on the dual linear program (Koenker and Portnoy 1997), then moves to the
optimal vertex (k observations fitted exactly) that the simplex method Stata uses ends on: the
k smallest absolute residuals that make a nonsingular basis, kept when its objective is no larger.

Standard errors. With the sparsity s = 1/f(F^-1(tau)) estimated from quantile regressions at
tau +- h (`fitted`, the default): s = xbar'(b(tau+h) - b(tau-h)) / 2h; `residual` uses the
empirical quantiles of the nonzero residuals instead. vce(iid): V = tau(1-tau) s^2 (X'X)^-1.
vce(robust): V = tau(1-tau) (X'FX)^-1 X'X (X'FX)^-1, f_i = 2h / x_i'(b(tau+h) - b(tau-h))
(Hendricks and Koenker). Bandwidths h on the tau scale: Hall-Sheather (default), Bofinger,
Chamberlain, with alpha = 0.05."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hlmshell import distributions as dist


def check_function(r: np.ndarray, tau: float) -> float:
    """sum rho_tau(r)."""
    return float(np.sum(np.where(r < 0, (tau - 1.0) * r, tau * r)))


def _step(x: np.ndarray, dx: np.ndarray) -> float:
    neg = dx < 0
    return float(np.min(-x[neg] / dx[neg])) if neg.any() else 1e20


def _newton_dirs(X, q, rhs_r):
    sq = np.sqrt(q)
    return np.linalg.lstsq(sq[:, None] * X, rhs_r, rcond=None)[0]


def frisch_newton(X: np.ndarray, y: np.ndarray, tau: float, maxit: int = 200,
                  small: float = 1e-9, beta: float = 0.99995, trace=None) -> np.ndarray:
    """Coefficients of the tau-th regression quantile by the primal-dual interior-point method
    on  max y'a  s.t.  X'a = (1 - tau) X'1, 0 <= a <= 1 (the dual of the check-function LP).
    trace(iteration, objective at the current coefficients) is called once per iteration."""
    n, p = X.shape
    c = -y
    b = (1.0 - tau) * X.sum(axis=0)
    u = np.ones(n)
    x = np.full(n, 1.0 - tau)
    s = u - x
    yd = np.linalg.lstsq(X, c, rcond=None)[0]
    r = c - X @ yd
    r = r + 0.001 * (r == 0)
    z = np.where(r > 0, r, 0.0)
    w = z - r
    gap = float(c @ x - yd @ b + w @ u)
    it = 0
    while gap > small * max(1.0, abs(float(c @ x))) and it < maxit:
        it += 1
        q = 1.0 / (z / x + w / s)
        r = z - w
        sq = np.sqrt(q)
        rhs = sq * r
        dy = _newton_dirs(X, q, rhs)
        dx = q * (X @ dy - r)
        ds = -dx
        dz = -z * (dx / x + 1.0)
        dw = -w * (ds / s + 1.0)
        fp = min(beta * min(_step(x, dx), _step(s, ds)), 1.0)
        fd = min(beta * min(_step(w, dw), _step(z, dz)), 1.0)
        if min(fp, fd) < 1.0:
            mu = float(z @ x + w @ s)
            g = float((z + fd * dz) @ (x + fp * dx) + (w + fd * dw) @ (s + fp * ds))
            mu = mu * (g / mu) ** 3 / (2.0 * n)
            dxdz, dsdw = dx * dz, ds * dw
            xinv, sinv = 1.0 / x, 1.0 / s
            xi = mu * (xinv - sinv)
            rhs = rhs + sq * (dxdz - dsdw - xi)
            dy = _newton_dirs(X, q, rhs)
            dx = q * (X @ dy + xi - r - dxdz + dsdw)
            ds = -dx
            dz = mu * xinv - z - xinv * z * dx - dxdz
            dw = mu * sinv - w - sinv * w * ds - dsdw
            fp = min(beta * min(_step(x, dx), _step(s, ds)), 1.0)
            fd = min(beta * min(_step(w, dw), _step(z, dz)), 1.0)
        x, s = x + fp * dx, s + fp * ds
        yd = yd + fd * dy
        w, z = w + fd * dw, z + fd * dz
        gap = float(c @ x - yd @ b + w @ u)
        if trace is not None:
            trace(it, check_function(y - X @ (-yd), tau))
    return -yd


def to_vertex(X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray) -> np.ndarray:
    """The basic solution through the k best-fitted observations that form a nonsingular
    basis, when its objective is not worse than coef's (the interior point's)."""
    n, p = X.shape
    order = np.argsort(np.abs(y - X @ coef), kind="stable")
    basis: list[int] = []
    for i in order:
        trial = basis + [int(i)]
        if np.linalg.matrix_rank(X[trial]) == len(trial):
            basis = trial
            if len(basis) == p:
                break
    if len(basis) < p:
        return coef
    vert = np.linalg.solve(X[basis], y[basis])
    f0, f1 = check_function(y - X @ coef, tau), check_function(y - X @ vert, tau)
    return vert if f1 <= f0 + 1e-9 * max(1.0, abs(f0)) else coef


def fit(X: np.ndarray, y: np.ndarray, tau: float, trace=None) -> np.ndarray:
    return to_vertex(X, y, tau, frisch_newton(X, y, tau, trace=trace))


def alternate_solutions(X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray) -> bool:
    """Whether other coefficient vectors reach the same minimum: at the vertex (the k zero
    residuals, basis B), the dual weights a_B solving X_B'a_B = -sum_{i not in B} x_i psi(r_i)
    lie in [tau - 1, tau]; one of them at an end means a direction of constant objective."""
    n, p = X.shape
    r = y - X @ coef
    scale = max(1.0, float(np.max(np.abs(y))))
    basis = np.flatnonzero(np.abs(r) <= 1e-9 * scale)
    if len(basis) != p:
        return len(basis) > p
    rest = np.setdiff1d(np.arange(n), basis)
    g = X[rest].T @ np.where(r[rest] < 0, tau - 1.0, tau)
    try:
        a = np.linalg.solve(X[basis].T, -g)
    except np.linalg.LinAlgError:
        return True
    tol = 1e-9
    return bool(np.any(np.abs(a - tau) <= tol) or np.any(np.abs(a - (tau - 1.0)) <= tol))


# ---- bandwidths and the VCE --------------------------------------------------------------------
def bandwidth(method: str, tau: float, n: int, alpha: float = 0.05) -> float:
    x0 = float(dist.norm_ppf(tau))
    f0 = float(dist.norm_pdf(x0))
    za = float(dist.norm_ppf(1.0 - alpha / 2.0))
    if method == "bofinger":
        return n ** (-0.2) * (4.5 * f0 ** 4 / (2.0 * x0 ** 2 + 1.0) ** 2) ** 0.2
    if method == "chamberlain":
        return za * math.sqrt(tau * (1.0 - tau) / n)
    return n ** (-1.0 / 3.0) * za ** (2.0 / 3.0) * (1.5 * f0 ** 2 / (2.0 * x0 ** 2 + 1.0)) ** (1.0 / 3.0)


@dataclass
class QregFit:
    b: np.ndarray
    V: np.ndarray
    sum_adev: float                 # min sum of (check-function) deviations
    sum_rdev: float                 # raw sum of deviations about q_v
    q_v: float                      # the tau-th quantile of y
    sparsity: float
    bwidth: float
    alternate: bool = False
    iterations: list = field(default_factory=list)


def raw_quantile(y: np.ndarray, tau: float) -> float:
    """The constant-only solution Stata reports `about`: order statistic ceil(n tau)."""
    ys = np.sort(y)
    k = max(1, math.ceil(len(y) * tau - 1e-12))
    return float(ys[k - 1])


def qreg(X: np.ndarray, y: np.ndarray, tau: float, vce: str = "iid", denmethod: str = "fitted",
         bwmethod: str = "hsheather", trace=None) -> QregFit:
    """Coefficients, VCE and the header's sums. Raises ValueError when tau +- h leaves (0, 1)."""
    n, k = X.shape
    b = fit(X, y, tau, trace=trace)
    r = y - X @ b
    h = bandwidth(bwmethod, tau, n)
    if tau - h <= 0 or tau + h >= 1:
        raise ValueError("bandwidth")
    XtX = X.T @ X
    if denmethod == "residual":
        rz = np.sort(r[np.abs(r) > 1e-10 * max(1.0, float(np.max(np.abs(y))))])
        m = len(rz)
        lo = rz[max(0, math.ceil(m * (tau - h)) - 1)]
        hi = rz[min(m - 1, math.ceil(m * (tau + h)) - 1)]
        dyhat_mean = float(hi - lo)
        dyhat = None
    else:
        bhi, blo = fit(X, y, tau + h), fit(X, y, tau - h)
        dyhat = X @ (bhi - blo)
        dyhat_mean = float(X.mean(axis=0) @ (bhi - blo))
    s = dyhat_mean / (2.0 * h)
    if vce == "robust":
        if dyhat is None:
            f = np.full(n, 1.0 / s)
        else:
            eps = np.finfo(float).eps ** (2.0 / 3.0)
            f = np.maximum(0.0, 2.0 * h / (dyhat - eps))
        A = np.linalg.inv(X.T @ (f[:, None] * X))
        V = tau * (1.0 - tau) * A @ XtX @ A
    else:
        V = tau * (1.0 - tau) * s ** 2 * np.linalg.inv(XtX)
    qv = raw_quantile(y, tau)
    return QregFit(b=b, V=V, sum_adev=check_function(r, tau),
                   sum_rdev=check_function(y - qv, tau), q_v=qv, sparsity=s, bwidth=h,
                   alternate=alternate_solutions(X, y, tau, b))
