"""xtlogit, xtprobit, xtcloglog and xtpoisson: the panel-data GLMs of Stata 17 with `re` (the
default), `fe` (xtlogit, xtpoisson) and `pa`.

re: a normal random intercept, the marginal likelihood by mean-variance adaptive Gauss-Hermite
quadrature with intpoints(12) (Stata's defaults for these commands), through the one-level
GLMM engine (engine.glmm), reported as /lnsig2u = ln sigma_u^2 with sigma_u and rho =
sigma_u^2 / (sigma_u^2 + c) (c = pi^2/3 for the logit, 1 for the probit, pi^2/6 for the
complementary log-log: the variances of their latent errors); xtpoisson's default
random effect is gamma (mean 1, variance alpha; closed-form likelihood, engine.panel_glmm) with
/lnalpha and alpha, `normal` gives the Gaussian one. The LR test compares with the pooled model
(chibar2(01): half the chi2(1) tail).
fe: conditional logit / conditional Poisson (engine.panel_glmm), panels whose outcomes cannot
inform the slopes dropped with Stata's note, covariates constant within every panel omitted.
pa: xtgee with the command's family and link (corr(exchangeable) by default).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import xtgee as xg
from hlmshell.commands._panel import xt_settings
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample, _resolve_fixed_part, _split_spec
from hlmshell.commands.glm_cmds import _offset, offset_macros
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.engine import glmm
from hlmshell.engine import glmm_families as gf
from hlmshell.engine import panel_glmm as pg
from hlmshell.engine.factorize import factorize
from hlmshell.engine.vcparams import Structure
from hlmshell.errors import StataError
from hlmshell.output import xt_glmm_output as xo
from hlmshell.output.coeftable import cluster_note, coef_table, groups_from_names, rule
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.output.me_output import iteration_line
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults

FAMILY = {"xtlogit": ("binomial", "logit"), "xtprobit": ("binomial", "probit"),
          "xtcloglog": ("binomial", "cloglog"),
          "xtpoisson": ("poisson", "log")}
TITLES = {("xtlogit", "re"): "Random-effects logistic regression",
          ("xtprobit", "re"): "Random-effects probit regression",
          ("xtcloglog", "re"): "Random-effects complementary log-log model",
          ("xtpoisson", "re"): "Random-effects Poisson regression",
          ("xtlogit", "fe"): "Conditional fixed-effects logistic regression",
          ("xtpoisson", "fe"): "Conditional fixed-effects Poisson regression"}
EFORM = {"xtlogit": ("or", "Odds ratio"), "xtpoisson": ("irr", "IRR"),
         "xtcloglog": ("eform", "exp(b)")}


def latent_variance(link: str) -> float:
    """The variance of the latent error of a binary link: rho = sigma_u^2 / (sigma_u^2 + it)."""
    return {"logit": math.pi ** 2 / 3, "cloglog": math.pi ** 2 / 6}.get(link, 1.0)
_ERR430 = "could not calculate numerical derivatives -- discontinuous region with missing values encountered"


@dataclass
class XtData:
    depvar: str
    design: dz.Design
    y: np.ndarray
    off: np.ndarray
    groups: np.ndarray
    mask: np.ndarray
    ivar: str
    value_labels: dict
    clustvar: str | None = None
    clusters: np.ndarray | None = None      # cluster code per observation (vce robust/cluster)


def _vce(session, opts, model: str, name: str = ""):
    """(robust?, clustvar or None): vce(oim | robust | cluster var) and the old `robust`; the
    sandwich is for re only (Stata's xtlogit fe takes oim, bootstrap, jackknife)."""
    from hlmshell.commands.estimation import parse_vce
    req = parse_vce(session.data, opts, (("oim", 3), ("robust", 1), ("cluster", 2),
                                         ("bootstrap", 4), ("jackknife", 4)))
    if req.kind in ("bootstrap", "jackknife") or (req.robust and model == "fe"
                                                   and name != "xtpoisson"):
        raise StataError(f"vcetype '{req.kind}' not allowed", 198)
    return bool(req.robust), req.clustvar


def _model(name: str, opts) -> str:
    chosen = [m for m in ("re", "fe", "pa") if getattr(opts, m, False)]
    if len(chosen) > 1:
        raise StataError("choose only one of re, fe, or pa", 198)
    model = chosen[0] if chosen else "re"
    if model == "fe" and name in ("xtprobit", "xtcloglog"):
        raise StataError("option fe not allowed", 198)
    if model != "pa":
        for o in ("corr", "family", "link", "scale", "nmp", "rgf"):
            if o in opts:
                raise StataError(f"option {o}() not allowed" if o in ("corr", "scale", "vce")
                                 else f"option {o} not allowed", 198)
    if name == "xtpoisson" and model != "re" and (opts.normal or opts.gamma):
        raise StataError(f"option {'normal' if opts.normal else 'gamma'} not allowed", 198)
    return model


def _outcome(name: str, y: np.ndarray, depvar: str) -> np.ndarray:
    if name == "xtpoisson":
        if np.any(y < 0):
            raise StataError(f"{depvar} must be greater than or equal to zero", 459)
        return y
    out = (y != 0).astype(float)
    if out.min() == out.max():
        raise StataError("outcome does not vary; remember:\n"
                         "                                  0 = negative outcome,\n"
                         "        all other nonmissing values = positive outcome", 2000)
    return out


def _prepare(session, cmd, spec, fixed_raw, opts, name, model) -> XtData:
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    ps = xt_settings(session, opts.raw("i") if "i" in opts else None, None)
    extra = [v.strip() for v in (opts.raw("offset"), opts.raw("exposure") if "exposure" in opts
                                 else None) if v]
    robust, clustvar = _vce(session, opts, model, name)
    numeric = [depvar] + [v for v in fvars + extra + [ps.panelvar] if v != depvar]
    strg = [clustvar] if clustvar and ds.var(clustvar).is_string else []
    if clustvar and not strg and clustvar not in numeric:
        numeric.append(clustvar)
    mask = _mixed_sample(session, cmd, numeric, strg)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n,
                            constant=model == "fe" or (model == "re" and not opts.noconstant))
    if model == "fe":               # the panels' intercepts absorb the constant; factor
        design = dz.drop_constant(design)       # variables keep their base levels
    y = _outcome(name, np.asarray(column(depvar), dtype=float), depvar)
    groups = factorize(np.asarray(column(ps.panelvar), dtype=float))[1]
    clusters = None
    if robust:
        clusters = groups if clustvar is None else \
            np.unique(np.asarray(column(clustvar)).astype(str), return_inverse=True)[1].ravel()
        first = np.full(int(groups.max()) + 1, -1)
        first[groups] = clusters
        if np.any(first[groups] != clusters):
            raise StataError("panels are not nested within clusters", 498)
    return XtData(depvar, design, y, _offset(opts, column, n), groups, mask, ps.panelvar,
                  factor_labels(ds, fixed), clustvar or (ps.panelvar if robust else None),
                  clusters)


