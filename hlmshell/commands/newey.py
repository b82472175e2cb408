"""newey: OLS with Newey-West standard errors ([TS] newey), in Stata 17's layout.

Panel and time-series do-files put it beside `regress, cluster()` and `xtscc` in `est table`.
The coefficients are regress's; e(V) is the Bartlett-kernel HAC estimate of engine.hac up to
lag(#), computed within panels when the data are xtset with a panel variable. The rows are
ordered by the time variable (tsset/xtset, or the old t(varname) option); with lag(#) > 0 a
time variable whose steps are not all equal in the sample (gaps) stops newey unless `force`,
which then takes the neighbouring observations as one lag apart, as Stata does. lag(0) is
White's heteroskedasticity-robust VCE with the N/(N-k) factor and needs no time variable.
The F test is the Wald test of every coefficient but _cons on (df_m, N - k) degrees of
freedom. aweights only (scaled to mean 1). predict gives xb (default), stdp and residuals.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns, weights
from hlmshell.commands.estimation import _fixed_groups, _resolve_fixed_part, _split_spec
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.engine import hac, ols
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.coeftable import coef_table
from hlmshell.output.numfmt import fmt, fmt_count
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results.regress import RegressResults
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.varlist import expand_varlist

TITLE = "Regression with Newey-West standard errors"


@command("newey", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in weight",
         desc="regression with Newey-West (HAC) standard errors",
         example="newey usr idle, lag(3)",
         options=(Opt("lag", "lag", "string", None, "maximum lag order of autocorrelation (required)"),
                  Opt("noconstant", "nocon", desc="suppress the constant term"),
                  Opt("force", desc="estimate even if the time variable is not equally spaced"),
                  Opt("t", "t", "string", None, "old syntax: the time variable"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def newey_cmd(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = session.e
        if res is None or res.cmd != "newey":
            raise StataError("last estimates not found", 301)
        opts = bind_command("newey", cmd.options)
        display_newey(session, res, confidence_level(session, opts))
        return
    if spec.levels:
        raise syntax_error()
    opts = bind_command("newey", list(spec.fixed_options)
                        + [op for op in cmd.options if op not in spec.fixed_options])
    lag = _lag(opts)
    level = confidence_level(session, opts)
    res = _estimate(session, cmd, spec, fixed_raw, opts, lag)
    session.post_estimation(res)
    display_newey(session, res, level)


def _lag(opts) -> int:
    text = opts.raw("lag")
    if text is None:
        raise StataError("option lag() required", 198)
    try:
        lag = int(text.strip())
    except ValueError:
        raise StataError(f"lag({text}) invalid", 198) from None
    if lag < 0:
        raise StataError(f"lag({text}) invalid", 198)
    return lag


def _time_order(session, opts, lag: int):
    """(time variable, panel variable) that order the rows: t() or tsset/xtset's; none needed
    at lag(0)."""
    from hlmshell.commands._panel import current_settings
    ds = session.data
    ps = current_settings(ds)
    if opts.raw("t"):
        names = expand_varlist(ds, opts.raw("t"))
        if len(names) != 1:
            raise syntax_error()
        return names[0], ps.panelvar if ps is not None else None
    if ps is None or ps.timevar is None:
        if lag == 0:
            return None, None
        raise StataError("time variable not set, use tsset varname ...", 111)
    return ps.timevar, ps.panelvar


def _sorted_rows(ds, mask, tvar, pvar, lag: int, force: bool):
    """Sample rows sorted by panel and time, and each row's panel code (None: one series)."""
    rows = np.flatnonzero(mask)
    if tvar is None:
        return rows, None
    t = np.asarray(ds.values(tvar), dtype=float)[rows]
    p = np.asarray(ds.values(pvar), dtype=float)[rows] if pvar else np.zeros(len(rows))
    order = np.lexsort((t, p))
    rows, t, p = rows[order], t[order], p[order]
    same = p[1:] == p[:-1]
    steps = (t[1:] - t[:-1])[same]
    if np.any(steps == 0):
        raise StataError(f"{tvar} has duplicate values", 198)
    if lag > 0 and not force and len(np.unique(steps)) > 1:
        raise StataError(f"{tvar} is not regularly spaced -- use the force option to override", 198)
    return rows, (p if pvar else None)


