"""xthybrid (hlmshell/commands/xthybrid.py, SSC's, built in) on the Cornwell-Rupert wages
panel: the hybrid and the Mundlak (cre) models against the same designs built by hand
(cluster means and deviations) and fitted by R's lme4::lmer with ML (hybrid.R): coefficients,
standard errors, the two variances and the log likelihood. The within-cluster share that
decides which variables are split is checked against xtreg, re's rho."""
import json
import math
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "xt_extra")
with open(os.path.join(HERE, "hybrid.json")) as f:
    REF = json.load(f)


@pytest.fixture(scope="module")
def wages():
    s = csv_session("tests/data/wages_xt.csv")
    ok(s, "xtset id t")
    return s


def _check(s, ref, order):
    b = np.asarray(s.e.b, float)
    se = np.sqrt(np.diag(np.asarray(s.e.V, float)))
    k = s.e.k_f
    np.testing.assert_allclose(b[:k], np.asarray(ref["b"])[order], rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(se[:k], np.asarray(ref["se"])[order], rtol=2e-4)
    assert s.e.scalars["ll"] == pytest.approx(ref["ll"], abs=1e-4)
    assert math.exp(2 * b[k]) == pytest.approx(ref["var_u"], rel=1e-4)
    assert math.exp(2 * b[k + 1]) == pytest.approx(ref["var_e"], rel=1e-4)


def test_hybrid_matches_lmer(wages):
    names_before = list(wages.data.names)
    out = ok(wages, "xthybrid lwage union married exp ed black, clusterid(id) test")
    assert "The variable 'ed' does not vary sufficiently within clusters" in out
    assert "[~0% of the total variance in 'black' is within clusters]" in out
    assert "Hybrid model. Family: gaussian. Link: identity." in out
    assert "Level 1: 4165 units. Level 2: 595 units." in out
    assert "_b[B__union] = _b[W__union]; p-value:" in out
    assert [nm for _, nm in wages.e.names[:wages.e.k_f]] == [
        "R__ed", "R__black", "W__union", "W__married", "W__exp", "B__union", "B__married", "B__exp", "_cons"]
    _check(wages, REF["hybrid"], [1, 2, 3, 4, 5, 6, 7, 8, 0])
    assert list(wages.data.names) == names_before          # the data are restored
    assert "model" in wages.estimates


def test_cre_matches_lmer(wages):
    out = ok(wages, "xthybrid lwage union married exp ed black, clusterid(id) cre star")
    assert "Correlated random effects model." in out and "legend: * p<0.05" in out
    assert [nm for _, nm in wages.e.names[:wages.e.k_f]] == [
        "R__ed", "R__black", "W__exp", "W__married", "W__union", "D__union", "D__married", "D__exp", "_cons"]
    _check(wages, REF["cre"], [4, 5, 3, 2, 1, 6, 7, 8, 0])


def test_within_share_is_xtreg_re_rho(wages):
    ok(wages, "quietly xtreg wks, re")
    share = math.floor((1 - wages.e.scalars["rho"]) * 100)
    out = ok(wages, f"xthybrid lwage wks union, clusterid(id) percentage({share})")
    assert f"[~{share}% of the total variance in 'wks' is within clusters]" not in out  # == share: kept
    out = ok(wages, f"xthybrid lwage wks union, clusterid(id) percentage({share + 1})")
    assert f"[~{share}% of the total variance in 'wks' is within clusters]" in out
    assert "R__wks" in [nm for _, nm in wages.e.names]


def test_keepvars_use_and_refusals(wages):
    ok(wages, 'ssc install "xthybrid"')                   # built in: nothing to install
    ok(wages, "xthybrid lwage union exp, clusterid(id) use(union) keepvars")
    assert {"W__union", "B__union", "R__exp"} <= set(wages.data.names)
    got, text = run(wages, "xthybrid lwage union, clusterid(id)")
    assert got == 110                                        # W__ variables already there
    ok(wages, "drop W__* B__* R__*")
    before = wages.e
    for line, rc in (("xthybrid lwage union", 198), ("xthybrid lwage union, clusterid(id) family(foo)", 198),
                     ("xthybrid lwage union, clusterid(id) link(foo)", 198),
                     ("xthybrid lwage union, clusterid(id) nonlinearities(foo)", 198),
                     ("xthybrid ed union, clusterid(id)", 459), ("xthybrid lwage nosuch, clusterid(id)", 111),
                     ("xthybrid lwage union if lwage > 99, clusterid(id)", 2000)):
        got, text = run(wages, line)
        assert got == rc, (line, text)
        assert wages.e is before
