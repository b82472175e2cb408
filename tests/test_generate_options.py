"""generate's before()/after() and replace's nopromote, through their handlers on hsb."""
import numpy as np
import pytest

from hlmshell.errors import StataError
from datacmd import run, s  # noqa: F401 (fixture)


def test_generate_after_and_before_place_the_new_variable(s):
    run(s, "generate y = 2, after(id)")
    run(s, "gen z = 3, before(id)")
    names = s.data.names
    assert names[:3] == ["z", "id", "y"]
    assert np.all(s.data.var("y").values == 2)


@pytest.mark.parametrize("line,rc", [
    ("gen a = 1, after(nosuch)", 111),
    ("gen a = 1, before(id) after(id)", 198),
    ("gen a = 1, after(id ses)", 103),
    ("gen a = 1, foo", 198),
])
def test_generate_placement_errors_leave_no_variable(s, line, rc):
    with pytest.raises(StataError) as e:
        run(s, line)
    assert e.value.rc == rc
    assert "a" not in s.data.names


def test_replace_nopromote_keeps_the_storage_type(s):
    run(s, "gen byte x = 1")
    out = run(s, "replace x = 1.5, nopromote")
    assert s.data.var("x").vtype == "byte" and "0 real changes made" in out
    out = run(s, "replace x = 300 in 1, nopromote")
    assert s.data.var("x").vtype == "byte" and np.isnan(s.data.var("x").values[0])
    out = run(s, "replace x = 2.5 in 2")
    assert "variable x was byte now float" in out


def test_replace_nopromote_truncates_strings(s):
    run(s, 'gen str2 t = "ab"')
    run(s, 'replace t = "abcd" in 1, nopromote')
    assert s.data.var("t").vtype == "str2" and s.data.var("t").values[0] == "ab"
