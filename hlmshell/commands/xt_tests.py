"""Community panel diagnostics, built in: `xtserial` (Drukker's Wooldridge test for serial
correlation; `output` shows the first-difference regression it starts from), `xttest3` (Baum's modified Wald test for groupwise heteroskedasticity),
`xttest2` (Baum's Breusch-Pagan LM test of cross-sectional independence) and `xtcsd`
(De Hoyos and Sarafidis: Pesaran's CD, Friedman's and Frees' tests) and `xtoverid` (Schaffer
and Stillman's Sargan-Hansen test of fixed vs random effects, after xtreg, re only). The statistics are in
engine.xt_diagnostics; here are the samples, residuals, layouts and r() each command leaves.

xttest3 (also after xtgls, on its residuals y - xb), xttest2 and xtcsd read the residuals e_it
of the active `xtreg, fe` (xtcsd also after
`xtreg, re`), on e(sample), with the panel and time variables of xtset.
"""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._panel import panel_settings
from hlmshell.commands._postest import active
from hlmshell.engine import xt_diagnostics as xd
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import RResults
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.varlist import expand_varlist


def _sorted_panel(session, mask: np.ndarray):
    """Rows of the sample ordered by panel and time, with the panel and time values."""
    ps = panel_settings(session, need_time=True)
    ds = session.data
    p = np.asarray(ds.var(ps.panelvar).values, dtype=float)
    t = np.asarray(ds.var(ps.timevar).values, dtype=float)
    idx = np.flatnonzero(mask & ~np.isnan(p) & ~np.isnan(t))
    order = idx[np.lexsort((t[idx], p[idx]))]
    return order, p[order], t[order], ps


@command("xtserial", body="varlist", qualifiers="if in", changes_data=False, byable=False,
         family="Postestimation", desc="Wooldridge test for serial correlation in panel data (SSC's, built in)",
         example="xtserial ln_wage age tenure",
         options=(Opt("output", "o", desc="show the first-differenced regression"),))
def xtserial_cmd(session, cmd) -> None:
    opts = bind_command("xtserial", cmd.options)
    ds = session.data
    names = expand_varlist(ds, cmd.body or "", ts=False)
    if not names:
        raise StataError("varlist required", 100)
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError("type mismatch", 109)
    mask = marksample(session, cmd, names)
    rows, p, t, ps = _sorted_panel(session, mask)
    if len(rows) == 0:
        raise StataError("no observations", 2000)
    if opts.output:
        _first_difference_regression(session, names, mask, ps.panelvar)
    y = np.asarray(ds.var(names[0]).values, dtype=float)[rows]
    X = np.column_stack([np.asarray(ds.var(v).values, dtype=float)[rows] for v in names[1:]]) \
        if len(names) > 1 else np.zeros((len(rows), 0))
    try:
        res = xd.wooldridge_serial(y, X, p, t, ps.delta)
    except (ZeroDivisionError, ValueError, np.linalg.LinAlgError):
        raise StataError("insufficient observations", 2001) from None
    if res.df_r < 1 or not np.isfinite(res.F):
        raise StataError("insufficient observations", 2001)
    out = session.out
    out.line("")
    out.line("Wooldridge test for autocorrelation in panel data")
    out.line("H0: no first-order autocorrelation")
    out.line(f"    F({1:3d},{res.df_r:8d}) = {fmt(res.F, '%10.3f')}")
    out.line(f"           Prob > F = {fmt(res.p, '%11.4f')}")
    session.r = RResults(scalars={"corr": res.b, "F": res.F, "df": 1.0, "df_r": float(res.df_r),
                                  "p": res.p})


def _first_difference_regression(session, names: list[str], mask: np.ndarray, ivar: str) -> None:
    """`output`: the regression xtserial starts from, shown and left in e() as regress leaves
    it: `regress D.(varlist) if touse, noconstant cluster(ivar)` (Drukker's ado runs exactly
    this; it then regresses the residuals on their lag, whose e() names a temporary variable
    that no longer exists, so the first-difference regression is the useful one to keep).
    The sample marker is a temporary variable, dropped afterwards."""
    from hlmshell.data.dataset import Variable
    ds = session.data
    k = 0
    while f"__{k:06d}" in ds:
        k += 1
    touse = f"__{k:06d}"
    ds.put(Variable(touse, mask.astype(float), "byte"))
    try:
        dvars = " ".join(f"D.{v}" for v in names)
        session.runner.run_command(f"regress {dvars} if {touse}, noconstant cluster({ivar})")
    finally:
        if touse in session.data:
            session.data.drop([touse])