# --------------------------------------------------------------------------- re
@dataclass
class ReFit:
    beta: np.ndarray
    aux: float                  # ln sigma_u^2 or ln alpha
    V: np.ndarray               # of (beta, aux)
    ll: float
    ll_c: float
    converged: bool
    n_clust: int = 0


def _log_lines(session, log: bool, title: str, lls) -> None:
    if not log:
        return
    out = session.out
    if title:
        out.line("")
        out.line(title)
    out.line("")
    for i, v in enumerate(lls):
        out.line(iteration_line(i, v))


_INTMETHODS = (("mvaghermite", 2), ("aghermite", 1), ("ghermite", 1))
_ADAPT = {"mvaghermite": "mv", "aghermite": "mc", "ghermite": "none"}


def _intmethod(opts) -> str:
    """intmethod(mvaghermite | aghermite | ghermite): Stata's default mean-variance adaptive,
    the mode-curvature adaptive rule, or the non-adaptive one."""
    from hlmshell.registry import abbrev_lookup
    text = (opts.raw("intmethod") or "mvaghermite").strip().lower()
    full = abbrev_lookup(text, _INTMETHODS)
    if full is None:
        raise StataError(f"intmethod({text}) not allowed", 198)
    return full


def _comparison(gd, fam, y, off, X):
    """The pooled model from the constant-only start, as Stata's logit/poisson log it: (b, ll,
    the log's log likelihoods)."""
    from hlmshell.commands.glm_cmds import _null_beta
    b0 = np.zeros(X.shape[1])
    cons = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
    if cons:
        b0[cons[0]] = _null_beta(y, off, fam)
    lines: list = []
    b, ll = glmm.glm_newton(gd, fam, b0, lines)
    return b, ll, lines


