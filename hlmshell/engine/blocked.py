"""Blocked Cholesky factorisation of a mixed model's augmented cross products, and its adjoint.

Why: every likelihood of a linear mixed model (and every PIRLS step of a generalised one) needs

    Omega(Lambda) = [Z Lambda, X, y]' W [Z Lambda, X, y] + diag(I, 0)

factorised: log|Lambda'Z'WZ Lambda + I| and the Schur complement [X y]' H^-1 [X y]. Z has one
column per group and random effect, so Omega is huge but very sparse. Following MixedModels.jl,
its blocks are eliminated in an order that keeps them small (engine.suffstats builds the blocks
in one pass over the data and explains the order):

  1. the chain: the term with the most groups, then the terms containing it, innermost first.
     Its diagonal blocks are block-diagonal (one q x q block per group), eliminated for all
     groups at once (batched closed-form or LAPACK inverses); the Schur complements of a
     nested level are again block-diagonal per parent group, and everything touching the
     global columns [Z_R X y] is summed into one dense gw x gw matrix by a single product.
  2. the remainder R (terms crossed with the chain, m columns): one dense Cholesky of
     Lambda_R' S_RR Lambda_R + I, where S is that global matrix. This block is dense in general:
     eliminating the chain fills it in (every pair of levels seen in a common chain group), and
     for randomly crossed factors no ordering avoids that (a fill-reducing sparse LU of a
     10^4-level remainder keeps ~3/4 of the dense factor and is several times slower).
  3. [X y]: what is left is M0 = [X y]' H^-1 [X y] (H = V / sigma^2).

The chain's coupling to the remainder is a dense (G, q, m) array when that is small, and a CSR
matrix (suffstats "sparse mode", a one-column chain level with many groups) when not: its
products are then sparse (Br' Pk Br) and the adjoint reads the remainder's m x m adjoint only
at the pairs of columns that share a chain group. Nothing of size n x L (L levels of a factor)
is ever formed; the one dense object that grows with the levels is the m x m remainder (its
matrix, factor and inverse: about four of them at the peak of a gradient).

Interface (all on a SuffStats from suffstats.build(y, X, blocks, weights=None, frequency=True);
weights multiply every cross product, frequency says whether they count observations):

  ev = forward(ss, lams)       lams: one q x q relative factor per level (ss.levels, blocks in
                               depth order). ev.logdet = log|Lambda'Z'WZ Lambda + I|,
                               ev.M0 = [X y]'H^-1[X y] ((p+1) x (p+1)), ev.beta (GLS fixed
                               effects), ev.r2 (weighted residual sum of squares), ev.Q, ev.Qc,
                               ev.logdetQ (X'H^-1X, its Cholesky factor and log-determinant).
  bars = backward(ss, ev, M0bar)   exact gradient of ev.logdet + g(M0) for a symmetric
                               M0bar = dg/dM0: one q x q matrix per level, d/dLambda_k. For an
                               `R.var` level only the diagonal is filled (the derivative per
                               indicator; an identity structure needs just its trace).
  ev_modes = modes(ss, ev, beta=None)   conditional modes b = Lambda u,
                               u = (Lambda'Z'WZ Lambda + I)^-1 Lambda'Z'W(y - X beta), per level
                               an array (G_k, q_k) in the level's own group numbering (an
                               `R.var` level: (G_k, q_k) with the level's values on its columns).
  solve(ss, ev, V)             Lambda A^-1 Lambda'Z'W [X y] V for a (p+1) x r matrix V, per
                               level (G_k, q_k, r) (modes is V = [-beta; 1]; V = [I; 0] gives
                               the K of the BLUPs' standard errors).
  inverse_diag(ss, ev)         diagonal of Lambda A^-1 Lambda' per level, (G_k, q_k): the
                               conditional variances of the effects over sigma^2 (a selected
                               inverse, from the adjoint of log|A|).
  linalg_core.profiled_terms / unprofiled_terms turn (ev.logdet, M0) into deviances.
  A level's factor may be passed as 1 x 1 for an identity level (lambda I); its gradient is
  then the 1 x 1 trace. No L x L matrix is needed for an `R.var` level that way.

Users: the linear mixed engine (lmm, through linalg_core.forward/backward), generalised models
(PIRLS: build with the working weights W, forward, modes; the Laplace deviance uses ev.logdet)
and residual-variance structures (weights 1/sigma_i^2 per observation or group).
"""
from __future__ import annotations

