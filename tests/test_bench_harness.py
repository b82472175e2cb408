"""bench/bench_speed.py's data generator and its parsers of what the children print.

Nothing here times anything (speed is measured by the bench script, not by the tests)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_speed as bs
from hlmshell.data.dta import read_dta


def test_nested_data_deterministic_and_complete():
    a = bs.nested_columns(2_000, 20)
    b = bs.nested_columns(2_000, 20)
    assert list(a) == ["y", "x1", "x2", "x3", "f", "grp"]
    for name in a:
        assert np.array_equal(a[name][0], b[name][0]) and a[name][1] == b[name][1]
        assert len(a[name][0]) == 2_000
    assert set(np.unique(a["grp"][0])) == set(range(1, 21))      # every group present
    assert set(np.unique(a["f"][0])) == {1, 2, 3, 4, 5}
    assert not np.array_equal(a["y"][0], bs.nested_columns(2_000, 20, seed=1)["y"][0])
    # real variance components: group means of y spread far beyond sampling noise
    g, y = a["grp"][0].astype(int), a["y"][0]
    means = np.bincount(g, y)[1:] / np.bincount(g)[1:]
    assert means.std() > 0.5


def test_crossed_data_deterministic_and_complete():
    a = bs.crossed_columns(3_000, 60, 30)
    b = bs.crossed_columns(3_000, 60, 30)
    assert list(a) == ["y", "x", "subj", "item"]
    for name in a:
        assert np.array_equal(a[name][0], b[name][0])
    assert set(np.unique(a["subj"][0])) == set(range(1, 61))
    assert set(np.unique(a["item"][0])) == set(range(1, 31))


def test_written_dta_reads_back(tmp_path):
    cols = bs.nested_columns(500, 5)
    path = bs.write_columns(cols, tmp_path / "d.dta")
    ds = read_dta(path)
    assert ds.names == list(cols)
    assert ds.n == 500
    for name, (values, vtype) in cols.items():
        assert ds.var(name).vtype == vtype
        assert np.array_equal(ds.var(name).values, values)


def test_parse_ll_skips_the_echo():
    out = ('. display "BENCH_LL " %21.15e e(ll)\n'
           "BENCH_LL  -2.332050227092772e+04\n\nend of do-file\n")
    assert bs.parse_ll(out) == -23320.50227092772
    assert bs.parse_ll('. display "BENCH_LL " %21.15e e(ll)\n') is None
    assert bs.parse_ll("BENCH_LL  .\n") is None


def test_parse_lme4_and_session():
    out = ("BENCH_LME4 5.512000 -374955.13860150194 1 200000 2.608\n"
           "BENCH_LME4_MSG Model failed to converge with max|grad| = 0.0025 \n")
    res = bs.parse_lme4(out)
    assert res == {"secs": 5.512, "ll": -374955.13860150194, "runs": 1, "nobs": 200000,
                   "load_secs": 2.608, "message": "Model failed to converge with max|grad| = 0.0025"}
    assert bs.parse_lme4("Error in lmer\n") is None
    rec = bs.parse_session('noise\nBENCH_SESSION {"use_s": 0.1, "warm_fit_s": 0.2, "ll": -1.5}\n')
    assert rec == {"use_s": 0.1, "warm_fit_s": 0.2, "ll": -1.5}
    assert bs.parse_session("") is None


def test_judging_rows():
    r = bs.Row(3, "w", "g", measured=0.1, lme4=6.0)
    bs._judge(r, min_ratio=50.0, fallback=0.11)
    assert r.ratio == 60.0 and r.status == "pass"
    r = bs.Row(3, "w", "g", measured=0.2)
    bs._judge(r, min_ratio=50.0, fallback=0.11)
    assert r.status == "FAIL*"
    r = bs.Row(1, "w", "g", measured=0.25)
    bs._judge(r, limit=0.30)
    assert r.status == "pass"
    r = bs.Row(5, "w", "g", note="timeout")
    bs._judge(r, min_ratio=2.0, fallback=0.325)
    assert r.status == "FAIL"
