"""Treatment effects of a binary treatment by estimating equations (Stata's teffects ra, ipw,
ipwra and aipw).

Why one module: the four estimators are one exactly identified system of moment conditions
each, stacked from the same pieces (Stata's [TE] teffects intro advanced):

    treatment model   score of the logit or probit of t on Z        (ipw, ipwra, aipw)
    outcome models    x (y - x b_j) within level j, weighted by the
                      inverse-probability weights in ipwra          (ra, ipwra, aipw)
    effects           c_ij (h_ij - mu_j) = 0 for the potential-outcome means, with the ATE
                      or ATET parametrised as mu_1 - mu_0

where h_ij is what estimator contributes for level j (the prediction x b_j, the outcome y,
or AIPW's augmented prediction) and c_ij who averages it (everyone, the treated for the
ATET, or the level's inverse-probability-weighted members). The parameters solve the system
one block at a time (treatment model, outcome models, then the means); the variance is the
M-estimator sandwich A^-1 B A^-T with A the summed Jacobian of the moments, which is exact
here by complex-step differentiation (the moments are analytic in the parameters), and B the
summed outer products of the moments (Stata's vce(robust)).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STEP = 1e-30              # complex step: derivatives exact to rounding


class TeError(ValueError):
    """A model that cannot be estimated (the command reports it with its Stata code)."""

    def __init__(self, message: str, code: int = 459):
        super().__init__(message)
        self.code = code


@dataclass
class TeData:
    y: np.ndarray                      # outcome
    t: np.ndarray                      # 1 for the treated level, 0 for the control
    X0: np.ndarray | None = None       # outcome-model design of the control level's equation
    X1: np.ndarray | None = None       # ... and of the treated level's (columns estimable there)
    Z: np.ndarray | None = None        # treatment-model design
    w: np.ndarray | None = None        # observation weights (fweight/pweight), None = 1
    wkind: str = ""                    # "fweight", "pweight", "iweight" or ""


@dataclass
class TeFit:
    theta: np.ndarray                  # effects (2), beta0, beta1, gamma
    V: np.ndarray
    k_x0: int
    k_x1: int
    k_z: int
    ps: np.ndarray | None              # Pr(treated | z)
    criterion: list = field(default_factory=list)   # EE criterion per Newton refinement step


# ---------------------------------------------------------------------------- the treatment model
def _cdf(q, link: str):
    if link == "logit":
        return 1.0 / (1.0 + np.exp(-q))
    from scipy.special import ndtr
    return ndtr(q)


def _pdf(q, link: str, p):
    if link == "logit":
        return p * (1.0 - p)
    return np.exp(-0.5 * q * q) / np.sqrt(2.0 * np.pi)


def treatment_score(Z, t, gamma, link: str):
    """Per-observation score of the binary-choice log likelihood (complex-safe)."""
    q = Z @ gamma
    p = _cdf(q, link)
    if link == "logit":
        return Z * (t - p)[:, None]
    return Z * _probit_lambda(q, t)[:, None]


def _probit_lambda(q, y):
    """d log L / d q of the probit, y phi/Phi(q) - (1 - y) phi/Phi(-q): both tails computed
    directly, so that no 1 - Phi underflows to zero far in a tail."""
    from scipy.special import ndtr
    f = _pdf(q, "probit", None)
    return f * (y / ndtr(q) - (1 - y) / ndtr(-q))


def _probit_info(q):
    from scipy.special import ndtr
    f = _pdf(q, "probit", None)
    return f * f / (ndtr(q) * ndtr(-q))


def fit_binary(Z, t, w, link: str, *, tol: float = 1e-13, maxit: int = 200) -> np.ndarray:
    """ML estimates of a logit or probit by Newton's method on the expected information;
    r(2000)-style failures (complete separation) come back as TeError."""
    gamma = np.zeros(Z.shape[1])
    for _ in range(maxit):
        q = Z @ gamma
        if link == "probit":
            iw = _probit_info(q)
        else:
            p = _cdf(q, link)
            iw = p * (1 - p)
        info = (Z * (w * iw)[:, None]).T @ Z
        g = (w[:, None] * treatment_score(Z, t, gamma, link)).sum(axis=0)
        step = np.linalg.solve(info, g)
        gamma = gamma + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(gamma))):
            break
    else:
        raise TeError("treatment model did not converge", 430)
    if not np.all(np.isfinite(gamma)):
        raise TeError("treatment model did not converge", 430)
    return gamma


# ---------------------------------------------------------------------------- the moment functions
@dataclass
class Spec:
    estimator: str                     # ra | ipw | ipwra | aipw
    stat: str                          # ate | atet | pomeans
    link: str = "logit"                # treatment model
    omodel: str = "linear"             # outcome model: linear | logit | probit | poisson


def outcome_mean(q, omodel: str):
    """E(y | x) of the outcome model at the index q = x b (complex-safe)."""
    if omodel == "linear":
        return q
    if omodel == "poisson":
        return np.exp(q)
    return _cdf(q, omodel)


def outcome_score(X, y, q, omodel: str):
    """Per-observation quasi-likelihood score of the outcome model (before weights)."""
    if omodel in ("linear", "logit", "poisson"):
        return X * (y - outcome_mean(q, omodel))[:, None]
    return X * _probit_lambda(q, y)[:, None]


def _ipw_weights(t, p, stat):
    """Inverse-probability weights: 1/p and 1/(1-p) for the ATE and the means; for the ATET
    the treated count once and the controls p/(1-p)."""
    if stat == "atet":
        return t + (1 - t) * p / (1 - p)
    return t / p + (1 - t) / (1 - p)


def _dims(d: TeData) -> tuple[int, int, int]:
    k0 = 0 if d.X0 is None else d.X0.shape[1]
    k1 = 0 if d.X1 is None else d.X1.shape[1]
    return k0, k1, (0 if d.Z is None else d.Z.shape[1])


def _split(theta, d: TeData):
    k0, k1, kz = _dims(d)
    eff = theta[:2]
    b0 = theta[2:2 + k0]
    b1 = theta[2 + k0:2 + k0 + k1]
    g = theta[2 + k0 + k1:2 + k0 + k1 + kz]
    return eff, b0, b1, g


def _contributions(spec: Spec, d: TeData, b0, b1, p):
    """(c0, h0, c1, h1): who averages what for each level's potential-outcome mean."""
    t, y = d.t, d.y
    one = np.ones_like(t)
    a = t if spec.stat == "atet" else one
    if spec.estimator == "ra" or spec.estimator == "ipwra":
        return a, outcome_mean(d.X0 @ b0, spec.omodel), a, outcome_mean(d.X1 @ b1, spec.omodel)
    if spec.estimator == "ipw":
        om = _ipw_weights(t, p, spec.stat)
        return (1 - t) * om, y, t * om, y
    # aipw: the augmented predictions (ATE and means only)
    m0, m1 = outcome_mean(d.X0 @ b0, spec.omodel), outcome_mean(d.X1 @ b1, spec.omodel)
    return one, m0 + (1 - t) / (1 - p) * (y - m0), one, m1 + t / p * (y - m1)


