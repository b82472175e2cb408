"""frlink / frget: the link variable (observation numbers of the other frame) and the copied
variables checked against a pandas merge on the same keys; Stata's messages and errors."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s():
    sess = Session()
    ok(sess, "use hsb")
    ok(sess, "frame copy default schools")
    ok(sess, "frame schools: collapse (mean) mses=ses (max) top=mathach, by(id)")
    ok(sess, "frame schools: drop if id == 1224")       # one school without its row
    ok(sess, "frame schools: label variable mses \"school mean SES\"")
    return sess


def test_frlink_m1_and_frget_match_a_pandas_merge(s):
    out = ok(s, "frlink m:1 id, frame(schools)")
    n_unmatched = int((s.data.var("id").values == 1224).sum())
    assert out.strip() == f"({n_unmatched:,} observations in frame default unmatched)"
    assert s.r.scalars["unmatched"] == n_unmatched
    out = ok(s, "frget mses top, from(schools)")
    assert out.splitlines() == [f"({n_unmatched:,} missing values generated)"] * 2 + \
        ["(2 variables copied from linked frame)"]
    students = pd.DataFrame({"id": s.data.var("id").values})
    sch = s.frames["schools"]
    schools = pd.DataFrame({"id": sch.var("id").values, "mses": sch.var("mses").values,
                            "top": sch.var("top").values})
    want = students.merge(schools, on="id", how="left")
    np.testing.assert_array_equal(s.data.var("mses").values, want["mses"].values)
    np.testing.assert_array_equal(s.data.var("top").values, want["top"].values)
    assert s.data.var("mses").label == "school mean SES"
    link = s.data.var("schools")
    assert link.chars["frlink_fname2"] == "schools" and link.chars["frlink_vl2p"] == "id"
    # the link holds observation numbers of the (sorted) schools frame
    ids = sch.var("id").values
    ok_rows = ~np.isnan(link.values)
    np.testing.assert_array_equal(ids[link.values[ok_rows].astype(int) - 1],
                                  s.data.var("id").values[ok_rows])
    assert list(ids) == sorted(ids) and sch.sortedby == ["id"]


def test_frget_rename_prefix_exclude_and_1to1(s):
    ok(s, "frame schools: generate sid = id")
    ok(s, "frame put id ses if female == 1 & id < 1400, into(small)")
    ok(s, "frame small: duplicates drop id, force")
    ok(s, "frame schools: frlink 1:1 id, frame(small) generate(lk)")
    ok(s, "frame schools: frget first_ses = ses, from(lk)")
    sch, small = s.frames["schools"], s.frames["small"]
    got = dict(zip(sch.var("id").values, sch.var("first_ses").values))
    pairs = [(i, v) for i, v in zip(small.var("id").values, small.var("ses").values) if i in got]
    assert len(pairs) == small.n - 1                       # 1224 is not among the schools
    assert all(got[i] == v for i, v in pairs)
    ok(s, "frlink m:1 id, frame(schools sid) generate(ls)")
    out = ok(s, "frget mses top, from(ls) prefix(s_) exclude(top)")
    assert out.splitlines()[-1] == "(1 variable copied from linked frame)"
    assert "s_mses" in s.data.vars and "s_top" not in s.data.vars
    assert s.r.macros["excluded"] == "top" and s.r.macros["newlist"] == "s_mses"
    ok(s, "frget *, from(ls) suffix(_x)")              # the match variable sid is left out
    assert "sid_x" not in s.data.vars and "mses_x" in s.data.vars
    assert "sid" in s.r.macros["excluded"].split()


def test_all_matched_message(s):
    ok(s, "frame schools: set obs 160")            # put 1224 back
    ok(s, "frame schools: replace id = 1224 in 160")
    assert ok(s, "frlink m:1 id, frame(schools)").strip() == "(all observations in frame default matched)"


@pytest.mark.parametrize("line, rc", [
    ("frlink id, frame(schools)", 198),
    ("frlink m:1 id", 198),
    ("frlink m:1 id, frame(nosuch)", 111),
    ("frlink m:1 id, frame(default)", 198),
    ("frlink m:1 ses, frame(schools)", 111),
    ("frlink m:1 id female, frame(schools id)", 198),
    ("frlink 1:1 id, frame(schools)", 459),            # id repeats among students
    ("frlink m:1 id, frame(schools) generate(ses)", 110),
    ("frlink m:1 id, frame(schools) bogus", 198),
    ("frget mses, from(id)", 198),                      # not a link variable
    ("frget mses", 198),
])
def test_bad_frlink_lines(s, line, rc):
    before = (list(s.data.vars), list(s.frames["schools"].var("id").values))
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert (list(s.data.vars), list(s.frames["schools"].var("id").values)) == before


def test_bad_frget_lines(s):
    ok(s, "frlink m:1 id, frame(schools)")
    for line, rc in (("frget nosuch, from(schools)", 111), ("frget ses, from(schools)", 111),
                     ("frget mses, from(schools) prefix(1x)", 198),
                     ("frget a = mses, from(schools) prefix(p)", 198)):
        got, out = run(s, line)
        assert got == rc, (line, out)
    ok(s, "frget mses, from(schools)")
    assert run(s, "frget mses, from(schools)")[0] == 110