def _fe_residuals(session, models=("fe",)):
    """e_it of the active xtreg (fe; re too for xtcsd) on e(sample), with panel/time codes."""
    res = active(session)
    if res.cmd != "xtreg" or res.macros.get("model") not in models:
        what = "xtreg, fe" if models == ("fe",) else "xtreg, fe or xtreg, re"
        raise StataError(f"last estimates not {what}", 301)
    ds = session.data
    sample = np.asarray(res.sample, dtype=bool)
    if len(sample) != ds.n:
        raise StataError("data have changed since estimation", 459)
    from hlmshell.commands.predict import xb_all
    y = np.asarray(ds.values(res.depvar), dtype=float)
    e, _ = res.prediction("e", xb_all(res, ds), y, ds.values(res.macros.get("ivar", "")), sample)
    rows, p, t, _ = _sorted_panel(session, sample)
    _, pc = np.unique(p, return_inverse=True)
    _, tc = np.unique(t, return_inverse=True)
    return np.asarray(e, dtype=float)[rows], pc.reshape(-1), tc.reshape(-1)


@command("xttest3", raw=True, byable=False, changes_data=False, family="Postestimation",
         desc="modified Wald test for groupwise heteroskedasticity after xtreg, fe (SSC's, built in)",
         example="xttest3")
def xttest3_cmd(session, cmd) -> None:
    if cmd.body.strip():
        raise syntax_error()
    res = active(session)
    if res.cmd == "xtgls":                 # the FGLS residuals y - xb on e(sample)
        e, pc = np.asarray(res.resid_sample, dtype=float), np.asarray(res.panel_codes)
    else:
        e, pc, _ = _fe_residuals(session)
    w, G = xd.groupwise_wald(e, pc)
    p = float(dist.chi2_sf(w, G)) if np.isfinite(w) else float("nan")
    out = session.out
    out.line("")
    out.line("Modified Wald test for groupwise heteroskedasticity")
    out.line("in fixed effect regression model" if res.cmd == "xtreg"
             else "in cross-sectional time-series FGLS regression model")
    out.line("")
    out.line("H0: sigma(i)^2 = sigma^2 for i")
    out.line("")
    out.line(f"chi2 ({G})  = {fmt(w, '%10.2f')}")
    out.line(f"Prob>chi2 = {fmt(p, '%10.4f')}")
    out.line("")
    session.r = RResults(scalars={"wald": w, "df": float(G), "p": p})


def _matrix_lines(R: np.ndarray, labels: list[str]) -> list[str]:
    """A lower-triangular correlation matrix in Stata's `matrix list` style, 5 columns a block."""
    lines = []
    for start in range(0, len(labels), 5):
        cols = list(range(start, min(start + 5, len(labels))))
        lines.append("")
        lines.append(" " * 13 + "".join(f"{labels[j]:>11}" for j in cols))
        for i in range(start, len(labels)):
            vals = "".join(f"{fmt(R[i, j], '%11.4f')}" for j in cols if j <= i)
            lines.append(f"{labels[i]:>12} " + vals)
    return lines


@command("xttest2", raw=True, byable=False, changes_data=False, family="Postestimation",
         desc="Breusch-Pagan LM test of cross-sectional independence after xtreg, fe (SSC's, built in)",
         example="xttest2")
def xttest2_cmd(session, cmd) -> None:
    if cmd.body.strip():
        raise syntax_error()
    e, pc, tc = _fe_residuals(session)
    M = xd.residual_matrix(e, pc, tc)
    lm, df, T, R = xd.bp_lm(M)
    if T < 2:
        raise StataError("too few common observations across panel.", 2001)
    p = float(dist.chi2_sf(lm, df))
    out = session.out
    out.line("")
    out.line("Correlation matrix of residuals:")
    for ln in _matrix_lines(R, [f"__e{k + 1}" for k in range(R.shape[0])]):
        out.line(ln)
    out.line("")
    out.line(f"Breusch-Pagan LM test of independence: chi2({df}) = {fmt(lm, '%9.3f')}, "
             f"Pr = {fmt(p, '%6.4f')}")
    out.line(f"Based on {T} complete observations over panel units")
    session.r = RResults(scalars={"lm": lm, "df": float(df), "p": p, "n_bp": float(T)})


@command("xtcsd", raw=True, byable=False, changes_data=False, family="Postestimation",
         desc="tests of cross-sectional dependence after xtreg (SSC's, built in)",
         example="xtcsd, pesaran abs")
