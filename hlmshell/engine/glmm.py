"""Generalized linear mixed models with one level of random effects: conditional modes by
penalized iteratively reweighted least squares (PIRLS) for all groups at once, the marginal
likelihood by the Laplace approximation or by adaptive Gauss-Hermite quadrature, and maximum
likelihood over (beta, theta) with exact gradients.

Model (lme4's spherical form): eta = X b + Z Lambda u + offset, u_g ~ N(0, I_q) per group,
Psi = Lambda Lambda' the random effects' covariance; y_i | u ~ family(eta_i). Per group

    f_g(u) = sum_i l_i(eta_i) - u'u/2 - (q/2) log 2 pi,  L_g = integral exp f_g(u) du.

Laplace: log L_g ~ f_g(u^) + (q/2) log 2 pi - log|H_g|/2, u^ the mode, H_g = I + Lambda'Z_g'W Z_g
Lambda, W = -l''. Its gradient in (b, theta) is exact: the envelope theorem for f, and for
log|H| the change of W with eta (l''') through the mode's own derivative du^/dpsi = H^-1 dF/dpsi
(implicit function theorem); every term is a per-observation quantity summed per group or a
q x q matrix per group, so all groups are handled by batched arrays (no loop over groups).

Adaptive quadrature (Stata's mvaghermite): nodes u = mu_g + S_g t_k on a product
Gauss-Hermite rule, (mu_g, S_g S_g') the posterior mean and covariance of u_g, iterated to
convergence at every evaluation from the previous ones (started at the mode and curvature).
Its gradient holds the nodes fixed (sum_k pi_gk df_g(u_k)/dpsi, pi the normalised posterior
weights), as Stata's ml does between updates of the adaptive parameters; at the solution the
two agree to the quadrature's accuracy.

Why one level: the two-level models of a course (random intercept, correlated random slope)
are where speed matters most; nested and crossed GLMMs are left for the blocked factorisation
(engine.blocked, whose forward pass takes observation weights).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import glmm_adapted
from .blocked import inv_logdet
from .lmm import _fd_hessian
from .glmm_families import Family
from .quasi_newton import deviance, minimize_bfgs
from .vcparams import Structure

LOG2PI = math.log(2 * math.pi)
POLISH = 0.1      # Newton decrement (deviance units) below which a step is taken whole
STRUGGLE = 0.1    # a held-node Newton step cut below this: maximise the adapted value instead


@dataclass
class GlmmData:
    """Observations sorted by group: y, X (n x p), Z (n x q), offset, trials, group starts."""

    y: np.ndarray
    X: np.ndarray
    Z: np.ndarray
    offset: np.ndarray
    trials: np.ndarray
    codes: np.ndarray          # group index per (sorted) observation, 0..G-1
    starts: np.ndarray         # first row of each group
    order: np.ndarray          # sorted position -> caller's row
    G: int
    weights: np.ndarray | None = None   # level-1 weights (fweight/pweight/iweight), sorted

    @classmethod
    def build(cls, y, X, Z, groups, offset=None, trials=None, weights=None) -> "GlmmData":
        y = np.asarray(y, dtype=float).reshape(-1)
        n = len(y)
        g = np.asarray(groups, dtype=np.int64).reshape(-1)
        order = np.argsort(g, kind="stable")
        gs = g[order]
        starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
        codes = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
        off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)[order]
        tr = np.ones(n) if trials is None else np.asarray(trials, dtype=float)[order]
        w = None if weights is None else np.asarray(weights, dtype=float)[order]
        return cls(y[order], np.asarray(X, dtype=float).reshape(n, -1)[order],
                   np.asarray(Z, dtype=float).reshape(n, -1)[order], off, tr, codes, starts,
                   order, len(starts), w)

    def gsum(self, v: np.ndarray) -> np.ndarray:
        """Sums over the rows of each group (rows are sorted by group)."""
        return np.add.reduceat(v, self.starts, axis=0)


def derivs(fam: Family, data: GlmmData, eta):
    """The family's (l, l1, l2, l3) at eta, each observation's terms times its level-1 weight
    (a weighted log likelihood: fweights count copies, pweights give the pseudolikelihood)."""
    out = fam.derivs(data.y, eta, data.trials)
    if data.weights is None:
        return out
    return tuple(data.weights * v for v in out)


def constant(fam: Family, data: GlmmData) -> float:
    """The family's constant, weighted like the terms."""
    if data.weights is None:
        return fam.constant(data.y, data.trials)
    return float(np.sum(data.weights * fam.constant_terms(data.y, data.trials)))


def _solve_small(Hinv, v):
    return np.einsum("gij,gj->gi", Hinv, v)


@dataclass
class _Rows:
    """Some groups' rows of the (group-sorted) data: their positions (None: all rows), each
    row's group as an index into the chosen groups, and where each group's rows start."""

    idx: np.ndarray | None
    codes: np.ndarray
    starts: np.ndarray

    @classmethod
    def every(cls, d: GlmmData) -> "_Rows":
        return cls(None, d.codes, d.starts)

    @classmethod
    def of(cls, d: GlmmData, groups: np.ndarray) -> "_Rows":
        """The rows of `groups` (increasing group indices)."""
        sizes = np.diff(np.r_[d.starts, len(d.codes)])[groups]
        first = d.starts[groups]
        starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
        idx = np.repeat(first - starts, sizes) + np.arange(int(sizes.sum()))
        codes = np.repeat(np.arange(len(groups)), sizes)
        return cls(idx, codes, starts)


