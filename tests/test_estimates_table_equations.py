"""estimates table: regress results (no equation names in Stata's e(b)) match coefficients by
name across models; equations(1) matches first equations by position (logit's are named after
the dependent variable), equations(name = 1:1) names the match; a missing equation is r(303)."""
import pytest

from hlmshell.session import Session
from session_run import ok, run


@pytest.fixture(scope="module")
def s():
    s = Session()
    ok(s, "use hsb")
    ok(s, "generate hi = mathach > 13")
    ok(s, "quietly regress mathach ses\nestimates store r1")
    ok(s, "quietly regress ses mathach\nestimates store r2")
    ok(s, "quietly logit hi ses\nestimates store l1")
    ok(s, "quietly logit minority ses\nestimates store l2")
    return s


def body(out):
    return [ln.split("|")[0].strip() for ln in out.splitlines() if "|" in ln][1:]


def test_regress_models_share_one_block(s):
    out = ok(s, "estimates table r1 r2")
    assert body(out) == ["mathach", "ses", "_cons"] or body(out) == ["ses", "mathach", "_cons"]


def test_equations_by_position(s):
    out = ok(s, "estimates table l1 l2")
    assert "hi" in body(out) and "minority" in body(out)          # two equation blocks
    out = ok(s, "estimates table l1 l2, equations(1)")
    rows = body(out)
    assert "hi" not in rows and "minority" not in rows and rows.count("ses") == 1   # one block
    e1, e2 = s.estimates["l1"], s.estimates["l2"]
    line = next(ln for ln in out.splitlines() if ln.split("|")[0].strip() == "ses")
    vals = [float(v) for v in line.split("|")[1].split()]
    assert vals == pytest.approx([e1.b[0], e2.b[0]], rel=1e-6)
    ok(s, "estimates table l1 l2, equations(main = 1:1)")
    rc, out = run(s, "estimates table l1 l2, equations(2)")
    assert rc == 303
    rc, out = run(s, "estimates table l1 l2, equations(a:b)")
    assert rc == 198
