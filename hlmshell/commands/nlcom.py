"""nlcom: nonlinear combinations of the estimates, with delta-method standard errors.

Multilevel handouts use it for the intraclass correlation from mixed's log standard deviations
(`nlcom exp(2*_b[lns1_1_1:_cons])/(exp(2*_b[lns1_1_1:_cons])+exp(2*_b[lnsig_e:_cons]))`)
and for ratios of coefficients. Each expression is evaluated by hlmshell's own evaluator with
e(b) in place; its gradient with respect to e(b) comes from central differences, and
Var = G V G'. Statistics are z (normal), as Stata's nlcom reports unless df() is given.

    nlcom [name:] exp | (name: exp) (name: exp) ... [, level(#) df(#) noheader]
"""
from __future__ import annotations

import copy
import math
import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import active, confidence_level
from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output import postest_output as po
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import RResults
from hlmshell.syntax.evaluate import evaluate_scalar
from hlmshell.syntax.parser import find_top, parse_expr

_NAME = re.compile(r"\s*([A-Za-z_]\w*)\s*:(?!:)")


def _one(text: str, k: int) -> tuple[str, str]:
    """`name: exp` or `exp` -> (name, exp); unnamed ones are _nl_k."""
    m = _NAME.match(text)
    if m and not text[m.end():].lstrip().startswith("]"):
        return m.group(1), text[m.end():].strip()
    return f"_nl_{k}", text.strip()


def split_terms(body: str) -> list[tuple[str, str]]:
    """The expressions of `nlcom`: one, or several each in parentheses."""
    body = body.strip()
    if not body:
        raise StataError("expression required", 198)
    if not body.startswith("("):
        return [_one(body, 1)]
    out, rest, k = [], body, 1
    while rest:
        if not rest.startswith("("):
            return [_one(body, 1)]            # `(a+b)/c`: one expression after all
        close = find_top(rest[1:], ")")
        if close < 0:
            raise StataError("unmatched parenthesis", 132)
        inner = rest[1:close + 1]
        if not _NAME.match(inner) and rest[close + 2:].strip():
            return [_one(body, 1)]
        out.append(_one(inner, k))
        k += 1
        rest = rest[close + 2:].strip()
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise StataError("the same name may not be used twice", 198)
    return out


def _value(session, res, tree, b: np.ndarray) -> float:
    trial = copy.copy(res)
    trial.b = b
    saved = session.e
    session.e = trial
    try:
        v = evaluate_scalar(tree, session)
    finally:
        session.e = saved
    if isinstance(v, str):
        raise StataError("type mismatch", 109)
    return float(v)


def gradient(session, res, tree, b: np.ndarray) -> np.ndarray:
    """d exp / d b by central differences (omitted columns: 0)."""
    omitted = np.asarray(res.omitted, dtype=bool).reshape(-1)
    g = np.zeros(len(b))
    for j in range(len(b)):
        if omitted[j]:
            continue
        h = 1e-6 * max(abs(b[j]), 1e-2)
        up, dn = b.copy(), b.copy()
        up[j] += h
        dn[j] -= h
        g[j] = (_value(session, res, tree, up) - _value(session, res, tree, dn)) / (2 * h)
    return g


@command("nlcom", exp=False, byable=False, qualifiers="", family="Postestimation",
         body="anything", check_options=False,
         desc="nonlinear combinations of estimates (delta method)",
         example="nlcom _b[ses]/_b[sector]",
         options=(Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("df", "", "real", None, "use t with # degrees of freedom"),
                  Opt("noheader", "nohead", desc="do not display the expressions")))
def nlcom_cmd(session, cmd) -> None:
    opts = bind_command("nlcom", list(cmd.options))
    res = active(session)
    level = confidence_level(session, opts)
    terms = split_terms(cmd.body or "")
    trees = [parse_expr(e) for _, e in terms]
    k = len(res.names)
    b = np.asarray(res.b, dtype=float).reshape(-1).copy()
    V = np.asarray(res.V, dtype=float).reshape(k, k)
    est = np.array([_value(session, res, t, b) for t in trees])
    if not np.all(np.isfinite(est)):
        raise StataError("expression evaluates to missing", 498)
    G = np.vstack([gradient(session, res, t, b) for t in trees])
    Vn = G @ V @ G.T
    _report(session, res, terms, est, Vn, level, opts)


def _report(session, res, terms, est, Vn, level: float, opts) -> None:
    out = session.out
    df = opts.df
    if not opts.noheader:
        out.line()
        for name, text in terms:
            out.line(f"{name:>12}: {text}")
    out.line()
    tstat = df is not None
    for line in po.coef_header(res.depvar or "", tstat, level):
        out.line(line)
    crit = float(dist.t_ppf(1 - (1 - level / 100) / 2, df) if tstat
                 else dist.norm_ppf(1 - (1 - level / 100) / 2))
    for i, (name, _) in enumerate(terms):
        se = math.sqrt(max(float(Vn[i, i]), 0.0))
        stat = est[i] / se if se > 0 else float("nan")
        p = float(2 * (dist.t_sf(abs(stat), df) if tstat else dist.norm_sf(abs(stat)))) \
            if se > 0 else float("nan")
        out.line(po.coef_row(name, est[i], se, stat, p, est[i] - crit * se, est[i] + crit * se))
    out.line("-" * po.WIDE)
    names = [n for n, _ in terms]
    session.r = RResults(scalars={"N": float(res.scalars.get("N", float("nan")))},
                         matrices={"b": NamedMatrix(est[None, :], ["y1"], names),
                                   "V": NamedMatrix(Vn, names, names)})
