"""The computing half of `margins`: from a parsed request and the active results to a
MarginsTable (estimates, delta-method variance, r(at), the dimensions of the table).

The request (MarginsRequest) says what to average: at() scenarios, over() groups, the
factor terms of the marginlist, the derivatives. Here each cell of the table becomes the
covariates of its rows (hlmshell.engine.margins.Covariates) and one engine statistic; the
jacobians are stacked and e(V)'s fixed block gives V = J V J'.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hlmshell import distributions as dist
from hlmshell.engine import margins as me
from hlmshell.errors import StataError
from hlmshell.results import EstimationResults

DERIV_LABEL = {"dydx": "dy/dx", "eyex": "ey/ex", "dyex": "dy/ex", "eydx": "ey/dx"}


@dataclass
class AtItem:
    """One covariate of one at() scenario: var fixed at `value`, or at a statistic
    (`stat` in mean, median, pNN, min, max, asobserved; value filled in when computed)."""

    var: str
    value: float | None
    stat: str = "value"


@dataclass
class MarginsRequest:
    terms: list[tuple[str, ...]]                 # factor terms of the marginlist
    scenarios: list[list[AtItem]]                # one per _at (at least one, maybe empty)
    atmeans: bool = False
    over: list[str] = field(default_factory=list)
    deriv: str | None = None                     # dydx | eyex | dyex | eydx
    deriv_vars: list[str] = field(default_factory=list)
    predict_opt: str = ""                        # what was inside predict()
    level: float = 95.0
    nose: bool = False
    touse: np.ndarray | None = None
    # expression(): (covariates of the rows, their xb) -> the expression per row; None = xb
    expr_fn: Callable[[me.Covariates, np.ndarray], np.ndarray] | None = None
    contrast: bool = False                       # r. contrasts of the term margins
    vce: str = "delta"                           # delta | unconditional
    # nonlinear models: (covariates, xb, theta) -> the statistic per row, theta being e(b)'s
    # entries at Model.theta_idx (random-effects variances) that the statistic also uses
    theta_fn: Callable | None = None
    extra_cols: dict = field(default_factory=dict)   # full-length columns the rows carry
    outcomes: list = field(default_factory=list)     # several outcomes: a theta_fn each



@dataclass
class Model:
    """The fixed part of the active results as margins sees it."""

    names: list[str]                 # e(b) fixed names with markers
    cols: list[tuple]                # engine parts per column
    b: np.ndarray
    V: np.ndarray
    keep: np.ndarray                 # columns not omitted
    cont: list[str]                  # continuous covariates
    levels: dict[str, list[int]]     # factor covariates -> levels known to the model
    bases: dict[str, int]            # factor covariates -> base level
    theta_idx: list[int] = field(default_factory=list)   # further e(b) entries the margins use
    theta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    V_all: np.ndarray | None = None  # e(V) over the fixed part and theta_idx

    @property
    def xvars(self) -> list[str]:
        out: list[str] = []
        for parts in self.cols:
            for p in parts:
                if p.var not in out:
                    out.append(p.var)
        return out


def model_of(res: EstimationResults) -> Model:
    k = len(res.names)
    kf = res.k_f
    names = [res.names[j][1] for j in range(kf)]
    cols = [me.parse_column(nm) for nm in names]
    keep = ~np.asarray(res.omitted, dtype=bool)[:kf]
    b = np.where(keep, np.asarray(res.b, dtype=float).reshape(-1)[:kf], 0.0)
    V = np.asarray(res.V, dtype=float).reshape(k, k)[:kf, :kf].copy()
    V[~keep, :] = 0.0
    V[:, ~keep] = 0.0
    cont: list[str] = []
    levels: dict[str, list[int]] = {}
    bases: dict[str, int] = {}
    for nm, parts in zip(names, cols):
        for piece, p in zip(nm.split("#"), parts):
            if p.level is None:
                if p.var not in cont:
                    cont.append(p.var)
                continue
            lv = levels.setdefault(p.var, [])
            if p.level not in lv:
                lv.append(p.level)
            marker = piece.split(".")[0].lstrip("0123456789")
            if "b" in marker and "bn" not in marker:
                bases.setdefault(p.var, p.level)
    for v, lv in levels.items():
        lv.sort()
        bases.setdefault(v, lv[0])
    return Model(names, cols, b, V, keep, cont, levels, bases)


def with_theta(model: Model, res: EstimationResults, idx: list[int]) -> Model:
    """The model with e(b)'s entries `idx` (after the fixed part) moving in the delta method."""
    if not idx:
        return model
    k = len(res.names)
    b = np.asarray(res.b, dtype=float).reshape(-1)
    Vf = np.asarray(res.V, dtype=float).reshape(k, k)
    cols = list(range(len(model.names))) + list(idx)
    V_all = Vf[np.ix_(cols, cols)].copy()
    p = len(model.names)
    V_all[:p, :p] = model.V
    V_all[:p, p:][~model.keep] = 0.0
    V_all[p:, :p][:, ~model.keep] = 0.0
    model.theta_idx, model.theta, model.V_all = list(idx), b[idx].copy(), V_all
    return model


