"""A linear structural equation model in RAM form (McArdle and McDonald), and its ML discrepancy.

Every variable of the model, observed first and latent after, has one row in
  A (n x n)  A[i, j] = the path coefficient of j on i (i <- j),
  S (n x n)  variances and covariances of the exogenous variables and of the errors,
  m (n)      intercepts of endogenous variables and means of exogenous ones,
so that the total covariance of all variables is B S B' and their means B m, B = (I - A)^-1;
the observed variables' implied moments are the first rows (the selection F).

Each entry of A, S and m is either fixed (a number) or a free parameter; several entries may
share one parameter (Stata's `@name` equality constraints). The ML discrepancy
  F = log|Sigma| + tr(S_N Sigma^-1) + (xbar - mu)' Sigma^-1 (xbar - mu)
with S_N the covariance divided by N is what sem minimizes; log L = -N/2 (p log 2pi + F).
Its gradient is analytic, so the optimizer and the observed information (numerical Hessian of
the analytic gradient) are accurate to many digits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LOG2PI = float(np.log(2 * np.pi))


@dataclass
class Entry:
    """One cell of A, S or m: matrix 'A' | 'S' | 'm', row i, column j (0 for m), and either
    a parameter index k >= 0 or the fixed value."""

    mat: str
    i: int
    j: int
    k: int = -1
    value: float = 0.0


@dataclass
class RamModel:
    """The model's structure: n_obs observed variables (rows 0..n_obs-1), n variables in all,
    n_par free parameters, and the cells of A, S, m (S cells listed once, i >= j)."""

    n_obs: int
    n: int
    n_par: int
    entries: list[Entry] = field(default_factory=list)

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        A = np.zeros((self.n, self.n))
        S = np.zeros((self.n, self.n))
        m = np.zeros(self.n)
        for e in self.entries:
            v = theta[e.k] if e.k >= 0 else e.value
            if e.mat == "A":
                A[e.i, e.j] = v
            elif e.mat == "S":
                S[e.i, e.j] = v
                S[e.j, e.i] = v
            else:
                m[e.i] = v
        return A, S, m

    def total(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(B, covariance of all variables B S B', their means B m)."""
        A, S, m = self.matrices(theta)
        B = np.linalg.inv(np.eye(self.n) - A)
        return B, B @ S @ B.T, B @ m

    def implied(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, C, mu = self.total(theta)
        p = self.n_obs
        return C[:p, :p], mu[:p]

    def variance_params(self) -> set[int]:
        """Parameters that sit on the diagonal of S (kept >= 0 unless heywood)."""
        return {e.k for e in self.entries if e.mat == "S" and e.i == e.j and e.k >= 0}


@dataclass
class Pattern:
    """Observations sharing one set of observed variables (method(mlmv)): their indices `obs`
    among the model's observed variables, count n, N-divisor covariance S and means xbar."""

    obs: np.ndarray
    n: int
    S: np.ndarray
    xbar: np.ndarray


class Patterns(list):
    """The missing-value patterns of a sample: discrepancy() then sums the patterns'
    likelihoods (full-information ML), scaled so that log L = -N/2 (p log 2pi + F) still."""

    @property
    def N(self) -> int:
        return sum(g.n for g in self)


def discrepancy(model: RamModel, theta: np.ndarray, S_N, xbar: np.ndarray,
                want_grad: bool = True):
    """(F, dF/dtheta) at theta; F = inf (gradient None) where Sigma is not positive definite.
    S_N is the sample covariance matrix, or the missing-value Patterns (xbar then unused)."""
    if isinstance(S_N, Patterns):
        return _discrepancy_fiml(model, theta, S_N, want_grad)
    try:
        A, Sm, m = model.matrices(theta)
        B = np.linalg.inv(np.eye(model.n) - A)
    except np.linalg.LinAlgError:
        return np.inf, None
    p = model.n_obs
    FB = B[:p, :]
    Sigma = FB @ Sm @ FB.T
    mu = FB @ m
    try:
        L = np.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        return np.inf, None
    dL = np.diag(L)
    if dL.min() <= 1e-7 * dL.max():             # numerically singular: no usable likelihood
        return np.inf, None
    Si = np.linalg.inv(Sigma)
    d = xbar - mu
    logdet = 2 * np.sum(np.log(np.diag(L)))
    F = logdet + np.trace(S_N @ Si) + d @ Si @ d
    if not want_grad:
        return float(F), None
    return float(F), _gradient(model, B, FB, Sm, m, Si, S_N, d)


def _gradient(model, B, FB, Sm, m, Si, S_N, d) -> np.ndarray:
    W = Si - Si @ (S_N + np.outer(d, d)) @ Si        # dF/dSigma (symmetric)
    g_mu = -2 * Si @ d                                # dF/dmu
    return _chain(model, B, FB, Sm, m, W, g_mu)


def _implied_parts(model, theta):
    A, Sm, m = model.matrices(theta)
    B = np.linalg.inv(np.eye(model.n) - A)
    FB = B[:model.n_obs, :]
    return B, FB, Sm, m, FB @ Sm @ FB.T, FB @ m


def _discrepancy_fiml(model, theta, pats: Patterns, want_grad: bool):
    try:
        B, FB, Sm, m, Sigma, mu = _implied_parts(model, theta)
    except np.linalg.LinAlgError:
        return np.inf, None
    p = model.n_obs
    N = pats.N
    F = -p * LOG2PI
    W = np.zeros((p, p))
    g_mu = np.zeros(p)
    for g in pats:
        o = g.obs
        So = Sigma[np.ix_(o, o)]
        try:
            L = np.linalg.cholesky(So)
        except np.linalg.LinAlgError:
            return np.inf, None
        dL = np.diag(L)
        if dL.min() <= 1e-7 * dL.max():
            return np.inf, None
        Si = np.linalg.inv(So)
        d = g.xbar - mu[o]
        w = g.n / N
        F += w * (o.size * LOG2PI + 2 * np.sum(np.log(dL)) + np.trace(g.S @ Si) + d @ Si @ d)
        if want_grad:
            W[np.ix_(o, o)] += w * (Si - Si @ (g.S + np.outer(d, d)) @ Si)
            g_mu[o] += -2 * w * (Si @ d)
    if not want_grad:
        return float(F), None
    return float(F), _chain(model, B, FB, Sm, m, W, g_mu)


def _chain(model, B, FB, Sm, m, W, g_mu) -> np.ndarray:
    """dF/dtheta from dF/dSigma (W) and dF/dmu through Sigma = F B S B' F', mu = F B m."""
    BtW = FB.T @ W @ FB                               # B'F'WFB
    gS = BtW
    gA = 2 * BtW @ Sm @ B.T + np.outer(FB.T @ g_mu, B @ m)
    gm = FB.T @ g_mu
    grad = np.zeros(model.n_par)
    for e in model.entries:
        if e.k < 0:
            continue
        if e.mat == "A":
            grad[e.k] += gA[e.i, e.j]
        elif e.mat == "S":
            grad[e.k] += gS[e.i, e.j] if e.i == e.j else 2 * gS[e.i, e.j]
        else:
            grad[e.k] += gm[e.i]
    return grad


def loglik(F: float, N: float, p: int) -> float:
    return -0.5 * N * (p * LOG2PI + F)


def saturated_loglik(S_N: np.ndarray, N: float) -> float:
    """log L of the saturated model: every mean, variance and covariance free."""
    p = S_N.shape[0]
    sign, logdet = np.linalg.slogdet(S_N)
    if sign <= 0:
        return float("nan")
    return -0.5 * N * (p * LOG2PI + logdet + p)


def baseline_loglik(S_N: np.ndarray, N: float, exog: list[int]) -> float:
    """log L of Stata's baseline model: observed endogenous variables uncorrelated with each
    other and with the exogenous ones (means and variances free), the observed exogenous
    variables' covariances free among themselves."""
    p = S_N.shape[0]
    endo = [i for i in range(p) if i not in exog]
    ll = sum(saturated_loglik(S_N[np.ix_([i], [i])], N) for i in endo)
    if exog:
        ll += saturated_loglik(S_N[np.ix_(exog, exog)], N)
    return float(ll)


def observation_scores(model: RamModel, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Per-observation gradients of log L_i (N x n_par), for the robust (sandwich) variance:
    log L_i = -1/2 (p_i log 2pi + log|Sigma_oo| + d_i' Sigma_oo^-1 d_i) over the variables
    observation i has (all of them unless method(mlmv))."""
    out = np.empty((X.shape[0], model.n_par))
    zero_cache: dict[int, np.ndarray] = {}
    for r in range(X.shape[0]):
        o = np.flatnonzero(~np.isnan(X[r]))
        if o.size not in zero_cache:
            zero_cache[o.size] = np.zeros((o.size, o.size))
        pat = Patterns([Pattern(o, 1, zero_cache[o.size], X[r, o])])
        out[r] = -0.5 * _discrepancy_fiml(model, theta, pat, True)[1]
    return out


def patterns_of(X: np.ndarray) -> Patterns:
    """Group the rows of X (NaN = missing) by the set of variables they have."""
    mask = ~np.isnan(X)
    keys: dict[bytes, list[int]] = {}
    for r in range(X.shape[0]):
        keys.setdefault(mask[r].tobytes(), []).append(r)
    pats = Patterns()
    for rows in keys.values():
        o = np.flatnonzero(mask[rows[0]])
        if o.size == 0:
            continue
        Y = X[np.ix_(rows, o)]
        xb = Y.mean(axis=0)
        D = Y - xb
        pats.append(Pattern(o, len(rows), D.T @ D / len(rows), xb))
    return pats


def saturated_model(p: int, exog: list[int] | None = None) -> RamModel:
    """All p observed variables exogenous with free means and variances; covariances free
    among all (the saturated model) or only among `exog` (Stata's baseline model)."""
    entries = [Entry("m", i, 0, i) for i in range(p)]
    k = p
    for i in range(p):
        entries.append(Entry("S", i, i, k))
        k += 1
    for i in range(p):
        for j in range(i):
            if exog is None or (i in exog and j in exog):
                entries.append(Entry("S", i, j, k))
                k += 1
    return RamModel(p, p, k, entries)
