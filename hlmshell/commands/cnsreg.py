"""cnsreg: constrained linear regression ([R] cnsreg), in Stata 17's layout.

`cnsreg depvar indepvars [if] [in] [fweight aweight], constraints(clist) [noconstant
vce(ols|robust|cluster v) level(#) nocnsreport]`. Restricted least squares over the null
space of the constraints (engine/constrained.py): b = T a + t, a from regressing y - X t on
X T; V = s^2 T ((XT)'(XT))^-1 T' with s^2 = RSS / (N - rank), rank = k - (constraints kept).
The header gives N, the F test that every coefficient but the constant is zero (its df the
rank of that hypothesis under the constraints), and Root MSE; the constraints are listed
above the table. Stores e(Cns), e(df_m), e(df_r), e(F), e(rmse), e(ll), e(rank)."""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import constraint as cn
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample, _resolve_fixed_part, _split_spec, parse_vce
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import constrained as ec
from hlmshell.engine import design as dz
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults

_VCE = (("ols", 3), ("robust", 1), ("cluster", 2))


@command("cnsreg", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in weight",
         desc="constrained linear regression",
         example="cnsreg mathach ses meanses female, constraints(1)",
         options=(Opt("constraints", "c", "string", None, "apply specified linear constraints (required)"),
                  Opt("noconstant", "nocons", desc="suppress the constant term"),
                  Opt("vce", "vce", "string", None, "vcetype: ols, robust or cluster clustvar"),
                  Opt("robust", "r", desc="old syntax of vce(robust)"),
                  Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("nocnsreport", "nocnsr", desc="do not display constraints")))
