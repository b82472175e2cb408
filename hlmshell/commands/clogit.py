"""clogit: conditional (fixed-effects) logistic regression, as Stata 17's [R] clogit.

    clogit depvar [indepvars] [if] [in], group(varname) [or offset(varname)
        vce(oim|robust|cluster clustvar) level(#) nolog iterate(#)]

Matched case-control and other grouped binary data: the likelihood of each group is
conditioned on its number of positive outcomes (the exact conditional likelihood, by the
elementary-symmetric-polynomial recursion of engine.panel_glmm, so several positives per group
are handled exactly, as Stata does). Groups whose outcomes are all positive or all negative
carry no information and are dropped with Stata's note; covariates constant within every group
are omitted. Header: LR chi2 against b = 0 and McFadden's pseudo R2; vce(robust) clusters on
the group variable (vce(cluster v) on v, groups nested in clusters), with Wald chi2.
predict: pc1 (the default: the probability of a positive outcome given one per group), pu0
(the fixed effect taken as 0), xb, stdp.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import (
    _mixed_sample,
    _resolve_fixed_part,
    _split_spec,
    parse_vce,
)
from hlmshell.commands.glm_cmds import _sandwich, offset_macros
from hlmshell.commands.model_terms import engine_terms, factor_labels, resolve_var
from hlmshell.engine import clogit_fit as cf
from hlmshell.engine import clogit_scores as cs
from hlmshell.engine import design as dz
from hlmshell.engine import panel_glmm as pg
from hlmshell.engine.factorize import factorize
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output import glm_output as go
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.output.xt_glmm_output import dropped_note
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults

TITLE = "Conditional (fixed-effects) logistic regression"
_VCE = (("oim", 3), ("robust", 1), ("cluster", 2))
_ERR430 = "could not calculate numerical derivatives -- flat or discontinuous region encountered"


def _group_var(ds, opts) -> str:
    text = opts.raw("group") if "group" in opts else None
    other = opts.raw("strata") if "strata" in opts else None
    if text and other:
        raise StataError("strata() and group() may not be specified at the same time", 198)
    text = text or other
    if not text or not text.strip():
        raise StataError("group() required", 198)
    names = resolve_var(ds, text.strip())
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    return names[0]




class _Data:
    """The estimation sample after dropping uninformative groups."""

    def __init__(self, mask, y, X, groups, off, clusters, n_drop, g_drop, multiple):
        self.mask, self.y, self.X, self.groups, self.off = mask, y, X, groups, off
        self.clusters, self.n_drop, self.g_drop, self.multiple = clusters, n_drop, g_drop, multiple


def _informative(session, mask, y, X, gcodes, off, clusters) -> _Data:
    """Stata's notes on multiple positives and on the dropped groups; the kept rows."""
    G = int(gcodes.max()) + 1
    k = np.bincount(gcodes, weights=y, minlength=G)
    n_i = np.bincount(gcodes, minlength=G)
    bad = (k == 0) | (k == n_i)
    if bad.all():
        raise StataError("outcome does not vary in any group", 2000)
    multiple = bool(np.any(k > 1))
    if multiple:
        session.out.line("note: multiple positive outcomes within groups encountered.")
    drop = bad[gcodes]
    if bad.any():
        for ln in dropped_note(int(bad.sum()), int(drop.sum()), "logit"):
            session.out.line(ln)
    keep = ~drop
    rows = np.flatnonzero(mask)
    mask = mask.copy()
    mask[rows[drop]] = False
    cl = None if clusters is None else clusters[keep]
    return _Data(mask, y[keep], X[keep], factorize(gcodes[keep].astype(float))[1], off[keep],
                 cl, int(drop.sum()), int(bad.sum()), multiple)


