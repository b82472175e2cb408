"""melogit / meprobit / mecloglog / mepoisson / meglm through the command line: the numbers are
lme4::glmer's (tests/data/glmm/glmer_reference.json, tight PIRLS tolerance) with
intmethod(laplace), Stata's layout of the table and the LR test, e(), and Stata's refusals."""
import json
import math
import os

import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import csv_session, ok, run

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(HERE)
REF = json.load(open(os.path.join(HERE, "data", "glmm", "glmer_reference.json")))


def _session(csv):
    return csv_session(f"tests/data/glmm/{csv}")


def _b(s):
    return dict(zip([f"{e}:{n}" for e, n in s.e.names], s.e.b))


def test_melogit_laplace_matches_glmer():
    s = _session("contraception.csv")
    out = ok(s, "melogit use age urban || district:, intmethod(laplace)")
    ref = REF["ri_laplace"]
    assert abs(s.e.scalars["ll"] - ref["logLik"]) < 1e-8 * abs(ref["logLik"])
    b = _b(s)
    assert b["use:_cons"] == pytest.approx(ref["fixef"][0], abs=1e-5)
    assert b["use:age"] == pytest.approx(ref["fixef"][1], abs=1e-6)
    assert b["use:urban"] == pytest.approx(ref["fixef"][2], abs=1e-5)
    assert b["/:var(_cons[district])"] == pytest.approx(ref["theta"] ** 2, rel=1e-4)
    se = dict(zip([n for _, n in s.e.names], np.sqrt(np.diag(s.e.V))))
    assert se["age"] == pytest.approx(ref["se"][1], rel=1e-4)
    assert se["urban"] == pytest.approx(ref["se"][2], rel=1e-4)
    lines = out.splitlines()
    assert "Mixed-effects logistic regression               Number of obs     =      1,934" in lines
    assert "Integration method: laplace" in lines
    assert any(ln.startswith("   var(_cons)|     .19153") for ln in lines)
    assert any(ln.startswith("LR test vs. logistic model: chibar2(01) = 38.46") for ln in lines)
    assert s.e.macros["cmd"] == "melogit" and s.e.scalars["k_r"] == 1


def test_random_slope_and_default_quadrature():
    s = _session("contraception.csv")
    ok(s, "melogit use age urban || district: urban, covariance(unstructured) intmethod(laplace) nolog")
    ref = REF["rs_laplace"]
    assert abs(s.e.scalars["ll"] - ref["logLik"]) < 1e-8 * abs(ref["logLik"])
    L = np.array([[ref["theta"][0], 0], [ref["theta"][1], ref["theta"][2]]])   # (Intercept), urban
    P = L @ L.T
    b = _b(s)
    assert b["/:var(urban[district])"] == pytest.approx(P[1, 1], rel=1e-4)
    assert b["/:var(_cons[district])"] == pytest.approx(P[0, 0], rel=1e-4)
    assert b["/:cov(urban[district],_cons[district])"] == pytest.approx(P[0, 1], rel=1e-4)
    out = ok(s, "melogit use age urban || district:")
    ref7 = REF["ri_agq7"]          # the same integral with 7 points (adaptation differs a little)
    assert abs(s.e.scalars["ll"] - ref7["logLik"]) < 1e-6 * abs(ref7["logLik"])
    assert "Integration method: mvaghermite                 Integration pts.  =          7" in out
    assert "Fitting fixed-effects model:" in out and "Refining starting values:" in out


def test_mepoisson_and_meglm_binomial_trials():
    s = _session("grouseticks.csv")
    ok(s, "mepoisson ticks year96 year97 height || brood:, intmethod(laplace) nolog")
    ref = REF["ticks_laplace"]
    assert abs(s.e.scalars["ll"] - ref["logLik"]) < 1e-8 * abs(ref["logLik"])
    s = _session("cbpp.csv")
    out = ok(s, "meglm incidence i.period || herd:, family(binomial) link(logit) binomial(size) "
                "intmethod(laplace) nolog")
    ref = REF["cbpp_laplace"]
    assert abs(s.e.scalars["ll"] - ref["logLik"]) < 1e-8 * abs(ref["logLik"])
    assert "LR test vs. logistic model" in out


