"""xtpcse (hlmshell/commands/xtpcse.py): OLS coefficients and Beck-Katz panel-corrected
standard errors, checked against the sandwich with Omega = Sigma kron I_T built densely here
(N x N), Sigma from the OLS residuals (full for correlated panels, its diagonal for hetonly)."""
import numpy as np
import pytest

from tests.session_run import csv_session, ok, run


@pytest.fixture(scope="module")
def fat():
    s = csv_session("tests/data/xt_tests/fatalities.csv")
    ok(s, "encode state, gen(st)")
    ok(s, "xtset st year")
    return s


def _dense(s, het):
    cols = ["beertax", "spirits", "unemp", "inck"]
    X = np.column_stack([np.asarray(s.data.var(c).values, float) for c in cols] + [np.ones(s.data.n)])
    y = np.asarray(s.data.var("fr").values, float)
    st = np.asarray(s.data.var("st").values, float)
    yr = np.asarray(s.data.var("year").values, float)
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ b
    ids, years = np.unique(st), np.unique(yr)
    E = np.array([[e[(st == i) & (yr == t)][0] for i in ids] for t in years])   # T x N
    Sigma = E.T @ E / len(years)
    if het:
        Sigma = np.diag(np.diag(Sigma))
    Omega = np.zeros((len(y), len(y)))
    for a in range(len(y)):
        for c in range(len(y)):
            if yr[a] == yr[c]:
                Omega[a, c] = Sigma[np.searchsorted(ids, st[a]), np.searchsorted(ids, st[c])]
    XXi = np.linalg.inv(X.T @ X)
    return b, np.sqrt(np.diag(XXi @ X.T @ Omega @ X @ XXi))


@pytest.mark.parametrize("opt,het", [("", False), ("hetonly", True)])
def test_pcse_matches_dense_sandwich(fat, opt, het):
    out = ok(fat, f"xtpcse fr beertax spirits unemp inck, {opt}")
    assert "Panel-corrected" in out
    b, se = _dense(fat, het)
    np.testing.assert_allclose(fat.e.b, b, rtol=1e-9)
    np.testing.assert_allclose(fat.e.se, se, rtol=1e-9)
    assert fat.e.scalars["n_cv"] == (48 if het else 48 * 49 // 2)


def test_refusals(fat):
    ok(fat, "quietly xtpcse fr beertax")
    before = fat.e
    for line, rc in (("xtpcse fr beertax, corr(ar2)", 198), ("xtpcse fr beertax, corr(ar1) rhotype(x)", 198),
                     ("xtpcse fr beertax, hetonly independent", 198), ("xtpcse fr nosuch", 111),
                     ("xtpcse fr beertax if fr > 100", 2000)):
        got, text = run(fat, line)
        assert got == rc, (line, text)
        assert fat.e is before
