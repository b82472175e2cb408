"""gsem, the multilevel subset, against independent fits (tests/data/gsem/make_reference.R:
nlme's stacked-response model, lme4, glmer, sandwich) and against a dense multivariate normal
likelihood written here with scipy (the engine uses Woodbury identities and profiling)."""
import json
from pathlib import Path

import numpy as np
import pytest
from session_run import csv_session, ok, run

DATA = Path(__file__).parent / "data" / "gsem"
REF = json.loads((DATA / "reference.json").read_text())
TWO = "gsem (write <- math M1[cid]) (science <- write math M2[cid]), nolog"


@pytest.fixture(scope="module")
def demo():
    s = csv_session("tests/data/gsem/hsbdemo.csv")
    ok(s, TWO)
    return s


def _b(s, eq, name):
    return float(s.e.b[s.e.coef_index(eq, name)])


def test_two_equations_match_nlme_stacked_model(demo):
    r = REF["two_gaussian"]
    e = demo.e
    assert e.scalars["ll"] == pytest.approx(r["ll"], abs=1e-6)
    got = [_b(demo, "write", "math"), _b(demo, "write", "_cons"), _b(demo, "science", "write"),
           _b(demo, "science", "math"), _b(demo, "science", "_cons")]
    assert got == pytest.approx(r["beta"], rel=1e-5)
    assert _b(demo, "/", "var(M1[cid])") == pytest.approx(r["var1"], rel=1e-4)
    assert _b(demo, "/", "var(M2[cid])") == pytest.approx(r["var2"], rel=1e-4)
    assert _b(demo, "/", "cov(M1[cid],M2[cid])") == pytest.approx(r["cov12"], rel=1e-4)
    assert [_b(demo, "/", "var(e.write)"), _b(demo, "/", "var(e.science)")] == \
        pytest.approx(r["s2"], rel=1e-4)
    assert e.scalars["N"] == 200


def _dense_ll(theta, d):
    """Log likelihood of the two-equation model from the full covariance of each class's
    stacked (write, science) residuals, by scipy's multivariate normal."""
    from scipy.stats import multivariate_normal
    bw1, bw0, bs_w, bs_m, bs0, v1, v2, c12, s1, s2 = theta
    total = 0.0
    for g in np.unique(d["cid"]):
        m = d["cid"] == g
        n = int(m.sum())
        r = np.concatenate([d["write"][m] - bw1 * d["math"][m] - bw0,
                            d["science"][m] - bs_w * d["write"][m] - bs_m * d["math"][m] - bs0])
        Z = np.zeros((2 * n, 2))
        Z[:n, 0] = 1
        Z[n:, 1] = 1
        S = np.array([[v1, c12], [c12, v2]])
        V = Z @ S @ Z.T + np.diag(np.r_[np.full(n, s1), np.full(n, s2)])
        total += multivariate_normal(np.zeros(2 * n), V).logpdf(r)
    return total


def test_standard_errors_are_the_observed_information_of_the_dense_likelihood(demo):
    import pandas as pd
    df = pd.read_csv(DATA / "hsbdemo.csv")
    d = {k: df[k].to_numpy(float) for k in ("cid", "write", "math", "science")}
    names = [("write", "math"), ("write", "_cons"), ("science", "write"), ("science", "math"),
             ("science", "_cons"), ("/", "var(M1[cid])"), ("/", "var(M2[cid])"),
             ("/", "cov(M1[cid],M2[cid])"), ("/", "var(e.write)"), ("/", "var(e.science)")]
    idx = [demo.e.coef_index(*n) for n in names]
    th = np.asarray(demo.e.b, float)[idx]
    assert _dense_ll(th, d) == pytest.approx(REF["two_gaussian"]["ll"], abs=1e-5)
    h = 1e-5 * np.maximum(np.abs(th), 0.1)       # small: Sigma is close to singular
    n = th.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            ei, ej = np.eye(n)[i] * h[i], np.eye(n)[j] * h[j]
            H[i, j] = H[j, i] = (_dense_ll(th + ei + ej, d) - _dense_ll(th + ei - ej, d)
                                 - _dense_ll(th - ei + ej, d) + _dense_ll(th - ei - ej, d)) / (4 * h[i] * h[j])
    se_dense = np.sqrt(np.diag(np.linalg.inv(-H)))
    V = np.asarray(demo.e.V, float)
    assert np.sqrt(V[idx, idx]) == pytest.approx(se_dense, rel=2e-3)


