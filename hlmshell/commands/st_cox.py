"""stcox: Cox proportional hazards regression of stset data ([ST] stcox), estat phtest and
predict after it.

    stcox [indepvars] [if] [in] [, nohr strata(varnames) vce(oim|robust|cluster var)
                                 shared(varname) breslow level(#) noshow nolog]

Breslow ties (engine.survival_cox), hazard ratios by default; robust and cluster variances
from the efficient score residuals with the g/(g-1) adjustment (clusters: the id() subjects
when stset has one). e(cmd) is "cox" and e(cmd2) "stcox", as Stata stores them.
shared(): a gamma frailty shared within groups by penalized partial likelihood
(engine.survival_frailty), theta and the chibar2(01) test of theta = 0.
predict: hr (default), xb, basesurv, basechazard, csnell, schoenfeld, scaledsch."""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import st_common as sc
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns, touse, varlist
from hlmshell.commands.estimation import _resolve_fixed_part
from hlmshell.commands.model_terms import engine_terms
from hlmshell.engine import design as dz
from hlmshell.engine.survival_cox import CoxData, fit_cox, score_residuals
from hlmshell.errors import StataError
from hlmshell.output.coeftable import coef_table, groups_from_names
from hlmshell.output.eform_table import eform_table
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults

_OPTS = (Opt("nohr", desc="report coefficients, not hazard ratios"),
         Opt("hr", desc="report hazard ratios; the default"),
         Opt("strata", "str", "string", None, "strata ID variables"),
         Opt("vce", "vce", "string", None, "oim, robust or cluster clustvar"),
         Opt("robust", "r", desc="synonym for vce(robust)"),
         Opt("breslow", "bre", desc="Breslow method for ties; the default"),
         Opt("efron", "efr", desc="Efron method (not available)"),
         Opt("exactm", desc="exact marginal likelihood (not available)"),
         Opt("exactp", desc="exact partial likelihood (not available)"),
         Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
         Opt("noshow", "nosh", desc="do not show st setting information"),
         Opt("nolog", desc="do not show the iteration log"),
         Opt("log", desc="show the iteration log"),
         Opt("shared", "sh", "string", None, "shared-frailty ID variable (gamma frailty)"))


def _vce(session, opts, st) -> tuple[str, str]:
    """(oim|robust|cluster, cluster variable) of vce()/robust; robust clusters on the stset
    id() subjects when there is one, as Stata's stcox does."""
    words = (opts.raw("vce") or "").split()
    if opts.robust and not words:
        words = ["robust"]
    if not words:
        return "oim", ""
    w = words[0].lower()
    if w == "oim" and len(words) == 1:
        return "oim", ""
    if "robust".startswith(w) and len(words) == 1:
        return "robust", st.idvar
    if len(w) >= 2 and "cluster".startswith(w) and len(words) == 2:
        names = varlist(session, words[1], all_if_empty=False)
        if len(names) != 1:
            raise StataError("option vce() misspecified", 198)
        return "cluster", names[0]
    raise StataError(f"vcetype '{words[0]}' not allowed", 198)


def _shared_var(session, opts, vce) -> str:
    text = (opts.raw("shared") or "").strip()
    if not text:
        return ""
    if vce != "oim":
        raise StataError("options shared() and vce() may not be combined", 198)
    names = varlist(session, text, all_if_empty=False)
    if len(names) != 1:
        raise StataError("shared(): one variable required", 198)
    return names[0]


