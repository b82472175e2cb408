"""swilk, sfrancia and sktest: tests of normality, as course do-files run on residuals and
level-2 predictions (BLUPs) of a multilevel model.

    swilk varlist [if] [in] [, noties]
    sfrancia varlist [if] [in] [, noties]
    sktest varlist [if] [in] [, noadjust]

swilk: Royston's (1992) approximation of the Shapiro-Wilk coefficients and of W's null
distribution (the AS R94 algorithm scipy and R's shapiro.test use); by default, as Stata, tied
values share the average of their coefficients (noties: not), so W differs from scipy/R
slightly when the data have ties. V is (1 - W) over its null median. sfrancia: W' is the
squared correlation with Blom scores, z from Royston (1993). sktest: D'Agostino's skewness and
Anscombe-Glynn's kurtosis tests and their sum as chi2(2) -- the `noadjust` statistic; Royston's
(1991) empirical adjustment of the joint test is not applied (a note says so).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._toolkit import touse, typed_args, varlist
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults


def _blom(n: int) -> np.ndarray:
    i = np.arange(1, n + 1)
    return np.asarray(dist.norm_ppf((i - 0.375) / (n + 0.25)), float)


def _tie_average(x_sorted: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Each run of tied values gets the mean of its coefficients."""
    out = coef.copy()
    _, start, counts = np.unique(x_sorted, return_index=True, return_counts=True)
    for s, c in zip(start, counts):
        if c > 1:
            out[s:s + c] = coef[s:s + c].mean()
    return out


def sw_coefficients(n: int) -> np.ndarray:
    """Royston's (1992) approximation of the Shapiro-Wilk a_i (antisymmetric, ascending)."""
    if n == 3:
        return np.array([-math.sqrt(0.5), 0.0, math.sqrt(0.5)])
    m = _blom(n)
    mm = float(m @ m)
    c = m / math.sqrt(mm)
    u = 1 / math.sqrt(n)
    an = c[-1] + 0.221157 * u - 0.147981 * u ** 2 - 2.071190 * u ** 3 + 4.434685 * u ** 4 - 2.706056 * u ** 5
    a = np.empty(n)
    if n > 5:
        an1 = c[-2] + 0.042981 * u - 0.293762 * u ** 2 - 1.752461 * u ** 3 + 5.682633 * u ** 4 - 3.582633 * u ** 5
        phi = (mm - 2 * m[-1] ** 2 - 2 * m[-2] ** 2) / (1 - 2 * an ** 2 - 2 * an1 ** 2)
        a[:] = m / math.sqrt(phi)
        a[-1], a[-2], a[0], a[1] = an, an1, -an, -an1
    else:
        phi = (mm - 2 * m[-1] ** 2) / (1 - 2 * an ** 2)
        a[:] = m / math.sqrt(phi)
        a[-1], a[0] = an, -an
    return a


def swilk_stats(x: np.ndarray, ties: bool = True) -> dict:
    n = len(x)
    xs = np.sort(x)
    a = sw_coefficients(n)
    if ties:
        a = _tie_average(xs, a)
    ss = float(((xs - xs.mean()) ** 2).sum())
    W = min(float((a @ xs) ** 2) / ss, 1.0) if ss > 0 else math.nan
    if n <= 11:
        gamma = -2.273 + 0.459 * n
        mu = 0.5440 - 0.39978 * n + 0.025054 * n ** 2 - 0.0006714 * n ** 3
        sigma = math.exp(1.3822 - 0.77857 * n + 0.062767 * n ** 2 - 0.0020322 * n ** 3)
        y = -math.log(gamma - math.log(1 - W)) if W < 1 and gamma - math.log(1 - W) > 0 else math.nan
        median = math.exp(gamma - math.exp(-mu))
    else:
        ln = math.log(n)
        mu = -1.5861 - 0.31082 * ln - 0.083751 * ln ** 2 + 0.0038915 * ln ** 3
        sigma = math.exp(-0.4803 - 0.082676 * ln + 0.0030302 * ln ** 2)
        y = math.log(1 - W) if W < 1 else -math.inf
        median = math.exp(mu)
    z = (y - mu) / sigma
    return {"N": float(n), "W": W, "V": (1 - W) / median, "z": z, "p": float(dist.norm_sf(z))}


def sfrancia_stats(x: np.ndarray, ties: bool = True) -> dict:
    n = len(x)
    xs = np.sort(x)
    m = _blom(n)
    if ties:
        m = _tie_average(xs, m)
    r = np.corrcoef(xs, m)[0, 1]
    W = float(r * r)
    u = math.log(n)
    v = math.log(u)
    mu = -1.2725 + 1.0521 * (v - u)
    sigma = 1.0308 - 0.26758 * (v + 2 / u)
    z = (math.log(1 - W) - mu) / sigma if W < 1 else -math.inf
    return {"N": float(n), "W": W, "V": (1 - W) / math.exp(mu), "z": z, "p": float(dist.norm_sf(z))}


