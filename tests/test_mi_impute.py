"""mi impute: properties of the imputation models that do not depend on the random draws
(Stata's draws cannot be reproduced): imputations only fill soft missing values, rseed()
reproduces them, regression imputation recovers a known linear relation on a large sample,
pmm takes observed values, logit/ologit impute observed levels with the model's
probabilities, mvn recovers a known covariance, chained equations and their trace file."""
import numpy as np
import pytest
from session_run import ok, run

from hlmshell.data.dataset import Variable
from hlmshell.data.missing import ext_missing
from hlmshell.output.writer import Capture
from hlmshell.engine import mi_univariate as uni
from hlmshell.session import Session


def _session(cols: dict, style="flong"):
    s = Session(Capture())
    for k, v in cols.items():
        s.data.add(Variable(k, np.asarray(v, dtype=float), "double"))
    ok(s, f"mi set {style}")
    return s


def _imp(s, var, m):
    d = s.data
    return d.values(var)[d.values("_mi_m") == m]


def _data(n=4000, seed=11):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 1.0 + 2.0 * x + rng.normal(size=n)
    miss = rng.random(n) < 0.4
    return x, y, miss, rng


def test_regress_recovers_the_linear_relation():
    x, y, miss, _ = _data()
    s = _session({"x": x, "y": np.where(miss, np.nan, y)})
    ok(s, "mi register imputed y")
    out = ok(s, "mi impute regress y x, add(4) rseed(3)")
    assert "Univariate imputation" in out and "Linear regression" in out
    assert f"{miss.sum():,}" in out
    for m in range(1, 5):
        ym = _imp(s, "y", m)
        np.testing.assert_array_equal(ym[~miss], y[~miss])        # observed values untouched
        X = np.column_stack([np.ones(miss.sum()), x[miss]])
        b, res, *_ = np.linalg.lstsq(X, ym[miss], rcond=None)
        sd = np.sqrt(res[0] / (miss.sum() - 2))
        assert b[0] == pytest.approx(1.0, abs=0.12) and b[1] == pytest.approx(2.0, abs=0.12)
        assert sd == pytest.approx(1.0, abs=0.08)
    # the draws differ between imputations (parameter uncertainty and noise)
    assert not np.allclose(_imp(s, "y", 1), _imp(s, "y", 2))


def test_rseed_reproduces_and_extended_missing_stays():
    x, y, miss, _ = _data(500)
    yy = np.where(miss, np.nan, y)
    yy[3] = ext_missing(1)                       # .a: a hard missing, never imputed
    runs = []
    for seed in (9, 9, 10):
        s = _session({"x": x, "y": yy})
        ok(s, "mi register imputed y")
        ok(s, f"quietly mi impute regress y x, add(2) rseed({seed})")
        runs.append(s.data.values("y"))
        assert np.isnan(_imp(s, "y", 1)[3])
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(np.nan_to_num(runs[0]), np.nan_to_num(runs[2]))
    # set seed before mi impute is the same as rseed()
    s = _session({"x": x, "y": yy})
    ok(s, "mi register imputed y")
    ok(s, "set seed 9")
    ok(s, "quietly mi impute regress y x, add(2)")
    np.testing.assert_array_equal(s.data.values("y"), runs[0])


def test_pmm_imputes_observed_values_of_near_neighbours():
    x, y, miss, _ = _data(1500)
    y = np.round(y, 1)
    s = _session({"x": x, "y": np.where(miss, np.nan, y)})
    ok(s, "mi register imputed y")
    ok(s, "quietly mi impute pmm y x, add(3) knn(5) rseed(4)")
    observed = set(y[~miss])
    for m in range(1, 4):
        ym = _imp(s, "y", m)
        assert set(ym[miss]) <= observed
        # a donor is near in the prediction: the imputed value tracks 1 + 2x
        assert np.corrcoef(ym[miss], x[miss])[0, 1] > 0.8


def test_logit_imputes_the_two_levels_with_model_probabilities():
    rng = np.random.default_rng(5)
    n = 6000
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-0.5 + 1.5 * x)))
    d = np.where(rng.random(n) < p, 2.0, 1.0)             # levels 1 and 2
    miss = rng.random(n) < 0.3
    s = _session({"x": x, "d": np.where(miss, np.nan, d)})
    ok(s, "mi register imputed d")
    ok(s, "quietly mi impute logit d x, add(3) rseed(8)")
    for m in range(1, 4):
        dm = _imp(s, "d", m)[miss]
        assert set(dm) <= {1.0, 2.0}
        assert (dm == 2).mean() == pytest.approx(p[miss].mean(), abs=0.03)
        hi = x[miss] > 1
        assert (dm[hi] == 2).mean() == pytest.approx(p[miss][hi].mean(), abs=0.06)


