"""Imputation by chained equations ([MI] mi impute chained; fully conditional specification).

Each imputed variable has its own univariate model (regress, pmm, logit, ologit, mlogit:
mi_univariate) on the complete predictors and all the other imputed variables. Each
imputation is one chain: the variables, taken in order of how many values they miss (fewest
first), are first filled in one after another, each given the complete predictors and the
variables filled before it; then `burnin` times (Stata's default 10) every variable is imputed
again given the current values of all the others. Variables imputed by ologit or mlogit enter
the other equations as indicators of their levels (Stata's i.varname), the others as they are.
A trace keeps the mean and standard deviation of each variable's imputed values per iteration.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.engine import mi_univariate as uni

CATEGORICAL = ("ologit", "mlogit")


@dataclass
class Equation:
    method: str
    knn: int = 1
    augment: bool = False       # logit/ologit/mlogit: augmented regression on perfect prediction


@dataclass
class ChainedRun:
    imputations: list
    trace: list = field(default_factory=list)   # (m, iter, means (p), sds (p))
    order: list = field(default_factory=list)


def _as_predictor(col: np.ndarray, method: str, levels) -> np.ndarray:
    if method in CATEGORICAL:
        return np.column_stack([(col == lv).astype(float) for lv in levels[1:]]) if len(levels) > 1 \
            else np.zeros((len(col), 0))
    return col.reshape(-1, 1)


def _predictors(X, Yc, j, use, eqs, levels):
    parts = [X]
    for i in use:
        if i != j:
            parts.append(_as_predictor(Yc[:, i], eqs[i].method, levels[i]))
    return np.column_stack(parts) if parts else np.zeros((len(Yc), 0))


def _draw(j, Yc, X, use, eqs, levels, miss, rng):
    eq = eqs[j]
    Z = _predictors(X, Yc, j, use, eqs, levels)
    fn = uni.METHODS[eq.method]
    if eq.method == "pmm":
        return fn(Yc[:, j], Z, miss[:, j], rng, knn=eq.knn)
    if eq.method in ("logit", "ologit", "mlogit"):
        return fn(Yc[:, j], Z, miss[:, j], rng, augment=eq.augment)
    return fn(Yc[:, j], Z, miss[:, j], rng)


def _summary(Yc, miss):
    means, sds = [], []
    for j in range(Yc.shape[1]):
        v = Yc[miss[:, j], j]
        means.append(float(v.mean()) if v.size else float("nan"))
        sds.append(float(v.std(ddof=1)) if v.size > 1 else float("nan"))
    return np.array(means), np.array(sds)


def impute(Y, X, eqs: list[Equation], M: int, rng, *, burnin: int = 10,
           keep_trace: bool = False, orderasis: bool = False) -> ChainedRun:
    """M imputations of Y (n x p, NaN missing) given complete X (n x q, no constant)."""
    Y = np.asarray(Y, dtype=float)
    n, p = Y.shape
    X = np.asarray(X, dtype=float).reshape(n, -1)
    miss = np.isnan(Y)
    order = list(range(p)) if orderasis else sorted(range(p), key=lambda j: (miss[:, j].sum(), j))
    levels = [np.unique(Y[~miss[:, j], j]) for j in range(p)]
    run = ChainedRun([], order=order)
    for m in range(1, M + 1):
        Yc = Y.copy()
        done: list[int] = []
        for j in order:
            if miss[:, j].any():
                Yc[miss[:, j], j] = _draw(j, Yc, X, done, eqs, levels, miss, rng)
            done.append(j)
        if keep_trace:
            run.trace.append((m, 0) + _summary(Yc, miss))
        for it in range(1, burnin + 1):
            for j in order:
                if miss[:, j].any():
                    Yc[miss[:, j], j] = _draw(j, Yc, X, order, eqs, levels, miss, rng)
            if keep_trace:
                run.trace.append((m, it) + _summary(Yc, miss))
        run.imputations.append(Yc)
    return run
