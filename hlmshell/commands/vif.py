"""vif (also `estat vif`): variance inflation factors after regress.

VIF_j = 1 / (1 - R2_j), R2_j from regressing the j-th covariate column on the others (with a
constant) over e(sample). Columns are rebuilt from the names of e(b): `x`, `c.x`, factor
levels `2.g` (indicators), interactions (products); omitted columns are left out. Rows are
sorted by VIF, largest first, as Stata lists them. Courses check collinearity this way before
moving the same covariates into a multilevel model.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults

_LEVEL = re.compile(r"^(\d+)[bn]*\.(.+)$")


def _column(ds, name: str, mask: np.ndarray) -> np.ndarray:
    out = np.ones(int(mask.sum()))
    for part in name.split("#"):
        m = _LEVEL.match(part)
        if m:
            x = ds.var(m.group(2)).values[mask].astype(float)
            out = out * (x == float(m.group(1)))
            continue
        base = part.removeprefix("c.")
        if base not in ds.vars:
            raise StataError(f"vif: cannot rebuild the column {name}", 498)
        out = out * ds.var(base).values[mask].astype(float)
    return out


def vif_rows(session, res, uncentered: bool = False) -> list[tuple[str, float]]:
    ds = session.data
    if res.sample is None or len(res.sample) != ds.n:
        raise StataError("estimation sample not found; data have changed", 459)
    mask = np.asarray(res.sample, dtype=bool)
    omitted = np.asarray(res.omitted, dtype=bool).reshape(-1)
    names = [n for k, (_, n) in enumerate(res.names) if n != "_cons" and not omitted[k]]
    has_cons = "_cons" in [n for _, n in res.names]
    if not has_cons and not uncentered:
        raise StataError("vif not appropriate for regressions without a constant", 498)
    X = np.column_stack([_column(ds, n, mask) for n in names]) if names else np.zeros((0, 0))
    if uncentered:
        return _uncentered(X, names, has_cons, int(mask.sum()))
    rows = []
    for j, nm in enumerate(names):
        y = X[:, j]
        Z = np.column_stack([np.ones(len(y))] + [X[:, k] for k in range(len(names)) if k != j])
        coef = np.linalg.lstsq(Z, y, rcond=None)[0]
        rss = float(((y - Z @ coef) ** 2).sum())
        tss = float(((y - y.mean()) ** 2).sum())
        r2 = 1.0 - rss / tss if tss > 0 else 1.0
        rows.append((nm, 1.0 / (1.0 - r2) if r2 < 1 else float("inf")))
    return sorted(rows, key=lambda r: -r[1])


def _uncentered(X: np.ndarray, names: list[str], has_cons: bool, n: int) -> list[tuple[str, float]]:
    """uncentered: each column (the constant too) regressed on the others without adding a
    constant, R2 against the uncentered sum of squares: VIF_j = (X'X)_jj [(X'X)^-1]_jj."""
    if has_cons:
        X = np.column_stack([X.reshape(n, -1), np.ones(n)])
        names = names + ["_cons"]
    XtX = X.T @ X
    try:
        inv = np.linalg.inv(XtX)
    except np.linalg.LinAlgError:
        raise StataError("matrix is singular", 498) from None
    rows = [(nm, float(XtX[j, j] * inv[j, j])) for j, nm in enumerate(names)]
    return sorted(rows, key=lambda r: -r[1])


def report_vif(session, res, uncentered: bool = False) -> None:
    if res is None:
        raise StataError("last estimates not found", 301)
    if res.cmd != "regress":
        raise StataError("not appropriate after " + res.cmd, 301)
    rows = vif_rows(session, res, uncentered)
    out = session.out
    out.line("")
    out.line("    Variable |       VIF       1/VIF  ")
    out.line("-------------+----------------------")
    for nm, v in rows:
        out.line(f"{abbrev(nm, 12):>12} |{fmt(v, '%10.2f')}{fmt(1 / v, '%12.6f')}")
    out.line("-------------+----------------------")
    mean = float(np.mean([v for _, v in rows])) if rows else float("nan")
    out.line(f"{'Mean VIF':>12} |{fmt(mean, '%10.2f')}")
    sc, mac = {}, {}
    for k, (nm, v) in enumerate(rows, 1):
        sc[f"vif_{k}"] = v
        mac[f"name_{k}"] = nm
    session.r = RResults(scalars=sc, macros=mac)


@command("vif", byable=False, qualifiers="", body="none", changes_data=False,
         options=(Opt("uncentered", "unc", desc="uncentered VIFs (collinearity with the constant)"),),
         family="Postestimation", desc="variance inflation factors after regress", example="vif")
def vif_cmd(session, cmd):
    if (cmd.body or "").strip():
        raise StataError("invalid syntax", 198)
    from hlmshell.commands._toolkit import typed_args
    report_vif(session, session.e, typed_args(cmd).uncentered)
