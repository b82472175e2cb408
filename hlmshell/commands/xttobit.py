"""xttobit (Stata 17): the random-effects tobit model, y*_it = x_it b + u_i + e_it with normal
u_i and e_it, censored at ll()/ul() as tobit's limits.

The panel likelihood integrates u_i out by mean-variance adaptive Gauss-Hermite quadrature
(intmethod(mvaghermite), the default; ghermite the non-adaptive rule) with intpoints(12),
engine.censored.PanelQuad; the fit starts from the pooled tobit. The table ends with
/sigma_u, /sigma_e and rho = sigma_u^2 / (sigma_u^2 + sigma_e^2); option `tobit` adds the LR
test of sigma_u = 0 against the pooled tobit (chibar2(01)). Only vce(oim), as in Stata.
predict: xb (the default), stdp, pr0(a,b), e0(a,b), ystar0(a,b) (u_i = 0).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import tobit as tb
from hlmshell.commands import xt_glmm as xm
from hlmshell.commands._panel import xt_settings
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample, _resolve_fixed_part, _split_spec, parse_vce
from hlmshell.commands.glm_cmds import _offset, offset_macros
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import censored as cz
from hlmshell.engine import design as dz
from hlmshell.engine.factorize import factorize
from hlmshell.errors import StataError
from hlmshell.output import censored_output as co
from hlmshell.output import xt_glmm_output as xo
from hlmshell.output.coeftable import coef_table, groups_from_names, rule
from hlmshell.output.labels import display_groups
from hlmshell.registry import Opt, command
from hlmshell.results import EstimationResults

TITLE = "Random-effects tobit regression"


def _exp(v: float) -> float:
    """exp without OverflowError: a diverging fit shows `.`, not a traceback."""
    return math.exp(v) if v < 709.0 else math.inf


def _prepare(session, cmd, spec, fixed_raw, opts):
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    ps = xt_settings(session, opts.raw("i") if "i" in opts else None, None)
    req = parse_vce(ds, opts, (("oim", 3), ("robust", 1), ("cluster", 2), ("bootstrap", 4),
                               ("jackknife", 4)))
    if req.kind and req.kind != "oim":
        raise StataError(f"vcetype '{req.kind}' not allowed", 198)
    extra = [v.strip() for v in (opts.raw("offset"),) if v]
    numeric = [depvar] + [v for v in fvars + extra + tb.limit_vars(ds, opts) + [ps.panelvar]
                          if v != depvar]
    mask = _mixed_sample(session, cmd, numeric, [])
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    y = np.asarray(column(depvar), dtype=float)
    kind, lim, lower, upper = tb.censoring(opts, column, y, ds)
    groups = factorize(np.asarray(column(ps.panelvar), dtype=float))[1]
    return (depvar, design, mask, factor_labels(ds, fixed), y, kind, lim, lower, upper,
            _offset(opts, column, n), groups, ps.panelvar)


def _method(opts) -> str:
    from hlmshell.registry import abbrev_lookup
    text = (opts.raw("intmethod") or "mvaghermite").strip().lower()
    full = abbrev_lookup(text, (("mvaghermite", 2), ("ghermite", 2)))
    if full is None:
        raise StataError(f"intmethod({text}) not allowed", 198)
    return full


def _run(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        _replay(session, cmd)
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = tb.bind("xttobit", list(spec.fixed_options)
                   + [o for o in cmd.options if o not in spec.fixed_options])
    method = _method(opts)
    for k in ("ll", "ul"):
        if k in opts and not (opts.raw(k) or "").strip():
            raise StataError("invalid syntax", 198)
    points = int(opts.intpoints)
    if not 1 <= points <= 195:
        raise StataError("intpoints() must be between 1 and 195", 198)
    (depvar, design, mask, vlabels, y, kind, lim, lower, upper, off, groups,
     ivar) = _prepare(session, cmd, spec, fixed_raw, opts)
    for note in design.notes:
        session.out.line(note)
    X = design.X_keep
    if len(y) <= X.shape[1] + 2:
        raise StataError("insufficient observations", 2001)
    log = not opts.nolog or opts.log
    try:
        with np.errstate(all="ignore"):
            pooled = cz.fit_tobit(y, X, lim, kind, off)
            if log:
                xm._log_lines(session, True, "Obtaining starting values for full model:",
                              pooled.log)
            quad = cz.PanelQuad(y, X, lim, kind, off, groups, points,
                                adaptive=method == "mvaghermite")
            p = X.shape[1]
            lns = pooled.x[p]
            x0 = np.r_[pooled.x[:p], lns - 0.5 * math.log(2.0), lns - 0.5 * math.log(2.0)]
            fit = cz.fit_xttobit(quad, x0, int(opts.iterate))
            if log:
                xm._log_lines(session, True, "Fitting full model:", fit.log)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(xm._ERR430, 430) from None
    if not fit.converged:
        session.out.line("convergence not achieved")
    res = _results(cmd, depvar, design, mask, fit, groups, ivar, kind, lower, upper, points,
                   method, pooled.ll if opts.tobit else None)
    if opts.lrmodel:
        _lr_model(res, quad, fit, X)
    offset_macros(res, opts)
    session.post_estimation(res)
    display(session, res, display_groups(design, baselevels=False, value_labels=vlabels),
            float(opts.level))


def _results(cmd, depvar, design, mask, fit, groups, ivar, kind, lower, upper, points,
             method, ll_c) -> EstimationResults:
    names = [(depvar, nm) for nm in design.stata_names]
    k = len(names)
    keep = np.flatnonzero(design.keep)
    p = len(keep)
    su, se = _exp(fit.x[p]), _exp(fit.x[p + 1])
    J = np.diag(np.r_[np.ones(p), su, se])            # ln sigma -> sigma
    Vt = J @ fit.V @ J
    b = np.zeros(k + 2)
    b[keep] = fit.x[:p]
    b[k], b[k + 1] = su, se
    V = np.zeros((k + 2, k + 2))
    idx = list(keep) + [k, k + 1]
    V[np.ix_(idx, idx)] = Vt
    res = EstimationResults(cmd="xttobit", names=names + [("/", "sigma_u"), ("/", "sigma_e")],
                            b=b, V=V, omitted=np.r_[design.omitted, False, False], k_f=k,
                            sample=mask.copy())
    slopes = [i for i in keep if names[i][1] != "_cons"]
    chi2, df = xm._wald(b, V, slopes)
    sc = xm._panel_scalars(groups)
    sc.update({"N_unc": float(np.sum(kind == cz.UNC)), "N_lc": float(np.sum(kind == cz.LEFT)),
               "N_rc": float(np.sum(kind == cz.RIGHT)), "df_m": float(df), "chi2": chi2,
               "p": float(dist.chi2_sf(chi2, df)) if df else math.nan, "ll": fit.ll,
               "sigma_u": su, "sigma_e": se, "rho": su * su / (su * su + se * se),
               "n_quad": float(points), "rank": float(len(idx)), "k": float(len(idx)),
               "converged": 1.0 if fit.converged else 0.0, "ic": float(fit.iterations)})
    if ll_c is not None:
        chibar = max(2.0 * (fit.ll - ll_c), 0.0)
        sc.update(ll_c=ll_c, chi2_c=chibar,
                  p_c=0.5 * float(dist.chi2_sf(chibar, 1)) if chibar > 0 else 1.0)
    for key, v in (("llopt", lower), ("ulopt", upper)):
        if isinstance(v, float):
            sc[key] = v
    res.scalars = sc
    res.macros = {"cmd": "xttobit", "cmdline": cmd.text, "depvar": depvar, "ivar": ivar,
                  "title": TITLE, "chi2type": "Wald", "vce": "oim", "distrib": "Gaussian",
                  "intmethod": method, "properties": "b V", "predict": "xttobit_p"}
    for key, v in (("llopt", lower), ("ulopt", upper)):
        if isinstance(v, str):
            res.macros[key] = v
    return res


def _lr_model(res: EstimationResults, quad, fit, X) -> None:
    """lrmodel: the LR test against the constant-only random-effects tobit."""
    cons = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
    if not cons:
        raise StataError("option lrmodel requires a constant term", 198)
    p = X.shape[1]
    q0 = cz.PanelQuad(quad.y, X[:, cons[:1]], quad.lim, quad.kind, quad.off, quad.g,
                      len(quad.xk), quad.adaptive)
    with np.errstate(all="ignore"):
        fit0 = cz.fit_xttobit(q0, np.r_[fit.x[cons[:1]], fit.x[p:]])
    chi2 = max(2.0 * (fit.ll - fit0.ll), 0.0)
    df = int(res.scalars["df_m"])
    res.scalars.update(ll_0=fit0.ll, chi2=chi2,
                       p=float(dist.chi2_sf(chi2, df)) if df else math.nan)
    res.macros["chi2type"] = "LR"


def _aux_lines(res, level: float) -> list[str]:
    k = res.k_f
    b = np.ravel(res.b)
    V = np.asarray(res.V)
    z = float(dist.norm_isf((1 - level / 100) / 2))
    out = [rule("mid")]
    for j, nm in ((k, "/sigma_u"), (k + 1, "/sigma_e")):
        s = b[j]
        se = math.sqrt(max(V[j, j], 0.0))
        w = z * se / s if s > 0 else math.inf
        out.append(xo.aux_row(nm, s, se, s * _exp(-w), s * _exp(w)))
    su, se_ = b[k], b[k + 1]
    rho = su * su / (su * su + se_ * se_)
    # rho through ln(sigma_u), ln(sigma_e): d rho / d ln su = 2 rho (1 - rho) = - d / d ln se
    g = np.array([2 * rho * (1 - rho) / su, -2 * rho * (1 - rho) / se_])
    Vs = V[np.ix_([k, k + 1], [k, k + 1])]
    sr = math.sqrt(max(float(g @ Vs @ g), 0.0))
    lo = hi = math.nan
    if 0 < rho < 1:                             # the interval on the logit scale
        lg = math.log(rho / (1 - rho))
        slg = sr / (rho * (1 - rho))
        lo, hi = (1 / (1 + _exp(-(lg + s * z * slg))) for s in (-1, 1))
    out += [rule("mid"), xo.aux_row("rho", rho, sr, lo, hi), rule()]
    sc = res.scalars
    if "chi2_c" in sc:
        out.append(xo.lr_line("sigma_u=0", sc["chi2_c"], sc["p_c"]))
    return out


def display(session, res: EstimationResults, groups, level: float) -> None:
    sc, mac = res.scalars, res.macros
    lower, upper = tb.limits_of(res)
    head = co.xttobit_header(
        title=TITLE, ivar=mac["ivar"], n=int(sc["N"]), n_g=int(sc["N_g"]),
        g=(sc["g_min"], sc["g_avg"], sc["g_max"]), n_unc=int(sc["N_unc"]),
        n_lc=int(sc["N_lc"]), n_rc=int(sc["N_rc"]), lower=lower, upper=upper,
        intmethod=mac["intmethod"], intpoints=int(sc["n_quad"]),
        test=f"{mac['chi2type']} chi2({int(sc['df_m'])})", chi2=sc["chi2"], p=sc["p"], ll=sc["ll"])
    for ln in head + [""]:
        session.out.line(ln)
    for ln in table_lines(res, groups, level, res.depvar):
        session.out.line(ln)


def table_lines(res: EstimationResults, groups, level: float, title: str) -> list[str]:
    """The fixed part, the offset row and the sigma_u/sigma_e/rho rows (xttobit, xtintreg)."""
    from hlmshell.output.glm_output import offset_rows
    k = res.k_f
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V))[:k], 0, None))
    lines = coef_table(title, groups, np.ravel(res.b)[:k], se, stat="z", level=level)
    return lines[:-1] + offset_rows(res.macros.get("offset")) + _aux_lines(res, level)


def _replay(session, cmd) -> None:
    res = session.e
    if res is None or res.cmd != "xttobit":
        raise StataError("last estimates not found", 301)
    opts = tb.bind("xttobit", cmd.options)
    display(session, res, groups_from_names([nm for _, nm in res.names[:res.k_f]]),
            float(opts.level))


def _options() -> tuple:
    return (Opt("re", desc="random-effects estimator; the default (and the only one)"),
            Opt("technique", "tech", "string", None, "accepted for compatibility"),
            Opt("difficult", desc="accepted for compatibility"),
            Opt("ll", desc="left-censoring limit: ll, ll(#) or ll(varname)"),
            Opt("ul", desc="right-censoring limit: ul, ul(#) or ul(varname)"),
            Opt("noconstant", "nocons", desc="suppress the constant term"),
            Opt("offset", "off", "string", None, "include varname with coefficient 1"),
            Opt("i", "i", "string", None, "panel variable (sets xtset's)"),
            Opt("vce", "vce", "string", None, "vcetype: oim"),
            Opt("robust", "r", desc="not allowed (Stata's xttobit takes oim only)"),
            Opt("cluster", "cl", "string", None, "not allowed (Stata's xttobit takes oim only)"),
            Opt("tobit", desc="LR test of sigma_u = 0 against the pooled tobit"),
            Opt("lrmodel", desc="LR test of the model against the constant-only model"),
            Opt("intpoints", "intp", "int", 12, "quadrature points; default 12"),
            Opt("intmethod", "intm", "string", None, "mvaghermite (the default) or ghermite"),
            Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
            Opt("nolog", desc="do not show the iteration log"),
            Opt("log", desc="show the iteration log; the default"),
            Opt("iterate", "iter", "int", 300, "maximum number of iterations"))


@command("xttobit", abbrev="xttobit", rule="mixed", family="Estimation", body="fvvarlist",
         qualifiers="if in", options=_options(), desc="random-effects tobit regression",
         example="xttobit y x1 x2, ll(0)")
def xttobit_cmd(session, cmd) -> None:
    _run(session, cmd)


def predict(session, cmd, res, opts) -> None:
    """predict after xttobit: xb (the default), stdp, with the random effect at zero
    pr0(a,b), e0(a,b), ystar0(a,b) (tobit's pr, e and ystar with sigma_e), and marginal with
    respect to it pr(a,b), e(a,b), ystar(a,b) (sd sqrt(sigma_u^2 + sigma_e^2))."""
    from hlmshell.commands.predict import _add, _new_names, _touse, stdp_all, xb_all
    from hlmshell.commands.xt_glmm_predict import offset_values
    own = ("xb", "stdp", "pr0", "e0", "ystar0", "pr", "e", "ystar")
    given = [w for w in own + ("mu", "n", "ir", "eta", "nu0", "iru0",
                               "pearson", "deviance", "anscombe", "reffects", "residuals",
                               "fitted", "marginal", "u", "ue", "xbu") if w in opts]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    if given and given[0] not in own:
        raise StataError(f"option {given[0]} not allowed", 198)
    stat = given[0] if given else "xb"
    if not given:
        session.out.line("(option xb assumed; linear prediction)")
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    touse = _touse(session, cmd)
    xb = xb_all(res, data) + offset_values(res, data)
    if stat == "stdp":
        col, lab = stdp_all(res, data), "S.E. of the linear prediction"
    elif stat == "xb":
        col, lab = xb, "Linear prediction"
    else:
        raw = opts.raw(stat)
        a, b = tb.interval(raw, data)
        # pr0/e0/ystar0 with u_i = 0 (sigma_e); pr/e/ystar marginal over u_i, y* ~ N(xb,
        # sigma_u^2 + sigma_e^2)
        sd = float(res.scalars["sigma_e"]) if stat.endswith("0") else \
            math.hypot(float(res.scalars["sigma_u"]), float(res.scalars["sigma_e"]))
        with np.errstate(all="ignore"):
            col = tb.censored_stat(stat.rstrip("0"), xb, sd, a, b)
        lab = {"pr": f"Pr({raw})", "e": f"E({res.depvar}|{raw})",
               "ystar": f"E({res.depvar}*|{raw})"}[stat.rstrip("0")]
    with np.errstate(all="ignore"):
        _add(session, names, [col], [lab], vtype, touse)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["xttobit"] = predict


_register_predict()
