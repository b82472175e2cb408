"""vce(robust | cluster | hc2 | hc3) for `regress` and vce(robust | cluster) for `mixed`.

Reference numbers (literals) from tests/data/vce_robust_reference.R, run once:
  regress  R's sandwich: vcovHC HC1/HC2/HC3, vcovCL type "HC1" (Stata's G/(G-1) (n-1)/(n-k)).
  mixed    the sandwich written from its definition in R, independently of hlmshell: ML fit
           over Stata's e(b) metric, per-cluster log likelihoods from dense V_g, per-cluster
           scores by numDeriv (Richardson), bread = the model VCE (blockdiag of (X'V^-1X)^-1 and
           the inverse numerical Hessian of the profiled log likelihood), times G/(G-1);
           clubSandwich's vcovCR (CR0, times G/(G-1)) on nlme's ML fit for the fixed effects.
Layout: Stata 17 ("Linear regression" header without ANOVA table, "(Std. err. adjusted for
160 clusters in id)", "Robust" / "Robust HC3" over "std. err.", "Mixed-effects regression",
"Log pseudolikelihood", no LR test), as in Stata 17 logs of `xtmixed ..., vce(cluster c)`.
"""
import math
import os

import numpy as np
import pytest

import hlmshell
from hlmshell.data.dta import read_dta
from hlmshell.engine import sandwich
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import run

HERE = os.path.dirname(os.path.abspath(__file__))
HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")
THREE = os.path.join(HERE, "data", "vce_three_level.csv")


def _session(path=HSB):
    s = Session(out=Capture())
    if path.endswith(".dta"):
        s.data = read_dta(path)
    else:
        Interpreter(s).run_line(f'import delimited using "{path}", clear asdouble')
    return s


def se(s):
    """Standard errors of e(b) from a session's e() (or from results themselves)."""
    res = getattr(s, "e", s)
    return np.sqrt(np.diag(np.asarray(res.V, dtype=float)))


@pytest.fixture(scope="module")
def hsb():
    s = _session()
    for line in ("egen sid = group(id)", "generate district = floor((sid - 1) / 4)",
                 "generate str8 idstr = string(id)", "generate ses_k = 1000 * ses + 1e6"):
        rc, out = run(s, line)
        assert rc == 0, out
    return s


# --- regress -----------------------------------------------------------------------------------
R_REG_B = [2.88413010485, 1.96315028652, -1.40353751386, 12.52071450883]
R_REG_SE = {   # order ses sector female _cons (R's: (Intercept) first)
    "robust": [0.094682349068, 0.153812380825, 0.150180341646, 0.139351731336],
    "hc2": [0.0946926487064, 0.1538132173641, 0.1501801359648, 0.1393520713634],
    "hc3": [0.0947293257693, 0.1538568900892, 0.1502217538546, 0.1393912194732],
    "cluster id": [0.124297074012, 0.307357462090, 0.228252871493, 0.234773552207],
}


@pytest.mark.parametrize("vce", list(R_REG_SE))
def test_regress_robust_ses_match_sandwich(hsb, vce):
    rc, out = run(hsb, f"regress mathach ses sector female, vce({vce})")
    assert rc == 0, out
    assert hsb.e.b == pytest.approx(R_REG_B, rel=1e-10)
    assert se(hsb) == pytest.approx(R_REG_SE[vce], rel=1e-9)
    assert hsb.e.macros["vce"] == vce.split()[0]
    assert hsb.e.macros["vcetype"] == {"robust": "Robust", "hc2": "Robust HC2", "hc3": "Robust HC3",
                                       "cluster id": "Robust"}[vce]
    d = hsb.data
    X = np.column_stack([d.values("ses"), d.values("sector"), d.values("female"), np.ones(d.n)])
    y = d.values("mathach")
    e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    V_ols = (e @ e) / (d.n - 4) * np.linalg.inv(X.T @ X)
    assert np.asarray(hsb.e.matrices["V_modelbased"]) == pytest.approx(V_ols, rel=1e-9)


