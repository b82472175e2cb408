"""twoway (issue 14): what is drawn -- points, lines and their data, fitted lines against
numpy computations, axis titles, legends, by() panels -- and Stata's errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import t as tdist

from test_graph_helpers import G, legend_texts, lines, runs, scatter_points


@pytest.fixture(scope="module")
def g():
    return G()


def test_scatter_points_are_the_data(g):
    g.ok("scatter mathach ses if sector == 1")
    fig = g.fig()
    (ax,) = fig.axes
    (pts,) = scatter_points(ax)
    sel = g.col("sector") == 1
    assert len(pts) == sel.sum()
    assert np.allclose(pts[:, 0], g.col("ses")[sel]) and np.allclose(pts[:, 1], g.col("mathach")[sel])
    assert ax.get_xlabel() == "socio-economic status (standardized)"
    assert ax.get_ylabel() == "mathematics achievement score"
    assert fig.legends == []                      # one plot: no legend
    assert g.s.graphs.current == "Graph"


def test_both_forms_draw_the_same(g):
    g.ok("twoway (scatter mathach ses) (lfit mathach ses), name(a, replace)")
    g.ok("scatter mathach ses || lfit mathach ses, name(b, replace)")
    fa, fb = g.fig("a"), g.fig("b")
    for f in (fa, fb):
        ax = f.axes[0]
        assert len(scatter_points(ax)[0]) == g.s.data.n and len(lines(ax)) == 1
        assert legend_texts(f) == ["mathematics achievement score", "Fitted values"]
        assert ax.get_ylabel() == "mathematics achievement score/Fitted values"
    assert np.allclose(fa.axes[0].lines[0].get_xydata(), fb.axes[0].lines[0].get_xydata())


def test_lfit_and_qfit_match_polyfit(g):
    g.ok("twoway (lfit mathach ses) (qfit mathach ses if female)")
    ax = g.fig().axes[0]
    lf, qf = ax.lines
    x, y, fem = g.col("ses"), g.col("mathach"), g.col("female") == 1
    xd, yd = lf.get_xdata(), lf.get_ydata()
    assert len(xd) == 3 and xd[0] == x.min() and xd[-1] == x.max()          # lfit: n(3)
    assert np.allclose(yd, np.polyval(np.polyfit(x, y, 1), xd))
    xq, yq = qf.get_xdata(), qf.get_ydata()
    assert len(xq) == 100 and np.isclose(xq[-1], x[fem].max())
    assert np.allclose(yq, np.polyval(np.polyfit(x[fem], y[fem], 2), xq))


def test_lfitci_band(g):
    g.ok("twoway lfitci mathach ses in 1/200, level(90) n(25)")
    fig = g.fig()
    ax = fig.axes[0]
    (fit,) = ax.lines
    band = ax.collections[0]
    x, y = g.col("ses")[:200], g.col("mathach")[:200]
    xd = fit.get_xdata()
    b1, b0 = np.polyfit(x, y, 1)
    n = len(x)
    s2 = np.sum((y - b0 - b1 * x) ** 2) / (n - 2)
    se = np.sqrt(s2 * (1 / n + (xd - x.mean()) ** 2 / np.sum((x - x.mean()) ** 2)))
    q = tdist.ppf(0.95, n - 2)
    verts = band.get_paths()[0].vertices
    lo = np.interp(xd, *_edge(verts, xd, lower=True))
    hi = np.interp(xd, *_edge(verts, xd, lower=False))
    assert np.allclose(fit.get_ydata(), b0 + b1 * xd)
    assert np.allclose(lo, b0 + b1 * xd - q * se) and np.allclose(hi, b0 + b1 * xd + q * se)
    assert legend_texts(fig) == ["90% CI", "Fitted values"]


def _edge(verts, xd, lower):
    """The lower or upper edge of a fill_between polygon, as (x, y) sorted on x."""
    k = len(xd)
    pts = verts[1:k + 1] if lower else verts[k + 2:2 * k + 2]
    pts = pts[np.argsort(pts[:, 0])]
    return pts[:, 0], pts[:, 1]


def stata_lowess(x, y, bw=0.8):
    """Reference: [R] lowess's formulas, written out observation by observation."""
    order = sorted(range(len(x)), key=lambda i: (x[i], y[i]))
    xs = [x[i] for i in order]
    ys = [y[i] for i in order]
    n = len(xs)
    k = math.floor((n * bw - 0.5) / 2)
    out = []
    for i in range(n):
        lo, hi = max(0, i - k), min(n - 1, i + k)
        delta = 1.0001 * max(xs[hi] - xs[i], xs[i] - xs[lo])
        sw = swx = swy = 0.0
        w = []
        for j in range(lo, hi + 1):
            wj = (1 - (abs(xs[j] - xs[i]) / delta) ** 3) ** 3 if delta > 0 else 1.0
            w.append(wj)
            sw += wj
            swx += wj * xs[j]
            swy += wj * ys[j]
        mx, my = swx / sw, swy / sw
        sxx = sum(wj * (xs[j] - mx) ** 2 for wj, j in zip(w, range(lo, hi + 1)))
        sxy = sum(wj * (xs[j] - mx) * (ys[j] - my) for wj, j in zip(w, range(lo, hi + 1)))
        out.append(my + (sxy / sxx) * (xs[i] - mx) if sxx > 0 else my)
    return np.array(xs), np.array(out)


