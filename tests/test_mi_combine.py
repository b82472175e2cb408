"""mi estimate's combination by Rubin's rules, checked against an independent computation: the
completed-data fits by numpy least squares on fixed imputed data sets (deterministic values put
into an flong mi dataset), then Rubin's (1987) and Barnard and Rubin's (1999) formulas and the
equal-FMI test (Li, Raghunathan and Rubin 1991; Reiter 2007) written out element by element."""
import numpy as np
import pytest
from session_run import ok, run

from hlmshell.data.dataset import Variable
from hlmshell.engine import mi_combine
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from scipy import stats

N, M = 60, 5


def _base():
    rng = np.random.default_rng(20261130)
    x = rng.normal(size=N)
    z = (rng.random(N) < 0.4).astype(float)
    y = 1.0 + 0.8 * x - 0.5 * z + rng.normal(size=N)
    miss = rng.random(N) < 0.3
    return x, z, y, miss


def _imputed(x, y, miss, m):
    """A deterministic imputation m of y (what the test puts into the mi data)."""
    i = np.arange(1, N + 1)
    return np.where(miss, 1.0 + 0.7 * x + np.sin(3.0 * m + i), y)


@pytest.fixture(scope="module")
def session():
    x, z, y, miss = _base()
    s = Session(Capture())
    for name, v in (("x", x), ("z", z), ("y", np.where(miss, np.nan, y)), ("wasmiss", miss * 1.0)):
        s.data.add(Variable(name, v, "double"))
    ok(s, "mi set flong")
    ok(s, "mi register imputed y")
    ok(s, f"quietly mi impute regress y x, add({M}) rseed(1)")
    # overwrite the random imputations by fixed ones
    ok(s, "quietly replace y = 1 + 0.7*x + sin(3*_mi_m + _mi_id) if _mi_m > 0 & wasmiss")
    return s


def _fixed_sets():
    x, z, y, miss = _base()
    return x, z, [_imputed(x, y, miss, m) for m in range(1, M + 1)], miss


def _ols(y, X):
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    r = y - X @ b
    df = len(y) - X.shape[1]
    V = (r @ r) / df * np.linalg.inv(X.T @ X)
    return b, V, df


def _rubin(bs, Vs, df_c=None):
    """Rubin's rules written out per coefficient."""
    m = len(bs)
    k = len(bs[0])
    qbar = [sum(b[j] for b in bs) / m for j in range(k)]
    w = [sum(V[j][j] for V in Vs) / m for j in range(k)]
    bvar = [sum((b[j] - qbar[j]) ** 2 for b in bs) / (m - 1) for j in range(k)]
    t = [w[j] + (1 + 1 / m) * bvar[j] for j in range(k)]
    r = [(1 + 1 / m) * bvar[j] / w[j] for j in range(k)]
    df = [(m - 1) * (1 + 1 / r[j]) ** 2 for j in range(k)]
    if df_c is not None:
        for j in range(k):
            gamma = (1 + 1 / m) * bvar[j] / t[j]
            obs = (df_c + 1) / (df_c + 3) * df_c * (1 - gamma)
            df[j] = 1 / (1 / df[j] + 1 / obs)
    fmi = [(r[j] + 2 / (df[j] + 3)) / (r[j] + 1) for j in range(k)]
    return np.array(qbar), np.array(t), np.array(r), np.array(df), np.array(fmi)


def test_the_data_hold_the_fixed_imputations(session):
    x, z, sets, miss = _fixed_sets()
    d = session.data
    mm, yy = d.values("_mi_m"), d.values("y")
    for m in range(1, M + 1):
        np.testing.assert_allclose(yy[mm == m], sets[m - 1], rtol=0, atol=1e-12)
    assert np.isnan(yy[mm == 0][miss]).all()


def test_regress_combination_matches_rubins_rules(session):
    x, z, sets, _ = _fixed_sets()
    X = np.column_stack([x, z, np.ones(N)])
    fits = [_ols(y, X) for y in sets]
    qbar, t, r, df, fmi = _rubin([f[0] for f in fits], [f[1] for f in fits], df_c=N - 3)
    out = ok(session, "mi estimate: regress y x z")
    e = session.e
    np.testing.assert_allclose(np.asarray(e.b).ravel(), qbar, rtol=1e-10)
    np.testing.assert_allclose(np.diag(e.V), t, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(e.matrices["re_mi"]).ravel(), r, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(e.matrices["df_mi"]).ravel(), df, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(e.matrices["fmi_mi"]).ravel(), fmi, rtol=1e-9)
    assert e.scalars["df_c_mi"] == N - 3
    assert e.scalars["df_min_mi"] == pytest.approx(df.min())
    assert e.scalars["fmi_max_mi"] == pytest.approx(fmi.max())
    bs = np.array([f[0] for f in fits])
    W = sum(f[1] for f in fits) / M
    B = sum(np.outer(b - qbar, b - qbar) for b in bs) / (M - 1)
    assert e.scalars["rvi_avg_mi"] == pytest.approx((1 + 1 / M) * np.trace(B @ np.linalg.inv(W)) / 3)
    assert e.macros["cmd"] == "mi estimate" and e.macros["cmd_mi"] == "regress"
    # the table: t and p from each coefficient's own df
    se = np.sqrt(t)
    row = next(ln for ln in out.splitlines() if ln.strip().startswith("x |"))
    cells = row.split("|")[1].split()
    assert float(cells[2]) == pytest.approx(qbar[0] / se[0], abs=0.006)
    p = 2 * stats.t.sf(abs(qbar[0] / se[0]), df[0])
    assert float(cells[3]) == pytest.approx(p, abs=0.0006)
    lo = qbar[0] - stats.t.isf(0.025, df[0]) * se[0]
    assert float(cells[4]) == pytest.approx(lo, rel=1e-5)
    assert "DF adjustment:   Small sample" in out and "Within VCE type:          OLS" in out
    assert "Complete DF       =         57" in out


