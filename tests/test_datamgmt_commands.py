"""expand, fillin, recast, format (with %t date formats), snapshot, dir, sysuse dir and the
offline sysuse/webuse messages."""
import datetime as dt
import os
import subprocess
import shutil

import numpy as np
import pandas as pd
import pytest

from hlmshell.output.numfmt import fmt
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s():
    sess = Session(out=Capture())
    ok(sess, "use hsb")
    ok(sess, "keep in 1/30")
    return sess


# ---- expand ------------------------------------------------------------------------------------
def test_expand_counts_and_generate(s):
    before = pd.DataFrame({"id": s.data.var("id").values, "ses": s.data.var("ses").values})
    ok(s, "generate k = mod(_n, 4) - 1")            # -1, 0, 1, 2 copies wanted: 1,1,1,2 rows
    k = s.data.var("k").values.copy()
    out = ok(s, "expand k if _n <= 20, generate(dup)")
    want_new = int(sum(max(int(v), 1) - 1 for v in k[:20]))
    assert out.strip() == f"({want_new} observations created)"
    assert s.data.n == 30 + want_new
    dup = s.data.var("dup").values
    assert dup[:30].sum() == 0 and dup[30:].sum() == want_new
    # the copies are the expanded observations, in order
    idx = np.repeat(np.arange(20), [max(int(v), 1) - 1 for v in k[:20]])
    np.testing.assert_array_equal(s.data.var("ses").values[30:], before.ses.to_numpy()[idx])


def test_expand_messages_and_errors(s):
    assert ok(s, "expand 2 in 1").strip() == "(1 observation created)"
    assert ok(s, "expand 0").strip() == "(0 observations created)"
    rc, out = run(s, 'expand "a"')
    assert rc == 109
    rc, out = run(s, "expand 2, generate(ses)")
    assert rc == 110
    rc, out = run(s, "expand")
    assert rc == 100


# ---- fillin ------------------------------------------------------------------------------------
def test_fillin_rectangularizes(s):
    ok(s, "keep id female minority")
    ok(s, "replace id = 1 in 1/10")
    df = pd.DataFrame({n: s.data.var(n).values for n in ("id", "female", "minority")})
    ok(s, "fillin id female")
    combos = df[["id", "female"]].drop_duplicates()
    full = pd.MultiIndex.from_product([sorted(df.id.unique()), sorted(df.female.unique())])
    missing = len(full) - len(combos)
    assert s.data.n == 30 + missing
    fill = s.data.var("_fillin").values
    assert fill.sum() == missing and s.data.var("_fillin").vtype == "byte"
    got = pd.DataFrame({"id": s.data.var("id").values, "female": s.data.var("female").values})
    assert set(map(tuple, got.drop_duplicates().to_numpy())) == set(full)
    assert np.isnan(s.data.var("minority").values[fill == 1]).all()
    assert s.data.sortedby == ["id", "female"]
    rc, out = run(s, "fillin id female")
    assert rc == 110 and "_fillin already defined" in out


# ---- recast ------------------------------------------------------------------------------------
def test_recast_refuses_then_forces(s):
    ses = s.data.var("ses").values.copy()
    vtype0 = s.data.var("ses").vtype
    changed = int((np.trunc(ses) != ses).sum())
    out = ok(s, "recast byte ses")
    assert out.strip() == f"ses:  {changed} values would be changed; not changed"
    assert s.data.var("ses").vtype == vtype0
    out = ok(s, "recast byte ses, force")
    assert out.strip() == f"ses:  {changed} values changed"
    np.testing.assert_array_equal(s.data.var("ses").values, np.trunc(ses))
    assert s.data.var("ses").vtype == "byte" and s.data.var("ses").format == "%8.0g"
    ok(s, "recast double mathach")
    assert s.data.var("mathach").vtype == "double"
    rc, _ = run(s, "recast str5 mathach")
    assert rc == 109
    rc, _ = run(s, "recast quad mathach")
    assert rc == 198


# ---- format and dates --------------------------------------------------------------------------
def test_format_both_orders_and_validation(s):
    ok(s, "format ses mathach %9.2f")
    assert s.data.var("ses").format == "%9.2f" and s.data.var("mathach").format == "%9.2f"
    ok(s, "format %6.3g ses")
    assert s.data.var("ses").format == "%6.3g"
    assert "%6.3g" in ok(s, "format ses")
    for bad in ("format ses %9.2q", "format ses %tdXX"):
        rc, out = run(s, bad)
        assert rc == 120, bad
    ok(s, 'generate str4 t = "a"')
    rc, _ = run(s, "format t %9.2f")
    assert rc == 120
    ok(s, "format t %-10s")
    assert s.data.var("t").format == "%-10s"


