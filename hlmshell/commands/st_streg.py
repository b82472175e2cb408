"""streg: parametric survival models of stset data ([ST] streg), and predict after it.

    streg [indepvars] [if] [in] , distribution(exponential|weibull|gompertz|lognormal|
          loglogistic) [time nohr frailty(gamma) shared(varname) level(#) noshow nolog]

Proportional-hazards metric for exponential, weibull (hazard ratios unless nohr) and gompertz;
accelerated failure time (`time`, and always for lognormal and loglogistic). The likelihood is
engine.survival_param's; the ancillary parameter is its own equation (/ln_p, /gamma, /ln_sig,
/ln_gam) with p, 1/p, sigma or gamma shown below. frailty(gamma) integrates a gamma frailty
(mean 1, variance theta, /ln_the) shared within shared() groups (else stset's id() subjects,
else each record) out of the likelihood in closed form, with the boundary LR test of theta = 0. predict: median time (default), mean time,
xb, surv."""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import st_common as sc
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns, touse, varlist
from hlmshell.commands.estimation import _resolve_fixed_part
from hlmshell.commands.model_terms import engine_terms
from hlmshell.commands.st_cox import model_spec
from hlmshell.engine import design as dz
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.registry import Opt, abbrev_lookup, bind_command, command
from hlmshell.results import EstimationResults

_DISTS = (("exponential", "e"), ("weibull", "w"), ("gompertz", "gom"), ("lognormal", "logn"),
          ("lnormal", "ln"), ("loglogistic", "logl"), ("llogistic", "ll"))
_OPTS = (Opt("distribution", "d", "string", None, "exponential, weibull, gompertz, lognormal or loglogistic"),
         Opt("time", "tr", desc="use accelerated failure-time metric"),
         Opt("nohr", desc="report coefficients, not hazard ratios"),
         Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
         Opt("noshow", "nosh", desc="do not show st setting information"),
         Opt("nolog", desc="do not show the iteration log"),
         Opt("log", desc="show the iteration log"),
         Opt("frailty", "fr", "string", None, "gamma: gamma-distributed frailty"),
         Opt("shared", "sh", "string", None, "shared-frailty ID variable"))
# e(cmd) of each distribution, as Stata's streg stores it
_ECMD = {"exponential": "ereg", "weibull": "weibull", "gompertz": "gompertz",
         "lognormal": "lnormal", "loglogistic": "llogistic"}
_TITLES = {"exponential": "Exponential", "weibull": "Weibull", "gompertz": "Gompertz",
           "lognormal": "Lognormal", "loglogistic": "Loglogistic"}


def _dist(opts):
    raw = (opts.raw("distribution") or "").strip().lower()
    if not raw:
        raise StataError("distribution() required", 198)
    d = abbrev_lookup(raw, _DISTS)
    if d is None:
        raise StataError(f"distribution({raw}) invalid", 198)
    return {"lnormal": "lognormal", "llogistic": "loglogistic"}.get(d, d)


@command("streg", family="Survival", body="varlist", qualifiers="if in",
         desc="parametric survival models", example="streg drug age, distribution(weibull)",
         options=_OPTS)
