"""oneway and loneway: one-way analysis of variance, and its random-effects reading.

    oneway response factor [if] [in] [, tabulate bonferroni scheffe sidak noanova]
    loneway response group [if] [in] [, level(#)]

Multilevel courses open with the intraclass correlation of the outcome across schools before
fitting the empty model; `loneway` gives it from the ANOVA mean squares (Stata's formulas: the
adjusted mean group size g0, Smith's asymptotic SE, a normal interval that is not truncated).
`oneway` adds Bartlett's test of equal variances and, on request, the group means and
Bonferroni/Scheffe/Sidak pairwise comparisons. Both are r-class.
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


class OneWay:
    """The one-way decomposition of y by groups: sizes, means, SDs, sums of squares."""

    def __init__(self, y: np.ndarray, g: np.ndarray):
        self.levels, inv = np.unique(g, return_inverse=True)
        self.inv = inv
        self.n = np.bincount(inv).astype(float)
        self.mean = np.bincount(inv, weights=y) / self.n
        dev = y - self.mean[inv]
        ssw_g = np.bincount(inv, weights=dev ** 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.sd = np.sqrt(ssw_g / (self.n - 1))
        self.var_g = ssw_g
        self.N = float(len(y))
        self.k = len(self.levels)
        self.grand = float(y.mean())
        self.ssw = float(ssw_g.sum())
        self.sst = float(((y - self.grand) ** 2).sum())
        self.ssb = max(self.sst - self.ssw, 0.0)
        self.dfb = self.k - 1
        self.dfw = self.N - self.k
        self.msb = self.ssb / self.dfb if self.dfb > 0 else math.nan
        self.msw = self.ssw / self.dfw if self.dfw > 0 else math.nan
        self.F = self.msb / self.msw if self.msw > 0 else math.nan
        self.p = float(dist.f_sf(self.F, self.dfb, self.dfw)) if self.F == self.F else math.nan

    def bartlett(self) -> tuple[float, int]:
        """Bartlett's chi2 of equal variances over groups with at least two observations."""
        ok = self.n > 1
        n, s2 = self.n[ok], (self.var_g[ok] / (self.n[ok] - 1))
        k = int(ok.sum())
        if k < 2 or np.any(s2 <= 0):
            return math.nan, k - 1
        nu = n - 1
        sp2 = float((nu * s2).sum() / nu.sum())
        num = nu.sum() * math.log(sp2) - float((nu * np.log(s2)).sum())
        c = 1 + (float((1 / nu).sum()) - 1 / nu.sum()) / (3 * (k - 1))
        return num / c, k - 1


def _response_and_group(session, cmd) -> tuple[str, str, np.ndarray, np.ndarray]:
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    if len(names) > 2:
        raise StataError("too many variables specified", 103)
    ds = session.data
    yv, gv = ds.var(names[0]), ds.var(names[1])
    if yv.is_string:
        raise StataError("type mismatch", 109)
    mask = touse(session, cmd, names)
    y = yv.values[mask].astype(float)
    g = gv.values[mask] if gv.is_string else gv.values[mask].astype(float)
    if y.size == 0:
        raise StataError("no observations", 2000)
    return names[0], names[1], y, g


def _ss_row(label: str, ss: float, df: float, ms: float, F: float | None = None,
            p: float | None = None, *, oneway: bool = False) -> str:
    """One row of the ANOVA table: loneway's columns (%10.0g, label in 20) or oneway's
    (%11.0g, label in 18), as the two commands print them."""
    lw, gw, edge = (18, 11, 30) if oneway else (20, 10, 32)
    line = f"{label:<{lw}}{fmt_g(ss, gw):>{edge - lw}}{int(df):>7d}{fmt_g(ms, gw):>13}"
    if F is not None:
        line += f"{F:>10.2f}{p:>11.4f}"
    return line


# ----------------------------------------------------------------------------- loneway
def icc_stats(ow: OneWay, level: float, center: str = "one", exact: bool = False) -> dict:
    """Stata's loneway quantities: rho from the F statistic centred at 1 (or at the mean or
    median of its F distribution) with the adjusted group size g0, Smith's (1956) asymptotic
    SE, a symmetric normal interval (or, with `exact`, the F-based interval of a balanced
    design), the SDs of the effects and the reliability of a group mean."""
    N, g, n = ow.N, ow.k, ow.n
    g0 = (N - float((n ** 2).sum()) / N) / (g - 1)
    fc = 1.0
    if center == "mean":
        fc = ow.dfw / (ow.dfw - 2) if ow.dfw > 2 else math.nan
    elif center == "median":
        from scipy.stats import f as fdist
        fc = float(fdist.median(ow.dfb, ow.dfw))
    rho = max((ow.F - fc) / (ow.F + (g0 - 1) * fc), 0.0)
    sb2 = rho / (1 - rho) * ow.msw
    s2, s3 = float((n ** 2).sum()), float((n ** 3).sum())
    a = (1 + rho * (g0 - 1)) ** 2 / (N - g)
    b = ((g - 1) * (1 - rho) * (1 + rho * (2 * g0 - 1))
         + rho ** 2 * (s2 - 2 * s3 / N + s2 ** 2 / N ** 2)) / (g - 1) ** 2
    se = math.sqrt(2 * (1 - rho) ** 2 / g0 ** 2 * (a + b))
    z = float(dist.norm_ppf(1 - (1 - level / 100) / 2))
    lb, ub = rho - z * se, rho + z * se
    if exact:
        alpha = 1 - level / 100
        from scipy.stats import f as fdist
        fl = ow.F / float(fdist.ppf(1 - alpha / 2, ow.dfb, ow.dfw))
        fu = ow.F / float(fdist.ppf(alpha / 2, ow.dfb, ow.dfw))
        lb, ub = (fl - 1) / (fl + g0 - 1), (fu - 1) / (fu + g0 - 1)
    rel = g0 * rho / (1 + (g0 - 1) * rho)
    return {"rho": rho, "se": se, "lb": lb, "ub": ub, "rho_t": rel,
            "sd_b": math.sqrt(sb2), "sd_w": math.sqrt(ow.msw), "g0": g0}


