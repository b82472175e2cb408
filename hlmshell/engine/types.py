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


@dataclass
class RandomBlock:
    """One random-effects equation `|| group: vars, covariance(...)`.

    group : int64 code 0..G-1 per observation of the estimation sample. For nested levels the
            codes of an inner level are unique across the whole sample (school/class pairs), and
            every inner group lies inside one group of the level above.
    Z     : n x q, columns in Stata's order (slopes as typed, `_cons` last).
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