def base_covariates(model: Model, data, rows: np.ndarray, extra: dict | None = None) -> me.Covariates:
    cov = me.Covariates(int(rows.size))
    for name, col in (extra or {}).items():
        cov.cont[name] = np.asarray(col, dtype=float)[rows]
    for v in model.cont:
        cov.cont[v] = np.asarray(data.values(v), dtype=float)[rows]
    for v, lv in model.levels.items():
        x = np.asarray(data.values(v), dtype=float)[rows]
        cov.fact[v] = {level: (x == level).astype(float) for level in lv}
    return cov


def fit_weights(res: EstimationResults, data, rows: np.ndarray) -> np.ndarray | None:
    """The estimation's weights on the rows (e(wexp) naming a variable), or None: Stata's
    margins averages with the weights the model was fitted with (svy's pweights too)."""
    wexp = (res.macros.get("wexp") or "").strip().lstrip("=").strip()
    if not wexp or not res.macros.get("wtype") or wexp not in getattr(data, "names", ()):
        return None
    w = np.asarray(data.values(wexp), dtype=float)[rows]
    return w if np.all(np.isfinite(w)) else None


# --------------------------------------------------------------------------- statistics of at()
def at_statistic(values: np.ndarray, stat: str) -> float:
    if values.size == 0:
        return float("nan")
    if stat == "mean":
        return float(np.mean(values))
    if stat == "median":
        return float(np.percentile(values, 50, method="inverted_cdf"))
    if stat == "min":
        return float(np.min(values))
    if stat == "max":
        return float(np.max(values))
    if stat.startswith("p"):
        return float(np.percentile(values, int(stat[1:]), method="inverted_cdf"))
    raise StataError(f"{stat} invalid statistic", 198)


def _set_item(cov: me.Covariates, model: Model, item: AtItem, raw: me.Covariates) -> dict:
    """Apply one at() item to cov (statistics computed on `raw`, the unmodified rows);
    returns {r(at) column: value} for the record."""
    v = item.var
    if item.stat == "asobserved":
        return {}
    if item.stat == "mean" and v in model.levels:
        props = {lv: float(raw.avg(raw.fact[v][lv])) if raw.n else float("nan") for lv in model.levels[v]}
        cov.set_indicators(v, props)
        if v in cov.cont:
            cov.cont[v] = np.full(cov.n, float(raw.avg(raw.cont[v])) if raw.n else np.nan)
        return {f"{lv}.{v}": p for lv, p in props.items()}
    if item.stat == "value":
        value = float(item.value)
    elif item.stat == "mean" and raw.n:
        source = raw.cont[v] if v in raw.cont else _levels_as_values(raw, v)
        value = float(raw.avg(source))
    else:
        source = raw.cont[v] if v in raw.cont else _levels_as_values(raw, v)
        value = at_statistic(source, item.stat)
    if v in cov.fact:
        cov.set_value(v, value)
        out = {f"{lv}.{v}": float(lv == value) for lv in model.levels[v]}
        if v in cov.cont:
            cov.cont[v] = np.full(cov.n, value)
            out[v] = value
        return out
    cov.cont[v] = np.full(cov.n, value)
    return {v: value}


