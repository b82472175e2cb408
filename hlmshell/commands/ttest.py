"""ttest: one-sample, paired and two-sample (by()) t tests of means, in Stata 17's layout.

    ttest var == #              one-sample
    ttest var1 == var2          paired
    ttest var, by(g) [unequal]  two groups (Satterthwaite's df with unequal)

Course do-files compare group means before fitting a multilevel model (public vs Catholic
schools). Statistics: the usual pooled or Welch t; r() as Stata stores it.
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


def _stats(x: np.ndarray) -> tuple[int, float, float, float]:
    n = len(x)
    m = float(x.mean()) if n else float("nan")
    sd = float(x.std(ddof=1)) if n > 1 else float("nan")
    return n, m, sd, sd / math.sqrt(n) if n > 0 else float("nan")


def _row(label: str, n: int | None, m: float, se: float, sd: float | None, crit: float) -> str:
    def g(v):
        return fmt_g(v, 9).rjust(12)

    obs = fmt_count(n).rjust(8) if n is not None else " " * 8
    sdt = g(sd) if sd is not None else " " * 12
    return f"{abbrev(label, 8):>8} |{obs}{g(m)}{g(se)}{sdt}{g(m - crit * se)}{g(m + crit * se)}"


def _head(title: str, first: str, level: float) -> list[str]:
    ci = f"[{level:g}% conf. interval]"
    return ["", title, _RULE,
            f"{first:>8} |     Obs        Mean    Std. err.   Std. dev.   {ci}", _MID]


def _tail(out, what: str, lhs: str, t: float, df: float, h0: str, p_l: float, p: float,
          p_u: float, satterthwaite: bool = False) -> None:
    out.line(_RULE)
    left = f"{what:>8} = {lhs}"
    out.line(left + f"t = {t:8.4f}".rjust(78 - len(left)))
    dflab = "Satterthwaite's degrees of freedom = " if satterthwaite else "Degrees of freedom = "
    dftext = fmt_g(df, 8) if satterthwaite else f"{df:8.0f}"
    left = f"H0: {h0}"
    out.line(left + (dflab + dftext).rjust(78 - len(left)))
    out.line("")
    word = h0.split(" = ")[0]
    out.line(f"    Ha: {word} < 0".ljust(33) + f"Ha: {word} != 0".ljust(30) + f"Ha: {word} > 0")
    out.line(f" Pr(T < t) = {p_l:.4f}".ljust(28) + f"Pr(|T| > |t|) = {p:.4f}".ljust(32)
             + f"Pr(T > t) = {p_u:.4f}")


def _pvals(t: float, df: float) -> tuple[float, float, float]:
    p_u = float(dist.t_sf(t, df))
    return 1 - p_u, float(2 * dist.t_sf(abs(t), df)), p_u


def _one_sample(session, name, x, mu0, level, crit_of) -> None:
    n, m, sd, se = _stats(x)
    df = n - 1
    crit = crit_of(df)
    t = (m - mu0) / se
    out = session.out
    for line in _head("One-sample t test", "Variable", level):
        out.line(line)
    out.line(_row(name, n, m, se, sd, crit))
    p_l, p, p_u = _pvals(t, df)
    _tail(out, "mean", f"mean({abbrev(name, 12)})", t, df, f"mean = {fmt_g(mu0, 9).strip()}", p_l, p, p_u)
    session.r = RResults(scalars={"N_1": float(n), "mu_1": m, "sd_1": sd, "se": se, "t": t,
                                  "df_t": float(df), "p": p, "p_l": p_l, "p_u": p_u,
                                  "level": level, "sd": sd})


def _paired(session, a, b, xa, xb, level, crit_of) -> None:
    d = xa - xb
    n, m, sd, se = _stats(d)
    df = n - 1
    crit = crit_of(df)
    out = session.out
    for line in _head("Paired t test", "Variable", level):
        out.line(line)
    for name, x in ((a, xa), (b, xb)):
        nn, mm, ss, ee = _stats(x)
        out.line(_row(name, nn, mm, ee, ss, crit))
    out.line(_MID)
    out.line(_row("diff", n, m, se, sd, crit))
    t = m / se
    p_l, p, p_u = _pvals(t, df)
    _tail(out, "mean(diff)", f"mean({abbrev(a, 12)} - {abbrev(b, 12)})", t, df, "mean(diff) = 0",
          p_l, p, p_u)
    m1, m2 = float(xa.mean()), float(xb.mean())
    session.r = RResults(scalars={"N_1": float(n), "N_2": float(n), "mu_1": m1, "mu_2": m2,
                                  "sd_1": float(xa.std(ddof=1)), "sd_2": float(xb.std(ddof=1)),
                                  "se": se, "t": t, "df_t": float(df), "p": p, "p_l": p_l,
                                  "p_u": p_u, "level": level, "sd": sd})


def _two_sample(session, name, ds, byvar, x, gvals, unequal, level, crit_of) -> None:
    levels = sorted(set(gvals.tolist()))
    if len(levels) != 2:
        raise StataError("more than 2 groups found, only 2 allowed" if len(levels) > 2
                         else "1 group found, 2 required", 420)
    xs = [x[gvals == lv] for lv in levels]
    (n1, m1, s1, e1), (n2, m2, s2, e2) = (_stats(v) for v in xs)
    diff = m1 - m2
    if unequal:
        se = math.sqrt(s1 ** 2 / n1 + s2 ** 2 / n2)
        df = (s1 ** 2 / n1 + s2 ** 2 / n2) ** 2 / ((s1 ** 2 / n1) ** 2 / (n1 - 1) + (s2 ** 2 / n2) ** 2 / (n2 - 1))
    else:
        df = n1 + n2 - 2
        sp = math.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / df)
        se = sp * math.sqrt(1 / n1 + 1 / n2)
    out = session.out
    title = f"Two-sample t test with {'unequal' if unequal else 'equal'} variances"
    for line in _head(title, "Group", level):
        out.line(line)
    v = ds.var(byvar)
    labels = [value_text(ds, v, lv) for lv in levels]
    for lab, (nn, mm, ss, ee) in zip(labels, ((n1, m1, s1, e1), (n2, m2, s2, e2))):
        out.line(_row(lab, nn, mm, ee, ss, crit_of(nn - 1)))
    out.line(_MID)
    nc, mc, sc, ec = _stats(x)
    out.line(_row("Combined", nc, mc, ec, sc, crit_of(nc - 1)))
    out.line(_MID)
    out.line(_row("diff", None, diff, se, None, crit_of(df)))
    t = diff / se
    p_l, p, p_u = _pvals(t, df)
    _tail(out, "diff", f"mean({abbrev(labels[0], 8)}) - mean({abbrev(labels[1], 8)})", t, df,
          "diff = 0", p_l, p, p_u, satterthwaite=unequal)
    session.r = RResults(scalars={"N_1": float(n1), "N_2": float(n2), "mu_1": m1, "mu_2": m2,
                                  "sd_1": s1, "sd_2": s2, "se": se, "t": t, "df_t": float(df),
                                  "p": p, "p_l": p_l, "p_u": p_u, "level": level, "sd": sc})


def _enough(ok: np.ndarray) -> None:
    if ok.sum() < 2:
        raise StataError("no observations" if not ok.any() else "insufficient observations",
                         2000 if not ok.any() else 2001)


def _numeric_var(session, text: str) -> str:
    names = varlist(session, text, all_if_empty=False)
    if len(names) != 1:
        raise StataError("too many variables specified" if names else "varlist required",
                         103 if names else 100)
    if session.data.var(names[0]).is_string:
        raise StataError("type mismatch", 109)
    return names[0]


def _against(session, name, x, mask, rhs: str, level, crit_of) -> None:
    """`var == #` (one-sample) or `var1 == var2` (paired)."""
    ds = session.data
    other = rhs.strip()
    if other in ds.vars or (other[:1].isalpha() and not other.startswith("_")):
        b = _numeric_var(session, other)
        y = ds.var(b).values.astype(float)
        ok = mask & ~np.isnan(x) & ~np.isnan(y)
        _enough(ok)
        _paired(session, name, b, x[ok], y[ok], level, crit_of)
        return
    mu0 = evaluate_scalar(other, session)
    if isinstance(mu0, str) or math.isnan(mu0):
        raise StataError("invalid syntax", 198)
    ok = mask & ~np.isnan(x)
    _enough(ok)
    _one_sample(session, name, x[ok], float(mu0), level, crit_of)


def _by_groups(session, name, x, mask, by, unequal, level, crit_of) -> None:
    ds = session.data
    byvar = varlist(session, " ".join(by), all_if_empty=False)
    if len(byvar) != 1:
        raise StataError("too many variables specified", 103)
    gv = ds.var(byvar[0])
    gvals = gv.values if gv.is_string else gv.values.astype(float)
    present = (gvals != "") if gv.is_string else ~np.isnan(gvals)
    ok = mask & ~np.isnan(x) & present
    if not ok.any():
        raise StataError("no observations", 2000)
    _two_sample(session, name, ds, byvar[0], x[ok], gvals[ok], unequal, level, crit_of)


@command("ttest", byable=True, qualifiers="if in", exp=False, body="anything",
         family="Statistics", desc="t tests of means (one-sample, paired, two-group)",
         example="ttest mathach, by(sector)",
         options=(Opt("by", type="varlist", desc="two groups defined by this variable"),
                  Opt("unequal", "une", desc="unequal variances (Satterthwaite's df)"),
                  Opt("welch", "w", desc="not supported"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def ttest_cmd(session, cmd):
    opts = typed_args(cmd)
    if opts.welch:
        raise StataError("option welch not allowed", 198)
    level = confidence_level(session, opts)

    def crit_of(df):
        return float(dist.t_ppf(1 - (1 - level / 100) / 2, df)) if df > 0 else float("nan")

    body = (cmd.body or "").strip()
    lhs, eq, rhs = body.partition("==")
    if not eq:
        lhs, eq, rhs = body.partition("=")
    name = _numeric_var(session, lhs.strip())
    mask = touse(session, cmd)
    x = session.data.var(name).values.astype(float)
    if eq:
        if opts.by is not None:
            raise StataError("option by() not allowed", 198)
        _against(session, name, x, mask, rhs, level, crit_of)
    elif opts.by is None:
        raise StataError("option by() required", 198)
    else:
        _by_groups(session, name, x, mask, opts.by, opts.unequal, level, crit_of)
