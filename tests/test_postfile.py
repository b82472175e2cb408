"""postfile/post/postclose: the dataset written at postclose holds exactly what was posted
(values, types, names), a regression's _b posted equals numpy's least squares, errors leave
no file behind and the data in memory alone."""
import os

import numpy as np
import pytest

from hlmshell.data.dta import read_dta
from session_run import interp_session
from session_run import irun as run


@pytest.fixture()
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return interp_session("use hsb")


def test_posts_written_at_close(s, tmp_path):
    rc, out = run(s, "postfile h double b se str6 tag int k using res, replace\n"
                     "foreach v in ses size {\n"
                     "  quietly regress mathach `v'\n"
                     "  post h (_b[`v']) (_se[`v']) (\"`v'\") (c(N))\n"
                     "}\n")
    assert rc == 0, out
    assert not (tmp_path / "res.dta").exists()          # nothing written before postclose
    rc, out = run(s, "postclose h")
    assert rc == 0, out
    ds = read_dta(str(tmp_path / "res.dta"))
    assert ds.names == ["b", "se", "tag", "k"]
    assert [ds.var(n).vtype for n in ds.names] == ["double", "float", "str6", "int"]
    y = np.asarray(s.data.var("mathach").values, float)
    for row, v in enumerate(["ses", "size"]):
        x = np.asarray(s.data.var(v).values, float)
        X = np.column_stack([x, np.ones_like(x)])
        beta = np.linalg.lstsq(X, y, rcond=None)[0]
        assert ds.var("b").values[row] == pytest.approx(beta[0], rel=1e-10)
        assert ds.var("tag").values[row] == v
        assert ds.var("k").values[row] == 7185
    assert s.data.n == 7185                              # the data in memory untouched


@pytest.mark.parametrize("text,rc", [
    ("postfile h a b using r1\npostfile h c using r2", 110),
    ("postfile h a b using r3\npost h (1)", 198),
    ("postfile h a using r4\npost h (\"x\")", 109),
    ("post nosuch (1)", 111),
    ("postclose nosuch", 111),
    ("postfile h a a using r5", 110),
    ("postfile h a using nodir/r6", 603),
    ("postfile h a", 198),
])
def test_errors(s, tmp_path, text, rc):
    got, out = run(s, text)
    assert got == rc, out
    assert not any(p.suffix == ".dta" for p in tmp_path.iterdir())


def test_existing_file_needs_replace(s, tmp_path):
    (tmp_path / "old.dta").write_bytes(b"x")
    got, out = run(s, "postfile h a using old")
    assert got == 602
    rc, _ = run(s, "postfile h a using old, replace\npost h (1)\npostutil dir\n")
    assert rc == 0 and (tmp_path / "old.dta").read_bytes() == b"x"
    rc, _ = run(s, "postutil clear")
    assert rc == 0 and run(s, "post h (2)")[0] == 111
    assert os.listdir(tmp_path) == ["old.dta"]
