"""misstable tree: Stata's nested pattern of missing values, checked against a real Stata log
(two variables, percent and frequency) and against a brute-force count of every cell."""
import itertools

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run


def test_layout_matches_a_stata_log():
    # the log: HUBUS 18,921 missing (.a), HETENURE 14,852 (.), all of them within HUBUS's
    s = Session()
    ok(s, "set obs 151308")
    ok(s, "generate HETENURE = cond(_n <= 14852, ., 1)")
    ok(s, "generate HUBUS = cond(_n <= 18921, .a, 1)")
    out = ok(s, "misstable tree HETENURE HUBUS")
    assert out.splitlines() == [
        "",
        "  Nested pattern of missing values",
        "       HUBUS   HETENURE",
        "  ---------------------",
        "          13%        10%",
        "                      3",
        "          87          0",
        "                     87",
        "  ---------------------",
        " (percent missing listed first)",
    ]
    out = ok(s, "misstable tree HETENURE HUBUS, frequency")
    assert out.splitlines()[4:8] == [
        "      18,921     14,852",
        "                  4,069",
        "     132,387          0",
        "                132,387",
    ]
    assert out.splitlines()[-1] == " (number missing listed first)"
    assert s.r.macros["vars"] == "HUBUS HETENURE"
    out = ok(s, "misstable tree HETENURE HUBUS, asis exok")      # .a is not missing now
    assert out.splitlines()[2] == "    HETENURE"


def _leaves(out):
    """The numbers of the table, row by row, as written."""
    lines = out.splitlines()
    body = lines[lines.index(next(ln for ln in lines if ln.strip().startswith("---"))) + 1:]
    body = body[:body.index(next(ln for ln in body if ln.strip().startswith("---")))]
    return [[int(x.replace(",", "")) for x in ln.split()] for ln in body]


def test_every_cell_matches_a_brute_force_count():
    rng = np.random.default_rng(5)
    s = Session()
    ok(s, "set obs 300")
    miss = {}
    for name, p in (("a", 0.4), ("b", 0.3), ("c", 0.2)):
        m = rng.random(300) < p
        miss[name] = m
        ok(s, f"generate {name} = runiform()")
        s.data.vars[name] = s.data.vars[name].evolve(values=np.where(m, np.nan, 1.0))
    out = ok(s, "misstable tree a b c, frequency asis")
    # depth-first: each row starts where the previous row's branch turned to "nonmissing"
    expected, row = [], []
    for pattern in itertools.product((True, False), repeat=3):
        sel = np.ones(300, dtype=bool)
        cells = []
        for name, is_missing in zip("abc", pattern):
            sel = sel & (miss[name] if is_missing else ~miss[name])
            cells.append(int(sel.sum()))
        expected.append(cells)
    got = _leaves(out)
    # row k shows the cells from the first column whose branch differs from row k-1's
    rebuilt = []
    for k, pattern in enumerate(itertools.product((True, False), repeat=3)):
        if k == 0:
            start = 0
        else:
            prev = list(itertools.product((True, False), repeat=3))[k - 1]
            start = next(i for i in range(3) if prev[i] != pattern[i])
        rebuilt.append(expected[k][start:])
    assert got == rebuilt


def test_default_order_most_missing_first_and_messages():
    s = Session()
    ok(s, "set obs 10")
    ok(s, "generate x = cond(_n <= 2, ., 1)")
    ok(s, "generate y = cond(_n <= 5, ., 1)")
    ok(s, "generate z = 1")
    out = ok(s, "misstable tree x y z")
    assert out.splitlines()[2] == "           y          x"
    assert ok(s, "misstable tree z").strip() == "(no missing values)"
    assert ok(s, "misstable tree x if _n > 20").strip() == "(no observations)"


@pytest.mark.parametrize("line, rc", [
    ("misstable tree nosuch", 111),
    ("misstable tree x, bogus", 198),
    ("misstable summarize x, exok", 198),
    ("misstable tree x if", 198),
])
def test_bad_tree_lines(line, rc):
    s = Session()
    ok(s, "set obs 3")
    ok(s, "generate x = cond(_n == 1, ., 1)")
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
