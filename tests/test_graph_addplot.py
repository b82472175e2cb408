"""addplot() on histogram, kdensity, qnorm, pnorm, rvfplot, xtline and marginsplot, and
marginsplot's plotopts(), ciopts(), by()/bydimension(): checked on the drawn figure (points,
lines, their data, panels)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from test_graph_helpers import G, scatter_points


@pytest.fixture(scope="module")
def g():
    return G()


def _xy(series):
    return np.asarray(series.x, float), np.asarray(series.y, float)


def test_histogram_addplot_scatter_points(g):
    g.ok("histogram mathach, addplot(scatter mathach ses in 1/50)")
    gr = g.graph()
    added = gr.panels[0].series[-1]
    assert added.kind == "scatter"
    x, y = _xy(added)
    assert np.allclose(x, g.col("ses")[:50]) and np.allclose(y, g.col("mathach")[:50])
    fig = g.fig()
    pts = scatter_points(fig.axes[0])
    assert len(pts) == 1 and pts[0].shape == (50, 2)
    assert np.allclose(pts[0][:, 0], g.col("ses")[:50])


def test_histogram_by_addplot_per_panel(g):
    g.ok("histogram mathach, by(sector) addplot(scatter mathach ses)")
    gr = g.graph()
    assert len(gr.panels) == 2
    sector = g.col("sector")
    for p, lv in zip(gr.panels, (0, 1)):
        sc = [s for s in p.series if s.kind == "scatter"]
        assert len(sc) == 1 and len(sc[0].x) == int(np.sum(sector == lv))


def test_kdensity_addplot_and_below(g):
    g.ok("kdensity mathach, addplot(kdensity mathach if sector == 1)")
    lines = [s for s in g.graph().panels[0].series if s.kind == "line"]
    assert len(lines) == 2 and lines[1].style["pstyle"] == 1
    assert len(g.fig().axes[0].lines) == 2
    g.ok("pnorm mathach, addplot((line mathach ses, sort), below)")
    first = g.graph().panels[0].series[0]
    assert first.kind == "line"
    x, _ = _xy(first)
    assert np.all(np.diff(x) >= 0) and len(x) == len(g.col("ses"))


def test_qnorm_addplot_function(g):
    g.ok("qnorm mathach, addplot(function y = x, range(0 25))")
    fn = g.graph().panels[0].series[-1]
    x, y = _xy(fn)
    assert fn.kind == "line" and np.allclose(x, y) and x.min() == 0 and x.max() == 25


def test_rvfplot_and_xtline_addplot():
    g = G(["use hsb", "quietly regress mathach ses", "generate zero = 0"])
    g.ok("rvfplot, addplot(line zero ses, sort)")
    p = g.graph().panels[0]
    assert [s.kind for s in p.series] == ["scatter", "line"]
    assert np.all(np.asarray(p.series[1].y) == 0)
    g = G(["clear", "set obs 12", "generate id = ceil(_n/4)", "generate t = mod(_n-1, 4)",
           "generate y = id * t", "xtset id t"])
    g.ok("xtline y, addplot(scatter y t)")
    gr = g.graph()
    assert len(gr.panels) == 3
    for k, p in enumerate(gr.panels):
        sc = [s for s in p.series if s.kind == "scatter"]
        assert len(sc) == 1 and np.allclose(np.asarray(sc[0].y), (k + 1) * np.arange(4))


@pytest.mark.parametrize("line,rc", [("histogram mathach, addplot(bogus y x)", 198),
                                     ("histogram mathach, addplot()", 198),
                                     ("kdensity mathach, addplot(scatter nosuch ses)", 111)])
def test_addplot_errors(g, line, rc):
    before = dict(g.s.graphs.graphs) if g.s.graphs is not None else {}
    g.fails(line, rc)
    after = dict(g.s.graphs.graphs) if g.s.graphs is not None else {}
    assert list(after) == list(before)


@pytest.fixture(scope="module")
def m():
    g = G(["use hsb", "quietly regress mathach i.sector##c.ses",
           "quietly margins sector, at(ses=(-2(1)2))"])
    return g


def test_marginsplot_plotopts_ciopts_addplot(m):
    m.ok("marginsplot, plotopts(msymbol(D) lcolor(red)) ciopts(lcolor(blue)) "
         "addplot(scatter mathach ses in 1/30)")
    p = m.graph().panels[0]
    lines = [s for s in p.series if s.kind == "connected"]
    cis = [s for s in p.series if s.kind == "rcap"]
    assert len(lines) == 2 and all(s.style["marker"] == "D" and s.style["lcolor"] == "red" for s in lines)
    assert all(s.style["lcolor"] == "blue" for s in cis)
    assert p.series[-1].kind == "scatter" and len(p.series[-1].x) == 30
    ax = m.fig().axes[0]
    reds = [ln for ln in ax.lines if to_rgba(ln.get_color()) == to_rgba("red")]
    assert len(reds) >= 2
    assert any(pts.shape == (30, 2) for pts in scatter_points(ax))


def test_marginsplot_by_panels(m):
    table = m.s.r.margins.table
    m.ok("marginsplot, by(sector)")
    gr = m.graph()
    assert [p.title for p in gr.panels] == ["sector=0", "sector=1"]
    ys = [np.asarray([s for s in p.series if s.kind == "connected"][0].y) for p in gr.panels]
    assert np.allclose(np.sort(np.concatenate(ys)), np.sort(table[0]))
    assert all(len([s for s in p.series if s.kind == "connected"]) == 1 for p in gr.panels)
    assert len(m.fig().axes) == 2
    m.ok("marginsplot, bydimension(sector) noci")
    assert all(all(s.kind == "connected" for s in p.series) for p in m.graph().panels)


@pytest.mark.parametrize("line,rc", [("marginsplot, by(bogus)", 111),
                                     ("marginsplot, by(ses)", 198),
                                     ("marginsplot, plotopts(bogus(1))", 198),
                                     ("marginsplot, ciopts(lcolor(nocolor))", 198)])
def test_marginsplot_option_errors(m, line, rc):
    m.fails(line, rc)


def test_marginsplot_recastci_and_xdimension(m):
    m.ok("marginsplot, recastci(rarea) xdimension(sector)")
    p = m.graph().panels[0]
    assert {s.kind for s in p.series} == {"rarea", "connected"}
    lines = [s for s in p.series if s.kind == "connected"]
    assert len(lines) == 5 and all(np.array_equal(np.asarray(s.x), [0, 1]) for s in lines)


def test_marginsplot_after_melogit_margins():
    csv = Path(__file__).parent / "data" / "glmm" / "contraception.csv"
    g = G([f'import delimited using "{csv}", clear',
           "quietly melogit use i.urban age || district:, intmethod(laplace)",
           "quietly margins urban, at(age=(-10 0 10))"])
    table = g.s.r.margins.table
    g.ok("marginsplot")
    gr = g.graph()
    lines = [s for s in gr.panels[0].series if s.kind == "connected"]
    assert len(lines) == 2
    assert np.allclose(np.sort(np.concatenate([np.asarray(s.y) for s in lines])), np.sort(table[0]))
    assert g.fig().axes[0].get_ylabel() == "Marginal predicted mean"


def test_marginsplot_value_labels_name_the_lines():
    g = G(["use hsb", 'label define sec 0 "public" 1 "catholic"', "label values sector sec",
           "quietly regress mathach i.sector##c.ses",
           "quietly margins sector, at(ses=(-1 1))"])
    g.ok("marginsplot")
    lines = [s for s in g.graph().panels[0].series if s.kind == "connected"]
    assert sorted(s.label for s in lines) == ["catholic", "public"]
    from test_graph_helpers import legend_texts
    assert sorted(legend_texts(g.fig())) == ["catholic", "public"]
    g.ok("marginsplot, by(sector)")
    assert [p.title for p in g.graph().panels] == ["public", "catholic"]
