"""One pass over the data: the cross products the blocked factorisation (engine.blocked) needs.

After this pass a likelihood evaluation never touches the n rows again.

Terms. Every RandomBlock becomes one or more terms, each G groups of q columns: an ordinary
block is one term (its groups, its Z); an `R.var` factor (types.IndicatorMatrix) is a term with
one group per level and q = 1 (its indicator columns are never formed), plus one term for any
ordinary columns typed beside it.

Chain and remainder (the ordering of MixedModels.jl, extended to nested levels): the term with
the most groups comes first and is eliminated group by group; the terms that contain it (every
group of the inner term inside one group of the outer one) follow, forming a nested chain whose
groups stay independent of each other. Every other term is crossed with the chain and goes to
the remainder R (m = sum of G_t q_t columns), eliminated last as one block. A nested-only model
has an empty remainder.

Column order of the augmented design: [Z_c1 (outermost chain level), ..., Z_cK, Z_R, X, y];
the "global" columns are [Z_R, X, y] (width gw = m + p + 1). Per chain level and group we keep
Z_k'W Z_k (Rww), Z_k'W [its ancestors' columns] (Rwa) and Z_k'W [Z_R X y] (Rwg); for the
whole sample [Z_R X y]'W[Z_R X y] (Rgg). The rows are sorted once by the innermost chain group
(a radix sort; none when the caller's codes are already sorted), each group padded to a multiple
of PAD rows, and the groups of one padded size take one batched matrix product on a contiguous
slice; the remainder's products are bincounts over level codes. Group codes that are already
0..G-1 (design.group_codes') are used as they are. In sparse mode (many groups crossed with many
levels, see use_sparse) the coupling Z_k'W Z_R is a CSR matrix instead of a dense (G, q, m) array.

W: optional observation weights (frequency weights for the linear model, the working weights
of PIRLS): every cross product is weighted, so weight w_i equals w_i copies of row i, and
SuffStats.n is then the sum of the weights.

fit_lmm hands it centred and scaled data (engine.standardize): sums of raw data with a large
mean would keep only the mean's digits (y + 1e10 leaves y'y with none of y's spread).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .types import IndicatorMatrix, RandomBlock
from .vcparams import Structure, normalize_structure


@dataclass
class Level:
    """One RandomBlock (blocks sorted by depth): what the optimiser parametrises."""

    q: int
    ngroups: int
    structure: Structure
    code: np.ndarray         # group of each observation (the block's own codes)
    label: str = ""


@dataclass
class Term:
    """G groups of q columns sharing the factor Lambda[col:col+q, col:col+q] of one level.

    diag: for an `R.var` factor (q = 1), the level column of each group's indicator; the
    gradient is then reported per group on the level's diagonal. None for other terms."""

    level: int
    col: int
    q: int
    G: int
    codes: np.ndarray
    Z: np.ndarray | None     # (n, q); None: a column of ones
    diag: np.ndarray | None = None
    bgroup: np.ndarray | None = None   # the level's group of each term group (None: the same)


@dataclass
class ChainLevel:
    term: Term
    q: int
    off: int                 # columns of the chain levels outside it (its ancestors)
    G: int
    codes: np.ndarray        # internal group of each observation (contiguous by parent)
    to_term: np.ndarray | None   # internal group -> the term's group (None: the same)
    parent: np.ndarray       # parent group (one level out) of every group; zeros at the top
    starts: np.ndarray       # reduceat offsets of the parents' groups
    Rww: np.ndarray = None   # (G, q, q)
    Rwa: np.ndarray = None   # (G, q, off)
    Rwg: np.ndarray = None   # (G, q, gw); in sparse mode (G, q, p + 1), the [X y] part only
    Br: object = None        # sparse mode: Z_k'W Z_R as a CSR matrix (G x m)
    pairs: tuple = None      # sparse mode: (group, i, j, Br_gi Br_gj) over each row's entries


@dataclass
class RTerm:
    term: Term
    off: int                 # first remainder column


