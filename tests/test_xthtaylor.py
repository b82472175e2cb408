"""xthtaylor (hlmshell/commands/xthtaylor.py) on the Cornwell-Rupert wages panel, checked
against R's plm Hausman-Taylor fits (random.method = "ht"; inst.method "baltagi" and "am";
ht.R): coefficients, standard errors, sigma_u and sigma_e."""
import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "xt_extra")
with open(os.path.join(HERE, "ht.json")) as f:
    REF = json.load(f)

LINE = ("xthtaylor lwage bluecol south smsa ind wks married union exp exp2 sex black ed, "
        "endog(wks married union exp exp2 ed)")


@pytest.fixture(scope="module")
def wages():
    s = csv_session("tests/data/wages_xt.csv")
    ok(s, "xtset id t")
    return s


@pytest.mark.parametrize("opt,key", [("", "baltagi"), ("amacurdy", "am")])
def test_matches_plm(wages, opt, key):
    out = ok(wages, f"{LINE} {opt}")
    ref = REF[key]
    np.testing.assert_allclose(wages.e.b, ref["b"], rtol=1e-7)
    np.testing.assert_allclose(wages.e.se, ref["se"], rtol=1e-7)
    assert wages.e.scalars["sigma_u"] == pytest.approx(ref["sigma_u"], rel=1e-9)
    assert wages.e.scalars["sigma_e"] == pytest.approx(ref["sigma_e"], rel=1e-9)
    assert "TIendogenous |" in out and "Note: TV refers to time varying" in out
    assert wages.e.macros["TVexogenous"] == "bluecol south smsa ind"
    assert wages.e.macros["TIendogenous"] == "ed"


def test_constant_option_and_small(wages):
    ok(wages, LINE + " constant(sex black ed) small")
    np.testing.assert_allclose(wages.e.b, REF["baltagi"]["b"], rtol=1e-7)
    assert wages.e.scalars["df_r"] == 4165 - 13
    assert "TIexogenous  |" in ok(wages, "xthtaylor")      # replay keeps the four groups
    ok(wages, "quietly " + LINE)
    ok(wages, "test union = exp")                           # coefficients named as in one equation
    b, V = np.asarray(wages.e.b), np.asarray(wages.e.V)
    i, j = 6, 7                                             # union, exp in the table's order
    chi2 = (b[i] - b[j]) ** 2 / (V[i, i] + V[j, j] - 2 * V[i, j])
    assert wages.r.scalars["chi2"] == pytest.approx(chi2, rel=1e-9)


def test_refusals(wages):
    ok(wages, "quietly " + LINE)
    before = wages.e
    for line, rc in (("xthtaylor lwage exp ed", 198),                             # endog() missing
                     ("xthtaylor lwage exp ed, endog(union)", 198),               # not a regressor
                     ("xthtaylor lwage exp ed sex, endog(exp ed sex)", 481),     # not identified
                     ("xthtaylor lwage exp ed, endog(ed) constant(exp)", 198),    # exp varies
                     ("xthtaylor lwage exp nosuch, endog(exp)", 111),
                     ("xthtaylor lwage exp ed if lwage > 99, endog(ed)", 2000),
                     ("xthtaylor lwage exp ed if id != 3 | t < 3, endog(ed) amacurdy", 459),
                     ("xthtaylor lwage exp ed if t < 3, endog(ed) amacurdy", 0)):
        got, text = run(wages, line)
        assert got == rc, (line, text)
        if rc:
            assert wages.e is before