def _tau_grid(prob, b_c, ll_c, c: float, log: list) -> float:
    """Stata's search for a starting rho (`tau`): 0, .1, .2, ... at the comparison model's
    coefficients while the log likelihood rises; sigma_u of the best."""
    best_tau, best = 0.0, ll_c
    log.append((0.0, ll_c))
    for i in range(1, 10):
        tau = i / 10
        ll = prob.loglik(np.r_[b_c, math.sqrt(tau / (1 - tau) * c)])
        log.append((tau, ll))
        if not np.isfinite(ll) or ll < best:
            break
        best_tau, best = tau, ll
    return math.sqrt(max(best_tau, 0.1) / (1 - max(best_tau, 0.1)) * c)


def _fit_re_normal(session, data: XtData, fam_name, link, points, log, maxiter,
                   method="mvaghermite", X=None) -> ReFit:
    X = data.design.X_keep if X is None else X
    n = len(data.y)
    gd = glmm.GlmmData.build(data.y, X, np.ones((n, 1)), data.groups, offset=data.off)
    fam = gf.family(fam_name, link)
    b0, ll_c, lines = _comparison(gd, fam, data.y, data.off, X)
    _log_lines(session, log, "Fitting comparison model:", lines)
    st = Structure("identity", 1)
    prob = glmm.Problem(gd, fam, st, "agq", points, adapt=_ADAPT[method])
    s0 = 1.0
    if fam_name == "binomial":
        grid: list = []
        s0 = _tau_grid(prob, b0, ll_c, latent_variance(link), grid)
        if log:
            session.out.line("")
            session.out.line("Fitting full model:")
            session.out.line("")
            for tau, v in grid:
                session.out.line(xo.tau_line(tau, v))
    full: list = []

    def cb(x):
        full.append(-0.5 * prob.last[1])
    fit = glmm.fit_problem(prob, np.concatenate([b0, [s0]]), maxiter=maxiter,
                           callback=cb, report=cb)
    _log_lines(session, log, "" if fam_name == "binomial" else "Fitting full model:", full)
    V = glmm.observed_vcov(fit, st)
    if V is None:
        raise StataError(_ERR430, 430)
    point = glmm.stata_point(fit, st)
    p = len(fit.beta)
    n_clust = 0
    if data.clusters is not None:
        V, n_clust = _sandwich(V, glmm.group_scores(fit, st), data)
    J = np.ones(p + 1)
    J[p] = 2.0                                  # ln sd -> ln variance
    return ReFit(point[:p], 2.0 * float(point[p]), V * np.outer(J, J), fit.ll, ll_c,
                 fit.converged, n_clust)


def _sandwich(V, S, data: XtData):
    """V (sum_c S_c S_c') V x C/(C-1): S the panels' scores (G x k), summed over clusters."""
    first = np.zeros(int(data.groups.max()) + 1, dtype=np.int64)
    first[data.groups] = data.clusters
    C = int(first.max()) + 1
    if C < 2:
        raise StataError("error calculating robust variance", 430)
    Sc = np.zeros((C, S.shape[1]))
    np.add.at(Sc, first, S)
    Vr = V @ (Sc.T @ Sc) @ V * (C / (C - 1))
    return 0.5 * (Vr + Vr.T), C


