"""xtologit and xtoprobit: Stata 17's random-effects ordered logit and probit for panel data
(the panel variable from xtset or i()).

The model is meologit's/meoprobit's with the panel as the one random-intercept level, so the
fit runs through the same one-level GLMM engine (engine.glmm, the ordinal family): the ologit
comparison model, `Refining starting values`, then the full model by mean-variance adaptive
Gauss-Hermite quadrature with intpoints(12), Stata's default for the xt commands. What differs
is the face: the xt header (group variable, `Random effects u_i ~ Gaussian`, integration
method and points), the cutpoints as `/cut#`, the panel-level variance as `/sigma2_u` (its
interval on the log scale, as Stata's transform) and the LR test against the ologit/oprobit
model (chibar2(01)). e(b) is depvar:x ... /:cut1 ... /:sigma2_u.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import me_glmm, me_start
from hlmshell.commands._panel import xt_settings
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample, _resolve_fixed_part, _split_spec
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.engine import glmm
from hlmshell.engine.factorize import factorize
from hlmshell.engine.vcparams import Structure
from hlmshell.errors import StataError
from hlmshell.output import me_output as meo
from hlmshell.output import xt_glmm_output as xo
from hlmshell.output.coeftable import cluster_note, coef_table, groups_from_names, rule
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults

TITLES = {"xtologit": "Random-effects ordered logistic regression",
          "xtoprobit": "Random-effects ordered probit regression"}
BASE = {"xtologit": "ologit", "xtoprobit": "oprobit"}
_METHODS = (("mvaghermite", 2), ("ghermite", 2))
_ERR430 = ("could not calculate numerical derivatives -- discontinuous region with missing "
           "values encountered")


def _link(name: str) -> str:
    return "logit" if name == "xtologit" else "probit"


def _method(opts) -> str:
    """intmethod(mvaghermite | ghermite): the two rules Stata's xtologit/xtoprobit take."""
    from hlmshell.registry import abbrev_lookup
    text = (opts.raw("intmethod") or "mvaghermite").strip().lower()
    full = abbrev_lookup(text, _METHODS)
    if full is None:
        raise StataError(f"intmethod({text}) not allowed", 198)
    return full


class _Collect:
    """An output sink: the comparison model's log is taken from me_start and shown under
    xtologit's own heading."""

    def __init__(self):
        self.lines: list[str] = []

    def line(self, text: str = "") -> None:
        self.lines.append(text)


def _clusters(session, opts, column, groups):
    """vce(robust | cluster var): (clustvar or None, cluster code per observation), or None
    for the observed-information VCE. Panels must nest within clusters (r(498))."""
    from hlmshell.commands.estimation import parse_vce
    req = parse_vce(session.data, opts, (("oim", 3), ("robust", 1), ("cluster", 2),
                                         ("bootstrap", 4), ("jackknife", 4)))
    if req.kind in ("bootstrap", "jackknife"):
        raise StataError(f"vcetype '{req.kind}' not allowed", 198)
    if not req.robust:
        return None
    if req.clustvar is None:
        return None, groups
    cl = np.unique(np.asarray(column(req.clustvar)).astype(str), return_inverse=True)[1].ravel()
    first = np.full(int(groups.max()) + 1, -1)
    first[groups] = cl
    if np.any(first[groups] != cl):
        raise StataError("panels are not nested within clusters", 498)
    return req.clustvar, cl


def _prepare(session, cmd, spec, fixed_raw, opts):
    ds = session.data
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    ps = xt_settings(session, opts.raw("i") if "i" in opts else None, None)
    from hlmshell.commands.estimation import parse_vce
    clustvar = parse_vce(ds, opts, (("oim", 3), ("robust", 1), ("cluster", 2),
                                    ("bootstrap", 4), ("jackknife", 4))).clustvar
    off = (opts.raw("offset") or "").strip()
    numeric = [depvar] + [v for v in fvars + ([off] if off else []) + [ps.panelvar]
                          if v != depvar]
    strg = [clustvar] if clustvar and ds.var(clustvar).is_string else []
    if clustvar and not strg and clustvar not in numeric:
        numeric.append(clustvar)
    mask = _mixed_sample(session, cmd, numeric, strg)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = me_glmm.without_constant(dz.build_fixed(engine_terms(fixed), column, n))
    y_raw = np.asarray(column(depvar), dtype=float)
    groups = factorize(np.asarray(column(ps.panelvar), dtype=float))[1]
    offset = np.asarray(column(off), dtype=float) if off else np.zeros(n)
    vce = _clusters(session, opts, column, groups)
    return depvar, design, y_raw, groups, offset, mask, ps.panelvar, vce, factor_labels(ds, fixed)


