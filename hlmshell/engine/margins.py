"""Numerics of `margins`: predictions of the fixed part on counterfactual data, averaged, and
their delta-method variance (pure: arrays in, arrays out).

The fixed part is rebuilt from e(b)'s column names (`ses`, `1.sector`, `0b.sector#co.ses`,
`_cons`): each name is a product of parts, a factor part `l.x` being the indicator of level l
of x and a continuous part its values. A `Covariates` object holds, for the rows margins
averages over, the continuous variables' values and each factor variable's level indicators
-- indicators rather than the variable itself so that `atmeans` can set them to their means
(Stata sets `0.sector` and `1.sector` to their sample proportions and every interaction column
to the product of its parts' values).

    cols = [parse_column(nm) for nm in fixed_names]
    est, jac = statistic("xb", cols, b, cov)             # average prediction and d est / d b
    V = delta_vcov(J, Vb)                                  # J Vb J'

`MarginsTable` is what a finished `margins` leaves behind (estimates, variance, the at()
scenarios and the dimensions of the table) for `marginsplot` and for `post`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_LEVEL = re.compile(r"^(\d+)[a-z]*\.(.+)$")
_MARK = re.compile(r"^[a-z]+\.(.+)$")


@dataclass(frozen=True)
class Part:
    """One part of a column: `var` at factor `level`, or continuous (`level` None)."""

    var: str
    level: int | None = None


def parse_column(name: str) -> tuple[Part, ...]:
    """`1.sector#c.ses` -> (Part('sector', 1), Part('ses')); `_cons` -> ()."""
    if name == "_cons":
        return ()
    out = []
    for piece in name.split("#"):
        m = _LEVEL.match(piece)
        if m:
            out.append(Part(m.group(2), int(m.group(1))))
            continue
        m = _MARK.match(piece)
        out.append(Part(m.group(1) if m else piece))
    return tuple(out)


@dataclass
class Covariates:
    """The covariates of the rows being averaged: continuous values and factor-level
    indicators (n each). `levels[x]` lists the levels of factor x that the model knows."""

    n: int
    cont: dict[str, np.ndarray] = field(default_factory=dict)
    fact: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    w: np.ndarray | None = None          # the fit's weights: margins average with them

    def copy(self) -> Covariates:
        return Covariates(self.n, dict(self.cont), {k: dict(v) for k, v in self.fact.items()}, self.w)

    def subset(self, mask: np.ndarray) -> Covariates:
        return Covariates(int(np.count_nonzero(mask)), {k: v[mask] for k, v in self.cont.items()},
                          {k: {lv: a[mask] for lv, a in d.items()} for k, d in self.fact.items()},
                          None if self.w is None else self.w[mask])

    def avg(self, values: np.ndarray):
        """The mean over the rows (axis 0), weighted by the fit's weights when it had some."""
        if self.w is None or not np.sum(self.w) > 0:
            return np.mean(values, axis=0)
        return np.average(values, axis=0, weights=self.w)

    def set_value(self, var: str, value: float) -> None:
        """x = value for every row: a continuous variable, or a factor at level `value`
        (indicators 1 for that level, 0 for the others)."""
        if var in self.fact:
            self.fact[var] = {lv: np.full(self.n, float(lv == value)) for lv in self.fact[var]}
        else:
            self.cont[var] = np.full(self.n, float(value))

    def set_indicators(self, var: str, values: dict[int, float]) -> None:
        self.fact[var] = {lv: np.full(self.n, float(values.get(lv, 0.0))) for lv in self.fact[var]}

    def part(self, p: Part) -> np.ndarray:
        if p.level is None:
            return self.cont[p.var]
        levels = self.fact.get(p.var, {})
        return levels[p.level] if p.level in levels else np.zeros(self.n)


def design(cols: list[tuple[Part, ...]], cov: Covariates) -> np.ndarray:
    """X (n x k) of the columns on these covariates."""
    X = np.ones((cov.n, len(cols)))
    for j, parts in enumerate(cols):
        for p in parts:
            X[:, j] *= cov.part(p)
    return X


def derivative(cols: list[tuple[Part, ...]], cov: Covariates, var: str) -> np.ndarray:
    """dX/dx for a continuous x: for each column the sum, over its parts that are x, of the
    product of the other parts (c.x#c.x gives 2x)."""
    D = np.zeros((cov.n, len(cols)))
    for j, parts in enumerate(cols):
        for k, p in enumerate(parts):
            if p.level is None and p.var == var:
                term = np.ones(cov.n)
                for i, q in enumerate(parts):
                    if i != k:
                        term = term * cov.part(q)
                D[:, j] += term
    return D


def statistic(kind: str, cols, b: np.ndarray, cov: Covariates, var: str | None = None):
    """(estimate, jacobian row) of one margin averaged over cov's rows.

    kind: 'xb' (the linear prediction), or for a continuous `var` 'dydx', 'eyex' (dy/dx x/y),
    'dyex' (dy/dx x), 'eydx' (dy/dx / y). The prediction is linear in b, so the jacobian
    is exact: d/db of the mean of the per-row statistic."""
    if cov.n == 0:
        return float("nan"), np.full(len(cols), np.nan)
    vals, J = statistic_rows(kind, cols, b, cov, var)
    return float(cov.avg(vals)), cov.avg(J)


