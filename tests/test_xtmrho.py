"""xtmrho (SSC): each level's intercept variance over the total, MOR/MIRR = exp(sqrt(2V)*z.75),
checked against the variances read from e(b) and against estat icc for two levels."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.session_run import interp_session, irun, iok


@pytest.fixture(scope="module")
def s():
    return interp_session("use hsb", "gen hi = mathach > 13", "gen cls = 1 + mod(_n, 3)",
                          "egen sc = group(id cls)")


def _b(s, name):
    return float(s.e.b[[n for _, n in s.e.names].index(name)])


def test_after_mixed_three_levels(s):
    iok(s, "quietly mixed mathach ses || id: || sc:")
    out = iok(s, "xtmrho")
    lns = [float(b) for (eq, n), b in zip(s.e.names, s.e.b) if eq.startswith("lns") and eq != "lnsig_e"]
    ve = math.exp(2 * [float(b) for (eq, n), b in zip(s.e.names, s.e.b) if eq == "lnsig_e"][0])
    v = [math.exp(2 * x) for x in lns]
    tot = sum(v) + ve
    assert "Levels: id sc" in out
    assert s.e.scalars["rho1"] == pytest.approx(v[0] / tot, rel=1e-10)
    assert s.e.scalars["rho2"] == pytest.approx(v[1] / tot, rel=1e-10)
    assert s.e.scalars["u2"] == pytest.approx(v[1], rel=1e-10)
    assert "Intra class correlation on level 1 rho = ." in out


def test_two_levels_equals_estat_icc(s):
    iok(s, "quietly mixed mathach ses || id:")
    iok(s, "xtmrho")
    rho = s.e.scalars["rho1"]
    iok(s, "estat icc")
    assert s.r.scalars["icc2"] == pytest.approx(rho, rel=1e-12)


def test_after_melogit_mor(s):
    iok(s, "quietly melogit hi ses || id:")
    out = iok(s, "xtmrho")
    v = _b(s, "var(_cons[id])")
    z = 0.6744897501960817
    assert s.e.scalars["mor1"] == pytest.approx(math.exp(math.sqrt(2 * v) * z), rel=1e-12)
    assert s.e.scalars["rho1"] == pytest.approx(v / (v + math.pi ** 2 / 3), rel=1e-12)
    assert f"mor1 = {s.e.scalars['mor1']:.5f}" in out


def test_bad_input(s):
    iok(s, "quietly regress mathach ses")
    assert irun(s, "xtmrho")[0] == 301
    iok(s, "quietly mixed mathach ses || id:")
    assert irun(s, "xtmrho, detail")[0] == 198
