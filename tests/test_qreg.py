"""qreg against R's quantreg (tests/data/qreg/qreg_reference.R: simplex fits, the fitted-values
sparsity at tau +- Hall-Sheather h, se="nid" for vce(robust)) and against scipy's linprog solving
the check-function LP directly; header, e(), predict and errors."""
import json
import os

import numpy as np
import pytest

from session_run import ok, run

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "qreg", "qreg_reference.json")))


@pytest.fixture(scope="module")
def s():
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    s = Session(out=Capture())
    ok(s, "use hsb")
    ok(s, "keep in 1/600")
    return s


def _col(s, name):
    return np.asarray(s.data.var(name).values, dtype=float)


def _rho(r, tau):
    return float(np.sum(r * (tau - (r < 0))))


@pytest.mark.parametrize("tau", ["0.5", "0.25", "0.8"])
def test_against_quantreg(s, tau):
    ref = REF[tau]
    out = ok(s, f"qreg mathach ses female, quantile({tau}) nolog")
    e = s.e
    b = np.r_[e.b[2], e.b[:2]]                     # R orders (Intercept) first
    sc = e.scalars
    assert np.isclose(sc["sum_adev"], ref["sum_adev"], rtol=1e-10)
    if tau != "0.5":                  # the median of 600 has alternate solutions (same sum)
        assert np.allclose(b, ref["b"], rtol=1e-8)
    se = np.r_[e.se[2], e.se[:2]]
    assert np.allclose(se, ref["se_iid"], rtol=1e-7)
    assert np.isclose(sc["sparsity"], ref["sparsity"], rtol=1e-7)
    assert np.isclose(sc["bwidth"], ref["bwidth"], rtol=1e-12)
    assert sc["q_v"] == ref["q_v"]
    ok(s, f"qreg mathach ses female, quantile({tau}) vce(robust) nolog")
    se = np.r_[s.e.se[2], s.e.se[:2]]
    assert np.allclose(se, ref["se_robust"], rtol=1e-6)
    assert s.e.macros["vcetype"] == "Robust"


def test_against_linprog_and_header(s):
    from scipy.optimize import linprog
    y = _col(s, "mathach")
    X = np.column_stack([_col(s, "ses"), _col(s, "minority"), np.ones(len(y))])
    tau = 0.3
    out = ok(s, "qreg mathach ses minority, q(30)")
    n, p = X.shape
    c = np.r_[np.zeros(2 * p), tau * np.ones(n), (1 - tau) * np.ones(n)]
    lp = linprog(c, A_eq=np.hstack([X, -X, np.eye(n), -np.eye(n)]), b_eq=y, bounds=(0, None),
                 method="highs")
    blp = lp.x[:p] - lp.x[p:2 * p]
    assert np.isclose(s.e.scalars["sum_adev"], lp.fun, rtol=1e-10)
    assert np.allclose(s.e.b, blp, rtol=1e-7, atol=1e-9)
    raw = _rho(y - np.sort(y)[int(np.ceil(n * tau)) - 1], tau)
    assert np.isclose(s.e.scalars["sum_rdev"], raw)
    lines = out.splitlines()
    head = [ln for ln in lines if "Quantile regression" in ln][0]
    assert head.startswith(".3 Quantile regression") and head.endswith("Number of obs =        600")
    assert any(ln.startswith("  Raw sum of deviations") and "(about " in ln for ln in lines)
    pr2 = 1 - lp.fun / raw
    assert any(ln.startswith("  Min sum of deviations") and ln.endswith(f"Pseudo R2     =     {pr2:.4f}")
               for ln in lines)
    assert "Iteration" in out


