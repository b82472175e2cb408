"""estat summarize: the mean, standard deviation, minimum and maximum of the dependent variable
and the covariates over the estimation sample, e(sample).

Handouts run it right after a model to report the analysed sample. Variables come from the
names of e(b): operators and factor levels are stripped (`1.sector` -> sector), interactions
contribute each of their variables, _cons and the variance parameters are left out.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.results import RResults

_OP = re.compile(r"^(?:[0-9]*[bno]*|c|i|co|bn)\.")


def model_variables(res) -> list[str]:
    if res.cmd in ("factor", "pca") and res.model is not None:   # no e(b): the analysed variables
        return list(res.model.names)
    names = [res.depvar] if res.depvar else []
    for eq, nm in res.names[: res.k_f]:
        for part in nm.split("#"):
            base = _OP.sub("", part)
            if base != "_cons" and base not in names:
                names.append(base)
    return names


def estat_summarize(session, res, opts) -> None:
    ds = session.data
    sample = res.sample
    if sample is None or len(sample) != ds.n:
        raise StataError("estimation sample not found; data have changed", 459)
    mask = np.asarray(sample, dtype=bool)
    rows = []
    for nm in model_variables(res):
        if nm not in ds.vars or ds.var(nm).is_string:
            continue
        x = ds.var(nm).values[mask].astype(float)
        x = x[~np.isnan(x)]
        sd = float(x.std(ddof=1)) if len(x) > 1 else float("nan")
        rows.append((nm, float(x.mean()), sd, float(x.min()), float(x.max())))
    out = session.out
    n = int(mask.sum())
    if not opts.noheader:
        out.line("")
        left = f"  Estimation sample {res.cmd}"
        out.line(left + f"Number of obs = {fmt_count(n):>10}".rjust(78 - len(left)))
    out.line("")
    out.line("  " + "-" * 64)
    out.line("      Variable |         Mean      Std. dev.        Min        Max")
    out.line("  -------------+" + "-" * 50)
    for nm, m, sd, lo, hi in rows:
        label = (ds.var(nm).label or nm) if opts.labels else nm
        out.line(f"  {abbrev(label, 12):>12} | {fmt_g(m, 9):>12}{fmt_g(sd, 9):>15}"
                 f"{fmt_g(lo, 9):>11}{fmt_g(hi, 9):>11}")
    out.line("  " + "-" * 64)
    stats = np.array([[m, sd, lo, hi] for _, m, sd, lo, hi in rows]) if rows else np.zeros((0, 4))
    session.r = RResults(scalars={"N": float(n)},
                         matrices={"stats": NamedMatrix(stats, [r[0] for r in rows],
                                                        ["mean", "sd", "min", "max"])})
