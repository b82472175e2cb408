"""test's equation syntaxes and options real do-files use: `test [eq]`, `test [eq1=eq2]` with
`common`/`constant`, `mtest(bonferroni|holm|sidak)`, `df()`, `matvlc()`.

References: the equation tests are recomputed here with numpy from mvreg's own algebra
(V = Sigma (x) (X'X)^-1); the multiple-testing p-values come from R's lm() and p.adjust()
on the same data (values below)."""
import numpy as np
import pytest
from scipy import stats

from hlmshell.session import Session
from tests.session_run import HSB_DTA, hsb_session, ok, run

HSB = HSB_DTA


@pytest.fixture(scope="module")
def hsb_raw():
    import pandas as pd
    return pd.read_stata(HSB)


def _session():
    return hsb_session()


def _mvreg_reference(d, depvars, xs):
    X = np.column_stack([d[x].to_numpy(float) for x in xs] + [np.ones(len(d))])
    Y = np.column_stack([d[y].to_numpy(float) for y in depvars])
    XtXi = np.linalg.inv(X.T @ X)
    B = XtXi @ X.T @ Y
    E = Y - X @ B
    n, k = X.shape
    Sigma = E.T @ E / (n - k)
    b = B.T.reshape(-1)                                  # equation by equation
    V = np.kron(Sigma, XtXi)
    return b, V, n - k


def _F(b, V, R):
    d = R @ b
    return float(d @ np.linalg.solve(R @ V @ R.T, d) / R.shape[0])


def test_equal_equations_and_constant(hsb_raw):
    s = _session()
    ok(s, "quietly mvreg mathach ses = minority female meanses")
    b, V, dfr = _mvreg_reference(hsb_raw, ["mathach", "ses"], ["minority", "female", "meanses"])
    R = np.zeros((3, 8))
    for j in range(3):
        R[j, j], R[j, 4 + j] = 1.0, -1.0
    out = ok(s, "test [mathach=ses]")
    assert s.r.scalars["df"] == 3 and s.r.scalars["df_r"] == dfr
    assert s.r.scalars["F"] == pytest.approx(_F(b, V, R), rel=1e-8)
    assert "[mathach]meanses - [ses]meanses = 0" in out and "_cons" not in out
    Rc = np.vstack([R, np.eye(8)[3] - np.eye(8)[7]])
    out = ok(s, "test [mathach=ses], constant")
    assert s.r.scalars["df"] == 4 and "( 4)  [mathach]_cons - [ses]_cons = 0" in out
    assert s.r.scalars["F"] == pytest.approx(_F(b, V, Rc), rel=1e-8)
    ok(s, "test [mathach=ses], cons common")
    assert s.r.scalars["df"] == 4


def test_zero_equation_syntax(hsb_raw):
    s = _session()
    ok(s, "quietly mvreg mathach ses = minority female meanses")
    b, V, _ = _mvreg_reference(hsb_raw, ["mathach", "ses"], ["minority", "female", "meanses"])
    ok(s, "test [ses]")
    assert s.r.scalars["F"] == pytest.approx(_F(b, V, np.eye(8)[4:7]), rel=1e-8)
    ok(s, "test [#1]: female minority")
    assert s.r.scalars["F"] == pytest.approx(_F(b, V, np.eye(8)[[1, 0]]), rel=1e-8)


def test_common_keeps_shared_coefficients():
    """Equations with different regressors: without `common` the unshared one is an error;
    with it, only the shared coefficients are tested (the x of the two single-equation fits)."""
    s = _session()
    ok(s, "quietly regress mathach ses female")
    ok(s, "estimates store a")
    ok(s, "quietly regress mathach ses")
    ok(s, "estimates store b")
    ok(s, "quietly suest a b")
    rc, out = run(s, "test [a_mean=b_mean]")
    assert rc == 111 and "[b_mean]female not found" in out
    out = ok(s, "test [a_mean=b_mean], common")
    assert s.r.scalars["df"] == 1 and "[a_mean]ses - [b_mean]ses = 0" in out


