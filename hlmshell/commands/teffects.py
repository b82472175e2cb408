"""teffects: treatment effects from observational data, as Stata 17's [TE] teffects.

    teffects ra      (ovar omvarlist [, noconstant]) (tvar)                   [, ate|atet|pomeans]
    teffects ipw     (ovar) (tvar tmvarlist [, logit|probit noconstant])     [, ate|atet|pomeans]
    teffects ipwra   (ovar omvarlist [, noconstant]) (tvar tmvarlist [, ...]) [, ate|atet|pomeans]
    teffects aipw    (ovar omvarlist [, noconstant]) (tvar tmvarlist [, ...]) [, ate|pomeans]
    teffects nnmatch (ovar omvarlist) (tvar) [, ate|atet nneighbor(#) metric() biasadj() ...]
    teffects psmatch (ovar) (tvar tmvarlist [, logit|probit]) [, ate|atet nneighbor(#) ...]

The regression-adjustment and weighting estimators solve their stacked estimating equations
(engine.teffects) and report Stata's robust M-estimation standard errors; aequations shows
the outcome (OME#) and treatment (TME#) equations that e(b) always carries. The matching
estimators are in teffects_match. Typed alone, teffects replays the last results.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import teffects_display as tdisp
from hlmshell.commands import teffects_syntax as tsx
from hlmshell.commands._postest import confidence_level
from hlmshell.commands.teffects_sample import (
    TeSample,
    attach_display_info,
    check_overlap,
    check_vce,
    stat_of,
    weights_of,
)
from hlmshell.engine import teffects as te
from hlmshell.errors import StataError
from hlmshell.registry import Opt, Sub, bind_options, command
from hlmshell.results import EstimationResults
from hlmshell.syntax.ast import Command
from hlmshell.syntax.parser import fill_qualifiers

COMMON = (Opt("ate", desc="average treatment effect in the population; the default"),
          Opt("atet", desc="average treatment effect on the treated"),
          Opt("pomeans", "pom", desc="potential-outcome means"),
          Opt("control", "con", "string", desc="the level of tvar that is the control"),
          Opt("tlevel", "tle", "string", desc="the level of tvar that is the treatment"),
          Opt("vce", "vce", "string", desc="vce(robust); the matching estimators also "
                                               "vce(robust, nn(#)) and vce(iid)"),
          Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
          Opt("nolog", "nolog", desc="suppress the iteration log"),
          Opt("log", "log", desc="show the iteration log"),
          Opt("iterate", "iter", "int", desc="maximum number of iterations"),
          Opt("tolerance", "tol", "real", desc="convergence tolerance"),
          Opt("pstolerance", "pstol", "real", desc="smallest propensity score allowed; "
                                                   "default 1e-5"),
          Opt("noshow", desc="(accepted)"),
          Opt("coeflegend", "coefl", desc="display legend instead of statistics"))
EE_OPTIONS = COMMON + (Opt("aequations", "aeq", desc="display the auxiliary equations"),)
MATCH_OPTIONS = COMMON + (
    Opt("nneighbor", "nn", "int", 1, "number of matches per observation"),
    Opt("biasadj", "bias", "string", desc="bias-correct with these variables"),
    Opt("ematch", "e", "string", desc="match exactly on these variables"),
    Opt("metric", "metric", "string", desc="mahalanobis (default), ivariance or euclidean"),
    Opt("caliper", "cal", "real", desc="largest distance of a potential match"),
    Opt("dtolerance", "dtol", "real", desc="distance under which observations tie"),
    Opt("dmvariables", "dmv", desc="display the matching variables"),
    Opt("generate", "gen", "string", desc="stub for variables holding the observation "
                                          "numbers of each unit's matches"))
SUBS = {"ra": EE_OPTIONS, "ipw": EE_OPTIONS, "ipwra": EE_OPTIONS, "aipw": EE_OPTIONS,
        "nnmatch": MATCH_OPTIONS, "psmatch": MATCH_OPTIONS}
_SUB_DESC = {"ra": "regression adjustment", "ipw": "inverse-probability weighting",
             "ipwra": "inverse-probability-weighted regression adjustment",
             "aipw": "augmented inverse-probability weighting",
             "nnmatch": "nearest-neighbor matching", "psmatch": "propensity-score matching"}


@command("teffects", family="Estimation", raw=True, byable=True, check_options=False,
         options=MATCH_OPTIONS + (Opt("aequations", "aeq"),),
         subcommands=tuple(Sub(k, k, _SUB_DESC[k], v) for k, v in SUBS.items())
         + (Sub("overlap", "overlap", "overlap plot of the propensity scores"),),
         desc="treatment-effects estimation for observational data",
         example="teffects ra (bweight mage prenatal1) (mbsmoke), ate")
def teffects_cmd(session, cmd) -> None:
    text = (cmd.body or "").strip()
    m = re.match(r"([A-Za-z_]\w*)(.*)", text, re.S)
    if not m:
        if text and not text.startswith(","):
            raise StataError("invalid syntax", 198)
        return _replay(session, text.lstrip(","))
    sub, rest = m.group(1), m.group(2)
    key = sub.lower()
    if key == "overlap":
        from hlmshell.commands.teffects_overlap import overlap
        return overlap(session, rest)
    if key not in SUBS:
        raise StataError(f"{sub} is not a valid teffects subcommand", 198)
    c = Command(name="teffects", text=cmd.text)
    fill_qualifiers(c, rest, allow_exp=False)
    opts = bind_options(SUBS[key], c.options)
    models = tsx.parse_models(c.body, key)
    if key in ("nnmatch", "psmatch"):
        from hlmshell.commands.teffects_match import estimate_matching
        return estimate_matching(session, c, key, models, opts)
    return _estimate_ee(session, c, key, models, opts)


def _replay(session, opttext: str) -> None:
    res = session.e
    if res is None or res.cmd != "teffects":
        raise StataError("last estimates not found", 301)
    from hlmshell.syntax.parser import parse_options
    opts = bind_options(EE_OPTIONS, parse_options(opttext))
    tdisp.show(session, res, confidence_level(session, opts), aequations=bool(opts.aequations),
               coeflegend=bool(opts.coeflegend))


def _outcome_designs(smp, models, codes, L):
    """The outcome design on the sample and the columns each level's equation estimates."""
    dsg, Xk = tsx.design(None, smp.oterms, smp.column, smp.n, not models.outcome.noconstant)
    keep = np.flatnonzero(dsg.keep)
    keeps = [tsx.estimable_within(Xk, np.flatnonzero(codes == j), keep) for j in range(L)]
    return dsg, Xk, keeps


