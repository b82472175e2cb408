"""predict after the one-level GLM commands (logit, logistic, probit, cloglog, poisson,
nbreg, ologit, oprobit, glm), with Stata's default statistics: the probability after the binary
models (pr), the number of events after poisson and nbreg (n; ir without the exposure), the
category probabilities after ologit/oprobit (outcome()), the mean after glm (mu). xb and stdp
everywhere; after glm also eta, response, pearson, deviance and anscombe residuals.

The family and link of a glm fit are rebuilt from e(varfunct), e(m), e(varfuncf), e(link) and
e(power), so stored and restored estimates predict the same."""
from __future__ import annotations



import numpy as np

from hlmshell.commands.predict import (PREDICTORS, _add, _new_names, _touse, stdp_all,
                                       xb_all)
from hlmshell.engine import glm_family as gfm
from hlmshell.engine import glmm_families as gf
from hlmshell.engine import glmm_residuals as gr
from hlmshell.errors import StataError

BINARY = {"logit": "logit", "logistic": "logit", "probit": "probit", "cloglog": "cloglog"}
COUNT = ("poisson", "nbreg")
STATS = ("pr", "n", "ir", "mu", "xb", "stdp", "eta", "response", "pearson", "deviance",
         "anscombe")
ALLOWED = {"binary": ("pr", "xb", "stdp"), "count": ("n", "ir", "xb", "stdp"),
           "ordinal": ("pr", "xb", "stdp"),
           "glm": ("mu", "xb", "eta", "stdp", "response", "pearson", "deviance", "anscombe")}
DEFAULT = {"binary": "pr", "count": "n", "ordinal": "pr", "glm": "mu"}


def _kind(cmd: str) -> str:
    if cmd in BINARY:
        return "binary"
    if cmd in COUNT:
        return "count"
    return "ordinal" if cmd in ("ologit", "oprobit") else "glm"


def _statistic(opts, kind: str) -> str:
    chosen = [s for s in STATS if s in opts and getattr(opts, s, False)]
    for bad in ("fitted", "residuals", "rstandard", "reffects", "reses", "scores", "marginal",
                "ebmodes", "fixedonly", "conditional"):
        if bad in opts and opts.raw(bad) is not None and getattr(opts, bad, None):
            raise StataError(f"option {bad} not allowed", 198)
    if len(chosen) > 1:
        raise StataError("only one statistic may be specified", 198)
    if chosen and chosen[0] not in ALLOWED[kind]:
        raise StataError(f"option {chosen[0]} not allowed", 198)
    if opts.raw("outcome") and kind != "ordinal":
        raise StataError("option outcome() not allowed", 198)
    return chosen[0] if chosen else DEFAULT[kind]


def _offset(res, data, opts) -> np.ndarray:
    text = res.macros.get("offset", "")
    if not text or opts.nooffset:
        return np.zeros(data.n)
    if text.startswith("ln(") and text.endswith(")"):
        return np.log(np.asarray(data.values(text[3:-1]), dtype=float))
    return np.asarray(data.values(text), dtype=float)


def predict(session, cmd, res, opts) -> None:
    kind = _kind(res.cmd)
    stat = _statistic(opts, kind)
    data = session.data
    touse = _touse(session, cmd)
    if stat in ("xb", "stdp"):
        vtype, names = _new_names(cmd.body or "", None)
        col = xb_all(res, data) if stat == "xb" else stdp_all(res, data)
        _add(session, names, [col], ["Linear prediction" if stat == "xb" else
                                     "S.E. of the prediction"], vtype, touse)
        return
    if kind == "ordinal":
        _ordinal(session, cmd, opts, res, touse)
        return
    xb = xb_all(res, data)
    eta = xb + _offset(res, data, opts)
    if kind == "binary":
        vtype, names = _new_names(cmd.body or "", None)
        p = gf.family("binomial", BINARY[res.cmd]).mean(eta, 1.0)
        _add(session, names, [p], [f"Pr({res.depvar})"], vtype, touse)
        return
    if kind == "count":
        vtype, names = _new_names(cmd.body or "", None)
        col = np.exp(eta) if stat == "n" else np.exp(xb)
        _add(session, names, [col], ["Predicted number of events" if stat == "n"
                                     else "Predicted incidence rate"], vtype, touse)
        return
    _glm(session, cmd, res, stat, eta, touse)


