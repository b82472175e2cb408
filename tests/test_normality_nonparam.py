"""Normality, rank and variance/proportion tests against independent numbers: scipy (shapiro,
skewtest, kurtosistest, normaltest, mannwhitneyu, kruskal, spearmanr, kendalltau, f/chi2/norm
distributions), published results (R package normality's Royston examples; the signed-rank
example of Stata's manual, fuel data), and R's wilcox.test where noted."""
import math

import numpy as np
import pytest
from scipy import stats

from hsb_fixtures import df, s  # noqa: F401
from session_run import ok, run

from hlmshell.commands.normality import sfrancia_stats, sktest_stats, swilk_stats
from hlmshell.commands.nonparam import ktau_stats
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session


def _session(cols: dict):
    ses = Session(Capture())
    names = list(cols)
    rows = "\n".join(" ".join(str(cols[n][i]) for n in names) for i in range(len(cols[names[0]])))
    Interpreter(ses).run_text(f"clear\ninput {' '.join(names)}\n{rows}\nend\n")
    return ses


@pytest.mark.parametrize("n", [5, 9, 12, 40, 300])
def test_swilk_matches_scipy_without_ties(n):
    x = np.random.default_rng(n).gamma(2.0, size=n)
    r, ref = swilk_stats(x, ties=False), stats.shapiro(x)
    assert r["W"] == pytest.approx(ref.statistic, abs=2e-7)   # scipy computes in single precision
    assert r["p"] == pytest.approx(ref.pvalue, rel=1e-5)


def test_published_royston_examples():
    # R package `normality` tests: W = 0.80783, p = 0.01805; W' = 0.84151, p = 0.02865
    r = swilk_stats(np.array([48.4, 49, 59.5, 59.6, 60.7, 88.8, 98.2, 109.4, 169.1, 227.1]))
    assert (round(r["W"], 5), round(r["p"], 5)) == (0.80783, 0.01805)
    x = np.array([605, 858, 862, 992, 1006, 1018, 1020, 1079, 1088, 1110, 1120, 1166.0])
    r = sfrancia_stats(x)
    assert (round(r["W"], 5), round(r["p"], 5)) == (0.84151, 0.02865)


def test_sktest_components():
    x = np.random.default_rng(3).gamma(3.0, size=250)
    r = sktest_stats(x)
    assert r["P_skew"] == pytest.approx(stats.skewtest(x).pvalue, rel=1e-10)
    assert r["P_kurt"] == pytest.approx(stats.kurtosistest(x).pvalue, rel=1e-10)
    assert r["chi2"] == pytest.approx(stats.normaltest(x).statistic, rel=1e-10)


def test_swilk_command(s):
    out = ok(s, "swilk mathach ses if id < 1400")
    assert "Shapiro–Wilk W test for normal data" in out and s.r.scalars["N"] > 0
    out = ok(s, "sktest ses")
    assert "Pr(skewness)" in out


FUEL1 = [20, 23, 21, 25, 18, 17, 18, 24, 20, 24, 23, 19]
FUEL2 = [24, 25, 21, 22, 23, 18, 17, 28, 24, 27, 21, 23]


def test_signrank_manual_example():
    ses = _session({"mpg1": FUEL1, "mpg2": FUEL2})
    out = ok(ses, "signrank mpg1 = mpg2")
    # Stata manual [R] signrank: sums 13.5/63.5/1, variance 160.62, z = -1.973, p = 0.0485
    assert "160.62" in out and "-1.973" in out and "0.0485" in out
    assert ses.r.scalars["sum_pos"] == 13.5 and ses.r.scalars["N_tie"] == 1
    assert ses.r.scalars["p"] == pytest.approx(0.0485, abs=5e-5)


