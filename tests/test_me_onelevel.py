"""melogit, meprobit, mecloglog, mepoisson, meologit, menbreg and meglm without a
random-effects equation: the one-level models, against R's glm and ordinal::clm
(tests/data/me_onelevel/make_reference.R, numbers in me_onelevel_reference.json); the
observed-information standard errors of the non-canonical links against a Hessian of the
log likelihood written out here (R's glm reports the expected information there)."""
import json
import os

import numpy as np
import pytest
from scipy.special import ndtr

from session_run import csv_session, ok, run

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "me_onelevel",
                                  "me_onelevel_reference.json")))


@pytest.fixture(scope="module")
def s():
    return csv_session("tests/data/glmm/ordinal.csv")


def _b(s):
    return np.ravel(s.e.b), np.sqrt(np.diag(np.asarray(s.e.V)))


def _cons_first(v):
    return np.r_[v[-1], v[:-1]]


@pytest.mark.parametrize("line,key,se_exact", [
    ("melogit use age urban", "logit", True),
    ("meprobit use age urban, nolog", "probit", False),
    ("meglm use age urban, family(bernoulli) link(cloglog) nolog", "cloglog", False),
    ("mepoisson y age urban, nolog", "poisson", True),
])
def test_glm_families_match_r(s, line, key, se_exact):
    out = ok(s, line)
    ref = REF[key]
    b, se = _b(s)
    assert s.e.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-9)
    np.testing.assert_allclose(_cons_first(b), ref["coef"], rtol=1e-6)
    if se_exact:
        np.testing.assert_allclose(_cons_first(se), ref["se"], rtol=1e-5)
    assert s.e.cmd == line.split()[0] and s.e.scalars["k_r"] == 0
    assert "Number of obs     =      1,934" in out and "Wald chi2(2)" in out
    assert "LR test" not in out and "Integration" not in out and "Group variable" not in out


def test_probit_observed_information(s):
    ok(s, "meprobit use age urban, nolog")
    b, se = _b(s)
    y = np.asarray(s.data.values("use"), float)
    X = np.column_stack([s.data.values("age"), s.data.values("urban"), np.ones(len(y))])

    def ll(beta):
        p = ndtr(X @ beta)
        return np.sum(y * np.log(p) + (1 - y) * np.log1p(-p))

    k, h = 3, 1e-4
    H = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            H[i, j] = (ll(b + ei + ej) - ll(b + ei - ej) - ll(b - ei + ej) + ll(b - ei - ej)) / (4 * h * h)
    np.testing.assert_allclose(se, np.sqrt(np.diag(np.linalg.inv(-H))), rtol=1e-4)


def test_ordered_logit_matches_clm(s):
    out = ok(s, "meologit y age urban, nolog")
    ref = REF["ologit"]
    b, se = _b(s)
    assert s.e.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-9)
    np.testing.assert_allclose(b, ref["beta"] + ref["cuts"], rtol=1e-5)
    np.testing.assert_allclose(se, ref["se"][2:] + ref["se"][:2], rtol=1e-4)
    assert "Ordered logistic regression" in out and "       /cut2 |" in out
    ok(s, "capture drop pq*")
    ok(s, "predict pq*")
    P = np.column_stack([s.data.values(f"pq{k}") for k in (1, 2, 3)])
    assert np.allclose(P.sum(axis=1), 1.0)


def test_robust_and_cluster_match_sandwich(s):
    out = ok(s, "melogit use age urban, vce(robust) nolog")
    np.testing.assert_allclose(_cons_first(_b(s)[1]), REF["logit_robust_se"], rtol=1e-5)
    assert "Log pseudolikelihood" in out and "Robust" in out
    out = ok(s, "melogit use age urban, vce(cluster district) nolog")
    np.testing.assert_allclose(_cons_first(_b(s)[1]), REF["logit_cluster_se"], rtol=1e-5)
    assert "(Std. err. adjusted for 60 clusters in district)" in out


def test_replay_predict_and_refusals(s):
    ok(s, "melogit use age urban, nolog")
    out = ok(s, "melogit, or")
    assert "Odds ratio" in out and "Logistic regression" in out
    for v in ("pp", "xx", "ee"):
        ok(s, f"capture drop {v}")
    ok(s, "predict pp")
    ok(s, "predict xx, xb")
    ok(s, "predict ee, eta")
    b, _ = _b(s)
    X = np.column_stack([s.data.values("age"), s.data.values("urban"), np.ones(s.data.n)])
    assert np.allclose(s.data.values("xx"), X @ b, rtol=1e-6)
    assert np.allclose(s.data.values("ee"), X @ b, rtol=1e-6)
    assert np.allclose(s.data.values("pp"), 1 / (1 + np.exp(-X @ b)), rtol=1e-6)
    assert run(s, "predict uu, reffects")[0] == 198
    assert run(s, "meprobit use age, or")[0] == 198
    assert run(s, "mepoisson y age, or")[0] == 198
    ok(s, "menbreg y age, nolog")
    assert s.e.cmd == "menbreg" and "/:lnalpha" in [f"{e}:{n}" for e, n in s.e.names]
    assert s.e.scalars["ll"] == pytest.approx(REF["poisson"]["ll"], abs=5.0)
