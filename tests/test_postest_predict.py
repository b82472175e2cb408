"""BLUPs against an independent dense computation, and predict's statistics and refusals."""
from __future__ import annotations

import numpy as np
import pytest

from hlmshell.commands.predict import predict_cmd
from hlmshell.engine.blup import compute_blups, fitted_values
from hlmshell.engine.types import LmmFit, MixedModel, RandomBlock
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.syntax.ast import Command, InRange, Option

from test_postest_fixtures import REDUCED, fit_results, hsb_frame, hsb_session


# --------------------------------------------------------------------- dense reference
def dense_blups(X, y, beta, Zs, Gs, s2):
    """E[u|y] = G Z' V^-1 (y - Xb) and Var(u_hat - u) = G - G Z' P Z G with full matrices."""
    Z = np.hstack(Zs)
    G = np.zeros((Z.shape[1], Z.shape[1]))
    o = 0
    for Gb, Zb in zip(Gs, Zs):
        G[o:o + Zb.shape[1], o:o + Zb.shape[1]] = Gb
        o += Zb.shape[1]
    V = s2 * np.eye(len(y)) + Z @ G @ Z.T
    Vi = np.linalg.inv(V)
    u = G @ Z.T @ Vi @ (y - X @ beta)
    Vb = np.linalg.inv(X.T @ Vi @ X)
    P = Vi - Vi @ X @ Vb @ X.T @ Vi
    var = G - G @ Z.T @ P @ Z @ G
    return u, np.sqrt(np.diag(var)), Vb


def expand(group, Zb, G):
    """Dense Z for one block: columns (group, term) in group-major order, and kron(I, G)."""
    ng = group.max() + 1
    q = Zb.shape[1]
    Z = np.zeros((len(group), ng * q))
    for j in range(q):
        Z[np.arange(len(group)), group * q + j] = Zb[:, j]
    return Z, np.kron(np.eye(ng), G)


def nested_model(G1, G2, s2=1.3, seed=7):
    rng = np.random.default_rng(seed)
    schools, classes, kids = 8, 3, 5
    n = schools * classes * kids
    school = np.repeat(np.arange(schools), classes * kids)
    klass = np.repeat(np.arange(schools * classes), kids)
    x = rng.normal(size=n)
    X = np.column_stack([x, np.ones(n)])
    y = 1 + 0.5 * x + rng.normal(size=n) * 2
    b1 = RandomBlock(school, np.column_stack([x, np.ones(n)]), ["x", "_cons"], "unstructured", "school", 1)
    b2 = RandomBlock(klass, np.ones((n, 1)), ["_cons"], "identity", "class", 2)
    beta = np.array([0.4, 1.1])
    Z1, GG1 = expand(school, b1.Z, G1)
    Z2, GG2 = expand(klass, b2.Z, G2)
    u, se, Vb = dense_blups(X, y, beta, [Z1, Z2], [GG1, GG2], s2)
    fit = LmmFit(beta=beta, V_beta=Vb, ll=0.0, reml=False, converged=True, iterations=0, sigma2=s2,
                 covs=[G1, G2], vc_names=[], vc_theta=np.zeros(0), vc_V=None)
    model = MixedModel(y=y, X=X, blocks=[b1, b2], fit=fit, fixed_names=["x", "_cons"],
                       omitted=np.zeros(2, bool))
    return model, u, se, Z1.shape[1]


@pytest.mark.parametrize("G1", [np.array([[0.5, 0.2], [0.2, 1.5]]),
                                np.array([[1.0, 2.0], [2.0, 4.0]])])   # singular: corr = 1
def test_nested_blups_match_dense(G1):
    G2 = np.array([[0.7]])
    model, u, se, k1 = nested_model(G1, G2)
    bl = compute_blups(model)
    np.testing.assert_allclose(bl[0].u.reshape(-1), u[:k1], atol=1e-10)
    np.testing.assert_allclose(bl[1].u.reshape(-1), u[k1:], atol=1e-10)
    np.testing.assert_allclose(bl[0].se.reshape(-1), se[:k1], atol=1e-8)
    np.testing.assert_allclose(bl[1].se.reshape(-1), se[k1:], atol=1e-8)
    f = fitted_values(model, bl)
    Z1, _ = expand(model.blocks[0].group, model.blocks[0].Z, G1)
    Z2, _ = expand(model.blocks[1].group, model.blocks[1].Z, G2)
    np.testing.assert_allclose(f, model.X @ model.fit.beta + Z1 @ u[:k1] + Z2 @ u[k1:], atol=1e-10)


# --------------------------------------------------------------------- predict on hsb
@pytest.fixture(scope="module")
def df():
    return hsb_frame()


@pytest.fixture(scope="module")
def slope_model(df):
    return fit_results(df, REDUCED, slopes=("ses",), cov="unstructured")


def pred(s, body, *opts, in_=None):
    s.out = Capture()
    predict_cmd(s, Command("predict", body=body, in_=in_,
                           options=[Option(*o) if isinstance(o, tuple) else Option(o) for o in opts]))
    return s.out.getvalue()


