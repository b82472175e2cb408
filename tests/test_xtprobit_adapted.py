"""xtprobit, re where 12-point adaptive quadrature is far from the exact integral (sigma_u ~ 4,
most panels all 0 or all 1, the shape of Wooldridge's lfp panels): the held-node Newton steps
fail there, and the fit maximises the adapted quadrature value itself (engine.glmm_adapted).
Reference: tests/data/xtprobit_adapted/make_reference.py, an independent numpy/scipy
implementation of the same 12-point mean-variance adaptive likelihood maximised by BFGS on
central differences (and, for scale, the exact marginal likelihood by a fine trapezoid rule)."""
import json
from pathlib import Path

import numpy as np
import pytest

from tests.session_run import csv_session, ok

REF = json.loads((Path(__file__).parent / "data" / "xtprobit_adapted" / "reference.json").read_text())


@pytest.fixture(scope="module")
def fitted():
    s = csv_session("tests/data/xtprobit_adapted/panels.csv")
    ok(s, "xtset id period")
    out = ok(s, "xtprobit y kids lhinc educ black age agesq, re")
    return s, out


def test_converges_to_the_adapted_maximum(fitted):
    s, out = fitted
    ref = REF["agq12"]
    assert "convergence not achieved" not in out
    assert s.e.scalars["converged"] == 1
    assert s.e.scalars["ll"] == pytest.approx(ref["ll"], abs=1e-4)
    b = np.asarray(s.e.b, dtype=float)
    np.testing.assert_allclose(b[:7], ref["b"], rtol=2e-4, atol=2e-5)
    assert b[7] == pytest.approx(ref["lnsig2u"], abs=1e-3)
    assert s.e.scalars["sigma_u"] == pytest.approx(ref["sigma_u"], rel=1e-3)


def test_standard_errors_from_the_adapted_hessian(fitted):
    s, _ = fitted
    se = np.sqrt(np.diag(np.asarray(s.e.V, dtype=float)))
    np.testing.assert_allclose(se, REF["agq12"]["se"], rtol=1e-2)


def test_near_the_exact_likelihood(fitted):
    """The 12-point value is the one Stata maximises; it stays within the rule's error of
    the exact marginal likelihood, and so do the estimates."""
    s, _ = fitted
    ex = REF["exact"]
    assert abs(s.e.scalars["ll"] - ex["ll"]) < 5.0
    assert s.e.scalars["sigma_u"] == pytest.approx(ex["sigma_u"], rel=0.15)


def test_total_gradient_is_the_adapted_values_derivative():
    """glmm_adapted.total_gradient against central differences of the re-adapted deviance."""
    from hlmshell.engine import glmm, glmm_adapted, glmm_families as gf
    from hlmshell.engine.vcparams import Structure
    d = np.loadtxt(Path(__file__).parent / "data" / "xtprobit_adapted" / "panels.csv",
                   delimiter=",", skiprows=1)
    X = np.column_stack([d[:, 3:], np.ones(len(d))])
    gd = glmm.GlmmData.build(d[:, 2], X, np.ones((len(d), 1)), d[:, 0].astype(int))
    prob = glmm.Problem(gd, gf.family("binomial", "probit"), Structure("identity", 1), "agq", 12)
    sc = glmm.Scaling(gd.X)
    sp = prob.rescaled(sc.M)
    x = sc.to_scaled(np.r_[REF["exact"]["b"], REF["exact"]["sigma_u"]])
    dev, g = glmm_adapted.total_gradient(sp, x)
    ad = sp.adapt
    fd = np.empty(len(x))
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = 1e-3            # the adaptation converges to 1e-8: smaller steps are noise
        vals = []
        for sgn in (1, -1):
            sp.adapt = ad
            vals.append(sp.dev_grad(x + sgn * e)[0])
        fd[j] = (vals[0] - vals[1]) / 2e-3
    np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-4)
    sp.adapt = ad
    held = sp.dev_grad(x)[1]
    assert np.max(np.abs(held - g)) > 10 * np.max(np.abs(g - fd))   # why held nodes misled


def test_robust_vce_after_the_adapted_fit(fitted):
    """vce(robust) sums each panel's total derivative (glmm_adapted.group_scores, checked
    below); on data drawn from the model the robust SEs are close to the model-based ones."""
    s, _ = fitted
    V0 = np.asarray(s.e.V, dtype=float)
    out = ok(s, "xtprobit y kids lhinc educ black age agesq, re vce(robust)")
    assert "Robust" in out and s.e.scalars["converged"] == 1
    ratio = np.sqrt(np.diag(np.asarray(s.e.V, dtype=float)) / np.diag(V0))
    assert np.all(np.isfinite(ratio)) and np.all((ratio > 0.6) & (ratio < 1.6)), ratio


def test_group_scores_against_finite_differences():
    from hlmshell.engine import glmm, glmm_adapted, glmm_families as gf
    from hlmshell.engine.vcparams import Structure
    d = np.loadtxt(Path(__file__).parent / "data" / "xtprobit_adapted" / "panels.csv",
                   delimiter=",", skiprows=1)
    X = np.column_stack([d[:, 3:], np.ones(len(d))])
    gd = glmm.GlmmData.build(d[:, 2], X, np.ones((len(d), 1)), d[:, 0].astype(int))
    prob = glmm.Problem(gd, gf.family("binomial", "probit"), Structure("identity", 1), "agq", 12)
    sc = glmm.Scaling(gd.X)
    sp = prob.rescaled(sc.M)
    x = sc.to_scaled(np.r_[REF["agq12"]["b"], REF["agq12"]["sigma_u"]])
    S = glmm_adapted.group_scores(sp, x)
    ad = sp.adapt
    assert np.max(np.abs(S.sum(axis=0))) < 5e-3            # the maximum: scores sum to ~0
    for j in (4, 7):                                         # age and sigma_u
        e = np.zeros(len(x))
        e[j] = 1e-3
        vals = []
        for sgn in (1, -1):
            sp.adapt = ad
            sp.dev_grad(x + sgn * e)                         # re-adapt at the moved point
            vals.append(glmm._group_ll(sp, x + sgn * e))
        fd = (vals[0] - vals[1]) / 2e-3
        np.testing.assert_allclose(S[:, j], fd, rtol=1e-3, atol=1e-5)
