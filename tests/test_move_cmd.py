"""move (old syntax of order ..., before()): the new variable order, and refusals."""
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


def test_move_puts_the_first_where_the_second_was():
    s = Session(out=Capture())
    ok(s, "use hsb")
    names = list(s.data.names)
    ok(s, f"move {names[-1]} {names[1]}")
    assert s.data.names == [names[0], names[-1]] + names[1:-1]
    ok(s, f"move {names[0]} {names[-2]}")          # moving right: before the target
    expect = [n for n in [names[0], names[-1]] + names[1:-1] if n != names[0]]
    expect.insert(expect.index(names[-2]), names[0])
    assert s.data.names == expect
    ok(s, "move ses ses")
    assert s.data.names == expect
    ok(s, "move ses id")
    again = list(s.data.names)
    ok(s, "order ses, before(id)")              # the same as today's order
    assert s.data.names == again


def test_refusals():
    s = Session(out=Capture())
    ok(s, "use hsb")
    before = list(s.data.names)
    assert run(s, "move ses")[0] == 198
    assert run(s, "move ses id mathach")[0] == 198
    assert run(s, "move nosuch id")[0] == 111
    assert run(s, "move ses id, after")[0] == 198
    assert s.data.names == before