def test_reffects_equal_dense_conditional_mean_per_school(df, slope_model):
    s = hsb_session(df)
    s.post_estimation(slope_model)
    out = pred(s, "u*", "reffects", ("reses", "se*"))
    assert out == ""
    m = slope_model.model
    G = m.fit.covs[0]
    s2 = m.fit.sigma2
    r = m.y - m.X @ m.fit.beta
    ses = df["ses"].to_numpy(float)
    ids = df["id"].to_numpy(float)
    u1, u2 = s.data.values("u1"), s.data.values("u2")
    assert s.data.var("u1").label == "BLUP r.e. for id: ses"
    assert s.data.var("u2").label == "BLUP r.e. for id: _cons"
    assert s.data.var("se2").label == "S.E. of BLUP r.e. for id: _cons"
    assert s.data.var("u1").vtype == "float"
    for gid in np.unique(ids)[::17]:
        rows = np.flatnonzero(ids == gid)
        Zg = np.column_stack([ses[rows], np.ones(len(rows))])
        Vg = Zg @ G @ Zg.T + s2 * np.eye(len(rows))
        ug = G @ Zg.T @ np.linalg.solve(Vg, r[rows])
        np.testing.assert_allclose(u1[rows], ug[0], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(u2[rows], ug[1], rtol=1e-6, atol=1e-6)
        # stored as float
        assert u2[rows[0]] == np.float32(u2[rows[0]])


def test_xb_fitted_residuals_rstandard(df, slope_model):
    s = hsb_session(df)
    s.post_estimation(slope_model)
    out = pred(s, "xb")
    assert out == "(option xb assumed)\n"
    m = slope_model.model
    np.testing.assert_allclose(s.data.values("xb"), m.X @ m.fit.beta, rtol=1e-6)
    assert s.data.var("xb").label == "Linear prediction, fixed portion"
    pred(s, "fit", "fitted")
    pred(s, "double res", "residuals")
    pred(s, "rs", "rstandard")
    bl = compute_blups(m, with_se=False)
    f = fitted_values(m, bl)
    np.testing.assert_allclose(s.data.values("fit"), f, rtol=1e-6)
    np.testing.assert_allclose(s.data.values("res"), m.y - f, rtol=1e-9, atol=1e-9)
    assert s.data.var("res").vtype == "double"
    np.testing.assert_allclose(s.data.values("rs"), (m.y - f) / np.sqrt(m.fit.sigma2), rtol=1e-6, atol=1e-6)
    assert s.data.var("fit").label == "Fitted values: xb + Zu"
    pred(s, "sp", "stdp")
    X = m.X
    np.testing.assert_allclose(s.data.values("sp"), np.sqrt(np.einsum("ij,jk,ik->i", X, m.fit.V_beta, X)),
                               rtol=1e-6)


def test_out_of_sample_observations(df):
    ids = df["id"].to_numpy(float)
    sample = np.ones(len(df), bool)
    sample[:20] = False                               # part of the first school
    first_school = ids[0]
    other = np.flatnonzero(ids == ids[-1])
    sample[other] = False                             # a whole school left out
    res = fit_results(df, REDUCED, sample=sample)
    s = hsb_session(df)
    s.post_estimation(res)
    pred(s, "xb", "xb")
    assert not np.isnan(s.data.values("xb")[:20]).any()
    out = pred(s, "u", "reffects")
    u = s.data.values("u")
    in_first = np.flatnonzero((ids == first_school) & sample)
    assert np.all(u[:20] == u[in_first[0]])
    assert np.isnan(u[other]).all()
    assert out == f"({len(other)} missing values generated)\n"
    pred(s, "rs", "rstandard")
    assert np.isnan(s.data.values("rs")[:20]).all()


def test_in_range_and_refusals(df, slope_model):
    s = hsb_session(df)
    s.post_estimation(slope_model)
    pred(s, "xb10", "xb", in_=InRange(1, 10))
    v = s.data.values("xb10")
    assert not np.isnan(v[:10]).any() and np.isnan(v[10:]).all()
    names_before = list(s.data.names)
    cases = [(("u",), ("reffects",), 102, "too few variables specified\nyou must specify 2 new variable(s)"),
             (("xb10",), ("xb",), 110, "variable xb10 already defined"),
             (("a*",), (("reses", "b*"),), 198, "option reses() requires option reffects"),
             (("a*",), ("reffects", ("relevel", "school")), 198, "school is not a level variable in this model"),
             (("a",), ("xb", ("relevel", "id")), 198, "option relevel() not allowed with statistic xb"),
             (("a",), ("xb", "fitted"), 198, "only one of options xb, stdp, fitted, reffects, reses, "
                                             "scores, residuals, or rstandard should be specified")]
    for (body,), opts, rc, msg in cases:
        with pytest.raises(StataError) as e:
            pred(s, body, *opts)
        assert (e.value.rc, e.value.message) == (rc, msg)
        assert list(s.data.names) == names_before
    from hlmshell.session import Session
    s2 = Session(out=Capture())
    with pytest.raises(StataError) as e:
        pred(s2, "x")
    assert e.value.rc == 301
