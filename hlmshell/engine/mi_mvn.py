"""Multivariate normal imputation by data augmentation ([MI] mi impute mvn; Schafer 1997).

The imputed variables Y (n x p, any missing pattern) follow Y = X B + E, E ~ N(0, Sigma),
given complete predictors X (and a constant). One Markov chain alternates
  I-step: the missing values from their normal distribution given the observed ones, under
          the current (B, Sigma) -- here by one Gibbs sweep over the variables (_istep);
  P-step: Sigma from its posterior under the uniform prior, inverse Wishart with n - q degrees
          of freedom and the completed data's residual cross-products, then B | Sigma normal
          around the least-squares fit.
The imputations are the I-step draws after `burnin` iterations and then every `burnbetween`
iterations (Stata's defaults 100 and 100). The chain starts from each variable's regression on
X over its observed values (Stata starts from EM estimates; after the burn-in the chain has
forgotten where it began). Every iteration's B and Sigma can be kept (saveptrace).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class MvnRun:
    imputations: list            # M arrays n x p: Y completed
    trace: list = field(default_factory=list)   # (iter, m, B (q x p), Sigma (p x p))


def _start(Y, miss, X):
    """Per-variable regressions on the observed rows, residual variances on the diagonal."""
    n, p = Y.shape
    q = X.shape[1]
    B = np.zeros((q, p))
    s2 = np.ones(p)
    for j in range(p):
        o = ~miss[:, j]
        if o.sum() > q:
            B[:, j] = np.linalg.lstsq(X[o], Y[o, j], rcond=None)[0]
            r = Y[o, j] - X[o] @ B[:, j]
            s2[j] = max(float(r @ r) / max(o.sum() - q, 1), 1e-8)
        elif o.any():
            B[-1, j] = Y[o, j].mean()
    return B, np.diag(s2)


def _istep(Yc, X, B, Sigma, miss, rng):
    """One sweep of the missing values, each variable's from its normal distribution given
    every other variable's current values: with P = Sigma^-1, y_j | y_-j has mean
    mu_j - sum_k!=j P_jk (y_k - mu_k) / P_jj and variance 1 / P_jj. A sweep is a Gibbs step
    whose stationary distribution is the joint conditional of the missing values, the I-step's
    target (it costs O(n p) per variable, whatever the number of missing-data patterns)."""
    P = np.linalg.inv(Sigma)
    E = Yc - X @ B
    Yc = Yc.copy()
    for j in range(Yc.shape[1]):
        rows = miss[:, j]
        if not rows.any():
            continue
        pj = P[:, j]
        shift = (E[rows] @ pj - E[rows, j] * pj[j]) / pj[j]
        e = -shift + rng.standard_normal(int(rows.sum())) / np.sqrt(pj[j])
        E[rows, j] = e
        Yc[rows, j] = (X[rows] @ B[:, j]) + e
    return Yc


def _root(cov):
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    return v * np.sqrt(np.clip(w, 0, None))


def inverse_wishart(df: float, S: np.ndarray, rng) -> np.ndarray:
    """A draw from the inverse Wishart with df degrees of freedom and scale S (Bartlett)."""
    p = S.shape[0]
    L = np.linalg.cholesky(np.linalg.inv(S))
    A = np.zeros((p, p))
    for i in range(p):
        A[i, i] = np.sqrt(rng.chisquare(df - i))
        A[i, :i] = rng.standard_normal(i)
    LA = L @ A
    return np.linalg.inv(LA @ LA.T)


def _pstep(Yc, X, XtXi, rng):
    n, q = X.shape
    Bhat = XtXi @ (X.T @ Yc)
    E = Yc - X @ Bhat
    S = E.T @ E
    Sigma = inverse_wishart(n - q, S, rng)
    Z = rng.standard_normal(Bhat.shape)
    B = Bhat + _root(XtXi) @ Z @ np.linalg.cholesky(Sigma).T
    return B, Sigma


def impute(Y, X, M: int, rng, *, burnin: int = 100, burnbetween: int = 100,
           keep_trace: bool = False) -> MvnRun:
    """M imputations of Y (NaN = missing) given complete X (n x q, no constant: it is added
    last, so b_y#x# of the trace names x1..xq then the constant)."""
    Y = np.asarray(Y, dtype=float)
    n, p = Y.shape
    Xc = np.column_stack([np.asarray(X, dtype=float).reshape(n, -1), np.ones(n)])
    q = Xc.shape[1]
    if n - q < p:
        raise ValueError("insufficient observations")
    miss = np.isnan(Y)
    XtXi = np.linalg.pinv(Xc.T @ Xc)
    B, Sigma = _start(Y, miss, Xc)
    Yc = np.where(miss, Xc @ B, Y)
    run = MvnRun([])
    total = burnin + (M - 1) * burnbetween
    takes = {burnin + k * burnbetween: k + 1 for k in range(M)}
    it = 0
    while it < total or not run.imputations:
        it += 1
        Yc = _istep(Yc, Xc, B, Sigma, miss, rng)
        if it in takes:
            run.imputations.append(Yc)
        B, Sigma = _pstep(Yc, Xc, XtXi, rng)
        if keep_trace:
            m = 1 if it <= burnin else min(M, (it - burnin - 1) // burnbetween + 2)
            run.trace.append((it, m, B.copy(), Sigma.copy()))
        if len(run.imputations) == M:
            break
    return run
