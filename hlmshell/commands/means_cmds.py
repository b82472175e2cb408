"""mean and proportion: e-class estimates of means and category proportions, Stata 17 layout.

    mean varlist [if] [in] [, over(varlist) level(#)]
    proportion varname [varname ...] [if] [in] [, over(varlist) level(#)]

Handouts tabulate the outcome's mean by sector, or the share of minority students, with a
confidence interval before modelling. Both post e(b), e(V) (the covariance of the estimates:
S/n within a group, zero across groups), e(N), e(df_r) = N - 1 and e(_N) per column. mean uses
t intervals; proportion Stata 17's default logit interval (back-transformed), as Stata does.
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
from hlmshell.results import EstimationResults

_OPTS = (Opt("over", type="varlist", desc="group over subpopulations defined by varlist"),
         Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
         Opt("nolabel", "nol", desc="show codes, not value labels"))


def _over_groups(session, opts, mask):
    """(codes per observation, labels, Stata level names, over() text) of the over() groups
    -- every combination of the over() variables present in the sample, in sort order; one
    group when over() is absent. Observations missing an over() variable get code -1."""
    ds = session.data
    if opts.over is None:
        return np.zeros(ds.n, int), [""], [""], None
    names = varlist(session, " ".join(opts.over), all_if_empty=False)
    if not names:
        raise StataError("option over() incorrectly specified", 198)
    if any(ds.var(nm).is_string for nm in names):
        raise StataError("type mismatch", 109)
    X = np.column_stack([ds.var(nm).values.astype(float) for nm in names])
    ok = ~np.isnan(X).any(axis=1)
    combos = sorted({tuple(row) for row in X[mask & ok].tolist()})
    index = {c: i for i, c in enumerate(combos)}
    codes = np.array([index.get(tuple(row), -1) if good else -1 for row, good in zip(X.tolist(), ok)])
    labels = [" ".join(value_text(ds, ds.var(nm), x, labels=not opts.nolabel) for nm, x in zip(names, c))
              for c in combos]
    stata = ["#".join(f"{int(x) if float(x).is_integer() else x}.{nm}" for nm, x in zip(names, c))
             for c in combos]
    return codes, labels, stata, "#".join(names)


def _header(out, title: str, n: int) -> None:
    out.line("")
    out.line(f"{title:<41}Number of obs = {fmt_count(n)}")
    out.line("")


def _table(out, rows, level: float, stat: str, extra: str = "") -> None:
    ci = f"[{level:g}% conf. interval]"
    w = max([12] + [len(r if isinstance(r, str) else r[0]) for r in rows])
    w = min(w, 32)
    out.line("-" * (w + 50))
    if extra:
        out.line(f"{'':{w + 1}}|{extra:>48}")
    out.line(f"{'':{w + 1}}|{stat:>11}   Std. err.     {ci}")
    out.line("-" * (w + 1) + "+" + "-" * 48)
    for row in rows:
        if isinstance(row, str):
            out.line(f"{abbrev(row, w):>{w}} |")
            continue
        lab, b, se, lo, hi = row
        out.line(f"{abbrev(lab, w):>{w}} |{fmt_g(b, 9):>11}{fmt_g(se, 9):>11}{fmt_g(lo, 9):>14}{fmt_g(hi, 9):>12}")
    out.line("-" * (w + 50))


def _post(session, cmd, title, names, b, V, counts, n, df_r, mask, over, macros=None,
          n_over: int = 1) -> None:
    res = EstimationResults(cmd=cmd.name if cmd.name in ("mean", "proportion") else "mean",
                            names=[("", nm) for nm in names], b=np.asarray(b, float),
                            V=np.asarray(V, float), omitted=np.zeros(len(names), bool),
                            k_f=len(names), scalars={"N": float(n), "df_r": float(df_r), "k_eq": 1.0,
                                                     "N_over": float(n_over)},
                            macros={"title": title, "properties": "b V", "vce": "analytic",
                                    "cmdline": cmd.text, "over": over or "", **(macros or {})},
                            matrices={"_N": np.asarray(counts, float)[None, :]}, sample=mask.copy())
    session.post_estimation(res)


@command("mean", byable=True, qualifiers="if in", body="varlist", family="Statistics",
         desc="estimate means", example="mean mathach ses, over(sector)", options=_OPTS)
def mean_cmd(session, cmd):
    opts = typed_args(cmd)
    level = confidence_level(session, opts)
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    ds = session.data
    if any(ds.var(nm).is_string for nm in names):
        raise StataError("type mismatch", 109)
    mask = touse(session, cmd, names)
    codes, labels, stata, over = _over_groups(session, opts, mask)
    mask &= codes >= 0
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    X = np.column_stack([ds.var(nm).values[mask].astype(float) for nm in names])
    g = codes[mask]
    groups = sorted(set(g.tolist()))
    crit = float(dist.t_ppf(1 - (1 - level / 100) / 2, n - 1)) if n > 1 else math.nan
    bnames, b, counts, blocks, rows = [], [], [], [], []
    for j, nm in enumerate(names):
        if over:
            rows.append(f"c.{nm}@{over}")
        for k in groups:
            x = X[g == k, j]
            m = float(x.mean())
            se = float(x.std(ddof=1)) / math.sqrt(len(x)) if len(x) > 1 else math.nan
            bnames.append(f"c.{nm}@{stata[k]}" if over else nm)
            b.append(m)
            counts.append(len(x))
            rows.append((labels[k] if over else nm, m, se, m - crit * se, m + crit * se))
    for k in groups:   # covariance of the means within a group: S / n_g
        Xk = X[g == k]
        blocks.append(np.atleast_2d(np.cov(Xk, rowvar=False)) / len(Xk) if len(Xk) > 1
                      else np.full((len(names), len(names)), np.nan))
    ng = len(groups)
    V = np.zeros((len(b), len(b)))
    for gi in range(ng):
        idx = [j * ng + gi for j in range(len(names))]
        V[np.ix_(idx, idx)] = blocks[gi]
    _header(session.out, "Mean estimation", n)
    _table(session.out, rows, level, "Mean")
    _post(session, cmd, "Mean estimation", bnames, b, V, counts, n, n - 1, mask, over,
          {"cmd": "mean", "varlist": " ".join(names)}, len(groups))


def _logit_ci(p: float, se: float, crit: float) -> tuple[float, float]:
    if p <= 0 or p >= 1 or not se > 0:
        return (math.nan, math.nan) if not (p <= 0 or p >= 1) else (p, p)
    lg = math.log(p / (1 - p))
    h = crit * se / (p * (1 - p))
    return 1 / (1 + math.exp(-(lg - h))), 1 / (1 + math.exp(-(lg + h)))


@command("proportion", abbrev="prop", byable=True, qualifiers="if in", body="varlist",
         family="Statistics", desc="estimate proportions", example="proportion minority",
         options=_OPTS)
def proportion_cmd(session, cmd):
    opts = typed_args(cmd)
    level = confidence_level(session, opts)
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    ds = session.data
    mask = touse(session, cmd, names)
    codes, labels, stata, over = _over_groups(session, opts, mask)
    mask &= codes >= 0
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    g = codes[mask]
    groups = sorted(set(g.tolist()))
    crit = float(dist.t_ppf(1 - (1 - level / 100) / 2, n - 1)) if n > 1 else math.nan
    bnames, b, counts, rows, gid = [], [], [], [], []
    for nm in names:
        v = ds.var(nm)
        x = v.values[mask] if v.is_string else v.values[mask].astype(float)
        cats = sorted(set(x.tolist()))
        rows.append(f"{nm}@{over}" if over else nm)
        for c in cats:
            cl = value_text(ds, v, c, labels=not opts.nolabel)
            lvl = f"{int(c) if not v.is_string and float(c).is_integer() else c}"
            for k in groups:
                xg = x[g == k]
                ng = len(xg)
                p = float((xg == c).mean())
                se = math.sqrt(p * (1 - p) / (ng - 1)) if ng > 1 else math.nan
                lo, hi = _logit_ci(p, se, crit)
                bnames.append(f"{lvl}.{nm}@{stata[k]}" if over else f"{lvl}.{nm}")
                b.append(p)
                gid.append((nm, k))
                counts.append(ng)
                rows.append((f"{cl} {labels[k]}" if over else cl, p, se, lo, hi))
    V = np.zeros((len(b), len(b)))   # multinomial covariance within variable and group
    for i in range(len(b)):
        for j in range(len(b)):
            if gid[i] == gid[j]:
                ng = counts[i]
                V[i, j] = (b[i] * (1 - b[i]) if i == j else -b[i] * b[j]) / (ng - 1) if ng > 1 else math.nan
    _header(session.out, "Proportion estimation", n)
    _table(session.out, rows, level, "Proportion", "Logit")
    _post(session, cmd, "Proportion estimation", bnames, b, V, counts, n, n - 1, mask, over,
          {"cmd": "proportion", "varlist": " ".join(names)}, len(groups))