@pytest.mark.parametrize("line,rc", [
    ("melogit urban age || district:", 0),
    ("generate one = 1", 0),
    ("melogit one age || district:", 2000),
    ("generate neg = -age", 0),
    ("mepoisson neg urban || district:", 459),
    ("generate two = 2", 0),
    ("meglm two age || district:, family(binomial) binomial(one)", 459),
    ("melogit use age || district: || urban:, intmethod(mcaghermite)", 198),
    ("melogit use age || district:, intmethod(foo)", 198),
])
def test_refusals_change_nothing(line, rc):
    s = _session("contraception.csv")
    if rc:
        for pre in ("generate one = 1", "generate neg = -age", "generate two = 2"):
            ok(s, pre)
        n_before, e_before = s.data.n, s.e
        r, out = run(s, line + " nolog" if "," in line else line + ", nolog")
        assert r == rc, out
        assert s.e is e_before and s.data.n == n_before


def test_estat_icc_latent_and_ic():
    """ICC of the latent logistic response: var/(var + pi^2/3), delta-method SE from e(V)."""
    s = _session("contraception.csv")
    ok(s, "melogit use age urban || district:, intmethod(laplace) nolog")
    names = [f"{e}:{n}" for e, n in s.e.names]
    j = names.index("/:var(_cons[district])")
    v, sv = s.e.b[j], math.sqrt(s.e.V[j, j])
    c = math.pi ** 2 / 3
    out = ok(s, "estat icc")
    assert "Residual intraclass correlation" in out
    assert s.r.scalars["icc2"] == pytest.approx(v / (v + c), rel=1e-12)
    assert s.r.scalars["se2"] == pytest.approx(sv * c / (v + c) ** 2, rel=1e-12)
    ok(s, "estat ic")
    ok(s, "mepoisson use age || district:, intmethod(laplace) nolog")
    rc, _ = run(s, "estat icc")
    assert rc == 321


def test_predict_after_melogit():
    """ebmodes are lme4's conditional modes (ranef) with their curvature SEs (condVar) --
    district 1..3: -0.60303284154, 0.04600294899, 0.18393994145; SEs 0.1873251770,
    0.3212350227, 0.4181107183 --; mu = expit(eta); fixedonly = expit(xb)."""
    s = _session("contraception.csv")
    ok(s, "melogit use age urban || district:, intmethod(laplace) nolog")
    ok(s, "predict um, reffects ebmodes reses(sm)")
    ok(s, "predict p")
    ok(s, "predict pf, pr fixedonly")
    ok(s, "predict e, eta")
    ok(s, "predict xb, xb")
    dist_ = np.asarray(s.data.values("district"))
    um = np.asarray(s.data.values("um"))
    sm = np.asarray(s.data.values("sm"))
    for d, ref, sref in [(1, -0.60303284154, 0.1873251770), (2, 0.04600294899, 0.3212350227),
                         (3, 0.18393994145, 0.4181107183)]:
        i = np.flatnonzero(dist_ == d)[0]
        assert um[i] == pytest.approx(ref, abs=2e-6)
        assert sm[i] == pytest.approx(sref, rel=1e-5)
    e = np.asarray(s.data.values("e"), dtype=float)
    assert np.allclose(np.asarray(s.data.values("p")), 1 / (1 + np.exp(-e)), rtol=1e-6)
    xb = np.asarray(s.data.values("xb"), dtype=float)
    assert np.allclose(np.asarray(s.data.values("pf")), 1 / (1 + np.exp(-xb)), rtol=1e-6)
    ok(s, "mixed age urban || district:, nolog")
    rc, _ = run(s, "predict m, mu")
    assert rc == 198