def xtcsd_cmd(session, cmd) -> None:
    text, _, opt_text = cmd.body.partition(",")
    if text.strip():
        raise syntax_error()
    words = [w.lower() for w in opt_text.split()]
    known = {"pesaran": "pes", "friedman": "fri", "frees": "fre", "abs": "abs", "show": "show"}
    chosen = set()
    for w in words:
        full = next((k for k, mn in known.items() if k.startswith(w) and len(w) >= len(mn)), None)
        if full is None:
            raise StataError(f"option {w} not allowed", 198)
        chosen.add(full)
    tests = [k for k in ("pesaran", "friedman", "frees") if k in chosen]
    if len(tests) != 1:
        raise StataError("You must specify one of the options pesaran, friedman or frees", 198)
    e, pc, tc = _fe_residuals(session, ("fe", "re"))
    M = xd.residual_matrix(e, pc, tc)
    out = session.out
    out.line("")
    R, C = xd.pairwise_corr(M)
    rs = {}
    if tests[0] == "pesaran":
        cd = xd.pesaran_cd(R, C)
        p = 2 * float(dist.norm_sf(abs(cd)))
        out.line(f"Pesaran's test of cross sectional independence = {fmt(cd, '%9.3f')}, Pr = {fmt(p, '%6.4f')}")
        rs = {"pesaran": cd, "p": p}
    elif tests[0] == "friedman":
        stat, df, _ = xd.friedman(M)
        p = float(dist.chi2_sf(stat, df))
        out.line(f"Friedman's test of cross sectional independence = {fmt(stat, '%9.3f')}, Pr = {fmt(p, '%6.4f')}")
        rs = {"friedman": stat, "p": p}
    else:
        q, T = xd.frees_q(M)
        crit = xd.frees_critical(int(T))
        out.line(f"Frees' test of cross sectional independence = {fmt(q, '%9.3f')}")
        out.line("|--------------------------------------------------------|")
        out.line("  Critical values from Frees' Q distribution")
        for al, c in zip(("0.10", "0.05", "0.01"), crit):
            out.line(f"                    alpha = {al} : {fmt(c, '%8.4f')}")
        rs = {"frees": q}
    if "abs" in chosen:
        out.line("")
        out.line(f"Average absolute value of the off-diagonal elements = {fmt(xd.mean_abs_offdiag(R), '%9.3f')}")
    if "show" in chosen:
        out.line("")
        out.line("Correlation matrix of residuals:")
        for ln in _matrix_lines(R, [f"__e{k + 1}" for k in range(R.shape[0])]):
            out.line(ln)
    session.r = RResults(scalars=rs)


@command("xtoverid", raw=True, byable=False, changes_data=False, family="Postestimation",
         desc="Sargan-Hansen test of fixed vs random effects after xtreg, re (SSC's, built in)",
         example="xtoverid")
def xtoverid_cmd(session, cmd) -> None:
    if cmd.body.strip():
        raise syntax_error()
    res = active(session)
    if res.cmd != "xtreg" or res.macros.get("model") != "re":
        raise StataError("last estimates not xtreg, re", 301)
    ds = session.data
    sample = np.asarray(res.sample, dtype=bool)
    if len(sample) != ds.n:
        raise StataError("data have changed since estimation", 459)
    ivar = res.macros["ivar"]
    y = np.asarray(ds.values(res.depvar), dtype=float)[sample]
    X = np.asarray(res.design.X_keep, dtype=float)
    names = [nm for nm, keep in zip(res.design.names, res.design.keep) if keep]
    X = X[:, [j for j, nm in enumerate(names) if nm != "_cons"]]
    _, codes = np.unique(np.asarray(ds.values(ivar), dtype=float)[sample], return_inverse=True)
    codes = codes.reshape(-1)
    T = np.bincount(codes).astype(float)
    su2, se2 = float(res.scalars["sigma_u"]) ** 2, float(res.scalars["sigma_e"]) ** 2
    theta = 1.0 - np.sqrt(se2 / (T * su2 + se2))
    robust = res.macros.get("vce") in ("robust", "cluster")
    clust = res.macros.get("clustvar") or ivar
    if robust and clust != ivar:
        raise StataError("xtoverid: clustering on a variable other than the panel variable is not supported", 198)
    stat, df = xd.overid_re(y, X, codes, theta, robust)
    p = float(dist.chi2_sf(stat, df)) if df else float("nan")
    out = session.out
    out.line("")
    out.line("Test of overidentifying restrictions: fixed vs random effects")
    model = "xtreg re " + (f" robust cluster({clust})" if robust else "")
    out.line(f"Cross-section time-series model: {model}")
    out.line(f"Sargan-Hansen statistic {fmt(stat, '%8.3f')}  Chi-sq({df})    P-value = {fmt(p, '%6.4f')}")
    session.r = RResults(scalars={"j": stat, "jdf": float(df), "jp": p})
