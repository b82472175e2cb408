"""statsby: per-group regress/summarize/mixed statistics replace the data (or go to a file)."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.data.dta import read_dta
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s():
    sess = Session(out=Capture())
    ok(sess, "use hsb")
    return sess


def hsb_frame(s):
    return pd.DataFrame({n: s.data.var(n).values for n in ("id", "mathach", "ses", "sector", "female")})


def ols(y, x):
    X = np.column_stack([x, np.ones_like(x)])
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ b
    s2 = resid @ resid / (len(y) - 2)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    return b, se


def test_regress_b_se_by_sector(s):
    df = hsb_frame(s)
    out = ok(s, "statsby _b _se, by(sector) clear: regress mathach ses")
    assert "Command: regress mathach ses" in out
    assert "_b_ses: _b[ses]" in out and "By: sector" in out
    assert "Statsby groups" in out and "\n..\n" in out
    assert s.data.names == ["sector", "_b_ses", "_b_cons", "_se_ses", "_se_cons"]
    assert s.data.var("_b_ses").label == "_b[ses]"
    for row, sec in enumerate((0.0, 1.0)):
        g = df[df.sector == sec]
        b, se = ols(g.mathach.to_numpy(), g.ses.to_numpy())
        got = [s.data.var(n).values[row] for n in ("_b_ses", "_b_cons", "_se_ses", "_se_cons")]
        np.testing.assert_allclose(got, [b[0], b[1], se[0], se[1]], rtol=1e-6)
    assert s.e is None                                  # e() as before statsby


def test_summarize_named_unnamed_total(s):
    df = hsb_frame(s)
    ok(s, "statsby mean=r(mean) sd = r(sd) (r(N)), by(sector female) total clear: summarize mathach")
    assert s.data.names == ["sector", "female", "mean", "sd", "_stat_3"]
    grp = df.groupby(["sector", "female"]).mathach
    want = pd.DataFrame({"mean": grp.mean(), "sd": grp.std(), "n": grp.count()}).reset_index()
    got = s.data
    assert got.n == len(want) + 1
    np.testing.assert_allclose(got.var("mean").values[:-1], want["mean"], rtol=1e-6)
    np.testing.assert_allclose(got.var("sd").values[:-1], want["sd"], rtol=1e-6)
    np.testing.assert_array_equal(got.var("_stat_3").values[:-1], want["n"])
    # the total row: by variables missing, statistics of all observations
    assert np.isnan(got.var("sector").values[-1]) and np.isnan(got.var("female").values[-1])
    np.testing.assert_allclose(got.var("mean").values[-1], df.mathach.mean(), rtol=1e-6)


def test_default_r_scalars(s):
    df = hsb_frame(s)
    ok(s, "statsby, by(sector) clear nodots nolegend: summarize ses")
    assert s.data.names[:4] == ["sector", "_stat_1", "_stat_2", "_stat_3"]
    assert s.data.var("_stat_3").label == "r(mean)"
    np.testing.assert_allclose(s.data.var("_stat_3").values, df.groupby("sector").ses.mean(), rtol=1e-6)


def test_mixed_multi_equation_names(s):
    ok(s, "keep if id < 1500")
    base = Session(out=Capture())
    ok(base, "use hsb")
    ok(base, "keep if id < 1500")
    ok(s, "statsby, by(sector) clear nodots: mixed mathach ses || id:")
    assert s.data.names == ["sector", "mathach_b_ses", "mathach_b_cons", "lns1_1_1_b_cons", "lnsig_e_b_cons"]
    for row, sec in enumerate((0, 1)):
        ok(base, f"quietly mixed mathach ses if sector == {sec} || id:")
        got = [s.data.var(n).values[row] for n in s.data.names[1:]]
        np.testing.assert_allclose(got, base.e.b, rtol=1e-5)


def test_failing_group_gives_missing_and_x(s):
    # by female: a group with too few observations for this regression fails
    ok(s, "keep in 1/60")
    ok(s, "replace female = 2 in 1/2")
    ok(s, "replace ses = . in 1/2")                     # that group has no observations: r(2000)
    out = ok(s, "statsby _b, by(female) clear: regress mathach ses")
    assert "x" in out.splitlines()[-1]
    assert np.isnan(s.data.var("_b_ses").values[s.data.var("female").values == 2]).all()


def test_saving_keeps_data(s, tmp_path):
    target = tmp_path / "stats.dta"
    ok(s, f'statsby mean=r(mean), by(sector) saving("{target}") nodots: summarize mathach')
    assert s.data.n == 7185
    saved = read_dta(target)
    np.testing.assert_allclose(saved.vars["mean"].values,
                               hsb_frame(s).groupby("sector").mathach.mean(), rtol=1e-6)
    rc, out = run(s, f'statsby mean=r(mean), by(sector) saving("{target}") nodots: summarize mathach')
    assert rc == 602
    ok(s, f'statsby mean=r(mean), by(sector) saving("{target}", replace) nodots: summarize mathach')


def test_errors(s):
    ok(s, "replace ses = 1 in 1")                        # data changed: clear needed
    rc, out = run(s, "statsby mean=r(mean), by(sector): summarize mathach")
    assert rc == 4
    rc, _ = run(s, "statsby mean=r(mean), by(nosuch) clear: summarize mathach")
    assert rc == 111
    rc, _ = run(s, "statsby mean=r(mean), by(sector) clear summarize mathach")
    assert rc == 198
    rc, _ = run(s, "statsby, by(sector) clear: nosuchcmd")
    assert rc == 199
    assert s.data.n == 7185                              # nothing replaced after a failure


def test_subsets(s):
    df = hsb_frame(s)
    ok(s, "statsby n=r(N), by(sector female) subsets clear nodots: summarize mathach")
    d = s.data
    full = df.groupby(["sector", "female"]).size()
    by_sector = df.groupby("sector").size()
    by_female = df.groupby("female").size()
    assert d.n == len(full) + len(by_sector) + len(by_female)
    sec, fem, n = d.var("sector").values, d.var("female").values, d.var("n").values
    for (a, b), k in full.items():
        assert n[(sec == a) & (fem == b)][0] == k
    for a, k in by_sector.items():
        assert n[(sec == a) & np.isnan(fem)][0] == k
    for b, k in by_female.items():
        assert n[np.isnan(sec) & (fem == b)][0] == k