def _fit_shared(session, res, cd, fit, groups, shared, keep) -> None:
    """Replace the fit by the gamma shared-frailty one (engine.survival_frailty): its b and V,
    the marginal log likelihood, a Wald model test, theta and the chibar2(01) test of 0."""
    from hlmshell.engine.survival_frailty import fit_shared_frailty
    if cd.X.shape[0] * (cd.X.shape[1] + groups.max() + 1) ** 2 > 4e7:
        raise StataError("shared(): too many groups for hlmshell's penalized likelihood", 198)
    fr = fit_shared_frailty(cd, groups, fit.ll)
    res.b = res.b.copy()
    res.b[keep] = fr.b
    res.V = np.zeros_like(res.V)
    res.V[np.ix_(keep, keep)] = fr.V
    df = len(keep)
    chi2 = float(fr.b @ np.linalg.solve(fr.V, fr.b)) if df else 0.0
    chibar = max(2 * (fr.ll - fit.ll), 0.0)
    counts = np.bincount(groups)
    res.scalars.update({"ll": fr.ll, "chi2": chi2,
                        "p": float(dist.chi2_sf(chi2, df)) if df else math.nan, "theta": fr.theta, "chi2_c": chibar,
                        "p_c": 0.5 * float(dist.chi2_sf(chibar, 1)) if chibar > 0 else 1.0,
                        "N_g": float(len(counts)), "g_min": float(counts.min()),
                        "g_avg": float(counts.mean()), "g_max": float(counts.max())})
    res.macros.update({"chi2type": "Wald", "shared": shared, "frailty": "gamma"})


def _log(session, lls, show: bool) -> None:
    if not show:
        return
    out = session.out
    for i, v in enumerate(lls):
        out.line(f"{f'Iteration {i}:':<15}log likelihood = {fmt(v, '%10.0g')}")
    out.line("Refining estimates:")
    out.line(f"{'Iteration 0:':<15}log likelihood = {fmt(lls[-1], '%10.0g')}")


def model_spec(session, cmd):
    """(spec, fixed terms) of `indepvars`, parsed as the fixed part of `_t indepvars`; (None,
    None) when no variables are typed (replay)."""
    from hlmshell.syntax.parser import parse_mixed
    body = (cmd.body or "").strip()
    if not body:
        return None, None
    sc.settings(session)
    spec = parse_mixed("_t " + body)
    return spec, list(spec.fixed)


@command("stcox", family="Survival", body="varlist", qualifiers="if in",
         desc="Cox proportional hazards model", example="stcox drug age", options=_OPTS)
def stcox_cmd(session, cmd) -> None:
    spec, fixed_raw = model_spec(session, cmd)
    if spec is None:
        res = session.e
        if res is None or res.macros.get("cmd2") != "stcox":
            raise StataError("last estimates not found", 301)
        opts = bind_command("stcox", cmd.options)
        display(session, res, confidence_level(session, opts), not opts.nohr and not
                (res.macros.get("nohr") and not opts.hr))
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("stcox", cmd.options)
    for o in ("efron", "exactm", "exactp"):
        if getattr(opts, o):
            raise StataError(f"option {o} not available in hlmshell; Breslow ties only", 198)
    st = sc.settings(session)
    level = confidence_level(session, opts)
    vce, clust = _vce(session, opts, st)
    ds = session.data
    _dep, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    strata = varlist(session, opts.raw("strata"), all_if_empty=False) if opts.raw("strata") else []
    shared = _shared_var(session, opts, vce)
    extra = ([clust] if clust else []) + ([shared] if shared else [])
    mask = touse(session, cmd, list(fvars) + strata + extra)
    mask &= np.asarray(ds.values("_st"), float) == 1
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    if not opts.noshow:
        sc.header(session, st)
    column = sample_columns(ds, mask)
    design = _Columns(dz.build_fixed(engine_terms(fixed), column, n, constant=True))
    for note in design.notes:
        session.out.line(note)
    keep, X = _varying(session, design)
    rec = sc.records(session, mask)
    if rec.d.sum() == 0:
        raise StataError("no failures in the estimation sample", 2000)
    sid = _codes(ds, strata, mask)
    cd = CoxData(rec.t0, rec.t, rec.d, X, sid)
    fit = fit_cox(cd)
    _log(session, fit.lls, not opts.nolog)
    V = fit.V
    ncl = 0
    if vce != "oim":
        U = score_residuals(cd, fit.b)
        if clust:
            g = _codes(ds, [clust], mask)
            Ug = np.zeros((int(g.max()) + 1, U.shape[1]))
            np.add.at(Ug, g.astype(int), U)
        else:
            Ug = U
        ncl = Ug.shape[0]
        V = fit.V @ (Ug.T @ Ug) @ fit.V * ncl / (ncl - 1)
    res = _results(session, cmd, design, keep, mask, fit, V, rec, st, vce, clust, ncl, strata,
                   opts)
    res.st_X = X
    if shared:
        _fit_shared(session, res, cd, fit, _codes(ds, [shared], mask).astype(int), shared, keep)
    session.post_estimation(res)
    display(session, res, level, not opts.nohr, lead=opts.noshow or not opts.nolog)


