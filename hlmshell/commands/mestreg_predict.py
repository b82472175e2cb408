"""predict after mestreg: mean survival time (the default), median, hazard, survival and
density at _t, eta, xb, stdp, and the random effects (reffects with reses(), or reses alone).

Why conditional on the empirical Bayes means by default: Stata's mestreg predictions plug in
the posterior means of the random effects (conditional(ebmeans)); conditional(fixedonly) (or
fixedonly) sets them to zero, ebmodes uses the posterior modes. The survival quantities are the
distribution's at eta (engine.survival_param's closed forms, the same as streg's)."""
from __future__ import annotations

import numpy as np

from hlmshell.commands.predict import (PREDICTORS, _add, _new_names, _touse, group_codes_all,
                                       stdp_all, xb_all, z_values)
from hlmshell.engine import glmm
from hlmshell.engine import survival_param as sp
from hlmshell.errors import StataError

STATS = ("mean", "median", "hazard", "survival", "surv", "density", "distribution", "eta", "xb",
         "stdp", "reffects")
# predict's other options after mestreg; the rest of predict's shared syntax is refused
OTHER = ("reses", "conditional", "fixedonly", "ebmeans", "ebmodes", "marginal", "nooffset",
         "intpoints")
_LABELS = {"mean": "Predicted mean _t", "median": "Predicted median _t",
           "hazard": "Predicted hazard", "survival": "Predicted survivor function",
           "density": "Predicted density", "distribution": "Predicted distribution function",
           "eta": "Fitted linear predictor",
           "xb": "Linear prediction, fixed portion", "stdp": "S.E. of the prediction"}
_NOT_HERE = ("fitted", "residuals", "rstandard", "scores", "u", "e", "ue", "xbu", "relevel",
             "mu", "pr", "pearson", "deviance", "anscombe", "hr", "outcome")


def _statistic(opts) -> str:
    for bad in _NOT_HERE + tuple(k for k in getattr(opts, "given", {}) if k not in STATS + OTHER):
        if bad in opts:
            raise StataError(f"option {bad} not allowed", 198)
    chosen = [s for s in STATS if s in opts]
    chosen = ["survival" if s == "surv" else s for s in chosen]
    if "reses" in opts and not opts.reses:
        chosen.append("reses")
    if len(set(chosen)) > 1:
        raise StataError("only one statistic may be specified", 198)
    return chosen[0] if chosen else "mean"


def _conditional(opts) -> tuple[bool, bool]:
    """(fixedonly, modes) from conditional(ebmeans|ebmodes|fixedonly), fixedonly, ebmodes."""
    text = (opts.raw("conditional") or "").strip().lower()
    fixedonly, modes = bool(opts.fixedonly), bool(opts.ebmodes)
    if text:
        if "fixedonly".startswith(text) and len(text) >= 3:
            fixedonly = True
        elif "ebmodes".startswith(text) and len(text) >= 4:
            modes = True
        elif not ("ebmeans".startswith(text) and len(text) >= 4):
            raise StataError(f"conditional({text}) invalid", 198)
    return fixedonly, modes