def _within_constant(X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    G = int(groups.max()) + 1
    n_i = np.bincount(groups, minlength=G)
    mean = np.zeros((G, X.shape[1]))
    np.add.at(mean, groups, X)
    dev = X - (mean / n_i[:, None])[groups]
    return np.all(np.abs(dev) <= 1e-12 * (1 + np.abs(X)), axis=0)


def _cluster_codes(column, groups, clustvar):
    """Cluster code per row: the groups themselves for vce(robust), else clustvar's values,
    which must nest the groups."""
    if clustvar is None:
        return groups.copy()
    codes = np.unique(np.asarray(column(clustvar)).astype(str), return_inverse=True)[1].ravel()
    first = np.full(int(groups.max()) + 1, -1)
    first[groups] = codes
    if np.any(first[groups] != codes):
        raise StataError("groups (strata) are not nested within clusters", 459)
    return codes


def _prepare(session, cmd, spec, fixed_raw, opts):
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    gvar = _group_var(ds, opts)
    vce = parse_vce(ds, opts, _VCE)
    off_var = (opts.raw("offset") or "").strip() or None
    if off_var:
        found = resolve_var(ds, off_var)
        if len(found) != 1:
            raise StataError("too many variables specified", 103)
        off_var = found[0]
    numeric = [depvar] + [v for v in fvars + ([off_var] if off_var else []) if v != depvar]
    strg = [v for v in (gvar, vce.clustvar) if v and ds.var(v).is_string]
    numeric += [v for v in (gvar, vce.clustvar) if v and v not in strg and v not in numeric]
    mask = _mixed_sample(session, cmd, numeric, strg)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.drop_constant(dz.build_fixed(engine_terms(fixed), column, n, constant=True))
    y = (np.asarray(column(depvar), dtype=float) != 0).astype(float)
    gcodes = np.unique(np.asarray(column(gvar)).astype(str) if ds.var(gvar).is_string
                       else np.asarray(column(gvar), dtype=float), return_inverse=True)[1].ravel()
    off = np.asarray(column(off_var), dtype=float) if off_var else np.zeros(n)
    clusters = _cluster_codes(column, gcodes, vce.clustvar) if vce.robust else None
    return depvar, fixed, gvar, vce, off_var, design, mask, y, gcodes, off, clusters


@command("clogit", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="conditional (fixed-effects) logistic regression",
         example="clogit case exposed, group(set) or",
         options=(Opt("group", "gr", "string", None, "matched group variable (required)"),
                  Opt("strata", "str", "string", None, "synonym for group()"),
                  Opt("offset", "off", "string", None, "include varname in model with coefficient constrained to 1"),
                  Opt("or", desc="report odds ratios"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("vce", "vce", "string", None, "vcetype: oim, robust or cluster clustvar"),
                  Opt("robust", "r", desc="old syntax of vce(robust)"),
                  Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)"),
                  Opt("nolog", desc="do not show the iteration log"),
                  Opt("log", desc="show the iteration log; the default"),
                  Opt("iterate", "iter", "int", 300, "maximum number of iterations")))
def clogit_cmd(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = session.e
        if res is None or res.cmd != "clogit":
            raise StataError("last estimates not found", 301)
        opts = bind_command("clogit", cmd.options)
        display(session, res, confidence_level(session, opts), "or" in opts)
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("clogit", list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    level = confidence_level(session, opts)
    depvar, fixed, gvar, vce, off_var, design, mask, y, gcodes, off, clusters = \
        _prepare(session, cmd, spec, fixed_raw, opts)
    for note in design.notes:
        session.out.line(note)
    data = _informative(session, mask, y, design.X_keep, gcodes, off, clusters)
    const = _within_constant(data.X, data.groups)
    kidx = np.flatnonzero(design.keep)
    for j in np.flatnonzero(const):
        session.out.line(f"note: {design.stata_names[kidx[j]]} omitted because of no "
                         "within-group variance.")
    use = ~const
    if off_var and _within_constant(data.off[:, None], data.groups)[0]:
        session.out.line(f"note: offset {off_var} omitted because of no within-group variance.")
        data.off = np.zeros_like(data.off)
        off_var = None
    if not use.any():
        raise StataError("no independent variables", 102)
    fit = _fit(data, use, int(opts.iterate))
    if not opts.nolog or opts.log:
        session.out.line("")
        for i, v in enumerate(fit.log):
            session.out.line(go.iteration_line(i, v, pseudo=vce.robust))
    V, n_clust = fit.V, None
    if vce.robust:
        S = cs.group_scores(fit.beta, data.X[:, use], data.y, data.groups,
                            data.off if off_var else None)
        first = np.zeros(int(data.groups.max()) + 1, dtype=np.int64)
        first[data.groups] = data.clusters
        if len(np.unique(first)) < 2:
            raise StataError("error calculating robust variance", 430)
        V, n_clust = _sandwich(fit.V, S, first)
    res = _results(cmd, depvar, gvar, design, kidx[use], data, fit, V, vce, n_clust)
    if not fit.converged:
        session.out.line("convergence not achieved")
    if off_var:
        offset_macros(res, opts)
    res.value_labels = factor_labels(session.data, fixed)
    session.post_estimation(res)
    display(session, res, level, "or" in opts)


def _fit(data: _Data, use, maxit: int) -> pg.PanelFit:
    try:
        with np.errstate(all="ignore"):
            fit = cf.fit(data.y, data.X[:, use], data.groups,
                         data.off if np.any(data.off != 0) else None, maxit)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(_ERR430, 430) from None
    if not np.all(np.isfinite(fit.beta)) or not np.isfinite(fit.ll):
        raise StataError(_ERR430, 430)
    return fit


def _results(cmd, depvar, gvar, design, cols, data: _Data, fit, V, vce, n_clust):
    names = [(depvar, nm) for nm in design.stata_names]
    k = len(names)
    b = np.zeros(k)
    Vf = np.zeros((k, k))
    b[cols] = fit.beta
    Vf[np.ix_(cols, cols)] = V
    omitted = np.ones(k, dtype=bool)
    omitted[cols] = False
    design = _mark_omitted(design, omitted & ~design.omitted)
    omitted |= design.omitted
    names = [(depvar, nm) for nm in design.stata_names]
    res = EstimationResults(cmd="clogit", names=names, b=b, V=Vf, omitted=omitted, k_f=k,
                            sample=data.mask.copy())
    df = len(cols)
    if vce.robust:
        try:
            chi2 = float(fit.beta @ np.linalg.solve(V, fit.beta))
        except np.linalg.LinAlgError:
            chi2 = math.nan
        chi2type = "Wald"
    else:
        chi2, chi2type = max(2.0 * (fit.ll - fit.ll0), 0.0), "LR"
    res.scalars = {"N": float(len(data.y)), "N_drop": float(data.n_drop),
                   "N_group_drop": float(data.g_drop), "k": float(k), "k_eq": 1.0,
                   "k_eq_model": 1.0, "k_dv": 1.0, "df_m": float(df), "ll": fit.ll,
                   "ll_0": fit.ll0, "chi2": chi2,
                   "p": float(dist.chi2_sf(chi2, df)) if df and math.isfinite(chi2) else math.nan,
                   "r2_p": 1.0 - fit.ll / fit.ll0 if fit.ll0 else math.nan,
                   "rank": float(df), "ic": float(fit.iterations), "rc": 0.0,
                   "converged": 1.0 if fit.converged else 0.0}
    res.macros = {"cmd": "clogit", "cmdline": cmd.text, "depvar": depvar, "group": gvar,
                  "title": TITLE, "chi2type": chi2type, "vce": vce.kind or "oim",
                  "crittype": "log pseudolikelihood" if vce.robust else "log likelihood",
                  "properties": "b V", "predict": "clogit_p", "opt": "moptimize",
                  "ml_method": "d2", "technique": "nr", "which": "max"}
    if data.multiple:
        res.macros["multiple"] = "multiple"
    if vce.robust:
        res.macros.update(vcetype="Robust", clustvar=vce.clustvar or gvar,
                          vce="cluster" if vce.clustvar else "robust")
        res.scalars["N_clust"] = float(n_clust)
    res.design = design
    res.group_codes = data.groups
    return res


def _mark_omitted(design: dz.Design, omitted) -> dz.Design:
    """The design with the columns the conditional likelihood cannot estimate marked omitted
    (e(b) names `o.x`, table rows `0  (omitted)`)."""
    from dataclasses import replace
    return replace(design, columns=[replace(c, omitted=c.omitted or bool(omitted[j]))
                                    for j, c in enumerate(design.columns)])


def display(session, res, level: float, eform: bool) -> None:
    sc, mac = res.scalars, res.macros
    robust = bool(mac.get("vcetype"))
    out = session.out
    out.line("")
    for line in go.header_lines(TITLE, int(sc["N"]), int(sc["df_m"]), sc["chi2"], sc["p"],
                                sc["ll"], sc["r2_p"], mac["chi2type"], robust):
        out.line(line)
    out.line("")
    if robust:
        out.line(ct.cluster_note(int(sc["N_clust"]), mac["clustvar"]))
    groups = display_groups(res.design, baselevels=False,
                            value_labels=getattr(res, "value_labels", {}))
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V)), 0, None))
    b = np.asarray(res.b)
    vt = mac.get("vcetype")
    if eform:
        lines = eform_table(res.depvar, groups, b, se, title="Odds ratio", level=level,
                            vcetype=vt)
    else:
        lines = ct.coef_table(res.depvar, groups, b, se, stat="z", level=level, vcetype=vt)
    lines = lines[:-1] + go.offset_rows(mac.get("offset")) + lines[-1:]
    for ln in lines:
        out.line(ln)


