"""predict after xtlogit, xtprobit, xtcloglog and xtpoisson ([XT] ... postestimation).

Each model has its own list of statistics, and an option of predict's that the model does not
define is r(198) -- never silently the linear prediction:

    re, binary   xb (the default), pr (integrated over u_i ~ N(0, sigma_u^2)), pu0 (u_i = 0),
                 stdp
    fe, xtlogit  pc1 (the default: the probability of a positive outcome given one per panel),
                 pu0, xb, stdp
    re, fe       xtpoisson: xb (the default), stdp, nu0 = exp(xb + offset), iru0 = exp(xb);
                 after re also pr0(n) and pr0(a,b) (Poisson probabilities with u_i = 0) and,
                 after re normal only, n (the mean integrated over the normal u_i)
    pa           as xtgee (engine of the pa fit)

xb includes the offset (ln of the exposure) unless nooffset, as Stata's _predict.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.errors import StataError

# every statistic predict's syntax knows that some panel model defines; one not in the
# model's own list is refused
_KNOWN = ("xb", "stdp", "pr", "pu0", "pc1", "nu0", "iru0", "n", "pr0", "mu", "rate", "ir",
          "eta", "pearson", "deviance", "anscombe", "reffects", "residuals", "fitted",
          "marginal", "u", "e", "ue", "xbu", "e0", "ystar", "ystar0", "fixedonly", "scores",
          "score", "rstandard", "hr", "median", "mean", "surv", "hazard", "density",
          "survival", "outcome", "equation", "conditional", "ebmeans", "ebmodes", "d", "xbd")
_MODIFIERS = ("nooffset",)


def allowed_stats(res) -> tuple[str, ...]:
    """The model's statistics, its default first."""
    model = res.macros.get("model")
    if res.cmd == "xtpoisson":
        extra = ("pr0",) if model == "re" else ()
        if model == "re" and res.macros.get("distrib", "").lower() == "gaussian":
            extra += ("n",)
        return ("xb", "stdp", "nu0", "iru0") + extra
    if model == "fe":
        return ("pc1", "pu0", "xb", "stdp")
    return ("xb", "pr", "pu0", "stdp")


def chosen_stat(opts, allowed: tuple[str, ...]) -> tuple[str, bool]:
    """(statistic, defaulted): the one statistic typed, refusing any the model does not define
    (`option X not allowed`, r(198)) and more than one (r(198))."""
    given = [w for w in opts.given if w not in _MODIFIERS]
    for w in given:
        if w not in allowed:
            paren = "()" if opts.given.get(w) is not None else ""
            raise StataError(f"option {w}{paren} not allowed", 198)
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    return (given[0], False) if given else (allowed[0], True)


def _arg_values(data, text: str, n: int) -> np.ndarray:
    text = text.strip()
    if text == ".":
        return np.full(n, np.inf)
    try:
        return np.full(n, float(text))
    except ValueError:
        pass
    if not re.fullmatch(r"[A-Za-z_]\w*", text):
        raise StataError("invalid syntax", 198)
    from hlmshell.commands.model_terms import resolve_var
    names = resolve_var(data, text)
    if len(names) != 1 or data.var(names[0]).is_string:
        raise StataError("invalid syntax", 198)
    return np.asarray(data.values(names[0]), dtype=float)


