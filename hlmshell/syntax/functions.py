"""Stata's expression functions, vectorised with numpy (missing = NaN, '' = missing string)."""
from __future__ import annotations

import math
import re
import time
import warnings

import numpy as np

from hlmshell import distributions as dist
from hlmshell.data.missing import missing_str, order_key, parse_missing
from hlmshell.errors import StataError
from hlmshell.limits import MAX_STRLEN
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.syntax.function_args import clean, is_str, num, sval  # noqa: F401  (re-exported to evaluate.py)
from hlmshell.syntax.function_args import nargs as _nargs
from hlmshell.syntax.function_args import str_map as _str_map
from hlmshell.syntax.function_args import vectorised as _dist
from hlmshell.syntax.functions_dates import date_functions
from hlmshell.syntax.functions_dist import DIST_FUNCTIONS
from hlmshell.syntax.functions_misc import MISC_FUNCTIONS
from hlmshell.syntax.functions_strings import STRING_FUNCTIONS
from hlmshell.syntax.lexer import tokens
from hlmshell.syntax.stata_dates import (
    _DOFH,
    _DOFM,
    _DOFQ,
    _HOFD,
    _MOFD,
    _MS_DAY,
    _QOFD,
    _YH,
    _YM,
    _YQ,
    _clock_parts,
    _cofd,
    _days_from_civil,
    _dofc,
    _dofw,
    _dow,
    _hms,
    _mdy,
    _part,
    _valid_td,
    _wofd,
    _yw,
)


def _num1(fn):
    def f(ev, args):
        _nargs(args, 1, 1)
        with np.errstate(all="ignore"):
            return clean(fn(num(args[0])))

    return f


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


# ----------------------------------------------------------------------------- random numbers
# Draws come from session.rng, a numpy Generator that `set seed #` replaces: every later draw is
# reproducible within hlmshell (the stream is not Stata's own Mersenne Twister / KISS stream).
def _rparams(args, lo, hi):
    _nargs(args, lo, hi)
    return [np.asarray(num(a), dtype=float) for a in args]


def _rdraw(ev, sampler, ok, safe, *params):
    """One draw per observation (one for an observation-free expression). Where a parameter is
    missing or outside the function's domain (ok false) the result is missing; there the
    sampler sees the `safe` parameter values instead."""
    shape = (ev.n,) if ev.n > 0 else ()
    P = [np.broadcast_to(np.asarray(p, dtype=float), shape) for p in params]
    with np.errstate(all="ignore"):
        good = np.ones(shape, dtype=bool)
        for p in P:
            good &= np.isfinite(p)
        if P:
            good &= np.asarray(ok(*P), dtype=bool)
        args = [np.where(good, p, s) for p, s in zip(P, safe)]
        z = np.asarray(sampler(ev.session.rng, *args, size=shape or None), dtype=float)
        r = np.where(good, z, np.nan)
    return clean(r) if shape else float(np.ravel(r)[0])


def _isint(x):
    return x == np.floor(x)


def _rfun(lo, hi, sampler, ok, safe):
    """A random-number function of lo..hi arguments."""
    def f(ev, args):
        return _rdraw(ev, sampler, ok, safe, *_rparams(args, lo, hi))

    return f


def _rlogistic(ev, args):
    vals = _rparams(args, 0, 2)
    m, s = (vals if len(vals) == 2 else [np.float64(0.0)] + vals) if vals else [np.float64(0.0), np.float64(1.0)]
    return _rdraw(ev, lambda rng, m, s, size: rng.logistic(m, s, size), lambda m, s: s >= 0, (0.0, 1.0), m, s)


def _rweibull(ev, args):
    vals = _rparams(args, 2, 3)
    if len(vals) == 2:
        vals.append(np.float64(0.0))
    return _rdraw(ev, lambda rng, a, b, g, size: g + b * rng.weibull(a, size),
                  lambda a, b, g: (a > 0) & (b > 0), (1.0, 1.0, 0.0), *vals)


def _rweibullph(ev, args):
    """rweibullph(a, b[, g]): proportional-hazards Weibull, S(x) = exp(-b (x - g)^a)."""
    vals = _rparams(args, 2, 3)
    if len(vals) == 2:
        vals.append(np.float64(0.0))
    return _rdraw(ev, lambda rng, a, b, g, size: g + (rng.standard_exponential(size) / b) ** (1 / a),
                  lambda a, b, g: (a > 0) & (b > 0), (1.0, 1.0, 0.0), *vals)


