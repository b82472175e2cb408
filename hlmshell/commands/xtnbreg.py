"""xtnbreg (Stata 17): the panel negative binomial models, `re` (the default), `fe` and `pa`.

re: Hausman, Hall and Griliches' random-effects overdispersion model, a Beta-distributed
panel dispersion integrated out in closed form (engine.negbin_panel), reported with /ln_r
and /ln_s and r, s below the table; the LR test compares it with the pooled negative
binomial of constant dispersion (nbreg, dispersion(constant)), which is also its start.
fe: HHG's conditional likelihood (a constant and time-invariant covariates stay in it);
panels of all zero outcomes or a single observation drop with Stata's note.
pa: xtgee with family(nbinomial) link(log), corr(exchangeable) by default.
Only vce(oim) for re and fe, as in Stata (bootstrap and jackknife are not here yet).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import xt_glmm as xm
from hlmshell.commands import xtgee as xg
from hlmshell.commands._panel import xt_settings
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import (
    _mixed_sample,
    _resolve_fixed_part,
    _split_spec,
    parse_vce,
)
from hlmshell.commands.glm_cmds import _offset, offset_macros
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.commands.xt_glmm_predict import chosen_stat, offset_values
from hlmshell.engine import design as dz
from hlmshell.engine import negbin_panel as nbp
from hlmshell.engine.factorize import factorize
from hlmshell.errors import StataError
from hlmshell.output import xt_glmm_output as xo
from hlmshell.output.coeftable import coef_table, groups_from_names, rule
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults

TITLES = {"re": "Random-effects negative binomial regression",
          "fe": "Conditional FE negative binomial regression"}
_ERR430 = xm._ERR430


def _exp(v: float) -> float:
    """exp without OverflowError: a diverging fit shows `.`, not a traceback."""
    return math.exp(v) if v < 709.0 else math.inf


def _model(opts) -> str:
    chosen = [m for m in ("re", "fe", "pa") if getattr(opts, m, False)]
    if len(chosen) > 1:
        raise StataError("choose only one of re, fe, or pa", 198)
    model = chosen[0] if chosen else "re"
    if model != "pa":
        for o in ("corr", "family", "link", "scale", "nmp", "rgf", "robust", "force"):
            if o in opts:
                raise StataError(f"option {o}() not allowed" if o in ("corr", "scale")
                                 else f"option {o} not allowed", 198)
    if model == "fe" and opts.noconstant:
        raise StataError("option noconstant not allowed", 198)
    if "offset" in opts and "exposure" in opts:
        raise StataError("only one of offset() or exposure() can be specified", 198)
    return model


def _check_vce(session, opts) -> None:
    req = parse_vce(session.data, opts, (("oim", 3), ("robust", 1), ("cluster", 2),
                                         ("bootstrap", 4), ("jackknife", 4)))
    if req.kind and req.kind != "oim":
        raise StataError(f"vcetype '{req.kind}' not allowed", 198)


def _prepare(session, cmd, spec, fixed_raw, opts, model) -> xm.XtData:
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    ps = xt_settings(session, opts.raw("i") if "i" in opts else None, None)
    _check_vce(session, opts)
    extra = [v.strip() for v in (opts.raw("offset"), opts.raw("exposure")) if v]
    numeric = [depvar] + [v for v in fvars + extra + [ps.panelvar] if v != depvar]
    mask = _mixed_sample(session, cmd, numeric, [])
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    y = np.asarray(column(depvar), dtype=float)
    if np.any(y < 0):
        raise StataError(f"{depvar} must be greater than or equal to zero", 459)
    groups = factorize(np.asarray(column(ps.panelvar), dtype=float))[1]
    return xm.XtData(depvar, design, y, _offset(opts, column, n), groups, mask, ps.panelvar,
                  factor_labels(ds, fixed))


def _fe_sample(session, data: xm.XtData) -> xm.XtData:
    """Drop panels of all zero outcomes and single-observation panels (their conditional
    likelihood is 1 whatever b is), with Stata's notes."""
    G = int(data.groups.max()) + 1
    Y = np.bincount(data.groups, weights=data.y, minlength=G)
    n_i = np.bincount(data.groups, minlength=G)
    single = n_i < 2
    zero = (Y == 0) & ~single
    keep = ~(single | zero)[data.groups]
    if single.any():
        k = int(single.sum())
        session.out.line(f"note: {k:,} group{'s' if k != 1 else ''} "
                         f"({int(n_i[single].sum()):,} obs) dropped because of only one obs per group")
    if zero.any():
        for ln in xo.dropped_note(int(zero.sum()), int(n_i[zero].sum()), "poisson"):
            session.out.line(ln)
    if keep.all():
        return data
    if not keep.any():
        raise StataError("no observations", 2000)
    rows = np.flatnonzero(data.mask)
    mask = data.mask.copy()
    mask[rows[~keep]] = False
    return xm.XtData(data.depvar, xm._rows(data.design, keep), data.y[keep], data.off[keep],
                  factorize(data.groups[keep])[1], mask, data.ivar, data.value_labels)


