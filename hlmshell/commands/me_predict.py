"""predict after melogit, meprobit, mecloglog, mepoisson and meglm (one level).

Statistics: mu (the default: the mean, conditional on the empirical Bayes means of the random
effects), pr (the probability, binary outcomes), eta (the linear predictor with the random
effects), xb (fixed part only), stdp, reffects (EB means; ebmodes for the modes) with
reses(stubs) or reses alone (their posterior standard deviations). conditional(fixedonly) or
fixedonly: mu, pr and eta with zero random effects. nooffset drops offset()/exposure().
Observations outside the estimation sample get a prediction when their group was estimated
(else the fixed part only for xb, missing for the rest), as Stata's."""
from __future__ import annotations

import numpy as np

from hlmshell.commands.predict import (PREDICTORS, _add, _new_names, _touse, group_codes_all,
                                       stdp_all, xb_all, z_values)
from hlmshell.engine import glmm
from hlmshell.errors import StataError

STATS = ("mu", "pr", "eta", "xb", "stdp", "reffects")


def _statistic(opts) -> str:
    chosen = [s for s in STATS if getattr(opts, s, False)]
    if "reses" in opts and not opts.reses:
        chosen.append("reses")
    for bad in ("fitted", "residuals", "rstandard", "scores", "u", "e", "ue", "xbu", "relevel"):
        if bad in opts:
            raise StataError(f"option {bad} not allowed", 198)
    if len(chosen) > 1:
        raise StataError("only one statistic may be specified", 198)
    return chosen[0] if chosen else "mu"


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
    model: glmm.GlmmModel = res.model
    stat = _statistic(opts)
    data = session.data
    touse = _touse(session, cmd)
    modes = bool(opts.ebmodes) or (opts.raw("conditional") or "").strip().startswith("ebmod")
    fixedonly = bool(opts.fixedonly) or (opts.raw("conditional") or "").strip().startswith("fix")
    if stat in ("xb", "stdp"):
        vtype, names = _new_names(cmd.body or "", None)
        col = xb_all(res, data) if stat == "xb" else stdp_all(res, data)
        label = "Linear prediction, fixed portion" if stat == "xb" else "S.E. of the prediction"
        _add(session, names, [col], [label], vtype, touse)
        return
    sample = np.asarray(res.sample, dtype=bool)
    b, se = glmm.posterior(model, modes=modes)
    block = model.blocks[0]
    codes = group_codes_all(model, data, sample)[0]
    known = codes >= 0
    if stat in ("reffects", "reses"):
        _reffects(session, cmd, opts, block, b, se, codes, known, touse, stat, modes)
        return
    vtype, names = _new_names(cmd.body or "", None)
    eta = xb_all(res, data) + _offset(res, data, opts)
    if not fixedonly:
        Z = z_values(block, data, sample)
        zb = np.full(data.n, np.nan)
        zb[known] = np.sum(Z[known] * b[codes[known]], axis=1)
        eta = eta + zb
    if stat == "eta":
        _add(session, names, [eta], ["Fitted linear predictor"], vtype, touse)
        return
    trials = np.ones(data.n)
    bt = res.macros.get("binomial")
    if bt and stat == "mu":
        try:
            trials = np.full(data.n, float(bt))
        except ValueError:
            trials = np.asarray(data.values(bt), dtype=float)
    if model.family.name == "ordinal":
        raise StataError(f"option {stat} after an ordinal model is not available yet "
                         "(outcome())", 198)
    mu = model.family.mean(eta, trials)
    label = "Predicted mean" if stat == "mu" else "Predicted probability"
    if stat == "pr" and model.family.name != "binomial":
        raise StataError("option pr not allowed after this model", 198)
    _add(session, names, [mu], [label + (", fixed portion only" if fixedonly else "")], vtype,
         touse)


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
