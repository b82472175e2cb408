"""Indicators that predict a binary outcome perfectly (logit, logistic, probit, cloglog).

Stata checks every 0/1 regressor, and every level of a factor variable (its base level too),
before fitting: when all observations with the indicator on have the same outcome the
coefficient would run off to infinity, so Stata drops those observations and says so:

    note: 1.g != 0 predicts failure perfectly;
          1.g omitted and 20 obs not used.

then fits the rest. Without this the Newton iterations diverge and the fit fails with r(430)
where Stata gives estimates. The caller refits the design on the reduced sample (a level
with no observations left has no column; a 0/1 variable left all zero is omitted).
"""
from __future__ import annotations

import numpy as np


def _indicators(design):
    """(name, values) of each candidate indicator: the columns of one-factor terms, their
    base level included (no stored column: on where the term's other columns are all off),
    and 0/1 variables entered alone."""
    X, slots = design.X, design.slots
    for term in design.terms:
        cols = term.columns
        if len(term.factors) == 1 and not term.continuous:
            stored = [X[:, slots[j]] for j in cols if slots[j] >= 0]
            any_on = np.sum(stored, axis=0) if stored else np.zeros(X.shape[0])
            for j in cols:
                c = design.columns[j]
                if slots[j] >= 0:
                    yield c.name, X[:, slots[j]]
                elif c.base:
                    yield c.name, (any_on == 0).astype(float)
        elif not term.factors and len(term.continuous) == 1 and len(cols) == 1:
            j = cols[0]
            if slots[j] >= 0:
                x = X[:, slots[j]]
                if np.all((x == 0) | (x == 1)):
                    yield design.columns[j].name, x


def perfect_rows(design, y: np.ndarray, out) -> np.ndarray:
    """Rows of the sample to keep after dropping every perfectly predicting indicator's
    observations (repeated until none is left), with Stata's notes."""
    keep = np.ones(len(y), dtype=bool)
    done: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, x in _indicators(design):
            if name in done:
                continue
            on = (x != 0) & keep
            if not on.any() or on.sum() == keep.sum():
                continue
            outcome = y[on]
            if outcome.min() != outcome.max():
                continue
            what = "success" if outcome[0] != 0 else "failure"
            out.line(f"note: {name} != 0 predicts {what} perfectly;")
            out.line(f"      {name} omitted and {int(on.sum()):,} obs not used.")
            keep &= ~on
            done.add(name)
            changed = True
    return keep


def sample_after(mask: np.ndarray, keep_rows: np.ndarray) -> np.ndarray:
    """The estimation sample over all observations once `keep_rows` (over the sample) apply."""
    new = mask.copy()
    new[np.flatnonzero(mask)[~keep_rows]] = False
    return new
