"""Generalized linear mixed models with several random-effects levels: nested
(`|| school: || class:`) and crossed (`|| _all: R.item || subj:`), beside engine.glmm's one
level.

Why a module of its own: with one level every group's integral is independent and small
batched q x q solves are all that is needed (engine.glmm). With several levels the groups of
different levels share observations, so the conditional modes solve one coupled sparse system
and the integral no longer factors group by group. Both are done here without a Python loop
over groups.

Laplace (any nesting or crossing). The conditional modes u^ of all levels at once by penalized
iteratively reweighted least squares: each Newton step of f(u) = sum_i l_i(eta_i) - u'u/2 is the
penalized weighted least-squares problem of the working response z = Z b + l'/W with working
weights W = -l'' (observed weights, as engine.glmm), solved by the linear engine's blocked
factorisation (engine.suffstats.build with observation weights, engine.blocked.forward and
modes: the nested chain eliminated per group, a crossed remainder as one dense block), with
step halving on f. The same factorisation gives log|Lambda'Z'WZ Lambda + I| at the modes:

    log L ~ sum_i l_i(eta^_i) - u^'u^/2 - log|Lambda'Z'WZ Lambda + I| / 2     (lme4's nAGQ = 1).

Its gradient is exact, as engine.glmm's for one level: the envelope theorem for f, and for
log|H| its explicit change with Lambda (the blocked factorisation's adjoint) plus the change of
W with eta through the modes' own derivative (implicit function theorem). That needs the
leverage h_i = z_i' Lambda H^-1 Lambda' z_i = d log|H| / dW_i of every observation across
levels, read from the same adjoint (the chain's per-group blocks Z_k'WZ_k, their couplings to
the ancestors' and the crossed remainder's columns, the remainder's own block), and solves with
H, done by one more weighted build whose columns are X and l3 h / W (l3 the third derivative in
eta). Only when the chain's coupling to a large crossed remainder is held sparse (its adjoint is
not formed) is the gradient by central differences of the value (PIRLS warm-started and
converged to 1e-10: the value is smooth to ~1e-12 relative).

Adaptive quadrature (nested levels only: Stata's default mvaghermite for nested models). For a
top-level group the integral nests: for every node of the outer effect the inner groups'
integrals factor, so it is computed from the inside out,

    log I_k(g | t_<k) = log sum_t exp( sum_{children c} log I_{k+1}(c | t_<k, t) + h_k(g, t) ),

h_k holding the Gauss-Hermite weight, the prior and the adaptive transformation u = mu + S t
of level k (a product rule of `points` nodes per random effect). The adaptive parameters of a
top-level group are its posterior mean and covariance; those of a group below are its
posterior mean and covariance given its ancestors' effects, one (mu, S) for every combination
of the ancestors' nodes (mean-variance adaptation level by level, the lower levels'
posteriors conditional on the upper levels' effects), so the inner nodes follow the outer
node: with one (mu, S) per inner group the inner nodes miss the inner posterior wherever
the outer effect is away from its mean, and the rule was wrong by units of log likelihood
([ME] mepoisson's melanoma model). They are iterated to convergence at each evaluation from
the previous ones, started at the Laplace approximation (modes and conditional curvatures).
The gradient holds the nodes (sum over node combinations of the
joint posterior weight times dl/dpsi), and the fit is engine.glmm's: Newton steps on the
fixed-node objective, re-adapting after each. Memory is n times the product of the node
counts of all levels (7 x 7 for two random intercepts), the conditional adaptation included.
Crossed models have no such factorisation: they are fitted by Laplace only (Stata's default
for them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import blocked, suffstats
from .glmm_families import Family
from .quasi_newton import deviance, minimize_bfgs
from .types import IndicatorMatrix, RandomBlock
from .vcparams import Structure

LOG2PI = math.log(2 * math.pi)


# --------------------------------------------------------------------------- data
@dataclass
class MultiData:
    """The estimation sample in the caller's row order: y, X (n x p), offset, trials and the
    random-effects blocks (outermost first, engine.types.RandomBlock)."""

    y: np.ndarray
    X: np.ndarray
    offset: np.ndarray
    trials: np.ndarray
    blocks: list

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def nested(self) -> bool:
        """No `R.var` factor (crossed effects): every level's groups lie inside the outer ones."""
        return not any(isinstance(b.Z, IndicatorMatrix) for b in self.blocks)

    def zb(self, bs) -> np.ndarray:
        """sum over levels of z_i' b_{level, group(i)} for every observation."""
        out = np.zeros(self.n)
        for blk, b in zip(self.blocks, bs):
            out += block_zb(blk, b, np.asarray(blk.group, dtype=np.int64))
        return out


def block_zb(blk: RandomBlock, b: np.ndarray, codes: np.ndarray, Z=None) -> np.ndarray:
    """z_i' b_{codes_i} of one block (an `R.var` factor: the effect of the row's level)."""
    Zm = blk.Z if Z is None else Z
    if isinstance(Zm, IndicatorMatrix):
        out = np.zeros(len(codes))
        off = 0
        for fc, L, v in Zm.factors:
            val = b[codes, off + fc]
            out += val if v is None else val * v
            off += L
        if Zm.dense is not None:
            out += np.einsum("nq,nq->n", Zm.dense, b[codes, off:])
        return out
    return np.einsum("nq,nq->n", np.asarray(Zm, dtype=float), b[codes])


def full_lam(st: Structure, lam: np.ndarray) -> np.ndarray:
    """A level's q x q factor (the compact 1 x 1 of an identity block expanded)."""
    return lam[0, 0] * np.eye(st.q) if lam.shape[0] == 1 and st.q > 1 else lam


