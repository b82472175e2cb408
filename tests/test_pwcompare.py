"""pwcompare (issue 14): pairwise comparisons of balanced margins of the linear prediction,
against R's emmeans pairs() (equal-weight reference grid = Stata's asbalanced) with the
adjustments none, bonferroni, sidak, scheffe and tukey, on hsb (sector#female cells) and
bodyweight (diet), after regress and ML mixed. R code: tests/data/margins/contrast_reference.R.
Mixed fits: see tests/test_contrast.py for why 2e-6."""
from __future__ import annotations

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run
from tests.test_contrast import BODY_MODELS, HSB_MODELS, REF, REL, _session, close, rmat

# emmeans orders the sector x female cells with sector fastest: (0,0) (1,0) (0,1) (1,1); its
# pairs (reversed: later minus earlier) are 2-1, 3-1, 3-2, 4-1, 4-2, 4-3. Stata's cells go
# (0,0) (0,1) (1,0) (1,1); our pair (i, j) is cell j minus cell i in that order.
_EMM_CELL = {(0, 0): 1, (1, 0): 2, (0, 1): 3, (1, 1): 4}
_STATA_CELLS = [(0, 0), (0, 1), (1, 0), (1, 1)]


def _emm_index():
    pairs = [(2, 1), (3, 1), (3, 2), (4, 1), (4, 2), (4, 3)]
    out = []
    for i in range(4):
        for j in range(i + 1, 4):
            a = _EMM_CELL[_STATA_CELLS[j]]
            b = _EMM_CELL[_STATA_CELLS[i]]
            k = pairs.index((a, b)) if (a, b) in pairs else pairs.index((b, a))
            out.append((k, 1.0 if (a, b) in pairs else -1.0))
    return out


@pytest.fixture(scope="module", params=["regress", "mixed"])
def hsb(request):
    return request.param, _session("use hsb", HSB_MODELS[request.param])


@pytest.fixture(scope="module", params=["regress", "mixed"])
def body(request):
    return request.param, _session("import delimited using tests/data/resid/bodyweight.csv, clear",
                                   BODY_MODELS[request.param])


