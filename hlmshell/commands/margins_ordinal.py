"""margins after the ordinal models: ologit, oprobit, meologit, meoprobit and meglm
family(ordinal).

The default (and predict(pr)) is every outcome's probability, one `_predict` dimension of the
table (`1._predict: Pr(y==0), predict(pr outcome(0))` ...), as Stata's margins does for
multiple-outcome models; predict(pr outcome(#)) (a value, or #k for the k-th outcome) one of
them; predict(xb) the linear prediction. With cutpoints c_1 < ... < c_{K-1} (e(b)'s /cut#,
c_0 = -inf, c_K = +inf) and F the logistic or normal distribution function,

    Pr(y = k-th outcome) = F(c_k - eta) - F(c_{k-1} - eta)

and after the me* commands the default is marginal over the random effects (u'z normal with
variance s^2 = z' Sigma z): E[F(c - eta - s Z)], exact for probit (Phi((c - eta)/sqrt(1 + s^2)),
40-point Gauss-Hermite for logit; predict(pr fixedonly) sets the random effects to zero. The
cutpoints (and the variances, when marginal) move in the delta method with the fixed part.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import margins_response as mr
from hlmshell.errors import StataError

ONE_LEVEL = {"ologit": "logit", "oprobit": "probit"}
ME = {"meologit": "logit", "meoprobit": "probit"}
_OUTCOME = re.compile(r"\bout\w*\(\s*([^)]*)\)", re.IGNORECASE)


def is_ordinal(res) -> bool:
    return res.cmd in ONE_LEVEL or res.cmd in ME or (
        res.cmd == "meglm" and res.macros.get("family", "") == "ordinal")


def _link(res) -> str:
    link = ONE_LEVEL.get(res.cmd) or ME.get(res.cmd) or res.macros.get("link", "logit")
    return "probit" if "probit" in link else "logit"


def _cdf(link: str, x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        if link == "probit":
            return np.asarray(dist.norm_cdf(x), dtype=float)
        return 1.0 / (1.0 + np.exp(-x))


def _marginal_cdf(link: str, x: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """E[F(x - s Z)], Z ~ N(0, 1); x may hold infinities (the outer cutpoints)."""
    if link == "probit":
        return np.asarray(dist.norm_cdf(x / np.sqrt(1.0 + s2)), dtype=float)
    nodes, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / np.sqrt(2 * np.pi)
    return _cdf(link, x[:, None] - np.sqrt(s2)[:, None] * nodes[None, :]) @ w


def outcomes(session, res) -> list[float]:
    depvar = res.macros.get("depvar", "")
    if depvar not in session.data or res.sample is None:
        raise StataError(f"variable {depvar} not found", 111)
    y = np.asarray(session.data.var(depvar).values, dtype=float)[np.asarray(res.sample, dtype=bool)]
    return sorted({float(v) for v in y if v == v})


def _pick(spec: str, values: list[float]) -> int:
    """outcome(#k) or outcome(value) -> the outcome's index."""
    spec = spec.strip()
    try:
        if spec.startswith("#"):
            k = int(spec[1:]) - 1
            if 0 <= k < len(values):
                return k
        elif float(spec) in values:
            return values.index(float(spec))
    except ValueError:
        pass
    raise StataError(f"outcome({spec}) not found", 303)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _probability(res, k: int, K: int, fixedonly: bool):
    """fn(cov, xb, theta) of the k-th outcome; theta = (cutpoints, then the variances)."""
    link = _link(res)
    terms = mr.variance_terms(res)
    marginal = res.cmd not in ONE_LEVEL and not fixedonly

    def fn(cov, xb, theta):
        cuts = np.concatenate([[-np.inf], np.asarray(theta[:K - 1], dtype=float), [np.inf]])
        eta = xb + cov.cont.get("__offset", 0.0)
        if not marginal:
            return _cdf(link, cuts[k + 1] - eta) - _cdf(link, cuts[k] - eta)
        s2 = mr.re_variance(terms, theta[K - 1:], cov)
        return _marginal_cdf(link, cuts[k + 1] - eta, s2) - _marginal_cdf(link, cuts[k] - eta, s2)

    return fn


def _label(res, depvar: str, value: float, fixedonly: bool) -> str:
    text = f"Pr({depvar}=={_fmt(value)})"
    if res.cmd in ONE_LEVEL:
        return text
    return text + (", fixed portion only" if fixedonly else ", marginal")


def _fixed(word: str) -> bool:
    return word in ("fixedonly", "fixed") or bool(re.fullmatch(r"cond\w*\(\s*fix\w*\s*\)", word))


def _words(res, text: str) -> tuple[list[str], bool, list[str]]:
    """predict()'s words but outcome(): (all, fixedonly, the ones that are not pr/fixedonly)."""
    words = [w.lower() for w in _OUTCOME.sub(" ", text or "").split()]
    fixedonly = any(_fixed(w) for w in words)
    if fixedonly and res.cmd in ONE_LEVEL:
        raise StataError("option fixedonly not allowed", 198)
    others = [w for w in words if w not in ("pr", "marginal", "marg") and not _fixed(w)]
    return words, fixedonly, others


def setup(session, res, model, req, text: str):
    """predict(text) after an ordinal model -> (model, r(predict_label), r(expression)); sets
    req.theta_fn (one outcome) or req.outcomes and req.predict_lines (all of them)."""
    from hlmshell.commands import margins_build as mb

    m = _OUTCOME.search(text or "")
    words, fixedonly, others = _words(res, text)
    if others:
        stat, fo = mr.statistic(res, " ".join(others))
        if stat == "mu" or m or "pr" in words:
            raise StataError("only one statistic may be specified", 198)
        model, lab = mr.setup(session, res, model, req, " ".join(others))
        return model, lab, f"predict({text.strip()})"
    values = outcomes(session, res)
    K = len(values)
    cut_idx = [j for j, (eq, nm) in enumerate(res.names) if eq == "/" and re.fullmatch(r"cut\d+", nm)]
    if len(cut_idx) != K - 1:
        raise StataError("the outcome's values do not match the model's cutpoints", 459)
    var_idx = [] if res.cmd in ONE_LEVEL or fixedonly else [j for j, *_ in mr.variance_terms(res)]
    model = mb.with_theta(model, res, cut_idx + var_idx)
    req.extra_cols = mr.extra_columns(res, session.data, model)
    depvar = res.macros.get("depvar", "")
    if m:
        k = _pick(m.group(1), values)
        req.theta_fn = _probability(res, k, K, fixedonly)
        return model, _label(res, depvar, values[k], fixedonly), f"predict({text.strip()})"
    req.outcomes = [_probability(res, k, K, fixedonly) for k in range(K)]
    opt = " fixedonly" if fixedonly else ""
    req.predict_lines = [f"{k + 1}._predict: {_label(res, depvar, v, fixedonly)}, "
                         f"predict(pr outcome({_fmt(v)}){opt})" for k, v in enumerate(values)]
    return model, _label(res, depvar, values[0], fixedonly), f"predict(pr outcome({_fmt(values[0])}))"
