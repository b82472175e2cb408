"""`mixed ..., dfmethod()` and `estat df` through the command line, against lmerTest 3.1 and
pbkrtest 0.5 (R 4.2, lme4 fits with bobyqa at rhoend 1e-12) on data the engine was not tuned on:
High School and Beyond (random ses slope) and nlme's BodyWeight. The engine's own comparisons
(unbalanced data, F tests, padding, invariance) are in test_small_sample.py.

Reference (R): lmer(mathach ~ ses + sector + (ses | id), REML) on hsb, log likelihood
-23300.927293819:
  Kenward-Roger  (Intercept) se .2323411458 df 166.4883632; ses .1181473768 149.4247184;
                 sector .3472656555 158.2384703
  Satterthwaite  (Intercept) 153.7948371; ses 157.8522628; sector 151.3054756 (lmerTest's is
                 the observed-information one: dfmethod(satterthwaite, oim))
BodyWeight, lmer(weight ~ time + diet + (time | rat), REML), lmerTest's Satterthwaite: time
15.000002, diet2 and diet3 13.000018, (Intercept) 13.038785; the 3-df F test 71.57118 on
13.594609 denominator DF.
"""
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
HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")
MODEL = "mixed mathach ses sector || id: ses, cov(unstructured) reml nolog"


@pytest.fixture()
def hsb():
    s = Session(out=Capture())
    s.data = read_dta(HSB)
    return s


@pytest.fixture()
def bw():
    s = Session(out=Capture())
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        ok(s, "import delimited tests/data/resid/bodyweight.csv, clear asdouble")
    finally:
        os.chdir(cwd)
    return s


def _df(s):
    return dict(zip([nm for _, nm in s.e.names[:s.e.k_f]], np.asarray(s.e.matrices["df"]).ravel()))


def test_kenward_roger_matches_pbkrtest(hsb):
    out = ok(hsb, MODEL + " dfmethod(kroger)")
    df = _df(hsb)
    assert df["_cons"] == pytest.approx(166.4883632, rel=1e-6)
    assert df["ses"] == pytest.approx(149.4247184, rel=1e-6)
    assert df["sector"] == pytest.approx(158.2384703, rel=1e-6)
    se = np.sqrt(np.diag(np.asarray(hsb.e.matrices["V_df"])))
    names = [nm for _, nm in hsb.e.names[:hsb.e.k_f]]
    assert se[names.index("_cons")] == pytest.approx(0.2323411458, rel=1e-6)
    assert se[names.index("ses")] == pytest.approx(0.1181473768, rel=1e-6)
    assert se[names.index("sector")] == pytest.approx(0.3472656555, rel=1e-6)
    # the table shows t with the adjusted SE; e(V) keeps the unadjusted covariance
    assert "         ses |   2.385359   .1181474    20.19   0.000" in out
    assert hsb.e.macros["dfmethod"] == "kroger" and hsb.e.macros["dftitle"] == "Kenward-Roger"
    assert "DF method: Kenward-Roger                        DF:           min =     149.42" in out
    assert "chi2" not in hsb.e.scalars and hsb.e.scalars["df_m"] == 2


def test_satterthwaite_oim_matches_lmertest(hsb):
    ok(hsb, MODEL + " dfmethod(satterthwaite, oim)")
    df = _df(hsb)
    assert df["_cons"] == pytest.approx(153.7948371, rel=1e-5)
    assert df["ses"] == pytest.approx(157.8522628, rel=1e-5)
    assert df["sector"] == pytest.approx(151.3054756, rel=1e-5)


def test_satterthwaite_f_test_matches_lmertest(bw):
    ok(bw, "mixed weight time i.diet || rat: time, cov(unstructured) reml nolog "
           "dfmethod(satterthwaite, oim)")
    df = _df(bw)
    assert df["time"] == pytest.approx(15.000002, rel=1e-5)
    assert df["2.diet"] == pytest.approx(13.000018, rel=1e-5)
    assert df["_cons"] == pytest.approx(13.038785, rel=1e-5)
    assert bw.e.scalars["F"] == pytest.approx(71.57118, rel=1e-5)
    assert bw.e.scalars["ddf_m"] == pytest.approx(13.594609, rel=1e-5)
    assert np.isnan(df["1b.diet"])


def test_exact_methods_and_estat_df(bw):
    out = ok(bw, "mixed weight time i.diet || rat:, nolog dfmethod(repeated)")
    df = _df(bw)
    # 16 rats: between-rat diet and _cons get 16 - 3; time varies within: 176 - 16 - 1
    assert df["2.diet"] == 13 and df["_cons"] == 13 and df["time"] == 159
    assert "F(3, .)" in out                # the rows' DFs differ: no common DDF
    out = ok(bw, "estat df, method(residual)")
    assert "Degrees of freedom (Residual)" in out
    assert np.allclose(np.asarray(bw.r.matrices["df"].values)[0, [0, 2, 3, 4]], 176 - 4)
    out = ok(bw, "estat df")
    assert "Degrees of freedom (Repeated)" in out and "      159.00" in out


@pytest.mark.parametrize("opt,msg", [
    ("dfmethod(kroger)", "option dfmethod(kroger) is allowed only with REML estimation"),
    ("dfmethod(foo)", "invalid method foo in option dfmethod()"),
    ("dfmethod(residual, oim)", "suboption oim can only be specified when option dfmethod() "
                                "contains kroger or satterthwaite"),
    ("dfmethod(kroger satterthwaite) reml", "only one method is allowed in option dfmethod()"),
    ("dfmethod(kroger, eim oim) reml", "only one of eim or oim is allowed"),
    ("dfmethod(residual) vce(robust)", "not allowed with option vce(robust)"),
])
def test_refusals(hsb, opt, msg):
    rc, out = run(hsb, "mixed mathach ses || id:, nolog " + opt)
    assert rc == 198 and msg in out
    assert hsb.e is None or hsb.e.macros.get("dfmethod") is None


def test_estat_df_refuses_without_a_method(hsb):
    ok(hsb, "mixed mathach ses || id:, nolog")
    rc, out = run(hsb, "estat df")
    assert rc == 198
    rc, out = run(hsb, "estat df, method(kroger)")
    assert rc == 198 and "Kenward-Roger DF method is available only with REML estimation" in out


def test_test_and_lincom_use_the_method(bw):
    """test after dfmethod(): F on the method's DDF (lmerTest contestMD: Satterthwaite F
    85.349858 on 12.999816; Kenward-Roger 73.969877 on 13); lincom: t on the row's DF."""
    model = "mixed weight time i.diet || rat: time, cov(unstructured) reml nolog "
    ok(bw, model + "dfmethod(satterthwaite, oim)")
    out = ok(bw, "test 2.diet 3.diet")
    assert "       F(  2,  13.00) =   85.35" in out
    assert bw.r.scalars["F"] == pytest.approx(85.349858, rel=2e-5)
    assert bw.r.scalars["df_r"] == pytest.approx(12.999816, rel=2e-5)
    out = ok(bw, "lincom time")
    assert bw.r.scalars["df"] == pytest.approx(15.000002, rel=1e-5) and "t    P>|t|" in out
    ok(bw, model + "dfmethod(kroger)")
    ok(bw, "test 2.diet 3.diet")
    assert bw.r.scalars["F"] == pytest.approx(73.969877, rel=2e-5)
    assert bw.r.scalars["df_r"] == pytest.approx(13.0, rel=1e-6)
    ok(bw, "mixed weight time i.diet || rat:, nolog dfmethod(residual)")
    out = ok(bw, "test 2.diet 3.diet")
    assert "       F(  2, 172.00) =" in out