def test_ranksum_against_scipy(s, df):
    ok(s, "ranksum mathach if id < 2000, by(sector) porder")
    d = df[df.id < 2000]
    a, b = d.mathach[d.sector == 0], d.mathach[d.sector == 1]
    ref = stats.mannwhitneyu(a, b, use_continuity=False, method="asymptotic")
    R = s.r.scalars
    assert R["p"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert R["porder"] == pytest.approx(ref.statistic / (len(a) * len(b)), rel=1e-12)
    ranks = stats.rankdata(d.mathach)
    assert R["sum_obs"] == pytest.approx(ranks[(d.sector == 0).to_numpy()].sum())


def test_kwallis_against_scipy(s, df):
    ok(s, "generate grp = (ses > -0.5) + (ses > 0.5)")
    ok(s, "kwallis mathach if id < 2000, by(grp)")
    d = df[df.id < 2000]
    g = (d.ses > -0.5).astype(int) + (d.ses > 0.5).astype(int)
    ref = stats.kruskal(*[d.mathach[g == k] for k in range(3)])
    assert s.r.scalars["chi2_adj"] == pytest.approx(ref.statistic, rel=1e-10)
    assert s.r.scalars["p_adj"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert s.r.scalars["df"] == 2


def test_spearman_and_ktau(s, df):
    ok(s, "spearman mathach ses if id < 1500")
    d = df[df.id < 1500]
    ref = stats.spearmanr(d.mathach, d.ses)
    assert s.r.scalars["rho"] == pytest.approx(ref.statistic, rel=1e-12)
    assert s.r.scalars["p"] == pytest.approx(ref.pvalue, rel=1e-8)
    ok(s, "ktau mathach ses if id < 1500")
    tb = stats.kendalltau(d.mathach, d.ses, variant="b").statistic
    assert s.r.scalars["tau_b"] == pytest.approx(tb, rel=1e-12)
    # brute-force Kendall score and tau-a
    x, y = d.mathach.to_numpy(), d.ses.to_numpy()
    S = sum(float(np.sign(x[i] - x[i + 1:]) @ np.sign(y[i] - y[i + 1:])) for i in range(len(x) - 1))
    assert s.r.scalars["score"] == S
    assert s.r.scalars["tau_a"] == pytest.approx(S / (len(x) * (len(x) - 1) / 2), rel=1e-12)


def test_ktau_no_ties_variance():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=30), rng.normal(size=30)
    r = ktau_stats(x, y)
    assert r["se_score"] == pytest.approx(math.sqrt(30 * 29 * 65 / 18), rel=1e-12)


def test_sdtest_and_prtest(s, df):
    ok(s, "sdtest mathach, by(sector)")
    a, b = df.mathach[df.sector == 0], df.mathach[df.sector == 1]
    F = a.var() / b.var()
    assert s.r.scalars["F"] == pytest.approx(F, rel=1e-12)
    p = 2 * min(stats.f.cdf(F, len(a) - 1, len(b) - 1), stats.f.sf(F, len(a) - 1, len(b) - 1))
    assert s.r.scalars["p"] == pytest.approx(p, rel=1e-8)
    ok(s, "sdtest mathach == 7")
    chi2 = (len(df) - 1) * df.mathach.var() / 49
    assert s.r.scalars["chi2"] == pytest.approx(chi2, rel=1e-12)
    ok(s, "prtest minority, by(sector)")
    p1, p2 = df.minority[df.sector == 0].mean(), df.minority[df.sector == 1].mean()
    n1, n2 = (df.sector == 0).sum(), (df.sector == 1).sum()
    pp = df.minority.mean()
    z = (p1 - p2) / math.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2))
    assert s.r.scalars["z"] == pytest.approx(z, rel=1e-10)
    ok(s, "prtest minority == .3")
    z1 = (df.minority.mean() - .3) / math.sqrt(.3 * .7 / len(df))
    assert s.r.scalars["z"] == pytest.approx(z1, rel=1e-10)


@pytest.mark.parametrize("line,rc", [
    ("swilk", 100), ("swilk nosuch", 111), ("swilk mathach in 1/3", 2001), ("sktest mathach in 1/5", 2001),
    ("ranksum mathach", 198), ("ranksum mathach, by(id)", 420), ("kwallis mathach", 198),
    ("signrank mathach", 100), ("spearman mathach", 102), ("ktau mathach", 102),
    ("sdtest mathach", 198), ("prtest mathach, by(sector)", 450), ("prtest minority == 2", 198),
    ("sdtest mathach, by(id)", 420), ("ranksum mathach if id < 0, by(sector)", 2000)])
def test_bad_input(s, line, rc):
    assert run(s, line)[0] == rc


def test_ranksum_real_stata_log():
    # a published Stata log (ranksum rank, by(group), 11 observations): rank sums 39 and 27,
    # expected 30 and 36, variance 30.00, z = 1.643, Prob > |z| = 0.1003
    ses = _session({"group": [1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1], "rank": [7, 6, 3, 2, 11, 9, 4, 1, 5, 10, 8]})
    out = ok(ses, "ranksum rank, by(group)")
    assert "30.00" in out and "1.643" in out and "0.1003" in out
    assert ses.r.scalars["sum_obs"] == 39 and ses.r.scalars["sum_exp"] == 30
