"""xtivreg fe | be | fd | re (G2SLS, EC2SLS) on Stock and Watson's cigarette panel (48 states,
1985 and 1995): coefficients and standard errors against plm
(tests/data/ivregress/make_xt_reference.R), the random-effects variance components too."""
import json
from pathlib import Path

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

DATA = Path(__file__).parent / "data" / "ivregress"
REF = json.loads((DATA / "xt_reference.json").read_text())
LINE = "xtivreg lpackpc lperinc (lravgprs = rtaxso rtax)"


@pytest.fixture
def s():
    s = csv_session(DATA / "cigarettes.csv")
    ok(s, "encode state, gen(st)")
    ok(s, "xtset st yr, delta(10)")
    return s


def _b(s):
    return np.ravel(s.e.b), np.sqrt(np.diag(s.e.V))


def _r_order(v):                    # plm: (Intercept) first; Stata: _cons last
    return np.r_[v[1:], v[0]]


@pytest.mark.parametrize("opt,key", [("be", "be"), ("fd", "fd"), ("re", "g2sls"),
                                     ("re ec2sls", "ec2sls"), ("", "g2sls")])
def test_matches_plm(s, opt, key):
    rc, out = run(s, f"{LINE}, {opt}" if opt else LINE)
    assert rc == 0, out
    b, se = _b(s)
    assert np.allclose(b, _r_order(REF[key]["b"]), rtol=1e-7)
    assert np.allclose(se, _r_order(REF[key]["se"]), rtol=1e-6)
    assert "Instrumented: lravgprs" in out


def test_fe_slopes_and_variance_components(s):
    rc, out = run(s, f"{LINE}, fe")
    assert rc == 0 and "Fixed-effects (within) IV regression" in out
    b, se = _b(s)
    assert np.allclose(b[:2], REF["fe"]["b"], rtol=1e-7)      # plm has no _cons
    assert np.allclose(se[:2], REF["fe"]["se"], rtol=1e-6)
    s2e, s2u = REF["g2sls"]["sigma2"]
    assert s.e.scalars["sigma_e"] ** 2 == pytest.approx(s2e, rel=1e-8)
    ok(s, LINE)
    assert s.e.scalars["sigma_u"] ** 2 == pytest.approx(s2u, rel=1e-8)
    assert s.e.macros["model"] == "re" and s.e.scalars["N_g"] == 48


def test_fd_sample_and_predict(s):
    ok(s, f"{LINE}, fd")
    assert s.e.scalars["N"] == 48 and int(s.e.sample.sum()) == 48
    ok(s, "predict double xb")
    rc, _ = run(s, "predict double u, ue")
    assert rc == 198


@pytest.mark.parametrize("line,code", [
    (f"{LINE}, fe be", 198),
    (f"{LINE}, fe ec2sls", 198),
    ("xtivreg lpackpc (lravgprs = nosuch), fe", 111),
    ("xtivreg lpackpc lravgprs lperinc, fe", 198),
    ("xtivreg", 301),
])
def test_refusals(s, line, code):
    before = s.e
    rc, out = run(s, line)
    assert rc == code, out
    assert s.e is before and "Traceback" not in out


def test_needs_xtset():
    s = csv_session(DATA / "cigarettes.csv")
    rc, _ = run(s, f"{LINE}, fe")
    assert rc == 459
