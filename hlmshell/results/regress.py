"""`regress`'s results: e() plus the engine's Regression (ANOVA sums, F test) and the design."""
from __future__ import annotations

from dataclasses import dataclass, field

from hlmshell.engine.design import Design
from hlmshell.engine.ols import Regression
from hlmshell.results.base import EstimationResults


@dataclass
class RegressResults(EstimationResults):
    """e() of `regress`. `model` is the OLS fit: its pF and tss are what the ANOVA header
    prints beyond e()'s scalars; `design` lays out the coefficient table on replay."""

    model: Regression | None = None
    design: Design | None = None
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)


def from_fit(cmdline: str, depvar: str, design: Design, mask, reg: Regression,
             value_labels: dict, **macros: str) -> RegressResults:
    """regress's e() from its fit: b and V over every design column (zeros where omitted),
    the fit's scalars and regress's macros (plus any given, e.g. wtype/wexp)."""
    import numpy as np

    kf = len(design.columns)
    kidx = np.flatnonzero(design.keep)
    b = np.zeros(kf)
    V = np.zeros((kf, kf))
    b[kidx] = reg.beta
    V[np.ix_(kidx, kidx)] = reg.V
    scalars = {"N": reg.N, "df_m": reg.df_m, "df_r": reg.df_r, "F": reg.F, "r2": reg.r2,
               "r2_a": reg.r2_a, "rmse": reg.rmse, "mss": reg.mss, "rss": reg.rss, "ll": reg.ll,
               "ll_0": reg.ll_0, "rank": len(kidx), "k": kf}
    allm = {"cmd": "regress", "cmdline": cmdline, "depvar": depvar, "title": "Linear regression",
            "model": "ols", "vce": "ols", "properties": "b V", "predict": "regres_p",
            "estat_cmd": "regress_estat", **macros}
    return RegressResults(cmd="regress", names=[(depvar, nm) for nm in design.stata_names], b=b,
                          V=V, omitted=design.omitted, k_f=kf, scalars=scalars, macros=allm,
                          matrices={}, sample=mask.copy(), model=reg, design=design,
                          value_labels=value_labels)
