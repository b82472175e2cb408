"""areg ..., absorb(): slopes and SEs of the dummy-variable regression, its R-squared, adjusted
R-squared, root MSE, model F and the F test of the absorbed indicators — all checked against an
explicit numpy least-squares fit with one dummy per group; Stata 17's header and footer."""
import numpy as np
import pytest
from scipy import stats

from hlmshell.session import Session
from session_run import ok, run


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, "use hsb")
    return s


def test_against_dummy_regression(s):
    out = ok(s, "areg mathach ses female, absorb(id)")
    col = lambda n: np.asarray(s.data.var(n).values, float)  # noqa: E731
    y, ids = col("mathach"), col("id")
    _, g = np.unique(ids, return_inverse=True)
    D = np.eye(g.max() + 1)[g]
    X = np.column_stack([col("ses"), col("female"), D])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    rss = float(np.sum((y - X @ beta) ** 2))
    N, G = len(y), D.shape[1]
    df_r = N - 2 - G
    s2 = rss / df_r
    V = s2 * np.linalg.inv(X.T @ X)
    e = s.e
    assert e.scalars["df_r"] == df_r and e.scalars["k_absorb"] == G
    np.testing.assert_allclose(e.b[:2], beta[:2], rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(e.V))[:2], np.sqrt(np.diag(V))[:2], rtol=1e-8)
    tss = float(np.sum((y - y.mean()) ** 2))
    assert e.scalars["r2"] == pytest.approx(1 - rss / tss, rel=1e-10)
    assert e.scalars["r2_a"] == pytest.approx(1 - (rss / df_r) / (tss / (N - 1)), rel=1e-10)
    Xp = np.column_stack([col("ses"), col("female"), np.ones(N)])
    rss_p = float(np.sum((y - Xp @ np.linalg.lstsq(Xp, y, rcond=None)[0]) ** 2))
    F_a = ((rss_p - rss) / (G - 1)) / s2
    assert e.scalars["F_absorb"] == pytest.approx(F_a, rel=1e-8)
    assert e.scalars["p_absorb"] == pytest.approx(stats.f.sf(F_a, G - 1, df_r), abs=1e-12)
    lines = out.splitlines()
    assert any(ln.startswith("Linear regression, absorbing indicators") and "Number of obs" in ln
               for ln in lines)
    assert any(ln.startswith("Absorbed variable: id") and "No. of categories =        160" in ln
               for ln in lines)
    assert lines[-1].startswith(f"F test of absorbed indicators: F({G - 1}, {df_r}) = ")
    assert "Prob > F = 0.000" in lines[-1]


@pytest.mark.parametrize("line,rc", [("areg mathach ses", 198), ("areg mathach ses, absorb(nosuch)", 111),
                                     ("areg mathach ses, absorb(id) vce(bogus)", 198),
                                     ("areg mathach ses, absorb(id) vce(cluster)", 198),
                                     ("areg mathach ses, absorb(id) vce(ols) robust", 198),
                                     ("areg mathach ses, absorb(id) vce(cluster nosuch)", 111),
                                     ("areg mathach ses, absorb(id sector)", 103)])
def test_errors(s, line, rc):
    before = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert s.e is before


def _dummy_sandwich(s, clusters=None):
    """HC1 / cluster-robust VCE of the slopes of y on x and one dummy per school, computed
    densely (Stata's regress with the indicators): N/(N-K), or G/(G-1)(N-1)/(N-K)."""
    col = lambda n: np.asarray(s.data.var(n).values, float)  # noqa: E731
    y, ids = col("mathach"), col("id")
    _, g = np.unique(ids, return_inverse=True)
    X = np.column_stack([col("ses"), col("female"), np.eye(g.max() + 1)[g]])
    XtXi = np.linalg.inv(X.T @ X)
    e = y - X @ (XtXi @ X.T @ y)
    N, K = X.shape
    if clusters is None:
        meat = (X * e[:, None] ** 2).T @ X
        q = N / (N - K)
    else:
        _, c = np.unique(clusters, return_inverse=True)
        S = np.zeros((c.max() + 1, K))
        np.add.at(S, c, X * e[:, None])
        meat = S.T @ S
        M = c.max() + 1
        q = M / (M - 1) * (N - 1) / (N - K)
    return q * XtXi @ meat @ XtXi, N - K


def test_robust_and_cluster_match_regress_with_indicators(s):
    V, df_r = _dummy_sandwich(s)
    out = ok(s, "areg mathach ses female, absorb(id) vce(robust)")
    e = s.e
    np.testing.assert_allclose(e.V[:2, :2], V[:2, :2], rtol=1e-8)
    assert e.scalars["df_r"] == df_r and e.macros["vcetype"] == "Robust"
    assert "Robust" in out and "F test of absorbed" not in out and "F_absorb" not in e.scalars
    ok(s, "capture drop grp")
    ok(s, "gen grp = mod(id, 37)")
    V, _ = _dummy_sandwich(s, np.asarray(s.data.var("grp").values, float))
    out = ok(s, "areg mathach ses female, absorb(id) vce(cluster grp)")
    e = s.e
    np.testing.assert_allclose(e.V[:2, :2], V[:2, :2], rtol=1e-8)
    assert e.scalars["N_clust"] == 37 and e.scalars["df_r"] == 36 and e.macros["clustvar"] == "grp"
    b = e.b[:2]
    W = float(b @ np.linalg.solve(V[:2, :2], b)) / 2
    assert e.scalars["F"] == pytest.approx(W, rel=1e-8)
    assert e.scalars["p"] == pytest.approx(stats.f.sf(W, 2, 36), rel=1e-8, abs=1e-300)
    assert "(Std. err. adjusted for 37 clusters in grp)" in out
    ok(s, "areg mathach ses female, absorb(id) cluster(grp)")
    np.testing.assert_allclose(s.e.V[:2, :2], V[:2, :2], rtol=1e-8)
