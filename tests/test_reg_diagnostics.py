"""linktest, dfbeta and regress's diagnostic plots (avplot, avplots, cprplot, acprplot, rvpplot,
lvr2plot), against numpy: least squares refits, leave-one-out refits for DFBETA, hat matrices."""
import numpy as np
import pytest

from test_graph_helpers import G, scatter_points


@pytest.fixture()
def g():
    return G(setup=("use hsb", "keep in 1/300", "quietly regress mathach ses female meanses"))


def _design(g, names):
    return np.column_stack([g.col(n) for n in names] + [np.ones(g.s.data.n)])


def _ols(X, y):
    return np.linalg.lstsq(X, y, rcond=None)[0]


def test_linktest_refits_on_hat_and_hatsq(g):
    X = _design(g, ["ses", "female", "meanses"])
    y = g.col("mathach")
    hat = X @ _ols(X, y)
    out = g.ok("linktest")
    assert "_hatsq" in out and "Number of obs   =       300" in out
    Z = np.column_stack([hat, hat ** 2, np.ones_like(hat)])
    b = _ols(Z, y)
    e = g.s.e
    assert e.cmd == "regress" and [n for _, n in e.names] == ["_hat", "_hatsq", "_cons"]
    assert np.allclose(e.b, b, rtol=1e-8)
    resid = y - Z @ b
    V = resid @ resid / (300 - 3) * np.linalg.inv(Z.T @ Z)
    assert np.isclose(g.s.r.scalars["t"], b[1] / np.sqrt(V[1, 1]), rtol=1e-7)
    assert g.s.r.scalars["df"] == 297
    assert np.allclose(g.col("_hat"), hat)
    g.ok("linktest")                         # again: _hat and _hatsq are replaced


def test_linktest_after_logit_and_errors(g):
    g.ok("quietly logit minority ses")
    out = g.ok("linktest, nolog")
    assert "Logistic regression" in out and "z" in g.s.r.scalars
    assert g.s.e.cmd == "logit"
    g.ok("quietly mixed mathach ses || id:")
    g.fails("linktest", 301)


def test_dfbeta_matches_leave_one_out_refits(g):
    out = g.ok("dfbeta")
    assert "_dfbeta_1:  dfbeta(ses)" in out and "_dfbeta_3:  dfbeta(meanses)" in out
    assert g.s.data.var("_dfbeta_2").label == "dfbeta(female)"
    X = _design(g, ["ses", "female", "meanses"])
    y = g.col("mathach")
    n, k = X.shape
    b = _ols(X, y)
    XtXi = np.linalg.inv(X.T @ X)
    for i in (0, 17, 123, 299):
        keep = np.arange(n) != i
        bi = _ols(X[keep], y[keep])
        ri = y[keep] - X[keep] @ bi
        si = np.sqrt(ri @ ri / (n - 1 - k))
        want = (b - bi) / (si * np.sqrt(np.diag(XtXi)))
        got = [g.col(f"_dfbeta_{j}")[i] for j in (1, 2, 3)]
        assert np.allclose(got, want[:3], rtol=1e-5, atol=1e-7)
    out = g.ok("dfbeta female")
    assert "_dfbeta_4:  dfbeta(female)" in out
    assert np.allclose(g.col("_dfbeta_4"), g.col("_dfbeta_2"))
    g.fails("dfbeta pracad", 322)
    g.fails("dfbeta nosuch", 111)
    g.fails("dfbeta, stub(1x)", 198)
    assert "1x1" not in g.s.data


def test_avplot_in_and_out_of_model(g):
    X = _design(g, ["ses", "female", "meanses"])
    y = g.col("mathach")
    g.ok("avplot ses")
    (pts,) = scatter_points(g.fig().axes[0])
    others = X[:, 1:]
    ex = g.col("ses") - others @ _ols(others, g.col("ses"))
    ey = y - others @ _ols(others, y)
    assert np.allclose(pts[:, 0], ex) and np.allclose(pts[:, 1], ey)
    graph = g.graph()
    line = graph.panels[0].series[1]
    b = _ols(X, y)[0]
    assert np.isclose((line.y[1] - line.y[0]) / (line.x[1] - line.x[0]), b)
    assert graph.note.startswith("coef = ") and graph.panels[0].xaxis.title == "e( ses | X )"
    g.ok("avplot pracad")                    # not in the model: residuals on the whole X
    (pts,) = scatter_points(g.fig().axes[0])
    assert np.allclose(pts[:, 0], g.col("pracad") - X @ _ols(X, g.col("pracad")))
    Xa = np.column_stack([X, g.col("pracad")])
    ba = _ols(Xa, y)
    r = y - Xa @ ba
    se = np.sqrt(r @ r / (300 - 5) * np.linalg.inv(Xa.T @ Xa)[4, 4])
    note = g.graph().note
    coef = float(note.split("coef = ")[1].split(",")[0])
    sev = float(note.split("se = ")[1].split(",")[0])
    assert np.isclose(coef, ba[4], rtol=1e-6) and np.isclose(sev, se, rtol=1e-6)