def test_indirect_effect_by_nlcom_is_the_delta_method(demo):
    ok(demo, "nlcom _b[science:write]*_b[write:math]")
    i, j = demo.e.coef_index("science", "write"), demo.e.coef_index("write", "math")
    b = np.asarray(demo.e.b, float)
    V = np.asarray(demo.e.V, float)
    grad = np.zeros(b.size)
    grad[i], grad[j] = b[j], b[i]
    rb = demo.r.matrices["b"].values.ravel()
    rV = demo.r.matrices["V"].values
    assert rb[0] == pytest.approx(b[i] * b[j], rel=1e-12)
    assert np.sqrt(rV.ravel()[0]) == pytest.approx(np.sqrt(grad @ V @ grad), rel=1e-10)


def test_output_layout(demo):
    out = ok(demo, "gsem")
    lines = out.splitlines()
    assert any(ln.startswith("Generalized structural equation model") and ln.endswith("Number of obs = 200")
               for ln in lines)
    for want in ("Response: write", "Family:   Gaussian", "Link:     Identity",
                 "Log likelihood = -1245.0525", " ( 1)  [write]M1[cid] = 1",
                 " ( 2)  [science]M2[cid] = 1", "     M1[cid] |          1  (constrained)",
                 " cov(M1[cid],|", "var(e.scie~e)|"):
        assert any(ln.rstrip().startswith(want.rstrip()) or ln.rstrip() == want.rstrip() for ln in lines), want
    assert " var(M1[cid])|   95.12" in out
    names = [f"{e}:{n}" for e, n in demo.e.names]
    assert names == ["write:math", "write:M1[cid]", "write:_cons", "science:write", "science:math",
                     "science:M2[cid]", "science:_cons", "/:var(M1[cid])", "/:var(M2[cid])",
                     "/:cov(M1[cid],M2[cid])", "/:var(e.write)", "/:var(e.science)"]
    assert ok(demo, "display _b[/var(M1[cid])] - _b[write:M1[cid]]").strip().startswith("94.12")


def test_predicted_latent_variables_are_the_posterior_means(demo):
    import pandas as pd
    s = demo
    ok(s, "capture drop u1 u2")
    ok(s, "predict u1 u2, latent")
    df = pd.read_csv(DATA / "hsbdemo.csv")
    b = lambda eq, n: _b(s, eq, n)
    S = np.array([[b("/", "var(M1[cid])"), b("/", "cov(M1[cid],M2[cid])")],
                  [b("/", "cov(M1[cid],M2[cid])"), b("/", "var(M2[cid])")]])
    u1 = np.asarray(s.data.var("u1").values, float)
    u2 = np.asarray(s.data.var("u2").values, float)
    for g in (1, 7, 20):
        m = (df["cid"] == g).to_numpy()
        n = int(m.sum())
        r = np.r_[df["write"][m] - b("write", "math") * df["math"][m] - b("write", "_cons"),
                  df["science"][m] - b("science", "write") * df["write"][m]
                  - b("science", "math") * df["math"][m] - b("science", "_cons")]
        Z = np.zeros((2 * n, 2))
        Z[:n, 0] = 1
        Z[n:, 1] = 1
        V = Z @ S @ Z.T + np.diag(np.r_[np.full(n, b("/", "var(e.write)")),
                                        np.full(n, b("/", "var(e.science)"))])
        post = S @ Z.T @ np.linalg.solve(V, r)
        assert [u1[m][0], u2[m][0]] == pytest.approx(post, rel=1e-5)
    ok(s, "capture drop mw")
    ok(s, "predict mw, mu outcome(write)")
    mw = np.asarray(s.data.var("mw").values, float)
    want = b("write", "math") * df["math"] + b("write", "_cons") + u1
    assert mw == pytest.approx(want.to_numpy(), rel=1e-6)


