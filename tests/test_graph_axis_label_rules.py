"""xlabel()/ylabel() suboptions of [G-3] axis_label_options that do-files pass: [no]labels
(ticks without their text: `ylabel(1(1)30, grid nolabel)`), noticks / tlength(0), labsize(),
valuelabel, format(), angle(), nogrid, and look-only ones (labcolor, labgap, tposition, ...);
colour intensity with opacity (`teal*0.5%30`). Checked on the figure matplotlib draws."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from test_graph_helpers import G, scatter_points

from hlmshell.graphics import render, schemes


@pytest.fixture(scope="module")
def g():
    return G()


def _ticklabels(ax, which):
    axis = ax.yaxis if which == "y" else ax.xaxis
    return [t for t in axis.get_majorticklabels() if t.get_visible() and t.get_text()]


def test_nolabel_keeps_ticks_and_grid(g):
    g.ok('graph twoway (scatter mathach ses, mcolor(teal*0.5%30) msymbol(square)), '
         'ylabel(1(1)30, grid nolabel) ytitle("Secondary" "school", orientation(horizontal)) scheme(s1mono)')
    axis = g.graph().panels[0].yaxis
    assert axis.ticks == list(map(float, range(1, 31))) and axis.labels is False and axis.grid is True
    fig = g.fig()
    ax = fig.axes[0]
    assert list(ax.get_yticks()) == list(map(float, range(1, 31)))
    assert not ax.yaxis.get_tick_params(which="major").get("labelleft", True)
    assert any(ln.get_visible() for ln in ax.get_ygridlines())
    # teal at half intensity (halfway to white), 30% opaque
    teal = np.array([110, 142, 132]) / 255
    want = (*(teal + (1 - teal) * 0.5), 0.3)
    assert schemes.color("teal*0.5%30") == pytest.approx(want)
    face = scatter_points(ax)[0] is not None and ax.collections[0].get_facecolor()[0]
    assert to_rgba(face) == pytest.approx(want, abs=1e-6)


def test_labels_back_noticks_labsize(g):
    g.ok("scatter mathach ses, ylabel(0(5)25, labels noticks labsize(small) labcolor(gs8) labgap(2) "
         "tposition(inside) glcolor(gs14)) xlabel(-2(1)2, tlength(0) nogrid angle(45) format(%3.1f))")
    gr = g.graph().panels[0]
    assert gr.yaxis.labels is True and gr.yaxis.tickmarks is False and gr.yaxis.labsize == "small"
    assert gr.xaxis.tickmarks is False and gr.xaxis.grid is False and gr.xaxis.angle == 45
    ax = g.fig().axes[0]
    sizes = {t.get_fontsize() for t in _ticklabels(ax, "y")}
    assert len(sizes) == 1 and sizes.pop() == pytest.approx(render.FONT * 0.8)
    assert [t.get_text() for t in _ticklabels(ax, "x")] == ["-2.0", "-1.0", "0.0", "1.0", "2.0"]
    assert all(t.get_rotation() == 45 for t in _ticklabels(ax, "x"))
    assert all(tk.tick1line.get_markersize() == 0 for tk in ax.yaxis.get_major_ticks())


def test_valuelabel_without_labels_and_bad_suboptions(g):
    g.ok('label define sect 0 "Public" 1 "Catholic"')
    g.ok("label values sector sect")
    g.ok("scatter mathach sector, xlabel(0 1, valuelabel)")
    ax = g.fig().axes[0]
    assert [t.get_text() for t in _ticklabels(ax, "x")] == ["Public", "Catholic"]
    g.ok("scatter mathach ses, xlabel(, valuelabel)")            # no value label: nothing to do
    for bad in ("ylabel(0(5)25, nolabel(3))", "ylabel(0(5)25, labsize)", "ylabel(0(5)25, bogus)",
                "ylabel(0(5)25, nol)"):
        g.fails(f"scatter mathach ses, {bad}", 198)