def predict(session, cmd, res, opts) -> None:
    model: glmm.GlmmModel = res.model
    stat = _statistic(opts)
    fixedonly, modes = _conditional(opts)
    data = session.data
    touse = _touse(session, cmd)
    from hlmshell.commands.me_predict import eb_points
    points = eb_points(res, opts)
    modes = modes or points <= 1
    if stat in ("xb", "stdp"):
        vtype, names = _new_names(cmd.body or "", None)
        col = xb_all(res, data) if stat == "xb" else stdp_all(res, data)
        _add(session, names, [col], [_LABELS[stat]], vtype, touse)
        return
    sample = np.asarray(res.sample, dtype=bool)
    if opts.marginal:
        _marginal(session, cmd, res, stat, fixedonly or modes or bool(opts.raw("conditional")),
                  sample, touse)
        return
    if type(model).__name__ == "MultiModel":
        _predict_multi(session, cmd, opts, res, stat, fixedonly, modes, sample, touse)
        return
    block = model.blocks[0]
    codes = group_codes_all(model, data, sample)[0]
    known = codes >= 0
    if stat in ("reffects", "reses"):
        from hlmshell.commands.me_predict import _reffects
        b, se = glmm.posterior(model, modes=modes, points=max(points, 1))
        _reffects(session, cmd, opts, block, b, se, codes, known, touse, stat, modes)
        return
    vtype, names = _new_names(cmd.body or "", None)
    eta = xb_all(res, data)
    if not fixedonly:
        b, _ = glmm.posterior(model, modes=modes, points=max(points, 1))
        Z = z_values(block, data, sample)
        zb = np.full(data.n, np.nan)
        zb[known] = np.sum(Z[known] * b[codes[known]], axis=1)
        eta = eta + zb
    col = eta if stat == "eta" else _survival_stat(res, stat, eta, data)
    label = _LABELS[stat] + (", fixed portion only" if fixedonly and stat != "eta" else "")
    with np.errstate(all="ignore"):
        _add(session, names, [col], [label], vtype, touse)


def _predict_multi(session, cmd, opts, res, stat, fixedonly, modes, sample, touse) -> None:
    """Several levels: the effects of every level (engine.glmm_multi's posterior), in
    me_multilevel_predict's columns."""
    from hlmshell.commands import me_multilevel_predict as mp
    from hlmshell.engine import glmm_multi as gm
    model = res.model
    data = session.data
    if stat in ("reffects", "reses"):
        bs, ses = gm.posterior(model, modes=modes, points=mp._points(res, opts))
        mp._reffects(session, cmd, opts, model, bs, ses, sample, touse, stat, modes)
        return
    vtype, names = _new_names(cmd.body or "", None)
    eta = xb_all(res, data)
    if not fixedonly:
        bs, _ = gm.posterior(model, modes=modes, points=mp._points(res, opts))
        eta = eta + mp._eta_random(model, data, sample, bs)
    col = eta if stat == "eta" else _survival_stat(res, stat, eta, data)
    label = _LABELS[stat] + (", fixed portion only" if fixedonly and stat != "eta" else "")
    with np.errstate(all="ignore"):
        _add(session, names, [col], [label], vtype, touse)


def _marginal(session, cmd, res, stat, conditional: bool, sample, touse) -> None:
    """marginal: the statistic integrated over the random effects (commands.mestreg_marginal)."""
    from hlmshell.commands import mestreg_marginal
    if conditional:
        raise StataError("option marginal may not be combined with conditional()", 198)
    if stat not in ("mean", "median", "survival", "density", "hazard", "distribution"):
        raise StataError(f"option marginal not allowed with {stat}", 198)
    vtype, names = _new_names(cmd.body or "", None)
    dname = res.macros["distribution"]
    anc = float(res.b[res.k_f]) if dname != "exponential" else 0.0
    col = mestreg_marginal.statistic(res, session.data, sample, stat, dname,
                                     res.macros.get("frm2") == "time", anc)
    with np.errstate(all="ignore"):
        _add(session, names, [col], [_LABELS[stat] + ", marginal"], vtype, touse)


def _survival_stat(res, stat, eta, data) -> np.ndarray:
    dname = res.macros["distribution"]
    aft = res.macros.get("frm2") == "time"
    kf = res.k_f
    ne = 0 if dname == "exponential" else 1
    anc = float(res.b[kf]) if ne else 0.0
    with np.errstate(all="ignore"):
        if stat == "mean":
            return sp.mean_time(dname, aft, eta, anc)
        if stat == "median":
            return sp.median_time(dname, aft, eta, anc)
        t = np.asarray(data.values("_t"), dtype=float)
        logS, logh = sp._log_surv_and_haz(dname, aft, eta, anc, t)
        if stat == "hazard":
            return np.exp(logh)
        if stat == "survival":
            return np.exp(logS)
        if stat == "distribution":
            return -np.expm1(logS)
        return np.exp(logh + logS)


PREDICTORS["mestreg"] = predict
