"""How a value becomes macro text: `local x = exp` stores a number as %18.0g-like text and a
string as itself. Shared by the macro expander (macros.py) and display (display.py)."""
from __future__ import annotations

import math

import numpy as np

from hlmshell.data.missing import missing_str


def num_to_macro(x: float) -> str:
    """Number -> macro text the way `local x = exp` stores it (%18.0g-like, no leading 0)."""
    if isinstance(x, str):
        return x
    x = float(x)
    if not math.isfinite(x):        # NaN (any missing) -- and +-inf, which Stata cannot hold: "."
        return missing_str(x) if math.isnan(x) else "."
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    s = f"{x:.16g}"
    if "e" in s:
        mant, ex = s.split("e")
        e = int(ex)
        s = f"{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if s.startswith("0."):
        s = s[1:]
    elif s.startswith("-0."):
        s = "-" + s[2:]
    return s


def value_to_text(v) -> str:
    if isinstance(v, np.ndarray):
        v = (v.ravel()[0] if v.size else ("" if v.dtype == object else float("nan")))
    if isinstance(v, str):
        return v
    return num_to_macro(float(v))
