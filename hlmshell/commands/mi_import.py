"""mi import flong|ice|wide: mi data from imputations made elsewhere (R's mice, ice, PISA's
plausible values), stacked as one dataset with an imputation number, or side by side:

    mi import flong, m(varname) id(varlist) [imputed(varlist) passive(varlist)
                     regular(varlist) clear]
    mi import ice [, imputed(varlist) passive(varlist) regular(varlist) clear]   (m = _mj, id = _mi)

m = 0 holds the original data (missing values where imputed); each m >= 1 the same
observations, matched to m = 0 by id(), with the imputed values. The m() variable is dropped;
the result is flong (mi convert changes the style).

    mi import wide, imputed(x = x1 x2 x3  y = y1 . y3) [passive(mvlist) dupsok drop clear]

x holds m = 0 and x1, x2, x3 imputations 1 to 3 (`.`: that imputation has none, so it keeps
m = 0's values); every variable needs the same number of imputations. The result is mi set
wide; `drop` drops x1 x2 x3 afterwards (otherwise they stay, unregistered).
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import mi_data as mid
from hlmshell.commands._toolkit import varlist
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt

_OPTS = (Opt("m", "", "string"), Opt("id", "", "string"), Opt("imputed", "", "string"),
         Opt("passive", "", "string"), Opt("regular", "", "string"), Opt("clear"),
         Opt("dupsok"), Opt("drop"))


def import_cmd(session, text: str) -> None:
    from hlmshell.commands.mi_setup import parse

    cmd, opts = parse(text, _OPTS)
    kind = cmd.body.strip()
    if kind not in ("flong", "ice", "wide"):
        raise StataError("mi import: flong, ice or wide required" if not kind else
                         f"mi import {kind} is not available in hlmshell; use flong, ice or wide", 198)
    if mid.is_set(session.data):
        raise StataError("no; data are mi set", 119)
    if kind == "wide":
        _import_wide(session, opts)
        return
    for name in ("dupsok", "drop"):
        if name in opts:
            raise StataError(f"option {name} not allowed", 198)
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


# ----------------------------------------------------------------------------- wide
def _mvlist(session, text: str) -> list[tuple[str, list[str | None]]]:
    """`x = x1 x2 x3 y = y1 . y3` -> [(x, [x1, x2, x3]), (y, [y1, None, y3])]."""
    from hlmshell.syntax.varlist import expand_varlist
    ds = session.data
    toks = text.replace("=", " = ").split()
    out: list[tuple[str, list[str | None]]] = []
    k = 0
    while k < len(toks):
        if k + 1 >= len(toks) or toks[k + 1] != "=" or toks[k] == "=":
            raise syntax_error()
        target = expand_varlist(ds, toks[k])
        if len(target) != 1:
            raise syntax_error()
        k += 2
        sources: list[str | None] = []
        while k < len(toks) and toks[k] != "=" and not (k + 1 < len(toks) and toks[k + 1] == "="):
            sources.extend([None] if toks[k] == "." else expand_varlist(ds, toks[k]))
            k += 1
        if not sources:
            raise syntax_error()
        out.append((target[0], sources))
    return out


def _check_wide(ds, groups, opts) -> int:
    """M, after Stata's checks: the same number of imputations for every variable, no target
    twice, no source posted twice unless dupsok, no string variable imputed."""
    pairs = groups["imputed"] + groups["passive"]
    counts = {len(src) for _, src in pairs}
    if len(counts) > 1:
        raise StataError("the same number of imputations must be specified for each variable", 198)
    targets = [t for t, _ in pairs]
    twice = [t for t in targets if targets.count(t) > 1]
    if twice:
        raise StataError(f"variable {twice[0]} specified twice", 198)
    posted = [v for _, src in pairs for v in src if v is not None]
    again = [v for v in posted if posted.count(v) > 1]
    if again and not opts.dupsok:
        raise StataError(f"variable {again[0]} posted more than once; specify dupsok if that is "
                         "what you want", 198)
    for t, src in groups["imputed"]:
        if any(ds.var(v).is_string for v in [t] + [v for v in src if v]):
            raise StataError(f"string variable {t} may not be registered as imputed", 109)
    return counts.pop() if counts else 0


def _import_wide(session, opts) -> None:
    for name in ("m", "id", "regular"):
        if opts.raw(name) is not None:
            raise StataError(f"option {name}() not allowed", 198)
    ds = session.data
    groups = {role: _mvlist(session, opts.raw(role)) if opts.raw(role) else []
              for role in ("imputed", "passive")}
    M = _check_wide(ds, groups, opts)
    pairs = groups["imputed"] + groups["passive"]
    targets = [t for t, _ in pairs]
    base = ds.copy()
    base.dta_chars = {k: v for k, v in base.dta_chars.items() if not k.startswith("_mi_")}
    imps: list[dict] = [{} for _ in range(M)]
    for t, src in pairs:
        for m, v in enumerate(src):
            imps[m][t] = np.array(ds.values(v if v is not None else t), copy=True)
    if opts.drop:
        posted = [v for _, src in pairs for v in src if v is not None]
        base.drop([v for v in dict.fromkeys(posted) if v not in targets])
    md = mid.MiData(base, M, "wide", ivars=[t for t, _ in groups["imputed"]],
                    pvars=[t for t, _ in groups["passive"]], imps=imps)
    mid.store(session, md)
