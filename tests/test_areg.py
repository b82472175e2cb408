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
                                     ("areg mathach ses, absorb(id) vce(robust)", 198),
                                     ("areg mathach ses, absorb(id sector)", 103)])
def test_errors(s, line, rc):
    before = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert s.e is before
