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
