"""Result containers shared by commands: r() and e().

EstimationResults is what every estimation command leaves in session.e and what `estimates
store` keeps. Post-estimation commands (test, lincom, lrtest, estat, predict) read only this
object, never the command that made it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
    model      : engine objects needed by replay/predict/estat (the fit itself).
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
    model: Any = None
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
