"""xtpcse (Stata 17's [XT] xtpcse), without autocorrelation: OLS coefficients with Beck and
Katz's panel-corrected standard errors,

    V = (X'X)^-1 X' (Sigma kron I_T) X (X'X)^-1,

Sigma_ij = sum_t e_it e_jt / T_ij over the periods both panels have (correlated panels, the
default), or only its diagonal (hetonly), or sigma^2 I (independent). corr(ar1|psar1) (the
Prais-Winsten versions) are refused plainly: not built in yet.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._panel import panel_settings
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands._xt_linear import model_or_replay
from hlmshell.commands.estimation import _fixed_groups, _resolve_fixed_part
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.errors import StataError
from hlmshell.output.coeftable import coef_table
from hlmshell.output.numfmt import fmt, fmt_count
from hlmshell.registry import Opt, abbrev_lookup, command
from hlmshell.results.regress import RegressResults
from hlmshell.syntax.evaluate import marksample


def pcse_vce(X: np.ndarray, e: np.ndarray, pc: np.ndarray, tc: np.ndarray, kind: str) -> np.ndarray:
    """Beck-Katz VCE; kind: correlated, hetonly or independent. pc, tc: codes 0..N-1, 0..T-1."""
    N, T = int(pc.max()) + 1, int(tc.max()) + 1
    k = X.shape[1]
    E = np.zeros((T, N))
    P = np.zeros((T, N))
    E[tc, pc], P[tc, pc] = e, 1.0
    Xa = np.zeros((T, N, k))
    Xa[tc, pc] = X
    if kind == "independent":
        S = np.eye(N) * float(e @ e) / len(e)
    else:
        common = P.T @ P
        with np.errstate(invalid="ignore", divide="ignore"):
            S = np.where(common > 0, (E.T @ E) / common, 0.0)
        if kind == "hetonly":
            S = np.diag(np.diag(S))
    meat = np.einsum("tik,ij,tjl->kl", Xa, S, Xa)
    XXi = np.linalg.inv(X.T @ X)
    return XXi @ meat @ XXi


_CORR = (("independent", "i"), ("ar1", "a"), ("psar1", "p"))


@command("xtpcse", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="linear regression with panel-corrected standard errors",
         example="xtpcse invest mvalue kstock",
         options=(Opt("correlation", "c", "string", None, "independent (default); ar1 and psar1 not built in"),
                  Opt("hetonly", "het", desc="heteroskedastic but uncorrelated panels"),
                  Opt("independent", "ind", desc="independent, homoskedastic panels"),
                  Opt("noconstant", "nocons", desc="suppress the constant term"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def xtpcse_cmd(session, cmd) -> None:
    parsed = model_or_replay(session, cmd, "xtpcse", display_xtpcse)
    if parsed is None:
        return
    spec, fixed_raw, opts = parsed
    corr = "independent"
    if opts.raw("correlation"):
        corr = abbrev_lookup(opts.raw("correlation").strip().lower(), _CORR) or ""
        if not corr:
            raise StataError(f"correlation({opts.raw('correlation').strip()}) invalid", 198)
    if corr != "independent":
        raise StataError(f"xtpcse, correlation({corr}) is not available in hlmshell", 198)
    if opts.hetonly and opts.independent:
        raise StataError("options hetonly and independent may not be combined", 198)
    kind = "hetonly" if opts.hetonly else ("independent" if opts.independent else "correlated")
    ps = panel_settings(session, need_time=True)
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    mask = marksample(session, cmd, [depvar] + [v for v in fvars if v != depvar])
    mask &= marksample(session, None, [ps.panelvar, ps.timevar])
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    column = sample_columns(ds, mask)
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    X = design.X_keep
    if n <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    y = column(depvar)
    _, pc = np.unique(np.asarray(ds.var(ps.panelvar).values, dtype=float)[mask], return_inverse=True)
    _, tc = np.unique(np.asarray(ds.var(ps.timevar).values, dtype=float)[mask], return_inverse=True)
    pc, tc = pc.reshape(-1), tc.reshape(-1)
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ b
    V = pcse_vce(X, e, pc, tc, kind)
    tss = float(np.sum((y - y.mean()) ** 2))
    res = _results(cmd, ds, design, fixed, depvar, b, V, pc, tc, kind, mask, ps,
                   1 - float(e @ e) / tss if tss > 0 else math.nan)
    session.post_estimation(res)
    display_xtpcse(session, res, confidence_level(session, opts))


def _results(cmd, ds, design, fixed, depvar, b, V, pc, tc, kind, mask, ps, r2):
    kf = len(design.columns)
    kidx = np.flatnonzero(design.keep)
    bf, Vf = np.zeros(kf), np.zeros((kf, kf))
    bf[kidx] = b
    Vf[np.ix_(kidx, kidx)] = V
    test = [i for i, j in enumerate(kidx) if design.columns[j].name != "_cons"]
    chi2 = float(b[test] @ np.linalg.solve(V[np.ix_(test, test)], b[test])) if test else math.nan
    Ti = np.bincount(pc)
    G, T = len(Ti), int(tc.max()) + 1
    n_cv = {"correlated": G * (G + 1) // 2, "hetonly": G, "independent": 1}[kind]
    sc = {"N": float(len(pc)), "N_g": float(G), "N_gaps": 0.0, "n_cf": float(len(b)), "n_cv": float(n_cv),
          "n_cr": 0.0, "n_sigma": float(T), "df": float(len(test)), "chi2": chi2, "r2": r2,
          "p": float(dist.chi2_sf(chi2, len(test))) if test else math.nan,
          "g_min": float(Ti.min()), "g_avg": float(Ti.mean()), "g_max": float(Ti.max()),
          "rmse": math.nan, "rank": float(len(b))}
    panels = {"correlated": "correlated", "hetonly": "heteroskedastic", "independent": "independent"}[kind]
    m = {"cmd": "xtpcse", "cmdline": cmd.text, "depvar": depvar, "panelvar": ps.panelvar,
         "timevar": ps.timevar, "title": "Linear regression", "panels": panels,
         "corr": "no autocorrelation", "balance": "balanced" if Ti.min() == Ti.max() == T else "unbalanced",
         "vcetype": "Panel-corrected", "chi2type": "Wald", "properties": "b V", "predict": "xtpcse_p"}
    res = RegressResults(cmd="xtpcse", names=[(depvar, nm) for nm in design.stata_names], b=bf, V=Vf,
                         omitted=design.omitted, k_f=kf, scalars=sc, macros=m, matrices={},
                         sample=mask.copy(), model=None, design=design,
                         value_labels=factor_labels(ds, fixed))
    return res


def display_xtpcse(session, res, level: float) -> None:
    sc, m = res.scalars, res.macros
    out = session.out
    title = {"correlated": "correlated panels corrected standard errors (PCSEs)",
             "heteroskedastic": "heteroskedastic panels corrected standard errors",
             "independent": "independent panels corrected standard errors"}[m["panels"]]
    out.line("")
    out.line(f"Linear regression, {title}")
    out.line("")

    def right(label, v):
        return f"{label:<18}= {v:>10}"

    rows = [(f"Group variable:   {m['panelvar']}", right("Number of obs", fmt_count(int(sc["N"])))),
            (f"Time variable:    {m['timevar']}", right("Number of groups", fmt_count(int(sc["N_g"])))),
            (f"Panels:           {m['panels']} ({m['balance']})", "Obs per group:"),
            (f"Autocorrelation:  {m['corr']}", f"{'min':>17} = {fmt_count(int(sc['g_min'])):>10}"),
            ("", f"{'avg':>17} = {fmt(sc['g_avg'], '%10.1f').strip():>10}"),
            ("", f"{'max':>17} = {fmt_count(int(sc['g_max'])):>10}"),
            (f"{'Estimated covariances':<27}= {fmt_count(int(sc['n_cv'])):>9}",
             right("R-squared", fmt(sc["r2"], "%10.4f").strip())),
            (f"{'Estimated autocorrelations':<27}= {0:>9}",
             right(f"Wald chi2({int(sc['df'])})", fmt(sc["chi2"], "%10.2f").strip())),
            (f"{'Estimated coefficients':<27}= {fmt_count(int(sc['n_cf'])):>9}",
             right("Prob > chi2", fmt(sc["p"], "%10.4f").strip()))]
    for left, r in rows:
        out.line(f"{left:<48}{r}".rstrip())
    out.line("")
    for ln in coef_table(res.depvar, _fixed_groups(res, False), res.b, res.se, stat="z", df_r=None,
                         level=level, vcetype="Panel-corrected"):
        out.line(ln)
