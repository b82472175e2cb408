"""`mixed ..., residuals()` against nlme (lme/gls with corAR1, corARMA, corCompSymm, corSymm +
varIdent, corExp, varIdent by group), ML and REML, on public data the fits were not tuned on:
nlme's BodyWeight, Orthodont and Ovary and High School and Beyond.

The reference numbers are nlme 3.1's, written by tests/data/resid/make_nlme_reference.R into
nlme_reference.json (each with a self-check that recomputes its log likelihood from the
recorded parameters); R is not needed to run these tests. Log likelihoods to 1e-8 relative,
fixed effects and their standard errors to 1e-5, variance parameters to 1e-4.
"""
import json
import math
import os

import numpy as np
import pytest

import hlmshell
from hlmshell.data.dta import read_dta
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import ok, run

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(HERE)
REF = json.load(open(os.path.join(HERE, "data", "resid", "nlme_reference.json")))["models"]
HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")
IDENTIFIED = [k for k in REF if k != "b"]       # b: exchangeable beside a random intercept


def _session(model):
    s = Session(out=Capture())
    load = REF[model]["load"]
    if load.startswith("use hsb"):
        s.data = read_dta(HSB)
    else:
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            ok(s, load)
        finally:
            os.chdir(cwd)
    return s


def _fit(model, method):
    s = _session(model)
    ok(s, REF[model][method]["stata"] + " nolog")
    return s, s.e, REF[model][method]


def _rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


@pytest.mark.parametrize("method", ["ML", "REML"])
@pytest.mark.parametrize("model", IDENTIFIED)
def test_against_nlme(model, method):
    s, e, ref = _fit(model, method)
    assert _rel(e.scalars["ll"], ref["logLik"]) < 1e-8
    # c (ten covariance parameters for 27 subjects) is flat: its ll agrees to 5e-11 and
    # ours is the higher by 1e-8, but the fixed effects move in the 5th digit along the ridge
    tol = 1e-4 if model == "c" else 1e-5
    kf = e.k_f
    b = dict(zip([nm for _, nm in e.names[:kf]], e.b[:kf]))
    se = dict(zip([nm for _, nm in e.names[:kf]], np.sqrt(np.diag(e.V))[:kf]))
    for nm, v, sv in zip(ref["fixef"]["stata_names"], ref["fixef"]["values"], ref["fixef"]["se"]):
        assert abs(b[nm] - v) <= tol * max(1.0, abs(v)), nm
        assert _rel(se[nm], sv) < tol, nm
    fit = e.model.fit
    assert _rel(fit.sigma2, ref["sigma2"]) < 1e-4
    if "re_cov" in ref:
        names = ref["re_cov"]["names"]
        blk = e.model.blocks[0]
        idx = [blk.names.index(nm) for nm in names]
        C = np.asarray(fit.covs[0])[np.ix_(idx, idx)]
        R = np.asarray(ref["re_cov"]["matrix"])
        assert np.allclose(C, R, rtol=1e-4, atol=1e-6 * np.abs(R).max())
    _check_residual_params(e, ref)


def _check_residual_params(e, ref):
    m = e.model
    rs = m.fit.extra["residual"]
    vals = rs.row_values(m.fit.extra["phi"], math.log(math.sqrt(m.fit.sigma2)))
    labels = [r.label for r in rs.rows()]
    got = dict(zip(labels, vals))
    corr = ref.get("corr", {})
    kind = corr.get("type")
    if kind in ("ar1",) or (kind == "exp"):
        assert abs(got["rho"] - corr["rho"]) < 1e-4
    elif kind == "arma" and corr["p"]:
        for i, phi in enumerate(corr["phi"]):
            assert abs(got[f"phi{i + 1}"] - phi) < 1e-4
    elif kind == "arma":
        for i, th in enumerate(corr["theta"]):
            assert abs(got[f"theta{i + 1}"] - th) < 1e-4
    elif kind == "cs":
        assert abs(got["cov(e)"] - corr["cov_e"]) < 1e-4 * max(1.0, abs(corr["cov_e"]))
    elif kind == "unstructured":
        M = np.asarray(ref["resid_cov"]["matrix"])
        lev = ref["resid_cov"]["levels"]
        for i, a in enumerate(lev):
            assert _rel(got[f"var(e{a})"], M[i, i]) < 1e-4
            for j in range(i + 1, len(lev)):
                assert _rel(got[f"cov(e{a},e{lev[j]})"], M[i, j]) < 1e-4
    if "varident" in ref and kind != "unstructured":
        rows = rs.rows()
        var = [v for r, v in zip(rows, vals) if r.kind == "var"]
        assert np.allclose(var, ref["varident"]["var_by_level"], rtol=1e-4)


