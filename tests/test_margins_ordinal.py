"""margins after ologit, oprobit and meologit: every outcome's probability as a `_predict`
dimension by default, one with predict(outcome()), dy/dx, delta-method SEs with the
cutpoints moving. Reference: tests/data/margins/ordinal_margins_reference.R (ordinal::clm,
numDeriv); after meologit the marginal probabilities against a grid integration of e(b)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run

REF = json.loads((Path(__file__).parent / "data" / "margins" / "ordinal_margins_reference.json").read_text())
M3 = "generate m3 = cond(mathach < 8, 0, cond(mathach < 16, 1, 2))"


def fit(model):
    s = Session()
    ok(s, "use hsb")
    ok(s, M3)
    ok(s, "quietly " + model)
    return s


@pytest.fixture(scope="module", params=["logit", "probit"])
def one(request):
    return request.param, fit(f"o{request.param} m3 ses i.sector")


@pytest.mark.parametrize("line,key", [("margins", "all"), ("margins sector", "sector"),
                                      ("margins, dydx(ses) predict(outcome(#1))", "dydx")])
def test_against_clm(one, line, key):
    link, s = one
    ok(s, line)
    T = s.r.matrices["table"].values
    want = REF[link][key]
    assert np.allclose(T[0], want["margin"], rtol=1e-6)
    # e(V) of ologit is an observed information by differences (1e-5); dy/dx is a numerical
    # derivative here and in R: their SEs agree to 1e-4
    assert np.allclose(T[1], want["se"], rtol=1e-4 if key == "dydx" else 1e-5)


def test_layout_and_names(one):
    _link, s = one
    rc, out = run(s, "margins")
    assert rc == 0
    lines = out.splitlines()
    assert "1._predict: Pr(m3==0), predict(pr outcome(0))" in lines
    assert "3._predict: Pr(m3==2), predict(pr outcome(2))" in lines
    assert not any(ln.startswith("Expression:") for ln in lines)
    assert s.r.matrices["b"].colnames == ["1._predict", "2._predict", "3._predict"]
    assert s.r.matrices["Jacobian"].colnames[-2:] == ["/:cut1", "/:cut2"]
    rc, out = run(s, "margins, predict(outcome(1))")
    assert "Expression: Pr(m3==1), predict(outcome(1))" in out
    assert np.isclose(s.r.matrices["table"].values[0, 0], REF[_link]["all"]["margin"][1], rtol=1e-6)


@pytest.mark.parametrize("line,rc", [("margins, predict(outcome(7))", 303),
                                     ("margins, predict(outcome(#4))", 303),
                                     ("margins, predict(pr fixedonly)", 198),
                                     ("margins, expression(predict(outcome(1))*2)", 198),
                                     ("margins, predict(pr xb)", 198)])
def test_errors(one, line, rc):
    _link, s = one
    ok(s, "margins")
    before = s.r.matrices["table"].values.copy()
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert np.array_equal(s.r.matrices["table"].values, before, equal_nan=True)


def test_meologit_marginal_probabilities_by_grid():
    s = fit("meologit m3 ses || id:")
    ok(s, "margins")
    names = [nm for _, nm in s.e.names]
    b = np.asarray(s.e.b, float).reshape(-1)
    ses = np.asarray(s.data.values("ses"), float)
    eta = b[names.index("ses")] * ses
    cuts = [-np.inf, b[names.index("cut1")], b[names.index("cut2")], np.inf]
    sd = np.sqrt(b[names.index("var(_cons[id])")])
    z = np.linspace(-10, 10, 4001)
    w = np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi) * (z[1] - z[0])

    def F(x):
        return 1 / (1 + np.exp(-x))

    want = [np.mean((F(cuts[k + 1] - eta[:, None] - sd * z) - F(cuts[k] - eta[:, None] - sd * z)) @ w)
            for k in range(3)]
    T = s.r.matrices["table"].values
    assert np.allclose(T[0], want, rtol=1e-9)
    assert np.isclose(T[0].sum(), 1.0)
    assert s.r.matrices["Jacobian"].colnames[-1] == "/:var(_cons[id])"
    ok(s, "margins, predict(pr fixedonly outcome(#2))")
    fixed = np.mean(F(cuts[2] - eta) - F(cuts[1] - eta))
    assert np.isclose(s.r.matrices["table"].values[0, 0], fixed, rtol=1e-10)


def test_marginsplot_lines_per_outcome():
    s = fit("ologit m3 ses i.sector")
    ok(s, "margins sector")
    ok(s, "marginsplot")
    g = s.graphs.graphs[s.graphs.current]
    lines = [se for se in g.panels[0].series if se.kind == "connected"]
    assert sorted(se.label for se in lines) == ["_predict=1", "_predict=2", "_predict=3"]
    assert all(np.array_equal(np.asarray(se.x), [0, 1]) for se in lines)
    T = s.r.matrices["table"].values
    assert np.allclose(np.sort(np.concatenate([np.asarray(se.y) for se in lines])), np.sort(T[0]))


@pytest.mark.parametrize("model,line,key", [
    ("ologit m3 ses i.sector", "margins sector, vce(unconditional)", "uncond_sector"),
    ("ologit m3 ses i.sector, vce(cluster id)", "margins, vce(unconditional)", "uncond_cluster")])
def test_unconditional_after_ologit(model, line, key):
    s = fit(model)
    rc, out = run(s, line)
    assert rc == 0 and "Unconditional" in out
    T = s.r.matrices["table"].values
    want = np.asarray(REF[key])
    assert np.allclose(T[0], want[:, 0], rtol=1e-6)
    assert np.allclose(T[1], want[:, 1], rtol=1e-5)


def test_unconditional_refused_after_meologit():
    s = fit("meologit m3 ses || id:")
    rc, out = run(s, "margins, vce(unconditional)")
    assert rc == 198 and "Traceback" not in out
