"""sdtest (variance-ratio F tests) and prtest (z tests of proportions), in Stata 17's layout.

    sdtest var == #  |  var1 == var2  |  var, by(g)
    prtest var == #p |  var1 == var2  |  var, by(g)

Courses check equal variances before a pooled t test and compare proportions of a binary
outcome between sectors. One-sample sdtest uses chi2 = (n-1)s^2/sd0^2; the others the F ratio
of the two variances; prtest the pooled-SE z of Stata's manual (unpooled SE for the interval).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import touse, typed_args, value_text, varlist
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults
from hlmshell.syntax.evaluate import evaluate_scalar

_RULE = "-" * 78
_MID = "---------+" + "-" * 68
_OPTS = (Opt("by", type="varlist", desc="two groups defined by this variable"),
         Opt("level", "l", "real", 95, "set confidence level; default is level(95)"))


def _var(session, text: str) -> str:
    names = varlist(session, text.strip(), all_if_empty=False)
    if len(names) != 1:
        raise StataError("too many variables specified" if names else "varlist required",
                         103 if names else 100)
    if session.data.var(names[0]).is_string:
        raise StataError("type mismatch", 109)
    return names[0]


def _parse(session, cmd):
    """('one', name, value) | ('paired', a, b) | ('by', name, byvar)."""
    opts = typed_args(cmd)
    body = (cmd.body or "").strip()
    lhs, eq, rhs = body.partition("==")
    if not eq:
        lhs, eq, rhs = body.partition("=")
    name = _var(session, lhs)
    if eq:
        if opts.by is not None:
            raise StataError("option by() not allowed", 198)
        other = rhs.strip()
        if other in session.data.vars or (other[:1].isalpha() and not other.startswith("_")):
            return opts, ("paired", name, _var(session, other))
        v = evaluate_scalar(other, session)
        if isinstance(v, str) or math.isnan(v):
            raise StataError("invalid syntax", 198)
        return opts, ("one", name, float(v))
    if opts.by is None:
        raise StataError("option by() required", 198)
    return opts, ("by", name, _var(session, " ".join(opts.by)))


def _groups(session, cmd, name: str, byvar: str):
    ds = session.data
    mask = touse(session, cmd, [name, byvar])
    x = ds.var(name).values[mask].astype(float)
    g = ds.var(byvar).values[mask].astype(float)
    levels = sorted(set(g.tolist()))
    if len(levels) != 2:
        raise StataError("more than 2 groups found, only 2 allowed" if len(levels) > 2
                         else "1 group found, 2 required", 420)
    v = ds.var(byvar)
    return [x[g == lv] for lv in levels], [value_text(ds, v, lv) for lv in levels], x


def _paired(session, cmd, a: str, b: str):
    ds = session.data
    mask = touse(session, cmd, [a, b])
    return ds.var(a).values[mask].astype(float), ds.var(b).values[mask].astype(float)


def _summary_row(out, label, x, crit_df, level) -> None:
    n = len(x)
    m = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n)
    c = float(dist.t_ppf(1 - (1 - level / 100) / 2, n - 1)) if n > 1 else math.nan
    out.line(f"{abbrev(label, 8):>8} |{fmt_count(n):>8}{fmt_g(m, 9):>12}{fmt_g(se, 9):>12}"
             f"{fmt_g(sd, 9):>12}{fmt_g(m - c * se, 9):>12}{fmt_g(m + c * se, 9):>12}")


def _p_lines(out, word: str, stat: str, lower: float, upper: float, two: float, two_text: str,
             h0: str = "1") -> None:
    out.line("")
    out.line(f"    Ha: {word} < {h0}".ljust(32) + f"Ha: {word} != {h0}".ljust(31) + f"Ha: {word} > {h0}")
    out.line(f"  Pr({stat.upper()} < {stat}) = {lower:.4f}".ljust(28) + f"{two_text} = {two:.4f}".ljust(32)
             + f"Pr({stat.upper()} > {stat}) = {upper:.4f}")


@command("sdtest", byable=True, qualifiers="if in", body="anything", exp=False, changes_data=False,
         family="Statistics", desc="variance-comparison tests", example="sdtest mathach, by(sector)",
         options=_OPTS)
def sdtest_cmd(session, cmd):
    opts, (kind, a, b) = _parse(session, cmd)
    level = confidence_level(session, opts)
    out = session.out
    if kind == "one":
        x = session.data.var(a).values[touse(session, cmd, [a])].astype(float)
        if len(x) < 2:
            raise StataError("insufficient observations" if len(x) else "no observations",
                             2001 if len(x) else 2000)
        n, sd = len(x), float(x.std(ddof=1))
        chi2 = (n - 1) * sd ** 2 / b ** 2
        lo, up = float(dist.chi2_cdf(chi2, n - 1)), float(dist.chi2_sf(chi2, n - 1))
        out.line("")
        out.line("One-sample test of variance")
        _head(out, "Variable", level)
        _summary_row(out, a, x, n - 1, level)
        out.line(_RULE)
        left = f"    sd = sd({abbrev(a, 12)})"
        out.line(left + f"chi2 = {chi2:9.4f}".rjust(78 - len(left)))
        left = f"H0: sd = {fmt_g(b, 9)}"
        out.line(left + f"Degrees of freedom = {n - 1:8d}".rjust(78 - len(left)))
        _p_lines(out, "sd", "c", lo, up, 2 * min(lo, up), "2*Pr(C < c)" if lo < up else "2*Pr(C > c)",
                 fmt_g(b, 9))
        session.r = RResults(scalars={"N": float(n), "sd": sd, "chi2": chi2, "df": float(n - 1),
                                      "p_l": lo, "p_u": up, "p": min(1.0, 2 * min(lo, up))})
        return
    if kind == "paired":
        xa, xb = _paired(session, cmd, a, b)
        groups, labels, comb = [xa, xb], [a, b], np.r_[xa, xb]
        title, word = "Variance ratio test", f"sd({abbrev(a, 12)}) / sd({abbrev(b, 12)})"
    else:
        groups, labels, comb = _groups(session, cmd, a, b)
        title, word = "Variance ratio test", f"sd({abbrev(labels[0], 8)}) / sd({abbrev(labels[1], 8)})"
    n1, n2 = len(groups[0]), len(groups[1])
    if n1 < 2 or n2 < 2:
        raise StataError("insufficient observations", 2001)
    s1, s2 = float(groups[0].std(ddof=1)), float(groups[1].std(ddof=1))
    F = s1 ** 2 / s2 ** 2
    lo, up = float(dist.f_cdf(F, n1 - 1, n2 - 1)), float(dist.f_sf(F, n1 - 1, n2 - 1))
    out.line("")
    out.line(title)
    _head(out, "Variable" if kind == "paired" else "Group", level)
    for lab, x in zip(labels, groups):
        _summary_row(out, lab, x, len(x) - 1, level)
    out.line(_MID)
    _summary_row(out, "Combined", comb, len(comb) - 1, level)
    out.line(_RULE)
    left = f"    ratio = {word}"
    out.line(left + f"f = {F:9.4f}".rjust(78 - len(left)))
    left = "H0: ratio = 1"
    out.line(left + f"Degrees of freedom = {n1 - 1}, {n2 - 1}".rjust(78 - len(left)))
    two = min(1.0, 2 * min(lo, up))
    _p_lines(out, "ratio", "f", lo, up, two, "2*Pr(F < f)" if lo < up else "2*Pr(F > f)")
    session.r = RResults(scalars={"N_1": float(n1), "N_2": float(n2), "sd_1": s1, "sd_2": s2,
                                  "sd": float(comb.std(ddof=1)), "F": F, "df_1": float(n1 - 1),
                                  "df_2": float(n2 - 1), "p_l": lo, "p_u": up, "p": two})


def _head(out, first: str, level: float) -> None:
    out.line(_RULE)
    out.line(f"{first:>8} |     Obs        Mean    Std. err.   Std. dev.   [{level:g}% conf. interval]")
    out.line(_MID)


# ----------------------------------------------------------------------------- prtest
def _check01(x: np.ndarray, name: str) -> None:
    if np.any((x != 0) & (x != 1)):
        raise StataError(f"{name} is not a 0/1 variable", 450)


def _prow(out, label, p, se, z, pz, c) -> None:
    cells = f"{fmt_g(p, 9):>11}{fmt_g(se, 9):>11}"
    cells += f"{z:>9.2f}{pz:>8.3f}" if z is not None else " " * 17
    out.line(f"{abbrev(label, 12):>12} |{cells}{fmt_g(p - c * se, 9):>13}{fmt_g(p + c * se, 9):>12}")


@command("prtest", byable=True, qualifiers="if in", body="anything", exp=False, changes_data=False,
         family="Statistics", desc="tests of proportions", example="prtest minority, by(sector)",
         options=_OPTS)
def prtest_cmd(session, cmd):
    opts, (kind, a, b) = _parse(session, cmd)
    level = confidence_level(session, opts)
    c = float(dist.norm_ppf(1 - (1 - level / 100) / 2))
    out = session.out
    ci = f"[{level:g}% conf. interval]"
    if kind == "one":
        x = session.data.var(a).values[touse(session, cmd, [a])].astype(float)
        if not len(x):
            raise StataError("no observations", 2000)
        _check01(x, a)
        if not 0 < b < 1:
            raise StataError("p must be between 0 and 1", 198)
        n, p = len(x), float(x.mean())
        se = math.sqrt(p * (1 - p) / n)
        z = (p - b) / math.sqrt(b * (1 - b) / n)
        out.line("")
        out.line(f"{'One-sample test of proportion':<50}{abbrev(a, 12)}: Number of obs = {fmt_count(n):>8}")
        out.line(_RULE)
        out.line(f"    Variable |       Mean   Std. err.                     {ci}")
        out.line("-------------+" + "-" * 64)
        _prow(out, a, p, se, None, None, c)
        out.line(_RULE)
        _pr_tail(out, f"p = proportion({abbrev(a, 12)})", "p", fmt_g(b, 9), z)
        session.r = RResults(scalars={"N_1": float(n), "P_1": p, "z": z,
                                      "p": float(2 * dist.norm_sf(abs(z))), "p_l": float(dist.norm_cdf(z)),
                                      "p_u": float(dist.norm_sf(z)), "level": level})
        return
    if kind == "paired":
        xa, xb = _paired(session, cmd, a, b)
        groups, labels = [xa, xb], [a, b]
    else:
        groups, labels, _ = _groups(session, cmd, a, b)
    for x, nm in zip(groups, (a, b if kind == "paired" else a)):
        if not len(x):
            raise StataError("no observations", 2000)
        _check01(x, nm)
    (n1, n2), (p1, p2) = (len(groups[0]), len(groups[1])), (float(groups[0].mean()), float(groups[1].mean()))
    pp = (p1 * n1 + p2 * n2) / (n1 + n2)
    se0 = math.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2))
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    z = (p1 - p2) / se0 if se0 > 0 else math.nan
    out.line("")
    out.line(f"{'Two-sample test of proportions':<50}{abbrev(labels[0], 12)}: Number of obs = {fmt_count(n1):>8}")
    out.line(f"{'':<50}{abbrev(labels[1], 12)}: Number of obs = {fmt_count(n2):>8}")
    out.line(_RULE)
    first = "Variable" if kind == "paired" else "Group"
    out.line(f"{first:>12} |       Mean   Std. err.      z    P>|z|     {ci}")
    out.line("-------------+" + "-" * 64)
    for lab, p, n in ((labels[0], p1, n1), (labels[1], p2, n2)):
        _prow(out, lab, p, math.sqrt(p * (1 - p) / n), None, None, c)
    out.line("-------------+" + "-" * 64)
    _prow(out, "diff", p1 - p2, se, None, None, c)
    out.line(f"{'':12} |  under H0:{fmt_g(se0, 9):>11}{z:>9.2f}{float(2 * dist.norm_sf(abs(z))):>8.3f}")
    out.line(_RULE)
    word = f"prop({abbrev(labels[0], 8)}) - prop({abbrev(labels[1], 8)})"
    _pr_tail(out, f"diff = {word}", "diff", "0", z)
    session.r = RResults(scalars={"N_1": float(n1), "N_2": float(n2), "P_1": p1, "P_2": p2, "z": z,
                                  "p": float(2 * dist.norm_sf(abs(z))), "p_l": float(dist.norm_cdf(z)),
                                  "p_u": float(dist.norm_sf(z)), "level": level})


def _pr_tail(out, left: str, word: str, h0: str, z: float) -> None:
    left = f"    {left}"
    out.line(left + f"z = {z:8.4f}".rjust(78 - len(left)))
    out.line(f"    H0: {word} = {h0}")
    out.line("")
    pl, pu = float(dist.norm_cdf(z)), float(dist.norm_sf(z))
    out.line(f"    Ha: {word} < {h0}".ljust(33) + f"Ha: {word} != {h0}".ljust(30) + f"Ha: {word} > {h0}")
    out.line(f" Pr(Z < z) = {pl:.4f}".ljust(28) + f"Pr(|Z| > |z|) = {2 * min(pl, pu):.4f}".ljust(32)
             + f"Pr(Z > z) = {pu:.4f}")
