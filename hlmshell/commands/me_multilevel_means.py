"""The means, residuals and ordinal probabilities that predict gives after an me* fit with
several random-effects levels (commands.me_multilevel_predict): mu and pr conditional on the
predicted random effects of every level (or with none: fixedonly) or `marginal` (integrated
over the effects' prior, engine.glmm_multi_marginal); Pearson, deviance and Anscombe
residuals at the conditional mean; the ordinal models' category probabilities with outcome()
or one new variable per category.

Why beside commands.me_predict and built from its pieces: one level and several must give the
same statistic with the same labels, so the residual definitions (engine.glmm_residuals via
me_predict.RESIDUALS), the binomial denominators, the outcome() rules and the labels come
from there; only what the random part of the linear predictor is differs.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import me_predict
from hlmshell.commands.predict import _add, _new_names, z_values
from hlmshell.engine import glmm_multi_marginal as gmm
from hlmshell.engine import glmm_residuals as gr
from hlmshell.engine.types import IndicatorMatrix
from hlmshell.errors import StataError


def random_variance(model, data, sample) -> np.ndarray:
    """Per observation the variance of the random part of the linear predictor under the
    effects' prior (NaN where a level's covariate is unknown). An `R.var` level contributes
    its variance times the row's slope value squared (1 for a pure indicator)."""
    pos = np.flatnonzero(sample)
    levels = []
    for blk, psi in zip(model.blocks, model.fit.covs):
        psi = np.atleast_2d(np.asarray(psi, dtype=float))
        if isinstance(blk.Z, IndicatorMatrix):
            slope = blk.Z.factors[0][2]
            col = np.full(data.n, np.nan)
            if slope is None:
                col[:] = 1.0
            else:
                col[pos] = slope
            levels.append((col[:, None], psi[:1, :1]))
        else:
            levels.append((z_values(blk, data, sample), psi))
    return gmm.eta_variance(levels)


def mean_or_residual(session, cmd, opts, res, model, stat, xb, eta, s2, touse, fixedonly):
    """mu, pr or a residual: at the conditional mean, with zero effects, or the marginal mean."""
    data = session.data
    trials = me_predict._trials(res, data, stat)
    fam = model.family
    if opts.marginal:
        mu = gmm.marginal(lambda e: fam.mean(e, trials[:, None]), xb, s2)
    else:
        mu = fam.mean(eta, trials)
    suffix = ", fixed portion only" if fixedonly else (", marginal" if opts.marginal else "")
    vtype, names = _new_names(cmd.body or "", None)
    if stat in me_predict.RESIDUALS:
        fn, label = me_predict.RESIDUALS[stat]
        y = np.asarray(data.values(res.depvar), dtype=float)
        if fam.name == "binomial" and not res.macros.get("binomial"):
            y = np.where(np.isnan(y), np.nan, (y != 0).astype(float))
        with np.errstate(all="ignore"):
            col = fn(fam, y, mu, trials)
        _add(session, names, [col], [label + suffix], vtype, touse)
        return
    label = "Predicted mean" if stat == "mu" else "Predicted probability"
    _add(session, names, [mu], [label + suffix], vtype, touse)


def ordinal(session, cmd, opts, res, model, xb, eta, s2, touse) -> None:
    """pr after meologit/meoprobit: the category chosen by outcome(), or one variable per
    category (a stub* or k names); conditional, fixedonly or marginal as mu."""
    fam = model.family
    levels = me_predict._levels(res, session.data)
    which = me_predict._categories_request(cmd, opts, res, session.data)
    if opts.marginal:
        P = gmm.marginal(lambda e: gr.ordinal_probs(fam, e), xb, s2)
    else:
        P = gr.ordinal_probs(fam, eta)
    count = None if len(which) == 1 else len(which)
    vtype, names = _new_names(cmd.body or "", count)
    if len(which) == 1 and len(names) != 1:
        raise StataError("too many variables specified", 103)
    if not opts.raw("outcome") and len(which) == 1 and len(levels) > 1:
        session.out.line("(option pr assumed; predicted probability of the first outcome)")
    labels = [f"Pr({res.depvar}=={me_predict._value_text(levels[k])})" for k in which]
    _add(session, names, [P[:, k] for k in which], labels, vtype, touse)