def _codes(ds, names, mask) -> np.ndarray:
    if not names:
        return np.zeros(int(mask.sum()))
    cols = [np.asarray(ds.values(v))[mask].astype(str) for v in names]
    keys = np.array(["\x00".join(r) for r in zip(*cols)])
    return np.unique(keys, return_inverse=True)[1].astype(float)


class _Columns:
    """The design's columns without _cons: built with a constant so that factor base levels
    and collinearity are Stata's (the Cox likelihood has no intercept, it is dropped)."""

    def __init__(self, design):
        names = list(design.stata_names)
        j = names.index("_cons")
        cols = np.flatnonzero(design.keep)
        self.stata_names = names[:j] + names[j + 1:]
        self.keep = np.delete(np.asarray(design.keep, bool), j)
        self.omitted = np.delete(np.asarray(design.omitted, bool), j)
        self.X_keep = design.X_keep[:, cols != j]
        self.notes = list(getattr(design, "notes", []))


def _varying(session, design):
    """(kept columns, X): columns without variation in the sample are omitted, as Stata's
    stcox omits them (a Cox model has no intercept for them to be collinear with)."""
    keep = np.flatnonzero(design.keep)
    X = design.X_keep
    const = np.ptp(X, axis=0) == 0 if X.shape[0] else np.ones(X.shape[1], bool)
    for j in keep[const]:
        session.out.line(f"note: {design.stata_names[j]} omitted because of collinearity.")
    return keep[~const], X[:, ~const]


def _results(session, cmd, design, keep, mask, fit, V, rec, st, vce, clust, ncl, strata, opts):
    names = [("_t", nm) for nm in design.stata_names]
    k = len(names)
    omitted = design.omitted.copy()
    for j in np.flatnonzero(design.keep):
        if j not in keep:
            omitted[j] = True
            names[j] = ("_t", "o." + names[j][1])
    b = np.zeros(k)
    b[keep] = fit.b
    VV = np.zeros((k, k))
    VV[np.ix_(keep, keep)] = V
    res = EstimationResults(cmd="cox", names=names, b=b, V=VV, omitted=omitted,
                            k_f=k, sample=mask.copy())
    ids = sc.idvalues(session, st, mask)
    df = len(keep)
    if vce == "oim":
        chi2 = 2 * (fit.ll - fit.ll_0)
    else:
        bk = fit.b
        chi2 = float(bk @ np.linalg.solve(V, bk)) if df else 0.0
    p = float(dist.chi2_sf(chi2, df)) if df else math.nan
    res.scalars = {"N": float(len(rec.t)), "N_sub": float(len(np.unique(ids))),
                   "N_fail": float(rec.d.sum()), "risk": float(np.sum(rec.t - rec.t0)),
                   "ll": fit.ll, "ll_0": fit.ll_0, "chi2": chi2, "df_m": float(df), "p": p,
                   "rank": float(df), "k_eq": 1.0, "converged": float(fit.converged)}
    res.macros = {"cmd": "cox", "cmd2": "stcox", "cmdline": cmd.text, "depvar": "_t",
                  "t0": "_t0", "ties": "breslow", "title": "Cox regression",
                  "chi2type": "LR" if vce == "oim" else "Wald", "vce": vce,
                  "predict": "stcox_p", "properties": "b V", "strata": " ".join(strata)}
    if vce != "oim":
        res.macros["vcetype"] = "Robust"
        res.scalars["N_clust"] = float(ncl)
        if clust:
            res.macros["clustvar"] = clust
    if opts.nohr:
        res.macros["nohr"] = "nohr"
    res.design = design
    return res