class _Params:
    """Shared bookkeeping: x = (b, theta of each level, the family's own parameters)."""

    def __init__(self, data: MultiData, fam: Family, structures: list[Structure]):
        self.d = data
        self.fam = fam
        self.sts = structures
        self.p = data.X.shape[1]
        self.sizes = [st.m for st in structures]
        self.const = fam.constant(data.y, data.trials)
        self.nfev = 0
        self.last = None

    def split(self, x):
        x = np.asarray(x, dtype=float)
        ne = self.fam.n_extra
        if ne:
            self.fam.extra = x[len(x) - ne:].copy()
            x = x[:len(x) - ne]
        beta = x[:self.p]
        thetas, k = [], self.p
        for m in self.sizes:
            thetas.append(x[k:k + m])
            k += m
        return beta, thetas

    def lams(self, thetas):
        return [st.lam(th) for st, th in zip(self.sts, thetas)]

    def dev_grad(self, x):
        """(-2 log L, its gradient) with inf for an infeasible point (the optimiser's contract)."""
        self.nfev += 1
        d, g = deviance(self.value_grad, np.asarray(x, dtype=float))
        if np.isfinite(d):
            self.last = (np.array(x, dtype=float), d)
        return d, g

    def loglik(self, x) -> float:
        with np.errstate(all="ignore"):
            return self.value(np.asarray(x, dtype=float))


# --------------------------------------------------------------------------- Laplace
class LaplaceMulti(_Params):
    """The Laplace log likelihood of a nested or crossed GLMM, modes by blocked PIRLS."""

    method = "laplace"

    def __init__(self, data: MultiData, fam: Family, structures: list[Structure]):
        super().__init__(data, fam, structures)
        self.b = [np.zeros((int(np.max(blk.group)) + 1, blk.Z.shape[1])) for blk in data.blocks]
        self.freeze = False
        self._X0 = np.zeros((data.n, 0))

    def _penalty(self, bs, pinvs) -> float:
        tot = 0.0
        for b, P in zip(bs, pinvs):
            u = b * P[0, 0] if P.shape == (1, 1) else b @ P.T
            tot += float(np.sum(u * u))
        return tot

    def _pinvs(self, lams):
        out = []
        for lam in lams:
            if lam.shape == (1, 1):
                v = lam[0, 0]
                out.append(np.array([[0.0 if v == 0 else 1.0 / v]]))
            else:
                out.append(np.linalg.pinv(lam))
        return out

    def _state(self, xb, bs, pinvs):
        d = self.d
        eta = xb + d.zb(bs)
        ders = self.fam.derivs(d.y, eta, d.trials)
        f = float(ders[0].sum()) - 0.5 * self._penalty(bs, pinvs)
        return f, eta, ders

    def _weighted(self, eta, xb, ders, lams):
        W = np.maximum(-ders[2], 1e-300)
        z = (eta - xb) + ders[1] / W
        ss = suffstats.build(z, self._X0, self.d.blocks, weights=W, frequency=False)
        return ss, blocked.forward(ss, lams)

    def modes(self, beta, lams, maxit: int = 100):
        """PIRLS from the last modes: (b per level, log|H| at the modes, sum l, u'u)."""
        d = self.d
        xb = d.X @ beta + d.offset
        pinvs = self._pinvs(lams)
        bs = [b.copy() for b in self.b]
        f, eta, ders = self._state(xb, bs, pinvs)
        if not np.isfinite(f):
            bs = [np.zeros_like(b) for b in bs]
            f, eta, ders = self._state(xb, bs, pinvs)
        for _ in range(maxit):
            ss, ev = self._weighted(eta, xb, ders, lams)
            new = blocked.modes(ss, ev, np.zeros(0))
            steps = [nb - b for nb, b in zip(new, bs)]
            size = max((float(np.max(np.abs(s), initial=0.0)) for s in steps), default=0.0)
            if size < 1e-10:
                break
            t = 1.0
            for _h in range(40):
                cand = [b + t * s for b, s in zip(bs, steps)]
                fn, etan, dn = self._state(xb, cand, pinvs)
                if fn >= f - 1e-13 * abs(f):
                    break
                t *= 0.5
            else:
                break
            bs, f, eta, ders = cand, fn, etan, dn
            # a full Newton step this small leaves an error of its square (quadratic
            # convergence): the modes are done; W at them is all that is still needed
            if t * size < 1e-10 or (t == 1.0 and size < 1e-6):
                ss, ev = self._weighted(eta, xb, ders, lams)
                break
        self.b = bs
        self._at_modes = (ss, ev, eta, ders, xb, pinvs)
        return bs, ev.logdet, float(ders[0].sum()), self._penalty(bs, pinvs)

    def value(self, x) -> float:
        beta, thetas = self.split(x)
        _, logdet, lsum, pen = self.modes(beta, self.lams(thetas))
        return lsum + self.const - 0.5 * pen - 0.5 * logdet

    def value_grad(self, x, h: float = 2e-6):
        """The value and its gradient: exact (_exact_grad), by central differences (modes
        warm-started from x's) for the family's own parameters and where the chain's coupling
        to a crossed remainder is held sparse."""
        f0 = self.value(x)
        if self._at_modes[0].sparse:           # the coupling's adjoint is not formed there
            return f0, self._fd_grad(x, h, range(len(x)))
        beta, thetas = self.split(x)
        g = self._exact_grad(beta, thetas)
        ne = self.fam.n_extra
        if ne:
            g = np.concatenate([g, self._fd_grad(x, h, range(len(x) - ne, len(x)))[len(x) - ne:]])
            self.value(x)
        return f0, g

    def _fd_grad(self, x, h, idx):
        bx = [b.copy() for b in self.b]
        g = np.zeros(len(x))
        for j in idx:
            step = h * max(1.0, abs(x[j]))
            vals = []
            for sgn in (1.0, -1.0):
                xe = np.array(x, dtype=float)
                xe[j] += sgn * step
                self.b = [b.copy() for b in bx]
                vals.append(self.value(xe))
            g[j] = (vals[0] - vals[1]) / (2 * step)
        self.b = bx
        self.split(x)
        return g

    def _leverage(self, ss, ev):
        """h_i = z_i' Lambda H^-1 Lambda' z_i = d log|H| / dW_i for every observation, from the
        blocked factorisation's adjoint: the chain's per-group blocks Z_k'WZ_k, their couplings
        to the ancestors' columns and to the crossed remainder's, and the remainder's own block
        (each cross product is linear in W, so its adjoint contracted with an observation's
        columns is that observation's share); also the explicit d log|H| / dLambda per level."""
        keep: dict = {}
        bars = blocked._backward(ss, ev, np.zeros((ss.p + 1, ss.p + 1)), keep)
        n = self.d.n
        h = np.zeros(n)
        cols, vals = _remainder_columns(ss)
        if cols:
            RR = keep["RR"]
            for ca, va in zip(cols, vals):
                for cb, vb in zip(cols, vals):
                    h += va * vb * RR[ca, cb]
        anc = []
        for k, lev in enumerate(ss.chain):
            Zk = np.ones((n, 1)) if lev.term.Z is None else lev.term.Z
            Ab = keep[k]
            if Ab.shape[1:] == (1, 1):
                h += Zk[:, 0] ** 2 * Ab[lev.codes, 0, 0]
            else:
                h += np.einsum("ni,nij,nj->n", Zk, Ab[lev.codes], Zk)
            Bb = keep.get(("Ba", k))
            if anc and Bb is not None:
                h += np.einsum("ni,nij,nj->n", Zk, Bb[lev.codes], np.concatenate(anc, axis=1))
            Bg = keep.get(("Bg", k))
            for c, v in zip(cols, vals):
                h += v * np.sum(Zk * Bg[lev.codes, :, c], axis=1)
            anc.append(Zk)
        return h, bars

    def _exact_grad(self, beta, thetas):
        """d/d(b, theta) of the Laplace value at the modes just found: the envelope theorem for
        f, and for log|H| its explicit change with Lambda plus the change of W = -l2 with eta
        (l3 times the leverage) through the modes' own derivative (implicit function theorem),
        as engine.glmm's one-level gradient; the solves with H go through the blocked
        factorisation (one more weighted build with X and c/W as its columns)."""
        d = self.d
        ss, ev, eta, (l, l1, l2, l3), xb, pinvs = self._at_modes
        W = np.maximum(-l2, 1e-300)
        h, bars = self._leverage(ss, ev)
        c = l3 * h
        ss2 = suffstats.build(c / W, d.X, d.blocks, weights=W, frequency=False)
        lams = self.lams(thetas)
        ev2 = blocked.forward(ss2, lams)
        p = self.p
        sol = blocked.solve(ss2, ev2, np.eye(p + 1))
        codes = [np.asarray(b.group, dtype=np.int64) for b in d.blocks]
        rows = np.zeros((d.n, p + 1))
        for blk, ck, sk in zip(d.blocks, codes, sol):
            rows += _z_rows(blk, ck, sk)
        M, Zw = rows[:, :p], rows[:, p]
        g_beta = d.X.T @ l1 + 0.5 * (d.X - M).T @ c
        g_th = []
        for k, st in enumerate(self.sts):
            blk, ck, P = d.blocks[k], codes[k], pinvs[k]
            u = _times_factor(self.b[k], P, st)
            s = _times_factor(sol[k][:, :, p], P, st)
            Zl = _zt_sums(blk, ck, l1, self.b[k].shape)
            gl = st.theta_grad(bars[k])
            for j, B in enumerate(st.basis):
                Bu = _times_factor(u, B, st)
                zBu = _z_rows(blk, ck, Bu[:, :, None])[:, 0]
                sBZl = float(np.sum(_times_factor(s, B, st) * Zl))
                dc = c @ zBu + sBZl - float(np.sum(Zw * W * zBu))
                g_th.append(float(l1 @ zBu) - 0.5 * gl[j] + 0.5 * dc)
        return np.concatenate([g_beta, np.array(g_th)])