_RANDOM = {
    "runiformint": _rfun(2, 2, lambda rng, a, b, size: a + np.floor(rng.random(size) * (b - a + 1)),
                         lambda a, b: _isint(a) & _isint(b) & (a <= b) & (np.abs(a) < 2 ** 53)
                         & (np.abs(b) < 2 ** 53), (0.0, 1.0)),
    "rbinomial": _rfun(2, 2, lambda rng, n, p, size: rng.binomial(n.astype(np.int64), p, size),
                       lambda n, p: _isint(n) & (n >= 1) & (n <= 1e11) & (p > 0) & (p < 1), (1.0, 0.5)),
    "rpoisson": _rfun(1, 1, lambda rng, m, size: rng.poisson(m, size),
                      lambda m: (m > 0) & (m <= 1e11), (1.0,)),
    "rbeta": _rfun(2, 2, lambda rng, a, b, size: rng.beta(a, b, size),
                   lambda a, b: (a > 0) & (b > 0), (1.0, 1.0)),
    "rgamma": _rfun(2, 2, lambda rng, a, b, size: rng.gamma(a, b, size),
                    lambda a, b: (a > 0) & (b > 0), (1.0, 1.0)),
    "rt": _rfun(1, 1, lambda rng, df, size: rng.standard_t(df, size), lambda df: df > 0, (1.0,)),
    "rchi2": _rfun(1, 1, lambda rng, df, size: rng.chisquare(df, size), lambda df: df > 0, (1.0,)),
    "rexponential": _rfun(1, 1, lambda rng, b, size: rng.exponential(b, size), lambda b: b > 0, (1.0,)),
    "rnbinomial": _rfun(2, 2, lambda rng, n, p, size: rng.negative_binomial(n, p, size),
                        lambda n, p: (n > 0) & (p > 0) & (p < 1), (1.0, 0.5)),
    "rhypergeometric": _rfun(3, 3, lambda rng, N, K, n, size: rng.hypergeometric(
        K.astype(np.int64), (N - K).astype(np.int64), n.astype(np.int64), size),
        lambda N, K, n: _isint(N) & _isint(K) & _isint(n) & (N >= 1) & (N <= 1e9) & (K >= 0) & (K <= N)
        & (n >= 1) & (n <= N), (2.0, 1.0, 1.0)),
    "rlognormal": _rfun(2, 2, lambda rng, m, s, size: rng.lognormal(m, s, size),
                        lambda m, s: s >= 0, (0.0, 1.0)),
    "rigaussian": _rfun(2, 2, lambda rng, m, a, size: rng.wald(m, a, size),
                        lambda m, a: (m > 0) & (a > 0), (1.0, 1.0)),
    "rlogistic": _rlogistic,
    "rweibull": _rweibull,
    "rweibullph": _rweibullph,
    "rcauchy": _rfun(2, 2, lambda rng, a, b, size: a + b * rng.standard_cauchy(size),
                     lambda a, b: b > 0, (0.0, 1.0)),
    "rlaplace": _rfun(2, 2, lambda rng, m, b, size: rng.laplace(m, b, size),
                      lambda m, b: b > 0, (0.0, 1.0)),
}


def rng_state(rng) -> str:
    """c(rngstate): the generator's state as text that `set rngstate` takes back."""
    st = rng.bit_generator.state
    inner = st["state"]
    return (f"P{inner['state']:032x}{inner['inc']:032x}{int(st['has_uint32']):d}"
            f"{int(st['uinteger']):08x}")


def rng_from_state(text: str):
    """The generator c(rngstate) described; None when the text is not one."""
    t = text.strip()
    if not re.fullmatch(r"P[0-9a-f]{64}[01][0-9a-f]{8}", t):
        return None
    rng = np.random.default_rng(0)
    rng.bit_generator.state = {"bit_generator": "PCG64",
                               "state": {"state": int(t[1:33], 16), "inc": int(t[33:65], 16)},
                               "has_uint32": int(t[65]), "uinteger": int(t[66:], 16)}
    return rng


# ----------------------------------------------------------------------------- regular expressions
# Python's re stands in for Stata's engines (regex*: POSIX-like, ustrregex*: ICU). A pattern
# that backtracks catastrophically must not hang the session: while a call runs, an interval
# timer checks how long the current string has taken; past REGEX_SECONDS the call fails with
# r(198). (Off the main thread, where no signal can be delivered, nested quantifiers such as
# (a+)+ are refused up front instead.)
REGEX_SECONDS = 1.0
_POSIX = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
          "space": r" \t\n\r\f\v", "xdigit": "0-9A-Fa-f", "punct": r"!-/:-@\[-`{-~", "blank": r" \t",
          "cntrl": r"\x00-\x1f\x7f", "print": r" -~", "graph": r"!-~"}
_NESTED = re.compile(r"\((?:[^()\\]|\\.)*(?:[+*]|\{\d*,\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d*,\d*\})")


class _RegexTimeout(Exception):
    pass


def _too_complex() -> StataError:
    return StataError("regular expression too complex", 198)


