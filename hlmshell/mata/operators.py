"""Mata's operators and their conformability rules.

`+` and `-` need equal shapes (`X :- mean(X)` is how Mata code subtracts a row); `*` is the
matrix product, or elementwise when one side is a scalar; `/` divides by a scalar; `^` takes
scalars. The colon operators are elementwise over c-conformable operands: equal shapes, a
scalar, or a row (column) vector matching the other's columns (rows). `==` and `!=` compare
whole matrices (different shapes are simply unequal); `,` and `\\` join; `::` and `..` make
ranges. Strings add (concatenate) and compare; anything else on them is a type mismatch.
"""
from __future__ import annotations

import numpy as np

from hlmshell.mata.errors import MataError, conform, type_mismatch
from hlmshell.mata.values import (
    clean,
    integer,
    is_string,
    need_value,
    real,
    scalar,
    truth,
)

_COMPARE = {"==": np.equal, "!=": np.not_equal, ">": np.greater, ">=": np.greater_equal,
            "<": np.less, "<=": np.less_equal}


def _both_real(a, b) -> None:
    if is_string(a) or is_string(b):
        raise type_mismatch()


def _same_kind(a, b) -> None:
    if is_string(a) != is_string(b):
        raise type_mismatch()


def c_conformable(a: np.ndarray, b: np.ndarray) -> None:
    ra, ca = a.shape
    rb, cb = b.shape
    ok = ((ra, ca) == (rb, cb) or (ra, ca) == (1, 1) or (rb, cb) == (1, 1)
          or (ra == 1 and ca == cb) or (rb == 1 and ca == cb)
          or (ca == 1 and ra == rb) or (cb == 1 and ra == rb))
    if not ok:
        raise conform()


def _with_nan(fn, a, b):
    with np.errstate(all="ignore"):
        return clean(np.asarray(fn(a, b), dtype=float))


def _order_key(a: np.ndarray) -> np.ndarray:
    """Missing sorts above every number: NaN -> +inf for comparisons."""
    return np.where(np.isnan(a), np.inf, a)


def _compare(op: str, a, b) -> np.ndarray:
    if is_string(a):
        return np.vectorize(lambda x, y: bool(_COMPARE[op](x, y)), otypes=[float])(a, b)
    ka, kb = _order_key(a), _order_key(b)
    if op in ("==", "!="):
        eq = (ka == kb) | (np.isnan(a) & np.isnan(b))
        return (eq if op == "==" else ~eq).astype(float)
    return _COMPARE[op](ka, kb).astype(float)


def colon(op: str, a, b) -> np.ndarray:
    """`:+ :- :* :/ :^ :== ... :& :|`, elementwise over c-conformable operands."""
    c_conformable(a, b)
    if op in (":==", ":!=", ":>", ":>=", ":<", ":<="):
        _same_kind(a, b)
        a2, b2 = np.broadcast_arrays(a, b)
        return _compare(op[1:], a2, b2)
    if op == ":+" and is_string(a) and is_string(b):
        return np.asarray(np.char.add(a.astype(str), b.astype(str)), dtype=object)
    _both_real(a, b)
    if op == ":&":
        return ((a != 0) & (b != 0)).astype(float)
    if op == ":|":
        return ((a != 0) | (b != 0)).astype(float)
    fn = {":+": np.add, ":-": np.subtract, ":*": np.multiply, ":/": np.divide,
          ":^": _power}[op]
    return _with_nan(fn, a, b)


def _power(a, b):
    with np.errstate(all="ignore"):
        return np.power(a, b)


def add(op: str, a, b) -> np.ndarray:
    if a.shape != b.shape:
        raise conform()
    if op == "+" and is_string(a) and is_string(b):
        return np.asarray(np.char.add(a.astype(str), b.astype(str)), dtype=object).reshape(a.shape)
    _both_real(a, b)
    return _with_nan(np.add if op == "+" else np.subtract, a, b)


def multiply(a, b) -> np.ndarray:
    if is_string(a) or is_string(b):
        return _repeat(a, b)
    if a.shape == (1, 1) or b.shape == (1, 1):
        return _with_nan(np.multiply, a, b)
    if a.shape[1] != b.shape[0]:
        raise conform()
    if a.shape[1] == 0:
        return np.zeros((a.shape[0], b.shape[1]))
    return _with_nan(np.matmul, a, b)


