"""_pctile: r(r#) against numpy's quantile definitions (Stata's default is numpy's
averaged_inverted_cdf; altdef is numpy's weibull, (N+1)p), frequency weights against the
expanded data, and Stata's refusals."""
import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture(scope="module")
def s():
    s = Session(out=Capture())
    ok(s, "use hsb")
    ok(s, "generate fw = 1 + mod(_n, 3)")
    return s


def test_percentiles_and_nquantiles(s):
    x = s.data.var("mathach").values
    ok(s, "_pctile mathach, p(1 5 33.3 72 90 99)")
    ps = [1, 5, 33.3, 72, 90, 99]
    want = np.percentile(x, ps, method="averaged_inverted_cdf")
    got = [s.r.scalars[f"r{k}"] for k in range(1, 7)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    ok(s, "_pctile mathach if sector == 1, nq(10)")
    xs = x[s.data.var("sector").values == 1]
    want = np.percentile(xs, np.arange(10, 100, 10), method="averaged_inverted_cdf")
    np.testing.assert_allclose([s.r.scalars[f"r{k}"] for k in range(1, 10)], want, rtol=1e-12)
    assert "r10" not in s.r.scalars
    ok(s, "_pctile mathach")                  # the median
    assert s.r.scalars["r1"] == pytest.approx(np.median(x))


def test_altdef_and_weights(s):
    x = s.data.var("ses").values
    ok(s, "_pctile ses in 1/101, p(2.5 50 97.5) altdef")
    want = np.percentile(x[:101], [2.5, 50, 97.5], method="weibull")
    np.testing.assert_allclose([s.r.scalars[f"r{k}"] for k in (1, 2, 3)], want, rtol=1e-12)
    ok(s, "_pctile ses [fw=fw], p(10 25 50 75 90)")
    expanded = np.repeat(x, s.data.var("fw").values.astype(int))
    want = np.percentile(expanded, [10, 25, 50, 75, 90], method="averaged_inverted_cdf")
    np.testing.assert_allclose([s.r.scalars[f"r{k}"] for k in range(1, 6)], want, rtol=1e-12)
    ok(s, "_pctile ses [aw=fw], p(10 25 50 75 90)")     # aweights: the same ordering rule
    np.testing.assert_allclose([s.r.scalars[f"r{k}"] for k in range(1, 6)], want, rtol=1e-12)


def test_refusals(s):
    ok(s, "_pctile ses")
    before = dict(s.r.scalars)
    assert run(s, "_pctile ses mathach")[0] == 103
    assert run(s, "_pctile ses, p(101)")[0] == 198
    assert run(s, "_pctile ses, p(10) nq(4)")[0] == 198
    assert run(s, "_pctile ses [fw=fw], altdef")[0] == 198
    assert run(s, "_pctile ses if ses > 100 & ses < .")[0] == 2000
    assert run(s, "_pctile nosuch")[0] == 111
    assert s.r.scalars == before


def test_pctile_and_xtile_altdef(s):
    x = s.data.var("ses").values
    ok(s, "pctile q = ses, nq(5) altdef")
    want = np.percentile(x, [20, 40, 60, 80], method="weibull")
    np.testing.assert_allclose(s.data.var("q").values[:4], want, rtol=1e-6)
    ok(s, "xtile c = ses, nq(5) altdef")
    cat = s.data.var("c").values
    edges = np.r_[-np.inf, want, np.inf]
    for k in range(1, 6):                     # x in category k when p(k-1) < x <= p(k)
        sel = cat == k
        assert np.all(x[sel] > edges[k - 1] - 1e-12) and np.all(x[sel] <= edges[k] + 1e-12)
    ok(s, "drop q c")