class Problem:
    """-2 log L of a one-level GLMM as a function of (b, theta), with its gradient."""

    def __init__(self, data: GlmmData, fam: Family, structure: Structure, method: str = "laplace",
                 points: int = 7, adapt: str = "mv"):
        self.d = data
        self.fam = fam
        self.st = structure
        self.method = method
        self.p = data.X.shape[1]
        self.q = data.Z.shape[1]
        self.points = points
        self.u = np.zeros((data.G, self.q))               # warm start of the modes
        self.adapt = None                                   # (mu, S) of the quadrature
        self.freeze = False                                 # hold (mu, S) fixed (outer loop)
        self.struggled = False      # held-node Newton gave up: the adapted value is maximised
        # quadrature nodes: "mv" posterior mean and variance (Stata's mvaghermite), "mc" the
        # mode and curvature (mcaghermite, lme4's nAGQ), "none" the prior's (ghermite)
        self.adapt_kind = adapt
        self.const = constant(fam, data)
        self.nfev = 0
        if method != "laplace":
            from numpy.polynomial.hermite_e import hermegauss
            t, w = hermegauss(points)
            grids = np.meshgrid(*([t] * self.q), indexing="ij")
            self.nodes = np.stack([gq.ravel() for gq in grids], axis=1)          # (K, q)
            wg = np.meshgrid(*([w] * self.q), indexing="ij")
            self.logw = np.sum(np.log(np.stack([x.ravel() for x in wg], axis=1)), axis=1)

    # ---- pieces ---------------------------------------------------------------------------
    def lam(self, theta) -> np.ndarray:
        L = self.st.lam(theta)
        return L[0, 0] * np.eye(self.q) if L.shape[0] == 1 and self.q > 1 else L

    def _eta(self, beta, A, u):
        """eta for every observation: X b + a_i u_g + offset, a_i = z_i Lambda."""
        d = self.d
        return d.X @ beta + np.einsum("nq,nq->n", A, u[d.codes]) + d.offset

    def modes(self, beta, L, maxit=50):
        """Conditional modes u^ of all groups (Newton on f_g, step-halving per group); returns
        (u^, A, eta, the family's (l, l1, l2, l3) at the modes)."""
        d = self.d
        A = d.Z @ L                                          # rows a_i
        u = self.u.copy()
        eta = self._eta(beta, A, u)
        ders = derivs(self.fam, d, eta)
        fg = d.gsum(ders[0]) - 0.5 * np.sum(u * u, axis=1)
        eye = np.eye(self.q)
        for _ in range(maxit):
            l1, W = ders[1], -ders[2]
            H = d.gsum(W[:, None, None] * A[:, :, None] * A[:, None, :]) + eye
            Hinv, _ = inv_logdet(H)
            step = _solve_small(Hinv, d.gsum(l1[:, None] * A) - u)
            t = np.ones(d.G)
            for _half in range(30):
                un = u + t[:, None] * step
                etan = self._eta(beta, A, un)
                dn = derivs(self.fam, d, etan)
                fn = d.gsum(dn[0]) - 0.5 * np.sum(un * un, axis=1)
                bad = ~(fn >= fg - 1e-12 * np.abs(fg))
                if not bad.any():
                    break
                t = np.where(bad, 0.5 * t, t)
            u, eta, ders, fg = un, etan, dn, fn
            if np.max(np.abs(t[:, None] * step), initial=0.0) < 1e-10:
                break
        self.u = u
        return u, A, eta, ders

    # ---- Laplace ---------------------------------------------------------------------------
    def laplace(self, beta, theta, want_grad=True):
        d = self.d
        L = self.lam(theta)
        u, A, eta, (l, l1, l2, l3) = self.modes(beta, L)
        W = -l2
        H = d.gsum(W[:, None, None] * A[:, :, None] * A[:, None, :]) + np.eye(self.q)
        Hinv, logdet = inv_logdet(H)
        ll = float(l.sum()) + self.const - 0.5 * float(np.sum(u * u)) - 0.5 * logdet
        if not want_grad:
            return ll, None
        h = np.einsum("nq,nqr,nr->n", A, Hinv[d.codes], A)
        c = l3 * h
        s = d.gsum(c[:, None] * A)                            # sum c_i a_i    (G, q)
        AW = d.gsum((W[:, None] * A)[:, :, None] * d.X[:, None, :])    # sum W a_i x_i'  (G, q, p)
        g_beta = d.X.T @ (l1 + 0.5 * c) - 0.5 * np.einsum("gqp,gq->p", AW, _solve_small(Hinv, s))
        Zl = d.gsum(l1[:, None] * d.Z)
        Zc = d.gsum(c[:, None] * d.Z)
        ZWZ = d.gsum(W[:, None, None] * d.Z[:, :, None] * d.Z[:, None, :])
        M = ZWZ @ L @ Hinv                                    # Z'WZ Lambda H^-1   (G, q, q)
        g_theta = []
        for B in _basis(self.st, self.q):
            Bu = u @ B.T                                      # B u per group (G, q)
            du = _solve_small(Hinv, Zl @ B - np.einsum("qr,grs,gs->gq", L.T, ZWZ, Bu))
            g = (np.sum(Zl * Bu) + 0.5 * np.sum(Zc * Bu) + 0.5 * np.sum(s * du)
                 - np.einsum("qr,gqr->", B, M))
            g_theta.append(g)
        return ll, np.concatenate([g_beta, np.array(g_theta)])

    # ---- adaptive quadrature ----------------------------------------------------------------
    def _node_values(self, beta, A, mu, S):
        """f_g at every node (G, K) and the nodes u (G, K, q)."""
        d = self.d
        return self._nodes_on(_Rows.every(d), d.X @ beta + d.offset, A, mu, S)

    def _nodes_on(self, rows: "_Rows", xb, A, mu, S):
        """_node_values on the rows of some groups (rows: their positions, codes and starts;
        xb and A of every row; mu and S of those groups only)."""
        d = self.d
        U = mu[:, None, :] + np.einsum("gqr,kr->gkq", S, self.nodes)
        i = rows.idx
        xr, Ar = (xb, A) if i is None else (xb[i], A[i])
        yr, tr = (d.y, d.trials) if i is None else (d.y[i], d.trials[i])
        eta = xr[:, None] + np.einsum("nq,nkq->nk", Ar, U[rows.codes])
        l, l1 = self.fam.first(yr[:, None], eta, tr[:, None])
        if d.weights is not None:
            w = d.weights if i is None else d.weights[i]
            l, l1 = w[:, None] * l, w[:, None] * l1
        f = np.add.reduceat(l, rows.starts, axis=0) - 0.5 * np.sum(U * U, axis=2) \
            - 0.5 * self.q * LOG2PI
        return f, U, l1

    def _posterior(self, f, S):
        logdetS = np.log(np.abs(np.linalg.det(S)))
        a = f + 0.5 * np.sum(self.nodes ** 2, axis=1)[None, :] + self.logw[None, :]
        mx = a.max(axis=1, keepdims=True)
        w = np.exp(a - mx)
        tot = w.sum(axis=1, keepdims=True)
        logL = logdetS + mx[:, 0] + np.log(tot[:, 0])
        return logL, w / tot

    def _adapt_mv(self, beta, A, mu, S, tol=1e-8, maxit=100):
        """The posterior means and Cholesky factors of the covariances by fixed-point iteration
        (each pass: the moments of the quadrature's normalised weights at the current nodes),
        damped per group. Why damped: where the posterior is far from normal (a panel whose
        outcomes are all 0 or all 1 under a large variance: the prior cut off by a steep edge
        narrower than the nodes' spacing) the plain iteration falls into a 2-cycle, and the
        quadrature value then alternates between the cycle's two placements; halving a group's
        step whenever its residual does not shrink turns the cycle into convergence.

        A group leaves the iteration once its own residual is below tol (it keeps the moments
        of that pass), and later passes evaluate the nodes of the remaining groups' rows only:
        a few slow groups (such steep edges) no longer cost passes over all the data."""
        d = self.d
        xb = d.X @ beta + d.offset
        mu, S = mu.copy(), S.copy()
        active = np.arange(mu.shape[0])
        rows = _Rows.every(d)
        alpha = np.ones(len(active))
        prev = np.full(len(active), np.inf)
        for _ in range(maxit):
            ma, Sa = mu[active], S[active]
            f, U, _ = self._nodes_on(rows, xb, A, ma, Sa)
            _, pi = self._posterior(f, Sa)
            mu_n = np.einsum("gk,gkq->gq", pi, U)
            D = U - mu_n[:, None, :]
            cov = np.einsum("gk,gkq,gkr->gqr", pi, D, D) + 1e-12 * np.eye(self.q)
            S_n = np.linalg.cholesky(cov)
            r = (np.max(np.abs(mu_n - ma), axis=1)
                 + np.max(np.abs(S_n - Sa).reshape(len(active), -1), axis=1))
            done = ~(r >= tol)
            mu[active[done]], S[active[done]] = mu_n[done], S_n[done]
            if done.all():
                return mu, S
            alpha = np.where(r > 0.95 * prev, np.maximum(0.5 * alpha, 1.0 / 64), alpha)
            keep = ~done
            a = alpha[keep]
            mu[active[keep]] = ma[keep] + a[:, None] * (mu_n[keep] - ma[keep])
            S[active[keep]] = Sa[keep] + a[:, None, None] * (S_n[keep] - Sa[keep])
            if done.any():
                active, alpha, prev = active[keep], a, r[keep]
                rows = _Rows.of(d, active)
            else:
                prev = r
        return mu, S

    def agq(self, beta, theta, want_grad=True):
        d = self.d
        L = self.lam(theta)
        A = d.Z @ L
        if self.adapt_kind == "none":
            self.adapt = (np.zeros((d.G, self.q)), np.broadcast_to(np.eye(self.q), (d.G, self.q, self.q)).copy())
        elif self.adapt is None or (self.adapt_kind == "mc" and not self.freeze):
            u, _, eta, (_, _, l2, _) = self.modes(beta, L)
            H = d.gsum((-l2)[:, None, None] * A[:, :, None] * A[:, None, :]) + np.eye(self.q)
            self.adapt = (u, np.linalg.cholesky(np.linalg.inv(H)))
        mu, S = self.adapt
        if not self.freeze and self.adapt_kind == "mv":
            mu, S = self._adapt_mv(beta, A, mu, S)
        f, U, l1 = self._node_values(beta, A, mu, S)
        logL, pi = self._posterior(f, S)
        self.adapt = (mu, S)
        ll = float(logL.sum()) + self.const
        if not want_grad:
            return ll, None
        # fixed-node gradient: sum_k pi_k df(u_k)/dpsi
        piobs = pi[d.codes]                                   # (n, K)
        g_beta = d.X.T @ np.sum(piobs * l1, axis=1)
        g_theta = []
        for B in _basis(self.st, self.q):
            zb = np.einsum("nq,nkq->nk", d.Z @ B, U[d.codes])          # z_i B u_k  (n, K)
            g_theta.append(float(np.sum(piobs * l1 * zb)))
        return ll, np.concatenate([g_beta, np.array(g_theta)])

    def agq_hessian(self, beta, theta) -> np.ndarray:
        """The exact Hessian (of log L) of the quadrature sum with the nodes held at self.adapt.

        Why exact: eta is linear in (b, theta) at fixed nodes (Lambda = sum theta_j B_j), so
        with D_ik the derivative of eta_ik (x_i for b, z_i B_j u_k for theta_j) and
        F_gk = sum_i l'_ik D_ik, log L_g = log sum_k w_k exp f_gk has the Hessian
        sum_k pi_gk (sum_i l''_ik D_ik D_ik' + F_gk F_gk') - (sum_k pi_gk F_gk)(...)'.
        One pass over the n x K nodes replaces the p + m gradients of a finite-difference
        Hessian, and Newton's steps on it converge quadratically."""
        d = self.d
        L = self.lam(theta)
        mu, S = self.adapt
        U = mu[:, None, :] + np.einsum("gqr,kr->gkq", S, self.nodes)
        Uo = U[d.codes]
        eta = (d.X @ beta + d.offset)[:, None] + np.einsum("nq,nkq->nk", d.Z @ L, Uo)
        ders = self.fam.derivs(d.y[:, None], eta, d.trials[:, None])
        l, l1, l2 = ders[0], ders[1], ders[2]
        if d.weights is not None:
            l, l1, l2 = (d.weights[:, None] * v for v in (l, l1, l2))
        f = d.gsum(l) - 0.5 * np.sum(U * U, axis=2)
        _, pi = self._posterior(f, S)
        E = [np.einsum("nq,nkq->nk", d.Z @ B, Uo) for B in _basis(self.st, self.q)]
        p, m = self.p, len(E)
        w2 = pi[d.codes] * l2
        H = np.empty((p + m, p + m))
        H[:p, :p] = d.X.T @ (w2.sum(axis=1)[:, None] * d.X)
        F = np.empty((d.G, pi.shape[1], p + m))
        for j in range(p):
            F[:, :, j] = d.gsum(l1 * d.X[:, j, None])
        for j, Ej in enumerate(E):
            H[:p, p + j] = H[p + j, :p] = d.X.T @ np.sum(w2 * Ej, axis=1)
            for k in range(j + 1):
                H[p + j, p + k] = H[p + k, p + j] = float(np.sum(w2 * Ej * E[k]))
            F[:, :, p + j] = d.gsum(l1 * Ej)
        Fbar = np.einsum("gk,gkp->gp", pi, F)
        H += np.einsum("gk,gkp,gkr->pr", pi, F, F) - Fbar.T @ Fbar
        return 0.5 * (H + H.T)

    def fixed_hessian(self, x):
        """The deviance's Hessian at x with the nodes held (agq_hessian), None where it is not
        available in closed form (the family's own parameters; Laplace)."""
        if self.method == "laplace" or self.fam.n_extra or self.adapt is None:
            return None
        beta, theta = self._split(x)
        with np.errstate(all="ignore"):
            H = -2.0 * self.agq_hessian(beta, theta)
        return H if np.all(np.isfinite(H)) else None

    def rescaled(self, M: np.ndarray) -> "Problem":
        """The same problem with the fixed part's design X M (M invertible): the same
        likelihood in b~ = M^-1 b; modes and adaptation carry over (eta is unchanged)."""
        import copy
        from dataclasses import replace
        out = copy.copy(self)
        out.d = replace(self.d, X=self.d.X @ M)
        out.p = self.p
        out.u = self.u.copy()
        out.nfev = 0
        return out

    # ---- the objective ----------------------------------------------------------------------
    def _split(self, x):
        """(b, theta) with the family's own parameters (the tail of x) set on the family."""
        x = np.asarray(x, dtype=float)
        ne = self.fam.n_extra
        if ne:
            self.fam.extra = x[len(x) - ne:].copy()
            x = x[:len(x) - ne]
        return x[:self.p], x[self.p:]

    def _value_grad(self, x, want_grad=True):
        beta, theta = self._split(x)
        fn = self.laplace if self.method == "laplace" else self.agq
        ll, g = fn(beta, theta, want_grad)
        ne = self.fam.n_extra
        if not want_grad or not ne:
            return ll, g
        # the family's own parameters: central differences of the same objective (modes and
        # adaptation held), one pair of evaluations each
        u0, ad0 = self.u.copy(), self.adapt
        frz = self.freeze
        self.freeze = self.method != "laplace"
        ge = []
        for k in range(ne):
            h = 1e-5 * max(1.0, abs(x[len(x) - ne + k]))
            vals = []
            for sgn in (1.0, -1.0):
                xe = np.array(x, dtype=float)
                xe[len(x) - ne + k] += sgn * h
                self.u = u0.copy()
                b2, t2 = self._split(xe)
                vals.append(fn(b2, t2, False)[0])
            ge.append((vals[0] - vals[1]) / (2 * h))
        self.freeze, self.u, self.adapt = frz, u0, ad0
        self._split(x)
        return ll, np.concatenate([g, np.array(ge)])

    def dev_grad(self, x):
        self.nfev += 1
        d, g = deviance(self._value_grad, x)
        if np.isfinite(d):
            self.last = (np.array(x, dtype=float), d)
        return d, g

    def loglik(self, x) -> float:
        with np.errstate(all="ignore"):
            return self._value_grad(x, want_grad=False)[0]


