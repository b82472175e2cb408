"""What `margins` averages after the nonlinear models: the one-level logit, logistic, probit,
cloglog, poisson and nbreg, and the me* GLMMs (melogit, meprobit, mecloglog, mepoisson,
menbreg, meglm).

    one level   default pr (binary; `Pr(y)`) or n (counts; `Predicted number of events`);
                predict(xb) the linear prediction
    me*         default mu marginal over the random effects (`Marginal predicted mean`):
                E[g^-1(xb + offset + z'u)], u ~ N(0, Sigma), which depends on e(b)'s variance
                parameters too, so the delta method moves them as well; predict(mu fixedonly)
                (or pr, conditional(fixedonly)): g^-1(xb + offset); predict(xb): xb;
                predict(eta): xb + offset (the random effects' mean is zero).
                Statistics of the random effects themselves (reffects, conditional means) are
                not functions of e(b): r(498), as mixed's.

For every row z'u is normal with variance s^2 = z' Sigma z (Sigma: the random effects'
covariance from e(b)'s var()/cov() entries, all levels added), so the marginal mean is a
one-dimensional integral: exact for the log link (exp(eta + s^2/2)) and probit
(Phi(eta / sqrt(1 + s^2))), 40-point Gauss-Hermite for logit and cloglog.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from hlmshell import distributions as dist
from hlmshell.errors import StataError

ONE_LEVEL = {"logit": "logit", "logistic": "logit", "probit": "probit", "cloglog": "cloglog",
             "poisson": "log", "nbreg": "log"}
ME = ("melogit", "meprobit", "mecloglog", "mepoisson", "menbreg", "meglm")
# xtmelogit / xtmepoisson (meqrlogit, meqrpoisson): e(b) holds the random effects as log
# standard deviations, and their margins are of the fixed portion: predict(mu fixedonly) is
# the default, predict(xb) allowed; a mean with the random effects is not a function of e(b)
QR = {"meqrlogit": "logit", "meqrpoisson": "log"}
_RANDOM = ("fitted", "fit", "residuals", "r", "rstandard", "reffects", "ref", "reses",
           "stdp", "scores", "sc", "ebmeans", "ebmodes", "pearson", "deviance", "anscombe")
_VARCOV = re.compile(r"^(var|cov)\((.+)\[(.+)\]\)$")


GLM_LINKS = ("identity", "log", "logit", "probit", "cloglog")


def handles(res) -> bool:
    return res.cmd in ONE_LEVEL or res.cmd in ("ologit", "oprobit", "glm") or (
        res.cmd in ME + ("meologit", "meoprobit") + tuple(QR) and res.model is not None)


def link_of(res) -> str:
    if res.cmd in ONE_LEVEL:
        return ONE_LEVEL[res.cmd]
    if res.cmd in QR:
        return QR[res.cmd]
    if res.cmd == "glm":
        link = res.macros.get("link", "").lower()
        if link not in GLM_LINKS or res.macros.get("m", "") not in ("", "1"):
            raise StataError(f"margins after glm with link {link or '?'} or binomial "
                             "denominators is not implemented", 198)
        return link
    if res.cmd in ("melogit", "meprobit", "mecloglog"):
        return res.cmd[2:]
    if res.cmd in ("mepoisson", "menbreg"):
        return "log"
    link = res.macros.get("link", "")
    fam = res.macros.get("family", "")
    if fam in ("ordinal",) or link in ("ologit", "oprobit"):
        raise StataError(f"margins after {res.cmd} with an ordinal outcome is not implemented", 198)
    if link in ("logit", "probit", "cloglog", "log", "identity"):
        return link
    raise StataError(f"margins after {res.cmd} with link {link} is not implemented", 198)


def inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        if link == "logit":
            return 1.0 / (1.0 + np.exp(-eta))
        if link == "probit":
            return np.asarray(dist.norm_cdf(eta), dtype=float)
        if link == "cloglog":
            return 1.0 - np.exp(-np.exp(eta))
        if link == "log":
            return np.exp(eta)
    return eta


def marginal_mean(link: str, eta: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """E[g^-1(eta + s Z)], Z ~ N(0, 1), per row."""
    s2 = np.clip(s2, 0.0, None)
    if link == "log":
        return np.exp(eta + s2 / 2)
    if link == "probit":
        return np.asarray(dist.norm_cdf(eta / np.sqrt(1.0 + s2)), dtype=float)
    if link == "identity":
        return eta
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / np.sqrt(2 * np.pi)
    s = np.sqrt(s2)
    return inverse_link(link, eta[:, None] + s[:, None] * x[None, :]) @ w


# --------------------------------------------------------------------------- the request
def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z_]+(?:\([^)]*\))?", text or "")


def statistic(res, text: str) -> tuple[str, bool]:
    """predict()'s text -> (statistic: mu | xb | eta, fixedonly)."""
    words = [w.lower() for w in _words(text)]
    fixedonly = False
    stat = None
    for w in words:
        if w in ("fixedonly", "fixed") or re.fullmatch(r"cond\w*\(\s*fix\w*\s*\)", w):
            fixedonly = True
        elif w in ("marginal", "marg") or re.fullmatch(r"cond\w*\(\s*(ebmean|ebmode)\w*\s*\)", w):
            if "ebm" in w:
                raise StataError("prediction is a function of possibly stochastic quantities "
                                 "other than e(b)", 498)
        elif w in ("mu", "pr", "n", "xb", "eta", "ir"):
            if stat is not None:
                raise StataError("only one statistic may be specified", 198)
            stat = {"pr": "mu", "n": "mu", "ir": "mu"}.get(w, w)
        elif w in _RANDOM or w.startswith(("res", "ref", "fit")):
            raise StataError("prediction is a function of possibly stochastic quantities other "
                             "than e(b)", 498)
        elif w == "nooffset":
            continue
        else:
            raise StataError(f"option {w} not allowed", 198)
    if (res.cmd in ONE_LEVEL or res.cmd == "glm") and fixedonly:
        raise StataError("option fixedonly not allowed", 198)
    if res.cmd in QR and stat in (None, "mu"):
        if stat == "mu" and not fixedonly:
            raise StataError("prediction is a function of possibly stochastic quantities "
                             "other than e(b)", 498)
        fixedonly = True
    return stat or "mu", fixedonly