def _fit(session, opts, data, fam, points, method, log):
    """Comparison model, refining step and full model with Stata's log: (ll of the ologit
    model, the fit)."""
    sink = _Collect()
    b0, extra0, ll0 = me_start.first_phase(sink, True, data, fam, me_start.StartPlan(),
                                           [("", "")] * data.X.shape[1],
                                           np.arange(data.X.shape[1]))
    out = session.out
    if log:
        for ln in sink.lines:
            out.line(ln.replace("Fitting fixed-effects model:", "Fitting comparison model:"))
    st = Structure("identity", 1)
    x0 = np.concatenate([b0, st.start(1.0), extra0])
    prob = glmm.Problem(data, fam, st, "agq", points,
                        adapt="none" if method == "ghermite" else "mv")
    fit = me_glmm.full_model(out, log, me_start.StartPlan(), prob, x0, int(opts.iterate),
                             glmm.fit_problem)
    return ll0, fit, st


def _vcov(fit, st, data, vce):
    """e(V) of (beta, cuts, sigma2_u) from the observed information in (beta, ln sd, cuts),
    the sandwich over the panels (or clusters) when asked; (V, clusters or 0)."""
    V_s = glmm.observed_vcov(fit, st)
    if V_s is None:
        raise StataError(_ERR430, 430)
    n_clust = 0
    if vce is not None:
        V_s, n_clust = me_glmm._robust(fit, st, V_s, data, vce)
    p = len(fit.beta)
    ne = V_s.shape[0] - p - 1
    s2 = float(fit.cov[0, 0])
    J = np.zeros((p + ne + 1, p + 1 + ne))
    J[:p, :p] = np.eye(p)
    J[p:p + ne, p + 1:] = np.eye(ne)
    J[p + ne, p] = 2.0 * s2                    # d sigma2 / d ln sd
    return J @ V_s @ J.T, n_clust


def _results(cmd, name, depvar, design, fit, V_s, ll0, data, levels, mask, ivar, points,
             method) -> EstimationResults:
    p = len(fit.beta)
    ne = len(levels) - 1
    names = [(depvar, nm) for nm in design.stata_names]
    kf = len(names)
    keep = np.flatnonzero(design.keep)
    names += [("/", f"cut{j}") for j in range(1, ne + 1)] + [("/", "sigma2_u")]
    k = len(names)
    b = np.zeros(k)
    b[keep] = fit.beta
    b[kf:kf + ne] = fit.x[len(fit.x) - ne:]
    b[k - 1] = float(fit.cov[0, 0])
    V = np.zeros((k, k))
    idx = np.concatenate([keep, kf + np.arange(ne + 1)])
    V[np.ix_(idx, idx)] = V_s
    omitted = np.concatenate([design.omitted, np.zeros(ne + 1, dtype=bool)])
    res = EstimationResults(cmd=name, names=names, b=b, V=V, omitted=omitted, k_f=kf,
                            sample=mask.copy())
    slopes = [int(i) for i in keep]
    chi2 = math.nan
    if slopes:
        try:
            chi2 = float(b[slopes] @ np.linalg.solve(V[np.ix_(slopes, slopes)], b[slopes]))
        except np.linalg.LinAlgError:
            pass
    chibar = max(2.0 * (fit.ll - ll0), 0.0)
    counts = np.bincount(data.codes)
    res.scalars = {
        "N": float(len(data.y)), "N_g": float(len(counts)), "g_min": float(counts.min()),
        "g_avg": float(counts.mean()), "g_max": float(counts.max()), "k": float(len(idx)),
        "k_cat": float(len(levels)), "k_eq": float(ne + 2), "k_dv": 1.0,
        "df_m": float(len(slopes)), "ll": fit.ll, "ll_c": ll0, "chi2": chi2,
        "p": float(dist.chi2_sf(chi2, len(slopes))) if slopes and chi2 == chi2 else math.nan,
        "chi2_c": chibar, "p_c": 0.5 * float(dist.chi2_sf(chibar, 1)) if chibar > 0 else 1.0,
        "n_quad": float(points), "rank": float(len(idx)), "ic": float(fit.iterations),
        "converged": 1.0 if fit.converged else 0.0}
    res.macros = {"cmd": name, "cmdline": cmd.text, "depvar": depvar, "ivar": ivar,
                  "title": TITLES[name], "chi2type": "Wald", "chi2_ct": "LR",
                  "intmethod": method, "distrib": "Gaussian", "vce": "oim",
                  "properties": "b V", "predict": f"{name}_p", "model": "re"}
    res.matrices = {"cat": np.asarray(levels, dtype=float).reshape(1, -1)}
    return res


