"""Conditional fixed-effects multinomial logit ([XT] xtmlogit, fe; Chamberlain 1980).

Conditioning on how many times each outcome occurs in a panel removes the panel's
outcome-specific intercepts. With w_tj = exp(x_t b_j) (b_base = 0) and n_j the panel's counts,

    Pr(y_1..y_T | n) = prod_t w_{t,y_t} / sum_{d in A(n)} prod_t w_{t,d_t}

where A(n) holds every outcome sequence with the same counts. The denominator is not summed
over A(n) (its size grows factorially) but by a forward recursion over the counts used so
far: F_t(c) = sum_j F_{t-1}(c - e_j) w_tj, states c <= n in mixed radix, rescaled at every step;
panels with the same counts run together (Batch).
A backward recursion gives Pr(d_t = j | n), so the score is exact:
sum_t (1[y_t = j] - Pr(d_t = j)) x_t. Panels whose outcome never changes carry no information
and are dropped by the caller.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Batch:
    """Panels with the same outcome counts (so the same count states), computed together."""

    X: np.ndarray            # (P, T, k)
    y: np.ndarray            # (P, T) outcome codes 0..J-1
    index: np.ndarray        # (P,) the panels' positions in the caller's list
    counts: np.ndarray       # (J,)
    radix: np.ndarray        # (J,) strides of the count states (mixed radix)
    ok: np.ndarray           # (J, S) state has at least one of outcome j (c - e_j exists)
    room: np.ndarray         # (J, S) state has fewer than n_j of outcome j (c + e_j exists)


def batches(Xs: list[np.ndarray], ys: list[np.ndarray], J: int) -> list[Batch]:
    """Group the panels (X (T, k), y (T,)) by their outcome counts."""
    groups: dict[tuple, list[int]] = {}
    for i, y in enumerate(ys):
        groups.setdefault(tuple(np.bincount(y, minlength=J)), []).append(i)
    out = []
    for key, idx in groups.items():
        counts = np.array(key)
        radix = np.cumprod(np.r_[1, counts[:-1] + 1]).astype(int)
        st = np.arange(int(np.prod(counts + 1)))
        digits = np.array([(st // radix[j]) % (counts[j] + 1) for j in range(J)])
        out.append(Batch(np.stack([Xs[i] for i in idx]), np.stack([ys[i] for i in idx]),
                         np.array(idx), counts, radix, digits >= 1, digits < counts[:, None]))
    return out


def _forward(bt: Batch, W: np.ndarray, J: int):
    P, T, _ = W.shape
    S = bt.ok.shape[1]
    F = np.zeros((T + 1, P, S))
    F[0, :, 0] = 1.0
    logscale = np.zeros((T + 1, P))
    for t in range(T):
        f = np.zeros((P, S))
        for j in range(J):
            r = int(bt.radix[j])
            if bt.counts[j]:
                f[:, r:] += np.where(bt.ok[j, r:], F[t, :, :-r], 0.0) * W[:, t, j:j + 1]
        sc = f.max(1)
        F[t + 1] = f / sc[:, None]
        logscale[t + 1] = logscale[t] + np.log(sc)
    return F, logscale


def _backward(bt: Batch, W: np.ndarray, J: int):
    P, T, _ = W.shape
    S = bt.ok.shape[1]
    Gb = np.zeros((T + 1, P, S))
    Gb[T, :, S - 1] = 1.0
    gscale = np.zeros((T + 1, P))
    for t in range(T - 1, -1, -1):
        g = np.zeros((P, S))
        for j in range(J):
            r = int(bt.radix[j])
            if bt.counts[j]:
                g[:, :-r] += np.where(bt.room[j, :-r], Gb[t + 1, :, r:], 0.0) * W[:, t, j:j + 1]
        sc = g.max(1)
        Gb[t] = g / sc[:, None]
        gscale[t] = gscale[t + 1] + np.log(sc)
    return Gb, gscale


def batch_ll_grad(bt: Batch, B: np.ndarray, base: int, J: int, want_grad: bool = True):
    """Per-panel conditional log likelihoods (P,) and gradients (P, q, k) in B (q, k)."""
    P, T, _ = bt.X.shape
    others = [j for j in range(J) if j != base]
    eta = np.zeros((P, T, J))
    eta[:, :, others] = np.einsum("ptk,qk->ptq", bt.X, B)
    num = np.take_along_axis(eta, bt.y[:, :, None], 2)[:, :, 0].sum(1)
    m = eta.max(2)
    W = np.exp(eta - m[:, :, None])
    F, logscale = _forward(bt, W, J)
    S = bt.ok.shape[1]
    logZ = np.log(F[T, :, S - 1]) + logscale[T] + m.sum(1)
    ll = num - logZ
    if not want_grad:
        return ll, None
    Gb, gscale = _backward(bt, W, J)
    probs = np.zeros((P, T, J))
    for t in range(T):
        norm = np.exp(logscale[t] + gscale[t + 1] - logscale[T] - np.log(F[T, :, S - 1]))
        for j in range(J):
            r = int(bt.radix[j])
            if bt.counts[j]:
                tot = np.sum(F[t, :, :-r] * np.where(bt.room[j, :-r], Gb[t + 1, :, r:], 0.0), 1)
                probs[:, t, j] = tot * W[:, t, j] * norm
    Y = np.eye(J)[bt.y]
    R = (Y - probs)[:, :, others]
    return ll, np.einsum("ptq,ptk->pqk", R, bt.X)


@dataclass
class FEFit:
    beta: np.ndarray
    ll: float
    H: np.ndarray
    scores: np.ndarray        # (G, q*k) per-panel gradient
    iterations: list
    converged: bool


def total(batch_list: list[Batch], B, base, J, want_grad=True):
    """(sum of the conditional log likelihoods, per-panel scores (G, q*k) in panel order)."""
    ll = 0.0
    G = sum(len(bt.index) for bt in batch_list)
    scores = np.zeros((G, B.size)) if want_grad else None
    for bt in batch_list:
        a, g = batch_ll_grad(bt, B, base, J, want_grad)
        ll += float(a.sum())
        if want_grad:
            scores[bt.index] = g.reshape(len(bt.index), -1)
    return ll, scores


def fit(panels: list[Batch], J: int, base: int, k: int, maxit: int = 300, trace=None) -> FEFit:
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
