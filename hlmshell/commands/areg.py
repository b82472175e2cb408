"""areg: linear regression absorbing one categorical factor (Stata's `areg y x, absorb(id)`).

Panel and multilevel do-files compare it with `xtreg, fe` and `mixed`: the slopes and their
standard errors are the within estimator's (the same numbers as xtreg, fe, computed by the
same engine, engine.panel.fit_within), but areg reports the fit of the dummy-variable
regression: R-squared and adjusted R-squared with the absorbed indicators, the model F test of
the slopes, and the F test of the absorbed indicators under the table. Stata 17's layout.
vce(robust) and vce(cluster) give the standard errors of regress with the indicators
(the small-sample factor counts the absorbed means, unlike xtreg, fe; the clusters need not
nest the groups); the F test of the absorbed indicators is then not shown.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import xtreg as xt
from hlmshell.commands._toolkit import weights
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
    robust = res.macros.get("vce") != "ols"
    out.line("")
    if "N_clust" in res.scalars:
        out.line(xt.xo.cluster_line(int(res.scalars["N_clust"]), res.macros["clustvar"]))
    groups = xt._groups(res, False)
    kf = res.k_f
    for ln in coef_table(res.depvar, groups, res.b[:kf], res.se[:kf], stat="t",
                         df_r=res.scalars["df_r"], level=level,
                         vcetype="Robust" if robust else None):
        out.line(ln)
    if not robust:
        out.line(_footer(res))


def _vce(session, opts, req: xt.XtregRequest) -> None:
    """vce(ols|robust|cluster clustvar), robust, cluster(): robust and cluster count the
    absorbed means in the small-sample factor and need no nesting (see the module doc)."""
    words = (opts.raw("vce") or "").split()
    if words and words[0].lower() == "ols":
        if len(words) != 1:
            raise StataError("option vce() incorrectly specified", 198)
        if opts.robust or "cluster" in opts:
            raise StataError("only one of vce(), robust, or cluster() may be specified", 198)
        return
    kind, clustvar = xt._vce(session, opts, "fe")
    req.vce, req.clustvar, req.nonest, req.dfadj = kind, clustvar, True, True


def _request(session, opts) -> xt.XtregRequest:
    text = opts.raw("absorb")
    if not text:
        raise StataError("option absorb() required", 198)
    names = expand_varlist(session.data, text)
    if len(names) != 1:
        raise StataError("absorb() takes one variable", 103)
    req = xt.XtregRequest("fe", confidence_level(session, opts))
    req.ivar = names[0]
    _vce(session, opts, req)
    return req


@command("areg", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in weight",
         desc="linear regression with a large dummy-variable set absorbed",
         example="areg mathach ses, absorb(id)",
         options=(Opt("absorb", "a", "string", None, "the categorical variable to absorb"),
                  Opt("vce", "vce", "string", None, "ols, robust or cluster clustvar"),
                  Opt("robust", "r", desc="synonym for vce(robust)"),
                  Opt("cluster", "cl", "name", None, "synonym for vce(cluster clustvar)"),
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
    if cmd.weight is not None and cmd.weight.kind not in _WEIGHTS:
        raise StataError(f"{cmd.weight.kind}s not allowed", 101)
    data = xt._prepare(session, cmd, spec, req)
    w = weights(session, cmd, data.mask, allowed=_WEIGHTS)
    if w is not None:
        fit = _weighted_fit(session, cmd, data, req, w[data.mask])
    else:
        if req.vce == "robust":                   # every observation its own cluster
            data.clusters = np.arange(int(data.mask.sum()), dtype=np.int64)
        fit, _ = xt._fit(session, data, req)
    res = xt._Build(cmd, data, req).results(fit, None)
    res.cmd = "areg"
    _scalars(res, fit, data)
    res.macros = {"cmd": "areg", "cmdline": cmd.text, "depvar": data.depvar, "absvar": req.ivar,
                  "title": "Linear regression, absorbing indicators", "vce": "ols",
                  "properties": "b V", "predict": "regres_p"}
    _robust_results(res, fit, req)
    if w is not None:
        res.macros.update(wtype=cmd.weight.kind, wexp=f"= {cmd.weight.exp}")
    session.post_estimation(res)
    display_areg(session, res, req.level)


_WEIGHTS = ("aweight", "fweight", "pweight")


def _weighted_fit(session, cmd, data, req, w):
    """areg with weights (engine.weighted_within): pweights take the robust VCE; aweights
    print regress's `(sum of wgt is ...)` line first."""
    from hlmshell.engine import panel as pn
    from hlmshell.engine import weighted_within as ww
    kind = cmd.weight.kind
    if kind == "pweight" and req.vce == "conventional":
        req.vce = "robust"
    X = data.design.X_keep
    try:
        fit = ww.fit(data.y, X, X.shape[1] - 1, pn.panels(data.codes), w, kind,
                     clusters=data.clusters, robust=req.vce == "robust")
    except ArithmeticError:
        raise StataError("insufficient observations", 2001) from None
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("matrix not positive definite", 506) from None
    if kind == "aweight":
        session.out.line(f"(sum of wgt is {fmt(float(w.sum()), '%12.0gc').strip()})")
    return fit


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


def _robust_results(res, fit, req) -> None:
    """e() of vce(robust|cluster): t tests on N - k - G (robust) or clusters - 1 (cluster)."""
    if req.vce == "conventional":
        return
    sc, m = res.scalars, res.macros
    m.update({"vce": req.vce, "vcetype": "Robust"})
    if req.vce == "cluster":
        m["clustvar"] = req.clustvar
        sc["N_clust"] = float(fit.n_clusters)
        sc["df_r"] = float(fit.n_clusters - 1)
    k = int(sc["df_m"])
    sc["p"] = (float(dist.f_sf(sc["F"], k, sc["df_r"])) if math.isfinite(sc["F"]) and k
               else math.nan)
    sc.pop("F_absorb", None)
    sc.pop("p_absorb", None)
