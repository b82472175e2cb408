"""alpha (Cronbach's alpha, item statistics, pairwise and casewise data, std, gen()) and icc
(one-way, two-way random and mixed; absolute and consistency) against base R
(tests/data/factor/reference.R) and Shrout & Fleiss's (1979) published values for their
judges data (ICC(1,1)=.17, ICC(2,1)=.29, ICC(3,1)=.71, ICC(1,4)=.44, ICC(2,4)=.62,
ICC(3,4)=.91)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
REF = json.load(open(os.path.join(HERE, "data", "factor", "reference.json")))
VARS = "rating complaints privileges learning raises critical advance"


@pytest.fixture(scope="module")
def att():
    return csv_session("tests/data/factor/attitude.csv")


@pytest.fixture(scope="module")
def judges():
    return csv_session("tests/data/factor/judges.csv")


def test_alpha_default(att):
    out = ok(att, f"alpha {VARS}")
    assert att.r.scalars["alpha"] == pytest.approx(REF["alpha"]["alpha"], rel=1e-12)
    assert att.r.scalars["cov"] == pytest.approx(REF["alpha"]["cov"], rel=1e-12)
    assert att.r.scalars["k"] == 7
    assert "Test scale = mean(unstandardized items)" in out
    assert "Average interitem covariance:     57.38347" in out
    assert "Number of items in the scale:            7" in out
    assert "Scale reliability coefficient:      0.8431" in out


def test_alpha_item_statistics(att):
    out = ok(att, f"alpha {VARS}, item")
    ref = REF["alpha"]
    mat = lambda k: np.asarray(att.r.matrices[k].values).ravel()  # noqa: E731
    np.testing.assert_allclose(mat("ItemTestCorr"), ref["itc"], rtol=1e-10)
    np.testing.assert_allclose(mat("ItemRestCorr"), ref["irc"], rtol=1e-10)
    np.testing.assert_allclose(mat("Alpha"), ref["alpha_wo"], rtol=1e-10)
    assert "item-test" in out and "Test scale   |" in out


def test_alpha_std(att):
    out = ok(att, f"alpha {VARS}, std")
    assert att.r.scalars["alpha"] == pytest.approx(REF["alpha"]["std_alpha"], rel=1e-12)
    assert "Test scale = mean(standardized items)" in out
    assert "rho" in att.r.scalars and "cov" not in att.r.scalars


def test_alpha_pairwise_and_casewise_with_missing(att):
    ok(att, "preserve")
    try:
        ok(att, "replace complaints = . in 3")
        ok(att, "replace complaints = . in 7")
        ok(att, "replace raises = . in 10")
        ok(att, f"alpha {VARS}")
        assert att.r.scalars["alpha"] == pytest.approx(REF["alpha_missing"]["alpha"], rel=1e-12)
        assert att.r.scalars["cov"] == pytest.approx(REF["alpha_missing"]["cov"], rel=1e-12)
        ok(att, f"alpha {VARS}, casewise")
        assert att.r.scalars["alpha"] == pytest.approx(REF["alpha_missing"]["alpha_casewise"], rel=1e-12)
        ok(att, f"alpha {VARS}, gen(scale)")
        x = np.column_stack([att.data.var(v).values for v in VARS.split()])
        np.testing.assert_allclose(att.data.var("scale").values, np.nanmean(x, 1), rtol=1e-6)
    finally:
        ok(att, "restore")


def test_alpha_reverses_negative_items(att):
    ok(att, "generate negr = -rating")
    out = ok(att, "alpha negr complaints privileges")
    assert "Reversed item:  negr" in out
    a = att.r.scalars["alpha"]
    ok(att, "alpha rating complaints privileges")
    assert att.r.scalars["alpha"] == pytest.approx(a, rel=1e-12)
    ok(att, "alpha negr complaints privileges, asis")
    assert att.r.scalars["alpha"] < a
    ok(att, "alpha negr complaints privileges, reverse(negr)")
    assert att.r.scalars["alpha"] == pytest.approx(a, rel=1e-12)
    ok(att, "drop negr")


@pytest.mark.parametrize("line,rc", [("alpha rating", 102), ("alpha rating nosuch", 111),
                                     ("alpha rating complaints, min(5)", 198),
                                     ("alpha rating complaints, gen(rating)", 110),
                                     ("alpha rating complaints if rating > 1000", 2000),
                                     ("alpha rating complaints, asis reverse(rating)", 198)])
def test_alpha_bad_input(att, line, rc):
    got, out = run(att, line)
    assert got == rc, out


# ------------------------------------------------------------------------------------- icc
def test_icc_oneway(judges):
    out = ok(judges, "icc rating target")
    ref = REF["icc"]["oneway"]
    r = judges.r.scalars
    np.testing.assert_allclose([r["icc_i"], r["icc_i_lb"], r["icc_i_ub"]], ref["i"], rtol=1e-10)
    np.testing.assert_allclose([r["icc_avg"], r["icc_avg_lb"], r["icc_avg_ub"]], ref["avg"], rtol=1e-10)
    assert r["icc_i_F"] == pytest.approx(ref["F"]) and r["icc_i_p"] == pytest.approx(ref["p"])
    assert round(r["icc_i"], 2) == 0.17 and round(r["icc_avg"], 2) == 0.44     # Shrout & Fleiss
    assert r["N_target"] == 6 and r["N_rater"] == 4
    assert judges.r.macros["model"] == "one-way random effects"
    assert "One-way random-effects model" in out and "Absolute agreement" in out
    assert "  ICC=0.00: F(5.0, 18.0) = 1.79" in out


def test_icc_twoway_random_absolute(judges):
    out = ok(judges, "icc rating target judge")
    ref = REF["icc"]["absolute"]
    r = judges.r.scalars
    np.testing.assert_allclose([r["icc_i"], r["icc_i_lb"], r["icc_i_ub"]], ref["i"], rtol=1e-10)
    np.testing.assert_allclose([r["icc_avg"], r["icc_avg_lb"], r["icc_avg_ub"]], ref["avg"], rtol=1e-10)
    assert r["icc_i_F"] == pytest.approx(ref["F"])
    assert round(r["icc_i"], 2) == 0.29 and round(r["icc_avg"], 2) == 0.62
    assert "Two-way random-effects model" in out
    assert "Random effects: judge" in out
    assert "            Individual |   .2897638      .0187865    .7610844" in out


def test_icc_mixed_consistency(judges):
    out = ok(judges, "icc rating target judge, mixed")
    ref = REF["icc"]["consistency"]
    r = judges.r.scalars
    np.testing.assert_allclose([r["icc_i"], r["icc_i_lb"], r["icc_i_ub"]], ref["i"], rtol=1e-10)
    np.testing.assert_allclose([r["icc_avg"], r["icc_avg_lb"], r["icc_avg_ub"]], ref["avg"], rtol=1e-10)
    assert round(r["icc_i"], 2) == 0.71 and round(r["icc_avg"], 2) == 0.91
    assert judges.r.macros["type"] == "consistency"
    assert "Consistency of agreement" in out and "Fixed effects:  judge" in out
    ok(judges, "icc rating target judge, consistency")        # random, consistency: same numbers
    assert judges.r.scalars["icc_i"] == pytest.approx(ref["i"][0])
    ok(judges, "icc rating target judge, mixed absolute")
    assert judges.r.scalars["icc_i"] == pytest.approx(REF["icc"]["absolute"]["i"][0])


def test_icc_testvalue(judges):
    ok(judges, "icc rating target judge, testvalue(.2)")
    ref = REF["icc"]["absolute"]
    assert judges.r.scalars["icc_i_F"] == pytest.approx(ref["F_r02"], rel=1e-10)
    assert judges.r.scalars["icc_i_df2"] == pytest.approx(ref["df2_r02"], rel=1e-10)


@pytest.mark.parametrize("line,rc", [
    ("icc rating", 102),
    ("icc rating target, mixed", 198), ("icc rating target judge, absolute consistency", 198),
    ("icc rating target judge, testvalue(1)", 198), ("icc rating target if _n != 1", 459),
    ("icc rating target judge if _n != 5", 459), ("icc rating target if rating > 100", 2000),
])
def test_icc_bad_input(judges, line, rc):
    before = dict(judges.r.scalars) if judges.r is not None else None
    got, out = run(judges, line)
    assert got == rc, out
    assert (dict(judges.r.scalars) if judges.r is not None else None) == before