import numpy as np

from .suffstats import SuffStats, Term


def _T(a):
    return np.swapaxes(a, -1, -2)


def inv_logdet(W: np.ndarray):
    """Batched inverse and log-determinant of SPD matrices (G, q, q); closed forms for q <= 3,
    where LAPACK's per-matrix overhead would dominate."""
    q = W.shape[-1]
    if q == 1:
        w = W[:, 0, 0]
        if np.any(w <= 0):
            raise np.linalg.LinAlgError("not positive definite")
        return (1.0 / w)[:, None, None], float(np.log(w).sum())
    if q == 2:
        return _inv2(W)
    if q == 3:
        return _inv3(W)
    sign, ld = np.linalg.slogdet(W)
    if np.any(sign <= 0):
        raise np.linalg.LinAlgError("not positive definite")
    return np.linalg.inv(W), float(ld.sum())


def _inv2(W):
    a, b, d = W[:, 0, 0], W[:, 0, 1], W[:, 1, 1]
    det = a * d - b * b
    if np.any(det <= 0) or np.any(a <= 0):
        raise np.linalg.LinAlgError("not positive definite")
    inv = np.empty_like(W)
    inv[:, 0, 0] = d / det
    inv[:, 1, 1] = a / det
    inv[:, 0, 1] = inv[:, 1, 0] = -b / det
    return inv, float(np.log(det).sum())


def _inv3(W):
    a, b, c = W[:, 0, 0], W[:, 0, 1], W[:, 0, 2]
    d, e, f = W[:, 1, 1], W[:, 1, 2], W[:, 2, 2]
    A = d * f - e * e
    B = c * e - b * f
    C = b * e - c * d
    det = a * A + b * B + c * C
    if np.any(det <= 0) or np.any(a <= 0) or np.any(a * d - b * b <= 0):
        raise np.linalg.LinAlgError("not positive definite")
    inv = np.empty_like(W)
    inv[:, 0, 0] = A
    inv[:, 0, 1] = inv[:, 1, 0] = B
    inv[:, 0, 2] = inv[:, 2, 0] = C
    inv[:, 1, 1] = a * f - c * c
    inv[:, 1, 2] = inv[:, 2, 1] = b * c - a * e
    inv[:, 2, 2] = a * d - b * b
    inv /= det[:, None, None]
    return inv, float(np.log(det).sum())


class Evaluation:
    """Forward quantities at one Lambda (kept for the backward pass and the modes)."""

    __slots__ = ("lams", "cache", "rcache", "logdet", "M0", "Q", "Qc", "beta", "r2", "logdetQ")


def term_lam(t: Term, lams) -> np.ndarray:
    """The relative factor of one term: its level's, or the level's scalar for an `R.var`
    (a 1 x 1 factor stands for lambda I)."""
    lam = np.asarray(lams[t.level], dtype=float)
    if lam.shape == (1, 1):
        return lam if t.q == 1 else lam[0, 0] * np.eye(t.q)
    if t.diag is not None:
        c = int(t.diag[0]) if len(t.diag) else 0
        return lam[c:c + 1, c:c + 1]
    return lam[t.col:t.col + t.q, t.col:t.col + t.q]


def _rmul(B: np.ndarray, M: np.ndarray) -> np.ndarray:
    """B_g M for every group: one matrix product on the stacked rows."""
    G, a, c = B.shape
    return (B.reshape(G * a, c) @ M).reshape(G, a, M.shape[1])


