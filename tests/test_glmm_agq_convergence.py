"""Adaptive quadrature on binary panels with a large random-effect variance and many panels
whose outcomes are all 0 or all 1 (the pattern of Wooldridge's lfp panel, on which the
mean-variance adaptation used to fall into a 2-cycle and the outer iterations never ended).
A scaled-down simulation (3,000 panels of 5, sigma_u = 2) must converge quickly, and its log
likelihood must agree with lme4's glmer (reference numbers in tests/data/glmm_agq)."""
import json
import time
from pathlib import Path

import numpy as np

from hlmshell.engine import glmm
from hlmshell.engine import glmm_families as gf
from hlmshell.engine.vcparams import Structure

REF = json.loads((Path(__file__).parent / "data" / "glmm_agq" / "probit_constant_panels.json")
                 .read_text())


def _simulate(G=3000, T=5, seed=20261130):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), T)
    x1 = rng.normal(size=G * T)
    x2 = (rng.uniform(size=G * T) < 0.5).astype(float)
    u = 2.0 * rng.normal(size=G)
    y = (-0.5 + 0.5 * x1 - 0.5 * x2 + u[g] + rng.normal(size=G * T) > 0).astype(float)
    X = np.column_stack([np.ones(G * T), x1, x2])
    return glmm.GlmmData.build(y, X, np.ones((G * T, 1)), g)


def _fit(points):
    t0 = time.process_time()
    f = glmm.fit(_simulate(), gf.family("binomial", "probit"), Structure("identity", 1),
                 method="agq", points=points)
    return f, time.process_time() - t0


def test_constant_panels_converge_and_match_glmer():
    data = _simulate()
    share = np.add.reduceat(data.y, data.starts)
    assert np.mean((share == 0) | (share == 5)) > 0.5          # the pattern under test
    f12, cpu = _fit(12)
    assert f12.converged and f12.iterations < 30
    assert cpu < 20
    r12 = REF["glmer_nagq12"]
    # glmer adapts to the mode and curvature, we to the posterior mean and variance: the two
    # 12-point rules agree to ~1e-4 relative here
    assert abs(f12.ll - r12["ll"]) < 1e-4 * abs(r12["ll"])
    np.testing.assert_allclose(f12.beta, r12["beta"], atol=2e-2)
    assert abs(abs(f12.theta[0]) - r12["sigma_u"]) < 2e-2


def test_more_points_reach_glmer_nagq25():
    f30, _ = _fit(30)
    r = REF["glmer_nagq25"]
    assert f30.converged
    assert abs(f30.ll - r["ll"]) < 1e-5 * abs(r["ll"])
    np.testing.assert_allclose(f30.beta, r["beta"], atol=2e-3)
    assert abs(abs(f30.theta[0]) - r["sigma_u"]) < 3e-3
