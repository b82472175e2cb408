"""xtgls (hlmshell/commands/xtgls.py): panels(iid) against OLS in numpy (variance e'e/N),
panels(hetero) igls against R's nlme::gls with varIdent by state fitted by ML (the iterated
FGLS limit), nmk giving nlme's N/(N-k) scaling; xttest3 after xtgls on its residuals."""
import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "xt_tests")
with open(os.path.join(HERE, "reference.json")) as f:
    REF = json.load(f)["gls_varident_ml"]


@pytest.fixture(scope="module")
def fat():
    s = csv_session("tests/data/xt_tests/fatalities.csv")
    ok(s, "encode state, gen(st)")
    ok(s, "xtset st year")
    return s


def _xy(s):
    cols = ["beertax", "spirits", "unemp", "inck"]
    X = np.column_stack([np.asarray(s.data.var(c).values, float) for c in cols] + [np.ones(s.data.n)])
    return np.asarray(s.data.var("fr").values, float), X


def test_iid_is_ols_with_ml_variance(fat):
    out = ok(fat, "xtgls fr beertax spirits unemp inck")
    assert "Panels:        homoskedastic" in out and "Estimated covariances      =         1" in out
    y, X = _xy(fat)
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ b
    N = len(y)
    V = np.linalg.inv(X.T @ X) * (e @ e) / N
    np.testing.assert_allclose(fat.e.b, b, rtol=1e-9)
    np.testing.assert_allclose(fat.e.se, np.sqrt(np.diag(V)), rtol=1e-9)
    assert fat.e.scalars["ll"] == pytest.approx(-N / 2 * (np.log(2 * np.pi * (e @ e) / N) + 1), rel=1e-9)
    ok(fat, "xtgls fr beertax spirits unemp inck, nmk")
    np.testing.assert_allclose(fat.e.se, np.sqrt(np.diag(V) * N / (N - 5)), rtol=1e-9)


def test_hetero_igls_matches_nlme_ml(fat):
    out = ok(fat, "xtgls fr beertax spirits unemp inck, panels(hetero) igls nmk")
    assert "Panels:        heteroskedastic" in out and "Estimated covariances      =        48" in out
    np.testing.assert_allclose(fat.e.b, REF["b"], rtol=2e-5)
    np.testing.assert_allclose(fat.e.se, REF["se"], rtol=2e-4)
    assert fat.e.scalars["ll"] == pytest.approx(REF["ll"], abs=1e-5)


def test_xttest3_after_xtgls_and_refusals(fat):
    ok(fat, "quietly xtgls fr beertax spirits unemp inck")
    out = ok(fat, "xttest3")
    assert "FGLS regression model" in out and fat.r.scalars["df"] == 48
    before = fat.e
    for line, rc in (("xtgls fr beertax, corr(foo)", 198), ("xtgls fr beertax, panels(corr)", 459),
                     ("xtgls fr beertax, corr(ar1) rhotype(nosuch)", 198),
                     ("xtgls fr beertax, panels(foo)", 198), ("xtgls fr nosuch", 111),
                     ("xtgls fr beertax if fr > 100", 2000)):
        got, text = run(fat, line)
        assert got == rc, (line, text)
        assert fat.e is before
