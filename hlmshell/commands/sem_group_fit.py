"""Fitting sem ..., group(): the sample, the groups' data blocks, starting values from each
group's own moments, the saturated and baseline models (sums over groups), and the results
object with the rows sem_output shows for each parameter (one `[*]` row when it is shared by
all groups, one row per group otherwise)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from hlmshell.commands import sem_group as sg
from hlmshell.commands.sem_build import Param, build, starting_values
from hlmshell.errors import StataError
from hlmshell.syntax.evaluate import marksample


def _codes(session, c, obs, gvar):
    for n in obs + [gvar]:
        if session.data.var(n).is_string:
            raise StataError("type mismatch", 109)
    mask = np.asarray(marksample(session, c, obs + [gvar]), dtype=bool)
    gv = np.asarray(session.data.var(gvar).values, float)[mask]
    if gv.size == 0:
        raise StataError("no observations", 2000)
    levels = sorted(set(gv.tolist()))
    codes = np.searchsorted(np.array(levels), gv)
    X = np.column_stack([np.asarray(session.data.var(n).values, float)[mask] for n in obs])
    return mask, X, codes, [int(v) if float(v).is_integer() else v for v in levels]


def _freed_mean_params(built, gf) -> list[Param]:
    """mean(L) rows for the latent means freed in groups after the first."""
    if not gf.free_means:
        return []
    out = []
    shown = {q.name for q in built.params}
    for L in built.exo_lat:
        if f"mean({L})" not in shown:
            i = built.names.index(L)
            out.append(Param("/", f"mean({L})", f"mean({L})", "mean", "m", i, 0, -1, 0.0))
    return out


def _start(built, gf, moments) -> np.ndarray:
    theta = np.zeros(gf.model.n_par)
    done = set()
    for g, (_, S, xb) in enumerate(moments):
        local = starting_values(built, S, xb)[0]
        for kl, kg in gf.maps[g].items():
            if kg not in done:
                theta[kg] = local[kl]
                done.add(kg)
    return theta


def fit_groups(session, req, c):
    from hlmshell.commands.sem_results import FittedSem
    from hlmshell.engine import sem_fit, sem_model
    gvar, invariant = req.group
    built = build(req.spec)
    obs = built.names[:built.n_obs]
    mask, X, codes, levels = _codes(session, c, obs, gvar)
    G, p = len(levels), built.n_obs
    gf = sg.join(built, G, invariant, {t.name for t in req.spec.means})
    built = replace(built, params=built.params + _freed_mean_params(built, gf))
    pats, moments = sg.group_data(X, codes, G)
    try:
        fit = sem_fit.fit(gf.model, [_start(built, gf, moments)], pats, np.zeros(G * p), X.shape[0],
                          heywood=req.opts.heywood)
    except sem_fit.SemFitError as err:
        rc = 498 if "identified" in str(err) else 1400
        raise StataError("the model is not identified" if rc == 498 else "initial values not feasible", rc) from None
    Xg = np.full((X.shape[0], G * p), np.nan)
    for g in range(G):
        Xg[np.ix_(codes == g, np.arange(g * p, (g + 1) * p))] = X[codes == g]
    V = sem_fit.robust_vcov(gf.model, fit, Xg) if req.robust else fit.V
    params, rows = sg.group_params(built, gf, levels, gvar)
    shown = {q.k for q in params if q.k >= 0}
    hidden = sorted(set(range(gf.model.n_par)) - shown)
    joined = replace(built, model=gf.model, params=params, hidden=hidden,
                     k_free=gf.model.n_par - len(hidden))
    exog = [built.names.index(n) for n in built.exo_obs]
    out = FittedSem(joined, fit, V, X, moments[0][1], moments[0][2], mask, req)
    out.ll_sat = sum(sem_model.saturated_loglik(S, n) for n, S, _ in moments)
    out.ll_base = sum(sem_model.baseline_loglik(S, n, exog) for n, S, _ in moments)
    out.n_moments = G * (p * (p + 3) // 2)
    kx = len(exog)
    out.n_base = G * (2 * p + kx * (kx - 1) // 2)
    out.groups = (gvar, levels, rows, built)
    return out
