"""Coefficient tables with exponentiated coefficients (odds ratios, incidence-rate ratios):
Stata shows exp(b), its delta-method standard error exp(b) se, the z test and p of b itself,
and the interval exp(b -+ z se). Built from the coefficient table's own pieces
(hlmshell.output.coeftable), so names and factor-variable layout are the same."""
from __future__ import annotations

import math

from hlmshell.output import coeftable as ct


def eform_cells(b: float, se: float | None, level: float) -> str:
    if se is None or not math.isfinite(se) or se <= 0:
        return f"  {ct.cnum(math.exp(b))}"
    q, p, lo, hi = ct.coef_stats(b, se, stat="z", level=level)
    eb = math.exp(b)
    return (f"  {ct.cnum(eb)}  {ct.cnum(eb * se)} {ct.snum(q)}   {ct.pnum(p)}"
            f"    {ct.cnum(math.exp(lo))}   {ct.cnum(math.exp(hi))}")


def status_cells(status: str) -> str:
    """A base or omitted row of an exponentiated table: exp(0) = 1, `1  (base)`."""
    return f"  {'1':>9}  ({status})"


def eform_table(depvar: str, groups, b, se, *, title: str, level: float = 95.0,
                vcetype: str | None = None) -> list[str]:
    head = [ct.rule()]
    if vcetype:
        head += [ct.vcetype_line(vcetype), ct.column_header(depvar, "z", level, title, "std. err.")]
    else:
        head.append(ct.column_header(depvar, "z", level, title))
    body: list[str] = []
    prev_multi = False
    for g in groups:
        lines: list[str] = []
        if g.header is not None:
            lines += [f"{ln}|" for ln in ct.header_lines(g.header)]
        for r in g.rows:
            level_rows = g.header is not None and not getattr(g, "plain_rows", False)
            labels = [ct.level_label(r.label)] if level_rows else ct.name_lines(r.label)
            if r.status == "constrained":
                cells = f"  {ct.cnum(math.exp(float(b[r.index])))}  (constrained)"
            else:
                cells = status_cells(r.status) if r.status else \
                    eform_cells(float(b[r.index]), None if se is None else float(se[r.index]), level)
            lines += ct.coef_row(labels, cells)
        if body and (len(lines) > 1 or prev_multi):       # blank lines around multi-line items
            body.append(" " * (ct.NAME_W + 1) + "|")
        body += lines
        prev_multi = len(lines) > 1
    return head + [ct.rule("mid")] + body + [ct.rule()]
