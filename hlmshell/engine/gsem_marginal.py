"""gsem's marginal log likelihood per cluster: exact for all-gaussian models, by Laplace or
adaptive Gauss-Hermite quadrature otherwise.

Gaussian (exact): within a cluster the stacked residuals r = y - X beta are multivariate
normal with covariance Z Sigma Z' + D (D: each row's residual variance). With A = Z'D^-1 Z and
b = Z'D^-1 r the Woodbury identities give
    log|V| = sum log d + log|I + A Sigma|,   r'V^-1 r = r'D^-1 r - b' Sigma (I + A Sigma)^-1 b,
which stay finite when Sigma is singular (a variance at 0). Given the variances, beta is the
GLS solution, so the gaussian fit maximises a profile likelihood over the variances only.

Quadrature: per cluster the joint latent vector u (q) is integrated out. Laplace expands
h(u) = log f(y|u) + log phi(u; Sigma) at its mode; mvaghermite (Stata's default) places the
product Gauss-Hermite nodes at the posterior mean and covariance, found by fixed-point
iteration started from the mode and curvature (mcaghermite stops there); ghermite uses the
prior N(0, Sigma) itself.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.engine.gsem_model import LOG_2PI, GsemModel, conditional

# ---- all-gaussian: exact ---------------------------------------------------------------

def _gauss_pieces(model: GsemModel, parts: dict):
    d = parts["s2"][model.row_eq]
    Z = model.Z_row(parts["lam"])
    return d, Z


def gls_beta(model: GsemModel, parts: dict) -> np.ndarray:
    """The GLS estimate of beta given the variances (the profile likelihood's beta)."""
    d, Z = _gauss_pieces(model, parts)
    X, y = model.X_row, model.y_row
    XtX = (X / d[:, None]).T @ X
    Xty = (X / d[:, None]).T @ y
    if model.q:
        Sig = parts["Sigma"]
        A = model.gsum((Z / d[:, None])[:, :, None] * Z[:, None, :])
        ZX = model.gsum((Z / d[:, None])[:, :, None] * X[:, None, :])          # (G, q, p)
        Zy = model.gsum(Z * (y / d)[:, None])                                   # (G, q)
        K = np.eye(model.q)[None] + A @ Sig
        SKX = Sig @ np.linalg.solve(K, ZX)                                      # (G, q, p)
        SKy = Sig @ np.linalg.solve(K, Zy[:, :, None])[:, :, 0].T               # (q, G)
        XtX = XtX - np.einsum("gqp,gqr->pr", ZX, SKX)
        Xty = Xty - np.einsum("gqp,qg->p", ZX, SKy)
    if not (np.all(np.isfinite(XtX)) and np.all(np.isfinite(Xty))):
        raise np.linalg.LinAlgError("GLS system not finite")
    return np.linalg.lstsq(XtX, Xty, rcond=None)[0]


def gauss_cluster_ll(model: GsemModel, parts: dict) -> np.ndarray:
    """Exact log likelihood of each cluster (G,)."""
    d, Z = _gauss_pieces(model, parts)
    r = model.y_row - model.X_row @ parts["beta"]
    base = model.gsum(np.column_stack([np.log(d) + LOG_2PI, r * r / d]))
    ll = -0.5 * (base[:, 0] + base[:, 1])
    if model.q:
        Sig = parts["Sigma"]
        A = model.gsum((Z / d[:, None])[:, :, None] * Z[:, None, :])
        b = model.gsum(Z * (r / d)[:, None])
        K = np.eye(model.q)[None] + A @ Sig
        sign, logdet = np.linalg.slogdet(K)
        x = np.linalg.solve(K, b[:, :, None])[:, :, 0]
        quad = np.einsum("gq,gq->g", b, x @ Sig.T)
        ll = ll - 0.5 * logdet + 0.5 * quad
        ll = np.where(sign > 0, ll, -np.inf)
    return ll


def gauss_posterior(model: GsemModel, parts: dict) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means (G, q) and covariances (G, q, q) of the latents (exact)."""
    d, Z = _gauss_pieces(model, parts)
    Sig = parts["Sigma"]
    r = model.y_row - model.X_row @ parts["beta"]
    A = model.gsum((Z / d[:, None])[:, :, None] * Z[:, None, :])
    b = model.gsum(Z * (r / d)[:, None])
    K = np.eye(model.q)[None] + A @ Sig
    mean = np.linalg.solve(K, b[:, :, None])[:, :, 0] @ Sig.T
    cov = Sig[None] @ np.linalg.inv(np.transpose(K, (0, 2, 1)))
    return mean, cov


# ---- quadrature -------------------------------------------------------------------------

class Quadrature:
    """Marginal log likelihood by Laplace or (adaptive) Gauss-Hermite quadrature."""

    def __init__(self, model: GsemModel, method: str = "mvaghermite", points: int = 7):
        self.model = model
        self.method = method
        # adaptive nodes held fixed (posterior means and Cholesky factors per cluster, in the
        # standardized metric): the quadrature sum is then smooth, as in Stata's iterations
        self.frozen = None
        self.last_nodes = None
        q = model.q
        z, w = np.polynomial.hermite.hermgauss(points)
        grids = np.meshgrid(*([z] * q), indexing="ij")
        self.nodes = np.stack([gr.ravel() for gr in grids], axis=1) if q else np.zeros((1, 0))
        wg = np.meshgrid(*([w] * q), indexing="ij")
        self.logw = (np.sum(np.log(np.stack([x.ravel() for x in wg], axis=1)), axis=1)
                     if q else np.zeros(1))

    def _h(self, parts, xb, Z, U, Sinv, logdet_sig):
        """h(u) = log f(y|u) + log phi(u) at nodes U (G, K, q): (G, K)."""
        m = self.model
        eta = xb[:, None] + np.einsum("rq,rkq->rk", Z, U[m.row_g])
        l, _, _ = conditional(m, parts, eta)
        f = m.gsum(l)
        prior = -0.5 * (np.einsum("gkq,qr,gkr->gk", U, Sinv, U) + m.q * LOG_2PI + logdet_sig)
        return f + prior

    def modes(self, parts, xb, Z, Sinv, maxit=60):
        """Posterior modes (G, q) and the negative Hessians there (G, q, q), by Newton's
        method with per-cluster step halving."""
        m = self.model
        G, q = m.n_groups, m.q
        u = np.zeros((G, q))

        def value(u):
            eta = xb + np.einsum("rq,rq->r", Z, u[m.row_g])
            l, l1, l2 = conditional(m, parts, eta)
            f = m.gsum(l) - 0.5 * np.einsum("gq,qr,gr->g", u, Sinv, u)
            return f, l1, l2

        f, l1, l2 = value(u)
        for _ in range(maxit):
            grad = m.gsum(l1[:, None] * Z) - u @ Sinv
            H = m.gsum((-l2)[:, None, None] * Z[:, :, None] * Z[:, None, :]) + Sinv
            step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
            if not np.max(np.abs(step), initial=0.0) > 1e-10:
                break
            t = np.ones(G)
            for _ in range(20):
                f_new, l1n, l2n = value(u + t[:, None] * step)
                bad = ~(f_new >= f - 1e-10 * (1 + np.abs(f)))
                if not bad.any():
                    break
                t = np.where(bad, 0.5 * t, t)
            t = np.where(bad, 0.0, t)          # no ascent left: the cluster stays where it is
            moved = t[:, None] * step
            u = u + moved
            f, l1, l2 = value(u) if bad.any() else (f_new, l1n, l2n)
            if not np.max(np.abs(moved), initial=0.0) > 1e-10 * (1 + np.abs(u).max(initial=0.0)):
                break
        H = m.gsum((-l2)[:, None, None] * Z[:, :, None] * Z[:, None, :]) + Sinv
        return u, H

    def _quad(self, parts, xb, Z, mu, S, Sinv, logdet_sig):
        """log integral per cluster with nodes mu + sqrt(2) S z, and the normalised weights."""
        U = mu[:, None, :] + math.sqrt(2.0) * np.einsum("gqr,kr->gkq", S, self.nodes)
        h = self._h(parts, xb, Z, U, Sinv, logdet_sig)
        a = h + np.sum(self.nodes ** 2, axis=1)[None, :] + self.logw[None, :]
        mx = a.max(axis=1, keepdims=True)
        w = np.exp(a - mx)
        tot = w.sum(axis=1)
        logdetS = np.log(np.abs(np.linalg.det(S)))
        ll = mx[:, 0] + np.log(tot) + logdetS + 0.5 * self.model.q * math.log(2.0)
        return ll, w / tot[:, None], U

    def cluster_ll(self, parts: dict, want_posterior: bool = False):
        m = self.model
        xb = m.X_row @ parts["beta"]
        if m.q == 0:
            l, _, _ = conditional(m, parts, xb)
            ll = m.gsum(l)
            return (ll, None, None) if want_posterior else ll
        Z = m.Z_row(parts["lam"])
        Sig = parts["Sigma"]
        sign, logdet_sig = np.linalg.slogdet(Sig)
        if sign <= 0:
            raise np.linalg.LinAlgError("Sigma not positive definite")
        Sinv = np.linalg.inv(Sig)
        if self.method == "ghermite":
            mu = np.zeros((m.n_groups, m.q))
            S = np.broadcast_to(np.linalg.cholesky(Sig), (m.n_groups, m.q, m.q)).copy()
            return self._finish(parts, xb, Z, mu, S, Sinv, logdet_sig, want_posterior)
        if self.frozen is not None and self.method != "laplace":
            L = np.linalg.cholesky(Sig)
            mu_v, S_v = self.frozen
            return self._finish(parts, xb, Z, mu_v @ L.T, np.einsum("qr,grs->gqs", L, S_v),
                                Sinv, logdet_sig, want_posterior)
        u, H = self.modes(parts, xb, Z, Sinv)
        if self.method == "laplace":
            eta = xb + np.einsum("rq,rq->r", Z, u[m.row_g])
            l, _, _ = conditional(m, parts, eta)
            f = (m.gsum(l) - 0.5 * np.einsum("gq,qr,gr->g", u, Sinv, u)
                 - 0.5 * logdet_sig)
            ll = f - 0.5 * np.linalg.slogdet(H)[1]
            Hi = np.linalg.inv(H)
            return (ll, u, Hi) if want_posterior else ll
        S = np.linalg.cholesky(np.linalg.inv(H))
        if self.method == "mvaghermite":
            u, S = self._adapt(parts, xb, Z, u, S, Sinv, logdet_sig)
        self.last_nodes = (u, S)
        return self._finish(parts, xb, Z, u, S, Sinv, logdet_sig, want_posterior)

    def freeze(self, parts: dict) -> None:
        """Hold the nodes last adapted, in the standardized metric v = L^-1 u (L: Cholesky
        factor of Sigma), as Stata holds its adaptive parameters: with the nodes fixed there,
        a change of Sigma moves the nodes with it."""
        L = np.linalg.cholesky(parts["Sigma"])
        mu, S = self.last_nodes
        mu_v = np.linalg.solve(L, mu.T).T
        S_v = np.linalg.solve(L[None], S)
        self.frozen = (mu_v, S_v)

    def _finish(self, parts, xb, Z, mu, S, Sinv, logdet_sig, want_posterior):
        ll, pi, U = self._quad(parts, xb, Z, mu, S, Sinv, logdet_sig)
        if not want_posterior:
            return ll
        mean = np.einsum("gk,gkq->gq", pi, U)
        D = U - mean[:, None, :]
        return ll, mean, np.einsum("gk,gkq,gkr->gqr", pi, D, D)

    def _adapt(self, parts, xb, Z, mu, S, Sinv, logdet_sig, tol=1e-8, maxit=30):
        """Mean-variance adaptation: nodes moved to the posterior moments until they settle."""
        q = self.model.q
        for _ in range(maxit):
            _, pi, U = self._quad(parts, xb, Z, mu, S, Sinv, logdet_sig)
            mu_n = np.einsum("gk,gkq->gq", pi, U)
            D = U - mu_n[:, None, :]
            cov = np.einsum("gk,gkq,gkr->gqr", pi, D, D) + 1e-14 * np.eye(q)
            S_n = np.linalg.cholesky(cov)
            scale = 1.0 + np.abs(S).max()
            done = np.max(np.abs(mu_n - mu)) + np.max(np.abs(S_n - S)) < tol * scale
            mu, S = mu_n, S_n
            if done:
                break
        return mu, S
