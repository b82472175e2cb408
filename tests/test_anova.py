"""anova against R: car::Anova type III with sum-to-zero contrasts (Stata's partial SS when
every cell has data), stats::anova for sequential SS, lm's treatment-coded coefficients for
e(b). The numbers are in tests/data/anova/anova_reference.json (make_anova_reference.R)."""
import json
import os

import pytest

from hsb_fixtures import s  # noqa: F401
from session_run import ok, run

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "anova", "anova_reference.json")))
SETUP = "generate sesg = (ses > -0.5) + (ses > 0.5)"


def _terms(s):
    return [s.e.scalars[f"ss_{i}"] for i in range(1, 20) if f"ss_{i}" in s.e.scalars]


def test_two_way_partial_ss(s):
    ok(s, SETUP)
    out = ok(s, "anova mathach sector##sesg if id < 1500")
    ref = REF["twoway"]
    assert _terms(s) == pytest.approx(ref["ss"], rel=1e-9)
    assert s.e.scalars["rss"] == pytest.approx(ref["rss"], rel=1e-10)
    assert s.e.scalars["N"] == ref["N"]
    assert [s.e.scalars[f"df_{i}"] for i in (1, 2, 3)] == ref["df"]
    for word in ("Partial SS", "Model |", "sector#sesg |", "Residual |", "Total |", "Root MSE"):
        assert word in out
    # reference-coded coefficients, base levels and their interactions as omitted columns
    kept = [v for v, o in zip(s.e.b, s.e.omitted) if not o]
    assert kept[-1] == pytest.approx(REF["coef"][0], rel=1e-9)
    assert kept[:-1] == pytest.approx(REF["coef"][1:], rel=1e-9)
    assert ("mathach", "0b.sector#1o.sesg") in s.e.names


def test_ancova_with_factor_interaction(s):
    ok(s, SETUP)
    ok(s, "anova mathach sesg##female minority c.ses if id < 1500")
    ref = REF["ancova"]   # R orders sesg female minority ses sesg:female
    ss = _terms(s)        # ours: sesg female sesg#female minority ses
    assert [ss[0], ss[1], ss[3], ss[4], ss[2]] == pytest.approx(ref["ss"], rel=1e-9)
    assert s.e.scalars["rss"] == pytest.approx(ref["rss"], rel=1e-10)


def test_covariate_slopes(s):
    ok(s, "anova mathach sector##c.ses if id < 1500")
    assert _terms(s) == pytest.approx(REF["slopes"]["ss"], rel=1e-9)


def test_sequential(s):
    ok(s, SETUP)
    out = ok(s, "anova mathach sesg sector sesg#sector if id < 1500, sequential")
    assert _terms(s) == pytest.approx(REF["seq"]["ss"], rel=1e-9)
    assert "Seq. SS" in out
    assert s.e.macros["sstype"] == "sequential"


def test_model_f_and_replay(s):
    ok(s, "anova mathach sector if id < 1500")
    from scipy import stats
    d = s.data
    m = d.var("id").values < 1500
    y, g = d.var("mathach").values[m], d.var("sector").values[m]
    F = stats.f_oneway(y[g == 0], y[g == 1]).statistic
    assert s.e.scalars["F"] == pytest.approx(F, rel=1e-10)
    assert s.e.scalars["F_1"] == pytest.approx(F, rel=1e-10)
    assert "Partial SS" in ok(s, "anova")


@pytest.mark.parametrize("line,rc", [("anova", 301), ("anova nosuch sector", 111),
                                     ("anova mathach", 102), ("anova mathach sector, bogus", 198),
                                     ("anova mathach sector if id < 0", 2000),
                                     ("anova mathach sector, partial sequential", 198),
                                     ("anova mathach id|sector", 198), ("anova mathach ses", 452)])
def test_bad_input(s, line, rc):
    assert run(s, line)[0] == rc


def test_regress_replays_anova_coefficients(s):
    ok(s, SETUP)
    ok(s, "quietly anova mathach sector##sesg if id < 1500")
    out = ok(s, "regress")
    assert "Coefficient" in out and "_cons |" in out
    assert f"{REF['coef'][0]:.6f}"[:6] in out          # R's intercept, treatment coding


@pytest.mark.parametrize("kind", ["fweight", "aweight"])
def test_weighted_partial_ss(s, kind):
    ok(s, SETUP)
    ok(s, "generate w = 1 + mod(id, 3)")
    ok(s, f"anova mathach sector##sesg if id < 1500 [{kind}=w]")
    ref = REF[kind]
    assert _terms(s) == pytest.approx(ref["ss"], rel=1e-9)
    assert s.e.scalars["rss"] == pytest.approx(ref["rss"], rel=1e-10)
    if kind == "fweight":
        assert s.e.scalars["N"] == ref["sumw"] and s.e.scalars["df_r"] == ref["sumw"] - 6
    assert s.e.macros["wtype"] == kind


def test_squared_covariate(s):
    ok(s, "anova mathach i.sector##c.ses##c.ses if id < 1500")
    ref = REF["square"]      # R: sector ses ses^2 sector:ses sector:ses^2
    ss = _terms(s)           # ours: sector ses sector#c.ses c.ses#c.ses sector#c.ses#c.ses
    assert [ss[0], ss[1], ss[3], ss[2], ss[4]] == pytest.approx(ref["ss"], rel=1e-8)
    assert s.e.macros["term_4"] == "c.ses#c.ses"
