"""Nested adaptive quadrature (engine.glmm_multi.NestedQuad, Stata's default mvaghermite for
nested levels) on [ME] mepoisson's melanoma example,

    mepoisson deaths c.uv##c.uv, exposure(expected) || nation: || region:

(tests/data/glmm/mmmec.csv is mlmRev::Mmmec, the same data; uvb = uv). It used to run 100
iterations with the log likelihood falling and stop with "convergence not achieved" at
_cons .244, var(nation) .268: the regions' nodes were adapted to one mean and scale per region
for every nation node, far from the regions' posterior wherever the nation's effect is away
from its mean. Reference numbers: tests/data/me_melanoma_agq/make_reference.py, the
likelihood by the trapezoid rule on fine fixed grids (no hlmshell code), maximised by BFGS.
"""
import dataclasses
import json
import os

import numpy as np
import pytest

from session_run import csv_session, ok

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "me_melanoma_agq", "reference.json")))
CMD = "mepoisson deaths c.uvb##c.uvb, exposure(expected) || nation: || region:"


@pytest.fixture(scope="module")
def fitted():
    s = csv_session("tests/data/glmm/mmmec.csv")
    out = ok(s, CMD)
    return s, out


def test_reference_grid_is_converged():
    # the reference's own accuracy: halving both grid spacings changes nothing that matters
    assert abs(REF["ll"] - REF["ll_half_spacing"]) < 1e-8
    assert abs(REF["far_point"]["ll"] - REF["far_point"]["ll_half_spacing"]) < 1e-8


def test_default_fit_converges_to_the_maximum(fitted):
    s, out = fitted
    assert "convergence not achieved" not in out
    assert s.e.scalars["converged"] == 1
    # 7 points per level: the adaptive rule's maximum, within 1e-3 of the exact one
    assert abs(s.e.scalars["ll"] - REF["ll"]) < 1e-3
    b = np.asarray(s.e.b, dtype=float)
    np.testing.assert_allclose(b[:3], REF["b"], rtol=1e-3, atol=2e-6)
    np.testing.assert_allclose(b[3:], [REF["var_nation"], REF["var_region"]], rtol=2e-3)


def test_standard_errors(fitted):
    s, _ = fitted
    se = np.sqrt(np.diag(np.asarray(s.e.V, dtype=float)))
    ref = REF["se_b"] + [REF["se_var_nation"], REF["se_var_region"]]
    np.testing.assert_allclose(se, ref, rtol=1e-2)


@pytest.mark.parametrize("points, tol", [(7, 1e-4), (15, 1e-7)])
def test_quadrature_value_away_from_the_optimum(points, tol):
    """The integral itself at larger variances (nation .6, region .15), where nodes that do
    not follow the nation's node went wrong by several units (-1100.9 at 7 points)."""
    import pandas as pd
    from hlmshell.engine import glmm_multi as gm
    from hlmshell.engine.glmm_families import family
    from hlmshell.engine.types import RandomBlock
    from hlmshell.engine.vcparams import Structure
    d = pd.read_csv(os.path.join(HERE, "data", "glmm", "mmmec.csv"))
    n = len(d)
    uv = d.uvb.to_numpy(float)
    X = np.column_stack([uv, uv ** 2, np.ones(n)])
    nat = d.nation.to_numpy().astype(np.int64) - 1
    reg = np.unique(d.nation.astype(str) + "_" + d.region.astype(str), return_inverse=True)[1]
    blocks = [RandomBlock(nat, np.ones((n, 1)), ["_cons"], "identity", "nation", 1),
              RandomBlock(reg.astype(np.int64), np.ones((n, 1)), ["_cons"], "identity",
                          "region", 2)]
    data = gm.MultiData(d.deaths.to_numpy(float), X, np.log(d.expected.to_numpy(float)),
                        np.ones(n), blocks)
    far = REF["far_point"]
    x = np.r_[far["b"], np.sqrt(far["var_nation"]), np.sqrt(far["var_region"])]
    prob = gm.make_problem(data, family("poisson", "log"),
                           [Structure("identity", 1), Structure("identity", 1)], "agq", points)
    assert abs(prob.loglik(x) - far["ll"]) < tol


def test_information_does_not_depend_on_the_sign_of_lambda(fitted):
    """An identity level's Lambda = -sd has the likelihood of +sd; the observed information is
    taken at nodes adapted for the Stata-metric point, so it is the same whichever sign the
    optimiser ended at (held at nodes adapted for the other sign it was wrong: menbreg's
    standard errors on these data were off by factors of 3)."""
    from hlmshell.engine import glmm_multi as gm
    s, _ = fitted
    model = s.e.model
    fit = model.fit
    V1 = gm.observed_vcov(fit, model.structures)
    x2 = fit.x.copy()
    x2[-1] = -x2[-1]
    thetas2 = [t.copy() for t in fit.thetas]
    thetas2[-1] = -thetas2[-1]
    fit2 = dataclasses.replace(fit, x=x2, thetas=thetas2)
    fit2.extra["problem"].value(x2)        # nodes adapted at the mirrored point
    V2 = gm.observed_vcov(fit2, model.structures)
    np.testing.assert_allclose(V2, V1, rtol=1e-4, atol=1e-12)
