"""Text layouts of the post-estimation commands (Stata 17): test, lincom, lrtest, estat, estimates.

Pure formatting: every function takes numbers and returns lines, so the commands stay small and
the layouts can be checked against stata_layout.md without fitting anything.
"""
from __future__ import annotations

import math

from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.output.text import abbrev

WIDE = 78  # the coefficient and random-effects tables


def g9(x) -> str:
    return fmt(x, "%9.0g")


def _num(x: float) -> str:
    """A coefficient in a constraint (`2*`, `.5*`): %g-style digits without padding."""
    return fmt_g(float(x), 10)


# --------------------------------------------------------------------------- test / lincom
def constraint_text(coefs: list[tuple[float, str]], rhs: float) -> str:
    """`[mathach]2.sized - [mathach]3.sized = 0` from (coefficient, label) pairs in e(b) order."""
    parts: list[str] = []
    for i, (c, label) in enumerate(coefs):
        neg = c < 0
        mag = abs(c)
        term = label if mag == 1 else f"{_num(mag)}*{label}"
        if i == 0:
            parts.append(("- " if neg else "") + term)
        else:
            parts.append((" - " if neg else " + ") + term)
    lhs = "".join(parts) if parts else "0"
    return f"{lhs} = {_num(rhs) if rhs != 0 else '0'}"


def constraint_lines(texts: list[str], dropped: list[int]) -> list[str]:
    """` ( 1)  ...` lines; a dropped constraint is followed by `Constraint k dropped`."""
    out = []
    for i, t in enumerate(texts, start=1):
        out.append(f" ({i:2d})  {t}")
        if i in dropped:
            out.append(f"       Constraint {i} dropped")
    return out


def wald_lines(stat: float, df: int, p: float, df_r: float | None = None,
               decimals: bool = False) -> list[str]:
    """test's result lines; decimals: a small-sample DDF (mixed's dfmethod()) as %7.2f."""
    if df_r is None:
        return [f"           chi2({df:3d}) ={fmt(stat, '%8.2f')}",
                f"         Prob > chi2 ={fmt(p, '%10.4f')}"]
    ddf = fmt(df_r, "%7.2f") if decimals else fmt(df_r, "%6.0f")
    return [f"       F({df:3d},{ddf}) ={fmt(stat, '%8.2f')}",
            f"            Prob > F ={fmt(p, '%10.4f')}"]


def coef_header(depvar: str, tstat: bool, level: float = 95.0) -> list[str]:
    z = "t    P>|t|" if tstat else "z    P>|z|"
    lev = f"{level:g}"
    ci = f"[{lev}% conf. interval]"
    return [
        "-" * WIDE,
        f"{abbrev(depvar, 12):>12} | Coefficient  Std. err.      {z}     {ci}",
        "-" * 13 + "+" + "-" * 64,
    ]


def coef_row(label: str, b: float, se: float, stat: float, p: float, lo: float, hi: float) -> str:
    return (f"{abbrev(label, 12):>12} |  {g9(b)}  {g9(se)} {fmt(stat, '%8.2f')}"
            f"   {fmt(p, '%5.3f')}    {g9(lo)}   {g9(hi)}")


# --------------------------------------------------------------------------- lrtest
BOUNDARY_NOTE = [
    "Note: The reported degrees of freedom assumes the null hypothesis is not on the",
    "      boundary of the parameter space.  If this is not true, then the reported",
    "      test is conservative.",
]
REML_NOTE = [
    "Note: LR tests based on REML are valid only when the fixed-effects specification",
    "      is identical for both models.",
]


def lrtest_lines(restricted: str, unrestricted: str, df: float, chi2: float, p: float,
                 conservative: bool, reml: bool) -> list[str]:
    dfs = f"{df:g}" if not (isinstance(df, float) and math.isnan(df)) else "."
    out = ["", "Likelihood-ratio test",
           f"Assumption: {abbrev(restricted, 14) if restricted != '.' else '.'} nested within "
           f"{abbrev(unrestricted, 14) if unrestricted != '.' else '.'}",
           "",
           f"{'LR chi2(' + dfs + ')':>11} ={fmt(chi2, '%7.2f')}",
           f"Prob > chi2 = {fmt(p, '%6.4f')}"]
    if conservative:
        out += [""] + BOUNDARY_NOTE
    if reml:
        out += [""] + REML_NOTE
    return out


