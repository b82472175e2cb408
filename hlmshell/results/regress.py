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
