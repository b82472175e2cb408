"""estat sd after mixed: the random-effects table as standard deviations and correlations
(Stata 17's layout: `mixed, stddev noheader nogroup nolrtest nofetable`; `verbose` keeps the
fixed-effects table), r(b) and r(V) in that metric (Stata's e(b_sd)/e(V_sd): e(b) with every
ln sd, atanh correlation and lnsig_e transformed, e(V) by the delta method), columns named
`id:sd(ses)`, `id:corr(ses,_cons)`, `Residual:sd(e)`.

The standard deviations and the correlation are lme4's (lmer, REML = FALSE) for
mathach ~ ses + sector + (ses | id): 0.6466423628, 1.9737990404, 0.5570771800, 6.0665235739.
"""
import math
import os

import numpy as np
import pytest

import hlmshell
from hlmshell.data.dta import read_dta
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import run

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")


@pytest.fixture(scope="module")
def s():
    s = Session(out=Capture())
    s.data = read_dta(HSB)
    return s


def test_estat_sd_table_and_results(s):
    rc, out = run(s, "mixed mathach ses sector || id: ses, covariance(unstructured) nolog")
    assert rc == 0
    rc, sd_out = run(s, "estat sd")
    assert rc == 0, sd_out
    assert sd_out.splitlines() == [
        "",
        "------------------------------------------------------------------------------",
        "  Random-effects parameters  |   Estimate   Std. err.     [95% conf. interval]",
        "-----------------------------+------------------------------------------------",
        "id: Unstructured             |",
        "                     sd(ses) |   .6466422     .17932      .3755068    1.113551",
        "                   sd(_cons) |   1.973799   .1461089      1.707236    2.281983",
        "             corr(ses,_cons) |   .5570773    .219858      .0037691    .8492347",
        "-----------------------------+------------------------------------------------",
        "                sd(Residual) |   6.066524    .051788      5.965865     6.16888",
        "------------------------------------------------------------------------------"]
    # the same rows as `mixed, stddev`
    rc, replay = run(s, "mixed, stddev noheader nofetable nolrtest")
    assert replay.splitlines()[1:] == sd_out.splitlines()[1:]
    r = s.r.matrices
    b = r["b"].values.ravel()
    assert r["b"].colnames == ["mathach:ses", "mathach:sector", "mathach:_cons", "id:sd(ses)",
                               "id:sd(_cons)", "id:corr(ses,_cons)", "Residual:sd(e)"]
    assert b[3:] == pytest.approx([0.6466423628, 1.9737990404, 0.5570771800, 6.0665235739], rel=2e-6)
    e = s.e
    assert b[:3] == pytest.approx(e.b[:3], rel=1e-15)
    jac = np.array([1, 1, 1, b[3], b[4], 1 - b[5] ** 2, b[6]])
    V = np.asarray(e.V) * np.outer(jac, jac)
    assert r["V"].values == pytest.approx(V, rel=1e-12, abs=1e-300)
    assert r["V"].rownames == r["V"].colnames == r["b"].colnames
    # the printed standard errors are the square roots of r(V)
    assert math.sqrt(r["V"].values[3, 3]) == pytest.approx(0.17932, abs=5e-6)
    assert s.e is e                                      # e() untouched


def test_estat_sd_verbose_and_level(s):
    run(s, "mixed mathach ses || id:, nolog")
    rc, out = run(s, "estat sd, verbose level(90)")
    assert rc == 0
    lines = out.splitlines()
    assert lines[2] == "     mathach | Coefficient  Std. err.      z    P>|z|     [90% conf. interval]"
    assert "  Random-effects parameters  |   Estimate   Std. err.     [90% conf. interval]" in lines
    assert any(ln.strip().startswith("sd(_cons) |") for ln in lines)
    assert s.r.matrices["b"].colnames[-2:] == ["id:sd(_cons)", "Residual:sd(e)"]


def test_estat_sd_after_robust_fit_uses_the_robust_vce(s):
    run(s, "mixed mathach ses || id:, vce(robust) nolog")
    rc, out = run(s, "estat sd")
    assert rc == 0
    assert out.splitlines()[2] == "                             |               Robust"
    assert "  Random-effects parameters  |   Estimate   std. err.     [95% conf. interval]" in out
    V = s.r.matrices["V"].values
    sd_cons = s.r.matrices["b"].values.ravel()[2]
    assert math.sqrt(V[2, 2]) == pytest.approx(sd_cons * math.sqrt(s.e.V[2, 2]), rel=1e-12)
    assert math.sqrt(s.e.V[2, 2]) == pytest.approx(0.07463743150406, rel=2e-6)   # the R sandwich


def test_estat_sd_other_structures_names(s):
    run(s, "mixed mathach ses || id: ses, covariance(exchangeable) nolog")
    run(s, "estat sd")
    assert s.r.matrices["b"].colnames[2:] == ["id:sd(ses)", "id:corr(ses,_cons)", "Residual:sd(e)"]
    run(s, "mixed mathach ses || id: ses, nolog")
    run(s, "estat sd")
    assert s.r.matrices["b"].colnames[2:] == ["id:sd(ses)", "id:sd(_cons)", "Residual:sd(e)"]
    run(s, "mixed mathach ses, nolog")
    rc, out = run(s, "estat sd")
    assert rc == 0 and "sd(Residual)" in out
    assert s.r.matrices["b"].colnames == ["mathach:ses", "mathach:_cons", "Residual:sd(e)"]


def test_estat_sd_errors(s):
    run(s, "mixed mathach ses || id:, nolog")
    r_before = s.r
    for cmd, rc, msg in (("estat sd, variance foo", 198, "option foo not allowed"),
                         ("estat sd, foo", 198, "option foo not allowed"),
                         ("estat sd ses", 198, "invalid syntax")):
        code, out = run(s, cmd)
        assert code == rc and msg in out
        assert s.r.matrices == r_before.matrices        # the same matrices: r() unchanged
    run(s, "regress mathach ses")
    code, out = run(s, "estat sd")
    assert code == 321


def test_estat_group_multilevel_and_linear(s):
    rc, out = run(s, "mixed mathach ses || id: || sector:, nolog")
    assert rc == 0
    rc, out = run(s, "estat group")
    assert rc == 0
    assert out.splitlines()[1:] == [
        "-------------------------------------------------------------",
        "                |     No. of       Observations per group",
        " Group variable |     groups    Minimum    Average    Maximum",
        "----------------+--------------------------------------------",
        "             id |        160         14       44.9         67",
        "         sector |        160         14       44.9         67",
        "-------------------------------------------------------------"]
    assert s.r.matrices["N_g"].tolist() == [[160, 160]]
    rc, out = run(s, "estat group, foo")
    assert rc == 198 and "options not allowed with subcommand group" in out
    run(s, "mixed mathach ses, nolog")
    rc, out = run(s, "estat group")
    assert rc == 459 and "model is linear regression; no group information available" in out