def test_ologit_and_mlogit_impute_observed_levels():
    rng = np.random.default_rng(6)
    n = 1500
    x = rng.normal(size=n)
    lat = x + rng.logistic(size=n)
    c = np.digitize(lat, [-1.0, 0.5, 1.5]) + 1.0           # 1..4
    miss = rng.random(n) < 0.25
    s = _session({"x": x, "c": np.where(miss, np.nan, c), "k": np.where(miss, np.nan, c)})
    ok(s, "mi register imputed c k")
    ok(s, "quietly mi impute ologit c x, add(2) rseed(2)")
    ok(s, "quietly mi impute mlogit k x, replace rseed(3)")
    for m in (1, 2):
        for v in ("c", "k"):
            cm = _imp(s, v, m)[miss]
            assert set(cm) <= {1.0, 2.0, 3.0, 4.0}
            # higher x, higher categories, as in the data
            assert cm[x[miss] > 1].mean() > cm[x[miss] < -1].mean() + 1


def test_mvn_recovers_mean_and_covariance():
    rng = np.random.default_rng(12)
    n = 3000
    x = rng.normal(size=n)
    e = rng.multivariate_normal([0, 0], [[1.0, 0.6], [0.6, 1.0]], size=n)
    y1 = 1 + x + e[:, 0]
    y2 = -1 + 0.5 * x + e[:, 1]
    m1 = rng.random(n) < 0.3
    m2 = (rng.random(n) < 0.3) & ~(m1 & (rng.random(n) < 0.5))
    s = _session({"x": x, "y1": np.where(m1, np.nan, y1), "y2": np.where(m2, np.nan, y2)})
    ok(s, "mi register imputed y1 y2")
    out = ok(s, "mi impute mvn y1 y2 = x, add(2) burnin(30) burnbetween(10) rseed(1)")
    assert "Multivariate normal regression" in out and "burn-in =       30" in out
    for m in (1, 2):
        a, b = _imp(s, "y1", m), _imp(s, "y2", m)
        np.testing.assert_array_equal(a[~m1], y1[~m1])
        r1, r2 = a - 1 - x, b + 1 - 0.5 * x
        both = m1 & m2
        assert np.corrcoef(r1[m1 | m2], r2[m1 | m2])[0, 1] == pytest.approx(0.6, abs=0.07)
        assert r1[m1].std() == pytest.approx(1.0, abs=0.08)
        assert abs(r2[both].mean()) < 0.2


def test_chained_equations_and_trace(tmp_path):
    rng = np.random.default_rng(21)
    n = 1200
    x = rng.normal(size=n)
    y = 1 + x + rng.normal(size=n)
    b = (rng.random(n) < 1 / (1 + np.exp(-y))).astype(float)
    my, mb = rng.random(n) < 0.3, rng.random(n) < 0.3
    s = _session({"x": x, "y": np.where(my, np.nan, y), "b": np.where(mb, np.nan, b)})
    ok(s, "mi register imputed y b")
    f = tmp_path / "tr"
    out = ok(s, f'mi impute chained (regress) y (logit) b = x, add(2) burnin(3) rseed(5) savetrace("{f}")')
    assert "Chained equations" in out and "y: linear regression" in out
    for m in (1, 2):
        ym, bm = _imp(s, "y", m), _imp(s, "b", m)
        np.testing.assert_array_equal(ym[~my], y[~my])
        assert set(bm[mb]) <= {0.0, 1.0} and not np.isnan(ym).any()
        # y's imputation uses b: imputed y are higher where b is 1
        assert ym[my & (bm == 1)].mean() > ym[my & (bm == 0)].mean()
    t = Session(Capture())
    ok(t, f'use "{f}.dta"')
    assert t.data.names == ["iter", "m", "y_mean", "y_sd", "b_mean", "b_sd"]
    assert t.data.n == 2 * 4
    rc, out = run(s, f'mi impute chained (regress) y (logit) b = x, replace savetrace("{f}")')
    assert rc == 602


