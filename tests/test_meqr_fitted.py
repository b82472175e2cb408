"""predict, fitted after meqrlogit (and xtmelogit): the fitted linear predictor xb + Zu with u
at its posterior mode, checked against modes found here district by district (scipy's
minimize_scalar on the penalized log likelihood at e(b)); after melogit Stata 17 documents the
statistic as eta and still accepts fitted (undocumented, in meglm_p.ado)."""
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from session_run import csv_session, ok, run


def test_meqrlogit_fitted_is_xb_plus_the_modes():
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "meqrlogit use age urban || district:, nolog")
    ok(s, "predict f, fitted")
    assert s.data.var("f").label == "Fitted linear predictor"
    b = {nm: float(v) for (eq, nm), v in zip(s.e.names, np.ravel(s.e.b)) if eq == "use"}
    assert s.e.names[-1][0] == "lns1_1_1"             # e(b) holds ln sd
    sig2 = np.exp(2 * float(np.ravel(s.e.b)[-1]))
    y = np.asarray(s.data.values("use"), float)
    xb = b["age"] * np.asarray(s.data.values("age")) + b["urban"] * np.asarray(s.data.values("urban")) + b["_cons"]
    g = np.asarray(s.data.values("district"))
    f = np.asarray(s.data.values("f"))
    for d in np.unique(g)[:12]:
        m = g == d

        def neg(u):
            eta = xb[m] + u
            return -(np.sum(y[m] * eta - np.logaddexp(0, eta)) - u * u / (2 * sig2))
        u = minimize_scalar(neg, bounds=(-10, 10), method="bounded",
                            options={"xatol": 1e-10}).x
        assert np.allclose(f[m], xb[m] + u, atol=1e-5)
    ok(s, "xtmelogit use age urban || district:")
    ok(s, "predict f2, fit")
    assert np.allclose(s.data.values("f2"), f, atol=1e-6)
    assert run(s, "predict f3, fitted xb")[0] == 198
    ok(s, "melogit use age urban || district:, nolog")
    ok(s, "predict f4, fitted")
    ok(s, "predict f5, eta")
    ok(s, "predict f6, fit")
    assert np.allclose(s.data.values("f4"), s.data.values("f5"))
    assert np.allclose(s.data.values("f6"), s.data.values("f5"))
    assert not np.allclose(s.data.values("f4"), s.data.values("f"))     # EB means, not modes
    assert run(s, "predict f7, fitted mu")[0] == 198
