"""Linear mixed models on the marginal covariance, group by group: residual structures.

Why a second formulation beside the cross-product engine (lmm/suffstats/blocked): that engine
needs sigma^2 I errors, so that every group's contribution reduces to cross-products of
[Z X y]. A residual structure (`residuals(ar 1, t(time))`, `exchangeable`, `unstructured`,
`by()` heteroskedasticity, ...) correlates the errors within the lowest-level groups, and then
the natural unit is the outermost group g with its marginal covariance

    V_g = sigma^2 H_g,   H_g = sum_l (Z_l Psi~_l Z_l') o M_l + Lambda_g(phi)

(Psi~_l = Psi_l / sigma^2 relative covariances, M_l the 0/1 mask of pairs in one group of level
l, Lambda_g the residual structure of engine.residuals). Groups of equal size are stacked into
(G, m, m) arrays and handled by batched LAPACK calls (Cholesky, inverse): no Python loop runs
per group, only per distinct group size.

sigma^2 and beta are profiled out as in lmm: with A = sum X'H^-1 X, r2 = sum e'H^-1 e,
  ML:   D = log|H| + n log(2 pi r2 / n) + n
  REML: D = log|H| + log|A| + nu log(2 pi r2 / nu) + nu,   nu = n - p.
Gradient: with u = H^-1 e and B = H^-1 - u u' / sigma^2 - [REML] H^-1 X A^-1 X' H^-1 per group,
dD/d eta = sum_g <B_g, dH_g/d eta> for every parameter eta of H (envelope theorem in beta and
sigma^2), so one B per evaluation serves all parameters: random-effects blocks through
Z' (B o M) Z, residual parameters through the complex-step derivatives of Lambda.

The fit runs on data centred and scaled by engine.standardize, as lmm's does, so that it does
not depend on the location or units of y, X and Z; t() is used as given.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import standardize
from .lmm import ATR_CLIP, _decrement, _fd_hessian, _full_cov, _jac_of_grad, _rescale_theta
from .quasi_newton import minimize_bfgs
from .residuals import ResidualStructure
from .types import BlockBlups, LmmFit, RandomBlock

LOG2PI = math.log(2 * math.pi)
MAX_GROUP = 4000          # a larger outermost group would need an m x m dense matrix per group


@dataclass
class ResidualData:
    """What a residual structure reads per observation (caller's order): the lowest-level
    group codes (block), t() (None when the structure has none) and by() codes (0..B-1)."""

    structure: ResidualStructure
    block: np.ndarray
    t: np.ndarray | None
    by: np.ndarray | None


@dataclass
class _Batch:
    """Outermost groups of one size m, stacked: idx (G, m) rows of the caller's arrays."""

    idx: np.ndarray
    masks: list            # per block (depth order): (G, m, m) bool, None for the outermost level
    same: np.ndarray       # (G, m, m) same lowest-level group
    t: np.ndarray          # (G, m)
    by: np.ndarray         # (G, m) int
    y: np.ndarray | None = None
    X: np.ndarray | None = None
    Z: list | None = None


def _pair_mask(codes: np.ndarray) -> np.ndarray:
    return codes[:, :, None] == codes[:, None, :]


def layout(n: int, top: RandomBlock, blocks: list[RandomBlock], resid: ResidualData) -> list[_Batch]:
    """Sort the observations by outermost group (top: a block of the outermost level; then
    lowest-level group, then t) and stack the outermost groups of each size; blocks (depth
    order) get their pair masks (None at the outermost level)."""
    top_codes = (np.zeros(n, dtype=np.int64) if top.label == "_all"
                 else np.asarray(top.group, dtype=np.int64))
    t = np.zeros(n) if resid.t is None else np.asarray(resid.t, dtype=float)
    by = np.zeros(n, dtype=np.int64) if resid.by is None else np.asarray(resid.by, dtype=np.int64)
    block = np.asarray(resid.block, dtype=np.int64)
    order = np.lexsort((t, block, top_codes))
    tc = top_codes[order]
    starts = np.flatnonzero(np.r_[True, tc[1:] != tc[:-1]])
    sizes = np.diff(np.r_[starts, n])
    if sizes.max(initial=0) > MAX_GROUP:
        raise MemoryError("outermost groups too large for a residual structure")
    batches = []
    for m in np.unique(sizes):
        st = starts[sizes == m]
        idx = order[st[:, None] + np.arange(m)[None, :]]
        masks = []
        for b in blocks:
            if b.depth == top.depth:
                masks.append(None)
            else:
                masks.append(_pair_mask(np.asarray(b.group, dtype=np.int64)[idx]))
        batches.append(_Batch(idx, masks, _pair_mask(block[idx]), t[idx], by[idx]))
    return batches


def _dense_z(b: RandomBlock) -> np.ndarray:
    return np.asarray(b.Z, dtype=float).reshape(len(b.group), -1)


class _Problem:
    """The profiled deviance of the standardized data, with the interface lmm's optimiser
    helpers use (dev, dev_grad, nfev, last)."""

    def __init__(self, y, X, blocks, structures, resid: ResidualData, batches, reml: bool):
        self.reml = reml
        self.n, self.p = X.shape
        self.structures = structures          # random-effects parametrisations, depth order
        self.rs = resid.structure
        self.resid_data = resid
        self.sizes = [st.m for st in structures]
        self.nfev = 0
        Zs = [_dense_z(b) for b in blocks]
        self.q = [Z.shape[1] for Z in Zs]
        for bt in batches:
            bt.y = y[bt.idx]
            bt.X = X[bt.idx]
            bt.Z = [Z[bt.idx] for Z in Zs]
        self.batches = batches

    # ---- parameters ---------------------------------------------------------------------
    def split(self, eta):
        eta = np.asarray(eta, dtype=float)
        k = sum(self.sizes)
        parts = np.split(eta[:k], np.cumsum(self.sizes)[:-1]) if self.sizes else []
        return parts, eta[k:]

    def psis(self, theta_parts):
        """Relative covariances Psi~ = Lambda Lambda' (q x q, identity blocks expanded)."""
        out = []
        for st, t, q in zip(self.structures, theta_parts, self.q):
            lam = st.lam(t)
            psi = lam @ lam.T
            out.append(psi[0, 0] * np.eye(q) if psi.shape[0] == 1 and q > 1 else psi)
        return out

    # ---- one pass over the groups -------------------------------------------------------
    def _h(self, bt: _Batch, psis, phi, with_derivs: bool):
        if with_derivs:
            lam, dlam = self.rs.relcov_and_derivs(phi, bt.t, bt.by, bt.same)
        else:
            lam, dlam = self.rs.relcov(phi, bt.t, bt.by, bt.same), None
        H = np.array(lam, dtype=float)
        for Z, psi, mask in zip(bt.Z, psis, bt.masks):
            if Z.shape[2] == 0:
                continue
            ZP = Z @ psi
            zz = ZP @ np.swapaxes(Z, 1, 2)
            H += zz if mask is None else zz * mask
        return H, dlam

    def pass1(self, psis, phi, with_derivs=False):
        """Per batch H^-1, H^-1 X, H^-1 y and the sums A, c, y'H^-1y, log|H|."""
        p = self.p
        A = np.zeros((p, p))
        c = np.zeros(p)
        yy = 0.0
        logdet = 0.0
        store = []
        for bt in self.batches:
            H, dlam = self._h(bt, psis, phi, with_derivs)
            C = np.linalg.cholesky(H)
            logdet += 2.0 * float(np.log(np.diagonal(C, axis1=1, axis2=2)).sum())
            Hinv = np.linalg.inv(H)
            HX = Hinv @ bt.X
            Hy = np.einsum("gab,gb->ga", Hinv, bt.y)
            A += np.einsum("gai,gaj->ij", bt.X, HX)
            c += np.einsum("gai,ga->i", bt.X, Hy)
            yy += float(np.einsum("ga,ga->", bt.y, Hy))
            store.append((Hinv, HX, Hy, dlam))
        return A, c, yy, logdet, store

    def _solve(self, A, c, yy):
        if self.p:
            LA = np.linalg.cholesky(A)
            w = np.linalg.solve(LA, c)
            beta = np.linalg.solve(LA.T, w)
            r2 = yy - float(w @ w)
            logdetA = 2.0 * float(np.log(np.diag(LA)).sum())
        else:
            beta, r2, logdetA = np.zeros(0), yy, 0.0
        if not r2 > 0:
            raise np.linalg.LinAlgError("zero residual")
        return beta, r2, logdetA

    def nu(self) -> int:
        return self.n - self.p if self.reml else self.n

    def deviance(self, eta, want_grad: bool):
        parts, phi = self.split(eta)
        psis = self.psis(parts)
        A, c, yy, logdet, store = self.pass1(psis, phi, with_derivs=want_grad)
        beta, r2, logdetA = self._solve(A, c, yy)
        nu = self.nu()
        d = logdet + nu * (1.0 + LOG2PI + math.log(r2 / nu))
        if self.reml:
            d += logdetA
        if not want_grad:
            return d, None
        sigma2 = r2 / nu
        Ainv = np.linalg.inv(A) if self.p else np.zeros((0, 0))
        S, gphi = self._adjoint(store, beta, sigma2, Ainv, len(phi))
        g = []
        for st, t, Sl in zip(self.structures, parts, S):
            lam = st.lam(t)
            if lam.shape[0] == 1 and Sl.shape[0] > 1:       # compact identity: lambda I_q
                bar = np.array([[2.0 * lam[0, 0] * np.trace(Sl)]])
            else:
                bar = 2.0 * Sl @ lam
            g.append(st.theta_grad(bar))
        g.append(gphi)
        return d, np.concatenate(g) if g else np.zeros(0)

    def _adjoint(self, store, beta, sigma2, Ainv, nphi):
        """sum_g Z'(B o M)Z per block and sum_g <B, dLambda_k> per residual parameter."""
        S = [np.zeros((q, q)) for q in self.q]
        gphi = np.zeros(nphi)
        for bt, (Hinv, HX, Hy, dlam) in zip(self.batches, store):
            u = Hy - HX @ beta
            B = Hinv - np.einsum("ga,gb->gab", u, u) / sigma2
            if self.reml and self.p:
                B -= HX @ Ainv @ np.swapaxes(HX, 1, 2)
            for li, (Z, mask) in enumerate(zip(bt.Z, bt.masks)):
                if Z.shape[2] == 0:
                    continue
                Bm = B if mask is None else B * mask
                S[li] += np.einsum("gai,gab,gbj->ij", Z, Bm, Z)
            for k in range(nphi):
                gphi[k] += float(np.einsum("gab,gab->", B, dlam[k]))
        return S, gphi

    def dev(self, eta):
        self.nfev += 1
        try:
            return self.deviance(eta, False)[0]
        except np.linalg.LinAlgError:
            return np.inf

    def dev_grad(self, eta):
        self.nfev += 1
        try:
            d, g = self.deviance(eta, True)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros(len(eta))
        self.last = (np.array(eta, dtype=float), d)
        return d, g

    # ---- Stata metric (sigma^2 not profiled) --------------------------------------------
    def stata_point(self, eta):
        parts, phi = self.split(eta)
        psis = self.psis(parts)
        A, c, yy, _, _ = self.pass1(psis, phi)
        _, r2, _ = self._solve(A, c, yy)
        sigma2 = r2 / self.nu()
        s = [st.stata_from_cov(sigma2 * _compact(psi, st)) for st, psi in zip(self.structures, psis)]
        s.append(np.asarray(phi, dtype=float))
        s.append(np.array([0.5 * math.log(sigma2)]))
        return np.concatenate(s), sigma2

    def stata_grad(self, s):
        """d(-2 ll)/d s at Stata-metric point s (beta at its GLS value)."""
        sigma2 = math.exp(2 * s[-1])
        pos = 0
        psis, jacs = [], []
        for st, q in zip(self.structures, self.q):
            k = len(st.stata_names(1, 1))
            psi, jac = st.cov_from_stata(s[pos:pos + k])
            pos += k
            psis.append(_expand(psi, q) / sigma2)
            jacs.append([_expand(j, q) for j in jac])
        phi = s[pos:-1]
        A, c, yy, _, store = self.pass1(psis, phi, with_derivs=True)
        beta, r2, _ = self._solve(A, c, yy)
        Ainv = np.linalg.inv(A) if self.p else np.zeros((0, 0))
        S, gphi = self._adjoint(store, beta, sigma2, Ainv, len(phi))
        g = []
        glns = 2.0 * self.nu() - 2.0 * r2 / sigma2
        for Sl, jac, psi in zip(S, jacs, psis):
            for dj in jac:
                g.append(float(np.sum(Sl * dj)) / sigma2)
            glns -= 2.0 * float(np.sum(Sl * psi))
        return np.concatenate([np.array(g), gphi, [glns]])


def _psd_factor(psi: np.ndarray) -> np.ndarray:
    """T with T T' = psi for a positive semidefinite psi (a boundary fit is singular)."""
    w, Q = np.linalg.eigh(0.5 * (psi + psi.T))
    return Q * np.sqrt(np.clip(w, 0.0, None))


def _patterns(bt: _Batch):
    """Groups of a batch that share t, by() and the split into lowest-level groups share
    Lambda: (pattern per group, one representative group per pattern)."""
    G, m = bt.by.shape
    same_code = np.argmax(bt.same, axis=2)          # first member of each row's lowest group
    key = np.concatenate([bt.t, bt.by.astype(float), same_code.astype(float)], axis=1)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return inv.reshape(-1), first


class _WoodburyProblem(_Problem):
    """_Problem when every random effect is at the outermost level (growth curves, panels):
    H_g = Lambda_g + Z_g T T' Z_g' is inverted through Lambda_g^-1 and the Q x Q matrix
    M_g = I + T'Z_g'Lambda_g^-1 Z_g T (Woodbury). Groups that share t, by() and their split into
    lowest-level groups share Lambda; when such patterns are few (a balanced panel has one),
    each pattern's groups form a sub-batch with one m x m inverse, W [Z X y] is one GEMM over
    all its groups and the m x m sums over groups that the residual gradient needs are GEMMs
    too; otherwise every group gets its own Lambda_g^-1 (batched)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.Q = sum(self.q)
        subs = []
        for bt in self.batches:
            Zc = np.concatenate(bt.Z, axis=2) if bt.Z else np.zeros(bt.X.shape[:2] + (0,))
            D = np.concatenate([Zc, bt.X, bt.y[:, :, None]], axis=2)
            pat, first = _patterns(bt)
            G = len(pat)
            if len(first) * 4 <= G:
                for k, f in enumerate(first):
                    rows = np.flatnonzero(pat == k)
                    subs.append(self._sub(bt, D[rows], f, None, None))
            else:
                onehot = np.zeros((len(first), G))
                onehot[pat, np.arange(G)] = 1.0
                subs.append(self._sub(bt, D, first, pat, onehot))
        self.subs = subs

    @staticmethod
    def _sub(bt, D, first, pat, onehot):
        """One sub-batch: D = [Z X y] (G, m, c); first: the rows of bt that carry its
        pattern(s); pat/onehot None for a shared pattern."""
        f = np.atleast_1d(first)
        sub = {"D": np.ascontiguousarray(D), "t": bt.t[f], "by": bt.by[f], "same": bt.same[f],
               "pat": pat, "onehot": onehot}
        if pat is None:
            m, c = D.shape[1], D.shape[2]
            sub["Dm"] = np.ascontiguousarray(D.transpose(1, 0, 2)).reshape(m, -1)
            q = D.shape[2] - bt.X.shape[2] - 1
            sub["Z"] = np.ascontiguousarray(D[:, :, :q])
            sub["R"] = np.ascontiguousarray(D[:, :, q:])
        return sub

    def _factor(self, psis) -> np.ndarray:
        T = np.zeros((self.Q, self.Q))
        pos = 0
        for psi in psis:
            k = psi.shape[0]
            T[pos:pos + k, pos:pos + k] = _psd_factor(psi)
            pos += k
        return T

    def pass1(self, psis, phi, with_derivs=False):
        p, Q = self.p, self.Q
        T = self._factor(psis)
        A = np.zeros((p, p))
        c = np.zeros(p)
        yy = 0.0
        logdet = 0.0
        store = []
        eye = np.eye(Q)
        for sb in self.subs:
            args = (sb["t"], sb["by"], sb["same"])
            if with_derivs:
                lam, dlam = self.rs.relcov_and_derivs(phi, *args)
            else:
                lam, dlam = self.rs.relcov(phi, *args), None
            C = np.linalg.cholesky(lam)
            ld = 2.0 * np.log(np.diagonal(C, axis1=1, axis2=2)).sum(axis=1)
            Wp = np.linalg.inv(lam)
            D = sb["D"]
            G, m, cc = D.shape
            if sb["pat"] is None:
                logdet += float(ld[0]) * G
                W = Wp[0]
                WD = (W @ sb["Dm"]).reshape(m, G, cc).transpose(1, 0, 2)
            else:
                logdet += float(ld @ sb["onehot"].sum(axis=1))
                W = Wp[sb["pat"]]
                WD = W @ D
            DWD = np.swapaxes(D, 1, 2) @ WD                      # (G, c, c)
            zz, zr = DWD[:, :Q, :Q], DWD[:, :Q, Q:]
            M = _congruence(zz, T)
            M += eye
            Minv, ldM = _small_inv_logdet(M)
            logdet += ldM
            K = _congruence(Minv, T.T)                           # T M^-1 T'
            KZr = K @ zr
            Rs = DWD[:, Q:, Q:].sum(axis=0) - _cross_sum(zr, KZr)  # [X y]'H^-1[X y]
            A += Rs[:p, :p]
            c += Rs[:p, p]
            yy += float(Rs[p, p])
            store.append((W, WD, DWD, K, KZr, dlam))
        return A, c, yy, logdet, store

    def _adjoint(self, store, beta, sigma2, Ainv, nphi):
        Q, p = self.Q, self.p
        S = np.zeros((Q, Q))
        gphi = np.zeros(nphi)
        w = np.concatenate([-beta, [1.0]])                        # [X y] w = e
        reml = self.reml and p
        for sb, (W, WD, DWD, K, KZr, dlam) in zip(self.subs, store):
            zz, zr = DWD[:, :Q, :Q], DWD[:, :Q, Q:]
            ZHr = zr - zz @ KZr                                  # Z'H^-1 [X y]
            Zu = ZHr @ w
            S += zz.sum(axis=0) - _cross_sum(zz, K @ zz) - (Zu.T @ Zu) / sigma2
            if reml:
                ZHX = ZHr[:, :, :p]
                S -= _gram_sum(ZHX @ Ainv, ZHX)
            if nphi:
                self._resid_grad(sb, W, WD, K, KZr, w, sigma2, Ainv, dlam, gphi)
        out, pos = [], 0
        for q in self.q:
            out.append(S[pos:pos + q, pos:pos + q])
            pos += q
        return out, gphi

    def _resid_grad(self, sb, W, WD, K, KZr, w, sigma2, Ainv, dlam, gphi):
        """gphi_k += sum_g <B_g, dLambda_k>, B summed over the groups of a pattern first."""
        Q, p = self.Q, self.p
        reml = self.reml and p
        if sb["pat"] is None:
            # sum_g B_g = G W - W [sum Z K Z' + sum R~ N R~'] W with R~ = [X y] - Z K Z'W[X y]
            # (so H^-1 [X y] = W R~) and N = w w'/sigma^2 (+ A^-1 on X for REML)
            G = len(W if W.ndim == 3 else sb["D"])
            Z, R = sb["Z"], sb["R"]
            Rt = R - Z @ KZr
            N = np.outer(w, w) / sigma2
            if reml:
                N[:p, :p] += Ainv
            RtN = (Rt.reshape(-1, p + 1) @ N).reshape(Rt.shape)
            Bs = G * W - W @ (_gram_sum(Z @ K, Z) + _gram_sum(RtN, Rt)) @ W
            for k in range(len(gphi)):
                gphi[k] += float(np.sum(Bs * dlam[k][0]))
            return
        Zw = WD[:, :, :Q]
        Hr = WD[:, :, Q:] - Zw @ KZr                             # H^-1 [X y]
        u = Hr @ w                                               # H^-1 e
        B = W - Zw @ K @ np.swapaxes(Zw, 1, 2) - (u[:, :, None] * u[:, None, :]) / sigma2
        if reml:
            HX = Hr[:, :, :p]
            B -= HX @ Ainv @ np.swapaxes(HX, 1, 2)
        m = B.shape[1]
        Bp = (sb["onehot"] @ B.reshape(len(B), m * m)).reshape(-1, m, m)
        for k in range(len(gphi)):
            gphi[k] += float(np.sum(Bp * dlam[k]))


def _congruence(S, T) -> np.ndarray:
    """T' S_g T for a stack S (G, Q, Q) and one Q x Q matrix T: two GEMMs over the stacked
    rows (numpy's broadcast matmul loops over the stack and is several times slower)."""
    G, Q, _ = S.shape
    ST = (S.reshape(G * Q, Q) @ T).reshape(G, Q, Q)               # S_g T
    out = np.swapaxes(ST, 1, 2).reshape(G * Q, Q) @ T             # (S_g T)' T = T' S_g' T
    return np.swapaxes(out.reshape(G, Q, Q), 1, 2)


def _small_inv_logdet(M):
    """Inverses of a stack of symmetric positive definite Q x Q matrices and the sum of their
    log determinants; closed forms for Q <= 2 (random intercept, intercept and slope), the
    common case, where LAPACK's per-matrix calls dominate."""
    G, Q, _ = M.shape
    if Q == 0:
        return M.copy(), 0.0
    if Q == 1:
        d = M[:, 0, 0]
        if not np.all(d > 0):
            raise np.linalg.LinAlgError("not positive definite")
        return 1.0 / M, float(np.log(d).sum())
    if Q == 2:
        a, b, d = M[:, 0, 0], M[:, 0, 1], M[:, 1, 1]
        det = a * d - b * b
        if not (np.all(a > 0) and np.all(det > 0)):
            raise np.linalg.LinAlgError("not positive definite")
        inv = np.empty_like(M)
        inv[:, 0, 0] = d / det
        inv[:, 0, 1] = inv[:, 1, 0] = -b / det
        inv[:, 1, 1] = a / det
        return inv, float(np.log(det).sum())
    C = np.linalg.cholesky(M)
    return np.linalg.inv(M), 2.0 * float(np.log(np.diagonal(C, axis1=1, axis2=2)).sum())


def _cross_sum(A, B) -> np.ndarray:
    """sum_g A_g' B_g for stacks A (G, k, a), B (G, k, b): one GEMM."""
    G, k, a = A.shape
    b = B.shape[2]
    if G * k == 0:
        return np.zeros((a, b))
    return np.ascontiguousarray(A).reshape(G * k, a).T @ np.ascontiguousarray(B).reshape(G * k, b)


def _gram_sum(F, Z) -> np.ndarray:
    """sum_g F_g Z_g' for stacks F, Z (G, a, k): k GEMMs of (a x G)(G x a), one per column
    (k is small: the random effects or the fixed columns), with no transposed copies."""
    out = np.zeros((F.shape[1], Z.shape[1]))
    for i in range(F.shape[2]):
        out += F[:, :, i].T @ Z[:, :, i]
    return out


def _expand(psi, q):
    psi = np.atleast_2d(psi)
    return psi[0, 0] * np.eye(q) if psi.shape[0] == 1 and q > 1 else psi


def _compact(psi, st):
    return psi[:1, :1] if st.kind == "identity" else psi


def fit_marginal(y, X, blocks: list[RandomBlock], resid: ResidualData, *, reml: bool = False,
                 maxiter: int = 300, callback: Callable | None = None) -> LmmFit:
    """Fit y = X b + sum Z u + e, Var(e_g) = sigma^2 Lambda_g(phi), by ML or REML.

    blocks: random-effects equations; a block without columns (`|| id:, noconstant`) only
    defines groups and has no parameters (LmmFit.covs holds a 0 x 0 matrix for it).
    callback(kind, iteration, ll) as lmm.fit_lmm's. The variance part (vc_names, vc_theta,
    vc_V) runs: random-effects parameters, the residual structure's, lnsig_e; extra holds
    'phi', 'residual' (the structure), 'theta' as lmm's, 'fixed_map', 'beta_std', 'V_beta_std'.
    """
    y = np.asarray(y, dtype=float).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=float).reshape(n, -1)
    fm = standardize.fixed_map(y, X)
    yt, Xt = fm.apply(y, X)
    order = [i for i in sorted(range(len(blocks)), key=lambda i: blocks[i].depth)
             if _dense_z(blocks[i]).shape[1]]
    re_blocks = [blocks[i] for i in order]
    dsorted = [standardize.random_scales([b])[0] for b in re_blocks]
    sblocks = standardize.scale_blocks(re_blocks, dsorted)
    structures = [standardize.structure_of(b) for b in sblocks]
    offset = fm.ll_offset(n, reml)
    top = min(blocks, key=lambda b: b.depth)
    batches = layout(n, top, sblocks, resid)
    kind = _WoodburyProblem if all(b.depth == top.depth for b in sblocks) else _Problem
    prob = kind(yt, Xt, sblocks, structures, resid, batches, reml)
    eta, dev, g, nit = _optimise(prob, maxiter, callback, offset)
    return _results(prob, eta, dev, g, nit, fm, dsorted, order, offset, blocks)


def _optimise(prob: _Problem, maxiter: int, callback, offset: float):
    re0 = [st.start(1.0) for st in prob.structures]
    eta0 = np.concatenate(re0 + [prob.rs.start()])
    it = {"em": 0, "gr": 0}

    def report(kind, dev):
        if callback is not None:
            callback(kind, it[kind[:2]], float(-0.5 * dev) + offset)
        it[kind[:2]] += 1

    d0 = prob.dev(eta0)
    if not np.isfinite(d0):
        eta0 = np.concatenate([st.start(0.1) for st in prob.structures] + [prob.rs.start()])
        d0 = prob.dev(eta0)
    report("em", d0)

    def cb(xk, *args):
        lt = getattr(prob, "last", None)
        d = lt[1] if lt is not None and np.array_equal(lt[0], xk) else prob.dev(xk)
        report("em", d)

    res = minimize_bfgs(prob.dev_grad, eta0, gtol=1e-2, maxiter=maxiter, callback=cb)
    eta = res.x
    dev, g = prob.dev_grad(eta)
    if not np.isfinite(dev):
        eta, (dev, g) = eta0, prob.dev_grad(eta0)
    if not np.isfinite(dev):
        raise np.linalg.LinAlgError("likelihood cannot be evaluated")
    report("gradient", dev)
    eta, dev, g = _polish(prob, eta, dev, g, lambda d: report("gradient", d),
                          maxsteps=max(0, min(20, maxiter - int(res.nit))))
    return eta, dev, g, it["gr"]


def _polish(prob, eta, dev, g, report, maxsteps=20):
    """Newton steps on a finite-difference Hessian of the exact gradient, as lmm's polish, but
    stopping at the precision a sum over many groups has: the deviance of 200,000
    observations is ~1e6 and its last ~1e-10 relative digits are rounding, so a decrement below
    1e-11 |D| (an ll change of ~1e-5 there) leaves nothing measurable to gain."""
    tol = 1e-11 * max(1.0, abs(dev))
    w = U = None
    for it in range(maxsteps):
        if it > 0 and _decrement(w, U, g)[0] < tol:
            break
        H = _fd_hessian(lambda e: prob.dev_grad(e)[1], eta, g)
        w, U = np.linalg.eigh(H)
        decrement, step = _decrement(w, U, g)
        if not np.isfinite(decrement) or (decrement < tol and it > 0):
            break
        t, improved = 1.0, False
        for _ls in range(12):
            dc, gc = prob.dev_grad(eta + t * step)
            if dc < dev or (dc <= dev + 1e-13 * abs(dev) and np.abs(gc).max() < 0.5 * np.abs(g).max()):
                eta, dev, g, improved = eta + t * step, dc, gc, True
                report(dev)
                break
            t *= 0.5
        if not improved:
            break
    return eta, dev, g


def _vc_covariance(prob: _Problem, s_hat: np.ndarray, names) -> np.ndarray | None:
    """Inverse observed information of the variance part in the Stata metric (as lmm's)."""
    try:
        if not np.all(np.isfinite(s_hat)):
            return None
        s_eval = s_hat.copy()
        for i, nm in enumerate(names):
            if nm.startswith(("atr", "r_atr")):
                s_eval[i] = float(np.clip(s_eval[i], -ATR_CLIP, ATR_CLIP))
        info = 0.5 * _jac_of_grad(prob.stata_grad, s_eval, 1e-4)
        w = np.linalg.eigvalsh(info)
        if np.all(np.isfinite(info)) and w.min() > 1e-10 * max(w.max(), 1.0):
            V = np.linalg.inv(info)
            return 0.5 * (V + V.T)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return None
    return None


def _results(prob: _Problem, eta, dev, g, nit, fm, dsorted, order, offset, blocks) -> LmmFit:
    """The standardized fit in the data's units (engine.standardize's maps)."""
    structures = prob.structures
    parts, phi = prob.split(eta)
    psis = prob.psis(parts)
    A, c, yy, _, _ = prob.pass1(psis, phi)
    beta, r2, _ = prob._solve(A, c, yy)
    sigma2 = r2 / prob.nu()
    V_beta = sigma2 * np.linalg.inv(A) if prob.p else np.zeros((0, 0))
    converged = bool(np.all(np.isfinite(g)) and np.abs(g).max() < 1e-4 + 1e-7 * abs(dev))
    s_hat, _ = prob.stata_point(eta)
    depth_count: dict[int, int] = {}
    names = []
    for i in sorted(range(len(blocks)), key=lambda i: blocks[i].depth):
        blk = blocks[i]
        depth_count[blk.depth] = depth_count.get(blk.depth, 0) + 1
        if i in order:
            st = structures[order.index(i)]
            names += st.stata_names(blk.depth, depth_count[blk.depth])
    names += prob.rs.names() + ["lnsig_e"]
    vc_V = _vc_covariance(prob, s_hat, names)
    c_y = fm.y_scale
    logc = math.log(c_y)
    shifts = [st.stata_shift(logc, np.log(d)) for st, d in zip(structures, dsorted)]
    s_data = s_hat + np.concatenate(shifts + [np.zeros(len(phi)), np.array([logc])])
    covs = [np.zeros((0, 0))] * len(blocks)
    for pos, i in enumerate(order):
        st, d = structures[pos], dsorted[pos]
        k = 1 if st.kind == "identity" else st.q
        rel = _compact(psis[pos], st)
        covs[i] = _full_cov((c_y * c_y) * sigma2 * rel / np.outer(d[:k], d[:k]), st.q)
    theta_t = np.concatenate(parts) if parts else np.zeros(0)
    theta = _rescale_theta(theta_t, structures, dsorted, inverse=True) if parts else theta_t
    return LmmFit(beta=fm.beta(beta), V_beta=fm.vbeta(V_beta), ll=float(-0.5 * dev) + offset,
                  reml=prob.reml, converged=converged, iterations=max(nit - 1, 0),
                  sigma2=c_y * c_y * sigma2, covs=covs, vc_names=[(nm, "_cons") for nm in names],
                  vc_theta=s_data, vc_V=vc_V, n_obs=prob.n,
                  extra={"theta": theta, "theta_std": theta_t, "phi": np.asarray(phi, dtype=float),
                         "residual": prob.rs, "residual_data": prob.resid_data, "fixed_map": fm, "beta_std": beta,
                         "V_beta_std": V_beta, "gradient": g, "nfev": prob.nfev,
                         "ll_linear": None, "block_order": order})


def compute_blups(model, *, with_se: bool = True) -> list:
    """BLUPs of the random effects of a fit with a residual structure (what engine.blup gives
    for sigma^2 I errors): u_j = Psi Z_j' V^-1 (y - X b) for every group j of every level, and
    Var(u_j - u~_j) = Psi - Psi Z_j' P Z_j Psi, P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1 (the
    uncertainty of b counted, as Stata's reses). Dense per outermost group, batched by size."""
    fit = model.fit
    rd: ResidualData = fit.extra["residual_data"]
    y = np.asarray(model.y, dtype=float)
    n = len(y)
    X = np.asarray(model.X, dtype=float).reshape(n, -1)
    blocks = list(model.blocks)
    order = [i for i in sorted(range(len(blocks)), key=lambda i: blocks[i].depth)
             if _dense_z(blocks[i]).shape[1]]
    re_blocks = [blocks[i] for i in order]
    top = min(blocks, key=lambda b: b.depth)
    s2 = float(fit.sigma2)
    psis = [_expand(np.asarray(fit.covs[i], dtype=float), len(blocks[i].names)) for i in order]
    rel = [p / s2 for p in psis]
    e = y - (X @ np.asarray(fit.beta, dtype=float) if X.shape[1] else 0.0)
    Ainv = np.asarray(fit.V_beta, dtype=float) / s2 if X.shape[1] else None
    Zs = [_dense_z(b) for b in re_blocks]
    codes = [np.asarray(b.group, dtype=np.int64) for b in re_blocks]
    ng = [int(c.max()) + 1 if len(c) else 0 for c in codes]
    zhe = [np.zeros((g, Z.shape[1])) for g, Z in zip(ng, Zs)]
    zpz = [np.zeros((g, Z.shape[1], Z.shape[1])) for g, Z in zip(ng, Zs)]
    for bt in layout(n, top, re_blocks, rd):
        idx = bt.idx
        H = np.array(rd.structure.relcov(fit.extra["phi"], bt.t, bt.by, bt.same), dtype=float)
        Zb = [Z[idx] for Z in Zs]
        for Z, psi, mask in zip(Zb, rel, bt.masks):
            zz = (Z @ psi) @ np.swapaxes(Z, 1, 2)
            H += zz if mask is None else zz * mask
        Hinv = np.linalg.inv(H)
        He = np.einsum("gab,gb->ga", Hinv, e[idx])
        HX = Hinv @ X[idx]
        for li, (Z, mask) in enumerate(zip(Zb, bt.masks)):
            cz = codes[li][idx]
            np.add.at(zhe[li], cz, Z * He[:, :, None])
            if not with_se:
                continue
            Hm = Hinv if mask is None else Hinv * mask
            v = Hm @ Z                                        # sum over the row's own group
            np.add.at(zpz[li], cz, Z[:, :, :, None] * v[:, :, None, :])
            if Ainv is not None:
                t = _group_sums(HX[:, :, :, None] * Z[:, :, None, :], cz, ng[li])   # X'H^-1 Z_j
                zpz[li] -= np.einsum("gpa,pq,gqb->gab", t, Ainv, t)
    out = [BlockBlups(np.zeros((int(np.asarray(b.group).max(initial=-1)) + 1, 0)), None)
           for b in blocks]
    for pos, i in enumerate(order):
        u = zhe[pos] @ rel[pos]
        se = None
        if with_se:
            var = s2 * (rel[pos][None] - rel[pos][None] @ zpz[pos] @ rel[pos][None])
            se = np.sqrt(np.clip(np.diagonal(var, axis1=1, axis2=2), 0.0, None))
        out[i] = BlockBlups(u, se)
    return out


def _group_sums(vals: np.ndarray, codes: np.ndarray, ngroups: int) -> np.ndarray:
    """Sums of vals (G, m, ...) over the rows of each group code (G, m)."""
    out = np.zeros((ngroups,) + vals.shape[2:])
    np.add.at(out, codes, vals)
    return out


def marginal_covariance(model, rows: np.ndarray) -> np.ndarray:
    """V = Z Psi Z' + sigma^2 Lambda over the given observations of the estimation sample
    (indices into model.y; one outermost group for estat wcorrelation), in the data's units."""
    fit = model.fit
    rows = np.asarray(rows, dtype=np.int64)
    m = len(rows)
    blocks = list(model.blocks)
    s2 = float(fit.sigma2)
    V = np.zeros((m, m))
    for i, b in enumerate(blocks):
        Z = _dense_z(b)[rows]
        if Z.shape[1] == 0:
            continue
        psi = _expand(np.asarray(fit.covs[i], dtype=float), len(b.names))
        g = np.asarray(b.group, dtype=np.int64)[rows]
        V += (Z @ psi @ Z.T) * (g[:, None] == g[None, :])
    rd = fit.extra.get("residual_data") if fit.extra else None
    if rd is None:
        return V + s2 * np.eye(m)
    t = (np.zeros(m) if rd.t is None else np.asarray(rd.t, dtype=float)[rows])[None]
    by = (np.zeros(m, dtype=np.int64) if rd.by is None else np.asarray(rd.by)[rows])[None]
    blk = np.asarray(rd.block, dtype=np.int64)[rows][None]
    lam = rd.structure.relcov(fit.extra["phi"], t, by, _pair_mask(blk))[0]
    return V + s2 * np.real(lam)


def group_scores(y, X, blocks: list[RandomBlock], fit: LmmFit) -> tuple[np.ndarray, np.ndarray]:
    """Per outermost group, the gradient of its log likelihood (ML) with respect to the fixed
    effects and the variance parameters in e(b)'s metric (random effects, the residual
    structure's, lnsig_e), at the estimates, in the data's units -- what vce(robust) sums:
    s_b = X'V^-1 e, s_k = (e'V^-1 dV_k V^-1 e - tr(V^-1 dV_k)) / 2 with V the group's marginal
    covariance. (G x (p + k) scores, outermost group code of each observation)."""
    rd: ResidualData = fit.extra["residual_data"]
    y = np.asarray(y, dtype=float).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=float).reshape(n, -1)
    order = [i for i in sorted(range(len(blocks)), key=lambda i: blocks[i].depth)
             if _dense_z(blocks[i]).shape[1]]
    re_blocks = [blocks[i] for i in order]
    top = min(blocks, key=lambda b: b.depth)
    s = np.asarray(fit.vc_theta, dtype=float)
    s2 = math.exp(2 * s[-1])
    psis, jacs, pos = [], [], 0
    for b in re_blocks:
        st = standardize.structure_of(b)
        k = len(st.stata_names(1, 1))
        psi, jac = st.cov_from_stata(s[pos:pos + k])
        pos += k
        q = len(b.names)
        psis.append(_expand(psi, q))
        jacs.append([_expand(j, q) for j in jac])
    phi = s[pos:-1]
    e = y - (X @ np.asarray(fit.beta, dtype=float) if X.shape[1] else 0.0)
    Zs = [_dense_z(b) for b in re_blocks]
    top_codes = (np.zeros(n, dtype=np.int64) if top.label == "_all"
                 else np.asarray(top.group, dtype=np.int64))
    _, tc = np.unique(top_codes, return_inverse=True)
    tc = tc.reshape(-1)
    G = int(tc.max()) + 1 if n else 0
    S = np.zeros((G, X.shape[1] + len(s)))
    for bt in layout(n, top, re_blocks, rd):
        idx = bt.idx
        lam, dlam = rd.structure.relcov_and_derivs(phi, bt.t, bt.by, bt.same)
        lam = np.asarray(np.real(lam), dtype=float)
        dVs = []
        V = s2 * lam
        for Z, psi, jac, mask in zip([Z[idx] for Z in Zs], psis, jacs, bt.masks):
            Zt = np.swapaxes(Z, 1, 2)
            V = V + _masked((Z @ psi) @ Zt, mask)
            dVs += [_masked((Z @ j) @ Zt, mask) for j in jac]
        dVs += [s2 * d for d in dlam] + [2.0 * s2 * lam]
        Vinv = np.linalg.inv(V)
        a = np.einsum("gab,gb->ga", Vinv, e[idx])
        rows = [np.einsum("gai,ga->gi", X[idx], a)]
        for dV in dVs:
            quad = np.einsum("ga,gab,gb->g", a, dV, a)
            tr = np.einsum("gab,gba->g", Vinv, dV)
            rows.append((0.5 * (quad - tr))[:, None])
        S[tc[idx[:, 0]]] = np.hstack(rows)
    return S, tc


