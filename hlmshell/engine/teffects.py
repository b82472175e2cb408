"""Treatment effects by estimating equations (Stata's teffects ra, ipw, ipwra and aipw), for
a treatment with L >= 2 levels (level 0 the control).

Why one module: the four estimators are one exactly identified system of moment conditions
each, stacked from the same pieces (Stata's [TE] teffects intro advanced):

    treatment model   score of the logit or probit of t on Z (binary), or of the
                      multinomial logit with the control as base      (ipw, ipwra, aipw)
    outcome models    the (quasi-)likelihood score of level j's linear, logit, probit or
                      Poisson mean within level j, weighted by the
                      inverse-probability weights in ipwra             (ra, ipwra, aipw)
    effects           c_ij (h_ij - mu_j) = 0 for the potential-outcome means, with the ATEs
                      or ATETs parametrised as mu_j - mu_0

where h_ij is what the estimator contributes for level j (the predicted mean, the outcome y,
or AIPW's augmented prediction) and c_ij who averages it (everyone, the ATET's level, or the
level's inverse-probability-weighted members). The parameters solve the system one block at
a time (treatment model, outcome models, then the means); the variance is the M-estimator
sandwich A^-1 B A^-T with A the summed Jacobian of the moments, which is exact here by
complex-step differentiation (the moments are analytic in the parameters), and B the summed
outer products of the moments (Stata's vce(robust)).
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
    t: np.ndarray                      # treatment level index: 0 the control, 1..L-1 the others
    Xs: list | None = None             # outcome-model design of each level's equation (columns
                                       # estimable there), evaluated on every observation
    Z: np.ndarray | None = None        # treatment-model design
    w: np.ndarray | None = None        # observation weights (fweight/pweight), None = 1
    wkind: str = ""                    # "fweight", "pweight", "iweight" or ""
    levels: int = 2                    # L
    target: int = 1                    # the level whose units the ATET averages over


@dataclass
class TeFit:
    theta: np.ndarray                  # effects (L), beta_0..beta_{L-1}, gamma_1..gamma_{L-1}
    V: np.ndarray
    k_x: list                          # columns of each outcome equation
    k_z: int
    ps: np.ndarray | None              # n x L: Pr(level j | z)
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


def _probabilities(Z, gamma, spec: Spec, L: int):
    """n x L treatment probabilities: the binary logit or probit, or the multinomial logit
    with the control as base (complex-safe)."""
    k = Z.shape[1]
    if L == 2:
        p1 = _cdf(Z @ gamma, spec.link)
        return np.column_stack([1 - p1, p1])
    eta = Z @ gamma.reshape(L - 1, k).T
    top = np.max(eta.real, axis=1, keepdims=True).clip(min=0)
    e = np.exp(eta - top)
    den = np.exp(-top) + e.sum(axis=1, keepdims=True)
    return np.column_stack([np.exp(-top) / den, e / den])


def _treatment_scores(Z, t, gamma, spec: Spec, L: int):
    if L == 2:
        return treatment_score(Z, (t == 1).astype(float), gamma, spec.link)
    P = _probabilities(Z, gamma, spec, L)
    return np.column_stack([Z * ((t == j) - P[:, j])[:, None] for j in range(1, L)])


def _ipw_weights(t, P, spec: Spec, target: int):
    """Inverse-probability weights 1/p_t(z); for the ATET p_target(z)/p_t(z), so that the
    target level's units count once."""
    n = t.size
    pt = P[np.arange(n), t]
    return P[:, target] / pt if spec.stat == "atet" else 1.0 / pt


def _split(theta, d: TeData):
    L = d.levels
    ks = [0 if d.Xs is None else X.shape[1] for X in (d.Xs or [None] * L)]
    eff = theta[:L]
    pos = L
    betas = []
    for k in ks:
        betas.append(theta[pos:pos + k])
        pos += k
    return eff, betas, theta[pos:]