def test_iid_se_formula_direct(s):
    """tau(1-tau) s^2 (X'X)^-1 with s from the linprog fits at tau +- h (numpy, scipy)."""
    from scipy.optimize import linprog
    from scipy.stats import norm
    y = _col(s, "mathach")
    X = np.column_stack([_col(s, "ses"), np.ones(len(y))])
    n, p = X.shape
    tau = 0.6
    x0 = norm.ppf(tau)
    h = n ** (-1 / 3) * norm.ppf(0.975) ** (2 / 3) * (1.5 * norm.pdf(x0) ** 2 / (2 * x0 ** 2 + 1)) ** (1 / 3)

    def lp(t):
        c = np.r_[np.zeros(2 * p), t * np.ones(n), (1 - t) * np.ones(n)]
        r = linprog(c, A_eq=np.hstack([X, -X, np.eye(n), -np.eye(n)]), b_eq=y, bounds=(0, None),
                    method="highs")
        return r.x[:p] - r.x[p:2 * p]
    sp = X.mean(axis=0) @ (lp(tau + h) - lp(tau - h)) / (2 * h)
    V = tau * (1 - tau) * sp ** 2 * np.linalg.inv(X.T @ X)
    ok(s, "qreg mathach ses, q(.6) nolog")
    assert np.allclose(s.e.se, np.sqrt(np.diag(V)), rtol=1e-7)
    assert s.e.scalars["df_r"] == n - 2


def test_predict_replay_and_errors(s):
    ok(s, "qreg mathach ses, nolog")
    ok(s, "capture drop qxb qr")
    out = ok(s, "predict qxb")
    assert "option xb assumed" in out
    ok(s, "predict qr, residuals")
    assert np.allclose(_col(s, "qr"), _col(s, "mathach") - _col(s, "qxb"), atol=1e-5)
    assert "Median regression" in ok(s, "qreg")
    assert run(s, "qreg mathach ses, quantile(0)")[0] == 198
    assert run(s, "qreg mathach ses, quantile(100)")[0] == 198
    assert run(s, "qreg mathach ses, vce(bogus)")[0] == 198
    assert run(s, "qreg mathach nosuch")[0] == 111
    assert run(s, "qreg mathach ses if ses > 99")[0] == 2000
    out = ok(s, "qreg mathach ses, vce(robust, residual bofinger) nolog")
    assert s.e.macros["denmethod"] == "residual" and s.e.macros["bwmethod"] == "bofinger"


def test_alternate_solutions_note(s):
    """The median of these 600 has a degenerate optimum (R's rq warns `Solution may be
    nonunique`, and its vertex differs from ours at the same minimum); the .25 quantile does not."""
    assert "note: alternate solutions exist." in ok(s, "qreg mathach ses female")
    assert "alternate solutions" not in ok(s, "qreg mathach ses female, q(.25)")


def test_margins_after_qreg(s):
    """margins after qreg: the linear prediction averaged over the sample with one factor level
    fixed, its delta-method variance from e(V), t tests on e(df_r) (numpy, scipy)."""
    from scipy.stats import t as tdist
    ok(s, "qreg mathach ses i.sector, nolog")
    b, V, df_r = s.e.b, s.e.V, s.e.scalars["df_r"]      # ses, 0b.sector, 1.sector, _cons
    out = ok(s, "margins sector")
    ses = _col(s, "ses")
    G = np.array([[ses.mean(), 0.0, float(lev), 1.0] for lev in (0, 1)])
    rb = np.asarray(getattr(s.r.matrices["b"], "values", s.r.matrices["b"])).ravel()
    rV = np.asarray(getattr(s.r.matrices["V"], "values", s.r.matrices["V"]))
    assert np.allclose(rb, G @ b, rtol=1e-10) and np.allclose(rV, G @ V @ G.T, rtol=1e-10)
    assert s.r.scalars["df_r"] == df_r and "P>|t|" in out and "Linear prediction" in out
    tab = np.asarray(getattr(s.r.matrices["table"], "values", s.r.matrices["table"]))
    lo = rb - tdist.ppf(0.975, df_r) * np.sqrt(np.diag(rV))
    assert np.allclose(tab[4], lo, rtol=1e-8)