def label(res, stat: str, fixedonly: bool) -> str:
    depvar = res.macros.get("depvar", "")
    if stat == "xb":
        return "Linear prediction, fixed portion" if res.cmd in ME + tuple(QR) \
            else "Linear prediction"
    if stat == "eta":
        return "Fitted linear predictor"
    if res.cmd in ONE_LEVEL:
        return f"Pr({depvar})" if ONE_LEVEL[res.cmd] != "log" else "Predicted number of events"
    if res.cmd == "glm":
        return f"Predicted mean {depvar}"
    return "Predicted mean, fixed portion only" if fixedonly else "Marginal predicted mean"


def variance_terms(res) -> list[tuple[int, str, str, str]]:
    """(index in e(b), var|cov, the random effect(s) `x` or `x,y`, the level) of e(b)'s
    random-effects entries."""
    out = []
    for j, (eq, nm) in enumerate(res.names):
        m = _VARCOV.match(nm)
        if j >= res.k_f and m:
            out.append((j, m.group(1), re.sub(r"\[[^\]]*\]", "", m.group(2)), m.group(3)))
    return out


def _typed_offsets(res) -> dict:
    """offset()/exposure() as typed on the command line (the one-level commands do not keep
    them in e()): {'offset': var, 'exposure': var}."""
    from hlmshell.registry import abbrev_match
    from hlmshell.syntax.lexer import find_top
    from hlmshell.syntax.parser import parse_options

    line = res.macros.get("cmdline", "")
    comma = find_top(line, ",")
    if comma < 0:
        return {}
    out = {}
    try:
        opts = parse_options(line[comma + 1:])
    except StataError:
        return {}
    for o in opts:
        for full, mn in (("offset", "offset"), ("exposure", "exp")):
            if abbrev_match(o.name, full, mn) and o.arg:
                out[full] = o.arg.strip()
    return out