def statistic_rows(kind: str, cols, b: np.ndarray, cov: Covariates, var: str | None = None):
    """(the statistic of every row, its n x k jacobian): what `statistic` averages, kept per
    row for vce(unconditional), whose variance also counts the rows as sampled."""
    X = design(cols, cov)
    if kind == "xb":
        return X @ b, X
    D = derivative(cols, cov, var)
    d = D @ b
    y = X @ b
    x = cov.cont[var]
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "dydx":
            vals, J = d, D
        elif kind == "dyex":
            vals, J = d * x, D * x[:, None]
        elif kind == "eydx":
            vals = d / y
            J = D / y[:, None] - (d / y ** 2)[:, None] * X
        else:   # eyex
            vals = d * x / y
            J = D * (x / y)[:, None] - (d * x / y ** 2)[:, None] * X
    return vals, J


def delta_vcov(J: np.ndarray, V: np.ndarray) -> np.ndarray:
    """J V J' (the delta method), symmetrised."""
    out = J @ V @ J.T
    return (out + out.T) / 2


def unconditional_vcov(J: np.ndarray, cells, infl: np.ndarray, units: np.ndarray | None) -> np.ndarray:
    """vce(unconditional): the linearized variance of the margins when the rows they average
    over are a sample too (Stata's [R] margins, Methods and formulas).

    Each margin p_j = (1/N_j) sum over its rows i of f_ij(b) moves with the sample through its
    rows and through b: its influence of estimation-sample row i is
        phi_ij = [i in margin j] (f_ij - p_j) / N_j  +  J_j infl_i
    with infl_i the influence of row i on b (b - beta ~ sum_i infl_i; for OLS
    (X'X)^-1 x_i e_i). Rows are summed within their sampling units (clusters; each row its
    own when `units` is None) and V = U/(U-1) sum_u phi_u phi_u'.

    J: k x p; cells: per margin (positions of its rows among the estimation sample, f of
    those rows); infl: n x p; units: n codes 0..U-1 or None."""
    k = J.shape[0]
    Phi = infl @ J.T
    for j, (pos, vals) in enumerate(cells):
        if j >= k or len(pos) == 0:
            continue
        vals = np.asarray(vals, dtype=float) * np.ones(len(pos))
        Phi[pos, j] += (vals - vals.mean()) / len(pos)
    if units is not None:
        U = int(units.max()) + 1 if units.size else 0
        S = np.zeros((U, k))
        np.add.at(S, units, Phi)
        Phi = S
    U = Phi.shape[0]
    V = Phi.T @ Phi * (U / (U - 1) if U > 1 else np.nan)
    return (V + V.T) / 2


def numeric_jacobian(fun, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """d fun(b) / d b by central differences over the columns in mask (others 0); fun returns
    a vector. Steps relative to |b| (1e-4 (|b| + 1e-3))."""
    f0 = np.asarray(fun(b), dtype=float)
    J = np.zeros((f0.size, b.size))
    for j in np.flatnonzero(mask):
        h = 1e-4 * (abs(b[j]) + 1e-3)
        bp, bm = b.copy(), b.copy()
        bp[j] += h
        bm[j] -= h
        J[:, j] = (np.asarray(fun(bp), dtype=float) - np.asarray(fun(bm), dtype=float)) / (2 * h)
    return J


@dataclass
class MarginsTable:
    """What `margins` computed, for replay, `post` and `marginsplot`.

    names      : r(b)'s column names (`1._at#0.sector`, `ses:1._at`, `0b.female`, `_cons`)
    b, V       : r(b) (k,) and r(V) (k x k); status[j] 'base' for a base level of a factor's
                 dy/dx (b = 0, hidden in the table), None otherwise
    table      : r(table) (9 x k: b se z pvalue ll ul df crit eform)
    dims       : the table's dimensions in display order, e.g. ['_at', 'sector']; each row of
                 `cells` gives, per dimension, the value (at-scenario number 1.. for `_at`,
                 the level for a factor) of that margin; `deriv[j]` the variable of the
                 derivative (`ses`, `1.female`) or None
    at         : r(at) (n_at x k_at) with colnames `at_names` (missing = as observed) and
                 `atstats` per scenario (`value`, `mean`, `asobserved` ... per column)
    at_specs   : per scenario, the (variable, value, statistic) list as typed/evaluated
    xvars      : the covariates; stat: 'z' or 't' (df_r); level; title; expression label
    all_dims   : the dimensions of every column (`dims` is the first column's); several
                 marginlist terms give columns of different dimensions
    """

    names: list[str]
    b: np.ndarray
    V: np.ndarray
    status: list[str | None]
    table: np.ndarray
    dims: list[str]
    cells: list[tuple]
    deriv: list[str | None]
    at: np.ndarray
    at_names: list[str]
    atstats: list[list[str]]
    at_specs: list[list[tuple[str, float, str]]]
    xvars: list[str]
    stat: str = "z"
    df_r: float | None = None
    level: float = 95.0
    title: str = ""
    expression: str = ""             # the `Expression:` line's text
    predict_label: str = ""          # r(predict_label) (`Linear prediction, fixed portion`)
    expr: str = ""                   # r(expression) (`predict()`, `exp(predict(xb))`)
    derivatives: str = ""
    N: int = 0
    jacobian: np.ndarray | None = None          # r(Jacobian): d margins / d e(b) fixed part
    n_cells: list[int] = field(default_factory=list)      # r(_N): rows averaged per margin
    all_dims: list[list[str]] = field(default_factory=list)   # dims of every column
    over: list[str] = field(default_factory=list)         # the over() variables
    pw: dict | None = None                      # pwcompare: names, b, V, table, labels
    vce: str = "delta"                          # delta | unconditional
    predict_lines: list[str] = field(default_factory=list)   # `1._predict: Pr(y==0), ...`
    theta_idx: list[int] = field(default_factory=list)       # e(b) entries after the fixed part
    group_at: list = field(default_factory=list)   # over(): per scenario [(key, {col: value})]
