"""serrbar mvar svar xvar, scale(#): caps at mvar -/+ scale*svar and the means as markers, in
x order; addplot() overlays; r(102)/r(103) for the wrong number of variables."""
import numpy as np
import pytest

from test_graph_helpers import G, scatter_points


@pytest.fixture()
def g():
    return G(setup=("clear", "set obs 12", "gen x = 13 - _n", "gen m = x^2", "gen s = x / 10",
                    "gen lab = m + 1"))


def test_caps_and_means(g):
    g.ok("serrbar m s x, scale(1.96) addplot(scatter lab x)")
    graph = g.graph()
    cap, means = graph.panels[0].series[:2]
    x = np.arange(1, 13, dtype=float)
    assert cap.kind == "rcap" and np.allclose(cap.x, x)
    assert np.allclose(cap.y, x ** 2 - 1.96 * x / 10) and np.allclose(cap.y2, x ** 2 + 1.96 * x / 10)
    assert means.kind == "scatter" and np.allclose(means.y, x ** 2)
    pts = scatter_points(g.fig().axes[0])
    assert len(pts) == 2 and len(pts[1]) == 12                  # the means and the addplot
    assert graph.legend.show is False


def test_errors(g):
    g.fails("serrbar m s", 102)
    g.fails("serrbar m s x lab", 103)
    g.fails("serrbar m s x, scale(-1)", 198)
