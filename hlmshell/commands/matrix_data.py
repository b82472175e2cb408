"""svmat and mkmat: between matrices and variables.

    svmat [type] A [, names(col | eqcol | matcol | stub)]
    mkmat varlist [if] [in] [, matrix(name) nomissing rownames(varname) rowprefix(string) obs]

Do-files turn a matrix of estimates into variables to plot or list them (`svmat b, names(col)`)
and take variables into a matrix for a small computation. Stata's naming: svmat's default
variables are A1, A2, ...; names(col) uses the column names, names(eqcol) eq_name, names(matcol)
A + column name, any other word is a stub (stub1, stub2, ...). The data are extended with
missing values when the matrix has more rows than there are observations.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import touse, varlist
from hlmshell.commands.program import NamedMatrix
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt, command
from hlmshell.syntax import matrix_expr as mx

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")


def _clean(name: str) -> str:
    """A column name made a variable name (Stata replaces what is not allowed with _)."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not out or out[0].isdigit():
        out = "_" + out
    return out[:32]


def _svmat_names(mat: str, m: mx.Mat, how: str | None) -> list[str]:
    if how is None:
        return [f"{mat}{j + 1}" for j in range(m.shape[1])]
    how = how.strip()
    if how == "col":
        return [_clean(c.split(":")[-1]) for c in m.cols]
    if how == "eqcol":
        return [_clean(c.replace(":", "_")) for c in m.cols]
    if how == "matcol":
        return [_clean(mat + c.split(":")[-1]) for c in m.cols]
    if not _NAME.fullmatch(how):
        raise StataError(f"{how} invalid name", 198)
    return [f"{how}{j + 1}" for j in range(m.shape[1])]


@command("svmat", raw=True, byable=False, family="Programming",
         desc="save a matrix as variables", example="svmat b, names(col)")
def svmat_cmd(session, cmd):
    text = (cmd.body or "").strip()
    main, _, opts = text.partition(",")
    words = main.split()
    vtype = "float"
    if words and words[0] in ("float", "double"):
        vtype = words.pop(0)
    if len(words) != 1:
        raise syntax_error()
    how = None
    if opts.strip():
        m = re.fullmatch(r"\s*n(?:a|am|ame|ames)?\(\s*(\w+)\s*\)\s*", opts)
        if not m:
            raise StataError(f"option {opts.strip().split('(')[0]} not allowed", 198)
        how = m.group(1)
    mat = mx.lookup(session, words[0])
    names = _svmat_names(words[0], mat, how)
    ds = session.data
    for nm in names:
        if nm in ds:
            raise StataError(f"variable {nm} already defined", 110)
    if len(set(names)) != len(names):
        raise StataError("variable names not unique; specify names()", 110)
    rows = mat.shape[0]
    if rows > ds.n:
        ds.set_obs(rows)
    n = ds.n
    for j, nm in enumerate(names):
        col = np.full(n, np.nan)
        col[:rows] = mat.values[:, j]
        ds.add(Variable(nm, g.store(col, vtype), vtype))
    ds.changed = True


@command("mkmat", byable=False, qualifiers="if in", body="varlist", changes_data=False,
         family="Programming", desc="make a matrix from variables", example="mkmat x y, matrix(XY)",
         options=(Opt("matrix", "mat", "string", None, "one matrix holding all the variables"),
                  Opt("nomissing", "nomiss", "flag", False, "leave out observations with missing values"),
                  Opt("rownames", "rown", "string", None, "variable giving the row names"),
                  Opt("rowprefix", "rowp", "string", None, "prefix of the row names"),
                  Opt("obs", "obs", "flag", False, "row names obs#")))
def mkmat_cmd(session, cmd):
    from hlmshell.commands._toolkit import typed_args
    o = typed_args(cmd)
    ds = session.data
    names = varlist(session, cmd.body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    if any(ds.var(n).is_string for n in names):
        raise StataError("type mismatch", 109)
    mask = touse(session, cmd)
    cols = np.column_stack([np.asarray(ds.var(n).values, float) for n in names])
    if o.nomissing:
        mask = mask & ~np.isnan(cols).any(axis=1)
    idx = np.flatnonzero(mask)
    vals = cols[idx]
    if o.rownames:
        rv = ds.var(o.rownames.strip())
        rows = [str(x if rv.is_string else g_num(x)).replace(" ", "_") for x in np.asarray(rv.values)[idx]]
    elif o.obs:
        rows = [f"obs{i + 1}" for i in idx]
    else:
        prefix = (o.rowprefix or "r").strip()
        rows = [f"{prefix}{k + 1}" for k in range(len(idx))]
    if o.matrix:
        name = o.matrix.strip()
        if not _NAME.fullmatch(name):
            raise StataError(f"{name} invalid name", 198)
        session.matrices[name] = NamedMatrix(vals.reshape(len(idx), len(names)), rows, names)
        return
    for j, nm in enumerate(names):
        session.matrices[nm] = NamedMatrix(vals[:, j:j + 1], rows, [nm])


def g_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
