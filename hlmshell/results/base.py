"""r() and e() as Stata posts them: scalars, macros, matrices, and e(b)/e(V) with names.

EstimationResults is what every estimation command leaves in session.e and what `estimates
store` keeps; post-estimation commands (test, lincom, lrtest, estat, predict) read only this
object, never the command that made it. Each estimation command has its own subclass
(hlmshell.results.mixed, hlmshell.results.regress) with the fitted model typed and the
quantities derived from it as read-only cached properties, after statsmodels' Results.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:   # for the annotation only: e() itself must not pull the engine (scipy) in
    from hlmshell.engine.ols import Regression
    from hlmshell.engine.types import MixedModel


@dataclass
class RResults:
    """r(): scalars, macros and matrices left by r-class commands (summarize, test, ...)."""

    scalars: dict[str, float] = field(default_factory=dict)
    macros: dict[str, str] = field(default_factory=dict)
    matrices: dict[str, Any] = field(default_factory=dict)


@dataclass
class EstimationResults:
    """e(): what an estimation command stores.

    names      : column names of e(b) in Stata's form, with equation: ("mathach", "1.female#2.sized"),
                 ("lns1_1_1", "_cons"), ("lnsig_e", "_cons"). Fixed-effect coefficients come first.
    b, V       : e(b) (1 x k as a flat vector) and e(V) (k x k), in Stata's metric.
    omitted    : per column, True for `0 (omitted)` / base columns (b = 0, V row/col = 0).
    k_f        : how many leading columns are fixed-effect coefficients (equation = depvar).
    scalars    : e(N), e(ll), e(k), e(k_f), e(k_r), e(df_m), e(chi2), e(p), e(rank), ...
    macros     : e(cmd), e(depvar), e(cmdline), e(title), e(method) ('ML'/'REML'), e(ivars), ...
    matrices   : e(N_g), e(g_min), e(g_avg), e(g_max) and any other matrices.
    sample     : e(sample), boolean per observation of the dataset the model was fitted on.
    model      : the fitted model behind the numbers: the engine's MixedModel after `mixed`,
                 its Regression after `regress` (None for results built from e() alone).
    """

    cmd: str
    names: list[tuple[str, str]]
    b: np.ndarray
    V: np.ndarray
    omitted: np.ndarray
    k_f: int
    scalars: dict[str, float] = field(default_factory=dict)
    macros: dict[str, str] = field(default_factory=dict)
    matrices: dict[str, Any] = field(default_factory=dict)
    sample: np.ndarray | None = None
    model: MixedModel | Regression | None = None
    # set by `estimates store`; `.` in tables when None
    name: str | None = None
    # bumps on every new estimation; `test, accumulate` checks it to reset its chain
    serial: int = 0

    @property
    def depvar(self) -> str:
        return self.macros.get("depvar", "")

    def coef_index(self, eq: str | None, name: str) -> int:
        for i, (e, n) in enumerate(self.names):
            if n == name and (eq is None or e == eq):
                return i
        return -1

    @cached_property
    def se(self) -> np.ndarray:
        """Standard errors of e(b): the square roots of e(V)'s diagonal (0 where it is not
        positive, as for omitted columns)."""
        return np.sqrt(np.clip(np.diag(np.asarray(self.V, dtype=float)), 0, None))