def _lmul(M: np.ndarray, B: np.ndarray) -> np.ndarray:
    """M B_g for every group, as (B_g' M')': one matrix product (a transposed view)."""
    return _T(_rmul(np.ascontiguousarray(_T(B)), M.T))


def _sandwich(lam: np.ndarray, A: np.ndarray) -> np.ndarray:
    """lam' A_g lam + I for every group."""
    q = lam.shape[0]
    if q == 1:
        W = A * (lam[0, 0] * lam[0, 0])
    else:
        W = np.ascontiguousarray(_lmul(lam.T, _rmul(A, lam)))
    W[:, range(q), range(q)] += 1.0
    return W


# --------------------------------------------------------------------------- forward
def _scaled_inverse(lam: np.ndarray, Winv: np.ndarray) -> np.ndarray:
    """Pk_g = lam W_g^-1 lam' (the elimination's operator in unscaled coordinates)."""
    if lam.shape[0] == 1:
        return Winv * (lam[0, 0] * lam[0, 0])
    return np.ascontiguousarray(_lmul(lam, _rmul(Winv, lam.T)))


def _bmul(P: np.ndarray, B: np.ndarray) -> np.ndarray:
    """P_g B_g for (G, q, q) P; elementwise when q = 1."""
    return P * B if P.shape[1] == 1 else np.matmul(P, B)


def _global_corr(Bg: np.ndarray, Pk: np.ndarray) -> np.ndarray:
    """sum_g Bg_g' Pk_g Bg_g (gw x gw): one product over all groups."""
    G, q, gw = Bg.shape
    if q == 1:
        F = Bg.reshape(G, gw) * np.sqrt(Pk.reshape(G, 1))
        return F.T @ F
    return Bg.reshape(G * q, gw).T @ np.matmul(Pk, Bg).reshape(G * q, gw)


def _sparse_corr(S: np.ndarray, lev, pk: np.ndarray, m: int) -> None:
    """S -= Bg' Pk Bg for a one-column level whose coupling to the remainder is sparse (Br)."""
    Br = lev.Br
    D = Br.copy()
    D.data = D.data * np.repeat(pk, np.diff(Br.indptr))
    RR = (Br.T @ D).tocoo()
    S[RR.row, RR.col] -= RR.data
    Bx = lev.Rwg[:, 0, :]
    PX = Bx * pk[:, None]
    S[:m, m:] -= Br.T @ PX
    S[m:, :m] = S[:m, m:].T
    S[m:, m:] -= Bx.T @ PX


def _chain_forward(ss: SuffStats, lams, ev: Evaluation, S: np.ndarray) -> None:
    """Eliminate the chain, innermost level first, subtracting what it leaves on the global
    columns from S (gw x gw) in place."""
    gw = ss.m + ss.p + 1
    Cgg = None if ss.sparse else np.zeros((gw, gw))
    corr_aa = corr_ag = None
    logdet = 0.0
    K = len(ss.chain)
    ev.cache = [None] * K
    for k in range(K - 1, -1, -1):
        lev = ss.chain[k]
        lam = term_lam(lev.term, lams)
        off = lev.off
        A, Ba, Bg = lev.Rww, lev.Rwa, lev.Rwg
        if corr_aa is not None:
            A = A - corr_aa[:, off:, off:]
            Ba = Ba - corr_aa[:, off:, :off]
            Bg = Bg - corr_ag[:, off:, :]
        Winv, ld = inv_logdet(_sandwich(lam, A))
        logdet += ld
        Pk = _scaled_inverse(lam, Winv)
        if lev.Br is not None:
            _sparse_corr(S, lev, Pk[:, 0, 0], ss.m)
        else:
            Cgg += _global_corr(Bg, Pk)
        if k > 0:
            PBa = _bmul(Pk, Ba)
            Kaa = np.matmul(_T(Ba), PBa)
            Kag = np.matmul(_T(PBa), Bg)
            if corr_aa is not None:
                Kaa += corr_aa[:, :off, :off]
                Kag += corr_ag[:, :off, :]
            corr_aa = np.add.reduceat(Kaa, lev.starts, axis=0)
            corr_ag = np.add.reduceat(Kag, lev.starts, axis=0)
        ev.cache[k] = (lam, A, Ba, Bg, Winv, Pk)
    ev.logdet = logdet
    if Cgg is not None:
        S -= Cgg


