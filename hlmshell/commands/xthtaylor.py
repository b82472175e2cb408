"""xthtaylor (Stata 17's [XT] xthtaylor): the Hausman-Taylor instrumental-variables estimator
of a random-effects model whose effect is correlated with some regressors (endog()),
hlmshell/engine/hausman_taylor.py. The regressors are split into time-varying and
time-invariant ones (found from the data, or as constant()/varying() say) and into exogenous
and endogenous ones; the table shows them in those four groups (TVexogenous, TVendogenous,
TIexogenous, TIendogenous), then _cons, sigma_u, sigma_e and rho. `amacurdy` adds the
AmaCurdy-MaCurdy instruments (balanced panels); `small` reports t and F statistics.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._panel import xt_settings
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns, typed_args, varlist
from hlmshell.engine import hausman_taylor as ht
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output import xtreg_output as xo
from hlmshell.output.numfmt import fmt, fmt_count
from hlmshell.registry import Opt, command
from hlmshell.results.regress import RegressResults
from hlmshell.syntax.evaluate import marksample

SECTIONS = ("TVexogenous", "TVendogenous", "TIexogenous", "TIendogenous")


@command("xthtaylor", family="Estimation", body="varlist", qualifiers="if in",
         desc="Hausman-Taylor estimator for error-components models",
         example="xthtaylor lwage wks south smsa ms exp exp2 union fem blk ed, endog(exp exp2 ms union ed)",
         options=(Opt("endog", "en", "string", None, "explanatory variables correlated with u_i (required)"),
                  Opt("constant", "co", "string", None, "the time-invariant independent variables"),
                  Opt("varying", "va", "string", None, "the time-varying independent variables"),
                  Opt("amacurdy", "am", desc="fit the AmaCurdy-MaCurdy version (balanced panels)"),
                  Opt("small", desc="report t and F statistics"),
                  Opt("i", "i", "name", desc="panel variable (old syntax; sets xtset)"),
                  Opt("noconstant", "nocons", desc="suppress the constant term"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def xthtaylor_cmd(session, cmd) -> None:
    opts = typed_args(cmd)
    if not (cmd.body or "").strip():
        res = session.e
        if res is None or res.cmd != "xthtaylor":
            raise StataError("last estimates not found", 301)
        display_xthtaylor(session, res, confidence_level(session, opts))
        return
    names = varlist(session, cmd.body)
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    if not (opts.raw("endog") or "").strip():
        raise StataError("option endog() required", 198)
    if opts.raw("constant") and opts.raw("varying"):
        raise StataError("options constant() and varying() may not be combined", 198)
    depvar, xs = names[0], list(dict.fromkeys(names[1:]))
    endog = _subset(session, opts.raw("endog"), xs, "endog")
    ps = xt_settings(session, i=opts.raw("i"), trequired=bool(opts.amacurdy))
    mask = marksample(session, cmd, [depvar] + xs + [ps.panelvar] + ([ps.timevar] if opts.amacurdy else []))
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    ds = session.data
    column = sample_columns(ds, mask)
    _, codes = np.unique(np.asarray(ds.var(ps.panelvar).values, dtype=float)[mask], return_inverse=True)
    codes = codes.reshape(-1)
    groups = _classify(session, opts, xs, endog, column, codes)
    periods = _periods(ds, ps, mask, codes) if opts.amacurdy else None
    try:
        fit = ht.fit(column(depvar), *(_cols(column, g, n) for g in groups), codes,
                     constant=not opts.noconstant, amacurdy_periods=periods)
    except ht.HTError:
        raise StataError("model is not identified: too few instruments", 481) from None
    except np.linalg.LinAlgError:
        raise StataError("matrix not positive definite", 506) from None
    res = _results(cmd, depvar, groups, fit, codes, mask, ps, opts)
    session.post_estimation(res)
    display_xthtaylor(session, res, confidence_level(session, opts))


def _subset(session, text, xs, what) -> list[str]:
    got = varlist(session, text)
    for v in got:
        if v not in xs:
            raise StataError(f"{v} in {what}() is not among the independent variables", 198)
    return got


def _cols(column, names, n):
    return np.column_stack([column(v) for v in names]) if names else np.zeros((n, 0))


def _invariant(x, codes) -> bool:
    G = int(codes.max()) + 1
    lo = np.full(G, np.inf)
    hi = np.full(G, -np.inf)
    np.minimum.at(lo, codes, x)
    np.maximum.at(hi, codes, x)
    return bool(np.all(hi - lo <= 1e-12 * np.maximum(1.0, np.abs(hi))))


def _classify(session, opts, xs, endog, column, codes):
    """(X1, X2, Z1, Z2): time-varying exogenous/endogenous, time-invariant exogenous/endogenous,
    each in the varlist's order."""
    if opts.raw("constant"):
        ti = set(_subset(session, opts.raw("constant"), xs, "constant"))
    elif opts.raw("varying"):
        ti = set(xs) - set(_subset(session, opts.raw("varying"), xs, "varying"))
    else:
        ti = {v for v in xs if _invariant(column(v), codes)}
    for v in ti:
        if not _invariant(column(v), codes):
            raise StataError(f"{v} is not time invariant within panels", 198)
    en = set(endog)
    X1 = [v for v in xs if v not in ti and v not in en]
    X2 = [v for v in xs if v not in ti and v in en]
    Z1 = [v for v in xs if v in ti and v not in en]
    Z2 = [v for v in xs if v in ti and v in en]
    if not X1 and not X2:
        raise StataError("there must be at least one time-varying variable", 198)
    if len(X1) < len(Z2):
        raise StataError("too few exogenous time-varying variables: the model is not identified "
                         "(there must be at least as many as endogenous time-invariant variables)", 481)
    return X1, X2, Z1, Z2