def _basis(st: Structure, q: int):
    """The basis matrices of Lambda (Lambda = sum theta_k B_k), identity blocks expanded."""
    for B in st.basis:
        yield B[0, 0] * np.eye(q) if B.shape[0] == 1 and q > 1 else B


def _newton_step(Hm, g):
    """-H^-1 g with H's eigenvalues taken in absolute value and floored (a descent direction
    where the Hessian is indefinite)."""
    w, U = np.linalg.eigh(0.5 * (Hm + Hm.T))
    return -U @ ((U.T @ g) / np.maximum(np.abs(w), 1e-8 * max(1.0, np.abs(w).max())))


def _adaptive_outer(prob: Problem, x0, maxiter: int, callback):
    """Adaptive quadrature as Stata's ml runs it: with the adaptive parameters (posterior means
    and variances of u) held fixed the quadrature sum is a smooth function whose exact gradient
    is the fixed-node one; each iteration is a Newton step on it followed by re-adapting the
    parameters at the new estimates, until the step and the gradient vanish: the fixed point
    where the score is zero with the nodes adapted to the estimates themselves. One line of the
    log per iteration, as Stata's.

    Why the step is judged on the re-adapted value: a step that lowers the frozen-node deviance
    can raise the adapted one (the nodes were placed for the old estimates; with large
    variances and panels whose outcomes are all 0 or all 1 the two differ a lot), and judging
    it on the frozen sum let the iterations cycle for ever. Here a step is kept only when the
    deviance re-adapted at its end has not risen; otherwise it is halved, and each trial
    re-adapts from the current estimates' nodes. So the adapted deviance falls monotonically.
    The Hessian of the fixed-node sum is exact (Problem.agq_hessian) and new every iteration;
    where it has no closed form (the family's own parameters) a finite-difference Hessian of
    the fixed-node gradient (one gradient per parameter) is rebuilt only in the first two
    iterations and after a step that did not do its work.

    Where the held sum misleads (a step had to be cut below STRUGGLE, or was refused while the
    gradient is not small) prob.struggled is set and the loop ends: fit_problem then maximises
    the adapted value itself (glmm_adapted) from here."""
    x = np.asarray(x0, dtype=float)
    prob.freeze = False
    prob.struggled = False
    d, g = prob.dev_grad(x)               # adapt at the start; g is the fixed-node gradient
    nit = 0
    Hm, gprev, fresh = None, None, True
    for it in range(min(maxiter, 100)):
        if not np.isfinite(d):
            break
        ad, u0 = prob.adapt, prob.u.copy()
        gnorm = float(np.max(np.abs(g)))
        exact = prob.fixed_hessian(x)
        rebuilt = (exact is not None or Hm is None or fresh or it < 2
                   or (gprev is not None and gnorm > 0.5 * gprev))
        if exact is not None:
            Hm = exact
        elif rebuilt:
            prob.freeze = True
            Hm = _fd_hessian(lambda z: prob.dev_grad(z)[1], x, g)
            prob.adapt, prob.u = ad, u0.copy()
        step = _newton_step(Hm, g)
        # near the fixed point (Newton decrement below POLISH) the step is taken whole: there
        # the adapted maximum and the fixed-node score's zero differ only by the quadrature's
        # error, and insisting on a falling adapted value would stall between the two
        polish = -float(g @ step) < POLISH
        t = 1.0
        prob.freeze = False
        accepted = False
        for _h in range(12):           # each trial re-adapts: 1/4096 of the step at least
            prob.adapt, prob.u = ad, u0.copy()
            dn, gn = prob.dev_grad(x + t * step)
            if polish and np.isfinite(dn) or dn <= d + 1e-10 * abs(d):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            prob.adapt, prob.u = ad, u0
            prob.dev_grad(x)              # back to the estimates' own nodes (and prob.last)
            if rebuilt:
                prob.struggled = glmm_adapted.applies(prob) and gnorm > 1e-3
                break
            fresh = True                  # a stale Hessian: rebuild it and try again
            continue
        fresh = t < 1.0
        gprev = gnorm
        x = x + t * step
        d_old, d, g = d, dn, gn
        nit += 1
        if callback is not None:
            callback(x)
        if t < STRUGGLE and glmm_adapted.applies(prob):
            prob.struggled = True         # the held sum misleads: see glmm_adapted
            break
        if np.max(np.abs(t * step)) < 1e-7 and np.max(np.abs(g)) < 1e-4:
            break
        if np.max(np.abs(t * step)) < 1e-6 and abs(d_old - d) <= 1e-9 * abs(d):
            break                         # neither the estimates nor the deviance move
    prob.freeze = False
    return x, nit


