"""predict after sem: `latent` (empirical Bayes means of the latent variables, the regression
method: E[L | y] = mu_L + Cov(L, y) Sigma^-1 (y - mu)) and `xb` (the linear prediction of
each observed endogenous variable, its intercept plus its paths times the observed values of
observed sources and the predicted values of latent ones), for every observation whose
observed model variables are all nonmissing (within if/in), as Stata's sem_p does.

    predict Trust, latent            predict f1 f2, latent(F1 F2)         predict xb*, xb
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands.predict import PREDICTORS, _add, _new_names, _touse
from hlmshell.errors import StataError

_ALLOWED = ("xb", "latent")


def _scores(fitted, Y: np.ndarray) -> np.ndarray:
    """Predicted values of every model variable (observed: as given; latent: EB means)."""
    built = fitted.built
    p = built.n_obs
    _, C, mu = built.model.total(fitted.fit.theta)
    W = np.linalg.solve(C[:p, :p], C[:p, p:]).T          # Cov(L, y) Sigma^-1
    lat = mu[p:] + (Y - mu[:p]) @ W.T
    return np.column_stack([Y, lat])


def _which_latent(built, text: str | None, count: int) -> list[int]:
    lat = built.names[built.n_obs:]
    if not lat:
        raise StataError("no latent variables in the model", 198)
    if text and text.strip():
        out = []
        for w in text.split():
            if w not in lat:
                raise StataError(f"{w} is not a latent variable in the model", 198)
            out.append(built.names.index(w))
        return out
    return [built.n_obs + k for k in range(len(lat))]


def _check(res, opts):
    for name in opts.given:
        if name not in _ALLOWED:
            raise StataError(f"option {name} not allowed", 198)
    if "xb" in opts and "latent" in opts:
        raise StataError("only one statistic may be specified", 198)
    fitted = res.model
    if fitted is None:
        raise StataError("last estimates not found", 301)
    if fitted.groups is not None:
        raise StataError("predict is not available after sem with group() in hlmshell", 198)
    return fitted


def predict(session, cmd, res, opts) -> None:
    fitted = _check(res, opts)
    built = fitted.built
    obs = built.names[:built.n_obs]
    missing = [n for n in obs if n not in session.data]
    if missing:
        raise StataError(f"variable {missing[0]} not found", 111)
    Y = np.column_stack([np.asarray(session.data.var(n).values, float) for n in obs])
    ok = ~np.isnan(Y).any(axis=1) & _touse(session, cmd)
    V = np.full((Y.shape[0], len(built.names)), np.nan)
    if ok.any():
        V[ok] = _scores(fitted, Y[ok])
    if "latent" in opts:
        cols = _which_latent(built, opts.raw("latent"), 0)
        labels = [f"Predicted {built.names[c]} (latent)" for c in cols]
        values = [V[:, c] for c in cols]
    else:
        cols = [built.names.index(n) for n in obs if n in built.endo]
        if not cols:
            raise StataError("no observed endogenous variables in the model", 198)
        A, _, m = built.model.matrices(fitted.fit.theta)
        values = [m[c] + V @ np.nan_to_num(A[c]) for c in cols]
        labels = [f"Linear prediction of {built.names[c]}" for c in cols]
    vtype, names = _new_names(cmd.body or "", len(cols) if len(cols) > 1 else None)
    if len(cols) == 1 and len(names) != 1:
        raise StataError("too many variables specified", 103)
    _add(session, names, values, labels, vtype, ok)


PREDICTORS["sem"] = predict
