"""`margins r.sector` / `margins sector, contrast`: reference-category contrasts of the margins
of a one-factor term (each level minus the base level's margin), their joint Wald test
(chi2 after mixed, F with e(df_r) after regress) and the contrasts with delta-method
standard errors and intervals, as Stata's `Contrasts of predictive margins` shows them:

    ------------------------------------------------
                 |         df        chi2     P>chi2
    -------------+----------------------------------
          sector |          1       42.56     0.0000
    ------------------------------------------------

    --------------------------------------------------------------
                 |            Delta-method
                 |   Contrast   std. err.     [95% conf. interval]
    -------------+------------------------------------------------
          sector |
        (1 vs 0)  |   ...

Stored: r(b), r(V), r(table) hold the contrasts (`r1vs0.sector`); r(chi2)/r(F), r(p), r(df)
are 1 x terms matrices.
"""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import margins_build as mb
from hlmshell.engine import margins as me
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.output.text import abbrev


def check(req: mb.MarginsRequest) -> None:
    if req.deriv or req.over or len(req.scenarios) > 1:
        raise StataError("contrasts of margins with dydx(), over() or several at() values are "
                         "not implemented", 198)
    if any(len(t) != 1 for t in req.terms) or not req.terms:
        raise StataError("contrasts are implemented for one-factor terms only", 198)


def contrast(table: me.MarginsTable, model: mb.Model) -> dict:
    """Replace the margins of `table` by their r. contrasts; the Wald tests per term."""
    rows, names, labels, terms = [], [], [], []
    tests = []
    k = len(table.b)
    for var in _terms(table):
        idx = [j for j in range(k) if table.all_dims[j] == [var]]
        base = next(j for j in idx if table.cells[j][0] == model.bases[var])
        L = []
        for j in idx:
            if j == base:
                continue
            row = np.zeros(k)
            row[j], row[base] = 1.0, -1.0
            L.append(row)
            lv, b0 = table.cells[j][0], table.cells[base][0]
            names.append(f"r{lv}vs{b0}.{var}")
            labels.append((var, lv, b0))
        L = np.array(L).reshape(-1, k)
        rows.append(L)
        terms.append(var)
        tests.append(_wald(L @ table.b, me.delta_vcov(L, table.V), table.df_r))
    L = np.vstack(rows)
    return {"L": L, "names": names, "labels": labels, "terms": terms, "tests": tests}


def _terms(table: me.MarginsTable) -> list[str]:
    out: list[str] = []
    for d in table.all_dims:
        if d and d[0] not in out:
            out.append(d[0])
    return out


def _wald(c: np.ndarray, V: np.ndarray, df_r: float | None) -> tuple[int, float, float]:
    """(df, chi2 or F, p) of c = 0."""
    w, U = np.linalg.eigh(V)
    keep = w > max(w.max(), 0) * 1e-12 if w.size else np.zeros(0, dtype=bool)
    df = int(np.count_nonzero(keep))
    if df == 0:
        return 0, float("nan"), float("nan")
    z = U[:, keep].T @ c
    chi2 = float(np.sum(z ** 2 / w[keep]))
    if df_r is not None:
        F = chi2 / df
        return df, F, float(dist.f_sf(F, df, df_r))
    return df, chi2, float(dist.chi2_sf(chi2, df))


def apply(table: me.MarginsTable, model: mb.Model) -> dict:
    """The contrasts become the table's estimates (r(b), r(V), r(table) hold them)."""
    con = contrast(table, model)
    L = con["L"]
    table.b = L @ table.b
    table.V = me.delta_vcov(L, table.V)
    table.jacobian = L @ table.jacobian if table.jacobian is not None else None
    se = np.sqrt(np.clip(np.diag(table.V), 0, None))
    table.table = mb.r_table(table.b, se, table.df_r, table.level)
    table.names = con["names"]
    table.status = [None] * len(con["names"])
    table.cells = [(lv,) for _, lv, _ in con["labels"]]
    table.all_dims = [[var] for var, _, _ in con["labels"]]
    table.n_cells = [table.N] * len(con["names"])
    table.title = "Contrasts of " + table.title[0].lower() + table.title[1:]
    return con


def value_text(labels: dict, v) -> str:
    return labels.get(float(v), str(v))


def lines(con: dict, table: me.MarginsTable, value_labels) -> list[str]:
    """The test table and the contrast table."""
    tstat = table.df_r is not None
    head = f"{'':>{ct.NAME_W}} |{'df':>11}{('F' if tstat else 'chi2'):>12}{('P>F' if tstat else 'P>chi2'):>11}"
    out = ["", "-" * 48, head, "-" * 13 + "+" + "-" * 34]
    for var, (df, stat, p) in zip(con["terms"], con["tests"]):
        out.append(f"{abbrev(var, ct.NAME_W):>{ct.NAME_W}} |{df:>11}{fmt(stat, '%12.2f')}{fmt(p, '%11.4f')}")
    if tstat:
        out += [" " * ct.NAME_W + " |", f"{'Denominator':>{ct.NAME_W}} |{int(table.df_r):>11}"]
    out.append("-" * 48)
    width = ct.NAME_W
    labs = []
    for var, lv, b0 in con["labels"]:
        vl = value_labels(var)
        labs.append(f"({value_text(vl, lv)} vs {value_text(vl, b0)})")
    width = max([width] + [len(s) + 1 for s in labs])
    lead = " " * width + " |"
    ci = f"[{table.level:g}% conf. interval]"
    total = width + 50
    out += ["", "-" * total, lead + "            Delta-method",
            f"{lead}   Contrast   std. err.{ci:>25}", "-" * (width + 1) + "+" + "-" * (total - width - 2)]
    prev = None
    T = table.table
    for j, ((var, _, _), lab) in enumerate(zip(con["labels"], labs)):
        if var != prev:
            if prev is not None:
                out.append(lead)
            out.append(f"{abbrev(var, width):>{width}} |")
            prev = var
        b, se, lo, hi = T[0, j], T[1, j], T[4, j], T[5, j]
        out.append(f"{lab:>{width - 1}}  |  {fmt_g(b, 9):>9}  {fmt_g(se, 9):>9}     "
                   f"{fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}")
    return out + ["-" * total]


def r_results(con: dict, table: me.MarginsTable) -> dict:
    """r(df), r(chi2) or r(F), r(p): 1 x terms; names the terms."""
    df = np.array([[t[0] for t in con["tests"]]], dtype=float)
    st = np.array([[t[1] for t in con["tests"]]], dtype=float)
    p = np.array([[t[2] for t in con["tests"]]], dtype=float)
    return {"df": df, ("F" if table.df_r is not None else "chi2"): st, "p": p}