@command("loneway", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="large one-way ANOVA, random effects, intraclass correlation",
         example="loneway mathach id",
         options=(Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("mean", desc="centre F at the mean of its distribution"),
                  Opt("median", desc="centre F at the median of its distribution"),
                  Opt("exact", desc="exact interval (groups of equal size)")))
def loneway_cmd(session, cmd):
    opts = typed_args(cmd)
    if opts.mean and opts.median:
        raise StataError("options mean and median may not be combined", 198)
    level = confidence_level(session, opts)
    yname, gname, y, g = _response_and_group(session, cmd)
    ow = OneWay(y, g)
    if ow.k < 2 or ow.dfw < 1:
        raise StataError("insufficient observations", 2001)
    if opts.exact and np.ptp(ow.n) > 0:
        raise StataError("exact option requires groups of equal size", 198)
    st = icc_stats(ow, level, "mean" if opts.mean else "median" if opts.median else "one", opts.exact)
    out = session.out
    lab = session.data.var(yname).label
    out.line("")
    out.line(f"                  One-way analysis of variance for {yname}: {lab}".rstrip())
    out.line("")
    out.line(f"{'Number of obs = ':>62}{fmt_count(int(ow.N)):>10}")
    out.line(f"{'R-squared = ':>62}{ow.ssb / ow.sst if ow.sst > 0 else math.nan:>10.4f}")
    out.line("")
    out.line("    Source                SS         df      MS            F     Prob > F")
    out.line("-" * 73)
    gl = abbrev(gname, 12)
    out.line(_ss_row(f"Between {gl}", ow.ssb, ow.dfb, ow.msb, ow.F, ow.p))
    out.line(_ss_row(f"Within {gl}", ow.ssw, ow.dfw, ow.msw))
    out.line("-" * 73)
    out.line(_ss_row("Total", ow.sst, ow.N - 1, ow.sst / (ow.N - 1)))
    out.line("")
    ci = f"[{level:g}% conf. interval]"
    out.line("         Intraclass       Asy.")
    out.line(f"         correlation      S.E.       {ci}")
    out.line("         " + "-" * 48)
    out.line(f"         {st['rho']:>10.5f}{st['se']:>12.5f}{st['lb']:>14.5f}{st['ub']:>12.5f}")
    out.line("")
    out.line(f"         {'Estimated SD of ' + gl + ' effect':<38}{fmt_g(st['sd_b'], 9):>10}")
    out.line(f"         {'Estimated SD within ' + gl:<38}{fmt_g(st['sd_w'], 9):>10}")
    out.line(f"         {'Est. reliability of a ' + gl + ' mean':<38}{st['rho_t']:>10.5f}")
    if np.ptp(ow.n) > 0:
        out.line(f"              (evaluated at n={st['g0']:.2f})")
    session.r = RResults(scalars={"N": ow.N, "rho": st["rho"], "se": st["se"], "lb": st["lb"],
                                  "ub": st["ub"], "rho_t": st["rho_t"], "sd_b": st["sd_b"],
                                  "sd_w": st["sd_w"], "F": ow.F, "df_m": float(ow.dfb),
                                  "df_r": float(ow.dfw), "level": level})


# ----------------------------------------------------------------------------- oneway
def _adjust(p: float, method: str, m: int, F: float | None = None, dfb: int = 1,
            dfw: float = 1) -> float:
    if method == "bonferroni":
        return min(1.0, p * m)
    if method == "sidak":
        return min(1.0, 1 - (1 - p) ** m)
    return float(dist.f_sf(F / dfb, dfb, dfw))          # scheffe