# --------------------------------------------------------------------------- estat ic / estimates stats
def ic_lines(rows: list[tuple[str, float, float, float, float, float, float]],
             note: bool = True) -> list[str]:
    """rows: (model, N, ll0, ll, df, AIC, BIC); no note when the user gave N (`n(#)`)."""
    out = ["", "Akaike's information criterion and Bayesian information criterion", "",
           "-" * 77,
           "       Model |          N   ll(null)  ll(model)      df        AIC        BIC",
           "-" * 13 + "+" + "-" * 63]
    for name, n, ll0, ll, df, aic, bic in rows:
        shown = "." if name == "." else abbrev(name, 12)
        out.append(f"{shown:>12} | {fmt(n, '%10.0fc')}  {g9(ll0)}  {g9(ll)}  {fmt(df, '%6.0f')}"
                   f"  {g9(aic)}  {g9(bic)}")
    out.append("-" * 77)
    if note:
        out.append("Note: BIC uses N = number of observations. See [R] BIC note.")
    return out


# --------------------------------------------------------------------------- estimates dir
def dir_lines(rows: list[tuple[str, str, str, int, str]]) -> list[str]:
    """rows: (name, cmd, depvar, npar, title)."""
    lent = 33 + min(80 - 47, max([8] + [len(r[4]) for r in rows]))
    out = ["", "-" * 13 + "-" + "-" * lent,
           "        Name | Command      Depvar       npar  Title ",
           "-" * 13 + "+" + "-" * lent]
    for name, cmd, depvar, npar, title in rows:
        dep = "no depvar" if not depvar else abbrev(depvar, 12)
        line = f"{abbrev(name, 12):>12} | {cmd:<12} {dep:<12} {npar:4d}  {title}"
        out.append(line)
    out.append("-" * 13 + "-" + "-" * lent)
    return out


# --------------------------------------------------------------------------- estat icc
def icc_lines(title: str, rows: list[tuple[str, float, float, float, float]],
              level: float = 95.0, conditional: bool = False) -> list[str]:
    out = ["", title, "", "-" * WIDE,
           f"{'Level':>28} |        ICC   Std. err.     [{level:g}% conf. interval]",
           "-" * 29 + "+" + "-" * 48]
    for label, icc, se, lo, hi in rows:
        out.append(f"{label:>28} |  {g9(icc)}  {g9(se)}     {g9(lo)}  {g9(hi)}")
    out.append("-" * WIDE)
    if conditional:
        out.append("Note: ICC is conditional on zero values of random-effects covariates.")
    return out


# --------------------------------------------------------------------------- estat group
def group_lines(rows: list[tuple[str, int, int, float, int]]) -> list[str]:
    """rows: (level variable, groups, min, avg, max)."""
    out = ["", "-" * 61,
           "                |     No. of       Observations per group",
           " Group variable |     groups    Minimum    Average    Maximum",
           "-" * 16 + "+" + "-" * 44]
    for name, g, mn, avg, mx in rows:
        out.append(f"{abbrev(name, 14):>15} | {fmt(g, '%10.0fc')} {fmt(mn, '%10.0fc')} "
                   f"{fmt(avg, '%10.1f')} {fmt(mx, '%10.0fc')}")
    out.append("-" * 61)
    return out


# --------------------------------------------------------------------------- estat recovariance
def matrix_lines(title: str, names: list[str], M, lower: bool = True) -> list[str]:
    """A symmetric matrix the way matlist prints it: lower triangle, %9.0g cells 11 wide."""
    q = len(names)
    out = ["", title, "",
           " " * 13 + "|" + "".join(f" {abbrev(n, 9):>9} " for n in names),
           "-" * 13 + "+" + "-" * (11 * q + 1)]
    for i, rn in enumerate(names):
        cells = "".join(f" {fmt_g(float(M[i][j]), 9):>9} " if (j <= i or not lower) else " " * 11
                        for j in range(q))
        out.append(f"{abbrev(rn, 12):>12} |" + cells)
    return out