def _pooled_nb1(y, X, off):
    """The pooled negative binomial of constant dispersion (nbreg, dispersion(constant)) from
    the pooled Poisson fit: (b, ln delta), ll and its iteration log."""
    from hlmshell.engine import glmm
    from hlmshell.engine import glmm_families as gf
    n = len(y)
    gd = glmm.GlmmData.build(y, X, np.zeros((n, 0)), np.zeros(n, dtype=np.int64), offset=off)
    b0, _, _ = xm._comparison(gd, gf.family("poisson", "log"), y, off, X)
    fit = nbp.fit_nb1(y, X, off, b0)
    return fit.x, fit.ll, fit.log


def _log(session, title, lls) -> None:
    xm._log_lines(session, True, title, lls)


def _fit(session, data: xm.XtData, model: str, log: bool, maxit: int):
    X = data.design.X_keep
    if model == "fe":
        b0 = np.zeros(X.shape[1])
        cons = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
        if cons:
            b0[cons[0]] = 1.0
        fit = nbp.fit_fe(data.y, X, data.off, data.groups, b0, maxit)
        if log:
            _log(session, "", fit.log)
        return fit, math.nan
    xc, ll_c, lines = _pooled_nb1(data.y, X, data.off)
    if log:
        _log(session, "Fitting negative binomial (constant dispersion) model:", lines)
    x0 = nbp.re_start(data.y, X, data.off, data.groups, xc[:X.shape[1]])
    fit = nbp.fit_re(data.y, X, data.off, data.groups, x0, maxit)
    if log:
        _log(session, "Fitting full model:", fit.log)
    return fit, ll_c


def _results(cmd, data: xm.XtData, model: str, fit, ll_c) -> EstimationResults:
    p = data.design.X_keep.shape[1]
    names, b, _, omitted, slopes = xm._coefs(data, fit.x[:p], fit.V[:p, :p])
    k = len(names)
    aux = [("/", "ln_r"), ("/", "ln_s")] if model == "re" else []
    b = np.r_[b, fit.x[p:]]
    V = np.zeros((len(b), len(b)))
    idx = [i for i in range(k) if not omitted[i]] + list(range(k, len(b)))
    V[np.ix_(idx, idx)] = fit.V
    res = EstimationResults(cmd="xtnbreg", names=names + aux, b=b, V=V,
                            omitted=np.r_[omitted, np.zeros(len(aux), dtype=bool)], k_f=k,
                            sample=data.mask.copy())
    chi2, df = xm._wald(b, V, slopes)
    sc = xm._panel_scalars(data.groups)
    sc.update({"df_m": float(df), "chi2": chi2,
               "p": float(dist.chi2_sf(chi2, df)) if df else math.nan, "ll": fit.ll,
               "rank": float(len(idx)), "converged": 1.0 if fit.converged else 0.0,
               "ic": float(fit.iterations), "k": float(len(b))})
    mac = {"cmd": "xtnbreg", "cmdline": cmd.text, "depvar": data.depvar, "ivar": data.ivar,
           "model": model, "title": TITLES[model], "chi2type": "Wald", "vce": "oim",
           "properties": "b V", "predict": "xtnbreg_p", "method": "ml"}
    if model == "re":
        chibar = max(2.0 * (fit.ll - ll_c), 0.0)
        sc.update({"ll_c": ll_c, "chi2_c": chibar,
                   "p_c": 0.5 * float(dist.chi2_sf(chibar, 1)) if chibar > 0 else 1.0,
                   "r": _exp(fit.x[p]), "s": _exp(fit.x[p + 1])})
        mac["distrib"] = "Beta"
    else:
        mac["group"] = data.ivar
    res.scalars = sc
    res.macros = mac
    return res


