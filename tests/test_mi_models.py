"""The fits behind mi impute's posterior draws, against R on tests/data/mi/models.csv: the
ordered logit (ordinal::clm: coefficients, cut points, standard errors) and the logit
(glm, binomial); references in models_expected.json from tests/data/mi/models.R. And the
posterior draw of the regression method: its spread is the parameter uncertainty."""
import csv
import json
import os

import numpy as np
import pytest

from hlmshell.engine import mi_univariate as uni

HERE = os.path.join(os.path.dirname(__file__), "data", "mi")
REF = json.load(open(os.path.join(HERE, "models_expected.json")))


def _data():
    rows = list(csv.DictReader(open(os.path.join(HERE, "models.csv"))))
    x = np.array([[float(r["x1"]), float(r["x2"])] for r in rows])
    return x, np.array([int(r["c"]) for r in rows]), np.array([float(r["b"]) for r in rows])


def test_ordered_logit_matches_clm():
    x, c, _ = _data()
    beta, cuts, V = uni.ologit_fit(c - 1, x, 4)
    ref = REF["ologit"]
    np.testing.assert_allclose(beta, ref["beta"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cuts, ref["cuts"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), ref["se"], rtol=1e-4)


def test_logit_matches_glm():
    x, _, b = _data()
    X = np.column_stack([np.ones(len(b)), x])
    beta, V = uni.logit_fit(b, X)
    ref = REF["logit"]
    np.testing.assert_allclose(beta, ref["b"], rtol=1e-7)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), ref["se"], rtol=1e-6)


def test_regression_draws_carry_the_parameter_uncertainty():
    """beta* ~ N(beta_hat, sigma*^2 (X'X)^-1): over many draws the spread of beta* is the OLS
    standard error (times E[sigma*^2]/sigma^2 = (n-k)/(n-k-2))."""
    rng = np.random.default_rng(3)
    n = 50
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = X @ [1.0, 2.0] + rng.normal(size=n)
    bhat = np.linalg.lstsq(X, y, rcond=None)[0]
    s2 = np.sum((y - X @ bhat) ** 2) / (n - 2)
    se = np.sqrt(s2 * np.diag(np.linalg.inv(X.T @ X)) * (n - 2) / (n - 4))
    draws = np.array([uni.regress_draw(y, X, rng)[1] for _ in range(4000)])
    np.testing.assert_allclose(draws.mean(axis=0), bhat, atol=0.01)
    np.testing.assert_allclose(draws.std(axis=0), se, rtol=0.05)


def test_perfect_prediction_is_an_error():
    x = np.linspace(-1, 1, 40).reshape(-1, 1)
    y = (x[:, 0] > 0).astype(float)
    with pytest.raises(uni.ImputeError):
        uni.impute_logit(np.where(np.arange(40) % 5 == 0, np.nan, y), x,
                         np.arange(40) % 5 == 0, np.random.default_rng(1))
