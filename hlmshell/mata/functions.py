"""Mata's library functions of the subset: shapes, sums and means, elementwise math, linear
algebra, sorting and selection, strings, random numbers.

Each takes the evaluated arguments (2-D arrays; None for an omitted one) and returns a
value. FUNCTIONS maps a name to (function, fewest arguments, most arguments). As in Mata,
sums skip missing values, mean() drops rows with a missing value, and a singular or
non-positive-definite matrix inverts to missing values rather than failing.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.mata.errors import MataError, conform
from hlmshell.mata.values import (
    MISSING,
    clean,
    integer,
    is_string,
    need_real,
    need_string,
    need_value,
    real,
    scalar,
    str_scalar,
    strings,
)
from hlmshell.output.numfmt import fmt


def _fail(code: int, message: str | None = None):
    return MataError(code, message)


# ---- shapes and constructors -------------------------------------------------------------------
def _rows(a):
    return real(need_value(a[0]).shape[0])


def _cols(a):
    return real(need_value(a[0]).shape[1])


def _length(a):
    return real(need_value(a[0]).size)


def _dims(a) -> tuple[int, int]:
    r, c = integer(a[0]), integer(a[1])
    if r < 0 or c < 0:
        raise _fail(3300)
    return r, c


def _J(a):
    r, c = _dims(a)
    v = need_value(a[2])
    if v.shape == (1, 1):
        out = np.empty((r, c), dtype=v.dtype)
        out[...] = v[0, 0]
        return out
    return np.tile(v, (r, c))


def _I(a):
    r = integer(a[0])
    c = integer(a[1]) if len(a) > 1 else r
    if r < 0 or c < 0:
        raise _fail(3300)
    return np.eye(r, c)


def _e(a):
    i, n = integer(a[0]), integer(a[1])
    if not 1 <= i <= n:
        raise _fail(3300)
    out = np.zeros((1, n))
    out[0, i - 1] = 1
    return out


def _range(a):
    lo, hi, d = scalar(a[0]), scalar(a[1]), scalar(a[2])
    if d == 0 or not all(map(math.isfinite, (lo, hi, d))):
        raise _fail(3300)
    d = abs(d) if hi >= lo else -abs(d)
    n = math.floor(abs(hi - lo) / abs(d) + 1e-9) + 1
    return (lo + d * np.arange(n)).reshape(-1, 1)


def _vec(a):
    return need_value(a[0]).T.reshape(-1, 1).copy()


def _rowshape(a):
    v, r = need_value(a[0]), integer(a[1])
    if r <= 0 or v.size % r:
        raise conform()
    return v.reshape(r, -1).copy()


def _colshape(a):
    v, c = need_value(a[0]), integer(a[1])
    if c <= 0 or v.size % c:
        raise conform()
    return v.reshape(-1, c).copy()


# ---- sums, means, extremes ---------------------------------------------------------------------
def _sum(a):
    return real(np.nansum(need_real(a[0])))


def _colsum(a):
    return np.nansum(need_real(a[0]), axis=0, keepdims=True)


def _rowsum(a):
    return np.nansum(need_real(a[0]), axis=1, keepdims=True)


def _weighted_rows(a):
    """X and its weights (1 x 1 or n x 1), rows with a missing value in either dropped."""
    x = need_real(a[0])
    w = need_real(a[1]) if len(a) > 1 and a[1] is not None else real(1.0)
    if w.shape == (1, 1):
        w = np.full((x.shape[0], 1), w[0, 0])
    elif w.shape != (x.shape[0], 1):
        raise conform()
    keep = ~(np.isnan(x).any(axis=1) | np.isnan(w[:, 0]))
    return x[keep], w[keep, 0]


def _mean(a):
    """Column means over the rows with no missing value (weighted by w when given)."""
    x, w = _weighted_rows(a)
    if x.shape[0] == 0 or w.sum() == 0:
        return np.full((1, x.shape[1]), MISSING)
    return (w @ x / w.sum()).reshape(1, -1)


def _variance(a):
    """The variance matrix (divisor sum(w) - 1, as Mata's variance())."""
    x, w = _weighted_rows(a)
    k = x.shape[1]
    if x.shape[0] < 2 or w.sum() <= 1:
        return np.full((k, k), MISSING)
    d = x - w @ x / w.sum()
    return (d * w[:, None]).T @ d / (w.sum() - 1)


def _extreme(x, fn, axis=None):
    """min/max skipping missing values; all missing (or nothing) gives missing."""
    if axis is None:
        x = x.reshape(1, -1)
        axis_used = 1
    else:
        axis_used = axis
    shape = (1, x.shape[1]) if axis_used == 0 else (x.shape[0], 1)
    out = np.full(shape, MISSING)
    if x.size == 0:
        return out if axis is not None else real(MISSING)
    ok = ~np.isnan(x).all(axis=axis_used)
    if ok.any():
        lines = x[:, ok] if axis_used == 0 else x[ok, :]
        picked = fn(lines, axis=axis_used)
        if axis_used == 0:
            out[0, ok] = picked
        else:
            out[ok, 0] = picked
    return out


def _min(a):
    return _extreme(need_real(a[0]), np.nanmin)


def _max(a):
    return _extreme(need_real(a[0]), np.nanmax)


def _colmin(a):
    return _extreme(need_real(a[0]), np.nanmin, 0)


def _colmax(a):
    return _extreme(need_real(a[0]), np.nanmax, 0)


def _rowmin(a):
    return _extreme(need_real(a[0]), np.nanmin, 1)


def _rowmax(a):
    return _extreme(need_real(a[0]), np.nanmax, 1)


def _missing(a):
    v = need_value(a[0])
    return real(float(np.sum(v == "")) if is_string(v) else float(np.isnan(v).sum()))


def _nonmissing(a):
    return real(need_value(a[0]).size - scalar(_missing(a)))


def _hasmissing(a):
    return real(float(scalar(_missing(a)) > 0))


def _cross(a):
    x = need_real(a[0])
    z = need_real(a[1]) if len(a) > 1 else x
    if x.shape[0] != z.shape[0]:
        raise conform()
    return np.nan_to_num(x).T @ np.nan_to_num(z)


# ---- elementwise math --------------------------------------------------------------------------
def _elementwise(fn):
    def apply(a):
        x = need_real(a[0])
        with np.errstate(all="ignore"):
            return clean(np.asarray(fn(x), dtype=float))
    return apply


def _round(a):
    x = need_real(a[0])
    unit = need_real(a[1]) if len(a) > 1 and a[1] is not None else real(1.0)
    with np.errstate(all="ignore"):
        return clean(np.floor(x / unit + 0.5) * unit)


def _mod(a):
    x, y = need_real(a[0]), need_real(a[1])
    with np.errstate(all="ignore"):
        return clean(x - y * np.trunc(x / y))


def _normal(x):
    from scipy.special import ndtr
    return ndtr(x)


def _invnormal(x):
    from scipy.special import ndtri
    return np.where((x > 0) & (x < 1), ndtri(np.clip(x, 1e-300, 1 - 1e-16)), MISSING)


def _normalden(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


# ---- linear algebra ----------------------------------------------------------------------------
def _square(x) -> np.ndarray:
    x = need_real(x)
    if x.shape[0] != x.shape[1]:
        raise _fail(3205)
    return x


def _diagonal(a):
    return np.diagonal(need_real(a[0])).reshape(-1, 1).copy()


def _diag(a):
    x = need_real(a[0])
    if x.shape[0] == 1 or x.shape[1] == 1:
        return np.diag(x.ravel())
    if x.shape[0] != x.shape[1]:
        raise _fail(3205)
    return np.diag(np.diagonal(x))


def _trace(a):
    return real(float(np.trace(_square(a[0]))))


def _det(a):
    x = _square(a[0])
    if np.isnan(x).any():
        return real(MISSING)
    return real(float(np.linalg.det(x)) if x.size else 1.0)


def _invsym(a):
    """Stata's generalized inverse of a symmetric matrix by sweeping: a column that depends on
    the earlier ones gets zeros, as Mata's invsym() does."""
    x = _square(a[0])
    if np.isnan(x).any():
        return np.full(x.shape, MISSING)
    k = x.shape[0]
    m = (x + x.T) / 2.0
    out = m.copy()
    tol = 1e-13 * max(np.abs(np.diagonal(m)).max() if k else 0.0, 1e-300)
    swept = []
    for j in range(k):
        d = out[j, j]
        if abs(d) <= tol or (d < 0 and abs(d) <= 1e-9 * abs(m[j, j])):
            out[j, :] = 0.0
            out[:, j] = 0.0
            continue
        out = _sweep(out, j)
        swept.append(j)
    return _fix_sign(out, swept)


def _sweep(a: np.ndarray, j: int) -> np.ndarray:
    d = a[j, j]
    row = a[j, :].copy()
    col = a[:, j].copy()
    b = a - np.outer(col, row) / d
    b[j, :] = row / d
    b[:, j] = col / d
    b[j, j] = -1.0 / d
    return b


def _fix_sign(out: np.ndarray, swept: list[int]) -> np.ndarray:
    """After sweeping every kept pivot the swept block holds -inverse."""
    res = np.zeros_like(out)
    idx = np.array(swept, dtype=int)
    if idx.size:
        res[np.ix_(idx, idx)] = -out[np.ix_(idx, idx)]
    return res


def _luinv(a):
    x = _square(a[0])
    if np.isnan(x).any():
        return np.full(x.shape, MISSING)
    try:
        inv = np.linalg.inv(x)
    except np.linalg.LinAlgError:
        return np.full(x.shape, MISSING)
    if not np.isfinite(inv).all() or (x.size and np.linalg.cond(x) > 1e16):
        return np.full(x.shape, MISSING)
    return inv


def _qrinv(a):
    """qrinv(A): the inverse of a square A of full rank; otherwise the generalized (least-
    squares) inverse from the QR decomposition with column pivoting, A P = Q R: the columns
    of A beyond its rank get zero rows, so qrinv(A)*b is qrsolve()'s basic solution. A is
    m x n, the result n x m; missing values give a matrix of missing values."""
    x = need_real(a[0])
    m, n = x.shape
    if np.isnan(x).any():
        return np.full((n, m), MISSING)
    if not x.size:
        return np.zeros((n, m))
    from scipy.linalg import qr, solve_triangular
    q, r, piv = qr(x, mode="economic", pivoting=True)
    d = np.abs(np.diagonal(r))
    tol = 1e-13 * (d.sum() / len(d) if len(d) else 0.0)
    k = int(np.sum(d > tol))
    out = np.zeros((n, m))
    if k:
        out[piv[:k], :] = solve_triangular(r[:k, :k], q[:, :k].T)
    return out


def _cholesky(a):
    x = _square(a[0])
    try:
        return np.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        return np.full(x.shape, MISSING)


def _cholinv(a):
    x = _square(a[0])
    c = _cholesky([x])
    if np.isnan(c).any():
        return np.full(x.shape, MISSING)
    ci = np.linalg.inv(c)
    return ci.T @ ci


def _rank(a):
    x = need_real(a[0])
    return real(float(np.linalg.matrix_rank(x)) if x.size else 0.0)


# ---- sorting and selection ---------------------------------------------------------------------
def _sort(a):
    """sort(X, idx): rows ordered by the columns in idx (negative: descending), stably;
    missing values last."""
    x = need_value(a[0])
    idx = [int(v) for v in need_real(a[1]).ravel()]
    if any(i == 0 or abs(i) > x.shape[1] for i in idx):
        raise MataError(3300)
    order = list(range(x.shape[0]))
    for i in reversed(idx):
        col = x[:, abs(i) - 1]
        key = [(_sort_key(v)) for v in col]
        order.sort(key=lambda r: key[r], reverse=i < 0)
    return x[order, :].copy()


def _sort_key(v):
    if isinstance(v, str):
        return v
    return (1, 0.0) if math.isnan(v) else (0, float(v))


def _uniqrows(a):
    x = need_value(a[0])
    if x.shape[0] == 0:
        return x.copy()
    srt = _sort([x, real(np.arange(1, x.shape[1] + 1))])
    keep = [0] + [i for i in range(1, srt.shape[0])
                  if any(not _same(srt[i, j], srt[i - 1, j]) for j in range(srt.shape[1]))]
    return srt[keep, :].copy()


def _same(u, v) -> bool:
    if isinstance(u, float) and math.isnan(u):
        return isinstance(v, float) and math.isnan(v)
    return u == v


def _select(a):
    x, v = need_value(a[0]), need_real(a[1])
    if v.shape[1] == 1 and v.shape[0] == x.shape[0]:
        return x[v[:, 0] != 0, :].copy()
    if v.shape[0] == 1 and v.shape[1] == x.shape[1]:
        return x[:, v[0, :] != 0].copy()
    raise conform()


def _editmissing(a):
    x, v = need_real(a[0]), scalar(a[1])
    return np.where(np.isnan(x), v, x)


def _order(a):
    """order(X, idx): the row permutation (1-based, a column) that sort(X, idx) applies."""
    x = need_value(a[0])
    keyed = np.hstack([x, np.arange(1, x.shape[0] + 1, dtype=float).reshape(-1, 1)]) \
        if not is_string(x) else None
    if keyed is None:
        raise MataError(3250)
    return _sort([keyed, a[1]])[:, -1:].copy()


def _any(a):
    return real(float(bool(np.any(need_real(a[0]) != 0))))


def _all(a):
    return real(float(bool(np.all(need_real(a[0]) != 0))))


def _minmax(a):
    x = need_real(a[0])
    return np.hstack([_extreme(x, np.nanmin), _extreme(x, np.nanmax)])


def _lowertriangle(a):
    return np.tril(_square(a[0]))


def _uppertriangle(a):
    return np.triu(_square(a[0]))


def _makesymmetric(a):
    x = _square(a[0])
    return np.tril(x) + np.tril(x, -1).T


def _correlation(a):
    v = _variance(a)
    d = np.sqrt(np.diagonal(v))
    with np.errstate(all="ignore"):
        return clean(v / np.outer(d, d))


def _missing_along(axis: int, count_present: bool):
    def apply(a):
        v = need_value(a[0])
        miss = (v == "") if is_string(v) else np.isnan(v)
        got = (~miss if count_present else miss).sum(axis=axis, keepdims=True)
        return got.astype(float)
    return apply


def _comb(a):
    from scipy.special import comb
    n, k = need_real(a[0]), need_real(a[1])
    with np.errstate(all="ignore"):
        return clean(np.round(comb(n, k)))


# ---- strings -----------------------------------------------------------------------------------
def _map_strings(fn, out_real: bool):
    def apply(a):
        x = need_string(a[0])
        vals = [[fn(s) for s in row] for row in x]
        return np.array(vals, dtype=float).reshape(x.shape) if out_real else _as_strings(vals, x.shape)
    return apply


def _as_strings(vals, shape):
    out = np.empty(shape, dtype=object)
    for i, row in enumerate(vals):
        for j, s in enumerate(row):
            out[i, j] = s
    return out


def _strofreal(a):
    x = need_real(a[0])
    spec = str_scalar(a[1]) if len(a) > 1 else "%9.0g"
    vals = [[_format(v, spec) for v in row] for row in x]
    return _as_strings(vals, x.shape)


def _format(v: float, spec: str) -> str:
    try:
        return fmt(float(v), spec).strip()
    except (ValueError, MataError) as exc:
        raise MataError(3300) from exc


def _strtoreal(a):
    def conv(s: str) -> float:
        try:
            v = float(s.strip())
        except ValueError:
            return MISSING
        return v if math.isfinite(v) else MISSING
    return _map_strings(conv, True)(a)


def _substr(a):
    s = str_scalar(a[0])
    b = integer(a[1])
    n_arg = scalar(a[2]) if len(a) > 2 else MISSING
    start = b - 1 if b > 0 else len(s) + b
    if b == 0 or start < 0 or start >= len(s):
        return strings([[""]])
    end = len(s) if math.isnan(n_arg) else start + max(int(n_arg), 0)
    return strings([[s[start:end]]])


def _subinstr(a):
    """subinstr(s, old, new [, cnt]): the first cnt occurrences (all when cnt is missing)."""
    s, old, new = str_scalar(a[0]), str_scalar(a[1]), str_scalar(a[2])
    cnt = scalar(a[3]) if len(a) > 3 else MISSING
    if not old:
        return strings([[s]])
    return strings([[s.replace(old, new) if math.isnan(cnt) else s.replace(old, new, max(int(cnt), 0))]])


def _eltype(a):
    v = need_value(a[0])
    return strings([["string" if is_string(v) else "real"]])


def _orgtype(a):
    r, c = need_value(a[0]).shape
    kind = ("scalar" if (r, c) == (1, 1) else "rowvector" if r == 1 else
            "colvector" if c == 1 else "matrix")
    return strings([[kind]])


def _strpos(a):
    s, t = str_scalar(a[0]), str_scalar(a[1])
    return real(float(s.find(t) + 1))


def _strreverse(a):
    return strings([[str_scalar(a[0])[::-1]]])


def _invtokens(a):
    x = need_string(a[0])
    sep = str_scalar(a[1]) if len(a) > 1 else " "
    return strings([[sep.join(str(s) for s in x.ravel())]])


def _tokens(a):
    s = str_scalar(a[0])
    parts = s.split()
    return strings([parts]) if parts else np.empty((1, 0), dtype=object)


# ---- random numbers (the session's generator, given by the host) ------------------------------
def random_functions(host):
    """runiform/rnormal draw from the session's generator (read at each call: `set seed`
    replaces it); rseed(#) sets the seed as `set seed #` does."""
    def _runiform(a):
        r, c = _dims(a)
        return host.rng.random((r, c))

    def _rnormal(a):
        r, c = _dims(a)
        m = need_real(a[2]) if len(a) > 2 else real(0.0)
        s = need_real(a[3]) if len(a) > 3 else real(1.0)
        if m.shape != (1, 1) or s.shape != (1, 1):
            raise conform()
        return m[0, 0] + s[0, 0] * host.rng.standard_normal((r, c))

    def _rseed(a):
        seed = integer(a[0])
        if not 0 <= seed <= 2147483647:
            raise MataError(3300)
        host.stata(f"set seed {seed}")

    return {"runiform": (_runiform, 2, 2), "uniform": (_runiform, 2, 2),
            "rnormal": (_rnormal, 4, 4), "rseed": (_rseed, 1, 1), "uniformseed": (_rseed, 1, 1)}


FUNCTIONS = {
    "rows": (_rows, 1, 1), "cols": (_cols, 1, 1), "length": (_length, 1, 1),
    "J": (_J, 3, 3), "I": (_I, 1, 2), "e": (_e, 2, 2), "range": (_range, 3, 3),
    "vec": (_vec, 1, 1), "rowshape": (_rowshape, 2, 2), "colshape": (_colshape, 2, 2),
    "pi": (lambda a: real(math.pi), 0, 0),
    "sum": (_sum, 1, 1), "colsum": (_colsum, 1, 1), "rowsum": (_rowsum, 1, 1),
    "mean": (_mean, 1, 2), "variance": (_variance, 1, 2),
    "min": (_min, 1, 1), "max": (_max, 1, 1), "colmin": (_colmin, 1, 1),
    "colmax": (_colmax, 1, 1), "rowmin": (_rowmin, 1, 1), "rowmax": (_rowmax, 1, 1),
    "missing": (_missing, 1, 1), "nonmissing": (_nonmissing, 1, 1),
    "hasmissing": (_hasmissing, 1, 1), "cross": (_cross, 1, 2),
    "sqrt": (_elementwise(np.sqrt), 1, 1), "exp": (_elementwise(np.exp), 1, 1),
    "ln": (_elementwise(np.log), 1, 1), "log": (_elementwise(np.log), 1, 1),
    "log10": (_elementwise(np.log10), 1, 1), "abs": (_elementwise(np.abs), 1, 1),
    "floor": (_elementwise(np.floor), 1, 1), "ceil": (_elementwise(np.ceil), 1, 1),
    "trunc": (_elementwise(np.trunc), 1, 1), "sign": (_elementwise(np.sign), 1, 1),
    "round": (_round, 1, 2), "mod": (_mod, 2, 2),
    "normal": (_elementwise(_normal), 1, 1), "invnormal": (_elementwise(_invnormal), 1, 1),
    "normalden": (_elementwise(_normalden), 1, 1),
    "diagonal": (_diagonal, 1, 1), "diag": (_diag, 1, 1), "trace": (_trace, 1, 1),
    "det": (_det, 1, 1), "invsym": (_invsym, 1, 1), "luinv": (_luinv, 1, 1), "qrinv": (_qrinv, 1, 1),
    "cholesky": (_cholesky, 1, 1), "cholinv": (_cholinv, 1, 1), "rank": (_rank, 1, 1),
    "sort": (_sort, 2, 2), "uniqrows": (_uniqrows, 1, 1), "select": (_select, 2, 2),
    "editmissing": (_editmissing, 2, 2), "order": (_order, 2, 2),
    "any": (_any, 1, 1), "all": (_all, 1, 1), "minmax": (_minmax, 1, 1),
    "lowertriangle": (_lowertriangle, 1, 1), "uppertriangle": (_uppertriangle, 1, 1),
    "makesymmetric": (_makesymmetric, 1, 1), "correlation": (_correlation, 1, 2),
    "quadsum": (_sum, 1, 1), "quadcolsum": (_colsum, 1, 1), "quadrowsum": (_rowsum, 1, 1),
    "quadcross": (_cross, 1, 2), "quadvariance": (_variance, 1, 2),
    "colmissing": (_missing_along(0, False), 1, 1), "rowmissing": (_missing_along(1, False), 1, 1),
    "colnonmissing": (_missing_along(0, True), 1, 1),
    "rownonmissing": (_missing_along(1, True), 1, 1),
    "lngamma": (_elementwise(np.vectorize(lambda v: math.lgamma(v) if v > 0 else MISSING,
                                          otypes=[float])), 1, 1),
    "factorial": (_elementwise(np.vectorize(
        lambda v: float(math.factorial(int(v))) if v >= 0 and v == int(v) and v <= 170 else MISSING,
        otypes=[float])), 1, 1),
    "comb": (_comb, 2, 2),
    "strofreal": (_strofreal, 1, 2), "strtoreal": (_strtoreal, 1, 1),
    "strlen": (_map_strings(len, True), 1, 1),
    "strupper": (_map_strings(str.upper, False), 1, 1),
    "strlower": (_map_strings(str.lower, False), 1, 1),
    "ustrupper": (_map_strings(str.upper, False), 1, 1),
    "ustrlower": (_map_strings(str.lower, False), 1, 1),
    "ustrlen": (_map_strings(len, True), 1, 1),
    "strtrim": (_map_strings(str.strip, False), 1, 1),
    "strltrim": (_map_strings(str.lstrip, False), 1, 1),
    "strrtrim": (_map_strings(str.rstrip, False), 1, 1),
    "stritrim": (_map_strings(lambda t: re.sub(" {2,}", " ", t), False), 1, 1),
    "subinstr": (_subinstr, 3, 4), "eltype": (_eltype, 1, 1), "orgtype": (_orgtype, 1, 1),
    "isreal": (lambda a: real(float(not is_string(need_value(a[0])))), 1, 1),
    "isstring": (lambda a: real(float(is_string(need_value(a[0])))), 1, 1),
    "substr": (_substr, 2, 3), "strpos": (_strpos, 2, 2), "strreverse": (_strreverse, 1, 1),
    "invtokens": (_invtokens, 1, 2), "tokens": (_tokens, 1, 1),
}
