"""Centring and scaling that leave a linear (mixed) model unchanged.

Why this exists: the engine works on cross-products ([X y]'[X y] and per-group Z'[X y]), and a
cross-product keeps only ~16 significant digits of its largest term. A covariate with mean 1e9
and spread 1 keeps ~7 digits of its spread in X'X; an outcome shifted by 1e10 loses all of its
within-group variation in y'y. Stata's estimates do not depend on such shifts and rescalings, so
the engine fits an equivalent problem in which every column is O(1), then maps the results back
exactly. Only maps that keep the model identical are used:

* outcome: y~ = (y - m_y) / c_y. The shift is allowed only when the fixed part has a constant
  column: it then moves into the intercept (and REML's residual contrasts never see it).
* fixed effects: X~ = (X - 1 m') S^-1 = X A, with 1 = X e_c / k (k the constant column's value)
  and A = (I - e_c m'/k) S^-1 invertible; so b = c_y A b~ + (m_y / k) e_c and
  V = c_y^2 A V~ A'. Centring a covariate is moving its mean into the intercept.
* random effects: Z~ = Z D^-1, D diagonal and positive; never centred, because a random slope on
  x and one on x - m are different models (under an identity or independent covariance).
  Identity and exchangeable blocks tie their variances together, so they get one common scale.
  Psi = c_y^2 D^-1 Psi~ D^-1, and the relative factor Lambda = D^-1 Lambda~.

Every scale is a power of two: multiplying by one is exact in binary floating point, so data
already in O(1) units are fitted with the same numbers as before, only centred.

Log likelihood (Stata reports the one of the data as given): y -> y~ has Jacobian c_y^-n, so
ML ll = ll~ - n log c_y. The REML criterion also contains -1/2 log|X'V^-1 X|, which changes by
-log|det A| under X -> X A, and its residual contrasts scale with c_y^(n-p):
REML ll = ll~ - (n - p) log c_y + log|det A|, log|det A| = -sum log s_j.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .types import IndicatorMatrix, RandomBlock
from .vcparams import Structure, normalize_structure


def pow2_scale(v) -> float:
    """The power of two nearest the root mean square of the nonzero entries of v (1 when there
    are none). Nonzero entries only, so a 0/1 indicator or a constant keeps scale 1 however
    rare its ones are; the result is equivariant: pow2_scale(2^k v) = 2^k pow2_scale(v).
    Vectorised passes without temporaries (max, min, count, one dot product); the sum of squares
    is taken on v / top only when v is so large or small that its squares would overflow or
    underflow."""
    a = np.asarray(v, dtype=np.float64).ravel()
    if a.size == 0:
        return 1.0
    top = max(float(a.max()), -float(a.min()))
    if not (top > 0 and math.isfinite(top)):
        return 1.0
    k = int(np.count_nonzero(a))
    if 1e-140 < top < 1e140:
        rms = math.sqrt(float(a @ a) / k)
    else:
        b = a / top
        rms = top * math.sqrt(float(b @ b) / k)   # no overflow for 1e200-sized data
    if not (rms > 0 and math.isfinite(rms)):
        return 1.0
    return math.ldexp(1.0, round(math.log2(rms)))


def centre_value(v) -> float:
    """A centre for v: its value when v is constant (so that v - centre is exactly zero), else
    the mean corrected by a second pass (the first pass's rounding error, relative to a large
    mean, would otherwise stay in the centred data)."""
    v = np.asarray(v, dtype=np.float64).ravel()
    if v.size == 0:
        return 0.0
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        return lo
    m = float(np.mean(v))
    m += float(np.mean(v - m))
    return m


def constant_column(X: np.ndarray) -> int | None:
    """Index of the first column of X whose entries are all one nonzero value (the intercept),
    None when there is none: only then may y and the covariates be centred."""
    n = X.shape[0]
    if n == 0:
        return None
    for j in range(X.shape[1]):
        col = X[:, j]
        if col[0] != 0 and bool(np.all(col == col[0])):
            return j
    return None


@dataclass
class FixedMap:
    """X~ = (X - shift) / scale column by column and y~ = (y - y_shift) / y_scale; see the
    module docstring for the maps of the estimates that this implies."""

    cons: int | None          # index of the constant column (None: nothing is centred)
    k: float                  # its value (1 for Stata's _cons)
    shift: np.ndarray         # per column, 0 for the constant column
    scale: np.ndarray         # per column, powers of two
    y_shift: float
    y_scale: float

    def apply(self, y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The standardized y and X; a zero shift or unit scale costs no pass over the data
        (subtracting 0 and dividing by 1 are exact, so skipping them changes no digit)."""
        yt = _affine(np.asarray(y, dtype=np.float64), self.y_shift, self.y_scale)
        Xt = _affine(np.asarray(X, dtype=np.float64), self.shift[None, :], self.scale[None, :])
        return yt, Xt

    def matrix(self) -> np.ndarray:
        """A with X~ = X A."""
        p = len(self.scale)
        T = np.eye(p)
        if self.cons is not None:
            T[self.cons, :] -= self.shift / self.k
        return T / self.scale[None, :]

    def beta(self, bt: np.ndarray) -> np.ndarray:
        b = self.y_scale * (self.matrix() @ np.asarray(bt, dtype=np.float64))
        if self.cons is not None:
            b[self.cons] += self.y_shift / self.k
        return b

    def vbeta(self, Vt: np.ndarray) -> np.ndarray:
        A = self.matrix()
        V = (self.y_scale ** 2) * (A @ np.asarray(Vt, dtype=np.float64) @ A.T)
        return 0.5 * (V + V.T)

    @property
    def log_det(self) -> float:
        """log|det A| (the centring part is unit triangular)."""
        return -float(np.sum(np.log(self.scale)))

    def ll_offset(self, n: int, reml: bool) -> float:
        """ll of the data as given minus ll of the standardized problem."""
        logc = math.log(self.y_scale)
        if reml:
            return -(n - len(self.scale)) * logc + self.log_det
        return -n * logc


