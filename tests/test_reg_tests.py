"""estat hettest / hettest and estat ovtest / ovtest after regress: against numpy auxiliary
regressions, and R's lmtest (bptest, resettest) when R is installed."""
import shutil
import subprocess

import numpy as np
import pytest

from session_run import ok, run


@pytest.fixture(scope="module")
def s():
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    ok(s, "use hsb")
    ok(s, "keep in 1/800")
    ok(s, "quietly regress mathach ses female")
    return s


def _col(s, n):
    return np.asarray(s.data.var(n).values, dtype=float)


def _data(s):
    y = _col(s, "mathach")
    X = np.column_stack([_col(s, "ses"), _col(s, "female"), np.ones(len(y))])
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    return y, X, X @ b, y - X @ b


def _aux(u, Z):
    Zc = np.column_stack([Z, np.ones(len(u))])
    r = u - Zc @ np.linalg.lstsq(Zc, u, rcond=None)[0]
    tss = np.sum((u - u.mean()) ** 2)
    return tss - r @ r, r @ r


def test_hettest_versions(s):
    y, X, fit, e = _data(s)
    n = len(y)
    out = ok(s, "estat hettest")
    mss, _ = _aux(e ** 2 / (e @ e / n), fit[:, None])
    assert np.isclose(s.r.scalars["chi2"], mss / 2, rtol=1e-9) and s.r.scalars["df"] == 1
    assert "Variable: Fitted values of mathach" in out and "H0: Constant variance" in out
    ok(s, "estat hettest, iid")
    mss, rss = _aux(e ** 2, fit[:, None])
    assert np.isclose(s.r.scalars["chi2"], n * mss / (mss + rss), rtol=1e-9)
    ok(s, "hettest, rhs fstat")
    mss, rss = _aux(e ** 2, X[:, :2])
    assert np.isclose(s.r.scalars["F"], (mss / 2) / (rss / (n - 3)), rtol=1e-9)
    ok(s, "estat hettest ses")
    mss, _ = _aux(e ** 2 / (e @ e / n), X[:, :1])
    assert np.isclose(s.r.scalars["chi2"], mss / 2, rtol=1e-9)


def test_ovtest(s):
    y, X, fit, e = _data(s)
    n = len(y)
    out = ok(s, "estat ovtest")
    Xa = np.column_stack([X, fit ** 2, fit ** 3, fit ** 4])
    ra = y - Xa @ np.linalg.lstsq(Xa, y, rcond=None)[0]
    F = ((e @ e - ra @ ra) / 3) / (ra @ ra / (n - 6))
    assert np.isclose(s.r.scalars["F"], F, rtol=1e-7) and s.r.scalars["df_r"] == n - 6
    assert "Ramsey RESET test for omitted variables" in out
    assert ok(s, "ovtest") == out


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_against_lmtest(s, tmp_path):
    y, X, fit, e = _data(s)
    f = tmp_path / "d.csv"
    np.savetxt(f, np.column_stack([y, X[:, :2]]), delimiter=",", fmt="%.17g")
    code = (f"if (!requireNamespace('lmtest', quietly=TRUE)) quit(status=3); "
            f"d <- read.csv('{f}', header=FALSE); m <- lm(V1 ~ V2 + V3, d); d$f <- fitted(m); "
            "a <- lmtest::bptest(m, ~ f, data=d, studentize=FALSE)$statistic; "
            "b <- lmtest::bptest(m, ~ f, data=d, studentize=TRUE)$statistic; "
            "c <- lmtest::resettest(m, power=2:4, type='fitted')$statistic; "
            "cat(format(c(a, b, c), digits=17))")
    res = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=120)
    if res.returncode == 3:
        pytest.skip("lmtest not installed")
    a, b, c = map(float, res.stdout.split())
    ok(s, "estat hettest")
    assert np.isclose(s.r.scalars["chi2"], a, rtol=1e-8)
    ok(s, "estat hettest, iid")
    assert np.isclose(s.r.scalars["chi2"], b, rtol=1e-8)
    ok(s, "estat ovtest")
    assert np.isclose(s.r.scalars["F"], c, rtol=1e-7)


def test_errors(s):
    assert run(s, "estat hettest nosuch")[0] == 111
    assert run(s, "estat ovtest, rhs")[0] == 198
    assert run(s, "ovtest ses")[0] == 101
    ok(s, "quietly logit minority ses")
    assert run(s, "estat hettest")[0] == 301
    assert run(s, "ovtest")[0] == 301
    ok(s, "quietly regress mathach ses female")
