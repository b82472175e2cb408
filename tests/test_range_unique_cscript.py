"""range (official), unique (Tony Brady's, SSC), cscript (official): values checked against numpy."""
from __future__ import annotations

import numpy as np
import pytest

from tests.session_run import interp_session, irun, iok


def test_range_extends_and_spaces_evenly():
    s = interp_session("clear")
    iok(s, "range t 0 10 11")
    assert s.data.n == 11
    np.testing.assert_allclose(s.data.vars["t"].values, np.float32(np.linspace(0, 10, 11)))
    iok(s, "range u 1 2")                          # #obs defaults to _N
    np.testing.assert_allclose(s.data.vars["u"].values, np.float32(np.linspace(1, 2, 11)))
    iok(s, "set type double")
    iok(s, "range w 0 _pi 5")                      # fewer steps than observations: the rest missing
    w = s.data.vars["w"].values
    np.testing.assert_allclose(w[:5], np.linspace(0, np.pi, 5), rtol=1e-15)
    assert np.isnan(w[5:]).all() and s.data.vars["w"].vtype == "double"


@pytest.mark.parametrize("line,rc", [("range t 0 1 5", 110), ("range z a b", 111), ("range q 0", 198),
                                     ("range q 0 1 0", 198), ('range q "a" 1', 109), ("range 1q 0 1", 198)])
def test_range_bad_input(line, rc):
    s = interp_session("clear", "set obs 3", "gen t = 1")
    got, _ = irun(s, line)
    assert got == rc and s.data.names == ["t"] and s.data.n == 3


def _data():
    return interp_session("clear", "set obs 10", "gen a = mod(_n, 3)", "gen b = _n > 5",
                          "replace a = . in 10", 'gen str1 s = cond(_n < 4, "x", "y")')


def test_unique_counts_missing_as_a_value():
    s = _data()
    out = iok(s, "unique a")
    a = s.data.vars["a"].values
    k = len(set(np.where(np.isnan(a), -1, a)))
    assert f"Number of unique values of a is  {k}" in out and "Number of records is  10" in out
    assert s.r.scalars["unique"] == k == 4
    iok(s, "unique a s if b")
    rows = s.data.vars["b"].values == 1
    pairs = {(x, y) for x, y in zip(np.where(np.isnan(a), -1, a)[rows], s.data.vars["s"].values[rows])}
    assert s.r.scalars["unique"] == len(pairs) and s.r.scalars["N"] == rows.sum()


def test_unique_by_generates_group_counts():
    s = _data()
    iok(s, "unique a, by(b) gen(na)")
    a = np.where(np.isnan(s.data.vars["a"].values), -1, s.data.vars["a"].values)
    b = s.data.vars["b"].values
    want = {g: len(set(a[b == g])) for g in (0, 1)}
    assert list(s.data.vars["na"].values) == [want[g] for g in b]
    assert s.r.scalars["sum"] == sum(want.values()) and s.r.scalars["maxJ"] == max(want.values())
    rc, _ = irun(s, "unique a, gen(x)")
    assert rc == 198 and "x" not in s.data.names
    rc, _ = irun(s, "unique nosuch")
    assert rc == 111


def test_cscript_header_and_clear_all():
    s = _data()
    iok(s, "program define myp\n display 1\nend")
    out = iok(s, 'cscript "tests of x" adofiles foo')
    head = out.strip().splitlines()[0]
    assert head.endswith("BEGIN tests of x") and set(head[:-len("BEGIN tests of x")]) == {"-"}
    assert len(head) == 79
    assert s.data.n == 0 and "myp" not in s.programs


def test_mata_housekeeping_still_accepted():
    """mata mata clear / mata: mata set ... succeed; Mata code itself now runs
    (tests/test_mata.py), a bad statement failing with Mata's code."""
    s = interp_session("clear", "set obs 2", "gen x = 1")
    for line in ("mata mata clear", "mata: mata clear", "mata clear", "mata mata set matastrict off",
                 "mata: mata describe"):
        iok(s, line)
    iok(s, "mata: x = 1")
    iok(s, "mata st_view(X, ., .)")
    rc, out = irun(s, 'mata st_view(X, ., "nosuch")')
    assert rc == 3500 and "st_view()" in out
    assert s.data.n == 2