def streg_cmd(session, cmd) -> None:
    opts = bind_command("streg", cmd.options)
    spec, fixed_raw = model_spec(session, cmd)
    if spec is None and not opts.raw("distribution"):
        res = session.e
        if res is None or res.macros.get("cmd2") != "streg":
            raise StataError("last estimates not found", 301)
        display(session, res, confidence_level(session, opts), not opts.nohr)
        return
    st = sc.settings(session)
    dname = _dist(opts)
    aft = bool(opts.time) or dname in ("lognormal", "loglogistic")
    if dname == "gompertz" and opts.time:
        raise StataError("time not allowed with distribution(gompertz)", 198)
    level = confidence_level(session, opts)
    ds = session.data
    fixed, fvars = [], []
    if spec is not None:
        _dep, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    frail, shared = _frailty(session, opts)
    mask = touse(session, cmd, list(fvars) + ([shared] if shared else [])) \
        & (np.asarray(ds.values("_st"), float) == 1)
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    design = dz.build_fixed(engine_terms(fixed), sample_columns(ds, mask), n, constant=True)
    X = design.X_keep
    rec = sc.records(session, mask)
    if rec.d.sum() == 0:
        raise StataError("no failures in the estimation sample", 2000)
    if not opts.noshow:
        sc.header(session, st)
    for note in design.notes:
        session.out.line(note)
    from hlmshell.engine.survival_param import fit_streg
    c_fit, fit = fit_streg(dname, aft, X, rec.t0, rec.t, rec.d)
    plain = None
    if frail:
        from hlmshell.engine.survival_param import fit_frailty
        groups = _group_codes(session, st, shared, mask)
        plain = fit
        c_fit = fit_frailty(dname, aft, X[:, -1:], rec.t0, rec.t, rec.d, groups, c_fit.theta)
        fit = fit_frailty(dname, aft, X, rec.t0, rec.t, rec.d, groups, fit.theta)
    if not opts.nolog:
        _log(session, c_fit.lls, "Fitting constant-only model:")
        _log(session, fit.lls, "Fitting full model:")
    res = _results(session, cmd, design, mask, c_fit, fit, rec, st, dname, aft)
    if frail:
        _frailty_results(res, fit, plain, shared or st.idvar, groups)
    session.post_estimation(res)
    display(session, res, level, not opts.nohr and not aft, lead=opts.noshow or not opts.nolog)


def _frailty(session, opts):
    """(frailty?, shared variable) of frailty(gamma) shared(varname)."""
    raw = (opts.raw("frailty") or "").strip().lower()
    shared = (opts.raw("shared") or "").strip()
    if shared and not raw:
        raise StataError("shared() requires frailty()", 198)
    if not raw:
        return False, ""
    if not "gamma".startswith(raw):
        if "invgaussian".startswith(raw) and len(raw) >= 3:
            raise StataError("frailty(invgaussian) is not available in hlmshell; use gamma", 198)
        raise StataError(f"frailty({raw}) invalid", 198)
    if shared:
        names = varlist(session, shared, all_if_empty=False)
        if len(names) != 1:
            raise StataError("shared(): one variable required", 198)
        shared = names[0]
    return True, shared


def _group_codes(session, st, shared, mask):
    if shared:
        vals = np.asarray(session.data.values(shared))[mask].astype(str)
        return np.unique(vals, return_inverse=True)[1]
    return np.unique(sc.idvalues(session, st, mask), return_inverse=True)[1]


def _frailty_results(res, fit, plain, groupvar, groups) -> None:
    """ln_the into e(b), e(V); theta, the boundary LR test of theta = 0 (chibar2(01))."""
    k = len(res.b)
    b = np.r_[res.b, fit.theta[-1]]
    V = np.zeros((k + 1, k + 1))
    V[:k, :k] = res.V
    keep = np.flatnonzero(~np.asarray(res.omitted, bool))
    idx = np.r_[keep, k]
    V[np.ix_(idx, idx)] = fit.V
    res.b, res.V = b, V
    res.names = res.names + [("ln_the", "_cons")]
    res.omitted = np.r_[res.omitted, False].astype(bool)
    chibar = max(2 * (fit.ll - plain.ll), 0.0)
    counts = np.bincount(groups)
    res.scalars.update({"theta": float(np.exp(fit.theta[-1])), "chi2_c": chibar,
                        "p_c": 0.5 * float(dist.chi2_sf(chibar, 1)) if chibar > 0 else 1.0,
                        "N_g": float(len(counts)), "g_min": float(counts.min()),
                        "g_avg": float(counts.mean()), "g_max": float(counts.max())})
    res.macros.update({"frailty": "gamma", "shared": groupvar})


def _log(session, lls, title):
    session.out.line("")
    session.out.line(title)
    session.out.line("")
    for i, v in enumerate(lls):
        session.out.line(f"{f'Iteration {i}:':<15}log likelihood = {fmt(v, '%10.0g')}")


