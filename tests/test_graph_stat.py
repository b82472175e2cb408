"""histogram, kdensity, qnorm, pnorm, rvfplot, xtline, graph box/bar/matrix/combine (issue 14):
the drawn data against direct computations."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy.stats import norm

from test_graph_helpers import G, legend_texts, scatter_points


@pytest.fixture(scope="module")
def g():
    return G()


def _bars(ax):
    return sorted(((p.get_x() + p.get_width() / 2, p.get_height(), p.get_width())
                   for p in ax.patches), key=lambda t: t[0])


def test_histogram_default_bins_density(g):
    out = g.ok("histogram mathach")
    x = g.col("mathach")
    n = len(x)
    k = int(min(math.sqrt(n), 10 * math.log10(n)))
    width = (x.max() - x.min()) / k
    bars = _bars(g.fig().axes[0])
    assert len(bars) == k
    assert np.isclose(sum(h * w for _c, h, w in bars), 1.0)
    counts, _ = np.histogram(x, bins=k, range=(x.min(), x.max()))
    assert np.allclose([h for _c, h, _w in bars], counts / (n * width))
    assert out.strip().startswith(f"(bin={k}, start=")
    # Stata prints start and width as display does (8 significant digits):
    # `(bin=38, start=-2.832, width=.73223684)`
    num = lambda v: re.sub(r"^(-?)0\.", r"\1.", f"{v:.8g}")   # noqa: E731
    assert out.strip() == f"(bin={k}, start={num(x.min())}, width={num(width)})"
    assert num(width) == ".73223684"
    ax = g.fig().axes[0]
    assert ax.get_ylabel() == "Density" and ax.get_xlabel() == "mathematics achievement score"


def test_histogram_scales_and_overlays(g):
    g.ok("histogram mathach, frequency width(5) start(-5) normal")
    fig = g.fig()
    bars = _bars(fig.axes[0])
    x = g.col("mathach")
    assert np.isclose(bars[0][0], -2.5) and np.allclose([b[2] for b in bars], 5)
    assert sum(b[1] for b in bars) == len(x)
    (ln,) = fig.axes[0].lines
    xs = ln.get_xdata()
    want = norm.pdf(xs, x.mean(), x.std(ddof=1)) * len(x) * 5
    assert np.allclose(ln.get_ydata(), want)
    assert fig.axes[0].get_ylabel() == "Frequency"
    assert g.ok("histogram female, discrete percent").strip() == "(start=0, width=1)"
    bars = _bars(g.fig().axes[0])
    assert [round(b[0]) for b in bars] == [0, 1]
    fem = g.col("female")
    assert np.allclose([b[1] for b in bars], [100 * np.mean(fem == 0), 100 * np.mean(fem == 1)])
    g.ok("histogram mathach, by(sector) bin(10) fraction")
    fig = g.fig()
    assert len(fig.axes) == 2 and all(len(ax.patches) == 10 for ax in fig.axes)
    for ax in fig.axes:
        assert np.isclose(sum(p.get_height() for p in ax.patches), 1.0)
    g.fails("histogram mathach, bin(5) width(2)", 198)
    g.fails("histogram mathach, density percent", 198)
    g.fails("histogram mathach [pw=ses]", 101)
    g.fails("histogram name", 111)


def test_kdensity_matches_direct_computation(g):
    g.ok("kdensity ses, normal")
    fig = g.fig()
    ker, nrm = fig.axes[0].lines
    x = g.col("ses")
    n = len(x)
    sd = x.std(ddof=1)
    iqr = (np.percentile(x, 75) - np.percentile(x, 25)) / 1.349
    h = 0.9 * min(sd, iqr) / n ** 0.2
    at = np.linspace(x.min(), x.max(), 50)
    z = (at[:, None] - x[None, :]) / h
    k = np.where(np.abs(z) < math.sqrt(5), 0.75 * (1 - z ** 2 / 5) / math.sqrt(5), 0)
    assert np.allclose(ker.get_xdata(), at) and np.allclose(ker.get_ydata(), k.sum(1) / (n * h))
    assert np.allclose(nrm.get_ydata(), norm.pdf(at, x.mean(), sd))
    assert legend_texts(fig) == ["Kernel density estimate", "Normal density"]
    assert g.graph().note.startswith("kernel = epanechnikov, bandwidth = ")
    g.ok("kdensity ses, kernel(gaussian) bwidth(0.5) n(20)")
    (ln,) = g.fig().axes[0].lines
    at = np.linspace(x.min(), x.max(), 20)
    want = norm.pdf((at[:, None] - x[None, :]) / 0.5).sum(1) / (n * 0.5)
    assert np.allclose(ln.get_ydata(), want)
    g.fails("kdensity ses, kernel(nosuch)", 198)


def test_qnorm_pnorm(g):
    g.ok("qnorm ses")
    ax = g.fig().axes[0]
    (pts,) = scatter_points(ax)
    x = np.sort(g.col("ses"))
    n = len(x)
    q = x.mean() + x.std(ddof=1) * norm.ppf(np.arange(1, n + 1) / (n + 1))
    assert np.allclose(pts[:, 0], q) and np.allclose(pts[:, 1], x)
    assert ax.get_xlabel() == "Inverse Normal"
    g.ok("pnorm ses")
    (pts,) = scatter_points(g.fig().axes[0])
    assert np.allclose(pts[:, 0], np.arange(1, n + 1) / (n + 1))
    assert np.allclose(pts[:, 1], norm.cdf((x - x.mean()) / x.std(ddof=1)))


def test_rvfplot_after_regress(g):
    g.fails("rvfplot", 301)
    g.ok("quietly regress mathach ses female")
    g.ok("rvfplot, yline(0)")
    (pts,) = scatter_points(g.fig().axes[0])
    X = np.column_stack([g.col("ses"), g.col("female"), np.ones(g.s.data.n)])
    y = g.col("mathach")
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.allclose(pts[:, 0], X @ b) and np.allclose(pts[:, 1], y - X @ b)
    assert g.fig().axes[0].get_ylabel() == "Residuals"


def test_graph_box_and_bar(g):
    g.ok("graph bar (mean) mathach, over(sector)")
    ax = g.fig().axes[0]
    sector, y = g.col("sector"), g.col("mathach")
    assert np.allclose([h for _c, h, _w in _bars(ax)], [y[sector == 0].mean(), y[sector == 1].mean()])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1"]
    assert ax.get_ylabel() == "mean of mathach"
    g.ok("graph bar (count) mathach, over(female)")
    assert [h for _c, h, _w in _bars(g.fig().axes[0])] == [np.sum(g.col("female") == 0),
                                                            np.sum(g.col("female") == 1)]
    g.ok("graph box mathach, over(sector)")
    box = g.graph().panels[0].series[0].boxes
    assert len(box) == 2 and np.isclose(box[0]["med"], np.median(y[sector == 0]))
    g.fails("graph bar (nosuch) mathach", 198)
    # two over(): the first nested in the second, as Stata groups the bars
    g.ok("graph bar (mean) mathach, over(female) over(sector)")
    ax = g.fig().axes[0]
    fem = g.col("female")
    want = [y[(sector == s_) & (fem == f)].mean() for s_ in (0, 1) for f in (0, 1)]
    assert np.allclose([h for _c, h, _w in _bars(ax)], want)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0\n0", "1\n0", "0\n1", "1\n1"]
    g.ok("graph box mathach, over(female) over(sector)")
    box = g.graph().panels[0].series[0].boxes
    assert [b["med"] for b in box] == pytest.approx(
        [np.median(y[(sector == s_) & (fem == f)]) for s_ in (0, 1) for f in (0, 1)])
    g.fails("graph bar mathach, over(female) over(nosuch)", 111)
    g.fails("graph bar mathach, over(female) over()", 100)
    g.fails("graph box mathach, over()", 100)
    g.fails("histogram mathach, discrete bin(5)", 198)
    g.ok("graph hbar (sum) female, over(sector)")
    ax = g.fig().axes[0]
    widths = [p.get_width() for p in sorted(ax.patches, key=lambda p: p.get_y())]
    fem = g.col("female")
    assert widths == [fem[sector == 0].sum(), fem[sector == 1].sum()]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1"]
    assert ax.get_xlabel() == "sum of female" and ax.yaxis_inverted()
    g.ok("graph hbox mathach, over(sector)")
    assert len(g.fig().axes[0].patches) == 2


def test_graph_matrix_and_combine(g):
    g.ok("graph matrix mathach ses female in 1/100, name(m, replace)")
    assert len(g.fig("m").axes) == 9
    g.ok("scatter mathach ses in 1/50, name(p1, replace) title(one)")
    g.ok("histogram ses, name(p2, replace)")
    g.ok("graph combine p1 p2, cols(2) title(Both)")
    fig = g.fig()
    assert len(fig.axes) == 2 and fig._suptitle.get_text() == "Both"
    g.fails("graph combine p1 nosuch", 111, "graph nosuch not found")


def _texts(sf):
    return [t.get_text() for t in sf.texts]


def _all_subfigs(fig):
    out = []
    for sf in fig.subfigs:
        out.append(sf)
        out += _all_subfigs(sf)
    return out


def test_graph_combine_draws_each_graph_whole(g):
    """Stata's graph combine shows every graph as it was drawn -- its title, subtitle, axis
    titles, legend, note and by() panels -- in a cell of the grid."""
    g.ok('scatter mathach ses in 1/80 || lfit mathach ses in 1/80, title(one) subtitle(sub) '
         'note(my note) xtitle(SES) name(c1, replace)')
    g.ok("scatter mathach ses in 1/200, by(sector) name(c2, replace)")
    g.ok("histogram ses, name(c3, replace)")
    g.ok("graph combine c1 c2 c3, cols(2)")
    fig = g.fig()
    assert len(fig.axes) == 4                     # 1 + 2 by() panels + 1
    subs = _all_subfigs(fig)
    suptitles = [sf._suptitle.get_text() for sf in subs if sf._suptitle is not None]
    assert "one\nsub" in suptitles
    texts = [t for sf in subs for t in _texts(sf)]
    assert "my note" in texts and "Graphs by 1 if Catholic school, 0 if public" in texts
    legends = [[t.get_text() for t in lg.get_texts()] for sf in subs for lg in sf.legends]
    assert legends == [["mathematics achievement score", "Fitted values"]]
    labels = [ax.get_xlabel() for ax in fig.axes]
    assert "SES" in labels
    sec = g.col("sector")[:200]
    by_axes = [ax for ax in fig.axes if ax.get_title() in ("0", "1")]
    assert sorted(len(scatter_points(ax)[0]) for ax in by_axes) == \
        sorted([(sec == 0).sum(), (sec == 1).sum()])
    g.fails("graph combine c1 c2, iscale(2)", 198)


def test_graph_combine_survives_save_and_use(g, tmp_path):
    g.ok("scatter mathach ses in 1/80, title(one) name(d1, replace)")
    g.ok("scatter mathach ses in 1/200, by(sector) name(d2, replace)")
    g.ok("graph combine d1 d2, name(both, replace)")
    g.ok(f"graph save both {tmp_path / 'both.gph'}, replace")
    g.ok("graph drop _all")
    g.ok(f"graph use {tmp_path / 'both.gph'}")
    fig = g.fig()
    assert len(fig.axes) == 3
    assert [sf._suptitle.get_text() for sf in _all_subfigs(fig) if sf._suptitle] == ["one"]


def test_xtline():
    g = G(["clear", "set obs 12", "generate id = ceil(_n/4)", "generate t = mod(_n-1, 4)",
           "generate y = id * t"])
    g.fails("xtline y", 459)
    g.fails("xtline y, i(id)", 459)                 # t() missing and no xtset
    g.ok("xtline y, i(id) t(t) overlay")            # i() and t() stand in for xtset
    assert len(g.fig().axes[0].lines) == 3
    g.ok("xtset id t")
    g.ok("xtline y")
    fig = g.fig()
    assert len(fig.axes) == 3 and [ax.get_title() for ax in fig.axes] == ["1", "2", "3"]
    assert np.allclose(fig.axes[1].lines[0].get_ydata(), [0, 2, 4, 6])
    g.ok("xtline y, overlay")
    assert len(g.fig().axes[0].lines) == 3 and legend_texts(g.fig()) == ["1", "2", "3"]
