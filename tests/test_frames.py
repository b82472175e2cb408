"""Data frames (Stata 16+): create/change/copy/rename/drop/dir/pwf/reset/put, the `frame name:`
prefix and `frame name { }` block, cwf/mkf/pwf, c(frame); errors leave the frames unchanged."""
import numpy as np
import pytest

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


def _session():
    s = Session()
    ok(s, "set obs 4")
    ok(s, "generate id = _n")
    ok(s, "generate y = 2*_n")
    return s


def _col(s, name):
    return list(np.asarray(s.data.var(name).values, dtype=float))


def test_copy_rename_dir_and_change():
    s = _session()
    ok(s, "frame copy default cp")
    ok(s, "frame rename default wide")
    out = ok(s, "frames dir")
    assert out.splitlines() == ["  cp    4 x 2", "  wide  4 x 2"]
    assert s.r.macros["frames"] == "cp wide"
    assert ok(s, "frame pwf").strip() == "(current frame is wide)"
    assert ok(s, "display c(frame)").strip() == "wide"
    ok(s, "frame change cp")
    ok(s, "replace y = -y")
    ok(s, "cwf wide")
    assert _col(s, "y") == [2.0, 4.0, 6.0, 8.0]          # the copy is its own dataset
    ok(s, "frame cp: generate z = y + 1")
    assert "z" not in s.data.vars and s.frame == "wide"
    assert list(s.frames["cp"].var("z").values) == [-1.0, -3.0, -5.0, -7.0]


def test_frame_block_runs_in_the_frame_and_comes_back_after_an_error():
    s = _session()
    ok(s, "mkf other")
    text = "frame other {\n set obs 3\n generate w = _n\n}\ndisplay c(frame)\n"
    s.out = Capture()
    assert Interpreter(s).run_text(text, echo=False, name="t.do") == 0
    assert s.frames["other"].n == 3 and s.frame == "default"
    s.out = Capture()
    rc = Interpreter(s).run_text("frame other {\n generate v = 1\n drop nosuch\n}\n", echo=False,
                                 name="t.do")
    assert rc == 111 and s.frame == "default"
    assert "v" in s.frames["other"].vars                  # commands before the error ran


def test_put_create_with_variables_drop_and_reset():
    s = _session()
    ok(s, "frame put id if y > 4, into(sub)")
    assert list(s.frames["sub"].var("id").values) == [3.0, 4.0]
    assert list(s.frames["sub"].vars) == ["id"]
    ok(s, "frame put in 1/2, into(top)")
    assert list(s.frames["top"].vars) == ["id", "y"] and s.frames["top"].n == 2
    ok(s, "frame create results str10 name double b")
    res = s.frames["results"]
    assert [(v.name, v.vtype) for v in res.vars.values()] == [("name", "str10"), ("b", "double")]
    ok(s, "frame drop sub top")
    assert sorted(s.frames) == ["results"]
    ok(s, "frame reset")
    assert s.frames == {} and s.frame == "default" and s.data.n == 0


def test_copy_replace_and_prefix_runs_programs_and_estimation():
    s = _session()
    ok(s, "frame create two")
    rc, out = run(s, "frame copy default two")
    assert rc == 110 and "already defined" in out
    ok(s, "frame copy default two, replace")
    ok(s, "frame two: quietly regress y id")
    assert s.e is not None and s.e.scalars["N"] == 4


@pytest.mark.parametrize("line, rc", [
    ("frame change nosuch", 111),
    ("frame nosuch: list", 111),
    ("frame create default", 110),
    ("frame create 1bad", 198),
    ("frame drop default", 110),
    ("frame drop nosuch", 111),
    ("frame rename nosuch x", 111),
    ("frame copy default", 198),
    ("frame copy default x, bogus", 198),
    ("frame put id, into(default)", 110),
    ("frame put id", 198),
    ("frame put nosuch, into(n)", 111),
    ("frame put id if nosuch, into(n)", 111),
    ("frame bogus", 198),
    ("frame dir extra", 198),
    ("frame default:", 198),
    ("frame default: nosuchcommand", 199),
    ("cwf", 198),
    ("by id: frame dir", 190),
])
def test_bad_frame_lines_leave_the_frames_unchanged(line, rc):
    s = _session()
    ok(s, "frame create keep")
    before = (s.frame, sorted(s.frames), list(s.data.vars))
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert (s.frame, sorted(s.frames), list(s.data.vars)) == before


def test_failed_command_inside_the_prefix_restores_that_frame():
    s = _session()
    ok(s, "frame copy default b")
    rc, _ = run(s, "frame b: replace nosuch = 1")
    assert rc == 111 and s.frame == "default" and list(s.frames["b"].vars) == ["id", "y"]


@pytest.mark.parametrize("line", ["clear all", "clear frames"])
def test_clear_all_and_clear_frames_drop_every_frame(line):
    s = _session()
    ok(s, "frame create other")
    ok(s, "frame rename default main")
    ok(s, line)
    assert s.frames == {} and s.frame == "default" and s.data.n == 0


def test_plain_clear_keeps_the_other_frames():
    s = _session()
    ok(s, "frame copy default other")
    ok(s, "clear")
    assert s.frames["other"].n == 4 and s.data.n == 0
