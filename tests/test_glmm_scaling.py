"""One-level GLMM fits on a standardized design (engine.glmm.Scaling) and the exact Hessian of
the fixed-node quadrature sum (Problem.agq_hessian).

Why: estimates must not depend on a covariate's location or scale (a column shifted by 5,000
and multiplied by 1,000 is the same model), and the adaptive-quadrature Newton steps now use
the closed-form Hessian instead of finite differences of the gradient, so it is checked
against those differences here (independently computed, on small simulated data)."""
import numpy as np
import pytest

from hlmshell.engine import glmm, glmm_families as gf
from hlmshell.engine.lmm import _fd_hessian
from hlmshell.engine.vcparams import Structure


def _data(seed=1, n=600, G=60):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, G, n)
    x = rng.normal(size=n)
    u0, u1 = rng.normal(size=G) * 0.9, rng.normal(size=G) * 0.4
    eta = -0.3 + 0.8 * x + u0[g] + u1[g] * x
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return y, x, g


@pytest.mark.parametrize("fam, st, q", [
    (("binomial", "probit"), Structure("identity", 1), 1),
    (("binomial", "logit"), Structure("unstructured", 2), 2),
    (("poisson", "log"), Structure("independent", 2), 2),
])
def test_agq_hessian_matches_differences_of_the_fixed_node_gradient(fam, st, q):
    y, x, g = _data()
    if fam[0] == "poisson":
        y = np.random.default_rng(2).poisson(np.exp(0.3 * x + 0.2)).astype(float)
    X = np.column_stack([x, np.ones_like(x)])
    Z = np.ones((len(y), 1)) if q == 1 else np.column_stack([x, np.ones_like(x)])
    gd = glmm.GlmmData.build(y, X, Z, g)
    family = gf.family(*fam)
    prob = glmm.Problem(gd, family, st, "agq", 5)
    x0 = np.concatenate([glmm.glm_start(gd, family), st.start(0.8)])
    prob.dev_grad(x0)                        # adapt, then hold the nodes
    prob.freeze = True
    _, g0 = prob.dev_grad(x0)
    Hfd = _fd_hessian(lambda z: prob.dev_grad(z)[1], x0, g0, h=1e-7)
    H = prob.fixed_hessian(x0)
    assert np.max(np.abs(H - Hfd)) < 1e-5 * np.max(np.abs(H))


@pytest.mark.parametrize("method", ["laplace", "agq"])
def test_estimates_do_not_depend_on_location_and_scale(method):
    y, x, g = _data(seed=3)
    st = Structure("identity", 1)
    fam = gf.family("binomial", "logit")
    fits = []
    for a, c in ((1.0, 0.0), (1000.0, 5000.0)):
        X = np.column_stack([a * x + c, (a * x + c) ** 2 / 1e3, np.ones_like(x)])
        gd = glmm.GlmmData.build(y, X, np.ones((len(y), 1)), g)
        fit = glmm.fit(gd, fam, st, method=method, points=7)
        assert fit.converged
        V = glmm.observed_vcov(fit, st)
        fits.append((fit, V, X))
    (f1, V1, X1), (f2, V2, X2) = fits
    assert f2.ll == pytest.approx(f1.ll, abs=1e-6)
    # the same linear predictor, and the same variance of it at every row
    assert np.allclose(X1 @ f1.beta, X2 @ f2.beta, atol=1e-4)
    se1 = np.sqrt(np.einsum("ij,jk,ik->i", X1, V1[:3, :3], X1))
    se2 = np.sqrt(np.einsum("ij,jk,ik->i", X2, V2[:3, :3], X2))
    assert np.allclose(se1, se2, rtol=1e-3)
    assert V2[3, 3] == pytest.approx(V1[3, 3], rel=1e-3)
    assert np.sqrt(f2.cov[0, 0]) == pytest.approx(np.sqrt(f1.cov[0, 0]), rel=1e-5)
