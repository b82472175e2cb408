"""xtintreg ([XT] xtintreg): the random-effects interval regression of Stata 17.

`xtintreg depvar1 depvar2 [indepvars]`: each observation's outcome lies in [depvar1, depvar2]
-- a point when they are equal, left-censored at depvar2 when depvar1 is missing,
right-censored at depvar1 when depvar2 is missing, an interval otherwise; rows with both
missing leave the sample. The likelihood is xttobit's (engine.censored: a normal random
intercept integrated out by mean-variance adaptive Gauss-Hermite quadrature, intpoints(12),
intmethod(ghermite) the plain rule) with interval rows added, so the estimates, /sigma_u,
/sigma_e, rho, the `intreg` LR test against the pooled interval regression, predict (xb,
stdp, pr(a,b), e(a,b), ystar(a,b) marginal over u_i) and margins are xttobit's.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands import xt_glmm as xm
from hlmshell.commands import xttobit as xtt
from hlmshell.commands._panel import xt_settings
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _resolve_fixed_part, _split_spec, parse_vce
from hlmshell.commands.glm_cmds import _offset, offset_macros
from hlmshell.commands.model_terms import engine_terms, factor_labels, resolve_var
from hlmshell.engine import censored as cz
from hlmshell.engine import design as dz
from hlmshell.engine.factorize import factorize
from hlmshell.errors import StataError
from hlmshell.output import xt_glmm_output as xo
from hlmshell.output.coeftable import groups_from_names
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults
from hlmshell.syntax.evaluate import marksample

TITLE = "Random-effects interval regression"


def _depvars(ds, spec, fixed_raw):
    """(depvar1, depvar2, covariate terms, their variables): depvar2 is the first word after
    depvar1 and must be a plain numeric variable."""
    if not fixed_raw or len(fixed_raw[0].parts) != 1 or fixed_raw[0].parts[0].factor:
        raise StataError("too few variables specified", 102)
    names = resolve_var(ds, fixed_raw[0].parts[0].name)
    if len(names) != 1:
        raise StataError("invalid syntax", 198)
    dep2 = names[0]
    if ds.var(dep2).is_string:
        raise StataError("type mismatch", 109)
    dep1, fixed, fvars = _resolve_fixed_part(ds, spec, list(fixed_raw[1:]))
    return dep1, dep2, fixed, fvars


def _classify(y1: np.ndarray, y2: np.ndarray):
    """(kind, y, lim) of each row (engine.censored's coding)."""
    if np.any(y1 > y2):
        raise StataError("observations with depvar1 > depvar2 are not allowed", 498)
    m1, m2 = np.isnan(y1), np.isnan(y2)
    kind = np.where(m1, cz.LEFT, np.where(m2, cz.RIGHT,
                                          np.where(y1 == y2, cz.UNC, cz.INTERVAL)))
    y = np.where(m1, y2, y1)
    lim = np.where(m1, y2, np.where(m2, y1, y2))
    return kind.astype(np.int64), y, lim


def _prepare(session, cmd, spec, fixed_raw, opts):
    ds = session.data
    dep1, dep2, fixed, fvars = _depvars(ds, spec, fixed_raw)
    ps = xt_settings(session, opts.raw("i") if "i" in opts else None, None)
    req = parse_vce(ds, opts, (("oim", 3), ("robust", 1), ("cluster", 2), ("bootstrap", 4),
                               ("jackknife", 4)))
    if req.kind and req.kind != "oim":
        raise StataError(f"vcetype '{req.kind}' not allowed", 198)
    extra = [v.strip() for v in (opts.raw("offset"),) if v]
    mask = marksample(session, cmd, [v for v in fvars + extra + [ps.panelvar]
                                     if v not in (dep1, dep2)])
    y1 = np.asarray(ds.values(dep1), dtype=float)
    y2 = np.asarray(ds.values(dep2), dtype=float)
    mask = mask & ~(np.isnan(y1) & np.isnan(y2))
    if not mask.any():
        raise StataError("no observations", 2000)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    kind, y, lim = _classify(y1[mask], y2[mask])
    groups = factorize(np.asarray(column(ps.panelvar), dtype=float))[1]
    return (dep1, dep2, design, mask, factor_labels(ds, fixed), y, kind, lim,
            _offset(opts, column, n), groups, ps.panelvar)


def _fit(session, X, y, lim, kind, off, groups, points, method, maxit, log):
    pooled = cz.fit_tobit(y, X, lim, kind, off)
    if log:
        xm._log_lines(session, True, "Obtaining starting values for full model:", pooled.log)
    quad = cz.PanelQuad(y, X, lim, kind, off, groups, points, adaptive=method == "mvaghermite")
    p = X.shape[1]
    lns = pooled.x[p]
    x0 = np.r_[pooled.x[:p], lns - 0.5 * math.log(2.0), lns - 0.5 * math.log(2.0)]
    fit = cz.fit_xttobit(quad, x0, maxit)
    if log:
        xm._log_lines(session, True, "Fitting full model:", fit.log)
    return pooled, quad, fit


def _run(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        _replay(session, cmd)
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("xtintreg", list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    method = xtt._method(opts)
    points = int(opts.intpoints)
    if not 1 <= points <= 195:
        raise StataError("intpoints() must be between 1 and 195", 198)
    (dep1, dep2, design, mask, vlabels, y, kind, lim, off, groups,
     ivar) = _prepare(session, cmd, spec, fixed_raw, opts)
    for note in design.notes:
        session.out.line(note)
    X = design.X_keep
    if len(y) <= X.shape[1] + 2:
        raise StataError("insufficient observations", 2001)
    try:
        with np.errstate(all="ignore"):
            pooled, quad, fit = _fit(session, X, y, lim, kind, off, groups, points, method,
                                     int(opts.iterate), not opts.nolog or opts.log)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(xm._ERR430, 430) from None
    if not fit.converged:
        session.out.line("convergence not achieved")
    res = xtt._results(cmd, dep1, design, mask, fit, groups, ivar, kind, None, None, points,
                       method, pooled.ll if opts.intreg else None)
    res.cmd = "xtintreg"
    res.scalars["N_int"] = float(np.sum(kind == cz.INTERVAL))
    res.macros.update(cmd="xtintreg", title=TITLE, depvar=f"{dep1} {dep2}", predict="xtintreg_p")
    if opts.lrmodel:
        xtt._lr_model(res, quad, fit, X)
    offset_macros(res, opts)
    session.post_estimation(res)
    display(session, res, display_groups(design, baselevels=False, value_labels=vlabels),
            float(opts.level))


def header(res) -> list[str]:
    sc, mac = res.scalars, res.macros
    j, r = xo._join, xo._right

    def num(x, spec):
        return "." if x is None or not math.isfinite(x) else fmt(float(x), spec).strip()
    return ["", j(TITLE, r("Number of obs", fmt_count(int(sc["N"])))),
            j("", r("   Uncensored", fmt_count(int(sc["N_unc"])))),
            j("", r("   Left-censored", fmt_count(int(sc["N_lc"])))),
            j("", r("   Right-censored", fmt_count(int(sc["N_rc"])))),
            j("", r("   Interval-cens.", fmt_count(int(sc["N_int"])))), "",
            j(f"Group variable: {abbrev(mac['ivar'], 12)}", r("Number of groups", fmt_count(int(sc["N_g"])))),
            j("Random effects u_i ~ Gaussian", "Obs per group:"),
            j("", xo._obs("min", fmt_count(int(sc["g_min"])))),
            j("", xo._obs("avg", fmt(sc["g_avg"], "%10.1fc").strip())),
            j("", xo._obs("max", fmt_count(int(sc["g_max"])))), "",
            j(f"Integration method: {mac['intmethod']}", r("Integration pts.", str(int(sc["n_quad"])))), "",
            j("", r(f"{mac['chi2type']} chi2({int(sc['df_m'])})", num(sc["chi2"], "%9.2f"))),
            j(f"Log likelihood = {fmt_g(sc['ll'], 10).strip()}", r("Prob > chi2", num(sc["p"], "%6.4f")))]


def display(session, res: EstimationResults, groups, level: float) -> None:
    for ln in header(res) + [""]:
        session.out.line(ln)
    for ln in xtt.table_lines(res, groups, level, res.names[0][0]):
        session.out.line(ln)


def _replay(session, cmd) -> None:
    res = session.e
    if res is None or res.cmd != "xtintreg":
        raise StataError("last estimates not found", 301)
    opts = bind_command("xtintreg", cmd.options)
    display(session, res, groups_from_names([nm for _, nm in res.names[:res.k_f]]),
            float(opts.level))


def _options() -> tuple:
    keep = [o for o in xtt._options() if o.name not in ("ll", "ul", "tobit", "re")]
    return tuple(keep) + (Opt("intreg", desc="LR test of sigma_u = 0 against the pooled interval regression"),)


@command("xtintreg", abbrev="xtintreg", rule="mixed", family="Estimation", body="fvvarlist",
         qualifiers="if in", options=_options(), desc="random-effects interval regression",
         example="xtintreg y_lower y_upper x1 x2")
def xtintreg_cmd(session, cmd) -> None:
    _run(session, cmd)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["xtintreg"] = xtt.predict


_register_predict()