def test_covariance_fixed_at_zero_matches_nlme_diagonal():
    s = csv_session("tests/data/gsem/hsbdemo.csv")
    ok(s, TWO.replace(", nolog", ", cov(M1[cid]*M2[cid]@0) nolog"))
    r = REF["two_gaussian_nocov"]
    assert s.e.scalars["ll"] == pytest.approx(r["ll"], abs=1e-6)
    assert _b(s, "science", "write") == pytest.approx(r["beta"][2], rel=1e-5)
    assert s.e.coef_index("/", "cov(M1[cid],M2[cid])") < 0


def test_clustered_standard_errors_without_latent_variables():
    s = csv_session("tests/data/gsem/hsbdemo.csv")
    out = ok(s, "gsem (write <- math) (science <- write math), vce(cluster cid)")
    assert "(Std. err. adjusted for 20 clusters in cid)" in out
    r = REF["cluster"]
    se = np.sqrt(np.diag(np.asarray(s.e.V, float)))
    assert [_b(s, "write", "_cons"), _b(s, "write", "math")] == pytest.approx(r["b_write"], rel=1e-7)
    assert [se[s.e.coef_index("write", "_cons")], se[s.e.coef_index("write", "math")]] == \
        pytest.approx(r["se_write"], rel=1e-4)
    got = [se[s.e.coef_index("science", n)] for n in ("_cons", "write", "math")]
    assert got == pytest.approx(r["se_science"], rel=1e-4)
    assert s.e.scalars["N_clust"] == 20


def test_logit_random_intercept_laplace_and_quadrature():
    s = csv_session("tests/data/gsem/hsbdemo.csv")
    ok(s, "gsem (honors <- math M1[cid], logit), intmethod(laplace) nolog")
    r = REF["logit_agq1"]
    assert s.e.scalars["ll"] == pytest.approx(r["ll"], abs=2e-5)
    assert [_b(s, "honors", "_cons"), _b(s, "honors", "math")] == pytest.approx(r["beta"], rel=1e-3)
    assert _b(s, "/", "var(M1[cid])") == pytest.approx(r["var"], rel=2e-3)
    out = ok(s, "gsem (honors <- math M1[cid], logit) , nolog")
    assert "Family:   Bernoulli" in out and "Link:     Logit" in out
    r = REF["logit_agq25"]                     # 7 adaptive points against 25: close
    assert s.e.scalars["ll"] == pytest.approx(r["ll"], abs=2e-3)
    assert _b(s, "honors", "math") == pytest.approx(r["beta"][1], rel=2e-3)
    assert _b(s, "/", "var(M1[cid])") == pytest.approx(r["var"], rel=1e-2)
    gs = (s.e.scalars["ll"], _b(s, "honors", "math"), _b(s, "/", "var(M1[cid])"))
    ok(s, "melogit honors math || cid:")          # the same quadrature, run as melogit does
    assert s.e.scalars["ll"] == pytest.approx(gs[0], abs=1e-6)
    assert float(s.e.b[0]) == pytest.approx(gs[1], rel=1e-6)


def test_random_slope_equals_lmer_ml():
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    ok(s, "use hsb, clear")
    ok(s, "gsem (mathach <- ses c.ses#M1[id] M2[id]), nolog")
    r = REF["slope"]
    assert s.e.scalars["ll"] == pytest.approx(r["ll"], abs=1e-5)
    assert [_b(s, "mathach", "_cons"), _b(s, "mathach", "ses")] == pytest.approx(r["beta"], rel=1e-5)
    assert _b(s, "/", "var(M1[id])") == pytest.approx(r["var_ses"], rel=1e-3)
    assert _b(s, "/", "var(M2[id])") == pytest.approx(r["var_cons"], rel=1e-4)
    assert _b(s, "/", "cov(M1[id],M2[id])") == pytest.approx(r["cov"], rel=1e-3)
    assert _b(s, "/", "var(e.mathach)") == pytest.approx(r["var_e"], rel=1e-5)


