"""combomarginsplot (SSC): several `margins, saving()` files in one marginsplot. The lines are
the files' margins (read back from the files themselves), one per file and level of the other
dimensions, labelled `File #` or by labels(); savefile() stacks the files with _filenumber."""
import numpy as np
import pytest

from hlmshell.data.dta import read_dta
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.hsb_fixtures import HSB
from tests.session_run import ok, run


def _graph(s):
    st = s.graphs
    return st.graphs[st.current] if hasattr(st, "graphs") else st.get("Graph")


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Session(Capture())
    ok(s, f'use "{HSB}"')
    ok(s, "regress mathach c.ses##i.female if minority == 0")
    ok(s, "margins female, at(ses=(-2(1)2)) saving(m0)")
    ok(s, "regress mathach c.ses##i.female if minority == 1")
    ok(s, "margins female, at(ses=(-2(1)2)) saving(m1)")
    return s


def test_lines_are_the_saved_margins(s, tmp_path):
    ok(s, 'combomarginsplot m0 m1, labels("White" "Minority") file2opts(lpattern(dash))')
    g = _graph(s)
    lines = [se for se in g.panels[0].series if se.kind == "connected"]
    cis = [se for se in g.panels[0].series if se.kind == "rcap"]
    assert len(lines) == 4 and len(cis) == 4
    assert [se.label for se in lines] == ["female=0, White", "female=1, White",
                                          "female=0, Minority", "female=1, Minority"]
    for k, name in enumerate(("m0", "m1")):
        d = read_dta(tmp_path / f"{name}.dta")
        fem = np.asarray(d.var("_m1").values)
        for lev in (0, 1):
            line = lines[2 * k + lev]
            sel = fem == lev
            want = np.asarray(d.var("_margin").values)[sel]
            x = np.asarray(d.var("_at1").values)[sel]
            assert np.allclose(line.x, np.sort(x))
            assert np.allclose(line.y, want[np.argsort(x)])
    assert lines[2].style.get("lpattern") == "dash" and lines[0].style.get("lpattern") != "dash"
    assert g.title == "Adjusted predictions of female with 95% CIs"


def test_default_labels_noci_and_savefile(s, tmp_path):
    out = ok(s, "combomarginsplot m0 m1, noci savefile(comb)")
    assert "Saving combined margins file comb" in out
    g = _graph(s)
    assert all(se.kind == "connected" for se in g.panels[0].series)
    assert g.panels[0].series[0].label == "female=0, File 1"
    d = read_dta(tmp_path / "comb.dta")
    assert d.n == 20 and "_filenumber" in d
    assert d.value_labels[d.var("_filenumber").vallab] == {1.0: "File 1", 2.0: "File 2"}
    assert run(s, "combomarginsplot m0 m1, savefile(comb)")[0] == 602      # no replace


def test_bad_lines(s, tmp_path):
    ok(s, "save plain")
    for line, rc in (("combomarginsplot", 100), ("combomarginsplot nosuchfile", 601),
                     ("combomarginsplot plain", 198), ("combomarginsplot m0, level(90)", 198),
                     ("combomarginsplot m0, bogus", 198), ("combomarginsplot m0, recast(pie)", 198)):
        got, out = run(s, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out