def test_unidentified_exchangeable_keeps_likelihood_and_fixed_part():
    """A random intercept beside an exchangeable residual covariance adds the same constant to
    every within-group covariance twice over: only the likelihood, the fixed part and var(time)
    are comparable (the split of the constant is not identified)."""
    for method in ("ML", "REML"):
        s, e, ref = _fit("b", method)
        assert _rel(e.scalars["ll"], ref["logLik"]) < 1e-8
        b = dict(zip([nm for _, nm in e.names[:e.k_f]], e.b[:e.k_f]))
        for nm, v in zip(ref["fixef"]["stata_names"], ref["fixef"]["values"]):
            assert abs(b[nm] - v) <= 1e-5 * max(1.0, abs(v))


def test_table_layout_ar1():
    s = _session("a")
    out = ok(s, REF["a"]["ML"]["stata"] + " nolog")
    lines = out.splitlines()
    i = lines.index("Residual: AR(1)              |")
    assert lines[i + 1].startswith("                         rho |    .505778")
    assert lines[i + 2].startswith("                      var(e) |   28.3985")
    assert "LR test vs. linear model: chi2(4) = 1007.21" in out
    assert "Note: LR test is conservative and provided only for reference." in out
    names = [eq for eq, _ in s.e.names]
    assert names[-2:] == ["r_atr1", "lnsig_e"]
    assert s.e.macros["rstructure"] == "ar" and s.e.macros["timevar"] == "wk"
    assert s.e.scalars["ar_p"] == 1 and s.e.scalars["k_res"] == 1


def e_names(s):
    return [eq for eq, _ in s.e.names]


def test_by_layout_and_value_labels():
    s = _session("h")
    ok(s, 'label define sex 0 "male" 1 "female"')
    ok(s, "label values female sex")
    out = ok(s, "mixed mathach female || id:, residuals(independent, by(female)) nolog stddev")
    assert "Residual: Independent,       |" in out
    assert "    by female                |" in out
    assert "                 male: sd(e) |    6.38442   .0788211      6.231788    6.540791" in out
    assert "               female: sd(e) |   6.094109   .0710347      5.956461    6.234936" in out
    assert e_names(s)[-2:] == ["r_lns2ose", "lnsig_e"]


def test_estat_wcorrelation_ar1_matches_the_structure():
    """Within a rat: V = Z G Z' + sigma^2 rho^|t-s|; its sd and correlations as r()."""
    s = _session("a")
    ok(s, REF["a"]["ML"]["stata"] + " nolog")
    out = ok(s, "estat wcorrelation, at(rat=2)")
    assert "Standard deviations and correlations for rat = 2:" in out
    ref = REF["a"]["ML"]
    G = np.asarray(ref["re_cov"]["matrix"])          # _cons, time
    rho, s2 = ref["corr"]["rho"], ref["sigma2"]
    rows = np.flatnonzero(np.asarray(s.data.values("rat")) == 2)
    t = np.asarray(s.data.values("time"))[rows]
    wk = np.asarray(s.data.values("wk"))[rows]
    Z = np.column_stack([np.ones(len(t)), t])
    V = Z @ G @ Z.T + s2 * rho ** np.abs(wk[:, None] - wk[None, :])
    sd = np.sqrt(np.diag(V))
    assert np.allclose(s.r.matrices["sd"].values.ravel(), sd, rtol=1e-4)
    assert np.allclose(s.r.matrices["Corr"].values, V / np.outer(sd, sd), rtol=1e-4)
    out = ok(s, "estat wcorrelation, covariance")
    assert "Covariances for rat = 1:" in out


def test_blups_after_ar1_match_nlme_formula():
    """u = G Z' V^-1 (y - X b) per rat, V with the AR(1) errors."""
    s = _session("a")
    ok(s, REF["a"]["ML"]["stata"] + " nolog")
    ok(s, "predict u1 u0, reffects")
    fit = s.e.model.fit
    y = np.asarray(s.data.values("weight"))
    t = np.asarray(s.data.values("time"))
    wk = np.asarray(s.data.values("wk"))
    rat = np.asarray(s.data.values("rat"))
    rows = rat == 3
    X = np.column_stack([t, np.ones(len(t))])[rows]
    e = y[rows] - X @ fit.beta
    rho = fit.extra["residual"].row_values(fit.extra["phi"], 0.0)[0]
    Gm = np.asarray(fit.covs[0])
    Z = X
    V = Z @ Gm @ Z.T + fit.sigma2 * rho ** np.abs(wk[rows][:, None] - wk[rows][None, :])
    u = Gm @ Z.T @ np.linalg.solve(V, e)
    assert np.allclose([s.data.values("u1")[rows][0], s.data.values("u0")[rows][0]], u, rtol=1e-8)


