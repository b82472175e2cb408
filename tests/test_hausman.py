"""`hausman`: the statistic against R's plm::phtest (tests/data/xtreg_reference.R), published
Stata 17 output (`hausman FE RE, sigmamore` on Cameron and Trivedi's PSID wage data, plm's
Wages), sigmamore / sigmaless / constant, the rank and positive-definiteness notes, r(), and
errors with Stata's messages and codes."""
import math
import os

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_xtreg import HERE, grunfeld, ok, run, session_of

from hlmshell.commands._panel import set_panel


@pytest.fixture()
def g():
    s = session_of(grunfeld(), floats=())          # doubles, as plm's data
    set_panel(s, "firm", "year")
    ok(s, "quietly xtreg inv value capital, fe")
    ok(s, "estimates store fe")
    ok(s, "quietly xtreg inv value capital, re")
    ok(s, "estimates store re")
    return s


def test_grunfeld_against_phtest(g):
    out = ok(g, "hausman fe re")
    r = g.r.scalars
    assert r["chi2"] == pytest.approx(2.33036689367546, rel=1e-5)
    assert r["df"] == 2 and r["rank"] == 2
    assert r["p"] == pytest.approx(0.311865446054886, rel=1e-5)
    assert out == """
                 ---- Coefficients ----
             |      (b)          (B)            (b-B)     sqrt(diag(V_b-V_B))
             |       fe           re         Difference       Std. err.
-------------+----------------------------------------------------------------
       value |    .1101238     .1097812        .0003427        .0055213
     capital |    .3100653      .308113        .0019524        .0024516
------------------------------------------------------------------------------
                          b = Consistent under H0 and Ha; obtained from xtreg.
           B = Inconsistent under Ha, efficient under H0; obtained from xtreg.

Test of H0: Difference in coefficients not systematic

    chi2(2) = (b-B)'[(V_b-V_B)^(-1)](b-B)
            =   2.33
Prob > chi2 = 0.3119
"""


def test_unbalanced_against_phtest():
    """fe against re, sa on the unbalanced panel: phtest(within, random with
    random.models = c("within", "between"))."""
    s = session_of(grunfeld(unbalanced=True), floats=())
    set_panel(s, "firm", "year")
    ok(s, "quietly xtreg inv value capital, fe")
    ok(s, "estimates store fe")
    ok(s, "quietly xtreg inv value capital, re sa")
    ok(s, "hausman fe .")
    assert s.r.scalars["chi2"] == pytest.approx(2.05124009783589, rel=1e-5)
    assert s.r.scalars["p"] == pytest.approx(0.358574063003124, rel=1e-5)


SIGMAMORE_WAGES = """
                 ---- Coefficients ----
             |      (b)          (B)            (b-B)     sqrt(diag(V_b-V_B))
             |       FE           RE         Difference       Std. err.
-------------+----------------------------------------------------------------
         exp |    .1137879     .0888609        .0249269        .0012778
        exp2 |   -.0004244    -.0007726        .0003482        .0000285
         wks |    .0008359     .0009658       -.0001299        .0001108
------------------------------------------------------------------------------
                          b = Consistent under H0 and Ha; obtained from xtreg.
           B = Inconsistent under Ha, efficient under H0; obtained from xtreg.

Test of H0: Difference in coefficients not systematic

    chi2(3) = (b-B)'[(V_b-V_B)^(-1)](b-B)
            = 1513.02
Prob > chi2 =  0.0000
"""


def test_published_stata17_sigmamore(w):
    """`hausman FE RE, sigmamore` after xtreg, fe and re on the PSID wages (a published Stata
    17 log), character for character: `ed` (time invariant) is omitted from fe and struck;
    sigmamore scales V_b by (e(rmse) of re / e(sigma_e) of fe)^2."""
    ok(w, "quietly xtreg lwage exp exp2 wks ed, fe")
    ok(w, "estimates store FE")
    ok(w, "quietly xtreg lwage exp exp2 wks ed, re")
    ok(w, "estimates store RE")
    assert ok(w, "hausman FE RE, sigmamore") == SIGMAMORE_WAGES


