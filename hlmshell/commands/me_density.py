"""predict density / distribution after the me* GLMMs ([ME] meglm postestimation): the
conditional distribution of the outcome evaluated at the observed outcome, f(y | eta) and
F(y | eta) = Pr(Y <= y | eta), with eta the linear predictor as the other statistics take it
(empirical Bayes means of the random effects by default, modes, or fixed portion only).

Why a module of its own: the three predict paths (one level, several levels, no random
effects) share it, and the families' cumulative distributions (binomial, Poisson, the two
negative binomials, ordinal) are not part of the engine's log-density derivatives."""
from __future__ import annotations

import math

import numpy as np

from hlmshell.errors import StataError

LABELS = {"density": "Predicted density", "distribution": "Predicted distribution function"}


def _counts(fam, y, mu, trials, stat):
    from scipy import stats
    if fam.name == "binomial":
        n = np.broadcast_to(trials, y.shape)
        dist = stats.binom(n, np.clip(mu / np.where(n > 0, n, 1.0), 0.0, 1.0))
    elif fam.name == "poisson":
        dist = stats.poisson(mu)
    elif getattr(fam, "dispersion", "mean") == "constant":
        delta = math.exp(float(fam.extra[0]))
        dist = stats.nbinom(mu / delta, 1.0 / (1.0 + delta))
    else:
        r = math.exp(-float(fam.extra[0]))
        dist = stats.nbinom(r, r / (r + mu))
    return dist.pmf(y) if stat == "density" else dist.cdf(y)


def column(fam, stat: str, y: np.ndarray, eta: np.ndarray, trials: np.ndarray,
           levels: np.ndarray | None = None, bernoulli: bool = False) -> np.ndarray:
    """f(y) or F(y) per observation; missing where y or eta is. `levels`: the ordinal
    outcome's categories in the estimation sample (a value outside them has no probability);
    `bernoulli`: y read as Stata reads a 0/1 outcome (0 or not 0)."""
    ok = np.isfinite(y) & np.isfinite(eta)
    out = np.full(len(y), np.nan)
    if not ok.any():
        return out
    e, v = eta[ok], y[ok]
    if fam.name == "ordinal":
        from hlmshell.engine import glmm_residuals as gr
        P = gr.ordinal_probs(fam, e)
        k = np.searchsorted(levels, v)
        known = (k < len(levels)) & (levels[np.minimum(k, len(levels) - 1)] == v)
        k = np.minimum(k, len(levels) - 1)
        P = P if stat == "density" else np.cumsum(P, axis=1)
        vals = np.where(known, P[np.arange(len(v)), k], np.nan)
    else:
        if bernoulli:
            v = (v != 0).astype(float)
        with np.errstate(all="ignore"):
            vals = _counts(fam, v, fam.mean(e, trials[ok]), trials[ok], stat)
    out[ok] = vals
    return out


def trials_of(res, data, stat) -> np.ndarray:
    """The binomial denominators (mu is the expected count; pr keeps the probability)."""
    trials = np.ones(data.n)
    bt = res.macros.get("binomial")
    if bt and stat != "pr":
        try:
            trials = np.full(data.n, float(bt))
        except ValueError:
            trials = np.asarray(data.values(bt), dtype=float)
    return trials


def outcome_levels(res, data) -> np.ndarray:
    """The outcome's values in the estimation sample (the ordinal categories, in order)."""
    y = np.asarray(data.values(res.depvar), dtype=float)[np.asarray(res.sample, dtype=bool)]
    return np.unique(y[~np.isnan(y)])


def predict(session, cmd, res, fam, stat, eta, touse, fixedonly: bool = False) -> None:
    """Adds the one new variable of `predict newvar, density|distribution`."""
    from hlmshell.commands.predict import _add, _new_names
    data = session.data
    vtype, names = _new_names(cmd.body or "", None)
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    y = np.asarray(data.values(res.depvar), dtype=float)
    trials = trials_of(res, data, stat)
    levels = outcome_levels(res, data) if fam.name == "ordinal" else None
    bernoulli = fam.name == "binomial" and not res.macros.get("binomial")
    col = column(fam, stat, y, np.asarray(eta, dtype=float), trials, levels, bernoulli)
    suffix = ", fixed portion only" if fixedonly else ""
    _add(session, names, [col], [LABELS[stat] + suffix], vtype, touse)
