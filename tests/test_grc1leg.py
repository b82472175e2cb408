"""grc1leg: graph combine with the legend of one graph (legendfrom(), default the first)
drawn once for all, the parts' own legends suppressed; drawn to a real PNG."""
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.hsb_fixtures import HSB
from tests.session_run import ok, run


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Session(Capture())
    ok(s, f'use "{HSB}"')
    ok(s, 'twoway (scatter mathach ses if sector==0) (lfit mathach ses if sector==0), '
          'name(g1) legend(order(1 "Observed" 2 "Fitted"))')
    ok(s, "twoway (scatter mathach ses if sector==1) (lfit mathach ses if sector==1), name(g2)")
    return s


def _graph(s, name):
    return s.graphs.graphs[name]


def test_one_legend_from_the_chosen_graph(s, tmp_path):
    ok(s, 'grc1leg g1 g2, legendfrom(g1) title("Both") name(both) pos(12)')
    g = _graph(s, "both")
    assert g.kind == "combine" and len(g.parts) == 2 and g.legend_from == 0
    assert all(p.legend.show is False for p in g.parts)
    assert g.legend.show is True and g.legend.position == 12
    assert g.legend.order == _graph(s, "g1").legend.order
    assert _graph(s, "g1").legend.show is not False          # the graphs themselves untouched
    ok(s, "graph export both.png, name(both)")
    assert (tmp_path / "both.png").stat().st_size > 1000
    ok(s, "grc1leg g1 g2, name(second)")
    assert _graph(s, "second").legend_from == 0


def test_bad_lines(s):
    for line, rc in (("grc1leg", 198), ("grc1leg g1 nosuch", 111),
                     ("grc1leg g1 g2, legendfrom(g3)", 198), ("grc1leg g1 g2, bogus", 198),
                     ("grc1leg g1 g2, pos(x)", 198)):
        got, out = run(s, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out
