"""margins, dydx(*) predict(mu fixedonly) [post] after the GLMMs (34_ziller_day3 runs it after
xtmelogit): the average marginal effects of the fixed-portion mean invlogit(xb) -- the random
effects set to zero -- and their delta-method standard errors, recomputed here from e(b) and
e(V) with the analytic derivative; after melogit and after xtmelogit (meqrlogit), where
predict(mu fixedonly) is also the default and a mean with the random effects is r(498)."""
from __future__ import annotations

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run

XS = ("ses", "female", "age")


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, "use hsb")
    ok(s, "keep if id < 2400")
    ok(s, "generate hi = mathach > 13")
    ok(s, "generate age = mod(id, 7)")
    return s


def _reference(s):
    """AMEs of p = invlogit(X b) and their delta-method SEs from e(b), e(V)."""
    res = s.e
    names = [n for _eq, n in res.names]
    k = [names.index(v) for v in XS] + [names.index("_cons")]
    b = np.asarray(res.b, float).reshape(-1)[k]
    V = np.asarray(res.V, float)[np.ix_(k, k)]
    X = np.column_stack([np.asarray(s.data.var(v).values, float) for v in XS]
                        + [np.ones(s.data.n)])
    p = 1 / (1 + np.exp(-X @ b))
    w = p * (1 - p)
    ame = b[:3] * w.mean()
    J = np.zeros((3, 4))
    for i in range(3):
        J[i] = b[i] * ((w * (1 - 2 * p))[:, None] * X).mean(axis=0)
        J[i, i] += w.mean()
    return ame, np.sqrt(np.diag(J @ V @ J.T))


@pytest.mark.parametrize("fit", ["melogit hi ses female age || id:",
                                 "xtmelogit hi ses female age || id:, var"])
def test_ame_of_the_fixed_portion(s, fit):
    ok(s, f"quietly {fit}")
    ame, se = _reference(s)
    out = ok(s, "margins, dydx(*) predict(mu fixedonly)")
    assert "Predicted mean, fixed portion only, predict(mu fixedonly)" in out
    assert "dy/dx wrt:  ses female age" in out
    t = np.asarray(s.r.matrices["table"].values)
    assert np.allclose(t[0], ame, rtol=1e-6)
    assert np.allclose(t[1], se, rtol=1e-5)
    est = s.e.cmd
    ok(s, "margins, dydx(*) predict(mu fixedonly) post")
    assert s.e.cmd == "margins" and s.e.macros["est_cmd"] == est
    assert np.allclose(np.asarray(s.e.b, float).reshape(-1), ame, rtol=1e-6)


def test_meqrlogit_default_and_refusals(s):
    ok(s, "quietly xtmelogit hi ses female age || id:, var")
    ok(s, "margins")
    default = float(np.asarray(s.r.matrices["table"].values)[0, 0])
    ok(s, "margins, predict(mu fixedonly)")
    assert float(np.asarray(s.r.matrices["table"].values)[0, 0]) == pytest.approx(default)
    rc, out = run(s, "margins, predict(mu)")
    assert rc == 498 and "stochastic" in out
    rc, _ = run(s, "margins, predict(reffects)")
    assert rc == 498
    ok(s, "margins, predict(xb)")
    names = [n for _eq, n in s.e.names]
    b = np.asarray(s.e.b, float).reshape(-1)
    X = np.column_stack([np.asarray(s.data.var(v).values, float) for v in XS])
    xb = X @ b[[names.index(v) for v in XS]] + b[names.index("_cons")]
    assert float(np.asarray(s.r.matrices["table"].values)[0, 0]) == pytest.approx(xb.mean())