@dataclass
class SuffStats:
    n: float                 # observations (the sum of the weights when weighted)
    p: int
    levels: list[Level]
    R0: np.ndarray           # [X y]'W[X y]
    chain: list[ChainLevel] = field(default_factory=list)   # outermost first
    rterms: list[RTerm] = field(default_factory=list)
    m: int = 0               # remainder columns
    Rgg: np.ndarray = None   # [Z_R X y]'W[Z_R X y]
    weighted: bool = False
    sparse: bool = False     # the chain's coupling to the remainder is held sparse


# --------------------------------------------------------------------------- codes and terms
def _codes(raw):
    """(codes 0..G-1 with every group present, G, the original code of each group or None):
    the caller's own codes when they already are that (an O(n) check), else renumbered in
    sorted order."""
    raw = np.asarray(raw).reshape(-1)
    if raw.dtype.kind in "iu" and raw.size:
        lo, hi = int(raw.min()), int(raw.max())
        if lo == 0 and hi < 4 * raw.size + 16:
            c = raw.astype(np.int64, copy=False)
            if np.bincount(c, minlength=hi + 1).min() > 0:
                return c, hi + 1, None
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64), 1, None
    keys, inv = np.unique(raw, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), len(keys), keys


def _factor_term(k: int, col: int, grp, G: int, codes, L: int, v, n: int) -> Term:
    """An `R.var` factor of level k: one group per level (per level within each group of the
    level when the level is not `_all`)."""
    Z = None if v is None else v.reshape(n, 1)
    key = np.asarray(codes, dtype=np.int64) if G == 1 else grp * L + np.asarray(codes, dtype=np.int64)
    c, GL, keys = _codes(key)
    keys = np.arange(GL) if keys is None else keys.astype(np.int64)
    return Term(k, col, 1, GL, c, Z, col + keys % L, keys // L)


def terms_of(blocks: list[RandomBlock], n: int) -> list[Term]:
    terms = []
    for k, b in enumerate(blocks):
        raw = np.asarray(b.group).reshape(-1)
        if len(raw) != n:
            raise ValueError("group codes do not match the data")
        grp, G, keys = _codes(raw)
        bg = None if keys is None else keys.astype(np.int64)
        Z = b.Z
        if isinstance(Z, IndicatorMatrix):
            col = 0
            for codes, L, v in Z.factors:
                t = _factor_term(k, col, grp, G, codes, L, v, n)
                if bg is not None:
                    t.bgroup = bg[t.bgroup]
                terms.append(t)
                col += L
            if Z.dense is not None:
                terms.append(Term(k, col, Z.dense.shape[1], G, grp, Z.dense, None, bg))
            continue
        Zd = np.asarray(Z, dtype=float).reshape(n, -1)
        terms.append(Term(k, 0, Zd.shape[1], G, grp, Zd, None, bg))
    return terms


def _parent_in(outer: Term, inner: Term) -> np.ndarray | None:
    """The outer group of every inner group when inner is nested in outer, else None."""
    if outer.G == 1:
        return np.zeros(inner.G, dtype=np.int64)
    if outer.G > inner.G:
        return None
    par = np.empty(inner.G, dtype=np.int64)
    par[inner.codes] = outer.codes
    return par if np.array_equal(par[inner.codes], outer.codes) else None


def split_terms(terms: list[Term], max_chain: int | None = None):
    """(chain innermost first with each level's parent map, remainder): the term with the most
    groups, then repeatedly the largest term that contains the chain's outermost level (at most
    max_chain levels; the rest go to the remainder)."""
    order = sorted(range(len(terms)), key=lambda i: (-terms[i].G, -terms[i].level, i))
    chain = [order[0]]
    parents = []
    rest = order[1:]
    while max_chain is None or len(chain) < max_chain:
        found = None
        for i in rest:
            par = _parent_in(terms[i], terms[chain[-1]])
            if par is not None:
                found = (i, par)
                break
        if found is None:
            break
        chain.append(found[0])
        parents.append(found[1])
        rest.remove(found[0])
    return chain, parents, rest


def _chain_levels(terms: list[Term], chain: list[int], parents: list[np.ndarray]) -> list[ChainLevel]:
    """Chain levels outermost first, each level's groups renumbered (only when needed) so that
    the groups of one parent are contiguous."""
    chain = chain[::-1]
    parents = parents[::-1]               # parents[j-1]: level j's groups in level j-1's
    out: list[ChainLevel] = []
    new_prev = None
    off = 0
    for j, ti in enumerate(chain):
        t = terms[ti]
        par = np.zeros(t.G, dtype=np.int64) if j == 0 else parents[j - 1]
        if new_prev is not None:
            par = new_prev[par]
        to_term = None
        codes = t.codes
        if t.G > 1 and np.any(par[1:] < par[:-1]):
            order = np.lexsort((np.arange(t.G), par))
            new = np.empty(t.G, dtype=np.int64)
            new[order] = np.arange(t.G)
            codes = new[codes]
            par = par[order]
            to_term = order
            new_prev = new
        else:
            new_prev = None
        starts = np.flatnonzero(np.r_[True, par[1:] != par[:-1]]) if t.G > 1 else np.zeros(1, np.int64)
        out.append(ChainLevel(t, t.q, off, t.G, codes, to_term, par, starts))
        off += t.q
    return out


# --------------------------------------------------------------------------- products by group
def _sort_order(codes: np.ndarray, G: int) -> np.ndarray:
    """Stable order of rows by code: numpy's radix sort on 16-bit keys (two passes above)."""
    if G <= 1 << 16:
        return np.argsort(codes.astype(np.uint16), kind="stable")
    if G > 1 << 32:
        return np.argsort(codes, kind="stable")
    o1 = np.argsort((codes & 0xFFFF).astype(np.uint16), kind="stable")
    return o1[np.argsort((codes[o1] >> 16).astype(np.uint16), kind="stable")]


PAD = 8   # group sizes are rounded up to a multiple of this: few distinct sizes, few products


def _padded_order(codes: np.ndarray, G: int, counts: np.ndarray):
    """Row index that lists the groups by padded size, each group's rows followed by index n
    (a padding row) up to its padded size; with the groups' order and padded sizes. Rows
    already sorted by group need no sort."""
    n = len(codes)
    padded = -(-counts // PAD) * PAD
    perm = np.argsort(padded, kind="stable")
    rank = np.empty(G, dtype=np.int64)
    rank[perm] = np.arange(G)
    pad = padded[perm]
    pstart = np.cumsum(pad) - pad                              # padded start, by rank
    idx = np.full(int(pad.sum()), n, dtype=np.int64)
    if np.all(codes[1:] >= codes[:-1]):
        gstart = np.cumsum(counts) - counts
        idx[np.arange(n) + (pstart[rank] - gstart)[codes]] = np.arange(n)
        return idx, perm, pad
    rc = rank[codes]
    order = _sort_order(rc, G)
    cnt = counts[perm]
    shift = pstart - (np.cumsum(cnt) - cnt)                    # padded start - sorted row start
    idx[np.arange(n) + shift[rc[order]]] = order
    return idx, perm, pad


def group_products(codes: np.ndarray, G: int, left: np.ndarray, rights: list[np.ndarray],
                   counts: np.ndarray | None = None, left_is_first: bool = False,
                   affine: list | None = None) -> np.ndarray:
    """sum over the rows of each group of left_i' [rights]_i -> (G, a, b), b the rights' total
    width (left_is_first: left is rights[0], gathered once). affine[j] = (shift, scale) or None:
    rights[j] is used as (rights[j] - shift) / scale, applied in place on its gathered copy (the
    same operations on the same values as standardizing first, without a standardized copy of
    the whole array).

    One radix sort of the rows by (padded group size, group), then, batch by batch of whole
    groups of one padded size (at most about _GATHER_ROWS rows), a gather of each array
    (padding rows: zeros on the left) and one batched matrix product per right-hand array:
    the gathered copies stay small however many rows the data have."""
    a = left.shape[1]
    widths = [r.shape[1] for r in rights]
    cols = np.r_[0, np.cumsum(widths)].tolist()
    if G == 1:
        tfs = list(affine or []) + [None] * (len(rights) - len(affine or []))
        return np.concatenate([left.T @ (r if tf is None else _affine_copy(r, *tf))
                               for r, tf in zip(rights, tfs)], axis=1)[None]
    counts = np.bincount(codes, minlength=G) if counts is None else counts
    idx, perm, sz = _padded_order(codes, G, counts)
    tfs = list(affine or []) + [None] * (len(rights) - len(affine or []))
    out = np.empty((G, a, cols[-1]))
    edges = np.flatnonzero(np.r_[True, sz[1:] != sz[:-1], True]).tolist()
    row = 0
    for s, e in zip(edges[:-1], edges[1:]):
        m = int(sz[s])
        per = max(1, _GATHER_ROWS // m)             # groups per batch: bounded gathers
        for g0 in range(s, e, per):
            g1 = min(e, g0 + per)
            ix = idx[row + (g0 - s) * m:row + (g1 - s) * m]
            Lb = _gather_rows(left, ix)
            Lb[ix == len(codes)] = 0.0               # padding rows
            lt = Lb.reshape(g1 - g0, m, a).transpose(0, 2, 1)
            for j, (r, tf) in enumerate(zip(rights, tfs)):
                Rb = Lb if (j == 0 and left_is_first) else _gather_rows(r, ix)
                if tf is not None:
                    _affine_inplace(Rb, *tf)
                out[perm[g0:g1], :, cols[j]:cols[j + 1]] = np.matmul(
                    lt, Rb.reshape(g1 - g0, m, widths[j]))
        row += (e - s) * m
    return out


_GATHER_ROWS = 1 << 16


def _gather_rows(r: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """r[idx] (indices past the end clipped to the last row). A Fortran-ordered r (the fixed
    design) is gathered column by column into a Fortran-ordered result: np.take along rows of
    a Fortran array would first make a C-ordered copy of all of it."""
    if r.ndim == 2 and r.shape[1] > 1 and not r.flags["C_CONTIGUOUS"]:
        out = np.empty((r.shape[1], len(idx)))      # column j gathered into contiguous row j;
        for j in range(r.shape[1]):                 # the transpose is the (rows x p) result,
            np.take(r[:, j], idx, mode="clip", out=out[j])   # Fortran-ordered like r
        return out.T
    return np.take(r, idx, axis=0, mode="clip")


def _affine_copy(a: np.ndarray, shift, scale) -> np.ndarray:
    out = np.array(a, dtype=np.float64)
    _affine_inplace(out, shift, scale)
    return out


def _affine_inplace(a: np.ndarray, shift, scale) -> None:
    """a = (a - shift) / scale in place, skipping a zero shift and a unit scale (both exact, as
    standardize.FixedMap.apply skips them)."""
    if np.any(shift != 0):
        a -= shift
    if np.any(scale != 1):
        a /= scale


def _bincount2(idx: np.ndarray, w: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(idx, weights=w, minlength=size)


def _zcol(t: Term, j: int, n: int) -> np.ndarray | None:
    return None if t.Z is None else t.Z[:, j]


def _times(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a * b


def _coupling(lev: ChainLevel, rterms: list[RTerm], m: int, w, n: int) -> np.ndarray:
    """Z_k'W Z_R per group of chain level k: (G, q, m), by bincounts over level codes."""
    out = np.zeros((lev.G, lev.q, m))
    for rt in rterms:
        t = rt.term
        for a in range(lev.q):
            za = _times(_zcol(lev.term, a, n), w)
            for c in range(t.q):
                val = _times(za, _zcol(t, c, n))
                val = np.ones(n) if val is None else val
                idx = lev.codes * m + (rt.off + t.codes * t.q + c)
                out[:, a, :] += _bincount2(idx, val, lev.G * m).reshape(lev.G, m)
    return out


def _xy_products(X: np.ndarray, y: np.ndarray, w) -> np.ndarray:
    """[X y]'W[X y] without forming [X y]."""
    p = X.shape[1]
    out = np.empty((p + 1, p + 1))
    Xw = X if w is None else X * w[:, None]
    yw = y if w is None else y * w
    out[:p, :p] = Xw.T @ X
    out[:p, p] = out[p, :p] = Xw.T @ y
    out[p, p] = yw @ y
    return out


def _r_columns(rterms: list[RTerm], n: int):
    """(remainder column, value or None) of every observation, per remainder column set."""
    return [(rt.off + rt.term.codes * rt.term.q + a, _zcol(rt.term, a, n))
            for rt in rterms for a in range(rt.term.q)]


def _global_products(rterms: list[RTerm], m: int, X: np.ndarray, y: np.ndarray, w, n: int) -> np.ndarray:
    """[Z_R X y]'W[Z_R X y] with Z_R held as codes (never n x m)."""
    k = X.shape[1] + 1
    out = np.zeros((m + k, m + k))
    out[m:, m:] = _xy_products(X, y, w)
    cols = _r_columns(rterms, n)
    for ia, za in cols:
        zaw = _times(za, w)
        for j in range(k):
            xj = X[:, j] if j < k - 1 else y
            out[:m, m + j] += _bincount2(ia, _times(zaw, xj), m)
        for ic, zc in cols:
            val = _times(zaw, zc)
            if ic is ia:
                out[np.arange(m), np.arange(m)] += _bincount2(ia, val, m)
            else:
                _scatter_add(out, ia, ic, val, m)
    out[m:, :m] = out[:m, m:].T
    return out


def _scatter_add(out: np.ndarray, rows: np.ndarray, cols: np.ndarray, val, m: int) -> None:
    """out[r, c] += sum of val over observations with (rows, cols) = (r, c), without an m x m
    temporary."""
    key = rows * m + cols
    uk, inv = np.unique(key, return_inverse=True)
    s = np.bincount(inv.reshape(-1), weights=val, minlength=len(uk))
    out[uk // m, uk % m] += s


def sparse_coupling(lev: ChainLevel, rterms: list[RTerm], m: int, w, n: int):
    """Z_k'W Z_R as a CSR matrix (G x m) for a one-column chain level, and the pairs of entries
    of each row (what the adjoint of Br' Pk Br needs)."""
    from scipy.sparse import coo_array   # lazy: scipy.sparse is only needed for large crossed designs

    rows, cols, vals = [], [], []
    za = _times(_zcol(lev.term, 0, n), w)
    for ic, zc in _r_columns(rterms, n):
        v = _times(za, zc)
        rows.append(lev.codes)
        cols.append(ic)
        vals.append(np.ones(n) if v is None else v)
    Br = coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(lev.G, m)).tocsr()
    Br.sum_duplicates()
    k = np.diff(Br.indptr)
    row_e = np.repeat(np.arange(lev.G), k)
    per = k[row_e]
    left = np.repeat(np.arange(len(row_e)), per)
    within = np.arange(len(left)) - np.repeat(np.cumsum(per) - per, per)
    right = Br.indptr[row_e[left]] + within
    pairs = (row_e[left], Br.indices[left].astype(np.int64), Br.indices[right].astype(np.int64),
             Br.data[left] * Br.data[right])
    return Br, pairs


def use_sparse(chain: list[ChainLevel], rterms: list[RTerm], m: int, n: int, p: int,
               force: bool = False) -> bool:
    """Hold the chain's coupling to the remainder sparse when a dense one would be large or
    cost more than the sparse products (a one-column, one-level chain only; force: whenever
    possible)."""
    if not m or len(chain) != 1 or chain[0].q != 1:
        return False
    if force:
        return True
    lev = chain[0]
    gw = m + p + 1
    per_row = min(m, n * sum(rt.term.q for rt in rterms) / max(lev.G, 1))
    pairs = lev.G * per_row * per_row
    # a sparse pair costs ~300 dense flops (scipy's sparse products vs BLAS), measured
    return lev.G * gw > 5e7 or 300 * pairs < lev.G * gw * gw


# --------------------------------------------------------------------------- build
def _chain_products(chain: list[ChainLevel], X: np.ndarray, y: np.ndarray, w, fm=None) -> None:
    """Rww, Rwa and the [X y] part of Rwg of every chain level, from one pass by innermost group
    (fm: a standardize.FixedMap to apply to X and y as they are gathered)."""
    n = len(y)
    zs = [np.ones((n, 1)) if lev.term.Z is None else lev.term.Z for lev in chain]
    Zc = zs[0] if len(zs) == 1 else np.concatenate(zs, axis=1)
    s = Zc.shape[1]
    inner = chain[-1]
    left = Zc if w is None else Zc * w[:, None]
    affine = None if fm is None else [None, (fm.shift[None, :], fm.scale[None, :]),
                                      (fm.y_shift, fm.y_scale)]
    full = group_products(inner.codes, inner.G, left, [Zc, X, y[:, None]],
                          left_is_first=w is None, affine=affine)    # (G_inner, s, s+p+1)
    up = np.arange(inner.G)                                  # inner group -> level j group
    for j in range(len(chain) - 1, -1, -1):
        lev = chain[j]
        if j < len(chain) - 1:
            up = chain[j + 1].parent[up]
        if lev.G == inner.G:
            agg = full
        else:
            agg = np.add.reduceat(full, np.flatnonzero(np.r_[True, up[1:] != up[:-1]]), axis=0)
        own = slice(lev.off, lev.off + lev.q)
        lev.Rww = np.ascontiguousarray(agg[:, own, own])
        lev.Rwa = np.ascontiguousarray(agg[:, own, :lev.off])
        lev.Rwg = np.ascontiguousarray(agg[:, own, s:])


def build(y: np.ndarray, X: np.ndarray, blocks: list[RandomBlock], weights=None,
          max_chain: int | None = None, sparse: bool | None = None,
          frequency: bool = True, fixed_map=None) -> SuffStats:
    """The cross products of y, X and the blocks' random effects (optionally weighted; with
    frequency weights SuffStats.n is their sum, otherwise (precision or working weights:
    frequency=False) the number of rows, the caller adding log|W| where its likelihood needs it).
    max_chain limits the nested chain (the other terms are eliminated as the dense remainder);
    sparse forces the chain's coupling to the remainder sparse or dense where both are possible
    (None: by size). Both give the same numbers by another route (for tests).
    fixed_map (a standardize.FixedMap): y and X are given as the data are and the cross products
    are those of the standardized y~, X~ -- bit for bit what building on fixed_map.apply(y, X)
    gives, without holding a standardized copy of X beside the group-sorted one (issue 11:
    memory of a 1,000,000-row fit)."""
    y = np.asarray(y, dtype=float).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=float).reshape(n, -1)
    p = X.shape[1]
    w = None if weights is None else np.asarray(weights, dtype=float).reshape(n)
    blocks = sorted(blocks, key=lambda b: b.depth)   # stable: equal depths keep their order
    levels = []
    for b in blocks:
        q = b.Z.shape[1] if isinstance(b.Z, IndicatorMatrix) else np.asarray(b.Z).reshape(n, -1).shape[1]
        code = np.asarray(b.group).reshape(-1)
        levels.append(Level(q, int(code.max()) + 1 if n else 0,
                            Structure(normalize_structure(b.covariance, q), q), code, b.label))
    terms = terms_of(blocks, n)
    ci, parents, ri = split_terms(terms, max_chain)
    chain = _chain_levels(terms, ci, parents)
    rterms, m = [], 0
    for i in ri:
        rterms.append(RTerm(terms[i], m))
        m += terms[i].G * terms[i].q
    _chain_products(chain, X, y, w, fixed_map)
    auto = use_sparse(chain, rterms, m, n, p)
    sparse = auto if sparse is None else (bool(sparse) and use_sparse(chain, rterms, m, n, p, force=True))
    if sparse:
        chain[0].Br, chain[0].pairs = sparse_coupling(chain[0], rterms, m, w, n)
    elif m:
        for lev in chain:
            lev.Rwg = np.concatenate([_coupling(lev, rterms, m, w, n), lev.Rwg], axis=2)
    if fixed_map is not None:          # the whole-sample products want X~ itself: made here,
        y, X = fixed_map.apply(y, X)   # after the group-sorted copies above are gone
    Rgg = _global_products(rterms, m, X, y, w, n)
    return SuffStats(n=float(w.sum()) if (w is not None and frequency) else n, p=p, levels=levels, R0=Rgg[m:, m:],
                     chain=chain, rterms=rterms, m=m, Rgg=Rgg, weighted=w is not None, sparse=sparse)
