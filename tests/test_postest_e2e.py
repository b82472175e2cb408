"""Post-estimation commands through the interpreter (results posted by hand; `mixed` itself is
exercised when the estimation command is registered)."""
from __future__ import annotations

import numpy as np
import pytest

from hlmshell.output.writer import Capture

from test_postest_fixtures import FINAL, FULL, REDUCED, fit_results, hsb_frame, hsb_session

interp = pytest.importorskip("hlmshell.interpreter")


@pytest.fixture(scope="module")
def df():
    return hsb_frame()


@pytest.fixture(scope="module")
def fits(df):
    return {"noslope": fit_results(df, FULL), "reduced": fit_results(df, REDUCED),
            "sesrandom": fit_results(df, FULL, slopes=("ses",), cov="unstructured"),
            "final": fit_results(df, FINAL)}


def run(s, text):
    s.out = Capture()
    rc = interp.Interpreter(s).run_text(text, echo=False)
    return rc, s.out.getvalue()


def test_notes_sequence(df, fits):
    s = hsb_session(df)
    s.post_estimation(fits["sesrandom"])
    rc, out = run(s, "estimates store sesrandom")
    assert rc == 0
    s.post_estimation(fits["noslope"])
    rc, out = run(s, "est sto noslope\nlrtest sesrandom noslope")
    assert rc == 0
    assert "Assumption: noslope nested within sesrandom" in out and "LR chi2(2) =   5.75" in out
    s.post_estimation(fits["noslope"])
    rc, out = run(s, "test 1.female#1.sector=0\ntest 2.sized#c.ses=0, accumulate\n"
                     "test 3.sized#c.ses=0, accumulate")
    assert rc == 0
    assert out.count("( 1)  [mathach]1.female#1.sector = 0") == 3
    assert "chi2(  3) =    1.01" in out and "Prob > chi2 =    0.7990" in out
    s.post_estimation(fits["final"])
    rc, out = run(s, "lrtest . sesrandom")
    assert "Assumption: . nested within sesrandom" in out and "LR chi2(7) =   9.03" in out
    assert "Prob > chi2 = 0.2504" in out


def test_syntax_variants_through_the_parser(df, fits):
    s = hsb_session(df)
    s.post_estimation(fits["reduced"])
    rc, out = run(s, "test 2.sized=3.sized\n"
                     "test 1.female#2.sized=1.female#3.sized, accumulate\n"
                     "test _b[ses] = 2*_b[sector]\n"
                     "test [mathach]ses = 0\n"
                     "test (ses=0) (sector=0)\n"
                     "testparm i.sized\n"
                     "lincom 2.sized - 3.sized")
    assert rc == 0, out
    assert "chi2(  2) =    2.27" in out
    assert " ( 1)  [mathach]ses - 2*[mathach]sector = 0" in out
    assert " ( 2)  [mathach]sector = 0" in out
    assert "         (1) |  -.4572597" in out


def test_failure_restores_chain_and_results(df, fits):
    s = hsb_session(df)
    s.post_estimation(fits["reduced"])
    rc, _ = run(s, "test ses=0")
    chain = s.test_chain
    rc, out = run(s, "test foo=0, accumulate")
    assert rc == 111 and "[mathach]foo not found" in out
    assert s.test_chain.constraints == chain.constraints
    rc, out = run(s, "capture test bar\ndisplay _rc")
    assert "111" in out
    rc, out = run(s, "quietly test sector=0, accumulate\ndisplay r(df)")
    assert out.strip().endswith("2")


def test_predict_and_estat_through_interpreter(df, fits):
    s = hsb_session(df)
    s.post_estimation(fits["sesrandom"])
    rc, out = run(s, "predict u*, reffects\npredict xb if female==1\nestat group\nestat recovariance")
    assert rc == 0, out
    assert "u1" in s.data and "u2" in s.data
    assert "(option xb assumed)" in out
    nmiss = int(np.count_nonzero(df["female"].to_numpy() != 1))
    assert f"({nmiss:,} missing values generated)" in out
    assert "             id |        160         14       44.9         67" in out