def _post_robust(res, vce, n_clust) -> None:
    res.macros.update(vce="cluster" if vce[0] else "robust", vcetype="Robust",
                      clustvar=vce[0] or res.macros["ivar"])
    res.scalars["N_clust"] = float(n_clust)
    for key in ("chi2_c", "p_c"):
        res.scalars.pop(key, None)


def _run(session, cmd, name: str) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        _replay(session, cmd, name)
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command(name, list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    from hlmshell.commands._postest import confidence_level
    level = confidence_level(session, opts)
    method = _method(opts)
    points = int(opts.intpoints)
    if not 1 <= points <= 195:
        raise StataError("intpoints() must be between 1 and 195", 198)
    depvar, design, y_raw, groups, offset, mask, ivar, vce, vlabels = \
        _prepare(session, cmd, spec, fixed_raw, opts)
    for note in design.notes:
        session.out.line(note)
    y, fam = me_glmm._ordinal(y_raw, _link(name))
    levels = np.unique(y_raw)
    n = len(y)
    data = glmm.GlmmData.build(y, design.X_keep, np.ones((n, 1)), groups, offset=offset)
    log = not opts.nolog or opts.log
    try:
        with np.errstate(all="ignore"):
            ll0, fit, st = _fit(session, opts, data, fam, points, method, log)
            V_s, n_clust = _vcov(fit, st, data, vce)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(_ERR430, 430) from None
    res = _results(cmd, name, depvar, design, fit, V_s, ll0, data, levels, mask, ivar, points,
                   method)
    if vce is not None:
        _post_robust(res, vce, n_clust)
    off = (opts.raw("offset") or "").strip()
    if off:
        res.macros["offset"] = off
    session.post_estimation(res)
    groups_disp = display_groups(design, baselevels=False, value_labels=vlabels)
    display(session, res, groups_disp, level, bool(getattr(opts, "or", False)))


def _replay(session, cmd, name: str) -> None:
    res = session.e
    if res is None or res.cmd != name:
        raise StataError("last estimates not found", 301)
    opts = bind_command(name, cmd.options)
    bad = [k for k in opts.given if k not in ("or", "level")]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    from hlmshell.commands._postest import confidence_level
    names = [nm for _, nm in res.names[:res.k_f]]
    display(session, res, groups_from_names(names), confidence_level(session, opts),
            bool(getattr(opts, "or", False)))


def _sigma_row(b: float, var: float, z: float) -> str:
    """/sigma2_u: the estimate, its standard error and an interval on the log scale."""
    se = math.sqrt(var) if var > 1e-300 else math.nan
    if b > 0 and math.isfinite(se):
        half = z * se / b
        return xo.aux_row("/sigma2_u", b, se, b * math.exp(-half), b * math.exp(half))
    return xo.aux_row("/sigma2_u", b, math.nan, math.nan, math.nan)


def display(session, res: EstimationResults, groups, level: float, eform: bool) -> None:
    sc, mac = res.scalars, res.macros
    vt = mac.get("vcetype")
    head = xo.header_lines(
        title=mac["title"], ivar=mac["ivar"], n=int(sc["N"]), n_g=int(sc["N_g"]),
        g=(sc["g_min"], sc["g_avg"], sc["g_max"]), re_dist="Gaussian",
        intmethod=mac["intmethod"], intpoints=int(sc["n_quad"]),
        test=f"Wald chi2({int(sc['df_m'])})", chi2=sc["chi2"], p=sc["p"], ll=sc["ll"],
        pseudo=bool(vt))
    out = session.out
    for ln in head + [""]:
        out.line(ln)
    if vt:
        out.line(cluster_note(int(sc["N_clust"]), mac["clustvar"]))
    k = res.k_f
    V = np.asarray(res.V)
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    b = np.asarray(res.b)
    if eform:
        table = eform_table(res.depvar, groups, b[:k], se[:k], title="Odds ratio",
                            level=level, vcetype=vt)
    else:
        table = coef_table(res.depvar, groups, b[:k], se[:k], stat="z", level=level,
                           vcetype=vt)
    z = float(dist.norm_ppf(0.5 + level / 200.0))
    ncut = len(b) - k - 1
    cuts = meo.extra_rows([(res.names[k + i][1], b[k + i], se[k + i]) for i in range(ncut)], z)
    last = len(b) - 1
    lines = table[:-1] + cuts + [rule("mid"), _sigma_row(float(b[last]), float(V[last, last]), z),
                                 table[-1]]
    for ln in lines:
        out.line(ln)
    if "chi2_c" in sc:
        for ln in meo.lr_lines(BASE[res.cmd], sc["chi2_c"], 1, sc["p_c"]):
            out.line(ln)


def _options(name: str) -> tuple:
    opts = [Opt("i", "i", "string", None, "panel variable (instead of xtset)"),
            Opt("offset", "off", "string", None, "include varname with coefficient 1"),
            Opt("vce", "vce", "string", None, "oim, robust or cluster clustvar"),
            Opt("robust", "r", desc="old syntax of vce(robust)"),
            Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)"),
            Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
            Opt("intmethod", "intm", "string", None, "mvaghermite (the default) or ghermite"),
            Opt("intpoints", "intp", "int", 12, "quadrature points; default 12"),
            Opt("nolog", desc="do not show the iteration log"),
            Opt("log", desc="show the iteration log; the default"),
            Opt("iterate", "iter", "int", 300, "maximum number of iterations"),
            Opt("tolerance", "tol", "real", 1e-6, "accepted: the fit runs to a vanishing gradient"),
            Opt("ltolerance", "ltol", "real", 1e-7, "accepted: the fit runs to a vanishing gradient"),
            Opt("difficult", desc="accepted for compatibility")]
    if name == "xtologit":
        opts.append(Opt("or", desc="report odds ratios"))
    return tuple(opts)


