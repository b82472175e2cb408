"""pcorr: partial and semipartial correlations of one variable with each of the others.

    pcorr varname1 varlist [if] [in] [weight]        (aweights, fweights)

From the regression of varname1 on varlist and a constant, with t_j the t statistic of x_j,
df = N - k and R^2 the regression's:

    partial      r_j  = sign(t_j) sqrt(t_j^2 / (t_j^2 + df))
    semipartial  sr_j = sign(t_j) sqrt(t_j^2 (1 - R^2) / df)

their squares, and the two-sided p-value of t_j, in [R] pcorr's table; a collinear variable
is shown as (dropped). r(N), r(df) and the column vectors r(p_corr), r(sp_corr) are returned.
Team-level analysis files ask which predictor keeps its association net of the others.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands._toolkit import touse, varlist, weights
from hlmshell.errors import StataError
from hlmshell.output.text import abbrev
from hlmshell.registry import command
from hlmshell.results import RResults


def _fit(y: np.ndarray, X: np.ndarray, w: np.ndarray | None):
    """(kept columns of X, b with the constant last, the weighted design, the weighted
    residuals) of least squares of y on X and a constant."""
    n = len(y)
    sw = np.ones(n) if w is None else w
    Z = np.column_stack([X, np.ones(n)])
    keep: list[int] = []
    for j in range(Z.shape[1] - 1):            # regress's order: a collinear later column goes
        cols = [Z[:, i] for i in keep + [j]] + [Z[:, -1]]
        A = np.column_stack(cols) * np.sqrt(sw)[:, None]
        if np.linalg.matrix_rank(A, tol=1e-9 * max(1.0, np.abs(A).max())) == len(cols):
            keep.append(j)
    A = Z[:, keep + [Z.shape[1] - 1]]
    Aw = A * np.sqrt(sw)[:, None]
    yw = y * np.sqrt(sw)
    b, *_ = np.linalg.lstsq(Aw, yw, rcond=None)
    resid = yw - Aw @ b
    return keep, b, Aw, resid


@command("pcorr", byable=True, qualifiers="if in weight", weights="aw fw", body="varlist", exp="none",
         options=(), family="Statistics", desc="partial and semipartial correlation coefficients",
         example="pcorr mathach ses minority female")
def pcorr_cmd(session, cmd):
    from hlmshell import distributions as dist
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    ds = session.data
    if any(ds.var(n).is_string for n in names):
        raise StataError("type mismatch", 109)
    mask = touse(session, cmd, names, strok=False)
    w = weights(session, cmd, mask, allowed=("fweight", "aweight"))
    if w is not None:
        mask &= w > 0
    if not mask.any():
        raise StataError("no observations", 2000)
    y = np.asarray(ds.var(names[0]).values, dtype=float)[mask]
    X = np.column_stack([np.asarray(ds.var(n).values, dtype=float)[mask] for n in names[1:]])
    fw = w is not None and cmd.weight.kind == "fweight"
    ww = None if w is None else np.asarray(w, dtype=float)[mask]
    if ww is not None and not fw:
        ww = ww * len(ww) / ww.sum()           # aweights sum to N, as regress rescales them
    keep, b, Aw, resid = _fit(y, X, ww)
    n = round(ww.sum()) if fw else int(mask.sum())
    df = n - len(keep) - 1
    if len(keep) + 1 < 3 or df <= 0:
        raise StataError("too few variables specified" if len(keep) + 1 < 3
                         else "insufficient observations", 102 if len(keep) + 1 < 3 else 2001)
    s2 = float(resid @ resid) / df
    V = s2 * np.linalg.inv(Aw.T @ Aw)
    sw = np.ones(len(y)) if ww is None else ww
    ybar = float(np.sum(sw * y) / sw.sum())
    tss = float(np.sum(sw * (y - ybar) ** 2))
    r2 = 1.0 - float(resid @ resid) / tss if tss > 0 else 0.0
    out = session.out
    out.line(f"(obs={n})")
    out.line("")
    out.line(f"Partial and semipartial correlations of {names[0]} with")
    out.line("")
    out.line(" " * 15 + "Partial   Semipartial      Partial   Semipartial   Significance")
    out.line("   Variable |    corr.         corr.      corr.^2       corr.^2          value")
    out.line("-" * 12 + "+" + "-" * 65)
    pc = np.full((len(names) - 1, 1), np.nan)
    spc = np.full((len(names) - 1, 1), np.nan)
    for j, nm in enumerate(names[1:]):
        label = abbrev(nm, 11).rjust(11)
        if j not in keep:
            out.line(f"{label} | (dropped)")
            continue
        k = keep.index(j)
        t = b[k] / np.sqrt(V[k, k])
        F = t * t
        sgn = -1.0 if b[k] < 0 else 1.0
        p, sp = sgn * np.sqrt(F / (F + df)), sgn * np.sqrt(F * (1 - r2) / df)
        pval = 2 * dist.t_sf(abs(t), df)
        pc[j, 0], spc[j, 0] = p, sp
        out.line(f"{label} | {p:8.4f}      {sp:8.4f}     {p * p:8.4f}      {sp * sp:8.4f}       {pval:8.4f}")
    from hlmshell.commands.program import NamedMatrix
    rows = names[1:]
    session.r = RResults(scalars={"N": float(n), "df": float(df)},
                         matrices={"p_corr": NamedMatrix(pc, rows, ["Partial Correlation"]),
                                   "sp_corr": NamedMatrix(spc, rows, ["Semipartial Correlation"])})
