"""What `margins` averages after the panel-data models xtlogit, xtprobit, xtcloglog, xtpoisson,
xtnbreg and xttobit ([XT] ... postestimation, "Syntax for margins").

    binary re    pr (the default): Pr(y=1) integrated over u_i ~ N(0, sigma_u^2), so
                 /lnsig2u moves in the delta method too; pu0 (u_i = 0); xb
    binary fe    pu0 (the default); xb
    count re/fe  xb (the default), nu0 = exp(xb + offset) (after xtnbreg, re: times s/(r-1),
                 /ln_r and /ln_s moving), iru0 = exp(xb), pr0(n) / pr0(a,b) with numbers
                 (xtpoisson, re); n after xtpoisson, re normal (the default there):
                 exp(xb + offset + sigma_u^2/2)
    pa           mu (the default; the mean with the offset), rate (without it), xb
    xtrc         xb (the mean coefficients' linear prediction)
    xttobit,     xb (the default); pr(a,b), e(a,b), ystar(a,b) of y* ~ N(xb, sigma_u^2 +
    xtintreg
                 sigma_e^2) -- marginal with respect to the random effect -- with numbers
                 (. for an unbounded side); /sigma_u and /sigma_e move

stdp, pc1 and the scores are not functions of e(b) that margins may average: r(198), as
Stata's "not allowed with margins".
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.errors import StataError

COMMANDS = ("xtlogit", "xtprobit", "xtcloglog", "xtpoisson", "xtnbreg", "xttobit", "xtintreg",
            "xtgee", "xtrc")
_LINK = {"xtlogit": "logit", "xtprobit": "probit", "xtcloglog": "cloglog"}


def handles(res) -> bool:
    return res.cmd in COMMANDS and _model(res) in ("re", "fe", "pa")


def _model(res) -> str:
    """re, fe or pa (xttobit fits only re; xtgee is pa)."""
    default = {"xttobit": "re", "xtintreg": "re", "xtgee": "pa", "xtrc": "re"}.get(res.cmd, "")
    return res.macros.get("model") or default


def _allowed(res) -> tuple[str, ...]:
    model = _model(res)
    if model == "pa":
        return ("mu", "rate", "xb")
    if res.cmd in ("xttobit", "xtintreg"):
        return ("xb", "pr", "e", "ystar")
    if res.cmd == "xtrc":
        return ("xb",)
    if res.cmd in _LINK:
        return ("pr", "pu0", "xb") if model == "re" else ("pu0", "xb")
    normal = res.cmd == "xtpoisson" and res.macros.get("distrib", "").lower() == "gaussian"
    if model == "re" and res.cmd == "xtpoisson":
        return (("n",) if normal else ()) + ("xb", "nu0", "iru0", "pr0")
    return ("xb", "nu0", "iru0")


def _parse(res, text: str) -> tuple[str, str | None]:
    """predict()'s text -> (statistic, its argument)."""
    m = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*", text or "")
    allowed = _allowed(res)
    if not (text or "").strip():
        return allowed[0], None
    if not m:
        raise StataError("invalid syntax", 198)
    word, arg = m.group(1).lower(), m.group(2)
    if word in ("ys", "yst", "ysta"):
        word = "ystar"
    if word in ("stdp", "stdf", "pc1", "score", "sc", "scores", "u", "ue", "e0", "ystar0"):
        raise StataError(f"option {word} not allowed", 198)
    if word not in allowed:
        raise StataError(f"option {word}{'()' if arg is not None else ''} not allowed", 198)
    needs_arg = word in ("pr0", "e", "ystar") or (word == "pr" and res.cmd not in _LINK)
    if needs_arg != (arg is not None):
        raise StataError("invalid syntax", 198)
    return word, arg


def _numbers(arg: str, n_min: int) -> list[float]:
    """pr0(n) / pr0(a,b) / pr(a,b) arguments as numbers (. = unbounded)."""
    parts = [p.strip() for p in arg.split(",")]
    if not n_min <= len(parts) <= 2:
        raise StataError("invalid syntax", 198)
    out = []
    for p in parts:
        if p == ".":
            out.append(math.nan)
            continue
        try:
            out.append(float(p))
        except ValueError:
            raise StataError("margins: predict() arguments must be numbers here", 198) from None
    return out


def _index(res, name: str) -> int:
    names = [nm for _, nm in res.names]
    return names.index(name)