class _RegexGuard:
    """Context of one regex function call: `tick()` before each string restarts its clock."""

    def __init__(self):
        self.start = 0.0
        self.armed = False
        self.old = None

    def _alarm(self, signum, frame):
        if time.monotonic() - self.start > REGEX_SECONDS:
            raise _RegexTimeout()

    def tick(self):
        self.start = time.monotonic()

    def __enter__(self):
        import signal
        import threading

        self.tick()
        if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            try:
                if signal.getitimer(signal.ITIMER_REAL)[0] == 0:
                    self.old = signal.signal(signal.SIGALRM, self._alarm)
                    signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
                    self.armed = True
            except (ValueError, OSError):
                self.armed = False
        return self

    def __exit__(self, kind, exc, tb):
        if self.armed:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old if self.old is not None else signal.SIG_DFL)
        if kind is _RegexTimeout:
            raise _too_complex() from None
        return False


_RE_CACHE: dict = {}


def _compile(pattern: str, ignorecase: bool = False, posix: bool = True):
    key = (pattern, ignorecase, posix)
    got = _RE_CACHE.get(key)
    if got is not None:
        return got
    import threading

    if threading.current_thread() is not threading.main_thread() and _NESTED.search(pattern):
        raise _too_complex()
    text = re.sub(r"\[:([a-z]+):\]", lambda m: _POSIX.get(m.group(1), m.group(0)), pattern) if posix else pattern
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rx = re.compile(text, re.IGNORECASE if ignorecase else 0)
    except (re.error, OverflowError, RecursionError):
        raise StataError("invalid regular expression", 198) from None
    if len(_RE_CACHE) > 256:
        _RE_CACHE.clear()
    _RE_CACHE[key] = rx
    return rx


def _each(fn, *vals):
    """fn over the observations (broadcast) of string/number arguments, with the regex guard."""
    with _RegexGuard() as guard:
        if not any(isinstance(v, np.ndarray) and v.ndim for v in vals):
            return fn(guard, *[v.item() if isinstance(v, np.ndarray) else v for v in vals])
        arrs = np.broadcast_arrays(*[np.asarray(v, dtype=object) for v in vals])
        return [fn(guard, *row) for row in zip(*arrs)]


def _match_store(ev, key, results, vector):
    setattr(ev.session, key, (results, vector))


def _regexm_fn(key, posix):
    def f(ev, args):
        _nargs(args, 2, 3 if not posix else 2)
        s, pat = sval(args[0]), sval(args[1])
        noc = np.asarray(num(args[2]) if len(args) == 3 else 0.0, dtype=float)

        def one(guard, t, p, c):
            rx = _compile(p, bool(c == c and c != 0), posix)
            guard.tick()
            return rx.search(t)

        got = _each(one, s, pat, noc)
        vector = isinstance(got, list)
        _match_store(ev, key, got, vector)
        if vector:
            return np.array([0.0 if m is None else 1.0 for m in got])
        return 0.0 if got is None else 1.0

    return f


def _regexs_fn(key, posix):
    def f(ev, args):
        _nargs(args, 1)
        n = num(args[0])
        stored, vector = getattr(ev.session, key, (None, False))

        def grp(m, k):
            if m is None or k != k or k < 0 or k > m.re.groups or (posix and k >= 10):
                return ""
            return m.group(int(k)) or ""

        if vector:
            ms = stored if len(stored) == ev.n or ev.n == 0 else (stored + [None] * ev.n)[:ev.n]
            K = np.broadcast_to(np.asarray(n, dtype=float), (len(ms),))
            out = np.array([grp(m, k) for m, k in zip(ms, K)], dtype=object)
            return out if ev.n > 0 else (out[-1] if len(out) else "")
        if isinstance(n, np.ndarray):
            return np.array([grp(stored, k) for k in n], dtype=object)
        return grp(stored, n)

    return f


def _icu_replacement(repl: str):
    """ICU's replacement text ($n a group, \\x a literal x) as a function of the match."""
    parts = re.split(r"(\$\d+|\\.)", repl)

    def fn(m):
        out = []
        for p in parts:
            if p.startswith("$") and len(p) > 1:
                k = int(p[1:])
                out.append((m.group(k) or "") if k <= m.re.groups else "")
            elif p.startswith("\\") and len(p) == 2:
                out.append(p[1])
            else:
                out.append(p)
        return "".join(out)

    return fn


def _regexr_fn(posix, count):
    def f(ev, args):
        _nargs(args, 3, 3 if posix else 4)
        s, pat, rep = sval(args[0]), sval(args[1]), sval(args[2])
        noc = np.asarray(num(args[3]) if len(args) == 4 else 0.0, dtype=float)

        def one(guard, t, p, r, c):
            rx = _compile(p, bool(c == c and c != 0), posix)
            guard.tick()
            fn = (lambda m: r) if posix else _icu_replacement(r)
            return rx.sub(fn, t, count=count)

        got = _each(one, s, pat, rep, noc)
        return np.array(got, dtype=object) if isinstance(got, list) else got

    return f


