"""etable after the me* GLMMs: the random-effects variances and covariances of e(b)
(`/:var(_cons[district])`) are shown as for mixed -- under their level, after the fixed part
and its Intercept, named var(_cons), cov(age,_cons) -- and the family's own parameters (/cut1)
after the Intercept; the numbers are e(b) and sqrt(diag(e(V)))."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run

DATA = "import delimited using tests/data/glmm/contraception.csv, clear"


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, DATA)
    ok(s, "quietly melogit use i.urban age || district:")
    ok(s, "estimates store g1")
    ok(s, "quietly melogit use i.urban age || district: age, cov(unstr)")
    ok(s, "estimates store g2")
    return s


def _rows(out):
    return [ln.rstrip() for ln in out.splitlines() if ln.strip() and not ln.startswith(("-", "."))]


def _eb(s, name):
    j = [nm for _, nm in s.e.names].index(name)
    return float(np.asarray(s.e.b).reshape(-1)[j]), math.sqrt(float(np.asarray(s.e.V)[j, j]))


def test_random_effects_section_and_order(s):
    ok(s, "estimates restore g2")
    rc, out = run(s, "etable")
    assert rc == 0
    labels = [ln.split()[0] for ln in _rows(out)[1:] if not ln.strip().startswith("(")]
    assert labels == ["urban", "1", "age", "Intercept", "district", "var(age)", "var(_cons)",
                      "cov(age,_cons)", "Number"]
    assert "var(_cons[district])" not in out
    rows = _rows(out)
    k = next(i for i, ln in enumerate(rows) if ln.split()[0] == "cov(age,_cons)")
    b, se = _eb(s, "cov(age[district],_cons[district])")
    assert rows[k].split()[-1] == f"{b:.3f}"
    assert rows[k + 1].split()[-1] == f"({se:.3f})"
    assert rows[k].startswith("  ")          # indented under its level


def test_two_models_share_the_section(s):
    rc, out = run(s, "etable, estimates(g1 g2)")
    assert rc == 0
    rows = _rows(out)
    vc = next(ln for ln in rows if ln.split()[0] == "var(_cons)")
    ok(s, "estimates restore g1")
    b1, _ = _eb(s, "var(_cons[district])")
    ok(s, "estimates restore g2")
    b2, _ = _eb(s, "var(_cons[district])")
    assert vc.split()[1:] == [f"{b1:.3f}", f"{b2:.3f}"]
    assert sum(ln.strip() == "district" for ln in rows) == 1


def test_ordinal_cutpoints_after_intercept():
    s = Session()
    ok(s, DATA)
    ok(s, "quietly meologit use age || district:")
    rc, out = run(s, "etable")
    labels = [ln.split()[0] for ln in _rows(out)[1:] if not ln.strip().startswith("(")]
    assert labels == ["age", "/cut1", "district", "var(_cons)", "Number"]


def test_mixed_unchanged():
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly mixed mathach ses || id:")
    rc, out = run(s, "etable")
    labels = [ln.split()[0] for ln in _rows(out)[1:] if not ln.strip().startswith("(")]
    assert labels == ["socio-economic", "Intercept", "id", "var(_cons)", "var(e)", "Number"]
