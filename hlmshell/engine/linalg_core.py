"""Profiled (restricted) deviance of a linear mixed model and its exact gradient.

Works on SuffStats only. forward/backward are the blocked factorisation of
[Z Lambda, X, y]'[Z Lambda, X, y] + diag(I, 0) and its adjoint (engine.blocked: nested,
crossed and partially crossed random effects); what reaches the top is [X y]' H^-1 [X y] with
H = V / sigma^2, and the log-determinants add up to log|H|. The deviances below are functions
of those two, with their derivatives dF/dM0 for the backward pass.
"""
from __future__ import annotations

import math

import numpy as np

from . import blocked
from .blocked import Evaluation, inv_logdet  # noqa: F401  (inv_logdet: part of this module's API)
from .suffstats import SuffStats

LOG2PI = math.log(2 * math.pi)


def forward(ss: SuffStats, lams: list[np.ndarray]) -> Evaluation:
    """Factorise at relative factors `lams` (one per level): engine.blocked.forward."""
    return blocked.forward(ss, lams)


def backward(ss: SuffStats, ev: Evaluation, M0bar: np.ndarray) -> list[np.ndarray]:
    """Adjoint of f = log|H| + g(M0) given dg/dM0 (symmetric) -> d f / d Lambda_k (per level):
    engine.blocked.backward."""
    return blocked.backward(ss, ev, M0bar)


def profiled_terms(ss: SuffStats, ev: Evaluation, reml: bool):
    """Profiled deviance (-2 ll, sigma^2 and beta profiled) and dDev/dM0."""
    n, p = ss.n, ss.p
    nu = n - p if reml else n
    r2 = ev.r2
    if not (r2 > 0):
        raise np.linalg.LinAlgError("non-positive residual sum of squares")
    dev = ev.logdet + nu * (1.0 + LOG2PI + math.log(r2 / nu))
    v = np.r_[-ev.beta, 1.0]
    M0bar = (nu / r2) * np.outer(v, v)
    if reml:
        dev += ev.logdetQ
        M0bar[:p, :p] += np.linalg.inv(ev.Q)
    return dev, M0bar


def unprofiled_terms(ss: SuffStats, ev: Evaluation, sigma2: float, reml: bool):
    """-2 ll at a given sigma^2 (beta still at its GLS value), dF/dM0 and dF/dsigma^2."""
    n, p = ss.n, ss.p
    nu = n - p if reml else n
    r2 = ev.r2
    f = ev.logdet + r2 / sigma2 + nu * (LOG2PI + math.log(sigma2))
    v = np.r_[-ev.beta, 1.0]
    M0bar = np.outer(v, v) / sigma2
    if reml:
        f += ev.logdetQ
        M0bar[:p, :p] += np.linalg.inv(ev.Q)
    dsig = nu / sigma2 - r2 / sigma2 ** 2
    return f, M0bar, dsig
