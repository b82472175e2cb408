"""graph bar as real do-files write it: no yvars (the percent of observations per over()
category, Stata's default), (count) without yvars, over()'s label(angle()) / sort() /
descending / relabel(), and blabel(bar[, format() position()]) -- checked on the drawn
bars and texts against counts made here with numpy."""
from __future__ import annotations

import numpy as np
import pytest
from test_graph_helpers import G


@pytest.fixture(scope="module")
def g():
    g = G()
    g.ok('label define sec 0 "Public school" 1 "Catholic school"')
    g.ok("label values sector sec")
    return g


def _bars(ax):
    return sorted(((p.get_x() + p.get_width() / 2, p.get_height()) for p in ax.patches),
                  key=lambda t: t[0])


def _ticks(ax):
    return [t.get_text() for t in ax.get_xticklabels()]


def test_no_yvars_is_percent_of_observations(g):
    """The OECD do-file's line, on hsb's sector."""
    g.ok('gr bar, over(sector, label(angle(15))) ytitle("Percent") ylabel(0(10)50) '
         'blabel(bar, format(%9.1f))')
    ax = g.fig().axes[0]
    sector = g.col("sector")
    want = [100 * np.mean(sector == 0), 100 * np.mean(sector == 1)]
    heights = [h for _x, h in _bars(ax)]
    assert heights == pytest.approx(want, rel=1e-12)
    assert sum(heights) == pytest.approx(100)
    assert _ticks(ax) == ["Public school", "Catholic school"]
    assert all(t.get_rotation() == pytest.approx(15) for t in ax.get_xticklabels())
    assert ax.get_ylabel() == "Percent"
    assert [t.get_text() for t in ax.texts] == [f"{v:.1f}" for v in want]
    # each label just above its bar
    for t, (x, h) in zip(ax.texts, _bars(ax)):
        assert t.xy == pytest.approx((x, h)) and t.get_va() == "bottom"
    assert list(ax.get_yticks()) == [0, 10, 20, 30, 40, 50]


def test_default_title_count_if_and_nested_over(g):
    g.ok("graph bar, over(minority)")
    assert g.fig().axes[0].get_ylabel() == "percent"
    g.ok("graph bar (count) if ses > 0, over(minority) blabel(bar)")
    ax = g.fig().axes[0]
    m, ses = g.col("minority"), g.col("ses")
    want = [np.sum((m == 0) & (ses > 0)), np.sum((m == 1) & (ses > 0))]
    assert [h for _x, h in _bars(ax)] == want
    assert [t.get_text() for t in ax.texts] == [str(v) for v in want]
    assert ax.get_ylabel() == "frequency"
    g.ok("graph bar (percent), over(female) over(sector)")
    f, s = g.col("female"), g.col("sector")
    want = [100 * np.mean((s == a) & (f == b)) for a in (0, 1) for b in (0, 1)]
    assert [h for _x, h in _bars(g.fig().axes[0])] == pytest.approx(want)
    # (percent) of a yvar: of the observations where it is not missing
    g.ok("generate y = mathach if id < 3000")
    g.ok("graph bar (percent) y, over(sector)")
    ok = g.col("id") < 3000
    want = [100 * np.mean(s[ok] == 0), 100 * np.mean(s[ok] == 1)]
    assert [h for _x, h in _bars(g.fig().axes[0])] == pytest.approx(want)
    g.ok("drop y")


def test_over_sort_descending_relabel(g):
    y, s, m = g.col("mathach"), g.col("sector"), g.col("minority")
    means = [y[m == 0].mean(), y[m == 1].mean()]            # minority 1 is lower
    g.ok("graph bar mathach, over(minority, sort(1))")
    assert [h for _x, h in _bars(g.fig().axes[0])] == pytest.approx(sorted(means))
    assert _ticks(g.fig().axes[0]) == ["1", "0"]
    g.ok("graph bar mathach, over(minority, sort(mathach) descending)")
    assert [h for _x, h in _bars(g.fig().axes[0])] == pytest.approx(sorted(means)[::-1])
    g.ok("graph bar mathach, over(sector, relabel(1 \"Pub\" 2 \"Cath\") sort((median) ses)) "
         "blabel(bar, format(%5.2f) position(inside))")
    ax = g.fig().axes[0]
    ses = g.col("ses")
    order = np.argsort([np.median(ses[s == 0]), np.median(ses[s == 1])])
    assert _ticks(ax) == [["Pub", "Cath"][i] for i in order]
    want = [y[s == i].mean() for i in order]
    assert [t.get_text() for t in ax.texts] == [f"{v:.2f}" for v in want]
    assert all(t.get_va() == "top" for t in ax.texts)          # inside, at the bar's top
    g.ok("graph box mathach, over(minority, sort(1) descending)")
    boxes = g.graph().panels[0].series[0].boxes
    assert [b["med"] for b in boxes] == pytest.approx(
        sorted([np.median(y[m == 0]), np.median(y[m == 1])], reverse=True))


def test_blabel_name_and_group_and_hbar(g):
    g.ok("graph hbar mathach ses, over(sector) blabel(name)")
    texts = [t.get_text() for t in g.fig().axes[0].texts]
    assert texts == ["mathach", "mathach", "ses", "ses"]
    g.ok("graph bar mathach, over(sector) blabel(group)")
    assert [t.get_text() for t in g.fig().axes[0].texts] == ["Public school", "Catholic school"]


def test_errors_keep_the_graph(g):
    g.ok("graph bar, over(sector) name(kept, replace)")
    for line, rc in (("graph bar", 100), ("graph bar (mean), over(sector)", 100),
                     ("graph bar, over(sector) blabel(foo)", 198),
                     ("graph bar, over(sector) blabel(bar, format(%9.1x))", 120),
                     ("graph bar, over(sector) blabel(bar, position(middle))", 198),
                     ("graph bar mathach, over(sector, sort(3))", 198),
                     ("graph bar mathach, over(sector, sort((nosuch) ses))", 198),
                     ("graph bar, over(sector, nosuch)", 198),
                     ("graph bar, over(nosuch)", 111),
                     ("graph bar (count) [fw=id], over(sector)", 101)):
        g.fails(line, rc)
    assert g.s.graphs.current == "kept"
