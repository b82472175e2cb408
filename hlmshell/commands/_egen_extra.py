"""egen functions beyond group statistics: concat(), anycount(), anymatch(), cut(), seq(),
fill(), pc() and mode(), as Stata 17's _gconcat, _ganycount, _ganymatch, _gcut, _gseq, _gfill,
_gpc and _gmode compute them. Pure numpy helpers; egen.py parses and stores."""
from __future__ import annotations

import math

import numpy as np

from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt, fmt_g


def _string_of(x: float, spec: str | None) -> str:
    """Stata's string(x) (%12.0g trimmed) or string(x, fmt)."""
    if np.isnan(x):
        return "."
    if spec:
        return fmt(float(x), spec).strip()
    return fmt_g(float(x), 12).strip()


def concat_values(columns, touse, punct: str = "", maxlength: int | None = None) -> np.ndarray:
    """concat(): each observation's texts (already strings, one list per variable) joined by
    punct; "" outside the sample."""
    n = len(touse)
    out = np.empty(n, dtype=object)
    for i in range(n):
        if not touse[i]:
            out[i] = ""
            continue
        s = punct.join(col[i] for col in columns)
        if maxlength is not None:
            s = s.encode("utf-8")[:maxlength].decode("utf-8", errors="ignore")
        out[i] = s
    return out


def concat_column(ds, var, spec: str | None, decode: bool) -> list[str]:
    """One variable's texts for concat(): strings as they are, numbers by string() or the
    format() given, or their value labels with decode."""
    if var.is_string:
        return [str(v) for v in var.values]
    labs = ds.value_labels.get(var.vallab or "", {}) if decode else {}
    out = []
    for x in var.values:
        lab = labs.get(float(x)) if not np.isnan(x) else None
        out.append(lab if lab is not None else _string_of(x, spec))
    return out


def anycount_values(mat: np.ndarray, values: list[float], touse) -> np.ndarray:
    """anycount(): how many of the variables equal one of values (missing outside touse)."""
    hit = np.isin(mat, np.asarray(values, dtype=float)) & ~np.isnan(mat)
    out = hit.sum(axis=1).astype(float)
    out[~touse] = np.nan
    return out


def anymatch_values(mat: np.ndarray, values: list[float], touse) -> np.ndarray:
    counts = anycount_values(mat, values, touse)
    return np.where(np.isnan(counts), np.nan, (counts > 0).astype(float))


def cut_points(x: np.ndarray, touse, at: list[float] | None, groups: int | None) -> list[float]:
    """The interval boundaries: at() as given (sorted), or group(#)'s equal-frequency cuts:
    the sorted sample's values at positions floor(i*n/#) (i = 1..#-1), between its minimum
    and its maximum + 1 (as _gcut does)."""
    if at is not None:
        pts = sorted(float(a) for a in at)
        if len(pts) < 2:
            raise StataError("at() must have at least two numbers", 198)
        return pts
    v = np.sort(x[touse & ~np.isnan(x)])
    if groups is None or groups < 1:
        raise StataError("at() or group() must be specified", 198)
    if v.size == 0:
        raise StataError("no observations", 2000)
    n = v.size
    inner = [float(v[int(math.floor(i * n / groups))]) for i in range(1, groups)]
    return [float(v[0])] + inner + [float(v[-1]) + 1.0]


def cut_values(x: np.ndarray, touse, pts: list[float], icodes: bool) -> np.ndarray:
    """Each value's interval [pts[j], pts[j+1]): its left end, or j with icodes; values
    outside [pts[0], pts[-1]) and outside the sample are missing."""
    a = np.asarray(pts, dtype=float)
    j = np.searchsorted(a, x, side="right") - 1
    ok = touse & ~np.isnan(x) & (j >= 0) & (j < len(a) - 1)
    jj = np.clip(j, 0, len(a) - 1)
    res = jj.astype(float) if icodes else a[jj]
    return np.where(ok, res, np.nan)


def cut_labels(pts: list[float], icodes: bool) -> dict[float, str]:
    """cut()'s label option: each interval's code labelled `left-`."""
    return {(float(j) if icodes else float(p)): f"{fmt_g(p, 9).strip()}-"
            for j, p in enumerate(pts[:-1])}


def seq_values(codes, touse, n_obs: int, start: float, stop: float | None, block: int) -> np.ndarray:
    """seq(): within each group (in the current order) from, from+1, ... (each value block
    times), cycling back to from after to; descending when to < from."""
    out = np.full(n_obs, np.nan)
    idx = np.flatnonzero(touse)
    if not idx.size:
        return out
    c = codes[idx]
    order = idx[np.argsort(c, kind="stable")]
    cs = codes[order]
    newg = np.r_[True, cs[1:] != cs[:-1]]
    gstart = np.maximum.accumulate(np.where(newg, np.arange(len(order)), 0))
    k = (np.arange(len(order)) - gstart) // block
    if stop is None:
        vals = start + k
    elif stop >= start:
        vals = start + k % (stop - start + 1)
    else:
        vals = start - k % (start - stop + 1)
    out[order] = vals
    return out


def fill_values(pattern: list[float], n_obs: int) -> np.ndarray:
    """fill(numlist): the pattern continued (1 2 -> 1 2 3 ...; 1 1 2 2 -> 1 1 2 2 3 3 ...;
    a constant or a repeated block repeats)."""
    p = [float(v) for v in pattern]
    if not p:
        raise StataError("invalid numlist", 121)
    if len(p) == 1:
        return np.full(n_obs, p[0])
    # the run length: how often the first value repeats at the start
    r = 1
    while r < len(p) and p[r] == p[0]:
        r += 1
    if r == len(p):
        return np.full(n_obs, p[0])
    step = p[r] - p[0]
    pos = np.arange(n_obs)
    if all(p[i] == p[0] + (i // r) * step for i in range(len(p))):
        return p[0] + (pos // r) * step
    # not an arithmetic progression: repeat the whole list
    return np.asarray(p)[pos % len(p)]


def pc_values(x: np.ndarray, touse, codes, prop: bool) -> np.ndarray:
    """pc(): 100 * x / the group's total of x (prop: the fraction)."""
    ok = touse & ~np.isnan(x)
    tot = np.zeros(int(codes.max()) + 1 if len(codes) else 1)
    np.add.at(tot, codes[ok], x[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        res = x / tot[codes] * (1.0 if prop else 100.0)
    return np.where(ok, res, np.nan)


def mode_values(values, touse, codes, *, how: str = "", nummode: int = 1, missing: bool = False):
    """mode(): each group's most frequent value; ties give missing unless minmode, maxmode
    or nummode(#) (the #th mode in ascending order) choose. Strings keep their type."""
    is_str = values.dtype == object
    miss = (values == "") if is_str else np.isnan(values.astype(float))
    ok = touse if missing else touse & ~miss
    out = np.full(len(values), "" if is_str else np.nan, dtype=object if is_str else float)
    for code in np.unique(codes[ok]):
        members = ok & (codes == code)
        vals, counts = np.unique(values[members].astype(object if is_str else float),
                                 return_counts=True)
        if is_str:
            vals = np.asarray(vals, dtype=object)
        top = vals[counts == counts.max()]
        choice = _choose_mode(top, how, nummode)
        if choice is not None:
            out[touse & (codes == code)] = choice
    return out


def _choose_mode(top, how: str, nummode: int):
    if how == "minmode":
        return top[0]
    if how == "maxmode":
        return top[-1]
    if how == "nummode":
        return top[nummode - 1] if 1 <= nummode <= len(top) else None
    return top[0] if len(top) == 1 else None
