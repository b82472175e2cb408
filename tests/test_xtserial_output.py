"""xtserial, output (hlmshell/commands/xt_tests.py): the first-difference regression
`regress D.(varlist), noconstant cluster(panelvar)` shown before the test, against a published
Stata log of `xtserial fatal beertax spircons unrate perinck, output` on the same data (the
numbers are printed to 7 digits there; the CSV holds them to about that precision)."""
import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

PUBLISHED = {"b": [.1187701, .523584, .003399, .1417981],
             "se": [.2276875, .1633135, .0118903, .0468699]}


@pytest.fixture(scope="module")
def fat():
    s = csv_session("tests/data/xt_tests/fatalities.csv")
    ok(s, "encode state, gen(st)")
    ok(s, "xtset st year")
    return s


def test_output_shows_first_difference_regression(fat):
    before = list(fat.data.names)
    out = ok(fat, "xtserial fr beertax spirits unemp inck, output")
    assert "Number of obs     =        288" in out
    assert "F(4, 47)          =       3.66" in out
    assert "R-squared         =     0.0814" in out
    assert "(Std. err. adjusted for 48 clusters in st)" in out
    assert "        D.fr | Coefficient" in out
    # the test itself follows, unchanged
    assert out.index("Linear regression") < out.index("Wooldridge test for autocorrelation")
    assert "    F(  1,      47) =      6.246" in out
    e = fat.e
    assert e.macros["depvar"] == "D.fr" and e.macros["clustvar"] == "st"
    assert e.scalars["N_clust"] == 48 and e.scalars["N"] == 288
    assert not any(nm == "_cons" for _, nm in e.names)
    assert np.allclose(np.asarray(e.b), PUBLISHED["b"], rtol=2e-6, atol=2e-7)
    assert np.allclose(e.se, PUBLISHED["se"], rtol=2e-6, atol=2e-7)
    assert fat.r.scalars["F"] == pytest.approx(6.246, abs=5e-4)
    assert list(fat.data.names) == before       # the temporary sample marker is gone


def test_output_abbreviation_and_quiet(fat):
    out = ok(fat, "xtserial fr beertax, o")
    assert "Linear regression" in out
    out = ok(fat, "xtserial fr beertax")
    assert "Linear regression" not in out and "Wooldridge" in out


def test_bad_option_leaves_e(fat):
    ok(fat, "regress fr beertax")
    rc, out = run(fat, "xtserial fr beertax, outputs")
    assert rc == 198
    assert fat.e.macros["cmd"] == "regress" and fat.e.macros["depvar"] == "fr"
