"""What xtlogit, xtprobit and xtpoisson print with `re` and `fe` (Stata 17): the panel header
(random-effects distribution, integration method and points, the model test beside the log
likelihood), the ancillary rows below the coefficients (/lnsig2u, sigma_u, rho; /lnalpha,
alpha) and the LR test of the variance at its boundary. Formats numbers handed to it."""
from __future__ import annotations

import math

from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.output.text import abbrev


def _join(left: str, right: str = "") -> str:
    return (left.ljust(48) + right).rstrip()


def _right(label: str, value: str) -> str:
    return f"{label:<18}={value:>11}"


def _obs(label: str, value: str) -> str:
    return f"{label:>17} ={value:>11}"


def _num(x, spec: str) -> str:
    return "." if x is None or not math.isfinite(x) else fmt(float(x), spec).strip()


def header_lines(*, title: str, ivar: str, n: int, n_g: int, g, re_dist: str | None,
                 intmethod: str | None, intpoints: int | None, test: str, chi2: float,
                 p: float, ll: float, pseudo: bool = False) -> list[str]:
    gmin, gavg, gmax = g
    out = ["", _join(title, _right("Number of obs", fmt_count(n))),
           _join(f"Group variable: {abbrev(ivar, 12)}", _right("Number of groups", fmt_count(n_g))),
           "", _join(f"Random effects u_i ~ {re_dist}" if re_dist else "", "Obs per group:"),
           _join("", _obs("min", fmt_count(int(gmin)))),
           _join("", _obs("avg", fmt(gavg, "%10.1fc").strip())),
           _join("", _obs("max", fmt_count(int(gmax)))), ""]
    if intmethod:
        out += [_join(f"Integration method: {intmethod}", _right("Integration pts.", str(intpoints))),
                ""]
    out += [_join("", _right(test, _num(chi2, "%9.2f"))),
            _join(f"Log {'pseudolikelihood' if pseudo else 'likelihood'} = {fmt_g(ll, 10).strip()}",
                  _right("Prob > chi2", _num(p, "%6.4f")))]
    return out


def tau_line(tau: float, ll: float) -> str:
    """The starting-value search of xtlogit/xtprobit, re: `tau =  0.1     log likelihood = ...`."""
    return f"tau = {tau:4.1f}     log likelihood = {fmt(ll, '%10.0g')}"


def aux_row(label: str, b: float, se: float, lo: float, hi: float) -> str:
    """An ancillary parameter: estimate, std. err. and interval, no z or P (as Stata's diparm)."""
    cells = f"  {fmt_g(b, 9):>9}"
    if math.isfinite(se):
        cells += f"  {fmt_g(se, 9):>9}" + " " * 21 + f"{fmt_g(lo, 9):>9}   {fmt_g(hi, 9):>9}"
    return f"{label:>{ct.NAME_W}} |{cells}"


def lr_line(what: str, chi2: float, p: float) -> str:
    left = f"LR test of {what}: chibar2(01) = {_num(chi2, '%8.2f')}"
    return left.ljust(55) + f"Prob >= chibar2 = {_num(p, '%5.3f')}"


def dropped_note(groups: int, obs: int, kind: str) -> list[str]:
    what = f"{fmt_count(groups)} group{'s' if groups != 1 else ''} ({fmt_count(obs)} obs)"
    if kind == "logit":
        return [f"note: {what} dropped because of all positive or", "      all negative outcomes."]
    return [f"note: {what} dropped because of all zero outcomes"]
