"""Stata's expression functions, vectorised with numpy (missing = NaN, '' = missing string)."""
from __future__ import annotations

import math
import re
import warnings

import numpy as np

from hlmshell import distributions as dist
from hlmshell.data.missing import missing_str, order_key, parse_missing
from hlmshell.errors import StataError
from hlmshell.limits import MAX_STRLEN
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.syntax.lexer import tokens


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


def _str_map(fn, v):
    if isinstance(v, np.ndarray):
        return np.array([fn(s) for s in v], dtype=object)
    return fn(v)


def _num1(fn):
    def f(ev, args):
        _nargs(args, 1, 1)
        with np.errstate(all="ignore"):
            return clean(fn(num(args[0])))

    return f


def _nargs(args, lo, hi=None):
    hi = lo if hi is None else hi
    if not (lo <= len(args) <= (hi if hi >= 0 else 10 ** 6)):
        raise StataError("invalid syntax", 198)


def _round(ev, args):
    _nargs(args, 1, 2)
    x = num(args[0])
    y = num(args[1]) if len(args) == 2 else 1.0
    with np.errstate(all="ignore"):
        r = np.floor(np.asarray(x) / y + 0.5) * y
        return clean(r if isinstance(r, np.ndarray) and r.ndim else float(r))


def _int(ev, args):
    _nargs(args, 1)
    return clean(np.trunc(num(args[0])))


def _float(ev, args):
    """Stata's float(): the value rounded to float precision, as a float variable would hold it."""
    _nargs(args, 1)
    x = num(args[0])
    with np.errstate(all="ignore"):
        return clean(np.where(np.isnan(x), x, np.asarray(x, dtype=np.float32).astype(np.float64)))


def _mod(ev, args):
    _nargs(args, 2)
    x, y = num(args[0]), num(args[1])
    with np.errstate(all="ignore"):
        r = np.asarray(x) - np.asarray(y) * np.floor(np.asarray(x) / np.asarray(y))
        r = np.where(np.asarray(y) == 0, np.nan, r)
    return clean(r if r.ndim else float(r))


def _minmax(which):
    def f(ev, args):
        if not args:
            raise StataError("invalid syntax", 198)
        vals = [num(a) for a in args]
        arr = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in vals])
        st = np.vstack([a.reshape(1, -1) for a in arr]) if arr[0].ndim else np.array([[float(a)] for a in arr])
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            r = np.nanmin(st, axis=0) if which == "min" else np.nanmax(st, axis=0)
        return r if arr[0].ndim else float(r[0])

    return f


def _sum(ev, args):
    """Running sum (gen's sum()): missing counts as 0; restarts in each by-group."""
    _nargs(args, 1)
    x = num(args[0])
    n = ev.n
    x = np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()
    x = np.where(np.isnan(x), 0.0, x)
    c = np.cumsum(x)
    if ev.groups is not None and n:
        start = ev.group_start()
        before = np.where(start > 0, c[np.maximum(start - 1, 0)], 0.0)
        c = c - before
    return clean(c)     # a running sum past 1e308 is missing, not inf


def _missing(ev, args):
    if not args:
        raise StataError("invalid syntax", 198)
    out = None
    for a in args:
        m = (np.asarray(a, dtype=object) == "") if is_str(a) else np.isnan(np.asarray(a, dtype=float))
        out = m if out is None else (out | m)
    return clean(out.astype(float) if isinstance(out, np.ndarray) and out.ndim else float(out))


def _eq(a, b):
    if is_str(a) != is_str(b):
        raise StataError("type mismatch", 109)
    if is_str(a):
        return np.asarray(a, dtype=object) == np.asarray(b, dtype=object)
    return order_key(a) == order_key(b)


def _inlist(ev, args):
    if len(args) < 2:
        raise StataError("invalid syntax", 198)
    z = args[0]
    out = None
    for a in args[1:]:
        m = _eq(z, a)
        out = m if out is None else (out | m)
    out = np.asarray(out)
    return out.astype(float) if out.ndim else float(out)


