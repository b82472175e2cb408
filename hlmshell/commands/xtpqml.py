"""xtpqml (Simcoe's community command, built in): the fixed-effects Poisson quasi-ML estimator,
xtpoisson, fe with Wooldridge's (1999) robust standard errors, clustered on the panel (or on
cluster()).

As the ado-file does: the conditional fixed-effects Poisson fit is shown first as xtpoisson,
fe prints it, then `Calculating Robust Standard Errors...` and the table again with the
sandwich V (sum over clusters of the panels' scores, times C/(C-1)). e() is xtpoisson's with
the robust e(V), e(vcetype) Robust and e(cmd) xtpqml; predict gives xb and stdp.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import xt_glmm as xm
from hlmshell.commands.estimation import _split_spec
from hlmshell.engine import panel_glmm as pg
from hlmshell.errors import StataError
from hlmshell.output.coeftable import cluster_note, coef_table, groups_from_names
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.registry import Opt, bind_command, command


def _robust(fit, data: xm.XtData, use, clusters):
    X = data.design.X_keep[:, use]
    S = pg.cpoisson_scores(fit.beta, X, data.y, data.off, data.groups)
    data.clusters = clusters
    return xm._sandwich(fit.V, S, data)


def _run(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        _replay(session, cmd)
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("xtpqml", list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    data = xm._prepare(session, cmd, spec, fixed_raw, opts, "xtpoisson", "fe")
    clusters = data.clusters
    data.clusters = None
    if len(data.y) <= data.design.X_keep.shape[1]:
        raise StataError("insufficient observations", 2001)
    data = xm._fe_sample(session, "xtpoisson", _with_clusters(data, clusters))
    clusters = data.clusters if clusters is not None else data.groups
    data.clusters = None
    log = not opts.nolog or opts.log
    try:
        with np.errstate(all="ignore"):
            fit, use = xm._fit_fe(session, "xtpoisson", data, int(opts.iterate))
            if log:
                xm._log_lines(session, True, "", fit.log)
            res = xm._fe_results(cmd, "xtpoisson", data, fit, use)
            Vr, n_clust = _robust(fit, data, use, clusters)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError(xm._ERR430, 430) from None
    data.design = xm._mark_omitted(data.design, np.flatnonzero(data.design.keep)[~use])
    groups = display_groups(data.design, baselevels=False, value_labels=data.value_labels)
    xm.display(session, res, groups, float(opts.level), bool(opts.irr))
    session.out.line("")
    session.out.line("Calculating Robust Standard Errors...")
    kidx = [i for i in range(res.k_f) if not res.omitted[i]]
    V = np.zeros_like(res.V)
    V[np.ix_(kidx, kidx)] = Vr
    res.V = V
    slopes = [i for i in kidx if res.names[i][1] != "_cons"]
    chi2, df = xm._wald(np.ravel(res.b), V, slopes)
    res.cmd = "xtpqml"
    res.scalars.update(chi2=chi2, p=float(dist.chi2_sf(chi2, df)) if df else math.nan,
                       N_clust=float(n_clust))
    res.macros.update(cmd="xtpqml", cmd2="xtpoisson", vcetype="Robust", vce="cluster",
                      clustvar=data.clustvar or data.ivar, chi2type="Wald", predict="xtpqml")
    res.names = [(data.depvar, nm) for nm in data.design.stata_names]
    session.post_estimation(res)
    robust_table(session, res, groups, float(opts.level), bool(opts.irr))


def _with_clusters(data: xm.XtData, clusters) -> xm.XtData:
    data.clusters = clusters
    return data


def robust_table(session, res, groups, level: float, irr: bool) -> None:
    out = session.out
    out.line("")
    out.line(cluster_note(int(res.scalars["N_clust"]), res.macros["clustvar"]))
    k = res.k_f
    b = np.ravel(res.b)[:k]
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V))[:k], 0, None))
    if irr:
        lines = eform_table(res.depvar, groups, b, se, title="IRR", level=level,
                            vcetype="Robust")
    else:
        lines = coef_table(res.depvar, groups, b, se, stat="z", level=level, vcetype="Robust")
    for ln in lines:
        out.line(ln)


def _replay(session, cmd) -> None:
    res = session.e
    if res is None or res.cmd != "xtpqml":
        raise StataError("last estimates not found", 301)
    opts = bind_command("xtpqml", cmd.options)
    robust_table(session, res, groups_from_names([nm for _, nm in res.names[:res.k_f]]),
                 float(opts.level), bool(opts.irr))


@command("xtpqml", abbrev="xtpqml", rule="mixed", family="Estimation", body="fvvarlist",
         qualifiers="if in",
         options=(Opt("fe", desc="fixed effects (the only model; accepted)"),
                  Opt("i", "i", "string", None, "panel variable (sets xtset's)"),
                  Opt("irr", desc="report incidence-rate ratios"),
                  Opt("cluster", "cl", "string", None, "cluster on this variable, not the panel"),
                  Opt("vce", "vce", "string", None, "not needed: the SEs are always robust"),
                  Opt("robust", "r", desc="accepted: the SEs are always robust"),
                  Opt("offset", "off", "string", None, "include varname with coefficient 1"),
                  Opt("exposure", "exp", "string", None, "include ln(varname) with coefficient 1"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("nolog", desc="do not show the iteration log"),
                  Opt("log", desc="show the iteration log; the default"),
                  Opt("iterate", "iter", "int", 100, "maximum number of iterations")),
         desc="fixed-effects Poisson quasi-ML with robust standard errors (Simcoe's, built in)",
         example="xtpqml y trt lbase, fe i(id)")
def xtpqml_cmd(session, cmd) -> None:
    _run(session, cmd)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["xtpqml"] = xm.predict


_register_predict()
