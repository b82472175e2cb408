"""xtserial, xttest3, xttest2, xtcsd (hlmshell/commands/xt_tests.py, engine/xt_diagnostics.py):
xtserial against a published Stata log, Pesaran's CD and the Breusch-Pagan LM against R's
plm::pcdtest, Friedman's statistic against scipy's friedmanchisquare, Greene's modified Wald
statistic and Frees' critical values against direct computations (pandas; Monte Carlo)."""
import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "xt_tests")
with open(os.path.join(HERE, "reference.json")) as f:
    REF = json.load(f)


@pytest.fixture(scope="module")
def fat():
    s = csv_session("tests/data/xt_tests/fatalities.csv")
    ok(s, "encode state, gen(st)")
    ok(s, "xtset st year")
    return s


def test_xtserial_published(fat):
    out = ok(fat, "xtserial fr beertax spirits unemp inck")
    assert "    F(  1,      47) =      6.246" in out
    assert "           Prob > F =      0.0160" in out
    assert fat.r.scalars["df_r"] == REF["xtserial"]["df_r"]
    assert fat.r.scalars["F"] == pytest.approx(REF["xtserial"]["F"], abs=5e-4)


def _fe(fat):
    ok(fat, "quietly xtreg fr beertax spirits unemp inck, fe")
    ok(fat, "capture drop ehat")
    ok(fat, "predict double ehat, e")
    e = np.asarray(fat.data.var("ehat").values, dtype=float)
    st = np.asarray(fat.data.var("st").values, dtype=float)
    yr = np.asarray(fat.data.var("year").values, dtype=float)
    return e, st, yr


def test_pesaran_and_lm_match_plm(fat):
    _fe(fat)
    out = ok(fat, "xtcsd, pesaran abs")
    assert fat.r.scalars["pesaran"] == pytest.approx(REF["pcdtest_cd"]["value"], rel=1e-7)
    assert "Pesaran's test of cross sectional independence =    11.307, Pr = 0.0000" in out
    ok(fat, "xttest2")
    assert fat.r.scalars["lm"] == pytest.approx(REF["pcdtest_lm"]["value"], rel=1e-7)
    assert fat.r.scalars["df"] == REF["pcdtest_lm"]["df"]


def test_friedman_matches_scipy(fat):
    from scipy.stats import friedmanchisquare
    e, st, yr = _fe(fat)
    ok(fat, "xtcsd, friedman")
    panels = [e[st == v][np.argsort(yr[st == v])] for v in np.unique(st)]
    # Friedman's test with the panels as treatments... here the periods are the treatments
    # and the panels the blocks: one sample per period, one observation per panel
    by_time = np.array(panels).T
    stat = friedmanchisquare(*by_time).statistic
    assert fat.r.scalars["friedman"] == pytest.approx(stat, rel=1e-9)


def test_groupwise_wald_direct(fat):
    import pandas as pd
    e, st, yr = _fe(fat)
    d = pd.DataFrame({"e2": e * e, "g": st})
    s2 = d.e2.mean()
    g = d.groupby("g").e2
    si = g.mean()
    T = g.count()
    V = d.assign(dev=(d.e2 - d.g.map(si)) ** 2).groupby("g").dev.sum() / (T * (T - 1))
    w = float((((si - s2) ** 2) / V).sum())
    ok(fat, "xttest3")
    assert fat.r.scalars["wald"] == pytest.approx(w, rel=1e-9)
    assert fat.r.scalars["df"] == 48


def test_frees_critical_values_monte_carlo():
    from hlmshell.engine.xt_diagnostics import frees_critical
    T = 7
    rng = np.random.default_rng(1)
    a = 4 * (T + 2) / (5 * (T - 1) ** 2 * (T + 1))
    b = 2 * (5 * T + 6) / (5 * T * (T - 1) * (T + 1))
    q = a * (rng.chisquare(T - 1, 400000) - (T - 1)) + b * (rng.chisquare(T * (T - 3) / 2, 400000) - T * (T - 3) / 2)
    mc = np.quantile(q, [0.90, 0.95, 0.99])
    np.testing.assert_allclose(frees_critical(T), mc, rtol=0.02)


def test_refusals(fat):
    ok(fat, "quietly regress fr beertax")
    for line, rc in (("xttest3", 301), ("xttest2", 301), ("xtcsd, pesaran", 301), ("xttest3 junk", 198),
                     ("xtcsd", 198), ("xtcsd, nosuch", 198), ("xtserial nosuch", 111),
                     ("xtserial fr beertax if fr > 1000", 2000), ("xtserial fr beertax, outputs", 198)):
        got, out = run(fat, line)
        assert got == rc, (line, out)


def test_xtoverid_matches_plm_auxiliary_regression(fat):
    """R: plm::phtest(fr ~ beertax + spirits + unemp + inck, method = 'aux', vcov = vcovHC(x,
    method = 'arellano', type = 'HC0', cluster = 'group')) -- Wooldridge's (2002, 10.7.3)
    robust artificial regression, which xtoverid's cluster-robust Sargan-Hansen statistic is."""
    ok(fat, "quietly xtreg fr beertax spirits unemp inck, re vce(robust)")
    out = ok(fat, "xtoverid")
    assert "Sargan-Hansen statistic" in out
    assert fat.r.scalars["j"] == pytest.approx(REF["phtest_aux_robust"]["value"], rel=1e-6)
    assert fat.r.scalars["jdf"] == 4
    ok(fat, "quietly xtreg fr beertax spirits unemp inck, re")
    ok(fat, "xtoverid")
    # the conventional version divides e'e by N; plm's lm vcov by N - k (k = 9 columns)
    N, k = 336, 9
    assert fat.r.scalars["j"] == pytest.approx(REF["phtest_aux"]["value"] * N / (N - k), rel=1e-6)
    ok(fat, "quietly xtreg fr beertax spirits unemp inck, fe")
    assert run(fat, "xtoverid")[0] == 301
