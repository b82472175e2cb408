"""menbreg's `Overdispersion: mean|constant` header line (one level and several), and
dispersion(constant) with nested levels fitting NB1 (glmmTMB's nbinom1 numbers,
tests/data/glmm/make_nb1_multilevel_reference.R)."""
import json
import os

import pytest

from session_run import csv_session, ok

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "glmm", "nb1_multilevel_reference.json")))


@pytest.fixture(scope="module")
def mm():
    return csv_session("tests/data/glmm/mmmec.csv")


def test_header_one_level(mm):
    out = ok(mm, "menbreg deaths uvb || region:, exposure(expected) intmethod(laplace) nolog")
    lines = out.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("Mixed-effects negative binomial"))
    assert lines[i + 1] == "Overdispersion: mean"
    assert lines[i + 2].startswith("Group variable: region")
    out = ok(mm, "menbreg deaths uvb || region:, exposure(expected) intmethod(laplace) nolog "
                 "dispersion(constant)")
    assert "\nOverdispersion: constant\n" in out
    out = ok(mm, "mepoisson deaths uvb || region:, exposure(expected) intmethod(laplace) nolog")
    assert "Overdispersion" not in out


def test_nested_constant_dispersion_matches_glmmtmb(mm):
    out = ok(mm, "menbreg deaths uvb || nation: || region:, exposure(expected) "
                 "intmethod(laplace) nolog dispersion(constant)")
    assert "\nOverdispersion: constant\n" in out and "/lndelta" in out
    e = mm.e
    assert e.macros["dispersion"] == "constant"
    assert e.scalars["ll"] == pytest.approx(REF["logLik"], rel=1e-6)
    b = dict(zip([n for _, n in e.names], e.b))
    assert b["_cons"] == pytest.approx(REF["fixef"][0], abs=1e-4)
    assert b["uvb"] == pytest.approx(REF["fixef"][1], abs=1e-5)
    assert b["lndelta"] == pytest.approx(REF["lndelta"], abs=1e-3)
    assert b["var(_cons[nation])"] == pytest.approx(REF["var_nation"], rel=1e-3)
    assert b["var(_cons[nation>region])"] == pytest.approx(REF["var_region"], rel=1e-3)
    out = ok(mm, "menbreg deaths uvb || nation: || region:, exposure(expected) "
                 "intmethod(laplace) nolog")
    assert "\nOverdispersion: mean\n" in out and "/lnalpha" in out