def offset_of(res, data) -> np.ndarray:
    off = np.zeros(data.n)
    typed = _typed_offsets(res) if res.cmd in ONE_LEVEL or res.cmd == "glm" else {}
    for name in ("offset", "exposure"):
        var = res.macros.get(name) or typed.get(name)
        m = re.fullmatch(r"ln\((\w+)\)", var or "")
        if m:                                # e(offset) = ln(t) after exposure(t)
            if name == "offset" and (res.macros.get("exposure") or typed.get("exposure")):
                continue
            name, var = "exposure", m.group(1)
        if var and var not in data:
            raise StataError(f"variable {var} not found", 111)
        if var:
            v = np.asarray(data.values(var), dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                off = off + (np.log(v) if name == "exposure" else v)
    return off


def response(res, stat: str, fixedonly: bool, z_value: Callable) -> Callable:
    """fn(cov, xb, theta) -> the statistic of every row; theta: e(b)'s random-effects entries
    in variance_terms' order; z_value(cov, name) the random effect's covariate (1 for _cons)."""
    link = link_of(res) if stat == "mu" else "identity"
    terms = variance_terms(res)

    def fn(cov, xb, theta):
        eta = xb + cov.cont.get("__offset", 0.0)
        if stat == "xb":
            return xb
        if stat == "eta" or res.cmd in ONE_LEVEL or res.cmd == "glm" or fixedonly:
            return inverse_link(link, eta) if stat == "mu" else eta
        return marginal_mean(link, eta, re_variance(terms, theta, cov))

    return fn


def re_variance(terms, theta, cov) -> np.ndarray:
    """z' Sigma z of every row: the variance of the random part of the linear predictor."""
    s2 = np.zeros(cov.n)
    for (_j, kind, what, _lev), t in zip(terms, theta):
        if kind == "var":
            z = z_value(cov, what)
            s2 = s2 + t * z * z
        else:
            a, b = what.split(",", 1)
            s2 = s2 + 2 * t * z_value(cov, a) * z_value(cov, b)
    return s2


def uses_theta(res, stat: str, fixedonly: bool) -> bool:
    return res.cmd in ME and stat == "mu" and not fixedonly


def z_value(cov, name: str) -> np.ndarray:
    """A random effect's covariate on the margin's rows (at() values included)."""
    if name == "_cons":
        return np.ones(cov.n)
    if name in cov.cont:
        return cov.cont[name]
    if name in cov.fact:
        return sum(lv * ind for lv, ind in cov.fact[name].items()) * np.ones(cov.n)
    return cov.cont["__z_" + name]


def extra_columns(res, data, model) -> dict:
    """Full-length columns the rows must carry: the offset, and random-slope covariates
    that are not covariates of the fixed part."""
    out = {"__offset": offset_of(res, data)}
    for _j, _kind, what, _lev in variance_terms(res):
        for v in what.split(","):
            if v != "_cons" and v not in model.cont and v not in model.levels and v in data:
                out["__z_" + v] = np.asarray(data.values(v), dtype=float)
    return out


def setup(session, res, model, req, text: str):
    """predict(text) after a nonlinear model: sets req.theta_fn / req.extra_cols (and the
    variance parameters the statistic moves) and returns (model, r(predict_label))."""
    from hlmshell.commands import margins_build as mb

    stat, fixedonly = statistic(res, text)
    idx = [j for j, *_ in variance_terms(res)] if uses_theta(res, stat, fixedonly) else []
    model = mb.with_theta(model, res, idx)
    fn = response(res, stat, fixedonly, z_value)
    req.theta_fn = fn
    req.extra_cols = extra_columns(res, session.data, model)
    return model, label(res, stat, fixedonly)
