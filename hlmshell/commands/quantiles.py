"""xtile and pctile: quantile categories and quantiles of an expression, Stata's way.

    xtile newvar = exp [if] [in] [, nquantiles(#) cutpoints(varname)]
    pctile newvar = exp [if] [in] [, nquantiles(#) genp(newvar)]

Quantiles use summarize's definition (the average of the two order statistics at an exact
position). xtile puts x in category i when p(i-1) < x <= p(i); missing x stays missing.
Handouts cut school SES into quartiles this way before tabulating outcomes.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import percentile, typed_args
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command
from hlmshell.syntax.varlist import expand_varlist

_OPTS = (Opt("nquantiles", "n", "int", None, "number of quantiles; default 2"),)


def _values(session, cmd) -> tuple[str, np.ndarray, np.ndarray]:
    """(new name, values of exp, selected observations with nonmissing exp)."""
    vtype, name, _ = g.parse_target(cmd.body)
    if vtype is not None and g.is_string_type(vtype):
        raise StataError("type mismatch", 109)
    g.check_newname(session, name)
    expr = g.get_exp(cmd)
    mask = g.sample(session, cmd)
    x = np.asarray(g.evaluate_in(expr, session, mask), dtype=object)
    if x.dtype == object and any(isinstance(v, str) for v in x.ravel()[:1]):
        raise StataError("type mismatch", 109)
    x = np.broadcast_to(np.asarray(x, dtype=float), (session.data.n,)).copy()
    return name, x, mask & ~np.isnan(x)


def _nq(opts) -> int:
    nq = 2 if opts.nquantiles is None else int(opts.nquantiles)
    if nq < 2 or nq > 1000:
        raise StataError("nquantiles() must be between 2 and 1,000", 198)
    return nq


def cuts(x_sorted: np.ndarray, nq: int) -> np.ndarray:
    return np.array([percentile(x_sorted, 100.0 * k / nq) for k in range(1, nq)])


@command("xtile", byable=False, qualifiers="if in", body="newvarlist", exp="required",
         family="Data management", desc="create a variable of quantile categories",
         example="xtile sesq = ses, nquantiles(4)",
         options=_OPTS + (Opt("cutpoints", "c", "varlist", None, "cut at the values of this variable"),
                          Opt("altdef", desc="not supported")))
def xtile_cmd(session, cmd):
    opts = typed_args(cmd)
    if opts.altdef:
        raise StataError("option altdef not allowed", 198)
    name, x, ok = _values(session, cmd)
    if opts.cutpoints is not None:
        if opts.nquantiles is not None:
            raise StataError("options nquantiles() and cutpoints() may not be combined", 198)
        cv = expand_varlist(session.data, " ".join(opts.cutpoints))[0]
        c = session.data.var(cv).values.astype(float)
        c = np.sort(c[~np.isnan(c)])
    else:
        if not ok.any():
            raise StataError("no observations", 2000)
        c = cuts(np.sort(x[ok]), _nq(opts))
    cat = np.full(len(x), np.nan)
    cat[ok] = 1 + np.searchsorted(c, x[ok], side="left")
    session.data.add(Variable(name, g.store(cat, "byte" if len(c) < 100 else "int"),
                              "byte" if len(c) < 100 else "int"))


@command("pctile", byable=False, qualifiers="if in", body="newvarlist", exp="required",
         family="Data management", desc="create a variable holding quantiles",
         example="pctile q = ses, nquantiles(4)",
         options=_OPTS + (Opt("genp", "", "string", None, "also store the percentages in this new variable"),
                          Opt("altdef", desc="not supported")))
def pctile_cmd(session, cmd):
    opts = typed_args(cmd)
    if opts.altdef:
        raise StataError("option altdef not allowed", 198)
    name, x, ok = _values(session, cmd)
    if not ok.any():
        raise StataError("no observations", 2000)
    nq = _nq(opts)
    if nq - 1 > session.data.n:
        raise StataError("nquantiles() must be less than or equal to number of observations plus one", 198)
    q = cuts(np.sort(x[ok]), nq)
    genp = opts.genp.strip() if opts.genp else None
    if genp:
        g.check_newname(session, genp)
    col = np.full(session.data.n, np.nan)
    col[:nq - 1] = q
    session.data.add(Variable(name, g.store(col, "float"), "float"))
    if genp:
        p = np.full(session.data.n, np.nan)
        p[:nq - 1] = [100.0 * k / nq for k in range(1, nq)]
        session.data.add(Variable(genp, g.store(p, "float"), "float"))
