"""Marginal predictions after a GLMM with several random-effects levels: the mean (or an
ordinal model's category probabilities) integrated over the random effects' prior, Stata's
`predict ..., marginal`.

Why a one-dimensional integral suffices: the levels' effects are independent normals,
b_k ~ N(0, Psi_k), so for one observation the random part of the linear predictor,
sum_k z_ik' b_k, is a single normal variable with variance s_i^2 = sum_k z_ik' Psi_k z_ik.
Whatever the number of levels (nested or crossed) and of effects per level, the marginal
mean E[g^-1(xb_i + e)] over e ~ N(0, s_i^2) is the same one-level integral that
engine.glmm_residuals.marginal computes; this module only supplies s_i.

Why a module of its own: engine.glmm_multi holds the fit; this is post-estimation only.
"""
from __future__ import annotations

import numpy as np

from hlmshell.engine import glmm_residuals as gr


def eta_variance(levels) -> np.ndarray:
    """s_i^2 = sum over levels of z_i' Psi z_i. `levels`: pairs (Z, Psi), Z the level's
    covariate rows (n, q) for every observation (NaN where unknown), Psi its q x q covariance
    (a 1 x 1 Psi with q > 1 columns means Psi[0, 0] times the identity)."""
    total = None
    for Z, psi in levels:
        Z = np.asarray(Z, dtype=float)
        psi = np.atleast_2d(np.asarray(psi, dtype=float))
        if psi.shape[0] == 1 and Z.shape[1] > 1:
            psi = psi[0, 0] * np.eye(Z.shape[1])
        part = np.einsum("ij,jk,ik->i", Z, psi, Z)
        total = part if total is None else total + part
    return total


def marginal(fn, xb, s2, points: int = 30):
    """E over e ~ N(0, s2_i) of fn(xb_i + e) per observation (fn maps (n, K) etas to
    (n, K, ...)), by the one-level rule of engine.glmm_residuals; NaN where s2 is unknown."""
    s2 = np.asarray(s2, dtype=float)
    known = np.isfinite(s2)
    sd = np.sqrt(np.clip(np.where(known, s2, 0.0), 0.0, None))
    out = gr.marginal(fn, np.asarray(xb, dtype=float), sd[:, None], np.eye(1), points)
    mask = known.reshape((-1,) + (1,) * (np.ndim(out) - 1))
    return np.where(mask, out, np.nan)
