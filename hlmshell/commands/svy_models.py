"""svy: regress, logit, logistic, probit, poisson: the pweighted fit of the command itself on
the subpopulation, and the linearized VCE D^-1 G D^-1 from its scores (engine.survey): for
regress D = X'WX and the scores w x e, for the likelihood models D the observed information
and the scores of the pseudolikelihood. The model test is Stata's adjusted Wald F on (k, d - k
+ 1) degrees of freedom (noadjust: the unadjusted W / k on (k, d))."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import svy_design as se_
from hlmshell.commands._toolkit import sample_columns
from hlmshell.engine import survey
from hlmshell.errors import StataError
from hlmshell.output import svy_output as so
from hlmshell.output.coeftable import coef_table
from hlmshell.output.labels import display_groups


def run(session, ctx: se_.SvyRun, name: str) -> None:
    from hlmshell.syntax.parser import parse_command

    cmd = parse_command(ctx.inner)
    if cmd.weight is not None:
        raise StataError("weights can only be supplied to svyset", 198)
    given = list(cmd.options) + list(getattr(cmd.args, "fixed_options", None) or [])
    if any(o.name == "vce" or o.name.startswith(("cl", "rob")) or o.name == "r" for o in given):
        raise StataError(f"option vce() of {name} is not allowed with the svy prefix", 198)
    if name == "regress":
        res, design, vlabels, eform = _regress(session, ctx, cmd)
    else:
        res, design, vlabels, eform = _glm(session, ctx, cmd, name)
    res.svy_display = (design, vlabels, eform)
    level = _inner_level(given, ctx)
    session.post_estimation(res)
    se_.running_line(session, name)
    for note in getattr(design, "notes", None) or []:
        session.out.line(note)
    display(session, ctx.opts, level, res)


def _inner_level(given, ctx) -> float:
    """level() typed after the command (svy: regress y x, level(90)) wins over svy's."""
    from hlmshell.registry import abbrev_match
    for o in given:
        if abbrev_match(o.name, "level", 1) and o.arg:
            try:
                lev = float(o.arg)
            except ValueError:
                raise StataError("level() must be between 10 and 99.99 inclusive", 198) from None
            if not 10 <= lev <= 99.99:
                raise StataError("level() must be between 10 and 99.99 inclusive", 198)
            return lev
    return ctx.level


def _finish(res, ctx, fr, name, title, test_idx) -> None:
    """The svy scalars and macros on e(), and the model test."""
    sc = fr.scalars()
    res.scalars.update(sc)
    for key in ("chi2", "p", "ll_0", "r2_p", "N_clust", "r2_a", "mss", "rss", "ll", "rmse"):
        res.scalars.pop(key, None)
    d = sc["df_r"]
    bb = res.b[test_idx]
    Vt = res.V[np.ix_(test_idx, test_idx)]
    res.scalars["df_m"] = float(len(test_idx))
    if test_idx and np.all(np.isfinite(Vt)):
        t = survey.adjusted_wald(bb, Vt, d)
        if ctx.opts.noadjust:
            t.F, t.df2 = t.F * d / t.df2 if t.df2 else np.nan, d
            from hlmshell import distributions as dist
            t.p = float(dist.f_sf(t.F, t.df1, t.df2)) if np.isfinite(t.F) else np.nan
        res.scalars.update({"F": t.F, "p": t.p, "df_m_test": float(t.df1), "df_r_test": float(t.df2)})
    elif test_idx:
        res.scalars.update({"F": np.nan, "p": np.nan})
    res.macros.update(se_.common_macros(ctx, name, fr))
    res.macros.update({"cmd": name, "title": title})
    res.macros.pop("chi2type", None)
    res.macros.pop("clustvar", None)
    res.sample = fr.sample.copy()