def _masked(M, mask):
    return M if mask is None else M * mask


def marginal_pieces(y, X, blocks: list[RandomBlock], fit: LmmFit):
    """Per outermost group: X_g, V_g, dV_g and y_g - X_g b (lists), what engine.small_sample's
    MarginalModel holds, with the variance parameters in their natural, near-linear metric:
    each distinct variance and covariance of every random-effects block (one variance for an
    identity block, a variance and a covariance for an exchangeable one), the residual
    variance sigma^2 (V's Lambda term), then the residual structure's own parameters (d V /
    d phi = sigma^2 d Lambda / d phi). Any fit, with or without a residual structure."""
    from .vcparams import normalize_structure
    y = np.asarray(y, dtype=float).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=float).reshape(n, -1)
    rd = fit.extra.get("residual_data") if isinstance(fit.extra, dict) else None
    order = [i for i in sorted(range(len(blocks)), key=lambda i: blocks[i].depth)
             if _dense_z(blocks[i]).shape[1]]
    re_blocks = [blocks[i] for i in order]
    top = min(blocks, key=lambda b: b.depth)
    if rd is None:
        from .residuals import make_structure
        low = max(blocks, key=lambda b: b.depth)
        rd = ResidualData(make_structure("independent", 0, None, 1),
                          np.asarray(low.group, dtype=np.int64), None, None)
        phi = np.zeros(0)
    else:
        phi = np.asarray(fit.extra["phi"], dtype=float)
    s2 = float(fit.sigma2)
    psis = [_expand(np.asarray(fit.covs[i], dtype=float), len(blocks[i].names)) for i in order]
    kinds = [normalize_structure(blocks[i].covariance, len(blocks[i].names)) for i in order]
    e = y - (X @ np.asarray(fit.beta, dtype=float) if X.shape[1] else 0.0)
    Zs = [_dense_z(b) for b in re_blocks]
    Xl, Vl, dVl, rl = [], [], [], []
    for bt in layout(n, top, re_blocks, rd):
        idx = bt.idx
        lam, dlam = rd.structure.relcov_and_derivs(phi, bt.t, bt.by, bt.same)
        lam = np.asarray(np.real(lam), dtype=float)
        V = s2 * lam
        dV = []
        for Z, psi, kind, mask in zip([Z[idx] for Z in Zs], psis, kinds, bt.masks):
            V = V + _masked((Z @ psi) @ np.swapaxes(Z, 1, 2), mask)
            dV += [_masked(d, mask) for d in _natural_derivs(Z, kind)]
        dV += [lam] + [s2 * d for d in dlam]
        D = np.stack(dV, axis=1)                       # (G, K, m, m)
        for g in range(len(idx)):
            Xl.append(X[idx[g]])
            Vl.append(V[g])
            dVl.append(D[g])
            rl.append(e[idx[g]])
    return Xl, Vl, dVl, rl