def _rlams(ss: SuffStats, lams) -> list:
    return [term_lam(rt.term, lams) for rt in ss.rterms]


def _apply_r(M: np.ndarray, ss: SuffStats, rl: list, trans: bool) -> np.ndarray:
    """Lambda_R' M (trans) or Lambda_R M on the first m rows of M (the rest unchanged)."""
    out = M.copy()
    for rt, lam in zip(ss.rterms, rl):
        t = rt.term
        sl = slice(rt.off, rt.off + t.G * t.q)
        if t.q == 1:
            out[sl] *= lam[0, 0]
        else:
            blk = M[sl].reshape(t.G, t.q, -1)
            out[sl] = np.matmul(lam.T if trans else lam, blk).reshape(t.G * t.q, -1)
    return out


ROWS = 512   # row block of the m x m updates (bounds their temporaries)


def _rvec(ss: SuffStats, rl: list) -> np.ndarray | None:
    """Lambda_R as a vector (one scale per column) when every remainder term has one column."""
    if any(rt.term.q != 1 for rt in ss.rterms):
        return None
    v = np.empty(ss.m)
    for rt, lam in zip(ss.rterms, rl):
        v[rt.off:rt.off + rt.term.G] = lam[0, 0]
    return v


def _remainder_forward(ss: SuffStats, lams, S: np.ndarray, ev: Evaluation) -> np.ndarray:
    """Factor the remainder block of the global matrix S; returns M0."""
    from scipy.linalg import cho_solve, cholesky   # lazy: not needed at start-up

    m = ss.m
    rl = _rlams(ss, lams)
    lv = _rvec(ss, rl)
    if lv is None:
        SRR = _apply_r(_apply_r(S[:m, :m], ss, rl, True).T, ss, rl, True)
        ER = _apply_r(S[:m, m:], ss, rl, True)
    else:
        SRR = S[:m, :m] * lv[:, None]
        SRR *= lv[None, :]
        ER = S[:m, m:] * lv[:, None]
    SRR[np.diag_indices(m)] += 1.0
    L = cholesky(SRR, lower=True, overwrite_a=True, check_finite=False)
    ev.logdet += 2.0 * float(np.log(np.diag(L)).sum())
    U = cho_solve((L, True), ER, check_finite=False)
    ev.rcache = (rl, lv, L, U, S)
    return S[m:, m:] - ER.T @ U


def forward(ss: SuffStats, lams) -> Evaluation:
    """Factorise at relative factors `lams` (one per level, ss.levels order). A level's factor
    may be given as 1 x 1 for an identity level (lambda I), avoiding an L x L matrix."""
    ev = Evaluation()
    ev.lams = lams
    ev.rcache = None
    p, m = ss.p, ss.m
    S = ss.Rgg.copy()
    _chain_forward(ss, lams, ev, S)
    if m <= 2000:
        S = 0.5 * (S + S.T)
    M0 = _remainder_forward(ss, lams, S, ev) if m else S
    M0 = 0.5 * (M0 + M0.T)
    ev.M0 = M0
    Q = M0[:p, :p]
    c = M0[:p, p]
    if p:
        Qc = np.linalg.cholesky(Q)
        beta = np.linalg.solve(Q, c)
        ev.logdetQ = 2.0 * np.log(np.diag(Qc)).sum()
    else:
        Qc = np.zeros((0, 0))
        beta = np.zeros(0)
        ev.logdetQ = 0.0
    ev.Q, ev.Qc, ev.beta = Q, Qc, beta
    ev.r2 = float(M0[p, p] - c @ beta)
    return ev


