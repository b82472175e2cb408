"""logit/probit/poisson with fweights, pweights and iweights: fweights give the expanded data's
fit; pweights the robust (pseudolikelihood) fit. Reference numbers from R: glm(minority ~ ses,
binomial, weights = w, epsilon 1e-15) with w = 1 + (row %% 3) on hsb; sandwich's vcovHC(HC0)
times n/(n-1) and vcovCL(HC0, cadjust) for the pweights."""
import numpy as np
import pytest

from hlmshell.session import Session
from session_run import ok, run

R_LL = -7897.895
R_SE_FW = (0.02609975163, 0.02008481954)            # (ses, _cons)
R_SE_PW = (0.04180640970, 0.03105719934)
R_SE_CL = (0.09645692282, 0.12523851970)


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, "use hsb")
    ok(s, "gen w = 1 + mod(_n, 3)")
    return s


def _se(s):
    return np.sqrt(np.diag(s.e.V))


def test_logit_weights_against_r(s):
    ok(s, "logit minority ses [fw=w]")
    assert s.e.scalars["ll"] == pytest.approx(R_LL, abs=1e-3)
    np.testing.assert_allclose(_se(s), R_SE_FW, rtol=1e-6)
    assert s.e.scalars["N"] == 14370 and s.e.macros["wtype"] == "fweight"
    out = ok(s, "logit minority ses [pw=w]")
    np.testing.assert_allclose(_se(s), R_SE_PW, rtol=1e-6)
    assert "Log pseudolikelihood" in out and s.e.scalars["N"] == 7185
    ok(s, "logit minority ses [pw=w], vce(cluster id)")
    np.testing.assert_allclose(_se(s), R_SE_CL, rtol=1e-6)


@pytest.mark.parametrize("cmd", ["logit", "probit", "poisson"])
def test_fweights_equal_expanded_data(s, cmd):
    ok(s, f"{cmd} minority ses [fw=w]")
    b, V, ll = np.asarray(s.e.b).copy(), np.asarray(s.e.V).copy(), s.e.scalars["ll"]
    ok(s, "preserve")
    try:
        ok(s, "expand w")
        ok(s, f"{cmd} minority ses")
        np.testing.assert_allclose(s.e.b, b, rtol=1e-8)
        np.testing.assert_allclose(s.e.V, V, rtol=1e-6)
        assert s.e.scalars["ll"] == pytest.approx(ll, rel=1e-10)
        ok(s, f"{cmd} minority ses, vce(robust)")
        Vr = np.asarray(s.e.V).copy()
    finally:
        ok(s, "restore")
    ok(s, f"{cmd} minority ses [fw=w], vce(robust)")
    np.testing.assert_allclose(s.e.V, Vr, rtol=1e-6)


@pytest.mark.parametrize("line,rc", [("logit minority ses [fw=ses]", 401),
                                     ("logit minority ses [aw=w]", 101),
                                     ("logit minority ses [pw=ses]", 402)])
def test_weight_errors(s, line, rc):
    before = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert s.e is before
