"""margins, vce(unconditional) after regress (rows, and the clusters of vce(cluster)) and
mixed (top-level groups): the linearized variance of the margins with the covariates
treated as sampled. Reference numbers: tests/data/margins/unconditional_reference.R (lm +
sandwich::estfun/bread, lmer + a dense per-school X_g'V_g^-1 r_g; no hlmshell code)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run

REF = json.loads((Path(__file__).parent / "data" / "margins" / "unconditional_reference.json").read_text())
MODEL = "i.sector##c.ses"
LINES = {"sector": "margins sector, vce(unconditional)",
         "at": "margins sector, at(ses=(-1 1)) vce(uncond)",
         "dydx": "margins, dydx(ses) vce(unc)"}
KEYS = {"sector": ["sector0", "sector1"],
        "at": ["at_m1_s0", "at_m1_s1", "at_p1_s0", "at_p1_s1"], "dydx": ["dydx"]}


@pytest.fixture(scope="module")
def sessions():
    out = {}
    for tag, model in (("regress", f"regress mathach {MODEL}"),
                       ("regress_cluster", f"regress mathach {MODEL}, vce(cluster id)"),
                       ("mixed_ml", f"mixed mathach {MODEL} || id:")):
        s = Session()
        ok(s, "use hsb")
        ok(s, "quietly " + model)
        out[tag] = s
    return out


@pytest.mark.parametrize("tag,rel", [("regress", 1e-8), ("regress_cluster", 1e-8), ("mixed_ml", 2e-4)])
@pytest.mark.parametrize("what", sorted(LINES))
def test_against_r(sessions, tag, rel, what):
    s = sessions[tag]
    ok(s, LINES[what])
    T = s.r.matrices["table"].values
    want = np.array([REF[tag][k] for k in KEYS[what]])
    assert np.allclose(T[0], want[:, 0], rtol=min(rel, 2e-5)), (T[0], want[:, 0])
    assert np.allclose(T[1], want[:, 1], rtol=rel), (T[1], want[:, 1])
    assert s.r.macros["vce"] == "unconditional"
    assert s.r.macros["vcetype"] == "Unconditional"


def test_differs_from_delta_and_layout(sessions):
    s = sessions["regress"]
    rc, out = run(s, "margins sector")
    delta = s.r.matrices["table"].values[1].copy()
    rc, out = run(s, "margins sector, vce(unconditional)")
    assert rc == 0
    unc = s.r.matrices["table"].values[1]
    assert not np.allclose(delta, unc, rtol=1e-3)
    head = [ln for ln in out.splitlines() if "Unconditional" in ln]
    assert head == ["             |            Unconditional"]
    assert "Delta-method" not in out
    assert "Model VCE: OLS" in out


def test_post_keeps_the_unconditional_vce(sessions):
    s = sessions["regress"]
    ok(s, "margins sector, vce(unconditional) post")
    V = np.asarray(s.e.V, dtype=float).reshape(2, 2)
    want = np.array([REF["regress"]["sector0"][1], REF["regress"]["sector1"][1]])
    assert np.allclose(np.sqrt(np.diag(V)), want, rtol=1e-8)
    ok(s, "quietly regress mathach " + MODEL)


@pytest.mark.parametrize("line", ["margins sector, vce(bogus)", "margins sector, vce()",
                                  "margins sector, vce(un)"])
def test_bad_vce(sessions, line):
    s = sessions["regress"]
    ok(s, "margins sector")
    before = s.r.matrices["table"].values.copy()
    rc, out = run(s, line)
    assert rc == 198
    assert "Traceback" not in out
    assert np.array_equal(s.r.matrices["table"].values, before)


def test_refused_after_reml():
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly mixed mathach ses || id:, reml")
    ok(s, "margins")
    before = s.r.matrices["table"].values.copy()
    rc, out = run(s, "margins, vce(unconditional)")
    assert rc == 198 and "REML" in out
    assert np.array_equal(s.r.matrices["table"].values, before, equal_nan=True)
