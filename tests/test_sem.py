"""sem against R's lavaan (tests/data/sem/lavaan_reference.json, made by make_lavaan_reference.R
from the same CSVs), against Stata's own published output (UCLA's FAQ on saturated and baseline
models, hsbdemo data), and against hlmshell's mixed for a latent growth curve that is the same
model as a random-intercept-and-slope mixed model."""
import json
import math
import os

import numpy as np
import pytest

from session_run import csv_session, ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
REF = json.load(open(os.path.join(HERE, "data", "sem", "lavaan_reference.json")))
SIM = "tests/data/sem/sem_sim.csv"
HSB = "tests/data/sem/hsbdemo_sem.csv"

LGCM = ("sem (t1 <- i@1 s@0 _cons@0) (t2 <- i@1 s@1 _cons@0) (t3 <- i@1 s@2 _cons@0) "
        "(t4 <- i@1 s@3 _cons@0), latent(i s) means(i s)")
LGCM_COV = ("sem (t1 <- i@1 s@0 _cons@0 c1@b) (t2 <- i@1 s@1 _cons@0 c2@b) "
            "(t3 <- i@1 s@2 _cons@0 c3@b) (t4 <- i@1 s@3 _cons@0 c4@b) "
            "(i <- _cons x1 x2) (s <- _cons x1 x2), latent(i s) cov(e.i*e.s)")


def _our_name(row, endo, rename):
    lhs, op, rhs = rename.get(row["lhs"], row["lhs"]), row["op"], rename.get(row["rhs"], row["rhs"])
    def v(n):
        return f"e.{n}" if n in endo else n
    if op == "=~":
        return (rhs, lhs)
    if op == "~":
        return (lhs, rhs)
    if op == "~1":
        return (lhs, "_cons") if lhs in endo else ("/", f"mean({lhs})")
    if lhs == rhs:
        return ("/", f"var({v(lhs)})")
    return ("/", f"cov({v(lhs)},{v(rhs)})"), ("/", f"cov({v(rhs)},{v(lhs)})")


def _compare(s, rows, endo, rename=None, col="est", rtol=2e-5, se_rtol=2e-4,
             b=None, se=None):
    """Every parameter lavaan estimates that sem reports: estimate and standard error."""
    e = s.e
    names = list(e.names)
    b = np.asarray(e.b if b is None else b, float)
    se = e.se if se is None else se
    checked = 0
    for row in rows:
        nm = _our_name(row, endo, rename or {})
        cands = nm if isinstance(nm[0], tuple) else (nm,)
        hit = [names.index(c) for c in cands if c in names]
        if not hit:
            continue
        j = hit[0]
        assert b[j] == pytest.approx(row[col], rel=rtol, abs=1e-6), (nm, b[j], row[col])
        assert se[j] == pytest.approx(row["se"], rel=se_rtol, abs=1e-6), (nm, se[j], row["se"])
        checked += 1
    return checked


def _fit_stats(s, ref):
    sc = s.e.scalars
    fit = ref["fit"]
    assert sc["ll"] == pytest.approx(ref["ll"], rel=1e-8)
    assert sc["N"] == ref["N"]
    assert sc["chi2_ms"] == pytest.approx(fit["chisq"], abs=1e-5)
    assert sc["df_ms"] == fit["df"]
    assert sc["chi2_bs"] == pytest.approx(fit["baseline.chisq"], rel=1e-7)
    assert sc["df_bs"] == fit["baseline.df"]


@pytest.fixture(scope="module")
def sim():
    return csv_session(SIM)


@pytest.fixture(scope="module")
def hsb():
    return csv_session(HSB)


def test_ucla_model_matches_lavaan_and_statas_published_output(hsb):
    out = ok(hsb, "sem (Acad -> math science socst) (Acad <- read) (read <- female)")
    ref = REF["ucla"]
    _fit_stats(hsb, ref)
    endo = {"math", "science", "socst", "read", "Acad"}
    assert _compare(hsb, ref["params"], endo) == 15 - 1     # all but female's own moments
    # Stata 15's log of this model (UCLA FAQ "What are the saturated and baseline models in sem")
    assert "Log likelihood     = -2949.3343" in out
    assert " ( 1)  [math]Acad = 1" in out
    b = dict(zip(hsb.e.names, hsb.e.b))
    assert b[("read", "female")] == pytest.approx(-1.090231, abs=1e-6)
    assert b[("read", "_cons")] == pytest.approx(52.82418, abs=1e-5)
    assert b[("Acad", "read")] == pytest.approx(.620298, abs=1e-6)
    assert b[("science", "Acad")] == pytest.approx(.9874351, abs=1e-7)
    assert b[("science", "_cons")] == pytest.approx(19.85891, abs=2e-5)
    assert "LR test of model vs. saturated: chi2(5)" in out and "12.25" in out
    assert "female |  -1.090231   1.450201    -0.75   0.452    -3.932572     1.75211" in out