def test_mvn_parameter_trace_and_ptrace_use(tmp_path):
    rng = np.random.default_rng(2)
    n = 300
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    s = _session({"x": x, "y": np.where(rng.random(n) < 0.3, np.nan, y)})
    ok(s, "mi register imputed y")
    f = tmp_path / "pt"
    ok(s, f'quietly mi impute mvn y = x, add(3) burnin(5) burnbetween(2) saveptrace("{f}")')
    ok(s, "preserve")
    ok(s, f'mi ptrace use "{f}", clear')
    assert s.data.names[:2] == ["m", "iter"] and "b_y1x1" in s.data and "v_y1y1" in s.data
    np.testing.assert_array_equal(s.data.values("iter"), np.arange(1, 5 + 2 * 2 + 1))
    # the slope on x wanders around the truth
    assert np.mean(s.data.values("b_y1x1")) == pytest.approx(1.0, abs=0.3)
    ok(s, "restore")


def test_by_groups_and_force():
    rng = np.random.default_rng(4)
    n = 800
    g = (rng.random(n) < 0.5).astype(float)
    y = 10 * g + rng.normal(size=n)
    x = rng.normal(size=n)
    miss = rng.random(n) < 0.3
    s = _session({"g": g, "x": x, "y": np.where(miss, np.nan, y)})
    ok(s, "mi register imputed y")
    ok(s, "quietly mi impute regress y, add(1) by(g) rseed(1)")
    ym = _imp(s, "y", 1)
    assert ym[miss & (g == 1)].mean() == pytest.approx(10, abs=0.4)
    assert ym[miss & (g == 0)].mean() == pytest.approx(0, abs=0.4)
    # a missing predictor leaves an imputed value missing: r(498) unless force
    s2 = _session({"x": np.where(np.arange(n) == 0, np.nan, x), "y": np.where(np.arange(n) < 5, np.nan, y)})
    ok(s2, "mi register imputed y")
    rc, out = run(s2, "mi impute regress y x, add(1)")
    assert rc == 498 and "force" in out
    ok(s2, "quietly mi impute regress y x, add(1) force")
    assert np.isnan(_imp(s2, "y", 1)[0]) and not np.isnan(_imp(s2, "y", 1)[1:]).any()


def test_noisily_shows_the_model_on_observed_data():
    x, y, miss, _ = _data(300)
    s = _session({"x": x, "y": np.where(miss, np.nan, y)})
    ok(s, "mi register imputed y")
    out = ok(s, "mi impute regress y x, add(1) noisily rseed(1)")
    assert "Running regress on observed data:" in out
    assert f"Number of obs   = {int((~miss).sum()):>9,}" in out
    assert s.e is None


def test_augment_on_perfect_prediction():
    """A predictor that separates the outcome: r(498) ('perfect prediction'), and with augment
    the augmented regression (White, Daniel and Royston 2010) imputes, the imputations
    following the separation."""
    rng = np.random.default_rng(8)
    n = 300
    x = rng.normal(size=n)
    b = (x > 0).astype(float)
    miss = rng.random(n) < 0.2
    s = _session({"x": x, "b": np.where(miss, np.nan, b)})
    ok(s, "mi register imputed b")
    rc, out = run(s, "mi impute logit b x, add(1) rseed(1)")
    assert rc == 498 and "perfect prediction" in out
    ok(s, "quietly mi impute logit b x, add(2) rseed(1) augment")
    bm = _imp(s, "b", 1)[miss]
    assert set(bm) <= {0.0, 1.0}
    far = np.abs(x[miss]) > 1
    np.testing.assert_array_equal(bm[far], b[miss][far])
    s2 = _session({"x": x, "b": np.where(miss, np.nan, b), "y": x + rng.normal(size=n)})
    ok(s2, "mi register imputed b")
    ok(s2, "quietly mi impute chained (logit, augment) b = x y, add(1) rseed(2)")
    assert run(s2, "mi impute regress b x, replace augment")[0] == 198


def test_augmented_data_weights():
    X = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]])
    Xa, ya, wa = uni.augmented(X, np.array([0.0, 1.0, 1.0]), [0.0, 1.0])
    p, K = 2, 2
    assert len(ya) == 3 + 2 * p * K
    assert wa[3:].sum() == pytest.approx(p + 1)
    np.testing.assert_allclose(Xa[3], [X[:, 0].mean() - X[:, 0].std(), X[:, 1].mean()])
