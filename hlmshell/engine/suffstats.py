"""One pass over the data: per-group cross products, after which a likelihood costs O(G q^3 + p^3).

Column order of the augmented design: [Z_1, ..., Z_K, X, y] (level 1 outermost). A group at level
k only ever touches its own Z_k columns and the "tail" [Z_1..Z_{k-1}, X, y] (its ancestors' effects
are one group each inside it), so per group we keep Z_k'Z_k and Z_k'[tail]; the tail x tail sums
are recovered from the level above, down to X'X, X'y, y'y for the whole sample.

fit_lmm hands it centred and scaled data (engine.standardize): sums of raw data with a large
mean would keep only the mean's digits (y + 1e10 leaves y'y with none of y's spread).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .types import RandomBlock
from .vcparams import Structure, normalize_structure


@dataclass
class Level:
    q: int
    off: int                 # number of ancestor random-effect columns (Z_1..Z_{k-1})
    ngroups: int
    parent: np.ndarray       # parent group of every group (level k-1); zeros for level 1
    starts: np.ndarray       # reduceat offsets: groups are numbered contiguously by parent
    Rww: np.ndarray          # (G, q, q)
    Rwt: np.ndarray          # (G, q, t), t = off + p + 1
    structure: Structure
    code: np.ndarray         # group of each observation (renumbered)


@dataclass
class SuffStats:
    n: int
    p: int
    levels: list[Level]
    R0: np.ndarray           # [X y]'[X y]


def _cross_by_group(code: np.ndarray, G: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """sum over rows of each group of left_i * right_j -> (G, a, b)."""
    a, b = left.shape[1], right.shape[1]
    if G == 1:
        return (left.T @ right)[None]
    out = np.empty((G, a, b))
    if a * b <= 4 * (a + b) or len(code) < 8 * G:
        for i in range(a):
            li = left[:, i]
            for j in range(b):
                out[:, i, j] = np.bincount(code, weights=li * right[:, j], minlength=G)
        return out
    order = np.argsort(code, kind="stable")
    cs = code[order]
    starts = np.flatnonzero(np.r_[True, cs[1:] != cs[:-1]])
    L = left[order]
    R = right[order]
    for s, e, g in zip(starts, np.r_[starts[1:], len(cs)], cs[starts]):
        out[g] = L[s:e].T @ R[s:e]
    return out


def build(y: np.ndarray, X: np.ndarray, blocks: list[RandomBlock]) -> SuffStats:
    y = np.asarray(y, dtype=float).reshape(-1)
    n = len(y)
    X = np.asarray(X, dtype=float).reshape(n, -1)
    p = X.shape[1]
    blocks = sorted(blocks, key=lambda b: b.depth)   # stable: equal depths keep their order
    Zs = [np.asarray(b.Z, dtype=float).reshape(n, -1) for b in blocks]
    Xy = np.column_stack([X, y])
    levels: list[Level] = []
    parent_code = np.zeros(n, dtype=np.int64)
    parent_G = 1
    off = 0
    for blk, Z in zip(blocks, Zs):
        raw = np.asarray(blk.group).reshape(-1)
        if len(raw) != n:
            raise ValueError("group codes do not match the data")
        # number groups contiguously by parent so parent sums are reduceat segments
        keys, inv = np.unique(raw, return_inverse=True)
        inv = inv.reshape(-1)
        G = len(keys)
        par = np.full(G, -1, dtype=np.int64)
        par[inv] = parent_code
        if np.any(par[inv] != parent_code):
            raise ValueError(f"level {blk.label} is not nested within the level above")
        order = np.lexsort((np.arange(G), par))
        newcode = np.empty(G, dtype=np.int64)
        newcode[order] = np.arange(G)
        code = newcode[inv]
        par = par[order]
        starts = np.flatnonzero(np.r_[True, par[1:] != par[:-1]]) if G > 1 else np.array([0])
        if len(starts) != parent_G:
            raise ValueError("empty parent group")
        q = Z.shape[1]
        tail = np.column_stack(Zs[:len(levels)] + [Xy]) if levels else Xy
        Rww = _cross_by_group(code, G, Z, Z)
        Rwt = _cross_by_group(code, G, Z, tail)
        kind = normalize_structure(blk.covariance, q)
        levels.append(Level(q=q, off=off, ngroups=G, parent=par, starts=starts, Rww=Rww, Rwt=Rwt,
                            structure=Structure(kind, q), code=code))
        off += q
        parent_code = code
        parent_G = G
    return SuffStats(n=n, p=p, levels=levels, R0=Xy.T @ Xy)
