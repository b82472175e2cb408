"""xtlogit, fe and xtpoisson, fe with factor variables: the panels' intercepts absorb the
constant, but i.var still has its base level (it used to keep every level, collinear with the
intercepts: SEs of 434,929). xtlogit, fe must then equal clogit (a separate implementation of
the conditional likelihood), and a variable constant within panels is omitted with its note."""
import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.hsb_fixtures import HSB
from tests.session_run import ok


@pytest.fixture
def s():
    s = Session(Capture())
    ok(s, f'use "{HSB}"')
    ok(s, "xtset id")
    ok(s, "generate hi = mathach > 13")
    return s


def test_xtlogit_fe_factor_base_and_clogit(s):
    out = ok(s, "xtlogit hi ses i.female i.sector, fe nolog")
    assert "note: 1.sector omitted because of no within-group variance." in out
    names = [nm for _, nm in s.e.names]
    assert names == ["ses", "0b.female", "1.female", "1o.sector"] or "0.female" not in names
    b_xt = {nm: float(v) for (_, nm), v in zip(s.e.names, np.ravel(s.e.b))}
    se_xt = dict(zip(names, np.sqrt(np.diag(s.e.V))))
    ll_xt = float(s.e.scalars["ll"])
    ok(s, "clogit hi ses i.female i.sector, group(id)")
    b_cl = {nm: float(v) for (_, nm), v in zip(s.e.names, np.ravel(s.e.b))}
    assert ll_xt == pytest.approx(float(s.e.scalars["ll"]), abs=1e-6)
    assert b_xt["ses"] == pytest.approx(b_cl["ses"], abs=1e-6)
    assert b_xt["1.female"] == pytest.approx(b_cl["1.female"], abs=1e-6)
    assert se_xt["1.female"] < 1.0


def test_xtpoisson_fe_factor_base(s):
    ok(s, "xtpoisson minority ses i.female, fe nolog")
    names = [nm for _, nm in s.e.names]
    assert "1.female" in names and "0.female" not in names
    assert np.all(np.sqrt(np.diag(s.e.V))[np.ravel(s.e.b) != 0] < 1.0)