def vclose(a, b, rel):
    """Variance matrices: relative to their largest entry (zero covariances stay ~1e-15)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert np.allclose(a, b, rtol=rel, atol=rel * np.abs(b).max()), (a, b)


def _check_vs(s, ref, rel, index=None):
    T = rmat(s, "table_vs")
    idx = index or [(k, 1.0) for k in range(T.shape[1])]
    est = np.array([ref["estimate"][k] * sg for k, sg in idx])
    lo = np.array([ref["lo"][k] if sg > 0 else -ref["hi"][k] for k, sg in idx])
    hi = np.array([ref["hi"][k] if sg > 0 else -ref["lo"][k] for k, sg in idx])
    close(T[0], est, rel)
    close(T[1], [ref["se"][k] for k, _ in idx], rel)
    close(T[4], lo, rel)
    close(T[5], hi, rel)
    p = np.array([ref["p"][k] for k, _ in idx])
    pos = p > 1e-10                      # R's ptukey is accurate to ~1e-14 absolute only
    close(np.log(T[3][pos]), np.log(p[pos]), 1e-5)       # p's own rel. error grows with z^2


@pytest.mark.parametrize("method,key", [("noadjust", "pw"), ("bonferroni", "pw_bonf"),
                                        ("sidak", "pw_sidak"), ("scheffe", "pw_scheffe"),
                                        ("tukey", "pw_tukey")])
def test_diet_against_emmeans(body, method, key):
    kind, s = body
    R = REF[f"body_{kind}"]
    ok(s, f"pwcompare diet, mcompare({method}) effects")
    _check_vs(s, R[key], REL[kind])
    close(rmat(s, "b")[0], R["emm"]["emmean"], REL[kind])
    vclose(rmat(s, "V"), R["emm"]["V"], REL[kind])
    assert s.r.matrices["b_vs"].colnames == ["2vs1.diet", "3vs1.diet", "3vs2.diet"]
    if method == "tukey":                # tiny p: between the unadjusted and the Bonferroni p
        p = rmat(s, "table_vs")[3]
        ok(s, "pwcompare diet, mcompare(bonferroni)")
        pb = rmat(s, "table_vs")[3]
        assert np.all(p <= pb * (1 + 1e-9)) and np.all(p >= pb / 3 * (1 - 1e-9))
        small = pb < 1e-10
        close(p[small], pb[small], 1e-3)     # the union bound is tight out there


@pytest.mark.parametrize("method,key", [("noadjust", "pw_cells"), ("bonferroni", "pw_cells_bonf"),
                                        ("sidak", "pw_cells_sidak"), ("scheffe", "pw_cells_scheffe")])
def test_cells_against_emmeans(hsb, method, key):
    kind, s = hsb
    R = REF[f"hsb_{kind}"]
    ok(s, f"pwcompare sector#female, mcompare({method})")
    _check_vs(s, R[key], REL[kind], _emm_index())
    order = [_EMM_CELL[c] - 1 for c in _STATA_CELLS]
    close(rmat(s, "b")[0], [R["emm_cells"]["emmean"][k] for k in order], REL[kind])
    V = np.asarray(R["emm_cells"]["V"])
    vclose(rmat(s, "V"), V[np.ix_(order, order)], REL[kind])


def test_layout():
    s = _session("use hsb", HSB_MODELS["regress"])
    ok(s, "label define sec 0 Public 1 Catholic")
    ok(s, "label values sector sec")
    out = ok(s, "pwcompare sector")
    lines = out.splitlines()
    i = lines.index("Pairwise comparisons of marginal linear predictions")
    assert lines[i + 2] == "Margins: asbalanced"
    assert any("Unadjusted" in ln for ln in lines)
    assert any(ln.startswith("Catholic vs Public  |   1.970269   .1518335") for ln in lines)
    assert "Number of" not in out
    out = ok(s, "pwcompare sector#female, mcompare(bonferroni) effects")
    assert "Number of" in out and "Bonferroni" in out and "P>|t|" in out
    assert "sector#female |            6" in out
    assert "(Catholic 1) vs (Public 0)" in out
    out = ok(s, "pwcompare sector, cimargins")
    assert "Margin   Std. err." in out and "Public  |   11.81627" in out


def test_groups_letters():
    s = _session("import delimited using tests/data/resid/bodyweight.csv, clear",
                 BODY_MODELS["mixed"])
    out = ok(s, "pwcompare diet, groups")
    rows = [ln for ln in out.splitlines() if ln.strip().startswith(("1  |", "2  |", "3  |"))]
    # diet 1 differs from 2 and 3 (p < 1e-20); 2 and 3 do not differ at 5% (p = .079)
    assert [r.split()[-1] for r in rows] == ["A", "B", "B"]
    out = ok(s, "pwcompare diet, groups level(90)")   # at 10% 2 and 3 differ too
    rows = [ln for ln in out.splitlines() if ln.strip().startswith(("1  |", "2  |", "3  |"))]
    assert [r.split()[-1] for r in rows] == ["A", "B", "C"]
    assert "different at the 10% level" in out


def test_post():
    s = _session("use hsb", HSB_MODELS["regress"])
    ok(s, "pwcompare sector#female, post")
    assert s.e.cmd == "pwcompare"
    assert [n for _, n in s.e.names] == ["0.sector#0.female", "0.sector#1.female",
                                         "1.sector#0.female", "1.sector#1.female"]
    assert "b_vs" in s.e.matrices


@pytest.mark.parametrize("line,rc", [
    ("pwcompare", 100), ("pwcompare r.sector", 198), ("pwcompare ses", 198),
    ("pwcompare nosuch", 111), ("pwcompare sector@female", 198),
    ("pwcompare sector, cimargins groups", 198), ("pwcompare sector, mcompare(dunnett)", 198),
    ("pwcompare sector, level(100)", 198), ("pwcompare sector, nowald", 198),
])
def test_bad_input_leaves_session_alone(line, rc):
    s = _session("use hsb", HSB_MODELS["regress"])
    ok(s, "pwcompare sector")
    e, b = s.e, rmat(s, "b_vs").copy()
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert s.e is e and np.array_equal(rmat(s, "b_vs"), b)


def test_no_estimates():
    s = Session()
    ok(s, "use hsb")
    assert run(s, "pwcompare sector")[0] == 301
