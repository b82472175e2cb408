"""melogit's startvalues(zero|constantonly|fixedonly) and from(matname[, skip copy]), one
level and nested: the same optimum from every start, the log starting where the start puts it
(the constant-only model's log likelihood and the full model's first value checked against
numpy: closed form and a dense quadrature of the marginal likelihood), Stata's refusals."""
import re

import numpy as np
import pytest

from session_run import csv_session, ok, run


@pytest.fixture(scope="module")
def con():
    return csv_session("tests/data/glmm/contraception.csv")


def _lls(out, head):
    part = out.split(head, 1)[1].split("Refining starting values:")[0].split("Fitting full")[0] \
        if head != "Fitting full model:" else out.split(head, 1)[1]
    return [float(x) for x in re.findall(r"Iteration +\d+: +log likelihood = +(-[\d.]+)", part)]


def _fit(s, line):
    out = ok(s, line)
    return out, s.e.scalars["ll"], np.asarray(s.e.b, dtype=float).copy()


def _marginal_ll(y, X, g, b, sd, nodes=300):
    """The one-level logistic model's log likelihood by dense Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    eta = X @ b
    total = 0.0
    for k in np.unique(g):
        m = g == k
        e = eta[m][:, None] + sd * x[None, :]
        ll = (y[m][:, None] * e - np.logaddexp(0, e)).sum(axis=0)
        top = ll.max()
        total += top + np.log(np.sum(w * np.exp(ll - top)))
    return total


def test_every_start_reaches_the_same_optimum(con):
    _, ll, b = _fit(con, "melogit use age urban || district:")
    for opt in ("startvalues(zero)", "startvalues(constantonly)", "startvalues(fixedonly)"):
        _, ll2, b2 = _fit(con, f"melogit use age urban || district:, {opt}")
        assert ll2 == pytest.approx(ll, abs=1e-7)
        np.testing.assert_allclose(b2, b, atol=2e-5)


def test_constantonly_logs_the_constant_only_model(con):
    out = ok(con, "melogit use age urban || district:, startvalues(constantonly)")
    y = np.asarray(con.data.values("use"), dtype=float)
    p = y.mean()
    ll_const = len(y) * (p * np.log(p) + (1 - p) * np.log(1 - p))
    assert "Fitting constant-only model:" in out and "Fitting fixed-effects model:" not in out
    assert _lls(out, "Fitting constant-only model:")[-1] == pytest.approx(ll_const, abs=1e-4)
    # the LR test still compares with the fixed-effects model (a logistic fit)
    assert con.e.scalars["ll_c"] == pytest.approx(-1269.4238, abs=1e-4)


def test_zero_starts_the_full_model_at_zero(con):
    out = ok(con, "melogit use age urban || district:, startvalues(zero) intpoints(30)")
    assert "Fitting fixed-effects model:" not in out and "Refining starting values:" in out
    d = con.data
    y = np.asarray(d.values("use"), dtype=float)
    X = np.column_stack([d.values("age"), d.values("urban"), np.ones(len(y))])
    g = np.asarray(d.values("district"))
    first = _lls(out, "Fitting full model:")[0]
    assert first == pytest.approx(_marginal_ll(y, X, g, np.zeros(3), 1.0), abs=1e-4)


def test_from_starts_where_the_vector_says(con):
    _, ll, b = _fit(con, "melogit use age urban || district:")
    ok(con, "matrix b = e(b)")
    out, ll2, b2 = _fit(con, "melogit use age urban || district:, from(b)")
    assert "Refining starting values:" not in out and "Fitting fixed-effects model:" not in out
    assert _lls(out, "Fitting full model:")[0] == pytest.approx(ll, abs=1e-4)
    assert ll2 == pytest.approx(ll, abs=1e-8)
    np.testing.assert_allclose(b2, b, atol=1e-6)
    # copy: by position; a vector of other values starts elsewhere and ends at the optimum
    ok(con, "matrix c = (0, 0, 0, 1)")
    out = ok(con, "melogit use age urban || district:, from(c, copy) intpoints(30)")
    d = con.data
    y = np.asarray(d.values("use"), dtype=float)
    X = np.column_stack([d.values("age"), d.values("urban"), np.ones(len(y))])
    g = np.asarray(d.values("district"))
    assert _lls(out, "Fitting full model:")[0] == pytest.approx(
        _marginal_ll(y, X, g, np.zeros(3), 1.0), abs=1e-4)
    assert con.e.scalars["ll"] == pytest.approx(ll, abs=1e-4)   # 30 points against 7


def test_from_by_name_after_a_smaller_model_with_skip(con):
    _, ll, b = _fit(con, "melogit use age urban || district:, nolog")
    ok(con, "quietly melogit use urban || district:")
    ok(con, "matrix s = e(b)")
    rc, out = run(con, "melogit use age || district:, from(s)")
    assert rc == 111 and "extra parameter use:urban found" in out
    out, ll2, _ = _fit(con, "melogit use age || district:, from(s, skip)")
    ok(con, "quietly melogit use age urban || district:")
    out, ll3, b3 = _fit(con, "melogit use age urban || district:, from(s)")
    assert ll3 == pytest.approx(ll, abs=1e-7)
    np.testing.assert_allclose(b3, b, atol=2e-5)


def test_nested_from_and_zero():
    gu = csv_session("tests/data/glmm/guimmun.csv")
    base = "melogit immun kid2p rural || cluster: || mom:, intmethod(laplace)"
    _, ll, b = _fit(gu, base)
    ok(gu, "matrix b = e(b)")
    out, ll2, b2 = _fit(gu, base + " from(b)")
    assert _lls(out, "Fitting full model:")[0] == pytest.approx(ll, abs=1e-4)
    assert ll2 == pytest.approx(ll, abs=1e-7)
    out, ll3, b3 = _fit(gu, base + " startvalues(zero)")
    assert ll3 == pytest.approx(ll, abs=1e-6)
    np.testing.assert_allclose(b3, b, atol=1e-4)


def test_refusals_leave_the_session_unchanged(con):
    ok(con, "melogit use age urban || district:, nolog")
    ok(con, "matrix b = e(b)")
    before = (con.e.scalars["ll"], tuple(con.e.b))
    for line, rc in (("melogit use age urban || district:, from(nosuch)", 111),
                     ("melogit use age urban || district:, from(b, copy) intmethod(laplace) "
                      "startvalues(zero) nolog binomial(1) from(b, bogus)", 198),
                     ("melogit use age || district:, from(b, copy)", 503),
                     ("melogit use age urban || district:, startvalues(iv)", 198),
                     ("melogit use age urban || district:, startvalues(nonsense)", 198)):
        got, out = run(con, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out
    ok(con, "matrix bad = (0, 0, 0, -1)")
    got, out = run(con, "melogit use age urban || district:, from(bad, copy)")
    assert got == 1400 and "initial values not feasible" in out
    assert (con.e.scalars["ll"], tuple(con.e.b)) == before
