"""Stata missing values inside float64 arrays.

All missing values are NaN, so numpy/pandas/the engine treat them as missing without help.
The extended codes .a-.z ride in the NaN payload (bits 32-39, which also survive a cast to
float32): '.' is the plain NaN (code 0), '.a' is code 1 ... '.z' code 26. Arithmetic on NaN
gives a plain NaN, which matches Stata (arithmetic on any missing gives '.').
Ordering follows Stata: every number < . < .a < ... < .z.
"""
import numpy as np

_QNAN = np.uint64(0x7FF8000000000000)
_SHIFT = np.uint64(32)
# Value used to order missing values above every number: Stata's own '.' is 2^1023.
ORDER_BASE = 8.98846567431158e307
_ORDER_STEP = 2.0 ** 1010


def ext_missing(code: int) -> float:
    """Float for '.' (code 0) or '.a'..'.z' (code 1..26)."""
    if code == 0:
        return float("nan")
    bits = np.array([_QNAN | (np.uint64(code) << _SHIFT)], dtype=np.uint64)
    return float(bits.view(np.float64)[0])


def parse_missing(token: str) -> float:
    """'.', '.a' .. '.z' -> float."""
    if token == ".":
        return float("nan")
    if len(token) == 2 and token[0] == "." and "a" <= token[1] <= "z":
        return ext_missing(ord(token[1]) - ord("a") + 1)
    raise ValueError(token)


def missing_code(a) -> np.ndarray:
    """Code per element: -1 for a number, 0 for '.', 1..26 for .a-.z."""
    arr = np.asarray(a, dtype=np.float64)
    nan = np.isnan(arr)
    bits = arr.view(np.uint64) if arr.ndim else np.array([arr]).view(np.uint64)
    code = ((bits >> _SHIFT) & np.uint64(0xFF)).astype(np.int64)
    code = np.where(code > 26, 0, code).reshape(arr.shape)
    return np.where(nan, code, -1)


def order_key(a) -> np.ndarray:
    """Map values to floats that sort and compare the way Stata orders them (missing last)."""
    arr = np.asarray(a, dtype=np.float64)
    code = missing_code(arr)
    return np.where(code < 0, arr, ORDER_BASE + code * _ORDER_STEP)


def missing_str(x: float) -> str:
    c = int(missing_code(np.array([x]))[0])
    return "." if c <= 0 else "." + chr(ord("a") + c - 1)


def is_missing(a) -> np.ndarray:
    return np.isnan(np.asarray(a, dtype=np.float64))
