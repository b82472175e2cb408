"""Numeric lists: `numlist` (1/5 10(5)20 ...) and the ranges of `forvalues` (1(2)9, 1 3 to 9)."""
from __future__ import annotations

import math
import re

from hlmshell.errors import StataError


_MAX_ELEMENTS = 10_000_000


def _num(t: str) -> float:
    try:
        v = float(t)
    except ValueError:
        raise StataError("invalid numlist", 121) from None
    if not math.isfinite(v):        # 1e400, nan, inf: not numbers Stata can hold
        raise StataError("invalid numlist", 121)
    return v


def _steps(a: float, d: float, b: float) -> list[float]:
    if d == 0:
        raise StataError("invalid numlist", 121)
    if (b - a) / d >= _MAX_ELEMENTS:    # refuse before building a list that large
        raise StataError("invalid numlist has too many elements", 123)
    out = []
    k = 0
    tol = abs(d) * 1e-9
    while True:
        v = a + k * d
        if (d > 0 and v > b + tol) or (d < 0 and v < b - tol):
            break
        out.append(round(v, 12))
        k += 1
        if k > _MAX_ELEMENTS:
            raise StataError("invalid numlist has too many elements", 123)
    return out


def forvalues_range(spec: str) -> list[float]:
    """`1/10`, `1(2)9`, `10(-1)1`, `1 3 to 9`, `1 3 : 9`."""
    spec = spec.strip()
    m = re.fullmatch(r"(\S+)\s*/\s*(\S+)", spec)
    if m:
        a, b = _num(m.group(1)), _num(m.group(2))
        return _steps(a, 1.0, b)
    m = re.fullmatch(r"(\S+)\s*\(\s*(\S+)\s*\)\s*(\S+)", spec)
    if m:
        return _steps(_num(m.group(1)), _num(m.group(2)), _num(m.group(3)))
    m = re.fullmatch(r"(\S+)\s+(\S+)\s*(?:to|:)\s*(\S+)", spec)
    if m:
        a, a2, b = _num(m.group(1)), _num(m.group(2)), _num(m.group(3))
        return _steps(a, a2 - a, b)
    raise StataError("invalid syntax", 198)


def numlist(text: str) -> list[float]:
    """Stata numlist: `1 2 3`, `1/5`, `0(5)20`, `10(-2)2`, mixtures."""
    out: list[float] = []
    spec = re.sub(r"\s*/\s*", "/", text.strip())
    spec = re.sub(r"\s*\(\s*", "(", spec)
    spec = re.sub(r"\s*\)\s*", ")", spec)
    for tok in spec.split():
        if "/" in tok:
            a, b = tok.split("/", 1)
            a, b = _num(a), _num(b)
            out.extend(_steps(a, 1.0 if b >= a else -1.0, b))
        elif "(" in tok:
            m = re.fullmatch(r"([^()]+)\(([^()]+)\)([^()]+)", tok)
            if not m:
                raise StataError("invalid numlist", 121)
            out.extend(_steps(_num(m.group(1)), _num(m.group(2)), _num(m.group(3))))
        else:
            out.append(_num(tok))
    return out