def _results(session, cmd, design, mask, c_fit, fit, rec, st, dname, aft):
    from hlmshell.engine.survival_param import ANCILLARY
    names = [("_t", nm) for nm in design.stata_names]
    k = len(names)
    keep = np.flatnonzero(design.keep)
    anc = ANCILLARY[dname]
    kk = k + (anc is not None)
    b = np.zeros(kk)
    V = np.zeros((kk, kk))
    idx = np.r_[keep, [k] if anc else []].astype(int)
    b[idx] = fit.theta[:len(idx)]            # a frailty's ln_the, last, is added later
    V[np.ix_(idx, idx)] = fit.V[:len(idx), :len(idx)]
    if anc:
        names = names + [(anc, "_cons")]
    omitted = np.r_[design.omitted, [False] if anc else []].astype(bool)
    res = EstimationResults(cmd=_ECMD[dname], names=names, b=b,
                            V=V, omitted=omitted, k_f=k, sample=mask.copy())
    ids = sc.idvalues(session, st, mask)
    df = len(keep) - 1
    chi2 = 2 * (fit.ll - c_fit.ll)
    p = float(dist.chi2_sf(chi2, df)) if df > 0 else math.nan
    res.scalars = {"N": float(len(rec.t)), "N_sub": float(len(np.unique(ids))),
                   "N_fail": float(rec.d.sum()), "risk": float(np.sum(rec.t - rec.t0)),
                   "ll": fit.ll, "ll_0": c_fit.ll, "chi2": chi2, "df_m": float(df), "p": p,
                   "k_eq": 1.0 + (anc is not None), "converged": float(fit.converged)}
    if anc:
        a = float(b[k])
        res.scalars[{"ln_p": "aux_p", "gamma": "gamma", "ln_sig": "sigma",
                     "ln_gam": "gamma"}[anc]] = math.exp(a) if anc != "gamma" else a
    res.macros = {"cmd": res.cmd, "cmd2": "streg", "cmdline": cmd.text, "depvar": "_t",
                  "distribution": dname, "frm2": "time" if aft else "hazard",
                  "title": f"{_TITLES[dname]} {'AFT' if aft else 'PH'} regression",
                  "chi2type": "LR", "predict": "streg_p", "properties": "b V"}
    res.design = design
    res.st_X = design.X_keep
    return res


def display(session, res, level: float, hr: bool, lead: bool = True) -> None:
    from hlmshell.output.eform_table import eform_table
    out = session.out
    s = res.scalars
    if lead:
        out.line("")
    out.line(res.macros["title"])
    if res.macros.get("frailty"):
        out.line(f"{'Gamma shared frailty' if res.macros.get('shared') else 'Gamma frailty':<50}"
                 f"Number of groups = {int(s['N_g']):>10,}")
        if res.macros.get("shared"):
            out.line(f"Group variable: {res.macros['shared']}")
    out.line("")
    out.line(f"{'No. of subjects = ' + format(int(s['N_sub']), ','):<56}"
             f"Number of obs = {int(s['N']):>8,}")
    out.line(f"No. of failures = {int(s['N_fail']):,}")
    out.line(f"Time at risk    = {fmt_g(s['risk'], 10).strip()}")
    out.line(f"{'':56}{'LR chi2(' + str(int(s['df_m'])) + ')':<14}= {fmt(s['chi2'], '%8.2f')}")
    out.line(f"{'Log likelihood = ' + fmt_g(s['ll'], 10).strip():<56}"
             f"Prob > chi2   = {fmt(s['p'], '%8.4f')}")
    out.line("")
    k = res.k_f
    se = np.sqrt(np.maximum(np.diag(res.V), 0))
    groups = ct.groups_from_names([nm for _eq, nm in res.names[:k]])
    if hr:
        lines = eform_table("_t", groups, res.b[:k], se[:k], title="Haz. ratio", level=level)
    else:
        lines = ct.coef_table("_t", groups, res.b[:k], se[:k], level=level)
    body = lines[:-1]
    if len(res.names) > k:
        body += _ancillary_rows(res, se, k, level)
    body.append(ct.rule())
    if res.macros.get("frailty"):
        body.append(f"{'LR test of theta=0: chibar2(01) = ' + fmt(s['chi2_c'], '%6.2f').strip():<52}"
                    f"Prob >= chibar2 = {fmt(s['p_c'], '%5.3f')}")
    if hr and "_cons" in [nm for _eq, nm in res.names[:k]]:
        body.append("Note: _cons estimates baseline hazard.")
    for ln in body:
        out.line(ln)


