"""margins, saving(file[, replace]) writes the margins as a Stata dataset with Stata's
variable names (_margin _se _statistic _pvalue _ci_lb _ci_ub, _by#, _m#, _at#, _deriv,
_term, _at); the numbers checked against an independent least-squares fit and the delta
method done here with numpy (44_grogan: margins, over(intervention) saving(mymargins.dta,
replace))."""
from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import stats

from hlmshell.data.dta import read_dta
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture()
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly regress mathach i.sector##c.ses female")
    return s


def _reference(s, groups):
    """Predictive margins over groups: mean of X b within each group; se sqrt(J V J')."""
    d = s.data
    col = {n: np.asarray(d.var(n).values, float) for n in ("mathach", "sector", "ses", "female")}
    X = np.column_stack([np.ones(d.n), col["sector"], col["ses"], col["sector"] * col["ses"],
                         col["female"]])
    y = col["mathach"]
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ b
    df = d.n - X.shape[1]
    V = resid @ resid / df * np.linalg.inv(X.T @ X)
    out = []
    for g in groups:
        J = X[g].mean(axis=0)
        m, se = J @ b, np.sqrt(J @ V @ J)
        out.append((m, se, df))
    return out


def test_over_saving_matches_the_delta_method(s):
    out = ok(s, "margins, over(sector) saving(mymargins.dta, replace)")
    assert "Predictive margins" in out
    m = read_dta("mymargins.dta")
    sector = np.asarray(s.data.var("sector").values, float)
    ref = _reference(s, [sector == 0, sector == 1])
    assert list(m.var("_by1").values) == [0, 1]
    assert m.var("_by1").chars == {"varname": "sector"}
    assert m.dta_chars["by_vars"] == "sector"
    tcrit = stats.t.ppf(0.975, ref[0][2])
    for i, (mv, se, df) in enumerate(ref):
        assert m.var("_margin").values[i] == pytest.approx(mv, rel=1e-9)
        assert m.var("_se").values[i] == pytest.approx(se, rel=1e-7)
        assert m.var("_statistic").values[i] == pytest.approx(mv / se, rel=1e-7)
        assert m.var("_pvalue").values[i] == pytest.approx(2 * stats.t.sf(abs(mv / se), df),
                                                           abs=1e-12)
        assert m.var("_ci_lb").values[i] == pytest.approx(mv - tcrit * se, rel=1e-8)
        assert m.var("_ci_ub").values[i] == pytest.approx(mv + tcrit * se, rel=1e-8)
    assert m.var("_margin").label == "Linear prediction"
    # the data in memory untouched; without replace the file is not overwritten
    assert "_margin" not in s.data.names
    rc, out = run(s, "margins, over(sector) saving(mymargins.dta)")
    assert rc == 602 and "already exists" in out


def test_marginlist_at_and_derivatives(s):
    ok(s, "margins sector, at(ses=(-1 1)) saving(m2)")
    assert os.path.exists("m2.dta")
    m = read_dta("m2.dta")
    t = s.r.matrices["table"]
    assert np.allclose(m.var("_margin").values, np.asarray(t.values)[0])
    assert list(m.var("_at").values) == [1, 1, 2, 2]
    assert list(m.var("_m1").values) == [0, 1, 0, 1]
    k = m.dta_chars["at_vars"].split().index("ses") + 1
    assert list(m.var(f"_at{k}").values) == [-1, -1, 1, 1]
    assert m.dta_chars["margin_vars"] == "sector" and m.dta_chars["k_at"] == "2"
    ok(s, "margins, dydx(ses female) saving(m3, replace)")
    m = read_dta("m3.dta")
    assert [m.value_labels["_deriv"][v] for v in m.var("_deriv").values] == ["ses", "female"]
    # dy/dx of ses averages b_ses + b_int * sector
    d = s.data
    sector = np.asarray(d.var("sector").values, float)
    b = s.e.b
    names = [n for _eq, n in s.e.names]
    want = b[names.index("ses")] + b[names.index("1.sector#c.ses")] * sector.mean()
    assert m.var("_margin").values[0] == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("opt,rc", [("saving()", 198), ("saving(a b)", 198),
                                    ("saving(x, nosuch)", 198)])
def test_bad_saving(s, opt, rc):
    got, _out = run(s, f"margins, over(sector) {opt}")
    assert got == rc
    assert not os.listdir(".")
