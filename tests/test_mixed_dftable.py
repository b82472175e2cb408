"""mixed, dfmethod() ... dftable(pvalue|ci|default), at estimation and on replay: the DF column
holds e(df), t and P>|t| (or the interval) come from the t distribution with that DF (checked
with scipy), a bad word is r(198)."""
import numpy as np
import pytest
from scipy import stats

from hlmshell.session import Session
from session_run import ok, run


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, "use hsb")
    ok(s, "mixed mathach ses sector || id:, reml dfmethod(satterthwaite) nolog")
    return s


def rows(out, names):
    got = {}
    for ln in out.splitlines():
        head, _, rest = ln.partition("|")
        if head.strip() in names and rest.split():
            got[head.strip()] = rest.split()
    return got


def test_pvalue_and_ci_tables(s):
    e = s.e
    df = np.asarray(e.matrices["df"], float).reshape(-1)
    b = np.asarray(e.b[:3], float)
    se = np.sqrt(np.diag(np.asarray(e.V, float))[:3])
    out = ok(s, "mixed, dftable(pvalue)")
    assert "Coefficient  Std. err.      DF        t    P>|t|" in out
    r = rows(out, ["ses", "sector", "_cons"])
    for k, nm in enumerate(["ses", "sector", "_cons"]):
        cells = r[nm]
        assert float(cells[2]) == pytest.approx(df[k], abs=0.051)
        assert float(cells[3]) == pytest.approx(b[k] / se[k], abs=0.006)
        assert float(cells[4]) == pytest.approx(2 * stats.t.sf(abs(b[k] / se[k]), df[k]), abs=5e-4)
    out = ok(s, "mixed, dftable(ci) level(90)")
    assert "DF     [90% conf. interval]" in out
    r = rows(out, ["ses"])["ses"]
    crit = stats.t.isf(0.05, df[0])
    assert float(r[3]) == pytest.approx(b[0] - crit * se[0], rel=1e-6)
    out = ok(s, "mixed, dftable(default)")
    assert "      t    P>|t|     [95% conf. interval]" in out
    rc, out = run(s, "mixed, dftable(bogus)")
    assert rc == 198
