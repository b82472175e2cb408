"""ci means: confidence intervals for means (also the pre-Stata-14 spelling `ci varlist`).

    ci means varlist [if] [in] [, level(#)]

Handouts report the mean outcome with its interval before modelling it. t-based intervals,
Stata 17's layout; r(N), r(mean), r(se), r(lb), r(ub), r(level) for the last variable.
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


@command("ci", byable=True, qualifiers="if in", body="anything", changes_data=False,
         family="Statistics", desc="confidence intervals for means", example="ci means mathach ses",
         options=(Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),))
def ci_cmd(session, cmd):
    opts = typed_args(cmd)
    level = confidence_level(session, opts)
    words = (cmd.body or "").split()
    if words and words[0] in ("means", "mean", "mea"):
        words = words[1:]
    elif words and words[0] in ("proportions", "variances", "proportion", "variance"):
        raise StataError(f"ci {words[0]} not implemented", 198)
    ds = session.data
    names = varlist(session, " ".join(words))
    mask = touse(session, cmd)
    out = session.out
    ci = f"[{level:g}% conf. interval]"
    out.line("")
    out.line(f"    Variable |        Obs        Mean    Std. err.       {ci}")
    out.line("-------------+" + "-" * 63)
    r = {}
    for nm in names:
        if ds.var(nm).is_string:
            continue
        x = ds.var(nm).values[mask].astype(float)
        x = x[~np.isnan(x)]
        n = len(x)
        m = float(x.mean()) if n else float("nan")
        se = float(x.std(ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
        crit = float(dist.t_ppf(1 - (1 - level / 100) / 2, n - 1)) if n > 1 else float("nan")
        lo, hi = m - crit * se, m + crit * se
        cells = f"{fmt_count(n):>11}{fmt_g(m, 9):>12}{fmt_g(se, 9):>12}" if n else f"{fmt_count(0):>11}"
        if n > 1:
            cells += f"{fmt_g(lo, 9):>16}{fmt_g(hi, 9):>12}"
        out.line(f"{abbrev(nm, 12):>12} |{cells}")
        r = {"N": float(n), "mean": m, "se": se, "lb": lo, "ub": hi, "level": level}
    session.r = RResults(scalars=r)