# --------------------------------------------------------------------------- predict
_STATS = ("pc1", "pu0", "xb", "stdp")


def predict(session, cmd, res, opts) -> None:
    """predict after clogit: pc1 (default), pu0, xb, stdp."""
    from hlmshell.commands.predict import _add, _new_names, _touse, stdp_all, xb_all
    given = [w for w in _STATS + ("pr", "mu", "residuals", "reffects", "fitted")
             if w in opts and getattr(opts, w, None)]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    if given and given[0] not in _STATS:
        raise StataError(f"option {given[0]} not allowed", 198)
    stat = given[0] if given else "pc1"
    if not given:
        session.out.line("(option pc1 assumed; probability of success given one success "
                         "within group)")
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    touse = _touse(session, cmd)
    xb = xb_all(res, data)
    if res.macros.get("offset"):
        xb = xb + np.asarray(data.values(res.macros["offset"]), dtype=float)
    if stat == "xb":
        col, lab = xb, "Linear prediction"
    elif stat == "stdp":
        col, lab = stdp_all(res, data), "S.E. of the linear prediction"
    elif stat == "pu0":
        with np.errstate(all="ignore"):
            col = 1.0 / (1.0 + np.exp(-xb))
        lab = "Pr(" + res.depvar + "|fixed effect is 0)"
    else:
        col, lab = _pc1(session, res, xb, touse), "Pr(" + res.depvar + "|single outcome)"
    _add(session, names, [col], [lab], vtype, touse)


def _pc1(session, res, xb, touse) -> np.ndarray:
    """exp(xb) over its group's sum, within the observations predicted for (nonmissing xb and
    group, if/in)."""
    ds = session.data
    g = ds.var(res.macros["group"])
    gv = np.asarray(g.values)
    ok = touse & ~np.isnan(xb)
    if not g.is_string:
        ok &= ~np.isnan(gv.astype(float))
    out = np.full(ds.n, np.nan)
    if ok.any():
        codes = np.unique(gv[ok].astype(str) if g.is_string else gv[ok].astype(float),
                          return_inverse=True)[1].ravel()
        out[ok] = cs.share_of_group(xb[ok], codes)
    return out


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["clogit"] = predict


_register_predict()