def test_lowess_matches_reference(g):
    g.ok("twoway lowess mathach ses in 1/150, bwidth(0.5)")
    (ln,) = g.fig().axes[0].lines
    xs, ref = stata_lowess(list(g.col("ses")[:150]), list(g.col("mathach")[:150]), 0.5)
    assert np.allclose(ln.get_xdata(), xs) and np.allclose(ln.get_ydata(), ref)
    g.ok("twoway lowess mathach ses in 1/80")
    xs, ref = stata_lowess(list(g.col("ses")[:80]), list(g.col("mathach")[:80]))
    assert np.allclose(g.fig().axes[0].lines[0].get_ydata(), ref)


def test_by_panels_total_and_note(g):
    g.ok("scatter mathach ses || lfit mathach ses, by(sector, total cols(3))")
    fig = g.fig()
    assert [ax.get_title() for ax in fig.axes] == ["0", "1", "Total"]
    sector = g.col("sector")
    assert [len(scatter_points(ax)[0]) for ax in fig.axes] == \
        [(sector == 0).sum(), (sector == 1).sum(), len(sector)]
    texts = [t.get_text() for sf in fig.subfigs for t in sf.texts]
    assert "Graphs by 1 if Catholic school, 0 if public" in texts
    assert legend_texts(fig) == ["mathematics achievement score", "Fitted values"]
    g.ok('scatter mathach ses, by(sector, note(""))')
    assert len(g.fig().axes) == 2 and g.graph().note == ""


def test_connect_L_one_line_per_group(g):
    g.ok("twoway line mathach ses if id <= 1308, connect(L) sort(id ses)")
    (ln,) = g.fig().axes[0].lines
    ids = g.col("id")
    assert runs(ln.get_ydata()) == len(np.unique(ids[ids <= 1308]))
    assert np.sum(~np.isnan(ln.get_ydata())) == (ids <= 1308).sum()
    g.ok("line mathach ses in 1/30")                      # no sort: data order kept
    assert np.allclose(g.fig().axes[0].lines[0].get_xdata(), g.col("ses")[:30])


def test_titles_labels_legend_options(g):
    g.ok('twoway (scatter mathach ses) (lfit mathach ses), title("Main") subtitle("Sub") '
         'xtitle("SES") ytitle("Math") xlabel(-4(2)4) ylabel(0 "zero" 10 20, angle(0) nogrid) '
         'legend(order(2 "Line" 1) cols(1)) note("N") aspectratio(1)')
    fig = g.fig()
    ax = fig.axes[0]
    assert fig._suptitle.get_text() == "Main\nSub"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("SES", "Math")
    assert list(ax.get_xticks()) == [-4, -2, 0, 2, 4]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["zero", "10", "20"]
    assert legend_texts(fig) == ["Line", "mathematics achievement score"]
    g.ok("scatter mathach ses || lfit mathach ses, legend(off) yscale(log range(1 30)) "
         "xscale(reverse) legend(label(1 \"pts\"))")
    fig = g.fig()
    assert legend_texts(fig) == [] and fig.axes[0].get_yscale() == "log"
    g.ok('scatter mathach ses || lfit mathach ses, legend(label(1 "pts") ring(0) pos(1))')
    assert legend_texts(g.fig()) == ["pts", "Fitted values"]


