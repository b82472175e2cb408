"""estat vce: the covariance (or correlation) matrix of the estimates, e(V), as Stata lists it.

Course do-files print it after mixed to show where a Wald test's numbers come from. The
layout is matlist's: lower triangle, cells 11 wide; a model with several equations (mixed's
fixed part, lns1_1_1, lnsig_e, ...) gets a row of equation names above the columns and an
equation line before each group of rows.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.results import RResults


def _cell(x: float, form: str | None) -> str:
    text = fmt(x, form).strip() if form else fmt_g(x, 9)
    return f" {text:>9} "


def vce_lines(res, M: np.ndarray, kind: str, form: str | None) -> list[str]:
    eqs = [e for e, _ in res.names]
    names = [n for _, n in res.names]
    multi = len(set(eqs)) > 1
    q = len(names)
    out = ["", f"{kind} matrix of coefficients of {res.cmd} model", ""]
    if multi:
        heads = [(abbrev(e, 9) if k == 0 or eqs[k - 1] != e else "") for k, e in enumerate(eqs)]
        out.append(" " * 13 + "|" + "".join(f" {h:<9} " for h in heads).rstrip())
    out.append(f"{'e(V)':>12} |" + "".join(f" {abbrev(n, 9):>9} " for n in names))
    out.append("-" * 13 + "+" + "-" * (11 * q + 1))
    for i in range(q):
        if multi and (i == 0 or eqs[i - 1] != eqs[i]):
            out.append(f"{abbrev(eqs[i], 12):<12} |")
        cells = "".join(_cell(float(M[i, j]), form) if j <= i else " " * 11 for j in range(q))
        out.append((f"{abbrev(names[i], 12):>12} |" + cells).rstrip())
    return out


def estat_vce(session, res, opts) -> None:
    if res.V is None:
        raise StataError("e(V) not found", 111)
    k = len(res.names)
    V = np.asarray(res.V, dtype=float).reshape(k, k)
    kind = "Covariance"
    if opts.correlation:
        d = np.sqrt(np.clip(np.diag(V), 0, None))
        with np.errstate(invalid="ignore", divide="ignore"):
            V = np.where(np.outer(d, d) > 0, V / np.outer(d, d), 0.0)
        kind = "Correlation"
    form = opts.format
    if form is not None and not str(form).startswith("%"):
        raise StataError(f"invalid format {form}", 120)
    for line in vce_lines(res, V, kind, form):
        session.out.line(line)
    labels = [f"{e}:{n}" for e, n in res.names]
    session.r = RResults(matrices={"V": NamedMatrix(V, labels, labels)})
