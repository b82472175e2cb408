"""BFGS with a strong-Wolfe line search, for the engine's smooth low-dimensional problems.

Why not scipy.optimize.minimize: importing scipy.optimize costs ~0.4 s, more than the whole
start-up budget of a do-file that fits one model (issue 11), and the engine needs only this one
method on problems with a handful of parameters and an exact gradient. The algorithm is the
textbook one (Nocedal & Wright, Numerical Optimization, 2nd ed., algorithms 6.1, 3.5 and 3.6):
inverse-Hessian BFGS updates, a line search that brackets a step satisfying the strong Wolfe
conditions and zooms into it by safeguarded cubic interpolation. An objective may return
f = inf (outside its domain, e.g. a factor that is not positive definite); the line search
treats that as a step too long.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

C1 = 1e-4        # sufficient decrease
C2 = 0.9         # curvature (quasi-Newton value)
MAX_LS = 30      # evaluations per line search


@dataclass
class Result:
    x: np.ndarray
    fun: float
    grad: np.ndarray
    nit: int
    success: bool
    hess_inv: np.ndarray | None = None   # the final inverse-Hessian approximation


def _cubic_min(a, fa, ga, b, fb, gb) -> float | None:
    """Minimiser of the cubic through (a, fa, ga) and (b, fb, gb), None when it has none
    (also when the bracket has collapsed to a point)."""
    if a == b:
        return None
    d1 = ga + gb - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - ga * gb
    if disc < 0 or not math.isfinite(disc):
        return None
    d2 = math.copysign(math.sqrt(disc), b - a)
    den = gb - ga + 2.0 * d2
    if den == 0:
        return None
    return b - (b - a) * (gb + d2 - d1) / den


def _interpolate(lo, flo, glo, hi, fhi, ghi) -> float:
    """A trial step inside (lo, hi): the cubic's minimiser when it is safely inside, else the
    midpoint (also when f(hi) is inf)."""
    width = hi - lo
    if math.isfinite(fhi):
        t = _cubic_min(lo, flo, glo, hi, fhi, ghi)
        if t is not None and math.isfinite(t):
            a, b = min(lo, hi), max(lo, hi)
            margin = 0.1 * abs(width)
            if a + margin <= t <= b - margin:
                return t
    return lo + 0.5 * width


class _LineSearch:
    """phi(alpha) = f(x + alpha p) along a descent direction, with the evaluations it made."""

    def __init__(self, fg, x, p, f0, g0):
        self.fg, self.x, self.p = fg, x, p
        self.f0 = f0
        self.d0 = float(g0 @ p)
        self.count = 0
        self.best = None

    def phi(self, alpha):
        self.count += 1
        f, g = self.fg(self.x + alpha * self.p)
        f = float(f)
        d = float(np.asarray(g) @ self.p) if math.isfinite(f) else math.nan
        return f, np.asarray(g, dtype=float), d

    def armijo(self, alpha, f):
        return math.isfinite(f) and f <= self.f0 + C1 * alpha * self.d0

    def search(self, alpha1: float):
        """(alpha, f, g) satisfying the strong Wolfe conditions, or None."""
        a_prev, f_prev, d_prev, g_prev = 0.0, self.f0, self.d0, None
        alpha = alpha1
        for i in range(MAX_LS):
            f, g, d = self.phi(alpha)
            if not self.armijo(alpha, f) or (i > 0 and f >= f_prev):
                return self.zoom(a_prev, f_prev, d_prev, g_prev, alpha, f, d, g)
            if abs(d) <= -C2 * self.d0:
                return alpha, f, g
            if d >= 0:
                return self.zoom(alpha, f, d, g, a_prev, f_prev, d_prev, g_prev)
            a_prev, f_prev, d_prev, g_prev = alpha, f, d, g
            alpha = 2.0 * alpha
            if self.count >= MAX_LS:
                break
        return (a_prev, f_prev, g_prev) if g_prev is not None else None

    def zoom(self, lo, flo, dlo, glo, hi, fhi, dhi, ghi):
        while self.count < MAX_LS:
            alpha = _interpolate(lo, flo, dlo, hi, fhi, dhi)
            f, g, d = self.phi(alpha)
            if not self.armijo(alpha, f) or f >= flo:
                hi, fhi, dhi, ghi = alpha, f, d, g
                continue
            if abs(d) <= -C2 * self.d0:
                return alpha, f, g
            if d * (hi - lo) >= 0:
                hi, fhi, dhi, ghi = lo, flo, dlo, glo
            lo, flo, dlo, glo = alpha, f, d, g
        # out of evaluations: the best sufficient-decrease point found, if any
        return (lo, flo, glo) if glo is not None and lo > 0 else None


def minimize_bfgs(fg: Callable, x0, *, gtol: float = 1e-5, maxiter: int = 200,
                  callback: Callable | None = None, H0: np.ndarray | None = None) -> Result:
    """Minimise f with gradient: fg(x) -> (f, g). Stops when max|g| <= gtol, after maxiter
    iterations, or when no step along the quasi-Newton direction decreases f (success False).
    callback(x) after every iteration. H0: a starting inverse Hessian (a previous run's
    hess_inv, when a problem is solved again from nearby), else the identity sized by the first
    step's curvature."""
    x = np.array(x0, dtype=float)
    f, g = fg(x)
    f, g = float(f), np.asarray(g, dtype=float)
    n = len(x)
    warm = H0 is not None
    H = np.array(H0, dtype=float) if warm else np.eye(n)
    f_before = f + 0.5 * float(np.linalg.norm(g))      # sizes the first step
    nit = 0
    success = True
    while nit < maxiter and np.max(np.abs(g), initial=0.0) > gtol:
        p = -H @ g
        slope = float(g @ p)
        if not slope < 0:                              # lost descent: restart from steepest
            H = np.eye(n)
            p, slope = -g, -float(g @ g)
        alpha1 = 1.0
        if not warm and slope < 0 and math.isfinite(f_before):
            alpha1 = min(1.0, 1.01 * 2.0 * (f - f_before) / slope)
            if not alpha1 > 0:
                alpha1 = 1.0
        step = _LineSearch(fg, x, p, f, g).search(alpha1)
        if step is None:
            success = False
            break
        alpha, f_new, g_new = step
        s = alpha * p
        yv = g_new - g
        x = x + s
        f_before, f, g = f, f_new, g_new
        nit += 1
        if callback is not None:
            callback(x)
        sy = float(s @ yv)
        if sy > 1e-300:
            if nit == 1 and not warm:                  # size H0 by the curvature just seen
                H = (sy / float(yv @ yv)) * np.eye(n)
            rho = 1.0 / sy
            Hy = H @ yv
            H = H + ((sy + yv @ Hy) * rho * rho) * np.outer(s, s) \
                - rho * (np.outer(Hy, s) + np.outer(s, Hy))
    return Result(x=x, fun=f, grad=g, nit=nit, success=success, hess_inv=H)


def deviance(value_grad, x) -> tuple[float, np.ndarray]:
    """(-2 log L, its gradient) from a (log L, gradient) function, or (inf, 0) where it fails
    or is not finite: the contract minimize_bfgs and the Newton steps expect of an objective."""
    try:
        with np.errstate(all="ignore"):
            ll, g = value_grad(x)
    except np.linalg.LinAlgError:
        return np.inf, np.zeros(len(x))
    if not np.isfinite(ll) or not np.all(np.isfinite(g)):
        return np.inf, np.zeros(len(x))
    return -2.0 * ll, -2.0 * np.asarray(g)
