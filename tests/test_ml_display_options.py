"""ml's display and maximize options that do-files pass to mixed and the me* commands
(showtolerance, showstep, nonrtolerance, nrtolerance(), gradient, hessian, trace,
technique(), difficult): Stata accepts them and they change only the log, so the fit is the
one without them; intmethod(mc) is mcaghermite, as a public lab do-file types it."""
from __future__ import annotations

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run

_OPTS = "showtolerance showstep nonrtolerance gradient hessian trace technique(nr) difficult"


@pytest.fixture(scope="module")
def small():
    s = Session()
    ok(s, "use hsb")
    ok(s, "keep if id <= 1300")
    ok(s, "gen hi = mathach > 13")
    return s


def test_mixed_accepts_ml_display_options(small):
    ok(small, "quietly mixed mathach ses || id:")
    b0 = np.asarray(small.e.b, dtype=float)
    ok(small, f"quietly mixed mathach ses || id:, {_OPTS} nrtolerance(1e-5)")
    assert np.allclose(np.asarray(small.e.b, dtype=float), b0, rtol=1e-6, atol=1e-8)


def test_melogit_accepts_them_and_intmethod_mc(small):
    ok(small, "quietly melogit hi ses || id:, intmethod(mcaghermite) intpoints(5)")
    b0 = np.asarray(small.e.b, dtype=float)
    ok(small, f"quietly melogit hi ses || id:, intmethod(mc) intp(5) tolerance(0.001) "
              f"ltolerance(0.0001) {_OPTS}")
    assert small.e.macros.get("intmethod") == "mcaghermite"
    assert np.allclose(np.asarray(small.e.b, dtype=float), b0, rtol=1e-5, atol=1e-6)
    assert run(small, "melogit hi ses || id:, showtolerance(3)")[0] == 198
    assert run(small, "melogit hi ses || id:, intmethod(m)")[0] == 198
