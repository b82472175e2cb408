"""Stata's old `for` command (pre-8 syntax still run by Stata 17): lists of the four types,
several lists (X, Y, ...), several commands joined by `\\`, its options, and bad input."""
import numpy as np
import pytest

from hlmshell.session import Session
from hlmshell.syntax.oldfor import parse_for, substitute
from tests.session_run import ok, run


def _session():
    s = Session()
    ok(s, "set obs 4")
    ok(s, "generate q11a = _n")
    ok(s, "generate q11b = cond(_n == 2, 97, _n)")
    ok(s, "generate q12a = cond(_n == 3, -77, 10)")
    ok(s, "generate q13 = 97")
    ok(s, "generate q14 = 5")
    return s


def _col(s, name):
    return np.asarray(s.data.var(name).values, dtype=float)


def test_for_var_recodes_each_variable_and_shows_each_command():
    s = _session()
    out = ok(s, "for var q11a-q12a q13 q14: replace X = .a if X==97 | X==-77")
    assert "-> replace q11b = .a if q11b==97 | q11b==-77" in out
    assert out.count("-> replace") == 5           # q11a q11b q12a (range) + q13 q14
    assert np.isnan(_col(s, "q11b")[1]) and np.isnan(_col(s, "q12a")[2])
    assert np.isnan(_col(s, "q13")).all()
    assert not np.isnan(_col(s, "q14")).any()


def test_for_num_and_new_with_two_lists_and_two_commands():
    s = _session()
    ok(s, "for num 1/3: generate vX = X*X")
    assert [_col(s, f"v{k}")[0] for k in (1, 2, 3)] == [1.0, 4.0, 9.0]
    ok(s, r"for new a b c \ num 10 20 30: generate X = Y \ replace X = X + q11a")
    assert list(_col(s, "b")) == [21.0, 22.0, 23.0, 24.0]
    assert list(_col(s, "c")) == [31.0, 32.0, 33.0, 34.0]


def test_for_any_and_options():
    s = _session()
    out = ok(s, 'for any hello world, noheader: display "X"')
    assert "->" not in out and "hello" in out and "world" in out
    out = ok(s, "for num 1 2, dryrun: generate zX = 1")
    assert "-> generate z1 = 1" in out and "z1" not in s.data.vars


def test_for_stops_at_first_error_unless_nostop():
    s = _session()
    rc, out = run(s, "for num 1 2: generate q11a = X")
    assert rc == 110
    rc, out = run(s, "for any q11a newv, nostop: generate X = 1")
    assert rc == 0 and "already defined" in out and "newv" in s.data.vars


def test_for_under_quietly_and_capture():
    s = _session()
    out = ok(s, "quietly for num 1/2: generate wX = X")
    assert out.strip() == "" and "w2" in s.data.vars
    ok(s, "capture for var nosuch: replace X = 1")
    assert s.rc == 111


@pytest.mark.parametrize("line, rc", [
    ("for var q11a", 198),                          # no colon
    ("for foo a b: display X", 198),                # unknown list type
    (r"for var q11a \ num 1 2: display X", 198),    # lists of different lengths
    ("for var nosuch: display X", 111),
    ("for num 1/x: display X", 121),
    ("for new q11a: generate X = 1", 110),
    ("for num 1, bogus: display X", 198),
    ("by q13: for num 1: display X", 190),
    ("for num 1: ", 198),
])
def test_bad_for_lines(line, rc):
    s = _session()
    before = sorted(s.data.vars)
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out and sorted(s.data.vars) == before


def test_parse_and_substitute_split_at_top_level_only():
    spec = parse_for(r' var a b \ num 1 2 : display "X\Y" \ matrix M = (X\Y)')
    assert spec.lists == (("varlist", "a b"), ("numlist", "1 2"))
    assert spec.commands == ('display "X\\Y"', "matrix M = (X\\Y)")
    assert substitute("gen XY = X + Y", ("a", "1")) == "gen a1 = a + 1"

