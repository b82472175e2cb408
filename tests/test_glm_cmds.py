"""logit / logistic / probit / poisson against R's glm (coefficients, log likelihoods, the
canonical links' standard errors, sandwich::vcovCL/vcovHC for the robust ones) and, for probit
(whose OIM standard errors R does not report: glm uses the expected information), a numerical
Hessian of the log likelihood written out here."""
import math
import os

import numpy as np
import pytest
from scipy.special import log_ndtr

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import csv_session, ok, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _session(csv):
    return csv_session(f"tests/data/glmm/{csv}")


def _bse(s):
    names = [nm for _, nm in s.e.names]
    return dict(zip(names, s.e.b)), dict(zip(names, np.sqrt(np.diag(s.e.V))))


def test_logit_matches_glm_and_sandwich():
    s = _session("contraception.csv")
    out = ok(s, "logit use age urban")
    b, se = _bse(s)
    assert s.e.scalars["ll"] == pytest.approx(-1269.4237780978, rel=1e-11)
    assert b["age"] == pytest.approx(0.00739970560251, rel=1e-8)
    assert b["urban"] == pytest.approx(0.72247583555867, rel=1e-8)
    # R's vcov comes from the last IRLS iteration's weights (glm stops at a 1e-8 deviance
    # change), so its SEs carry ~1e-7 relative error
    assert se["age"] == pytest.approx(0.00523380149559, rel=1e-6)
    assert se["_cons"] == pytest.approx(0.05696787687076, rel=1e-6)
    assert "Logistic regression                                     Number of obs =  1,934" in out
    assert "                                                        LR chi2(2)    =  52.06" in out
    ok(s, "logit use age urban, vce(cluster district)")
    _, se = _bse(s)
    assert se["age"] == pytest.approx(0.00544707113165, rel=1e-6)
    assert se["urban"] == pytest.approx(0.17795818838077, rel=1e-6)
    ok(s, "logit use age urban, vce(robust)")
    _, se = _bse(s)
    assert se["age"] == pytest.approx(0.00502044055786, rel=1e-6)
    out = ok(s, "logistic use age urban")
    assert "         use |  Odds ratio  Std. err." in out
    assert f"{math.exp(0.72247583555867):.6f}"[:7] in out


def test_probit_oim():
    s = _session("contraception.csv")
    ok(s, "probit use age urban, nolog")
    b, se = _bse(s)
    assert s.e.scalars["ll"] == pytest.approx(-1269.3946388233, rel=1e-11)
    assert b["urban"] == pytest.approx(0.44962363300021, rel=1e-7)
    y = np.asarray(s.data.values("use"), float)
    X = np.column_stack([s.data.values("age"), s.data.values("urban"), np.ones(len(y))])
    beta = np.array([b["age"], b["urban"], b["_cons"]])

    def ll(bb):
        eta = X @ bb
        return float(np.sum(y * log_ndtr(eta) + (1 - y) * log_ndtr(-eta)))
    H = np.zeros((3, 3))
    h = 1e-4
    for i in range(3):
        for j in range(3):
            ei, ej = np.eye(3)[i] * h, np.eye(3)[j] * h
            H[i, j] = (ll(beta + ei + ej) - ll(beta + ei - ej) - ll(beta - ei + ej)
                       + ll(beta - ei - ej)) / (4 * h * h)
    se_num = np.sqrt(np.diag(np.linalg.inv(-H)))
    assert [se["age"], se["urban"], se["_cons"]] == pytest.approx(se_num, rel=1e-5)


def test_poisson_irr():
    s = _session("grouseticks.csv")
    out = ok(s, "poisson ticks year96 year97 height, irr nolog")
    b, se = _bse(s)
    assert s.e.scalars["ll"] == pytest.approx(-2187.4055208345, rel=1e-11)
    assert b["height"] == pytest.approx(-2.145184211178, rel=1e-8)
    assert se["height"] == pytest.approx(0.0710396896273, rel=1e-6)
    assert "       ticks |         IRR  Std. err." in out
    assert "LR chi2(3)    = 2403.84" in out or "LR chi2(3)    =" in out


@pytest.mark.parametrize("line,rc", [("logit age urban", 0), ("generate one = 1", 0),
                                     ("logit one age", 2000), ("poisson urban age || district:", 198)])
def test_refusals(line, rc):
    s = _session("contraception.csv")
    ok(s, "generate one = 1")
    if rc:
        before = s.e
        r, _ = run(s, line)
        assert r == rc and s.e is before


def test_ologit_oprobit_nbreg():
    """ordinal::clm and MASS::glm.nb: ologit logLik -2060.6320383703, age 0.03766967204
    (se 0.0047468203), cut1 -0.39067667005; oprobit -2060.4936852829, urban 0.19318765367;
    nbreg on grouseticks -965.85797162735, height -2.4923348120, ln alpha 0.2490801121."""
    s = _session("ordinal.csv")
    out = ok(s, "ologit y age urban, nolog")
    b, se = _bse(s)
    assert s.e.scalars["ll"] == pytest.approx(-2060.6320383703, rel=1e-10)
    assert b["age"] == pytest.approx(0.03766967204, rel=1e-6)
    assert se["age"] == pytest.approx(0.0047468203, rel=1e-4)
    assert b["cut1"] == pytest.approx(-0.39067667005, rel=1e-6)
    assert "_cons" not in b and "       /cut1 |" in out
    ok(s, "oprobit y age urban, nolog")
    b, _ = _bse(s)
    assert s.e.scalars["ll"] == pytest.approx(-2060.4936852829, rel=1e-10)
    assert b["urban"] == pytest.approx(0.19318765367, rel=1e-6)
    s = _session("grouseticks.csv")
    out = ok(s, "nbreg ticks year96 year97 height, nolog")
    b, _ = _bse(s)
    assert s.e.scalars["ll"] == pytest.approx(-965.85797162735, rel=1e-10)
    assert b["height"] == pytest.approx(-2.4923348120, rel=1e-6)
    assert b["lnalpha"] == pytest.approx(0.2490801121, rel=1e-5)
    assert "Dispersion: mean" in out and "LR test of alpha=0: chibar2(01) =" in out
