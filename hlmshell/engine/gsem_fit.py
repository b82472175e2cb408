"""Fitting gsem's models by maximum likelihood.

Why two routes: an all-gaussian model has an exact marginal likelihood and a closed-form beta
given the variances, so it is maximised over the variances alone (log variances, atanh
correlations, free loadings); any other family goes through Laplace or adaptive quadrature and
every parameter is optimised. Both end with Newton steps in the natural metric (e(b)'s:
variances, covariances), whose numerical Hessian gives the observed-information VCE, so the
standard errors of var() and cov() are the delta-method ones Stata reports.

Starting values: the fixed-effects model (no latent variables), whose log likelihood is the
first block of gsem's iteration log, then small latent variances.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hlmshell.engine import gsem_marginal as gm
from hlmshell.engine.gsem_model import GsemModel


class GsemFitError(Exception):
    pass


@dataclass
class GsemFit:
    theta: np.ndarray
    ll: float
    V: np.ndarray
    converged: bool
    ll_fixed: float
    history: list = field(default_factory=list)
    fixed_history: list = field(default_factory=list)
    method: str = "mvaghermite"
    points: int = 7


def all_gaussian(model: GsemModel) -> bool:
    return all(e.family == "gaussian" for e in model.eqs)


def total_ll(model: GsemModel, theta: np.ndarray, quad=None) -> float:
    return float(np.sum(cluster_ll(model, theta, quad)))


def cluster_ll(model: GsemModel, theta: np.ndarray, quad=None) -> np.ndarray:
    """Per-cluster log likelihood at natural parameters theta (-inf where infeasible)."""
    theta = np.asarray(theta, float)
    bad = np.full(model.n_groups, -np.inf)
    if not np.all(np.isfinite(theta)):
        return bad
    parts = model.split(theta)
    if np.any(parts["s2"][model.gauss_eqs] <= 0):
        return bad
    if model.q and np.linalg.eigvalsh(parts["Sigma"])[0] < -1e-12 * max(1.0, np.abs(parts["Sigma"]).max()):
        return bad
    for cuts in parts["cuts"].values():
        if np.any(np.diff(cuts) <= 0):
            return bad
    try:
        with np.errstate(all="ignore"):
            ll = gm.gauss_cluster_ll(model, parts) if quad is None else quad.cluster_ll(parts)
    except np.linalg.LinAlgError:
        return bad
    return np.where(np.isnan(ll), -np.inf, ll)


# ---- unconstrained transform ---------------------------------------------------------------

def _layout(model: GsemModel):
    nb, nc = model.n_beta, model.n_cut
    nl = len(model.free_loadings)
    return nb, nc, nl, model.q, len(model.cov_pairs), len(model.gauss_eqs)


def to_theta(model: GsemModel, psi: np.ndarray) -> np.ndarray:
    nb, _, nl, q, _, ns = _layout(model)
    th = np.array(psi, float)
    i = nb
    for e in model.eqs:
        if e.n_cut:
            seg = psi[i:i + e.n_cut]
            th[i:i + e.n_cut] = seg[0] + np.concatenate([[0.0], np.cumsum(np.exp(np.clip(seg[1:], -60.0, 60.0)))])
            i += e.n_cut
    i += nl
    v = np.exp(np.clip(psi[i:i + q], -60.0, 60.0))
    th[i:i + q] = v
    i += q
    for (a, b) in model.cov_pairs:
        th[i] = math.tanh(psi[i]) * math.sqrt(v[a] * v[b])
        i += 1
    th[i:i + ns] = np.exp(np.clip(psi[i:i + ns], -60.0, 60.0))
    return th


def to_psi(model: GsemModel, theta: np.ndarray) -> np.ndarray:
    nb, _, nl, q, _, ns = _layout(model)
    ps = np.array(theta, float)
    i = nb
    for e in model.eqs:
        if e.n_cut:
            seg = theta[i:i + e.n_cut]
            ps[i:i + e.n_cut] = np.concatenate([[seg[0]], np.log(np.maximum(np.diff(seg), 1e-8))])
            i += e.n_cut
    i += nl
    v = np.maximum(theta[i:i + q], 1e-10)
    ps[i:i + q] = np.log(v)
    i += q
    for (a, b) in model.cov_pairs:
        r = theta[i] / math.sqrt(v[a] * v[b])
        ps[i] = math.atanh(min(max(r, -0.999999), 0.999999))
        i += 1
    ps[i:i + ns] = np.log(np.maximum(theta[i:i + ns], 1e-10))
    return ps


# ---- numerical derivatives ----------------------------------------------------------------------

def _steps(theta: np.ndarray, rel: float) -> np.ndarray:
    return rel * np.maximum(np.abs(theta), 1e-2)


def num_grad(f, x: np.ndarray, rel: float = 1e-5) -> np.ndarray:
    h = _steps(x, rel)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h[i]
        g[i] = (f(x + e) - f(x - e)) / (2 * h[i])
    return g


def num_hess(f, x: np.ndarray, rel: float = 1e-4) -> np.ndarray:
    n = x.size
    h = _steps(x, rel)
    f0 = f(x)
    H = np.zeros((n, n))
    E = np.diag(h)
    for i in range(n):
        H[i, i] = (f(x + 2 * E[i]) - 2 * f0 + f(x - 2 * E[i])) / (4 * h[i] ** 2)
        for j in range(i):
            v = (f(x + E[i] + E[j]) - f(x + E[i] - E[j]) - f(x - E[i] + E[j])
                 + f(x - E[i] - E[j])) / (4 * h[i] * h[j])
            H[i, j] = H[j, i] = v
    return H


def cluster_scores(model: GsemModel, theta: np.ndarray, quad=None, rel: float = 1e-5):
    """d ll_g / d theta per cluster (G, n) by central differences."""
    h = _steps(theta, rel)
    S = np.zeros((model.n_groups, theta.size))
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h[i]
        S[:, i] = (cluster_ll(model, theta + e, quad) - cluster_ll(model, theta - e, quad)) / (2 * h[i])
    return S


# ---- fitting ------------------------------------------------------------------------------------

def _minimize(fun, x0, callback=None, maxiter=300):
    """BFGS with central-difference gradients, stopped when five iterations in a row gain less
    than 1e-9 relatively (a correlation drifting to +-1, atanh to infinity, would otherwise
    keep it creeping for hundreds of iterations); Newton steps polish afterwards."""
    from scipy.optimize import minimize

    def obj(x):
        v = fun(x)
        return v if np.isfinite(v) else 1e300

    def jac(x):
        return num_grad(obj, x, 1e-6)

    seen = []

    def cb(intermediate_result):
        seen.append(float(intermediate_result.fun))
        if callback is not None:
            callback(intermediate_result.x)
        if len(seen) > 5 and seen[-6] - seen[-1] < 1e-9 * (1 + abs(seen[-1])):
            raise StopIteration

    res = minimize(obj, x0, jac=jac, method="BFGS", callback=cb,
                   options={"maxiter": maxiter, "gtol": 1e-5})
    return res.x, bool(res.success)


def _newton_polish(f, theta, steps=8):
    """Newton steps on the natural parameters with the Hessian of the start (halved while the
    likelihood does not rise), then the Hessian at the end: (theta, Hessian, converged)."""
    fx = f(theta)
    H = num_hess(f, theta)
    conv = False
    for _ in range(steps):
        g = num_grad(f, theta)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        t = 1.0
        while t > 1e-4:
            new = theta + t * step
            fn = f(new)
            if np.isfinite(fn) and fn >= fx - 1e-9:
                break
            t *= 0.5
        else:
            break
        small = np.max(np.abs(t * step) / np.maximum(np.abs(theta), 1)) < 1e-8
        theta, fx = new, fn
        if small:
            conv = True
            break
    return theta, num_hess(f, theta), conv


def fixed_effects_start(model: GsemModel) -> tuple[np.ndarray, float, list]:
    """Fit of the model without latent variables: (theta without latent parts, ll, log)."""
    fe = GsemModel(model.eqs, [], 0, np.arange(model.groups.size), model.groups.size)
    quad = gm.Quadrature(fe, "laplace", 1)
    theta = np.zeros(fe.n_par)
    for k, e in enumerate(model.eqs):
        sl = fe.beta_slices[k]
        Xk, yk = e.X[e.use], e.y[e.use].astype(float)
        if e.family == "gaussian":
            b = np.linalg.lstsq(Xk, yk, rcond=None)[0]
            theta[sl] = b
        elif e.family == "poisson" and Xk.shape[1]:
            theta[sl.stop - 1] = math.log(max(yk.mean(), 1e-3))
    i = fe.n_beta
    for e in model.eqs:
        if e.n_cut:
            theta[i:i + e.n_cut] = np.linspace(-1, 1, e.n_cut) if e.n_cut > 1 else 0.0
            i += e.n_cut
    for j, k in enumerate(fe.gauss_eqs):
        e = model.eqs[k]
        r = e.y[e.use] - e.X[e.use] @ theta[fe.beta_slices[k]]
        theta[i + j] = max(float(np.mean(r * r)), 1e-8)
    hist = [total_ll(fe, theta, quad)]
    if not all_gaussian(model):
        psi, _ = _minimize(lambda p: -total_ll(fe, to_theta(fe, p), quad), to_psi(fe, theta))
        theta = to_theta(fe, psi)
        theta, _, _ = _newton_polish(lambda t: total_ll(fe, t, quad), theta, steps=3)
        hist.append(total_ll(fe, theta, quad))
    else:
        hist.append(hist[0])
    return theta, hist[-1], hist


def _full_start(model: GsemModel, fe_theta: np.ndarray) -> np.ndarray:
    """theta of the full model from the fixed-effects fit: loadings 1, small variances."""
    th = np.zeros(model.n_par)
    nb, nc = model.n_beta, model.n_cut
    th[:nb + nc] = fe_theta[:nb + nc]
    i = nb + nc
    th[i:i + len(model.free_loadings)] = 1.0
    i += len(model.free_loadings)
    ng = len(model.gauss_eqs)
    s2 = fe_theta[len(fe_theta) - ng:] if ng else np.zeros(0)
    s2_of = {k: s2[j] for j, k in enumerate(model.gauss_eqs)}
    for j in range(model.q):
        eq = next(ld.eq for ld in model.loadings if ld.latent == j)
        th[i + j] = 0.2 * s2_of[eq] if eq in s2_of else 0.5
    i += model.q + len(model.cov_pairs)
    for j, k in enumerate(model.gauss_eqs):
        th[i + j] = 0.8 * s2_of[k] if model.q else s2_of[k]
    return th


def _gauss_profile(model: GsemModel, theta0: np.ndarray, hist: list):
    """Maximise the exact likelihood with beta profiled out; returns theta."""
    nb = model.n_beta

    def full(psi_var):
        psi = np.concatenate([np.zeros(nb), psi_var])
        th = to_theta(model, psi)
        try:
            th[:nb] = gm.gls_beta(model, model.split(th))
        except np.linalg.LinAlgError:
            return None
        return th

    def obj(psi_var):
        th = full(psi_var)
        return -total_ll(model, th) if th is not None else np.inf

    psi0 = to_psi(model, theta0)[nb:]
    psi, _ = _minimize(obj, psi0, callback=lambda x: hist.append(-obj(x)))
    th = full(psi)
    if th is None:
        raise GsemFitError("initial values not feasible")
    return th


def fit(model: GsemModel, *, method: str = "mvaghermite", points: int = 7,
        theta0: np.ndarray | None = None) -> GsemFit:
    fe_theta, ll_fixed, fe_hist = fixed_effects_start(model)
    gauss = all_gaussian(model)
    quad = None if gauss else gm.Quadrature(model, method, points)
    if model.q == 0:
        theta = fe_theta if theta0 is None else theta0
        hist = [ll_fixed]
    else:
        theta = _full_start(model, fe_theta) if theta0 is None else np.asarray(theta0, float)
        hist = [total_ll(model, theta, quad)]
        if not np.isfinite(hist[0]):
            raise GsemFitError("initial values not feasible")
        if gauss:
            theta = _gauss_profile(model, theta, hist)
        else:
            lap = gm.Quadrature(model, "laplace", 1)

            def obj(p):
                return -total_ll(model, to_theta(model, p), lap)
            psi, _ = _minimize(obj, to_psi(model, theta), callback=lambda x: hist.append(-obj(x)))
            theta = to_theta(model, psi)
            if method in ("mvaghermite", "mcaghermite"):
                theta, V, conv = _fixed_point(model, theta, quad)
                ll = total_ll(model, theta, quad)
                hist.append(ll)
                return GsemFit(theta, ll, V, conv and bool(np.all(np.diag(V) >= 0)), ll_fixed,
                               hist, fe_hist, method, points)

    theta, V, conv = _polish_vcov(model, theta, quad)
    ll = total_ll(model, theta, quad)
    hist.append(ll)
    return GsemFit(theta, ll, V, conv and bool(np.all(np.diag(V) >= 0)), ll_fixed, hist,
                   fe_hist, method, points)


def _jacobian(model: GsemModel, psi: np.ndarray) -> np.ndarray:
    """d theta / d psi by central differences."""
    h = _steps(psi, 1e-6)
    J = np.zeros((psi.size, psi.size))
    for i in range(psi.size):
        e = np.zeros_like(psi)
        e[i] = h[i]
        J[:, i] = (to_theta(model, psi + e) - to_theta(model, psi - e)) / (2 * h[i])
    return J


def _polish_vcov(model: GsemModel, theta: np.ndarray, quad):
    """Newton steps in the unconstrained metric (log variances, atanh correlations: steps
    never leave the parameter space, even with a variance at its boundary), then the
    observed-information VCE carried to e(b)'s metric by the delta method (at a maximum the
    same as inverting the Hessian in that metric)."""
    def f(p):
        return total_ll(model, to_theta(model, p), quad)
    psi, H, conv = _newton_polish(f, to_psi(model, theta))
    Vp, ok = _invert(H)
    conv = conv and ok
    J = _jacobian(model, psi)
    V = J @ Vp @ J.T
    return to_theta(model, psi), 0.5 * (V + V.T), conv


def _fixed_point(model: GsemModel, theta: np.ndarray, quad, maxit: int = 40):
    """Adaptive quadrature as Stata's ml runs it: nodes adapted at the current estimates and
    held fixed while a Newton step is taken on the (then smooth) quadrature sum, until the
    score with the nodes adapted to the estimates themselves is zero. The Hessian of the
    fixed-node sum, rebuilt when a step does not shrink the next one, gives the VCE."""
    psi = to_psi(model, theta)

    def f(p):
        return total_ll(model, to_theta(model, p), quad)

    def adapt(p):
        quad.frozen = None
        total_ll(model, to_theta(model, p), quad)
        quad.freeze(model.split(to_theta(model, p)))

    adapt(psi)
    H = num_hess(f, psi)
    conv, prev = False, np.inf
    for _ in range(maxit):
        g = num_grad(f, psi)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        step *= min(1.0, 5.0 / max(float(np.max(np.abs(step))), 1e-300))   # at most 5 in psi
        f0, t = f(psi), 1.0
        while t > 1e-3:
            ft = f(psi + t * step)
            if np.isfinite(ft) and ft >= f0 - 1e-8 * (1 + abs(f0)):
                break
            t *= 0.5
        else:
            break                   # no ascent left on the fixed-node sum
        psi = psi + t * step
        size = float(np.max(np.abs(t * step)))
        adapt(psi)
        if size < 1e-8:
            conv = True
            break
        if size > 0.5 * prev:
            H = num_hess(f, psi)
        prev = size
    H = num_hess(f, psi)
    quad.frozen = None
    Vp, ok = _invert(H)
    J = _jacobian(model, psi)
    V = J @ Vp @ J.T
    return to_theta(model, psi), 0.5 * (V + V.T), conv and ok


def _invert(H: np.ndarray) -> tuple[np.ndarray, bool]:
    """-H^-1; parameters whose Hessian entries are not finite (a variance at its boundary,
    where a step leaves the likelihood's domain) get no variance (SE shown as `.`), and a
    Hessian that is not negative definite its pseudo-inverse."""
    good = np.all(np.isfinite(H), axis=0)
    Vp = np.zeros_like(H)
    ok = bool(good.all())
    if not good.any():
        return Vp, False
    Hg = H[np.ix_(good, good)]
    try:
        sub = np.linalg.inv(-Hg)
        if np.any(np.linalg.eigvalsh(0.5 * (sub + sub.T)) <= 0):
            raise np.linalg.LinAlgError("not concave")
    except np.linalg.LinAlgError:
        sub = np.linalg.pinv(-Hg)
        ok = False
    Vp[np.ix_(good, good)] = sub
    return Vp, ok


def robust_vcov(model: GsemModel, fit: GsemFit, clusters: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Sandwich VCE from per-cluster scores: clusters maps each model group to its vce
    cluster (None: the model's own groups). Returns (V, number of clusters)."""
    quad = None if all_gaussian(model) else gm.Quadrature(model, fit.method, fit.points)
    S = cluster_scores(model, fit.theta, quad)
    if clusters is not None:
        codes, inv = np.unique(clusters, return_inverse=True)
        S = np.stack([S[inv == c].sum(axis=0) for c in range(codes.size)])
    G = S.shape[0]
    meat = S.T @ S * (G / (G - 1) if G > 1 else 1.0)
    Vr = fit.V @ meat @ fit.V
    return 0.5 * (Vr + Vr.T), G


def posterior(model: GsemModel, fit: GsemFit) -> tuple[np.ndarray, np.ndarray]:
    """Empirical Bayes means (G, q) and posterior covariances (G, q, q) of the latents."""
    parts = model.split(fit.theta)
    if all_gaussian(model):
        return gm.gauss_posterior(model, parts)
    quad = gm.Quadrature(model, fit.method, fit.points)
    if fit.method == "laplace":
        _, u, Hi = quad.cluster_ll(parts, want_posterior=True)
        return u, Hi
    _, mean, cov = quad.cluster_ll(parts, want_posterior=True)
    return mean, cov