def moments(theta, spec: Spec, d: TeData):
    """n x K matrix of the stacked estimating functions at theta (complex-safe)."""
    k0, k1, kz = _dims(d)
    eff, b0, b1, gamma = _split(theta, d)
    t, y = d.t, d.y
    cols = []
    p = _cdf(d.Z @ gamma, spec.link) if kz else None
    c0, h0, c1, h1 = _contributions(spec, d, b0, b1, p)
    if spec.stat == "pomeans":
        cols += [c0 * (h0 - eff[0]), c1 * (h1 - eff[1])]
    else:                                   # eff = (tau, mu0)
        cols += [c1 * (h1 - eff[1] - eff[0]), c0 * (h0 - eff[1])]
    if k0:
        ow = _ipw_weights(t, p, spec.stat) if spec.estimator == "ipwra" else 1.0
        s0 = outcome_score(d.X0, y, d.X0 @ b0, spec.omodel) * ((1 - t) * ow)[:, None]
        s1 = outcome_score(d.X1, y, d.X1 @ b1, spec.omodel) * (t * ow)[:, None]
        cols += list(s0.T) + list(s1.T)
    if kz:
        cols += list(treatment_score(d.Z, t, gamma, spec.link).T)
    return np.column_stack(cols)


# ---------------------------------------------------------------------------- estimation
def _wls(X, y, w, omodel: str = "linear", *, maxit: int = 200):
    """Weighted (quasi-)ML fit of one outcome equation: least squares, or Newton steps with
    the expected information for the logit, probit and Poisson (exponential) means."""
    Xw = X * w[:, None]
    b = np.linalg.solve(Xw.T @ X, Xw.T @ y) if omodel == "linear" else np.zeros(X.shape[1])
    if omodel == "linear":
        return b
    if omodel == "poisson":
        b[-1] = np.log(max(np.sum(w * y) / np.sum(w), 1e-300)) if X.shape[1] else 0.0
    for _ in range(maxit):
        q = X @ b
        if omodel == "probit":
            info_w = _probit_info(q)
        else:
            info_w = outcome_mean(q, omodel) * (1 - outcome_mean(q, omodel)) \
                if omodel == "logit" else outcome_mean(q, omodel)
        g = (w[:, None] * outcome_score(X, y, q, omodel)).sum(axis=0)
        step = np.linalg.solve((X * (w * info_w)[:, None]).T @ X, g)
        b = b + step
        if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(b))):
            return b
    raise TeError("outcome model did not converge", 430)