def test_regress_robust_layout_and_F(hsb):
    rc, out = run(hsb, "regress mathach ses sector female, vce(robust)")
    assert rc == 0
    lines = out.splitlines()
    assert lines[1:6] == [
        "Linear regression                               Number of obs     =      7,185",
        "                                                F(3, 7181)        =     528.81",
        "                                                Prob > F          =     0.0000",
        "                                                R-squared         =     0.1595",
        "                                                Root MSE          =      6.307"]
    assert lines[7:10] == [
        "-" * 78,
        "             |               Robust",
        "     mathach | Coefficient  std. err.      t    P>|t|     [95% conf. interval]"]
    assert lines[11] == "         ses |    2.88413   .0946823    30.46   0.000     2.698525    3.069735"
    assert hsb.e.scalars["F"] == pytest.approx(528.812476035, rel=1e-8)
    assert hsb.e.scalars["df_r"] == 7181 and "N_clust" not in hsb.e.scalars
    assert "Source |" not in out


def test_regress_cluster_layout_df_and_F(hsb):
    rc, out = run(hsb, "regress mathach ses sector female, vce(cluster id)")
    assert rc == 0
    lines = out.splitlines()
    assert lines[2] == "                                                F(3, 159)         =     263.63"
    assert lines[7] == "                                   (Std. err. adjusted for 160 clusters in id)"
    assert lines[9] == "             |               Robust"
    e = hsb.e
    assert e.scalars["df_r"] == 159 and e.scalars["N_clust"] == 160
    assert e.macros["clustvar"] == "id" and e.macros["vce"] == "cluster"
    assert e.scalars["F"] == pytest.approx(263.625710057, rel=1e-8)
    # t with G - 1 degrees of freedom: the interval of ses
    b, s_ = R_REG_B[0], R_REG_SE["cluster id"][0]
    from scipy import stats
    lo = b - stats.t.ppf(0.975, 159) * s_
    assert f"{lo:.6f}"[:8] in lines[12]


def test_regress_hc3_header(hsb):
    rc, out = run(hsb, "regress mathach ses sector female, vce(hc3)")
    assert rc == 0
    assert "             |             Robust HC3\n" in out


def test_regress_old_syntax_and_string_clusters(hsb):
    rc, _ = run(hsb, "regress mathach ses sector female, vce(cluster id)")
    ref = se(hsb)
    for cmd in ("regress mathach ses sector female, cluster(id)",
                "regress mathach ses sector female, robust cluster(id)",
                "regress mathach ses sector female, vce(cl idstr)"):
        rc, out = run(hsb, cmd)
        assert rc == 0, out
        assert se(hsb) == pytest.approx(ref, rel=1e-12)
        assert hsb.e.scalars["N_clust"] == 160
    assert "clusters in idstr)" in out
    rc, _ = run(hsb, "regress mathach ses sector female, robust")
    assert se(hsb) == pytest.approx(R_REG_SE["robust"], rel=1e-9)


def test_regress_robust_invariant_to_shift_and_scale(hsb):
    run(hsb, "regress mathach ses sector female, vce(cluster id)")
    b0, s0, F0 = hsb.e.b.copy(), se(hsb), hsb.e.scalars["F"]
    run(hsb, "regress mathach ses_k sector female, vce(cluster id)")
    assert hsb.e.b[0] * 1000 == pytest.approx(b0[0], rel=1e-9)
    assert se(hsb)[:3] * [1000, 1, 1] == pytest.approx(s0[:3], rel=1e-9)
    assert hsb.e.scalars["F"] == pytest.approx(F0, rel=1e-9)


def test_regress_cluster_string_with_missing_drops_rows():
    s = _session()
    run(s, "generate str8 cl = string(id)")
    run(s, 'replace cl = "" if id == 1224')
    rc, out = run(s, "regress mathach ses, vce(cluster cl)")
    assert rc == 0, out
    assert s.e.scalars["N"] == 7185 - 47 and s.e.scalars["N_clust"] == 159


@pytest.mark.parametrize("cmd, rc, msg", [
    ("regress mathach ses, vce(bogus)", 198, "vcetype 'bogus' not allowed"),
    ("regress mathach ses, vce(cluster)", 198, "invalid vce(cluster) option"),
    ("regress mathach ses, vce(cluster nosuch)", 111, "variable nosuch not found"),
    ("regress mathach ses, vce(robust id)", 198, "invalid vce() option"),
    ("regress mathach ses, vce(hc2) robust", 198, "options robust and vce(hc2) may not be combined"),
    ("regress mathach ses, vce(hc3) cluster(id)", 198, "options cluster() and vce(hc3) may not be combined"),
    ("regress mathach ses, vce(cluster id) cluster(sector)", 100,
     "options cluster() and vce(cluster) are in conflict"),
])
def test_regress_vce_errors_leave_session_alone(hsb, cmd, rc, msg):
    run(hsb, "regress mathach ses")
    before = hsb.e
    code, out = run(hsb, cmd)
    assert code == rc and msg in out
    assert hsb.e is before and "Traceback" not in out


