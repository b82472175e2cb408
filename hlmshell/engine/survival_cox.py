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

    def risk_sets(self):
        """(failure times, stratum id, risk indicator D x n, failures indicator D x n)."""
        out = []
        for s in np.unique(self.strata):
            m = self.strata == s
            times = np.unique(self.t[m & (self.d > 0)])
            R = m[None, :] & (self.t0[None, :] < times[:, None]) & (self.t[None, :] >= times[:, None])
            F = m[None, :] & (self.d[None, :] > 0) & (self.t[None, :] == times[:, None])
            out.append((times, R, F))
        times = np.concatenate([o[0] for o in out]) if out else np.zeros(0)
        n = len(self.t)
        R = np.vstack([o[1] for o in out]) if out else np.zeros((0, n), bool)
        F = np.vstack([o[2] for o in out]) if out else np.zeros((0, n), bool)
        return times, R.astype(float), F.astype(float)


@dataclass
class CoxFit:
    b: np.ndarray
    V: np.ndarray
    ll: float
    ll_0: float
    lls: list = field(default_factory=list)
    converged: bool = True


def partial_ll(cd: CoxData, b: np.ndarray, sets=None):
    """Breslow log partial likelihood, its gradient and Hessian at b."""
    _times, R, F = sets if sets is not None else cd.risk_sets()
    eta = cd.X @ b if cd.X.shape[1] else np.zeros(len(cd.t))
    r = np.exp(eta)
    S0 = R @ r
    S1 = R @ (r[:, None] * cd.X)
    dk = F.sum(1)
    ll = float((F @ eta).sum() - dk @ np.log(S0))
    xbar = S1 / S0[:, None]
    g = (F @ cd.X).sum(0) - dk @ xbar
    S2 = np.einsum("dn,n,ni,nj->dij", R, r, cd.X, cd.X)
    H = -np.einsum("d,dij->ij", dk, S2 / S0[:, None, None] - xbar[:, :, None] * xbar[:, None, :])
    return ll, g, H


def fit_cox(cd: CoxData, maxit: int = 100, tol: float = 1e-9) -> CoxFit:
    k = cd.X.shape[1]
    sets = cd.risk_sets()
    b = np.zeros(k)
    ll, g, H = partial_ll(cd, b, sets)
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
            nll, ng, nH = partial_ll(cd, nb, sets)
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


def score_residuals(cd: CoxData, b: np.ndarray) -> np.ndarray:
    """Efficient score residuals (n x k): d_i (x_i - xbar(t_i)) minus the compensator."""
    _times, R, F = cd.risk_sets()
    r = np.exp(cd.X @ b)
    S0 = R @ r
    xbar = (R @ (r[:, None] * cd.X)) / S0[:, None]
    dk = F.sum(1)
    fail_part = np.einsum("dn,dj->nj", F, xbar)
    fail_part = cd.X * F.sum(0)[:, None] - fail_part
    w = R * (dk / S0)[:, None] * r[None, :]                  # D x n
    comp = cd.X * w.sum(0)[:, None] - w.T @ xbar
    return fail_part - comp


def schoenfeld(cd: CoxData, b: np.ndarray) -> np.ndarray:
    """x_i - xbar(t_i) for failing records (nan elsewhere), n x k."""
    times, R, F = cd.risk_sets()
    r = np.exp(cd.X @ b)
    xbar = (R @ (r[:, None] * cd.X)) / (R @ r)[:, None]
    out = np.full(cd.X.shape, np.nan)
    rows, cols = np.nonzero(F)
    out[cols] = cd.X[cols] - xbar[rows]
    return out


def base_cumhaz(cd: CoxData, b: np.ndarray) -> np.ndarray:
    """Breslow baseline cumulative hazard H0(t_i) at each record's own time (in its stratum)."""
    times, R, F = cd.risk_sets()
    r = np.exp(cd.X @ b)
    inc = F.sum(1) / (R @ r)
    out = np.zeros(len(cd.t))
    start = 0
    for s in np.unique(cd.strata):
        m = cd.strata == s
        nt = len(np.unique(cd.t[m & (cd.d > 0)]))
        ts, hs = times[start:start + nt], np.cumsum(inc[start:start + nt])
        start += nt
        j = np.searchsorted(ts, cd.t[m], side="right") - 1
        out[m] = np.where(j >= 0, hs[np.maximum(j, 0)], 0.0)
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
