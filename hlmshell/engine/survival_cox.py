"""Cox proportional hazards by Breslow's partial likelihood for tied failures, as stcox fits it
by default: Newton-Raphson from b = 0 with step halving, risk sets (t0, t] per stratum, the
score (efficient-score) residuals behind vce(robust|cluster), Schoenfeld residuals, the
Breslow baseline cumulative hazard and the Grambsch-Therneau test of estat phtest.

Pure numpy; no session, no printing."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class CoxData:
    t0: np.ndarray
    t: np.ndarray
    d: np.ndarray
    X: np.ndarray
    strata: np.ndarray

    def groups(self):
        """Per stratum: (record indexes, its distinct failure times)."""
        out = []
        for s in np.unique(self.strata):
            idx = np.flatnonzero(self.strata == s)
            out.append((idx, np.unique(self.t[idx][self.d[idx] > 0])))
        return out


def _at_or_after(values: np.ndarray, W: np.ndarray, times: np.ndarray) -> np.ndarray:
    """sum of W's rows whose value is >= each time (W: n x ...), by a reverse cumulative sum."""
    order = np.argsort(values, kind="stable")
    rev = np.cumsum(W[order][::-1], axis=0)[::-1]
    rev = np.concatenate([rev, np.zeros((1,) + W.shape[1:])], axis=0)
    return rev[np.searchsorted(values[order], times, side="left")]


def risk_sums(t0, t, X, r, times, with_s2: bool = True):
    """S0, S1 (and S2) over the risk sets {t0 < time <= t} at each time: records leaving at or
    after the time minus those entering at or after it."""
    k = X.shape[1]
    W = np.column_stack([r, r[:, None] * X]) if k else r[:, None]
    S = _at_or_after(t, W, times) - _at_or_after(t0, W, times)
    S0, S1 = S[:, 0], S[:, 1:]
    if not with_s2:
        return S0, S1, None
    W2 = r[:, None, None] * X[:, :, None] * X[:, None, :]
    S2 = _at_or_after(t, W2, times) - _at_or_after(t0, W2, times)
    return S0, S1, S2


def _failures(t, d, X, times):
    """(failures at each time, sum of their covariates, time index of each failing record)."""
    fail = d > 0
    j = np.searchsorted(times, t[fail])
    dk = np.bincount(j, minlength=len(times)).astype(float)
    sx = np.zeros((len(times), X.shape[1]))
    np.add.at(sx, j, X[fail])
    return dk, sx, j


@dataclass
class CoxFit:
    b: np.ndarray
    V: np.ndarray
    ll: float
    ll_0: float
    lls: list = field(default_factory=list)
    converged: bool = True


def partial_ll(cd: CoxData, b: np.ndarray):
    """Breslow log partial likelihood, its gradient and Hessian at b."""
    k = cd.X.shape[1]
    eta = cd.X @ b if k else np.zeros(len(cd.t))
    ll, g, H = 0.0, np.zeros(k), np.zeros((k, k))
    for idx, times in cd.groups():
        if not times.size:
            continue
        X, e = cd.X[idx], eta[idx]
        S0, S1, S2 = risk_sums(cd.t0[idx], cd.t[idx], X, np.exp(e), times)
        dk, sx, _j = _failures(cd.t[idx], cd.d[idx], X, times)
        xbar = S1 / S0[:, None]
        ll += float(e[cd.d[idx] > 0].sum() - dk @ np.log(S0))
        g += sx.sum(0) - dk @ xbar
        H -= np.einsum("d,dij->ij", dk, S2 / S0[:, None, None] - xbar[:, :, None] * xbar[:, None, :])
    return ll, g, H


def fit_cox(cd: CoxData, maxit: int = 100) -> CoxFit:
    """Newton-Raphson from b = 0 with step halving (and steps capped at 5 for monotone
    likelihoods); converged when the log likelihood changes by less than 1e-7 relatively."""
    k = cd.X.shape[1]
    b = np.zeros(k)
    ll, g, H = partial_ll(cd, b)
    ll0 = ll
    lls = [ll]
    converged = k == 0
    for _ in range(maxit):
        if k == 0:
            break
        step = np.linalg.lstsq(-H, g, rcond=None)[0]
        big = np.max(np.abs(step))
        if big > 5:                       # a monotone likelihood: walk, do not jump
            step = step * (5 / big)
        s = 1.0
        for _half in range(30):
            nb = b + s * step
            nll, ng, nH = partial_ll(cd, nb)
            if np.isfinite(nll) and nll >= ll - 1e-12:
                break
            s /= 2
        done = abs(nll - ll) < 1e-7 * (1 + abs(ll))
        b, ll, g, H = nb, nll, ng, nH
        lls.append(ll)
        if done:
            converged = True
            break
    V = np.linalg.pinv(-H) if k else np.zeros((0, 0))
    return CoxFit(b, V, ll, ll0, lls, converged)


