"""predict ..., marginal after mestreg ([ME] mestreg postestimation): the survival quantities
integrated over the random effects' distribution instead of evaluated at their posterior
means: S_m(t) = E_u S(t | xb + z'u), f_m(t) = E_u f(t | .), h_m = f_m / S_m, the mean E_u E(T|.)
and the median, the t with S_m(t) = 1/2 (bisection on ln t between the smallest and largest
conditional medians over the quadrature nodes, which bracket it).

Why a module of its own: the integration rule differs with one level (engine.glmm_residuals,
the effects' covariance and z rows) and several (engine.glmm_multi_marginal, the variance of
the random part of eta), and the median needs its own root search."""
from __future__ import annotations

import numpy as np

from hlmshell.engine import survival_param as sp


def integrator(res, data, sample):
    """E over the random effects of fn(eta): fn maps (n, K) etas to (n, K) values."""
    model = res.model
    from hlmshell.commands.predict import xb_all
    xb = xb_all(res, data)
    if type(model).__name__ == "MultiModel":
        from hlmshell.commands.me_multilevel_means import random_variance
        from hlmshell.engine import glmm_multi_marginal as gmm
        s2 = random_variance(model, data, sample)
        return lambda fn: gmm.marginal(fn, xb, s2)
    from hlmshell.commands.predict import z_values
    from hlmshell.engine import glmm_residuals as gr
    Z = z_values(model.blocks[0], data, sample)
    ok = np.all(np.isfinite(Z), axis=1)

    def integrate(fn):
        return np.where(ok, gr.marginal(fn, xb, np.nan_to_num(Z), model.fit.cov), np.nan)
    return integrate


def statistic(res, data, sample, stat: str, dname: str, aft: bool, anc: float) -> np.ndarray:
    """The marginal mean, median, survival, distribution, density or hazard per observation."""
    E = integrator(res, data, sample)
    with np.errstate(all="ignore"):
        if stat == "mean":
            return E(lambda e: sp.mean_time(dname, aft, e, anc))
        if stat == "median":
            return _median(E, dname, aft, anc)
        t = np.asarray(data.values("_t"), dtype=float)[:, None]

        def surv(e):
            return np.exp(sp._log_surv_and_haz(dname, aft, e, anc, t)[0])

        def dens(e):
            ls, lh = sp._log_surv_and_haz(dname, aft, e, anc, t)
            return np.exp(ls + lh)
        if stat == "survival":
            return E(surv)
        if stat == "distribution":
            return 1.0 - E(surv)
        if stat == "density":
            return E(dens)
        return E(dens) / E(surv)


def _median(E, dname, aft, anc) -> np.ndarray:
    """S_m(t) = 1/2 by bisection on ln t, bracketed by the nodes' conditional medians."""
    meds = []                  # the conditional medians at the rule's nodes: the bracket

    def record(e):
        meds.append(sp.median_time(dname, aft, e, anc))
        return np.zeros_like(e)
    E(record)
    lo, hi = np.log(np.nanmin(meds[0], axis=1)), np.log(np.nanmax(meds[0], axis=1))
    lo, hi = lo - 1e-9, hi + 1e-9
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        tt = np.exp(mid)[:, None]
        s = E(lambda e: np.exp(sp._log_surv_and_haz(dname, aft, e, anc, tt)[0]))
        above = s > 0.5
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    out = np.exp(0.5 * (lo + hi))
    return np.where(np.isfinite(out), out, np.nan)
