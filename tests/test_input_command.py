"""`input`: data typed in a do-file up to `end` (issue 13, real handouts build toy data so).
Values are checked against the typed numbers as Stata stores them (float unless typed)."""
import numpy as np
from session_run import ok, run

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.lexer import input_state


def fresh():
    return Session(Capture())


def test_creates_float_variables_and_echoes_the_lines():
    s = fresh()
    out = ok(s, "input x y\n1 4.1\n2 .\n3 .a\nend")
    assert s.data.names == ["x", "y"] and s.data.n == 3
    assert s.data.var("y").vtype == "float"
    y = s.data.var("y").values
    assert y[0] == np.float32(4.1) and np.isnan(y[1]) and np.isnan(y[2])
    assert "             x          y" in out
    assert "  1. 1 4.1" in out and "  4. end" in out
    assert ok(s, "display y[3] == .a").strip().endswith("1")


def test_types_strings_and_a_line_continued():
    s = fresh()
    ok(s, 'input str10 name double age\n"Ann Lee" 34.25\nBob\n28\nend')
    assert s.data.var("name").vtype == "str10" and s.data.var("age").vtype == "double"
    assert list(s.data.var("name").values) == ["Ann Lee", "Bob"]
    assert list(s.data.var("age").values) == [34.25, 28.0]


def test_appends_to_existing_variables_numbering_from_the_next_observation():
    s = fresh()
    ok(s, "input id\n1\n2\nend")
    out = ok(s, "input\n3\nend")
    assert "  3. 3" in out
    assert list(s.data.var("id").values) == [1, 2, 3]
    ok(s, "input score\n10\nend")               # a new variable fills from observation 1
    v = s.data.var("score").values
    assert v[0] == 10 and np.isnan(v[1:]).all()


def test_bad_input_keeps_the_session():
    s = fresh()
    ok(s, "input x\n1\nend")
    rc, out = run(s, "input x\nabc\nend")
    assert rc == 198 and "cannot be read as a number" in out
    assert s.data.n == 1
    rc, out = run(s, "input str5 x\nend")
    assert rc == 110
    rc, _ = run(s, "input y, label\n1\nend")
    assert rc == 198 and "y" not in s.data.names
    rc, out = run(s, "input z\n1\n")               # no `end`
    assert rc == 612


def test_the_repl_waits_for_end():
    assert not input_state("input x\n1").complete
    assert input_state("input x\n1\nend").complete
    assert input_state("inp x\nend").complete and not input_state("quietly input x").complete
    assert not input_state("quietly: input x").complete
    assert input_state("input_var = 1").complete    # a longer word is not input