def pairwise(ow: OneWay, method: str) -> np.ndarray:
    """Adjusted p-values of all mean differences (row minus column), Stata's three methods."""
    k = ow.k
    m = k * (k - 1) // 2
    P = np.full((k, k), np.nan)
    for i in range(1, k):
        for j in range(i):
            d = ow.mean[i] - ow.mean[j]
            se = math.sqrt(ow.msw * (1 / ow.n[i] + 1 / ow.n[j]))
            t = d / se
            p = float(2 * dist.t_sf(abs(t), ow.dfw))
            P[i, j] = _adjust(p, method, m, t * t, ow.dfb, ow.dfw)
    return P


def _comparison(out, ow: OneWay, labels: list[str], yname: str, gname: str, method: str) -> None:
    P = pairwise(ow, method)
    out.line("")
    out.line(f"{'Comparison of ' + yname + ' by ' + gname:^60}".rstrip())
    out.line(f"{'(' + method.capitalize() + ')':^60}".rstrip())
    cols = list(range(ow.k - 1))
    for start in range(0, len(cols), 6):
        block = cols[start:start + 6]
        out.line("Row Mean-|")
        out.line("Col Mean |" + "".join(f"{abbrev(labels[j], 10):>11}" for j in block))
        out.line("---------+" + "-" * (11 * len(block)))
        for i in range(block[0] + 1, ow.k):
            d = "".join(f"{fmt_g(ow.mean[i] - ow.mean[j], 10):>11}" if i > j else " " * 11
                        for j in block)
            p = "".join(f"{P[i, j]:>11.3f}" if i > j else " " * 11 for j in block)
            out.line(f"{abbrev(labels[i], 8):>8} |{d}".rstrip())
            out.line(f"{'':>8} |{p}".rstrip())
            out.line("         |")


def _tabulate(out, ow: OneWay, labels: list[str], gname: str, yname: str) -> None:
    out.line("")
    out.line(f"{abbrev(gname, 12):>12} |{'Summary of ' + yname:^37}".rstrip())
    out.line(f"{'':12} |        Mean   Std. dev.       Freq.")
    out.line("-" * 13 + "+" + "-" * 36)
    for lab, m, s, n in zip(labels, ow.mean, ow.sd, ow.n):
        out.line(f"{abbrev(lab, 12):>12} | {fmt_g(m, 10):>10}  {fmt_g(s, 10):>10}  {fmt_count(int(n)):>10}")
    out.line("-" * 13 + "+" + "-" * 36)
    sd = math.sqrt(ow.sst / (ow.N - 1)) if ow.N > 1 else math.nan
    out.line(f"{'Total':>12} | {fmt_g(ow.grand, 10):>10}  {fmt_g(sd, 10):>10}  {fmt_count(int(ow.N)):>10}")


@command("oneway", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="one-way analysis of variance", example="oneway mathach sector, tabulate",
         options=(Opt("tabulate", "t", desc="table of means and SDs by group"),
                  Opt("bonferroni", "b", desc="Bonferroni multiple-comparison test"),
                  Opt("scheffe", "sc", desc="Scheffe multiple-comparison test"),
                  Opt("sidak", "si", desc="Sidak multiple-comparison test"),
                  Opt("noanova", "noa", desc="suppress the ANOVA table"),
                  Opt("nolabel", "nol", desc="show numeric codes, not value labels"),
                  Opt("missing", desc="treat missing values as a category")))
def oneway_cmd(session, cmd):
    opts = typed_args(cmd)
    yname, gname, y, g = _response_and_group(session, cmd)
    ow = OneWay(y, g)
    if ow.k < 2 or ow.dfw < 1:
        raise StataError("insufficient observations", 2001)
    ds = session.data
    gv = ds.var(gname)
    labels = [value_text(ds, gv, lv, labels=not opts.nolabel) for lv in ow.levels]
    out = session.out
    if opts.tabulate:
        _tabulate(out, ow, labels, gname, yname)
    chi2, dfb = ow.bartlett()
    if not opts.noanova:
        out.line("")
        out.line("                        Analysis of variance")
        out.line("    Source              SS         df      MS            F     Prob > F")
        out.line("-" * 72)
        out.line(_ss_row("Between groups", ow.ssb, ow.dfb, ow.msb, ow.F, ow.p, oneway=True))
        out.line(_ss_row(" Within groups", ow.ssw, ow.dfw, ow.msw, oneway=True))
        out.line("-" * 72)
        out.line(_ss_row("    Total", ow.sst, ow.N - 1, ow.sst / (ow.N - 1), oneway=True))
        out.line("")
        if chi2 == chi2:
            pb = float(dist.chi2_sf(chi2, dfb))
            out.line(f"Bartlett's equal-variances test: chi2({dfb}) = {chi2:8.4f}    Prob>chi2 = {pb:.3f}")
    for method in ("bonferroni", "scheffe", "sidak"):
        if getattr(opts, method):
            _comparison(out, ow, labels, yname, gname, method)
    r = {"N": ow.N, "F": ow.F, "df_r": float(ow.dfw), "df_m": float(ow.dfb), "mss": ow.ssb,
         "rss": ow.ssw}
    if chi2 == chi2:
        r.update(chi2bart=chi2, df_bart=float(dfb))
    session.r = RResults(scalars=r)
