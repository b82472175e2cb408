"""`xtreg, fe | re | be | mle`: numbers against R's plm and nlme (tests/data/xtreg_reference.R,
run once; the numbers are literals here), against published Stata 17 output (Cameron and
Trivedi's PSID wage data, plm's Wages), Stata 17's layout, e(), vce(robust)/vce(cluster),
factor variables, replay and post-estimation, and errors (Stata's messages and codes, the
session unchanged).

Data: tests/data/grunfeld_xt.csv (plm's Grunfeld = Stata's `webuse grunfeld`), its unbalanced
version (firm f's years before 1934 + f dropped: T_i = 20, 19, ..., 11) and
tests/data/wages_xt.csv (plm's Wages with id, t and exp2).
"""
import math
import os

import numpy as np
import pandas as pd
import pytest

from hlmshell.commands._panel import set_panel
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.engine import panel as pn
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import ok, run

HERE = os.path.join(os.path.dirname(__file__), "data")
TOL = 1e-5            # coefficients and standard errors, relative (the acceptance criterion)
LL_TOL = 1e-6         # log likelihoods, relative


# --------------------------------------------------------------------------- fixtures
def dataset(frame: pd.DataFrame, floats=()) -> Dataset:
    """A Dataset from a frame; columns in `floats` stored as Stata floats (float32), as the
    published Stata runs had them."""
    ds = Dataset()
    for c in frame.columns:
        v = np.asarray(frame[c], dtype=np.float64)
        if c in floats:
            ds.add(Variable(c, v.astype(np.float32).astype(np.float64), "float"))
        else:
            ds.add(Variable(c, v, "double"))
    return ds


def grunfeld(unbalanced: bool = False) -> pd.DataFrame:
    d = pd.read_csv(os.path.join(HERE, "grunfeld_xt.csv"))
    if unbalanced:
        d = d[d.year >= 1934 + d.firm].reset_index(drop=True)
    return d


# Stata's grunfeld.dta (and import delimited) store the Grunfeld variables as floats; the
# published numbers are of those values
GRUNFELD_FLOATS = ("inv", "value", "capital")


def session_of(frame, floats=GRUNFELD_FLOATS) -> Session:
    s = Session(out=Capture())
    s.data = dataset(frame, floats)
    return s


@pytest.fixture()
def g():
    s = session_of(grunfeld())
    set_panel(s, "firm", "year")
    return s


@pytest.fixture()
def gu():
    s = session_of(grunfeld(unbalanced=True))
    set_panel(s, "firm", "year")
    return s


@pytest.fixture(scope="module")
def wages():
    w = pd.read_csv(os.path.join(HERE, "wages_xt.csv"))
    return w[["id", "t", "lwage", "exp", "exp2", "wks", "ed"]]


@pytest.fixture()
def w(wages):
    s = session_of(wages, floats=("lwage",))
    set_panel(s, "id", "t")
    return s


