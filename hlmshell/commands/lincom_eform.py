"""lincom's exponentiated display (`or`, `irr`, `rrr`, `hr`, `shr`, `eform`): Stata's lincom
exponentiates the combination, its standard error by the delta method (exp(b) se) and the
interval's ends; z (or t) and p stay those of the linear combination. Stata's lincom.ado also
stores the exponentiated estimate and standard error in r(estimate) and r(se) (and the
exponentiated bounds in r(lb), r(ub), taken from its r(table)), so r() follows the display.

`or` is lincom's default after logistic. An additive constant cannot be exponentiated
(r(198)); more than one of the options is refused as Stata does."""
from __future__ import annotations

import math

from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_g

# option -> the first column's title in Stata 17's lower-case style
TITLES = {"or": "Odds ratio", "irr": "IRR", "rrr": "RRR", "hr": "Haz. ratio", "shr": "SHR",
          "eform": "exp(b)"}


def requested(opts, cmd: str) -> str | None:
    """The display option given (None for the linear scale); `or` after logistic."""
    given = [k for k in TITLES if getattr(opts, k, False)]
    if len(given) > 1:
        raise StataError("only one display option can be specified", 198)
    if not given and cmd == "logistic":
        return "or"
    return given[0] if given else None


def check_constant(option: str, const: float) -> None:
    """Stata refuses `lincom x + 1, or` (its message names or/irr/rrr, else eform)."""
    if const != 0:
        shown = option if option in ("or", "irr", "rrr") else "eform"
        raise StataError(f"additive constant term not allowed with {shown} option", 198)


def transform(sc: dict) -> dict:
    """r() of lincom with the estimate, its standard error and the bounds exponentiated."""
    out = dict(sc)
    est, se = sc["estimate"], sc["se"]
    with_exp = math.exp(est) if math.isfinite(est) and est < 709 else float("nan")
    out["estimate"] = with_exp
    out["se"] = with_exp * se if math.isfinite(se) else float("nan")
    for k in ("lb", "ub"):
        v = sc[k]
        out[k] = math.exp(v) if math.isfinite(v) and v < 709 else float("nan")
    return out


def table_lines(depvar: str, option: str, sc: dict, tstat: bool, level: float) -> list[str]:
    """The one-row table: `(1)` with exp(b), exp(b) se, the statistic, p and the interval."""
    stat = "t" if tstat else "z"
    zval = sc[stat]

    def g9(v: float) -> str:
        return f"{fmt_g(v, 9):>9}" if math.isfinite(v) else f"{'.':>9}"

    cells = (f"  {g9(sc['estimate'])}  {g9(sc['se'])} {fmt(zval, '%8.2f')}   "
             f"{fmt(sc['p'], '%5.3f')}    {g9(sc['lb'])}   {g9(sc['ub'])}")
    return [ct.rule(), ct.column_header(depvar or "", stat, level, TITLES[option]),
            ct.rule("mid"), f"{'(1)':>{ct.NAME_W}} |{cells}", ct.rule()]
