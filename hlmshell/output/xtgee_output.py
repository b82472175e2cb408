"""What `xtgee` (and `xtlogit, pa` and friends) print (Stata 17): the iteration log
(`Iteration 1: tolerance = .0123`), the GEE header (family, link, correlation, scale beside the
counts and the Wald test) and `estat wcorrelation`'s working-correlation matrix. Formats numbers
handed to it; nothing is estimated. Columns as xtreg's: right block at 49, `=` at 67."""
from __future__ import annotations

import math

from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.output.text import abbrev


def iteration_line(it: int, tol: float) -> str:
    """`Iteration 5: tolerance = 6.628e-07`: %10.0g, as the manual's logs show it."""
    return f"Iteration {it}: tolerance = {fmt(tol, '%10.0g').strip()}"


def _join(left: str, right: str = "") -> str:
    return (left.ljust(48) + right).rstrip()


def _right(label: str, value: str) -> str:
    return f"{label:<18}={value:>11}"


def _obs(label: str, value: str) -> str:
    return f"{label:>17} ={value:>11}"


def _num(x: float, spec: str) -> str:
    return "." if x is None or not math.isfinite(x) else fmt(float(x), spec).strip()


def header_lines(*, ivar: str, tvar: str | None, family: str, link: str, corr: str,
                 scale: float, n: int, n_g: int, g: tuple[float, float, float], df_m: int,
                 chi2: float, p: float) -> list[str]:
    gmin, gavg, gmax = g
    who = f"Group and time vars: {abbrev(ivar, 12)} {abbrev(tvar, 12)}" if tvar \
        else f"Group variable: {abbrev(ivar, 12)}"
    return ["", _join("GEE population-averaged model", _right("Number of obs", fmt_count(n))),
            _join(who, _right("Number of groups", fmt_count(n_g))),
            _join(f"Family: {family}", "Obs per group:"),
            _join(f"Link:   {link}", _obs("min", fmt_count(int(gmin)))),
            _join(f"Correlation: {corr}", _obs("avg", fmt(gavg, "%10.1fc").strip())),
            _join("", _obs("max", fmt_count(int(gmax)))),
            _join("", _right(f"Wald chi2({df_m})", _num(chi2, "%9.2f"))),
            _join(f"Scale parameter = {fmt_g(scale, 9).strip()}",
                  _right("Prob > chi2", _num(p, "%6.4f")))]


def matrix_lines(title: str, R, form: str = "%9.4f") -> list[str]:
    """The working correlation as a lower triangle, rows r1.. and columns c1.., in blocks of
    columns that fit 78 characters."""
    T = R.shape[0]
    w = max(len(fmt(0.5, form)), 3) + 1
    per = max(1, (78 - 8) // w)
    out = ["", f"{title}:"]
    for start in range(0, T, per):
        cols = range(start, min(start + per, T))
        out += ["", "     " + "".join(f"{'c' + str(j + 1):>{w}}" for j in cols)]
        for i in range(start, T):
            cells = "".join(f"{fmt(float(R[i, j]), form).strip():>{w}}" for j in cols if j <= i)
            out.append(f"{'r' + str(i + 1):<5}{cells}")
    return out
