"""`xttest0` after `xtreg, re`: the Breusch and Pagan Lagrange multiplier test that the
panel-level variance is zero, in Stata's layout, with r(lm), r(df) and r(p).

The statistic uses only the pooled OLS residuals e_it of the random-effects model's regression
on its estimation sample (Baltagi and Li's form, which handles unbalanced panels and reduces to
Breusch and Pagan's nT/(2(T-1)) [...]^2 when the panels are balanced):

    A  = sum_i (sum_t e_it)^2 / sum_it e_it^2 - 1
    LM = (sum_i T_i)^2 / (2 (sum_i T_i^2 - sum_i T_i)) * A^2

The alternative is one-sided (a variance cannot be negative), so Stata reports it as
chibar2(01): p = Pr(chi2(1) > LM) / 2, and a negative A (residuals less alike within panels
than between them) gives LM = 0 and p = 1. The table beside the test shows the variance of the
dependent variable on the sample and the model's sigma_e^2 and sigma_u^2.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import active
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt
from hlmshell.output.text import abbrev
from hlmshell.registry import command
from hlmshell.results import RResults


def breusch_pagan(resid: np.ndarray, codes: np.ndarray) -> float:
    """The LM statistic from pooled residuals and panel codes 0..G-1 (one-sided: 0 when the
    within-panel sums are smaller than independence implies)."""
    sums = np.bincount(codes, weights=resid)
    T = np.bincount(codes).astype(float)
    a = float(sums @ sums / (resid @ resid)) - 1.0
    denom = 2.0 * (float(T @ T) - float(T.sum()))
    if a <= 0 or denom <= 0:
        return 0.0
    return float(T.sum()) ** 2 / denom * a * a


def _pooled_residuals(session, res) -> tuple[np.ndarray, np.ndarray]:
    """OLS residuals of the depvar on the model's kept columns, and the depvar, on e(sample)."""
    ds = session.data
    mask = np.asarray(res.sample, dtype=bool)
    if len(mask) != ds.n:
        raise StataError("data have changed since estimation", 459)
    y = np.asarray(ds.var(res.macros["depvar"]).values, dtype=float)[mask]
    X = np.asarray(res.design.X_keep, dtype=float)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    return y - X @ beta, y


@command("xttest0", raw=True, byable=False, changes_data=False, family="Postestimation",
         desc="Breusch and Pagan LM test for random effects after xtreg, re", example="xttest0")
def xttest0_cmd(session, cmd) -> None:
    if cmd.body.strip():
        raise syntax_error()
    res = active(session)
    if res.cmd != "xtreg" or res.macros.get("model") != "re":
        raise StataError("last estimates not xtreg, re", 301)
    e, y = _pooled_residuals(session, res)
    lm = breusch_pagan(e, np.asarray(res.panel_codes))
    p = 0.5 * float(dist.chi2_sf(lm, 1)) if lm > 0 else 1.0
    depvar, ivar = res.macros["depvar"], res.macros.get("ivar", "")
    su, se = float(res.scalars["sigma_u"]), float(res.scalars["sigma_e"])
    rows = ((abbrev(depvar, 8), float(np.var(y, ddof=1))), ("e", se * se), ("u", su * su))
    out = session.out
    out.line("")
    out.line("Breusch and Pagan Lagrangian multiplier test for random effects")
    out.line("")
    out.line(f"        {depvar}[{ivar},t] = Xb + u[{ivar}] + e[{ivar},t]")
    out.line("")
    out.line("        Estimated results:")
    out.line("                         |       Var     SD = sqrt(Var)")
    out.line("                ---------+-----------------------------")
    for name, v in rows:
        out.line(f"        {name:>16} |  {fmt(v, '%9.0g')}      {fmt(math.sqrt(v), '%9.0g')}")
    out.line("")
    out.line("        Test:   Var(u) = 0")
    out.line(f"                             chibar2(01) = {fmt(lm, '%9.2f')}")
    out.line(f"                          Prob > chibar2 = {fmt(p, '%8.4f')}")
    session.r = RResults(scalars={"lm": lm, "df": 1.0, "p": p})