# ---- regress ------------------------------------------------------------------------------------
def _regress(session, ctx, cmd):
    from hlmshell.commands.estimation import _resolve_fixed_part, _split_spec
    from hlmshell.commands.model_terms import engine_terms, factor_labels
    from hlmshell.engine import design as dz
    from hlmshell.engine import weighted_ols as wls
    from hlmshell.registry import bind_command
    from hlmshell.results.regress import from_fit
    from hlmshell.syntax.evaluate import marksample

    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        raise StataError("varlist required", 100)
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("regress", list(spec.fixed_options) + [o for o in cmd.options
                                                              if o not in spec.fixed_options])
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    sample = marksample(session, cmd, [depvar] + fvars) & se_.design_sample(session, ctx.settings)
    fr = ctx.frame(session, sample)
    fit_mask = fr.sample.copy()
    fit_mask[fr.sample] = fr.sub & (fr.w > 0)
    column = sample_columns(ds, fit_mask)
    n = int(fit_mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    X = design.X_keep
    y = np.asarray(column(depvar), dtype=float)
    w = fr.w[fr.sub & (fr.w > 0)]
    if n <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    reg = wls.regress(y, X, w, "pweight", constant=design.constant)
    labels = factor_labels(ds, fixed)
    res = from_fit(cmd.text, depvar, design, fit_mask, reg, labels)
    kidx = np.flatnonzero(design.keep)
    beta = res.b[kidx]
    try:
        bread = np.linalg.inv(X.T @ (w[:, None] * X))
    except np.linalg.LinAlgError:
        raise StataError("matrix not positive definite", 506) from None
    scores = np.zeros((len(fr.sub), X.shape[1]))
    scores[fr.sub & (fr.w > 0)] = (w * (y - X @ beta))[:, None] * X
    Vk = survey.sandwich(fr.design, bread, scores)
    res.V = np.zeros_like(res.V)
    res.V[np.ix_(kidx, kidx)] = Vk
    res.matrices.update(_v_srs(fr, bread, scores, kidx, len(res.b)))
    test = [int(j) for j in kidx if res.names[j][1] != "_cons"]
    _finish(res, ctx, fr, "regress", "Linear regression", test)
    return res, design, labels, False


def _v_srs(fr, bread, scores, kidx, k) -> dict:
    """e(V_srs) and e(V_srswr): the variances had the sample been a simple random sample of
    the same size (without / with replacement), for estat effects' DEFF and DEFT."""
    Gwor, Gwr = survey.srs_score_variance(scores, fr.w, fpc=bool(fr.design.fraction.any()))
    out = {}
    for key, G in (("V_srs", Gwor), ("V_srswr", Gwr)):
        m = np.zeros((k, k))
        m[np.ix_(kidx, kidx)] = bread @ G @ bread.T
        out[key] = m
    return out


# ---- logit, logistic, probit, poisson -----------------------------------------------------------
def _glm(session, ctx, cmd, name):
    from hlmshell.commands import glm_cmds as gc
    from hlmshell.commands.estimation import VceRequest
    from hlmshell.engine import glmm_families as gf

    base = se_.design_sample(session, ctx.settings)
    opts, depvar, _, _, sample, _, _ = gc._prepare(session, cmd, name, keep=base)
    fr = ctx.frame(session, sample)
    fit_keep = fr.sample.copy()
    fit_keep[fr.sample] = fr.sub & (fr.w > 0)
    fam_name, link, title = gc.SPECS[name]
    fam = gf.family(fam_name, link)
    opts, depvar, design, column, mask, _, vlabels = gc._prepare(session, cmd, name, keep=fit_keep)
    if "constraints" in opts and opts.raw("constraints"):   # not fitted under the design here
        raise StataError("option constraints() not allowed", 198)
    y = gc._outcome(fam_name, np.asarray(column(depvar), dtype=float))
    if fam_name == "binomial":
        from hlmshell.commands import binary_perfect as bp
        rows = bp.perfect_rows(design, y, session.out)
        if not rows.all():
            kept = bp.sample_after(mask, rows)
            fr = ctx.frame(session, fr.sample & ~(mask & ~kept))
            opts, depvar, design, column, mask, _, vlabels = gc._prepare(session, cmd, name, keep=kept)
            y = gc._outcome(fam_name, np.asarray(column(depvar), dtype=float))
    w = session.data.var(ctx.settings["wvar"]).values[mask].astype(float) if ctx.settings.get("wvar") \
        else np.ones(int(mask.sum()))
    off = gc._offset(opts, column, int(mask.sum()))
    X = design.X_keep
    if int(mask.sum()) <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    ll0, beta, ll, bread, sc_fit = gc._fit(y, X, off, fam, w, [])
    scores = np.zeros((len(fr.sub), X.shape[1]))
    scores[mask[fr.sample]] = sc_fit
    V = survey.sandwich(fr.design, bread, scores)
    res = gc._results(cmd, name, depvar, design, mask, beta, V, ll, ll0, VceRequest("robust"), None, title,
                      fam_name)
    kidx = np.flatnonzero(design.keep)
    res.matrices.update(_v_srs(fr, bread, scores, kidx, len(res.b)))
    gc.offset_macros(res, opts)
    test = [int(j) for j in kidx if res.names[j][1] != "_cons"]
    _finish(res, ctx, fr, name, title, test)
    eform = (name == "logistic" and not opts.coef) or getattr(opts, "or", False) or \
        (name == "poisson" and opts.irr)
    return res, design, vlabels, eform


# ---- display ------------------------------------------------------------------------------------
def _groups(res, design, vlabels):
    if design is not None:
        return display_groups(design, baselevels=False, value_labels=vlabels)
    from hlmshell.output.coeftable import groups_from_names
    return groups_from_names([nm for _, nm in res.names], baselevels=False, value_labels=vlabels)


def display(session, opts, level, res) -> None:
    """The header and coefficient table of svy model results (also their replay)."""
    design, vlabels, eform = getattr(res, "svy_display", (getattr(res, "design", None), {}, False))
    name = res.macros.get("cmd", res.cmd)
    out = session.out
    sc = res.scalars
    if not opts.noheader:
        for ln in so.header_lines(res.macros["title"], sc, so.model_rows(sc, name == "regress"),
                                  model_width=True):
            out.line(ln)
    if opts.notable:
        return
    out.line("")
    groups = _groups(res, design, vlabels)
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    se = np.where(np.isfinite(np.diag(res.V)), se, np.nan)
    eform = eform or opts.eform or getattr(opts, "or", False) or opts.irr
    if eform:
        first = {"logit": "Odds ratio", "logistic": "Odds ratio", "poisson": "IRR"}.get(name, "exp(b)")
        if opts.irr:
            first = "IRR"
        lines = so.eform_table(res.macros["depvar"], groups, res.b, se, title=first, level=level,
                               df=sc["df_r"])
    else:
        lines = coef_table(res.macros["depvar"], groups, res.b, se, stat="t", df_r=sc["df_r"],
                           level=level, vcetype="Linearized", dots=bool(np.isnan(se).any()))
    for ln in lines:
        out.line(ln)
    if eform and any(nm == "_cons" for _, nm in res.names):
        what = "baseline odds" if name in ("logit", "logistic") else "baseline incidence rate"
        out.line(f"Note: _cons estimates {what}.")
    if not np.all(np.isfinite(res.V)) and sc.get("singleton"):
        out.line(so.singleton_note())