def _levels_as_values(cov: me.Covariates, v: str) -> np.ndarray:
    out = np.zeros(cov.n)
    for lv, ind in cov.fact[v].items():
        out += lv * ind
    return out


def scenario_items(req: MarginsRequest, model: Model, k: int) -> list[AtItem]:
    """The items of scenario k with atmeans' (mean) for every covariate it leaves alone
    (marginlist variables excepted)."""
    items = list(req.scenarios[k])
    if req.atmeans:
        named = {it.var for it in items}
        fixed = {v for t in req.terms for v in t}
        items += [AtItem(v, None, "mean") for v in model.xvars if v not in named and v not in fixed]
    return items


# --------------------------------------------------------------------------- cells
@dataclass
class Cell:
    est: float
    jac: np.ndarray
    n: int
    vals: np.ndarray | None = None      # the statistic of each row (vce(unconditional))


def _expr_rows(model: Model, req: MarginsRequest, cov: me.Covariates, deriv: tuple | None,
               b: np.ndarray) -> np.ndarray:
    """expression() of every row (or its derivative: central differences in a continuous
    x, the discrete change from the base for a factor) at coefficients b."""
    def f(c: me.Covariates) -> np.ndarray:
        return np.asarray(req.expr_fn(c, me.design(model.cols, c) @ b), dtype=float) * np.ones(c.n)

    if deriv is None:
        return f(cov)
    var, level = deriv
    hi, lo = cov.copy(), cov.copy()
    if level is None:
        x = cov.cont[var]
        h = 1e-4 * (float(np.mean(np.abs(x))) + 1e-3)
        hi.cont[var], lo.cont[var] = x + h, x - h
        return (f(hi) - f(lo)) / (2 * h)
    hi.set_value(var, level)
    lo.set_value(var, model.bases[var])
    return f(hi) - f(lo)


def _expr_cell(model: Model, req: MarginsRequest, cov: me.Covariates, deriv: tuple | None) -> Cell:
    if cov.n == 0:
        return Cell(float("nan"), np.full(len(model.cols), np.nan), 0)

    def value(b):
        return np.array([float(cov.avg(_expr_rows(model, req, cov, deriv, b)))])

    vals = _expr_rows(model, req, cov, deriv, model.b)
    jac = me.numeric_jacobian(value, model.b, model.keep)[0]
    return Cell(float(cov.avg(vals)), jac, cov.n, vals)


def _theta_rows(model: Model, req: MarginsRequest, cov: me.Covariates, deriv: tuple | None,
                bt: np.ndarray) -> np.ndarray:
    """theta_fn of every row (or its derivative, as _expr_rows) at (b, theta) = bt."""
    p = len(model.cols)
    b, th = bt[:p], bt[p:]

    def f(c: me.Covariates) -> np.ndarray:
        return np.asarray(req.theta_fn(c, me.design(model.cols, c) @ b, th), dtype=float) * np.ones(c.n)

    if deriv is None:
        return f(cov)
    var, level = deriv
    hi, lo = cov.copy(), cov.copy()
    if level is None:
        x = cov.cont[var]
        h = 1e-5 * (float(np.mean(np.abs(x))) + 1e-3)
        hi.cont[var], lo.cont[var] = x + h, x - h
        return (f(hi) - f(lo)) / (2 * h)
    hi.set_value(var, level)
    lo.set_value(var, model.bases[var])
    return f(hi) - f(lo)


def _theta_cell(model: Model, req: MarginsRequest, cov: me.Covariates, deriv: tuple | None) -> Cell:
    """A margin of a nonlinear statistic: the jacobian by central differences over the fixed
    part and theta (the dydx/eyex/dyex/eydx of a continuous x from the derivative's rows)."""
    if cov.n == 0:
        return Cell(float("nan"), np.full(len(model.cols) + len(model.theta), np.nan), 0)
    bt = np.concatenate([model.b, model.theta])
    mask = np.concatenate([model.keep, np.ones(len(model.theta), dtype=bool)])

    def rows(b):
        d = _theta_rows(model, req, cov, deriv, b)
        if deriv is None or deriv[1] is not None or req.deriv == "dydx":
            return d
        y = _theta_rows(model, req, cov, None, b)
        x = cov.cont[deriv[0]]
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"eyex": d * x / y, "dyex": d * x, "eydx": d / y}[req.deriv]

    vals = rows(bt)
    jac = me.numeric_jacobian(lambda b: np.array([float(cov.avg(rows(b)))]), bt, mask)[0]
    return Cell(float(cov.avg(vals)), jac, cov.n, vals)