def _affine(a: np.ndarray, shift, scale) -> np.ndarray:
    """(a - shift) / scale, skipping whichever step is the identity."""
    copied = False
    if np.any(shift != 0):
        a = a - shift
        copied = True
    if np.any(scale != 1):
        if copied:
            a /= scale           # in place on our own copy: no second n x p array
        else:
            a = a / scale
    return a


def fixed_map(y: np.ndarray, X: np.ndarray) -> FixedMap:
    """Centre (when X has a constant column) and scale y and the columns of X."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    X = np.asarray(X, dtype=np.float64).reshape(len(y), -1)
    p = X.shape[1]
    cons = constant_column(X)
    shift = np.zeros(p)
    scale = np.ones(p)
    for j in range(p):
        if j == cons:
            scale[j] = pow2_scale(X[:1, j])
            continue
        if cons is not None:
            shift[j] = centre_value(X[:, j])
        scale[j] = pow2_scale(X[:, j] - shift[j])
    y_shift = centre_value(y) if cons is not None else 0.0
    y_scale = pow2_scale(y - y_shift)
    k = float(X[0, cons]) if cons is not None else 1.0
    return FixedMap(cons, k, shift, scale, y_shift, y_scale)


def random_scales(blocks: list[RandomBlock]) -> list[np.ndarray]:
    """Per block, the scale d_j of each Z column; one common scale for identity and
    exchangeable blocks (their structure ties the variances together)."""
    out = []
    for b in blocks:
        if isinstance(b.Z, IndicatorMatrix):      # R.var columns: scale their entries, no n x L copy
            q = b.Z.shape[1]
            out.append(np.full(q, pow2_scale(b.Z.nonzero_values())))
            continue
        Z = np.asarray(b.Z, dtype=np.float64).reshape(len(b.group), -1)
        q = Z.shape[1]
        kind = normalize_structure(b.covariance, q)
        if kind in ("identity", "exchangeable"):
            out.append(np.full(q, pow2_scale(Z)))
        else:
            out.append(np.array([pow2_scale(Z[:, j]) for j in range(q)]))
    return out


def scale_blocks(blocks: list[RandomBlock], scales: list[np.ndarray]) -> list[RandomBlock]:
    """Blocks with Z~ = Z D^-1: copies where some scale is not 1, the caller's block itself
    where D = I (no pass over Z; the caller's blocks are never changed)."""
    return [b if np.all(d == 1) else
            replace(b, Z=b.Z.scaled(float(d[0]))) if isinstance(b.Z, IndicatorMatrix) else
            replace(b, Z=np.asarray(b.Z, dtype=np.float64).reshape(len(b.group), -1) / d[None, :])
            for b, d in zip(blocks, scales)]


def structure_of(block: RandomBlock) -> Structure:
    """The block's covariance parametrisation (what the maps of Lambda and of the Stata-metric
    parameters need, before any sufficient statistics exist)."""
    Z = block.Z if isinstance(block.Z, IndicatorMatrix) else np.asarray(block.Z)
    q = Z.shape[1] if Z.ndim == 2 else 1
    return Structure(normalize_structure(block.covariance, q), q)