def _lr_model(res: EstimationResults, data: xm.XtData, model: str, fit) -> None:
    """lrmodel: the model test as an LR test against the constant-only model of the same
    kind, started from the full fit's constant (and /ln_r, /ln_s)."""
    X = data.design.X_keep
    cons = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
    if not cons:
        raise StataError("option lrmodel requires a constant term", 198)
    X0 = X[:, cons[:1]]
    p = X.shape[1]
    with np.errstate(all="ignore"):
        if model == "re":
            fit0 = nbp.fit_re(data.y, X0, data.off, data.groups, np.r_[fit.x[cons[:1]], fit.x[p:]])
        else:
            fit0 = nbp.fit_fe(data.y, X0, data.off, data.groups, fit.x[cons[:1]])
    chi2 = max(2.0 * (fit.ll - fit0.ll), 0.0)
    df = int(res.scalars["df_m"])
    res.scalars.update(ll_0=fit0.ll, chi2=chi2,
                       p=float(dist.chi2_sf(chi2, df)) if df else math.nan)
    res.macros["chi2type"] = "LR"


def _aux_lines(res: EstimationResults, level: float) -> list[str]:
    k = res.k_f
    b = np.ravel(res.b)
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V)), 0, None))
    z = float(dist.norm_isf((1 - level / 100) / 2))
    rows = [rule("mid")]
    for j, nm in ((k, "/ln_r"), (k + 1, "/ln_s")):
        rows.append(xo.aux_row(nm, b[j], se[j], b[j] - z * se[j], b[j] + z * se[j]))
    rows.append(rule("mid"))
    for j, nm in ((k, "r"), (k + 1, "s")):
        v = _exp(b[j])
        rows.append(xo.aux_row(nm, v, v * se[j], _exp(b[j] - z * se[j]),
                               _exp(b[j] + z * se[j])))
    rows.append(rule())
    sc = res.scalars
    return rows + [lr_pooled_line(sc["chi2_c"], sc["p_c"])]


def lr_pooled_line(chi2: float, p: float) -> str:
    """`LR test vs. pooled: chibar2(01) = 19.19     Prob >= chibar2 = 0.000`."""
    left = f"LR test vs. pooled: chibar2(01) = {xo._num(chi2, '%8.2f')}"
    return left.ljust(55) + f"Prob >= chibar2 = {xo._num(p, '%5.3f')}"


def display(session, res: EstimationResults, groups, level: float, irr: bool) -> None:
    sc, mac = res.scalars, res.macros
    re = mac["model"] == "re"
    head = xo.header_lines(
        title=mac["title"], ivar=mac["ivar"], n=int(sc["N"]), n_g=int(sc["N_g"]),
        g=(sc["g_min"], sc["g_avg"], sc["g_max"]), re_dist="Beta" if re else None,
        intmethod=None, intpoints=None, test=f"{mac['chi2type']} chi2({int(sc['df_m'])})",
        chi2=sc["chi2"], p=sc["p"], ll=sc["ll"])
    for ln in head + [""]:
        session.out.line(ln)
    k = res.k_f
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V))[:k], 0, None))
    b = np.ravel(res.b)[:k]
    if irr:
        lines = eform_table(res.depvar, groups, b, se, title="IRR", level=level)
    else:
        lines = coef_table(res.depvar, groups, b, se, stat="z", level=level)
    from hlmshell.output.glm_output import offset_rows
    lines = lines[:-1] + offset_rows(mac.get("offset")) + lines[-1:]
    if re:
        lines = lines[:-1] + _aux_lines(res, level)
    for ln in lines:
        session.out.line(ln)
    if irr and any(nm == "_cons" for _, nm in res.names[:k]):
        session.out.line("Note: _cons estimates baseline incidence rate (conditional on zero "
                         "random effects)." if re else "Note: _cons estimates baseline incidence rate.")