def _natural_derivs(Z, kind: str) -> list:
    """d(Z Psi Z')/d(each distinct variance and covariance of Psi) for a stack Z (G, m, q)."""
    q = Z.shape[2]
    outer = [[Z[:, :, i][:, :, None] * Z[:, :, j][:, None, :] for j in range(q)] for i in range(q)]
    if kind == "identity":
        return [sum(outer[i][i] for i in range(q))]
    if kind == "independent":
        return [outer[i][i] for i in range(q)]
    if kind == "exchangeable":
        off = sum(outer[i][j] for i in range(q) for j in range(q) if i != j)
        return [sum(outer[i][i] for i in range(q)), off]
    out = [outer[i][i] for i in range(q)]
    out += [outer[i][j] + outer[j][i] for i in range(q) for j in range(i + 1, q)]
    return out


def whiten_residuals(model, resid: np.ndarray) -> np.ndarray:
    """Residuals of the estimation sample (model order) times R_g^-1/2 per lowest-level
    group, R_g = sigma^2 Lambda_g and R_g^1/2 its Cholesky factor (observations sorted by t):
    the standardized residuals of a residual structure."""
    fit = model.fit
    rd: ResidualData = fit.extra["residual_data"]
    resid = np.asarray(resid, dtype=float)
    n = len(resid)
    out = np.empty(n)
    low = max(model.blocks, key=lambda b: b.depth)
    for bt in layout(n, low, [], ResidualData(rd.structure, rd.block, rd.t, rd.by)):
        lam = np.asarray(np.real(rd.structure.relcov(fit.extra["phi"], bt.t, bt.by, bt.same)),
                         dtype=float)
        C = np.linalg.cholesky(float(fit.sigma2) * lam)
        w = np.linalg.solve(C, resid[bt.idx][:, :, None])[:, :, 0]
        out[bt.idx] = w
    return out
