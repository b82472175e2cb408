"""The text of svy estimation results in Stata 17's layout: the survey header (strata, PSUs,
observations, population and subpopulation sizes, design df, the model's adjusted Wald F),
the descriptive table of svy: mean/proportion/total/ratio, and exponentiated coefficient
tables with t statistics on the design df (svy: logit, or)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from hlmshell.output import coeftable as ct
from hlmshell.output.eform_table import status_cells as eform_status_cells
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.output.text import abbrev


@dataclass
class _Columns:
    """Column positions (1-based) of Stata's coefficient-table header for svy results: the
    estimation scheme (78 wide) or the compact one of mean/proportion/ratio/total (62)."""

    width: int
    c2: int
    c3: int
    c4: int
    c2w: int
    c4w: int = 10

    def fit_population(self, n_pop: float) -> None:
        """Widen the right-hand values (moving their labels left) when the population size
        needs more room than ten characters, as Stata's header does."""
        maxlen = min(self.width - self.c2 - (self.c2w + 2) - 2 - (self.c4 - self.c3) - 2, 19)
        length = len(fmt(n_pop, f"%{maxlen}.0fc").strip()) + 1 if math.isfinite(n_pop) else 2
        if self.c4w <= length <= maxlen + 1:
            self.c3 += self.c4w - length
            self.c4 += self.c4w - length
            self.c4w = length


def _place(label: str, col_label: int, value: str, col_value: int) -> str:
    return f"{' ' * (col_label - 1)}{label}".ljust(col_value - 1) + value


def _num(x: float, f: str, w: int) -> str:
    """x in format f (width w), missing as `.`; a %g value that would overflow its width
    keeps fewer decimals instead (a population size of 142,106,854.45 in %13.0gc)."""
    if not math.isfinite(x):
        return f"{'.':>{w}}"
    s = fmt(x, f)
    if len(s.strip()) >= w and not f.endswith("fc"):   # a %g value keeps a space after the `=`
        s = next((c for c in (f"{x:,.{d}f}" for d in (3, 2, 1, 0)) if len(c) <= w), f"{x:,.0f}")
    return s.rjust(w)


def header_lines(title: str, sc: dict, model: list[tuple[str, str]], *, model_width: bool) -> list[str]:
    """A blank line, `Survey: <title>`, a blank line, then the design (strata, PSUs) on the
    left and the counts, sizes, design df and model rows on the right, in the columns of
    Stata's estimation header (model_width) or of its compact one (mean, proportion, ...)."""
    cols = _Columns(78, 20, 49, 67, 9) if model_width else _Columns(62, 18, 35, 51, 7)
    cols.fit_population(sc["N_pop"])
    w1 = cols.c4w + 1
    left = [_place("Number of strata", 1, "= " + fmt(sc["N_strata"], f"%{cols.c2w}.0fc"), cols.c2),
            _place("Number of PSUs", 1, "= " + fmt(sc["N_psu"], f"%{cols.c2w}.0fc"), cols.c2)]
    rows = [("Number of obs", "= " + fmt(sc["N"], f"%{cols.c4w}.0fc")),
            ("Population size", "=" + _num(sc["N_pop"], f"%{w1}.0gc", w1))]
    if "N_sub" in sc:
        rows += [("Subpop. no. obs", "=" + fmt(sc["N_sub"], f"%{w1}.0fc")),
                 ("Subpop. size", "=" + _num(sc["N_subpop"], f"%{w1}.0gc", w1))]
    rows.append(("Design df", "= " + _num(sc["df_r"], f"%{cols.c4w}.0fc", cols.c4w)))
    rows += [(label, "= " + value.rjust(cols.c4w)) for label, value in model]
    out = ["", f"Survey: {title}", ""]
    for i, (label, value) in enumerate(rows):
        head = left[i] if i < len(left) else ""
        out.append(head.ljust(cols.c3 - 1) + _place(label, 1, value, cols.c4 - cols.c3 + 1))
    return out


