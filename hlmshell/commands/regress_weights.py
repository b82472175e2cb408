"""`regress [fweight|aweight|pweight|iweight = exp]`: weighted least squares with Stata's
statistics (engine/weighted_ols.py says what each weight type means). pweights always give the
robust VCE; aweights print Stata's `(sum of wgt is ...)` line first. Observations with a
missing or zero weight are not in the sample.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands._toolkit import sample_columns, weights
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.engine import weighted_ols as wls
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt
from hlmshell.results.regress import RegressResults
from hlmshell.results.regress import from_fit as regress_from_fit
from hlmshell.syntax.evaluate import marksample

_KINDS = ("fweight", "aweight", "pweight", "iweight")


def _sample(session, cmd, names, vce):
    mask = marksample(session, cmd, names)
    if vce.clustvar:
        mask &= marksample(session, None, [vce.clustvar], strok=True)
    w = weights(session, cmd, mask, _KINDS)
    kind = cmd.weight.kind
    mask &= ~np.isnan(w)
    if kind != "iweight":
        mask &= w != 0
    if not mask.any():
        raise StataError("no observations", 2000)
    return mask, w[mask], kind


def estimate(session, cmd, depvar, fixed, fvars, opts, vce) -> RegressResults:
    """The weighted fit as regress's e() (the caller posts and shows it)."""
    ds = session.data
    mask, w, kind = _sample(session, cmd, [depvar] + [v for v in fvars if v != depvar], vce)
    if kind == "pweight" and vce.kind in ("", "ols"):
        vce.kind = "robust"
    if vce.kind in ("hc2", "hc3"):
        raise StataError(f"vce({vce.kind}) not allowed with weights", 198)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    X = design.X_keep
    y = np.asarray(column(depvar), dtype=float)
    reg = wls.regress(y, X, w, kind, constant=design.constant)
    if reg.N < 2 or reg.df_r < 0:
        raise StataError("insufficient observations", 2001)
    if kind == "aweight":
        session.out.line(f"(sum of wgt is {fmt(float(w.sum()), '%12.0gc').strip()})")
    res = _results(session, cmd, depvar, fixed, design, mask, reg, kind)
    if vce.kind not in ("", "ols"):
        _robust(res, design, X, y, w, kind, vce, ds.var(vce.clustvar).values[mask] if vce.clustvar else None)
    return res


def _results(session, cmd, depvar, fixed, design, mask, reg, kind) -> RegressResults:
    return regress_from_fit(cmd.text, depvar, design, mask, reg,
                            factor_labels(session.data, fixed), wtype=kind,
                            wexp=f"= {cmd.weight.exp}")


def _robust(res, design, X, y, w, kind, vce, clusters) -> None:
    kidx = np.flatnonzero(design.keep)
    Vr, G = wls.robust_vce(y, X, w, kind, res.b[kidx], clusters)
    res.matrices["V_modelbased"] = res.V.copy()
    res.V[np.ix_(kidx, kidx)] = Vr
    sc, m = res.scalars, res.macros
    if G:
        sc["N_clust"], sc["df_r"] = G, G - 1
        m["clustvar"] = vce.clustvar
    test = [i for i, j in enumerate(kidx) if design.names[j] != "_cons"]
    bb = res.b[kidx][test]
    try:
        wald = float(bb @ np.linalg.solve(Vr[np.ix_(test, test)], bb)) if test else 0.0
    except np.linalg.LinAlgError:
        wald = math.nan
    if G and len(test) > G - 1:         # the cluster VCE has rank G-1 at most: no F, as Stata
        wald = math.nan
    sc["df_m"] = len(test)
    sc["F"] = wald / len(test) if test and sc["df_r"] > 0 else (0.0 if not test else math.nan)
    m["vce"] = "cluster" if G else "robust"
    m["vcetype"] = "Robust"
