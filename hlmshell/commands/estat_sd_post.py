"""estat sd's `variance` and `post` options after mixed (Stata 17's [ME] estat sd).

variance: the random-effects parameters as variances and covariances, var = exp(2 lns),
cov(i,j) = tanh(atr) exp(lns_i) exp(lns_j) (exchangeable: both sds are the one lns), the
residual var(e) = exp(2 lnsig_e); their variance matrix from e(V) by the delta method with
the full Jacobian (a covariance depends on three parameters). Columns `id:var(_cons)`,
`id:cov(ses,_cons)`, `Residual:var(e)`.

post: e(b) and e(V) are replaced by the table's metric (sd/corr, or var/cov with variance),
so that estimates store, test, lincom and etable see them, as `estat sd, post` makes estat sd
behave like an estimation command; the other e() results are kept.
"""
from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from hlmshell.errors import StataError

_LNS = re.compile(r"lns(\d+)_(\d+)_(\d+)$")
_ATR = re.compile(r"atr(\d+)_(\d+)_(\d+)_(\d+)$")


def variance_metric(m, sd_names: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(b, V, column names) of `estat sd, variance`."""
    b0 = np.asarray(m.b, dtype=float)
    k = len(b0)
    where = {eq: i for i, (eq, _) in enumerate(m.names)}
    b = b0.copy()
    jac = np.eye(k)
    for i, (eq, _) in enumerate(m.names[m.k_f:], start=m.k_f):
        if eq == "lnsig_e" or _LNS.match(eq):
            b[i] = math.exp(2.0 * b0[i])
            jac[i, i] = 2.0 * b[i]
        elif _ATR.match(eq):
            _covariance(b0, b, jac, i, _ATR.match(eq), where)
        else:
            raise StataError("estat sd, variance: not available with a residual covariance "
                             "structure", 198)
    names = [_var_name(n) for n in sd_names]
    return b, jac @ np.asarray(m.V, dtype=float) @ jac.T, names


def _covariance(b0, b, jac, i, match, where) -> None:
    lev, blk, p, q = match.groups()
    first = where.get(f"lns{lev}_{blk}_{p}")
    second = where.get(f"lns{lev}_{blk}_{q}", first)     # exchangeable: one sd for all
    if first is None:
        raise StataError("estat sd, variance: unexpected parameter layout", 198)
    r = math.tanh(b0[i])
    s1, s2 = math.exp(b0[first]), math.exp(b0[second])
    b[i] = r * s1 * s2
    jac[i, i] = (1.0 - r * r) * s1 * s2
    jac[i, first] += b[i]
    jac[i, second] += b[i]


def _var_name(name: str) -> str:
    eq, _, par = name.partition(":")
    if par.startswith("sd("):
        par = "var(" + par[3:]
    elif par.startswith("corr("):
        par = "cov(" + par[5:]
    return f"{eq}:{par}"


def already_posted(res) -> bool:
    """e() replaced by an earlier `estat sd, post` (its columns are in the sd/var metric
    already; transforming them again would be wrong)."""
    return bool(getattr(res, "sd_posted", False))


def post(session, res, b: np.ndarray, V: np.ndarray, names: list[str]) -> None:
    """Make (b, V) e(b) and e(V), the rest of e() unchanged (the same serial: a test chain
    on the old columns does not carry over)."""
    split = [tuple(n.split(":", 1)) for n in names]
    new = dataclasses.replace(res, names=split, b=np.asarray(b, dtype=float).copy(),
                              V=np.asarray(V, dtype=float).copy(),
                              omitted=np.zeros(len(b), dtype=bool) if len(res.omitted) != len(b)
                              else np.asarray(res.omitted).copy())
    new.sd_posted = True
    session.post_estimation(new)
