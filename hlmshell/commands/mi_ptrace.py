"""Trace files of mi impute: the parameter trace of `mvn, saveptrace()` (B and Sigma at every
iteration of the data-augmentation chain) and the summaries of `chained, savetrace()` (mean and
standard deviation of each variable's imputed values per iteration), for convergence plots.

    mi ptrace describe filename        mi ptrace use filename [, clear]

A .stptrace file here is an ordinary .dta file (Stata's own is a different binary format, not
read): variables m, iter, b_y#x# (coefficient of x# in the equation of y#; the constant is the
last x) and v_y#y# (the covariances, lower triangle).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hlmshell.data.dataset import Dataset, Variable
from hlmshell.errors import StataError, syntax_error


def mvn_trace(run, spec) -> Dataset:
    ds = Dataset()
    its = run.trace
    ds.add(Variable("m", np.array([t[1] for t in its], dtype=float), "int"))
    ds.add(Variable("iter", np.array([t[0] for t in its], dtype=float), "long"))
    if not its:
        return ds
    q, p = its[0][2].shape
    for j in range(p):
        for i in range(q):
            ds.add(Variable(f"b_y{j + 1}x{i + 1}", np.array([t[2][i, j] for t in its]), "double"))
    for j in range(p):
        for i in range(j, p):
            ds.add(Variable(f"v_y{i + 1}y{j + 1}", np.array([t[3][i, j] for t in its]), "double"))
    ds.dta_chars = {"ivars": " ".join(spec.ivars), "xvars": " ".join(spec.indep + ["_cons"])}
    return ds


def chained_trace(run, spec) -> Dataset:
    ds = Dataset()
    its = run.trace
    ds.add(Variable("iter", np.array([t[1] for t in its], dtype=float), "int"))
    ds.add(Variable("m", np.array([t[0] for t in its], dtype=float), "int"))
    for j, v in enumerate(spec.ivars):
        ds.add(Variable(f"{v}_mean"[:32], np.array([t[2][j] for t in its]), "double"))
        ds.add(Variable(f"{v}_sd"[:32], np.array([t[3][j] for t in its]), "double"))
    return ds


def _path(text: str) -> str:
    name = text.strip().strip('"')
    if not name:
        raise syntax_error()
    if not Path(name).suffix:
        name += ".stptrace"
    if not Path(name).exists():
        raise StataError(f"file {name} not found", 601)
    return name


def ptrace_cmd(session, text: str) -> None:
    from hlmshell.commands.mi_setup import parse
    from hlmshell.data.dta import read_dta
    from hlmshell.registry import Opt

    word, _, rest = text.partition(" ")
    cmd, opts = parse(rest, (Opt("clear"),))
    if word not in ("describe", "d", "de", "des", "desc", "use"):
        raise StataError("mi ptrace: describe or use required", 198)
    ds = read_dta(_path(cmd.body))
    if word == "use":
        from hlmshell.commands.files import check_can_replace_data
        check_can_replace_data(session, opts.clear)
        ds.filename = None
        session.data = ds
        return
    its = ds.values("iter") if "iter" in ds else np.array([])
    out = session.out
    out.line()
    out.line(f"  file {cmd.body.strip()}")
    out.line(f"    imputed variables: {ds.dta_chars.get('ivars', '')}")
    out.line(f"    predictors:        {ds.dta_chars.get('xvars', '')}")
    out.line(f"    iterations:        {len(its):,}")
