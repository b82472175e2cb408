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


def _levels(res) -> list[int]:
    return [int(v) for v in res.macros["tlevels"].split()]


def _ps_matrix(data, res) -> np.ndarray:
    """n x L probabilities of the levels (ascending), from the TME# equations."""
    levels = _levels(res)
    ctrl = int(res.scalars["control"])
    if res.macros["subcmd"] == "psmatch":
        raise StataError("internal: psmatch scores are stored", 498)
    eta = np.column_stack([np.zeros(data.n) if v == ctrl else _equation(data, res, f"TME{v}")
                          for v in levels])
    if len(levels) == 2 and res.macros.get("tmodel") == "probit":
        from scipy.special import ndtr
        k = 1 - levels.index(ctrl)
        p = ndtr(eta[:, k])
        return np.column_stack([1 - p, p]) if k == 1 else np.column_stack([p, 1 - p])
    top = np.nanmax(eta, axis=1, keepdims=True)
    e = np.exp(eta - top)
    return e / e.sum(axis=1, keepdims=True)


def _ps(data, res) -> np.ndarray:
    """Pr(treated level | z) of a binary treatment."""
    levels = _levels(res)
    return _ps_matrix(data, res)[:, levels.index(int(res.scalars["treated"]))]


def _outcomes(data, res, index: bool = False):
    """Each level's potential outcome (ascending levels) for every observation."""
    sub = res.macros["subcmd"]
    if sub in ("nnmatch", "psmatch"):
        n = data.n
        y0, y1 = np.full(n, np.nan), np.full(n, np.nan)
        mask = np.asarray(res.sample, dtype=bool)
        if mask.size != n:
            raise StataError("data have changed since estimation", 459)
        y0[mask], y1[mask] = res.fit.y0, res.fit.y1
        return (y0, y1) if res.control < res.treated else (y1, y0)
    if sub == "ipw":
        raise StataError("option te not allowed after teffects ipw", 198)
    qs = [_equation(data, res, f"OME{v}") for v in _levels(res)]
    if index:
        return tuple(qs)
    from hlmshell.engine.teffects import outcome_mean
    om = res.macros.get("omodel", "linear")
    return tuple(outcome_mean(q, om) for q in qs)


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


def _chosen(opts, res, levels) -> int:
    lev = opts.raw("tlevel")
    return _level(lev, levels) if lev else int(res.scalars["treated"])


def predict(session, cmd, res, opts) -> None:
    from hlmshell.commands.predict import _add, _new_names, _touse
    stat = _statistic(opts, res)
    levels = _levels(res)
    words = (cmd.body or "").split()
    typed = words[1:] if words and words[0] in ("byte", "int", "long", "float", "double") \
        else words
    L = len(levels)
    count = L if stat in ("po", "xb") or (stat == "ps" and len(typed) == L) else None
    vtype, names = _new_names(cmd.body or "", count)
    data = session.data
    tvar = res.macros["tvar"]
    ctrl = int(res.scalars["control"])
    if stat == "ps":
        P = np.column_stack([1 - _stored_ps(session, res), _stored_ps(session, res)]) \
            if res.macros["subcmd"] == "psmatch" else _ps_matrix(data, res)
        if res.macros["subcmd"] == "psmatch" and res.control > res.treated:
            P = P[:, ::-1]
        pick = levels if count else [_chosen(opts, res, levels)]
        cols = [P[:, levels.index(v)] for v in pick]
        labs = [f"propensity score, {tvar}={v}" for v in pick]
    else:
        outs = _outcomes(data, res, index=stat == "xb")
        if stat == "te":
            v = _chosen(opts, res, levels)
            if v == ctrl:
                raise StataError(f"tlevel({v}) may not be the control level", 198)
            cols = [outs[levels.index(v)] - outs[levels.index(ctrl)]]
            labs = [f"TE: {tvar} ({v} vs {ctrl})"]
        else:
            what = "potential-outcome mean" if stat == "po" else "linear prediction"
            cols, labs = list(outs), [f"{what}, {tvar}={v}" for v in levels]
    _add(session, names, cols, labs, vtype, _touse(session, cmd))


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["teffects"] = predict


_register_predict()