# ----------------------------------------------------------------------------- more strings
def _bytelen(ev, args):
    """strlen()/length(): Stata counts bytes (UTF-8); ustrlen() counts characters."""
    _nargs(args, 1)
    s = sval(args[0])
    if isinstance(s, np.ndarray):
        return np.array([len(t.encode("utf-8", "surrogatepass")) for t in s], dtype=float)
    return float(len(s.encode("utf-8", "surrogatepass")))


def _title_word(m):
    w = m.group(0)
    return w[:1].upper() + w[1:].lower()


def _ustrtitle(t: str) -> str:
    return re.sub(r"[^\W_]+(?:'[^\W_]+)*", _title_word, t)


def _charfn(limit):
    def f(ev, args):
        _nargs(args, 1)
        x = num(args[0])

        def one(v):
            if v != v or v != math.floor(v) or not 0 <= v <= limit or 0xD800 <= v <= 0xDFFF:
                return ""
            return chr(int(v))

        if isinstance(x, np.ndarray):
            return np.array([one(v) for v in x], dtype=object)
        return one(x)

    return f


def _wild_rx(p: str):
    rx = _RE_CACHE.get(("strmatch", p))
    if rx is None:
        rx = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p) + r"\Z",
                        re.DOTALL)
        _RE_CACHE[("strmatch", p)] = rx
    return rx


def _strmatch(ev, args):
    _nargs(args, 2)
    s, p = sval(args[0]), sval(args[1])
    if isinstance(s, np.ndarray) or isinstance(p, np.ndarray):
        S, P = np.broadcast_arrays(np.asarray(s, dtype=object), np.asarray(p, dtype=object))
        return np.array([float(_wild_rx(b).match(a) is not None) for a, b in zip(S, P)])
    return float(_wild_rx(p).match(s) is not None)


def _strrpos(ev, args):
    _nargs(args, 2)
    s, t = sval(args[0]), sval(args[1])
    S, T = np.broadcast_arrays(np.asarray(s, dtype=object), np.asarray(t, dtype=object))
    r = np.array([float(a.rfind(b) + 1) if b else 0.0 for a, b in zip(S.ravel(), T.ravel())]).reshape(S.shape)
    return r if r.ndim else float(r)


# ----------------------------------------------------------------------------- more math
def _lnfactorial(n):
    ok = (n >= 0) & (n == np.floor(n))
    return np.where(ok, dist.gammaln(np.where(ok, n, 0.0) + 1.0), np.nan)


def _comb(n, k):
    ok = (n == np.floor(n)) & (k == np.floor(k)) & (n >= 0) & (k >= 0) & (k <= n)
    return np.where(ok, np.round(dist.comb(np.where(ok, n, 1.0), np.where(ok, k, 0.0))), np.nan)


def _const(value):
    def f(ev, args):
        _nargs(args, 0)
        return value

    return f


def _reldif(x, y):
    return np.abs(x - y) / (np.abs(y) + 1)


# ----------------------------------------------------------------------------- dates
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WIDTH = {"D": 2, "M": 2, "Y": 4, "h": 2, "m": 2, "s": 2}


def _parse_mask(mask: str):
    """'DMY', 'MDY', '19YMD', 'YMDhms' ... -> [(letter, century or None)]; None if invalid."""
    out, century = [], ""
    for ch in mask.replace(" ", ""):
        if ch.isdigit():
            century += ch
            continue
        if ch not in _WIDTH or (century and ch != "Y"):
            return None
        out.append((ch, int(century) if century else None))
        century = ""
    letters = [c for c, _ in out]
    if century or not out or len(set(letters)) != len(letters):
        return None
    return out


def _tokens(s: str):
    """Pieces of a date/time string: runs of digits (a seconds fraction kept with them) and of
    letters, with am/pm pulled out."""
    toks, ampm = [], None
    for m in re.finditer(r"(?<=:)\d+\.\d+|\d+|[a-z]+", s.lower()):
        t = m.group(0)
        if t in ("am", "pm", "a", "p"):
            ampm = t[0]
            continue
        toks.append(t)
    return toks, ampm


def _split_tokens(toks, elems):
    """Assign tokens to mask elements; an all-digit token may cover several elements
    ('20200115' for YMD)."""
    out, j = [], 0
    for t in toks:
        if j >= len(elems):
            return None
        width = _WIDTH[elems[j][0]] if not (elems[j][0] == "Y" and elems[j][1] is not None) else 2
        if t.isdigit() and len(t) > max(width, 4 if elems[j][0] == "Y" else width):
            total, k = 0, j
            while k < len(elems) and total < len(t):
                e = elems[k]
                total += 2 if (e[0] == "Y" and e[1] is not None) else _WIDTH[e[0]]
                k += 1
            if total != len(t):
                return None
            pos = 0
            for e in elems[j:k]:
                w = 2 if (e[0] == "Y" and e[1] is not None) else _WIDTH[e[0]]
                out.append(t[pos:pos + w])
                pos += w
            j = k
        else:
            out.append(t)
            j += 1
    return out if j == len(elems) else None


