"""Random-effects multinomial logit for panel data ([XT] xtmlogit, re): the marginal likelihood
by mean-variance adaptive Gauss-Hermite quadrature over the outcome-specific random intercepts.

Outcomes are coded 0..J-1, `base` fixed at zero. Panel i has u_i ~ N(0, Sigma), one intercept
per non-base outcome (q = J-1), and

    Pr(y_it = j | u_i) = exp(x_it b_j + u_ij) / sum_l exp(x_it b_l + u_il),   b_base = u_base = 0.

The integral over u_i is a product rule of `points` nodes per dimension placed at each panel's
posterior mean with its posterior covariance's Cholesky factor (the adaptation is updated between
optimisation passes until it settles). With the nodes fixed, the gradient is exact: posterior
expectations (under the quadrature weights) of the complete-data scores, which is why the fit
is a quasi-Newton one with an analytic gradient rather than numerical derivatives.

Sigma's structures ("natural" parameters, the order of e(b)):
    independent   var(u_1) .. var(u_q)
    identity      one common variance
    exchangeable  common variance, common covariance
    unstructured  var(u_1) .. var(u_q), then cov(u_a, u_b) for a < b (row by row)
Sigma is linear in the natural parameters (basis matrices D_k), so the Hessian in that metric is
the central-difference derivative of the analytic gradient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STRUCTURES = ("independent", "identity", "exchangeable", "unstructured")


def basis(q: int, cov: str) -> list[np.ndarray]:
    """Sigma = sum_k p_k D_k for the natural parameters p of the structure."""
    out = []
    if cov == "identity":
        return [np.eye(q)]
    if cov == "exchangeable":
        return [np.eye(q), np.ones((q, q)) - np.eye(q)]
    for a in range(q):
        D = np.zeros((q, q))
        D[a, a] = 1.0
        out.append(D)
    if cov == "unstructured":
        for a in range(q):
            for c in range(a + 1, q):
                D = np.zeros((q, q))
                D[a, c] = D[c, a] = 1.0
                out.append(D)
    return out


def param_pairs(q: int, cov: str) -> list[tuple[int, int]]:
    """(a, c) of each natural parameter: (a, a) a variance, a != c a covariance (the first pair
    stands for all of them under identity/exchangeable)."""
    if cov == "identity":
        return [(0, 0)]
    if cov == "exchangeable":
        return [(0, 0), (0, 1)]
    out = [(a, a) for a in range(q)]
    if cov == "unstructured":
        out += [(a, c) for a in range(q) for c in range(a + 1, q)]
    return out


def sigma_natural(p: np.ndarray, D: list[np.ndarray]) -> np.ndarray:
    return sum(float(v) * M for v, M in zip(p, D))


def _sigma_free(t: np.ndarray, q: int, cov: str) -> np.ndarray:
    """Sigma from unconstrained parameters (log sd, atanh correlation, Cholesky with log
    diagonal): the metric the optimiser works in, always positive definite."""
    def sd(x):                                   # floored: a variance at its boundary stays > 0
        return np.exp(np.clip(x, -12.0, 12.0))
    if cov == "identity":
        return sd(t[0]) ** 2 * np.eye(q)
    if cov == "independent":
        return np.diag(sd(np.asarray(t[:q])) ** 2)
    if cov == "exchangeable":
        lo = -1.0 / (q - 1) if q > 1 else -1.0
        r = lo + (1 - lo) / (1 + np.exp(-np.clip(t[1], -30.0, 30.0)))
        return sd(t[0]) ** 2 * ((1 - r) * np.eye(q) + r * np.ones((q, q)))
    L = np.zeros((q, q))
    L[np.tril_indices(q)] = t
    L[np.diag_indices(q)] = sd(np.diag(L))
    return L @ L.T


def n_free(q: int, cov: str) -> int:
    return {"identity": 1, "independent": q, "exchangeable": 2}.get(cov, q * (q + 1) // 2)


def natural_from_sigma(S: np.ndarray, cov: str) -> np.ndarray:
    q = S.shape[0]
    if cov == "identity":
        return np.array([np.trace(S) / q])
    if cov == "exchangeable":
        off = S[~np.eye(q, dtype=bool)]
        return np.array([np.trace(S) / q, float(off.mean()) if off.size else 0.0])
    return np.array([S[a, c] for a, c in param_pairs(q, cov)])


def _lse(a: np.ndarray, axis: int) -> np.ndarray:
    """log sum exp along axis (scipy's is slower for these many small reductions)."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis=axis)


def rule(points: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Product Gauss-Hermite rule for N(0, I_q): nodes (M, q), log weights (M,)."""
    from numpy.polynomial.hermite_e import hermegauss
    t, w = hermegauss(points)
    w = w / np.sqrt(2 * np.pi)
    grids = np.meshgrid(*([t] * q), indexing="ij")
    wgrid = np.meshgrid(*([np.log(w)] * q), indexing="ij")
    return np.stack([g.ravel() for g in grids], 1), np.sum(np.stack([g.ravel() for g in wgrid], 1), 1)


@dataclass
class REFit:
    beta: np.ndarray          # (q, k) non-base outcomes' coefficients, outcome order
    sigma: np.ndarray         # (q, q)
    natural: np.ndarray       # Sigma's natural parameters
    ll: float
    H: np.ndarray             # Hessian of ll in (beta.ravel(), free variance parameters)
    scores: np.ndarray        # (G, p) per-panel gradient in the same metric
    jac: np.ndarray           # d (beta, natural) / d (beta, free): V_natural = jac V jac'
    iterations: list
    converged: bool


class Problem:
    """Data, quadrature rule and the current adaptation (posterior mean and Cholesky factor of
    every panel's random effects)."""

    def __init__(self, X, codes, groups, J, base, cov="independent", points=7, adaptive=True):
        self.X = np.asarray(X, dtype=float)
        self.n, self.k = self.X.shape
        self.J, self.base, self.cov = J, base, cov
        self.q = J - 1
        self.others = [j for j in range(J) if j != base]
        self.y = np.asarray(codes, dtype=int)
        self.g = np.asarray(groups, dtype=int)
        self.G = int(self.g.max()) + 1
        self.Y = np.eye(J)[self.y]
        self.nodes, self.logw = rule(points, self.q)
        self.adaptive = adaptive
        self.D = basis(self.q, cov)
        self.mu = np.zeros((self.G, self.q))
        self.C = np.tile(np.eye(self.q), (self.G, 1, 1))

    # -- the integrand --------------------------------------------------------------------
    def _weights(self, B: np.ndarray, S: np.ndarray):
        """Per panel: log integral (G,), normalised node weights (G, M), nodes U (G, M, q)
        and the conditional outcome probabilities (n, M, J)."""
        if self.adaptive:
            U = self.mu[:, None, :] + np.einsum("gab,mb->gma", self.C, self.nodes)
            ldetC = np.linalg.slogdet(self.C)[1]
        else:
            L = np.linalg.cholesky(S)
            U = np.broadcast_to(self.nodes @ L.T, (self.G,) + self.nodes.shape)
            ldetC = np.zeros(self.G)
        Si = np.linalg.inv(S)
        ld = np.linalg.slogdet(S)[1]
        if self.adaptive:
            lprior = -0.5 * np.einsum("gma,ab,gmb->gm", U, Si, U) - 0.5 * ld
            lz = -0.5 * np.sum(self.nodes ** 2, 1)
            corr = lprior - lz[None, :] + ldetC[:, None]
        else:
            corr = np.zeros((self.G, len(self.logw)))
        eta = np.zeros((self.n, self.J))
        eta[:, self.others] = self.X @ B.T
        lin = np.repeat(eta[:, None, :], U.shape[1], axis=1)
        lin[:, :, self.others] += U[self.g]
        lse = _lse(lin, 2)
        lp = np.take_along_axis(lin, self.y[:, None, None].repeat(lin.shape[1], 1), 2)[:, :, 0] - lse
        lobs = np.zeros((self.G, len(self.logw)))
        np.add.at(lobs, self.g, lp)
        a = lobs + corr + self.logw[None, :]
        llg = _lse(a, 1)
        w = np.exp(a - llg[:, None])
        P = np.exp(lin - lse[:, :, None])
        return llg, w, U, P

    def reset(self, S) -> None:
        """The adaptation back at the prior (every panel's nodes on N(0, S))."""
        self.mu = np.zeros((self.G, self.q))
        self.C = np.tile(np.linalg.cholesky(S + 1e-10 * np.eye(self.q)), (self.G, 1, 1))

    def adapt(self, B, S, iters=60, tol=1e-8) -> None:
        if not self.adaptive:
            return
        for _ in range(iters):
            _, w, U, _ = self._weights(B, S)
            m = np.einsum("gm,gma->ga", w, U)
            Dv = U - m[:, None, :]
            V = np.einsum("gm,gma,gmb->gab", w, Dv, Dv) + 1e-12 * np.eye(self.q)
            C = np.linalg.cholesky(V)
            d = max(np.max(np.abs(m - self.mu)), np.max(np.abs(C - self.C)))
            self.mu, self.C = m, C
            if d < tol:
                break

    # -- likelihood and its gradient ------------------------------------------------------
    def loglik(self, B, S) -> float:
        return float(self._weights(B, S)[0].sum())

    def parts(self, B, S):
        """(ll, per-panel gradient in beta (G, q*k), per-panel d ll / d Sigma (G, q, q)) at
        fixed adaptation."""
        llg, w, U, P = self._weights(B, S)
        EP = np.einsum("nm,nmj->nj", w[self.g], P)
        R = (self.Y - EP)[:, self.others]                                   # (n, q)
        obs = (R[:, :, None] * self.X[:, None, :]).reshape(self.n, -1)
        gb = np.zeros((self.G, obs.shape[1]))
        np.add.at(gb, self.g, obs)
        Si = np.linalg.inv(S)
        EUU = np.einsum("gm,gma,gmb->gab", w, U, U)
        dS = 0.5 * (np.einsum("ab,gbc,cd->gad", Si, EUU, Si) - Si[None])     # (G, q, q)
        return float(llg.sum()), gb, dS

    def group_scores(self, B, S):
        """(ll, per-panel gradient (G, q*k + len(D))) in (beta, natural) at fixed adaptation."""
        ll, gb, dS = self.parts(B, S)
        gt = np.stack([np.einsum("gab,ab->g", dS, M) for M in self.D], 1)
        return ll, np.hstack([gb, gt])

    def unpack_natural(self, v):
        p = self.q * self.k
        return v[:p].reshape(self.q, self.k), sigma_natural(v[p:], self.D)


def _free_objective(prob: Problem, v: np.ndarray):
    """-ll and its gradient in the free metric (chain rule through Sigma(t), whose derivative
    is taken by central differences: Sigma is cheap, the likelihood is not)."""
    p = prob.q * prob.k
    B, t = v[:p].reshape(prob.q, prob.k), v[p:]
    try:
        ll, gb, dS = prob.parts(B, _sigma_free(t, prob.q, prob.cov))
    except np.linalg.LinAlgError:                # a numerically singular Sigma: step back
        return np.inf, np.zeros_like(v)
    if not np.isfinite(ll):
        return np.inf, np.zeros_like(v)
    dS = dS.sum(0)
    gt = np.zeros(len(t))
    h = 1e-6
    for i in range(len(t)):
        e = np.zeros(len(t))
        e[i] = h
        dSi = (_sigma_free(t + e, prob.q, prob.cov) - _sigma_free(t - e, prob.q, prob.cov)) / (2 * h)
        gt[i] = float(np.sum(dS * dSi))
    return -ll, -np.concatenate([gb.sum(0), gt])


def _free_start(q: int, cov: str) -> np.ndarray:
    """Start: every variance 0.5, no correlation (log sd = log sqrt(.5); Cholesky diagonal)."""
    t0 = np.zeros(n_free(q, cov))
    if cov == "unstructured":
        t0[[i * (i + 3) // 2 for i in range(q)]] = np.log(np.sqrt(0.5))   # diagonal of L
    elif cov == "independent":
        t0[:] = np.log(np.sqrt(0.5))
    else:
        t0[0] = np.log(np.sqrt(0.5))
        if cov == "exchangeable" and q > 1:
            t0[1] = -np.log(q - 1)                  # correlation 0 on its (-1/(q-1), 1) scale
    return t0


def _optimize(prob: Problem, v: np.ndarray, maxit: int, lines: list, trace) -> tuple:
    """BFGS with the analytic gradient between adaptation passes until the parameters (or the
    log likelihood) settle: (parameters, converged)."""
    from scipy.optimize import minimize
    q, k = prob.q, prob.k
    for outer in range(40):
        B, S = v[:q * k].reshape(q, k), _sigma_free(v[q * k:], q, prob.cov)
        prob.adapt(B, S)
        lines.append(prob.loglik(B, S))
        if trace:
            trace(len(lines) - 1, lines[-1])
        if outer > 1 and abs(lines[-1] - lines[-2]) < 1e-9 * (1 + abs(lines[-1])):
            return v, True                       # e.g. a variance creeping to its boundary
        r = minimize(lambda x: _free_objective(prob, x), v, jac=True, method="BFGS",
                     options={"gtol": 1e-7, "maxiter": maxit})
        moved = float(np.max(np.abs(r.x - v)))
        v = r.x
        if moved < 1e-6 and outer > 0:
            return v, True
    return v, False


def _sd_positions(q: int, cov: str) -> list[int]:
    """Where the log standard deviations (the Cholesky diagonal) sit among the free parameters."""
    if cov == "unstructured":
        return [i * (i + 3) // 2 for i in range(q)]
    return list(range(q)) if cov == "independent" else [0]


def _value(prob: Problem, v: np.ndarray) -> float:
    q, k = prob.q, prob.k
    B, S = v[:q * k].reshape(q, k), _sigma_free(v[q * k:], q, prob.cov)
    try:
        prob.reset(S)
        prob.adapt(B, S)
        return prob.loglik(B, S)
    except np.linalg.LinAlgError:
        return -np.inf


def fit(X, codes, groups, J, base, cov="independent", points=7, adaptive=True,
        start_beta=None, maxit=300, trace=None) -> REFit:
    """ML fit (_optimize, again from the start value of a standard deviation that went to 0);
    then the Hessian (central differences of the gradient) in the free metric and the jacobian
    to the natural one."""
    prob = Problem(X, codes, groups, J, base, cov, points, adaptive)
    q, k = prob.q, prob.k
    b0 = np.zeros(q * k) if start_beta is None else np.asarray(start_beta, dtype=float).ravel()
    v = np.concatenate([b0, _free_start(q, cov)])
    lines: list = []
    v, converged = _optimize(prob, v, maxit, lines, trace)
    low = [q * k + i for i in _sd_positions(q, cov) if v[q * k + i] < -4.0]
    if low:
        # a standard deviation near 0 can be a stationary point that is no maximum (the log
        # scale flattens the likelihood there): once more from the best of a few values of it
        ll1 = _value(prob, v)
        grid = []
        for t in (np.log(np.sqrt(0.5)), -1.0, -1.5, -2.0, -3.0):   # sd .71 .37 .22 .14 .05
            w = v.copy()
            w[low] = t
            grid.append((_value(prob, w), t))
        w = v.copy()
        w[low] = max(grid)[1]
        prob.reset(_sigma_free(w[q * k:], q, cov))
        w, conv2 = _optimize(prob, w, maxit, lines, trace)
        if _value(prob, w) > ll1 + 1e-7:
            v, converged = w, conv2
    t = v[q * k:]
    B, S = v[:q * k].reshape(q, k), _sigma_free(t, q, cov)
    if low:
        prob.reset(S)
    prob.adapt(B, S)
    nat = natural_from_sigma(S, cov)
    ll, scores = prob.group_scores(B, sigma_natural(nat, prob.D))
    lines.append(ll)
    if trace:
        trace(len(lines) - 1, ll)
    jac = _free_jacobian(q * k, t, q, cov)
    H = free_hessian(prob, v)
    return REFit(beta=B, sigma=S, natural=nat, ll=ll, H=H, scores=scores @ jac, jac=jac,
                 iterations=lines, converged=converged)


def _free_jacobian(p: int, t: np.ndarray, q: int, cov: str) -> np.ndarray:
    """d (beta, natural) / d (beta, free): identity on beta, central differences on Sigma's
    parameters (cheap: no likelihood involved)."""
    m = len(t)
    Jt = np.zeros((m, m))
    for i in range(m):
        h = 1e-6 * (abs(t[i]) + 1.0)
        tp, tm = t.copy(), t.copy()
        tp[i] += h
        tm[i] -= h
        Jt[:, i] = (natural_from_sigma(_sigma_free(tp, q, cov), cov)
                    - natural_from_sigma(_sigma_free(tm, q, cov), cov)) / (2 * h)
    J = np.eye(p + m)
    J[p:, p:] = Jt
    return J


def free_hessian(prob: Problem, v: np.ndarray) -> np.ndarray:
    """Central differences of the analytic gradient in (beta, free), symmetrised. The free
    metric keeps every step inside the parameter space, also at a variance's boundary; at the
    optimum the delta method to the natural metric gives the same VCE as its own Hessian."""
    n = len(v)
    H = np.zeros((n, n))
    for i in range(n):
        h = 1e-5 * (abs(v[i]) + 1e-2)
        vp, vm = v.copy(), v.copy()
        vp[i] += h
        vm[i] -= h
        H[:, i] = (_free_objective(prob, vm)[1] - _free_objective(prob, vp)[1]) / (2 * h)
    return 0.5 * (H + H.T)


def marginal_probabilities(eta: np.ndarray, S: np.ndarray, base: int, points: int = 15) -> np.ndarray:
    """(n, J) Pr(y = j) integrated over u ~ N(0, S) (S over the non-base outcomes in outcome
    order); eta (n, J) with the base column zero. A product Gauss-Hermite rule of `points` per
    dimension on the Cholesky-scaled normal."""
    n, J = eta.shape
    q = S.shape[0]
    others = [j for j in range(J) if j != base]
    if q == 0 or not np.any(S):
        ex = np.exp(eta - eta.max(1, keepdims=True))
        return ex / ex.sum(1, keepdims=True)
    nodes, logw = rule(points, q)
    w = np.exp(logw)
    vals, vecs = np.linalg.eigh(0.5 * (S + S.T))
    L = vecs * np.sqrt(np.clip(vals, 0, None))                     # S = L L'
    U = nodes @ L.T                                                # (M, q)
    out = np.zeros((n, J))
    step = max(1, 200000 // max(1, len(w) * J))
    for start in range(0, n, step):
        e = eta[start:start + step]
        lin = np.repeat(e[:, None, :], len(w), axis=1)
        lin[:, :, others] += U[None]
        lin -= lin.max(2, keepdims=True)
        ex = np.exp(lin)
        out[start:start + step] = np.einsum("nmj,m->nj", ex / ex.sum(2, keepdims=True), w)
    return out