def _periods(ds, ps, mask, codes):
    t = np.asarray(ds.var(ps.timevar).values, dtype=float)[mask]
    times, tcode = np.unique(t, return_inverse=True)
    G = int(codes.max()) + 1
    if len(t) != G * len(times) or len(np.unique(codes * len(times) + tcode)) != len(t):
        raise StataError("amacurdy requires balanced panels", 459)
    return tcode.reshape(-1)


def _results(cmd, depvar, groups, fit, codes, mask, ps, opts):
    names = [(depvar, v) for g in groups for v in g]
    if not opts.noconstant:
        names.append((depvar, "_cons"))
    b, V = fit.b, fit.V
    k = len(b)
    N = len(codes)
    test = [i for i, (_, v) in enumerate(names) if v != "_cons"]
    chi2 = float(b[test] @ np.linalg.solve(V[np.ix_(test, test)], b[test])) if test else math.nan
    Ti = np.bincount(codes)
    rho = fit.sigma_u ** 2 / (fit.sigma_u ** 2 + fit.sigma_e ** 2)
    sc = {"N": float(N), "N_g": float(len(Ti)), "df_m": float(len(test)), "g_min": float(Ti.min()),
          "g_avg": float(Ti.mean()), "g_max": float(Ti.max()), "Tbar": float(len(Ti) / np.sum(1.0 / Ti)),
          "Tcon": float(Ti.min() == Ti.max()), "sigma_u": fit.sigma_u, "sigma_e": fit.sigma_e,
          "rho": rho, "rank": float(k)}
    if opts.small:
        sc["df_r"] = float(N - k)
        sc["F"] = chi2 / len(test) if test else math.nan
        sc["p"] = float(dist.f_sf(sc["F"], len(test), N - k)) if test else math.nan
    else:
        sc["chi2"] = chi2
        sc["p"] = float(dist.chi2_sf(chi2, len(test))) if test else math.nan
    m = {"cmd": "xthtaylor", "cmdline": cmd.text, "depvar": depvar, "ivar": ps.panelvar,
         "title": "Hausman-Taylor estimation" if not opts.amacurdy else "Amacurdy-MaCurdy estimation",
         "chi2type": "Wald", "properties": "b V", "predict": "xthtaylor_p",
         "TVexogenous": " ".join(groups[0]), "TVendogenous": " ".join(groups[1]),
         "TIexogenous": " ".join(groups[2]), "TIendogenous": " ".join(groups[3])}
    return RegressResults(cmd="xthtaylor", names=names, b=b.copy(), V=V.copy(), omitted=[False] * k, k_f=k,
                          scalars=sc, macros=m, matrices={}, sample=mask.copy(), model=None, design=None)


def display_xthtaylor(session, res, level: float) -> None:
    sc, m = res.scalars, res.macros
    out = session.out
    small = "df_r" in sc

    def right(label, v):
        return f"{label:<18}= {v:>10}"
    pad = " " * 48
    out.line("")
    out.line(f"{m['title']:<48}{right('Number of obs', fmt_count(int(sc['N'])))}")
    out.line(f"{'Group variable: ' + m['ivar']:<48}{right('Number of groups', fmt_count(int(sc['N_g'])))}")
    out.line("")
    out.line(pad + "Obs per group:")
    avg = fmt_count(int(sc["g_avg"])) if sc["g_avg"] == int(sc["g_avg"]) else fmt(sc["g_avg"], "%10.1f").strip()
    for lab, v in (("min", fmt_count(int(sc["g_min"]))), ("avg", avg), ("max", fmt_count(int(sc["g_max"])))):
        out.line(pad + f"{lab:>17} = {v:>10}")
    out.line("")
    if small:
        stat = fmt(sc["F"], "%10.2f").strip() if math.isfinite(sc["F"]) else "."
        first = right(f"F({int(sc['df_m'])},{int(sc['df_r'])})", stat)
        second = right("Prob > F", fmt(sc["p"], "%10.4f").strip() if math.isfinite(sc["p"]) else ".")
    else:
        stat = fmt(sc["chi2"], "%10.2f").strip() if math.isfinite(sc["chi2"]) else "."
        first = right(f"Wald chi2({int(sc['df_m'])})", stat)
        second = right("Prob > chi2", fmt(sc["p"], "%10.4f").strip() if math.isfinite(sc["p"]) else ".")
    out.line(f"{'Random effects u_i ~ i.i.d.':<48}{first}")
    out.line(pad + second)
    out.line("")
    for ln in table_lines(res, level, small):
        out.line(ln)
    out.line("Note: TV refers to time varying; TI refers to time invariant.")


def table_lines(res, level: float, small: bool) -> list[str]:
    sc = res.scalars
    stat, df = ("t", sc["df_r"]) if small else ("z", None)
    b, se = res.b, res.se
    lines = [ct.rule(), ct.column_header(res.depvar, stat, level), ct.rule("mid")]
    section = {v: sec for sec in SECTIONS for v in res.macros.get(sec, "").split()}
    last = None
    for i, (_, v) in enumerate(res.names):
        sec = section.get(v, "_cons")
        if sec != last:
            lines.append(" " * 12 + " |" if sec == "_cons" else f"{sec:<12} |")
            last = sec
        lines += ct.coef_row(ct.name_lines(v), ct.number_cells(b[i], se[i], stat=stat, df_r=df, level=level))
    return lines + xo.sigma_lines(sc["sigma_u"], sc["sigma_e"], sc["rho"])
