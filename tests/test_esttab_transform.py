"""esttab options of a real do-file (33_ziller_day2: `esttab M0 M1 using "Table_1.rtf", b(3)
star(* 0.05 ** 0.01) nogap varwidth(25) se label stats(N r2) transform(ln*: exp(@) exp(@))`):
transform() as estout documents it (b -> fx(b), se -> |dfx(b)| se, t and p unchanged),
stats() with fmt() and labels(), varwidth()/modelwidth(); numbers recomputed here from e(b)
and e(V) with numpy."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, "use hsb")
    ok(s, "eststo M0: quietly mixed mathach || id:")
    ok(s, "eststo M1: quietly mixed mathach ses || id:")
    ok(s, "eststo M2: quietly regress mathach ses")
    return s


def _raw(res, eq, name):
    j = res.coef_index(eq, name)
    return float(res.b[j]), math.sqrt(float(np.asarray(res.V)[j, j]))


def _row(out: str, label: str) -> list[str]:
    line = next(ln for ln in out.splitlines() if ln.startswith(label))
    return line[len(label):].split()


def test_transform_exp_of_log_sds(s):
    rc, out = run(s, "esttab M0 M1 M2, b(3) se star(* 0.05 ** 0.01) nogap "
                     "transform(ln*: exp(@) exp(@))")
    assert rc == 0, out
    lines = out.strip("\n").splitlines()
    for eq in ("lns1_1_1", "lnsig_e"):
        i = next(k for k, ln in enumerate(lines) if ln.strip() == eq)
        cells, ses = lines[i + 1].split()[1:], lines[i + 2].split()
        for k, name in enumerate(("M0", "M1")):
            b, se = _raw(s.estimates[name], eq, "_cons")
            assert cells[k].rstrip("*") == f"{math.exp(b):.3f}"
            assert ses[k] == f"({math.exp(b) * se:.3f})"
            assert cells[k].endswith("**")            # the raw coefficient's p-value
    # coefficients outside ln*: untouched
    b, se = _raw(s.estimates["M1"], "mathach", "ses")
    assert _row(out, "ses")[0].rstrip("*") == f"{b:.3f}"
    # a pair without coefs applies to every coefficient; t statistics stay the raw ones
    rc, out = run(s, "esttab M2, transform(2*@ 2)")
    b, se = _raw(s.estimates["M2"], "mathach", "ses")
    assert _row(out, "ses")[0].rstrip("*") == f"{2 * b:.3f}"
    tline = next(ln for ln in out.splitlines() if ln.startswith("ses"))
    t_text = out.splitlines()[out.splitlines().index(tline) + 1].strip()
    assert t_text == f"({b / se:.2f})"


def test_stats_varwidth_and_the_rtf_file(s, tmp_path):
    path = tmp_path / "Table_1.rtf"
    rc, out = run(s, f'esttab M0 M1 M2 using "{path}", b(3) star(* 0.05 ** 0.01) nogap '
                     "varwidth(25) se label stats(N r2) transform(ln*: exp(@) exp(@)) replace")
    assert rc == 0, out
    text = path.read_text()
    assert text.startswith("{\\rtf1")
    b, _se = _raw(s.estimates["M0"], "lns1_1_1", "_cons")
    assert f"{math.exp(b):.3f}" in text
    r2 = s.estimates["M2"].scalars["r2"]
    rc, out = run(s, "esttab M0 M2, se varwidth(25) stats(N r2 ll, fmt(0 3) "
                     'labels("Observations" "R2"))')
    lines = out.strip("\n").splitlines()
    obs = next(ln for ln in lines if ln.startswith("Observations"))
    assert obs[25:].split() == ["7185", "7185"]
    assert next(ln for ln in lines if ln.startswith("R2")).split()[1:] == [f"{r2:.3f}"]
    ll = [s.estimates[n].scalars["ll"] for n in ("M0", "M2")]
    assert next(ln for ln in lines if ln.startswith("ll ")).split()[1:] == [f"{v:.3f}" for v in ll]
    assert not any(ln.startswith("N ") for ln in lines)        # stats() replaces N
    width = len(lines[0])
    assert width == 25 + 2 * (1 + 12 + 3)
    rc, out = run(s, "esttab M2, modelwidth(20) varwidth(8)")
    assert len(out.strip("\n").splitlines()[0]) == 8 + 1 + 20 + 3


@pytest.mark.parametrize("opts,rc", [
    ("transform(exp(@))", 198), ("transform(ln*: exp(@))", 198), ("transform(ln*:)", 198),
    ("transform(nosuchfn(@) 1)", 133), ("varwidth(abc)", 198), ("modelwidth(-1)", 198),
    ("stats(N, foo(1))", 198), ("stats(N, fmt(%9.3x))", 198), ("stats()", 198),
])
def test_bad_options(s, opts, rc, tmp_path):
    got, out = run(s, f"esttab M0 M1 using {tmp_path / 'x.rtf'}, {opts}")
    assert got == rc, out
    assert not (tmp_path / "x.rtf").exists()