def test_avplots_cpr_rvp_lvr2(g):
    g.ok("avplots")
    assert len(g.graph().parts) == 3
    X = _design(g, ["ses", "female", "meanses"])
    y = g.col("mathach")
    b = _ols(X, y)
    e = y - X @ b
    g.ok("cprplot ses, lowess")
    (pts,) = scatter_points(g.fig().axes[0])
    assert np.allclose(pts[:, 1], e + b[0] * g.col("ses"))
    g.ok("acprplot ses")
    Xa = np.column_stack([X, g.col("ses") ** 2])
    ba = _ols(Xa, y)
    (pts,) = scatter_points(g.fig().axes[0])
    assert np.allclose(pts[:, 1], y - Xa @ ba + ba[0] * g.col("ses") + ba[4] * g.col("ses") ** 2)
    g.ok("rvpplot pracad")
    (pts,) = scatter_points(g.fig().axes[0])
    assert np.allclose(pts[:, 0], g.col("pracad")) and np.allclose(pts[:, 1], e)
    g.ok("lvr2plot")
    (pts,) = scatter_points(g.fig().axes[0])
    H = X @ np.linalg.inv(X.T @ X) @ X.T
    assert np.allclose(pts[:, 0], e ** 2 / (e @ e)) and np.allclose(pts[:, 1], np.diag(H))
    assert np.isclose(g.graph().panels[0].ylines[0], 4 / 300)


def test_plot_errors(g):
    g.fails("cprplot pracad", 398)
    g.fails("avplot", 100)
    g.fails("avplot ses female", 103)
    g.fails("lvr2plot ses", 101)
    g.fails("avplot nosuch", 111)
    g.ok("quietly logit minority ses")
    g.fails("avplot ses", 301)
    g.fails("lvr2plot", 301)


def test_predict_influence_statistics(g):
    """leverage, rstandard, rstudent, cooksd, dfits, covratio, welsch, dfbeta(), stdf, stdr
    against leave-one-out refits and the hat matrix (numpy), for a few observations."""
    X = _design(g, ["ses", "female", "meanses"])
    y = g.col("mathach")
    n, k = X.shape
    for stat in ("leverage", "rstandard", "rstudent", "cooksd", "dfits", "covratio", "welsch",
                 "dfbeta(female)", "stdf", "stdr"):
        g.ok(f"predict double {stat.split('(')[0]}_v, {stat}")
    b = _ols(X, y)
    e = y - X @ b
    s2 = e @ e / (n - k)
    H = X @ np.linalg.inv(X.T @ X) @ X.T
    for i in (3, 77, 250):
        keep = np.arange(n) != i
        bi = _ols(X[keep], y[keep])
        ri = y[keep] - X[keep] @ bi
        s2i = ri @ ri / (n - 1 - k)
        h = H[i, i]
        t = e[i] / np.sqrt(s2i * (1 - h))
        yhat_i = X[i] @ bi
        want = {"leverage": h, "rstandard": e[i] / np.sqrt(s2 * (1 - h)), "rstudent": t,
                "cooksd": np.sum((X @ b - X @ bi) ** 2) / (k * s2),
                "dfits": (X[i] @ b - yhat_i) / np.sqrt(s2i * h),
                "covratio": np.linalg.det(s2i * np.linalg.inv(X[keep].T @ X[keep]))
                / np.linalg.det(s2 * np.linalg.inv(X.T @ X)),
                "welsch": t * np.sqrt(h / (1 - h)) * np.sqrt((n - 1) / (1 - h)),
                "dfbeta": (b[1] - bi[1]) / np.sqrt(s2i * np.linalg.inv(X.T @ X)[1, 1]),
                "stdf": np.sqrt(s2 * (1 + h)), "stdr": np.sqrt(s2 * (1 - h))}
        for name, v in want.items():
            assert np.isclose(g.col(f"{name}_v")[i], v, rtol=1e-8), name
    assert g.s.data.var("cooksd_v").label == "Cook's D"
    g.fails("predict z, leverage cooksd", 198)
    g.fails("predict z, dfbeta(pracad)", 322)
    g.fails("predict z, dfbeta(ses female)", 103)


@pytest.mark.skipif(__import__("shutil").which("Rscript") is None, reason="R not installed")
def test_predict_influence_against_R(g, tmp_path):
    import subprocess
    X = _design(g, ["ses", "female"])
    y = g.col("mathach")
    f = tmp_path / "d.csv"
    np.savetxt(f, np.column_stack([y, X[:, :2]]), delimiter=",", fmt="%.17g")
    code = (f"d <- read.csv('{f}', header=FALSE); m <- lm(V1 ~ V2 + V3, d); "
            "write.table(cbind(hatvalues(m), cooks.distance(m), rstudent(m), dffits(m), "
            "covratio(m), dfbetas(m)[,2]), sep=',', row.names=FALSE, col.names=FALSE, "
            "quote=FALSE)")
    res = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=120)
    ref = np.loadtxt(res.stdout.splitlines(), delimiter=",")
    g.ok("quietly regress mathach ses female")
    for j, stat in enumerate(("leverage", "cooksd", "rstudent", "dfits", "covratio", "dfbeta(ses)")):
        g.ok(f"predict double r_{j}, {stat}")
        assert np.allclose(g.col(f"r_{j}"), ref[:, j], rtol=1e-8), stat
