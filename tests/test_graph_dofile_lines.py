"""twoway lines from real public do-files that failed: marker labels placed per observation
(mlabvposition(var), mlabposition(), ms(+)), legend(order(- "text" 1 "a" ...)) with a text
line without a key, and community schemes (scheme(cblind1)) drawn in the closest built-in
look with a note -- checked on what matplotlib drew."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from test_graph_helpers import G, legend_texts, scatter_points

from hlmshell.graphics.render import clock_offset


@pytest.fixture(scope="module")
def g():
    g = G()
    g.ok("generate pos = cond(sector == 1, 9, 3)")
    return g


def test_clock_offsets():
    assert clock_offset(3) == pytest.approx((3, 0, "left", "center"))
    dx, dy, ha, va = clock_offset(9)
    assert (dx, dy) == pytest.approx((-3, 0), abs=1e-12) and ha == "right"
    dx, dy, ha, va = clock_offset(12)
    assert (dx, dy) == pytest.approx((0, 3), abs=1e-12) and (ha, va) == ("center", "bottom")
    assert clock_offset(0)[:2] == (0, 0)


def test_mlabvposition_puts_each_label_at_its_clock(g):
    """The OECD do-file: scatter ..., mlabel(isco) ms(+) mlabv(pos) with an lfit overlay."""
    g.ok("gr tw (scatter mathach ses in 1/40, mlabel(id) ms(+) mlabv(pos)) "
         "(lfit mathach ses, lp(dash)), legend(off) xtitle(\"SES\") ytitle(\"Math\")")
    ax = g.fig().axes[0]
    (pts,) = scatter_points(ax)
    assert len(pts) == 40
    assert g.graph().panels[0].series[0].style["marker"] == "+"
    sector = g.col("sector")[:40]
    want = [9 if s == 1 else 3 for s in sector]
    assert len(ax.texts) == 40
    for t, p in zip(ax.texts, want):
        assert t.xyann[0] == pytest.approx(3 if p == 3 else -3)
        assert t.get_ha() == ("left" if p == 3 else "right")
    assert {t.get_text() for t in ax.texts} == {str(int(v)) for v in g.col("id")[:40]}
    (fit,) = ax.lines
    assert fit.get_linestyle() == "--"
    assert ax.get_xlabel() == "SES" and not legend_texts(g.fig())


def test_mlabposition_and_errors(g):
    g.ok("scatter mathach ses in 1/5, mlabel(id) mlabposition(12) mlabcolor(red)")
    ax = g.fig().axes[0]
    assert all(t.xyann == pytest.approx((0, 3), abs=1e-9) for t in ax.texts)
    assert all(to_rgb(t.get_color()) == (1, 0, 0) for t in ax.texts)
    g.ok("scatter mathach ses in 1/5, name(kept, replace)")
    g.fails("scatter mathach ses, mlabel(id) mlabposition(13)", 198)
    g.fails("scatter mathach ses, mlabel(id) mlabv(nosuch)", 111)
    g.fails("scatter mathach ses, mlabel(id) mlabcolor(nosuch)", 198)
    assert g.s.graphs.current == "kept"


def test_legend_text_line_without_key_and_community_scheme(g):
    """45_grogan_statagraphs.do line 43: six plots with per-plot if, order(- "country:" ...)
    col(1), scheme(cblind1)."""
    g.ok("generate c3 = 1 + mod(id, 3)")
    out = g.ok("twoway (scatter mathach ses if c3 == 1 in 1/300) (scatter mathach ses if c3 == 2 "
               "in 1/300) (scatter mathach ses if c3 == 3 in 1/300) (lfit mathach ses if c3 == 1) "
               "(lfit mathach ses if c3 == 2) (lfit mathach ses if c3 == 3), "
               'title("y as a function of x") legend(order(- "country:" 1 "1" 2 "2" 3 "3") '
               "col(1)) scheme(cblind1) name(figaware, replace)")
    assert "(scheme cblind1 is community-contributed; drawn in the look of stcolor)" in out
    graph = g.graph("figaware")
    assert graph.scheme == "stcolor" and graph.legend.cols == 1
    fig = g.fig("figaware")
    assert legend_texts(fig) == ["country:", "1", "2", "3"]
    ax = fig.axes[0]
    c3, ses = g.col("c3"), g.col("ses")
    sizes = [len(p) for p in scatter_points(ax)]
    assert sizes == [int(np.sum(c3[:300] == k)) for k in (1, 2, 3)]
    for k, line in zip((1, 2, 3), ax.lines):            # each fit on its own group
        x = ses[c3 == k]
        assert line.get_xdata().min() == pytest.approx(x.min())
        assert line.get_xdata().max() == pytest.approx(x.max())
    g.fails("scatter mathach ses, scheme(nosuchscheme)", 111, "scheme nosuchscheme not found")
    assert g.s.graphs.current == "figaware"
    out = g.ok("scatter mathach ses in 1/5, scheme(s1mono)")
    assert "community" not in out