def close(a, b, tol=TOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert np.allclose(a, b, rtol=tol, atol=0), (a, b)


def coefs(s):
    """e(b) and standard errors of the depvar equation, slopes first then _cons."""
    e = s.e
    return np.asarray(e.b[: e.k_f]), np.asarray(e.se[: e.k_f])


# --------------------------------------------------------------------------- plm: balanced Grunfeld
def test_fe_against_plm_within(g):
    ok(g, "xtreg inv value capital, fe")
    b, se = coefs(g)
    close(b[:2], [0.110123804120718, 0.310065341300139])
    close(se[:2], [0.0118566942140438, 0.0173545027755526])
    # published Stata (xtreg invest mvalue kstock, fe on webuse grunfeld): _cons and the rest
    assert f"{b[2]:.5f}" == "-58.74393" and f"{se[2]:.5f}" == "12.45369"
    sc = g.e.scalars
    assert (round(sc["sigma_u"], 6), round(sc["sigma_e"], 6), round(sc["rho"], 8)) == (85.732501, 52.767964, .72525012)
    assert (round(sc["r2_w"], 4), round(sc["r2_b"], 4), round(sc["r2_o"], 4)) == (.7668, .8194, .8060)
    assert round(sc["corr"], 4) == -.1517
    assert (round(sc["F"], 2), sc["df_b"], sc["df_r"]) == (309.01, 2, 188)
    assert (round(sc["F_f"], 2), sc["df_a"]) == (49.18, 9)


def test_fe_u_is_plm_fixef_minus_cons(g):
    ok(g, "xtreg inv value capital, fe")
    ok(g, "predict u, u")
    u = pd.Series(g.data.values("u")).groupby(g.data.values("firm")).mean().to_numpy()
    fixef = [-70.29671745551036, 101.90581373061190, -235.57184100931724, -27.80929456045854,
             -114.61681279778472, -23.16129513463042, -66.55347353501462, -57.54565725157510,
             -87.22227241818902, -6.56784353738025]
    # the data are Stata floats, plm's doubles: u_i agree to the floats' precision
    assert np.allclose(u, np.array(fixef) - g.e.b[2], rtol=0, atol=1e-4)


def test_fe_cluster_is_plm_sss_with_statas_k(g):
    """Stata's xtreg, fe vce(cluster) scales the sandwich by G/(G-1) (N-1)/(N-k-1): its
    demeaned regression has a constant, and the absorbed panel means are not counted (the
    panels are nested within the clusters). plm's vcovHC(type="sss") takes K from the within
    model, which has no intercept: (N-1)/(N-k). So Stata's SEs are sss's times
    sqrt((N-k)/(N-k-1)); HC1 (N/(N-k), no G/(G-1)) matches neither. Published Stata for this
    model: .0151945 and .0527518."""
    ok(g, "xtreg inv value capital, fe vce(robust)")
    _, se = coefs(g)
    sss = np.array([0.0151560754389038, 0.0526183915914517])
    N, k = 200, 2
    close(se[:2], sss * math.sqrt((N - k) / (N - k - 1)))
    close(se[:2], [0.0151944939427174, 0.0527517717587759])
    assert [f"{x:.7f}" for x in se[:2]] == ["0.0151945", "0.0527518"]
    sc = g.e.scalars
    assert (sc["df_r"], sc["N_clust"], sc["df_m"]) == (9, 10, 2)
    assert g.e.macros["vcetype"] == "Robust" and g.e.macros["clustvar"] == "firm"
    assert "F_f" not in sc and "V_modelbased" in g.e.matrices
    ok(g, "xtreg inv value capital, fe vce(cluster firm)")
    close(coefs(g)[1][:2], [0.0151944939427174, 0.0527517717587759])


def test_re_against_plm_swamy_arora(g):
    ok(g, "xtreg inv value capital, re")
    b, se = coefs(g)
    close(b, [0.109781152232484, 0.308112982830713, -57.834414905032901])
    close(se, [0.0104926635495465, 0.0171804690896399, 28.8989352602897895])
    sc = g.e.scalars
    close([sc["sigma_e"] ** 2, sc["sigma_u"] ** 2], [2784.45823077794, 7089.80009930804])
    close(sc["theta"], 0.861223620747879)
    assert round(sc["chi2"], 2) == 657.67 and sc["df_m"] == 2
    assert (round(sc["r2_w"], 4), round(sc["r2_b"], 4), round(sc["r2_o"], 4)) == (.7668, .8196, .8061)
    # e(bf), e(VCEf): the fixed-effects estimates
    close(g.e.matrices["bf"][0, :2], [0.110123804120718, 0.310065341300139])


def test_re_cluster_is_plm_sss(g):
    """xtreg, re vce(robust): the sandwich of the GLS regression scaled by G/(G-1)(N-1)/(N-K),
    K counting the constant: plm's sss on its random model (which has the intercept)."""
    ok(g, "xtreg inv value capital, re vce(robust)")
    close(coefs(g)[1], [0.0137556568467531, 0.0549727774623947, 24.8432318787371607])
    assert g.e.scalars["N_clust"] == 10


def test_be_against_plm_between(g):
    ok(g, "xtreg inv value capital, be")
    b, se = coefs(g)
    close(b, [0.1346460869719117, 0.0320314743314098, -8.5271137217268631])
    close(se, [0.0287454591404871, 0.1909377991675219, 47.5153077358230362])
    sc = g.e.scalars
    assert (sc["df_m"], sc["df_r"], round(sc["F"], 2), round(sc["r2_b"], 4)) == (2, 7, 21.11, .8578)


def test_mle_against_nlme_and_observed_information(g):
    """ll, coefficients, sigmas against nlme's lme(method = "ML"); standard errors against the
    inverse of numDeriv's Hessian of the likelihood in (beta, sigma_u, sigma_e), Stata's
    xtreg, mle VCE (ml's observed information, cross terms included)."""
    ok(g, "xtreg inv value capital, mle")
    e = g.e
    close(e.scalars["ll"], -1095.25696941413, LL_TOL)
    close(e.b[:3], [0.109762654466301, 0.307941974224825, -57.767204912937650])
    close(e.b[3:], [80.2972868257646, 52.4925472996709])
    close(e.se, [0.0103389313649308, 0.0171007171442357, 27.7000521287822572,
                 18.3781046529852325, 2.6931135423009196])
    close(e.scalars["ll_c"], -1191.80236036787, LL_TOL)
    close(e.scalars["ll_0"], -1241.96960326935, LL_TOL)
    close(e.scalars["chi2_c"], 2 * (1191.80236036787 - 1095.25696941413))
    assert e.names[-2:] == [("sigma_u", "_cons"), ("sigma_e", "_cons")]
    assert e.macros["model"] == "ml" and e.macros["chi2type"] == "LR"


# --------------------------------------------------------------------------- plm: unbalanced panel
def test_unbalanced_fe_and_cluster(gu):
    ok(gu, "xtreg inv value capital, fe")
    b, se = coefs(gu)
    close(b[:2], [0.112013684679861, 0.332413929030806])
    close(se[:2], [0.0130320920689418, 0.0192734199863496])
    ok(gu, "xtreg inv value capital, fe vce(cluster firm)")
    close(coefs(gu)[1][:2], [0.0112211875961803, 0.0382141076078377])
    assert (gu.e.scalars["g_min"], gu.e.scalars["g_max"], gu.e.scalars["Tcon"]) == (11, 20, 0)


def test_unbalanced_re_default_uses_harmonic_mean(gu):
    """Stata's default sigma_u^2 = SSR_b/(n - K) - sigma_e^2/Tbar (harmonic mean of T_i), which
    plm refuses on unbalanced panels: computed by hand in R from plm's within and between
    fits, then lm on the theta-transformed data."""
    ok(gu, "xtreg inv value capital, re theta")
    b, se = coefs(gu)
    close(b, [0.111484821179898, 0.329141325423106, -72.785132679051571])
    close(se, [0.0113544567883906, 0.0190937639121449, 29.9888259413701626])
    sc = gu.e.scalars
    close([sc["sigma_e"] ** 2, sc["sigma_u"] ** 2], [3123.00520270054, 7308.33945837109])
    close(sc["Tbar"], 14.952792467678)
    close(gu.e.matrices["theta"][0], [0.806623013039739, 0.806623013039739, 0.836142539838161,
                                      0.855365701363025, 0.855365701363025])
    assert "theta" not in sc and sc["thta_50"] == gu.e.matrices["theta"][0, 2]


def test_unbalanced_re_sa_is_baltagi_chang(gu):
    """xtreg, re sa: plm's Swamy-Arora with random.models = c("within", "between")."""
    ok(gu, "xtreg inv value capital, re sa")
    b, se = coefs(gu)
    close(b, [0.111541682505856, 0.329685606695629, -73.010686316827588])
    close(se, [0.0115285833392728, 0.0190254376619665, 32.2840185754656446])
    close(gu.e.scalars["sigma_u"] ** 2, 8788.91173093892)
    assert gu.e.macros["sa"] == "sa"
    ok(gu, "xtreg inv value capital, re sa vce(robust)")
    close(coefs(gu)[1], [0.0108661863536711, 0.0410342171232193, 25.7338728666605583])


def test_unbalanced_be_and_mle(gu):
    ok(gu, "xtreg inv value capital, be")
    b, se = coefs(gu)
    close(b, [0.134767249667674, 0.024983177326858, -4.739037999524369])
    close(se, [0.0267438237118891, 0.1724987887707767, 51.1380178766408093])
    ok(gu, "xtreg inv value capital, mle nolog")
    e = gu.e
    close(e.scalars["ll"], -860.656338135403, LL_TOL)
    close(e.b, [0.111496333246683, 0.329258893546049, -72.833018682473423,
                86.4905700180533, 55.4975595931431])
    close(e.se, [0.0112812316676680, 0.0189510076907949, 30.1424496810956448,
                 19.8739900523201065, 3.2589472146240657])
    close(e.scalars["ll_c"], -940.098038021527, LL_TOL)
    close(e.scalars["ll_0"], -983.02602249672, LL_TOL)


def test_mle_hessian_is_the_likelihoods():
    """The analytic observed information equals finite differences of the closed-form
    log likelihood (engine.panel.random_intercept_ll)."""
    d = grunfeld(unbalanced=True)
    y = d.inv.to_numpy(float)
    X = np.column_stack([d.value, d.capital, np.ones(len(d))])
    codes = d.firm.to_numpy() - 1
    fit = pn.fit_ml(y, X, 2, pn.panels(codes))
    p0 = np.concatenate([fit.beta, [fit.sigma_u, fit.sigma_e]])

    def ll(p):
        return pn.random_intercept_ll(y, X, codes, p[:3], p[3], p[4])

    assert ll(p0) == pytest.approx(fit.ll, rel=1e-12)
    H = np.zeros((5, 5))
    h = 1e-4 * np.maximum(np.abs(p0), 1e-3)
    for i in range(5):
        for j in range(5):
            ei, ej = np.eye(5)[i] * h[i], np.eye(5)[j] * h[j]
            H[i, j] = (ll(p0 + ei + ej) - ll(p0 + ei - ej) - ll(p0 - ei + ej) + ll(p0 - ei - ej)) / (4 * h[i] * h[j])
    close(np.sqrt(np.diag(np.linalg.inv(-H))), np.sqrt(np.diag(fit.V)), 1e-4)


# --------------------------------------------------------------------------- published Stata 17 output
BE_WAGES = """\
Between regression (regression on group means)  Number of obs     =      4,165
Group variable: id                              Number of groups  =        595

R-squared:                                      Obs per group:
     Within  = 0.1357                                         min =          7
     Between = 0.3264                                         avg =        7.0
     Overall = 0.2723                                         max =          7

                                                F(4,590)          =      71.48
sd(u_i + avg(e_i.)) = .324656                   Prob > F          =     0.0000

------------------------------------------------------------------------------
       lwage | Coefficient  Std. err.      t    P>|t|     [95% conf. interval]
-------------+----------------------------------------------------------------
         exp |    .038153   .0056967     6.70   0.000     .0269647    .0493412
        exp2 |  -.0006313   .0001257    -5.02   0.000    -.0008781   -.0003844
         wks |   .0130903   .0040659     3.22   0.001     .0051048    .0210757
          ed |   .0737838   .0048985    15.06   0.000     .0641632    .0834044
       _cons |   4.683039   .2100989    22.29   0.000     4.270407    5.095672
------------------------------------------------------------------------------
"""

RE_ROBUST_WAGES = """\
Random-effects GLS regression                   Number of obs     =      4,165
Group variable: id                              Number of groups  =        595

R-squared:                                      Obs per group:
     Within  = 0.6340                                         min =          7
     Between = 0.1716                                         avg =        7.0
     Overall = 0.1830                                         max =          7

                                                Wald chi2(4)      =    1598.50
corr(u_i, X) = 0 (assumed)                      Prob > chi2       =     0.0000

                                   (Std. err. adjusted for 595 clusters in id)
------------------------------------------------------------------------------
             |               Robust
       lwage | Coefficient  std. err.      z    P>|z|     [95% conf. interval]
-------------+----------------------------------------------------------------
         exp |   .0888609   .0039992    22.22   0.000     .0810227    .0966992
        exp2 |  -.0007726   .0000896    -8.62   0.000    -.0009481    -.000597
         wks |   .0009658   .0009259     1.04   0.297     -.000849    .0027806
          ed |   .1117099   .0083954    13.31   0.000     .0952552    .1281647
       _cons |   3.829366   .1333931    28.71   0.000     3.567921    4.090812
-------------+----------------------------------------------------------------
     sigma_u |  .31951859
     sigma_e |  .15220316
         rho |  .81505521   (fraction of variance due to u_i)
------------------------------------------------------------------------------
"""


def test_published_stata17_be(w):
    """Cameron and Trivedi's `xtreg lwage exp exp2 wks ed, be` in Stata 17 (a published log),
    character for character."""
    out = ok(w, "xtreg lwage exp exp2 wks ed, be")
    assert out == "\n" + BE_WAGES


def test_published_stata17_re_robust(w):
    out = ok(w, "xtreg lwage exp exp2 wks ed, re vce(cluster id)")
    assert out == "\n" + RE_ROBUST_WAGES


def test_published_stata17_fe_cluster_numbers(w):
    """The published fe vce(cluster id) run (printed in Stata 13's layout under version
    control): every number, and `ed` omitted as time invariant."""
    out = ok(w, "xtreg lwage exp exp2 wks ed, fe vce(cluster id)")
    assert out.startswith("note: ed omitted because of collinearity.\n")
    for row in ("         exp |   .1137879   .0040289    28.24   0.000     .1058753    .1217004",
                "        exp2 |  -.0004244   .0000822    -5.16   0.000    -.0005858   -.0002629",
                "         wks |   .0008359   .0008697     0.96   0.337    -.0008721    .0025439",
                "          ed |          0  (omitted)",
                "       _cons |   4.596396   .0600887    76.49   0.000     4.478384    4.714408",
                "     sigma_u |  1.0362039", "     sigma_e |  .15220316",
                "         rho |  .97888036   (fraction of variance due to u_i)",
                "                                                F(3, 594)         =    1059.72",
                "corr(u_i, Xb) = -0.9107                         Prob > F          =     0.0000",
                "     Within  = 0.6566                                         min =          7",
                "     Between = 0.0276                                         avg =        7.0",
                "     Overall = 0.0476                                         max =          7"):
        assert row in out.splitlines(), row
    assert w.e.names[3] == ("lwage", "o.ed") and w.e.omitted[3]
    assert round(w.e.scalars["r2"], 8) == .65662995


def test_published_conventional_ses_wages(w):
    """The published estimates table (b(%7.4f)): FE and RE conventional standard errors, and
    plm's within and random fits."""
    ok(w, "xtreg lwage exp exp2 wks ed, fe")
    b, se = coefs(w)
    close(b[:3], [0.113787859839408534, -0.000424369423430798, 0.000835877569097049])
    close(se[:3], [0.002468884808552724, 0.000054631575887473, 0.000599672686221326])
    assert f"{se[4]:.4f}" == "0.0389"
    ok(w, "xtreg lwage exp exp2 wks ed, re")
    b, se = coefs(w)
    close(b, [0.088860946810936259, -0.000772565084074151, 0.000965772383828475,
              0.111709950808815822, 3.829366113395478610])
    close(se, [2.81776029857087e-03, 6.22618789527277e-05, 7.43288024342915e-04,
               6.05716091205799e-03, 9.36335763644295e-02])


# --------------------------------------------------------------------------- layout
FE_GRUNFELD = """\
Fixed-effects (within) regression               Number of obs     =        200
Group variable: firm                            Number of groups  =         10

R-squared:                                      Obs per group:
     Within  = 0.7668                                         min =         20
     Between = 0.8194                                         avg =       20.0
     Overall = 0.8060                                         max =         20

                                                F(2, 188)         =     309.01
corr(u_i, Xb) = -0.1517                         Prob > F          =     0.0000

------------------------------------------------------------------------------
         inv | Coefficient  Std. err.      t    P>|t|     [95% conf. interval]
-------------+----------------------------------------------------------------
       value |   .1101238   .0118567     9.29   0.000     .0867345    .1335131
     capital |   .3100653   .0173545    17.87   0.000     .2758308    .3442999
       _cons |  -58.74393   12.45369    -4.72   0.000    -83.31086     -34.177
-------------+----------------------------------------------------------------
     sigma_u |  85.732501
     sigma_e |  52.767964
         rho |  .72525012   (fraction of variance due to u_i)
------------------------------------------------------------------------------
F test that all u_i=0: F(9, 188) = 49.18                     Prob > F = 0.0000
"""


def test_fe_layout_stata17(g):
    """Published Stata output of this model (numbers) in Stata 17's layout (R-squared:,
    Within, `F(2, 188)`, `corr(u_i, Xb) = `, as in Stata 17 logs of xtreg, fe)."""
    assert ok(g, "xtreg inv value capital, fe") == "\n" + FE_GRUNFELD
    assert all(len(line) <= 78 for line in FE_GRUNFELD.splitlines())


def test_re_theta_layouts(g, gu):
    out = ok(g, "xtreg inv value capital, re theta")
    assert "corr(u_i, X) = 0 (assumed)                      Prob > chi2       =     0.0000\n" \
           "theta = .86122362\n\n---" in out
    out = ok(gu, "xtreg inv value capital, re theta")
    assert ("\n------------------- theta --------------------\n"
            "  min      5%       median        95%      max\n"
            "0.8066   0.8066     0.8361     0.8554   0.8554\n\n") in out
    assert "     sigma_u |  85.488826\n" in out


def test_mle_layout(g):
    out = ok(g, "xtreg inv value capital, mle")
    lines = out.splitlines()
    assert lines[:2] == ["", "Fitting constant-only model:"]
    assert "Fitting full model:" in lines
    assert lines[lines.index("Fitting full model:") + 1].startswith("Iteration 0:   log likelihood = ")
    i = lines.index("Random-effects ML regression                    Number of obs     =        200")
    assert lines[i:i + 10] == [
        "Random-effects ML regression                    Number of obs     =        200",
        "Group variable: firm                            Number of groups  =         10",
        "",
        "Random effects u_i ~ Gaussian                   Obs per group:",
        "                                                              min =         20",
        "                                                              avg =       20.0",
        "                                                              max =         20",
        "",
        "                                                LR chi2(2)        =     293.43",
        "Log likelihood =  -1095.257                     Prob > chi2       =     0.0000"]
    assert "    /sigma_u |   80.29729    18.3781                      51.27214    125.7536" in lines
    assert "    /sigma_e |   52.49255   2.693113                      47.47085    58.04546" in lines
    assert lines[-2] == "-" * 78
    assert lines[-1] == "LR test of sigma_u=0: chibar2(01) = 193.09             Prob >= chibar2 = 0.000"


def test_mle_diparm_intervals(g):
    """/sigma_u and /sigma_e intervals on the log scale, rho on the probit scale (Stata's
    diparm ci(log), ci(probit)); rho's standard error by the delta method."""
    ok(g, "xtreg inv value capital, mle nolog")
    e = g.e
    su, se_ = e.b[3], e.b[4]
    V = np.asarray(e.V)[3:, 3:]
    out = g.out.getvalue()
    lo = su * math.exp(-1.959963984540054 * math.sqrt(V[0, 0]) / su)
    assert f"{lo:.5f}"[:7] in out
    rho = su ** 2 / (su ** 2 + se_ ** 2)
    assert round(e.scalars["rho"], 7) == round(rho, 7)
    assert "         rho |   .7005943" in out


def test_mle_robust(gu):
    out = ok(gu, "xtreg inv value capital, mle nolog vce(robust)")
    assert "Log pseudolikelihood = -860.65633               Prob > chi2       =     0.0000" in out
    assert "(Std. err. adjusted for 10 clusters in firm)" in out
    assert "LR test of sigma_u=0" not in out
    assert gu.e.macros["chi2type"] == "Wald" and "ll_c" not in gu.e.scalars


@pytest.mark.parametrize("unbalanced,ses", [
    (False, [0.0135533188817256, 0.0542971556123043, 24.3747506119859700, 21.8890738779182819, 10.8795520052859391]),
    (True, [0.0107388124651355, 0.0401728997301149, 25.1950487760290116, 21.0829742898857795, 11.3058779558514981]),
])
def test_mle_robust_against_score_sandwich(unbalanced, ses):
    """vce(robust) after mle: the panels' score vectors (numDeriv's gradients of each panel's
    log likelihood in R) in Stata's sandwich, scaled by G/(G-1)."""
    s = session_of(grunfeld(unbalanced), floats=())
    ok(s, "xtreg inv value capital, mle nolog vce(robust) i(firm)")
    close(s.e.se, ses)


def test_mle_without_covariates(g):
    out = ok(g, "xtreg inv, mle")
    assert "Fitting constant-only model:" not in out
    assert "                                                Wald chi2(0)      =       0.00" in out


def test_robust_fe_header(g):
    out = ok(g, "xtreg inv value capital, fe vce(robust)")
    assert ("                                                F(2, 9)           =      28.31\n"
            "corr(u_i, Xb) = -0.1517                         Prob > F          =     0.0001\n\n"
            "                                  (Std. err. adjusted for 10 clusters in firm)\n"
            "------------------------------------------------------------------------------\n"
            "             |               Robust\n"
            "         inv | Coefficient  std. err.      t    P>|t|     [95% conf. interval]\n") in out
    assert "F test that all u_i=0" not in out


# --------------------------------------------------------------------------- options and invariance
def test_i_option_overrides_xtset(g):
    g.data.add(Variable("grp", (g.data.values("firm") > 5).astype(float), "double"))
    ok(g, "xtreg inv value capital, fe i(grp)")
    assert g.e.scalars["N_g"] == 2 and g.e.macros["ivar"] == "grp"


def test_factor_variables_and_if(g):
    out = ok(g, "xtreg inv value capital i.year if year > 1948, fe")
    assert "        year |\n       1950  |" in out
    assert g.e.names[2] == ("inv", "1949b.year") and g.e.scalars["N"] == 60
    # a factor that is constant within panels is omitted by the within transform
    out = ok(g, "xtreg inv value capital i.firm, fe")
    assert out.count("omitted because of collinearity") == 9
    assert "          2  |          0  (omitted)" in out


def test_location_and_scale_invariance(g):
    ok(g, "xtreg inv value capital, re")
    b0, se0 = coefs(g)
    g.data.add(Variable("vbig", g.data.values("value") * 1024.0 + 1e9, "double"))
    g.data.add(Variable("ibig", g.data.values("inv") + 1e8, "double"))
    ok(g, "xtreg ibig vbig capital, re")
    b1, se1 = coefs(g)
    close([b1[0] * 1024, b1[1]], b0[:2], 1e-8)
    close([se1[0] * 1024, se1[1]], se0[:2], 1e-8)
    for model in ("fe", "be", "mle nolog"):
        ok(g, f"xtreg inv value capital, {model}")
        ref = coefs(g)[0][:2]
        ok(g, f"xtreg ibig vbig capital, {model}")
        close(coefs(g)[0][:2] * [1024, 1], ref, 1e-7)


def test_level_and_replay(g):
    ok(g, "xtreg inv value capital, fe")
    out = ok(g, "xtreg, level(90)")
    assert "[90% conf. interval]" in out and "F test that all u_i=0" in out
    out = ok(g, "xtreg")
    assert out == "\n" + FE_GRUNFELD


# --------------------------------------------------------------------------- e() and post-estimation
def test_stored_results(g):
    ok(g, "xtreg inv value capital, fe")
    e = g.e
    assert (e.cmd, e.macros["model"], e.macros["ivar"], e.macros["depvar"]) == ("xtreg", "fe", "firm", "inv")
    for key in ("N", "N_g", "g_min", "g_avg", "g_max", "sigma_u", "sigma_e", "rho", "r2_w", "r2_b",
                "r2_o", "df_m", "df_r", "F", "F_f", "p_f", "corr", "rss", "tss", "Tcon", "rank"):
        assert key in e.scalars, key
    assert e.scalars["df_m"] == 11          # df_a + k, as Stata's xtreg, fe posts it
    ok(g, "xtreg inv value capital, re")
    for key in ("chi2", "p", "theta", "rmse", "Tbar", "sigma"):
        assert key in g.e.scalars, key
    ok(g, "xtreg inv value capital, be")
    assert g.e.macros["model"] == "be" and "mss" in g.e.scalars
    ok(g, "xtreg inv value capital, mle nolog")
    assert g.e.macros["model"] == "ml" and g.e.scalars["df_m"] == 2


def test_estimates_store_replay_test_lincom(g):
    ok(g, "xtreg inv value capital, fe")
    ok(g, "estimates store fe")
    ok(g, "xtreg inv value capital, re")
    out = ok(g, "estimates replay fe")
    assert FE_GRUNFELD in out
    ok(g, "estimates restore fe")
    out = ok(g, "test value capital")
    assert "F(  2,   188) =  309.01" in out
    out = ok(g, "lincom value + capital")
    assert "t    P>|t|" in out
    ok(g, "estimates restore fe")
    out = ok(g, "estimates table fe")
    assert "value" in out


def test_predict_statistics(gu):
    ok(gu, "xtreg inv value capital, re")
    out = ok(gu, "predict xb")
    assert "(option xb assumed; fitted values)" in out
    for stat in ("u", "e", "ue", "xbu", "stdp"):
        ok(gu, f"predict p_{stat}, {stat}")
    d = gu.data
    xb, y = d.values("xb"), d.values("inv")
    # new variables are floats, as in Stata: agreement to their precision
    assert np.allclose(d.values("p_ue"), y - xb, rtol=0, atol=1e-4)
    assert np.allclose(d.values("p_e") + d.values("p_u"), y - xb, rtol=0, atol=1e-4)
    assert np.allclose(d.values("p_xbu"), xb + d.values("p_u"), rtol=0, atol=1e-4)
    # after re, u_i is the shrunken panel mean of y - xb: sigma_u^2 T_i / (T_i sigma_u^2 + sigma_e^2)
    su2, se2 = gu.e.scalars["sigma_u"] ** 2, gu.e.scalars["sigma_e"] ** 2
    firm = d.values("firm")
    r = pd.Series(y - xb).groupby(firm)
    T, m = r.size().to_numpy(), r.mean().to_numpy()
    assert np.allclose(pd.Series(d.values("p_u")).groupby(firm).mean().to_numpy(),
                       su2 * T / (T * su2 + se2) * m, rtol=0, atol=1e-4)
    rc, out = run(gu, "predict z, reffects")
    assert rc == 198 and "option reffects not allowed" in out


# --------------------------------------------------------------------------- errors
def _unchanged(s, text, rc_expected, message):
    before_e = s.e
    before_vars = list(s.data.names)
    rc, out = run(s, text)
    assert rc == rc_expected, out
    assert message in out, out
    assert s.e is before_e and list(s.data.names) == before_vars


def test_errors(g):
    ok(g, "xtreg inv value capital, fe")
    _unchanged(g, "xtreg inv value capital, fe re", 198, "choose only one of be, fe, re, or pa")
    _unchanged(g, "xtreg inv value capital, be vce(robust)", 198, "vcetype 'robust' not allowed")
    _unchanged(g, "xtreg inv value capital, fe vce(bogus)", 198, "vcetype 'bogus' not allowed")
    _unchanged(g, "xtreg inv value capital, fe vce(cluster year)", 498, "panels are not nested within clusters")
    _unchanged(g, "xtreg inv value nosuch, fe", 111, "variable nosuch not found")
    _unchanged(g, "xtreg inv value capital, fe theta", 198, "option theta not allowed")
    _unchanged(g, "xtreg inv value capital in 1/2, re", 2001, "insufficient observations")
    _unchanged(g, "xtreg inv value capital if inv > 1e9, re", 2000, "no observations")
    _unchanged(g, "xtreg inv value capital [fw=firm], re", 101, "weights not allowed")   # re takes none (fe: tests/test_xtreg_weights.py)
    _unchanged(g, "xtreg inv value capital, fe bogus", 198, "option bogus not allowed")


def test_not_xtset():
    s = session_of(grunfeld())
    rc, out = run(s, "xtreg inv value capital, fe")
    assert rc == 459 and "panel variable not set; use xtset varname ..." in out
    rc, out = run(s, "xtreg")
    assert rc == 301 and "last estimates not found" in out
    ok(s, "xtreg inv value capital, fe i(firm)")
    assert s.e.macros["ivar"] == "firm"


def test_no_warnings_no_tracebacks(g, recwarn):
    for text in ("xtreg inv value capital, fe", "xtreg inv value capital, re theta",
                 "xtreg inv value capital, be", "xtreg inv value capital, mle nolog",
                 "xtreg inv value capital i.firm, re", "xtreg inv, fe"):
        out = ok(g, text)
        assert "Traceback" not in out
    assert not [w for w in recwarn.list if issubclass(w.category, (RuntimeWarning, UserWarning))]