def _year(tok: str, century, topyear) -> float:
    if not tok.isdigit():
        return float("nan")
    y = int(tok)
    if len(tok) <= 2:
        if century is not None:
            return float(century * 100 + y)
        if topyear is not None:
            return float(topyear - ((topyear - y) % 100))
        return float("nan")
    return float(y)


def _month(tok: str) -> float:
    if tok.isdigit():
        return float(int(tok))
    for i, name in enumerate(_MONTHS):
        if tok[:3] == name and (len(tok) == 3 or "january february march april may june july august "
                                "september october november december".split()[i].startswith(tok)):
            return float(i + 1)
    return float("nan")


def _parse_datetime(s: str, elems, topyear):
    """(days, milliseconds into the day) of one string, or None."""
    toks, ampm = _tokens(s)
    got = _split_tokens(toks, elems)
    if got is None:
        return None
    v = {"D": 1.0, "h": 0.0, "m": 0.0, "s": 0.0}
    for (ch, century), tok in zip(elems, got):
        if ch == "Y":
            v["Y"] = _year(tok, century, topyear)
        elif ch == "M":
            v["M"] = _month(tok)
        elif "." in tok and ch != "s":
            return None
        else:
            v[ch] = float(tok) if ch == "s" else float(int(tok)) if tok.isdigit() else float("nan")
    if ampm is not None:
        if not 1 <= v["h"] <= 12:
            return None
        v["h"] = v["h"] % 12 + (12 if ampm == "p" else 0)
    day = float(_mdy(v.get("M", float("nan")), v["D"], v.get("Y", float("nan"))))
    ms = float(_hms(np.float64(v["h"]), np.float64(v["m"]), np.float64(v["s"])))
    if day != day or ms != ms:
        return None
    return day, ms


def _datefn(clock: bool):
    def f(ev, args):
        _nargs(args, 2, 3)
        s, mask = sval(args[0]), sval(args[1])
        top = num(args[2]) if len(args) == 3 else float("nan")
        if isinstance(top, np.ndarray):
            top = float(top[0]) if top.size else float("nan")
        topyear = int(top) if top == top else None
        cache: dict = {}

        def one(t, mk):
            key = (t, mk)
            if key not in cache:
                elems = _parse_mask(mk)
                if elems is None or (not clock and any(c in "hms" for c, _ in elems)):
                    cache[key] = float("nan")
                else:
                    got = _parse_datetime(t, elems, topyear)
                    cache[key] = (float("nan") if got is None
                                  else got[0] * _MS_DAY + got[1] if clock else got[0])
            return cache[key]

        if isinstance(s, np.ndarray) or isinstance(mask, np.ndarray):
            S, M = np.broadcast_arrays(np.asarray(s, dtype=object), np.asarray(mask, dtype=object))
            return np.array([one(a, b) for a, b in zip(S, M)], dtype=float)
        return one(s, mask)

    return f


def _today(ev, args):
    import datetime

    _nargs(args, 0)
    t = datetime.date.today()
    return float(_days_from_civil(t.year, t.month, t.day))