def _inrange(ev, args):
    _nargs(args, 3)
    z, a, b = args
    if is_str(z):
        za, aa, ba = (np.asarray(v, dtype=object) for v in (z, sval(a), sval(b)))
        r = (aa <= za) & (za <= ba)
    else:
        z, a, b = (np.asarray(num(v), dtype=float) for v in (z, a, b))
        lo = np.where(np.isnan(a), -np.inf, a)
        hi = np.where(np.isnan(b), np.inf, b)
        r = ~np.isnan(z) & (lo <= z) & (z <= hi)
    r = np.asarray(r)
    return r.astype(float) if r.ndim else float(r)


def _cond(ev, args):
    _nargs(args, 3, 4)
    x = num(args[0])
    a, b = args[1], args[2]
    if is_str(a) != is_str(b) or (len(args) == 4 and is_str(args[3]) != is_str(a)):
        raise StataError("type mismatch", 109)
    xa = np.asarray(x, dtype=float)
    true = (xa != 0)
    dtype = object if is_str(a) else float
    r = np.where(true, np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype))
    if len(args) == 4:
        r = np.where(np.isnan(xa), np.asarray(args[3], dtype=dtype), r)
    if isinstance(r, np.ndarray) and r.ndim == 0:
        return r.item() if dtype is object else float(r)
    return r


def _real(ev, args):
    _nargs(args, 1)

    def conv(s):
        try:
            s2 = s.strip()
            if s2 == "" or s2.lower() in ("nan", "inf", "-inf", "infinity"):
                return float("nan")
            if s2.startswith(".") and len(s2) <= 2 and (len(s2) == 1 or s2[1].isalpha()):
                return parse_missing(s2)
            v = float(s2)
            return v if math.isfinite(v) else float("nan")     # "1e999": no number Stata holds
        except ValueError:
            return float("nan")

    v = sval(args[0])
    if isinstance(v, np.ndarray):
        return np.array([conv(s) for s in v], dtype=float)
    return conv(v)


def num_text(x: float, width: int = 9) -> str:
    if isinstance(x, float) and math.isnan(x):
        return missing_str(x)
    return fmt_g(float(x), width)


def _string(ev, args):
    """string(n) / string(n, s): n as text, in %9.0g or in the format s; either may vary by
    observation (s a string variable holding formats)."""
    _nargs(args, 1, 2)
    x = num(args[0])
    if len(args) == 2:
        spec = sval(args[1])
        f = lambda v, sp: fmt(float(v), sp).strip()  # noqa: E731
    else:
        spec = ""
        f = lambda v, sp: num_text(float(v), 9)  # noqa: E731
    if isinstance(x, np.ndarray) or isinstance(spec, np.ndarray):
        X, S = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(spec, dtype=object))
        return np.array([f(v, sp) for v, sp in zip(X, S)], dtype=object)
    return f(x, spec)


def _substr(ev, args):
    _nargs(args, 3)
    s = sval(args[0])
    n1, n2 = num(args[1]), num(args[2])

    def sub(t, a, b):
        if math.isnan(a):
            return ""
        a = int(a)
        L = len(t)
        if a < 0:
            a = L + a + 1
        if a < 1 or a > L:
            return ""
        if math.isnan(b):
            return t[a - 1:]
        b = int(b)
        if b < 0:
            return ""
        return t[a - 1:a - 1 + b]

    if isinstance(s, np.ndarray) or isinstance(n1, np.ndarray) or isinstance(n2, np.ndarray):
        S, A, B = np.broadcast_arrays(np.asarray(s, dtype=object), np.asarray(n1, dtype=float),
                                      np.asarray(n2, dtype=float))
        return np.array([sub(t, a, b) for t, a, b in zip(S, A, B)], dtype=object)
    return sub(s, n1, n2)


def _strfn(fn):
    def f(ev, args):
        _nargs(args, 1)
        return _str_map(fn, sval(args[0]))

    return f


def _strlen(ev, args):
    _nargs(args, 1)
    s = sval(args[0])
    if isinstance(s, np.ndarray):
        return np.array([len(t) for t in s], dtype=float)
    return float(len(s))