def test_model_test_is_the_equal_fmi_test(session):
    x, z, sets, _ = _fixed_sets()
    X = np.column_stack([x, z, np.ones(N)])
    fits = [_ols(y, X) for y in sets]
    bs = np.array([f[0] for f in fits])[:, :2]
    Ws = np.array([f[1] for f in fits])[:, :2, :2]
    qbar = bs.mean(axis=0)
    W = Ws.mean(axis=0)
    B = sum(np.outer(b - qbar, b - qbar) for b in bs) / (M - 1)
    k = 2
    r = (1 + 1 / M) * np.trace(B @ np.linalg.inv(W)) / k
    F = qbar @ np.linalg.inv(W) @ qbar / (k * (1 + r))
    tt = k * (M - 1)
    a = r * tt / (tt - 2)
    vstar = (N - 3) * (N - 2) / (N - 3 + 3)
    df2 = 4 + 1 / (1 / (vstar - 4 * (1 + a))
                   + a ** 2 * (vstar - 2 * (1 + a)) / ((tt - 4) * (1 + a) ** 2 * (vstar - 4 * (1 + a))))
    ok(session, "quietly mi estimate: regress y x z")
    e = session.e
    assert e.scalars["F_mi"] == pytest.approx(F, rel=1e-9)
    assert e.scalars["df_m_mi"] == 2
    assert e.scalars["df_r_mi"] == pytest.approx(df2, rel=1e-9)
    assert e.scalars["p_mi"] == pytest.approx(stats.f.sf(F, 2, df2), rel=1e-7)
    assert e.scalars["rvi_avg_F_mi"] == pytest.approx(r, rel=1e-9)
    # one coefficient: F = t^2 on that coefficient's df
    out = ok(session, "mi test x")
    dfx = session.e.matrices["df_mi"][0, 0]
    tx = session.e.b[0] / np.sqrt(session.e.V[0, 0])
    assert session.r.scalars["F"] == pytest.approx(tx ** 2) and session.r.scalars["df_r"] == pytest.approx(dfx)
    out = ok(session, "mi test x z")
    assert session.r.scalars["F"] == pytest.approx(F) and session.r.scalars["df_r"] == pytest.approx(df2)
    assert "assuming equal fractions of missing information" in out


def test_large_sample_df_without_residual_df(session):
    """logit leaves no e(df_r): Rubin's large-sample df, and nosmall does the same for regress."""
    x, z, sets, _ = _fixed_sets()
    X = np.column_stack([x, z, np.ones(N)])
    fits = [_ols(y, X) for y in sets]
    qbar, t, r, df, fmi = _rubin([f[0] for f in fits], [f[1] for f in fits])
    out = ok(session, "mi estimate, nosmall: regress y x z")
    np.testing.assert_allclose(np.asarray(session.e.matrices["df_mi"]).ravel(), df, rtol=1e-9)
    assert "Large sample" in out and "Complete DF" not in out


def test_imputations_option_uses_a_subset(session):
    x, z, sets, _ = _fixed_sets()
    X = np.column_stack([x, z, np.ones(N)])
    fits = [_ols(sets[m - 1], X) for m in (1, 3, 4)]
    qbar, t, *_ = _rubin([f[0] for f in fits], [f[1] for f in fits], df_c=N - 3)
    ok(session, "quietly mi estimate, imputations(1 3/4): regress y x z")
    np.testing.assert_allclose(np.asarray(session.e.b).ravel(), qbar, rtol=1e-10)
    np.testing.assert_allclose(np.diag(session.e.V), t, rtol=1e-10)
    assert session.e.scalars["M_mi"] == 3
    ok(session, "quietly mi estimate, nimputations(2): regress y x z")
    assert session.e.scalars["M_mi"] == 2


def test_engine_zero_between_variance():
    """A coefficient identical across imputations: RVI 0, infinite df, FMI 0."""
    bs = np.array([[1.0, 2.0], [1.0, 2.5], [1.0, 1.5]])
    Vs = np.array([np.diag([0.1, 0.2])] * 3)
    c = mi_combine.combine(bs, Vs)
    assert c.rvi[0] == 0 and np.isinf(c.df[0]) and c.fmi[0] == 0
    assert c.V[1, 1] == pytest.approx(0.2 + (4 / 3) * 0.25)


def test_replay_and_errors(session):
    ok(session, "quietly mi estimate: regress y x z")
    out = ok(session, "mi estimate")
    assert "Multiple-imputation estimates" in out
    rc, out = run(session, "mi estimate: summarize y")
    assert rc == 199
    rc, out = run(session, "mi estimate, imputations(9): regress y x z")
    assert rc == 125
    rc, out = run(session, "mi estimate: regress y nosuch")
    assert rc == 111
    s2 = Session(Capture())
    ok(s2, "set obs 5")
    ok(s2, "generate x = _n")
    rc, out = run(s2, "mi estimate: regress x")
    assert rc == 119 and "data not mi set" in out
