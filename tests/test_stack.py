"""stack: the stacked columns against numpy concatenations of the blocks; group(), wide,
repeated variables, types, if/in and refusals."""
import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s():
    s = Session(out=Capture())
    ok(s, "use hsb")
    ok(s, "keep in 1/50")
    ok(s, "save h50")
    return s


@pytest.fixture(autouse=True)
def _cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _col(s, nm):
    return s.data.var(nm).values


def test_into_one_and_two(s):
    a, b, c = (_col(s, v).astype(float) for v in ("ses", "mathach", "meanses"))
    ok(s, "stack ses mathach meanses, into(x)")
    assert s.data.names == ["_stack", "x"] and s.data.n == 150
    np.testing.assert_array_equal(_col(s, "x"), np.concatenate([a, b, c]))
    np.testing.assert_array_equal(_col(s, "_stack"), np.repeat([1, 2, 3], 50))
    ok(s, "use h50, clear")
    ok(s, "stack ses mathach meanses ses in 11/20, into(x y) clear")
    assert s.data.n == 20
    np.testing.assert_array_equal(_col(s, "x"), np.concatenate([a[10:20], c[10:20]]))
    np.testing.assert_array_equal(_col(s, "y"), np.concatenate([b[10:20], a[10:20]]))
    assert s.data.var("x").vtype == "double"          # ses (double) and meanses share x


def test_group_and_wide(s):
    ses = _col(s, "ses").astype(float)
    ok(s, "stack ses mathach if female == 1, group(2) wide")
    fem = s.data.names
    assert fem == ["_stack", "ses", "mathach"]
    ok(s, "use h50, clear")
    f = _col(s, "female") == 1
    ok(s, "stack ses mathach sector mathach if female == 1, group(2) wide clear")
    assert s.data.names == ["_stack", "ses", "mathach", "sector"]
    k = int(f.sum())
    np.testing.assert_array_equal(_col(s, "ses")[:k], ses[f])
    sec = _col(s, "sector")
    assert np.all(np.isnan(sec[:k])) and not np.any(np.isnan(sec[k:]))


def test_refusals(s):
    ok(s, 'generate str3 t = "a"')
    n = s.data.n
    assert run(s, "stack ses mathach meanses, into(x y) clear")[0] == 198
    assert run(s, "stack ses t, into(x) clear")[0] == 109
    assert run(s, "stack ses mathach, into(x) group(2) clear")[0] == 198
    assert run(s, "stack ses mathach, clear")[0] == 198
    assert run(s, "stack ses mathach, into(1x) clear")[0] == 198
    assert run(s, "stack ses mathach, into(x)")[0] == 4        # t was added: unsaved changes
    assert run(s, "stack nosuch, into(x) clear")[0] == 111
    assert s.data.n == n and "t" in s.data
