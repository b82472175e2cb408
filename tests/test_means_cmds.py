"""mean and proportion against pandas/scipy: group means, S/n covariances, t intervals,
proportions with sqrt(p(1-p)/(n-1)) SEs and logit intervals written out."""
import math

import numpy as np
import pytest
from scipy import stats

from hsb_fixtures import df, s  # noqa: F401
from session_run import ok, run


def test_mean_two_variables(s, df):
    out = ok(s, "mean mathach ses")
    X = df[["mathach", "ses"]].to_numpy(float)
    n = len(X)
    assert s.e.b == pytest.approx(X.mean(0), rel=1e-12)
    assert s.e.V == pytest.approx(np.cov(X, rowvar=False) / n, rel=1e-10)
    t = stats.t.ppf(0.975, n - 1)
    se = X[:, 0].std(ddof=1) / math.sqrt(n)
    assert f"{X[:, 0].mean() - t * se:.4f}"[:6] in out
    assert s.e.scalars["N"] == n and s.e.scalars["df_r"] == n - 1


def test_mean_over(s, df):
    ok(s, "mean mathach if id < 2000, over(sector)")
    d = df[df.id < 2000]
    means = d.groupby("sector").mathach.mean().to_numpy()
    var = (d.groupby("sector").mathach.var() / d.groupby("sector").size()).to_numpy()
    assert s.e.b == pytest.approx(means, rel=1e-12)
    assert np.diag(s.e.V) == pytest.approx(var, rel=1e-10)
    assert s.e.V[0, 1] == 0
    assert [n for _, n in s.e.names] == ["c.mathach@0.sector", "c.mathach@1.sector"]


def test_proportion(s, df):
    out = ok(s, "proportion minority")
    p = df.minority.value_counts(normalize=True).sort_index().to_numpy()
    n = len(df)
    assert s.e.b == pytest.approx(p, rel=1e-12)
    se = math.sqrt(p[1] * (1 - p[1]) / (n - 1))
    assert s.e.V[1, 1] == pytest.approx(se ** 2, rel=1e-10)
    assert s.e.V[0, 1] == pytest.approx(-p[0] * p[1] / (n - 1), rel=1e-10)
    t = stats.t.ppf(0.975, n - 1)
    lg = math.log(p[1] / (1 - p[1]))
    lo = 1 / (1 + math.exp(-(lg - t * se / (p[1] * (1 - p[1])))))
    assert f"{lo:.6f}"[1:7] in out and "Logit" in out


def test_proportion_over(s, df):
    ok(s, "proportion minority, over(sector)")
    tab = df.groupby("sector").minority.value_counts(normalize=True)
    assert s.e.b == pytest.approx([tab[(0, 0)], tab[(1, 0)], tab[(0, 1)], tab[(1, 1)]], rel=1e-12)


@pytest.mark.parametrize("line,rc", [("mean", 100), ("mean nosuch", 111), ("mean mathach if id < 0", 2000),
                                     ("mean mathach, over(nosuch)", 111), ("proportion", 100),
                                     ("mean mathach, level(5)", 198), ("mean mathach, bogus", 198)])
def test_bad_input(s, line, rc):
    assert run(s, line)[0] == rc


def test_mean_over_two_variables(s, df):
    ok(s, "mean mathach, over(sector minority)")
    ref = df.groupby(["sector", "minority"]).mathach.mean().to_numpy()
    assert s.e.b == pytest.approx(ref, rel=1e-12)
    assert s.e.names[1][1] == "c.mathach@0.sector#1.minority"
    assert s.e.scalars["N_over"] == 4
