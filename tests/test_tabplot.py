"""tabplot (Nick Cox's SSC command, built in): the table counted here with numpy, then the
bars checked on the graph model and on the figure matplotlib draws -- row r of R at height
R - r (the first level on top), the tallest bar 0.8 (height()) of a row, width 0.5, values
below the bars with showval, percents of the total or within percent(varlist)'s groups, one
common scale across by() panels."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import Rectangle
from test_graph_helpers import G


@pytest.fixture(scope="module")
def g():
    gg = G()
    gg.ok("gen ses4 = 1 + (ses > -0.5) + (ses > 0) + (ses > 0.5)")
    gg.ok('label define s4 1 "low" 2 "mid-low" 3 "mid-high" 4 "high"')
    gg.ok("label values ses4 s4")
    gg.ok("gen cons = 1")
    return gg


def _crosstab(g, mask=None):
    r, c = g.col("ses4"), g.col("sector")
    m = np.ones(len(r), dtype=bool) if mask is None else mask
    return np.array([[np.sum(m & (r == i) & (c == j)) for j in (0, 1)] for i in (1, 2, 3, 4)], dtype=float)


def _bars(panel):
    """{(row line, x): top} of the panel's bars."""
    out = {}
    for s in panel.series:
        for x, y in zip(s.x, s.y):
            out[(s.base, float(x))] = float(y)
    return out


def test_two_way_counts_layout_and_figure(g):
    g.ok("tabplot ses4 sector, showval name(t1, replace)")
    gr = g.graph("t1")
    p = gr.panels[0]
    tab = _crosstab(g)
    vmax = tab.max()
    bars = _bars(p)
    for i in range(4):
        for j in range(2):
            base = 4.0 - i
            assert bars[(base, j + 1.0)] == pytest.approx(base + 0.8 * tab[i, j] / vmax)
    assert p.yaxis.ticks == [4.0, 3.0, 2.0, 1.0]
    assert p.yaxis.ticklabels == ["low", "mid-low", "mid-high", "high"]
    assert p.xaxis.ticklabels == ["0", "1"] and p.xaxis.title == "1 if Catholic school, 0 if public"
    texts = {(t["x"], t["y"]): t["text"] for t in p.texts}
    assert texts[(1.0, 4.0 - 0.1)] == str(int(tab[0, 0])) and len(texts) == 8
    ax = g.fig("t1").axes[0]
    rects = [r for r in ax.patches if isinstance(r, Rectangle) and r.get_height() > 0]
    assert len(rects) == 8
    assert sorted(round(r.get_height(), 9) for r in rects) == sorted(round(0.8 * v / vmax, 9) for v in tab.ravel())
    assert {round(r.get_width(), 9) for r in rects} == {0.5}


def test_percent_within_groups_options_and_corpus_line(g):
    g.ok("tabplot ses4 sector, percent(sector) showval(offset(0.2) format(%3.1f)) height(0.6) "
         "bcolor(green*0.5%50) blcolor(gs8) ylabel(none) xlabel(none) fysize(100) fxsize(60) "
         'xtitle("") ytitle("") scheme(s1mono) note("") subtitle("Original", span) name(t2, replace)')
    p = g.graph("t2").panels[0]
    tab = _crosstab(g)
    pct = 100 * tab / tab.sum(axis=0)
    bars = _bars(p)
    assert bars[(4.0, 2.0)] == pytest.approx(4 + 0.6 * pct[0, 1] / pct.max())
    texts = {(t["x"], round(t["y"], 9)): t["text"] for t in p.texts}
    assert texts[(2.0, round(4 - 0.2, 9))] == f"{pct[0, 1]:.1f}"
    assert p.yaxis.ticks == [] and p.xaxis.ticks == [] and p.xaxis.title == ""
    s = p.series[0]
    assert s.style["fcolor"] == "green*0.5%50" and s.style["lcolor"] == "gs8"
    assert g.graph("t2").subtitle == "Original"
    # the public lab's line: a constant column, percents within it, if
    g.ok("tabplot ses4 cons if ses4 > 1, percent(cons) height(0.8) name(t3, replace)")
    p = g.graph("t3").panels[0]
    sub = g.col("ses4")[g.col("ses4") > 1]
    want = np.array([np.mean(sub == k) * 100 for k in (2, 3, 4)])
    tops = [_bars(p)[(3.0 - k, 1.0)] - (3.0 - k) for k in range(3)]
    assert tops == pytest.approx(0.8 * want / want.max())


def test_one_way_weights_by_and_fraction(g):
    g.ok("tabplot ses4 [fw=size], fraction name(t4, replace)")
    w, r = g.col("size"), g.col("ses4")
    tot = np.array([w[r == k].sum() for k in (1, 2, 3, 4)])
    p = g.graph("t4").panels[0]
    assert np.asarray(p.series[0].y) == pytest.approx(0.8 * tot / tot.max())
    assert p.xaxis.ticklabels == ["low", "mid-low", "mid-high", "high"]
    g.ok("tabplot ses4 sector, by(himinty) name(t5, replace)")
    gr = g.graph("t5")
    assert [pp.title for pp in gr.panels] == ["0", "1"]
    m = g.col("himinty")
    tabs = [_crosstab(g, m == k) for k in (0, 1)]
    vmax = max(t.max() for t in tabs)                   # one scale for all panels
    for pp, t in zip(gr.panels, tabs):
        assert _bars(pp)[(1.0, 1.0)] == pytest.approx(1 + 0.8 * t[3, 0] / vmax)
    assert gr.note.startswith("Graphs by")
    g.ok("tabplot ses4, horizontal showval name(t6, replace)")
    p = g.graph("t6").panels[0]
    assert p.series[0].style["horizontal"] and p.yaxis.ticks == [4.0, 3.0, 2.0, 1.0]


def test_bad_input_changes_nothing(g):
    before = (list(g.s.graphs.graphs), g.s.data.n)
    for line, rc in (("tabplot", 100), ("tabplot ses4 sector himinty id", 103),
                     ("tabplot nosuch", 111), ("tabplot ses4, percent fraction", 198),
                     ("tabplot ses4, height(-1)", 198), ("tabplot ses4, bcolor(nosuchcolor)", 198),
                     ("tabplot ses4, showval(format(%q))", 120), ("tabplot ses4 if ses4 > 9", 2000),
                     ("tabplot ses4 [pw=size]", 101), ("tabplot ses4, bogus", 198),
                     ("tabplot ses4, showval(bogus(1))", 198)):
        g.fails(line, rc)
    assert (list(g.s.graphs.graphs), g.s.data.n) == before