def _now(ev, args):
    import datetime

    _nargs(args, 0)
    t = datetime.datetime.now()
    return (float(_days_from_civil(t.year, t.month, t.day)) * _MS_DAY
            + ((t.hour * 60 + t.minute) * 60 + t.second) * 1000.0 + t.microsecond // 1000)


def _mdyhms(m, d, y, h, mi, s):
    return _mdy(m, d, y) * _MS_DAY + _hms(h, mi, s)


def _dhms(td, h, mi, s):
    with np.errstate(all="ignore"):
        ok = _valid_td(td) & (td == np.floor(td))
        return np.where(ok, td * _MS_DAY + _hms(h, mi, s), np.nan)


# ----------------------------------------------------------------------------- c()
_CONSTS = {"maxdouble": 8.988465674311579e307, "mindouble": -8.988465674311579e307,
           "epsdouble": 2.220446049250313e-16, "smallestdouble": 2.2250738585072014e-308,
           "maxfloat": 1.7014117331926443e38, "minfloat": -1.7014117331926443e38,
           "epsfloat": 1.1920928955078125e-07, "maxbyte": 100.0, "minbyte": -127.0,
           "maxint": 32740.0, "minint": -32767.0, "maxlong": 2147483620.0, "minlong": -2147483647.0,
           "maxstrvarlen": 2045.0, "maxstrlvarlen": 2000000000.0, "maxvlabellen": 32000.0,
           "max_k_theory": 5000.0, "maxvar": 5000.0, "max_N_theory": 2147483619.0,
           "max_macrolen": 4227143.0, "macrolen": 4227143.0, "max_cmdlen": 4227175.0,
           "namelenchar": 32.0, "namelenbyte": 128.0, "stata_version": 17.0, "version": 17.0,
           "pi": math.pi, "processors": 1.0, "processors_lic": 1.0, "processors_mach": 1.0,
           "processors_max": 1.0, "MP": 0.0, "SE": 0.0, "bit": 64.0, "matsize": 400.0,
           "max_matdim": 65534.0, "maxiter": 300.0}
_STRS = {"alpha": "a b c d e f g h i j k l m n o p q r s t u v w x y z",
         "ALPHA": "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z",
         "Mons": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
         "Months": "January February March April May June July August September October November December",
         "Wdays": "Sun Mon Tue Wed Thu Fri Sat",
         "Weekdays": "Sunday Monday Tuesday Wednesday Thursday Friday Saturday",
         "dirsep": "/", "byteorder": "lohi", "flavor": "IC", "edition": "BE", "edition_real": "BE",
         "console": "console", "mode": "", "dp": "period", "charset": "unicode", "eolchar": "unix",
         "born_date": "15 Jun 2021", "rmsg": "off", "trace": "off", "emptycells": "keep",
         "showbaselevels": "", "showomitted": "", "fvlabel": "on", "fvwrap": "1",
         "cformat": "", "pformat": "", "sformat": "", "logtype": "smcl", "httpproxy": "off",
         "lstretch": "", "coeftabresults": "on", "dots": "on"}
# the settings `set` keeps, with Stata's defaults
SETTING_DEFAULTS = {"linesize": 80.0, "pagesize": 23.0, "more": "off", "type": "float",
                    "varabbrev": "on", "level": 95.0, "rmsg": "off", "seed": 123456789.0}


def _system(key: str) -> str | None:
    import datetime
    import os
    import sys

    now = datetime.datetime.now()
    if key == "current_date":
        return f"{now.day:>2} {now:%b %Y}"
    if key == "current_time":
        return f"{now:%H:%M:%S}"
    if key == "pwd":
        return os.getcwd()
    if key in ("os", "machine_type", "hostname", "username", "tmpdir", "sysdir_stata",
               "sysdir_personal", "python_exec"):
        return _system_paths(key, os, sys)
    return None


def _system_paths(key, os, sys) -> str:
    import platform

    if key == "os":
        return {"linux": "Unix", "darwin": "MacOSX", "win32": "Windows"}.get(sys.platform, "Unix")
    if key == "machine_type":
        return f"PC ({platform.machine() or '64-bit'})"
    if key == "hostname":
        return platform.node()
    if key == "username":
        try:
            import getpass

            return getpass.getuser()
        except Exception:
            return ""
    if key == "tmpdir":
        import tempfile

        return tempfile.gettempdir()
    if key == "python_exec":
        return sys.executable
    if key == "sysdir_personal":
        return os.path.expanduser("~") + "/"
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"


def creturn_value(session, key: str):
    """The value of c(key): a float, a str, or NaN when hlmshell has no such value."""
    data = session.data
    settings = session.settings
    if key in _CONSTS:
        return _CONSTS[key]
    if key in _STRS and key not in settings:      # a value `set` changed wins over the default
        return _STRS[key]
    live = {"N": float(data.n), "k": float(len(data.vars)), "rc": float(session.rc),
            "changed": float(bool(data.changed))}
    if key in live:
        return live[key]
    if key == "frame":
        return getattr(session, "frame", "default")
    if key == "filename":
        return data.filename or ""
    if key == "filedate":
        return getattr(data, "filedate", "") or ""
    if key == "rngstate":
        return rng_state(session.rng)
    got = _system(key)
    if got is not None:
        return got
    if key in settings:
        v = settings[key]
        return float(v) if isinstance(v, (int, float)) else str(v)
    if key in SETTING_DEFAULTS:
        return SETTING_DEFAULTS[key]
    return float("nan")


# the c() values `creturn list` shows, by section
CRETURN_SECTIONS = (
    ("System values", ("current_date", "current_time", "stata_version", "version",
                       "born_date", "flavor", "bit", "SE", "MP", "processors", "os", "machine_type",
                       "byteorder", "username", "hostname")),
    ("Directories and paths", ("sysdir_stata", "sysdir_personal", "tmpdir", "pwd", "dirsep")),
    ("System limits", ("max_N_theory", "maxvar", "max_k_theory", "max_macrolen", "macrolen",
                       "max_cmdlen", "namelenbyte", "namelenchar", "maxstrvarlen", "maxstrlvarlen",
                       "maxvlabellen", "max_matdim")),
    ("Numerical and string limits", ("maxbyte", "maxint", "maxlong", "maxfloat", "maxdouble",
                                     "minbyte", "minint", "minlong", "minfloat", "mindouble",
                                     "epsfloat", "epsdouble", "smallestdouble")),
    ("Current dataset", ("N", "k", "changed", "filename", "filedate")),
    ("Output settings", ("more", "rmsg", "dp", "linesize", "pagesize", "logtype")),
    ("Other settings", ("type", "level", "maxiter", "varabbrev", "seed", "rngstate")),
    ("Other", ("pi", "alpha", "ALPHA", "Mons", "Months", "Wdays", "Weekdays", "rc")),
)


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
    "strlen": _bytelen,
    "length": _bytelen,
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
    "invnormal": _dist(lambda p: np.where((p > 0) & (p < 1), dist.ndtri(np.clip(p, 1e-300, 1 - 1e-16)), np.nan), 1),
    # the pre-Stata-9 name Stata 17 still accepts (MI tutorials' adaptive rounding uses it)
    "invnorm": _dist(lambda p: np.where((p > 0) & (p < 1), dist.ndtri(np.clip(p, 1e-300, 1 - 1e-16)), np.nan), 1),
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
    "comb": _dist(_comb, 2),
    "runiform": _runiform,
    "uniform": _runiform,
    "rnormal": _rnormal,
    **_RANDOM,
    # regular expressions
    "regexm": _regexm_fn("regex_match", True),
    "regexs": _regexs_fn("regex_match", True),
    "regexr": _regexr_fn(True, 1),
    "ustrregexm": _regexm_fn("ustrregex_match", False),
    "ustrregexs": _regexs_fn("ustrregex_match", False),
    "ustrregexrf": _regexr_fn(False, 1),
    "ustrregexra": _regexr_fn(False, 0),
    # strings
    "strreverse": _strfn(lambda t: t[::-1]),
    "ustrreverse": _strfn(lambda t: t[::-1]),
    "ustrupper": _strfn(str.upper),
    "ustrlower": _strfn(str.lower),
    "ustrtitle": _strfn(_ustrtitle),
    "strproper": _strfn(str.title),
    "proper": _strfn(str.title),
    "ustrtrim": _strfn(str.strip),
    "ustrltrim": _strfn(str.lstrip),
    "ustrrtrim": _strfn(str.rstrip),
    "stritrim": _strfn(lambda t: re.sub(" +", " ", t)),
    "char": _charfn(255),
    "uchar": _charfn(0x10FFFF),
    "strmatch": _strmatch,
    "strrpos": _strrpos,
    "ustrpos": _strpos,
    "usubinstr": _subinstr,
    # math
    "lnfactorial": _dist(_lnfactorial, 1),
    "maxdouble": _const(_CONSTS["maxdouble"]),
    "mindouble": _const(_CONSTS["mindouble"]),
    "epsdouble": _const(_CONSTS["epsdouble"]),
    "smallestdouble": _const(_CONSTS["smallestdouble"]),
    "maxfloat": _const(_CONSTS["maxfloat"]),
    "epsfloat": _const(_CONSTS["epsfloat"]),
    "maxbyte": _const(_CONSTS["maxbyte"]),
    "maxint": _const(_CONSTS["maxint"]),
    "maxlong": _const(_CONSTS["maxlong"]),
    "sin": _num1(np.sin),
    "cos": _num1(np.cos),
    "tan": _num1(np.tan),
    "asin": _num1(np.arcsin),
    "acos": _num1(np.arccos),
    "atan": _num1(np.arctan),
    "atan2": _dist(np.arctan2, 2),
    "sinh": _num1(np.sinh),
    "cosh": _num1(np.cosh),
    "tanh": _num1(np.tanh),
    "asinh": _num1(np.arcsinh),
    "acosh": _num1(np.arccosh),
    "atanh": _num1(np.arctanh),
    "log1p": _num1(np.log1p),
    "log1m": _num1(lambda x: np.log1p(-x)),
    "ln1p": _num1(np.log1p),
    "ln1m": _num1(lambda x: np.log1p(-x)),
    "expm1": _num1(np.expm1),
    "cloglog": _num1(lambda x: np.log(-np.log1p(-x))),
    "invcloglog": _num1(lambda x: -np.expm1(-np.exp(x))),
    "reldif": _dist(_reldif, 2),
    # dates and times
    "mdy": _dist(_mdy, 3),
    "date": _datefn(False),
    "daily": _datefn(False),
    "clock": _datefn(True),
    "today": _today,
    "now": _now,
    "year": _dist(_part("year"), 1),
    "month": _dist(_part("month"), 1),
    "day": _dist(_part("day"), 1),
    "quarter": _dist(_part("quarter"), 1),
    "halfyear": _dist(_part("halfyear"), 1),
    "doy": _dist(_part("doy"), 1),
    "week": _dist(_part("week"), 1),
    "dow": _dist(_dow, 1),
    "dofm": _dist(_DOFM, 1),
    "mofd": _dist(_MOFD, 1),
    "ym": _dist(_YM, 2),
    "dofq": _dist(_DOFQ, 1),
    "qofd": _dist(_QOFD, 1),
    "yq": _dist(_YQ, 2),
    "dofh": _dist(_DOFH, 1),
    "hofd": _dist(_HOFD, 1),
    "yh": _dist(_YH, 2),
    "dofw": _dist(_dofw, 1),
    "wofd": _dist(_wofd, 1),
    "yw": _dist(_yw, 2),
    "dofy": _dist(lambda y: _mdy(1.0, 1.0, y), 1),
    "yofd": _dist(_part("year"), 1),
    "dofc": _dist(_dofc, 1),
    "cofd": _dist(_cofd, 1),
    "hms": _dist(_hms, 3),
    "hh": _dist(_clock_parts("hh"), 1),
    "mm": _dist(_clock_parts("mm"), 1),
    "ss": _dist(_clock_parts("ss"), 1),
    "mdyhms": _dist(_mdyhms, 6),
    "dhms": _dist(_dhms, 4),
    # the rest of Stata's library, by family, in their own modules
    **DIST_FUNCTIONS,
    **date_functions(_datefn(True)),
    **STRING_FUNCTIONS,
    **MISC_FUNCTIONS,
    "minbyte": _const(_CONSTS["minbyte"]),
    "minint": _const(_CONSTS["minint"]),
    "minlong": _const(_CONSTS["minlong"]),
    "minfloat": _const(_CONSTS["minfloat"]),
    "byteorder": _const(2.0),          # 1 hilo, 2 lohi: c(byteorder) is "lohi"
}


