"""Sandwich (robust and cluster-robust) variance estimators, as Stata computes them.

regress (`ols_robust`): V = (X'X)^-1 M (X'X)^-1 with
  robust (HC1)  M = n/(n-k) sum e_i^2 x_i x_i'
  hc2           M = sum e_i^2 / (1 - h_ii) x_i x_i'
  hc3           M = sum e_i^2 / (1 - h_ii)^2 x_i x_i'
  cluster       M = G/(G-1) (n-1)/(n-k) sum_g (X_g'e_g)(X_g'e_g)'
(R's sandwich: vcovHC types HC1, HC2, HC3 and vcovCL type "HC1").

mixed, vce(robust | cluster) (`lmm_robust`): the log likelihood is a sum over the groups of the
top level, ll = sum_g ll_g. With s_g the gradient of ll_g with respect to every parameter in
e(b)'s metric (the fixed effects, then ln sd, atanh corr, lnsig_e), evaluated at the
estimates, and D = e(V) (the model's own inverse observed information, block diagonal between
the fixed effects and the variance parameters), Stata's _robust gives
  V = D (sum_c S_c S_c') D  G/(G-1),  S_c = sum of s_g over the top-level groups g in cluster c.
For one group, V_g = sigma^2 (I + Z_g Lambda Lambda' Z_g') with Lambda the relative factor of all
its random effects (the top level's and those of the levels nested in it); by Woodbury
V_g^-1 = sigma^-2 (I - Z_g W Z_g'), W = Lambda (I + Lambda' Z_g'Z_g Lambda)^-1 Lambda', so every
score needs only Z_g'Z_g, Z_g'X_g, Z_g'r_g, X_g'r_g and r_g'r_g, accumulated per group by
bincounts and handled for many groups at once by batched linear algebra:
  d ll_g / d beta       = X_g'V_g^-1 r_g
  d ll_g / d theta_k    = 1/2 <u u' - Z_g'V_g^-1 Z_g, dPsi/dtheta_k>,  u = Z_g'V_g^-1 r_g
  d ll_g / d lnsig_e    = sigma^2 (|V_g^-1 r_g|^2 - tr V_g^-1).
The random-effects columns of a group are laid out level by level, each level's subgroups in
slots of its q columns. Groups are handled in batches of similar sizes: within a batch every
group has as many slots per level as the batch's largest (unused slots all zero), so Lambda is
one matrix for the whole batch and the padding stays small.

Everything is computed on the standardized problem of engine.standardize (centred and scaled
y and X, the fit's own estimates there) and mapped back, so the result does not depend on the
location or units of the data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import standardize
from .types import LmmFit, RandomBlock

# how many doubles one batch of groups may hold per (M x M) array
_BATCH_ELEMENTS = 4_000_000


@dataclass
class RobustVCE:
    """A sandwich VCE in the data's units: V over e(b)'s estimated columns (for mixed: the
    fixed effects, then the variance parameters), the number of clusters, and (regress) the
    Wald statistic of the tested coefficients (None when their VCE is singular)."""

    V: np.ndarray
    n_clusters: int
    wald: float | None = None


def cluster_codes(values) -> tuple[np.ndarray, int]:
    """Codes 0..G-1 of a cluster variable's values (numbers or strings), and G."""
    v = np.asarray(values)
    if v.dtype == object:
        v = v.astype(str)
    _, codes = np.unique(v, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    return codes, int(codes.max()) + 1 if len(codes) else 0


def _sym(V: np.ndarray) -> np.ndarray:
    return 0.5 * (V + V.T)


def _inv_spd(G: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive (semi)definite matrix: Cholesky, else the
    pseudo-inverse."""
    try:
        L = np.linalg.cholesky(G)
        Li = np.linalg.inv(L)
        return Li.T @ Li
    except np.linalg.LinAlgError:
        return np.linalg.pinv(G, hermitian=True)


def _wald(b: np.ndarray, V: np.ndarray) -> float | None:
    """b' V^-1 b; None when V is singular (Stata's missing F or chi2)."""
    if len(b) == 0:
        return None
    w, U = np.linalg.eigh(_sym(V))
    if not np.all(np.isfinite(w)) or w.max() <= 0 or w.min() <= 1e-12 * w.max():
        return None
    z = U.T @ b
    return float(np.sum(z * z / w))


# --- regress ------------------------------------------------------------------------------------
def _standardized_ls(y, X):
    """The least-squares fit on the standardized problem: (FixedMap, X~, (X~'X~)^-1, b~, e~)."""
    fm = standardize.fixed_map(y, X)
    yt, Xt = fm.apply(y, X)
    XtXi = _inv_spd(Xt.T @ Xt)
    bt = XtXi @ (Xt.T @ yt)
    bt = bt + XtXi @ (Xt.T @ (yt - Xt @ bt))       # one step of iterative refinement
    return fm, Xt, XtXi, bt, yt - Xt @ bt


def _group_sums(M: np.ndarray, codes: np.ndarray, G: int) -> np.ndarray:
    """Row sums of M within groups (codes 0..G-1): G x columns."""
    out = np.empty((G, M.shape[1]))
    for j in range(M.shape[1]):
        out[:, j] = np.bincount(codes, weights=M[:, j], minlength=G)
    return out


def _ols_meat(Xt, XtXi, e, kind: str, clusters) -> tuple[np.ndarray, int]:
    n, k = Xt.shape
    if kind == "cluster":
        codes, G = cluster_codes(clusters)
        S = _group_sums(Xt * e[:, None], codes, G)
        scale = (G / (G - 1) if G > 1 else math.nan) * (n - 1) / (n - k)
        return scale * (S.T @ S), G
    w = e * e
    if kind in ("hc2", "hc3"):
        h = np.einsum("ij,jk,ik->i", Xt, XtXi, Xt)
        one_h = 1.0 - h
        # an observation with leverage 1 has a zero residual: it adds nothing
        ok = one_h > 1e-12
        power = 1 if kind == "hc2" else 2
        w = np.where(ok, w / np.where(ok, one_h, 1.0) ** power, 0.0)
    elif kind == "robust":
        w = w * (n / (n - k))
    else:
        raise ValueError(f"unknown vce {kind!r}")
    return (Xt * w[:, None]).T @ Xt, n


def ols_robust(y, X, kind: str, clusters=None, test: list[int] | None = None) -> RobustVCE:
    """regress's vce(robust | hc2 | hc3 | cluster) for y on the columns of X (full rank; the
    constant, if any, one of them). clusters: the cluster variable's values per row (kind
    'cluster'). test: columns of the model F test (every coefficient but _cons); the Wald
    statistic is returned in `wald` (divide by len(test) for F)."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    X = np.asarray(X, dtype=np.float64).reshape(len(y), -1)
    fm, Xt, XtXi, bt, e = _standardized_ls(y, X)
    meat, G = _ols_meat(Xt, XtXi, e, kind, clusters)
    Vt = _sym(XtXi @ meat @ XtXi)
    V = fm.vbeta(Vt)
    wald = None
    if test:
        idx = list(test)
        # the standardization maps each slope to a multiple of itself and moves only the
        # constant: a test that leaves the constant out is the same in either metric
        if fm.cons is None or fm.cons not in idx or len(idx) == X.shape[1]:
            wald = _wald(bt[idx], Vt[np.ix_(idx, idx)])
        else:
            wald = _wald(fm.beta(bt)[idx], V[np.ix_(idx, idx)])
    return RobustVCE(V, G, wald)


# --- mixed without random effects ---------------------------------------------------------------
def linear_robust(y, X, clusters=None) -> RobustVCE:
    """`mixed` with no random-effects equation, vce(robust | cluster): the linear model fitted
    by ML (beta, lnsig_e); clusters None: every observation its own cluster."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=np.float64).reshape(n, -1)
    p = X.shape[1]
    fm, Xt, XtXi, _, r = _standardized_ls(y, X)
    s2 = float(r @ r) / n
    S = np.column_stack([Xt * (r / s2)[:, None], r * r / s2 - 1.0])
    if clusters is not None:
        codes, G = cluster_codes(clusters)
        S = _group_sums(S, codes, G)
    else:
        G = n
    bread = np.zeros((p + 1, p + 1))
    bread[:p, :p] = s2 * XtXi
    bread[p, p] = 1.0 / (2 * n)
    Vt = _sym(bread @ (S.T @ S) @ bread) * (G / (G - 1) if G > 1 else math.nan)
    return RobustVCE(_to_data_units(Vt, fm, p), G)


def _to_data_units(Vt: np.ndarray, fm: standardize.FixedMap, p: int) -> np.ndarray:
    """(fixed effects, variance parameters) VCE of the standardized problem in the data's
    units: b = c A b~ + const, the variance parameters only shift."""
    Af = fm.y_scale * fm.matrix()
    V = Vt.copy()
    V[:p, :p] = Af @ Vt[:p, :p] @ Af.T
    V[:p, p:] = Af @ Vt[:p, p:]
    V[p:, :p] = V[:p, p:].T
    return _sym(V)


# --- mixed: per-group scores --------------------------------------------------------------------
@dataclass
class _Layout:
    """The random effects of each top-level group, level by level (blocks in depth order): per
    block its Z (n x q), the rank of each observation's group among the groups of the block
    in its top-level group (lidx), and per top-level group how many groups of the block it has
    (counts, G x blocks)."""

    Z: list[np.ndarray]
    lidx: list[np.ndarray]
    q: list[int]
    counts: np.ndarray

    def width(self, counts: np.ndarray) -> int:
        """Columns of a batch whose groups have at most `counts` groups per block."""
        return int(np.dot(counts, self.q))


def _local_slots(top: np.ndarray, g: np.ndarray, G: int) -> tuple[np.ndarray, np.ndarray]:
    """Per observation, the rank of its group g among the groups of its top-level group; per
    top-level group, how many groups of g it holds. ValueError when a group of g spans two
    top-level groups (not nested)."""
    g = np.asarray(g, dtype=np.int64)
    gmax = int(g.max()) + 1
    key = top * gmax + g
    uniq, inv = np.unique(key, return_inverse=True)
    pair_top = uniq // gmax
    if len(np.unique(uniq % gmax)) != len(uniq):
        raise ValueError("random-effects level not nested within the top level")
    start = np.searchsorted(pair_top, pair_top, side="left")
    local = np.arange(len(uniq)) - start
    return local[inv.reshape(-1)], np.bincount(pair_top, minlength=G)


def _layout(sblocks: list[RandomBlock], top: np.ndarray, G: int, n: int) -> _Layout:
    Zs, lidx, qs, counts = [], [], [], []
    for b in sblocks:
        Z = np.asarray(b.Z, dtype=np.float64).reshape(n, -1)
        li, cnt = _local_slots(top, b.group, G)
        Zs.append(Z)
        lidx.append(li)
        qs.append(Z.shape[1])
        counts.append(cnt)
    return _Layout(Zs, lidx, qs, np.column_stack(counts))


def _psd_sqrt(P: np.ndarray) -> np.ndarray:
    w, U = np.linalg.eigh(_sym(P))
    return U * np.sqrt(np.clip(w, 0.0, None))[None, :]


@dataclass
class _Batch:
    """Some top-level groups handled together: their local codes 0..Gc-1 per row, the rows,
    and the column layout of their random effects: per block (offset, slots, q)."""

    rows: np.ndarray
    gl: np.ndarray
    Gc: int
    segs: list[tuple[int, int, int]]
    M: int


def _batches(lay: _Layout, top: np.ndarray, G: int):
    """Top-level groups in batches of similar numbers of random effects (padding each to the
    batch's largest), each batch's M x M arrays within _BATCH_ELEMENTS doubles."""
    size = lay.counts @ np.asarray(lay.q)
    order = np.argsort(size, kind="stable")
    rank = np.empty(G, dtype=np.int64)
    rank[order] = np.arange(G)
    r_top = rank[top]
    perm = np.argsort(r_top, kind="stable")
    bounds = np.searchsorted(r_top[perm], np.arange(G + 1))
    i = 0
    while i < G:
        m = max(int(size[order[i]]), 1)
        j = min(G, i + max(1, _BATCH_ELEMENTS // (m * m)))
        cnt = lay.counts[order[i:j]].max(axis=0)
        while j - i > 1 and (j - i) * lay.width(cnt) ** 2 > 2 * _BATCH_ELEMENTS:
            j = i + (j - i) // 2
            cnt = lay.counts[order[i:j]].max(axis=0)
        segs, off = [], 0
        for slots, q in zip(cnt, lay.q):
            segs.append((off, int(slots), q))
            off += int(slots) * q
        rows = perm[bounds[i]:bounds[j]]
        yield order[i:j], _Batch(rows, r_top[rows] - i, j - i, segs, off)
        i = j


def _accumulate(lay: _Layout, bt: _Batch, Xt, r, w=None):
    """Per group of one batch: Z'WZ, Z'WX, Z'Wr, X'Wr, r'Wr and the group size (sum of the
    observation weights w; W = I without them)."""
    M, Gc, rows, gl = bt.M, bt.Gc, bt.rows, bt.gl
    C = np.hstack([off + li[rows][:, None] * q + np.arange(q)[None, :]
                   for (off, _, q), li in zip(bt.segs, lay.lidx)])
    Vv = np.hstack([Z[rows] for Z in lay.Z])
    wr = None if w is None else w[rows]
    Vw = Vv if wr is None else Vv * wr[:, None]
    flat2 = (gl[:, None, None] * (M * M) + C[:, :, None] * M + C[:, None, :]).ravel()
    A = np.bincount(flat2, weights=(Vw[:, :, None] * Vv[:, None, :]).ravel(),
                    minlength=Gc * M * M).reshape(Gc, M, M)
    flat1 = (gl[:, None] * M + C).ravel()
    rr_ = r[rows]
    if wr is not None:
        Vv, rw = Vw, rr_ * wr
    else:
        rw = rr_
    bz = np.bincount(flat1, weights=(Vv * rr_[:, None]).ravel(), minlength=Gc * M).reshape(Gc, M)
    Xs = Xt[rows]
    p = Xs.shape[1]
    B = np.empty((Gc, M, p))
    Xr = np.empty((Gc, p))
    for k in range(p):
        B[:, :, k] = np.bincount(flat1, weights=(Vv * Xs[:, k][:, None]).ravel(),
                                 minlength=Gc * M).reshape(Gc, M)
        Xr[:, k] = np.bincount(gl, weights=Xs[:, k] * rw, minlength=Gc)
    rr = np.bincount(gl, weights=rw * rr_, minlength=Gc)
    ng = (np.bincount(gl, minlength=Gc) if wr is None
          else np.bincount(gl, weights=wr, minlength=Gc)).astype(float)
    return A, B, bz, Xr, rr, ng


def _batch_scores(bt: _Batch, lams, jacs, s2: float, A, B, bz, Xr, rr, ng):
    """Scores of one batch of groups: (Gc, p + number of variance parameters)."""
    Gc, M = bt.Gc, bt.M
    Lam = np.zeros((M, M))          # the relative factor, each level's repeated over its slots
    for (off, slots, q), lam in zip(bt.segs, lams):
        for k in range(slots):
            Lam[off + k * q:off + (k + 1) * q, off + k * q:off + (k + 1) * q] = lam
    L = Lam.T @ A @ Lam + np.eye(M)[None, :, :]
    W = Lam @ np.linalg.solve(L, np.broadcast_to(Lam.T, (Gc, M, M)))
    Wbz = np.einsum("gij,gj->gi", W, bz)
    AWbz = np.einsum("gij,gj->gi", A, Wbz)
    u = (bz - AWbz) / s2
    Mz = (A - A @ W @ A) / s2
    s_beta = (Xr - np.einsum("gmp,gm->gp", B, Wbz)) / s2
    tr_vinv = (ng - np.einsum("gij,gji->g", W, A)) / s2
    q2 = (rr - 2.0 * np.einsum("gi,gi->g", bz, Wbz) + np.einsum("gi,gi->g", Wbz, AWbz)) / (s2 * s2)
    out = [s_beta]
    for (off, slots, q), jac in zip(bt.segs, jacs):
        seg = slice(off, off + slots * q)
        S = np.einsum("gsisj->gij", Mz[:, seg, seg].reshape(Gc, slots, q, slots, q))
        us = u[:, seg].reshape(Gc, slots, q)
        D = np.einsum("gsi,gsj->gij", us, us) - S
        out.append(np.stack([0.5 * np.einsum("gij,ij->g", D, dj) for dj in jac], axis=1))
    out.append((s2 * (q2 - tr_vinv))[:, None])
    return np.hstack(out)


def group_scores(y, X, blocks: list[RandomBlock], fit: LmmFit,
                 weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Per top-level group, the gradient of its log likelihood (ML) with respect to the
    standardized fixed effects and the variance parameters in e(b)'s metric, at the fit's
    estimates: (G x (p + k) scores, top-level group code of each observation). weights: the
    fit's observation weights (each row's term multiplied by its weight inside its group)."""
    fm = fit.extra["fixed_map"]
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = len(y)
    yt, Xt = fm.apply(y, np.asarray(X, dtype=np.float64).reshape(n, -1))
    r = yt - Xt @ np.asarray(fit.extra["beta_std"], dtype=float)
    c2 = fm.y_scale ** 2
    s2 = fit.sigma2 / c2
    order = sorted(range(len(blocks)), key=lambda i: blocks[i].depth)
    sblocks = [blocks[i] for i in order]
    lams, jacs, pos = [], [], 0
    for b in sblocks:
        st = standardize.structure_of(b)
        k = len(st.stata_names(1, 1))
        psi, jac = st.cov_from_stata(np.asarray(fit.vc_theta[pos:pos + k], dtype=float))
        pos += k
        lams.append(_psd_sqrt(psi / c2 / s2))
        jacs.append([j / c2 for j in jac])
    if pos + 1 != len(fit.vc_theta):
        # a residual structure other than sigma^2 I adds parameters these scores do not know
        raise ValueError("robust scores need independent residuals")
    w = None if weights is None else np.asarray(weights, dtype=np.float64).reshape(n)
    _, top = np.unique(np.asarray(sblocks[0].group, dtype=np.int64), return_inverse=True)
    top = top.reshape(-1).astype(np.int64)
    G = int(top.max()) + 1
    lay = _layout(sblocks, top, G, n)
    S = None
    for groups, bt in _batches(lay, top, G):
        part = _batch_scores(bt, lams, jacs, s2, *_accumulate(lay, bt, Xt, r, w))
        if S is None:
            S = np.empty((G, part.shape[1]))
        S[groups] = part
    return S, top


def lmm_robust(y, X, blocks: list[RandomBlock], fit: LmmFit, clusters=None,
               weights=None, group_weights=None, frequency: bool = False) -> RobustVCE:
    """mixed's vce(robust) (clusters None: the top-level groups) or vce(cluster): clusters
    holds the cluster variable's values per observation, constant within each top-level
    group (ValueError otherwise). ML fits only. weights: the fit's observation weights
    (fweights or level-1 pweights; the scores of the weighted log (pseudo)likelihood);
    group_weights: a weight per code of the top level's groups, multiplying each group's
    score (its whole log likelihood is weighted: engine.lmm_group_weights); frequency: they
    are fweights, so group j stands for w_j clusters with its score (sqrt(w_j) s_j in the
    meat, sum w_j clusters in G/(G-1)), as on the expanded data."""
    marginal_fit = isinstance(fit.extra, dict) and fit.extra.get("residual_data") is not None
    gw = None
    if marginal_fit:                 # a residual structure: scores from V per group, data units
        from . import marginal
        S, top = marginal.group_scores(y, X, blocks, fit)
    else:
        S, top = group_scores(y, X, blocks, fit, weights)
        if group_weights is not None:
            top_block = min(blocks, key=lambda b: b.depth)
            raw = np.asarray(top_block.group, dtype=np.int64).reshape(-1)
            gw = np.asarray(group_weights, dtype=float)[np.unique(raw)]
            S = S * (np.sqrt(gw) if frequency else gw)[:, None]
    if clusters is not None:
        codes, G = cluster_codes(clusters)
        first = np.zeros(S.shape[0], dtype=np.int64)
        first[top] = codes
        if np.any(first[top] != codes):
            raise ValueError("top-level groups not nested within the clusters")
        S = _group_sums(S, first, G)
    G = S.shape[0]
    if frequency and gw is not None and clusters is None:
        G = round(float(gw.sum()))      # the expanded data's clusters
    p = len(fit.beta)
    kv = S.shape[1] - p
    bread = np.zeros((p + kv, p + kv))
    bread[:p, :p] = np.asarray(fit.V_beta if marginal_fit else fit.extra["V_beta_std"], dtype=float)
    if fit.vc_V is not None:
        bread[p:, p:] = fit.vc_V
    Vt = _sym(bread @ (S.T @ S) @ bread) * (G / (G - 1) if G > 1 else math.nan)
    return RobustVCE(Vt if marginal_fit else _to_data_units(Vt, fit.extra["fixed_map"], p), G)
