"""centile: centiles with confidence intervals, as Stata's centile computes them (Royston,
STB-8 sg7, the basis of the official command).

    centile [varlist] [if] [in] [, centile(numlist) cci normal level(#)]

Estimate: R = (n+1)q/100, c = x_r + f (x_{r+1} - x_r) with x_0 = x_1 and x_{n+1} = x_n.
Default interval ("Binom. interp."): with F_i = P(X <= i), X ~ B(n, q/100), the ranks l and u
where F_l <= a < F_{l+1} and 1 - F_u <= a < 1 - F_{u-1} (a = (100 - level)/200), then linear
interpolation in F between neighbouring order statistics (both limits move inward); `cci` keeps the conservative limits
x_{l+1} and x_{u+1}; `normal` uses s = sqrt(q(100-q)/n) / (100 phi(c; mean, sd)) (Kendall &
Stuart, as StataCorp's correction of the manual states).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import touse, typed_args, varlist
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults


def _x(xs: np.ndarray, i: int) -> float:
    """x_i with Stata's conventions x_0 = x_1 and x_{n+1} = x_n (1-based)."""
    return float(xs[min(max(i, 1), len(xs)) - 1])


def centile_estimate(xs: np.ndarray, q: float) -> float:
    R = (len(xs) + 1) * q / 100
    r = int(math.floor(R))
    return _x(xs, r) + (R - r) * (_x(xs, r + 1) - _x(xs, r))


def binomial_limits(xs: np.ndarray, q: float, level: float, conservative: bool) -> tuple[float, float]:
    from scipy.stats import binom

    n = len(xs)
    a = (100 - level) / 200
    F = np.r_[0.0, binom.cdf(np.arange(n + 1), n, q / 100), 1.0]   # F[i + 1] = F_i, i = -1..n+1

    def Fi(i):
        return float(F[i + 1])

    low = max(i for i in range(-1, n + 1) if Fi(i) <= a)
    up = min(i for i in range(0, n + 1) if 1 - Fi(i) <= a)
    if conservative:
        return _x(xs, low + 1), _x(xs, up + 1)
    g = (a - Fi(low)) / (Fi(low + 1) - Fi(low)) if Fi(low + 1) > Fi(low) else 0.0
    h = (a - 1 + Fi(up)) / (Fi(up - 1) - Fi(up)) if Fi(up - 1) != Fi(up) else 0.0
    lo = _x(xs, low + 1) + g * (_x(xs, low + 2) - _x(xs, low + 1))
    hi = _x(xs, up + 1) + h * (_x(xs, up + 1) - _x(xs, up))   # h <= 0: inward
    return lo, hi


def normal_limits(xs: np.ndarray, q: float, c: float, level: float) -> tuple[float, float]:
    n = len(xs)
    m, sd = float(xs.mean()), float(xs.std(ddof=1))
    dens = float(dist.norm_pdf((c - m) / sd)) / sd if sd > 0 else math.nan
    s = math.sqrt(q * (100 - q) / n) / (100 * dens) if dens > 0 else math.nan
    z = float(dist.norm_ppf(1 - (100 - level) / 200))
    return c - z * s, c + z * s


@command("centile", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="centiles with confidence intervals",
         example="centile mathach, centile(25 50 75)",
         options=(Opt("centile", "c", "numlist", None, "centiles to report; default is centile(50)"),
                  Opt("cci", "cc", desc="binomial exact; conservative confidence interval"),
                  Opt("normal", "n", desc="normal, based on observed centiles"),
                  Opt("meansd", "m", desc="normal, based on mean and standard deviation (not supported)"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def centile_cmd(session, cmd):
    opts = typed_args(cmd)
    level = confidence_level(session, opts)
    if opts.meansd:
        raise StataError("option meansd not implemented", 198)
    if opts.cci and opts.normal:
        raise StataError("options cci and normal may not be combined", 198)
    qs = _centiles(opts)
    ds = session.data
    names = [nm for nm in varlist(session, cmd.body or "") if not ds.var(nm).is_string]
    if not names:
        raise StataError("no variables", 102) if (cmd.body or "").strip() else StataError("no variables defined", 111)
    mask = touse(session, cmd)
    out = session.out
    title = "Normal, based on observed centiles" if opts.normal else \
        ("Binomial exact" if opts.cci else "Binom. interp.")
    out.line("")
    out.line(f"{'':>{78 - len(title) - 6}}-- {title} --")
    out.line(f"    Variable |       Obs  Percentile    Centile        [{level:g}% conf. interval]")
    out.line("-------------+" + "-" * 61)
    r, macros = {}, {}
    for nm in names:
        x = ds.var(nm).values[mask].astype(float)
        xs = np.sort(x[~np.isnan(x)])
        if xs.size == 0:
            raise StataError("no observations", 2000)
        for j, q in enumerate(qs, start=1):
            c = centile_estimate(xs, q)
            lo, hi = normal_limits(xs, q, c, level) if opts.normal else \
                binomial_limits(xs, q, level, opts.cci)
            first = f"{abbrev(nm, 12):>12} |{fmt_count(len(xs)):>10}" if j == 1 else f"{'':12} |{'':10}"
            out.line(f"{first}{fmt_g(q, 9):>12}{fmt_g(c, 9):>11}{fmt_g(lo, 9):>15}{fmt_g(hi, 9):>12}")
            r.update({f"c_{j}": c, f"lb_{j}": lo, f"ub_{j}": hi})
        r["N"] = float(len(xs))
    macros["centiles"] = " ".join(fmt_g(q, 9) for q in qs)
    session.r = RResults(scalars=r, macros=macros)


def _centiles(opts) -> list[float]:
    if opts.centile is None:
        return [50.0]
    from hlmshell.syntax.numlist import numlist

    try:
        qs = [float(v) for v in numlist(" ".join(opts.centile))]
    except (StataError, ValueError):
        raise StataError("option centile() incorrectly specified", 198) from None
    if not qs or any(not 0 < q < 100 for q in qs):
        raise StataError("centile() must be between 0 and 100 (exclusive)", 198)
    return qs
