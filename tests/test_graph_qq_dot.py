"""qqplot and dotplot: the drawn points against quantiles and interval midpoints computed here
with numpy, axis titles, the reference/centre lines, and refusals."""
from __future__ import annotations

import numpy as np
import pytest
from test_graph_helpers import G, lines, scatter_points


@pytest.fixture(scope="module")
def g():
    return G()


def test_qqplot_equal_sizes(g):
    g.ok("qqplot mathach ses")
    ax = g.fig().axes[0]
    (pts,) = scatter_points(ax)
    assert np.allclose(pts[:, 0], np.sort(g.col("ses"))) and np.allclose(pts[:, 1], np.sort(g.col("mathach")))
    assert ax.get_xlabel() == "socio-economic status (standardized)"
    assert ax.get_ylabel() == "mathematics achievement score"
    (ref,) = lines(ax)
    assert np.allclose(ref.get_xdata(), ref.get_ydata())


def test_qqplot_unequal_sizes_interpolates_the_larger(g):
    g.ok("generate ses_s = ses if sector == 1")
    g.ok("qqplot ses_s mathach")
    (pts,) = scatter_points(g.fig().axes[0])
    small = np.sort(g.col("ses")[g.col("sector") == 1])
    large = np.sort(g.col("mathach"))
    n, m = len(small), len(large)
    want = np.quantile(large, (np.arange(1, n + 1) / (n + 1) * (m + 1) - 1) / (m - 1))
    assert len(pts) == n
    assert np.allclose(pts[:, 1], small) and np.allclose(pts[:, 0], want)
    g.ok("drop ses_s")


def test_dotplot_over_bins_columns_and_mean(g):
    g.ok("dotplot ses, over(sector) ny(10) mean")
    ax = g.fig().axes[0]
    (pts,) = scatter_points(ax)
    x = g.col("ses")
    lo, hi = x.min(), x.max()
    w = (hi - lo) / 10
    mids = lo + (np.clip(np.floor((x - lo) / w), 0, 9) + 0.5) * w
    assert np.allclose(np.sort(pts[:, 1]), np.sort(mids))
    sector = g.col("sector")
    left = pts[:, 0] < 0.5                     # the sector 0 column stands left of 1
    assert left.sum() == (sector == 0).sum()
    means = sorted(ln.get_ydata()[0] for ln in lines(ax))
    assert np.allclose(means, sorted([x[sector == 0].mean(), x[sector == 1].mean()]))
    assert ax.get_xlabel() == "1 if Catholic school, 0 if public"


def test_dotplot_varlist_center_median_bar(g):
    g.ok("dotplot mathach ses, center median bar nogroup")
    ax = g.fig().axes[0]
    (pts,) = scatter_points(ax)
    assert np.allclose(np.sort(pts[:, 1]), np.sort(np.r_[g.col("mathach"), g.col("ses")]))
    first = np.abs(pts[:, 0] - 1) < 0.5
    assert first.sum() == g.s.data.n and abs(pts[first, 0].mean() - 1) < 0.05    # centred
    ys = sorted(round(ln.get_ydata()[0], 6) for ln in lines(ax))
    m = g.col("mathach")
    assert any(abs(y - np.median(m)) < 1e-6 for y in ys)
    assert any(abs(y - np.percentile(m, 75)) < 1e-6 for y in ys)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "mathach" in labels and "ses" in labels


def test_refusals(g):
    g.fails("qqplot ses", 102)
    g.fails("qqplot ses mathach female", 103)
    g.fails("qqplot ses mathach if ses > 100 & ses < .", 2000)
    g.fails("dotplot ses, mean median", 198)
    g.fails("dotplot ses, ny(x)", 198)
    g.fails("dotplot ses mathach, over(sector)", 103)
    g.fails("dotplot ses, nosuch", 198)