class Scaling:
    """The fixed part fitted on X M instead of X (engine.standardize.fixed_map's centring and
    power-of-two scaling, the outcome left alone): b = M b~.

    Why: the optimisers' steps, tolerances and finite differences are in the units of b, and
    an age-squared column in the thousands beside a constant makes the Hessian's condition
    number ~1e9, so BFGS crawls, central differences of the gradient are mostly rounding and
    "converged" means something else for every column. On standardized columns all of that is
    O(1); the estimates do not depend on a covariate's location or scale (the same likelihood),
    and the results are mapped back exactly."""

    def __init__(self, X: np.ndarray):
        from . import standardize
        fm = standardize.fixed_map(np.zeros(X.shape[0]), X)
        self.M = fm.matrix()
        self.p = X.shape[1]

    def to_scaled(self, x) -> np.ndarray:
        x = np.array(x, dtype=float)
        x[:self.p] = np.linalg.solve(self.M, x[:self.p])
        return x

    def to_original(self, xs) -> np.ndarray:
        x = np.array(xs, dtype=float)
        x[:self.p] = self.M @ x[:self.p]
        return x

    def gradient(self, gs) -> np.ndarray:
        """d/d(b, ...) from d/d(b~, ...): M^-T on the fixed part."""
        g = np.array(gs, dtype=float)
        g[:self.p] = np.linalg.solve(self.M.T, g[:self.p])
        return g

    def jacobian(self, k: int) -> np.ndarray:
        """d x / d x~ of a k-vector whose head is the fixed part."""
        J = np.eye(k)
        J[:self.p, :self.p] = self.M
        return J