def _cell(model: Model, req: MarginsRequest, cov: me.Covariates, deriv: tuple | None) -> Cell:
    if req.theta_fn is not None:
        return _theta_cell(model, req, cov, deriv)
    if req.expr_fn is not None:
        return _expr_cell(model, req, cov, deriv)
    if cov.n == 0:
        return Cell(float("nan"), np.full(len(model.cols), np.nan), 0, np.zeros(0))
    if deriv is None:
        vals, J = me.statistic_rows("xb", model.cols, model.b, cov)
    elif deriv[1] is None:
        vals, J = me.statistic_rows(req.deriv, model.cols, model.b, cov, deriv[0])
    else:
        var, level = deriv
        hi, lo = cov.copy(), cov.copy()
        hi.set_value(var, level)
        lo.set_value(var, model.bases[var])
        v1, j1 = me.statistic_rows("xb", model.cols, model.b, hi)
        v0, j0 = me.statistic_rows("xb", model.cols, model.b, lo)
        vals, J = v1 - v0, j1 - j0
    return Cell(float(cov.avg(vals)), cov.avg(J), cov.n, vals)


def deriv_list(req: MarginsRequest, model: Model) -> list[tuple | None]:
    """(var, None) for a continuous derivative, (var, level) for each level of a factor
    (base included: its column is 0 and marked base)."""
    if not req.deriv:
        return [None]
    out: list[tuple | None] = []
    for v in req.deriv_vars:
        if v in model.levels:
            out += [(v, lv) for lv in model.levels[v]]
        else:
            out.append((v, None))
    return out


def deriv_name(model: Model, d: tuple | None) -> str | None:
    if d is None:
        return None
    if d[1] is None:
        return d[0]
    b = "b" if d[1] == model.bases[d[0]] else ""
    return f"{d[1]}{b}.{d[0]}"


def _over_groups(req: MarginsRequest, data, rows: np.ndarray) -> list[tuple[tuple, np.ndarray]]:
    if not req.over:
        return [((), np.ones(rows.size, dtype=bool))]
    vals = np.column_stack([np.asarray(data.values(v), dtype=float)[rows] for v in req.over])
    keys = sorted({tuple(r) for r in vals})
    return [(tuple(int(x) for x in key), np.all(vals == np.array(key), axis=1)) for key in keys]


def _term_cells(model: Model, term: tuple[str, ...]) -> list[tuple[int, ...]]:
    if not term:
        return [()]
    return list(itertools.product(*[model.levels[v] for v in term]))


# --------------------------------------------------------------------------- the whole table
@dataclass
class Layout:
    dims: list[list[str]] = field(default_factory=list)     # per column: dimension names
    cells: list[tuple] = field(default_factory=list)        # per column: values per dimension
    deriv: list[str | None] = field(default_factory=list)
    est: list[float] = field(default_factory=list)
    jac: list[np.ndarray] = field(default_factory=list)
    n: list[int] = field(default_factory=list)
    rowpos: list[np.ndarray] = field(default_factory=list)   # its rows among the touse rows
    rowvals: list[np.ndarray] = field(default_factory=list)  # the statistic of those rows
    group_at: list = field(default_factory=list)   # per scenario: [(over key, {column: value})]