def _label(res, stat: str, arg: str | None) -> str:
    dep = res.depvar
    return {"pr": f"Pr({dep}=1)" if res.cmd in _LINK else f"Pr({arg})",
            "pu0": f"Pr({dep}=1 assuming u_i=0)", "xb": "Linear prediction",
            "mu": f"Pr({dep})" if res.macros.get("family") == "binomial" else "Predicted mean",
            "rate": f"Pr({dep})" if res.macros.get("family") == "binomial" else "Predicted mean",
            "nu0": "Predicted number of events (assuming u_i=0)",
            "iru0": "Predicted incidence rate (assuming u_i=0)",
            "n": "Predicted number of events",
            "pr0": f"Pr({dep}={arg} assuming u_i=0)", "e": f"E({dep}|{arg})",
            "ystar": f"E({dep}*|{arg})"}[stat]


def _binary(res, stat: str, link: str):
    from hlmshell.commands import margins_response as mr

    def fn(cov, xb, theta):
        eta = xb + cov.cont.get("__offset", 0.0)
        if stat == "xb":
            return eta
        if stat == "pr":
            return mr.marginal_mean(link, eta, np.full(cov.n, math.exp(theta[0])))
        return mr.inverse_link(link, eta)
    return fn


def _count(res, stat: str, arg: str | None):
    from hlmshell.commands import xt_glmm_predict as xp
    bounds = _numbers(arg, 1) if stat == "pr0" else None

    def fn(cov, xb, theta):
        off = cov.cont.get("__offset", 0.0)
        with np.errstate(all="ignore"):
            if stat == "xb":
                return xb + off
            if stat == "n":
                return np.exp(xb + off + math.exp(theta[0]) / 2)
            scale = 1.0
            if res.cmd == "xtnbreg" and _model(res) == "re":
                r, s = math.exp(theta[0]), math.exp(theta[1])
                scale = s / (r - 1.0) if r > 1.0 else math.nan
            if stat == "iru0":
                return np.exp(xb) * scale
            if stat == "nu0":
                return np.exp(xb + off) * scale
            a = np.full(cov.n, bounds[0])
            b = np.full(cov.n, bounds[-1] if len(bounds) == 2 else bounds[0])
            return xp.poisson_between(np.exp(xb + off), a, np.where(np.isnan(b), np.inf, b))
    return fn


def _tobit(stat: str, arg: str | None):
    from hlmshell.commands import tobit as tb
    lo, hi = _numbers(arg, 2) if stat != "xb" else (math.nan, math.nan)

    def fn(cov, xb, theta):
        eta = xb + cov.cont.get("__offset", 0.0)
        if stat == "xb":
            return eta
        s = math.sqrt(theta[0] ** 2 + theta[1] ** 2)
        a = None if math.isnan(lo) else np.full(cov.n, lo)
        b = None if math.isnan(hi) else np.full(cov.n, hi)
        with np.errstate(all="ignore"):
            return tb.censored_stat(stat, eta, s, a, b)
    return fn


def _pa(res, stat: str):
    from hlmshell.engine import glm_family as gfm
    link = gfm.make_link(res.macros["link"], float(res.scalars.get("power", 0.0)))

    def fn(cov, xb, theta):
        if stat == "xb":
            return xb + cov.cont.get("__offset", 0.0)
        eta = xb + (0.0 if stat == "rate" else cov.cont.get("__offset", 0.0))
        with np.errstate(all="ignore"):
            return link.inv(np.asarray(eta, dtype=float) * np.ones(cov.n))[0]
    return fn


def _theta_names(res, stat: str) -> list[str]:
    if _model(res) != "re":
        return []
    if res.cmd in _LINK and stat == "pr":
        return ["lnsig2u"]
    if res.cmd == "xtpoisson" and stat == "n":
        return ["lnsig2u"]
    if res.cmd == "xtnbreg" and stat in ("nu0", "iru0"):
        return ["ln_r", "ln_s"]
    if res.cmd in ("xttobit", "xtintreg") and stat != "xb":
        return ["sigma_u", "sigma_e"]
    return []


def setup(session, res, model, req, text: str):
    """predict(text) after a panel model: sets req.theta_fn / req.extra_cols and returns
    (model, r(predict_label), r(expression))."""
    from hlmshell.commands import margins_build as mb
    from hlmshell.commands.xt_glmm_predict import offset_values
    stat, arg = _parse(res, text)
    model = mb.with_theta(model, res, [_index(res, nm) for nm in _theta_names(res, stat)])
    if _model(res) == "pa":
        fn = _pa(res, stat)
    elif res.cmd in ("xttobit", "xtintreg", "xtrc"):   # xtrc: xb, the only statistic
        fn = _tobit(stat, arg)
    elif res.cmd in _LINK:
        fn = _binary(res, stat, _LINK[res.cmd])
    else:
        fn = _count(res, stat, arg)
    req.theta_fn = fn
    req.extra_cols = {"__offset": offset_values(res, session.data)}
    return model, _label(res, stat, arg), f"predict({text})"