def test_odds_ratios():
    s = _session("contraception.csv")
    out = ok(s, "melogit use age urban || district:, or intmethod(laplace) nolog")
    b, se = s.e.b, np.sqrt(np.diag(s.e.V))
    names = [n for _, n in s.e.names]
    j = names.index("urban")
    row = next(ln for ln in out.splitlines() if ln.startswith("       urban |"))
    assert f"{math.exp(b[j]):.6f}"[:6] in row and "Odds ratio" in out
    assert "Note: _cons estimates baseline odds (conditional on zero random effects)." in out
    before = s.e
    rc, _ = run(s, "mepoisson use age || district:, or intmethod(laplace) nolog")
    assert rc == 198 and s.e is before


def test_menbreg_matches_glmmtmb():
    """menbreg with exposure on mlmRev's Mmmec: glmmTMB(deaths ~ uvb + (1|region) +
    offset(log(expected)), family = nbinom2) gives logLik -1116.0796815685, uvb
    -0.03938729738, _cons -0.13974106754, var(_cons) 0.1547542193, ln alpha -4.178857332;
    the one-level model (MASS::glm.nb) -1202.5328694726."""
    import hlmshell
    from hlmshell.data.dta import read_dta
    s = Session(out=Capture())
    s.data = read_dta(os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "melanoma.dta"))
    out = ok(s, "menbreg deaths uvb || region:, exposure(expected) intmethod(laplace) nolog")
    b = _b(s)
    assert s.e.scalars["ll"] == pytest.approx(-1116.0796815685, rel=1e-9)
    assert b["deaths:uvb"] == pytest.approx(-0.03938729738, rel=1e-5)
    assert b["deaths:_cons"] == pytest.approx(-0.13974106754, rel=1e-5)
    assert b["/:lnalpha"] == pytest.approx(-4.178857332, rel=1e-5)
    assert b["/:var(_cons[region])"] == pytest.approx(0.1547542193, rel=1e-4)
    assert s.e.scalars["ll_c"] == pytest.approx(-1202.5328694726, rel=1e-9)
    assert "    /lnalpha |  -4.17885" in out
    assert "LR test vs. nbinomial model: chibar2(01) = 172.91" in out


def test_mode_curvature_quadrature_is_glmers():
    """intmethod(mcaghermite) adapts the nodes at the modes and curvatures, as lme4's nAGQ
    does: the 7-point fit equals glmer(nAGQ = 7) (-1250.0625762157983)."""
    s = _session("contraception.csv")
    ok(s, "melogit use age urban || district:, intmethod(mcaghermite) nolog")
    ref = REF["ri_agq7"]
    assert s.e.scalars["ll"] == pytest.approx(ref["logLik"], rel=1e-10)
    b = _b(s)
    assert b["use:urban"] == pytest.approx(ref["fixef"][2], rel=1e-5)
    assert b["/:var(_cons[district])"] == pytest.approx(ref["theta"] ** 2, rel=1e-4)
    assert s.e.macros["intmethod"] == "mcaghermite"


def test_ordinal_models_match_clmm():
    """meologit / meoprobit on an ordinal outcome simulated from Contraception's covariates
    (tests/data/glmm/ordinal.csv; R: ordinal::clmm): Laplace logit logLik -1992.9553528827,
    cutpoints -0.48178086331 0.71342743033, age 0.04121968647, urban 0.57027097252,
    var 0.3701014586; the one-level clm -2060.6320383703; probit with 7 mode-curvature
    points (clmm nAGQ = 7) -1993.0592210805."""
    s = _session("ordinal.csv")
    out = ok(s, "meologit y age urban || district:, intmethod(laplace) nolog")
    b = _b(s)
    assert s.e.scalars["ll"] == pytest.approx(-1992.9553528827, rel=1e-10)
    assert s.e.scalars["ll_c"] == pytest.approx(-2060.6320383703, rel=1e-10)
    assert b["/:cut1"] == pytest.approx(-0.48178086331, rel=1e-5)
    assert b["/:cut2"] == pytest.approx(0.71342743033, rel=1e-5)
    assert b["y:age"] == pytest.approx(0.04121968647, rel=1e-5)
    assert b["/:var(_cons[district])"] == pytest.approx(0.3701014586, rel=1e-4)
    assert "y:_cons" not in b
    assert "       /cut1 |" in out and "LR test vs. ologit model" in out
    ok(s, "meoprobit y age urban || district:, intmethod(mcaghermite) nolog")
    assert s.e.scalars["ll"] == pytest.approx(-1993.0592210805, rel=1e-10)