def test_plot_types(g):
    g.ok("generate lo = mathach - 2")
    g.ok("generate hi = mathach + 2")
    for kind, n_lines in (("rcap", 0), ("rspike", 0), ("rarea", 0), ("rconnected", 2),
                          ("rline", 2)):
        g.ok(f"twoway {kind} lo hi ses in 1/20, sort")
        assert len(g.fig().axes[0].lines) == n_lines, kind
    g.ok("twoway connected mathach ses in 1/10, sort msymbol(D) mcolor(red) lpattern(dash)")
    (ln,) = g.fig().axes[0].lines
    assert ln.get_marker() == "D" and len(ln.get_xdata()) == 10
    g.ok("twoway area mathach ses in 1/10, sort")
    g.ok("twoway bar mathach id in 1/10")
    assert len(g.fig().axes[0].patches) == 10
    g.ok("twoway function y = x^2 + 1, range(0 4) n(5)")
    (ln,) = g.fig().axes[0].lines
    assert np.allclose(ln.get_ydata(), np.linspace(0, 4, 5) ** 2 + 1)
    g.ok("twoway function exp(-x), range(ses)")
    g.ok("scatter mathach ses in 1/20, mlabel(id) jitter(5) msize(small) msymbol(Oh)")
    assert len(g.fig().axes[0].texts) == 20
    g.ok("twoway (histogram mathach, frequency bin(5)) (kdensity mathach)")
    ax = g.fig().axes[0]
    assert len(ax.patches) == 5 and sum(p.get_height() for p in ax.patches) == g.s.data.n
    assert len(ax.lines) == 1
    g.ok("drop lo hi")


def test_schemes(g):
    g.ok("scatter mathach ses in 1/10")
    assert np.allclose(g.fig().get_facecolor()[:3], (234 / 255, 242 / 255, 243 / 255))
    assert np.allclose(scatter_points(g.fig().axes[0])[0][0], [g.col("ses")[0], g.col("mathach")[0]])
    g.ok("scatter mathach ses in 1/10, scheme(s1mono)")
    assert g.fig().get_facecolor()[:3] == (1, 1, 1)
    g.ok("scatter mathach ses in 1/10, scheme(stcolor)")
    g.fails("scatter mathach ses, scheme(nosuch)", 111, "scheme nosuch not found")


def test_name_nodraw_and_store(g):
    g.ok("graph drop _all")
    g.ok("scatter mathach ses in 1/10, name(one) nodraw")
    g.fails("scatter mathach ses in 1/10, name(one)", 110, "graph one already exists")
    g.ok("scatter mathach ses in 1/10, name(one, replace)")
    g.ok("line mathach ses in 1/10")
    assert set(g.s.graphs.graphs) == {"one", "Graph"}
    assert "Graph" in g.ok("graph dir") and "one" in g.ok("graph dir")
    g.ok("graph display one")
    assert g.s.graphs.current == "one"
    g.ok("graph drop one")
    g.fails("graph drop one", 111, "graph one not found")


def test_errors_change_nothing(g):
    g.ok("graph drop _all")
    g.ok("scatter mathach ses in 1/5")
    before = dict(g.s.graphs.graphs)
    cases = [("scatter mathach nosuch", 111, "variable nosuch not found"),
             ("scatter mathach ses, bogus", 198, "option bogus not allowed"),
             ("twoway (scatter mathach ses) (nosuchplot y x)", 198, "nosuchplot is not a twoway plot type"),
             ("scatter mathach ses if nosuch", 111, None),
             ("scatter mathach ses [pw=ses]", 101, "pweights not allowed"),
             ("scatter mathach", 102, "too few variables specified"),
             ("scatter mathach ses if 0", 2000, "no observations"),
             ("scatter mathach ses, msymbol(Q)", 198, "symbol Q not found"),
             ("scatter mathach ses, mcolor(nosuchcolor)", 198, None),
             ("scatter mathach ses, xlabel(a b c)", 198, None),
             ("scatter mathach ses, by(nosuch)", 111, None),
             ("scatter mathach ses, name(1bad)", 198, "1bad invalid name"),
             ("twoway (scatter mathach ses", 198, None),
             ("twoway lfitci mathach ses, level(5)", 198, None),
             ("twoway", 198, "invalid syntax")]
    for line, rc, msg in cases:
        g.fails(line, rc, msg)
        assert g.s.graphs.graphs == before, line