def test_estat_gof_all_matches_lavaan(hsb):
    ok(hsb, "quietly sem (Acad -> math science socst) (Acad <- read) (read <- female)")
    out = ok(hsb, "estat gof, stats(all)")
    fit = REF["ucla"]["fit"]
    r = hsb.r.scalars
    assert r["rmsea"] == pytest.approx(fit["rmsea"], rel=1e-6)
    assert r["lb90_rmsea"] == pytest.approx(fit["rmsea.ci.lower"], rel=1e-5)
    assert r["ub90_rmsea"] == pytest.approx(fit["rmsea.ci.upper"], rel=1e-5)
    assert r["pclose"] == pytest.approx(fit["rmsea.pvalue"], rel=1e-5)
    assert r["cfi"] == pytest.approx(fit["cfi"], rel=1e-7)
    assert r["tli"] == pytest.approx(fit["tli"], rel=1e-7)
    assert r["srmr"] == pytest.approx(fit["srmr_bentler_nomean"], rel=1e-6)
    k = hsb.e.scalars["rank"]
    assert r["aic"] == pytest.approx(-2 * REF["ucla"]["ll"] + 2 * k, rel=1e-9)
    for word in ("chi2_ms(5)", "RMSEA", "pclose", "AIC", "CFI", "TLI", "SRMR", "CD"):
        assert word in out
    default = ok(hsb, "estat gof")
    assert "chi2_ms(5)" in default and "RMSEA" not in default


@pytest.mark.parametrize("key,cmd,count", [
    ("lgcm", LGCM, 7),
    ("lgcm_eqv", LGCM + " var(e.t1@v e.t2@v e.t3@v e.t4@v)", 7),
    ("lgcm_cov", LGCM_COV, 13),
])
def test_growth_curves_match_lavaan(sim, key, cmd, count):
    ok(sim, cmd)
    ref = REF[key]
    _fit_stats(sim, ref)
    assert _compare(sim, ref["params"], {"t1", "t2", "t3", "t4", "i", "s"} if key == "lgcm_cov"
                    else {"t1", "t2", "t3", "t4"}) >= count


def test_path_model_with_correlated_errors_and_standardized(sim):
    ok(sim, "sem (t1 <- x1 x2) (t2 <- t1 x2), cov(e.t1*e.t2)")
    ref = REF["path"]
    _fit_stats(sim, ref)
    assert _compare(sim, ref["params"], {"t1", "t2"}, {"y1": "t1", "y2": "t2"}) >= 8
    out = ok(sim, "sem, standardized")
    assert "Standardized" in out
    from hlmshell.commands.sem_standardize import standardized_b_se
    b, se = standardized_b_se(sim.e.model)
    n = _compare(sim, ref["std"], {"t1", "t2"}, {"y1": "t1", "y2": "t2"}, col="est.std",
                 rtol=1e-5, se_rtol=1e-3, b=b, se=se)
    assert n >= 7


def test_cfa_standardized_and_robust_match_lavaan(sim):
    ok(sim, "sem (F -> y1 y2 y3) (F <- z), standardized")
    ref = REF["cfa"]
    _fit_stats(sim, ref)
    assert _compare(sim, ref["params"], {"y1", "y2", "y3", "F"}) >= 9
    from hlmshell.commands.sem_standardize import standardized_b_se
    b, se = standardized_b_se(sim.e.model)
    assert _compare(sim, ref["std"], {"y1", "y2", "y3", "F"}, col="est.std", rtol=1e-5,
                    se_rtol=1e-3, b=b, se=se) >= 8
    out = ok(sim, "sem (F -> y1 y2 y3) (F <- z), vce(robust)")
    assert "Robust" in out and "LR test" not in out
    assert _compare(sim, REF["robust"]["params"], {"y1", "y2", "y3", "F"}, se_rtol=1e-3) >= 9


