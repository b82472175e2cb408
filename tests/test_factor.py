"""factor (pf, pcf, ipf, ml), rotate, predict, estat kmo/smc after factor, screeplot.

Reference numbers come from base R on R's `attitude` data (tests/data/factor/reference.R:
factanal for ML, eigen() of the (reduced) correlation matrix for pf/pcf/ipf, varimax(), a
promax written out as Stata describes it, KMO from the anti-image correlations); the R test
at the end recomputes them when Rscript is there.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
REF = json.load(open(os.path.join(HERE, "data", "factor", "reference.json")))
VARS = "rating complaints privileges learning raises critical advance"


@pytest.fixture(scope="module")
def s():
    return csv_session("tests/data/factor/attitude.csv")


def emat(s, name):
    m = s.e.matrices[name]
    return np.asarray(getattr(m, "values", m), dtype=float)


def test_pcf_eigenvalues_loadings_uniqueness(s):
    out = ok(s, f"factor {VARS}, pcf")
    ref = REF["pcf"]
    np.testing.assert_allclose(emat(s, "Ev").ravel(), ref["ev"], atol=1e-10)
    np.testing.assert_allclose(emat(s, "L"), np.array(ref["L"]), atol=1e-10)
    np.testing.assert_allclose(emat(s, "Psi").ravel(), ref["psi"], atol=1e-10)
    assert s.e.scalars["f"] == ref["f"] == 2
    assert s.e.scalars["N"] == 30
    assert s.e.macros["method"] == "pcf" and s.e.macros["cmd"] == "factor"
    np.testing.assert_allclose(s.e.scalars["chi2_i"], REF["chi2_i"], rtol=1e-10)
    assert "    Method: principal-component factors          Retained factors =          2" in out
    assert "        Factor1  |      3.71638      2.57545            0.5309       0.5309" in out
    assert "          rating |   0.7962   -0.4240 |      0.1863  " in out
    assert "LR test: independent vs. saturated:  chi2(21) =    98.75 Prob>chi2 = 0.0000" in out


def test_pf_uses_smc_and_keeps_positive_eigenvalues(s):
    ok(s, f"factor {VARS}")
    ref = REF["pf"]
    np.testing.assert_allclose(emat(s, "Ev").ravel(), ref["ev"], atol=1e-10)
    assert s.e.scalars["f"] == ref["f"]
    np.testing.assert_allclose(emat(s, "L"), np.array(ref["L"]), atol=1e-10)
    np.testing.assert_allclose(emat(s, "Psi").ravel(), ref["psi"], atol=1e-10)
    # parameters: p*f - f(f-1)/2
    assert s.e.scalars["df_m"] == 7 * 4 - 6


def test_ipf_converged_communalities(s):
    ok(s, f"factor {VARS}, ipf factors(2)")
    ref = REF["ipf"]
    np.testing.assert_allclose(emat(s, "L"), np.array(ref["L"]), atol=2e-5)
    np.testing.assert_allclose(emat(s, "Psi").ravel(), ref["psi"], atol=2e-5)


def test_ml_against_factanal(s):
    out = ok(s, f"factor {VARS}, ml factors(2)")
    ref = REF["ml"]
    np.testing.assert_allclose(emat(s, "Psi").ravel(), ref["psi"], atol=2e-5)
    np.testing.assert_allclose(emat(s, "L"), np.array(ref["L"]), atol=5e-5)
    np.testing.assert_allclose(s.e.scalars["chi2_1"], ref["chi2"], rtol=1e-5)
    assert s.e.scalars["df_1"] == ref["df"]
    # log likelihood -(N-1)/2 * criterion; AIC/BIC with p*f - f(f-1)/2 parameters
    np.testing.assert_allclose(s.e.scalars["ll"], -29 / 2 * ref["objective"], rtol=1e-5)
    np.testing.assert_allclose(s.e.scalars["aic"], -2 * s.e.scalars["ll"] + 2 * 13, rtol=1e-12)
    assert "    Method: maximum likelihood" in out
    assert "LR test:   2 factors vs. saturated:  chi2(8)  =     5.47" in out


def test_blanks_and_replay(s):
    ok(s, f"factor {VARS}, ml factors(2)")
    out = ok(s, "factor, blanks(.3)")
    assert "        critical |   0.3147           |      0.8969  " in out
    assert "(blanks represent abs(loading)<.3)" in out


def test_varimax_default_is_kaiser_off(s):
    ok(s, f"quietly factor {VARS}, pcf")
    out = ok(s, "rotate")
    np.testing.assert_allclose(emat(s, "r_L"), np.array(REF["varimax"]), atol=1e-7)
    assert "Rotation: orthogonal varimax (Kaiser off)" in out
    assert s.e.macros["r_criterion"] == "varimax" and s.e.macros["r_class"] == "orthogonal"
    assert s.e.macros["r_normalization"] == "none"
    T = emat(s, "r_T")
    np.testing.assert_allclose(emat(s, "L") @ T, emat(s, "r_L"), atol=1e-10)
    # rotation leaves the uniquenesses and the total variance alone
    np.testing.assert_allclose(emat(s, "r_Ev").sum(), (emat(s, "L") ** 2).sum(), rtol=1e-12)
    ok(s, "rotate, normalize")
    np.testing.assert_allclose(emat(s, "r_L"), np.array(REF["varimax_kaiser"]), atol=1e-7)


def test_promax_matches_stata_definition(s):
    ok(s, f"quietly factor {VARS}, pcf")
    out = ok(s, "rotate, promax")
    np.testing.assert_allclose(emat(s, "r_L"), np.array(REF["promax"]), atol=1e-7)
    assert "Rotation: oblique promax(3) (Kaiser off)" in out
    assert "Rotated factors are correlated" in out
    # pattern = A (T')^-1 and Phi = T'T
    T, A = emat(s, "r_T"), emat(s, "L")
    np.testing.assert_allclose(A @ np.linalg.inv(T.T), emat(s, "r_L"), atol=1e-10)
    np.testing.assert_allclose(emat(s, "r_Phi"), T.T @ T, atol=1e-12)
    ok(s, "rotate, promax(3) normalize")
    np.testing.assert_allclose(emat(s, "r_L"), np.array(REF["promax_kaiser"]), atol=1e-7)


def test_oblimin_is_a_stationary_point_of_its_criterion(s):
    ok(s, f"quietly factor {VARS}, pcf")
    ok(s, "rotate, oblimin")
    A, L = emat(s, "L"), emat(s, "r_L")

    def crit(T):
        T = T / np.sqrt((T ** 2).sum(0))
        Lr = A @ np.linalg.inv(T.T)
        L2 = Lr ** 2
        return float((L2[:, 0] * L2[:, 1]).sum())

    T = emat(s, "r_T")
    f0 = crit(T)
    rng = np.random.default_rng(1)
    for _ in range(50):          # no nearby rotation does better (brute force)
        assert crit(T + 1e-3 * rng.standard_normal(T.shape)) >= f0 - 1e-9
    np.testing.assert_allclose(A @ np.linalg.inv(T.T), L, atol=1e-10)


def test_predict_regression_and_bartlett_scores(s):
    ok(s, f"quietly factor {VARS}, ml factors(2)")
    ok(s, "predict double r1 r2, norotated notable")
    ok(s, "predict double b*, bartlett norotated notable")
    got = np.column_stack([s.data.var(v).values for v in ("r1", "r2", "b1", "b2")])
    np.testing.assert_allclose(got[:, :2], np.array(REF["ml"]["scores_reg"]), atol=2e-4)
    np.testing.assert_allclose(got[:, 2:], np.array(REF["ml"]["scores_bart"]), atol=2e-4)
    ok(s, "drop r1 r2 b1 b2")


def test_predict_after_varimax_uses_rotated_factors(s):
    ok(s, f"quietly factor {VARS}, pcf")
    ok(s, "quietly rotate")
    out = ok(s, "predict double passive active")
    assert "(regression scoring assumed)" in out
    assert "Scoring coefficients (method = regression; based on varimax rotated factors)" in out
    got = np.column_stack([s.data.var(v).values for v in ("passive", "active")])
    np.testing.assert_allclose(got, np.array(REF["scores_varimax"]), atol=1e-6)
    assert s.data.var("passive").label == "Scores for factor 1"
    ok(s, "drop passive active")


def test_estat_kmo_and_smc(s):
    ok(s, f"quietly factor {VARS}")
    out = ok(s, "estat kmo")
    np.testing.assert_allclose(s.r.scalars["kmo"], REF["kmo"]["overall"], rtol=1e-10)
    kmow = s.r.matrices["kmow"]
    np.testing.assert_allclose(np.asarray(kmow.values).ravel(), REF["kmo"]["per"], rtol=1e-10)
    assert "Kaiser-Meyer-Olkin measure of sampling adequacy" in out
    assert "         Overall |  0.7633 " in out
    ok(s, "estat smc")
    np.testing.assert_allclose(np.asarray(s.r.matrices["smc"].values).ravel(), REF["pf"]["smc"], rtol=1e-10)


def test_do_file_pattern_from_the_oecd_course(s):
    """08_oecd_rtm_xtmixed.do: factor, pcf; rotate; mat A = e(r_L); colnames; predict two."""
    ok(s, f"quietly factor {VARS}, pcf")
    ok(s, "quietly rotate")
    ok(s, "mat A = e(r_L)")
    ok(s, "mat colnames A = Factor~1 Factor~2")
    ok(s, "quietly predict passive active")
    ok(s, "quietly summarize passive")
    assert abs(s.r.scalars["mean"]) < 1e-6
    ok(s, "drop passive active")
    ok(s, "estat summarize")


def test_screeplot_draws_the_eigenvalues(s):
    ok(s, f"quietly factor {VARS}, pcf")
    ok(s, "screeplot, mean nodraw")
    _, g = s.graphs.get()
    y = np.asarray(g.panels[0].series[0].y)
    np.testing.assert_allclose(y, REF["pcf"]["ev"], atol=1e-10)
    assert g.title == "Scree plot of eigenvalues after factor"
    assert g.panels[0].ylines == [pytest.approx(np.mean(REF["pcf"]["ev"]))]


def test_factormat_reproduces_factor(s):
    ok(s, f"quietly correlate {VARS}")
    ok(s, "matrix C = r(C)")
    ok(s, "quietly factormat C, n(30) pcf")
    np.testing.assert_allclose(emat(s, "L"), np.array(REF["pcf"]["L"]), atol=1e-10)
    assert s.e.sample is None


@pytest.mark.parametrize("line,rc", [
    ("factor rating", 102),
    ("factor rating complaints, pf pcf", 198),
    ("factor rating complaints, factors(0)", 198),
    ("factor rating complaints, citerate(3)", 198),
    ("factor rating nosuch", 111),
    ("factor rating complaints, blanks(-1)", 198),
    ("factor rating complaints if rating > 1000", 2000),
    ("factor rating complaints [pw=rating]", 101),
    ("factor rating complaints, norotated", 198),
    ("factormat C", 198),
    ("factormat nosuchmatrix, n(10)", 111),
])
def test_bad_input(s, line, rc):
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out


def test_rotate_errors_leave_results_alone(s):
    ok(s, "quietly regress rating complaints")
    assert run(s, "rotate")[0] == 321
    ok(s, f"quietly factor {VARS}, pcf")
    for line, rc in [("rotate, varimax oblique", 198), ("rotate, promax orthogonal", 198),
                     ("rotate, factors(5)", 198), ("rotate, varimax promax", 198),
                     ("rotate, promax(x)", 198), ("rotate junk", 198)]:
        got, out = run(s, line)
        assert got == rc, (line, out)
    assert "r_L" not in s.e.matrices
    assert run(s, "predict onlyone, bartlett regression")[0] == 198
    assert run(s, "predict a b c")[0] == 103
    assert "a" not in s.data


def test_rotate_clear_and_replay(s):
    ok(s, f"quietly factor {VARS}, pcf")
    ok(s, "quietly rotate")
    ok(s, "rotate, clear")
    assert "r_L" not in s.e.matrices and s.e.model.rotation is None
    out = ok(s, "factor")
    assert "Rotation: (unrotated)" in out


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_reference_numbers_recompute_in_r(tmp_path):
    src = os.path.join(HERE, "data", "factor")
    for f in ("attitude.csv", "judges.csv", "reference.R"):
        shutil.copy(os.path.join(src, f), tmp_path / f)
    subprocess.run(["Rscript", "reference.R"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    fresh = json.load(open(tmp_path / "reference.json"))
    np.testing.assert_allclose(np.array(fresh["varimax"]), np.array(REF["varimax"]), atol=1e-12)
    np.testing.assert_allclose(fresh["icc"]["absolute"]["i"], REF["icc"]["absolute"]["i"], atol=1e-12)


def test_rotate_leaves_stored_estimates_unrotated(s):
    ok(s, f"quietly factor {VARS}, pcf")
    ok(s, "estimates store unrot")
    ok(s, "quietly rotate, promax")
    assert s.e.model.rotation is not None
    assert s.estimates["unrot"].model.rotation is None
    assert "r_L" not in s.estimates["unrot"].matrices
    ok(s, "estimates restore unrot")
    assert "Rotation: (unrotated)" in ok(s, "factor")


def test_frequency_weights_equal_expanded_data():
    t = csv_session("tests/data/factor/attitude.csv")
    ok(t, "generate w = mod(_n, 3) + 1")
    ok(t, f"quietly factor {VARS} [fw=w], ml factors(2)")
    L1, psi1, n1 = emat(t, "L"), emat(t, "Psi"), t.e.scalars["N"]
    ok(t, "expand w")
    ok(t, f"quietly factor {VARS}, ml factors(2)")
    assert n1 == t.e.scalars["N"] == 60
    np.testing.assert_allclose(L1, emat(t, "L"), atol=1e-8)
    np.testing.assert_allclose(psi1, emat(t, "Psi"), atol=1e-8)
