"""xtgls (Stata 17's [XT] xtgls): panels(iid|heteroskedastic|correlated) with
corr(independent|ar1|psar1), two-step or iterated (igls); the fit is hlmshell/engine/
panel_fgls.py.

panels(iid): OLS; the variance uses e'e/N (xtgls's default, nmk: N-k). panels(hetero): the
OLS residuals give sigma_i^2 = e_i'e_i/T_i, then weighted least squares with weights
1/sigma_i^2; igls repeats until the coefficients settle (the maximum-likelihood estimates).
The log likelihood is the Gaussian one at the fitted coefficients and variances.
corr(ar1|psar1): Prais-Winsten transformed data, the autocorrelations from the residuals
(rhotype(), regress by default; the common one weighted by T_i - 1). panels(correlated): the
contemporaneous covariance of the panels (balanced data, at least as many periods as panels).
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
from hlmshell.commands.xtpcse import rhotype_option
from hlmshell.engine.panel_fgls import fgls
from hlmshell.errors import StataError
from hlmshell.output.coeftable import coef_table
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.registry import Opt, abbrev_lookup, command
from hlmshell.results.regress import RegressResults

_PANELS = (("iid", "i"), ("heteroskedastic", "h"), ("correlated", "c"))
_CORR = (("independent", "i"), ("ar1", "a"), ("psar1", "p"))
_PANEL_TEXT = {"iid": "homoskedastic", "heteroskedastic": "heteroskedastic",
               "correlated": "heteroskedastic with cross-sectional correlation"}


def _choice(text: str | None, table, default: str, what: str) -> str:
    if text is None or not text.strip():
        return default
    got = abbrev_lookup(text.strip().lower(), table)
    if got is None:
        raise StataError(f"{what}({text.strip()}) invalid", 198)
    return got


@command("xtgls", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="panel-data linear models by feasible GLS (panels(iid|hetero), igls)",
         example="xtgls invest mvalue kstock, panels(hetero)",
         options=(Opt("panels", "p", "string", None, "iid (default), heteroskedastic or correlated"),
                  Opt("corr", "c", "string", None, "independent (default), ar1 or psar1"),
                  Opt("rhotype", "rho", "string", None, "regress (default), freg, tscorr, dw, theil or nagar"),
                  Opt("igls", desc="iterated GLS instead of two-step"),
                  Opt("iterate", "iter", "int", 100, "igls: maximum number of iterations"),
                  Opt("tolerance", "tol", "real", 1e-7, "igls: tolerance for the coefficients"),
                  Opt("nolog", "nolog", desc="suppress the igls iteration log"),
                  Opt("log", desc="display the igls iteration log (the default)"),
                  Opt("force", desc="estimate even if times are unequally spaced"),
                  Opt("nmk", desc="normalize standard errors by N-k instead of N"),
                  Opt("noconstant", "nocons", desc="suppress the constant term"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def xtgls_cmd(session, cmd) -> None:
    parsed = model_or_replay(session, cmd, "xtgls", display_xtgls)
    if parsed is None:
        return
    spec, fixed_raw, opts = parsed
    panels = _choice(opts.raw("panels"), _PANELS, "iid", "panels")
    corr = _choice(opts.raw("corr"), _CORR, "independent", "corr")
    rhotype = rhotype_option(opts.raw("rhotype"))
    level = confidence_level(session, opts)
    ps = panel_settings(session)
    ds = session.data
    need_t = corr != "independent" or panels == "correlated"
    if need_t and not ps.timevar:
        raise StataError("must specify timevar; use xtset", 459)
    depvar, fixed, mask, column, design, codes = panel_sample(session, cmd, spec, fixed_raw,
                                                              bool(opts.noconstant), ps, need_t)
    X = design.X_keep
    n = len(codes)
    if n <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    tvals = (np.asarray(ds.var(ps.timevar).values, dtype=float)[mask] if need_t
             else np.arange(n, dtype=float))
    if panels == "correlated":
        _check_balanced(codes, tvals)
    try:
        fit = fgls(column(depvar), X, codes, tvals, panels, corr, rhotype, bool(opts.igls), bool(opts.nmk),
                   ps.delta, tol=float(opts.tolerance), maxiter=max(int(opts.iterate), 1))
    except np.linalg.LinAlgError:
        raise StataError("matrix not positive definite", 506) from None
    res = _results(cmd, ds, design, fixed, depvar, fit.b, fit.V, codes, fit.ll, panels, mask, ps)
    _autocorrelation(res, corr, rhotype, fit.rhos)
    res.resid_sample = fit.e
    if not opts.nolog:
        for i, t in enumerate(fit.tolerances, 1):
            session.out.line(f"Iteration {i}: tolerance = {fmt_g(t, 9).strip()}")
    session.post_estimation(res)
    display_xtgls(session, res, level)


def _check_balanced(codes, tvals) -> None:
    """panels(correlated) estimates Sigma from common periods: balanced panels, T >= N."""
    N = int(codes.max()) + 1
    times = np.unique(tvals)
    if len(codes) != N * len(times) or len(np.unique(codes * len(times) + np.searchsorted(times, tvals))) != len(codes):
        raise StataError("panels(correlated) requires balanced panels (xtgls)", 459)
    if len(times) < N:
        raise StataError("panels(correlated) needs at least as many time periods as panels", 459)


def _autocorrelation(res, corr: str, rhotype: str, rhos) -> None:
    if corr == "independent":
        return
    res.macros["rhotype"] = rhotype
    if corr == "ar1":
        res.macros["corr"] = "common AR(1) coefficient for all panels"
    else:
        res.macros["corr"] = "panel-specific AR(1)"
    res.scalars["n_cr"] = float(len(rhos))
    res.matrices["rho"] = np.asarray(rhos, dtype=float).reshape(1, -1)


def _results(cmd, ds, design, fixed, depvar, b, V, codes, ll, panels, mask, ps):
    kf = len(design.columns)
    kidx = np.flatnonzero(design.keep)
    bf, Vf = np.zeros(kf), np.zeros((kf, kf))
    bf[kidx] = b
    Vf[np.ix_(kidx, kidx)] = V
    test = [i for i, j in enumerate(kidx) if design.columns[j].name != "_cons"]
    chi2 = float(b[test] @ np.linalg.solve(V[np.ix_(test, test)], b[test])) if test else math.nan
    T = np.bincount(codes)
    G = len(T)
    sc = {"N": float(len(codes)), "N_g": float(G), "N_t": float(T.max()), "n_cf": float(len(b)),
          "n_cv": float({"heteroskedastic": G, "correlated": G * (G + 1) // 2}.get(panels, 1)), "n_cr": 0.0, "df": float(len(test)),
          "chi2": chi2, "p": float(dist.chi2_sf(chi2, len(test))) if test else math.nan, "ll": ll,
          "g_min": float(T.min()), "g_avg": float(T.mean()), "g_max": float(T.max()),
          "rank": float(len(b)), "df_pear": float(len(test))}
    m = {"cmd": "xtgls", "cmdline": cmd.text, "depvar": depvar, "ivar": ps.panelvar,
         "tvar": ps.timevar or "", "title": "Cross-sectional time-series FGLS regression",
         "coefftype": "generalized least squares", "vt": _PANEL_TEXT[panels],
         "corr": "no autocorrelation", "rhotype": "", "chi2type": "Wald", "method": "",
         "properties": "b V", "predict": "xtgls_p"}
    res = RegressResults(cmd="xtgls", names=[(depvar, nm) for nm in design.stata_names], b=bf, V=Vf,
                         omitted=design.omitted, k_f=kf, scalars=sc, macros=m, matrices={},
                         sample=mask.copy(), model=None, design=design,
                         value_labels=factor_labels(ds, fixed))
    res.panel_codes = codes
    return res


def display_xtgls(session, res, level: float) -> None:
    sc, m = res.scalars, res.macros
    out = session.out
    out.line("")
    out.line("Cross-sectional time-series FGLS regression")
    out.line("")
    out.line(f"Coefficients:  {m['coefftype']}")
    out.line(f"Panels:        {m['vt']}")
    corr = m["corr"]
    if corr.startswith("common"):
        corr += f"  ({fmt(float(res.matrices['rho'][0, 0]), '%6.4f').strip()})"
    out.line(f"Correlation:   {corr}")
    out.line("")

    def left(label, v):
        return f"{label:<27}= {fmt_count(int(v)):>9}"

    def right(label, v):
        return f"{label:<18}= {v:>10}"
    out.line(f"{left('Estimated covariances', sc['n_cv'])}          {right('Number of obs', fmt_count(int(sc['N'])))}")
    out.line(f"{left('Estimated autocorrelations', sc['n_cr'])}          {right('Number of groups', fmt_count(int(sc['N_g'])))}")
    out.line(f"{left('Estimated coefficients', sc['n_cf'])}          {right('Time periods', fmt_count(int(sc['N_t'])))}")
    chi2 = fmt(sc["chi2"], "%10.2f").strip() if math.isfinite(sc["chi2"]) else "."
    out.line(" " * 48 + right(f"Wald chi2({int(sc['df'])})", chi2))
    p = fmt(sc["p"], "%10.4f").strip() if math.isfinite(sc["p"]) else "."
    out.line(f"{'Log likelihood':<27}= {fmt_g(sc['ll'], 9).strip():>9}          {right('Prob > chi2', p)}")
    out.line("")
    for ln in coef_table(res.depvar, _fixed_groups(res, False), res.b, res.se, stat="z", df_r=None,
                         level=level):
        out.line(ln)