# --------------------------------------------------------------------------- backward
def _bar_arrays(ss: SuffStats, lams) -> list:
    """Zero gradients, one per level: the level's full q x q, or 1 x 1 for a compact factor."""
    out = []
    for lev, lam in zip(ss.levels, lams):
        lam = np.asarray(lam, dtype=float)
        out.append(np.zeros((1, 1)) if lam.shape == (1, 1) else np.zeros((lev.q, lev.q)))
    return out


def _add_term_bar(bars, t: Term, per_group: np.ndarray, to_term=None) -> None:
    """Add a term's d/dLambda (per group, (G, q, q)) to its level's gradient."""
    bar = bars[t.level]
    if bar.shape == (1, 1):
        bar[0, 0] += float(np.einsum("gaa->", per_group))
    elif t.diag is not None:
        g = np.arange(t.G) if to_term is None else to_term
        d = t.diag[g]
        np.add.at(bar, (d, d), per_group[:, 0, 0])
    else:
        sl = slice(t.col, t.col + t.q)
        bar[sl, sl] += per_group.sum(axis=0)


def _cholesky_inverse(L: np.ndarray) -> np.ndarray:
    """(L L')^-1, both triangles, from the lower Cholesky factor (LAPACK potri on a copy)."""
    from scipy.linalg import lapack   # lazy: not needed at start-up

    inv, info = lapack.dpotri(L, lower=1)
    if info:
        raise np.linalg.LinAlgError("not positive definite")
    m = len(inv)
    for i0 in range(0, m, ROWS):                 # mirror the lower triangle, block by block
        i1 = min(i0 + ROWS, m)
        inv[i0:i1, i1:] = inv[i1:, i0:i1].T
        blk = inv[i0:i1, i0:i1]
        inv[i0:i1, i0:i1] = np.tril(blk) + np.tril(blk, -1).T
    return inv


def _remainder_backward(ss: SuffStats, ev: Evaluation, M0bar: np.ndarray, bars):
    """Adjoint of the remainder step: adds the remainder terms' gradients and returns dF/dS as
    its blocks (RR, RX, XX); the RR block reuses the inverse's storage."""
    m = ss.m
    rl, lv, L, U, S = ev.rcache
    RRbar = _cholesky_inverse(L)
    UM = U @ M0bar
    for i0 in range(0, m, ROWS):
        RRbar[i0:i0 + ROWS] += UM[i0:i0 + ROWS] @ U.T
    ERbar = -2.0 * UM
    if lv is None:
        _remainder_bars_general(ss, S, rl, RRbar, ERbar, bars)
        SRR_bar = _apply_r(_apply_r(RRbar, ss, rl, False).T, ss, rl, False)
        return SRR_bar, 0.5 * _apply_r(ERbar, ss, rl, False), M0bar
    d = np.empty(m)
    for i0 in range(0, m, ROWS):
        i1 = min(i0 + ROWS, m)
        d[i0:i1] = (S[i0:i1, :m] * RRbar[i0:i1]) @ lv
    per = 2.0 * d + np.einsum("gj,gj->g", S[:m, m:], ERbar)
    for rt in ss.rterms:
        _add_term_bar(bars, rt.term, per[rt.off:rt.off + rt.term.G, None, None])
    for i0 in range(0, m, ROWS):
        RRbar[i0:i0 + ROWS] *= lv[i0:i0 + ROWS, None] * lv[None, :]
    return RRbar, 0.5 * lv[:, None] * ERbar, M0bar


