"""mestreg's fit and e(): the fixed-effects (streg) model, a grid over the random-effects
standard deviation (`Refining starting values`), the full model by the GLMM engine with the
survival family, the observed information in Stata's metric and the delta method to variances.

Why streg's fit first: its Newton iterations on the analytic survival likelihood are what
Stata's `Fitting fixed-effects model` shows, and its log likelihood is the LR test's
comparison model (the boundary test of the random effects' variance, chibar2(01))."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import me_glmm, me_start, me_weights
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


def _fixed_effects(out, log, dname, aft, X, rec):
    """streg's fit with Stata's `Fitting fixed-effects model` log: (b + ancillary, ll)."""
    theta_fe, ll0, lls = sm.fixed_effects_fit(dname, aft, X, rec.t0, rec.t, rec.d)
    if not np.all(np.isfinite(theta_fe)) or not np.isfinite(ll0):
        raise StataError("could not fit the model without random effects", 430)
    if log:
        out.line("Fitting fixed-effects model:")
        out.line("")
        for i, v in enumerate(lls):
            out.line(meo.iteration_line(i, v))
    return theta_fe, ll0


def _finish(res, dname, aft, rec, fit_x, fam) -> None:
    """mestreg's own e() entries over the me* ones."""
    res.macros.pop("family", None)
    res.macros.pop("link", None)
    res.macros.update({"cmd": "mestreg", "distribution": dname,
                       "frm2": "time" if aft else "hazard", "depvar": "_t",
                       "predict": "mestreg_p", "model": "mestreg"})
    if fam.n_extra:
        res.scalars["aux_p" if dname == "weibull" else "sigma"] = float(np.exp(fit_x[-1]))


def title_of(dname, aft) -> str:
    return f"Mixed-effects {_TITLE[dname]} {'AFT' if aft else 'PH'} regression"


def fit_and_post_multi(session, cmd, opts, dname, aft, design, blocks, rec, mask, vlabels,
                       method, points) -> EstimationResults:
    """Several random-effects levels (nested; crossed by Laplace): engine.glmm_multi with the
    same survival family, e() and names as me_multilevel's."""
    from hlmshell.commands import me_multilevel as mm
    from hlmshell.engine import glmm_multi as gm
    out = session.out
    log = not opts.nolog or opts.log
    X = design.X_keep
    p = X.shape[1]
    theta_fe, ll0 = _fixed_effects(out, log, dname, aft, X, rec)
    fam = sm.SurvivalFamily(dname, aft, rec.t0, rec.t, rec.d)
    fam.extra = np.asarray(theta_fe[p:], dtype=float).copy()
    n = len(rec.t)
    structures = [Structure(normalize_structure(b.covariance, b.Z.shape[1]), b.Z.shape[1])
                  for b in blocks]
    data = gm.MultiData(np.arange(n, dtype=float), X, np.zeros(n), np.ones(n), blocks)
    labels = mm.level_labels(blocks)
    var_rows = mm._var_rows(blocks, labels)
    try:
        prob = gm.make_problem(data, fam, structures,
                               "laplace" if method == "laplace" else "agq", points,
                               "none" if method == "ghermite" else "mv")
        best, best_ll = None, -np.inf
        for sd in GRID_SD:
            x = np.concatenate([theta_fe[:p]] + [st.start(sd) for st in structures]
                               + [theta_fe[p:]])
            with np.errstate(all="ignore"):
                ll = prob.loglik(x)
            if np.isfinite(ll) and ll > best_ll:
                best, best_ll = x, ll
        if best is None:
            raise StataError("initial values not feasible", 1400)
        fit = me_glmm.full_model(out, log, me_start.StartPlan(), prob, best, opts.iterate,
                                 gm.fit_problem)
        V_s = gm.observed_vcov(fit, structures)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    names, b, V, kf = mm._names_values("_t", design, fit, structures, V_s, fam, var_rows)
    res = EstimationResults(cmd="mestreg", names=names, b=b, V=V,
                            omitted=np.concatenate([design.omitted,
                                                    np.zeros(len(names) - len(design.omitted), bool)]),
                            k_f=kf, sample=mask.copy())
    mm._post(res, cmd, fit, ll0, data, title_of(dname, aft), method, points, "survival", dname,
             blocks, labels, sum(len(r) for r in var_rows), V_s,
             free=sum(st.m for st in structures))
    _finish(res, dname, aft, rec, fit.x, fam)
    res.model = gm.MultiModel(data, fam, structures, fit, blocks, method, design, vlabels)
    return res