# ----------------------------------------------------------------------------- date literals
# td(01jan2020), tc(01jan2020 10:30:00), tm(2020m1), tq(2020q1), th(2020h2), tw(2020w7),
# ty(2020) (and d(), c(), m(), q(), h(), w() where the contents are such a literal) are
# constants, not functions: expand_date_literals rewrites them into their numbers before an
# expression is parsed (outside string literals only).
_LITERAL = re.compile(r"(?<![\w.$])(t[dcCmqhwy]|[dmqhw])\(\s*([^()\"]*?)\s*\)")
_PERIOD = {"m": (12, _YM), "q": (4, _YQ), "h": (2, _YH), "w": (52, _yw)}


def _literal_value(kind: str, body: str) -> float | None:
    """The number a date literal stands for; None when `body` is not one (left alone)."""
    unit = kind[-1] if kind.startswith("t") else kind
    if unit in ("d", "c", "C"):
        if not re.fullmatch(r"\d{1,2}\s*[A-Za-z]{3,9}\s*\d{4}(\s+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?", body):
            return None
        has_time = ":" in body
        if unit == "d" and has_time:
            return None
        mask = "DMY" + ("hm" + ("s" if body.count(":") == 2 else "") if has_time else "")
        got = _parse_datetime(body, _parse_mask(mask), None)
        if got is None:
            raise StataError(f"{body} invalid date", 198) if unit == "d" else StataError(f"{body} invalid", 198)
        return got[0] if unit == "d" else got[0] * _MS_DAY + got[1]
    if unit == "y":
        return float(body) if re.fullmatch(r"\d{3,4}", body) else None
    m = re.fullmatch(rf"(\d{{3,4}})\s*{unit}\s*(\d{{1,2}})", body, re.IGNORECASE)
    if m is None:
        return None
    v = float(_PERIOD[unit][1](np.float64(m.group(1)), np.float64(m.group(2))))
    if v != v:
        raise StataError(f"{body} invalid", 198)
    return v