def test_vce_robust_is_the_sandwich_of_the_groups_scores():
    """melogit, vce(robust): the fixed part's sandwich recomputed here from an independent
    likelihood -- each district's integral by 80-point Gauss-Hermite over u / sigma, its score
    in (b, ln sigma) by central differences -- with Stata's G/(G-1) factor and the inverse
    information of the same likelihood as the bread."""
    from numpy.polynomial.hermite_e import hermegauss
    s = _session("contraception.csv")
    out = ok(s, "melogit use age urban || district:, vce(robust) nolog")
    assert "(Std. err. adjusted for 60 clusters in district)" in out and "LR test" not in out
    b = _b(s)
    y = np.asarray(s.data.values("use"), float)
    X = np.column_stack([s.data.values("age"), s.data.values("urban"), np.ones(len(y))])
    g = np.asarray(s.data.values("district"))
    t, w = hermegauss(80)
    w = w / w.sum()

    def group_ll(theta):
        beta, lns = theta[:3], theta[3]
        eta = (X @ beta)[:, None] + np.exp(lns) * t[None, :]
        li = y[:, None] * eta - np.logaddexp(0, eta)
        out = []
        for gv in np.unique(g):
            m = g == gv
            out.append(np.log(np.sum(w * np.exp(li[m].sum(axis=0)))))
        return np.array(out)

    th = np.array([b["use:age"], b["use:urban"], b["use:_cons"],
                   0.5 * math.log(b["/:var(_cons[district])"])])
    k, h = len(th), 1e-5
    S = np.empty((len(np.unique(g)), k))
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        S[:, i] = (group_ll(th + e) - group_ll(th - e)) / (2 * h)
    for i in range(k):
        e = np.zeros(k)
        e[i] = 1e-4
        gp = np.array([(group_ll(th + e + d) - group_ll(th + e - d)).sum() / (2 * h)
                       for d in np.eye(k) * h])
        gm = np.array([(group_ll(th - e + d) - group_ll(th - e - d)).sum() / (2 * h)
                       for d in np.eye(k) * h])
        H[:, i] = (gp - gm) / 2e-4
    Vb = np.linalg.inv(-0.5 * (H + H.T))
    G = S.shape[0]
    Vr = Vb @ (S.T @ S) @ Vb * G / (G - 1)
    se = dict(zip([n for _, n in s.e.names], np.sqrt(np.diag(s.e.V))))
    assert se["age"] == pytest.approx(math.sqrt(Vr[0, 0]), rel=2e-3)
    assert se["urban"] == pytest.approx(math.sqrt(Vr[1, 1]), rel=2e-3)


def test_estat_group_and_recovariance_after_melogit():
    s = _session("contraception.csv")
    ok(s, "melogit use age urban || district: urban, covariance(unstructured) intmethod(laplace) nolog")
    ok(s, "estat group")
    assert s.r.matrices["N_g"][0, 0] == 60 and s.r.matrices["g_max"][0, 0] == 118
    ok(s, "estat recovariance")
    b = _b(s)
    C = s.r.matrices["cov"]
    assert C[0, 0] == pytest.approx(b["/:var(urban[district])"], rel=1e-12)
    assert C[0, 1] == pytest.approx(b["/:cov(urban[district],_cons[district])"], rel=1e-12)