def _fit_re_gamma(session, data: XtData, log, maxiter, X=None) -> ReFit:
    X = data.design.X_keep if X is None else X
    n = len(data.y)
    gd = glmm.GlmmData.build(data.y, X, np.zeros((n, 0)), np.zeros(n, dtype=np.int64),
                             offset=data.off)
    b0, ll_c, lines = _comparison(gd, gf.family("poisson", "log"), data.y, data.off, X)
    _log_lines(session, log, "Fitting Poisson model:", lines)
    x, ll, V, _, conv, full = pg.fit_gamma_poisson(data.y, X, data.off, data.groups,
                                                   np.concatenate([b0, [0.0]]), maxiter)
    _log_lines(session, log, "Fitting full model:", full)
    p = X.shape[1]
    n_clust = 0
    if data.clusters is not None:
        V, n_clust = _sandwich(V, pg.gamma_poisson_scores(x, X, data.y, data.off, data.groups),
                               data)
    return ReFit(x[:p], float(x[p]), V, ll, ll_c, conv, n_clust)


# --------------------------------------------------------------------------- fe
def _fe_sample(session, name: str, data: XtData) -> XtData:
    """Drop the panels that carry no information (all 0 or all 1; all 0 counts) with Stata's
    note, and the singleton panels."""
    G = int(data.groups.max()) + 1
    k = np.bincount(data.groups, weights=data.y, minlength=G)
    n_i = np.bincount(data.groups, minlength=G)
    bad = (k == 0) | ((k == n_i) if name == "xtlogit" else False) | (n_i < 2)
    if bad.any():
        drop = bad[data.groups]
        for ln in xo.dropped_note(int(bad.sum()), int(drop.sum()),
                                  "logit" if name == "xtlogit" else "poisson"):
            session.out.line(ln)
        keep = ~drop
        if not keep.any():
            raise StataError("no observations", 2000)
        rows = np.flatnonzero(data.mask)
        mask = data.mask.copy()
        mask[rows[drop]] = False
        design = _rows(data.design, keep)
        groups = factorize(data.groups[keep])[1]
        data = XtData(data.depvar, design, data.y[keep], data.off[keep], groups, mask,
                      data.ivar, data.value_labels, data.clustvar,
                      None if data.clusters is None else
                      np.unique(data.clusters[keep], return_inverse=True)[1].ravel())
    return data


def _rows(design: dz.Design, keep: np.ndarray) -> dz.Design:
    from dataclasses import replace
    return replace(design, X=np.asfortranarray(design.X[keep]))


def _mark_omitted(design: dz.Design, cols) -> dz.Design:
    """The design with the columns the conditional likelihood cannot estimate marked omitted
    (e(b) names `o.x`, table rows `0  (omitted)`)."""
    from dataclasses import replace
    drop = {int(j) for j in cols}
    return replace(design, columns=[replace(c, omitted=c.omitted or j in drop)
                                    for j, c in enumerate(design.columns)])


