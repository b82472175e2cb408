"""predict after the me* commands with several random-effects levels (commands.me_multilevel).

Statistics: mu (the default; the mean conditional on the predicted random effects of every
level), pr (binary outcomes; after meologit/meoprobit the default, one variable per category
or the one outcome() names), eta, xb, stdp, pearson, deviance and anscombe residuals (at the
conditional mean), reffects (one new variable per random effect per level, outermost level
first; an `R.var` level gives one: the effect of the row's level) with reses(); ebmodes for
the conditional modes, fixedonly / conditional(fixedonly) for zero random effects; marginal:
mu and pr integrated over the random effects' prior (engine.glmm_multi_marginal).

The predicted effects are posterior means by the nested adaptive quadrature (with the fit's
intpoints()) for nested models fitted by quadrature (Stata's ebmeans), and the joint
conditional modes otherwise (Laplace fits, crossed models, ebmodes), with standard errors from
the posterior covariance or the curvature at the modes (engine.glmm_multi.posterior). The
statistics' rules, definitions and labels are the one-level ones (commands.me_predict, via
commands.me_multilevel_means).

Why a module of its own: commands.me_predict owns predict after the one-level models; this
module wraps its entry in predict.PREDICTORS so a multi-level fit comes here (it imports
me_predict, which knows nothing of it).
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import me_multilevel_means as means
from hlmshell.commands import me_density, me_predict
from hlmshell.commands.me_multilevel import level_labels
from hlmshell.commands.predict import (PREDICTORS, _add, _new_names, _touse, group_codes_all,
                                       stdp_all, xb_all, z_values)
from hlmshell.engine.types import IndicatorMatrix
from hlmshell.errors import StataError


def _statistic(opts, ordinal: bool) -> str:
    """The one-level rules (commands.me_predict): one statistic, outcome() only after the
    ordinal models, marginal only with mu and pr, no mu or residuals after ordinal ones."""
    return me_predict._statistic(opts, ordinal)


def _points(res, opts=None) -> int:
    """The quadrature points of the posterior means: predict's intpoints(#), else the fit's
    intpoints() (Stata's default for predict), 7 when the fit was by the Laplace
    approximation (modes are used then)."""
    if opts is not None and opts.raw("intpoints") is not None:
        return me_predict.eb_points(res, opts)
    n = int(res.scalars.get("n_quad", 7) or 7)
    return n if n > 1 else 7


def _level_columns(model, data, sample):
    """Per level: group codes for every observation (-1 unknown) and, for an `R.var` level,
    the factor's level of every sample row (other rows -1)."""
    codes = group_codes_all(model, data, sample)
    pos = np.flatnonzero(sample)
    out = []
    for blk, c in zip(model.blocks, codes):
        if isinstance(blk.Z, IndicatorMatrix):
            lev = np.full(data.n, -1, dtype=np.int64)
            lev[pos] = blk.Z.factors[0][0]
            c = np.where(lev >= 0, c, -1)
            out.append((c, lev))
        else:
            out.append((c, None))
    return out


def _effects(model, data, sample, bs, src):
    """Per level the predicted effects (or their SEs) of every observation, (n, q_k) with
    an `R.var` level reduced to its one column."""
    cols = []
    for blk, b, (codes, lev) in zip(model.blocks, src, _level_columns(model, data, sample)):
        known = codes >= 0
        if lev is not None:
            col = np.full((data.n, 1), np.nan)
            col[known, 0] = b[codes[known], lev[known]]
        else:
            col = np.full((data.n, b.shape[1]), np.nan)
            col[known] = b[codes[known]]
        cols.append(col)
    return cols


def _eta_random(model, data, sample, bs) -> np.ndarray:
    total = np.zeros(data.n)
    for blk, col in zip(model.blocks, _effects(model, data, sample, bs, bs)):
        if isinstance(blk.Z, IndicatorMatrix):
            slope = blk.Z.factors[0][2]
            if slope is None:
                total += col[:, 0]
            else:
                v = np.full(data.n, np.nan)
                v[np.flatnonzero(sample)] = slope
                total += col[:, 0] * v
        else:
            total += np.sum(z_values(blk, data, sample) * col, axis=1)
    return total


def predict(session, cmd, res, opts) -> None:
    from hlmshell.engine import glmm_multi as gm
    model = res.model
    ordinal = model.family.name == "ordinal"
    stat = _statistic(opts, ordinal)
    data = session.data
    touse = _touse(session, cmd)
    cond = (opts.raw("conditional") or "").strip()
    modes = bool(opts.ebmodes) or cond.startswith("ebmod")
    fixedonly = bool(opts.fixedonly) or cond.startswith("fix")
    if opts.marginal and (modes or fixedonly):
        raise StataError("option marginal may not be combined with conditional()", 198)
    if stat in ("xb", "stdp"):
        vtype, names = _new_names(cmd.body or "", None)
        col = xb_all(res, data) if stat == "xb" else stdp_all(res, data)
        label = "Linear prediction, fixed portion" if stat == "xb" else "S.E. of the prediction"
        _add(session, names, [col], [label], vtype, touse)
        return
    if stat == "pr" and not ordinal and model.family.name != "binomial":
        raise StataError("option pr not allowed after this model", 198)
    if ordinal and stat == "pr":
        me_predict._categories_request(cmd, opts, res, data)   # checked before any work
    sample = np.asarray(res.sample, dtype=bool)
    if stat in ("reffects", "reses"):
        bs, ses = gm.posterior(model, modes=modes, points=_points(res, opts))
        _reffects(session, cmd, opts, model, bs, ses, sample, touse, stat, modes)
        return
    xb = xb_all(res, data) + me_predict._offset(res, data, opts)
    eta, s2 = xb, None
    if opts.marginal:
        s2 = means.random_variance(model, data, sample)
    elif not fixedonly:
        bs, _ = gm.posterior(model, modes=modes, points=_points(res, opts))
        eta = xb + _eta_random(model, data, sample, bs)
    if stat == "eta":
        vtype, names = _new_names(cmd.body or "", None)
        _add(session, names, [eta], ["Fitted linear predictor"], vtype, touse)
        return
    if stat in ("density", "distribution"):
        me_density.predict(session, cmd, res, model.family, stat, eta, touse, fixedonly)
        return
    if ordinal:
        means.ordinal(session, cmd, opts, res, model, xb, eta, s2, touse)
        return
    means.mean_or_residual(session, cmd, opts, res, model, stat, xb, eta, s2, touse, fixedonly)


def _reffects(session, cmd, opts, model, bs, ses, sample, touse, stat, modes) -> None:
    labels = level_labels(model.blocks)
    what = "empirical Bayes's modes" if modes else "empirical Bayes's means"
    vals = _effects(model, session.data, sample, bs, bs)
    errs = _effects(model, session.data, sample, bs, ses)
    cols, secols, labs = [], [], []
    for blk, lab, v, e in zip(model.blocks, labels, vals, errs):
        names = ["_cons"] if isinstance(blk.Z, IndicatorMatrix) else blk.names
        for j, nm in enumerate(names):
            cols.append(v[:, j])
            secols.append(e[:, j])
            labs.append(f"{what} for {nm}[{lab}]")
    vtype, names = _new_names(cmd.body or "", len(cols))
    if stat == "reses":
        _add(session, names, secols, [f"S.E. of {lb}" for lb in labs], vtype, touse)
        return
    _add(session, names, cols, labs, vtype, touse)
    if opts.reses:
        _, se_names = _new_names(" ".join(opts.reses), len(cols))
        _add(session, se_names, secols, [f"S.E. of {lb}" for lb in labs], vtype, touse)


def _install() -> None:
    """Route multi-level fits here, every other fit to the predictor registered before."""
    for name in ("melogit", "meprobit", "mecloglog", "mepoisson", "menbreg", "meologit",
                 "meoprobit", "meglm"):
        inner = PREDICTORS.get(name, me_predict.predict)

        def dispatch(session, cmd, res, opts, _inner=inner):
            if type(res.model).__name__ == "MultiModel":
                return predict(session, cmd, res, opts)
            return _inner(session, cmd, res, opts)

        PREDICTORS[name] = dispatch


_install()
