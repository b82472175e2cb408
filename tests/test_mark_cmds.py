"""mark, markout (sysmissok), markin: marker variables checked against numpy masks on hsb."""
import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import interp_session, iok, irun, ok, run


@pytest.fixture
def s():
    s = Session(out=Capture())
    ok(s, "use hsb")
    return s


def test_mark_markout_keep_as_do_files_use_it(s):
    ok(s, "replace ses = . if mod(_n, 7) == 0")
    ok(s, 'generate str3 t = cond(mod(_n, 5) == 0, "", "abc")')
    ok(s, "mark touse if sector == 1")
    ses = s.data.var("ses").values
    sector = s.data.var("sector").values
    assert s.data.var("touse").vtype == "byte"
    assert np.array_equal(s.data.var("touse").values, (sector == 1).astype(float))
    ok(s, "markout touse ses mathach")
    want = (sector == 1) & ~np.isnan(ses)
    assert np.array_equal(s.data.var("touse").values.astype(bool), want)
    ok(s, "mark t2")
    ok(s, "markout t2 t, strok")
    assert s.data.var("t2").values.sum() == s.data.n - s.data.n // 5
    ok(s, "mark t3")
    ok(s, "markout t3 t")                       # a string variable without strok: all 0
    assert s.data.var("t3").values.sum() == 0
    ok(s, "keep if touse")
    assert s.data.n == int(want.sum())


def test_mark_weights_and_in(s):
    ok(s, "generate w = cond(mod(_n, 4) == 0, 0, cond(mod(_n, 9) == 0, ., 1))")
    w = s.data.var("w").values
    ok(s, "mark a [aw=w]")
    assert np.array_equal(s.data.var("a").values.astype(bool), ~np.isnan(w) & (w != 0))
    ok(s, "mark b [aw=w], zeroweight")
    assert np.array_equal(s.data.var("b").values.astype(bool), ~np.isnan(w))
    ok(s, "mark c [iw=w-1]")
    assert np.array_equal(s.data.var("c").values.astype(bool), ~np.isnan(w) & (w != 1))
    assert run(s, "mark e [pw=w-1]")[0] == 402
    ok(s, "mark d in 11/20")
    assert s.data.var("d").values.sum() == 10 and s.data.var("d").values[10] == 1


def test_markout_sysmissok(s):
    ok(s, "replace ses = .a in 1")
    ok(s, "replace ses = . in 2")
    ok(s, "mark m")
    ok(s, "markout m ses, sysmissok")
    assert list(s.data.var("m").values[:3]) == [1, 0, 1]
    ok(s, "mark m2")
    ok(s, "markout m2 ses")
    assert list(s.data.var("m2").values[:3]) == [0, 0, 1]


def test_refusals(s):
    assert run(s, "mark ses")[0] == 110
    assert run(s, "mark a b")[0] == 198
    assert run(s, "mark 1a")[0] == 198
    assert run(s, "mark a if nosuch")[0] == 111
    assert run(s, "mark a, nosuch")[0] == 198
    assert run(s, "markout ses, nosuch")[0] == 198
    assert "a" not in s.data


def test_markin_gives_the_range():
    s = interp_session("use hsb")
    iok(s, "program cnt\n syntax [if] [in]\n marksample touse\n markin if `touse'\n"
           " display \"`in'\"\n count `in' if `touse'\n markin if `touse', name(r)\n display \"`r'\"\nend")
    out = iok(s, "cnt if sector == 1 & _n > 100 in 1/3000")
    sector = s.data.var("sector").values
    idx = np.flatnonzero(sector[:3000] == 1)
    idx = idx[idx >= 100]
    first, last = idx[0] + 1, idx[-1] + 1
    assert out.splitlines().count(f"in {first}/{last}") == 2
    assert f"{idx.size:,}" in out
    assert irun(s, "markin, nosuch")[0] == 198
