"""`xtreg`'s results: e() as Stata posts it for fe, be, re and mle, the engine's fit, and the
predictions `predict` makes after it (xb, stdp, ue, e, u, xbu).

Everything the output prints is read from e() (scalars, macros, the theta matrix, e(b) and
e(V)) and the design, so results restored by `estimates restore` replay exactly as the
command printed them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hlmshell.engine.design import Design
from hlmshell.results.base import EstimationResults

TITLES = {
    "fe": "Fixed-effects (within) regression",
    "be": "Between regression (regression on group means)",
    "re": "Random-effects GLS regression",
    "ml": "Random-effects ML regression",
}

# Stata's variable labels of the predictions (xtrefe_p / xtrere_p)
_PRED_LABELS = {"xb": "Linear prediction", "stdp": "S.E. of the prediction",
                "ue": "u[{i}] + e[{i},t]", "e": "e[{i},t]", "u": "u[{i}]", "xbu": "Xb + u[{i}]"}


@dataclass
class XtregResults(EstimationResults):
    """e() of `xtreg`. `model` is the engine's fit (WithinFit, BetweenFit, GlsFit, MlFit);
    `design` lays out the coefficient table (columns omitted by the within transform are
    marked omitted in it)."""

    design: Design | None = None
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    panel_codes: Any = None            # panel code of each estimation-sample row (0..G-1)

    @property
    def kind(self) -> str:
        """e(model): fe, be, re or ml."""
        return self.macros.get("model", "")

    @property
    def robust(self) -> bool:
        return self.macros.get("vcetype", "") == "Robust"

    def fixed(self) -> tuple[np.ndarray, np.ndarray]:
        """e(b) and the standard errors of the depvar equation."""
        k = self.k_f
        return np.asarray(self.b[:k], dtype=float), np.asarray(self.se[:k], dtype=float)

    # ---- predict -----------------------------------------------------------------------------
    def prediction(self, stat: str, xb: np.ndarray, y: np.ndarray, panel: np.ndarray,
                   in_sample: np.ndarray) -> tuple[np.ndarray, str]:
        """A prediction over every observation: xb (given, over all observations), y the
        outcome, panel the panel variable's values, in_sample e(sample). ue is defined
        wherever xb and y are; e, u and xbu only in e(sample) (Stata's xtrefe_p, xtrere_p:
        u_i is the panel mean of y - xb, shrunk by sigma_u^2 / (T_i sigma_u^2 + sigma_e^2)
        T_i after re)."""
        ivar = self.macros.get("ivar", "")
        label = _PRED_LABELS[stat].format(i=ivar)
        if stat == "ue":
            return y - xb, label
        u = self._u(xb, y, panel, in_sample)
        if stat == "u":
            return u, label
        if stat == "xbu":
            return xb + u, label
        return np.where(in_sample, y - xb - u, np.nan), label

    def _u(self, xb, y, panel, in_sample) -> np.ndarray:
        n = len(y)
        out = np.full(n, np.nan)
        rows = np.flatnonzero(in_sample)
        if not len(rows):
            return out
        _, codes = np.unique(np.asarray(panel)[rows], return_inverse=True)
        codes = codes.reshape(-1)
        r = (y - xb)[rows]
        T = np.bincount(codes).astype(float)
        sums = np.bincount(codes, weights=r)
        if self.kind == "re":
            su2 = self.scalars.get("sigma_u", 0.0) ** 2
            se2 = self.scalars.get("sigma_e", 0.0) ** 2
            Tr = np.full_like(T, self.scalars.get("Tbar", 1.0)) if self.scalars.get("Tcon") else T
            u = su2 / (Tr * su2 + se2) * sums
        else:
            u = sums / T
        out[rows] = u[codes]
        return out