def _mixed_long(s):
    ok(s, "preserve")
    ok(s, "gen long id = _n")
    ok(s, "keep id t1 t2 t3 t4")
    ok(s, "reshape long t, i(id) j(time)")
    ok(s, "replace time = time - 1")
    out = ok(s, "mixed t time || id: time, cov(unstructured) residuals(independent) ml")
    e = s.e
    ok(s, "restore")
    return e, out


def test_growth_curve_equals_mixed_with_unstructured_covariance(sim):
    """A linear LGCM with equal residual variances is mixed's random intercept and slope model:
    same log likelihood, fixed effects = latent means, random-effects (co)variances =
    var(i), var(s), cov(i,s)."""
    me, _ = _mixed_long(sim)
    ok(sim, LGCM + " var(e.t1@v e.t2@v e.t3@v e.t4@v)")
    e = sim.e
    b = dict(zip(e.names, e.b))
    assert e.scalars["ll"] == pytest.approx(me.scalars["ll"], abs=2e-5)
    mb = dict(zip(me.names, me.b))
    assert b[("/", "mean(s)")] == pytest.approx(mb[("t", "time")], abs=2e-5)
    assert b[("/", "mean(i)")] == pytest.approx(mb[("t", "_cons")], abs=2e-5)
    # mixed's e(b): ln sd and atanh corr of the random effects and ln sd of the residual
    sd_s = math.exp(mb[("lns1_1_1", "_cons")])
    sd_i = math.exp(mb[("lns1_1_2", "_cons")])
    rho = math.tanh(mb[("atr1_1_1_2", "_cons")])
    assert b[("/", "var(s)")] == pytest.approx(sd_s ** 2, rel=1e-4)
    assert b[("/", "var(i)")] == pytest.approx(sd_i ** 2, rel=1e-4)
    assert b[("/", "cov(i,s)")] == pytest.approx(rho * sd_i * sd_s, rel=1e-4, abs=1e-5)
    assert b[("/", "var(e.t1)")] == pytest.approx(math.exp(2 * mb[("lnsig_e", "_cons")]), rel=1e-4)


def test_postestimation(sim):
    ok(sim, "quietly sem (F -> y1 y2 y3) (F <- z)")
    ok(sim, "estimates store full")
    out = ok(sim, "estat eqgof")
    assert "mc2" in out and "overall" in out
    r2 = sim.r.matrices["eqfit"].values[:, 3]
    assert np.all((r2 > 0) & (r2 < 1))
    ok(sim, "quietly sem (F -> y1@1 y2@1 y3) (F <- z)")
    ok(sim, "estimates store constr")
    out = ok(sim, "lrtest full constr")
    chi2 = 2 * (sim.r.scalars["ll"] if "ll" in sim.r.scalars else 0)
    ll_full = REF["cfa"]["ll"]
    assert "LR chi2(1)" in out
    ok(sim, "estimates restore full")
    assert sim.e.scalars["ll"] == pytest.approx(ll_full, rel=1e-8)
    out = ok(sim, "estimates stats full constr")
    assert "full" in out and "constr" in out
    out = ok(sim, "nlcom _b[y2:F]/_b[y3:F]")
    ok(sim, "test _b[y2:F] = _b[y3:F]")
    ok(sim, "lincom _b[y3:F] - _b[y2:F]")
    ok(sim, "di _b[/var(e.y1)]")
    del chi2


def test_predict_latent_is_the_regression_score(sim):
    ok(sim, "quietly sem (F -> y1 y2 y3)")
    ok(sim, "predict Fhat, latent")
    ok(sim, "predict p1 p2 p3, xb")
    e = sim.e
    b = dict(zip(e.names, e.b))
    Y = np.column_stack([sim.data.var(v).values for v in ("y1", "y2", "y3")])
    lam = np.array([1.0, b[("y2", "F")], b[("y3", "F")]])
    nu = np.array([b[(v, "_cons")] for v in ("y1", "y2", "y3")])
    psi = np.diag([b[("/", f"var(e.{v})")] for v in ("y1", "y2", "y3")])
    phi = b[("/", "var(F)")]
    Sigma = phi * np.outer(lam, lam) + psi
    want = (Y - nu) @ np.linalg.solve(Sigma, phi * lam)   # Thomson's regression scores
    got = np.asarray(sim.data.var("Fhat").values, float)
    assert np.allclose(got, want, atol=1e-5)
    p2 = np.asarray(sim.data.var("p2").values, float)
    assert np.allclose(p2, nu[1] + lam[1] * want, atol=1e-5)
    ok(sim, "drop Fhat p1 p2 p3")


