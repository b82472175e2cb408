"""xtmixed_corr (the 2011 SSC command, Stata 13's estat wcorrelation) after xtmixed: the
model-implied correlations V = Z G Z' + s2 I of one school, rebuilt here in numpy from e(b)'s
log-sd / atanh-correlation parameters, and the same table as estat wcorrelation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture(scope="module")
def fitted():
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly xtmixed mathach ses || id: ses, cov(un) mle")
    return s


def _param(res, eq, name="_cons"):
    return float(res.b[res.coef_index(eq, name)])


def test_correlations_of_the_named_cluster(fitted):
    s = fitted
    res = s.e
    out = ok(s, "xtmixed_corr, at(id=1288)")
    assert "Standard deviations and correlations for id = 1288:" in out
    sd0, sd1 = math.exp(_param(res, "lns1_1_1")), math.exp(_param(res, "lns1_1_2"))   # ses, _cons
    r = math.tanh(_param(res, "atr1_1_1_2"))
    s2 = math.exp(2 * _param(res, "lnsig_e"))
    G = np.array([[sd0 ** 2, r * sd0 * sd1], [r * sd0 * sd1, sd1 ** 2]])
    sel = np.asarray(s.data.var("id").values, dtype=float) == 1288
    ses = np.asarray(s.data.var("ses").values, dtype=float)[sel]
    Z = np.column_stack([ses, np.ones_like(ses)])
    V = Z @ G @ Z.T + s2 * np.eye(len(ses))
    sd = np.sqrt(np.diag(V))
    corr = V / np.outer(sd, sd)
    got = s.r.matrices
    assert np.asarray(got["Corr"].values) == pytest.approx(corr, rel=1e-9)
    assert np.asarray(got["sd"].values).ravel() == pytest.approx(sd, rel=1e-9)
    assert out == ok(s, "estat wcorrelation, at(id=1288)")


def test_default_cluster_format_and_errors(fitted):
    s = fitted
    first = ok(s, "xtmixed_corr")
    assert "for id = 1224:" in first
    assert "0.1" in ok(s, "xtmixed_corr, format(%4.2f)") and " 1.00" in ok(s, "xtmixed_corr, format(%4.2f)")
    before = s.e
    for line, rc in (("xtmixed_corr, cov", 198), ("xtmixed_corr, at(id=99999)", 2000),
                     ("xtmixed_corr, at(nosuch=1)", 198), ("xtmixed_corr ses", 198),
                     ("xtmixed_corr, format(%q)", 120)):
        assert run(s, line)[0] == rc, line
    assert s.e is before
    s2 = Session()
    ok(s2, "use hsb")
    assert run(s2, "xtmixed_corr")[0] == 301
    ok(s2, "quietly regress mathach ses")
    assert run(s2, "xtmixed_corr")[0] == 321