def _within_constant(X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    G = int(groups.max()) + 1
    n_i = np.bincount(groups, minlength=G)
    mean = np.zeros((G, X.shape[1]))
    np.add.at(mean, groups, X)
    mean /= n_i[:, None]
    dev = X - mean[groups]
    return np.all(np.abs(dev) <= 1e-12 * (1 + np.abs(X)), axis=0)


def _fit_fe(session, name: str, data: XtData, maxiter: int):
    """The fit over the design's kept columns (those without within variance omitted with
    Stata's note); returns (fit, mask over X_keep's columns actually estimated)."""
    X = data.design.X_keep
    const = _within_constant(X, data.groups)
    kidx = np.flatnonzero(data.design.keep)
    for j in np.flatnonzero(const):
        nm = data.design.stata_names[kidx[j]]
        session.out.line(f"note: {nm} omitted because of no within-group variance.")
    use = ~const
    if not use.any():
        raise StataError("no independent variables", 102)
    if name == "xtlogit":
        fit = pg.conditional_logit(data.y, X[:, use], data.groups, maxiter,
                                   data.off if np.any(data.off != 0) else None)
    else:
        fit = pg.conditional_poisson(data.y, X[:, use], data.off, data.groups, maxiter)
        if data.clusters is not None:
            S = pg.cpoisson_scores(fit.beta, X[:, use], data.y, data.off, data.groups)
            fit.V, fit.n_clust = _sandwich(fit.V, S, data)
    return fit, use


# --------------------------------------------------------------------------- e() and display
def _coefs(data: XtData, beta, V, use=None):
    design = data.design
    names = [(data.depvar, nm) for nm in design.stata_names]
    k = len(names)
    kidx = np.flatnonzero(design.keep)
    if use is not None:
        kidx = kidx[use]
    b = np.zeros(k)
    Vf = np.zeros((k, k))
    b[kidx] = beta
    Vf[np.ix_(kidx, kidx)] = V
    omitted = np.ones(k, dtype=bool)
    omitted[kidx] = False
    omitted |= design.omitted
    return names, b, Vf, omitted, [int(i) for i in kidx if names[i][1] != "_cons"]


def _wald(b, V, idx):
    if not idx:
        return 0.0, 0
    try:
        return float(b[idx] @ np.linalg.solve(V[np.ix_(idx, idx)], b[idx])), len(idx)
    except np.linalg.LinAlgError:
        return math.nan, len(idx)


def _panel_scalars(groups) -> dict:
    c = np.bincount(groups)
    return {"N": float(len(groups)), "N_g": float(len(c)), "g_min": float(c.min()),
            "g_avg": float(c.mean()), "g_max": float(c.max())}


def _re_results(cmd, name, data, fit: ReFit, gamma: bool, points) -> EstimationResults:
    p = len(fit.beta)
    names, b, Vf, omitted, slopes = _coefs(data, fit.beta, fit.V[:p, :p])
    k = len(names)
    aux = "lnalpha" if gamma else "lnsig2u"
    b = np.r_[b, fit.aux]
    V = np.zeros((k + 1, k + 1))
    V[:k, :k] = Vf
    kidx = [i for i in range(k) if not omitted[i]]
    idx = kidx + [k]
    V[np.ix_(idx, idx)] = fit.V
    res = EstimationResults(cmd=name, names=names + [("/", aux)], b=b, V=V,
                            omitted=np.r_[omitted, False], k_f=k, sample=data.mask.copy())
    chi2, df = _wald(b, V, slopes)
    chibar = 2.0 * (fit.ll - fit.ll_c)
    # a variance at its boundary leaves the two fits equal up to rounding (1e-13 of the
    # sums): that is chibar2 = 0 with p = 1, not a positive statistic with p = .5
    chibar = chibar if chibar > 1e-10 * (1.0 + abs(fit.ll)) else 0.0
    sc = _panel_scalars(data.groups)
    sc.update({"df_m": float(df), "chi2": chi2, "p": float(dist.chi2_sf(chi2, df)) if df else math.nan,
               "ll": fit.ll, "ll_c": fit.ll_c, "chi2_c": chibar,
               "p_c": 0.5 * float(dist.chi2_sf(chibar, 1)) if chibar > 0 else 1.0,
               "rank": float(len(idx)), "converged": 1.0 if fit.converged else 0.0})
    if gamma:
        sc["alpha"] = math.exp(fit.aux)
    else:
        s2 = math.exp(fit.aux)
        c = latent_variance(FAMILY[name][1])
        sc.update({"sigma_u": math.sqrt(s2), "rho": s2 / (s2 + c), "n_quad": float(points)})
    res.scalars = sc
    res.macros = {"cmd": name, "cmdline": cmd.text, "depvar": data.depvar, "ivar": data.ivar,
                  "model": "re", "title": TITLES[(name, "re")], "chi2type": "Wald",
                  "chi2_ct": "LR", "distrib": "Gamma" if gamma else "Gaussian",
                  "vce": "oim", "properties": "b V", "predict": f"{name}_p",
                  "intmethod": "" if gamma else "mvaghermite"}
    if fit.n_clust:
        res.macros.update(vce="cluster" if data.clustvar != data.ivar else "robust",
                          vcetype="Robust", clustvar=data.clustvar)
        sc["N_clust"] = float(fit.n_clust)
        for key in ("chi2_c", "p_c", "ll_c"):
            sc.pop(key, None)
    return res


def _fe_results(cmd, name, data, fit: pg.PanelFit, use) -> EstimationResults:
    names, b, V, omitted, slopes = _coefs(data, fit.beta, fit.V, use)
    res = EstimationResults(cmd=name, names=names, b=b, V=V, omitted=omitted, k_f=len(names),
                            sample=data.mask.copy())
    sc = _panel_scalars(data.groups)
    if name == "xtlogit":
        chi2, df, ctype = max(2 * (fit.ll - fit.ll0), 0.0), len(slopes), "LR"
    else:
        (chi2, df), ctype = _wald(b, V, slopes), "Wald"
    sc.update({"df_m": float(df), "chi2": chi2, "p": float(dist.chi2_sf(chi2, df)) if df else math.nan,
               "ll": fit.ll, "ll_0": fit.ll0, "rank": float(len(slopes)),
               "converged": 1.0 if fit.converged else 0.0, "ic": float(fit.iterations)})
    if name == "xtlogit":
        sc["r2_p"] = 1 - fit.ll / fit.ll0 if fit.ll0 else math.nan
    if fit.n_clust:
        sc["N_clust"] = float(fit.n_clust)
    res.scalars = sc
    res.macros = {"cmd": name, "cmdline": cmd.text, "depvar": data.depvar, "ivar": data.ivar,
                  "model": "fe", "title": TITLES[(name, "fe")], "chi2type": ctype,
                  "vce": "oim", "properties": "b V", "predict": f"{name}_p", "group": data.ivar}
    if fit.n_clust:
        res.macros.update(vce="cluster" if data.clustvar != data.ivar else "robust",
                          vcetype="Robust", clustvar=data.clustvar)
    return res


def _lr(res: EstimationResults, what: str) -> list[str]:
    """The LR test of the variance at its boundary (not after vce(robust): no likelihood)."""
    if "chi2_c" not in res.scalars:
        return []
    return [xo.lr_line(what, res.scalars["chi2_c"], res.scalars["p_c"])]


def _aux_lines(res: EstimationResults, level: float) -> list[str]:
    name = res.cmd
    k = res.k_f
    b = float(res.b[k])
    var = float(np.asarray(res.V)[k, k])
    # at the boundary (the variance estimated at 0, ln of it running off) the information is
    # singular there: no standard error or interval, the estimates only
    se = math.sqrt(var) if var > 1e-12 else math.nan
    z = float(dist.norm_isf((1 - level / 100) / 2))
    lo, hi = b - z * se, b + z * se
    aux = res.names[k][1]
    out = [rule("mid"), xo.aux_row("/" + aux, b, se, lo, hi), rule("mid")]
    if aux == "lnalpha":
        a = math.exp(b)
        return out + [xo.aux_row("alpha", a, a * se, math.exp(lo), math.exp(hi)), rule()] \
            + _lr(res, "alpha=0")
    s = math.exp(b / 2)
    out.append(xo.aux_row("sigma_u", s, s * se / 2, math.exp(lo / 2), math.exp(hi / 2)))
    if name == "xtpoisson":
        return out + [rule()] + _lr(res, "sigma_u=0")
    c = latent_variance(FAMILY[name][1])
    rho = s * s / (s * s + c)
    out += [xo.aux_row("rho", rho, rho * (1 - rho) * se, math.exp(lo) / (math.exp(lo) + c),
                       math.exp(hi) / (math.exp(hi) + c)), rule()]
    return out + _lr(res, "rho=0")


def display(session, res: EstimationResults, groups, level: float, eform: bool) -> None:
    sc, mac = res.scalars, res.macros
    re = mac["model"] == "re"
    gauss = mac.get("distrib") == "Gaussian"
    head = xo.header_lines(
        title=mac["title"], ivar=mac["ivar"], n=int(sc["N"]), n_g=int(sc["N_g"]),
        g=(sc["g_min"], sc["g_avg"], sc["g_max"]), re_dist=mac.get("distrib") if re else None,
        intmethod=mac.get("intmethod") if re and gauss else None,
        intpoints=int(sc.get("n_quad", 0)) or None,
        test=f"{mac['chi2type']} chi2({int(sc['df_m'])})", chi2=sc["chi2"], p=sc["p"],
        ll=sc["ll"], pseudo=bool(mac.get("vcetype")))
    out = session.out
    vt = mac.get("vcetype")
    for ln in head + [""]:
        out.line(ln)
    if vt:
        out.line(cluster_note(int(sc["N_clust"]), mac["clustvar"]))
    k = res.k_f
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V))[:k], 0, None))
    b = np.asarray(res.b)[:k]
    if eform:
        lines = eform_table(res.depvar, groups, b, se, title=EFORM[res.cmd][1], level=level,
                            vcetype=vt)
    else:
        lines = coef_table(res.depvar, groups, b, se, stat="z", level=level, vcetype=vt)
    from hlmshell.output.glm_output import offset_rows
    lines = lines[:-1] + offset_rows(mac.get("offset")) + lines[-1:]
    if re:
        lines = lines[:-1] + _aux_lines(res, level)
    for ln in lines:
        out.line(ln)


