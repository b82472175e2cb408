"""xtrc (Stata 17's [XT] xtrc): Swamy's random-coefficients regression, the GLS mean of the
panels' own OLS coefficients (hlmshell/engine/swamy.py), with the test of parameter constancy
under the table and, with `betas` (at the fit or on replay), each panel's best linear predictor
of its coefficients. Stored: e(Sigma), e(chi2_c), e(df_chi2c), e(beta_ps) (one row per panel)
and e(V_ps) (the panels' variances side by side)."""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._panel import xt_settings
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._xt_linear import model_or_replay, panel_sample
from hlmshell.commands.estimation import _fixed_groups
from hlmshell.commands.model_terms import factor_labels
from hlmshell.commands.program import NamedMatrix
from hlmshell.engine import swamy
from hlmshell.errors import StataError
from hlmshell.output.coeftable import coef_table, equation_table, groups_from_names
from hlmshell.output.numfmt import fmt, fmt_count
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results.regress import RegressResults


@command("xtrc", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="random-coefficients regression (Swamy)",
         example="xtrc invest mvalue kstock, betas",
         options=(Opt("betas", "beta", desc="display group-specific best linear predictors"),
                  Opt("i", "i", "name", desc="panel variable (old syntax; sets xtset)"),
                  Opt("noconstant", "nocons", desc="suppress the constant term"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def xtrc_cmd(session, cmd) -> None:
    def replay(session, res, level):             # `xtrc, betas` shows them after any fit
        betas = bool(bind_command("xtrc", cmd.options).betas)
        display_xtrc(session, res, level, betas)
    parsed = model_or_replay(session, cmd, "xtrc", replay)
    if parsed is None:
        return
    spec, fixed_raw, opts = parsed
    ps = xt_settings(session, i=opts.raw("i"))
    ds = session.data
    depvar, fixed, mask, column, design, codes = panel_sample(session, cmd, spec, fixed_raw,
                                                              bool(opts.noconstant), ps, False)
    X = design.X_keep
    if codes.max() < 1:
        raise StataError("insufficient observations", 2001)
    try:
        fit = swamy.fit(column(depvar), X, codes)
    except swamy.SwamyError:
        raise StataError("insufficient observations", 2001) from None
    except np.linalg.LinAlgError:
        raise StataError("matrix not positive definite", 506) from None
    res = _results(cmd, ds, design, fixed, depvar, fit, codes, mask, ps)
    session.post_estimation(res)
    display_xtrc(session, res, confidence_level(session, opts), bool(opts.betas))


def _results(cmd, ds, design, fixed, depvar, fit, codes, mask, ps):
    kf = len(design.columns)
    kidx = np.flatnonzero(design.keep)
    b, V = fit.b, fit.V
    bf, Vf = np.zeros(kf), np.zeros((kf, kf))
    bf[kidx] = b
    Vf[np.ix_(kidx, kidx)] = V
    test = [i for i, j in enumerate(kidx) if design.columns[j].name != "_cons"]
    chi2 = float(b[test] @ np.linalg.solve(V[np.ix_(test, test)], b[test])) if test else math.nan
    T = np.bincount(codes)
    sc = {"N": float(len(codes)), "N_g": float(len(T)), "df_m": float(len(test)), "chi2": chi2,
          "p": float(dist.chi2_sf(chi2, len(test))) if test else math.nan,
          "chi2_c": fit.chi2_c, "df_chi2c": float(fit.df_c), "p_c": float(dist.chi2_sf(fit.chi2_c, fit.df_c)),
          "g_min": float(T.min()), "g_avg": float(T.mean()), "g_max": float(T.max()),
          "rank": float(len(b))}
    m = {"cmd": "xtrc", "cmdline": cmd.text, "depvar": depvar, "ivar": ps.panelvar,
         "title": "Random-coefficients regression", "chi2type": "Wald", "properties": "b V",
         "predict": "xtrc_p"}
    names = [design.stata_names[j] for j in kidx]
    mats = {"Sigma": NamedMatrix(fit.Sigma, names, names)}
    groups = [f"Group{g + 1}" for g in range(len(T))]      # stored with or without betas
    mats["beta_ps"] = NamedMatrix(fit.betas, groups, names)
    mats["V_ps"] = NamedMatrix(np.hstack(fit.V_betas), names,
                               [f"{g}:{nm}" for g in groups for nm in names])
    res = RegressResults(cmd="xtrc", names=[(depvar, nm) for nm in design.stata_names], b=bf, V=Vf,
                         omitted=design.omitted, k_f=kf, scalars=sc, macros=m, matrices=mats,
                         sample=mask.copy(), model=None, design=design,
                         value_labels=factor_labels(ds, fixed))
    res.kept_names = names
    return res


def display_xtrc(session, res, level: float, betas: bool = False) -> None:
    sc, m = res.scalars, res.macros
    out = session.out

    def right(label, v):
        return f"{label:<18}= {v:>10}"
    pad = " " * 48
    out.line("")
    out.line(f"{'Random-coefficients regression':<48}{right('Number of obs', fmt_count(int(sc['N'])))}")
    out.line(f"{'Group variable: ' + m['ivar']:<48}{right('Number of groups', fmt_count(int(sc['N_g'])))}")
    out.line("")
    out.line(pad + "Obs per group:")
    out.line(pad + f"{'min':>17} = {fmt_count(int(sc['g_min'])):>10}")
    out.line(pad + f"{'avg':>17} = {fmt(sc['g_avg'], '%10.1f').strip():>10}")
    out.line(pad + f"{'max':>17} = {fmt_count(int(sc['g_max'])):>10}")
    out.line("")
    chi2 = fmt(sc["chi2"], "%10.2f").strip() if math.isfinite(sc["chi2"]) else "."
    p = fmt(sc["p"], "%10.4f").strip() if math.isfinite(sc["p"]) else "."
    out.line(pad + right(f"Wald chi2({int(sc['df_m'])})", chi2))
    out.line(pad + right("Prob > chi2", p))
    out.line("")
    for ln in coef_table(res.depvar, _fixed_groups(res, False), res.b, res.se, stat="z", df_r=None,
                         level=level):
        out.line(ln)
    out.line(f"Test of parameter constancy:    chi2({int(sc['df_chi2c'])}) = "
             f"{fmt(sc['chi2_c'], '%8.2f')}      Prob > chi2 = {fmt(sc['p_c'], '%6.4f')}")
    if betas and "beta_ps" in res.matrices:
        _betas_lines(out, res, level)


def _betas_lines(out, res, level: float) -> None:
    B = np.asarray(res.matrices["beta_ps"].values, dtype=float)
    Vps = np.asarray(res.matrices["V_ps"].values, dtype=float)
    m, k = B.shape
    names = res.kept_names
    b = B.ravel()
    se = np.concatenate([np.sqrt(np.clip(np.diag(Vps[:, g * k:(g + 1) * k]), 0, None)) for g in range(m)])
    sections = []
    for g in range(m):
        groups = groups_from_names(names)
        for grp in groups:
            for row in grp.rows:
                row.index += g * k
        sections.append((f"Group {g + 1}", groups))
    out.line("")
    out.line(f"{'Group-specific coefficients':^78}".rstrip())
    for ln in equation_table("", sections, b, se, stat="z", level=level):
        out.line(ln)
