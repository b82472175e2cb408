"""predict after gsem: `mu` (the default: each response's expected value), `eta` (its linear
predictor) and `latent` (empirical Bayes means of the latent variables, the posterior means
given each cluster's data). mu and eta plug in the latent variables' empirical Bayes means
(Stata's conditional(ebmeans), the default) or zeros (conditional(fixedonly)).

    predict mu*                    one variable per response (mu1, mu2, ...)
    predict pw, eta outcome(write)
    predict u1 u2, latent          predict re*, latent
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands.predict import (
    PREDICTORS,
    _add,
    _new_names,
    _touse,
    column_values,
)
from hlmshell.errors import StataError

_ALLOWED = ("mu", "eta", "latent", "conditional", "fixedonly", "ebmeans", "outcome")


def _check(res, opts):
    for name in opts.given:
        if name not in _ALLOWED:
            raise StataError(f"option {name} not allowed", 198)
    if sum(k in opts for k in ("mu", "eta", "latent")) > 1:
        raise StataError("only one statistic may be specified", 198)
    if res.model is None:
        raise StataError("last estimates not found", 301)
    cond = (opts.raw("conditional") or ("fixedonly" if "fixedonly" in opts else "ebmeans")).strip().lower()
    if cond not in ("ebmeans", "fixedonly"):
        raise StataError(f"conditional({cond}) not allowed", 198)
    return res.model, cond


def _eb_by_obs(session, fitted) -> np.ndarray:
    """EB means of the latents for every observation of the dataset (nan outside the
    fitted clusters)."""
    from hlmshell.engine import gsem_fit as gf
    mean, _ = gf.posterior(fitted.model, fitted.fit)
    n = session.data.n
    out = np.full((n, fitted.model.q), np.nan)
    if fitted.group_var not in session.data:
        raise StataError(f"variable {fitted.group_var} not found", 111)
    gv = np.asarray(session.data.var(fitted.group_var).values, float)
    samp = fitted.sample if fitted.sample.size == n else np.zeros(n, bool)
    if not samp.any():
        raise StataError("predict requires the estimation sample (data changed)", 459)
    keys = np.unique(gv[samp])
    pos = np.searchsorted(keys, gv)
    ok = (pos < keys.size) & ~np.isnan(gv)
    ok[ok] = keys[pos[ok]] == gv[ok]
    out[ok] = mean[pos[ok]]
    return out


def _eta(session, res, fitted, k: int, U) -> np.ndarray:
    dep = fitted.eqs[k].depvar
    data = session.data
    b = np.asarray(res.b, float)
    eta = np.zeros(data.n)
    for i, (eq, nm) in enumerate(res.names):
        if eq != dep or res.omitted[i] or "[" in nm:
            continue
        eta = eta + b[i] * column_values(data, nm)
    for ref in fitted.eqs[k].latent_refs:
        j = fitted.latents.index(ref.label)
        i = res.coef_index(dep, ref.coef_name)
        z = 1.0 if ref.slope is None else np.asarray(data.var(ref.slope).values, float)
        if U is not None:
            eta = eta + b[i] * z * U[:, j]
    return eta


def _which(fitted, opts) -> list[int]:
    deps = [e.depvar for e in fitted.eqs]
    text = (opts.raw("outcome") or "").strip()
    if not text:
        return list(range(len(deps)))
    if text not in deps:
        raise StataError(f"outcome({text}) not found", 111)
    return [deps.index(text)]


def predict(session, cmd, res, opts) -> None:
    fitted, cond = _check(res, opts)
    touse = _touse(session, cmd)
    if "latent" in opts:
        if not fitted.latents:
            raise StataError("no latent variables in the model", 198)
        U = _eb_by_obs(session, fitted)
        q = len(fitted.latents)
        vtype, names = _new_names(cmd.body or "", q if q > 1 else None)
        if len(names) != q:
            raise StataError("too many variables specified" if len(names) > q
                             else "too few variables specified", 103 if len(names) > q else 102)
        ok = touse & ~np.isnan(U).any(axis=1)
        _add(session, names, [U[:, j] for j in range(q)],
             [f"empirical Bayes' means for {lab}" for lab in fitted.latents], vtype, ok)
        return
    which = _which(fitted, opts)
    U = _eb_by_obs(session, fitted) if fitted.latents and cond == "ebmeans" else None
    stat = "eta" if "eta" in opts else "mu"
    cols, labels = [], []
    from hlmshell.engine.gsem_model import mean_of
    for k in which:
        e = fitted.eqs[k]
        if stat == "mu" and e.family == "ordinal":
            raise StataError("predict, mu is not available for ordinal responses in hlmshell; "
                             "use eta", 198)
        eta = _eta(session, res, fitted, k, U)
        cols.append(eta if stat == "eta" else mean_of(e.family, e.link, eta))
        labels.append(f"{'Linear prediction' if stat == 'eta' else 'Predicted mean'} ({e.depvar})")
    vtype, names = _new_names(cmd.body or "", len(which) if len(which) > 1 else None)
    if len(names) != len(which):
        raise StataError("too many variables specified", 103)
    _add(session, names, cols, labels, vtype, touse)


PREDICTORS["gsem"] = predict