def _remainder_bars_general(ss: SuffStats, S, rl, RRbar, ERbar, bars) -> None:
    """Remainder terms' gradients when some term has several columns (a small remainder)."""
    m = ss.m
    SL = _apply_r(S[:m, :m], ss, rl, True).T            # S_RR Lambda_R
    SRX = S[:m, m:]
    for rt in ss.rterms:
        t = rt.term
        sl = slice(rt.off, rt.off + t.G * t.q)
        per = 2.0 * np.einsum("gaj,jgb->gab", SL[sl].reshape(t.G, t.q, m), RRbar[:, sl].reshape(m, t.G, t.q))
        per += np.einsum("gaj,gbj->gab", SRX[sl].reshape(t.G, t.q, -1), ERbar[sl].reshape(t.G, t.q, -1))
        _add_term_bar(bars, t, per)


def _full(pieces, m: int) -> np.ndarray:
    """dF/dS's blocks (RR, RX, XX) as one symmetric matrix."""
    RR, RX, XX = pieces
    k = XX.shape[0]
    out = np.empty((m + k, m + k))
    out[:m, :m] = RR
    out[:m, m:] = RX
    out[m:, :m] = RX.T
    out[m:, m:] = XX
    return out


def _sparse_quad(lev, pieces) -> np.ndarray:
    """Bg_g C Bg_g' for a one-column level with a sparse coupling, C given by blocks: the RR
    block is read only at the pairs of columns that share a group."""
    CRR, CRX, CXX = pieces
    g, i, j, v = lev.pairs
    Bx = lev.Rwg[:, 0, :]
    out = np.bincount(g, weights=v * CRR[i, j], minlength=lev.G)
    out += 2.0 * np.einsum("gj,gj->g", lev.Br @ CRX, Bx)
    out += np.einsum("gj,gj->g", Bx @ CXX, Bx)
    return out[:, None, None]