def _ancillary_rows(res, se, k, level) -> list[str]:
    """The /ln_p, /ln_sig, ..., /ln_the rows, then their transforms (p and 1/p, sigma, gamma,
    theta) with intervals transformed from the log scale."""
    z = float(dist.norm_ppf(1 - (100 - level) / 200))
    body = [ct.rule("mid")]
    shown = []
    for j in range(k, len(res.names)):
        eq = res.names[j][0]
        body += ct.coef_row(ct.name_lines("/" + eq),
                            ct.number_cells(float(res.b[j]), float(se[j]), level=level))
        a, sa = float(res.b[j]), float(se[j])
        shown += [(nm, sign, a, sa) for nm, sign in {"ln_p": [("p", 1), ("1/p", -1)],
                                                     "ln_sig": [("sigma", 1)],
                                                     "ln_gam": [("gamma", 1)],
                                                     "ln_the": [("theta", 1)]}.get(eq, [])]
    if shown:
        body.append(ct.rule("mid"))
    for nm, sign, a, sa in shown:
        v = math.exp(sign * a)
        lo, hi = sorted((math.exp(sign * (a - z * sa)), math.exp(sign * (a + z * sa))))
        cells = (f"  {fmt_g(v, 9):>9}  {fmt_g(v * sa, 9):>9}{'':21}"
                 f"{fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}")
        body += ct.coef_row(ct.name_lines(nm), cells)
    return body


def predict(session, cmd, res, opts) -> None:
    from hlmshell.commands.predict import _add, _new_names, _touse, xb_all
    from hlmshell.engine import survival_param as sp
    stats = ("median", "mean", "xb", "surv", "hr", "time", "stdp")
    given = [w for w in stats if w in opts]
    if "time" in given and ("median" in given or "mean" in given):
        given.remove("time")
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    stat = given[0] if given else "median"
    vtype, names = _new_names(cmd.body or "", None)
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    k = res.k_f
    dname, aft = res.macros["distribution"], res.macros["frm2"] == "time"
    from hlmshell.results import EstimationResults as _ER
    sub = _ER(cmd=res.cmd, names=res.names[:k], b=res.b[:k], V=res.V[:k, :k],
              omitted=res.omitted[:k], k_f=k)
    sub.design = getattr(res, "design", None)
    xb = xb_all(sub, session.data)
    anc = float(res.b[k]) if len(res.b) > k else None
    touse = _touse(session, cmd)
    if stat in ("median", "time") or not given:
        if not given:
            session.out.line("(option median time assumed; predicted median time)")
        col, lab = sp.median_time(dname, aft, xb, anc), "Predicted median _t"
    elif stat == "mean":
        col, lab = sp.mean_time(dname, aft, xb, anc), "Predicted mean _t"
    elif stat == "xb":
        col, lab = xb, "Linear prediction"
    elif stat == "hr":
        if aft:
            raise StataError("option hr not allowed after a time-metric fit", 198)
        col, lab = np.exp(xb), "Predicted hazard ratio"
    elif stat == "surv":
        t = np.asarray(session.data.values("_t"), float)
        col, lab = sp.survival_at(dname, aft, xb, anc, t), "S(_t|_t0)"
        t0 = np.asarray(session.data.values("_t0"), float)
        with np.errstate(all="ignore"):
            col = col / np.where(t0 > 0, sp.survival_at(dname, aft, xb, anc, t0), 1.0)
    else:
        raise StataError(f"option {stat} not allowed", 198)
    with np.errstate(all="ignore"):
        _add(session, names, [col], [lab], vtype, touse)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    for name in _ECMD.values():
        PREDICTORS[name] = predict


_register_predict()