def _contributions(spec: Spec, d: TeData, betas, P):
    """[(c_j, h_j)]: who averages what for each level's potential-outcome mean."""
    t, y, L = d.t, d.y, d.levels
    one = np.ones(t.size)
    a = (t == d.target).astype(float) if spec.stat == "atet" else one
    out = []
    if spec.estimator == "ipw":
        om = _ipw_weights(t, P, spec, d.target)
        return [((t == j) * om, y) for j in range(L)]
    for j in range(L):
        m = outcome_mean(d.Xs[j] @ betas[j], spec.omodel)
        if spec.estimator == "aipw":
            out.append((one, m + (t == j) / P[:, j] * (y - m)))
        else:
            out.append((a, m))
    return out


def moments(theta, spec: Spec, d: TeData):
    """n x K matrix of the stacked estimating functions at theta (complex-safe)."""
    eff, betas, gamma = _split(theta, d)
    t, y, L = d.t, d.y, d.levels
    P = _probabilities(d.Z, gamma, spec, L) if gamma.size else None
    parts = _contributions(spec, d, betas, P)
    cols = []
    if spec.stat == "pomeans":
        cols += [c * (h - eff[j]) for j, (c, h) in enumerate(parts)]
    else:                                   # eff = (tau_1..tau_{L-1}, mu_0)
        mu0 = eff[L - 1]
        cols += [c * (h - mu0 - eff[j - 1]) for j, (c, h) in enumerate(parts) if j]
        cols.append(parts[0][0] * (parts[0][1] - mu0))
    if d.Xs is not None:
        ow = _ipw_weights(t, P, spec, d.target) if spec.estimator == "ipwra" else 1.0
        for j in range(L):
            sj = outcome_score(d.Xs[j], y, d.Xs[j] @ betas[j], spec.omodel) * \
                ((t == j) * ow)[:, None]
            cols += list(sj.T)
    if gamma.size:
        cols += list(_treatment_scores(d.Z, t, gamma, spec, L).T)
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


def fit_mlogit(Z, t, w, L: int, *, tol: float = 1e-13, maxit: int = 200) -> np.ndarray:
    """Multinomial logit (control level as base) by Newton's method; gamma stacked by level."""
    k = Z.shape[1]
    gamma = np.zeros(k * (L - 1))
    spec = Spec("ipw", "ate")
    for _ in range(maxit):
        P = _probabilities(Z, gamma, spec, L)[:, 1:]
        g = (w[:, None] * _treatment_scores(Z, t, gamma, spec, L)).sum(axis=0)
        H = np.empty((k * (L - 1), k * (L - 1)))
        for a in range(L - 1):
            for b in range(L - 1):
                c = P[:, a] * ((a == b) - P[:, b])
                H[a * k:(a + 1) * k, b * k:(b + 1) * k] = (Z * (w * c)[:, None]).T @ Z
        step = np.linalg.solve(H, g)
        gamma = gamma + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(gamma))):
            return gamma
    raise TeError("treatment model did not converge", 430)


def _solve(spec: Spec, d: TeData, w) -> tuple[np.ndarray, np.ndarray | None]:
    """Block-by-block solution of the system."""
    t, y, L = d.t, d.y, d.levels
    gamma = np.zeros(0)
    if d.Z is not None:
        gamma = fit_binary(d.Z, (t == 1).astype(float), w, spec.link) if L == 2 else \
            fit_mlogit(d.Z, t, w, L)
    P = _probabilities(d.Z, gamma, spec, L) if gamma.size else None
    betas = [np.zeros(0)] * L
    if d.Xs is not None:
        ow = _ipw_weights(t, P, spec, d.target) if spec.estimator == "ipwra" else 1.0
        betas = [_wls(d.Xs[j], y, w * (t == j) * ow, spec.omodel) for j in range(L)]
    parts = _contributions(spec, d, betas, P)
    mus = [np.sum(w * c * h) / np.sum(w * c) for c, h in parts]
    eff = np.array(mus) if spec.stat == "pomeans" else \
        np.array([m - mus[0] for m in mus[1:]] + [mus[0]])
    return np.concatenate([eff, *betas, gamma]), P


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
    theta, P = _solve(spec, d, w)
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
    _, _, gamma = _split(theta, d)
    if gamma.size:
        P = _probabilities(d.Z, gamma, spec, d.levels)
    kx = [0 if d.Xs is None else X.shape[1] for X in (d.Xs or [None] * d.levels)]
    return TeFit(theta=theta, V=V, k_x=kx, k_z=0 if d.Z is None else d.Z.shape[1], ps=P,
                 criterion=crit)