def test_common_if_after_plots(g):
    g.ok("twoway (scatter mathach ses) (lfit mathach ses) if sector == 0")
    ax = g.fig().axes[0]
    assert len(scatter_points(ax)[0]) == (g.col("sector") == 0).sum()


def test_by_panels_share_axes_and_one_x_title(g):
    """Stata's by() draws every panel on the same x and y scales (xrescale/yrescale free
    them), tick labels only on the outer panels, and the axis titles once for the graph."""
    g.ok("scatter mathach ses if id <= 1374, by(id)")
    fig = g.fig()
    axes = fig.axes
    assert len(axes) == 7
    ids = g.col("id")
    sel = ids <= 1374
    x, y = g.col("ses")[sel], g.col("mathach")[sel]
    for ax in axes:                              # every panel spans all the groups' data
        lo, hi = ax.get_xlim()
        assert lo <= x.min() and hi >= x.max()
        lo, hi = ax.get_ylim()
        assert lo <= y.min() and hi >= y.max()
    assert len({ax.get_xlim() for ax in axes}) == 1 and len({ax.get_ylim() for ax in axes}) == 1
    assert [ax.get_xlabel() for ax in axes] == [""] * 7
    assert [ax.get_ylabel() for ax in axes] == [""] * 7
    assert fig.subfigs[0]._supxlabel.get_text() == "socio-economic status (standardized)"
    assert fig.subfigs[0]._supylabel.get_text() == "mathematics achievement score"
    # 3 x 3 grid: y tick labels only in the first column, x tick labels only where no panel
    # is below (the last row, and the panels above the empty slots)
    shown_y = [ax.yaxis.get_tick_params()["labelleft"] for ax in axes]
    shown_x = [ax.xaxis.get_tick_params()["labelbottom"] for ax in axes]
    assert shown_y == [True, False, False, True, False, False, True]
    assert shown_x == [False, False, False, False, True, True, True]
    g.ok("scatter mathach ses if id <= 1374, by(id, yrescale xrescale)")
    axes = g.fig().axes
    assert len({ax.get_ylim() for ax in axes}) > 1 and len({ax.get_xlim() for ax in axes}) > 1


