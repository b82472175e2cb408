"""pca: eigenvalues, eigenvectors (Stata's signs), unexplained variance, rotate, predict
scores and estat loadings, against base R's prcomp on R's attitude data
(tests/data/factor/reference.R)."""
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
def s():
    return csv_session("tests/data/factor/attitude.csv")


def emat(s, name):
    m = s.e.matrices[name]
    return np.asarray(getattr(m, "values", m), dtype=float)


def test_pca_correlation(s):
    out = ok(s, f"pca {VARS}")
    np.testing.assert_allclose(emat(s, "Ev").ravel(), REF["pca"]["ev"], atol=1e-10)
    np.testing.assert_allclose(emat(s, "L"), np.array(REF["pca"]["V"]), atol=1e-10)
    np.testing.assert_allclose(emat(s, "Psi").ravel(), 0, atol=1e-10)
    assert s.e.scalars["rho"] == pytest.approx(1.0)
    assert s.e.scalars["trace"] == pytest.approx(7.0)
    assert s.e.macros["Ctype"] == "correlation"
    assert "Principal components/correlation                  Number of obs    =        30" in out
    assert "    Rotation: (unrotated = principal)             Rho              =    1.0000" in out
    assert "           Comp1 |      3.71638      2.57545             0.5309       0.5309" in out
    # seven components: a block of six, then Comp7 with the Unexplained column
    assert "        Variable |    Comp7 | Unexplained " in out
    assert "          rating |   0.5976 |           0 " in out


def test_pca_components_unexplained_and_scores(s):
    out = ok(s, f"pca {VARS}, components(2)")
    assert s.e.scalars["f"] == 2
    np.testing.assert_allclose(emat(s, "Psi").ravel(), REF["pca"]["unexplained2"], atol=1e-10)
    np.testing.assert_allclose(s.e.scalars["rho"], sum(REF["pca"]["ev"][:2]) / 7, rtol=1e-12)
    assert "Number of comp.  =         2" in out
    out = ok(s, "predict double pc1 pc2")
    assert "(score assumed)" in out
    got = np.column_stack([s.data.var(v).values for v in ("pc1", "pc2")])
    np.testing.assert_allclose(got, np.array(REF["pca"]["scores"]), atol=1e-8)
    out = ok(s, "predict double one, notable")
    assert "(1 component skipped)" in out
    ok(s, "drop pc1 pc2 one")


def test_pca_covariance(s):
    ok(s, f"quietly pca {VARS}, covariance")
    np.testing.assert_allclose(emat(s, "Ev").ravel(), REF["pca_cov"]["ev"], rtol=1e-10)
    np.testing.assert_allclose(emat(s, "L"), np.array(REF["pca_cov"]["V"]), atol=1e-10)
    assert s.e.macros["Ctype"] == "covariance"


def test_estat_loadings_normalizations(s):
    ok(s, f"quietly pca {VARS}, comp(2)")
    ok(s, "estat loadings")
    A = np.asarray(s.r.matrices["A"].values)
    np.testing.assert_allclose((A ** 2).sum(0), 1, atol=1e-12)
    ok(s, "estat loadings, cnorm(eigen)")
    A = np.asarray(s.r.matrices["A"].values)
    np.testing.assert_allclose((A ** 2).sum(0), REF["pca"]["ev"][:2], rtol=1e-10)
    assert run(s, "estat loadings, cnorm(bad)")[0] == 198
    ok(s, f"quietly factor {VARS}")
    assert run(s, "estat loadings")[0] == 321


def test_pca_rotate_varimax_of_eigenvectors(s):
    ok(s, f"quietly pca {VARS}, comp(2)")
    out = ok(s, "rotate")
    V = np.array(REF["pca"]["V"])[:, :2]
    L = emat(s, "r_L")
    T = emat(s, "r_T")
    np.testing.assert_allclose(V @ T, L, atol=1e-10)
    np.testing.assert_allclose(T.T @ T, np.eye(2), atol=1e-10)
    # varimax maximizes the variance of the squared loadings: no other angle does better
    def crit(M):
        return float(((M ** 2).var(0) * len(M)).sum())
    best = crit(L)
    for a in np.linspace(-np.pi / 2, np.pi / 2, 721):
        R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        assert crit(V @ R) <= best + 1e-9
    assert "Rotated components" in out and "Component rotation matrix" in out


def test_pca_replay_and_errors(s):
    ok(s, f"quietly pca {VARS}, comp(2)")
    assert "Principal components/correlation" in ok(s, "pca")
    for line, rc in [("pca rating", 102), ("pca rating complaints, components(0)", 198),
                     ("pca rating complaints, correlation covariance", 198),
                     ("pca rating complaints, norotated", 198), ("pca rating nosuch", 111)]:
        got, out = run(s, line)
        assert got == rc, (line, out)
    assert s.e.cmd == "pca" and s.e.scalars["f"] == 2
    assert run(s, "predict x, bartlett")[0] == 198
