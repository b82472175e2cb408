"""Modification indices of a fitted RAM model (estat mindices): for each path or covariance
the model fixes at zero, the score test of freeing it. With the model extended by all the
candidates at 0 and I the observed information (-d2 log L) of the free and candidate
parameters, the candidate c has
    v = I_cc - I_c,theta I_theta,theta^-1 I_theta,c,   MI = g_c^2 / v,   EPC = -g_c / v
where g_c is the gradient of -log L (Saris, Satorra and Sorbom's expected parameter change)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from hlmshell.engine.sem_fit import _active, _hessian
from hlmshell.engine.sem_model import Entry, Patterns, RamModel, discrepancy


def _descendants(model: RamModel, i: int) -> set[int]:
    kids: dict[int, set[int]] = {}
    for e in model.entries:
        if e.mat == "A":
            kids.setdefault(e.j, set()).add(e.i)
    seen, todo = set(), [i]
    while todo:
        v = todo.pop()
        for w in kids.get(v, ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def candidates(model: RamModel, endo: list[int], exo_lat: list[int]) -> list[tuple[str, int, int]]:
    """Omitted paths into endogenous variables (none that would close a loop) and omitted
    covariances among the errors and the latent exogenous variables."""
    have = {(e.mat, e.i, e.j) for e in model.entries if not (e.k < 0 and e.value == 0)}
    out = []
    for y in endo:
        down = _descendants(model, y)
        for v in range(model.n):
            if v != y and v not in down and ("A", y, v) not in have:
                out.append(("A", y, v))
    errs = sorted(endo + exo_lat)
    for a in range(len(errs)):
        for b in range(a):
            i, j = errs[a], errs[b]
            if (i in exo_lat) != (j in exo_lat):       # an error with a latent exogenous variable
                continue
            if ("S", max(i, j), min(i, j)) not in have:
                out.append(("S", max(i, j), min(i, j)))
    return out


def expected_information(model: RamModel, theta: np.ndarray, N: float) -> np.ndarray:
    """I_ab = N/2 tr(Sigma^-1 dSigma_a Sigma^-1 dSigma_b) + N dmu_a' Sigma^-1 dmu_b, the
    expected information of the normal likelihood (derivatives of the implied moments by
    central differences)."""
    Sigma, _ = model.implied(theta)
    Si = np.linalg.inv(Sigma)
    dS, dm = [], []
    for k in range(model.n_par):
        h = 1e-6 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        Sp, mp = model.implied(tp)
        Sm, mm = model.implied(tm)
        dS.append(Si @ (Sp - Sm) / (2 * h))
        dm.append((mp - mm) / (2 * h))
    k = model.n_par
    info = np.empty((k, k))
    for a in range(k):
        for b in range(a + 1):
            v = 0.5 * N * np.sum(dS[a] * dS[b].T) + N * dm[a] @ Si @ dm[b]
            info[a, b] = info[b, a] = v
    return info


def modification_indices(model: RamModel, theta: np.ndarray, data, xbar, N: float,
                         cands: list[tuple[str, int, int]], lower: np.ndarray):
    """(MI, EPC) per candidate, in the order given."""
    if not cands:
        return []
    k = model.n_par
    kept = [e for e in model.entries
            if not any((e.mat, e.i, e.j) == c for c in cands)]
    extra = [Entry(mat, i, j, k + n) for n, (mat, i, j) in enumerate(cands)]
    big = replace(model, n_par=k + len(cands), entries=kept + extra)
    th = np.concatenate([theta, np.zeros(len(cands))])
    _, gF = discrepancy(big, th, data, xbar)
    H = expected_information(big, th, N) if not isinstance(data, Patterns) else \
        0.5 * N * _hessian(big, th, data, xbar)
    g = 0.5 * N * gF
    g0 = discrepancy(model, theta, data, xbar)[1]
    free = np.flatnonzero(~_active(theta, g0, lower))
    Hff = H[np.ix_(free, free)]
    out = []
    for n in range(len(cands)):
        c = k + n
        hc = H[free, c]
        v = H[c, c] - hc @ np.linalg.solve(Hff, hc)
        if not v > 1e-12:
            out.append((float("nan"), float("nan")))
            continue
        out.append((float(g[c] ** 2 / v), float(-g[c] / v)))
    return out
