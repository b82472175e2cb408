"""Conditional fixed-effects multinomial logit ([XT] xtmlogit, fe; Chamberlain 1980).

Conditioning on how many times each outcome occurs in a panel removes the panel's
outcome-specific intercepts. With w_tj = exp(x_t b_j) (b_base = 0) and n_j the panel's counts,

    Pr(y_1..y_T | n) = prod_t w_{t,y_t} / sum_{d in A(n)} prod_t w_{t,d_t}

where A(n) holds every outcome sequence with the same counts. The denominator is not summed
over A(n) (its size grows factorially) but by a forward recursion over the counts used so
far: F_t(c) = sum_j F_{t-1}(c - e_j) w_tj, states c <= n in mixed radix, rescaled at every step.
A backward recursion gives Pr(d_t = j | n), so the score is exact:
sum_t (1[y_t = j] - Pr(d_t = j)) x_t. Panels whose outcome never changes carry no information
and are dropped by the caller.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Panel:
    X: np.ndarray            # (T, k)
    y: np.ndarray            # (T,) outcome codes 0..J-1
    counts: np.ndarray       # (J,)
    radix: np.ndarray        # (J,) strides of the count states
    S: int                   # number of count states


def panel(X: np.ndarray, y: np.ndarray, J: int) -> Panel:
    counts = np.bincount(y, minlength=J)
    radix = np.cumprod(np.r_[1, counts[:-1] + 1]).astype(int)
    return Panel(X, y, counts, radix, int(np.prod(counts + 1)))


def _shift(F: np.ndarray, r: int, ok: np.ndarray) -> np.ndarray:
    """F(c - e_j) at every state c (0 where c_j = 0)."""
    out = np.zeros_like(F)
    out[r:] = F[:-r] if r else F
    return np.where(ok, out, 0.0)


def _state_ok(p: Panel, J: int) -> list[np.ndarray]:
    """ok[j][s]: state s has at least one of outcome j (so s - e_j is a state)."""
    s = np.arange(p.S)
    digits = [(s // p.radix[j]) % (p.counts[j] + 1) for j in range(J)]
    return [digits[j] >= 1 for j in range(J)], digits


def panel_ll_grad(p: Panel, B: np.ndarray, base: int, J: int, want_grad: bool = True):
    """Conditional log likelihood of one panel and its gradient in B (q, k) (outcome order
    without base)."""
    T = len(p.y)
    others = [j for j in range(J) if j != base]
    eta = np.zeros((T, J))
    eta[:, others] = p.X @ B.T
    num = float(eta[np.arange(T), p.y].sum())
    m = eta.max(1, keepdims=True)
    W = np.exp(eta - m)                                      # rescaled per t
    ok, digits = _state_ok(p, J)
    F = np.zeros((T + 1, p.S))
    F[0, 0] = 1.0
    logscale = np.zeros(T + 1)
    for t in range(T):
        f = sum(_shift(F[t], int(p.radix[j]), ok[j]) * W[t, j] for j in range(J) if p.counts[j])
        s = f.max()
        F[t + 1] = f / s
        logscale[t + 1] = logscale[t] + np.log(s)
    full = p.S - 1
    logZ = float(np.log(F[T, full]) + logscale[T] + m.sum())
    ll = num - logZ
    if not want_grad:
        return ll, None
    # backward: G_t(c) = sum over completions of the rest (t+1..T) from state c
    Gb = np.zeros((T + 1, p.S))
    Gb[T, full] = 1.0
    gscale = np.zeros(T + 1)
    for t in range(T - 1, -1, -1):
        g = np.zeros(p.S)
        for j in range(J):
            if not p.counts[j]:
                continue
            r = int(p.radix[j])
            nxt = np.zeros(p.S)
            nxt[:-r] = Gb[t + 1][r:]                          # G_{t+1}(c + e_j)
            room = digits[j] < p.counts[j]
            g += np.where(room, nxt, 0.0) * W[t, j]
        s = g.max()
        Gb[t] = g / s
        gscale[t] = gscale[t + 1] + np.log(s)
    probs = np.zeros((T, J))
    for t in range(T):
        for j in range(J):
            if not p.counts[j]:
                continue
            r = int(p.radix[j])
            nxt = np.zeros(p.S)
            nxt[:-r] = Gb[t + 1][r:]
            room = digits[j] < p.counts[j]
            tot = float(np.sum(F[t] * np.where(room, nxt, 0.0)) * W[t, j])
            probs[t, j] = tot * np.exp(logscale[t] + gscale[t + 1] - logscale[T] - np.log(F[T, full]))
    Y = np.eye(J)[p.y]
    R = (Y - probs)[:, others]
    grad = R.T @ p.X                                          # (q, k)
    return ll, grad


@dataclass
class FEFit:
    beta: np.ndarray
    ll: float
    H: np.ndarray
    scores: np.ndarray        # (G, q*k) per-panel gradient
    iterations: list
    converged: bool


def total(panels, B, base, J, want_grad=True):
    ll, gs = 0.0, []
    for p in panels:
        a, g = panel_ll_grad(p, B, base, J, want_grad)
        ll += a
        gs.append(g.ravel() if want_grad else None)
    return ll, (np.array(gs) if want_grad else None)


def fit(panels: list[Panel], J: int, base: int, k: int, maxit: int = 300, trace=None) -> FEFit:
    """ML by BFGS on the exact gradient, then the Hessian by central differences of it."""
    from scipy.optimize import minimize
    q = J - 1
    lines = []

    def obj(v):
        ll, sc = total(panels, v.reshape(q, k), base, J)
        return -ll, -sc.sum(0)

    v0 = np.zeros(q * k)
    lines.append(total(panels, v0.reshape(q, k), base, J, False)[0])
    if trace:
        trace(0, lines[0])
    r = minimize(obj, v0, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": maxit})
    v = r.x
    ll, sc = total(panels, v.reshape(q, k), base, J)
    lines.append(ll)
    if trace:
        trace(1, ll)
    H = np.zeros((q * k, q * k))
    for i in range(q * k):
        h = 1e-5 * (abs(v[i]) + 1e-2)
        vp, vm = v.copy(), v.copy()
        vp[i] += h
        vm[i] -= h
        H[:, i] = (total(panels, vp.reshape(q, k), base, J)[1].sum(0)
                   - total(panels, vm.reshape(q, k), base, J)[1].sum(0)) / (2 * h)
    H = 0.5 * (H + H.T)
    g = sc.sum(0)
    converged = bool(r.success or np.max(np.abs(g)) < 1e-4)
    return FEFit(beta=v.reshape(q, k), ll=ll, H=H, scores=sc, iterations=lines,
                 converged=converged)
