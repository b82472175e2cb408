"""Maximising the adapted quadrature value itself, for one random effect per group, when the
held-node Newton iterations of glmm._adaptive_outer cannot go on.

Why: glmm._adaptive_outer steps on the quadrature sum with the nodes held at the current
posterior moments and re-adapts after each step; its gradient (the held-node one) is the
gradient of the adapted value only when moving the nodes does not change the value, which is
true of an exact integral but not of a 12-point rule on a posterior with a sharp edge. On
Wooldridge's lfp panels (sigma_u ~ 4, 80% of the panels all 0 or all 1) the two gradients
differ by factors of 3 to 6 and point in different directions, the held-node fixed point does
not exist nearby (alternating full maximisation of the held sum and re-adaptation cycles), and
the Newton steps are refused. The adapted value is a smooth function of the parameters (the
posterior moments are a smooth fixed point), so it can be maximised directly once its own
gradient is known.

That gradient is exact, by the implicit function theorem on the moments' fixed point a = T(a,
psi) of each group (a = (mu, s), the posterior mean and standard deviation of u):
dV/dpsi = V_psi + V_a (I - T_a)^-1 T_psi. V_psi is the held-node gradient sum_k pi_k F_k
(F_k = df_k/dpsi at node k), T_psi follows in closed form from the weights' derivative
(d mu'/dpsi = sum_k pi_k (u_k - mu') F_k, d v'/dpsi = sum_k pi_k ((u_k - mu')^2 - v') F_k),
and the 2 x 2 blocks V_a and T_a come from central differences in each group's own (mu, s),
all groups at once (each group's value depends on its own nodes only: four passes over the
data). BFGS on that gradient, with the adapted deviance as the line search's objective, then
finds the maximum; its observed information is the finite-difference Jacobian of the same
gradient."""
from __future__ import annotations

import numpy as np

from .quasi_newton import minimize_bfgs

GTOL = 2e-3      # on the standardized deviance gradient (log likelihood settled to ~1e-6)


def applies(prob) -> bool:
    """The cases this module handles: adaptive quadrature with the mean-variance rule, one
    random effect per group, no family parameters of its own."""
    return (prob.method != "laplace" and prob.adapt_kind == "mv" and prob.q == 1
            and not prob.fam.n_extra)


def _scores(prob, beta, theta, mu, s):
    """At nodes mu + s t_k of every group: the quadrature's log likelihood V (G,) and the
    pieces of its total derivative: the weights pi (G, K), the node scores F (G, K, m) in the
    parameters, the derivative V_a (G, 2) and Jacobian T_a (G, 2, 2) in the group's own
    (mu, s), and T_psi (G, 2, m); T = (mu', s') are the next moments.

    With D_k = df_k/du at node k and c_k = du_k/da (1 for mu, t_k for s), the weights move by
    dpi_k = pi_k (D_k c_k - sum_j pi_j D_j c_j), so each derivative of a weighted mean is a
    weighted covariance: d mu' = Cov(u, D c) + E(c), d v' = Cov((u - mu')^2, D c)
    + 2 E((u - mu') c); in the parameters F takes the place of D c (the nodes do not move)."""
    d = prob.d
    A = d.Z @ prob.lam(theta)
    S = s[:, None, None]
    f, U, l1 = prob._node_values(beta, A, mu[:, None], S)
    V, pi = prob._posterior(f, S)
    u = U[:, :, 0]
    m1 = np.sum(pi * u, axis=1)
    r = u - m1[:, None]
    v1 = np.sum(pi * r * r, axis=1)
    s1 = np.sqrt(v1 + 1e-12)
    basis = list(prob.st.basis)                      # q = 1: Lambda = sum theta_j B_j
    F = np.empty((d.G, u.shape[1], prob.p + len(basis)))
    for j in range(prob.p):
        F[:, :, j] = d.gsum(l1 * d.X[:, j, None])
    for j, B in enumerate(basis):
        F[:, :, prob.p + j] = d.gsum(l1 * (d.Z @ B)[:, 0, None] * u[d.codes])
    D = d.gsum(l1 * A[:, 0, None]) - u
    wr, wv = pi * r, pi * (r * r - v1[:, None])
    Tpsi = np.stack([np.einsum("gk,gkm->gm", wr, F),
                     np.einsum("gk,gkm->gm", wv, F) / (2.0 * s1)[:, None]], axis=1)
    t = prob.nodes[:, 0][None, :]
    Va = np.empty((d.G, 2))
    Ta = np.empty((d.G, 2, 2))
    for j, c in enumerate((np.ones_like(t), t)):
        Dc = D * c
        Va[:, j] = np.sum(pi * Dc, axis=1)
        Ta[:, 0, j] = np.sum(wr * Dc, axis=1) + np.sum(pi * c, axis=1)
        Ta[:, 1, j] = (np.sum(wv * Dc, axis=1) + 2.0 * np.sum(wr * c, axis=1)) / (2.0 * s1)
    Va[:, 1] += 1.0 / s
    return V, pi, F, Va, Ta, Tpsi


def total_gradient(prob, x) -> tuple[float, np.ndarray]:
    """(deviance, its gradient) of the adapted quadrature value at x (the adaptation is redone
    from prob.adapt, or from the modes when there is none; prob.adapt and prob.last hold x's
    own afterwards)."""
    dev, G = _group_gradients(prob, x)
    if G is None:
        return np.inf, np.zeros(len(x))
    return dev, -2.0 * G.sum(axis=0)


def group_scores(prob, x) -> np.ndarray | None:
    """Each group's derivative of its adapted log likelihood at x (G x k): the scores a
    sandwich VCE sums; None where they cannot be computed."""
    return _group_gradients(prob, x)[1]


def _group_gradients(prob, x):
    """(deviance, per-group total gradient of log L (G x k) or None)."""
    prob.nfev += 1
    beta, theta = prob._split(x)
    with np.errstate(all="ignore"):
        try:
            if prob.adapt is None:
                prob.agq(beta, theta, want_grad=False)
            mu0, S0 = prob.adapt
            A = prob.d.Z @ prob.lam(theta)
            mu0, S0 = prob._adapt_mv(beta, A, mu0, S0)
            mu, s = mu0[:, 0], S0[:, 0, 0]
            V, pi, F, Va, Ta, Tpsi = _scores(prob, beta, theta, mu, s)
            M = np.eye(2)[None] - Ta
            lam = np.linalg.solve(np.swapaxes(M, 1, 2), Va[:, :, None])[:, :, 0]   # (G, 2)
            G = np.einsum("gk,gkm->gm", pi, F) + np.einsum("ga,gam->gm", lam, Tpsi)
        except np.linalg.LinAlgError:
            return np.inf, None
    dev = -2.0 * (float(V.sum()) + prob.const)
    if not np.isfinite(dev) or not np.all(np.isfinite(G)):
        return np.inf, None
    prob.adapt = (mu0, S0)
    prob.last = (np.array(x, dtype=float), dev)
    return dev, G


def maximise(prob, x0, maxiter: int, callback=None):
    """BFGS on the adapted deviance from x0: (x, iterations)."""
    res = minimize_bfgs(lambda z: total_gradient(prob, z), np.asarray(x0, dtype=float),
                        gtol=GTOL, maxiter=maxiter, callback=callback)
    return res.x, res.nit