def test_range_and_area_plots_draw_the_data(g):
    """area, rspike, rcap, rarea, function range(var), jitter, mlabel and the schemes' first
    colors, checked on the drawn artists against the data."""
    from matplotlib.colors import to_rgb

    x = g.col("ses")[:20]
    y = g.col("mathach")[:20]
    order = np.argsort(x, kind="stable")
    g.ok("twoway area mathach ses in 1/20, sort")
    (poly,) = g.fig().axes[0].collections
    verts = poly.get_paths()[0].vertices
    top = {(round(a, 9), round(b, 9)) for a, b in verts}
    assert all((round(a, 9), round(b, 9)) in top for a, b in zip(x[order], y[order]))
    assert np.isclose(verts[:, 1].min(), min(0.0, y.min()))         # down to the base, 0
    g.ok("generate lo = mathach - 2")
    g.ok("generate hi = mathach + 3")
    g.ok("twoway rspike lo hi ses in 1/20")
    (spikes,) = g.fig().axes[0].collections
    segs = sorted((s[0][0], s[0][1], s[1][1]) for s in spikes.get_segments())
    assert np.allclose(segs, sorted(zip(x, y - 2, y + 3)))
    g.ok("twoway rcap lo hi ses in 1/20")
    spikes, caps = g.fig().axes[0].collections
    assert len(spikes.get_segments()) == 20 and len(caps.get_segments()) == 40
    assert np.allclose(sorted(s[0][1] for s in caps.get_segments()),
                       sorted(np.concatenate([y - 2, y + 3])))
    g.ok("twoway rarea lo hi ses in 1/20, sort")
    (band,) = g.fig().axes[0].collections
    vy = band.get_paths()[0].vertices[:, 1]
    assert np.isclose(vy.min(), (y - 2).min()) and np.isclose(vy.max(), (y + 3).max())
    g.ok("drop lo hi")
    g.ok("twoway function exp(-x), range(ses)")
    (ln,) = g.fig().axes[0].lines
    ses = g.col("ses")
    assert np.isclose(ln.get_xdata().min(), ses.min()) and np.isclose(ln.get_xdata().max(), ses.max())
    assert np.allclose(ln.get_ydata(), np.exp(-ln.get_xdata()))
    g.ok("scatter mathach ses in 1/20, jitter(5) mlabel(id)")
    ax = g.fig().axes[0]
    (pts,) = scatter_points(ax)
    span_x, span_y = np.ptp(x), np.ptp(y)
    assert np.all(np.abs(pts[:, 0] - x) <= span_x * 5 / 200 + 1e-12)
    assert np.all(np.abs(pts[:, 1] - y) <= span_y * 5 / 200 + 1e-12)
    assert not np.allclose(pts[:, 0], x)                         # it did move them
    assert sorted(t.get_text() for t in ax.texts) == sorted(str(int(v)) for v in g.col("id")[:20])
    # the first plot's color: Stata's navy (s2color), stc1 (stcolor), black (s1mono)
    for scheme, rgb in (("s2color", (26, 71, 111)), ("stcolor", (26, 133, 255)),
                        ("s1mono", (0, 0, 0))):
        g.ok(f"scatter mathach ses in 1/5, scheme({scheme})")
        (coll,) = g.fig().axes[0].collections
        assert np.allclose(to_rgb(coll.get_facecolor()[0]), np.array(rgb) / 255, atol=0.01), scheme


def test_graph_matrix_panels_hold_the_pairs(g):
    g.ok("graph matrix mathach ses female in 1/60")
    fig = g.fig()
    v = {n: g.col(n)[:60] for n in ("mathach", "ses", "female")}
    names = ["mathach", "ses", "female"]
    axes = np.array(fig.axes).reshape(3, 3)
    for i in range(3):
        for j in range(3):
            ax = axes[i, j]
            if i == j:
                assert [t.get_text() for t in ax.texts] != [] and not ax.collections
                continue
            (pts,) = scatter_points(ax)
            assert np.allclose(pts[:, 0], v[names[j]]) and np.allclose(pts[:, 1], v[names[i]])


def test_by_legend_below_the_shared_x_title(g):
    """A by() graph with a legend: the legend sits below the shared x title, not on it."""
    g.ok("scatter mathach ses in 1/300 || lfit mathach ses in 1/300, by(sector)")
    fig = g.fig()
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    from test_graph_helpers import _subfigs
    (title,) = [sf._supxlabel for sf in _subfigs(fig) if sf._supxlabel is not None]
    (leg,) = [lg for sf in _subfigs(fig) for lg in sf.legends]
    t, lb = title.get_window_extent(r), leg.get_window_extent(r)
    assert title.get_text() == "socio-economic status (standardized)"
    assert lb.y1 <= t.y0 + 1                      # display y grows upwards: legend below
    assert all(lb.y1 <= ax.get_window_extent(r).y0 for ax in fig.axes)


def test_y_labels_vertical_in_stata17_schemes(g):
    """Stata 17's s2color and s1mono write the y axis labels vertically; stcolor and
    ylabel(, angle(0)) horizontally; x labels stay horizontal."""
    for scheme, want in (("s2color", 90), ("s1mono", 90), ("stcolor", 0)):
        g.ok(f"scatter mathach ses in 1/30, scheme({scheme})")
        ax = g.fig().axes[0]
        assert {t.get_rotation() for t in ax.get_yticklabels()} == {want}, scheme
        assert {t.get_rotation() for t in ax.get_xticklabels()} == {0}
    g.ok("scatter mathach ses in 1/30, ylabel(, angle(0))")
    assert {t.get_rotation() for t in g.fig().axes[0].get_yticklabels()} == {0}
    g.ok("graph hbar mathach, over(sector)")
    assert {t.get_rotation() for t in g.fig().axes[0].get_yticklabels()} == {0}