# --- mixed: against the R reference --------------------------------------------------------------
def test_mixed_robust_unstructured_matches_reference(hsb):
    rc, out = run(hsb, "mixed mathach ses sector || id: ses, covariance(unstructured) vce(robust)")
    assert rc == 0, out
    e = hsb.e
    assert e.scalars["ll"] == pytest.approx(-23298.6961969, rel=1e-10)
    assert e.b == pytest.approx([2.387619646824, 2.537674348289, 11.474203048764, -0.435962124725,
                                 0.679960248042, 0.628585278013, 1.802785717338], rel=2e-6)
    # fixed effects: R's definition and clubSandwich's CR0 * G/(G-1) (0.225605941438,
    # 0.119395721895, 0.353275919315 for _cons, ses, sector) agree to 2e-7
    assert se(e) == pytest.approx([0.11939570272055, 0.35327582107423, 0.22560589824556,
                                   0.28055352092466, 0.08164024339635, 0.34131998855598,
                                   0.00977003404869], rel=2e-6)
    assert e.scalars["chi2"] == pytest.approx(557.602793558, rel=1e-6)
    assert e.scalars["N_clust"] == 160
    assert e.macros["vce"] == "cluster" and e.macros["vcetype"] == "Robust"
    assert e.macros["clustvar"] == "id" and e.macros["title"] == "Mixed-effects regression"
    for k in ("ll_c", "chi2_c", "df_c", "p_c"):
        assert k not in e.scalars
    V0 = np.asarray(e.matrices["V_modelbased"])
    assert np.sqrt(np.diag(V0)) == pytest.approx([0.117364830957, 0.342070114336, 0.229819362926,
                                                  0.277309415081, 0.074024178719, 0.318789588248,
                                                  0.008536677258], rel=2e-5)


def test_mixed_robust_layout(hsb):
    rc, out = run(hsb, "mixed mathach ses sector || id: ses, covariance(unstructured) vce(robust)")
    lines = out.splitlines()
    assert "Iteration 0:   log pseudolikelihood = -23298.696  " in lines
    i = lines.index("Mixed-effects regression                        Number of obs     =      7,185")
    assert lines[i + 6] == "                                                Wald chi2(2)      =     557.60"
    assert lines[i + 7] == "Log pseudolikelihood = -23298.696               Prob > chi2       =     0.0000"
    assert lines[i + 8:i + 13] == [
        "",
        "                                   (Std. err. adjusted for 160 clusters in id)",
        "-" * 78,
        "             |               Robust",
        "     mathach | Coefficient  std. err.      z    P>|z|     [95% conf. interval]"]
    assert "         ses |    2.38762   .1193957    20.00   0.000     2.153608    2.621631" in lines
    j = lines.index("  Random-effects parameters  |   Estimate   std. err.     [95% conf. interval]")
    assert lines[j - 1] == "                             |               Robust"
    assert "                    var(ses) |   .4181462   .2346247      .1392236    1.255866" in lines
    assert "LR test" not in out and "Log likelihood" not in out
    # replay shows the same
    rc, again = run(hsb, "mixed")
    assert again.splitlines()[1:] == lines[i:]


def test_mixed_cluster_coarser_than_top_level(hsb):
    rc, out = run(hsb, "mixed mathach ses || id:, vce(cluster district)")
    assert rc == 0, out
    e = hsb.e
    assert e.b == pytest.approx([2.391499736796, 12.657623320631, 0.776804949079, 1.805861363236],
                                rel=2e-6)
    assert se(e) == pytest.approx([0.12030322143351, 0.16090183879352, 0.06399183799848,
                                   0.00913249313318], rel=2e-6)
    assert e.scalars["chi2"] == pytest.approx(395.171996464, rel=1e-6)
    assert e.scalars["N_clust"] == 40 and e.macros["clustvar"] == "district"
    assert "(Std. err. adjusted for 40 clusters in district)" in out


