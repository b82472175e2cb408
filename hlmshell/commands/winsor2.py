"""winsor2 (Lian Yujun's SSC command, built in): winsorize -- or, with `trim`, trim -- variables at
percentiles, overall or within by() groups.

    winsor2 varlist [if] [in] [, cuts(# #) suffix(str) replace trim by(varlist) label]

Values below the cuts()'s lower percentile (default 1) are set to it and values above the upper
one (default 99) to it; with trim they become missing. The percentiles are Stata's _pctile ones
(an exact position averages two order statistics), over the observations selected by if/in and
not missing. New variables are named varname + suffix (default _w, or _tr with trim) unless
`replace` changes the variables in place; `label` gives them the original variable labels.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.commands.egen import pctile_of
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


def _cuts(opts) -> tuple[float, float]:
    if "cuts" not in opts:
        return 1.0, 99.0
    words = opts.cuts
    try:
        lo, hi = (float(w) for w in words)
    except ValueError:
        raise StataError("option cuts() incorrectly specified", 198) from None
    if not 0 <= lo <= hi <= 100:
        raise StataError("cuts() must be two numbers between 0 and 100, the first not above the second", 198)
    return lo, hi


def _groups(session, by: list[str], use: np.ndarray) -> list[np.ndarray]:
    if not by:
        return [use]
    keys = np.column_stack([k for k in g.sort_keys(session.data, by)])
    out = []
    for key in np.unique(keys[use], axis=0):
        out.append(use & np.all(keys == key, axis=1))
    return out


def winsorized(x: np.ndarray, groups: list[np.ndarray], lo: float, hi: float, trim: bool) -> np.ndarray:
    """x winsorized (or trimmed) at its lo/hi percentiles within each group; other obs missing."""
    out = np.full(len(x), np.nan)
    for mask in groups:
        m = mask & ~np.isnan(x)
        if not m.any():
            continue
        vals = x[m]
        plo, phi = pctile_of(vals, lo), pctile_of(vals, hi)
        if trim:
            vals = np.where((vals < plo) | (vals > phi), np.nan, vals)
        else:
            vals = np.clip(vals, plo, phi)
        out[m] = vals
    return out


@command("winsor2", byable=False, qualifiers="if in", family="Data management", body="varlist",
         desc="winsorize or trim variables at percentiles (SSC winsor2)",
         example="winsor2 ses, cuts(1 99) suffix(_w)",
         options=(Opt("cuts", "c", "numlist", desc="lower and upper percentiles; default cuts(1 99)"),
                  Opt("suffix", "s", "name", desc="suffix of the new variables (default _w, _tr with trim)"),
                  Opt("replace", desc="change the variables in place"),
                  Opt("trim", "t", desc="set values beyond the cuts to missing instead"),
                  Opt("by", type="varlist", desc="percentiles within groups"),
                  Opt("label", "l", desc="give new variables the original labels")))
def winsor2_cmd(session, cmd):
    g.no_weights(cmd)
    opts = typed_args(cmd)
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    ds = session.data
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError(f"{nm}: string variables not allowed", 109)
    if opts.replace and "suffix" in opts:
        raise StataError("options replace and suffix() may not be combined", 198)
    lo, hi = _cuts(opts)
    suffix = opts.suffix or ("_tr" if opts.trim else "_w")
    new = {nm: nm if opts.replace else nm + suffix for nm in names}
    if not opts.replace:
        for nm in names:
            g.check_newname(session, new[nm])
    by = varlist(session, " ".join(opts.by), all_if_empty=False) if "by" in opts else []
    use = g.sample(session, cmd)
    groups = _groups(session, by, use)
    results = {nm: winsorized(np.asarray(ds.values(nm), dtype=float), groups, lo, hi, bool(opts.trim))
               for nm in names}
    for nm in names:
        src = ds.var(nm)
        vals = results[nm]
        if opts.replace:
            keep = ~use
            vals = np.where(keep, np.asarray(src.values, dtype=float), vals)
            ds.put(src.evolve(values=g.store(vals, src.vtype if src.vtype == "double" else "float"),
                              vtype=src.vtype if src.vtype == "double" else "float"))
        else:
            vtype = "double" if src.vtype == "double" else "float"
            ds.add(Variable(new[nm], g.store(vals, vtype), vtype, src.format,
                            label=src.label if opts.label else ""))
    ds.changed = True
