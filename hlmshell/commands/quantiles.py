"""xtile and pctile: quantile categories and quantiles of an expression, Stata's way.

    xtile newvar = exp [if] [in] [, nquantiles(#) cutpoints(varname)]
    pctile newvar = exp [if] [in] [, nquantiles(#) genp(newvar)]
    _pctile varname [if] [in] [weight] [, nquantiles(#) | percentiles(numlist) altdef]

_pctile leaves the quantiles in r(r1), r(r2), ... (trimming outliers at _pctile's r(r1)
and r(r2) with percentiles(1 99) is the do-file idiom); weights follow summarize's weighted
definition and `altdef` interpolates at (N+1)p/100.

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


def cuts(x_sorted: np.ndarray, nq: int, altdef: bool = False) -> np.ndarray:
    if altdef:
        return np.array([altdef_percentile(x_sorted, 100.0 * k / nq) for k in range(1, nq)])
    return np.array([percentile(x_sorted, 100.0 * k / nq) for k in range(1, nq)])


@command("xtile", byable=False, qualifiers="if in", body="newvarlist", exp="required",
         family="Data management", desc="create a variable of quantile categories",
         example="xtile sesq = ses, nquantiles(4)",
         options=_OPTS + (Opt("cutpoints", "c", "varlist", None, "cut at the values of this variable"),
                          Opt("altdef", desc="alternative formula (interpolation at (N+1)p/100)")))
def xtile_cmd(session, cmd):
    opts = typed_args(cmd)
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
        c = cuts(np.sort(x[ok]), _nq(opts), opts.altdef)
    cat = np.full(len(x), np.nan)
    cat[ok] = 1 + np.searchsorted(c, x[ok], side="left")
    session.data.add(Variable(name, g.store(cat, "byte" if len(c) < 100 else "int"),
                              "byte" if len(c) < 100 else "int"))


@command("pctile", byable=False, qualifiers="if in", body="newvarlist", exp="required",
         family="Data management", desc="create a variable holding quantiles",
         example="pctile q = ses, nquantiles(4)",
         options=_OPTS + (Opt("genp", "", "string", None, "also store the percentages in this new variable"),
                          Opt("altdef", desc="alternative formula (interpolation at (N+1)p/100)")))
def pctile_cmd(session, cmd):
    opts = typed_args(cmd)
    name, x, ok = _values(session, cmd)
    if not ok.any():
        raise StataError("no observations", 2000)
    nq = _nq(opts)
    if nq - 1 > session.data.n:
        raise StataError("nquantiles() must be less than or equal to number of observations plus one", 198)
    q = cuts(np.sort(x[ok]), nq, opts.altdef)
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


# ----------------------------------------------------------------------------- _pctile
def altdef_percentile(x_sorted: np.ndarray, p: float) -> float:
    """Stata's altdef: interpolate at position (N+1)p/100, clamped to the extremes."""
    n = len(x_sorted)
    pos = (n + 1) * p / 100.0
    i = int(np.floor(pos))
    if i < 1:
        return float(x_sorted[0])
    if i >= n:
        return float(x_sorted[-1])
    h = pos - i
    return float((1 - h) * x_sorted[i - 1] + h * x_sorted[i])


def _requested(opts) -> list[float]:
    from hlmshell.syntax.numlist import numlist
    if opts.percentiles is not None:
        if opts.nquantiles is not None:
            raise StataError("options nquantiles() and percentiles() may not be combined", 198)
        try:
            ps = numlist(" ".join(opts.percentiles))
        except (ValueError, StataError):
            raise StataError("invalid numlist", 121) from None
        if not ps:
            raise StataError("invalid numlist", 121)
        if any(not 0 <= p <= 100 for p in ps):
            raise StataError("percentiles() must be between 0 and 100", 198)
        return [float(p) for p in ps]
    nq = _nq(opts)
    return [100.0 * k / nq for k in range(1, nq)]


@command("_pctile", byable=False, qualifiers="if in weight", weights="aw fw pw", body="varlist",
         exp="none", changes_data=False, family="Data management",
         desc="quantiles of a variable, returned in r(r1), r(r2), ...",
         example="_pctile ses, percentiles(10 90)",
         options=_OPTS + (Opt("percentiles", "p", "numlist", None, "the percentiles to compute"),
                          Opt("altdef", desc="alternative formula (interpolation)")))
def _pctile_cmd(session, cmd):
    from hlmshell.commands._toolkit import touse, weights
    from hlmshell.results import RResults
    opts = typed_args(cmd)
    names = expand_varlist(session.data, cmd.body or "")
    if len(names) != 1:
        raise StataError("too many variables specified" if names else "varlist required",
                         103 if names else 100)
    var = session.data.var(names[0])
    if var.is_string:
        raise StataError("type mismatch", 109)
    if opts.altdef and cmd.weight is not None:
        raise StataError("altdef may not be combined with weights", 198)
    ps = _requested(opts)
    mask = touse(session, cmd, names)
    w = weights(session, cmd, mask, allowed=("fweight", "aweight", "pweight"))
    if w is not None:
        mask &= w > 0
    x = np.asarray(var.values, dtype=float)[mask]
    if x.size == 0:
        raise StataError("no observations", 2000)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], None if w is None else np.asarray(w, dtype=float)[mask][order]
    if opts.altdef:
        vals = [altdef_percentile(xs, p) for p in ps]
    else:
        vals = [percentile(xs, p, ws) for p in ps]
    session.r = RResults(scalars={f"r{k}": v for k, v in enumerate(vals, 1)})