@pytest.mark.parametrize("line,rc", [
    ("sem (y1 <- nosuchvar)", 111),
    ("sem (y1 <- )", 198),
    ("sem y1 <- x1", 198),
    ("sem (y1 <- x1, nocons)", 198),
    ("sem (y1 <- x1), method(adf)", 198),
    ("sem (y1 <- x1), vce(bootstrap)", 198),
    ("sem (y1 <- x1), var(e.y9)", 111),
    ("sem (y1 <- x1), var(e.x2)", 198),
    ("sem (y1 <- x1) [fw=x2]", 101),
    ("sem (y1 <- x1) if x1 > 100", 2000),
    ("sem (y1 <- x1), bogus", 198),
    ("sem (y1 <- x1), covstructure(e._En, weird)", 198),
    ("sem (L -> y1)", 498),
])
def test_bad_input_leaves_session_unchanged(sim, line, rc):
    ok(sim, "quietly sem (F -> y1 y2 y3)")
    before = sim.e
    got, out = run(sim, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert sim.e is before


def test_replay_and_no_estimates():
    from hlmshell.session import Session
    from hlmshell.output.writer import Capture
    s = Session(out=Capture())
    assert run(s, "sem")[0] == 301
    assert run(s, "estat gof")[0] == 301


def test_covstructure_identity_is_the_equal_variance_constraint(sim):
    ok(sim, LGCM + " covstructure(e._OEn, identity)")
    _fit_stats(sim, REF["lgcm_eqv"])
    v = [sim.e.b[sim.e.names.index(("/", f"var(e.t{k})"))] for k in range(1, 5)]
    assert max(v) - min(v) < 1e-12


def test_unit_variance_identification_rescales_the_loadings(sim):
    """var(F@1) instead of the anchored first loading: the same fit, loadings times sd(F)."""
    ok(sim, "quietly sem (F -> y1 y2 y3)")
    b0 = dict(zip(sim.e.names, sim.e.b))
    ll0 = sim.e.scalars["ll"]
    ok(sim, "quietly sem (F -> y1 y2 y3), var(F@1)")
    b1 = dict(zip(sim.e.names, sim.e.b))
    assert sim.e.scalars["ll"] == pytest.approx(ll0, abs=1e-7)
    sd = math.sqrt(b0[("/", "var(F)")])
    for y in ("y1", "y2", "y3"):
        assert b1[(y, "F")] == pytest.approx(b0[(y, "F")] * sd, rel=1e-6)
    assert b1[("/", "var(F)")] == 1.0


def test_latent_names_and_noconstant(sim):
    assert run(sim, "sem (f -> y1 y2 y3)")[0] == 111          # lower case: a variable
    out = ok(sim, "sem (f -> y1 y2 y3), latent(f) nocapslatent nolog")
    assert "Latent:       f" in out
    ok(sim, "quietly sem (t2 <- t1), noconstant")
    assert ("t2", "_cons") not in sim.e.names
    X = np.column_stack([sim.data.var(v).values for v in ("t1", "t2")])
    slope = (X[:, 0] @ X[:, 1]) / (X[:, 0] @ X[:, 0])        # regression through the origin
    assert sim.e.b[sim.e.names.index(("t2", "t1"))] == pytest.approx(slope, rel=1e-7)


def test_fresh_process_do_file(tmp_path):
    """A do-file in a new process: sem, predict (sem_predict loaded by predict itself), estat."""
    import shutil
    import subprocess
    import sys
    shutil.copy(os.path.join(HERE, "data", "sem", "sem_sim.csv"), tmp_path / "d.csv")
    (tmp_path / "a.do").write_text(
        "import delimited d.csv, clear\n"
        "sem (ppltrst <-A) (t2 <-A) (t3 <-A), latent(A) stand\n".replace("ppltrst", "t1")
        + "predict Trust_latent, latent\nsummarize Trust_latent\nestat gof, stats(all)\n")
    p = subprocess.run([sys.executable, "-m", "hlmshell", "a.do"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Trust_latent |        300" in p.stdout and "Standardized" in p.stdout
    assert "Traceback" not in p.stdout + p.stderr and "Warning" not in p.stderr


def test_mlmv_full_information_matches_lavaan():
    s = csv_session(SIM)
    ok(s, "replace y2 = . in 1/40")
    ok(s, "replace y3 = . if mod(_n, 7) == 0")
    ok(s, "replace z = . if mod(_n, 11) == 0")
    assert run(s, "sem (F -> y1 y2 y3) (F <- z)")[0] == 0
    assert s.e.scalars["N"] < 300                         # ml: listwise
    out = ok(s, "sem (F -> y1 y2 y3) (F <- z), method(mlmv)")
    assert "Estimation method  = mlmv" in out and "mean(z)" in out
    _fit_stats(s, REF["mlmv"])
    assert _compare(s, REF["mlmv"]["params"], {"y1", "y2", "y3", "F"}, se_rtol=1e-3) >= 12


def test_estat_mindices_matches_lavaan(sim):
    """Score tests of the omitted error covariances (expected information, as lavaan's
    modindices): MI, EPC and the fully standardized EPC."""
    ok(sim, "quietly sem (F -> y1 y2 y3 t1 t2) (F <- z)")
    out = ok(sim, "estat mindices")
    assert "cov(e.t1,e.t2)" in out and "EPC = expected parameter change" in out
    from hlmshell.commands.sem_estat import mindices_rows
    rows = {r[2]: r for r in mindices_rows(sim.e.model) if r[0] == "cov"}
    n = 0
    for ref in REF["mindices"]:
        if ref["op"] != "~~" or ref["lhs"] == ref["rhs"]:
            continue
        key = f"cov(e.{ref['lhs']},e.{ref['rhs']})"
        assert key in rows, key
        _, _, _, mi, epc, sepc = rows[key]
        assert mi == pytest.approx(ref["mi"], rel=2e-3, abs=1e-5)
        assert epc == pytest.approx(ref["epc"], rel=2e-3, abs=1e-5)
        assert sepc == pytest.approx(ref["sepc.all"], rel=2e-3, abs=1e-5)
        n += 1
    assert n == 10
    m = sim.r.matrices["mindices"]
    assert m.values[:, 0].min() >= 3.84


def test_variable_lists_inside_paths(sim):
    ok(sim, "quietly sem (t1 <- c*@0 x1)")
    names = [n for eq, n in sim.e.names if eq == "t1"]
    assert names == ["c1", "c2", "c3", "c4", "x1", "_cons"]
    assert all(sim.e.b[sim.e.names.index(("t1", c))] == 0 for c in ("c1", "c2", "c3", "c4"))
    ok(sim, "quietly sem (t1 <- x1 - x2)")
    assert ("t1", "x2") in sim.e.names


def test_group_with_invariant_measurement_matches_lavaan(sim):
    """group(x2): loadings and intercepts shared (Stata's default ginvariant(mcoef mcons)),
    error variances and the factor's variance per group, its mean free in the second group."""
    out = ok(sim, "sem (F -> y1 y2 y3), group(x2)")
    ref = REF["group"]
    _fit_stats(sim, ref)
    assert "[*]" in out and "Note: [*] identifies parameter estimates constrained" in out
    names = list(sim.e.names)
    n = 0
    for row in ref["params"]:
        tag = f"{row['level']}.x2"
        lhs, op, rhs = row["lhs"], row["op"], row["rhs"]
        if op == "=~":
            nm = (rhs, f"{tag}#c.{lhs}")
        elif op == "~1":
            nm = (lhs, tag) if lhs != "F" else ("/", f"mean(F)#{tag}")
        elif op == "~~" and lhs == rhs:
            nm = ("/", f"var(e.{lhs})#{tag}" if lhs != "F" else f"var(F)#{tag}")
        else:
            continue
        j = names.index(nm)
        assert sim.e.b[j] == pytest.approx(row["est"], rel=2e-5, abs=1e-6), nm
        assert sim.e.se[j] == pytest.approx(row["se"], rel=2e-4, abs=1e-6), nm
        n += 1
    assert n == 2 * 11
    out = ok(sim, "estat gof, stats(chi2 ic)")
    assert sim.r.scalars["chi2_bs"] == pytest.approx(ref["fit"]["baseline.chisq"], rel=1e-7)
    for line in ("estat gof, stats(all)", "estat eqgof", "estat mindices", "predict q, latent"):
        assert run(sim, line)[0] == 198
    ok(sim, "quietly sem (F -> y1 y2 y3), group(x2) ginvariant(none)")
    assert sim.e.scalars["df_ms"] == 0
    assert run(sim, "sem (F -> y1 y2 y3), ginvariant(none)")[0] == 198
    assert run(sim, "sem (F -> y1 y2 y3), group(x2) ginvariant(bogus)")[0] == 198
