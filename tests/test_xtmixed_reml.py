"""`xtmixed`: Stata's xtmixed before version 13 -- REML unless `mle`, random effects shown as
standard deviations unless `variance`, e(cmd) xtmixed (replayed by `xtmixed`, not `mixed`).

Published reference: UCLA's Stata examples for Singer (1998), `xtmixed mathach || school:,
variance` on High School and Beyond (the same 7,185 students in 160 schools):
    Mixed-effects REML regression ... Log restricted-likelihood = -23558.397
    _cons | 12.63697 .2443937
The variance components (not in the excerpt) from nlme's lme(method = "REML") on the same
data: var(_cons) 8.614025, var(Residual) 39.148322, se(_cons) 0.2443935597 (lme4: the same
log likelihood, -23558.3967418). The published standard error's last digit differs from the
exact REML solution by 1.4e-7 (a looser convergence in Stata 9-11).
"""
import math
import os

import pytest

import hlmshell
from hlmshell.data.dta import read_dta
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import run

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")


@pytest.fixture()
def s():
    s = Session(out=Capture())
    s.data = read_dta(HSB)
    return s


def test_xtmixed_is_reml_by_default_published_output(s):
    rc, out = run(s, "xtmixed mathach || id:, variance")
    assert rc == 0, out
    lines = out.splitlines()
    assert "Iteration 0:   log restricted-likelihood = -23558.397  " in lines
    assert "Mixed-effects REML regression                   Number of obs     =      7,185" in lines
    assert "Log restricted-likelihood = -23558.397          Prob > chi2       =          ." in lines
    e = s.e
    assert e.scalars["ll"] == pytest.approx(-23558.3967418, abs=5e-8)
    assert e.b[0] == pytest.approx(12.63697, abs=5e-6)
    se0 = math.sqrt(e.V[0, 0])
    assert se0 == pytest.approx(0.2443935597, rel=1e-8)      # nlme's REML
    assert se0 == pytest.approx(0.2443937, rel=1e-6)         # the published digits
    assert math.exp(2 * e.b[1]) == pytest.approx(8.614025, rel=1e-6)
    assert math.exp(2 * e.b[2]) == pytest.approx(39.148322, rel=1e-7)
    assert e.cmd == "xtmixed" and e.macros["cmd"] == "xtmixed" and e.macros["method"] == "REML"
    assert e.macros["title"] == "Mixed-effects REML regression"
    assert e.macros["predict"] == "xtmixed_p" and e.macros["estat_cmd"] == "xtmixed_estat"
    assert "                  var(_cons) |   8.614025" in out


def test_xtmixed_shows_standard_deviations_unless_variance(s):
    rc, out = run(s, "xtmixed mathach ses || id: ses")
    assert rc == 0, out
    assert "Mixed-effects REML regression" in out
    assert "id: Independent" in out and "sd(ses)" in out and "sd(Residual)" in out
    assert "var(" not in out
    rc, again = run(s, "xtmixed, variance")
    assert rc == 0 and "var(ses)" in again and "sd(" not in again
    rc, again = run(s, "xtmixed")
    assert "sd(_cons)" in again


def test_xtmixed_mle_and_mixed_keeps_ml(s):
    rc, out = run(s, "xtmixed mathach ses || id:, mle nolog")
    assert rc == 0 and "Mixed-effects ML regression" in out and s.e.macros["method"] == "ML"
    ll_ml = s.e.scalars["ll"]
    rc, out = run(s, "mixed mathach ses || id:, nolog")
    assert "Mixed-effects ML regression" in out and s.e.cmd == "mixed"
    assert s.e.scalars["ll"] == pytest.approx(ll_ml, rel=1e-12)
    assert "var(_cons)" in out                                  # mixed: variances
    rc, out = run(s, "mixed mathach ses || id:, reml nolog")
    assert s.e.cmd == "mixed" and s.e.macros["method"] == "REML"


def test_xtmixed_and_mixed_replay_only_their_own_results(s):
    run(s, "xtmixed mathach || id:, nolog")
    rc, out = run(s, "mixed")
    assert rc == 301 and "last estimates not found" in out
    rc, out = run(s, "xtmixed")
    assert rc == 0 and "Mixed-effects REML regression" in out
    run(s, "estimates store x1")
    run(s, "mixed mathach || id:, nolog")
    rc, out = run(s, "xtmixed")
    assert rc == 301
    rc, out = run(s, "estimates replay x1")
    assert rc == 0 and "Mixed-effects REML regression" in out and "sd(_cons)" in out


def test_xtmixed_postestimation(s):
    run(s, "xtmixed mathach || id:, nolog")
    rc, out = run(s, "estat icc")
    assert rc == 0 and "id |   .1803518" in out
    rc, out = run(s, "predict u, reffects")
    assert rc == 0
    rc, out = run(s, "estat group")
    assert rc == 0 and "id |        160" in out


def test_xtmixed_with_robust_vce_fits_ml(s):
    """vce(robust) needs ML: xtmixed then fits by ML (as the Stata 13+ xtmixed, which allows
    it, does); asking for REML as well is Stata's error."""
    rc, out = run(s, "xtmixed mathach ses || id:, vce(robust) nolog")
    assert rc == 0, out
    assert "Mixed-effects regression" in out and "Log pseudolikelihood = -23320.502" in out
    assert "sd(_cons)" in out and s.e.macros["method"] == "ML" and s.e.cmd == "xtmixed"
    before = s.e
    rc, out = run(s, "xtmixed mathach ses || id:, reml vce(robust)")
    assert rc == 198 and "REML not supported with robust variance estimation" in out
    assert s.e is before