def display(session, res, level: float, hr: bool, lead: bool = True) -> None:
    out = session.out
    sc_ = res.scalars
    if lead:
        out.line("")
    out.line("Cox regression with Breslow method for ties")
    if res.macros.get("shared"):
        out.line(f"{'Gamma shared frailty':<56}Number of groups = {int(sc_['N_g']):>6,}")
        out.line(f"Group variable: {res.macros['shared']}")
    out.line("")
    if res.macros.get("strata"):
        out.line(f"Stratified by {res.macros['strata']}")
    out.line(f"{'No. of subjects = ' + format(int(sc_['N_sub']), ','):<56}"
             f"Number of obs = {int(sc_['N']):>8,}")
    out.line(f"No. of failures = {int(sc_['N_fail']):,}")
    out.line(f"Time at risk    = {fmt_g(sc_['risk'], 10).strip()}")
    lab = f"{res.macros['chi2type']} chi2({int(sc_['df_m'])})"
    out.line(f"{'':56}{lab:<14}= {fmt(sc_['chi2'], '%8.2f')}")
    out.line(f"{'Log ' + ('pseudolikelihood' if res.macros.get('vcetype') else 'likelihood') + ' = ' + fmt_g(sc_['ll'], 10).strip():<56}"
             f"Prob > chi2   = {fmt(sc_['p'], '%8.4f')}")
    out.line("")
    if res.macros.get("clustvar"):
        note = (f"(Std. err. adjusted for {int(sc_['N_clust']):,} clusters in "
                f"{res.macros['clustvar']})")
        out.line(f"{note:>78}")
    groups = groups_from_names([nm for _eq, nm in res.names])
    se = np.sqrt(np.maximum(np.diag(res.V), 0))
    vt = res.macros.get("vcetype")
    lines = None
    if hr:
        try:
            lines = eform_table("_t", groups, res.b, se, title="Haz. ratio", level=level,
                                vcetype=vt)
        except OverflowError:           # a monotone likelihood: exp() of the bounds overflows
            out.line("note: hazard ratios overflow (monotone likelihood); coefficients shown")
    if lines is None:
        lines = coef_table("_t", groups, res.b, se, level=level, vcetype=vt)
    if res.macros.get("shared"):
        lr = f"LR test of theta=0: chibar2(01) = {fmt(sc_['chi2_c'], '%6.2f').strip()}"
        lines = lines[:-1] + ["-" * 13 + "+" + "-" * 64,
                              f"{'theta':>12} |  {fmt_g(sc_['theta'], 9):>9}", "-" * 78,
                              f"{lr:<52}Prob >= chibar2 = {fmt(sc_['p_c'], '%5.3f')}"]
    for ln in lines:
        out.line(ln)


def _refit_data(session, res):
    """The fit's CoxData and its b, rebuilt from e(sample) (for predict and estat phtest)."""
    ds = session.data
    if res.sample is None:
        raise StataError("the stcox fit's data are not in memory; type stcox again", 459)
    mask = np.asarray(res.sample, bool)
    if len(mask) != ds.n:
        raise StataError("data have changed since estimation", 459)
    X = getattr(res, "st_X", None)
    if X is None or len(X) != int(np.sum(res.sample)):
        raise StataError("the stcox fit's data are not in memory; type stcox again", 459)
    rec = sc.records(session, mask)
    strata = res.macros.get("strata", "").split()
    cd = CoxData(rec.t0, rec.t, rec.d, X, _codes(ds, strata, mask))
    keep = np.flatnonzero(~np.asarray(res.omitted, bool))
    return cd, res.b[keep], res.V[np.ix_(keep, keep)], mask, [res.names[j][1] for j in keep]


