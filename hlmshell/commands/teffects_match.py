"""teffects nnmatch and psmatch: matching estimators of a binary treatment's ATE or ATET,
with Abadie and Imbens' robust standard errors (engine.teffects_match).

nnmatch matches on the covariates of the outcome model (factor variables as their indicator
columns) in the metric() chosen (the inverse covariance of the matching variables by
default), exactly on ematch() and with biasadj()'s regression correction; psmatch matches
on the propensity score of a logit or probit of the treatment model.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import teffects_display as tdisp
from hlmshell.commands import teffects_sample as tcmd
from hlmshell.commands import teffects_syntax as tsx
from hlmshell.commands._postest import confidence_level
from hlmshell.engine import teffects as te
from hlmshell.engine import teffects_match as tm
from hlmshell.errors import StataError
from hlmshell.results import EstimationResults

_METRICS = (("mahalanobis", 4), ("ivariance", 4), ("euclidean", 3))


def _metric(text: str | None) -> str:
    word = (text or "mahalanobis").strip().lower()
    for name, least in _METRICS:
        if len(word) >= min(least, len(name)) and name.startswith(word):
            return name
    if word.split()[:1] == ["matrix"]:
        raise StataError("metric(matrix) is not implemented here", 198)
    raise StataError(f"metric({word}) invalid", 198)


def _columns(session, smp, terms, constant: bool):
    """The design of `terms` on the sample, estimable columns only."""
    if not terms:
        return np.ones((smp.n, 1)) if constant else np.zeros((smp.n, 0))
    # factor variables enter as their indicators with the base level out, as with a constant
    dsg, X = tsx.design(None, terms, smp.column, smp.n, True)
    if not constant and dsg.names[-1] == "_cons":
        X = X[:, :-1]
    return X


def _options(opts, sub: str):
    stat = tcmd.stat_of(opts, sub)
    nn_var = tcmd.check_vce(opts, True)
    if nn_var == 0:
        raise StataError("vce(iid) is not implemented here; use vce(robust)", 198)
    m = int(opts.nneighbor) if "nneighbor" in opts else 1
    if m < 1:
        raise StataError("nneighbor() must be a positive integer", 198)
    cal = float(opts.caliper) if "caliper" in opts else None
    if cal is not None and cal <= 0:
        raise StataError("caliper() must be positive", 198)
    dtol = float(opts.dtolerance) if "dtolerance" in opts else 1e-10
    return tm.MatchSpec(stat=stat, m=m, nn_var=nn_var, caliper=cal, dtol=dtol)


def estimate_matching(session, c, sub: str, models, opts) -> None:
    spec = _options(opts, sub)
    level = confidence_level(session, opts)
    if c.weight is not None:
        raise StataError("weights are not implemented here for teffects " + sub, 101)
    if sub == "psmatch" and (opts.raw("biasadj") or opts.raw("ematch") or "metric" in opts):
        bad = next(o for o in ("biasadj", "ematch", "metric") if o in opts)
        raise StataError(f"option {bad} not allowed", 198)
    bterms = tsx.terms_of(session, opts.raw("biasadj") or "")
    eterms = tsx.terms_of(session, opts.raw("ematch") or "")
    smp = tcmd.TeSample(session, c, models, (bterms, eterms))
    ctrl, trt = tsx.treatment_levels(session, smp.t_name, smp.tv, opts.raw("control"),
                                     opts.raw("tlevel"))
    t = (smp.tv == trt).astype(float)
    E = _columns(session, smp, eterms, False) if eterms else None
    Xb = _columns(session, smp, bterms, True) if bterms else None
    metric, ps = _metric(opts.raw("metric")), None
    if sub == "nnmatch":
        Xm = _columns(session, smp, smp.oterms, False)
        if Xm.shape[1] == 0:
            raise StataError("no matching variables specified", 198)
        Z = tm.coordinates(Xm, metric)
    else:
        _, Zd = tsx.design(None, smp.tterms, smp.column, smp.n,
                           not models.treatment.noconstant)
        try:
            gamma = te.fit_binary(Zd, t, np.ones(smp.n), models.treatment.model)
        except te.TeError as err:
            raise StataError(str(err), err.code) from None
        ps = te._cdf(Zd @ gamma, models.treatment.model)
        tcmd.check_overlap(ps, opts, smp.t_name, [ctrl, trt])
        Z = ps[:, None]
    try:
        fit = tm.estimate(smp.y, t, Z, spec, E=E, Xb=Xb)
    except tm.MatchError as err:
        raise StataError(str(err), err.code) from None
    stub = (opts.raw("generate") or "").strip()
    if stub:
        _check_stub(session, stub, fit)
    res = _results(session, c, sub, spec, smp, models, (ctrl, trt), fit, metric,
                   (opts.raw("biasadj") or "", opts.raw("ematch") or ""))
    res.ps = ps
    res.generated = bool(stub)               # tebalance/overlap need no refit then
    if stub:
        _generate(session, stub, smp.mask, fit)
    session.post_estimation(res)
    tdisp.show(session, res, level, coeflegend=bool(opts.coeflegend))
    if sub == "psmatch":
        # Stata adjusts for the estimated score (Abadie and Imbens 2016); that adjustment is
        # not reproduced here, so the standard error is said to treat the score as known
        session.out.line("Note: the standard error treats the propensity score as known; "
                         "Stata's adjustment for")
        session.out.line("      its estimation (Abadie and Imbens 2016) is not implemented "
                         "here.")


def _results(session, c, sub, spec, smp, models, levels, fit, metric, extra):
    ctrl, trt = levels
    names = [(spec.stat.upper(), f"r{int(trt)}vs{int(ctrl)}.{smp.t_name}")]
    res = EstimationResults(cmd="teffects", names=names, b=np.array([fit.tau]),
                            V=np.array([[fit.se ** 2]]), omitted=np.zeros(1, dtype=bool),
                            k_f=1, sample=smp.mask.copy())
    tv = smp.tv
    res.scalars = {"N": float(smp.n), "nj0": float(np.sum(tv == ctrl)),
                   "nj1": float(np.sum(tv == trt)), "k_levels": 2.0, "treated": float(trt),
                   "control": float(ctrl), "k_nneighbor": float(spec.m),
                   "k_nnmin": float(fit.k_min), "k_nnmax": float(fit.k_max), "rank": 1.0}
    if spec.caliper is not None:
        res.scalars["caliper"] = spec.caliper
    res.macros = {"cmd": "teffects", "cmdline": c.text, "depvar": smp.y_name,
                  "tvar": smp.t_name, "subcmd": sub, "stat": spec.stat,
                  "title": "Treatment-effects estimation", "tlevels": f"{int(ctrl)} {int(trt)}",
                  "vce": "robust", "vcetype": "AI robust", "properties": "b V",
                  "estat_cmd": "teffects_estat", "predict": "teffects_p",
                  "marginsnotok": "_ALL"}
    if sub == "nnmatch":
        res.macros.update(metric=metric, mvarlist=models.outcome.covariates.strip())
        if extra[0].strip():
            res.macros["bavarlist"] = extra[0].strip()
        if extra[1].strip():
            res.macros["emvarlist"] = extra[1].strip()
    else:
        res.macros["tmodel"] = models.treatment.model
        res.macros["tvarlist"] = models.treatment.covariates.strip()
    tcmd.attach_display_info(session, res, smp, (ctrl, trt), {})
    res.fit = fit
    res.match_sets = fit.pairs
    return res


def _check_stub(session, stub: str, fit) -> None:
    from hlmshell.commands._toolkit import check_name
    stub = stub.rstrip("*")
    k = max(fit.k_max, 1)
    for j in range(1, k + 1):
        check_name(f"{stub}{j}")
        if f"{stub}{j}" in session.data:
            raise StataError(f"variable {stub}{j} already defined", 110)


def _generate(session, stub: str, mask, fit) -> None:
    """generate(stub): stub1, stub2, ... hold the observation numbers (1-based, in the data
    as it is) of each unit's matches, missing beyond its number of matches."""
    from hlmshell.data.dataset import Variable
    stub = stub.rstrip("*")
    rows = np.flatnonzero(mask)              # sample position -> observation index
    n = session.data.n
    k = max(fit.k_max, 1)
    cols = np.full((n, k), np.nan)
    for i, js in enumerate(fit.pairs):
        if js is not None and len(js):
            cols[rows[i], :len(js)] = rows[np.sort(js)] + 1
    for j in range(k):
        session.data.add(Variable(f"{stub}{j + 1}", cols[:, j], "long" if n < 2**31 else
                                  "double"))
