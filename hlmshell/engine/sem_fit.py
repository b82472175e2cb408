"""Fitting a RAM model by maximum likelihood, its observed-information (OIM) or robust variance,
and the statistics sem and estat gof report from the fit.

The discrepancy is minimized by L-BFGS-B (variances kept >= 0 unless heywood) from the
caller's starting values, then polished by Newton steps on the numerical Hessian of the
analytic gradient, so the optimum is reached to the precision the gradient allows; the OIM
variance is the inverse of that Hessian scaled to -log L.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlmshell.engine.sem_model import RamModel, discrepancy, loglik


class SemFitError(Exception):
    """The model could not be fitted (not identified, or no convergence)."""


@dataclass
class SemFit:
    theta: np.ndarray
    F: float
    ll: float
    V: np.ndarray
    converged: bool
    iterations: int
    history: list = None          # (log L, concave) at each iteration: the iteration log


def _hessian(model, theta, S_N, xbar, step=1e-5) -> np.ndarray:
    k = theta.size
    H = np.zeros((k, k))
    for j in range(k):
        h = step * max(1.0, abs(theta[j]))
        tp = theta.copy()
        tm = theta.copy()
        tp[j] += h
        tm[j] -= h
        gp = discrepancy(model, tp, S_N, xbar)[1]
        gm = discrepancy(model, tm, S_N, xbar)[1]
        if gp is not None and gm is not None:
            H[:, j] = (gp - gm) / (2 * h)
            continue
        g0 = discrepancy(model, theta, S_N, xbar)[1]     # at a bound: one-sided
        if gp is not None and g0 is not None:
            H[:, j] = (gp - g0) / h
        elif gm is not None and g0 is not None:
            H[:, j] = (g0 - gm) / h
        else:
            raise SemFitError("Hessian not available")
    return 0.5 * (H + H.T)


def _minimize(model, theta0, S_N, xbar, bounds, history):
    from scipy.optimize import minimize

    def fun(t):
        F, g = discrepancy(model, t, S_N, xbar)
        if not np.isfinite(F):
            return 1e20, np.zeros_like(t)
        return F, g

    history.append(fun(theta0)[0])
    res = minimize(fun, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                   callback=lambda t: history.append(fun(t)[0]),
                   options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 30})
    return res


def _newton_step(H: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, bool]:
    """The Newton direction, with the Hessian's eigenvalues made positive where it is not
    (Stata's log then says `(not concave)`)."""
    w, U = np.linalg.eigh(H)
    concave = bool(w.min() > 1e-12 * max(1.0, abs(w).max()))
    w = np.maximum(np.abs(w), 1e-8 * max(1.0, abs(w).max()))
    return U @ ((U.T @ g) / w), concave


def _line_search(model, theta, step, F, S_N, xbar, lower):
    t = 1.0
    while t > 1e-12:
        new = np.maximum(theta - t * step, lower)
        F2 = discrepancy(model, new, S_N, xbar, want_grad=False)[0]
        if np.isfinite(F2) and F2 <= F:
            return new, F2
        t /= 2
    return None, F


def _active(theta, g, lower) -> np.ndarray:
    """Parameters held at their bound (a variance at 0 that the gradient pushes below it)."""
    return np.isfinite(lower) & (theta <= lower + 1e-10) & (g > 0)


def _newton_fit(model, theta, S_N, xbar, N, lower, maxiter=300):
    """Newton-Raphson on the analytic gradient and its numerical Hessian, with step halving;
    parameters at their bound are held there. Returns (theta, log of (log L, concave), ok)."""
    F, g = discrepancy(model, theta, S_N, xbar)
    p = model.n_obs
    log = []
    for _ in range(maxiter):
        free = ~_active(theta, g, lower)
        H = _hessian(model, theta, S_N, xbar)
        step = np.zeros_like(theta)
        step[free], concave = _newton_step(H[np.ix_(free, free)], g[free])
        log.append((loglik(F, N, p), concave))
        crit = 0.25 * N * float(g[free] @ step[free])      # g' H^-1 g on the log L scale
        if concave and crit < 1e-9:
            return theta, log, True
        new, F2 = _line_search(model, theta, step, F, S_N, xbar, lower)
        if new is None:
            return theta, log, concave and crit < 1e-5
        theta, F = new, F2
        g = discrepancy(model, theta, S_N, xbar)[1]
    return theta, log, False


def fit(model: RamModel, starts: list[np.ndarray], S_N: np.ndarray, xbar: np.ndarray, N: float,
        heywood: bool = False) -> SemFit:
    """ML fit: Newton-Raphson from the best starting vector; L-BFGS-B first when Newton alone
    does not reach an optimum from there."""
    var_par = model.variance_params()
    lower = np.array([0.0 if (k in var_par and not heywood) else -np.inf
                      for k in range(model.n_par)])
    vals = [(discrepancy(model, t0, S_N, xbar, want_grad=False)[0], i) for i, t0 in enumerate(starts)]
    vals = [v for v in vals if np.isfinite(v[0])]
    if not vals:
        raise SemFitError("initial values not feasible")
    theta0 = starts[min(vals)[1]]
    if not identified(model, _jitter(theta0, var_par)):
        raise SemFitError("not identified")
    theta, log, ok = _newton_fit(model, theta0.copy(), S_N, xbar, N, lower)
    if not ok:
        bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
        res = _minimize(model, theta0, S_N, xbar, bounds, [])
        theta, log2, ok = _newton_fit(model, np.asarray(res.x, float), S_N, xbar, N, lower)
        log = log + log2
    F, g = discrepancy(model, theta, S_N, xbar)
    H = _hessian(model, theta, S_N, xbar)
    free = ~_active(theta, g, lower)
    V = np.zeros_like(H)
    V[np.ix_(free, free)] = _invert(0.5 * N * H[np.ix_(free, free)])   # -d2 log L = N/2 d2 F
    return SemFit(theta, F, loglik(F, N, model.n_obs), V, ok, len(log) - 1, log)


def _jitter(theta: np.ndarray, var_par: set) -> np.ndarray:
    """A nearby generic point (fixed seed): starting values such as a zero path can make an
    identified model look unidentified (an instrument without effect)."""
    u = np.random.default_rng(12345).uniform(0.1, 0.3, theta.size)
    return np.array([t * (1 + u[k]) if k in var_par else t + u[k] * max(1.0, abs(t))
                     for k, t in enumerate(theta)])


def identified(model: RamModel, theta: np.ndarray) -> bool:
    """Local identification: the implied means and covariances change in as many directions
    as there are free parameters (full column rank of their Jacobian at theta)."""
    def moments(t):
        Sigma, mu = model.implied(t)
        return np.concatenate([Sigma[np.triu_indices(model.n_obs)], mu])
    J = np.empty((moments(theta).size, model.n_par))
    for k in range(model.n_par):
        h = 1e-6 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        J[:, k] = (moments(tp) - moments(tm)) / (2 * h)
    sv = np.linalg.svd(J, compute_uv=False)
    if model.n_par == 0:
        return True
    if sv.size < model.n_par:
        return False
    return bool(sv.min() > 1e-8 * max(1.0, sv.max()))


def _invert(info: np.ndarray) -> np.ndarray:
    w, U = np.linalg.eigh(info)
    if w.size and (w.min() <= 1e-10 * max(1.0, w.max())):
        raise SemFitError("not identified")
    return (U / w) @ U.T


def moments_fit(pats, p: int, exog: list[int] | None, xbar0: np.ndarray,
                var0: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Full-information ML of the saturated (exog None) or baseline model from missing-value
    patterns: (log L, covariance, means)."""
    from hlmshell.engine.sem_model import saturated_model
    model = saturated_model(p, exog)
    t0 = np.zeros(model.n_par)
    t0[:p] = xbar0
    t0[p:2 * p] = var0
    N = pats.N
    lower = np.array([0.0 if p <= k < 2 * p else -np.inf for k in range(model.n_par)])
    theta, _, _ = _newton_fit(model, t0, pats, xbar0, N, lower)
    F = discrepancy(model, theta, pats, xbar0, want_grad=False)[0]
    Sigma, mu = model.implied(theta)
    return loglik(F, N, p), Sigma, mu


def robust_vcov(model: RamModel, fit_: SemFit, X: np.ndarray) -> np.ndarray:
    """Huber/White sandwich V (sum of score outer products) V."""
    from hlmshell.engine.sem_model import observation_scores
    sc = observation_scores(model, fit_.theta, X)
    meat = sc.T @ sc
    return fit_.V @ meat @ fit_.V


# ---- fit statistics (estat gof) --------------------------------------------------------------
@dataclass
class GofStats:
    chi2_ms: float
    df_ms: int
    p_ms: float
    chi2_bs: float
    df_bs: int
    p_bs: float
    rmsea: float
    rmsea_lb: float
    rmsea_ub: float
    pclose: float
    cfi: float
    tli: float
    srmr: float
    cd: float


def _ncx2_cdf(x, df, nc):
    from scipy.stats import chi2, ncx2
    return float(chi2.cdf(x, df)) if nc <= 0 else float(ncx2.cdf(x, df, nc))


def _lambda_for(chi2v: float, df: int, prob: float) -> float:
    """The noncentrality at which P(chi2(df, lambda) <= chi2v) = prob (0 when below it at 0)."""
    from scipy.optimize import brentq
    f = lambda lam: _ncx2_cdf(chi2v, df, lam) - prob  # noqa: E731
    if f(0.0) <= 0:
        return 0.0
    hi = max(1.0, chi2v)
    while f(hi) > 0:
        hi *= 2
        if hi > 1e8:
            return float("nan")
    return float(brentq(f, 0.0, hi, xtol=1e-12))


def rmsea_stats(chi2v: float, df: int, N: float) -> tuple[float, float, float, float]:
    """RMSEA, its 90% interval, and pclose (P(RMSEA <= .05))."""
    if df <= 0:
        return (float("nan"),) * 4
    r = np.sqrt(max(chi2v - df, 0.0) / (N * df))
    lo = _lambda_for(chi2v, df, 0.95)
    hi = _lambda_for(chi2v, df, 0.05)
    pclose = 1.0 - _ncx2_cdf(chi2v, df, 0.05 ** 2 * N * df)
    return float(r), float(np.sqrt(lo / (N * df))), float(np.sqrt(hi / (N * df))), float(pclose)


def srmr(S_N: np.ndarray, Sigma: np.ndarray) -> float:
    ds = np.sqrt(np.diag(S_N))
    dm = np.sqrt(np.diag(Sigma))
    R = S_N / np.outer(ds, ds)
    Rm = Sigma / np.outer(dm, dm)
    iu = np.triu_indices(S_N.shape[0])
    return float(np.sqrt(np.mean((R[iu] - Rm[iu]) ** 2)))


def cfi_tli(chi2_ms, df_ms, chi2_bs, df_bs) -> tuple[float, float]:
    num = max(chi2_ms - df_ms, 0.0)
    den = max(chi2_ms - df_ms, chi2_bs - df_bs, 0.0)
    cfi = 1.0 - num / den if den > 0 else 1.0
    if df_ms > 0 and df_bs > 0 and chi2_bs / df_bs != 1:
        tli = (chi2_bs / df_bs - chi2_ms / df_ms) / (chi2_bs / df_bs - 1)
    else:
        tli = float("nan")
    return float(cfi), float(tli)


def coefficient_of_determination(C: np.ndarray, Psi: np.ndarray, endo: list[int]) -> float:
    """1 - |Psi_endo| / |Sigma_endo| over the endogenous variables (observed and latent)."""
    if not endo:
        return float("nan")
    ix = np.ix_(endo, endo)
    dC = np.linalg.det(C[ix])
    return float(1.0 - np.linalg.det(Psi[ix]) / dC) if dC > 0 else float("nan")


# ---- standardized parameters --------------------------------------------------------------
def standardize(model: RamModel, theta: np.ndarray, kinds: list[tuple]) -> np.ndarray:
    """Each reported parameter in the standardized metric. kinds: per parameter, the cell it
    stands for: ('A', i, j), ('S', i, j), ('m', i) or ('fixed', ...) -- values from the
    total covariance of all variables."""
    A, S, m = model.matrices(theta)
    _, C, _ = model.total(theta)
    sd = np.sqrt(np.clip(np.diag(C), 0, None))
    out = np.empty(len(kinds))
    for r, (mat, i, j) in enumerate(kinds):
        if mat == "A":
            out[r] = A[i, j] * sd[j] / sd[i] if sd[i] > 0 else np.nan
        elif mat == "S" and i == j:
            out[r] = S[i, i] / C[i, i] if C[i, i] > 0 else np.nan
        elif mat == "S":
            den = np.sqrt(S[i, i] * S[j, j])
            out[r] = S[i, j] / den if den > 0 else np.nan
        else:
            out[r] = m[i] / sd[i] if sd[i] > 0 else np.nan
    return out