def _times_factor(rows, F, st):
    """rows @ F' (F a level's factor or basis matrix; a compact 1 x 1 is a scalar multiple of
    the identity)."""
    if F.shape == (1, 1):
        return rows * F[0, 0]
    return rows @ full_lam(st, F).T


def _z_rows(blk: RandomBlock, codes: np.ndarray, arr: np.ndarray) -> np.ndarray:
    """sum_j z_ij arr[group_i, j, :] for every observation (arr: (G, q, r)); for an `R.var`
    factor the row's level column times its value."""
    Z = blk.Z
    if isinstance(Z, IndicatorMatrix):
        out = np.zeros((len(codes), arr.shape[2]))
        off = 0
        for fc, L, v in Z.factors:
            part = arr[codes, off + fc, :]
            out += part if v is None else part * v[:, None]
            off += L
        if Z.dense is not None:
            for j in range(Z.dense.shape[1]):
                out += Z.dense[:, j:j + 1] * arr[codes, off + j, :]
        return out
    Zd = np.asarray(Z, dtype=float)
    out = np.zeros((len(codes), arr.shape[2]))
    for j in range(Zd.shape[1]):
        out += Zd[:, j:j + 1] * np.take(arr[:, j, :], codes, axis=0)
    return out


def _zt_sums(blk: RandomBlock, codes: np.ndarray, vec: np.ndarray, shape) -> np.ndarray:
    """Z_k' vec by group: (G, q)."""
    G, q = shape
    Z = blk.Z
    if isinstance(Z, IndicatorMatrix):
        out = np.zeros(G * q)
        off = 0
        for fc, L, v in Z.factors:
            w = vec if v is None else vec * v
            out += np.bincount(codes * q + off + fc, weights=w, minlength=G * q)
            off += L
        out = out.reshape(G, q)
        if Z.dense is not None:
            for j in range(Z.dense.shape[1]):
                out[:, off + j] += np.bincount(codes, weights=vec * Z.dense[:, j], minlength=G)
        return out
    Zd = np.asarray(Z, dtype=float)
    return np.column_stack([np.bincount(codes, weights=vec * Zd[:, j], minlength=G)
                            for j in range(q)])


def _remainder_columns(ss):
    """The crossed remainder's columns of every observation, as (column index arrays, value
    arrays): one pair per remainder term and term column."""
    cols, vals = [], []
    for rt in ss.rterms:
        t = rt.term
        for j in range(t.q):
            cols.append(rt.off + t.codes * t.q + j)
            vals.append(np.ones(len(t.codes)) if t.Z is None else t.Z[:, j])
    return cols, vals