def _check_outcome(smp, omodel: str) -> None:
    """The logit and probit outcome models take a 0/1 outcome, the Poisson a nonnegative one."""
    y = smp.y
    if omodel in ("logit", "probit") and not np.all((y == 0) | (y == 1)):
        raise StataError(f"{smp.y_name} must be 0 or 1 for the {omodel} outcome model", 450)
    if omodel == "poisson" and np.any(y < 0):
        raise StataError(f"{smp.y_name} must be greater than or equal to zero", 459)


def _check_models(models, sub: str) -> None:
    if models.outcome.model not in ("linear", "logit", "probit", "poisson"):
        raise StataError(f"outcome model {models.outcome.model} is not implemented here", 198)
    if models.treatment.model == "hetprobit":
        raise StataError("treatment model hetprobit is not implemented here", 198)


def _fit(sub, stat, models, d):
    try:
        return te.estimate(te.Spec(sub, stat, models.treatment.model, models.outcome.model), d)
    except te.TeError as err:
        raise StataError(str(err), err.code) from None
    except np.linalg.LinAlgError:
        raise StataError("the estimating equations are singular; a model is not identified",
                         459) from None


def _estimate_ee(session, c, sub: str, models, opts) -> None:
    _check_models(models, sub)
    stat = stat_of(opts, sub)
    check_vce(opts, False)
    level = confidence_level(session, opts)
    smp = TeSample(session, c, models)
    w, wkind = weights_of(session, c, smp.mask)
    order, target = tsx.treatment_order(session, smp.t_name, smp.tv, opts.raw("control"),
                                        opts.raw("tlevel"))
    L = len(order)
    if L > 2 and models.treatment.model == "probit":
        raise StataError("probit treatment model not allowed with more than two treatment "
                         "levels; use logit", 198)
    codes = np.zeros(smp.n, dtype=int)
    for j, v in enumerate(order):
        codes[smp.tv == v] = j
    _check_outcome(smp, models.outcome.model)
    d = te.TeData(y=smp.y, t=codes, w=w, wkind=wkind, levels=L, target=order.index(target))
    odes = tdes = keeps = None
    if sub != "ipw":
        odes, Xk, keeps = _outcome_designs(smp, models, codes, L)
        d.Xs = [Xk[:, k] for k in keeps]
    if sub != "ra":
        tdes, d.Z = tsx.design(None, smp.tterms, smp.column, smp.n,
                               not models.treatment.noconstant)
    fit = _fit(sub, stat, models, d)
    if fit.ps is not None:
        check_overlap(fit.ps, opts, smp.t_name, order)
    res = _results(session, c, (sub, stat), smp, models, order, target, fit,
                   (odes, keeps, tdes), (w, wkind))
    session.post_estimation(res)
    if not opts.nolog:
        session.out.line("")
        for ln in tdisp.iteration_lines(fit.criterion):
            session.out.line(ln)
    tdisp.show(session, res, level, aequations=bool(opts.aequations),
               coeflegend=bool(opts.coeflegend))


