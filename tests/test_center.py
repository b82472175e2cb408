"""center (SSC, built in): group-mean centring with by, meansave/sdsave, standardize, if,
casewise, weights, replace; checked against pandas group statistics."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.session import Session
from session_run import ok, run


@pytest.fixture()
def s():
    s = Session()
    ok(s, "use hsb")
    return s


def col(s, name):
    return np.asarray(s.data.var(name).values, dtype=float)


def frame(s, *names):
    return pd.DataFrame({n: col(s, n) for n in names})


def test_within_between_split(s):
    ok(s, "bysort id: center ses mathach, pre(wi_) mean(bw_)")
    df = frame(s, "id", "ses", "mathach")
    for v in ("ses", "mathach"):
        m = df.groupby("id")[v].transform("mean").to_numpy()
        np.testing.assert_allclose(col(s, f"bw_{v}"), m, rtol=1e-6)
        np.testing.assert_allclose(col(s, f"wi_{v}"), df[v].to_numpy() - m, atol=1e-5)
    assert s.data.var("wi_ses").label.endswith(" (centered)")


def test_standardize_sdsave_and_generate_if(s):
    ok(s, "center ses, standardize sdsave")
    x = col(s, "ses")
    np.testing.assert_allclose(col(s, "c_ses"), (x - x.mean()) / x.std(ddof=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(col(s, "sd_ses"), x.std(ddof=1), rtol=1e-6)
    ok(s, "center ses if sector==1, gen(cs) meansave(mses) double")
    sel = col(s, "sector") == 1
    m = x[sel].mean()
    np.testing.assert_allclose(col(s, "cs")[sel], x[sel] - m, rtol=1e-12, atol=1e-12)
    assert np.isnan(col(s, "cs")[~sel]).all() and np.isnan(col(s, "mses")[~sel]).all()
    assert s.data.var("cs").vtype == "double"


def test_casewise_theta_and_weights(s):
    ok(s, "replace ses = . in 1/5")
    ok(s, "center ses mathach, casewise pre(k_)")
    df = frame(s, "ses", "mathach")
    keep = df.notna().all(axis=1).to_numpy()
    np.testing.assert_allclose(col(s, "k_mathach")[keep],
                               df.mathach[keep] - df.mathach[keep].mean(), atol=1e-4)
    assert np.isnan(col(s, "k_mathach")[:5]).all()
    ok(s, "center mathach, theta(0.5) pre(t_)")
    y = col(s, "mathach")
    np.testing.assert_allclose(col(s, "t_mathach"), y - 0.5 * y.mean(), rtol=1e-6)
    ok(s, "center mathach [aweight=size], pre(w_) sdsave(wsd_)")
    w = col(s, "size")
    mu = np.sum(w * y) / w.sum()
    np.testing.assert_allclose(col(s, "w_mathach"), y - mu, atol=1e-5)
    W, N = w.sum(), len(w)
    sd = np.sqrt(np.sum(w * (y - mu) ** 2) / (W - W / N))
    np.testing.assert_allclose(col(s, "wsd_mathach"), sd, rtol=1e-6)


def test_errors_leave_data_alone(s):
    ok(s, "center ses")
    before = list(s.data.names)
    for line, rc in [("center ses", 110), ("center nosuch", 111), ("center ses mathach, gen(z)", 103),
                     ("center ses, bogus", 198), ("center ses, prefix", 198),
                     ("center ses, standardize(3)", 198), ("center ses [aweight=-size]", 402)]:
        got, out = run(s, line)
        assert got == rc, (line, out)
        assert list(s.data.names) == before
    ok(s, "center ses, replace")
    assert "(center: center is built into hlmshell" in ok(s, "ssc install center")
