"""lincom with or / irr / eform / hr / rrr / shr: exp(b), exp(b) se, z and p of the linear
combination and the exponentiated interval; r() exponentiated as Stata's lincom.ado stores it.
Reference numbers: R's glm and vcov (tests/data/lincom/make_lincom_eform_reference.R)."""
import json
import os

import pytest

from session_run import csv_session, ok, run

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "lincom", "lincom_eform_reference.json")))


def _check(s, ref):
    r = s.r.scalars
    for k in ("estimate", "se", "lb", "ub", "z"):
        assert r[k] == pytest.approx(ref[k], rel=1e-5), k
    assert r["p"] == pytest.approx(ref["p"], rel=1e-3, abs=1e-300)


def test_lincom_or_after_logit_matches_glm():
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "logit use age urban")
    out = ok(s, "lincom urban + age, or")
    _check(s, REF["logit_urban_plus_age"])
    assert "         use |  Odds ratio  Std. err.      z    P>|z|     [95% conf. interval]" in out
    assert "         (1) |   2.074822   .2120059     7.14   0.000     1.698263    2.534877" in out


def test_lincom_default_or_after_logistic_and_eform_titles():
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "logistic use age urban")
    out = ok(s, "lincom urban + age")
    assert "Odds ratio" in out
    _check(s, REF["logit_urban_plus_age"])
    for opt, title in (("eform", "exp(b)"), ("hr", "Haz. ratio"), ("rrr", "RRR"),
                       ("shr", "SHR"), ("ir", "IRR")):
        out = ok(s, f"lincom urban + age, {opt}")
        assert f"| {title:>11}  Std. err." in out


def test_lincom_irr_after_poisson_matches_glm():
    s = csv_session("tests/data/glmm/grouseticks.csv")
    ok(s, "poisson ticks year96 year97 height")
    out = ok(s, "lincom height, irr")
    _check(s, REF["poisson_height"])
    assert "|         IRR  Std. err." in out


def test_lincom_or_after_melogit_is_the_delta_method():
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "melogit use age urban || district:, intmethod(laplace)")
    ok(s, "lincom urban")
    lin = dict(s.r.scalars)
    ok(s, "lincom urban, or")
    e = s.r.scalars
    import math
    assert e["estimate"] == pytest.approx(math.exp(lin["estimate"]), rel=1e-12)
    assert e["se"] == pytest.approx(math.exp(lin["estimate"]) * lin["se"], rel=1e-12)
    assert e["lb"] == pytest.approx(math.exp(lin["lb"]), rel=1e-12)
    assert e["z"] == pytest.approx(lin["z"], rel=1e-12)


def test_lincom_eform_refusals_leave_r_alone():
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "logit use age urban")
    ok(s, "lincom urban")
    before = dict(s.r.scalars)
    rc, out = run(s, "lincom urban + 1, or")
    assert rc == 198 and "additive constant term not allowed with or option" in out
    rc, out = run(s, "lincom urban + 1, hr")
    assert rc == 198 and "with eform option" in out
    rc, out = run(s, "lincom urban, or irr")
    assert rc == 198 and "only one display option can be specified" in out
    assert s.r.scalars == before