# --------------------------------------------------------------------------- the command
def _run(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        _replay(session, cmd)
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("xtnbreg", list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    model = _model(opts)
    if model == "pa":
        xg.run_gee(session, cmd, "xtnbreg", "nbinomial", "log", "IRR" if _irr(opts) else None)
        return
    data = _prepare(session, cmd, spec, fixed_raw, opts, model)
    for note in data.design.notes:
        session.out.line(note)
    if model == "fe":
        data = _fe_sample(session, data)
    if len(data.y) <= data.design.X_keep.shape[1]:
        raise StataError("insufficient observations", 2001)
    log = not opts.nolog or opts.log
    try:
        with np.errstate(all="ignore"):
            fit, ll_c = _fit(session, data, model, log, int(opts.iterate))
            res = _results(cmd, data, model, fit, ll_c)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(_ERR430, 430) from None
    if not fit.converged:
        session.out.line("convergence not achieved")
    if opts.lrmodel:
        _lr_model(res, data, model, fit)
    offset_macros(res, opts)
    session.post_estimation(res)
    groups = display_groups(data.design, baselevels=False, value_labels=data.value_labels)
    display(session, res, groups, float(opts.level), _irr(opts))


def _irr(opts) -> bool:
    """irr, or xtgee's eform (the manual's `xtnbreg ..., eform pa`): incidence-rate ratios."""
    return bool(opts.irr or opts.eform)


def _replay(session, cmd) -> None:
    res = session.e
    if res is None or res.cmd != "xtnbreg":
        raise StataError("last estimates not found", 301)
    opts = bind_command("xtnbreg", cmd.options)
    if res.macros.get("model") == "pa":
        xg.display(session, res, groups_from_names([nm for _, nm in res.names]),
                   float(opts.level), _irr(opts), "IRR")
        return
    names = [nm for _, nm in res.names[:res.k_f]]
    display(session, res, groups_from_names(names), float(opts.level), _irr(opts))


def _options() -> tuple:
    base = tuple(o for o in xg.gee_options()
                 if o.name not in ("family", "link", "exposure", "offset"))
    return base + (Opt("re", desc="random-effects (Beta dispersion) model; the default"),
                   Opt("fe", desc="conditional fixed-effects model"),
                   Opt("pa", desc="population-averaged model (xtgee, family(nbinomial))"),
                   Opt("irr", desc="report incidence-rate ratios"),
                   Opt("lrmodel", desc="re, fe: LR test of the model against the constant-only model"),
                   Opt("offset", "off", "string", None, "include varname with coefficient 1"),
                   Opt("exposure", "exp", "string", None,
                       "include ln(varname) with coefficient 1"))


@command("xtnbreg", abbrev="xtnbreg", rule="mixed", family="Estimation", body="fvvarlist",
         qualifiers="if in", options=_options(),
         desc="random-effects, conditional fixed-effects and population-averaged negative "
              "binomial models", example="xtnbreg y trt lbase, re")
def xtnbreg_cmd(session, cmd) -> None:
    _run(session, cmd)


# --------------------------------------------------------------------------- predict
def predict(session, cmd, res, opts) -> None:
    """predict after xtnbreg: pa as xtgee; re and fe: xb (the default, with the offset),
    stdp, nu0 = exp(xb) (events with the panel effect at zero: offset included) and
    iru0 = exp(xb without the offset) (the incidence rate), both times s/(r-1) after re (the
    mean of the beta-distributed dispersion); any other statistic r(198)."""
    if res.macros.get("model") == "pa":
        xg.predict(session, cmd, res, opts)
        return
    from hlmshell.commands.predict import _add, _new_names, _touse, stdp_all, xb_all
    if "pr0" in opts:
        raise StataError("pr0() after xtnbreg is not implemented", 198)
    stat, defaulted = chosen_stat(opts, ("xb", "stdp", "nu0", "iru0"))
    if defaulted:
        session.out.line("(option xb assumed; linear prediction)")
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    touse = _touse(session, cmd)
    xb = xb_all(res, data)
    off = np.zeros(data.n) if "nooffset" in opts else offset_values(res, data)
    scale = _re_mean_scale(res) if stat in ("nu0", "iru0") else 1.0
    if math.isnan(scale):
        session.out.line("warning:  estimated value of r is less than one; expected value undefined.")
    if stat == "stdp":
        col, lab = stdp_all(res, data), "S.E. of the linear prediction"
    elif stat == "nu0":
        col, lab = np.exp(xb + off) * scale, "Predicted number of events (assuming u_i=0)"
    elif stat == "iru0":
        col, lab = np.exp(xb) * scale, "Predicted incidence rate (assuming u_i=0)"
    else:
        col, lab = xb + off, "Linear prediction"
    with np.errstate(all="ignore"):
        _add(session, names, [col], [lab], vtype, touse)


def _re_mean_scale(res) -> float:
    """After re: E[y] = exp(xb) s / (r - 1) with the beta-distributed dispersion's r and s
    (/ln_r, /ln_s), undefined (missing) when r <= 1; after fe: 1."""
    if res.macros.get("model") != "re":
        return 1.0
    names = [nm for _, nm in res.names]
    b = np.ravel(np.asarray(res.b, dtype=float))
    r, s = math.exp(b[names.index("ln_r")]), math.exp(b[names.index("ln_s")])
    return s / (r - 1.0) if r > 1.0 else math.nan


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["xtnbreg"] = predict


_register_predict()
