"""graph combine holes() (an empty cell where asked), graph export quality() for JPEG, and
fxsize()/fysize() accepted on the graphs combine sizes (real course do-files use all three)."""
import pytest

from test_graph_helpers import G


@pytest.fixture()
def g(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return G()


def test_holes_leave_cells_empty(g):
    g.ok("histogram ses, fxsize(50) fysize(40) name(h1, replace)")
    g.ok("histogram mathach, name(h2, replace)")
    g.ok("graph combine h1 h2, hole(2) cols(2)")
    graph = g.graph()
    assert graph.holes == [2]
    fig = g.fig()
    assert len(fig.axes) == 2
    cells = _grid_cells(fig)                       # 2 x 2: h1, the hole, h2, the rest
    assert [bool(c.axes) for c in cells] == [True, False, True, False]
    g.fails("graph combine h1 h2, holes(0)", 198)
    g.fails("graph combine h1 h2, holes(a)", 198)


def _all(fig):
    out = []
    for sf in fig.subfigs:
        out += [sf] + _all(sf)
    return out


def _grid_cells(fig):
    """The combine grid: the largest set of sibling subfigures."""
    best = []
    for sf in [fig] + _all(fig):
        if len(sf.subfigs) > len(best):
            best = list(sf.subfigs)
    return best


def test_jpeg_quality(g, tmp_path):
    g.ok("scatter mathach ses in 1/300")
    g.ok("graph export lo.jpg, quality(5) width(400)")
    g.ok("graph export hi.jpg, quality(95) width(400)")
    lo, hi = (tmp_path / "lo.jpg").read_bytes(), (tmp_path / "hi.jpg").read_bytes()
    assert lo[:3] == hi[:3] == b"\xff\xd8\xff" and len(lo) < len(hi)
    g.fails("graph export x.png, quality(90)", 198)
    g.fails("graph export y.jpg, quality(101)", 198)
