"""graph pie: slices against sums/counts computed with numpy, the drawn wedges' angles, plabel
texts, legend keys, and bad input with Stata's codes."""
from __future__ import annotations

import numpy as np
import pytest

from test_graph_helpers import G, legend_texts


@pytest.fixture(scope="module")
def g():
    return G()


def _wedges(fig):
    from matplotlib.patches import Wedge
    return [p for ax in fig.axes for p in ax.patches if isinstance(p, Wedge)]


def test_over_counts_and_percent_labels(g):
    g.ok("graph pie, over(sector) plabel(_all percent, format(%4.1f))")
    s = g.graph().panels[0].series[0]
    sector = g.col("sector")
    counts = [np.sum(sector == 0), np.sum(sector == 1)]
    np.testing.assert_array_equal(s.y, counts)
    pct = [100 * c / sum(counts) for c in counts]
    assert s.style["plabels"] == [f"{p:.1f}%" for p in pct]
    fig = g.fig()
    w = _wedges(fig)
    spans = sorted((wd.theta2 - wd.theta1) % 360 for wd in w)
    np.testing.assert_allclose(spans, sorted(360 * np.array(counts) / sum(counts)), atol=1e-6)
    first = w[0]
    assert abs(first.theta2 - 90) < 1e-6 or abs(first.theta1 - 90) < 1e-6     # from 12 o'clock
    assert legend_texts(fig) == ["0", "1"]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert f"{pct[0]:.1f}%" in texts


def test_variables_are_summed_and_slices_styled(g):
    g.ok("graph pie female minority, plabel(1 sum) plabel(2 name) pie(2, explode color(red)) noclockwise")
    s = g.graph().panels[0].series[0]
    np.testing.assert_array_equal(s.y, [g.col("female").sum(), g.col("minority").sum()])
    assert s.style["plabels"][0] == str(int(g.col("female").sum()))
    assert s.style["plabels"][1] == s.style["slices"][1]
    assert s.style["explode"] == [0.0, 0.1] and s.style["colors"][1] == "red"
    assert s.style["clockwise"] is False


def test_over_with_a_variable_sorts(g):
    g.ok("graph pie mathach, over(sector) sort descending")
    s = g.graph().panels[0].series[0]
    m, sec = g.col("mathach"), g.col("sector")
    sums = sorted([m[sec == 0].sum(), m[sec == 1].sum()], reverse=True)
    np.testing.assert_allclose(s.y, sums)


@pytest.mark.parametrize("line,rc", [("graph pie", 100), ("graph pie nosuch", 111),
                                     ("graph pie ses, over(sector)", 402),
                                     ("graph pie female minority, over(sector)", 103),
                                     ("graph pie female, plabel(_all nosuch)", 198),
                                     ("graph pie female, plabel(3 sum)", 198),
                                     ("graph pie female, bogus", 198),
                                     ("graph pie female if 0", 2000)])
def test_bad_input(g, line, rc):
    g.fails(line, rc)
