"""The LR test against the one-level model counts free random-effects parameters, as mixed's
test does: exchangeable's equal variances once (chi2(2) for two effects), identity's once
(chibar2(01)), whatever the number of rows the table shows."""
import pytest
from scipy import stats

from hlmshell.session import Session
from session_run import ok


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, "use hsb")
    ok(s, "generate hi = mathach > 13")
    return s


@pytest.mark.parametrize("re,df", [("|| id: ses, cov(exchangeable)", 2),
                                   ("|| id: ses, cov(identity)", 1),
                                   ("|| id: ses, cov(unstructured)", 3),
                                   ("|| sector: || id: ses, cov(exchangeable)", 3)])
def test_lr_df_counts_free_parameters(s, re, df):
    out = ok(s, f"melogit hi ses {re} intmethod(laplace) nolog")
    e = s.e.scalars
    assert e["df_c"] == df
    p = stats.chi2.sf(e["chi2_c"], df)
    if df == 1:
        assert "chibar2(01)" in out and e["p_c"] == pytest.approx(p / 2, rel=1e-9, abs=1e-300)
    else:
        assert f"chi2({df}) =" in out and e["p_c"] == pytest.approx(p, rel=1e-9, abs=1e-300)