def _weighted_fixed_effects(out, log, dname, aft, X, rec, wts):
    """The fixed-effects model with level-1 weights: the weighted likelihood maximised by the
    engine's GLM fit (BFGS), from the unweighted streg estimates."""
    theta_fe, _ll, _lls = sm.fixed_effects_fit(dname, aft, X, rec.t0, rec.t, rec.d)
    fam = sm.SurvivalFamily(dname, aft, rec.t0, rec.t, rec.d)
    n = len(rec.t)
    data = glmm.GlmmData.build(np.arange(n, dtype=float), X, np.zeros((n, 0)),
                               np.zeros(n, dtype=np.int64), weights=wts)
    lines: list = []
    with np.errstate(all="ignore"):
        x, ll0 = glmm.glm_fit(data, fam, theta_fe, lines)
    if not np.all(np.isfinite(x)) or not np.isfinite(ll0):
        raise StataError("could not fit the model without random effects", 430)
    if log:
        out.line("Fitting fixed-effects model:")
        out.line("")
        for i, v in enumerate(lines):
            out.line(meo.iteration_line(i, v))
    return x, ll0


def fit_and_post(session, cmd, opts, dname, aft, design, block, rec, mask, vlabels,
                 method, points, vce=None, weights=(None, None)) -> EstimationResults:
    out = session.out
    log = not opts.nolog or opts.log
    X = design.X_keep
    p = X.shape[1]
    wts, wkind = weights
    if wts is None:
        theta_fe, ll0 = _fixed_effects(out, log, dname, aft, X, rec)
    else:
        theta_fe, ll0 = _weighted_fixed_effects(out, log, dname, aft, X, rec, wts)
    fam = sm.SurvivalFamily(dname, aft, rec.t0, rec.t, rec.d)
    n = len(rec.t)
    Z = np.asarray(block.Z, dtype=float)
    q = Z.shape[1]
    st = Structure(normalize_structure(block.covariance, q), q)
    data = glmm.GlmmData.build(np.arange(n, dtype=float), X, Z, block.group, weights=wts)
    prob = glmm.Problem(data, fam, st, "laplace" if method == "laplace" else "agq", points,
                        adapt={"mcaghermite": "mc", "ghermite": "none"}.get(method, "mv"))
    b0, extra0 = theta_fe[:p], theta_fe[p:]
    fam.extra = np.asarray(extra0, dtype=float).copy()
    try:
        x0 = _grid_start(prob, b0, extra0, st)
        fit = me_glmm.full_model(out, log, me_start.StartPlan(), prob, x0, opts.iterate,
                                 glmm.fit_problem)
        V_s = glmm.observed_vcov(fit, st)
        n_clust = None
        if vce is not None and V_s is not None:
            V_s, n_clust = me_glmm._robust(fit, st, V_s, data, vce)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    names, b, V, kf, rows = me_glmm._names_and_values("_t", design, block, fit, st, V_s, fam)
    res = EstimationResults(cmd="mestreg", names=names, b=b, V=V,
                            omitted=np.concatenate([design.omitted,
                                                    np.zeros(len(names) - len(design.omitted), bool)]),
                            k_f=kf, sample=mask.copy())
    me_glmm._post(res, cmd, fit, ll0, data, title_of(dname, aft), method, points, "survival",
                  dname, block, len(rows), V_s, free=st.m)
    _finish(res, dname, aft, rec, fit.x, fam)
    me_weights.post(res, cmd, wkind, data)
    if vce is not None:
        me_glmm._post_robust(res, vce, n_clust)
    res.model = glmm.GlmmModel(data, fam, st, fit, [block], design, vlabels)
    return res
