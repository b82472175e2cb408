"""stset, sts, stcox, streg on the Gehan leukemia data (MASS::gehan): reference numbers from
R's survival package (coxph ties = "breslow", survdiff, survfit, survreg) and the published
Stata stcox output for these data, stored in tests/data/survival/gehan_ref.json."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

DATA = Path(__file__).parent / "data" / "survival"
REF = json.loads((DATA / "gehan_ref.json").read_text())


@pytest.fixture
def s():
    s = csv_session(str(DATA / "gehan.csv"))
    ok(s, "stset time, failure(cens)")
    return s


def test_stset_variables(s):
    assert s.data.char("_dta", "_dta") == "st"
    assert np.all(np.asarray(s.data.values("_st")) == 1)
    assert np.sum(s.data.values("_d")) == 30


def test_stcox_matches_r_and_stata(s):
    out = ok(s, "stcox treated")
    b = s.e.b[0]
    assert b == pytest.approx(REF["cox_b"], abs=1e-6)
    assert math.sqrt(s.e.V[0, 0]) == pytest.approx(REF["cox_se"], rel=1e-5)
    assert s.e.scalars["ll"] == pytest.approx(REF["cox_ll"][1], abs=1e-6)
    assert s.e.scalars["ll_0"] == pytest.approx(REF["cox_ll"][0], abs=1e-6)
    pub = REF["stata_published"]
    assert ".2210887" in out and ".0905501" in out and "15.21" in out
    assert math.exp(b) == pytest.approx(pub["cox_hr"], abs=1e-7)


def test_logrank_and_km(s):
    ok(s, "sts test treated")
    assert s.r.scalars["chi2"] == pytest.approx(REF["logrank_chi2"], rel=1e-8)
    out = ok(s, "sts list")
    from hlmshell.engine.survival import kaplan_meier
    km = kaplan_meier(np.zeros(42), np.asarray(s.data.values("_t")), np.asarray(s.data.values("_d")), 1.96)
    fail = km.fail > 0
    assert np.allclose(km.time[fail], REF["km_time"])
    assert np.allclose(km.surv[fail], REF["km_surv"])
    assert np.allclose(km.se[fail], REF["km_se"], rtol=1e-6)
    assert "0.9524" in out


@pytest.mark.parametrize("d,key,anc,sign", [("weibull", "weibull", "logscale", -1),
                                            ("lognormal", "lognormal", "logsigma", 1),
                                            ("loglogistic", "loglogistic", "loggamma", 1)])
def test_streg_aft_matches_survreg(s, d, key, anc, sign):
    ok(s, f"streg treated, distribution({d}) time nolog")
    b = s.e.b
    assert b[1] == pytest.approx(REF[key + "_b"][0], abs=1e-4)       # _cons
    assert b[0] == pytest.approx(REF[key + "_b"][1], abs=1e-4)
    assert sign * b[2] == pytest.approx(REF[key + "_" + anc], abs=1e-4)


def test_weibull_ph_is_aft_rescaled(s):
    ok(s, "streg treated, distribution(weibull) nolog")
    ph = s.e.b.copy()
    p = math.exp(ph[2])
    assert -ph[0] / p == pytest.approx(REF["weibull_b"][1], abs=1e-4)


def test_errors(s):
    assert run(s, "streg treated")[0] == 198
    assert run(s, "stcox nosuch")[0] == 111
    assert run(s, "sts foo")[0] == 198
    ok(s, "stset, clear")
    assert run(s, "stcox treated")[0] == 119
    assert run(s, "sts list")[0] == 119
