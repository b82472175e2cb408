"""Stata display formats: %w.dg, %w.0g, %w.df, %w.de, %w.dfc/%w.0gc, %ws, %-w..."""
from __future__ import annotations

import math
import re

from hlmshell.data.missing import missing_str
from hlmshell.errors import StataError

_FMT = re.compile(r"%(-)?(0)?(\d+)(?:\.(\d+))?([gfe])(c)?$")


MAX_WIDTH = 2045                # the widest format Stata takes (its longest str#)


class FormatError(StataError, ValueError):
    """A format spec that is not a Stata %fmt: Stata's r(120) where it reaches the user; still a
    ValueError for callers that fall back to a default format."""

    def __init__(self, spec: str):
        super().__init__("invalid %format", 120)
        self.spec = spec


def _not_finite(x) -> bool:
    """NaN (missing) or +-inf: Stata has no infinities, a result that overflows is missing."""
    return isinstance(x, float) and not math.isfinite(x)


def _missing_text(x) -> str:
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return "."
    return missing_str(x)


def _strip0(s: str) -> str:
    if "." in s and "e" not in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _lead(s: str) -> str:
    """Stata drops the leading zero: 0.5 -> .5, -0.5 -> -.5."""
    if s.startswith("0.") and len(s) > 2:
        return s[1:]
    if s.startswith("-0.") and len(s) > 3:
        return "-" + s[2:]
    return s


def _commas(s: str) -> str:
    neg = s.startswith("-")
    body = s[1:] if neg else s
    ip, dot, fp = body.partition(".")
    ip = f"{int(ip):,}" if ip else ip
    return ("-" if neg else "") + ip + dot + fp


def fmt_g(x: float, width: int = 9, digits: int | None = None) -> str:
    """Stata's %w.0g text (not padded).

    The digits without the sign fit in width-1 characters (%9.0g: 2.906627, -1.283094,
    .0111923, 12345678, 1.23e+08, 1.00e+08); fixed notation wins unless the exponential form shows
    more significant digits (.0000492 but 6.64e-08). `digits` caps significant digits (%w.dg).
    """
    if x is None or _not_finite(x):
        return _missing_text(x)
    if x == 0:
        return "0"
    room = max(width - 1, 1)
    ax = abs(x)
    sign = "-" if x < 0 else ""
    mag = math.floor(math.log10(ax))
    exp_sig = max(room - 5, 1)
    if digits:
        exp_sig = min(exp_sig, digits)
    # fixed notation
    if mag >= 0:
        intd = mag + 1
        if intd <= room and (not digits or intd <= digits):
            dec = max(0, room - intd - 1)
            if digits:
                dec = min(dec, max(digits - intd, 0))
            s = f"{ax:.{dec}f}"
            if len(s.split(".")[0]) > intd:  # rounding carried into a new digit
                dec = max(dec - 1, 0)
                s = f"{ax:.{dec}f}"
            s = _strip0(s)
            if len(s) <= room:
                return sign + s
    else:
        fixed_sig = room + mag  # '.' and -mag-1 leading zeros use the rest
        if digits:
            fixed_sig = min(fixed_sig, digits)
        if fixed_sig >= 1 and fixed_sig >= exp_sig:
            dec = -mag - 1 + fixed_sig
            s = _lead(_strip0(f"{ax:.{dec}f}"))
            if s not in ("0", ".", "") and len(s) <= room:
                return sign + s
    # exponential: the mantissa keeps its trailing zeros (Stata's `display 1e10` is 1.000e+10,
    # %9.0g of 1e8 is 1.00e+08); only a form too wide loses digits
    s = ""
    for d in range(max(exp_sig - 1, 0), -1, -1):
        s = f"{ax:.{d}e}"
        mant, ex = s.split("e")
        e = int(ex)
        s = f"{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
        if len(s) <= room:
            return sign + s
    return sign + s


def _fmt_f(x: float, w: int, d: int, comma: bool) -> str:
    """%w.df / %w.dfc text (not padded). A number too wide for the format switches to
    e-notation with d decimals, as Stata's does (`display %9.2fc 10000000` shows 1.00e+07),
    with fewer decimals if even that is too wide: an oversized t or chi2 never pushes a
    table's columns apart. Commas go only where they fit."""
    s = f"{x:.{d}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    if comma and len(_commas(s)) <= w:
        s = _commas(s)
    if len(s) <= w:
        return s
    for dd in range(d, -1, -1):
        s = f"{x:.{dd}e}"
        if len(s) <= w:
            break
    return s


def fmt(x, spec: str) -> str:
    """Format x with a Stata format spec, padded to its width (right-aligned unless %-)."""
    if isinstance(x, str):
        m = re.match(r"%(-)?(\d+)s$", spec)
        if m:
            w = int(m.group(2))
            if w > MAX_WIDTH:
                raise FormatError(spec)
            return x.ljust(w) if m.group(1) else x.rjust(w)
        return x
    m = _FMT.match(spec)
    if not m:
        return _fmt_time(x, spec)
    left, _zero, w, d, kind, comma = m.groups()
    w = int(w)
    d = int(d) if d is not None else 0
    if w > MAX_WIDTH or (d and d >= w):     # %9.300f: more decimals than the width holds
        raise FormatError(spec)
    if x is not None and not isinstance(x, float):
        x = float(x)
    if x is None or _not_finite(x):
        s = _missing_text(x)
    elif kind == "g":
        s = fmt_g(float(x), w, d or None)
        if comma and "e" not in s:
            s = _commas(s)
    elif kind == "f":
        s = _fmt_f(float(x), w, d, bool(comma))
    else:
        s = f"{float(x):.{d}e}"
    return s.ljust(w) if left else s.rjust(w)


def _fmt_time(x, spec: str) -> str:
    """%td, %tc, %tm, ... (hlmshell.output.datefmt); anything else is not a format."""
    from hlmshell.output.datefmt import fmt_time, is_time_format

    if not is_time_format(spec):
        raise FormatError(spec)
    if x is not None and not isinstance(x, float):
        x = float(x)
    try:
        if x is None or _not_finite(x):
            return _missing_text(x).rjust(len(fmt_time(0.0, spec)))
        return fmt_time(x, spec)
    except ValueError:
        raise FormatError(spec) from None


def fmt_count(n: int, width: int = 0) -> str:
    """Counts with thousands separators: 7,185."""
    return f"{int(n):,}".rjust(width)