def _strpos(ev, args):
    _nargs(args, 2)
    s, t = sval(args[0]), sval(args[1])
    S, T = np.broadcast_arrays(np.asarray(s, dtype=object), np.asarray(t, dtype=object))
    r = np.array([float(a.find(b) + 1) for a, b in zip(S.ravel(), T.ravel())]).reshape(S.shape)
    return r if r.ndim else float(r)


def _replace_count(n: float) -> int:
    """subinstr()'s n as str.replace's count: missing (or more than any string holds) means
    every occurrence, a fraction is truncated, and n <= 0 replaces none (the "first n")."""
    if math.isnan(n) or n >= MAX_STRLEN:
        return -1
    return max(int(n), 0)


def _subinstr(ev, args):
    """subinstr(s1, s2, s3, n): s1 with its first n occurrences of s2 replaced by s3; any of
    the four may vary by observation."""
    _nargs(args, 4)
    s, a, b = sval(args[0]), sval(args[1]), sval(args[2])
    cnt = num(args[3])
    if not any(isinstance(v, np.ndarray) for v in (s, a, b, cnt)):
        return s.replace(a, b, _replace_count(cnt))
    S, A, B, K = np.broadcast_arrays(np.asarray(s, dtype=object), np.asarray(a, dtype=object),
                                     np.asarray(b, dtype=object), np.asarray(cnt, dtype=float))
    return np.array([t.replace(x, y, _replace_count(k)) for t, x, y, k in zip(S, A, B, K)], dtype=object)


def _word(ev, args):
    _nargs(args, 2)
    s, k = sval(args[0]), num(args[1])
    def w(t, i):
        toks = tokens(t)
        if math.isnan(i):
            return ""
        i = int(i)
        if i < 0:
            i = len(toks) + i + 1
        return toks[i - 1] if 1 <= i <= len(toks) else ""

    if isinstance(s, np.ndarray) or isinstance(k, np.ndarray):
        S, K = np.broadcast_arrays(np.asarray(s, dtype=object), np.asarray(k, dtype=float))
        return np.array([w(t, i) for t, i in zip(S, K)], dtype=object)
    return w(s, k)


def _wordcount(ev, args):
    _nargs(args, 1)
    s = sval(args[0])
    if isinstance(s, np.ndarray):
        return np.array([float(len(tokens(t))) for t in s])
    return float(len(tokens(s)))


def _dist(fn, nargs):
    def f(ev, args):
        _nargs(args, nargs)
        vals = [num(a) for a in args]
        with np.errstate(all="ignore"):
            r = fn(*[np.asarray(v, dtype=float) for v in vals])
        r = np.asarray(r, dtype=float)
        return clean(r if r.ndim else float(r))

    return f


def _chi2tail(df, x):
    return np.where((df > 0) & (x >= 0), dist.chi2_sf(np.maximum(x, 0), df), np.where(x < 0, 1.0, np.nan))


def _random(ev, draw, value, ok, *params):
    """One draw per observation (or one for a scalar expression); parameters may be variables.
    Outside the function's domain (ok false, or a missing parameter) the result is missing."""
    with np.errstate(all="ignore"):
        good = np.asarray(ok(*params), dtype=bool)
    size = ev.n if ev.n > 0 else None
    z = draw(ev.session.rng, size)
    with np.errstate(all="ignore"):
        r = np.where(good, value(z, *params), np.nan)
    return clean(r) if size is not None else float(np.ravel(r)[0])


def _runiform(ev, args):
    if len(args) == 2:
        a, b = np.asarray(num(args[0]), dtype=float), np.asarray(num(args[1]), dtype=float)
    elif not args:
        a, b = np.float64(0.0), np.float64(1.0)
    else:
        raise StataError("invalid syntax", 198)
    return _random(ev, lambda rng, n: rng.random(n), lambda u, a, b: a + (b - a) * u,
                   lambda a, b: np.isfinite(a) & np.isfinite(b) & (a < b), a, b)


def _rnormal(ev, args):
    _nargs(args, 0, 2)
    m = np.asarray(num(args[0]), dtype=float) if args else np.float64(0.0)
    s = np.asarray(num(args[1]), dtype=float) if len(args) == 2 else np.float64(1.0)
    return _random(ev, lambda rng, n: rng.standard_normal(n), lambda z, m, s: m + s * z,
                   lambda m, s: np.isfinite(m) & np.isfinite(s) & (s >= 0), m, s)