def _estimate(session, cmd, spec, fixed_raw, opts, lag: int) -> RegressResults:
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    if opts.noconstant and not fixed:
        raise StataError("may not specify noconstant without regressors", 198)
    tvar, pvar = _time_order(session, opts, lag)
    mask = marksample(session, cmd, [depvar] + [v for v in fvars if v != depvar])
    for v in (tvar, pvar):
        if v:
            mask &= ~np.isnan(np.asarray(ds.values(v), dtype=float))
    w = weights(session, cmd, mask, allowed=("aweight",))
    if w is not None:
        mask &= ~np.isnan(w) & (w != 0)
    if not mask.any():
        raise StataError("no observations", 2000)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    X = design.X_keep
    y = np.asarray(column(depvar), dtype=float)
    if n - X.shape[1] <= 0:
        raise StataError("insufficient observations", 2001)
    rows, panels = _sorted_rows(ds, mask, tvar, pvar, lag, bool(opts.force))
    pos = np.searchsorted(np.flatnonzero(mask), rows)        # sample positions in time order
    return _results(cmd, depvar, fixed, ds, design, mask, X, y, w, pos, panels, lag)


def _results(cmd, depvar, fixed, ds, design, mask, X, y, w, pos, panels, lag) -> RegressResults:
    n, k = X.shape
    if w is None:
        reg = ols.regress(y, X, constant=design.constant)
        ws = None
    else:
        from hlmshell.engine import weighted_ols as wls
        ws = w[mask] / float(np.mean(w[mask]))
        reg = wls.regress(y, X, w[mask], "aweight", constant=design.constant)
    beta = np.asarray(reg.beta, dtype=float)
    e = y - X @ beta
    try:
        Vk = hac.newey_vce(X[pos], e[pos], lag, weights=None if ws is None else ws[pos], panels=panels)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("matrix not positive definite", 506) from None
    kf = len(design.columns)
    kidx = np.flatnonzero(design.keep)
    b = np.zeros(kf)
    V = np.zeros((kf, kf))
    b[kidx] = beta
    V[np.ix_(kidx, kidx)] = Vk
    names = [design.names[j] for j in kidx]
    test = [i for i, nm in enumerate(names) if nm != "_cons"]
    F, q = hac.wald_f(beta[test], Vk[np.ix_(test, test)])
    df_r = n - k
    scalars = {"N": float(n), "df_m": float(q), "df_r": float(df_r), "F": F, "lag": float(lag),
               "rank": float(k)}
    macros = {"cmd": "newey", "cmdline": cmd.text, "depvar": depvar, "title": TITLE,
              "vcetype": "Newey-West", "properties": "b V", "predict": "newey_p",
              "estat_cmd": "newey_estat", "marginsok": "XB default"}
    if w is not None:
        macros.update(wtype="aweight", wexp=f"= {cmd.weight.exp}")
    return RegressResults(cmd="newey", names=[(depvar, nm) for nm in design.stata_names], b=b, V=V,
                          omitted=design.omitted, k_f=kf, scalars=scalars, macros=macros,
                          matrices={}, sample=mask.copy(), model=None, design=design,
                          value_labels=factor_labels(ds, fixed))


def _right(label: str, value: str) -> str:
    return f"{label:<18}= {value:>10}"


def header_lines(res) -> list[str]:
    sc = res.scalars
    F, df_m, df_r = sc["F"], sc["df_m"], sc["df_r"]
    p = float(dist.f_sf(F, df_m, df_r)) if df_m > 0 and math.isfinite(F) else math.nan
    f_label = f"F({fmt(df_m, '%3.0f')},{fmt(df_r, '%10.0f')})"
    return [f"{TITLE:<48}{_right('Number of obs', fmt_count(int(sc['N'])))}",
            f"{'maximum lag: ' + str(int(sc['lag'])):<48}{_right(f_label, fmt(F, '%10.2f').strip())}",
            f"{'':<48}{_right('Prob > F', fmt(p, '%10.4f').strip())}"]


def display_newey(session, res, level: float) -> None:
    out = session.out
    out.line("")
    for ln in header_lines(res):
        out.line(ln)
    out.line("")
    for ln in coef_table(res.depvar, _fixed_groups(res, False), res.b, res.se, stat="t",
                         df_r=res.scalars["df_r"], level=level, vcetype="Newey-West"):
        out.line(ln)
