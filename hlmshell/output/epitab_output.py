"""What Stata 17's epitab commands print: the 2 x 2 table (cs: cases/noncases with risks; cc:
cases/controls with the proportion exposed; ir: cases and person-time with incidence rates),
the point-estimate block with intervals and their method tags, the chi2 / Fisher / mid-p
lines, and the stratified table of by() (per-stratum ratio, interval, M-H weight; crude;
M-H combined; homogeneity and combined tests). Numbers are formatted here, computed elsewhere.
"""
from __future__ import annotations

import math

from hlmshell.output.numfmt import fmt_g
from hlmshell.output.text import wrap_words

BAR = " " * 17 + "|"
HLINE = "-" * 17 + "+" + "-" * 24 + "+" + "-" * 12
HLINE_CC = "-" * 17 + "+" + "-" * 24 + "+" + "-" * 24


def g9(x) -> str:
    return f"{fmt_g(float(x), 9) if x is not None else '.':>9}"


def _p4(p) -> str:
    return "." if p is None or not math.isfinite(p) else f"{p:.4f}"


def two_by_two(*, varname: str | None, rows, totals, extra=None, proportion=None) -> list[str]:
    """rows: [(label, exposed, unexposed, total[, proportion])]; totals: the Total row or
    None (ir has none); proportion: cc's last column."""
    out = [""]
    cc = proportion is not None
    if varname:
        # the exposure's label (or name) in pieces of at most 23 characters, as Stata's piece
        pieces = wrap_words(varname, 23)
        out += [BAR + " " + p.ljust(23) + "|" for p in pieces]
        if cc:
            out[-1] += " " * 13 + "Proportion"
    elif cc:
        out.append(" " * 57 + "Proportion")
    head = BAR + "   Exposed   Unexposed  |      Total"
    out.append(head + ("     Exposed" if cc else ""))
    line = HLINE_CC if cc else HLINE
    out.append(line)

    def row(r):
        s = f"{r[0][:16]:>16} | {g9(r[1])}   {g9(r[2])}  |  {g9(r[3])}"
        return s + (f" {r[4]:12.4f}" if cc and len(r) > 4 and math.isfinite(r[4]) else "")
    out += [row(r) for r in rows]
    out.append(line)
    if totals is not None:
        out.append(row(totals))
    if extra:
        out.append(BAR + " " * 24 + "|")
        label, e1, e0, et = extra
        out.append(f"{label:>16} | {g9(e1)}   {g9(e0)}  |  {g9(et)}")
    out.append(BAR + " " * 24 + "|")
    return out


def estimates(rows, level: float) -> list[str]:
    """rows: (label, est, lb, ub, method) with lb None for a row without an interval."""
    lv = f"[{fmt_g(level, 9).strip()}% conf. interval]"
    out = [BAR + "      Point estimate    |    " + lv,
           BAR + "-" * 24 + "+" + "-" * 24]
    for label, est, lb, ub, method in rows:
        s = f"{label:>16} |        {g9(est)}       |"
        if lb is not None:
            s += f"   {g9(lb)}   {g9(ub)}"
            if method and any(math.isfinite(float(x)) for x in (lb, ub)):
                s += f" ({method})"
        out.append(s)
    out.append(" " * 17 + "+" + "-" * 49)
    return out


def chi2_line(chi2: float, p: float, df: int = 1) -> str:
    c = "." if not math.isfinite(chi2) else f"{chi2:9.2f}"
    return " " * 31 + f"chi2({df}) =" + f"{c:>9}" + "  Pr>chi2 = " + _p4(p)


def fisher_lines(p1: float, p2: float) -> list[str]:
    return [" " * 34 + "1-sided Fisher's exact P = " + _p4(p1),
            " " * 34 + "2-sided Fisher's exact P = " + _p4(p2)]


def midp_lines(a: float, upper: bool, p_one: float) -> list[str]:
    k = fmt_g(a, 9).strip()
    sign = ">=" if upper else "<="
    two = 2 * p_one
    return [(" " * 21 + f"(midp)   Pr(k{sign}{k}) =").ljust(61) + _p4(p_one) + " (exact)",
            (" " * 21 + f"(midp) 2*Pr(k{sign}{k}) =").ljust(61) + _p4(two) + " (exact)"]


def strata_table(kind: str, byname: str, stat: str, strata, crude, mh, *, level: float,
                 nocrude: bool) -> list[str]:
    """by()'s table. strata: (label, est, lb, ub, weight, tag); crude/mh: (est, lb, ub, tag).
    cs sets its estimates one column further right than cc and ir; a crude row's tag sits at
    column 69, as a stratum row's follows its weight."""
    lv = f"[{fmt_g(level, 9).strip()}% conf. interval]"
    out = ["", f"{byname[:16]:>16} |{stat:>9}       {lv}   M-H weight",
           "-" * 17 + "+" + "-" * 49]
    w_est, w_lb = (12, 13) if kind == "cs" else (11, 14)

    def row(label, est, lb, ub, w, tag):
        s = f"{label[:16]:>16} |{g9(est):>{w_est}}{g9(lb):>{w_lb}}{g9(ub):>11}"
        if w is not None:
            return (s + f"{g9(w):>13}" + (f" ({tag})" if tag else "")).rstrip()
        return (s.ljust(68) + f"({tag})") if tag else s
    out += [row(*r) for r in strata]
    out.append("-" * 17 + "+" + "-" * 49)
    if not nocrude and crude is not None:
        out.append(row("Crude", crude[0], crude[1], crude[2], None, crude[3]))
    out.append(row("M-H combined", mh[0], mh[1], mh[2], None, mh[3]))
    return out


def homogeneity_line(kind: str, what: str, chi2: float, df: int, p: float) -> str:
    """`Test of homogeneity (M-H)  chi2(k) = ...  Pr>chi2 = ...` as each command prints it:
    cs with %9.3f, cc with %8.2f (both from column 32), ir one space in with %10.2f."""
    if kind == "ir":
        head, spec, eq = f" Test of homogeneity ({what})".ljust(30), "10.2f", " ="
    else:
        head = f"Test of homogeneity ({what})".ljust(31)
        spec, eq = ("9.3f", " =") if kind == "cs" else ("8.2f", " = ")
    width = int(spec.split(".")[0])
    c = "." if not math.isfinite(chi2) else format(chi2, spec)
    return head + f"chi2({df}){eq}" + f"{c:>{width}}" + "  Pr>chi2 = " + _p4(p)


def combined_or_test(chi2: float, p: float) -> list[str]:
    c = "." if not math.isfinite(chi2) else f"{chi2:10.2f}"
    return ["", " " * 19 + "Test that combined OR = 1:",
            " " * 32 + "Mantel-Haenszel chi2(1) =" + f"{c:>10}",
            " " * 48 + "Pr>chi2 =" + f"{_p4(p):>10}"]