def fit_problem(prob: Problem, x0, *, maxiter: int = 300, callback=None,
                report=None) -> "GlmmFit":
    """fit() on a prepared Problem from x0; report(x) is called at the start (iteration 0)
    and callback(x) after every iteration (Problem.last holds the deviance there). The
    iterations run on the standardized design (Scaling); x, the gradient and Problem's state
    are the caller's. Convergence is judged on the standardized gradient."""
    sc = Scaling(prob.d.X)
    sp = prob.rescaled(sc.M)
    xs0 = sc.to_scaled(x0)

    def relay(fn):
        if fn is None:
            return None

        def inner(xs):
            prob.last = (sc.to_original(sp.last[0]), sp.last[1])
            fn(sc.to_original(xs))
        return inner

    d0, _ = sp.dev_grad(xs0)
    if not np.isfinite(d0):
        raise np.linalg.LinAlgError("initial values not feasible")
    if report is not None:
        relay(report)(xs0)
    if sp.method == "laplace":
        res = minimize_bfgs(sp.dev_grad, xs0, gtol=1e-6, maxiter=maxiter,
                            callback=relay(callback))
        xs, nit = res.x, res.nit
    else:
        # the Laplace solution first (cheap, and close): the quadrature's Newton iterations
        # then start where the two approximations nearly agree
        lap = Problem(sp.d, sp.fam, sp.st, "laplace")
        # (the Laplace problem shares the family object, whose own parameters stay in step)
        res = minimize_bfgs(lap.dev_grad, xs0, gtol=1e-4, maxiter=maxiter)
        start = res.x if np.all(np.isfinite(res.x)) else xs0
        sp.u = lap.u.copy()
        sp.adapt = None
        xs, nit = _adaptive_outer(sp, start, maxiter, relay(callback))
        if sp.struggled:
            # the held-node steps stopped doing their work: the adapted value's own maximum
            xs, more = glmm_adapted.maximise(sp, xs, maxiter, relay(callback))
            nit += more
    dev, gs = glmm_adapted.total_gradient(sp, xs) if sp.struggled else sp.dev_grad(xs)
    x = sc.to_original(xs)
    prob.u, prob.adapt, prob.last = sp.u.copy(), sp.adapt, (x.copy(), dev)
    prob.nfev += sp.nfev
    prob._split(x)
    p = prob.p
    ne = prob.fam.n_extra
    theta = x[p:len(x) - ne]
    L = prob.lam(theta)
    return GlmmFit(beta=x[:p].copy(), theta=theta.copy(), ll=float(-0.5 * dev),
                   converged=bool(np.all(np.isfinite(gs)) and np.abs(gs).max()
                                  < (2 * glmm_adapted.GTOL if sp.struggled else 1e-3)),
                   iterations=nit, cov=L @ L.T, x=x, gradient=sc.gradient(gs),
                   extra={"nfev": prob.nfev, "modes": prob.u, "problem": sp, "scaling": sc,
                          "adapted": sp.struggled})


