"""lowess (and twoway lowess's logit/adjust): the smooth against Stata's formulas written out
observation by observation with numpy's least squares, against R's lowess(iter = 0) where the
two definitions agree, adjust/logit by their formulas, generate(), by(), the graph and errors."""
import json
import math
import os

import numpy as np
import pytest
from test_graph_helpers import G, scatter_points

from hlmshell.graphics import stats

HERE = os.path.dirname(os.path.abspath(__file__))


def brute(x, y, bw=0.8, mean=False, noweight=False):
    """[R] lowess's methods and formulas, one weighted regression per observation."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    order = np.lexsort((y, x))
    xs, ys = x[order], y[order]
    n = len(xs)
    k = math.floor((n * bw - 0.5) / 2)
    out = np.empty(n)
    for i in range(n):
        lo, hi = max(0, i - k), min(n - 1, i + k)
        xw, yw = xs[lo:hi + 1], ys[lo:hi + 1]
        delta = 1.0001 * max(xs[hi] - xs[i], xs[i] - xs[lo])
        w = np.ones_like(xw) if noweight or delta <= 1e-30 else \
            (1 - (np.abs(xw - xs[i]) / delta) ** 3) ** 3
        if mean or np.ptp(xw) == 0:
            out[i] = np.average(yw, weights=w)
            continue
        A = np.column_stack([np.ones_like(xw), xw]) * np.sqrt(w)[:, None]
        b = np.linalg.lstsq(A, yw * np.sqrt(w), rcond=None)[0]
        out[i] = b[0] + b[1] * xs[i]
    res = np.empty(n)
    res[order] = out
    return res


@pytest.fixture()
def g():
    return G()


@pytest.mark.parametrize("bw,mean,noweight", [(0.8, False, False), (0.3, False, False),
                                               (0.5, True, False), (0.4, False, True),
                                               (0.05, False, False)])
def test_smooth_matches_formulas(bw, mean, noweight):
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(size=257), 1)          # many ties
    y = x ** 2 + rng.normal(size=257)
    got = stats.lowess_values(x, y, bw, mean, noweight)
    assert np.allclose(got, brute(x, y, bw, mean, noweight), rtol=0, atol=1e-10)


def test_against_r_interior():
    """R's lowess(f = .5, iter = 0, delta = 0) on 22 evenly spaced points: at the interior
    points both use the same 11 neighbours and tricube weights; Stata's distance D is 1.0001
    times R's h, which moves the weights by about 3e-4 * (d/h)^3, the smooth by ~1e-5 here.
    At the ends Stata shrinks the window, R shifts it: those points are not compared."""
    with open(os.path.join(HERE, "data", "lowess_r_reference.json")) as f:
        ref = json.load(f)
    got = stats.lowess_values(np.array(ref["x"]), np.array(ref["y"]), ref["f"])
    r = np.array(ref["smooth"])
    interior = slice(5, 17)
    assert np.allclose(got[interior], r[interior], rtol=0, atol=5e-5)
    assert not np.allclose(got[:2], r[:2], atol=1e-3)          # the ends differ, as said


def test_generate_values_and_sample(g):
    g.ok("lowess mathach ses in 1/300, bwidth(.4) generate(sm) nograph")
    y, x, sm = g.col("mathach"), g.col("ses"), g.col("sm")
    assert np.all(np.isnan(sm[300:]))
    ref = brute(x[:300], y[:300], 0.4)
    assert np.allclose(sm[:300], ref.astype(np.float32), rtol=0, atol=1e-5)
    assert g.s.data.var("sm").vtype == "float"


def test_adjust_and_logit(g):
    g.ok("lowess minority ses in 1/400, adjust logit generate(lg) nograph")
    y, x = g.col("minority")[:400], g.col("ses")[:400]
    s = brute(x, y) * y.mean() / brute(x, y).mean()
    s = np.where(s < 1e-4, 1 / 400, np.where(s > 0.9999, 1 - 1 / 400, s))
    assert np.allclose(g.col("lg")[:400], np.log(s / (1 - s)), atol=1e-5)
    g.ok("lowess minority ses in 1/400, adjust generate(ad) nograph")
    assert abs(np.mean(g.col("ad")[:400]) - y.mean()) < 1e-6


def test_by_groups_smooth_separately(g):
    g.ok("lowess mathach ses in 1/400, by(sector) generate(sb) bwidth(.5)")
    y, x, sec, sb = (g.col(v)[:400] for v in ("mathach", "ses", "sector", "sb"))
    for v in (0, 1):
        m = sec == v
        assert np.allclose(sb[m], brute(x[m], y[m], 0.5), atol=1e-5)
    assert len(g.graph().panels) == 2


def test_graph(g):
    g.ok("lowess mathach ses in 1/200, bwidth(.5) msymbol(Oh)")
    graph = g.graph()
    pts, line = graph.panels[0].series
    assert pts.kind == "scatter" and line.kind == "line" and len(pts.x) == 200
    assert np.all(np.diff(line.x) >= 0)
    o = np.lexsort((g.col("mathach")[:200], g.col("ses")[:200]))
    assert np.allclose(line.y, brute(g.col("ses")[:200], g.col("mathach")[:200], .5)[o])
    assert graph.title == "Lowess smoother" and graph.note == "bandwidth = .5"
    assert graph.legend.show is False
    assert len(scatter_points(g.fig().axes[0])[0]) == 200
    g.ok("lowess mathach ses in 1/200, mean logit title(x)")
    graph = g.graph()
    assert [s.kind for s in graph.panels[0].series] == ["line"] and graph.title == "x"


def test_twoway_lowess_adjust_logit(g):
    g.ok("twoway lowess minority ses in 1/300, adjust logit")
    (line,) = g.graph().panels[0].series
    y, x = g.col("minority")[:300], g.col("ses")[:300]
    o = np.lexsort((y, x))
    want = stats.lowess_adjust_logit(brute(x, y), y, True, True)[o]
    assert np.allclose(line.y, want, atol=1e-9)


def test_errors_leave_data_alone(g):
    g.ok("generate sm = 1")
    g.fails("lowess mathach ses, generate(sm)", 110, "variable sm already defined")
    g.fails("lowess mathach ses in 1/2", 2001)
    g.fails("lowess mathach ses, bwidth(0)", 198)
    g.fails("lowess mathach", 102)
    g.fails("lowess mathach ses minority", 103)
    g.fails("lowess mathach ses, generate(1x)", 198)
    g.fails("lowess mathach ses if ses > 10", 2000)
    g.ok("generate one = 1")
    g.fails("lowess mathach one", 499)
    assert "sm2" not in g.s.data


def test_running_mean_is_a_moving_average():
    """Princeton's smoothing notes (a Stata log): with 99 ages, `lowess pop age, mean
    noweight bwidth(0.03)` reproduces the three-term moving average, two terms at the ends
    (k = floor((99*.03 - .5)/2) = 1)."""
    g = G(setup=("clear", "set obs 99", "gen age = _n - 1",
                 "gen pop = 1500 - 10*age + 40*sin(age)"))
    g.ok("lowess pop age, mean noweight bwidth(0.03) generate(rm3) nograph")
    pop = g.col("pop")
    ma3 = np.convolve(pop, np.ones(3) / 3, mode="same")
    ma3[0], ma3[-1] = pop[:2].mean(), pop[-2:].mean()
    assert np.allclose(g.col("rm3"), ma3.astype(np.float32), rtol=1e-6)
