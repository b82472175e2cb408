"""areg: linear regression absorbing one categorical factor (Stata's `areg y x, absorb(id)`).

Panel and multilevel do-files compare it with `xtreg, fe` and `mixed`: the slopes and their
standard errors are the within estimator's (the same numbers as xtreg, fe, computed by the
same engine, engine.panel.fit_within), but areg reports the fit of the dummy-variable
regression: R-squared and adjusted R-squared with the absorbed indicators, the model F test of
the slopes, and the F test of the absorbed indicators under the table. Stata 17's layout.
vce(robust) and vce(cluster) are refused plainly (their small-sample rules for absorbed
indicators are not built yet).
"""
from __future__ import annotations

import math

from hlmshell import distributions as dist
from hlmshell.commands import xtreg as xt
from hlmshell.commands.estimation import confidence_level
from hlmshell.errors import StataError
from hlmshell.output.coeftable import coef_table
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.registry import Opt, bind_command, command
from hlmshell.syntax.varlist import expand_varlist


def _right(label: str, value: str) -> str:
    return f"{label:<18}= {value:>10}"


def _header(res) -> list[str]:
    sc = res.scalars
    left = ["Linear regression, absorbing indicators", f"Absorbed variable: {res.macros['absvar']}"]
    right = [_right("Number of obs", fmt_count(int(sc["N"]))),
             _right("No. of categories", fmt_count(int(sc["k_absorb"]))),
             _right(f"F({int(sc['df_m'])}, {int(sc['df_r'])})", fmt(sc["F"], "%10.2f").strip()),
             _right("Prob > F", fmt(sc["p"], "%6.4f").strip()),
             _right("R-squared", fmt(sc["r2"], "%6.4f").strip()),
             _right("Adj R-squared", fmt(sc["r2_a"], "%6.4f").strip()),
             _right("Root MSE", fmt_g(sc["rmse"], 9).strip())]
    lines = []
    for k, r in enumerate(right):
        text = left[k] if k < len(left) else ""
        lines.append(f"{text:<48}{r}")
    return lines


def _footer(res) -> str:
    sc = res.scalars
    f_text = (f"F test of absorbed indicators: F({int(sc['df_a'])}, {int(sc['df_r'])}) = "
              f"{fmt(sc['F_absorb'], '%8.3f').strip()}")
    return f"{f_text:<62}Prob > F = {fmt(sc['p_absorb'], '%5.3f').strip()}"


def display_areg(session, res, level: float) -> None:
    out = session.out
    out.line("")
    for ln in _header(res):
        out.line(ln)
    out.line("")
    groups = xt._groups(res, False)
    kf = res.k_f
    for ln in coef_table(res.depvar, groups, res.b[:kf], res.se[:kf], stat="t",
                         df_r=res.scalars["df_r"], level=level):
        out.line(ln)
    out.line(_footer(res))


def _request(session, opts) -> xt.XtregRequest:
    if opts.raw("vce") or opts.robust or opts.cluster:
        raise StataError("areg: vce(robust) and vce(cluster) are not available in hlmshell yet", 198)
    text = opts.raw("absorb")
    if not text:
        raise StataError("option absorb() required", 198)
    names = expand_varlist(session.data, text)
    if len(names) != 1:
        raise StataError("absorb() takes one variable", 103)
    req = xt.XtregRequest("fe", confidence_level(session, opts))
    req.ivar = names[0]
    return req


@command("areg", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="linear regression with a large dummy-variable set absorbed",
         example="areg mathach ses, absorb(id)",
         options=(Opt("absorb", "a", "string", None, "the categorical variable to absorb"),
                  Opt("vce", "vce", "string", None, "not available yet"),
                  Opt("robust", "r", desc="not available yet"),
                  Opt("cluster", "cl", "name", None, "not available yet"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def areg_cmd(session, cmd) -> None:
    spec = xt._split(cmd)
    if spec is None:
        res = session.e
        if res is None or res.cmd != "areg":
            raise StataError("last estimates not found", 301)
        opts = bind_command("areg", cmd.options)
        display_areg(session, res, confidence_level(session, opts))
        return
    opts = bind_command("areg", list(spec.fixed_options)
                        + [op for op in cmd.options if op not in spec.fixed_options])
    req = _request(session, opts)
    data = xt._prepare(session, cmd, spec, req)
    fit, _ = xt._fit(session, data, req)
    res = xt._Build(cmd, data, req).results(fit, None)
    res.cmd = "areg"
    _scalars(res, fit, data)
    res.macros = {"cmd": "areg", "cmdline": cmd.text, "depvar": data.depvar, "absvar": req.ivar,
                  "title": "Linear regression, absorbing indicators", "vce": "ols",
                  "properties": "b V", "predict": "regres_p"}
    session.post_estimation(res)
    display_areg(session, res, req.level)


def _scalars(res, fit, data) -> None:
    N, df_r, k = fit.N, fit.df_r, fit.k
    r2 = 1 - fit.rss / fit.tss if fit.tss > 0 else math.nan
    F_a = fit.F_f
    res.scalars = {"N": float(N), "df_m": float(k), "df_r": float(df_r), "df_a": float(fit.df_a),
                   "k_absorb": float(fit.n_groups), "F": fit.F,
                   "p": float(dist.f_sf(fit.F, k, df_r)) if math.isfinite(fit.F) and k else math.nan,
                   "r2": r2, "r2_a": 1 - (1 - r2) * (N - 1) / df_r if df_r > 0 else math.nan,
                   "rss": fit.rss, "mss": fit.tss - fit.rss, "tss": fit.tss,
                   "rmse": math.sqrt(fit.rss / df_r) if df_r > 0 else math.nan,
                   "F_absorb": F_a,
                   "p_absorb": float(dist.f_sf(F_a, fit.df_a, df_r)) if math.isfinite(F_a) else math.nan,
                   "ll": xt._ll(fit.rss, N), "rank": float(res.scalars.get("rank", k + 1))}