@dataclass
class GlmmFit:
    beta: np.ndarray
    theta: np.ndarray
    ll: float
    converged: bool
    iterations: int
    cov: np.ndarray                    # Psi = Lambda Lambda'
    x: np.ndarray                      # optimiser point (b, theta)
    gradient: np.ndarray
    extra: dict = field(default_factory=dict)


def glm_start(data: GlmmData, fam: Family, maxit: int = 50) -> np.ndarray:
    """The fixed-effects-only model by Newton (IRLS with observed weights): starting b."""
    return glm_start_log(data, fam, [], maxit)[0]


def glm_start_log(data: GlmmData, fam: Family, lines: list, maxit: int = 50):
    """glm_start that also returns the model's log likelihood (constant included) and appends
    the log likelihood of every iteration to `lines` (Stata's `Fitting fixed-effects model`)."""
    const = constant(fam, data)
    beta = np.zeros(data.X.shape[1])
    ll_old = -np.inf
    ln = float(derivs(fam, data, data.offset + data.X @ beta)[0].sum())
    lines.append(ln + const)
    for _ in range(maxit):
        eta = data.X @ beta + data.offset
        l, l1, l2, _ = derivs(fam, data, eta)
        W = -l2
        Hm = data.X.T @ (W[:, None] * data.X)
        step = np.linalg.solve(Hm, data.X.T @ l1)
        t = 1.0
        for _h in range(30):
            bn = beta + t * step
            ln = derivs(fam, data, data.X @ bn + data.offset)[0].sum()
            if ln >= l.sum() - 1e-12 * abs(l.sum()):
                break
            t *= 0.5
        beta = bn
        lines.append(float(ln) + const)
        if abs(ln - ll_old) < 1e-12 * (1 + abs(ln)):
            break
        ll_old = ln
    return beta, float(ln) + const


def fit(data: GlmmData, fam: Family, structure: Structure, *, method: str = "laplace",
        points: int = 7, maxiter: int = 300, start=None, callback=None) -> GlmmFit:
    """Maximum likelihood: BFGS on the exact (Laplace) or fixed-node (quadrature) gradient,
    started at the fixed-effects model's b and theta for unit standard deviations."""
    prob = Problem(data, fam, structure, method, points)
    if start is None:
        b0 = glm_start(data, fam)
        x0 = np.concatenate([b0, structure.start(1.0)])
    else:
        x0 = np.asarray(start, dtype=float)
    return fit_problem(prob, x0, maxiter=maxiter, callback=callback)


def _theta_of_stata(st: Structure, s: np.ndarray) -> np.ndarray:
    """Lambda's parameters for Stata-metric s (ln sd, atanh corr): Psi, then its factor."""
    psi, _ = st.cov_from_stata(s)
    return st.theta_from_relcov(psi)


