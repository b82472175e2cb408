"""tabi and cii against scipy: chi2_contingency for the typed table, binomtest's exact and
Wilson intervals, the t interval and the chi2 form of the exact Poisson interval; the example
of Stata's [R] ci manual (cii means 166 19509 4379: 18837.93 to 20180.07)."""
import math

import pytest
from scipy import stats

from session_run import ok, run

from hlmshell.output.writer import Capture
from hlmshell.session import Session


@pytest.fixture
def s():
    return Session(Capture())


def test_tabi_chi2(s):
    ok(s, "clear")
    out = ok(s, r"tabi 30 18 38 \ 13 7 22, chi2")
    ref = stats.chi2_contingency([[30, 18, 38], [13, 7, 22]], correction=False)
    assert s.r.scalars["chi2"] == pytest.approx(ref.statistic, rel=1e-10)
    assert s.r.scalars["N"] == 128 and "Pearson chi2(2)" in out
    assert s.data.n == 0            # the data in memory are not touched


def test_cii_means_manual_example(s):
    out = ok(s, "cii means 166 19509 4379")
    assert "18837.93" in out and "20180.07" in out
    t = stats.t.ppf(0.975, 165)
    assert s.r.scalars["lb"] == pytest.approx(19509 - t * 4379 / math.sqrt(166), rel=1e-12)


@pytest.mark.parametrize("opt,method", [("", "exact"), (", wilson", "wilson")])
def test_cii_proportions(s, opt, method):
    ok(s, f"cii proportions 40 7{opt}")
    ci = stats.binomtest(7, 40).proportion_ci(confidence_level=0.95, method=method)
    assert (s.r.scalars["lb"], s.r.scalars["ub"]) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_cii_poisson_and_old_syntax(s):
    ok(s, "cii poisson 10 3")
    assert s.r.scalars["lb"] == pytest.approx(stats.chi2.ppf(0.025, 6) / 20, rel=1e-9)
    assert s.r.scalars["ub"] == pytest.approx(stats.chi2.ppf(0.975, 8) / 20, rel=1e-9)
    ok(s, "cii 10 1")
    assert s.r.scalars["proportion"] == 0.1


@pytest.mark.parametrize("line,rc", [(r"tabi 1 2 \ 3", 198), ("tabi a b", 198), (r"tabi 1 -2 \ 3 4", 401),
                                     ("cii means 10 5", 198), ("cii proportions 10 11", 198),
                                     ("cii foo 1 2", 198), ("cii means 10 5 2, bogus", 198)])
def test_bad_input(s, line, rc):
    assert run(s, line)[0] == rc