def _sign(ev, args):
    _nargs(args, 1)
    x = num(args[0])
    return clean(np.sign(x))


def _scalar_fn(ev, args):
    _nargs(args, 1)
    return args[0]


FUNCTIONS = {
    "abs": _num1(np.abs),
    "exp": _num1(np.exp),
    "ln": _num1(lambda x: np.where(np.asarray(x) > 0, np.log(np.where(np.asarray(x) > 0, x, 1.0)), np.nan)),
    "log": _num1(lambda x: np.where(np.asarray(x) > 0, np.log(np.where(np.asarray(x) > 0, x, 1.0)), np.nan)),
    "log10": _num1(lambda x: np.where(np.asarray(x) > 0, np.log10(np.where(np.asarray(x) > 0, x, 1.0)), np.nan)),
    "sqrt": _num1(lambda x: np.where(np.asarray(x) >= 0, np.sqrt(np.abs(x)), np.nan)),
    "floor": _num1(np.floor),
    "ceil": _num1(np.ceil),
    "int": _int,
    "trunc": _int,
    "round": _round,
    "float": _float,
    "mod": _mod,
    "min": _minmax("min"),
    "max": _minmax("max"),
    "sum": _sum,
    "missing": _missing,
    "mi": _missing,
    "inlist": _inlist,
    "inrange": _inrange,
    "cond": _cond,
    "real": _real,
    "string": _string,
    "strofreal": _string,
    "substr": _substr,
    "usubstr": _substr,
    "strlen": _strlen,
    "length": _strlen,
    "ustrlen": _strlen,
    "upper": _strfn(str.upper),
    "strupper": _strfn(str.upper),
    "lower": _strfn(str.lower),
    "strlower": _strfn(str.lower),
    "strtrim": _strfn(str.strip),
    "trim": _strfn(str.strip),
    "ltrim": _strfn(str.lstrip),
    "strltrim": _strfn(str.lstrip),
    "rtrim": _strfn(str.rstrip),
    "strrtrim": _strfn(str.rstrip),
    "itrim": _strfn(lambda t: re.sub(" +", " ", t)),
    "strpos": _strpos,
    "subinstr": _subinstr,
    "word": _word,
    "wordcount": _wordcount,
    "sign": _sign,
    "normal": _dist(lambda x: dist.norm_cdf(x), 1),
    "normalden": _dist(lambda x: dist.norm_pdf(x), 1),
    "invnormal": _dist(lambda p: np.where((p > 0) & (p < 1), dist.ndtri(np.clip(p, 1e-300, 1 - 1e-16)), np.nan), 1),
    "chi2": _dist(lambda df, x: np.where((df > 0), dist.chi2_cdf(np.maximum(x, 0), df), np.nan), 2),
    "chi2tail": _dist(_chi2tail, 2),
    "invchi2": _dist(lambda df, p: dist.chi2_ppf(p, df), 2),
    "invchi2tail": _dist(lambda df, p: dist.chi2_isf(p, df), 2),
    "ttail": _dist(lambda df, t: np.where(df > 0, dist.t_sf(t, df), np.nan), 2),
    "invttail": _dist(lambda df, p: dist.t_isf(p, df), 2),
    "t": _dist(lambda df, t: dist.t_cdf(t, df), 2),
    "F": _dist(lambda d1, d2, f: dist.f_cdf(f, d1, d2), 3),
    "Ftail": _dist(lambda d1, d2, f: dist.f_sf(f, d1, d2), 3),
    "lngamma": _dist(lambda x: dist.gammaln(x), 1),
    "logit": _dist(lambda p: np.log(p / (1 - p)), 1),
    "invlogit": _dist(lambda x: dist.expit(x), 1),
    "comb": _dist(lambda n, k: np.round(dist.comb(n, k)), 2),
    "runiform": _runiform,
    "uniform": _runiform,
    "rnormal": _rnormal,
}