@pytest.fixture()
def w():
    frame = pd.read_csv(os.path.join(HERE, "wages_xt.csv"))[["id", "t", "lwage", "exp", "exp2", "wks", "ed"]]
    s = session_of(frame, floats=("lwage",))
    set_panel(s, "id", "t")
    return s


def _by_hand(g, more: bool, constant: bool = False):
    fe, re = g.estimates["fe"], g.estimates["re"]
    k = 3 if constant else 2
    d = fe.b[:k] - re.b[:k]
    V1, V2 = fe.V[:k, :k].copy(), re.V[:k, :k].copy()
    s1, s2 = fe.scalars["sigma_e"], re.scalars["rmse"]
    if more:
        V1 *= (s2 / s1) ** 2
    else:
        V2 *= (s1 / s2) ** 2
    return d, V1 - V2


def test_sigmamore_sigmaless(g):
    for opt, more in (("sigmamore", True), ("sigmaless", False)):
        ok(g, f"hausman fe re, {opt}")
        d, Vd = _by_hand(g, more)
        assert g.r.scalars["chi2"] == pytest.approx(float(d @ np.linalg.solve(Vd, d)), rel=1e-10)
        assert g.r.scalars["p"] == pytest.approx(stats.chi2.sf(g.r.scalars["chi2"], 2), rel=1e-10)


def test_constant_rank_and_not_positive_definite(g):
    """With `constant`, V_b - V_B has rank 2 of 3 here (the GLS and within intercepts differ
    only through the means): Stata's note, the generalized inverse, the missing standard error
    and `(V_b-V_B is not positive definite)`."""
    out = ok(g, "hausman fe re, sigmaless constant")
    lines = out.splitlines()
    assert lines[1].startswith("Note: the rank of the differenced variance matrix (2) does not equal the")
    assert lines[2].startswith("        ")
    assert any(line.startswith("       _cons |") and line.endswith("               .") for line in lines)
    assert "    chi2(2) = (b-B)'[(V_b-V_B)^(-1)](b-B)" in lines
    assert lines[-1] == "(V_b-V_B is not positive definite)"
    assert g.r.scalars["rank"] == 2 and g.r.scalars["df"] == 2
    ok(g, "hausman fe re, sigmaless constant df(3)")
    assert g.r.scalars["df"] == 3


def test_active_results_and_titles(g):
    ok(g, "quietly xtreg inv value capital, re")
    out1 = ok(g, "hausman fe")
    out2 = ok(g, "hausman fe .")
    assert out1 == out2 and "             |       fe           .          Difference       Std. err." in out1
    out = ok(g, "hausman fe re, tconsistent(Within) tefficient(GLS)")
    # %~12s: centred, the odd space on the right (`Within` at 19, `GLS` at 34)
    assert "             |     Within        GLS         Difference       Std. err." in out


def test_equations_between_single_and_multiple_equation_models(g):
    ok(g, "quietly xtreg inv value capital, mle")
    ok(g, "estimates store ml")
    rc, out = run(g, "hausman fe ml")
    assert rc == 498 and "no coefficients in common; specify equations(matchlist)" in out
    ok(g, "hausman fe ml, equations(1:1)")
    assert g.r.scalars["df"] == 2 and math.isfinite(g.r.scalars["chi2"])


def test_errors(g):
    r_before = g.r
    ok(g, "quietly xtreg inv value capital, fe vce(robust)")
    ok(g, "estimates store rob")
    cases = [("hausman rob re", 198, "hausman cannot be used with vce(robust), vce(cluster cvar), or p-weighted data"),
             ("hausman fe fe", 198, "the two models need to be different"),
             ("hausman nosuch re", 111, "estimation result nosuch not found"),
             ("hausman", 198, "invalid syntax"),
             ("hausman fe re, sigmamore sigmaless", 198, "options sigmamore and sigmaless may not be combined"),
             ("hausman fe re, bogus", 198, "option bogus not allowed")]
    for text, rc_expected, message in cases:
        g.r = r_before
        rc, out = run(g, text)
        assert rc == rc_expected, (text, out)
        assert message in out, (text, out)
        assert g.r.scalars == r_before.scalars
    ok(g, "hausman rob re, force")
