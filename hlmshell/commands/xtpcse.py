"""xtpcse (Stata 17's [XT] xtpcse), without autocorrelation: OLS coefficients with Beck and
Katz's panel-corrected standard errors,

    V = (X'X)^-1 X' (Sigma kron I_T) X (X'X)^-1,

Sigma_ij = sum_t e_it e_jt / T_ij over the periods both panels have (correlated panels, the
default), or only its diagonal (hetonly), or sigma^2 I (independent).

corr(ar1) and corr(psar1): Prais-Winsten regression. The OLS residuals give each panel's
autocorrelation (rhotype(), regress by default); ar1 averages them with weights T_i - 1 (T_i
with np1), psar1 keeps each panel's own; the data are transformed (hlmshell/engine/
prais_panel.py), the coefficients are OLS on the transformed data and the PCSEs are computed
from the transformed regressors and residuals (two-step, as [XT] xtpcse describes).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._panel import panel_settings
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._xt_linear import model_or_replay, panel_sample
from hlmshell.commands.estimation import _fixed_groups
from hlmshell.commands.model_terms import factor_labels
from hlmshell.engine import prais_panel as pw
from hlmshell.errors import StataError
from hlmshell.output.coeftable import coef_table
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.registry import Opt, abbrev_lookup, command
from hlmshell.results.regress import RegressResults


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
_RHOTYPES = tuple((r, r) for r in pw.RHOTYPES)


def rhotype_option(text: str | None) -> str:
    """rhotype(): one of [TS] prais's names (whole words, as Stata wants them)."""
    if text is None or not text.strip():
        return "regress"
    got = abbrev_lookup(text.strip().lower(), _RHOTYPES)
    if got is None:
        raise StataError(f"rhotype({text.strip()}) invalid", 198)
    return got


def prais_winsten(y, X, pc, tvals, corr: str, rhotype: str, np1: bool, delta: float):
    """(y*, X*, the panels' rhos): the OLS residuals' autocorrelations and the transform, rows
    kept in the caller's order."""
    perm = pw.order(pc, tvals)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    ys, Xs, ps_, ts = y[perm], X[perm], pc[perm], tvals[perm]
    prev = pw.has_previous(ps_, ts, delta)
    e = ys - Xs @ np.linalg.lstsq(Xs, ys, rcond=None)[0]
    rho_obs, rhos, bounded = pw.rho_per_obs(e, ps_, prev, int(pc.max()) + 1, corr, rhotype, X.shape[1], np1)
    return pw.transform(ys, rho_obs, prev)[inv], pw.transform(Xs, rho_obs, prev)[inv], rhos, bounded


def _autocorrelation(res, corr: str, rhotype: str, rhos) -> None:
    """e(corr), e(rhotype), e(rho) and e(n_cr) of an AR(1) fit."""
    if corr == "independent":
        return
    res.macros["corr"] = "common AR(1)" if corr == "ar1" else "panel-specific AR(1)"
    res.macros["rhotype"] = rhotype
    res.macros["title"] = "Prais-Winsten regression"
    shown = rhos[:1] if corr == "ar1" else rhos
    res.scalars["n_cr"] = float(len(shown))
    res.matrices["rho"] = np.asarray(shown, dtype=float).reshape(1, -1)


@command("xtpcse", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="linear regression with panel-corrected standard errors",
         example="xtpcse invest mvalue kstock",
         options=(Opt("correlation", "c", "string", None, "independent (default), ar1 or psar1"),
                  Opt("rhotype", "rho", "string", None, "regress (default), freg, tscorr, dw, theil or nagar"),
                  Opt("np1", desc="weight the panels' autocorrelations by T_i instead of T_i - 1"),
                  Opt("nmk", desc="normalize standard errors by N-k instead of N"),
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
    rhotype = rhotype_option(opts.raw("rhotype"))
    if opts.hetonly and opts.independent:
        raise StataError("options hetonly and independent may not be combined", 198)
    kind = "hetonly" if opts.hetonly else ("independent" if opts.independent else "correlated")
    ps = panel_settings(session, need_time=True)
    ds = session.data
    depvar, fixed, mask, column, design, pc = panel_sample(session, cmd, spec, fixed_raw,
                                                           bool(opts.noconstant), ps, True)
    X = design.X_keep
    n = len(pc)
    if n <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    y = column(depvar)
    _, tc = np.unique(np.asarray(ds.var(ps.timevar).values, dtype=float)[mask], return_inverse=True)
    tc = tc.reshape(-1)
    tvals = np.asarray(ds.var(ps.timevar).values, dtype=float)[mask]
    rhos = None
    if corr != "independent":
        y, X, rhos, bounded = prais_winsten(y, X, pc, tvals, corr, rhotype, bool(opts.np1), ps.delta)
        if bounded:
            session.out.line("(note: estimates of rho outside [-1,1] bounded to be in the range [-1,1])")
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ b
    V = pcse_vce(X, e, pc, tc, kind)
    if opts.nmk:
        V = V * n / (n - X.shape[1])
    tss = float(np.sum((y - y.mean()) ** 2))
    res = _results(cmd, ds, design, fixed, depvar, b, V, pc, tc, kind, mask, ps,
                   1 - float(e @ e) / tss if tss > 0 else math.nan)
    _autocorrelation(res, corr, rhotype, rhos)
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
    out.line(f"{m['title']}, {title}")
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
            (f"{'Estimated autocorrelations':<27}= {int(sc['n_cr']):>9}",
             right(f"Wald chi2({int(sc['df'])})", fmt(sc["chi2"], "%10.2f").strip())),
            (f"{'Estimated coefficients':<27}= {fmt_count(int(sc['n_cf'])):>9}",
             right("Prob > chi2", fmt(sc["p"], "%10.4f").strip()))]
    for left, r in rows:
        out.line(f"{left:<48}{r}".rstrip())
    out.line("")
    lines = coef_table(res.depvar, _fixed_groups(res, False), res.b, res.se, stat="z", df_r=None,
                       level=level, vcetype="Panel-corrected")
    for ln in lines[:-1] + rho_rows(res, lines[-1]):
        out.line(ln)


def rho_rows(res, closing: str) -> list[str]:
    """The table's last lines: after an AR(1) fit the autocorrelation (rho) or the first and
    last panels' (rhos) below a rule, then the closing rule."""
    rho = res.matrices.get("rho")
    if rho is None:
        return [closing]
    r = np.asarray(rho, dtype=float).ravel()
    mid = "-" * 13 + "+" + "-" * (len(closing) - 14)
    if len(r) == 1:
        return [mid, f"{'rho':>12} |  {fmt_g(r[0], 9):>9}", closing]
    shown = [f"{fmt_g(v, 9):>9}" for v in r[:4]]
    tail = f"  ...  {fmt_g(r[-1], 9):>9}" if len(r) > 4 else ""
    return [mid, f"{'rhos':>12} |  " + "  ".join(shown) + tail, closing]