def test_quadrature_on_gaussian_equations_is_exact():
    """The engine's Laplace and adaptive quadrature (used for non-gaussian responses) on the
    two gaussian equations at nlme's estimates give nlme's log likelihood."""
    import pandas as pd

    from hlmshell.engine import gsem_fit as gf
    from hlmshell.engine import gsem_marginal as gm
    from hlmshell.engine.gsem_model import Equation, GsemModel, Loading
    df = pd.read_csv(DATA / "hsbdemo.csv")
    N = len(df)
    one = np.ones(N)
    g = pd.factorize(df["cid"])[0]
    e1 = Equation("write", "gaussian", "identity", df["write"].to_numpy(float),
                  np.column_stack([df["math"], one]), np.ones(N, bool))
    e2 = Equation("science", "gaussian", "identity", df["science"].to_numpy(float),
                  np.column_stack([df["write"], df["math"], one]), np.ones(N, bool))
    m = GsemModel([e1, e2], [Loading(0, 0, one), Loading(1, 1, one)], 2, g, g.max() + 1, [(0, 1)])
    r = REF["two_gaussian"]
    th = np.r_[r["beta"], r["var1"], r["var2"], r["cov12"], r["s2"]]
    for method in ("laplace", "mvaghermite", "mcaghermite"):
        assert gf.total_ll(m, th, gm.Quadrature(m, method, 7)) == pytest.approx(r["ll"], abs=1e-6)
    assert gf.total_ll(m, th) == pytest.approx(r["ll"], abs=1e-6)


@pytest.mark.parametrize("line, rc", [
    ("gsem (write <- nosuchvar M1[cid])", 111),
    ("gsem (write <- math M1[nosuch])", 111),
    ("gsem (write <- math M1[cid>id])", 198),
    ("gsem (write <- math M1[cid], family(weibull))", 198),
    ("gsem (write <- math M1[cid], family(poisson) link(logit))", 198),
    ("gsem (write <- math M1[cid]) (science <- math M1[id])", 198),
    ("gsem (write <- science) (science <- write)", 198),
    ("gsem (write <- math M1[cid]", 198),
    ("gsem write <- math", 198),
    ("gsem (write <- math M1[cid]) [fw=female]", 101),
    ("gsem (write <- math M1[cid]) if math > 1000", 2000),
    ("gsem (write <- math M1[cid]), intmethod(bogus)", 198),
    ("gsem (write <- math M1[cid]), vce(bootstrap)", 198),
    ("gsem (write <- math M1[cid]), cov(M1[cid]*M9[cid])", 198),
    ("gsem (write <- math M1[cid]), bogusoption", 198),
    ("gsem (write <- math@2 M1[cid])", 198),
    ("gsem (write <- math M1[cid] M1[cid])", 198),
    ("gsem (write <- math M1[cid]), vce(cluster female)", 198),
    ("gsem (write <- math M1[cid]), means(M1[cid]@3)", 198),
    ("gsem (write <- c.math#M1[cid]#M2[cid])", 198),
])
def test_bad_input(line, rc):
    s = csv_session("tests/data/gsem/hsbdemo.csv")
    before = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert s.e is before


def test_replay_without_results_and_predict_checks():
    s = csv_session("tests/data/gsem/hsbdemo.csv")
    assert run(s, "gsem")[0] == 301
    ok(s, "gsem (write <- math M1[cid]), nolog")
    assert run(s, "predict a b, latent")[0] == 103
    assert run(s, "predict a, mu outcome(science)")[0] == 111
    assert run(s, "predict a, pearson")[0] == 198