def count_bounds(data, text: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """pr0(n) / pr0(a,b): the bounds a <= y <= b (b missing = +infinity) and the label's
    text; pr0(.,b) is a syntax error, as Stata's."""
    parts = [p.strip() for p in (text or "").split(",")]
    if not parts[0] or len(parts) > 2 or parts[0] == ".":
        raise StataError("invalid syntax", 198)
    a = _arg_values(data, parts[0], data.n)
    b = a.copy() if len(parts) == 1 else _arg_values(data, parts[1], data.n)
    b = np.where(np.isnan(b), np.inf, b)
    return a, b, (parts[0] if len(parts) == 1 else f"{parts[0]}<=y<={parts[1]}")


def poisson_between(mu: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pr(a <= y <= b) for y ~ Poisson(mu), a and b rounded down as counts."""
    from scipy.special import pdtr
    with np.errstate(all="ignore"):
        lo = np.floor(a) - 1.0
        hi = np.floor(b)
        upper = np.where(np.isinf(hi), 1.0, pdtr(np.where(np.isinf(hi), 0.0, hi), mu))
        lower = np.where(lo < 0, 0.0, pdtr(np.clip(lo, 0, None), mu))
        out = upper - lower
    out = np.where(hi < np.floor(a), 0.0, out)
    return np.where(np.isnan(a) | np.isnan(mu), np.nan, out)


def offset_values(res, data) -> np.ndarray:
    """The offset of e(offset) over all observations (ln of an exposure), 0 without one."""
    text = res.macros.get("offset")
    if not text:
        return np.zeros(data.n)
    if text.startswith("ln(") and text.endswith(")"):
        with np.errstate(all="ignore"):
            return np.log(np.asarray(data.values(text[3:-1]), dtype=float))
    return np.asarray(data.values(text), dtype=float)


def _offset(res, data, opts) -> np.ndarray:
    if "nooffset" in opts:
        return np.zeros(data.n)
    return offset_values(res, data)


def _inv_link(cmd: str, eta: np.ndarray) -> np.ndarray:
    from scipy.special import expit, ndtr
    with np.errstate(all="ignore"):
        if cmd == "xtprobit":
            return ndtr(eta)
        if cmd == "xtcloglog":
            return -np.expm1(-np.exp(eta))
        return expit(eta)


def marginal_pr(res, eta: np.ndarray) -> np.ndarray:
    """Pr(y = 1) integrated over u_i ~ N(0, sigma_u^2) (100-point Gauss-Hermite)."""
    from numpy.polynomial.hermite_e import hermegauss
    t, w = hermegauss(100)
    w = w / w.sum()
    s = math.exp(float(np.ravel(res.b)[res.k_f]) / 2)
    return _inv_link(res.cmd, eta[:, None] + s * t[None, :]) @ w


def _pc1(session, res, eta, touse) -> np.ndarray:
    from hlmshell.engine import clogit_scores as cs
    data = session.data
    g = np.asarray(data.values(res.macros["ivar"]), dtype=float)
    ok = touse & ~np.isnan(eta) & ~np.isnan(g)
    out = np.full(data.n, np.nan)
    if ok.any():
        codes = np.unique(g[ok], return_inverse=True)[1].ravel()
        out[ok] = cs.share_of_group(eta[ok], codes)
    return out


_DEFAULT_NOTE = {"xb": "(option xb assumed; linear prediction)",
                 "pc1": "(option pc1 assumed; probability of success given one success within group)"}


def predict(session, cmd, res, opts) -> None:
    """predict after the re and fe fits (pa goes to xtgee's predict)."""
    from hlmshell.commands.predict import _add, _new_names, _touse, stdp_all, xb_all
    stat, defaulted = chosen_stat(opts, allowed_stats(res))
    if defaulted:
        session.out.line(_DEFAULT_NOTE[stat])
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    touse = _touse(session, cmd)
    dep = res.depvar
    if stat == "stdp":
        _add(session, names, [stdp_all(res, data)], ["S.E. of the linear prediction"], vtype, touse)
        return
    xb = xb_all(res, data)
    eta = xb + _offset(res, data, opts)
    with np.errstate(all="ignore"):
        if stat == "xb":
            col, lab = eta, "Linear prediction"
        elif stat == "pr":
            col, lab = marginal_pr(res, eta), f"Pr({dep}=1)"
        elif stat == "pu0":
            col, lab = _inv_link(res.cmd, eta), f"Pr({dep}=1 assuming u_i=0)"
        elif stat == "pc1":
            col, lab = _pc1(session, res, eta, touse), f"Pr({dep}=1 | one positive outcome within group)"
        elif stat == "nu0":
            col, lab = np.exp(eta), "Predicted number of events (assuming u_i=0)"
        elif stat == "iru0":
            col, lab = np.exp(xb), "Predicted incidence rate (assuming u_i=0)"
        elif stat == "n":
            s2 = math.exp(float(np.ravel(res.b)[res.k_f]))
            col, lab = np.exp(eta + s2 / 2), "Predicted number of events"
        else:                                    # pr0(n) / pr0(a,b)
            a, b, text = count_bounds(data, opts.raw("pr0"))
            col = poisson_between(np.exp(eta), a, b)
            lab = f"Pr({dep}={text} assuming u_i=0)" if "<=" not in text \
                else f"Pr({text.replace('y', dep, 1)} assuming u_i=0)"
        _add(session, names, [col], [lab], vtype, touse)