def stata_point(fit: GlmmFit, st: Structure) -> np.ndarray:
    """(b, s, extra) with s the variance part in Stata's estimation metric (ln sd, atanh
    corr) and extra the family's own parameters (ln alpha) as they are."""
    cov = fit.cov[:1, :1] if st.kind == "identity" else fit.cov
    ne = len(fit.x) - len(fit.beta) - len(fit.theta)
    extra = fit.x[len(fit.x) - ne:] if ne else np.zeros(0)
    return np.concatenate([fit.beta, st.stata_from_cov(cov), extra])


def observed_vcov(fit: GlmmFit, st: Structure, h: float = 1e-4) -> np.ndarray | None:
    """Inverse observed information of (b, s) (s: ln sd / atanh corr, Stata's metric), from
    central differences of the exact (Laplace) or fixed-node (quadrature, nodes held at the
    solution's adaptation) gradient mapped to s by the chain rule -- or, after a fit that
    maximised the adapted value itself (glmm_adapted), that value's own gradient; None when
    singular."""
    prob: Problem = fit.extra["problem"]
    p = len(fit.beta)
    ne = prob.fam.n_extra
    sc = fit.extra.get("scaling")
    x0 = _scaled_stata_point(fit, st)
    k = len(x0) - p - ne

    def grad(x):
        s = x[p:p + k]
        th = _theta_of_stata(st, s)
        J = np.empty((len(th), k))
        for j in range(k):
            e = np.zeros(k)
            e[j] = 1e-6
            J[:, j] = (_theta_of_stata(st, s + e) - _theta_of_stata(st, s - e)) / 2e-6
        z = np.concatenate([x[:p], th, x[p + k:]])
        if adapted:                     # the adapted value's own gradient, from the solution's
            prob.adapt = ad0            # nodes every time
            g = glmm_adapted.total_gradient(prob, z)[1]
        else:
            g = prob.dev_grad(z)[1]
        return np.concatenate([g[:p], J.T @ g[p:p + len(th)], g[p + len(th):]])

    adapted = bool(fit.extra.get("adapted"))
    ad0 = prob.adapt
    prob.freeze = prob.method != "laplace" and not adapted
    try:
        Hm = np.empty((len(x0), len(x0)))
        for i in range(len(x0)):
            step = h * max(1.0, abs(x0[i]))
            e = np.zeros(len(x0))
            e[i] = step
            Hm[:, i] = (grad(x0 + e) - grad(x0 - e)) / (2 * step)
        info = 0.25 * (Hm + Hm.T)                  # of -ll: half the deviance's Hessian
        if not np.all(np.isfinite(info)):
            return None
        w, U = np.linalg.eigh(info)
        if w.min() > 1e-10 * max(w.max(), 1.0):
            V = np.linalg.inv(info)
        else:
            # a variance at zero (its ln sd runs to -inf, where the likelihood is flat): the
            # generalized inverse, which leaves the other parameters' variances finite
            keep = w > 1e-10 * max(w.max(), 1.0)
            if not keep.any():
                return None
            V = (U[:, keep] / w[keep]) @ U[:, keep].T
        if sc is not None:                          # back to the caller's b
            J = sc.jacobian(len(x0))
            V = J @ V @ J.T
        return 0.5 * (V + V.T)
    except np.linalg.LinAlgError:
        return None
    finally:
        prob.freeze = False
        prob.adapt = ad0


def _scaled_stata_point(fit: GlmmFit, st: Structure) -> np.ndarray:
    """stata_point in the problem's own (standardized) fixed-part units."""
    x0 = stata_point(fit, st)
    sc = fit.extra.get("scaling")
    return x0 if sc is None else sc.to_scaled(x0)


@dataclass
class GlmmModel:
    """What predict and replay need after a one-level GLMM: the sorted data, family,
    covariance structure, the fit, the random-effects block (for the groups' codes and Z),
    the fixed part's design and its factors' value labels."""

    data: GlmmData
    family: Family
    structure: Structure
    fit: GlmmFit
    blocks: list
    design: object = None
    value_labels: dict = field(default_factory=dict)


def posterior(model: GlmmModel, *, modes: bool = False, points: int = 7):
    """Empirical Bayes predictions of the random effects b_g = Lambda u_g per group (G, q) and
    their standard errors: posterior means and SDs by mean-variance adaptive quadrature
    (Stata's default ebmeans), or the posterior modes with the curvature's SEs (ebmodes)."""
    fit = model.fit
    prob = Problem(model.data, model.family, model.structure, "agq", points)
    beta, theta = prob._split(fit.x)
    L = prob.lam(theta)
    with np.errstate(all="ignore"):
        if modes:
            u, A, eta, ders = prob.modes(beta, L)
            W = -ders[2]
            H = model.data.gsum(W[:, None, None] * A[:, :, None] * A[:, None, :]) + np.eye(prob.q)
            cov_u = np.linalg.inv(H)
        else:
            prob.agq(beta, theta, want_grad=False)
            u, S = prob.adapt
            cov_u = S @ np.swapaxes(S, 1, 2)
    b = u @ L.T
    cov_b = L[None] @ cov_u @ L.T[None]
    return b, np.sqrt(np.clip(np.diagonal(cov_b, axis1=1, axis2=2), 0.0, None))


def glm_newton(data: GlmmData, fam: Family, beta0, lines: list, maxit: int = 100):
    """A fixed-effects GLM by Newton with step halving from beta0: (b, log likelihood); the
    log likelihood of the start and of every iteration is appended to `lines`."""
    const = constant(fam, data)
    beta = np.asarray(beta0, dtype=float).copy()
    eta = data.X @ beta + data.offset
    l, l1, l2, _ = derivs(fam, data, eta)
    ll = float(l.sum())
    lines.append(ll + const)
    for _ in range(maxit):
        Hm = data.X.T @ ((-l2)[:, None] * data.X)
        step = np.linalg.solve(Hm, data.X.T @ l1)
        t = 1.0
        for _h in range(40):
            bn = beta + t * step
            dn = derivs(fam, data, data.X @ bn + data.offset)
            ln = float(dn[0].sum())
            if ln >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        done = abs(ln - ll) < 1e-13 * (1.0 + abs(ln)) and np.max(np.abs(t * step)) < 1e-9
        beta, ll, (l, l1, l2, _) = bn, ln, dn
        lines.append(ll + const)
        if done:
            break
    return beta, ll + const


