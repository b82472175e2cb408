"""mi import flong|ice: mi data from imputations made elsewhere (R's mice, ice), stacked as
one dataset with an imputation number:

    mi import flong, m(varname) id(varlist) [imputed(varlist) passive(varlist)
                     regular(varlist) clear]
    mi import ice [, imputed(varlist) passive(varlist) regular(varlist) clear]   (m = _mj, id = _mi)

m = 0 holds the original data (missing values where imputed); each m >= 1 the same
observations, matched to m = 0 by id(), with the imputed values. The m() variable is dropped;
the result is flong (mi convert changes the style).
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import mi_data as mid
from hlmshell.commands._toolkit import varlist
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt

_OPTS = (Opt("m", "", "string"), Opt("id", "", "string"), Opt("imputed", "", "string"),
         Opt("passive", "", "string"), Opt("regular", "", "string"), Opt("clear"))


def import_cmd(session, text: str) -> None:
    from hlmshell.commands.mi_setup import parse

    cmd, opts = parse(text, _OPTS)
    kind = cmd.body.strip()
    if kind not in ("flong", "ice"):
        raise StataError("mi import: flong or ice required" if not kind else
                         f"mi import {kind} is not available in hlmshell; use flong or ice", 198)
    if mid.is_set(session.data):
        raise StataError("no; data are mi set", 119)
    if kind == "ice":
        mvar, idvars = "_mj", ["_mi"]
        for v in (mvar, *idvars):
            if v not in session.data:
                raise StataError(f"variable {v} not found", 111)
    else:
        if opts.m is None or opts.id is None:
            raise StataError("options m() and id() required", 198)
        mvar = _one(session, opts.m, "m")
        idvars = varlist(session, opts.id, all_if_empty=False)
    md = _build(session.data, mvar, idvars, kind == "ice")
    roles = {}
    for role in ("imputed", "passive", "regular"):
        raw = opts.raw(role)
        roles[role] = varlist(session, raw, all_if_empty=False) if raw else []
    md.ivars, md.pvars, md.rvars = roles["imputed"], roles["passive"], roles["regular"]
    _take_imputations(session.data, md, mvar, idvars)
    mid.store(session, md)


def _one(session, text: str, name: str) -> str:
    names = varlist(session, text, all_if_empty=False)
    if len(names) != 1:
        raise StataError(f"option {name}() invalid", 198)
    return names[0]


def _keys(ds, idvars, rows):
    cols = [ds.values(v)[rows] for v in idvars]
    return [tuple(str(c[k]) for c in cols) for k in range(len(rows))]


def _build(ds, mvar, idvars, ice: bool) -> mid.MiData:
    mm = ds.values(mvar)
    if np.isnan(mm).any() or np.any(mm != np.trunc(mm)) or mm.min() != 0:
        raise StataError(f"variable {mvar} must be 0, 1, ..., M with m = 0 the original data", 459)
    rows0 = np.flatnonzero(mm == 0)
    keys0 = _keys(ds, idvars, rows0)
    if len(set(keys0)) != len(keys0):
        raise StataError(f"variables {' '.join(idvars)} do not uniquely identify the observations in m=0", 459)
    base = ds.copy()
    base.take(rows0)
    base.drop([mvar] + (idvars if ice else []))
    base.dta_chars = {k: v for k, v in base.dta_chars.items() if not k.startswith("_mi_")}
    M = int(mm.max())
    return mid.MiData(base, M, "flong", imps=[{} for _ in range(M)])


def _take_imputations(ds, md, mvar, idvars) -> None:
    mm = ds.values(mvar)
    rows0 = np.flatnonzero(mm == 0)
    pos = {k: i for i, k in enumerate(_keys(ds, idvars, rows0))}
    for v in md.registered:
        if md.base.var(v).is_string and v in md.ivars:
            raise StataError(f"string variable {v} may not be registered as imputed", 109)
    for m in range(1, md.M + 1):
        rows = np.flatnonzero(mm == m)
        where = np.array([pos.get(k, -1) for k in _keys(ds, idvars, rows)], dtype=int)
        if np.any(where < 0) or len(set(where)) != len(where):
            raise StataError(f"imputation m={m} has observations not in m=0 (or repeated); "
                             "check id()", 459)
        for v in md.registered:
            col = np.array(md.base.values(v), copy=True)
            col[where] = ds.values(v)[rows]
            md.imps[m - 1][v] = col