# R 4.x: d <- hsb[hsb$id < 2000, ]; lm(mathach ~ ses + size + pracad + disclim); the t^2 and
# p-values of size, pracad, disclim, then p.adjust(p, "bonferroni"/"holm") and 1-(1-p)^3.
R_F = [0.35939177897622, 39.80621735929816, 2.66863462754200]
R_P = [5.49037926498031e-01, 4.96853179552696e-10, 1.02792803142027e-01]
R_ADJ = {"bonferroni": [1.0, 1.49055953865809e-09, 3.08378409426081e-01],
         "holm": [5.49037926498031e-01, 1.49055953865809e-09, 2.05585606284054e-01],
         "sidak": [9.08289289916751e-01, 1.49055967568756e-09, 2.77765474094937e-01]}


@pytest.mark.parametrize("method", ["bonferroni", "holm", "sidak"])
def test_mtest_adjustments_match_r(method):
    s = _session()
    ok(s, "quietly regress mathach ses size pracad disclim if id < 2000")
    out = ok(s, f"test size pracad disclim, mtest({method[:1]})")
    m = s.r.matrices["mtest"]
    vals = np.asarray(m.values if hasattr(m, "values") else m, dtype=float)
    assert list(m.colnames) == ["F", "df", "df_r", "p", "adjp"]
    np.testing.assert_allclose(vals[:, 0], R_F, rtol=1e-8)
    np.testing.assert_allclose(vals[:, 3], R_P, rtol=1e-6)
    np.testing.assert_allclose(vals[:, 4], R_ADJ[method], rtol=1e-6)
    assert vals[0, 2] == 701
    label = {"bonferroni": "Bonferroni", "holm": "Holm", "sidak": "Sidak"}[method]
    lines = out.splitlines()
    assert f"# {label}-adjusted p-values" in lines[-1] and len(lines[-1].rstrip()) == 37
    assert any(ln.startswith("       |  F(df,701)     df") for ln in lines)
    assert any(ln.startswith("  all  |") for ln in lines)


def test_mtest_plain_and_chi2_layout():
    s = _session()
    ok(s, "quietly mixed mathach ses female || id:")
    out = ok(s, "test ses female, mtest")
    lines = out.splitlines()
    assert "       |       chi2     df        p" in lines
    assert lines[-1].rstrip() == "                # unadjusted p-values"
    row = next(ln for ln in lines if ln.startswith("  (1)  |"))
    assert row.endswith(" #") and len(row) == 37


def test_df_option_and_matvlc():
    s = _session()
    ok(s, "quietly mixed mathach ses || id:")
    ok(s, "test ses")
    chi2 = s.r.scalars["chi2"]
    out = ok(s, "test ses, df(50)")
    assert s.r.scalars["F"] == pytest.approx(chi2) and s.r.scalars["df_r"] == 50
    assert s.r.scalars["p"] == pytest.approx(stats.f.sf(chi2, 1, 50), rel=1e-10)
    assert "F(  1,    50)" in out
    ok(s, "test ses, matvlc(W)")
    V = np.asarray(s.e.V, dtype=float)
    j = [nm for _, nm in s.e.names].index("ses")
    W = s.matrices["W"]
    assert np.asarray(W.values if hasattr(W, "values") else W, dtype=float)[0, 0] == pytest.approx(V[j, j])


@pytest.mark.parametrize("line, rc", [
    ("test ses, mtest(nonsense)", 198),
    ("test ses, df(0)", 198),
    ("test ses, df(abc)", 198),
    ("test [nosuch]", 303),
    ("test [#7]", 303),
    ("test [mathach=]", 198),
])
def test_bad_options_leave_results(line, rc):
    s = _session()
    ok(s, "quietly regress mathach ses female")
    ok(s, "test ses")
    before = dict(s.r.scalars)
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert dict(s.r.scalars) == before
