"""What tobit and xttobit print above their tables (Stata 17): the censoring summary (uncensored,
left- and right-censored counts beside the limits), the model test and the log likelihood;
and xttobit's panel block. Formats numbers handed to it."""
from __future__ import annotations

import math

from hlmshell.output import xt_glmm_output as xo
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.output.text import abbrev

_EQ = 69            # tobit: the column where every right-hand label ends


def _tobit_right(left: str, label: str, value: str) -> str:
    return (left.ljust(_EQ - len(label)) + label + " = " + f"{value:>6}").rstrip()


def limit_text(value) -> tuple[str, str]:
    """The `Limits:` words for a lower or upper limit given as a number or a variable name;
    None is no limit."""
    if value is None:
        return "-inf", "+inf"
    if isinstance(value, str):
        return value, value
    s = fmt_g(float(value), 9).strip()
    return s, s


def limits_lines(lower, upper) -> tuple[str, str]:
    lo = limit_text(lower)[0]
    hi = limit_text(upper)[1]
    return f"Limits: Lower = {lo}", f"        Upper = {hi}"


def _num(x, spec: str) -> str:
    return "." if x is None or not math.isfinite(x) else fmt(float(x), spec).strip()


def tobit_header(*, n: int, n_unc: int, n_lc: int, n_rc: int, lower, upper, test: str,
                 chi2: float, p: float, ll: float, r2p: float, pseudo: bool,
                 ptest: str = "Prob > chi2") -> list[str]:
    lo, hi = limits_lines(lower, upper)
    llname = "Log pseudolikelihood" if pseudo else "Log likelihood"
    rows = [_tobit_right("Tobit regression", "Number of obs", fmt_count(n)),
            _tobit_right("", "Uncensored", fmt_count(n_unc)),
            _tobit_right(lo, "Left-censored", fmt_count(n_lc)),
            _tobit_right(hi, "Right-censored", fmt_count(n_rc)),
            "",
            _tobit_right("", f"{test:<13}", _num(chi2, "%9.2f")),
            _tobit_right("", f"{ptest:<13}", _num(p, "%6.4f")),
            _tobit_right(f"{llname} = {fmt(ll, '%10.0g')}", f"{'Pseudo R2':<13}",
                         _num(r2p, "%6.4f"))]
    return rows


def xttobit_header(*, title: str, ivar: str, n: int, n_g: int, g, n_unc: int, n_lc: int,
                   n_rc: int, lower, upper, intmethod: str, intpoints: int, test: str,
                   chi2: float, p: float, ll: float) -> list[str]:
    lo, hi = limits_lines(lower, upper)
    gmin, gavg, gmax = g
    j, r = xo._join, xo._right
    return ["", j(title, r("Number of obs", fmt_count(n))),
            j("", r("   Uncensored", fmt_count(n_unc))),
            j(lo, r("   Left-censored", fmt_count(n_lc))),
            j(hi, r("   Right-censored", fmt_count(n_rc))), "",
            j(f"Group variable: {abbrev(ivar, 12)}", r("Number of groups", fmt_count(n_g))),
            j("Random effects u_i ~ Gaussian", "Obs per group:"),
            j("", xo._obs("min", fmt_count(int(gmin)))),
            j("", xo._obs("avg", fmt(gavg, "%10.1fc").strip())),
            j("", xo._obs("max", fmt_count(int(gmax)))), "",
            j(f"Integration method: {intmethod}", r("Integration pts.", str(intpoints))), "",
            j("", r(test, _num(chi2, "%9.2f"))),
            j(f"Log likelihood = {fmt_g(ll, 10).strip()}", r("Prob > chi2", _num(p, "%6.4f")))]