# --------------------------------------------------------------------------- the commands
def _eform(name: str, opts) -> bool:
    word = EFORM.get(name, ("", ""))[0]
    return bool(word and getattr(opts, word, False))


def _run(session, cmd, name: str) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        _replay(session, cmd, name)
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command(name, list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    model = _model(name, opts)
    fam_name, link = FAMILY[name]
    if model == "pa":
        xg.run_gee(session, cmd, name, fam_name, link,
                   EFORM[name][1] if _eform(name, opts) else None)
        return
    points = int(opts.intpoints)
    _intmethod(opts)
    if not 1 <= points <= 195:
        raise StataError("intpoints() must be between 1 and 195", 198)
    data = _prepare(session, cmd, spec, fixed_raw, opts, name, model)
    for note in data.design.notes:                 # collinearity (_rmcoll's notes)
        session.out.line(note)
    log = not opts.nolog or opts.log
    try:
        with np.errstate(all="ignore"):
            res = _estimate(session, cmd, name, model, data, opts, points, log)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(_ERR430, 430) from None
    session.post_estimation(res)
    design = res.model
    res.model = None
    groups = display_groups(design, baselevels=False, value_labels=data.value_labels)
    display(session, res, groups, float(opts.level), _eform(name, opts))


def _estimate(session, cmd, name, model, data, opts, points, log) -> EstimationResults:
    if len(data.y) <= data.design.X_keep.shape[1]:
        raise StataError("insufficient observations", 2001)
    if model == "fe":
        data = _fe_sample(session, name, data)
        fit, use = _fit_fe(session, name, data, int(opts.iterate))
        if log:
            _log_lines(session, True, "", fit.log)
        res = _fe_results(cmd, name, data, fit, use)
        data.design = _mark_omitted(data.design, np.flatnonzero(data.design.keep)[~use])
        res.names = [(data.depvar, nm) for nm in data.design.stata_names]
    else:
        gamma = name == "xtpoisson" and not opts.normal
        fit = _fit_re_gamma(session, data, log, int(opts.iterate)) if gamma else \
            _fit_re_normal(session, data, *FAMILY[name], points, log, int(opts.iterate),
                           _intmethod(opts))
        res = _re_results(cmd, name, data, fit, gamma, points)
        if not gamma:
            res.macros["intmethod"] = _intmethod(opts)
        if opts.lrmodel:
            _lr_model(session, res, data, name, gamma, points, opts)
    if res.scalars["converged"] == 0.0:
        session.out.line("convergence not achieved")
    offset_macros(res, opts)
    res.model = data.design
    return res


def _lr_model(session, res, data, name, gamma, points, opts) -> None:
    """lrmodel: the model test as an LR test against the constant-only random-effects model
    (fitted quietly), instead of the Wald test."""
    if res.macros.get("vcetype"):
        raise StataError("option lrmodel not allowed with vce(robust) or vce(cluster)", 198)
    X = data.design.X_keep
    cons = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
    X0 = X[:, cons[:1]] if cons else np.zeros((len(data.y), 0))
    if X0.shape[1] == 0:
        raise StataError("option lrmodel requires a constant term", 198)
    fit0 = _fit_re_gamma(session, data, False, int(opts.iterate), X0) if gamma else \
        _fit_re_normal(session, data, *FAMILY[name], points, False, int(opts.iterate),
                       _intmethod(opts), X0)
    chi2 = max(2.0 * (res.scalars["ll"] - fit0.ll), 0.0)
    df = int(res.scalars["df_m"])
    res.scalars.update(ll_0=fit0.ll, chi2=chi2,
                       p=float(dist.chi2_sf(chi2, df)) if df else math.nan)
    res.macros["chi2type"] = "LR"


def _replay(session, cmd, name: str) -> None:
    res = session.e
    if res is None or res.cmd != name:
        raise StataError("last estimates not found", 301)
    opts = bind_command(name, cmd.options)
    if res.macros.get("model") == "pa":
        xg.display(session, res, groups_from_names([nm for _, nm in res.names]),
                   float(opts.level), _eform(name, opts), EFORM.get(name, ("", None))[1])
        return
    names = [nm for _, nm in res.names[:res.k_f]]
    display(session, res, groups_from_names(names), float(opts.level), _eform(name, opts))


def _options(name: str) -> tuple:
    base = tuple(o for o in xg.gee_options() if o.name not in ("family", "link", "eform", "exposure", "offset"))
    extra = [Opt("re", desc="random-effects model; the default"),
             Opt("fe", desc="conditional fixed-effects model"),
             Opt("pa", desc="population-averaged model (xtgee)"),
             Opt("intpoints", "intp", "int", 12, "quadrature points; default 12"),
             Opt("intmethod", "intm", "string", None, "mvaghermite (the default), aghermite or ghermite"),
             Opt("lrmodel", desc="re: LR test of the model against the constant-only model")]
    # ml's maximize options do-files pass: the fit reaches the same optimum without them
    have = {o.name for o in base} | {o.name for o in extra}
    extra += [o for o in (Opt("technique", "tech", "string", None, "accepted for compatibility"),
                          Opt("difficult", desc="accepted for compatibility"),
                          Opt("nrtolerance", "nrtol", "real", 1e-5, "accepted for compatibility"),
                          Opt("nonrtolerance", desc="accepted for compatibility"),
                          Opt("ltolerance", "ltol", "real", 1e-7, "accepted for compatibility"),
                          Opt("showstep", desc="accepted for compatibility"),
                          Opt("gradient", desc="accepted for compatibility"),
                          Opt("hessian", desc="accepted for compatibility"),
                          Opt("showtolerance", desc="accepted for compatibility"))
              if o.name not in have]
    if name != "xtpoisson":
        extra.append(Opt("offset", "off", "string", None, "include varname with coefficient 1"))
    if name in EFORM:
        word = EFORM[name][0]
        extra.append(Opt(word, desc="report exponentiated coefficients"))
    if name == "xtpoisson":
        extra += [Opt("normal", desc="re: normally distributed random effects"),
                  Opt("gamma", desc="re: gamma-distributed random effects; the default"),
                  Opt("offset", "off", "string", None, "include varname with coefficient 1"),
                  Opt("exposure", "exp", "string", None, "include ln(varname) with coefficient 1")]
    return base + tuple(extra)


def _register(name: str, desc: str, example: str):
    @command(name, abbrev=name, rule="mixed", family="Estimation", body="fvvarlist",
             qualifiers="if in", desc=desc, example=example, options=_options(name))
    def handler(session, cmd) -> None:
        _run(session, cmd, name)
    return handler


xtlogit_cmd = _register("xtlogit", "random-effects, conditional fixed-effects and "
                        "population-averaged logit models", "xtlogit resp age smoke, re")
xtprobit_cmd = _register("xtprobit", "random-effects and population-averaged probit models",
                         "xtprobit resp age smoke")
xtcloglog_cmd = _register("xtcloglog", "random-effects and population-averaged complementary "
                          "log-log models", "xtcloglog union age grade south, re")
xtpoisson_cmd = _register("xtpoisson", "random-effects, conditional fixed-effects and "
                          "population-averaged Poisson models", "xtpoisson y trt lbase, re")


# --------------------------------------------------------------------------- predict
def predict(session, cmd, res, opts) -> None:
    """predict after xtlogit/xtprobit/xtcloglog/xtpoisson: pa as xtgee (mu the default); re and fe the
    statistics of xt_glmm_predict."""
    if res.macros.get("model") == "pa":
        xg.predict(session, cmd, res, opts)
        return
    from hlmshell.commands import xt_glmm_predict
    xt_glmm_predict.predict(session, cmd, res, opts)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    for name in ("xtlogit", "xtprobit", "xtcloglog", "xtpoisson"):
        PREDICTORS[name] = predict


_register_predict()
