"""estat firststage, endogenous and overid after ivregress ([R] ivregress postestimation).

firststage: each endogenous regressor's first-stage R-squared, adjusted and partial R-squared
and the F test of the excluded instruments, Shea's partial R-squared with several endogenous
regressors, and Cragg and Donald's minimum eigenvalue statistic. endogenous: Durbin's score
chi2 and the Wu-Hausman F (unadjusted VCE). overid: Sargan's and Basmann's chi2 after 2sls
and liml, Hansen's J after gmm. The matrices come from the fit kept on the results (res.iv).
"""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.engine import ivreg
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt
from hlmshell.output.text import abbrev
from hlmshell.results import RResults


def _iv(res):
    iv = getattr(res, "iv", None)
    if res is None or res.cmd != "ivregress" or iv is None:
        raise StataError("requested action not valid after most recent estimation command", 321)
    if res.macros.get("wtype"):
        raise StataError("the ivregress diagnostics after a weighted fit are not implemented here", 498)
    return iv


def _x1(iv):
    return iv["X"][:, iv["n_endog"]:]


def _rows(iv):
    return ivreg.first_stage(iv["X"][:, :iv["n_endog"]], _x1(iv), iv["Z"])


def _table(rows, names, shea=None) -> list[str]:
    df1, df2 = rows[0]["df1"], rows[0]["df2"]
    ftitle = f"F({df1},{df2})"
    out = ["  " + "-" * 74,
           "               |            Adjusted      Partial",
           f"      Variable |   R-sq.       R-sq.        R-sq.  {ftitle:>11}   Prob > F",
           "  -------------+" + "-" * 60]
    for nm, r in zip(names, rows):
        p = dist.f_sf(r["F"], df1, df2)
        out.append(f"  {abbrev(nm, 12):>12} |  {r['r2']:6.4f}      {r['r2_a']:6.4f}       "
                   f"{r['pr2']:6.4f}  {fmt(r['F'], '%11.4f')}    {p:6.4f}")
    out.append("  " + "-" * 74)
    return out


def first_stage_tables(session, res, level) -> None:
    """`ivregress ..., first`: the first-stage summary before the main table."""
    iv = res.iv
    session.out.line("")
    session.out.line("First-stage regression summary statistics")
    for ln in _table(_rows(iv), iv["endog_names"]):
        session.out.line(ln)


def estat_firststage(session, res, opts) -> None:
    iv = _iv(res)
    if res.macros.get("vce") != "unadjusted" and not opts.forcenonrobust:
        raise StataError("the robust first-stage F statistics are not implemented here; "
                         "specify forcenonrobust for the nonrobust ones", 321)
    rows = _rows(iv)
    names = iv["endog_names"]
    out = session.out
    out.line("")
    out.line("  First-stage regression summary statistics")
    for ln in _table(rows, names):
        out.line(ln)
    sc = {}
    if len(names) > 1:
        shea = ivreg.shea_partial_r2(iv["X"], iv["Z"], iv["n_endog"])
        out.line("")
        out.line("  Shea's partial R-squared")
        out.line("  " + "-" * 40)
        out.line("               |     Shea's")
        out.line("      Variable |  partial R-sq.")
        out.line("  -------------+" + "-" * 25)
        for nm, s in zip(names, shea):
            out.line(f"  {abbrev(nm, 12):>12} |     {s:6.4f}")
        out.line("  " + "-" * 40)
    mineig = ivreg.min_eigenvalue(iv["X"][:, :iv["n_endog"]], _x1(iv), iv["Z"])
    out.line("")
    out.line(f"  Minimum eigenvalue statistic = {fmt(mineig, '%9.0g').strip()}")
    sc["mineig"] = mineig
    M = np.array([[r["r2"], r["r2_a"], r["pr2"], r["F"], r["df1"], r["df2"],
                   dist.f_sf(r["F"], r["df1"], r["df2"])] for r in rows])
    session.r = RResults(scalars=sc, macros={})
    session.r.matrices["singleresults"] = M


def estat_endogenous(session, res, opts) -> None:
    iv = _iv(res)
    if res.macros.get("vce") != "unadjusted" or res.macros.get("estimator") == "gmm":
        raise StataError("estat endogenous is implemented here for 2sls and liml with the "
                         "unadjusted VCE only", 321)
    t = ivreg.endogeneity(iv["y"], iv["X"], iv["Z"], iv["n_endog"])
    df, wdf = t["df"], t["wudf_r"]
    pd = dist.chi2_sf(t["durbin"], df)
    pw = dist.f_sf(t["wu"], df, wdf)
    out = session.out
    out.line("")
    out.line("  Tests of endogeneity")
    out.line("  H0: Variables are exogenous")
    out.line("")
    out.line(f"  {'Durbin (score) chi2(' + str(df) + ')':<32}=  {fmt(t['durbin'], '%7.0g')}  (p = {pd:6.4f})")
    out.line(f"  {'Wu-Hausman F(' + str(df) + ',' + str(wdf) + ')':<32}=  {fmt(t['wu'], '%7.0g')}  (p = {pw:6.4f})")
    session.r = RResults(scalars={"durbin": t["durbin"], "p_durbin": pd, "wu": t["wu"],
                                  "p_wu": pw, "df": float(df), "wudf_r": float(wdf)})


def estat_overid(session, res, opts) -> None:
    iv = _iv(res)
    L, k = iv["Z"].shape[1], iv["X"].shape[1]
    if L <= k:
        raise StataError("model is exactly identified; no overidentifying restrictions", 498)
    out = session.out
    out.line("")
    if res.macros.get("estimator") == "gmm":
        J, df = res.scalars["J"], L - k
        p = dist.chi2_sf(J, df)
        out.line("  Test of overidentifying restriction:")
        out.line("")
        out.line(f"  Hansen's J chi2({df}) = {fmt(J, '%9.0g').strip()} (p = {p:6.4f})")
        session.r = RResults(scalars={"HansenJ": J, "p_HansenJ": p, "df": float(df)})
        return
    if res.macros.get("vce") != "unadjusted":
        _robust_overid(session, res, iv)
        return
    t = ivreg.overid(iv["resid"], iv["Z"], k)
    df = t["df"]
    ps, pb = dist.chi2_sf(t["sargan"], df), dist.chi2_sf(t["basmann"], df)
    out.line("  Tests of overidentifying restrictions:")
    out.line("")
    out.line(f"  {'Sargan (score) chi2(' + str(df) + ')':<23}= {fmt(t['sargan'], '%8.0g')}  (p = {ps:6.4f})")
    out.line(f"  {'Basmann chi2(' + str(df) + ')':<23}= {fmt(t['basmann'], '%8.0g')}  (p = {pb:6.4f})")
    session.r = RResults(scalars={"sargan": t["sargan"], "p_sargan": ps, "basmann": t["basmann"],
                                  "p_basmann": pb, "df": float(df)})


def _robust_overid(session, res, iv) -> None:
    """After vce(robust) or vce(cluster): Wooldridge's score test."""
    clusters = iv.get("clusters")
    t = ivreg.overid_score(iv["resid"], iv["X"], iv["Z"], clusters)
    p = dist.chi2_sf(t["score"], t["df"])
    out = session.out
    out.line("  Test of overidentifying restrictions:")
    out.line("")
    out.line(f"  {'Score chi2(' + str(t['df']) + ')':<23}= {fmt(t['score'], '%8.0g')}  (p = {p:6.4f})")
    session.r = RResults(scalars={"score": t["score"], "p_score": p, "df": float(t["df"])})
