"""Issue 15's post-estimation gaps after the one-level me* commands and the NB1 negative
binomial: menbreg/nbreg dispersion(constant) against glmmTMB's nbinom1; predict's pearson,
deviance and anscombe residuals, outcome() and marginal predictions against numpy computations
from the posted estimates; estat sd against the delta method by hand; level-1 fweights against
the expanded data and pweights against an independent weighted likelihood.
References: tests/data/me_postest_extra/*.json (made by the R scripts there)."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from hlmshell.session import Session
from session_run import ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "me_postest_extra")
NB1 = json.load(open(os.path.join(DATA, "nb1_reference.json")))


def _res(s):
    from hlmshell.commands._postest import active
    return active(s)


@pytest.fixture(scope="module")
def melanoma():
    s = Session()
    ok(s, "use melanoma")
    return s


def test_nbreg_constant_dispersion(melanoma):
    ref = NB1["one_level"]
    out = ok(melanoma, "nbreg deaths uvb, exposure(expected) dispersion(constant)")
    res = _res(melanoma)
    names = [nm for _, nm in res.names]
    assert names == ["uvb", "_cons", "lndelta"]
    np.testing.assert_allclose(res.b[[1, 0]], ref["b"], rtol=2e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(res.V))[[1, 0]], ref["se"], rtol=1e-4)
    assert res.b[2] == pytest.approx(ref["lndelta"], rel=2e-5)
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-10)
    assert res.scalars["delta"] == pytest.approx(math.exp(ref["lndelta"]), rel=2e-5)
    assert "Dispersion: constant" in out and "    /lndelta |" in out and "       delta |" in out
    assert "LR test of delta=0: chibar2(01) =" in out


def test_menbreg_constant_dispersion_laplace(melanoma):
    ref = NB1["region"]
    out = ok(melanoma, "menbreg deaths uvb || region:, exposure(expected) dispersion(constant) "
                       "intmethod(laplace)")
    res = _res(melanoma)
    names = [nm for _, nm in res.names]
    assert names == ["uvb", "_cons", "lndelta", "var(_cons[region])"]
    assert res.scalars["ll"] == pytest.approx(ref["ll"], rel=1e-6)
    np.testing.assert_allclose(res.b[[1, 0]], ref["b"], rtol=1e-4)
    assert res.b[2] == pytest.approx(ref["lndelta"], rel=1e-4)
    assert res.b[3] == pytest.approx(ref["var"], rel=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(res.V))[[1, 0]], ref["se"], rtol=2e-3)
    assert res.macros["dispersion"] == "constant"
    assert "    /lndelta |" in out
    assert run(melanoma, "menbreg deaths uvb || region:, exposure(expected) disp(foo)")[0] == 198
    assert run(melanoma, "nbreg deaths uvb, exposure(expected) disp(foo)")[0] == 198
