"""svyset (declare, report, clear; stored in the data's characteristics), svydescribe (strata
and sampling units, checked against pandas), and `svy:` without a design (r(119)); svy estimation itself is tests/test_svy.py."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s():
    sess = Session()
    ok(sess, "use hsb")
    ok(sess, "generate w = 1 + mod(_n, 3)")
    ok(sess, 'generate str3 sname = "s" + string(mod(id, 4))')
    ok(sess, "replace w = . in 1/5")
    return sess


STATA_LAYOUT = [
    "",
    "Sampling weights: w",
    "             VCE: linearized",
    "     Single unit: missing",
    "        Strata 1: sector",
    " Sampling unit 1: id",
    "           FPC 1: <zero>",
]


def test_svyset_reports_as_stata_and_stores_r(s):
    assert ok(s, "svyset").strip() == "no survey characteristics are set"
    out = ok(s, "svyset id [pweight=w], strata(sector)")
    assert out.splitlines() == STATA_LAYOUT
    assert s.r.macros["su1"] == "id" and s.r.macros["strata1"] == "sector"
    assert s.r.macros["wtype"] == "pweight" and s.r.macros["wvar"] == "w"
    assert s.r.scalars["stages"] == 1.0
    assert ok(s, "svyset").splitlines() == STATA_LAYOUT          # the report
    assert s.data.char("_dta", "_svy_su1") == "id"               # kept with the data
    ok(s, "svyset, clear")
    assert ok(s, "svyset").strip() == "no survey characteristics are set"


def test_svyset_old_psu_option_fpc_stages_and_global_options(s):
    out = ok(s, "svyset [pw=w], strata(sector) psu(id) fpc(w)")
    assert " Sampling unit 1: id" in out and "           FPC 1: w" in out
    out = ok(s, "svyset id, strata(sname) || _n")
    assert out.splitlines()[0].startswith("note: stage 1 is sampled with replacement")
    assert "Sampling unit 2: <observations>" in out and "Sampling weights: <none>" in out
    out = ok(s, "svyset, vce(jack) mse singleunit(centered)")
    assert "             VCE: jackknife" in out and "             MSE: on" in out
    assert "     Single unit: centered" in out and " Sampling unit 1: <observations>" in out


def _reference(s, strata):
    d = pd.DataFrame({"id": s.data.var("id").values, "h": s.data.var(strata).values,
                      "w": s.data.var("w").values}).dropna()
    per_unit = d.groupby(["h", "id"]).size()
    return per_unit


def test_svydescribe_counts_match_pandas(s):
    ok(s, "svyset id [pweight=w], strata(sname)")
    out = ok(s, "svydescribe")
    ref = _reference(s, "sname")
    lines = out.splitlines()
    assert "Survey: Describing stage 1 sampling units" in lines
    assert " Stratum   # units     # obs       Min      Mean       Max" in lines
    for h, grp in ref.groupby(level=0):
        want = (f"{h:>8}{len(grp):>10,}{int(grp.sum()):>10,}{int(grp.min()):>10,}"
                f"{grp.mean():>10.1f}{int(grp.max()):>10,}")
        assert want in lines
    total = (f"{4:>8}{len(ref):>10,}{int(ref.sum()):>10,}{int(ref.min()):>10,}"
             f"{ref.mean():>10.1f}{int(ref.max()):>10,}")
    assert total in lines
    assert s.r.scalars["N"] == int(ref.sum()) == s.data.n - 5      # missing weights left out
    assert s.r.scalars["N_units"] == len(ref) and s.r.scalars["N_strata"] == 4
    ok(s, "svydescribe if sector == 1")
    assert s.r.scalars["N"] == int(np.sum((s.data.var("sector").values == 1)
                                          & ~np.isnan(s.data.var("w").values)))


@pytest.mark.parametrize("line, rc", [
    ("svyset id [fw=w]", 101),
    ("svyset nosuch", 111),
    ("svyset id, strata(nosuch)", 111),
    ("svyset id, fpc(sname)", 109),
    ("svyset id, bogus(1)", 198),
    ("svyset id, vce(nonsense)", 198),
    ("svyset id, singleunit(x)", 198),
    ("svyset id if sector", 101),
    ("svyset id, clear", 198),
    ("svyset id sector", 103),
    ("svyset id, psu(sector)", 198),
    ("svyset _n || id", 198),
    ("svydescribe", 119),
    ("svy: mean ses", 119),
])
def test_bad_svy_lines_leave_the_design_alone(s, line, rc):
    before = dict(s.data.dta_chars)
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out and s.data.dta_chars == before


def test_svydescribe_bad_stage(s):
    ok(s, "svyset id")
    assert run(s, "svydescribe, stage(2)")[0] == 198
    assert run(s, "svydescribe ses")[0] == 198


def test_design_is_saved_with_the_data(s, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ok(s, "svyset id [pweight=w], strata(sector) fpc(w)")
    ok(s, "save design")
    ok(s, "clear")
    assert ok(s, "svyset").strip() == "no survey characteristics are set"
    ok(s, "use design")
    assert ok(s, "svyset").splitlines() == STATA_LAYOUT[:6] + ["           FPC 1: w"]