def test_gaussian_and_logit_equations_against_brute_force_integration(tmp_path):
    """Correlated class effects in a gaussian and a logit equation (with the path y -> b): the
    log likelihood at gsem's estimates, integrated here per class on a 60 x 60 Gauss-Hermite
    grid over the standardized effects (no adaptation), is gsem's e(ll); and the score there
    is ~0 (a maximum of that likelihood)."""
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    rng = np.random.default_rng(7)
    G, n = 30, 10
    u = rng.multivariate_normal([0, 0], [[1.0, 0.4], [0.4, 0.8]], G)
    cid = np.repeat(np.arange(1, G + 1), n)
    x = rng.normal(size=G * n)
    y = 1 + 0.5 * x + u[cid - 1, 0] + rng.normal(size=G * n)
    b = (rng.uniform(size=G * n) < 1 / (1 + np.exp(-(-0.5 + x + 0.3 * y + u[cid - 1, 1])))).astype(int)
    path = tmp_path / "sim.csv"
    np.savetxt(path, np.column_stack([cid, x, y, b]), delimiter=",", header="cid,x,y,b",
               comments="", fmt="%.17g")
    s = Session(out=Capture())
    ok(s, f'import delimited "{path}", clear asdouble')
    ok(s, "gsem (y <- x M1[cid]) (b <- y x M2[cid], logit), nolog")
    th = {k: _b(s, *k.split("|")) for k in ("y|x", "y|_cons", "b|y", "b|x", "b|_cons",
                                              "/|var(M1[cid])", "/|var(M2[cid])",
                                              "/|cov(M1[cid],M2[cid])", "/|var(e.y)")}
    z, w = np.polynomial.hermite.hermgauss(60)
    Z1, Z2 = np.meshgrid(z * np.sqrt(2), z * np.sqrt(2), indexing="ij")
    W = np.outer(w, w).ravel() / np.pi

    def ll(t):
        S = np.array([[t["/|var(M1[cid])"], t["/|cov(M1[cid],M2[cid])"]],
                      [t["/|cov(M1[cid],M2[cid])"], t["/|var(M2[cid])"]]])
        L = np.linalg.cholesky(S)
        U = np.column_stack([Z1.ravel(), Z2.ravel()]) @ L.T
        total = 0.0
        for g in range(1, G + 1):
            m = cid == g
            ey = t["y|_cons"] + t["y|x"] * x[m]
            r = y[m][:, None] - ey[:, None] - U[:, 0][None, :]
            s2 = t["/|var(e.y)"]
            lg = np.sum(-0.5 * (np.log(2 * np.pi * s2) + r * r / s2), axis=0)
            eta = (t["b|_cons"] + t["b|x"] * x[m] + t["b|y"] * y[m])[:, None] + U[:, 1][None, :]
            lg += np.sum(b[m][:, None] * eta - np.logaddexp(0, eta), axis=0)
            total += np.log(np.sum(W * np.exp(lg - lg.max()))) + lg.max()
        return total
    assert ll(th) == pytest.approx(s.e.scalars["ll"], abs=2e-4)
    for k in ("b|y", "/|var(M2[cid])"):
        h = 1e-4 * max(abs(th[k]), 1)
        up, dn = dict(th), dict(th)
        up[k] += h
        dn[k] -= h
        assert abs((ll(up) - ll(dn)) / (2 * h)) < 2e-2


def test_robust_with_latent_variables_clusters_at_their_level():
    s = csv_session("tests/data/gsem/hsbdemo.csv")
    out = ok(s, "gsem (write <- math M1[cid]), vce(robust) nolog")
    assert "(Std. err. adjusted for 20 clusters in cid)" in out
    assert s.e.macros["clustvar"] == "cid" and s.e.scalars["N_clust"] == 20


def test_variance_at_its_boundary_still_reports():
    """ses given math has no class variance here: the fit ends with var() near 0, shown with
    whatever standard error the Hessian gives, without an error."""
    s = csv_session("tests/data/gsem/hsbdemo.csv")
    out = ok(s, "gsem (ses <- math M1[cid], ologit), nolog")
    assert "Family:   Ordinal" in out and "cut2 |" in out
    assert _b(s, "/", "var(M1[cid])") < 1e-4
    # MASS::polr(factor(ses) ~ math): the one-level ordinal logit it reduces to
    assert s.e.scalars["ll"] == pytest.approx(-202.9071998, abs=1e-5)
    assert _b(s, "/ses", "cut1") == pytest.approx(1.760509438, abs=2e-3)
    assert _b(s, "ses", "math") == pytest.approx(0.05735813232, rel=1e-3)