NOTES_DO = """use "{hsb}", clear
recode size (min/499=1) (500/1199=2) (1200/max=3), generate(sized)
quietly mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id: ses, cov(unstr)
estimates store sesrandom
quietly mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id:
estimates store noslope
lrtest sesrandom noslope
quietly mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id: female, cov(unstr)
estimates store femalerandom
estat ic
lrtest noslope femalerandom
quietly mixed mathach c.ses##c.sector c.ses##i.sized i.female##i.sector i.female##i.sized || id:
test 1.female#1.sector=0
test 2.sized#c.ses=0, accumulate
test 3.sized#c.ses=0, accumulate
quietly mixed mathach c.ses##c.sector i.female##i.sized || id:
test 2.sized=3.sized
test 1.female#2.sized=1.female#3.sized, accumulate
quietly tabulate sized, generate(sized_)
quietly mixed mathach c.ses##c.sector i.female##i.sized_1 || id:
lrtest . femalerandom
lrtest . sesrandom
"""


def test_notes_with_the_mixed_command():
    from hlmshell.registry import REGISTRY
    from test_postest_fixtures import HSB

    if "mixed" not in REGISTRY.names():
        pytest.skip("mixed not registered yet")
    from hlmshell.session import Session

    s = Session(out=Capture())
    rc = interp.Interpreter(s).run_text(NOTES_DO.format(hsb=HSB), echo=False)
    out = s.out.getvalue()
    assert rc == 0, out
    for chi2, p in [("5.75", "0.0564"), ("4.56", "0.1022"), ("7.84", "0.3467"), ("9.03", "0.2504")]:
        assert f"={float(chi2):7.2f}\nProb > chi2 = {p}\n" in out
    assert "femalerandom |      7,185          .  -23249.27      16   46530.53   46640.61" in out
    for chi2, p in [("0.15", "0.7017"), ("0.94", "0.6240"), ("1.01", "0.7990"), ("1.14", "0.2865"),
                    ("2.27", "0.3212")]:
        assert f" ={float(chi2):8.2f}\n         Prob > chi2 ={float(p):10.4f}\n" in out
    assert " ( 2)  [mathach]1.female#2.sized - [mathach]1.female#3.sized = 0" in out


def test_icc_and_predict_after_mixed_reml():
    from hlmshell.registry import REGISTRY
    from test_postest_fixtures import HSB

    if "mixed" not in REGISTRY.names():
        pytest.skip("mixed not registered yet")
    from hlmshell.session import Session

    s = Session(out=Capture())
    rc = interp.Interpreter(s).run_text(
        f'use "{HSB}", clear\nquietly mixed mathach || id:, reml\nestat icc\n'
        "predict u, reffects\npredict fit, fitted\ntest 0.female", echo=False)
    out = s.out.getvalue()
    assert rc == 111 and "[mathach]0.female not found" in out      # no such coefficient
    assert "Intraclass correlation" in out
    assert "                          id |   .1803518" in out
    assert s.data.var("u").label == "BLUP r.e. for id: _cons"
    fit = s.data.values("fit")
    y = s.data.values("mathach")
    assert np.all(np.isfinite(fit)) and abs(np.corrcoef(fit, y)[0, 1]) > 0.3


def test_two_level_model_icc_group_and_relevel():
    from hlmshell.registry import REGISTRY
    from test_postest_fixtures import HSB

    if "mixed" not in REGISTRY.names():
        pytest.skip("mixed not registered yet")
    from hlmshell.session import Session

    s = Session(out=Capture())
    rc = interp.Interpreter(s).run_text(
        f'use "{HSB}", clear\ngenerate cls = mod(_n, 3) + 3*(female==1)\n'
        "quietly mixed mathach || id: || cls:\nestat icc\nestat group\n"
        "predict u*, reffects\npredict v, reffects relevel(cls)\n"
        "predict f1, fitted relevel(id)\npredict f2, fitted\nestimates store two\nestimates dir",
        echo=False)
    out = s.out.getvalue()
    assert rc == 0, out
    lines = out.splitlines()
    i = lines.index("Intraclass correlation")
    assert lines[i + 5].startswith("                          id |")
    assert lines[i + 6].startswith("                      cls|id |")
    e = s.e
    fit = e.model.fit
    v1, v2 = fit.covs[0][0, 0], fit.covs[1][0, 0]
    den = v1 + v2 + fit.sigma2
    assert f"{v1 / den:.6f}"[1:7] in lines[i + 5]
    assert "            cls |" in out
    d = s.data
    np.testing.assert_array_equal(d.values("v"), d.values("u2"))
    assert d.var("u1").label == "BLUP r.e. for id: _cons"
    assert d.var("u2").label == "BLUP r.e. for cls: _cons"
    np.testing.assert_allclose(d.values("f2") - d.values("f1"), d.values("u2"), atol=1e-4)
    assert d.var("f1").label == "Fitted values: xb + Zu, level(id)"
    assert "         two | mixed        mathach" in out