def test_mixed_robust_random_intercept(hsb):
    rc, out = run(hsb, "mixed mathach ses || id:, vce(robust)")
    assert se(hsb) == pytest.approx([0.11963956981093, 0.18787594713981, 0.07463743150406,
                                     0.00964393161315], rel=2e-6)
    assert hsb.e.scalars["chi2"] == pytest.approx(399.568266319, rel=1e-6)
    # the same model by the old syntax and by clustering on the top level itself
    for cmd in ("mixed mathach ses || id:, robust", "mixed mathach ses || id:, vce(cluster id)",
                "mixed mathach ses || id:, cluster(idstr)"):
        rc, out = run(hsb, cmd)
        assert rc == 0, out
        assert se(hsb) == pytest.approx([0.11963956981093, 0.18787594713981, 0.07463743150406,
                                         0.00964393161315], rel=2e-6)


@pytest.fixture(scope="module")
def three():
    s = _session(THREE)
    run(s, 'generate str4 regname = "r" + string(region)')
    return s


def test_mixed_robust_three_levels(three):
    rc, out = run(three, "mixed y x || school: x || class:, vce(robust)")
    assert rc == 0, out
    e = three.e
    assert e.scalars["ll"] == pytest.approx(-1751.7693778, rel=1e-10)
    assert e.b == pytest.approx([2.139997179396, 10.354250718192, -0.534488330249, 0.313693094465,
                                 0.427310150591, 1.107046089012], rel=1e-7)
    assert se(e) == pytest.approx([0.1754777588997, 0.3342937657633, 0.2723173743998,
                                   0.2009420290791, 0.1498613641621, 0.0283564055069], rel=1e-6)
    assert e.scalars["chi2"] == pytest.approx(148.724406136, rel=1e-6)
    assert e.scalars["N_clust"] == 30 and e.macros["clustvar"] == "school"


def test_mixed_robust_three_levels_user_clusters(three):
    ref = [0.1748422584244, 0.3636397610105, 0.2678726718911, 0.1816802718121, 0.1685298431507,
           0.0264210008678]
    for cmd in ("mixed y x || school: x || class:, vce(cluster region)",
                "mixed y x || school: x || class:, vce(cluster regname)"):
        rc, out = run(three, cmd)
        assert rc == 0, out
        assert se(three) == pytest.approx(ref, rel=1e-6)
        assert three.e.scalars["N_clust"] == 10
        assert three.e.scalars["chi2"] == pytest.approx(149.80751039, rel=1e-6)


def test_mixed_robust_exchangeable(three):
    rc, out = run(three, "mixed y x || school: x, covariance(exchangeable) vce(robust)")
    assert rc == 0, out
    assert three.e.b == pytest.approx([2.111040746523, 10.297068998845, 0.196396016075,
                                       -0.105501730785, 1.189906482238], rel=1e-7)
    assert se(three) == pytest.approx([0.1915516786249, 0.3309886843417, 0.1334698426203,
                                       0.1568125167230, 0.0310463480828], rel=1e-6)
    assert three.e.scalars["chi2"] == pytest.approx(121.456652594, rel=1e-6)


def test_mixed_scores_sum_to_zero_and_match_differences(three):
    """Internal check: at the estimates the top-level scores sum to ~0, and each group's
    analytic score equals a central difference of its own log likelihood."""
    run(three, "mixed y x || school: x || class:")
    m = three.e.model
    S, top = sandwich.group_scores(m.y, m.X, m.blocks, m.fit)
    assert np.abs(S.sum(0)).max() < 1e-5
    fit = m.fit
    fm = fit.extra["fixed_map"]
    yt, Xt = fm.apply(m.y, m.X)
    theta0 = np.concatenate([fit.extra["beta_std"], fit.vc_theta])
    p = len(fit.beta)
    c2 = fm.y_scale ** 2
    school = np.asarray(m.blocks[0].group)
    cls = np.asarray(m.blocks[1].group)
    X = np.asarray(m.X)
    g = 3
    rows = np.flatnonzero(top == g)

    def ll_g(theta):
        beta, s = theta[:p], theta[p:]
        v1 = np.exp(2 * s[:2]) / c2
        v2 = np.exp(2 * s[2]) / c2
        s2 = np.exp(2 * s[3]) / c2
        Z1 = np.column_stack([X[rows, 0], np.ones(len(rows))])
        C = (cls[rows][:, None] == cls[rows][None, :]).astype(float)
        V = Z1 @ np.diag(v1) @ Z1.T + v2 * C + s2 * np.eye(len(rows))
        r = yt[rows] - Xt[rows] @ beta
        _, logdet = np.linalg.slogdet(V)
        return -0.5 * (len(rows) * math.log(2 * math.pi) + logdet + r @ np.linalg.solve(V, r))

    assert len(np.unique(school[rows])) == 1
    h = 1e-5
    num = [(ll_g(theta0 + h * e) - ll_g(theta0 - h * e)) / (2 * h) for e in np.eye(len(theta0))]
    assert S[g] == pytest.approx(num, rel=1e-6, abs=1e-7)


