"""Immediate forms: tabi (a two-way table typed as numbers) and cii (confidence intervals from
summary numbers), as handouts use them to check a published table or a textbook interval.

    tabi #11 #12 [...] \\ #21 #22 [...] [\\ ...] [, tabulate's options]
    cii means #obs #mean #sd [, level(#)]
    cii proportions #obs #succ [, exact wald wilson agresti jeffreys level(#)]
    cii poisson #exposure #events [, level(#)]

tabi builds the table as data (row, col, frequency weights) and runs `tabulate row col`, so the
layout, statistics and r() are tabulate's; the data in memory are untouched. cii's Stata 14+
forms and the older `cii #obs #mean #sd` / `cii #obs #succ`; exact binomial (Clopper-Pearson)
and Poisson intervals by default, as Stata.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.registry import REGISTRY, Opt, command
from hlmshell.results import RResults


# ----------------------------------------------------------------------------- tabi
def parse_table(text: str) -> np.ndarray:
    rows = [r.split() for r in text.split("\\")]
    if not rows or any(not r for r in rows):
        raise StataError("invalid syntax", 198)
    if len({len(r) for r in rows}) != 1:
        raise StataError("rows have different numbers of columns", 198)
    try:
        tab = np.array([[float(v) for v in r] for r in rows])
    except ValueError:
        raise StataError("invalid syntax", 198) from None
    if np.any(tab < 0) or np.any(tab != np.floor(tab)):
        raise StataError("may not use noninteger or negative frequency weights", 401)
    return tab


@command("tabi", byable=False, body="anything", exp=False, qualifiers="", family="Statistics", changes_data=False,
         desc="two-way table from typed frequencies", example="tabi 30 18 \\ 13 7, chi2 exact")
def tabi_cmd(session, cmd):
    from hlmshell.syntax.parser import parse_command

    body = (cmd.body or "").partition(",")[0]
    _, comma, options = (cmd.text or "").partition(",")
    if re.search(r"\bif\b|\bin\b|\[", body):
        raise StataError("invalid syntax", 198)
    tab = parse_table(body)
    r, c = tab.shape
    ds = Dataset()
    ds.add(Variable("row", np.repeat(np.arange(1, r + 1), c).astype(float), "byte"))
    ds.add(Variable("col", np.tile(np.arange(1, c + 1), r).astype(float), "byte"))
    ds.add(Variable("pop", tab.ravel(), "long"))
    if tab.sum() == 0:
        raise StataError("no observations", 2000)
    line = "tabulate row col [fweight=pop]" + (", " + options if comma else "")
    inner = parse_command(line)
    if any(o.name in ("generate", "gen", "matcell", "matrow", "matcol") for o in inner.options):
        raise StataError(f"option {inner.options[0].name} not allowed", 198)
    saved = session.data
    session.data = ds
    try:
        REGISTRY.resolve("tabulate").handler(session, inner)
    finally:
        session.data = saved


# ----------------------------------------------------------------------------- cii
def _numbers(words: list[str], k: int) -> list[float]:
    if len(words) != k:
        raise StataError("invalid syntax", 198)
    try:
        return [float(w) for w in words]
    except ValueError:
        raise StataError("invalid syntax", 198) from None


def clopper_pearson(n: float, k: float, alpha: float) -> tuple[float, float]:
    from scipy.special import betaincinv

    lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return lo, hi


def proportion_ci(n: float, k: float, level: float, method: str) -> tuple[float, float]:
    alpha = 1 - level / 100
    z = float(dist.norm_ppf(1 - alpha / 2))
    p = k / n
    if method == "exact":
        return clopper_pearson(n, k, alpha)
    if method == "wald":
        se = math.sqrt(p * (1 - p) / n)
        return p - z * se, p + z * se
    if method == "wilson":
        mid = (k + z * z / 2) / (n + z * z)
        half = z * math.sqrt(n) / (n + z * z) * math.sqrt(p * (1 - p) + z * z / (4 * n))
        return mid - half, mid + half
    if method == "agresti":
        nt = n + z * z
        pt = (k + z * z / 2) / nt
        half = z * math.sqrt(pt * (1 - pt) / nt)
        return pt - half, pt + half
    from scipy.special import betaincinv   # jeffreys

    lo = 0.0 if k == 0 else float(betaincinv(k + 0.5, n - k + 0.5, alpha / 2))
    hi = 1.0 if k == n else float(betaincinv(k + 0.5, n - k + 0.5, 1 - alpha / 2))
    return lo, hi


def poisson_ci(exposure: float, events: float, level: float) -> tuple[float, float]:
    alpha = 1 - level / 100
    lo = 0.0 if events == 0 else float(dist.chi2_ppf(alpha / 2, 2 * events)) / 2
    hi = float(dist.chi2_ppf(1 - alpha / 2, 2 * events + 2)) / 2
    return lo / exposure, hi / exposure


def _row(out, first: str, a: float, b: float, se: float, lo: float, hi: float) -> None:
    out.line(f"{'':12} |{fmt_count(int(a)) if float(a).is_integer() else fmt_g(a, 9):>11}"
             f"{fmt_g(b, 9):>12}{fmt_g(se, 9):>12}{fmt_g(lo, 9):>16}{fmt_g(hi, 9):>12}")


def _head(out, title: str, first: str, stat: str, level: float) -> None:
    out.line("")
    if title:
        out.line(f"{'':57}{title}")
    out.line(f"    Variable |{first:>11}{stat:>12}    Std. err.       [{level:g}% conf. interval]")
    out.line("-------------+" + "-" * 63)


_METHODS = ("exact", "wald", "wilson", "agresti", "jeffreys")


@command("cii", byable=False, body="anything", exp=False, qualifiers="", changes_data=False,
         family="Statistics", desc="confidence intervals from summary numbers (immediate)",
         example="cii means 166 19509 4379",
         options=(Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("exact", desc="exact binomial interval (the default)"),
                  Opt("wald", desc="Wald interval"), Opt("wilson", desc="Wilson interval"),
                  Opt("agresti", desc="Agresti-Coull interval"), Opt("jeffreys", desc="Jeffreys interval"),
                  Opt("poisson", desc="old syntax: Poisson exposure and events")))
def cii_cmd(session, cmd):
    from hlmshell.commands._toolkit import typed_args

    opts = typed_args(cmd)
    level = confidence_level(session, opts)
    words = (cmd.body or "").split()
    kind = words[0].lower() if words and not re.match(r"[-+.\d]", words[0]) else ""
    if kind:
        words = words[1:]
        kind = next((k for k, mn in (("means", 4), ("proportions", 4), ("poisson", 3), ("variances", 3))
                     if k.startswith(kind) and len(kind) >= mn - 1), None)
        if kind is None:
            raise StataError("invalid syntax", 198)
    else:
        kind = "poisson" if opts.poisson else {3: "means", 2: "proportions"}.get(len(words), "")
    handler = {"means": _cii_means, "proportions": _cii_proportions, "poisson": _cii_poisson}.get(kind)
    if handler is None:
        raise StataError("invalid syntax" if kind != "variances" else "cii variances not implemented", 198)
    handler(session, words, opts, level)


def _cii_means(session, words, opts, level) -> None:
    n, m, sd = _numbers(words, 3)
    if n < 1 or n != int(n) or sd < 0:
        raise StataError("n must be a positive integer" if n < 1 or n != int(n) else "sd must be nonnegative", 198)
    se = sd / math.sqrt(n)
    c = float(dist.t_ppf(1 - (1 - level / 100) / 2, n - 1)) if n > 1 else math.nan
    lo, hi = m - c * se, m + c * se
    _head(session.out, "", "Obs", "Mean", level)
    _row(session.out, "", n, m, se, lo, hi)
    session.r = RResults(scalars={"N": n, "mean": m, "sd": sd, "se": se, "lb": lo, "ub": hi,
                                  "level": level})


_TITLES = {"exact": "-- Binomial exact --", "wald": "-- Binomial Wald ---",
           "wilson": "------ Wilson ------", "agresti": "-- Agresti–Coull ---",
           "jeffreys": "----- Jeffreys -----"}


def _cii_proportions(session, words, opts, level) -> None:
    n, k = _numbers(words, 2)
    if n < 1 or n != int(n) or k < 0 or k > n or k != int(k):
        raise StataError("invalid syntax", 198)
    method = next((mm for mm in _METHODS if getattr(opts, mm)), "exact")
    lo, hi = proportion_ci(n, k, level, method)
    p = k / n
    se = math.sqrt(p * (1 - p) / n)
    _head(session.out, _TITLES[method], "Obs", "Proportion", level)
    _row(session.out, "", n, p, se, lo, hi)
    session.r = RResults(scalars={"N": n, "proportion": p, "se": se, "lb": lo, "ub": hi,
                                  "level": level}, macros={"citype": method})


def _cii_poisson(session, words, opts, level) -> None:
    t, k = _numbers(words, 2)
    if t <= 0 or k < 0 or k != int(k):
        raise StataError("invalid syntax", 198)
    lo, hi = poisson_ci(t, k, level)
    _head(session.out, "-- Poisson  exact --", "Exposure", "Mean", level)
    _row(session.out, "", t, k / t, math.sqrt(k) / t, lo, hi)
    session.r = RResults(scalars={"N": t, "mean": k / t, "se": math.sqrt(k) / t, "lb": lo,
                                  "ub": hi, "level": level}, macros={"citype": "exact"})
