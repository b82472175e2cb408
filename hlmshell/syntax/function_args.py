"""What every expression function needs: argument checks (count, number or string), and
Stata's rule that a non-finite result is missing. Kept apart from functions.py so the
function families in their own modules (functions_dist, functions_dates, ...) can share them
without importing the table that registers them."""
from __future__ import annotations

import math
import warnings

import numpy as np

from hlmshell.errors import StataError


def is_str(v) -> bool:
    return isinstance(v, str) or (isinstance(v, np.ndarray) and v.dtype == object)


def num(v, fname: str = ""):
    if is_str(v):
        raise StataError("type mismatch", 109)
    if isinstance(v, np.ndarray):
        return v.astype(np.float64, copy=False)
    return float(v)


def sval(v):
    if not is_str(v):
        raise StataError("type mismatch", 109)
    return v


def clean(x):
    """inf / -inf (overflow, x/0) become Stata's missing '.'."""
    if isinstance(x, np.ndarray):
        if x.dtype != object:
            x = np.where(np.isfinite(x), x, np.nan)   # also drops .a-.z payloads: result is '.'
        return x
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return float("nan") if not math.isfinite(x) else x
    if isinstance(x, (np.bool_, bool, int, np.integer)):
        return float(x)
    return x


def str_map(fn, v):
    if isinstance(v, np.ndarray):
        return np.array([fn(s) for s in v], dtype=object)
    return fn(v)


def nargs(args, lo, hi=None):
    hi = lo if hi is None else hi
    if not (lo <= len(args) <= (hi if hi >= 0 else 10 ** 6)):
        raise StataError("invalid syntax", 198)


def vectorised(fn, n_args):
    def f(ev, args):
        nargs(args, n_args)
        vals = [num(a) for a in args]
        with np.errstate(all="ignore"):
            r = fn(*[np.asarray(v, dtype=float) for v in vals])
        r = np.asarray(r, dtype=float)
        return clean(r if r.ndim else float(r))

    return f


def _call(impl, args):
    vals = [np.asarray(num(a), dtype=float) for a in args]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = np.asarray(impl(*vals), dtype=float)
        except (OverflowError, ZeroDivisionError, SystemError):     # SystemError: boost's overflow
            r = _one_by_one(impl, vals)
    return clean(r if r.ndim else float(r))


def _one_by_one(impl, vals):
    """impl observation by observation, where a library raised for some argument (boost's
    overflow in scipy, say): those observations are missing, the others computed."""
    arrs = np.broadcast_arrays(*vals)
    out = np.full(arrs[0].shape, np.nan)
    for idx in np.ndindex(out.shape):
        try:
            out[idx] = float(impl(*[a[idx] for a in arrs]))
        except (OverflowError, ZeroDivisionError, SystemError):
            pass
    return out


def numeric_fn(n_args, impl):
    """A function of exactly n_args numeric arguments computed by impl(*float arrays)."""
    def f(ev, args):
        nargs(args, n_args)
        return _call(impl, args)

    return f


def numeric_fn_opt(lo, hi, impl):
    """A function of lo..hi numeric arguments: impl receives them all (it knows the count)."""
    def f(ev, args):
        nargs(args, lo, hi)
        return _call(impl, args)

    return f