def _register(name: str, desc: str, example: str):
    @command(name, rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
             desc=desc, example=example, options=_options(name))
    def handler(session, cmd) -> None:
        _run(session, cmd, name)
    return handler


xtologit_cmd = _register("xtologit", "random-effects ordered logistic regression",
                         "xtologit rating warm contact")
xtoprobit_cmd = _register("xtoprobit", "random-effects ordered probit regression",
                          "xtoprobit rating warm contact")


# --------------------------------------------------------------------------- predict
def _cdf(link: str, x):
    from scipy.special import expit, ndtr
    return expit(x) if link == "logit" else ndtr(x)


def category_probs(link: str, xb: np.ndarray, cuts: np.ndarray, s2: float) -> np.ndarray:
    """n x K probabilities of the categories: at u = 0 (s2 = 0) or integrated over the
    normal random effect by 100-point Gauss-Hermite (Stata's marginal `pr`)."""
    from numpy.polynomial.hermite_e import hermegauss
    if s2 > 0:
        t, w = hermegauss(100)
        u, w = math.sqrt(s2) * t, w / w.sum()
    else:
        u, w = np.zeros(1), np.ones(1)
    edges = np.r_[-np.inf, cuts, np.inf]
    with np.errstate(all="ignore"):
        F = _cdf(link, edges[None, :, None] - xb[:, None, None] - u[None, None, :])
        return np.diff(F, axis=1) @ w


def predict(session, cmd, res, opts) -> None:
    """predict after xtologit/xtoprobit: pr (the default; marginal over the random effect),
    pu0 (the random effect at 0), xb, stdp; outcome(#k | value), one variable or one per
    category."""
    from hlmshell.commands.glm_predict import _which
    from hlmshell.commands.predict import _add, _new_names, _touse, stdp_all, xb_all
    given = [w for w in ("pr", "pu0", "xb", "stdp", "mu", "eta", "fitted", "reffects",
                         "residuals", "marginal")
             if w in opts and getattr(opts, w, None)]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    if given and given[0] not in ("pr", "pu0", "xb", "stdp"):
        raise StataError(f"option {given[0]} not allowed", 198)
    stat = given[0] if given else "pr"
    data = session.data
    touse = _touse(session, cmd)
    if stat in ("xb", "stdp"):
        if opts.raw("outcome"):
            raise StataError("option outcome() not allowed", 198)
        vtype, names = _new_names(cmd.body or "", None)
        col, lab = ((xb_all(res, data), "Linear prediction") if stat == "xb"
                    else (stdp_all(res, data), "S.E. of the linear prediction"))
        _add(session, names, [col], [lab], vtype, touse)
        return
    levels = np.asarray(res.matrices["cat"], dtype=float).ravel()
    which = _which(cmd, opts, levels)
    k = res.k_f
    b = np.asarray(res.b, dtype=float).ravel()
    cuts = b[k:len(b) - 1]
    xb = xb_all(res, data)
    if res.macros.get("offset"):
        xb = xb + np.asarray(data.values(res.macros["offset"]), dtype=float)
    P = category_probs(_link(res.cmd), xb, cuts, float(b[-1]) if stat == "pr" else 0.0)
    vtype, names = _new_names(cmd.body or "", None if len(which) == 1 else len(which))
    if not opts.raw("outcome") and len(which) == 1 and not given:
        session.out.line("(option pr assumed; predicted probability of the first outcome)")
    fmt = (lambda v: str(int(v)) if float(v).is_integer() else f"{v:g}")
    labels = [f"Pr({res.depvar}=={fmt(levels[j])})" for j in which]
    _add(session, names, [P[:, j] for j in which], labels, vtype, touse)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    for name in ("xtologit", "xtoprobit"):
        PREDICTORS[name] = predict


_register_predict()