def test_mixed_linear_model_robust(hsb):
    """No random-effects equation: the sandwich over observations, N/(N-1); over clusters,
    G/(G-1). The fixed part is White's HC0 times the factor."""
    y, x = hsb.data.values("mathach"), hsb.data.values("ses")
    X = np.column_stack([x, np.ones_like(x)])
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ b
    XtXi = np.linalg.inv(X.T @ X)
    n = len(y)
    hc0 = XtXi @ (X.T * e ** 2) @ X @ XtXi
    rc, out = run(hsb, "mixed mathach ses, vce(robust)")
    assert rc == 0, out
    assert se(hsb)[:2] == pytest.approx(np.sqrt(np.diag(hc0) * n / (n - 1)), rel=1e-9)
    assert hsb.e.macros["vce"] == "robust" and "clustvar" not in hsb.e.macros
    assert "adjusted for" not in out and "Mixed-effects regression" in out
    # lnsig_e: score r^2/s2 - 1, information 2n
    s2 = e @ e / n
    sc = e ** 2 / s2 - 1
    assert se(hsb)[2] == pytest.approx(math.sqrt((sc @ sc) / (2 * n) ** 2 * n / (n - 1)), rel=1e-9)


def test_mixed_robust_invariant_to_shift_and_scale(hsb):
    """ses_k = 1000 ses + 1e6 in the fixed part: its coefficient and standard error scale by
    1/1000, everything else but _cons (a different parameter now) is unchanged."""
    run(hsb, "mixed mathach ses sector || id: ses, covariance(unstructured) vce(robust)")
    s0, chi0, b0 = se(hsb), hsb.e.scalars["chi2"], hsb.e.b.copy()
    run(hsb, "mixed mathach ses_k sector || id: ses, covariance(unstructured) vce(robust)")
    s1, b1 = se(hsb), hsb.e.b
    assert b1[0] * 1000 == pytest.approx(b0[0], rel=1e-7)
    assert s1[0] * 1000 == pytest.approx(s0[0], rel=1e-6)
    assert s1[1] == pytest.approx(s0[1], rel=1e-6)
    assert s1[3:] == pytest.approx(s0[3:], rel=1e-6)
    assert hsb.e.scalars["chi2"] == pytest.approx(chi0, rel=1e-6)


@pytest.mark.parametrize("cmd, rc, msg", [
    ("mixed mathach ses || id:, vce(cluster female)", 459,
     "highest-level groups are not nested within female"),
    ("mixed mathach ses || id:, reml vce(robust)", 198,
     "REML not supported with robust variance estimation"),
    ("mixed mathach ses || _all: R.sector, vce(robust)", 498,
     "robust variances and pweights not supported when highest-level group encompasses all the data"),
    ("mixed mathach ses || id:, vce(hc3)", 198, "vcetype 'hc3' not allowed"),
    ("mixed mathach ses || id:, vce(cluster nosuch)", 111, "variable nosuch not found"),
])
def test_mixed_vce_errors_leave_session_alone(hsb, cmd, rc, msg):
    run(hsb, "regress mathach ses")
    before = hsb.e
    code, out = run(hsb, cmd)
    assert code == rc and msg in out, out
    assert hsb.e is before and "Traceback" not in out


def test_mixed_vce_oim_drops_the_lr_test(hsb):
    rc, out = run(hsb, "mixed mathach ses || id:, vce(oim)")
    assert rc == 0 and "LR test" not in out
    assert hsb.e.macros["vce"] == "oim" and "vcetype" not in hsb.e.macros
    assert "Mixed-effects ML regression" in out


def test_postestimation_uses_the_robust_vce(hsb):
    run(hsb, "mixed mathach ses sector || id: ses, covariance(unstructured) vce(robust)")
    rc, out = run(hsb, "test ses sector")
    assert rc == 0
    assert "chi2(  2) =  557.60" in out
    rc, out = run(hsb, "lrtest . .")
    assert rc != 0
