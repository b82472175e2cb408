"""mi estimate against R: five fixed imputations of y (tests/data/mi/mi_fixed.csv, columns
y1..y5) put into wide-style mi data, then `mi estimate: regress` and `mi estimate: mixed`
compared with Rubin's rules applied by tests/data/mi/mi_fixed.R to R's own lm() and
lme4::lmer(REML = FALSE) fits (reference numbers in mi_fixed_expected.json)."""
import json
import os

import numpy as np
import pytest
from session_run import csv_session, ok

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "mi", "mi_fixed_expected.json")))


@pytest.fixture(scope="module")
def s():
    s = csv_session("tests/data/mi/mi_fixed.csv", "clear asdouble numericcols(5)")
    ok(s, "mi set wide")
    ok(s, "mi register imputed y")
    ok(s, "quietly mi impute regress y x, add(5) rseed(1)")
    for m in range(1, 6):
        ok(s, f"quietly replace _{m}_y = y{m}")
    return s


def test_regress_matches_r(s):
    out = ok(s, "mi estimate: regress y x z")
    ref = REF["regress"]
    e = s.e
    np.testing.assert_allclose(np.asarray(e.b).ravel(), ref["b"], rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(e.V)), ref["se"], rtol=1e-6)
    np.testing.assert_allclose(e.matrices["df_mi"].ravel(), ref["df"], rtol=1e-6)
    np.testing.assert_allclose(e.matrices["re_mi"].ravel(), ref["rvi"], rtol=1e-6)
    np.testing.assert_allclose(e.matrices["fmi_mi"].ravel(), ref["fmi"], rtol=1e-6)
    assert "Imputations       =          5" in out


def test_mixed_matches_lme4(s):
    ok(s, "quietly mi estimate: mixed y x z || school:")
    ref = REF["mixed"]
    e = s.e
    k = 3
    np.testing.assert_allclose(np.asarray(e.b).ravel()[:k], ref["b"], rtol=2e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(e.V))[:k], ref["se"], rtol=2e-3)
    np.testing.assert_allclose(e.matrices["df_mi"].ravel()[:k], ref["df"], rtol=2e-2)
    assert e.macros["dfadjust_mi"] == "Large sample"
