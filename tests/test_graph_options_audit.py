"""Issue 14's twoway option list, the options not covered elsewhere, each checked on the
drawn matplotlib figure: qfitci, xlabel()/ylabel() numlists with angle() and nogrid,
xscale(range()), legend(order() rows() cols() position()), lcolor()/lwidth()/lpattern(),
aspectratio(), by(..., rows() note()), and Stata's errors for bad values."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from test_graph_helpers import G, legend_texts


@pytest.fixture(scope="module")
def g():
    return G(["use hsb", "keep in 1/300"])


def test_qfitci_band_and_line(g):
    g.ok("twoway qfitci mathach ses")
    p = g.graph().panels[0]
    kinds = [s.kind for s in p.series]
    assert "rarea" in kinds and "line" in kinds
    line = next(s for s in p.series if s.kind == "line")
    x, y = np.asarray(line.x), np.asarray(line.y)
    X = np.column_stack([g.col("ses") ** 2, g.col("ses"), np.ones(300)])
    b = np.linalg.lstsq(X, g.col("mathach"), rcond=None)[0]
    assert np.allclose(y, b[0] * x ** 2 + b[1] * x + b[2], rtol=1e-8)
    band = next(s for s in p.series if s.kind == "rarea")
    assert np.all(np.asarray(band.y) <= np.interp(np.asarray(band.x), x, y) + 1e-9)
    ax = g.fig().axes[0]
    assert len(ax.lines) >= 1 and len(ax.collections) >= 1


def test_axis_labels_angle_grid_and_range(g):
    g.ok("scatter mathach ses, xlabel(-2(1)2, angle(45) nogrid) ylabel(0(5)25, angle(0)) "
         "xscale(range(-4 4))")
    ax = g.fig().axes[0]
    assert np.allclose(ax.get_xticks(), [-2, -1, 0, 1, 2])
    assert np.allclose(ax.get_yticks(), [0, 5, 10, 15, 20, 25])
    assert all(abs(t.get_rotation() - 45) < 1e-9 for t in ax.get_xticklabels())
    assert not any(ln.get_visible() for ln in ax.get_xgridlines())
    lo, hi = ax.get_xlim()
    assert lo <= -4 and hi >= 4


def test_log_scale(g):
    g.ok("scatter mathach ses if mathach > 1, yscale(log)")
    assert g.fig().axes[0].get_yscale() == "log"


def test_legend_order_rows_cols(g):
    g.ok('twoway (scatter mathach ses) (lfit mathach ses), legend(order(2 "fit" 1 "obs") rows(1))')
    fig = g.fig()
    assert legend_texts(fig) == ["fit", "obs"]
    g.ok('twoway (scatter mathach ses) (lfit mathach ses), legend(order(2) cols(1) position(6))')
    assert legend_texts(g.fig()) == ["Fitted values"]
    leg = g.graph().legend
    assert leg.cols == 1
    g.ok("twoway (scatter mathach ses) (lfit mathach ses), legend(off)")
    assert legend_texts(g.fig()) == []


def test_line_styles(g):
    g.ok("twoway line mathach ses, sort lcolor(red) lwidth(thick) lpattern(dash)")
    ln = g.fig().axes[0].lines[0]
    assert to_rgba(ln.get_color()) == to_rgba("red")
    assert ln.get_linestyle() in ("--", "dashed")
    g.ok("twoway line mathach ses, sort")
    thin = g.fig().axes[0].lines[0].get_linewidth()
    assert ln.get_linewidth() > thin


def test_aspectratio(g):
    g.ok("scatter mathach ses, aspectratio(0.5)")
    ax = g.fig().axes[0]
    assert ax.get_box_aspect() == pytest.approx(0.5)
    fig = g.fig()
    fig.canvas.draw()
    bb = fig.axes[0].get_window_extent()
    assert bb.height / bb.width == pytest.approx(0.5, rel=1e-3)


def test_by_rows_and_note(g):
    g.ok('scatter mathach ses, by(sector, total rows(1) note("my note"))')
    gr = g.graph()
    assert len(gr.panels) == 3 and gr.rows == 1
    fig = g.fig()
    texts = [t.get_text() for t in fig.texts] + [t.get_text() for sf in fig.subfigs for t in sf.texts]
    assert any("my note" in t for t in texts)
    data_axes = [ax for ax in fig.axes if ax.collections]
    assert len(data_axes) == 3


@pytest.mark.parametrize("line", ["scatter mathach ses, msymbol(nosuch)",
                                  "scatter mathach ses, mcolor(nocolor)",
                                  "scatter mathach ses, xlabel(a(b)c)",
                                  "twoway nosuch mathach ses",
                                  "scatter mathach ses, legend(order(x))"])
def test_bad_values_are_198(g, line):
    g.fails(line, 198)


def test_histogram_kdensity_and_normal_overlays(g):
    from scipy.stats import norm
    g.ok("histogram mathach, kdensity normal")
    p = g.graph().panels[0]
    lines = [s for s in p.series if s.kind == "line"]
    assert len(lines) == 2
    x = g.col("mathach")
    normal = next(s for s in lines if "ormal" in (s.label or ""))
    grid = np.asarray(normal.x)
    assert np.allclose(np.asarray(normal.y), norm.pdf(grid, x.mean(), x.std(ddof=1)), rtol=1e-8)
    kd = next(s for s in lines if s is not normal)
    # the kernel density integrates to about one over its grid (Epanechnikov, Stata's width)
    kx, ky = np.asarray(kd.x), np.asarray(kd.y)
    area = float(np.sum((ky[1:] + ky[:-1]) / 2 * np.diff(kx)))
    assert 0.9 < area <= 1.0001
    assert len(g.fig().axes[0].lines) == 2
