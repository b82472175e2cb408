"""esttab/estout unstack, estout equations() with cells(), the _star element, nolz and
keep(..., relax) (hlmshell/commands/esttab_unstack.py, esttab.py, esttab_cells.py).
Numbers: correlations and their p-values from numpy/scipy; mlogit coefficients from e(b)."""
import numpy as np
import pytest
from scipy import stats

from hlmshell.session import Session
from tests.session_run import ok, run

VARS = ["mathach", "ses", "female", "minority"]


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, "use hsb")
    ok(s, "xtile g = mathach, nq(3)")
    ok(s, "quietly mlogit g ses female")
    ok(s, "estimates store m1")
    ok(s, "quietly mlogit g ses")
    ok(s, "estimates store m3")
    return s


def _rows(out):
    return {ln.split()[0]: ln.split()[1:] for ln in out.splitlines() if ln.split() and ln.split()[0] in VARS}


def test_correlation_matrix_unstacked(s):
    ok(s, "estpost correlate mathach ses female minority, matrix quietly")
    out = ok(s, 'esttab, c("b (fmt(3)) _star") unstack not noobs compress nolz')
    rows = _rows(out)
    d = {v: np.asarray(s.data.var(v).values, dtype=float) for v in VARS}
    for i, a in enumerate(VARS):
        cells = rows[a]
        k = 0
        for b in VARS[: i + 1]:
            r, p = stats.pearsonr(d[a], d[b])
            want = f"{r:.3f}".replace("0.", ".", 1) if a != b else "1.000"
            assert cells[k] == want
            k += 1
            if a != b and p < 0.001:
                assert cells[k] == "***"
                k += 1
            elif a != b and p >= 0.05:
                assert not cells[k:k + 1] or not cells[k].startswith("*")
        assert len(cells) == k                 # upper triangle empty
    head = [ln for ln in out.splitlines() if "mathach" in ln and "minority" in ln][0]
    assert head.split() == VARS
    lines = out.splitlines()
    k = lines.index(head)
    assert lines[k - 2].split() == ["(1)"]      # the model number once, over all its columns
    assert lines[k - 1].strip() == ""          # estpost posts no dependent variable


def test_unstack_mlogit_columns(s):
    out = ok(s, "esttab m1 m3, unstack b(%9.4f) nostar")
    b1 = s.estimates["m1"]
    names = [n for _, n in b1.names]
    lines = [ln for ln in out.splitlines() if ln.startswith("ses ")]
    assert len(lines) == 1                     # one row for ses across the equations
    want = [np.asarray(b1.b)[i] for i, (e, n) in enumerate(b1.names) if n == "ses"]
    got = [float(x) for x in lines[0].split()[1:]]
    assert len(want) == 2 and len(got) == 6     # base, two outcome equations; then m3's
    assert got[0] == 0 and np.allclose(got[1:3], want, atol=5e-5)
    nums = [ln for ln in out.splitlines() if "(1)" in ln][0].split()
    assert nums == ["(1)", "(2)"]              # one number per model, not per equation
    nrow = [ln for ln in out.splitlines() if ln.startswith("N ")][0].split()
    assert nrow[1:] == ["7185", "7185"]        # statistics in each model's first column


def test_estout_equations_with_cells(s):
    out = ok(s, "estout m1 m3, equations(3:3) cells(b(fmt(4))) keep(#1:ses, relax)")
    b1, b3 = s.estimates["m1"], s.estimates["m3"]
    i1 = [i for i, (e, n) in enumerate(b1.names) if e == "3" and n == "ses"][0]
    i3 = [i for i, (e, n) in enumerate(b3.names) if e == "3" and n == "ses"][0]
    line = [ln for ln in out.splitlines() if ln.startswith("ses")][0].split()
    assert float(line[1]) == pytest.approx(b1.b[i1], abs=5e-5)
    assert float(line[2]) == pytest.approx(b3.b[i3], abs=5e-5)
    assert len([ln for ln in out.splitlines() if ln.startswith("ses")]) == 1


def test_nolz_and_estout_unstack(s):
    out = ok(s, "estout m3, unstack cells(b(fmt(3))) nolz")
    assert "0." not in out.replace("0.0", "")
    rc, out = run(s, "esttab m1, unstack nosuch")
    assert rc == 198
    rc, out = run(s, "esttab m1, unstack(1)")
    assert rc == 198


def test_vacant_dmarker_layout(s):
    out = ok(s, 'estout m1 m3, cells(b(fmt(3) vacant("--")) se(par fmt(3) vacant("--"))) '
                'stats(ll N, fmt(3 0) layout(@ @)) dmarker(",")')
    b1 = s.estimates["m1"]
    i = [k for k, (e, n) in enumerate(b1.names) if e == "2" and n == "female"][0]
    rows = [ln for ln in out.splitlines() if ln.startswith("female")]
    assert rows[0].split() == [f"female", f"{b1.b[i]:.3f}".replace(".", ","), "--"]
    ll = [ln for ln in out.splitlines() if ln.startswith("ll")][0].split()
    assert ll[1] == f"{b1.scalars['ll']:.3f}".replace(".", ",")
    rc, out = run(s, 'estout m1, stats(ll N, layout("@ (@)"))')
    assert rc == 198 and "layout()" in out
    rc, out = run(s, 'esttab m1, dmarker(",,")')
    assert rc == 198
