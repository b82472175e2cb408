"""marginsplot's plot#opts()/ci#opts() and mplotoffset (N. Winter's SSC command): line g of G
moves along x by offset * (g - (G-1)/2); the margins themselves are unchanged."""
import os

import numpy as np
import pytest

import hlmshell
from hlmshell.data.dta import read_dta
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import ok, run

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")


@pytest.fixture()
def s():
    s = Session(out=Capture())
    s.data = read_dta(HSB)
    ok(s, "quietly regress mathach i.sector##i.female ses")
    ok(s, "quietly margins sector#female")
    return s


def _graph(s):
    st = s.graphs
    return st.graphs[st.current] if hasattr(st, "graphs") else st.get("Graph")


def _lines(g, kind="connected"):
    return [se for se in g.panels[0].series if se.kind == kind]


def test_numbered_plot_and_ci_options(s):
    ok(s, "marginsplot, plot1opts(lcolor(red) msymbol(D)) ci2opts(lpattern(dash))")
    g = _graph(s)
    lines, cis = _lines(g), _lines(g, "rcap")
    assert lines[0].style.get("lcolor") == "red" and lines[0].style.get("marker") == "D"
    assert lines[1].style.get("lcolor") != "red"
    assert cis[1].style.get("lpattern") == "dash" and cis[0].style.get("lpattern") != "dash"
    assert run(s, "marginsplot, plot1opts(nonsense(1))")[0] == 198


@pytest.mark.parametrize("line, step", [("mplotoffset, offset(0.05)", 0.05), ("mplotoffset", 0.1)])
def test_offset_moves_lines_apart(s, line, step):
    m = s.r.margins
    ok(s, line)
    g = _graph(s)
    lines, cis = _lines(g), _lines(g, "rcap")
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].x, [0 - step / 2, 1 - step / 2])
    np.testing.assert_allclose(lines[1].x, [0 + step / 2, 1 + step / 2])
    np.testing.assert_allclose(cis[0].x, lines[0].x)
    got = np.sort(np.concatenate([se.y for se in lines]))
    np.testing.assert_allclose(got, np.sort(m.table[0]), rtol=1e-12)


def test_using_a_saved_margins_file(s, tmp_path):
    f = tmp_path / "mm"
    ok(s, f'quietly margins sector#female, saving("{f}", replace)')
    ok(s, f'mplotoffset using "{f}.dta", offset(0.2) title("Age 65+") xline(1, lpattern(shortdash))')
    g = _graph(s)
    lines = _lines(g)
    assert g.title == "Age 65+"
    np.testing.assert_allclose(sorted(np.concatenate([se.x for se in lines])), [-0.1, 0.1, 0.9, 1.1])


@pytest.mark.parametrize("line", ["mplotoffset, offset(abc)", "mplotoffset using", "mplotoffset x",
                                  "mplotoffset using nosuchfile.dta"])
def test_bad_input(s, line):
    before = s.graphs.current if hasattr(s.graphs, "current") else None
    rc, out = run(s, line)
    assert rc in (198, 601), out
    assert (s.graphs.current if hasattr(s.graphs, "current") else None) == before