class _Columns:
    """e(b)'s columns as they are built: name, position in theta (-1: omitted)."""

    def __init__(self):
        self.names: list = []
        self.pos: list = []

    def add(self, name, pos: int) -> None:
        self.names.append(name)
        self.pos.append(pos)

    def equation(self, eq: str, dsg, keep_mask, start: int) -> None:
        kept = set(np.flatnonzero(dsg.keep)[keep_mask].tolist())
        k = start
        for j, nm in enumerate(dsg.stata_names):
            if j in kept:
                self.add((eq, nm), k)
                k += 1
            else:
                self.add((eq, nm), -1)


def _effect_columns(cols, stat, tvar, order) -> None:
    """The effects in Stata's order (levels sorted); theta holds them in `order`."""
    c = order[0]
    if stat == "pomeans":
        for v in sorted(order):
            cols.add(("POmeans", f"{int(v)}.{tvar}"), order.index(v))
        return
    for v in sorted(order[1:]):
        cols.add((stat.upper(), f"r{int(v)}vs{int(c)}.{tvar}"), order.index(v) - 1)
    cols.add(("POmean", f"{int(c)}.{tvar}"), len(order) - 1)


def _results(session, c, what, smp, models, order, target, fit, designs, weights):
    sub, stat = what
    odes, keeps, tdes = designs
    w, wkind = weights
    L = len(order)
    cols = _Columns()
    _effect_columns(cols, stat, smp.t_name, order)
    eq_designs = {}
    starts = np.cumsum([L] + list(fit.k_x))
    if odes is not None:
        for v in sorted(order):
            j = order.index(v)
            eq_designs[f"OME{int(v)}"] = odes
            cols.equation(f"OME{int(v)}", odes, keeps[j], int(starts[j]))
    if tdes is not None:
        gstart = int(starts[-1])
        for v in sorted(order[1:]):
            j = order.index(v)
            eq_designs[f"TME{int(v)}"] = tdes
            cols.equation(f"TME{int(v)}", tdes, np.ones(len(np.flatnonzero(tdes.keep)), bool),
                          gstart + (j - 1) * fit.k_z)
    est = np.array(cols.pos)
    K = len(cols.names)
    b, V = np.zeros(K), np.zeros((K, K))
    live = np.flatnonzero(est >= 0)
    b[live] = fit.theta[est[live]]
    V[np.ix_(live, live)] = fit.V[np.ix_(est[live], est[live])]
    res = EstimationResults(cmd="teffects", names=cols.names, b=b, V=V,
                            omitted=est < 0, k_f=K, sample=smp.mask.copy())
    n_obs = smp.n if wkind != "fweight" else int(round(w.sum()))
    res.scalars = {"N": float(n_obs)}
    res.scalars.update({f"nj{int(v)}": float(np.sum(smp.tv == v)) for v in sorted(order)})
    res.scalars.update({"k_eq": float(len({e for e, _ in cols.names})), "k_levels": float(L),
                        "treated": float(target), "control": float(order[0]),
                        "converged": 1.0, "rank": float(len(live))})
    res.macros = {"cmd": "teffects", "cmdline": c.text, "depvar": smp.y_name,
                  "tvar": smp.t_name, "subcmd": sub, "stat": stat,
                  "title": "Treatment-effects estimation",
                  "tlevels": " ".join(str(int(v)) for v in sorted(order)), "vce": "robust",
                  "vcetype": "Robust", "properties": "b V", "estat_cmd": "teffects_estat",
                  "predict": "teffects_p", "marginsnotok": "_ALL"}
    if odes is not None:
        res.macros["omodel"] = models.outcome.model
    if tdes is not None:
        res.macros["tmodel"] = models.treatment.model if L == 2 else "(multinomial) logit"
    if wkind:
        res.macros.update(wtype=wkind, wexp=f"= {c.weight.exp}")
    attach_display_info(session, res, smp, (order[0], target), eq_designs, levels=order)
    res.fit = fit
    res.level_order = list(order)
    return res