def cnsreg_cmd(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = session.e
        if res is None or res.cmd != "cnsreg":
            raise StataError("last estimates not found", 301)
        opts = bind_command("cnsreg", cmd.options)
        display_cnsreg(session, res, confidence_level(session, opts))
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("cnsreg", list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    if not (opts.raw("constraints") or "").strip():
        raise StataError("option constraints() required", 198)
    level = confidence_level(session, opts)
    res = _estimate(session, cmd, spec, fixed_raw, opts)
    res.nocnsreport = bool(opts.nocnsreport)
    session.post_estimation(res)
    display_cnsreg(session, res, level)


def _sample(session, cmd, spec, fixed_raw, opts):
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    vce = parse_vce(ds, opts, _VCE)
    numeric = [depvar] + [v for v in fvars if v != depvar]
    strg = []
    if vce.clustvar:
        (strg if ds.var(vce.clustvar).is_string else numeric).append(vce.clustvar)
    mask = _mixed_sample(session, cmd, numeric, strg)
    w = None
    if cmd.weight is not None:
        from hlmshell.commands._toolkit import weights
        wall = weights(session, cmd, mask, ("fweight", "aweight"))
        mask = mask & ~np.isnan(wall) & (wall != 0)
        w = wall[mask]
        if cmd.weight.kind == "aweight":
            w = w * len(w) / w.sum()
    if not mask.any():
        raise StataError("no observations", 2000)
    return depvar, fixed, vce, mask, w


def _estimate(session, cmd, spec, fixed_raw, opts) -> EstimationResults:
    depvar, fixed, vce, mask, w = _sample(session, cmd, spec, fixed_raw, opts)
    column = sample_columns(session.data, mask)
    n = int(mask.sum())
    if n < 2:
        raise StataError("insufficient observations", 2001)
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    names = [(depvar, nm) for nm in design.stata_names]
    applied = cn.prepare(session, opts.raw("constraints"), names, design.omitted)
    X = design.X_keep
    y = np.asarray(column(depvar), dtype=float)
    fit = ec.restricted_ls(X, y, applied.basis, w)
    if fit.df_r <= 0:
        raise StataError("insufficient observations", 2001)
    V = fit.V
    n_clust = None
    if vce.robust:
        V, n_clust = _robust(X, y, fit, applied.basis, w, column(vce.clustvar) if vce.clustvar else None)
    res = _results(cmd, depvar, design, mask, fit, V, applied, n if w is None else float(w.sum()))
    res.value_labels = factor_labels(session.data, fixed)
    res.design = design
    if vce.robust:
        res.macros["vcetype"] = "Robust"
        res.macros["vce"] = vce.kind
        if vce.clustvar:          # inference on G - 1 degrees of freedom, as regress's
            res.macros["clustvar"] = vce.clustvar
            res.scalars["N_clust"] = float(n_clust)
            _cluster_df(res, n_clust - 1)
    if cmd.weight is not None:
        res.macros["wtype"] = cmd.weight.kind
        res.macros["wexp"] = f"= {cmd.weight.exp}"
    return res


def _cluster_df(res: EstimationResults, df_r: int) -> None:
    res.scalars["df_r"] = float(df_r)
    df, F = res.scalars["df_m"], res.scalars["F"]
    res.scalars["p"] = float(dist.f_sf(F, df, df_r)) if df else float("nan")


def _robust(X, y, fit, B: ec.Basis, w, clusters):
    """Huber-White over the free parameters, Stata's regress factors with k the rank."""
    k_all = len(fit.b)
    Z = X @ B.T
    ww = np.ones(len(y)) if w is None else w
    e = y - X @ fit.b
    G = np.linalg.inv((Z.T * ww) @ Z)
    S = (ww * e)[:, None] * Z
    n = float(ww.sum()) if w is not None else float(len(y))
    if clusters is None:
        meat, q, nc = S.T @ S, n / (n - fit.rank), None
    else:
        _, codes = np.unique(np.asarray(clusters), return_inverse=True)
        nc = int(codes.max()) + 1
        Sg = np.zeros((nc, S.shape[1]))
        np.add.at(Sg, codes.ravel(), S)
        meat, q = Sg.T @ Sg, nc / (nc - 1) * (n - 1) / (n - fit.rank)
    Va = q * G @ meat @ G
    V = B.T @ Va @ B.T.T if k_all else Va
    return V, nc


def _results(cmd, depvar, design, mask, fit, V, applied, n_obs) -> EstimationResults:
    names = [(depvar, nm) for nm in design.stata_names]
    k = len(names)
    keep = np.flatnonzero(design.keep)
    b = np.zeros(k)
    b[keep] = fit.b
    Vf = np.zeros((k, k))
    Vf[np.ix_(keep, keep)] = V
    res = EstimationResults(cmd="cnsreg", names=names, b=b, V=Vf, omitted=design.omitted.copy(),
                            k_f=k, sample=mask.copy())
    cn.post(res, applied)
    rmse = math.sqrt(fit.rss / fit.df_r)
    res.scalars = {"N": float(n_obs), "df_r": float(fit.df_r), "rmse": rmse,
                   "ll": -0.5 * n_obs * (math.log(2 * math.pi) + math.log(fit.rss / n_obs) + 1),
                   "rank": float(fit.rank)}
    chi2, df, _ = cn.model_wald(res)
    F = chi2 / df if df else float("nan")
    res.scalars.update({"df_m": float(df), "F": F,
                        "p": float(dist.f_sf(F, df, fit.df_r)) if df else float("nan")})
    res.macros = {"cmd": "cnsreg", "cmdline": cmd.text, "depvar": depvar,
                  "title": "Constrained linear regression", "properties": "b V",
                  "predict": "regres_p", "marginsok": "XB default", "vce": "ols"}
    return res


def header_lines(res: EstimationResults) -> list[str]:
    sc = res.scalars

    def right(label: str, value: str) -> str:
        return f"{label:<18}={value:>11}"

    num = lambda x, f: "." if not np.isfinite(x) else fmt(x, f).strip()     # noqa: E731
    pad = " " * 48
    return [res.macros["title"].ljust(48) + right("Number of obs", fmt_count(int(sc["N"]))),
            pad + right(f"F({int(sc['df_m'])}, {int(sc['df_r'])})", num(sc["F"], "%10.2f")),
            pad + right("Prob > F", num(sc["p"], "%10.4f")),
            pad + right("Root MSE", fmt_g(sc["rmse"], 10, 5))]


def display_cnsreg(session, res: EstimationResults, level: float) -> None:
    out = session.out
    out.line("")
    for line in header_lines(res):
        out.line(line)
    out.line("")
    for line in cn.report_lines(res):
        out.line(line)
    if res.scalars.get("N_clust"):
        out.line(ct.cluster_note(int(res.scalars["N_clust"]), res.macros["clustvar"]))
    groups = display_groups(res.design, baselevels=False, value_labels=getattr(res, "value_labels", {}))
    groups = cn.mark_groups(groups, res)
    for line in ct.coef_table(res.depvar, groups, res.b, res.se, stat="t", df_r=res.scalars["df_r"],
                              level=level, vcetype=res.macros.get("vcetype") or None):
        out.line(line)
