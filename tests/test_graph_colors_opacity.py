"""Stata's color syntax with opacity and intensity, everywhere a color is taken: `navy%50`,
a bare `%30` (the plot's own color at 30% opacity, as in marginsplot's
`ciopts(color(%30))`), `red*.5` (intensity) -- checked on the colors matplotlib drew."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from test_graph_helpers import G, scatter_points

from hlmshell.graphics import schemes

NAVY = np.array([26, 71, 111]) / 255
MAROON = np.array([144, 53, 59]) / 255


@pytest.fixture(scope="module")
def g():
    return G()


def _rgba(c):
    return np.asarray(to_rgba(c))


def test_color_words():
    assert schemes.color("navy%50") == pytest.approx((*NAVY, 0.5))
    assert schemes.color("%30", default=(1, 0, 0)) == pytest.approx((1, 0, 0, 0.3))
    assert schemes.color("gs8 % 25") == pytest.approx((0.5, 0.5, 0.5, 0.25))
    assert schemes.color("255 0 0%40") == pytest.approx((1, 0, 0, 0.4))
    # intensity: .5 halfway to white, 2 half as bright
    assert schemes.color("red*.5") == pytest.approx((1, 0.5, 0.5))
    assert schemes.color("red*2") == pytest.approx((0.5, 0, 0))
    assert schemes.color("*.5", default=(0, 0, 0)) == pytest.approx((0.5, 0.5, 0.5))
    for bad in ("navy%", "nosuchcolor%20", "%", "navy*"):
        with pytest.raises(Exception) as err:
            schemes.color(bad)
        assert getattr(err.value, "rc", None) == 198


def test_marginsplot_ci_area_at_30_percent(g):
    """The do-file's line: recast(line) recastci(rarea) ciopts(color(%30)) -- the band in
    the first plot color (navy in s2color) at 30% opacity, the line opaque; yline(0)."""
    g.ok("quietly regress mathach c.ses##c.size")
    g.ok("quietly margins, dydx(ses) at(size=(100(900)2800))")
    m = g.s.r.margins
    g.ok("marginsplot, recast(line) recastci(rarea) ciopts(color(%30))")
    ax = g.fig().axes[0]
    (band,) = ax.collections
    assert _rgba(band.get_facecolor()[0]) == pytest.approx((*NAVY, 0.3), abs=1e-3)
    verts = band.get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx(m.table[4].min())
    assert verts[:, 1].max() == pytest.approx(m.table[5].max())
    (line,) = ax.lines
    assert _rgba(line.get_color())[3] == 1.0
    assert np.allclose(line.get_ydata(), m.table[0])
    g.ok("marginsplot, recast(line) recastci(rarea) ciopts(color(maroon%50)) yline(0)")
    ax = g.fig().axes[0]
    (band,) = ax.collections
    assert _rgba(band.get_facecolor()[0]) == pytest.approx((*MAROON, 0.5), abs=1e-3)
    assert [ln.get_ydata()[0] for ln in ax.lines if ln is not ax.lines[0]] == [0]


def test_opacity_in_every_color_option(g):
    g.ok("scatter mathach ses in 1/30, mcolor(red%20)")
    ax = g.fig().axes[0]
    (pts,) = ax.collections
    assert _rgba(pts.get_facecolor()[0]) == pytest.approx((1, 0, 0, 0.2))
    assert len(scatter_points(ax)[0]) == 30
    g.ok("line mathach ses in 1/30, sort lcolor(navy%40)")
    (ln,) = g.fig().axes[0].lines
    assert _rgba(ln.get_color()) == pytest.approx((*NAVY, 0.4), abs=1e-3)
    g.ok("twoway area mathach ses in 1/30, sort fcolor(%60)")
    (area,) = g.fig().axes[0].collections
    assert _rgba(area.get_facecolor()[0]) == pytest.approx((*NAVY, 0.6), abs=1e-3)
    g.ok("twoway (scatter mathach ses in 1/30) (lfitci mathach ses, color(gs12%50))")
    band = g.fig().axes[0].collections[1]
    assert _rgba(band.get_facecolor()[0])[3] == pytest.approx(0.5)
    g.ok("histogram mathach, color(%30)")
    bars = g.fig().axes[0].patches
    assert bars and all(p.get_facecolor()[3] == pytest.approx(0.3) for p in bars)
    assert _rgba(bars[0].get_facecolor())[:3] == pytest.approx(
        schemes.SCHEMES["s2color"]["histfill"], abs=1e-3)


def test_bad_color_is_198_and_keeps_the_graph(g):
    g.ok("scatter mathach ses in 1/10, name(keep, replace)")
    g.fails("scatter mathach ses, mcolor(navy%)", 198, "color navy% not found")
    g.fails("scatter mathach ses, mcolor(blurple%30)", 198)
    assert g.s.graphs.current == "keep"


def test_marginsplot_title_after_atmeans(g):
    """margins, dydx() atmeans is titled Conditional marginal effects; so is its plot."""
    g.ok("quietly regress mathach c.ses##c.size")
    g.ok("quietly margins, dydx(ses) at(size=(100 2000)) atmeans")
    assert g.s.r.margins.title == "Conditional marginal effects"
    g.ok("marginsplot")
    assert g.graph().title == "Conditional marginal effects of ses with 95% CIs"
    g.ok("quietly margins, dydx(ses) at(size=(100 2000))")
    g.ok("marginsplot")
    assert g.graph().title == "Average marginal effects of ses with 95% CIs"