def estat_phtest(session, res, opts) -> None:
    """Test of proportional hazards on the Schoenfeld residuals against analysis time."""
    from hlmshell.engine.survival_cox import ph_test, schoenfeld
    if res is None or res.macros.get("cmd2") != "stcox":
        raise StataError("last estimates not found", 301)
    cd, b, V, _mask, names = _refit_data(session, res)
    for o in ("km", "rank"):
        if opts is not None and getattr(opts, o, False):
            raise StataError(f"option {o} not available in hlmshell; use log or the default", 198)
    uselog = bool(opts is not None and getattr(opts, "log", False))
    sch = schoenfeld(cd, b)
    rows = ~np.isnan(sch[:, 0]) if sch.shape[1] else cd.d > 0
    gt = np.log(cd.t[rows]) if uselog else cd.t[rows]
    rho, chi2, glob, _scaled = ph_test(sch[rows], gt, V, b)
    out = session.out
    out.line("")
    out.line("Test of proportional-hazards assumption")
    out.line("")
    out.line("Time function: " + ("Log of analysis time" if uselog else "Analysis time"))
    out.line("-" * 61)
    if opts is not None and getattr(opts, "detail", False):
        out.line(f"{'':13}|{'rho':>10}{'chi2':>12}{'df':>8}{'Prob>chi2':>14}")
        out.line("-" * 13 + "+" + "-" * 47)
        for j, nm in enumerate(names):
            pj = float(dist.chi2_sf(chi2[j], 1))
            out.line(f"{nm[:12]:>12} | {fmt(rho[j], '%9.5f')} {fmt(chi2[j], '%11.2f')} "
                     f"{1:>7} {fmt(pj, '%13.4f')}")
        out.line("-" * 13 + "+" + "-" * 47)
    else:
        out.line(f"{'':13}|{'chi2':>12}{'df':>8}{'Prob>chi2':>14}")
        out.line("-" * 13 + "+" + "-" * 47)
    k = len(names)
    pg = float(dist.chi2_sf(glob, k))
    lead = f"{'Global test':>12} | " + ("" if not getattr(opts, "detail", False) else " " * 10)
    out.line(f"{lead}{fmt(glob, '%11.2f')} {k:>7} {fmt(pg, '%13.4f')}")
    out.line("-" * 61)
    from hlmshell.results import RResults
    session.r = RResults(scalars={"chi2": glob, "df": float(k), "p": pg})


def predict(session, cmd, res, opts) -> None:
    from hlmshell.commands.predict import _add, _new_names, _touse
    from hlmshell.engine.survival_cox import base_cumhaz, schoenfeld
    stats = ("hr", "xb", "basesurv", "basechazard", "csnell", "schoenfeld", "scaledsch", "stdp")
    given = [w for w in stats if w in opts]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    stat = given[0] if given else "hr"
    vtype, names = _new_names(cmd.body or "", None)
    cd, b, V, mask, cnames = _refit_data(session, res)
    touse = _touse(session, cmd)
    n = session.data.n
    k = len(b)
    if stat in ("schoenfeld", "scaledsch"):
        if len(names) != k:
            raise StataError(f"{stat} requires {k} new variable names", 198)
        r = schoenfeld(cd, b)
        if stat == "scaledsch":
            nd = int(np.sum(~np.isnan(r[:, 0])))
            r = r @ V * nd + b
        cols = []
        for j in range(k):
            c = np.full(n, np.nan)
            c[mask] = r[:, j]
            cols.append(c)
        lab = "Schoenfeld - " if stat == "schoenfeld" else "Scaled Schoenfeld - "
        _add(session, names, cols, [lab + nm for nm in cnames], vtype, touse & mask)
        return
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    if stat in ("hr", "xb", "stdp"):
        from hlmshell.commands.predict import xb_all
        if not given:
            session.out.line("(option hr assumed; relative hazard)")
        xb = xb_all(res, session.data)
        col = np.exp(xb) if stat == "hr" else xb
        if stat == "stdp":
            from hlmshell.commands.predict import stdp_all
            col = stdp_all(res, session.data)
        lab = {"hr": "Predicted hazard ratio", "xb": "Linear prediction",
               "stdp": "S.E. of the linear prediction"}[stat]
        _add(session, names, [col], [lab], vtype, touse)
        return
    H0 = base_cumhaz(cd, b)
    c = np.full(n, np.nan)
    if stat == "basesurv":
        c[mask], lab = np.exp(-H0), "Baseline survivor function"
    elif stat == "basechazard":
        c[mask], lab = H0, "Cumulative baseline hazard"
    else:
        c[mask], lab = H0 * np.exp(cd.X @ b), "Cox-Snell residuals"
    _add(session, names, [c], [lab], vtype, touse & mask)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["cox"] = predict


_register_predict()
