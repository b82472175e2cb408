"""Mata values as numpy arrays: every value is 2-D (a scalar is 1 x 1); reals are float64
with NaN for missing, strings are object arrays of str. A function that returns nothing
gives None (void).

Missing values: arithmetic turns them (and division by zero, overflow) into missing; in
comparisons a missing value is larger than every number, as in Stata.
"""
from __future__ import annotations

import numpy as np

from hlmshell.mata.errors import MataError, type_mismatch

MISSING = float("nan")


def real(x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return a


def string(x) -> np.ndarray:
    a = np.empty((1, 1), dtype=object)
    a[0, 0] = str(x)
    return a


def strings(rows: list[list[str]]) -> np.ndarray:
    r = len(rows)
    c = len(rows[0]) if rows else 0
    a = np.empty((r, c), dtype=object)
    for i, row in enumerate(rows):
        for j, s in enumerate(row):
            a[i, j] = s
    return a


def is_string(v) -> bool:
    return isinstance(v, np.ndarray) and v.dtype == object


def is_real(v) -> bool:
    return isinstance(v, np.ndarray) and v.dtype != object


def need_value(v) -> np.ndarray:
    """A value where one is required (a void function's result is not one)."""
    if v is None:
        raise MataError(3000, "expression has no value")
    return v


def need_real(v) -> np.ndarray:
    v = need_value(v)
    if not is_real(v):
        raise MataError(3253, "nonreal found where real required")
    return v


def need_string(v) -> np.ndarray:
    v = need_value(v)
    if not is_string(v):
        raise type_mismatch()
    return v


def scalar(v) -> float:
    """The number in a real scalar (r(3204) for a matrix, r(3253) for a string)."""
    v = need_real(v)
    if v.shape != (1, 1):
        raise MataError(3204)
    return float(v[0, 0])


def str_scalar(v) -> str:
    v = need_string(v)
    if v.shape != (1, 1):
        raise MataError(3204)
    return v[0, 0]


def integer(v) -> int:
    """A real scalar used as a count or index (missing: out of range)."""
    x = scalar(v)
    if not np.isfinite(x):
        raise MataError(3300)
    return int(np.floor(x + 1e-9)) if x >= 0 else int(np.ceil(x - 1e-9))


def truth(v) -> bool:
    """A condition: a real scalar, true unless 0 (missing is true, as in Stata)."""
    return scalar(v) != 0


def empty_like(v, rows: int, cols: int) -> np.ndarray:
    if is_string(v):
        a = np.empty((rows, cols), dtype=object)
        a[...] = ""
        return a
    return np.full((rows, cols), MISSING)


def clean(a: np.ndarray) -> np.ndarray:
    """Infinities (overflow, x/0) are missing in Mata."""
    if a.dtype != object and a.size:
        a = np.where(np.isfinite(a), a, MISSING)
    return a
