"""predict after melogit, meprobit, mecloglog, mepoisson, menbreg, meologit, meoprobit and
meglm (one level).

Statistics: mu (the default: the mean, conditional on the empirical Bayes means of the random
effects), pr (the probability: binary outcomes; after the ordinal models the default, one new
variable per category or one category chosen by outcome(#) / outcome(#k)), eta (the linear
predictor with the random effects; fitted, its old name, is still accepted, as by Stata's
meglm_p), xb (fixed part only), stdp, reffects (EB means; ebmodes for the modes) with
reses(stubs) or reses alone (their posterior standard deviations), density and distribution
(commands.me_density: f(y) and F(y) at the observed outcome), pearson, deviance and anscombe
residuals (at the conditional mean, as Stata's, or the marginal one).
conditional(fixedonly) or fixedonly: mu, pr, eta and the residuals with zero random effects;
marginal: mu and pr integrated over the random effects' distribution (engine.glmm_residuals).
nooffset drops offset()/exposure(). Observations outside the estimation sample get a prediction
when their group was estimated (else the fixed part only for xb, missing for the rest), as
Stata's."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import me_density
from hlmshell.commands.predict import (PREDICTORS, _add, _new_names, _touse, group_codes_all,
                                       stdp_all, xb_all, z_values)
from hlmshell.engine import glmm
from hlmshell.engine import glmm_residuals as gr
from hlmshell.errors import StataError

STATS = ("mu", "pr", "eta", "xb", "stdp", "reffects", "pearson", "deviance", "anscombe",
         "density", "distribution")
RESIDUALS = {"pearson": (gr.pearson, "Pearson residuals"),
             "deviance": (gr.deviance, "Deviance residuals"),
             "anscombe": (gr.anscombe, "Anscombe residuals")}


# what predict takes after the me* GLMMs ([ME] meglm postestimation); anything else predict's
# shared syntax knows (hazard, ir, cooksd, ...) is refused, not silently taken as the default
ALLOWED = STATS + ("reses", "fitted", "conditional", "fixedonly", "ebmeans", "ebmodes",
                   "marginal", "nooffset", "outcome", "intpoints")


def eb_points(res, opts) -> int:
    """The quadrature points of the empirical Bayes means: intpoints(#) when given, else the
    fit's (1 after a Laplace fit: the modes)."""
    given = opts.raw("intpoints")
    if given is None:
        return int(res.scalars.get("n_quad", 7) or 7)
    k = opts.intpoints
    if not 1 <= k <= 128:
        raise StataError("intpoints() must be an integer between 1 and 128", 198)
    return int(k)


def _statistic(opts, ordinal: bool = False) -> str:
    for name in getattr(opts, "given", {}):
        if name not in ALLOWED and name not in ("scores", "residuals", "rstandard", "relevel"):
            raise StataError(f"option {name} not allowed", 198)
    chosen = [s for s in STATS if getattr(opts, s, False)]
    if "fitted" in opts and "eta" not in chosen:
        chosen.append("eta")            # Stata's meglm_p keeps fitted as an undocumented eta
    if "reses" in opts and not opts.reses:
        chosen.append("reses")
    for bad in ("residuals", "rstandard", "scores", "u", "e", "ue", "xbu", "relevel"):
        if bad in opts:
            raise StataError(f"option {bad} not allowed", 198)
    if len(chosen) > 1:
        raise StataError("only one statistic may be specified", 198)
    if ordinal and chosen and chosen[0] in ("mu", "pearson", "deviance", "anscombe"):
        raise StataError(f"option {chosen[0]} not allowed after an ordinal model", 198)
    if opts.raw("outcome") and not ordinal:
        raise StataError("option outcome() not allowed", 198)
    if opts.marginal and chosen and chosen[0] not in ("mu", "pr"):
        raise StataError(f"option marginal not allowed with {chosen[0]}", 198)
    return chosen[0] if chosen else ("pr" if ordinal else "mu")


def _offset(res, data, opts) -> np.ndarray:
    if opts.nooffset:
        return np.zeros(data.n)
    off = np.zeros(data.n)
    for name in ("offset", "exposure"):
        var = res.macros.get(name)
        if var:
            v = np.asarray(data.values(var), dtype=float)
            off = off + (np.log(v) if name == "exposure" else v)
    return off


def predict(session, cmd, res, opts) -> None:
    if res.macros.get("model") == "glm":        # fitted without a random-effects equation
        import importlib                       # me_onelevel builds on this module's helpers
        importlib.import_module("hlmshell.commands.me_onelevel").predict(session, cmd, res, opts)
        return
    model: glmm.GlmmModel = res.model
    ordinal = model.family.name == "ordinal"
    stat = _statistic(opts, ordinal)
    data = session.data
    touse = _touse(session, cmd)
    modes = bool(opts.ebmodes) or (opts.raw("conditional") or "").strip().startswith("ebmod")
    # the posterior means use the fit's integration points (Stata's default); after a Laplace
    # fit that is one adaptive point, whose mean is the mode
    points = eb_points(res, opts)
    fixedonly = bool(opts.fixedonly) or (opts.raw("conditional") or "").strip().startswith("fix")
    if opts.marginal and (modes or fixedonly):
        raise StataError("option marginal may not be combined with conditional()", 198)
    modes = modes or points <= 1
    if stat in ("xb", "stdp"):
        vtype, names = _new_names(cmd.body or "", None)
        col = xb_all(res, data) if stat == "xb" else stdp_all(res, data)
        label = "Linear prediction, fixed portion" if stat == "xb" else "S.E. of the prediction"
        _add(session, names, [col], [label], vtype, touse)
        return
    if stat == "pr" and not ordinal and model.family.name != "binomial":
        raise StataError("option pr not allowed after this model", 198)
    if ordinal:
        _categories_request(cmd, opts, res, data)        # checked before anything is computed
    sample = np.asarray(res.sample, dtype=bool)
    block = model.blocks[0]
    codes = group_codes_all(model, data, sample)[0]
    known = codes >= 0
    if stat in ("reffects", "reses"):
        b, se = glmm.posterior(model, modes=modes, points=max(points, 1))
        _reffects(session, cmd, opts, block, b, se, codes, known, touse, stat, modes)
        return
    xb = xb_all(res, data) + _offset(res, data, opts)
    Z = z_values(block, data, sample)
    eta = xb
    if not fixedonly and not opts.marginal:
        b, _ = glmm.posterior(model, modes=modes, points=max(points, 1))
        zb = np.full(data.n, np.nan)
        zb[known] = np.sum(Z[known] * b[codes[known]], axis=1)
        eta = xb + zb
    if stat == "eta":
        _add(session, names_of(cmd), [eta], ["Fitted linear predictor"], "float", touse)
        return
    if stat in ("density", "distribution"):
        me_density.predict(session, cmd, res, model.family, stat, eta, touse, fixedonly)
        return
    if ordinal:
        _ordinal(session, cmd, opts, res, model, xb, eta, Z, touse)
        return
    _mean_or_residual(session, cmd, opts, res, model, stat, xb, eta, Z, touse, fixedonly)


def _mean_or_residual(session, cmd, opts, res, model, stat, xb, eta, Z, touse, fixedonly):
    """mu, pr or a residual (conditional mean, zero random effects or the marginal mean)."""
    data = session.data
    trials = _trials(res, data, stat)
    fam = model.family
    if opts.marginal:
        mu = gr.marginal(lambda e: fam.mean(e, trials[:, None]), xb, np.nan_to_num(Z),
                         model.fit.cov)
        mu = np.where(np.all(np.isfinite(Z), axis=1), mu, np.nan)
    else:
        mu = fam.mean(eta, trials)
    suffix = ", fixed portion only" if fixedonly else (", marginal" if opts.marginal else "")
    vtype, names = _new_names(cmd.body or "", None)
    if stat in RESIDUALS:
        fn, label = RESIDUALS[stat]
        y = np.asarray(data.values(res.depvar), dtype=float)
        if fam.name == "binomial" and not res.macros.get("binomial"):
            y = np.where(np.isnan(y), np.nan, (y != 0).astype(float))
        _add(session, names, [fn(fam, y, mu, trials)], [label + suffix], vtype, touse)
        return
    label = "Predicted mean" if stat == "mu" else "Predicted probability"
    _add(session, names, [mu], [label + suffix], vtype, touse)


def names_of(cmd):
    return _new_names(cmd.body or "", None)[1]


_trials = me_density.trials_of          # shared with the density/distribution module
_levels = me_density.outcome_levels


def _categories_request(cmd, opts, res, data) -> list[int]:
    """Which categories the new variables hold: outcome(#) (a value), outcome(#k) (the k-th
    category), or one variable per category (a single variable alone means the first)."""
    levels = _levels(res, data)
    text = (opts.raw("outcome") or "").strip()
    words = (cmd.body or "").split()
    nvars = len(words) - (1 if words and words[0] in ("float", "double", "byte", "int", "long") else 0)
    if text:
        if text.startswith("#"):
            try:
                k = int(text[1:])
            except ValueError:
                raise StataError(f"outcome({text}) invalid", 198) from None
            if not 1 <= k <= len(levels):
                raise StataError(f"there is no outcome {text}", 198)
            return [k - 1]
        try:
            v = float(text)
        except ValueError:
            raise StataError(f"outcome({text}) invalid", 198) from None
        hit = np.flatnonzero(levels == v)
        if not len(hit):
            raise StataError(f"outcome({text}) value not found", 198)
        return [int(hit[0])]
    if nvars == 1 and not (words and words[-1].endswith("*")):
        return [0]
    return list(range(len(levels)))


def _ordinal(session, cmd, opts, res, model, xb, eta, Z, touse) -> None:
    fam = model.family
    levels = _levels(res, session.data)
    which = _categories_request(cmd, opts, res, session.data)
    if opts.marginal:
        P = gr.marginal(lambda e: gr.ordinal_probs(fam, e), xb, np.nan_to_num(Z), model.fit.cov)
        P = np.where(np.all(np.isfinite(Z), axis=1)[:, None], P, np.nan)
    else:
        P = gr.ordinal_probs(fam, eta)
    count = None if len(which) == 1 else len(which)
    vtype, names = _new_names(cmd.body or "", count)
    if len(which) == 1 and len(names) != 1:
        raise StataError("too many variables specified", 103)
    if not opts.raw("outcome") and len(which) == 1 and len(levels) > 1:
        session.out.line("(option pr assumed; predicted probability of the first outcome)")
    labels = [f"Pr({res.depvar}=={_value_text(levels[k])})" for k in which]
    _add(session, names, [P[:, k] for k in which], labels, vtype, touse)


def _value_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _reffects(session, cmd, opts, block, b, se, codes, known, touse, stat, modes) -> None:
    q = len(block.names)
    vtype, names = _new_names(cmd.body or "", q)
    what = "empirical Bayes's modes" if modes else "empirical Bayes's means"
    src = se if stat == "reses" else b
    cols, labs = [], []
    for j, nm in enumerate(block.names):
        col = np.full(session.data.n, np.nan)
        col[known] = src[codes[known], j]
        cols.append(col)
        labs.append(f"{what} for {nm}[{block.label}]" if stat == "reffects"
                    else f"S.E. of {what} for {nm}[{block.label}]")
    _add(session, names, cols, labs, vtype, touse)
    if stat == "reffects" and opts.reses:
        _, se_names = _new_names(" ".join(opts.reses), q)
        se_cols = []
        for j in range(q):
            col = np.full(session.data.n, np.nan)
            col[known] = se[codes[known], j]
            se_cols.append(col)
        _add(session, se_names, se_cols,
             [f"S.E. of {what} for {nm}[{block.label}]" for nm in block.names], vtype, touse)


for _name in ("melogit", "meprobit", "mecloglog", "mepoisson", "menbreg", "meologit",
              "meoprobit", "meglm"):
    PREDICTORS[_name] = predict