def _r_dates(days):
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    code = ("x <- as.Date(c(%s), origin='1960-01-01'); cat(tolower(format(x, '%%d%%b%%Y')), sep='\\n')"
            % ",".join(str(d) for d in days))
    res = subprocess.run([rscript, "-e", code], capture_output=True, text=True,
                         env={**os.environ, "LC_ALL": "C"})
    return res.stdout.split()


def test_td_rendering_matches_independent_calendar():
    days = [-3653, 0, 59, 366, 21915, 23000]
    want = [(dt.date(1960, 1, 1) + dt.timedelta(days=d)).strftime("%d%b%Y").lower() for d in days]
    r = _r_dates(days)
    if r is not None:
        assert r == want
    assert [fmt(float(d), "%td") for d in days] == want
    assert fmt(21915.0, "%tdCCYY-NN-DD") == "2020-01-01"
    assert fmt(21915.0, "%tdnn/dd/YY").strip() == "1/1/20"
    assert fmt(21915.0, "%tdDayname,_Month_dd").strip() == "Wednesday, January 1"


def test_other_time_formats():
    ms = (dt.datetime(2013, 11, 14, 1, 14, 7, 500000) - dt.datetime(1960, 1, 1)).total_seconds() * 1000
    assert fmt(ms, "%tc") == "14nov2013 01:14:07"
    assert fmt(ms, "%tcHH:MM:SS.sss") == "01:14:07.500"
    assert fmt(float((2019 - 1960) * 12 + 11), "%tm") == "2019m12"
    assert fmt(float((2023 - 1960) * 4 + 3), "%tq") == "2023q4"
    assert fmt(float((2020 - 1960) * 2 + 1), "%th") == "2020h2"
    assert fmt(float((1962 - 1960) * 52 + 26), "%tw") == "1962w27"
    assert fmt(2020.0, "%ty") == "2020"
    assert fmt(float("nan"), "%td").strip() == "."
    assert fmt(float((2019 - 1960) * 12 + 11), "%tmMon_CCYY").strip() == "Dec 2019"


def test_list_shows_dates(s):
    ok(s, "keep in 1/3")
    ok(s, "generate d = 21915 + _n")
    ok(s, "format d %td")
    out = ok(s, "list d")
    for k in (1, 2, 3):
        assert (dt.date(2020, 1, 1) + dt.timedelta(days=k)).strftime("%d%b%Y").lower() in out


# ---- snapshot ----------------------------------------------------------------------------------
def test_snapshot_cycle(s):
    out = ok(s, 'snapshot save, label("thirty")')
    assert out.startswith("snapshot 1 (thirty) created at ")
    assert s.r.scalars["snapshot"] == 1
    ok(s, "drop in 1/10")
    out = ok(s, "snapshot save")
    assert out.startswith("snapshot 2 created at")
    ok(s, 'snapshot label 2 "twenty"')
    listing = ok(s, "snapshot list")
    assert "snapshot 1 (thirty)" in listing and "snapshot 2 (twenty)" in listing
    ok(s, "snapshot restore 1")
    assert s.data.n == 30
    ok(s, "snapshot erase 1")
    rc, out = run(s, "snapshot restore 1")
    assert rc == 111 and "snapshot 1 not found" in out
    out = ok(s, "snapshot save")
    assert out.startswith("snapshot 3 ")            # one more than the highest existing
    ok(s, "snapshot erase _all")
    assert ok(s, "snapshot list").strip() == ""


# ---- dir, sysuse dir, offline ------------------------------------------------------------------
def test_dir_lists_files(tmp_path, monkeypatch, s):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "big.dta").write_bytes(b"0" * 5000)
    (tmp_path / "sub").mkdir()
    out = ok(s, "dir")
    lines = out.strip().splitlines()
    assert [ln.split()[-1] for ln in lines] == ["a.csv", "big.dta", "sub"]
    assert lines[0].split()[0] == "4" and lines[1].split()[0] == f"{5000 / 1024:.1f}k"
    assert lines[2].split()[0] == "<dir>"
    assert ok(s, "ls *.dta").strip().split()[-1] == "big.dta"
    rc, out = run(s, "dir nosuch.txt")
    assert rc == 601


def test_sysuse_dir_and_offline_messages(s):
    out = ok(s, "sysuse dir")
    assert "hsb.dta" in out and "orthodont_wide.dta" in out
    rc, out = run(s, "sysuse auto, clear")
    assert rc == 601 and "offline" in out and "auto.dta" in out
    rc, out = run(s, "webuse nlswork, clear")     # the tests' web folder is a closed port
    assert rc == 677 and "offline" in out and "nlswork.dta" in out
    ok(s, "sysuse hsb, clear")
    assert s.data.n == 7185
