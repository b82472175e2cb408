"""The text of svy estimation results in Stata 17's layout: the survey header (strata, PSUs,
observations, population and subpopulation sizes, design df, the model's adjusted Wald F),
the descriptive table of svy: mean/proportion/total/ratio, and exponentiated coefficient
tables with t statistics on the design df (svy: logit, or)."""
from __future__ import annotations

import math

from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.output.text import abbrev


def size_text(x: float) -> str:
    """A population size: whole numbers with thousands separators, others with the digits
    that fit in ten characters."""
    if not math.isfinite(x):
        return "."
    if abs(x - round(x)) <= 1e-6 * max(1.0, abs(x)) or abs(x) >= 1e9:
        return f"{x:,.0f}"
    for d in (4, 3, 2, 1, 0):
        s = f"{x:,.{d}f}"
        if len(s) <= 10:
            return s
    return f"{x:,.0f}"


def header_lines(title: str, sc: dict, model: list[tuple[str, str]], *, model_width: bool) -> list[str]:
    """`Survey: <title>`, a blank line, then the design on the left and the counts (plus the
    model rows) on the right. model_width: the 78-column estimation layout (labels of 17
    characters from column 49), else the narrower one of the descriptive commands."""
    strata, psu = fmt_count(int(sc["N_strata"])), fmt_count(int(sc["N_psu"]))
    w = max(len(strata), len(psu))
    left = [f"Number of strata = {strata:>{w}}", f"Number of PSUs   = {psu:>{w}}"]
    rows = [("Number of obs", fmt_count(int(sc["N"]))), ("Population size", size_text(sc["N_pop"]))]
    if "N_sub" in sc:
        rows += [("Subpop. no. obs", fmt_count(int(sc["N_sub"]))),
                 ("Subpop. size", size_text(sc["N_subpop"]))]
    rows.append(("Design df", fmt_count(int(sc["df_r"])) if math.isfinite(sc["df_r"]) else "."))
    rows += model
    if model_width:
        right = [f"{label:<18}={value:>11}" for label, value in rows]
        pad = 48
    else:
        right = [f"{label:<15} ={value:>11}" for label, value in rows]
        pad = 34
    left += [""] * (len(right) - len(left))
    return ["", f"Survey: {title}", ""] + [(a.ljust(pad) + b).rstrip() for a, b in zip(left, right)]


def model_rows(sc: dict, r2: bool) -> list[tuple[str, str]]:
    """F(df1, df2) and Prob > F of the adjusted Wald test (and R-squared for regress)."""
    if "F" not in sc:
        return []
    d1, d2 = sc.get("df_m_test", sc.get("df_m", 0)), sc.get("df_r_test", sc["df_r"])
    F = sc["F"]
    rows = [(f"F({_df(d1)}, {_df(d2)})", fmt(F, "%10.2f").strip() if math.isfinite(F) else "."),
            ("Prob > F", fmt(sc["p"], "%10.4f").strip() if math.isfinite(sc.get("p", math.nan)) else ".")]
    if r2 and "r2" in sc:
        rows.append(("R-squared", fmt(sc["r2"], "%10.4f").strip()))
    return rows


def _df(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


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


def _eform_cells(b: float, se: float, level: float, df: float) -> str:
    if not math.isfinite(se) or se <= 0:
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
    for g in groups:
        lines: list[str] = []
        if g.header is not None:
            lines += [f"{ln}|" for ln in ct.header_lines(g.header)]
        for r in g.rows:
            labels = [ct.level_label(r.label)] if g.header is not None else ct.name_lines(r.label)
            cells = ct.status_cells(r.status) if r.status else \
                _eform_cells(float(b[r.index]), float(se[r.index]), level, df)
            lines += ct.coef_row(labels, cells)
        if body and len(lines) > 1:
            body.append(" " * (ct.NAME_W + 1) + "|")
        body += lines
    return head + body + [ct.rule()]


def singleton_note() -> str:
    return "Note: Missing standard errors because of stratum with single sampling unit."