def _repeat(a, b) -> np.ndarray:
    """"ab" * 3: the string repeated (a real scalar times a string scalar, either order)."""
    s, k = (a, b) if is_string(a) else (b, a)
    if is_string(k) or k.shape != (1, 1) or s.shape != (1, 1):
        raise type_mismatch()
    n = integer(k)
    out = np.empty((1, 1), dtype=object)
    out[0, 0] = s[0, 0] * max(n, 0)
    return out


def divide(a, b) -> np.ndarray:
    _both_real(a, b)
    if b.shape != (1, 1):
        raise conform()
    return _with_nan(np.divide, a, b)


def power(a, b) -> np.ndarray:
    """`^` takes scalars (`:^` is the elementwise power)."""
    _both_real(a, b)
    if a.shape != (1, 1) or b.shape != (1, 1):
        raise conform()
    return _with_nan(_power, a, b)


def kronecker(a, b) -> np.ndarray:
    _both_real(a, b)
    return _with_nan(np.kron, a, b)


def compare(op: str, a, b) -> np.ndarray:
    """`==` `!=`: whole matrices, any shapes; `<` ...: equal shapes, true if true everywhere."""
    _same_kind(a, b)
    if op in ("==", "!="):
        same = a.shape == b.shape and bool(np.all(_compare("==", a, b)))
        return real(float(same if op == "==" else not same))
    if a.shape != b.shape:
        c_conformable(a, b)
        a, b = np.broadcast_arrays(a, b)
    return real(float(bool(np.all(_compare(op, a, b)))))


def logical(op: str, a, b) -> np.ndarray:
    """`&` `|` on real scalars."""
    return real(float(truth(a) and truth(b)) if op in ("&", "&&") else float(truth(a) or truth(b)))


def join(op: str, a, b) -> np.ndarray:
    """`,` (side by side) and `\\` (one above the other); an empty operand adds nothing."""
    _same_kind_join(a, b)
    if op == ",":
        if a.shape[1] == 0 and a.shape[0] == 0:
            return b.copy()
        if b.shape[1] == 0 and b.shape[0] == 0:
            return a.copy()
        if a.shape[0] != b.shape[0]:
            raise conform()
        return np.hstack([a, b])
    if a.shape[0] == 0 and a.shape[1] == 0:
        return b.copy()
    if b.shape[0] == 0 and b.shape[1] == 0:
        return a.copy()
    if a.shape[1] != b.shape[1]:
        raise conform()
    return np.vstack([a, b])


def _same_kind_join(a, b) -> None:
    if is_string(a) != is_string(b) and a.size and b.size:
        raise type_mismatch()


def span(op: str, a, b) -> np.ndarray:
    """`a::b` (a column) and `a..b` (a row), by steps of 1 towards b."""
    lo, hi = scalar(a), scalar(b)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise MataError(3351)
    step = 1.0 if hi >= lo else -1.0
    count = int(np.floor(abs(hi - lo) + 1e-12)) + 1
    vals = lo + step * np.arange(count)
    return vals.reshape(-1, 1) if op == "::" else vals.reshape(1, -1)


def binary(op: str, a, b) -> np.ndarray:
    a, b = need_value(a), need_value(b)
    if op.startswith(":") and op != "::":
        return colon(op, a, b)
    if op in ("+", "-"):
        return add(op, a, b)
    if op in _BINARY:
        return _BINARY[op](a, b)
    if op in _COMPARE:
        return compare(op, a, b)
    if op in (",", "\\"):
        return join(op, a, b)
    if op in ("::", ".."):
        return span(op, a, b)
    raise MataError(3000, "invalid expression", compile_time=True)


_BINARY = {"*": multiply, "/": divide, "^": power, "#": kronecker}


def negate(a) -> np.ndarray:
    a = need_value(a)
    _both_real(a, a)
    return -a


def logical_not(a) -> np.ndarray:
    a = need_value(a)
    _both_real(a, a)
    return (a == 0).astype(float)


def transpose(a) -> np.ndarray:
    return need_value(a).T.copy()