# --------------------------------------------------------------------------- nested quadrature
class NestedLayout:
    """Rows sorted so that every level's groups are contiguous runs; per level the run of each
    row, the runs' first rows, each run's parent run (level above) and its original code."""

    def __init__(self, blocks: list):
        codes = [np.asarray(b.group, dtype=np.int64) for b in blocks]
        n = len(codes[0])
        self.order = np.lexsort(codes[::-1]) if n else np.zeros(0, dtype=np.int64)
        self.runs, self.starts, self.parent, self.orig = [], [], [], []
        prev = None
        for k, c in enumerate(codes):
            cs = c[self.order]
            st = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]]) if n else np.zeros(0, np.int64)
            run = np.repeat(np.arange(len(st)), np.diff(np.r_[st, n]))
            self.starts.append(st)
            self.runs.append(run)
            self.orig.append(cs[st])
            self.parent.append(None if prev is None else prev[st])
            prev = run
        # inner runs grouped under their parents: first inner run of every parent run
        self.child_starts = [None] + [np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
                                      for p in self.parent[1:]]


def _ancestor(lay: NestedLayout, k: int, j: int) -> np.ndarray:
    """The level-j run holding each level-k run (j < k)."""
    anc = np.arange(len(lay.starts[k]))
    for m in range(k, j, -1):
        anc = lay.parent[m][anc]
    return anc