# --------------------------------------------------------------------------- estimates table
def _stars(p) -> str:
    """Significance stars of `estimates table, star`."""
    if p is None or math.isnan(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _coef_cells(cells, cell, bfmt: str, star: bool, extra=(), eform: bool = False) -> list[str]:
    """A coefficient row's cells, then one row of cells per statistic of `extra` ((kind,
    format): se, t, p, in that order), model by model. eform: exp(b) and its delta-method
    SE exp(b)*se; t and p stay those of b."""
    rows = [""] + ["" for _ in extra]
    for c in cells:
        if c is None or c[3]:
            rows[0] += cell("(omitted)" if c is not None else "")
            for k in range(len(extra)):
                rows[k + 1] += cell("")
            continue
        b, s, p, _ = c
        ok = s is not None and not math.isnan(s) and s > 0
        shown_b, shown_s = (math.exp(b), math.exp(b) * s if ok else s) if eform else (b, s)
        rows[0] += cell(fmt(shown_b, bfmt).strip(), _stars(p) if star else "")
        for k, (kind, f) in enumerate(extra):
            value = {"se": shown_s, "t": b / s if ok else None, "p": p}[kind]
            good = value is not None and not math.isnan(value) and (kind != "se" or ok)
            rows[k + 1] += cell(fmt(value, f or bfmt).strip() if good else "")
    return rows


def _stat_lines(stats, cell, vw: int, cw: int, bfmt: str, stfmt: str | None = None) -> list[str]:
    """The rows of the statistics block (N as an integer, the others in the table's format;
    stfmt(): every statistic in that format)."""
    out = []
    for sname, vals in stats:
        line = f"{abbrev(sname, vw):>{vw}} |"
        for v in vals:
            if v is None:
                line += cell("")
            elif stfmt:
                line += cell(fmt(v, stfmt).strip())
            elif sname == "N":
                line += cell(fmt(v, f"%{cw}.0f").strip())
            else:
                line += cell(fmt(v, bfmt).strip())
        out.append(line)
    return out


def table_lines(models: list[str], rows: list[tuple[str, list[str], list | None]],
                stats: list[tuple[str, list]], bfmt: str | None, se, star: bool,
                equations_shown: bool, stfmt: str | None = None, eform: bool = False) -> list[str]:
    """rows: (equation, label lines (13 wide, bar excluded), [(b, se, p, omitted) or None per
    model], or None for a factor header row); stats: (name, values). se: the statistics under
    each coefficient, [(kind, format or None)] with kind se, t or p (True: se alone)."""
    under_rows = [("se", None)] if se is True else list(se or [])
    has_omit = any(c is not None and c[3] for _, _, cells in rows if cells for c in cells)
    if bfmt:
        m = fmt(1.0, bfmt)
        cw = max(9 if has_omit else 7, len(m))
    else:
        cw = 10
        bfmt = "%10.0g"
    lsym = 3 if star else 0
    cwt = cw + lsym
    vw = 12
    n = len(models)
    top = "-" * (vw + 2 + n * (cwt + 2))
    center = "-" * (vw + 1) + "+" + "-" * (n * (cwt + 2))
    out = ["", top]
    heads = "".join(" " + abbrev(m, cwt).center(cwt) + " " for m in models)
    out.append(f"{'Variable':>{vw}} |" + heads)
    out.append(center)

    def cell(text: str, sym: str = "") -> str:
        if star:
            return " " + text.rjust(cw) + sym.ljust(lsym) + " "
        return " " + text.rjust(cwt) + " "

    last_eq = None
    for eq, label_lines, cells in rows:
        if equations_shown and eq != last_eq:
            if last_eq is not None:
                out.append(center)
            out.append(f"{abbrev(eq, vw):<{vw}} |")
            last_eq = eq
        for extra in label_lines[:-1]:
            out.append(f"{extra}|")
        if cells is None:
            out.append(f"{label_lines[-1]}|")
            continue
        line, *under = _coef_cells(cells, cell, bfmt, star, under_rows, eform)
        out.append(f"{label_lines[-1]}|" + line)
        out += [" " * vw + " |" + u for u in under]
    if stats:
        out.append(center)
        out += _stat_lines(stats, cell, vw, cw, bfmt, stfmt)
    out.append(top)
    twidth = 1 + (vw + 1) + n * (cwt + 2)
    if star:
        out.append("Legend: * p<0.05; ** p<0.01; *** p<0.001".rjust(twidth))
    elif under_rows:
        out.append(("Legend: " + "/".join(["b"] + [k for k, _ in under_rows])).rjust(twidth))
    return out