def model_rows(sc: dict, r2: bool) -> list[tuple[str, str]]:
    """F(df1, df2) and Prob > F of the adjusted Wald test (and R-squared for regress), as
    Stata lays them out: F(%4.0f,%7.0f)."""
    if "F" not in sc or not sc.get("df_m"):
        return []
    d1, d2 = sc.get("df_m_test", sc["df_m"]), sc.get("df_r_test", sc["df_r"])
    F, p = sc["F"], sc.get("p", math.nan)
    rows = [(f"F({fmt(d1, '%4.0f')},{fmt(d2, '%7.0f')})", fmt(F, "%10.2f").strip() if math.isfinite(F) else "."),
            ("Prob > F", fmt(p, "%10.4f").strip() if math.isfinite(p) else ".")]
    if r2 and "r2" in sc:
        rows.append(("R-squared", fmt(sc["r2"], "%10.4f").strip()))
    return rows


def stat_table(rows, level: float, stat: str, extra: str = "") -> list[str]:
    """The table of svy: mean/proportion/total/ratio: `Linearized` above `std. err.`, then one
    row per estimate (a str item is a group title row)."""
    ci = f"[{level:g}% conf. interval]"
    w = min(max([12] + [len(r if isinstance(r, str) else r[0]) for r in rows]), 32)
    out = ["-" * (w + 50)]
    if extra:
        out.append(f"{'':{w + 1}}|{'Linearized':>23}{extra:>25}".rstrip())
        out.append(f"{'':{w + 1}}|{stat:>11}   std. err.     {ci}")
    else:
        out.append(f"{'':{w + 1}}|{'':13}Linearized")
        out.append(f"{'':{w + 1}}|{stat:>11}   std. err.     {ci}")
    out.append("-" * (w + 1) + "+" + "-" * 48)
    for row in rows:
        if isinstance(row, str):
            out.append(f"{abbrev(row, w):>{w}} |")
            continue
        lab, b, se, lo, hi = row
        out.append(f"{abbrev(lab, w):>{w}} |{fmt_g(b, 9):>11}{fmt_g(se, 9):>11}{fmt_g(lo, 9):>14}"
                   f"{fmt_g(hi, 9):>12}")
    out.append("-" * (w + 50))
    return out


def eform_t_cells(b: float, se: float, level: float, df: float) -> str:
    """exp(b), its delta-method SE, b's t test on df and exp() of b's interval."""
    if not math.isfinite(se):       # missing variance (a stratum with one PSU): dots
        return f"  {fmt_g(math.exp(b), 9):>9}  {'.':>9} {'.':>8}   {'.':>5}    {'.':>9}   {'.':>9}"
    if se <= 0:
        return f"  {fmt_g(math.exp(b), 9):>9}"
    q, p, lo, hi = ct.coef_stats(b, se, stat="t", df_r=df, level=level)
    eb = math.exp(b)
    return (f"  {fmt_g(eb, 9):>9}  {fmt_g(eb * se, 9):>9} {fmt(q, '%8.2f')}   {fmt(p, '%5.3f')}"
            f"    {fmt_g(math.exp(lo), 9):>9}   {fmt_g(math.exp(hi), 9):>9}")


def eform_table(depvar: str, groups, b, se, *, title: str, level: float, df: float) -> list[str]:
    """Odds ratios / IRRs with the t test of b on the design df and exp() of b's interval."""
    head = [ct.rule(), ct.vcetype_line("Linearized"),
            ct.column_header(depvar, "t", level, title, "std. err."), ct.rule("mid")]
    body: list[str] = []
    prev_multi = False
    for g in groups:
        lines: list[str] = []
        if g.header is not None:
            lines += [f"{ln}|" for ln in ct.header_lines(g.header)]
        for r in g.rows:
            labels = [ct.level_label(r.label)] if g.header is not None else ct.name_lines(r.label)
            cells = eform_status_cells(r.status) if r.status else \
                eform_t_cells(float(b[r.index]), float(se[r.index]), level, df)
            lines += ct.coef_row(labels, cells)
        if body and (len(lines) > 1 or prev_multi):       # blank lines around multi-line items
            body.append(" " * (ct.NAME_W + 1) + "|")
        body += lines
        prev_multi = len(lines) > 1
    return head + body + [ct.rule()]


def singleton_note() -> str:
    return "Note: Missing standard errors because of stratum with single sampling unit."