def expand_date_literals(text: str) -> str:
    """`td(01jan2020) + 1` -> `21915 + 1`; string literals and anything else untouched."""
    if "(" not in text:
        return text
    pieces = re.split(r'(`"(?:[^"]|"(?!\'))*"\'|"[^"]*")', text)
    for i in range(0, len(pieces), 2):
        def sub(m):
            v = _literal_value(m.group(1), m.group(2))
            return m.group(0) if v is None else repr(float(v)) if v != int(v) else str(int(v))

        pieces[i] = _TIN.sub(_tin_bounds, _LITERAL.sub(sub, pieces[i]))
    return "".join(pieces)


# tin(1995m1, 1995m6), twithin(01jan1995, ), tin(, 2000q4): bare time literals (or nothing, an
# open bound) as the bounds; rewritten into numbers like the td() literals
_TIN = re.compile(r"(?<![\w.$])(tin|twithin)\(\s*([^(),\"]*?)\s*,\s*([^(),\"]*?)\s*\)")


def _tin_bound(text: str) -> str | None:
    if text == "":
        return "."
    if re.fullmatch(r"-?\d+(\.\d*)?|\.", text):
        return text
    for kind in ("td", "tc", "tm", "tq", "th", "tw"):
        v = _literal_value(kind, text)
        if v is not None:
            return repr(float(v)) if v != int(v) else str(int(v))
    return None


def _tin_bounds(m) -> str:
    lo, hi = _tin_bound(m.group(2)), _tin_bound(m.group(3))
    return m.group(0) if lo is None or hi is None else f"{m.group(1)}({lo}, {hi})"