def _solve(spec: Spec, d: TeData, w) -> tuple[np.ndarray, np.ndarray | None]:
    """Block-by-block solution of the system."""
    t, y = d.t, d.y
    k0, k1, kz = _dims(d)
    gamma = fit_binary(d.Z, t, w, spec.link) if kz else np.zeros(0)
    p = _cdf(d.Z @ gamma, spec.link) if kz else None
    b0 = b1 = np.zeros(0)
    if k0:
        ow = _ipw_weights(t, p, spec.stat) if spec.estimator == "ipwra" else 1.0
        b0 = _wls(d.X0, y, w * (1 - t) * ow, spec.omodel)
        b1 = _wls(d.X1, y, w * t * ow, spec.omodel)
    c0, h0, c1, h1 = _contributions(spec, d, b0, b1, p)
    mu0 = np.sum(w * c0 * h0) / np.sum(w * c0)
    mu1 = np.sum(w * c1 * h1) / np.sum(w * c1)
    eff = np.array([mu0, mu1]) if spec.stat == "pomeans" else np.array([mu1 - mu0, mu0])
    return np.concatenate([eff, b0, b1, gamma]), p


def jacobian(theta, spec: Spec, d: TeData, w) -> np.ndarray:
    """A = sum_i w_i dg_i/dtheta' by complex steps, one parameter at a time."""
    K = theta.size
    A = np.empty((K, K))
    for k in range(K):
        th = theta.astype(complex)
        th[k] += 1j * STEP
        A[:, k] = (w[:, None] * moments(th, spec, d).imag).sum(axis=0) / STEP
    return A


def estimate(spec: Spec, d: TeData) -> TeFit:
    n = d.y.size
    w = np.ones(n) if d.w is None else np.asarray(d.w, dtype=float)
    k0, k1, kz = _dims(d)
    theta, p = _solve(spec, d, w)
    A = jacobian(theta, spec, d, w)
    crit = []
    for _ in range(2):                      # Newton refinement on the stacked system
        gbar = (w[:, None] * moments(theta, spec, d)).sum(axis=0)
        crit.append(float(gbar @ gbar) / (w.sum() ** 2))
        if crit[-1] < 1e-30:
            break
        theta = theta - np.linalg.solve(A, gbar)
    G = moments(theta, spec, d)
    wb = w if d.wkind == "fweight" else w * w
    B = (G * wb[:, None]).T @ G
    Ainv = np.linalg.inv(A)
    V = Ainv @ B @ Ainv.T
    V = (V + V.T) / 2
    if kz:
        p = _cdf(d.Z @ _split(theta, d)[3], spec.link)
    return TeFit(theta=theta, V=V, k_x0=k0, k_x1=k1, k_z=kz, ps=p, criterion=crit)
