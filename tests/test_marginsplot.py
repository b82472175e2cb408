"""marginsplot draws the last margins: one connected line per level of the other dimension,
its points the margins of r(table), capped intervals at its ll/ul, Stata's titles."""
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
    ok(s, "mixed mathach c.ses##i.sector || id:, nolog")
    return s


def _graph(s):
    st = s.graphs
    return st.graphs[st.current] if hasattr(st, "graphs") else st.get("Graph")


def test_lines_and_intervals_are_the_margins(s, tmp_path):
    ok(s, "margins sector, at(ses=(-2(1)2))")
    m = s.r.margins
    ok(s, "marginsplot")
    g = _graph(s)
    assert g.title == "Adjusted predictions of sector with 95% CIs"    # Stata names the term
    lines = [se for se in g.panels[0].series if se.kind == "connected"]
    cis = [se for se in g.panels[0].series if se.kind == "rcap"]
    assert len(lines) == 2 and len(cis) == 2
    assert sorted(se.label for se in lines) == ["sector=0", "sector=1"]
    got = np.sort(np.concatenate([se.y for se in lines]))
    assert np.allclose(got, np.sort(m.table[0]), rtol=1e-12)
    assert np.allclose(np.sort(np.concatenate([se.y for se in cis])), np.sort(m.table[4]))
    assert np.allclose(np.sort(np.concatenate([se.y2 for se in cis])), np.sort(m.table[5]))
    assert all(np.array_equal(se.x, [-2, -1, 0, 1, 2]) for se in lines)
    ok(s, f"graph export {tmp_path / 'm.png'}, width(600) replace")
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_horizontal_puts_the_margins_on_x(s, tmp_path):
    ok(s, "margins sector, at(ses=(-2(1)2))")
    m = s.r.margins
    ok(s, "marginsplot, horizontal")
    g = _graph(s)
    p = g.panels[0]
    lines = [se for se in p.series if se.kind == "connected"]
    cis = [se for se in p.series if se.kind == "rcap"]
    assert np.allclose(np.sort(np.concatenate([se.x for se in lines])), np.sort(m.table[0]), rtol=1e-12)
    assert all(np.array_equal(se.y, [-2, -1, 0, 1, 2]) for se in lines)
    assert all(se.style.get("horizontal") for se in cis)
    assert np.allclose(np.sort(np.concatenate([se.y for se in cis])), np.sort(m.table[4]))
    assert p.xaxis.title.startswith("Linear prediction") and "socio" in p.yaxis.title.lower()
    ok(s, f"graph export {tmp_path / 'h.png'}, width(500) replace")
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_several_dydx_variables_are_a_dimension(s):
    """margins, dydx(*) then marginsplot, horizontal allsimple: one estimate per variable,
    placed at 1..k on the category axis and named there (a public melogit do-file)."""
    ok(s, "margins, dydx(ses sector)")
    m = s.r.margins
    ok(s, "marginsplot, horizontal recast(scatter) xline(0) allsimple")
    g = _graph(s)
    p = g.panels[0]
    pts = [se for se in p.series if se.kind == "scatter"]
    keep = [j for j in range(m.table.shape[1]) if not (m.status and m.status[j] == "base")]
    assert len(pts) == 1 and np.allclose(pts[0].x, m.table[0, keep], rtol=1e-12)
    assert list(pts[0].y) == [1.0, 2.0]
    assert p.yaxis.ticklabels == ["ses", "1.sector"] or p.yaxis.ticklabels == ["ses", "sector"]
    assert g.title == "Average marginal effects with 95% CIs"
    assert p.xlines == [0.0]


def test_options_and_derivatives(s):
    ok(s, "margins, dydx(ses) at(sector=(0 1))")
    ok(s, 'marginsplot, noci recast(line) title("slopes")')
    g = _graph(s)
    assert g.title == "slopes"
    kinds = [se.kind for se in g.panels[0].series]
    assert kinds == ["line"]
    rc, _ = run(s, "marginsplot, recast(pie)")
    assert rc == 198


def test_needs_margins():
    s = Session(out=Capture())
    s.data = read_dta(HSB)
    ok(s, "regress mathach ses")
    rc, _ = run(s, "marginsplot")
    assert rc == 301


def test_axis_titles_use_variable_labels(s):
    """Stata titles marginsplot's x axis with the x dimension's variable label (its name when
    it has none) and the y axis with the prediction's label."""
    ok(s, "margins sector, at(ses=(-2(1)2))")
    ok(s, "marginsplot")
    g = _graph(s)
    assert g.panels[0].xaxis.title == "socio-economic status (standardized)"
    assert g.panels[0].yaxis.title == "Linear prediction, fixed portion"
    ok(s, "label variable ses")
    ok(s, "marginsplot")
    assert _graph(s).panels[0].xaxis.title == "ses"
    ok(s, 'marginsplot, xtitle("SES")')
    assert _graph(s).panels[0].xaxis.title == "SES"


def test_default_titles_name_the_margins_terms(s):
    ok(s, "margins, at(ses=(-1 1))")
    ok(s, "marginsplot")
    assert _graph(s).title == "Predictive margins with 95% CIs"            # no marginlist
    ok(s, "margins sector")
    ok(s, "marginsplot")
    assert _graph(s).title == "Predictive margins of sector with 95% CIs"
    ok(s, "margins, over(sector)")
    ok(s, "marginsplot")
    assert _graph(s).title == "Predictive margins with 95% CIs"             # over() is no term
    ok(s, "margins, dydx(ses) at(sector=(0 1))")
    ok(s, "marginsplot")
    assert _graph(s).title == "Average marginal effects of ses with 95% CIs"