def glm_fit(data: GlmmData, fam: Family, x0, lines: list, maxit: int = 200):
    """A fixed-effects GLM with the family's own parameters (the negative binomial's ln alpha)
    by BFGS: analytic gradient in b, central differences in the extra parameters; the log
    likelihood of the start and of each iteration appended to `lines`. (b + extra, ll)."""
    const = constant(fam, data)
    p = data.X.shape[1]
    ne = fam.n_extra

    def fg(x):
        fam.extra = x[p:].copy()
        with np.errstate(all="ignore"):
            eta = data.X @ x[:p] + data.offset
            l, l1, _, _ = derivs(fam, data, eta)
            f = -float(l.sum())
            g = np.concatenate([-(data.X.T @ l1), np.zeros(ne)])
            for k in range(ne):
                h = 1e-6 * max(1.0, abs(x[p + k]))
                vals = []
                for sgn in (1.0, -1.0):
                    fam.extra = x[p:].copy()
                    fam.extra[k] += sgn * h
                    vals.append(-float(derivs(fam, data, eta)[0].sum()))
                g[p + k] = (vals[0] - vals[1]) / (2 * h)
            fam.extra = x[p:].copy()
        if not np.isfinite(f):
            return np.inf, np.zeros(len(x))
        return f, g

    x = np.asarray(x0, dtype=float)
    lines.append(-fg(x)[0] + const)
    res = minimize_bfgs(fg, x, gtol=1e-7, maxiter=maxit,
                        callback=lambda xk: lines.append(-fg(xk)[0] + const))
    fam.extra = res.x[p:].copy()
    return res.x, -float(res.fun) + const


def _group_ll(prob: Problem, x) -> np.ndarray:
    """Each group's log likelihood contribution (up to constants free of the parameters) at
    x = (b, theta, extra): Laplace at the modes, quadrature at the frozen adaptation."""
    beta, theta = prob._split(x)
    d = prob.d
    L = prob.lam(theta)
    with np.errstate(all="ignore"):
        if prob.method == "laplace":
            u, A, eta, (l, _, l2, _) = prob.modes(beta, L)
            H = d.gsum((-l2)[:, None, None] * A[:, :, None] * A[:, None, :]) + np.eye(prob.q)
            _, logdet = np.linalg.slogdet(H)
            return d.gsum(l) - 0.5 * np.sum(u * u, axis=1) - 0.5 * logdet
        A = d.Z @ L
        mu, S = prob.adapt
        f, _, _ = prob._node_values(beta, A, mu, S)
        return prob._posterior(f, S)[0]


def _adapted_scores(prob: Problem, st: Structure, xs, p: int, k: int, to_opt) -> np.ndarray:
    """group_scores after a fit that maximised the adapted value (glmm_adapted): each group's
    total gradient, its variance part mapped to the Stata metric by the chain rule."""
    ad = prob.adapt
    S = glmm_adapted.group_scores(prob, to_opt(xs))
    prob.adapt = ad
    if S is None:
        raise np.linalg.LinAlgError("scores not available")
    s = xs[p:p + k]
    th = _theta_of_stata(st, s)
    J = np.empty((len(th), k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = 1e-6
        J[:, j] = (_theta_of_stata(st, s + e) - _theta_of_stata(st, s - e)) / 2e-6
    return np.concatenate([S[:, :p], S[:, p:p + len(th)] @ J, S[:, p + len(th):]], axis=1)


def group_scores(fit: GlmmFit, st: Structure, h: float = 1e-5) -> np.ndarray:
    """Per group, the derivative of its log likelihood with respect to the Stata-metric
    parameters (b, ln sd / atanh corr, the family's own), by central differences of the
    groups' contributions (modes warm-started, quadrature nodes held at the solution's): the
    scores vce(robust) sums. (G x k)."""
    prob: Problem = fit.extra["problem"]
    p = len(fit.beta)
    ne = prob.fam.n_extra
    sc = fit.extra.get("scaling")
    xs = _scaled_stata_point(fit, st)
    k = len(xs) - p - ne

    def to_opt(v):
        return np.concatenate([v[:p], _theta_of_stata(st, v[p:p + k]), v[p + k:]])

    if fit.extra.get("adapted"):
        S = _adapted_scores(prob, st, xs, p, k, to_opt)
        return S if sc is None else np.linalg.solve(sc.jacobian(len(xs)).T, S.T).T
    u0 = prob.u.copy()
    prob.freeze = prob.method != "laplace"
    try:
        S = np.empty((prob.d.G, len(xs)))
        for j in range(len(xs)):
            step = h * max(1.0, abs(xs[j]))
            e = np.zeros(len(xs))
            e[j] = step
            prob.u = u0.copy()
            up = _group_ll(prob, to_opt(xs + e))
            prob.u = u0.copy()
            dn = _group_ll(prob, to_opt(xs - e))
            S[:, j] = (up - dn) / (2 * step)
    finally:
        prob.freeze = False
        prob.u = u0
        prob._split(fit.x)
    if sc is not None:                  # d/dx = J^-T d/dx~ (rows: S J^-1)
        S = np.linalg.solve(sc.jacobian(len(xs)).T, S.T).T
    return S
