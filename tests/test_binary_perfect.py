"""logit/probit with an indicator that predicts the outcome perfectly: Stata's note, those
observations dropped, the rest fitted (a public do-file failed with r(430) here). The fit must
equal the same model on the reduced sample, fitted directly."""
import numpy as np
import pytest

from hlmshell.session import Session
from session_run import ok, run


@pytest.fixture
def s():
    s = Session()
    for line in ("clear", "set obs 60", "gen g = 1 + mod(_n,3)", "gen x = mod(_n*7,11)",
                 "gen y = mod(_n*5,7) > 3", "replace y = 0 if g == 1", "gen d = g == 1",
                 "gen y2 = y", "replace y2 = 1 if g == 3"):
        ok(s, line)
    return s


@pytest.mark.parametrize("cmd", ["logit", "probit", "cloglog", "logistic"])
def test_base_level_predicting_failure(s, cmd):
    out = ok(s, f"{cmd} y x i.g")
    assert "note: 1.g != 0 predicts failure perfectly;\n      1.g omitted and 20 obs not used.\n" in out
    b, ll, n = np.asarray(s.e.b).ravel(), s.e.scalars["ll"], s.e.scalars["N"]
    assert n == 40
    ok(s, f"{cmd} y x i.g if g != 1")
    assert s.e.scalars["ll"] == pytest.approx(ll, rel=1e-10)
    np.testing.assert_allclose(np.asarray(s.e.b).ravel(), b, rtol=1e-8)


def test_plain_indicator_and_success(s):
    out = ok(s, "logit y2 x d i.g")
    assert "note: d != 0 predicts failure perfectly;" in out
    assert "note: 3.g != 0 predicts success perfectly;" in out
    assert s.e.scalars["N"] == 20
    out = ok(s, "logit y x d")
    assert "d omitted and 20 obs not used." in out and "(omitted)" in out


def test_nothing_left_is_an_error(s):
    ok(s, "gen y3 = g == 2")
    rc, out = run(s, "logit y3 i.g")
    assert rc == 2000 and "predicts" in out
