"""The rest of Stata's function library: recoding (recode(), irecode(), autocode()), chop()
and clip(), digamma()/trigamma(), fmtwidth(), and the file functions fileexists(),
fileread(), filereaderror() and filewrite().

filewrite() goes through data.atomic like every file hlmshell writes: the new content (the
old plus the new for append) replaces the file only once fully written. The file functions
report failures as Stata does, in their result: fileread() returns "fileread() error #" and
filereaderror() turns that back into #; filewrite() returns the bytes written or -#."""
from __future__ import annotations

import os
import re

import numpy as np

from hlmshell.errors import StataError
from hlmshell.syntax.function_args import clean, nargs, num, numeric_fn, sval


def _flat(args):
    vals = [np.asarray(num(a), dtype=float) for a in args]
    shape = np.broadcast_shapes(*[v.shape for v in vals])
    return [np.broadcast_to(v, shape) for v in vals], shape


def _cuts(args):
    """x and its cut points (missing = +infinity, Stata's order), and where they increase."""
    (x, *cuts), shape = _flat(args)
    C = np.stack([np.where(np.isnan(c), np.inf, c) for c in cuts]) if cuts else np.zeros((0,) + shape)
    with np.errstate(all="ignore"):
        inc = np.all(np.diff(C, axis=0) >= 0, axis=0) if len(cuts) > 1 else np.ones(shape, dtype=bool)
    return x, cuts, C, inc, shape


def _out(r):
    r = np.asarray(r, dtype=float)
    return clean(r if r.ndim else float(r))


def _recode(ev, args):
    """recode(x, x1, ..., xn): x1 if x <= x1, x2 if x <= x2, ..., xn otherwise; x if missing."""
    if len(args) < 2:
        raise StataError("invalid syntax", 198)
    x, cuts, C, inc, _ = _cuts(args)
    k = np.minimum(np.sum(C < x[None, ...], axis=0), len(cuts) - 1)
    chosen = np.take_along_axis(np.stack(cuts), k[None, ...].astype(np.int64), axis=0)[0]
    r = np.where(np.isnan(x), x, chosen)
    return _out(np.where(inc, r, np.nan))


def _irecode(ev, args):
    """irecode(x, x1, ..., xn): 0 if x <= x1, 1 if x1 < x <= x2, ..., n if x > xn."""
    if len(args) < 2:
        raise StataError("invalid syntax", 198)
    x, _, C, inc, _ = _cuts(args)
    k = np.sum(C < x[None, ...], axis=0).astype(float)
    return _out(np.where(inc & ~np.isnan(x), k, np.nan))


def _autocode(x, n, lo, hi):
    """The upper end of the one of n equal intervals of [lo, hi] that holds x (the first or
    last interval for x outside)."""
    ok = np.isfinite(x) & np.isfinite(n) & np.isfinite(lo) & np.isfinite(hi) & (n >= 1) & (lo < hi)
    n = np.floor(n)
    width = (hi - lo) / n
    k = np.clip(np.ceil((x - lo) / width), 1, n)
    return np.where(ok, np.where(k >= n, hi, lo + k * width), np.nan)


def _chop(x, eps):
    r = np.round(x)
    return np.where(np.isnan(eps), x, np.where(np.abs(x - r) < eps, r, x))


def _clip(x, a, b):
    lo = np.where(np.isnan(a), -np.inf, a)
    hi = np.where(np.isnan(b), np.inf, b)
    return np.where(np.isnan(x) | (lo > hi), np.nan, np.clip(x, lo, hi))


def _digamma(x):
    import scipy.special

    return np.where((x <= 0) & (x == np.floor(x)), np.nan, scipy.special.psi(x))


def _trigamma(x):
    import scipy.special

    return np.where((x <= 0) & (x == np.floor(x)), np.nan, scipy.special.polygamma(1, x))


def _fmtwidth_one(spec: str) -> float:
    from hlmshell.output.datefmt import check_time_format, fmt_time, is_time_format

    s = spec.strip()
    m = re.fullmatch(r"%(-|~)?0?(\d+)(?:\.(\d+))?(gc?|fc?|e|s|x|H|L|8\.0b)", s)
    if m and not (m.group(4) == "s" and m.group(3)):
        return float(int(m.group(2)))
    if is_time_format(s):
        try:
            check_time_format(s)
            return float(len(fmt_time(0.0, s)))
        except (ValueError, KeyError, IndexError):
            return float("nan")
    return float("nan")


def _fmtwidth(ev, args):
    nargs(args, 1)
    s = sval(args[0])
    if isinstance(s, np.ndarray):
        return np.array([_fmtwidth_one(t) for t in s], dtype=float)
    return _fmtwidth_one(s)


# ----------------------------------------------------------------------------- files
def _scalar_str(v) -> str:
    v = sval(v)
    return str(np.ravel(np.asarray(v, dtype=object))[0]) if isinstance(v, np.ndarray) else v


def _path(name: str) -> str:
    return os.path.expanduser(name)


def _fileexists(ev, args):
    nargs(args, 1)
    return 1.0 if os.path.isfile(_path(_scalar_str(args[0]))) else 0.0


def _read_error(exc: OSError) -> int:
    import errno

    return 601 if exc.errno in (errno.ENOENT, errno.ENOTDIR) else 603 if exc.errno in (
        errno.EACCES, errno.EPERM, errno.EISDIR) else 692


def _fileread(ev, args):
    nargs(args, 1)
    name = _path(_scalar_str(args[0]))
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return f"fileread() error {_read_error(exc)}"
    return data.decode("utf-8", "surrogateescape")


def _filereaderror(ev, args):
    nargs(args, 1)

    def one(s):
        m = re.fullmatch(r"fileread\(\) error (\d+)", s)
        return float(m.group(1)) if m else 0.0

    s = sval(args[0])
    if isinstance(s, np.ndarray):
        return np.array([one(t) for t in s], dtype=float)
    return one(s)


def _filewrite(ev, args):
    """filewrite(f, s[, r]): r 1 replaces, 2 appends; without r an existing f is -602."""
    from hlmshell.data.atomic import atomic_write

    nargs(args, 2, 3)
    name = _path(_scalar_str(args[0]))
    text = _scalar_str(args[1])
    r = np.ravel(np.asarray(num(args[2]), dtype=float))[0] if len(args) == 3 else np.nan
    exists = os.path.exists(name)
    if exists and r not in (1.0, 2.0):
        return -602.0
    data = text.encode("utf-8", "surrogateescape")
    try:
        old = b""
        if exists and r == 2.0:
            with open(name, "rb") as fh:
                old = fh.read()
        with atomic_write(name, shown=name) as fh:
            fh.write(old + data)
    except StataError as exc:
        return -float(exc.rc)
    except OSError as exc:
        return -float(_read_error(exc))
    return float(len(data))


MISC_FUNCTIONS = {
    "recode": _recode, "irecode": _irecode, "autocode": numeric_fn(4, _autocode),
    "chop": numeric_fn(2, _chop), "clip": numeric_fn(3, _clip),
    "digamma": numeric_fn(1, _digamma), "trigamma": numeric_fn(1, _trigamma),
    "fmtwidth": _fmtwidth, "fileexists": _fileexists, "fileread": _fileread,
    "filereaderror": _filereaderror, "filewrite": _filewrite,
}