def glm_family_of(res, data):
    """The engine's family and link of a glm fit, from its e() macros."""
    names = {"Gaussian": "gaussian", "Bernoulli": "binomial", "Binomial": "binomial",
             "Poisson": "poisson", "Neg. Binomial": "nbinomial", "Gamma": "gamma",
             "Inverse Gaussian": "igaussian"}
    fam = gfm.Family(names[res.macros["varfunct"]])
    if fam.name == "binomial":
        m = res.macros.get("m") or "1"
        try:
            fam.m = np.full(data.n, float(m))
        except ValueError:
            fam.m = np.asarray(data.values(m), dtype=float)
    if fam.name == "nbinomial":
        fam.k = float(res.macros["varfuncf"].split("(")[1].split(")")[0])
    link_name = res.macros["link"]
    power = float(res.scalars.get("power", 0.0))
    return fam, gfm.make_link(link_name, fam.k if link_name == "nbinomial" else power)


def _glm(session, cmd, res, stat, eta, touse) -> None:
    data = session.data
    fam, link = glm_family_of(res, data)
    vtype, names = _new_names(cmd.body or "", None)
    if stat == "eta":
        _add(session, names, [eta], ["Linear predictor"], vtype, touse)
        return
    p = link.inv(eta)[0]
    mu = p * fam.m if fam.name == "binomial" else p
    if stat == "mu":
        _add(session, names, [mu], [f"Predicted mean {res.depvar}"], vtype, touse)
        return
    y = np.asarray(data.values(res.depvar), dtype=float)
    with np.errstate(all="ignore"):
        if stat == "response":
            col, lab = y - mu, "Response residual"
        elif stat == "pearson":
            col, lab = (y - mu) / np.sqrt(fam.V(mu)), "Pearson residual"
        elif stat == "deviance":
            col = np.sign(y - mu) * np.sqrt(np.clip(fam.dev_units(y, mu), 0, None))
            lab = "Deviance residual"
        else:
            col, lab = gfm.anscombe(fam, y, mu), "Anscombe residual"
    _add(session, names, [col], [lab], vtype, touse)


def _ordinal(session, cmd, opts, res, touse) -> None:
    """ologit/oprobit: Pr of each category from e(b)'s /cut# (outcome(#), outcome(#k), or one
    variable per category)."""
    data = session.data
    cuts = np.array([b for (eq, nm), b in zip(res.names, res.b) if eq == "/"])
    fam = gf.family("ordinal", res.cmd[1:], len(cuts) + 1)
    fam.extra = cuts
    y = np.asarray(data.values(res.depvar), dtype=float)[np.asarray(res.sample, dtype=bool)]
    levels = np.unique(y[~np.isnan(y)])
    which = _which(cmd, opts, levels)
    P = gr.ordinal_probs(fam, xb_all(res, data) + _offset(res, data, opts))
    vtype, names = _new_names(cmd.body or "", None if len(which) == 1 else len(which))
    if not opts.raw("outcome") and len(which) == 1 and len(levels) > 1:
        session.out.line("(option pr assumed; predicted probability of the first outcome)")
    labels = [f"Pr({res.depvar}=={_text(levels[k])})" for k in which]
    _add(session, names, [P[:, k] for k in which], labels, vtype, touse)


def _which(cmd, opts, levels) -> list[int]:
    text = (opts.raw("outcome") or "").strip()
    if text:
        try:
            if text.startswith("#"):
                k = int(text[1:]) - 1
                if not 0 <= k < len(levels):
                    raise ValueError
                return [k]
            hit = np.flatnonzero(levels == float(text))
            if not len(hit):
                raise ValueError
            return [int(hit[0])]
        except ValueError:
            raise StataError(f"outcome({text}) not found", 198) from None
    words = [w for w in (cmd.body or "").split() if w not in ("float", "double")]
    if len(words) == 1 and not words[0].endswith("*"):
        return [0]
    return list(range(len(levels)))


def _text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


for _name in ("logit", "logistic", "probit", "cloglog", "poisson", "nbreg", "ologit", "oprobit",
              "glm"):
    PREDICTORS[_name] = predict