@pytest.mark.parametrize("text,rc,msg", [
    ("residuals(ar 1)", 198, "requires option t()"),
    ("residuals(foo)", 198, "invalid residual structure"),
    ("residuals(ar x, t(wk))", 198, "invalid"),
    ("residuals(ar 1, t(time) zz(1))", 198, "not allowed"),
    ("residuals(ar 1, t(rat))", 451, "repeated time values"),
    ("residuals(exchangeable, by(wk))", 459, "not constant"),
])
def test_bad_residuals_options(text, rc, msg):
    s = _session("a")
    before = s.data.n
    r, out = run(s, f"mixed weight time || rat: time, {text} nolog")
    assert r == rc and msg in out
    assert s.data.n == before


def test_invariant_to_location_and_scale_of_y_and_t_units():
    """Shifting and rescaling the outcome moves the estimates exactly as the model says."""
    s = _session("d")
    ok(s, "mixed distance age female || subject:, residuals(ar 1, t(occ)) nolog")
    ll0, b0 = s.e.scalars["ll"], s.e.b.copy()
    ok(s, "generate double d2 = 1000*distance + 1e6")
    ok(s, "mixed d2 age female || subject:, residuals(ar 1, t(occ)) nolog")
    assert abs(s.e.scalars["ll"] - (ll0 - s.e.scalars["N"] * math.log(1000))) < 1e-6 * abs(ll0)
    names = [nm for _, nm in s.e.names]
    assert abs(s.e.b[names.index("age")] - 1000 * b0[names.index("age")]) < 1e-6 * 1000
    rho_idx = [eq for eq, _ in s.e.names].index("r_atr1")
    assert abs(s.e.b[rho_idx] - b0[rho_idx]) < 1e-6


def test_vce_robust_with_ar1_matches_clubsandwich():
    """vce(robust) after an AR(1) fit: the fixed part's sandwich equals clubSandwich's
    vcovCR(lme, type = "CR0") times G/(G-1) (Stata's small-sample factor), G = 16 rats:
    SEs 30.948267615 (_cons) and 0.089600908 (time)."""
    s = _session("a")
    out = ok(s, REF["a"]["ML"]["stata"] + " nolog vce(robust)")
    assert "(Std. err. adjusted for 16 clusters in rat)" in out
    kf = s.e.k_f
    se = dict(zip([nm for _, nm in s.e.names[:kf]], np.sqrt(np.diag(s.e.V))[:kf]))
    assert _rel(se["_cons"], 30.948267615) < 1e-6
    assert _rel(se["time"], 0.089600908) < 1e-6
    assert s.e.macros["vcetype"] == "Robust" and "LR test" not in out


# ---- structures nlme does not fit: the likelihood recomputed densely from the table's numbers,
# and a local maximum in those numbers ---------------------------------------------------------
def _resid_cov(kind, vals, t, by):
    """R for one group from the table's rows (vals: label -> value; labels carry `k: ` by()
    prefixes), written out per structure independently of engine.residuals."""
    m = len(t)
    lag = np.abs(t[:, None] - t[None, :])
    pre = f"{int(by[0])}: " if by is not None else ""
    if kind == "toeplitz":
        R = np.eye(m)
        for k in range(1, 10):
            if f"{pre}rho{k}" in vals:
                R[lag == k] = vals[f"{pre}rho{k}"]
        return vals[f"{pre}var(e)"] * R
    if kind == "ar1":
        return vals[f"{pre}var(e)"] * vals[f"{pre}rho"] ** lag
    if kind == "exchangeable":
        return np.where(lag == 0, vals[f"{pre}var(e)"], vals[f"{pre}cov(e)"])
    if kind == "banded":
        R = np.zeros((m, m))
        for a in range(m):
            for b in range(m):
                ta, tb = int(t[a]), int(t[b])
                key = f"var(e{ta})" if a == b else f"cov(e{min(ta, tb)},e{max(ta, tb)})"
                R[a, b] = vals.get(key, 0.0)
        return R
    raise ValueError(kind)


def _dense_ll(y, X, Z, G, groups, Rs):
    """ML log likelihood with beta at its GLS value, group by group."""
    A = np.zeros((X.shape[1],) * 2)
    c = np.zeros(X.shape[1])
    parts = []
    for g, R in zip(groups, Rs):
        V = Z[g] @ G @ Z[g].T + R
        Vi = np.linalg.inv(V)
        A += X[g].T @ Vi @ X[g]
        c += X[g].T @ Vi @ y[g]
        parts.append((g, V, Vi))
    beta = np.linalg.solve(A, c)
    ll = 0.0
    for g, V, Vi in parts:
        e = y[g] - X[g] @ beta
        ll -= 0.5 * (len(e) * math.log(2 * math.pi) + np.linalg.slogdet(V)[1] + e @ Vi @ e)
    return ll


