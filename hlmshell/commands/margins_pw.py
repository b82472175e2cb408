"""`margins ..., pwcompare`: every pairwise difference of the margins of one term (`2 vs 1`,
`3 vs 1`, `3 vs 2`), delta-method standard errors, unadjusted p-values and intervals.

The table's name column widens to the longest `Catholic vs Public` label, as Stata's does;
`pwcompare` alone shows the intervals (cieffects), `pwcompare(effects)` adds z and P>|z|.
Stored as r(b_vs), r(V_vs), r(table_vs) (MarginsTable.pw).
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import margins_build as mb
from hlmshell.engine import margins as me
from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.output.text import abbrev


def comparisons(table: me.MarginsTable, sections) -> tuple[list, list]:
    """[(header, [(label, row i, row j)])] from the table's display groups (within a group,
    j vs i for i < j) and the contrast column names (`1vs0.sector`)."""
    out, names = [], []
    for _, groups in sections:
        for g in groups:
            rows = [r for r in g.rows if not r.status]
            pairs = []
            for a in range(len(rows)):
                for c in range(a + 1, len(rows)):
                    lo, hi = rows[a], rows[c]
                    multi = " " in lo.label or " " in hi.label
                    lab = f"({hi.label}) vs ({lo.label})" if multi else f"{hi.label} vs {lo.label}"
                    pairs.append((lab, lo.index, hi.index))
                    names.append(_vs_name(table, lo.index, hi.index))
            if pairs:
                out.append((g.header or table.names[rows[0].index], pairs))
    return out, names


def _vs_name(table: me.MarginsTable, i: int, j: int) -> str:
    dims = table.all_dims[j]
    ci, cj = table.cells[i], table.cells[j]
    parts = []
    for d, a, b in zip(dims, ci, cj):
        tag = "_at" if d == "_at" else d
        parts.append(f"{b}vs{a}.{tag}")
    return "#".join(parts) or "_cons"


def compute(table: me.MarginsTable, sections) -> dict:
    comps, names = comparisons(table, sections)
    k = len(table.b)
    L = []
    labels = []
    for header, pairs in comps:
        for lab, i, j in pairs:
            row = np.zeros(k)
            row[j], row[i] = 1.0, -1.0
            L.append(row)
            labels.append((header, lab))
    L = np.array(L).reshape(-1, k)
    b = L @ table.b
    V = me.delta_vcov(L, table.V)
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    return {"names": names, "b": b, "V": V, "se": se, "labels": labels,
            "table": mb.r_table(b, se, table.df_r, table.level)}


def pw_lines(session, table: me.MarginsTable, mode: str, sections) -> list[str]:
    pw = compute(table, sections)
    table.pw = pw
    if not pw["labels"]:
        return ["", ct.rule(), "", ct.rule()]
    width = max([ct.NAME_W] + [len(lab) + 1 for _, lab in pw["labels"]]
                + [len(h) for h, _ in pw["labels"]])
    effects = mode == "effects"
    total = width + (66 if effects else 50)
    lead = " " * width + " |"
    ci = f"[{table.level:g}% conf. interval]"
    if effects:
        top = lead + "            Delta-method    Unadjusted           Unadjusted"
        cols = f"{lead}   Contrast   std. err.{table.stat:>7}    P>|{table.stat}|{ci:>25}"
    else:
        top = lead + "            Delta-method         Unadjusted"
        cols = f"{lead}   Contrast   std. err.{ci:>25}"
    out = ["", "-" * total, top, cols, "-" * (width + 1) + "+" + "-" * (total - width - 2)]
    T = pw["table"]
    prev = None
    for k, (header, lab) in enumerate(pw["labels"]):
        if header != prev:
            out.append(f"{abbrev(header, width):>{width}} |")
            prev = header
        cells = _cells(T[:, k], effects)
        out.append(f"{abbrev(lab, width - 1):>{width - 1}}  |{cells}")
    return out + ["-" * total]


def _cells(col: np.ndarray, effects: bool) -> str:
    b, se, q, p, lo, hi = (float(x) for x in col[:6])
    if effects:
        return (f"  {fmt_g(b, 9):>9}  {fmt_g(se, 9):>9} {fmt(q, '%8.2f')}   {fmt(p, '%5.3f')}"
                f"    {fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}")
    return f"  {fmt_g(b, 9):>9}  {fmt_g(se, 9):>9}     {fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}"