def _quad_forms(Bg: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(Bg_g C Bg_g' for every group, Bg_g C or None when not formed), C symmetric. A small C
    goes through its eigen-decomposition: of low rank (an ML fit's C is rank one) it is cheap."""
    q, gw = Bg.shape[1:]
    if gw <= 32 and q > 1:
        w, U = np.linalg.eigh(C)
        keep = np.abs(w) > 1e-14 * max(np.abs(w).max(), 1e-300)
        T = _rmul(Bg, U[:, keep])
        return np.matmul(T * w[keep], _T(T)), None
    P = _rmul(Bg, C)
    if q == 1:
        return np.einsum("gaj,gaj->ga", P, Bg)[:, :, None], P
    return np.matmul(P, np.ascontiguousarray(_T(Bg))), P


def _pk_bar(Bg, Ba, Pk, Cgg_bar, Kaa_bar, Kag_bar, need_b: bool, Pbar=None):
    """Adjoint of Pk (symmetrised) and, when need_b, of the couplings Ba and Bg."""
    P = None
    if Pbar is None:
        Pbar, P = _quad_forms(Bg, Cgg_bar)
    Bgbar = None
    if need_b:
        Bgbar = 2.0 * _bmul(Pk, _rmul(Bg, Cgg_bar) if P is None else P)
    Babar = None
    if Kaa_bar is not None:
        BaK = np.matmul(Ba, Kaa_bar)
        BaKg = np.matmul(Ba, Kag_bar)
        Pbar = Pbar + np.matmul(BaK, _T(Ba)) + np.matmul(BaKg, _T(Bg))
        if need_b:
            Babar = _bmul(Pk, 2.0 * BaK + np.matmul(Bg, _T(Kag_bar)))
            Bgbar += _bmul(Pk, BaKg)
    return 0.5 * (Pbar + _T(Pbar)), Babar, Bgbar


def _level_backward(lev, cache, Cgg_bar, Kaa_bar, Kag_bar, need_b: bool, need_abar: bool = True,
                    Pbar=None):
    """One chain level: (per-group d/dLambda, adjoint of A, of Ba, of Bg)."""
    lam, A, Ba, Bg, Winv, Pk = cache
    Ps, Babar, Bgbar = _pk_bar(Bg, Ba, Pk, Cgg_bar, Kaa_bar, Kag_bar, need_b, Pbar)
    if lam.shape[0] == 1:
        l0 = lam[0, 0]
        Wbar = Winv - Winv * Winv * (l0 * l0) * Ps
        per = 2.0 * l0 * (Ps * Winv + A * Wbar)
        Abar = Wbar * (l0 * l0)
        return per, Abar, Babar, Bgbar
    WL = _rmul(Winv, lam.T)                              # Winv lam'
    M1 = np.matmul(Ps, _T(WL))                           # Ps lam Winv
    Wbar = Winv - np.matmul(WL, M1)
    AL = _rmul(A, lam)
    if lev.term.diag is None:                            # only the sum over groups is needed
        per = (2.0 * (M1.sum(axis=0) + np.tensordot(AL, Wbar, axes=([0, 2], [0, 1]))))[None]
    else:
        per = 2.0 * (M1 + np.matmul(AL, Wbar))
    Abar = np.ascontiguousarray(_lmul(lam, _rmul(Wbar, lam.T))) if need_abar else None
    return per, Abar, Babar, Bgbar


def _corr_bar(lev, Abar, Babar, Bgbar, Kaa_bar, Kag_bar):
    """Adjoints of the correction that entered this level from the level inside it."""
    G, q, off = lev.G, lev.q, lev.off
    gw = Bgbar.shape[-1]
    Caa = np.empty((G, off + q, off + q))
    Cag = np.empty((G, off + q, gw))
    Caa[:, off:, off:] = -Abar
    Cag[:, off:, :] = -Bgbar
    if off:
        Caa[:, off:, :off] = -0.5 * Babar
        Caa[:, :off, off:] = -0.5 * _T(Babar)
        Caa[:, :off, :off] = Kaa_bar
        Cag[:, :off, :] = Kag_bar
    return Caa, Cag


def _backward(ss: SuffStats, ev: Evaluation, M0bar: np.ndarray, keep: dict | None = None):
    bars = _bar_arrays(ss, ev.lams)
    m = ss.m
    pieces = _remainder_backward(ss, ev, M0bar, bars) if m else (np.zeros((0, 0)), np.zeros((0, ss.p + 1)), M0bar)
    if keep is not None:
        keep["RR"] = pieces[0]
    Cgg_bar = None
    if not ss.sparse:
        Cgg_bar = -_full(pieces, m) if m else -M0bar
    Caa_bar = Cag_bar = None
    K = len(ss.chain)
    for k in range(K):
        lev = ss.chain[k]
        Kaa_bar = Kag_bar = None
        if Caa_bar is not None:
            Kaa_bar = Caa_bar[lev.parent]
            Kag_bar = Cag_bar[lev.parent]
        Pbar = -_sparse_quad(lev, pieces) if lev.Br is not None else None
        per, Abar, Babar, Bgbar = _level_backward(lev, ev.cache[k], Cgg_bar, Kaa_bar, Kag_bar,
                                                  k + 1 < K or (keep is not None and Pbar is None),
                                                  k + 1 < K or keep is not None, Pbar)
        _add_term_bar(bars, lev.term, per, lev.to_term)
        if keep is not None:
            keep[k] = Abar
            keep[("Ba", k)] = Babar       # adjoint of the coupling to the ancestors' columns
            keep[("Bg", k)] = Bgbar       # ... and to the global ones [Z_R X y]
        if k + 1 < K:
            Caa_bar, Cag_bar = _corr_bar(lev, Abar, Babar, Bgbar, Kaa_bar, Kag_bar)
    return bars


def backward(ss: SuffStats, ev: Evaluation, M0bar: np.ndarray) -> list[np.ndarray]:
    """Adjoint of f = log|H| + g(M0) given dg/dM0 (symmetric) -> d f / d Lambda_k per level."""
    return _backward(ss, ev, M0bar)


# --------------------------------------------------------------------------- solves
def solve(ss: SuffStats, ev: Evaluation, V: np.ndarray) -> list[np.ndarray]:
    """Lambda (Lambda'Z'WZ Lambda + I)^-1 Lambda'Z'W [X y] V for V ((p+1) x r): per level
    (G_k, q_k, r) in the level's own group numbering."""
    m = ss.m
    V = np.asarray(V, dtype=float).reshape(ss.p + 1, -1)
    r = V.shape[1]
    out = [np.zeros((lev.ngroups, lev.q, r)) for lev in ss.levels]
    bR = np.zeros((m, r))
    if m:
        rl, U = ev.rcache[0], ev.rcache[3]
        bR = _apply_r(U @ V, ss, rl, False)
        for rt in ss.rterms:
            t = rt.term
            _put(out, t, bR[rt.off:rt.off + t.G * t.q].reshape(t.G, t.q, r), None)
    rhs = np.concatenate([-bR, V], axis=0)
    above = None                      # solutions of the levels outside, per group of the last level
    for k, lev in enumerate(ss.chain):
        Ba, Bg, Pk = ev.cache[k][2], ev.cache[k][3], ev.cache[k][5]
        G, q, gw = Bg.shape
        if lev.Br is not None:
            x = (lev.Br @ rhs[:m] + Bg[:, 0, :] @ rhs[m:])[:, None, :]
        else:
            x = (Bg.reshape(G * q, gw) @ rhs).reshape(G, q, r)
        anc = None
        if k > 0:
            anc = above[lev.parent]
            x -= np.matmul(Ba, anc)
        b = _bmul(Pk, x)
        _put(out, lev.term, b, lev.to_term)
        above = b if anc is None else np.concatenate([anc, b], axis=1)
    return out


def modes(ss: SuffStats, ev: Evaluation, beta=None) -> list[np.ndarray]:
    """Conditional modes b = Lambda u, u = (Lambda'Z'WZ Lambda + I)^-1 Lambda'Z'W(y - X beta)
    (beta: ev.beta by default), per level (G_k, q_k) in the level's group numbering."""
    v = np.r_[-(ev.beta if beta is None else np.asarray(beta, dtype=float)), 1.0]
    return [b[:, :, 0] for b in solve(ss, ev, v[:, None])]


def inverse_diag(ss: SuffStats, ev: Evaluation) -> list[np.ndarray]:
    """Diagonal of Lambda (Lambda'Z'WZ Lambda + I)^-1 Lambda' per level, (G_k, q_k): the
    conditional variances of the random effects over sigma^2 (beta known). From the adjoint of
    log|Lambda'Z'WZ Lambda + I| with respect to each group's Z'WZ block (a selected inverse)."""
    keep: dict = {}
    _backward(ss, ev, np.zeros((ss.p + 1, ss.p + 1)), keep)
    out = [np.zeros((lev.ngroups, lev.q)) for lev in ss.levels]
    for k, lev in enumerate(ss.chain):
        _put(out, lev.term, np.einsum("gaa->ga", keep[k]), lev.to_term)
    if ss.m:
        d = np.diag(keep["RR"])
        for rt in ss.rterms:
            t = rt.term
            _put(out, t, d[rt.off:rt.off + t.G * t.q].reshape(t.G, t.q), None)
    return out


def _put(out, t: Term, b: np.ndarray, to_term) -> None:
    """Store a term's rows (its groups, internal order given by to_term) in its level's array."""
    tg = np.arange(t.G) if to_term is None else to_term
    bg = tg if t.bgroup is None else t.bgroup[tg]
    if t.diag is not None:
        out[t.level][bg, t.diag[tg]] = b[:, 0]
    else:
        out[t.level][bg, t.col:t.col + t.q] = b