@pytest.mark.parametrize("kind,opt", [
    ("toeplitz", "residuals(toeplitz 2, t(occ))"),
    ("banded", "residuals(banded 1, t(occ))"),
    ("ar1", "residuals(ar 1, t(occ) by(female))"),
    # beside a random intercept an exchangeable structure is not identified: marginal model
    ("exchangeable", "noconstant residuals(exchangeable, by(female))"),
])
def test_structure_likelihood_recomputed_and_maximal(kind, opt):
    s = _session("d")
    ok(s, f"mixed distance age female || subject:, {opt} nolog")
    fit = s.e.model.fit
    assert fit.converged
    rs = fit.extra["residual"]
    rows = rs.rows()
    vals = rs.row_values(fit.extra["phi"], math.log(math.sqrt(fit.sigma2)))
    byvar = "female" if "by(" in opt else None

    labels = [(f"{r.by}: " if byvar else "") + r.label for r in rows]
    if byvar:     # the table's prefixes are the by() values: here 0 and 1, in that order
        labels = [lab.replace(f"{r.by}: ", f"{[0, 1][r.by]}: ") for lab, r in zip(labels, rows)]
    table = dict(zip(labels, vals))
    y = np.asarray(s.data.values("distance"), dtype=float)
    X = np.column_stack([s.data.values("age"), s.data.values("female"), np.ones(len(y))])
    Z = np.ones((len(y), 1))
    G = np.asarray(fit.covs[0], dtype=float).reshape(-1, 1)[:1, :1] if fit.covs[0].size \
        else np.zeros((1, 1))
    subj = np.asarray(s.data.values("subject"))
    occ = np.asarray(s.data.values("occ"), dtype=float)
    fem = np.asarray(s.data.values("female"))
    groups = [np.flatnonzero(subj == v) for v in np.unique(subj)]

    def ll_at(tab, Gm):
        Rs = [_resid_cov(kind, tab, occ[g], fem[g] if byvar else None) for g in groups]
        return _dense_ll(y, X, Z, Gm, groups, Rs)

    ll = ll_at(table, G)
    assert abs(ll - s.e.scalars["ll"]) < 1e-8 * abs(ll)
    for key in table:                       # no table number can be moved to a better fit
        for step in (-1e-3, 1e-3):
            moved = dict(table)
            moved[key] = table[key] * (1 + step) if table[key] else step
            try:
                assert ll_at(moved, G) <= ll + 1e-9
            except np.linalg.LinAlgError:
                pass
    for step in (-1e-3, 1e-3):
        assert ll_at(table, G * (1 + step)) <= ll + 1e-9


def test_postestimation_after_a_residual_structure():
    """rstandard whitens each child's residuals by the Cholesky factor of its R (Stata's
    definition under residuals()); estat icc refuses; estat sd names the structure's
    parameters; estimates store/replay keep the Residual: rows."""
    s = _session("d")
    ok(s, "mixed distance age female || subject:, residuals(ar 1, t(occ)) nolog")
    ok(s, "predict r, rstandard")
    ok(s, "predict f, fitted")
    fit = s.e.model.fit
    rho = math.tanh(fit.extra["phi"][0])
    y = np.asarray(s.data.values("distance"))
    f = np.asarray(s.data.values("f"))
    r = np.asarray(s.data.values("r"))
    subj = np.asarray(s.data.values("subject"))
    occ = np.asarray(s.data.values("occ"))
    for v in np.unique(subj)[:5]:
        g = np.flatnonzero(subj == v)
        g = g[np.argsort(occ[g])]
        R = fit.sigma2 * rho ** np.abs(occ[g][:, None] - occ[g][None, :])
        w = np.linalg.solve(np.linalg.cholesky(R), y[g] - f[g])
        assert np.allclose(r[g], w, rtol=1e-5, atol=1e-5)
    rc, out = run(s, "estat icc")
    assert rc == 321
    ok(s, "estat sd")
    cols = s.r.matrices["b"].colnames
    assert cols[-2:] == ["Residual:atr1", "Residual:sd(e)"]
    assert abs(s.r.matrices["b"].values[0, -2] - rho) < 1e-12
    ok(s, "estimates store ar1")
    ok(s, "mixed distance age || subject:, nolog")
    ok(s, "estimates restore ar1")
    out = ok(s, "mixed")
    assert "Residual: AR(1)              |" in out