def compute(req: MarginsRequest, res: EstimationResults, data, model: Model | None = None
            ) -> tuple[Layout, list[dict], list[list[AtItem]]]:
    """Every margin (one per deriv x term x at x over x term level), with r(at)'s rows."""
    model = model if model is not None else model_of(res)
    rows = np.flatnonzero(req.touse)
    raw = base_covariates(model, data, rows, req.extra_cols)
    raw.w = fit_weights(res, data, rows)
    groups = _over_groups(req, data, rows)
    multi_at = len(req.scenarios) > 1
    out = Layout()
    at_rows: list[dict] = []
    at_items: list[list[AtItem]] = []
    prepared = []
    for k in range(len(req.scenarios)):
        items = scenario_items(req, model, k)
        at_items.append(items)
        per_group = []
        record: dict = {}
        group_records = []
        for key, mask in groups:
            sub_raw = raw.subset(mask)
            cov = sub_raw.copy()
            own: dict = {}
            for it in items:
                own.update(_set_item(cov, model, it, sub_raw))
            record.update(own)
            group_records.append((key, own))
            per_group.append((key, cov, np.flatnonzero(mask)))
        at_rows.append(record)
        out.group_at.append(group_records)
        prepared.append(per_group)
    outcomes = req.outcomes or [req.theta_fn]
    multi_out = len(outcomes) > 1
    for d in deriv_list(req, model):          # by derivative, then outcome, as Stata's table
        for o, fn in enumerate(outcomes):
            req.theta_fn = fn
            lead = (["_predict"] if multi_out else [], (o + 1,) if multi_out else ())
            for term in (req.terms or [()]):
                for k, per_group in enumerate(prepared):
                    at = (["_at"] if multi_at else [], (k + 1,) if multi_at else ())
                    for key, cov, pos in per_group:
                        _term_margins(out, model, req, d, term, cov, pos, lead, at, key)
    return out, at_rows, at_items


def _term_margins(out: Layout, model: Model, req: MarginsRequest, d, term, cov, pos,
                  lead: tuple, at: tuple, key: tuple) -> None:
    """The margins of one term's levels in one (outcome, at, over) cell of the table."""
    for levels in _term_cells(model, term):
        c = cov.copy()
        for v, lv in zip(term, levels):
            c.set_value(v, lv)
        cell = _cell(model, req, c, d)
        out.dims.append(lead[0] + at[0] + list(req.over) + list(term))
        out.cells.append(lead[1] + at[1] + key + tuple(levels))
        out.deriv.append(deriv_name(model, d))
        out.est.append(cell.est)
        out.jac.append(cell.jac)
        out.n.append(cell.n)
        out.rowpos.append(pos)
        out.rowvals.append(cell.vals if cell.vals is not None else np.zeros(0))


def column_name(dims: list[str], vals: tuple, deriv: str | None) -> str:
    parts = [f"{v}._at" if d == "_at" else f"{v}.{d}" for d, v in zip(dims, vals)]
    name = "#".join(parts)
    if deriv is None:
        return name or "_cons"
    return f"{deriv}:{name}" if name else deriv


def r_table(b: np.ndarray, se: np.ndarray, df_r: float | None, level: float) -> np.ndarray:
    """r(table): b se z pvalue ll ul df crit eform (9 x k)."""
    k = b.size
    a = (1 - level / 100) / 2
    if df_r is not None:
        crit = float(dist.t_isf(a, df_r))
    else:
        crit = float(dist.norm_isf(a))
    T = np.full((9, k), np.nan)
    T[0] = b
    for j in range(k):
        s = se[j]
        if not (np.isfinite(s) and s > 0):
            continue
        q = b[j] / s
        p = 2 * (dist.t_sf(abs(q), df_r) if df_r is not None else dist.norm_sf(abs(q)))
        T[1, j], T[2, j], T[3, j] = s, q, p
        T[4, j], T[5, j] = b[j] - crit * s, b[j] + crit * s
    T[6] = df_r if df_r is not None else np.nan
    T[7] = crit
    T[8] = 0.0
    return T


def at_matrix(model: Model, at_rows: list[dict]) -> tuple[np.ndarray, list[str]]:
    """r(at): one row per scenario, a column per covariate (factor: one per level, base
    marked `0b.`), missing where the covariate is as observed."""
    names: list[str] = []
    keys: list[str] = []
    for v in model.xvars:
        if v in model.levels:
            for lv in model.levels[v]:
                b = "b" if lv == model.bases[v] else ""
                names.append(f"{lv}{b}.{v}")
                keys.append(f"{lv}.{v}")
        if v in model.cont:
            names.append(v)
            keys.append(v)
    M = np.full((len(at_rows), len(keys)), np.nan)
    for i, rec in enumerate(at_rows):
        for j, key in enumerate(keys):
            if key in rec:
                M[i, j] = rec[key]
    return M, names