def sktest_stats(x: np.ndarray) -> dict:
    """D'Agostino (1970) skewness z, Anscombe-Glynn (1983) kurtosis z, chi2 = z1^2 + z2^2."""
    n = float(len(x))
    d = x - x.mean()
    m2 = float((d ** 2).mean())
    b1 = float((d ** 3).mean()) / m2 ** 1.5
    b2 = float((d ** 4).mean()) / m2 ** 2
    y = b1 * math.sqrt((n + 1) * (n + 3) / (6 * (n - 2)))
    beta2 = 3 * (n * n + 27 * n - 70) * (n + 1) * (n + 3) / ((n - 2) * (n + 5) * (n + 7) * (n + 9))
    w2 = -1 + math.sqrt(2 * (beta2 - 1))
    delta = 1 / math.sqrt(0.5 * math.log(w2))
    alpha = math.sqrt(2 / (w2 - 1))
    t = y / alpha
    z1 = delta * math.log(t + math.sqrt(t * t + 1))
    eb2 = 3 * (n - 1) / (n + 1)
    vb2 = 24 * n * (n - 2) * (n - 3) / ((n + 1) ** 2 * (n + 3) * (n + 5))
    xk = (b2 - eb2) / math.sqrt(vb2)
    sb1 = 6 * (n * n - 5 * n + 2) / ((n + 7) * (n + 9)) * math.sqrt(6 * (n + 3) * (n + 5) / (n * (n - 2) * (n - 3)))
    A = 6 + 8 / sb1 * (2 / sb1 + math.sqrt(1 + 4 / sb1 ** 2))
    q = (1 - 2 / A) / (1 + xk * math.sqrt(2 / (A - 4)))
    z2 = ((1 - 2 / (9 * A)) - math.copysign(abs(q) ** (1 / 3), q)) / math.sqrt(2 / (9 * A))
    chi2 = z1 * z1 + z2 * z2
    return {"N": n, "P_skew": float(2 * dist.norm_sf(abs(z1))), "P_kurt": float(2 * dist.norm_sf(abs(z2))),
            "chi2": chi2, "P_chi2": float(dist.chi2_sf(chi2, 2)), "z_skew": z1, "z_kurt": z2}


def _columns(session, cmd, minimum: int):
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    ds = session.data
    if any(ds.var(nm).is_string for nm in names):
        raise StataError("type mismatch", 109)
    base = touse(session, cmd)
    out = []
    for nm in names:
        x = ds.var(nm).values[base].astype(float)
        x = x[~np.isnan(x)]
        if len(x) < minimum:
            raise StataError("insufficient observations", 2001)
        out.append((nm, x))
    return out


def _sw_like(session, cmd, fn, title: str, wname: str, vname: str, minimum: int, limit: int) -> None:
    opts = typed_args(cmd)
    cols = _columns(session, cmd, minimum)
    out = session.out
    out.line("")
    out.line(f"{title:^72}".rstrip())
    out.line("")
    out.line(f"    Variable |        Obs{wname:>9}{vname:>12}{'z':>10}{'Prob>z':>11}")
    out.line("-------------+" + "-" * 53)
    r = {}
    big = False
    for nm, x in cols:
        r = fn(x, ties=not opts.noties)
        big |= len(x) > limit
        out.line(f"{abbrev(nm, 12):>12} |{fmt_count(len(x)):>11}{r['W']:>11.5f}{r['V']:>10.3f}"
                 f"{r['z']:>10.3f}{r['p']:>11.5f}")
    if big:
        out.line("")
        out.line(f"Note: The normal approximation to the sampling distribution of {wname.strip()}")
        out.line(f"      is valid for {minimum}<=n<={limit}.")
    session.r = RResults(scalars=r)


@command("swilk", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="Shapiro-Wilk normality test", example="swilk mathach",
         options=(Opt("noties", desc="do not use average coefficients for tied values"),))
def swilk_cmd(session, cmd):
    _sw_like(session, cmd, swilk_stats, "Shapiro–Wilk W test for normal data", "W", "V", 4, 2000)


@command("sfrancia", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="Shapiro-Francia normality test", example="sfrancia mathach",
         options=(Opt("noties", desc="do not use average scores for tied values"),))
def sfrancia_cmd(session, cmd):
    _sw_like(session, cmd, sfrancia_stats, "Shapiro–Francia W' test for normal data", "W'", "V'",
             5, 5000)


@command("sktest", byable=True, qualifiers="if in", body="varlist", changes_data=False,
         family="Statistics", desc="skewness and kurtosis tests for normality", example="sktest mathach",
         options=(Opt("noadjust", "noadj", desc="no empirical adjustment of the joint test"),))
def sktest_cmd(session, cmd):
    typed_args(cmd)
    cols = _columns(session, cmd, 8)
    out = session.out
    out.line("")
    out.line(f"{'Skewness and kurtosis tests for normality':^78}".rstrip())
    out.line(f"{'':57}----- Joint test -----")
    out.line("    Variable |       Obs   Pr(skewness)   Pr(kurtosis)      chi2(2)  Prob>chi2")
    out.line("-------------+" + "-" * 65)
    r = {}
    for nm, x in cols:
        r = sktest_stats(x)
        out.line(f"{abbrev(nm, 12):>12} |{fmt_count(len(x)):>10}{r['P_skew']:>15.4f}{r['P_kurt']:>15.4f}"
                 f"{r['chi2']:>13.2f}{r['P_chi2']:>11.4f}")
    out.line("")
    out.line("Note: joint test without Royston's empirical adjustment (as sktest, noadjust).")
    session.r = RResults(scalars={k: v for k, v in r.items() if not k.startswith("z_")})
