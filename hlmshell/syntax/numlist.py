"""Numeric lists: `numlist` (1/5 10(5)20 ...) and the ranges of `forvalues` (1(2)9, 1 3 to 9)."""
from __future__ import annotations

import math
import re
from typing import Iterator

from hlmshell.errors import StataError


_MAX_ELEMENTS = 10_000_000
# forvalues iterates lazily (no list), so its only bound is the loop counter's: 2^31 - 1 passes
_MAX_LOOP = 2_147_483_647


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


def _lazy_steps(a: float, d: float, b: float) -> Iterator[float]:
    """The values a, a+d, ... up to b, one at a time (no list, no length limit)."""
    k = 0
    tol = abs(d) * 1e-9
    while True:
        v = a + k * d
        if (d > 0 and v > b + tol) or (d < 0 and v < b - tol):
            return
        yield round(v, 12)
        k += 1


def forvalues_range(spec: str) -> Iterator[float]:
    """`1/10`, `1(2)9`, `10(-1)1`, `1 3 to 9`, `1 3 : 9`: checked now, iterated lazily
    (`forvalues i = 1/100000000` left by `continue, break` never builds its range)."""
    spec = spec.strip()
    m = re.fullmatch(r"(\S+)\s*/\s*(\S+)", spec)
    if m:
        a, d, b = _num(m.group(1)), 1.0, _num(m.group(2))
    else:
        m = re.fullmatch(r"(\S+)\s*\(\s*(\S+)\s*\)\s*(\S+)", spec)
        m2 = None if m else re.fullmatch(r"(\S+)\s+(\S+)\s*(?:to|:)\s*(\S+)", spec)
        if m:
            a, d, b = _num(m.group(1)), _num(m.group(2)), _num(m.group(3))
        elif m2:
            a, b = _num(m2.group(1)), _num(m2.group(3))
            d = _num(m2.group(2)) - a
        else:
            raise StataError("invalid syntax", 198)
    if d == 0:
        raise StataError("invalid numlist", 121)
    if (b - a) / d >= _MAX_LOOP:          # a loop that could never finish is refused up front
        raise StataError("invalid numlist has too many elements", 123)
    return _lazy_steps(a, d, b)


def numlist(text: str) -> list[float]:
    """Stata numlist: `1 2 3`, `1/5`, `0(5)20`, `10(-2)2`, mixtures; elements may be separated
    by commas too (`at(0,18,65,100)`, as egen's help writes it)."""
    out: list[float] = []
    spec = re.sub(r"\s*,\s*", " ", text.strip())
    spec = re.sub(r"\s*/\s*", "/", spec)
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
