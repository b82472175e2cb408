"""winsor2 (SSC, built in): winsorizing/trimming at percentiles, checked against numpy's
'averaged_inverted_cdf' percentiles (Stata's _pctile definition)."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.session import Session
from tests.session_run import HSB_DTA, hsb_session, ok, run

HSB = HSB_DTA


@pytest.fixture(scope="module")
def raw():
    return pd.read_stata(HSB)


def _session():
    return hsb_session()


def _pct(x, p):
    return np.percentile(x, p, method="averaged_inverted_cdf")


def test_winsorize_overall(raw):
    s = _session()
    ok(s, "winsor2 ses mathach")
    for v in ("ses", "mathach"):
        x = raw[v].to_numpy(float)
        want = np.clip(x, _pct(x, 1), _pct(x, 99))
        np.testing.assert_allclose(np.asarray(s.data.values(v + "_w")), want.astype(np.float32), rtol=1e-6)


def test_trim_by_group_and_cuts(raw):
    s = _session()
    ok(s, "winsor2 ses if female == 1, cuts(5 95) trim by(sector) suffix(_t) label")
    got = np.asarray(s.data.values("ses_t"))
    x = raw.ses.to_numpy(float)
    want = np.full(len(x), np.nan)
    for sec in (0, 1):
        m = (raw.female == 1).to_numpy() & (raw.sector == sec).to_numpy()
        lo, hi = _pct(x[m], 5), _pct(x[m], 95)
        want[m] = np.where((x[m] < lo) | (x[m] > hi), np.nan, x[m])
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6, equal_nan=True)
    assert s.data.var("ses_t").label == s.data.var("ses").label


def test_replace_keeps_other_observations(raw):
    s = _session()
    ok(s, "winsor2 mathach in 1/1000, replace cuts(10 90)")
    x = raw.mathach.to_numpy(float)
    want = x.copy()
    want[:1000] = np.clip(x[:1000], _pct(x[:1000], 10), _pct(x[:1000], 90))
    np.testing.assert_allclose(np.asarray(s.data.values("mathach")), want, rtol=1e-6)
    assert "mathach_w" not in s.data


@pytest.mark.parametrize("line, rc", [
    ("winsor2", 100), ("winsor2 nosuch", 111), ("winsor2 ses, cuts(99 1)", 198),
    ("winsor2 ses, cuts(1)", 198), ("winsor2 ses, replace suffix(_x)", 198),
    ("winsor2 ses", 110), ("winsor2 ses [fw=id]", 101),
])
def test_bad_input(line, rc):
    s = _session()
    ok(s, "generate ses_w = 1")
    names = list(s.data.names)
    got, out = run(s, line)
    assert got == rc, out
    assert list(s.data.names) == names
