"""predict after teffects: te (the unit's treatment effect, the default), po (the two potential
outcomes: `predict y0 y1, po`), ps (propensity scores: two variables, or one for the treated
level or the level tlevel() names) and xb (the outcome equations' linear predictions).

Why its own module: the statistics come from teffects' own equations (OME#, TME# in e(b)) or,
after nnmatch and psmatch, from the potential outcomes the matches imputed on e(sample);
predict's generic linear prediction knows neither.
"""
from __future__ import annotations

import numpy as np

from hlmshell.errors import StataError

_STATS = ("te", "po", "ps", "xb")


def _equation(data, res, eq: str) -> np.ndarray:
    """x'b of one equation of e(b), for every observation (missing where x is)."""
    from hlmshell.commands.predict import column_values
    idx = [i for i, (e, _) in enumerate(res.names) if e == eq and not res.omitted[i]]
    if not idx:
        raise StataError(f"equation {eq} not found", 303)
    X = np.column_stack([column_values(data, res.names[i][1]) for i in idx])
    return X @ np.ravel(res.b)[idx]


def _ps(data, res) -> np.ndarray:
    eq = f"TME{int(res.scalars['treated'])}"
    q = _equation(data, res, eq)
    if res.macros.get("tmodel") == "probit":
        from scipy.special import ndtr
        return ndtr(q)
    return 1.0 / (1.0 + np.exp(-q))


def _outcomes(data, res, index: bool = False):
    """(potential outcome under control, under treatment) for every observation."""
    sub = res.macros["subcmd"]
    if sub in ("nnmatch", "psmatch"):
        n = data.n
        y0, y1 = np.full(n, np.nan), np.full(n, np.nan)
        mask = np.asarray(res.sample, dtype=bool)
        if mask.size != n:
            raise StataError("data have changed since estimation", 459)
        y0[mask], y1[mask] = res.fit.y0, res.fit.y1
        return y0, y1
    if sub == "ipw":
        raise StataError("option te not allowed after teffects ipw", 198)
    c, t = int(res.scalars["control"]), int(res.scalars["treated"])
    q0, q1 = _equation(data, res, f"OME{c}"), _equation(data, res, f"OME{t}")
    if index:
        return q0, q1
    from hlmshell.engine.teffects import outcome_mean
    om = res.macros.get("omodel", "linear")
    return outcome_mean(q0, om), outcome_mean(q1, om)


def _statistic(opts, res) -> str:
    given = [s for s in _STATS if s in opts and getattr(opts, s, None)]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    sub = res.macros["subcmd"]
    stat = given[0] if given else ("ps" if sub == "ipw" else "te")
    if stat == "ps" and sub in ("ra", "nnmatch"):
        raise StataError(f"option ps not allowed after teffects {sub}", 198)
    if stat == "xb" and sub in ("ipw", "nnmatch", "psmatch"):
        raise StataError(f"option xb not allowed after teffects {sub}", 198)
    return stat


def _ps_columns(session, res, names, opts):
    tvar = res.macros["tvar"]
    c, t = int(res.scalars["control"]), int(res.scalars["treated"])
    p = _ps(session.data, res) if res.macros["subcmd"] != "psmatch" else _stored_ps(session, res)
    if len(names) == 2:
        return [1 - p, p], [f"propensity score, {tvar}={c}", f"propensity score, {tvar}={t}"]
    lev = opts.raw("tlevel")
    level = t if not lev else _level(lev, (c, t))
    col = p if level == t else 1 - p
    return [col], [f"propensity score, {tvar}={level}"]


def _stored_ps(session, res):
    n = session.data.n
    out = np.full(n, np.nan)
    mask = np.asarray(res.sample, dtype=bool)
    out[mask] = res.ps
    return out


def _level(text: str, levels) -> int:
    try:
        v = int(float(text))
    except ValueError:
        raise StataError(f"tlevel({text}) invalid", 198) from None
    if v not in levels:
        raise StataError(f"tlevel({text}) is not a treatment level", 198)
    return v


def predict(session, cmd, res, opts) -> None:
    from hlmshell.commands.predict import _add, _new_names, _touse
    stat = _statistic(opts, res)
    count = None if stat in ("te",) else (2 if stat in ("po", "xb") else None)
    words = (cmd.body or "").split()
    typed = words[1:] if words and words[0] in ("byte", "int", "long", "float", "double") \
        else words
    if stat == "ps" and len(typed) == 2:
        count = 2
    vtype, names = _new_names(cmd.body or "", count)
    data = session.data
    touse = _touse(session, cmd)
    tvar = res.macros["tvar"]
    c, t = int(res.scalars["control"]), int(res.scalars["treated"])
    if stat == "ps":
        cols, labs = _ps_columns(session, res, names, opts)
    else:
        y0, y1 = _outcomes(data, res, index=stat == "xb")
        if stat == "te":
            cols, labs = [y1 - y0], [f"TE: {tvar} ({t} vs {c})"]
        else:
            what = "potential-outcome mean" if stat == "po" else "linear prediction"
            cols, labs = [y0, y1], [f"{what}, {tvar}={c}", f"{what}, {tvar}={t}"]
    _add(session, names, cols, labs, vtype, touse)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["teffects"] = predict


_register_predict()