def _at_rows(A: np.ndarray, U: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """a_i' u for every observation i and node of its group: (n, ...) from A (n, q) and the
    nodes U (G, ..., q), one column of q at a time (no (n, ..., q) array)."""
    out = A[:, 0].reshape((-1,) + (1,) * (U.ndim - 2)) * np.take(U[..., 0], runs, axis=0)
    for j in range(1, U.shape[-1]):
        out += A[:, j].reshape((-1,) + (1,) * (U.ndim - 2)) * np.take(U[..., j], runs, axis=0)
    return out


def _logdet_tri(S: np.ndarray) -> np.ndarray:
    """log |det S| of triangular factors (..., q, q): the sum of the log diagonal."""
    return np.sum(np.log(np.abs(np.diagonal(S, axis1=-2, axis2=-1))), axis=-1)


def _rule(points: int, q: int):
    from numpy.polynomial.hermite_e import hermegauss
    t, w = hermegauss(points)
    grids = np.meshgrid(*([t] * q), indexing="ij")
    nodes = np.stack([gq.ravel() for gq in grids], axis=1)
    wg = np.meshgrid(*([w] * q), indexing="ij")
    logw = np.sum(np.log(np.stack([x.ravel() for x in wg], axis=1)), axis=1)
    return nodes, logw


def _lse(a, axis=-1):
    mx = np.max(a, axis=axis, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    return np.squeeze(mx, axis) + np.log(np.sum(np.exp(a - mx), axis=axis))


class NestedQuad(_Params):
    """Adaptive (or, adapt="none", plain) Gauss-Hermite quadrature of a nested GLMM."""

    method = "agq"

    def __init__(self, data: MultiData, fam: Family, structures: list[Structure],
                 points: int = 7, adapt: str = "mv"):
        super().__init__(data, fam, structures)
        lay = NestedLayout(data.blocks)
        self.lay = lay
        o = lay.order
        self.y, self.X, self.off = data.y[o], data.X[o], data.offset[o]
        self.tr = data.trials[o]
        self.Z = [np.asarray(b.Z, dtype=float).reshape(data.n, -1)[o] for b in data.blocks]
        self.rules = [_rule(points, st.q) for st in structures]
        self.adapt_kind = adapt
        self.adapt = None
        self.freeze = False
        self.points = points

    def init_adapt(self, laplace: LaplaceMulti | None, thetas):
        """Start the adaptation (one (mu, S) per group of every level and, below the top, per
        combination of its ancestors' nodes: _conditional_moments) at the Laplace
        approximation (_gaussian_start), or at the prior for plain quadrature."""
        if laplace is not None and self.adapt_kind != "none":
            self.adapt = self._gaussian_start(laplace, thetas)
            return
        mus, Ss = [], []
        A = 1
        for k, st in enumerate(self.sts):
            G = len(self.lay.starts[k])
            mus.append(np.zeros((G, A, st.q)))
            Ss.append(np.broadcast_to(np.eye(st.q), (G, A, st.q, st.q)).copy())
            A *= len(self.rules[k][1])
        self.adapt = (mus, Ss)

    def _gaussian_start(self, laplace: LaplaceMulti, thetas):
        """The Gaussian approximation at the Laplace modes u^ (u = Lambda^-1 b), level by level
        from the top: given its ancestors' effects, a group's u has precision
        H_kk = Lambda_k' Z_g' W Z_g Lambda_k + I (W = -l'' at the modes) and mean
        u^_k - H_kk^-1 sum_j H_kj (u_j - u^_j), evaluated at the ancestors' nodes. Scales of the
        right order matter: nodes spread far wider than the posterior put all its mass on one
        node, and the mean-variance iteration recovers from that only slowly."""
        lay = self.lay
        modes, As = [], []
        for k, st in enumerate(self.sts):
            lam = full_lam(st, st.lam(thetas[k]))
            modes.append(laplace.b[k][lay.orig[k]] @ np.linalg.pinv(lam).T)
            As.append(self.Z[k] @ lam)
        W = np.maximum(-laplace._at_modes[3][2][lay.order], 0.0)     # -l'' at the modes
        mus, Ss, Us = [], [], []
        dims = []
        for k, st in enumerate(self.sts):
            runs, G, q = lay.runs[k], len(lay.starts[k]), st.q
            Hkk = np.zeros((G, q, q))
            np.add.at(Hkk, runs, W[:, None, None] * As[k][:, :, None] * As[k][:, None, :])
            Hinv = np.linalg.inv(Hkk + np.eye(q))
            na = int(np.prod(dims, dtype=int))
            mu = np.broadcast_to(modes[k][:, None, :], (G, na, q)).copy()
            for j in range(k):
                anc = _ancestor(lay, k, j)
                Hkj = np.zeros((G, q, self.sts[j].q))
                np.add.at(Hkj, runs, W[:, None, None] * As[k][:, :, None] * As[j][:, None, :])
                qj = self.sts[j].q
                dev = Us[j][anc] - modes[j][anc][:, None, None, :]       # (G, A_j, K_j, q_j)
                dev = dev.reshape((G,) + tuple(dims[:j + 1]) + (1,) * (k - 1 - j) + (qj,))
                dev = np.broadcast_to(dev, (G,) + tuple(dims[:k]) + (qj,))
                mu -= np.einsum("gqr,gar->gaq", Hinv @ Hkj, dev.reshape(G, na, qj))
            S = np.broadcast_to(np.linalg.cholesky(Hinv)[:, None], (G, mu.shape[1], q, q)).copy()
            mus.append(mu)
            Ss.append(S)
            Us.append(mu[:, :, None, :] + np.einsum("gaqr,kr->gakq", S, self.rules[k][0]))
            dims.append(len(self.rules[k][1]))
        return mus, Ss

    # the integral -------------------------------------------------------------------------
    def _evaluate(self, beta, thetas, mus, Ss, want: bool):
        lay = self.lay
        L = len(self.sts)
        n = len(self.y)
        xb = self.X @ beta + self.off
        Us, cs, hs, As = [], [], [], []
        for k, st in enumerate(self.sts):
            nodes, logw = self.rules[k]
            lam = full_lam(st, st.lam(thetas[k]))
            # nodes (G, ancestors' node combinations, K, q): u = mu + S t given the ancestors
            U = mus[k][:, :, None, :] + np.einsum("gaqr,kr->gakq", Ss[k], nodes)
            A = self.Z[k] @ lam
            dims = [len(r[1]) for r in self.rules[:k + 1]]
            c = _at_rows(A, U, lay.runs[k]).reshape([n] + dims)
            logdetS = _logdet_tri(Ss[k])
            h = (logw[None, None, :] + 0.5 * np.sum(nodes ** 2, axis=1)[None, None, :]
                 + logdetS[:, :, None] - 0.5 * np.sum(U * U, axis=3) - 0.5 * st.q * LOG2PI)
            Us.append(U)
            cs.append(c.reshape(c.shape + (1,) * (L - 1 - k)))
            hs.append(h.reshape([h.shape[0]] + dims))
            As.append(A)
        eta = xb.reshape((n,) + (1,) * L)
        for k in range(L):
            eta = eta + cs[k]
        full_shape = eta.shape
        l, l1 = self.fam.first(self.y[:, None], eta.reshape(n, -1), self.tr[:, None])
        l = l.reshape(full_shape)
        T = np.add.reduceat(l, lay.starts[L - 1], axis=0) if n else l
        conds = [None] * L
        logI = None
        for k in range(L - 1, -1, -1):
            T = T + hs[k]
            logI = _lse(T, axis=-1)
            if k == 0:
                self._top = logI
            if want:
                conds[k] = np.exp(T - logI[..., None])
            if k > 0:
                T = np.add.reduceat(logI, lay.child_starts[k], axis=0)
        ll = float(np.sum(logI)) + self.const
        if not want:
            return ll, None
        P = [conds[0]]
        for k in range(1, L):
            P.append(P[k - 1][lay.parent[k]][..., None] * conds[k])
        return ll, (P, Us, l1.reshape(full_shape), As, conds)

    @staticmethod
    def _conditional_moments(conds, Us):
        """Each level's posterior mean and Cholesky factor of the covariance given every
        combination of its ancestors' nodes (the top level's: marginal), from the nested
        integral's conditional weights: the lower levels' nodes follow the upper node.
        One (mu, S) per region for all nation nodes leaves a region's nodes far from its
        posterior wherever the nation's effect is away from its mean; the quadrature
        is then wrong by units of log likelihood and the fit drifts instead of converging."""
        mus, Ss = [], []
        for w, U in zip(conds, Us):
            w = w.reshape(U.shape[:3])
            mu = np.einsum("gak,gakq->gaq", w, U)
            D = U - mu[:, :, None, :]
            cov = np.einsum("gak,gakq,gakr->gaqr", w, D, D) + 1e-12 * np.eye(U.shape[3])
            mus.append(mu)
            Ss.append(np.linalg.cholesky(cov))
        return mus, Ss

    @staticmethod
    def _marginal_moments(P, Us):
        """Each level's posterior mean and covariance over all levels' effects (the EB means
        and their variances), from the joint weights of the level's and its ancestors' nodes."""
        mus, covs = [], []
        for w, U in zip(P, Us):
            w = w.reshape(U.shape[:3])
            mu = np.einsum("gak,gakq->gq", w, U)
            m2 = np.einsum("gak,gakq,gakr->gqr", w, U, U)
            mus.append(mu)
            covs.append(m2 - mu[:, :, None] * mu[:, None, :])
        return mus, covs

    def integrate(self, beta, thetas, want_grad: bool):
        if self.adapt is None:
            lap = None
            if self.adapt_kind == "mv":        # the Laplace modes here: a far better start
                lap = LaplaceMulti(self.d, self.fam, self.sts)
                lap.modes(beta, lap.lams(thetas))
            self.init_adapt(lap, thetas)
        mus, Ss = self.adapt
        if self.adapt_kind == "mv" and not self.freeze:
            for _ in range(50):
                _, parts = self._evaluate(beta, thetas, mus, Ss, True)
                mn, Sn = self._conditional_moments(parts[4], parts[1])
                done = all(np.max(np.abs(a - b), initial=0.0) < 1e-8 for a, b in zip(mn + Sn, mus + Ss))
                mus, Ss = mn, Sn
                if done:
                    break
            self.adapt = (mus, Ss)
        return self._evaluate(beta, thetas, mus, Ss, want_grad)

    def value(self, x) -> float:
        beta, thetas = self.split(x)
        return self.integrate(beta, thetas, False)[0]

    def _fixed_node_grad(self, beta, thetas, parts):
        P, Us, l1, As, _ = parts
        lay = self.lay
        L = len(self.sts)
        R = P[L - 1][lay.runs[L - 1]] * l1                    # (n, K_0, ..., K_L-1)
        n = R.shape[0]
        g_beta = self.X.T @ R.reshape(n, -1).sum(axis=1)
        g_th = []
        for k, st in enumerate(self.sts):
            axes = tuple(range(k + 2, L + 1))
            Rk = R.sum(axis=axes) if axes else R                 # (n, K_k)
            for B in st.basis:
                Bf = B[0, 0] * np.eye(st.q) if B.shape[0] == 1 and st.q > 1 else B
                zb = _at_rows(self.Z[k] @ Bf, Us[k], lay.runs[k]).reshape(Rk.shape)
                g_th.append(float(np.sum(Rk * zb)))
        return np.concatenate([g_beta, np.array(g_th)])

    def value_grad(self, x):
        beta, thetas = self.split(x)
        ll, parts = self.integrate(beta, thetas, True)
        g = self._fixed_node_grad(beta, thetas, parts)
        ne = self.fam.n_extra
        if not ne:
            return ll, g
        frz, self.freeze = self.freeze, True
        ge = []
        for k in range(ne):
            h = 1e-5 * max(1.0, abs(x[len(x) - ne + k]))
            vals = []
            for sgn in (1.0, -1.0):
                xe = np.array(x, dtype=float)
                xe[len(x) - ne + k] += sgn * h
                vals.append(self.value(xe))
            ge.append((vals[0] - vals[1]) / (2 * h))
        self.freeze = frz
        self.split(x)
        return ll, np.concatenate([g, np.array(ge)])

    def posterior(self, x):
        """Posterior means and covariances of u per level at x (adapted), in layout order."""
        beta, thetas = self.split(x)
        frz, self.freeze = self.freeze, False
        _, parts = self.integrate(beta, thetas, True)
        self.freeze = frz
        return self._marginal_moments(parts[0], parts[1])


# --------------------------------------------------------------------------- fitting
@dataclass
class MultiFit:
    beta: np.ndarray
    thetas: list
    ll: float
    converged: bool
    iterations: int
    covs: list                         # each level's Psi (compact 1 x 1 for identity blocks)
    x: np.ndarray
    gradient: np.ndarray
    extra: dict = field(default_factory=dict)


def make_problem(data: MultiData, fam: Family, structures, method: str, points: int = 7,
                 adapt: str = "mv"):
    if method == "laplace":
        return LaplaceMulti(data, fam, structures)
    if not data.nested:
        raise ValueError("quadrature needs nested levels")
    return NestedQuad(data, fam, structures, points, adapt)


def _adaptive_newton(prob: "NestedQuad", x0, maxiter: int, callback):
    """engine.glmm's adaptive iterations (Newton steps on the fixed-node objective with step
    halving, then re-adaptation at the new estimates, until step and gradient vanish; one log
    line each), with the finite-difference Hessian (one gradient per parameter, the costly part
    on n x K^levels nodes) recomputed only in the first two iterations and after a step that
    did not do its work (halved, or the gradient not at least halved): in between, the
    previous one serves, as the steps shrink toward the fixed point."""
    from .lmm import _fd_hessian
    x = np.asarray(x0, dtype=float)
    prob.freeze = False
    prob.dev_grad(x)                      # adapt at the start
    nit = 0
    Hm, gprev, fresh = None, None, True
    for it in range(min(maxiter, 100)):
        prob.freeze = True
        d, g = prob.dev_grad(x)
        gnorm = float(np.max(np.abs(g)))
        if Hm is None or fresh or it < 2 or (gprev is not None and gnorm > 0.5 * gprev):
            Hm = _fd_hessian(lambda z: prob.dev_grad(z)[1], x, g)
        w, U = np.linalg.eigh(Hm)
        step = -U @ ((U.T @ g) / np.maximum(np.abs(w), 1e-8 * max(1.0, np.abs(w).max())))
        t = 1.0
        for _h in range(30):
            dn, _ = prob.dev_grad(x + t * step)
            if dn <= d + 1e-12 * abs(d):
                break
            t *= 0.5
        fresh = t < 1.0
        gprev = gnorm
        x = x + t * step
        nit += 1
        prob.freeze = False
        prob.dev_grad(x)                  # re-adapt; also sets prob.last for the log
        if callback is not None:
            callback(x)
        if np.max(np.abs(t * step)) < 1e-7 and gnorm < 1e-4:
            break
    prob.freeze = False
    return x, nit


def _start_inverse_hessian(prob: LaplaceMulti, x0) -> np.ndarray | None:
    """BFGS's first inverse Hessian of the deviance: (2 X'WX)^-1 for b (the fixed-effects
    model's information at the start) and, for the variance and the family's own parameters,
    one central difference of the gradient each (their curvatures differ by orders of
    magnitude with the numbers of groups, which a common scale handles badly). None when a
    curvature is not positive (BFGS then sizes its identity itself)."""
    d, p = prob.d, prob.p
    x0 = np.asarray(x0, dtype=float)
    with np.errstate(all="ignore"):
        beta, _ = prob.split(x0)
        l2 = prob.fam.derivs(d.y, d.X @ beta + d.offset, d.trials)[2]
        W = np.abs(l2)
        H0 = np.zeros((len(x0), len(x0)))
        try:
            H0[:p, :p] = np.linalg.inv(2.0 * d.X.T @ (W[:, None] * d.X))
        except np.linalg.LinAlgError:
            return None
        modes = [b.copy() for b in prob.b]
        for j in range(p, len(x0)):
            step = 1e-4 * max(1.0, abs(x0[j]))
            gs = []
            for sgn in (1.0, -1.0):
                xe = x0.copy()
                xe[j] += sgn * step
                prob.b = [b.copy() for b in modes]
                gs.append(prob.dev_grad(xe)[1][j])
            curv = (gs[0] - gs[1]) / (2 * step)
            if not np.isfinite(curv) or curv <= 0:
                prob.b = modes
                return None
            H0[j, j] = 1.0 / curv
        prob.b = modes
        prob.split(x0)
    return H0 if np.all(np.isfinite(H0)) else None


def fit_problem(prob, x0, *, maxiter: int = 300, callback=None, report=None) -> MultiFit:
    """Maximum likelihood from x0: BFGS on the Laplace value and its gradient, or for
    quadrature the Laplace solution first and then engine.glmm's adaptive Newton steps on the
    fixed-node objective."""
    x0 = np.asarray(x0, dtype=float)
    d0, _ = prob.dev_grad(x0) if prob.method == "laplace" else (-2 * prob.loglik(x0), None)
    if not np.isfinite(d0):
        raise np.linalg.LinAlgError("initial values not feasible")
    if report is not None:
        prob.last = (x0, d0)
        report(x0)
    if prob.method == "laplace":
        res = minimize_bfgs(prob.dev_grad, x0, gtol=1e-5, maxiter=maxiter, callback=callback,
                            H0=_start_inverse_hessian(prob, x0))
        x, nit = res.x, res.nit
        lap = prob
    else:
        lap = LaplaceMulti(prob.d, prob.fam, prob.sts)
        res = minimize_bfgs(lap.dev_grad, x0, gtol=1e-4, maxiter=maxiter,
                            H0=_start_inverse_hessian(lap, x0))
        start = res.x if np.all(np.isfinite(res.x)) else x0
        lap.value(start)
        prob.init_adapt(lap, prob.split(start)[1])
        x, nit = _adaptive_newton(prob, start, maxiter, callback)
    dev, g = prob.dev_grad(x)
    beta, thetas = prob.split(x)
    covs = []
    for st, th in zip(prob.sts, thetas):
        lam = st.lam(th)
        covs.append(lam @ lam.T)
    return MultiFit(beta=beta.copy(), thetas=[t.copy() for t in thetas], ll=float(-0.5 * dev),
                    converged=bool(np.all(np.isfinite(g)) and np.abs(g).max() < 1e-2),
                    iterations=nit, covs=covs, x=np.array(x, dtype=float), gradient=g,
                    extra={"nfev": prob.nfev, "problem": prob, "laplace": lap})


# --------------------------------------------------------------------------- Stata metric
def _theta_of_stata(st: Structure, s: np.ndarray) -> np.ndarray:
    psi, _ = st.cov_from_stata(s)
    return st.theta_from_relcov(psi)


def stata_point(fit: MultiFit, structures) -> np.ndarray:
    """(b, s of each level (ln sd, atanh corr), the family's own parameters)."""
    parts = [fit.beta]
    for st, cov in zip(structures, fit.covs):
        c = cov[:1, :1] if st.kind == "identity" else cov
        parts.append(st.stata_from_cov(c))
    ne = len(fit.x) - len(fit.beta) - sum(len(t) for t in fit.thetas)
    parts.append(fit.x[len(fit.x) - ne:] if ne else np.zeros(0))
    return np.concatenate(parts)


def stata_sizes(structures) -> list[int]:
    return [len(st.stata_from_cov(np.eye(1 if st.kind == "identity" else st.q)))
            for st in structures]


def to_optimizer(s_point, p: int, structures, ne: int) -> np.ndarray:
    """The optimiser's x for a Stata-metric point."""
    parts, k = [s_point[:p]], p
    for st, m in zip(structures, stata_sizes(structures)):
        parts.append(_theta_of_stata(st, s_point[k:k + m]))
        k += m
    parts.append(s_point[k:k + ne])
    return np.concatenate(parts)


def _adapt_at(fit: MultiFit, x) -> None:
    """Quadrature only: adapt the nodes afresh (from the Laplace modes) at x, the solution
    written in the Stata metric. The optimiser's Lambda may differ from it in sign (an
    identity level's -sd has the same likelihood as +sd), and nodes adapted in u = Lambda^-1 b
    for one sign are the mirror image of the other's: held fixed across that change they
    would make the derivatives taken at fixed nodes (the information, the scores) wrong."""
    prob, lap = fit.extra["problem"], fit.extra.get("laplace")
    if prob.method == "laplace" or lap is None or np.allclose(x, fit.x, rtol=1e-12, atol=0.0):
        return
    with np.errstate(all="ignore"):
        lap.value(x)
        prob.init_adapt(lap, prob.split(x)[1])
        prob.freeze = False
        prob.value(x)


def observed_vcov(fit: MultiFit, structures, h: float = 1e-4) -> np.ndarray | None:
    """Inverse observed information in the Stata metric (b, ln sd / atanh corr, own
    parameters): central differences of the exact gradient (Laplace) or of the fixed-node
    gradient (quadrature, nodes held at the solution's adaptation) mapped to the Stata metric by
    the chain rule; second differences of the value where the gradient is itself numerical
    (a crossed remainder held sparse). A generalized inverse when a variance sits at zero; None
    when nothing is left."""
    prob = fit.extra["problem"]
    p = len(fit.beta)
    ne = prob.fam.n_extra
    s0 = stata_point(fit, structures)
    k = len(s0)
    b_saved = [b.copy() for b in prob.b] if hasattr(prob, "b") else None
    sizes = stata_sizes(structures)
    _adapt_at(fit, to_optimizer(s0, p, structures, ne))

    def restore():
        if b_saved is not None:
            prob.b = [b.copy() for b in b_saved]

    def f(s):
        restore()
        return prob.loglik(to_optimizer(s, p, structures, ne))

    def grad(s):
        restore()
        x = to_optimizer(s, p, structures, ne)
        with np.errstate(all="ignore"):
            _, g = prob.value_grad(x)
        parts, ks, kx = [g[:p]], p, p
        for st, m in zip(structures, sizes):
            J = np.empty((st.m, m))
            for j in range(m):
                e = np.zeros(m)
                e[j] = 1e-6
                J[:, j] = (_theta_of_stata(st, s[ks:ks + m] + e)
                           - _theta_of_stata(st, s[ks:ks + m] - e)) / 2e-6
            parts.append(J.T @ g[kx:kx + st.m])
            ks += m
            kx += st.m
        parts.append(g[kx:])
        return np.concatenate(parts)

    prob.freeze = True
    try:
        steps = np.array([h * max(1.0, abs(v)) for v in s0])
        Hm = np.empty((k, k))
        if prob.method == "laplace" and prob._at_modes[0].sparse:
            _value_hessian(f, s0, steps, Hm)
        else:
            for i in range(k):
                e = np.zeros(k)
                e[i] = steps[i]
                Hm[:, i] = (grad(s0 + e) - grad(s0 - e)) / (2 * steps[i])
        info = -0.5 * (Hm + Hm.T)
        if not np.all(np.isfinite(info)):
            return None
        w, U = np.linalg.eigh(info)
        keep = w > 1e-10 * max(w.max(), 1.0)
        if not keep.any():
            return None
        V = (U[:, keep] / w[keep]) @ U[:, keep].T
        return 0.5 * (V + V.T)
    except np.linalg.LinAlgError:
        return None
    finally:
        prob.freeze = False
        restore()
        prob.split(fit.x)


def _value_hessian(f, s0, steps, Hm) -> None:
    """Second differences of f at s0 into Hm."""
    k = len(s0)
    f0 = f(s0)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = steps[i]
        Hm[i, i] = (f(s0 + ei) - 2 * f0 + f(s0 - ei)) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = steps[j]
            v = f(s0 + ei + ej) - f(s0 + ei - ej) - f(s0 - ei + ej) + f(s0 - ei - ej)
            Hm[i, j] = Hm[j, i] = v / (4 * steps[i] * steps[j])


# --------------------------------------------------------------------------- robust VCE
def _laplace_top(prob: LaplaceMulti, x) -> np.ndarray:
    """Each top-level group's part of the nested Laplace value (H is block-diagonal by top
    group, so its log-determinant splits over the chain's per-group Schur blocks)."""
    prob.value(x)
    ss, ev, eta, ders, xb, pinvs = prob._at_modes
    top = np.asarray(prob.d.blocks[0].group, dtype=np.int64)
    G0 = int(top.max()) + 1
    out = np.bincount(top, weights=ders[0], minlength=G0)
    for k, lev in enumerate(ss.chain):
        Winv = ev.cache[k][4]
        ld = -np.linalg.slogdet(Winv)[1]
        top_of = np.zeros(lev.G, dtype=np.int64)
        top_of[lev.codes] = top
        out -= 0.5 * np.bincount(top_of, weights=ld, minlength=G0)
    for blk, b, P, st in zip(prob.d.blocks, prob.b, pinvs, prob.sts):
        u = b @ full_lam(st, P).T
        top_of = np.zeros(b.shape[0], dtype=np.int64)
        top_of[np.asarray(blk.group, dtype=np.int64)] = top
        out -= 0.5 * np.bincount(top_of, weights=np.sum(u * u, axis=1), minlength=G0)
    return out


def _quad_top(prob: NestedQuad, x) -> np.ndarray:
    """Each top-level group's log integral at the held adaptation, by its code."""
    beta, thetas = prob.split(x)
    mus, Ss = prob.adapt
    prob._evaluate(beta, thetas, mus, Ss, False)
    out = np.zeros(int(np.max(prob.d.blocks[0].group)) + 1)
    out[prob.lay.orig[0]] = prob._top
    return out


def group_scores(fit: MultiFit, structures, h: float = 1e-5) -> np.ndarray:
    """Per top-level group, the derivative of its log likelihood with respect to the
    Stata-metric parameters (b, ln sd / atanh corr, the family's own) by central differences
    of the groups' contributions (Laplace: modes restarted from the solution's; quadrature:
    nodes held at the solution's adaptation): the scores vce(robust) sums. (G_top x k)."""
    prob = fit.extra["problem"]
    if not prob.d.nested:
        raise ValueError("scores need nested levels")
    p = len(fit.beta)
    ne = prob.fam.n_extra
    xs = stata_point(fit, structures)
    saved = [b.copy() for b in prob.b] if hasattr(prob, "b") else None
    part = _laplace_top if prob.method == "laplace" else _quad_top
    _adapt_at(fit, to_optimizer(xs, p, structures, ne))

    def contrib(s):
        if saved is not None:
            prob.b = [b.copy() for b in saved]
        with np.errstate(all="ignore"):
            return part(prob, to_optimizer(s, p, structures, ne))

    prob.freeze = True
    try:
        cols = []
        for j in range(len(xs)):
            step = h * max(1.0, abs(xs[j]))
            e = np.zeros(len(xs))
            e[j] = step
            cols.append((contrib(xs + e) - contrib(xs - e)) / (2 * step))
        return np.column_stack(cols)
    finally:
        prob.freeze = False
        if saved is not None:
            prob.b = saved
        prob.split(fit.x)


# --------------------------------------------------------------------------- predictions
@dataclass
class MultiModel:
    """What predict, estat and replay need after a multi-level GLMM."""

    data: MultiData
    family: Family
    structures: list
    fit: MultiFit
    blocks: list
    method: str
    design: object = None
    value_labels: dict = field(default_factory=dict)


def posterior(model: MultiModel, *, modes: bool = False, points: int = 7):
    """Empirical Bayes predictions b = Lambda u per level, as arrays (G_k, q_k) indexed by the
    level's group codes, with their standard errors. Posterior means and SDs by the nested
    adaptive quadrature (Stata's ebmeans) for nested models fitted by quadrature; otherwise
    (ebmodes, Laplace fits, crossed models) the joint conditional modes, with SEs from the
    diagonal of Lambda H^-1 Lambda' at the modes."""
    fit = model.fit
    sts = model.structures
    lap = LaplaceMulti(model.data, model.family, sts)
    beta, thetas = lap.split(fit.x)
    lams = lap.lams(thetas)
    with np.errstate(all="ignore"):
        bs, _, _, _ = lap.modes(beta, lams)
        if modes or model.method == "laplace" or not model.data.nested:
            xb = model.data.X @ beta + model.data.offset
            eta = xb + model.data.zb(bs)
            ders = model.family.derivs(model.data.y, eta, model.data.trials)
            ss, ev = lap._weighted(eta, xb, ders, lams)
            var = blocked.inverse_diag(ss, ev)
            return bs, [np.sqrt(np.clip(v, 0.0, None)) for v in var]
        quad = NestedQuad(model.data, model.family, sts, points, "mv")
        lap.b = bs
        quad.init_adapt(lap, thetas)
        mus, covs = quad.posterior(fit.x)
    out_b, out_se = [], []
    for k, st in enumerate(sts):
        lam = full_lam(st, st.lam(thetas[k]))
        G = int(np.max(model.blocks[k].group)) + 1
        b = np.zeros((G, st.q))
        se = np.zeros((G, st.q))
        orig = quad.lay.orig[k]
        b[orig] = mus[k] @ lam.T
        cb = lam[None] @ covs[k] @ lam.T[None]
        se[orig] = np.sqrt(np.clip(np.diagonal(cb, axis1=1, axis2=2), 0.0, None))
        out_b.append(b)
        out_se.append(se)
    return out_b, out_se
