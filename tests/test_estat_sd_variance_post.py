"""estat sd, variance and estat sd, post after mixed: the variance metric (var, cov) and its
delta-method V checked against a finite-difference Jacobian of e(b) -> metric, and e(b)/e(V)
replaced by post so that estimates store, lincom and test see them."""
import math

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run


def _fit(cov):
    s = Session()
    ok(s, "use hsb")
    ok(s, f"quietly mixed mathach ses || id: ses, cov({cov})")
    return s


def _to_variance(theta, names):
    """e(b) -> (fixed, var/cov, var(e)) by the definitions, for the numeric Jacobian."""
    where = {eq: i for i, (eq, _) in enumerate(names)}
    out = np.array(theta, dtype=float)
    for i, (eq, _) in enumerate(names):
        if eq.startswith("lns") or eq == "lnsig_e":
            out[i] = math.exp(2 * theta[i])
        elif eq.startswith("atr"):
            lev, blk, p, q = eq[3:].split("_")
            a = where[f"lns{lev}_{blk}_{p}"]
            b = where.get(f"lns{lev}_{blk}_{q}", a)
            out[i] = math.tanh(theta[i]) * math.exp(theta[a]) * math.exp(theta[b])
    return out


def _numeric(s):
    theta = np.asarray(s.e.b, dtype=float)
    names = list(s.e.names)
    g0 = _to_variance(theta, names)
    jac = np.zeros((len(theta), len(theta)))
    for j in range(len(theta)):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, dn = theta.copy(), theta.copy()
        up[j] += h
        dn[j] -= h
        jac[:, j] = (_to_variance(up, names) - _to_variance(dn, names)) / (2 * h)
    return g0, jac @ np.asarray(s.e.V, dtype=float) @ jac.T


@pytest.mark.parametrize("cov, labels", [
    ("unstructured", ["id:var(ses)", "id:var(_cons)", "id:cov(ses,_cons)", "Residual:var(e)"]),
    ("exchangeable", ["id:var(ses)", "id:cov(ses,_cons)", "Residual:var(e)"]),
])
def test_variance_metric_matches_the_definitions_and_a_numeric_delta_method(cov, labels):
    s = _fit(cov)
    want_b, want_V = _numeric(s)
    out = ok(s, "estat sd, variance")
    rb, rV = s.r.matrices["b"], s.r.matrices["V"]
    assert rb.colnames[2:] == labels
    np.testing.assert_allclose(rb.values.ravel(), want_b, rtol=1e-10)
    np.testing.assert_allclose(rV.values, want_V, rtol=1e-5, atol=1e-10)
    # the table shows the same numbers (its own code path, from the fit)
    se = np.sqrt(np.diag(want_V))
    assert f"{want_b[2]:.7g}".lstrip("0")[:5] in out and f"{se[2]:.7g}".lstrip("0")[:5] in out
    assert "var(Residual)" in out and "sd(" not in out


def test_post_replaces_e_b_and_e_v_and_keeps_the_rest():
    s = _fit("unstructured")
    n = s.e.scalars["N"]
    want_b, want_V = _numeric(s)
    out = ok(s, "estat sd, variance post")
    assert "mathach | Coefficient" in out                      # post implies verbose
    assert [f"{q}:{nm}" for q, nm in s.e.names] == [
        "mathach:ses", "mathach:_cons", "id:var(ses)", "id:var(_cons)", "id:cov(ses,_cons)",
        "Residual:var(e)"]
    np.testing.assert_allclose(s.e.b, want_b, rtol=1e-10)
    np.testing.assert_allclose(s.e.V, want_V, rtol=1e-5, atol=1e-10)
    assert s.e.scalars["N"] == n and s.e.cmd == "mixed"
    ok(s, "estimates store MLM")
    ok(s, "lincom _b[id:var(_cons)] - 4")
    assert s.r.scalars["estimate"] == pytest.approx(want_b[3] - 4, rel=1e-10)
    assert s.r.scalars["se"] == pytest.approx(math.sqrt(want_V[3, 3]), rel=1e-5)
    ok(s, "test _b[Residual:var(e)] = 36")
    z = (want_b[5] - 36) / math.sqrt(want_V[5, 5])
    assert s.r.scalars["chi2"] == pytest.approx(z * z, rel=1e-6)
    rc, out = run(s, "estat sd")                               # already posted
    assert rc == 321
    ok(s, "estimates restore MLM")
    assert run(s, "estat sd")[0] == 321


def test_sd_post_without_variance():
    s = _fit("independent")
    b = np.asarray(s.e.b, dtype=float)
    ok(s, "estat sd, post")
    assert [f"{q}:{nm}" for q, nm in s.e.names][2:] == ["id:sd(ses)", "id:sd(_cons)", "Residual:sd(e)"]
    np.testing.assert_allclose(s.e.b[2:], np.exp(b[2:]), rtol=1e-12)


def test_bad_options_leave_e_alone():
    s = _fit("independent")
    before = (list(s.e.names), np.asarray(s.e.b).copy())
    assert run(s, "estat sd, post bogus")[0] == 198
    assert run(s, "estat sd, variance post level(200)")[0] == 198
    assert (list(s.e.names), list(s.e.b)) == (before[0], list(before[1]))
