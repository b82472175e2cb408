"""mestreg's fit and e(): the fixed-effects (streg) model, a grid over the random-effects
standard deviation (`Refining starting values`), the full model by the GLMM engine with the
survival family, the observed information in Stata's metric and the delta method to variances.

Why streg's fit first: its Newton iterations on the analytic survival likelihood are what
Stata's `Fitting fixed-effects model` shows, and its log likelihood is the LR test's
comparison model (the boundary test of the random effects' variance, chibar2(01))."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import me_glmm, me_start
from hlmshell.engine import glmm
from hlmshell.engine import survival_me as sm
from hlmshell.engine.vcparams import Structure, normalize_structure
from hlmshell.errors import StataError
from hlmshell.output import me_output as meo
from hlmshell.results import EstimationResults

_TITLE = {"exponential": "exponential", "weibull": "Weibull", "lognormal": "lognormal",
          "loglogistic": "loglogistic"}
GRID_SD = (1.0, 0.5, 0.25, 0.1)


def _grid_start(prob, b, extra, st) -> np.ndarray:
    """The starting point over a few standard deviations of the random effects: the one with
    the highest (approximate) log likelihood."""
    best, best_ll = None, -np.inf
    for sd in GRID_SD:
        x = np.concatenate([b, st.start(sd), extra])
        with np.errstate(all="ignore"):
            ll = prob.loglik(x)
        if np.isfinite(ll) and ll > best_ll:
            best, best_ll = x, ll
    if best is None:
        raise StataError("initial values not feasible", 1400)
    return best


def fit_and_post(session, cmd, opts, dname, aft, design, block, rec, mask, vlabels,
                 method, points) -> EstimationResults:
    out = session.out
    log = not opts.nolog or opts.log
    X = design.X_keep
    p = X.shape[1]
    theta_fe, ll0, lls = sm.fixed_effects_fit(dname, aft, X, rec.t0, rec.t, rec.d)
    if not np.all(np.isfinite(theta_fe)) or not np.isfinite(ll0):
        raise StataError("could not fit the model without random effects", 430)
    if log:
        out.line("Fitting fixed-effects model:")
        out.line("")
        for i, v in enumerate(lls):
            out.line(meo.iteration_line(i, v))
    fam = sm.SurvivalFamily(dname, aft, rec.t0, rec.t, rec.d)
    n = len(rec.t)
    Z = np.asarray(block.Z, dtype=float)
    q = Z.shape[1]
    st = Structure(normalize_structure(block.covariance, q), q)
    data = glmm.GlmmData.build(np.arange(n, dtype=float), X, Z, block.group)
    prob = glmm.Problem(data, fam, st, "laplace" if method == "laplace" else "agq", points,
                        adapt={"mcaghermite": "mc", "ghermite": "none"}.get(method, "mv"))
    b0, extra0 = theta_fe[:p], theta_fe[p:]
    fam.extra = np.asarray(extra0, dtype=float).copy()
    try:
        x0 = _grid_start(prob, b0, extra0, st)
        fit = me_glmm.full_model(out, log, me_start.StartPlan(), prob, x0, opts.iterate,
                                 glmm.fit_problem)
        V_s = glmm.observed_vcov(fit, st)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    names, b, V, kf, rows = me_glmm._names_and_values("_t", design, block, fit, st, V_s, fam)
    res = EstimationResults(cmd="mestreg", names=names, b=b, V=V,
                            omitted=np.concatenate([design.omitted,
                                                    np.zeros(len(names) - len(design.omitted), bool)]),
                            k_f=kf, sample=mask.copy())
    title = f"Mixed-effects {_TITLE[dname]} {'AFT' if aft else 'PH'} regression"
    me_glmm._post(res, cmd, fit, ll0, data, title, method, points, "survival", dname, block,
                  len(rows), V_s, free=st.m)
    res.macros.pop("family", None)
    res.macros.pop("link", None)
    res.macros.update({"cmd": "mestreg", "distribution": dname,
                       "frm2": "time" if aft else "hazard", "depvar": "_t",
                       "predict": "mestreg_p", "model": "mestreg"})
    res.scalars.update({"N_sub": float(n), "N_fail": float(rec.d.sum()),
                        "risk": float(np.sum(rec.t - rec.t0))})
    if fam.n_extra:
        a = float(fit.x[-1])
        res.scalars["aux_p" if dname == "weibull" else "sigma"] = float(np.exp(a))
    res.model = glmm.GlmmModel(data, fam, st, fit, [block], design, vlabels)
    return res