def _hazard_parts(cd: CoxData, b: np.ndarray):
    """Per stratum: (indexes, failure times, dk/S0, xbar) at b."""
    r = np.exp(cd.X @ b)
    out = []
    for idx, times in cd.groups():
        if not times.size:
            out.append((idx, times, np.zeros(0), np.zeros((0, cd.X.shape[1]))))
            continue
        S0, S1, _ = risk_sums(cd.t0[idx], cd.t[idx], cd.X[idx], r[idx], times, with_s2=False)
        dk, _sx, _j = _failures(cd.t[idx], cd.d[idx], cd.X[idx], times)
        out.append((idx, times, dk / S0, S1 / S0[:, None]))
    return r, out


def _cum_at(times, values, when):
    """Cumulative sum of `values` over times <= each of `when`."""
    c = np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values, axis=0)])
    return c[np.searchsorted(times, when, side="right")]


def score_residuals(cd: CoxData, b: np.ndarray) -> np.ndarray:
    """Efficient score residuals (n x k): d_i (x_i - xbar(t_i)) minus the compensator
    r_i sum over the record's risk times of (dk/S0)(x_i - xbar)."""
    r, parts = _hazard_parts(cd, b)
    U = np.zeros(cd.X.shape)
    for idx, times, h, xbar in parts:
        if not times.size:
            continue
        X, t0, t, d = cd.X[idx], cd.t0[idx], cd.t[idx], cd.d[idx]
        hx = h[:, None] * xbar
        Ch = _cum_at(times, h, t) - _cum_at(times, h, t0)
        Chx = _cum_at(times, hx, t) - _cum_at(times, hx, t0)
        comp = r[idx][:, None] * (X * Ch[:, None] - Chx)
        fail = d > 0
        own = np.zeros(X.shape)
        own[fail] = X[fail] - xbar[np.searchsorted(times, t[fail])]
        U[idx] = own - comp
    return U


def schoenfeld(cd: CoxData, b: np.ndarray) -> np.ndarray:
    """x_i - xbar(t_i) for failing records (nan elsewhere), n x k."""
    _r, parts = _hazard_parts(cd, b)
    out = np.full(cd.X.shape, np.nan)
    for idx, times, _h, xbar in parts:
        fail = idx[cd.d[idx] > 0]
        if fail.size:
            out[fail] = cd.X[fail] - xbar[np.searchsorted(times, cd.t[fail])]
    return out


def base_cumhaz(cd: CoxData, b: np.ndarray) -> np.ndarray:
    """Breslow baseline cumulative hazard H0(t_i) at each record's own time (in its stratum)."""
    _r, parts = _hazard_parts(cd, b)
    out = np.zeros(len(cd.t))
    for idx, times, h, _xbar in parts:
        if times.size:
            out[idx] = _cum_at(times, h, cd.t[idx])
    return out


def ph_test(sch: np.ndarray, times: np.ndarray, V: np.ndarray, b: np.ndarray):
    """Grambsch-Therneau test on the Schoenfeld residuals of the failures against the time
    scale g(t): per covariate (rho, chi2) and the global chi2, with the approximate variance
    d V of the scaled residuals (Stata's estat phtest)."""
    nd = sch.shape[0]
    xx = times - times.mean()
    scaled = sch @ V * nd
    test = xx @ scaled
    chi2 = test ** 2 / (np.diag(V) * nd * np.sum(xx ** 2))
    rho = np.array([np.corrcoef(xx, scaled[:, j] + b[j])[0, 1] for j in range(sch.shape[1])])
    u = xx @ sch
    glob = float(u @ V @ u * nd / np.sum(xx ** 2))
    return rho, chi2, glob, scaled + b
