"""Stata's %w.0g exponential form keeps the mantissa's trailing zeros; fixed notation does not.

Stata 17: `display 1e10` is 1.000e+10, `display %9.0g 1e8` is 1.00e+08, `display 1e20` is
1.000e+20, `display 2.5` is 2.5. The digits without the sign fit in width-1 characters, so %9.0g
shows 3 significant digits in e-notation and %10.0g 4.
"""
from __future__ import annotations

import pytest

from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.output.writer import Capture
from hlmshell.session import Session

CASES = [
    # %9.0g: d.dde+XX
    (1e8, 9, "1.00e+08"),
    (-1e8, 9, "-1.00e+08"),
    (123456789, 9, "1.23e+08"),
    (1.5e15, 9, "1.50e+15"),
    (-1.5e15, 9, "-1.50e+15"),
    (-3.18e9, 9, "-3.18e+09"),
    (3.18e9, 9, "3.18e+09"),
    (6.64e-08, 9, "6.64e-08"),
    (-6.64e-08, 9, "-6.64e-08"),
    (1e-10, 9, "1.00e-10"),
    (2e-30, 9, "2.00e-30"),
    (1e100, 9, "1.0e+100"),          # a 3-digit exponent leaves room for one decimal
    # %10.0g: d.ddde+XX
    (1e10, 10, "1.000e+10"),
    (-1e10, 10, "-1.000e+10"),
    (1e20, 10, "1.000e+20"),
    (1.5e15, 10, "1.500e+15"),
    (-3.18e9, 10, "-3.180e+09"),
    (6.64e-08, 10, "6.640e-08"),
    (-6.64e-08, 10, "-6.640e-08"),
    (123456789012, 10, "1.235e+11"),
    (1e-10, 10, "1.000e-10"),
    # fixed notation still drops trailing zeros
    (2.5, 9, "2.5"),
    (-2.5, 10, "-2.5"),
    (12345678, 9, "12345678"),
    (100, 9, "100"),
    (0.0000492, 9, ".0000492"),
    (1e-5, 10, ".00001"),
    (0.1, 9, ".1"),
]


@pytest.mark.parametrize("x,width,text", CASES, ids=[f"{c[0]!r}-{c[1]}" for c in CASES])
def test_fmt_g(x, width, text):
    assert fmt_g(x, width) == text
    assert fmt(x, f"%{width}.0g") == text.rjust(width)


@pytest.mark.parametrize("line,text", [
    ("display 1e10", "1.000e+10"),
    ("display %9.0g 1e8", " 1.00e+08"),
    ("display 1e20", "1.000e+20"),
    ("display -1e10", "-1.000e+10"),
    ("display %9.0g 1.5e15", " 1.50e+15"),
    ("display %9.0g -3.18e9", "-3.18e+09"),
    ("display %9.0g 6.64e-08", " 6.64e-08"),
    ("display %10.0g -6.64e-08", "-6.640e-08"),
    ("display 2.5", "2.5"),
])
def test_display(line, text):
    from hlmshell.interpreter import Interpreter

    s = Session(Capture())
    Interpreter(s)
    assert s.interpreter.run_line(line) == 0
    assert s.out.getvalue() == text + "\n"
