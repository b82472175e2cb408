"""Data types passed between the model builder, the optimiser and post-estimation.

Flow (after lme4's lFormula -> mkLmerDevfun -> optimizeLmer -> mkMerMod):
  design.build_design(...)  -> Design (X with names/omitted flags, y, RandomBlocks)
  lmm.fit_lmm(y, X, blocks)  -> LmmFit (estimates, VCEs, Stata-metric variance parameters)
  commands/estimation.py packages Design + LmmFit into MixedResults (model=MixedModel).
  lmm.variance_components(fit, blocks) -> [BlockComponents], VarComponent (the residual)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class IndicatorMatrix:
    """Random-effect columns of `R.var` terms kept as level codes, never as dense n x L columns.

    Column layout: for each factor in `factors` its L levels (indicator times the factor's
    value column, 1 when None), then the `dense` columns (n x d, any other variables typed in
    the same equation). Quacks enough like the dense matrix for code that only looks at
    `shape`; `np.asarray(M)` materialises it (only small-data callers should). The engine
    (suffstats, blocked, blup) reads `factors` and `dense` directly.

    factors : list of (codes, nlevels, values): codes int64 0..L-1 per observation,
              values None (pure indicators) or a float column (a slope per level).
    """

    ndim = 2
    dtype = np.dtype(np.float64)

    def __init__(self, factors: list, dense: np.ndarray | None, n: int):
        self.factors = [(np.asarray(c, dtype=np.int64).reshape(-1), int(L),
                         None if v is None else np.asarray(v, dtype=np.float64).reshape(-1))
                        for c, L, v in factors]
        self.dense = None if dense is None or np.size(dense) == 0 else \
            np.asarray(dense, dtype=np.float64).reshape(n, -1)
        self.n = int(n)

    @property
    def shape(self) -> tuple[int, int]:
        d = 0 if self.dense is None else self.dense.shape[1]
        return (self.n, sum(L for _, L, _ in self.factors) + d)

    def nonzero_values(self) -> np.ndarray:
        """Every stored entry (what a scale of the nonzero entries needs)."""
        parts = [np.ones(self.n) if v is None else v for _, _, v in self.factors]
        if self.dense is not None:
            parts.append(self.dense.ravel())
        return np.concatenate(parts) if parts else np.zeros(0)

    def scaled(self, d: float) -> "IndicatorMatrix":
        """The columns divided by one common scale d (an identity block's)."""
        if d == 1:
            return self
        f = [(c, L, (np.ones(self.n) if v is None else v) / d) for c, L, v in self.factors]
        return IndicatorMatrix(f, None if self.dense is None else self.dense / d, self.n)

    def __array__(self, dtype=None, copy=None):
        out = np.zeros(self.shape)
        col = 0
        rows = np.arange(self.n)
        for c, L, v in self.factors:
            out[rows, col + c] = 1.0 if v is None else v
            col += L
        if self.dense is not None:
            out[:, col:] = self.dense
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, idx):
        return np.asarray(self)[idx]


@dataclass
class RandomBlock:
    """One random-effects equation `|| group: vars, covariance(...)`.

    group : int64 code 0..G-1 per observation of the estimation sample. For nested levels the
            codes of an inner level are unique across the whole sample (school/class pairs), and
            every inner group lies inside one group of the level above.
    Z     : n x q, columns in Stata's order (slopes as typed, `_cons` last); for `R.var` terms
            an IndicatorMatrix (level codes, never a dense n x L array).
    names : q column names, e.g. ['ses', '_cons'].
    covariance : 'identity' | 'independent' | 'exchangeable' | 'unstructured'.
    label : the level variable as typed ('id'; '_all' for crossed effects).
    depth : 1 for the outermost level, 2 for the next one in, ... (Stata's lns<depth>_...).
    """

    group: np.ndarray
    Z: np.ndarray
    names: list[str]
    covariance: str
    label: str
    depth: int = 1


@dataclass
class VarComponent:
    """One random-effects parameter in the metric asked for, with its delta-method standard
    error and confidence interval (None when e(V) is unavailable).

    kind  : 'var' | 'sd' (a variance / standard deviation) or 'cov' | 'corr' (a pair's).
    names : the random-effect columns it concerns: ('ses',), ('ses', '_cons'), every column of
            an identity or exchangeable block; () for the residual.
    """

    kind: str
    names: tuple[str, ...]
    est: float
    se: float | None
    lo: float | None
    hi: float | None


@dataclass
class BlockComponents:
    """The parameters of one random-effects block, in Stata's order."""

    block: int                       # index into the model's blocks
    level: str                       # its level variable ('id'; '_all' for crossed effects)
    structure: str                   # 'identity' | 'independent' | 'exchangeable' | 'unstructured'
    rows: list[VarComponent]


@dataclass
class LmmFit:
    beta: np.ndarray                 # p fixed effects (non-omitted columns only)
    V_beta: np.ndarray               # p x p, (X'V^-1 X)^-1 at the estimates
    ll: float                        # log likelihood (ML) or log restricted-likelihood (REML)
    reml: bool
    converged: bool
    iterations: int
    sigma2: float                    # residual variance
    covs: list[np.ndarray]           # per block: q x q covariance matrix of its random effects
    vc_names: list[tuple[str, str]]  # Stata e(b) columns of the variance part, e.g. ('lns1_1_1','_cons'),
                                     # ('atr1_1_1_2','_cons'), ('lnsig_e','_cons')
    vc_theta: np.ndarray             # their values (log sd, atanh corr, ln sigma_e)
    vc_V: np.ndarray | None          # their covariance; None when the Hessian could not be inverted
    n_obs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class MixedModel:
    """The fitted model behind `mixed`'s results: enough to predict (BLUPs) and for estat."""

    y: np.ndarray
    X: np.ndarray                    # n x p, non-omitted fixed columns only
    blocks: list[RandomBlock]
    fit: LmmFit
    fixed_names: list[str]           # Stata names of all fixed columns, omitted ones included
    omitted: np.ndarray              # per fixed column
    weights: np.ndarray | None = None   # observation weights of the fit (fweights, level-1 pweights)
    group_weights: np.ndarray | None = None   # fweight()/pweight() per group of the (one) level


@dataclass
class BlockBlups:
    """BLUPs of one random-effects block: row g = group code g, column = block.names."""

    u: np.ndarray           # G x q
    se: np.ndarray | None   # G x q, or None when not requested
