"""test / testparm / lincom: the notes' Wald tests, constraint layout, refusals."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hlmshell.commands import test as tcmd
from hlmshell.commands.test import lincom_cmd, norm_name, parse_test_body, to_constraint
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.results import EstimationResults
from hlmshell.session import Session
from hlmshell.syntax.ast import Command, Option

from test_postest_fixtures import FULL, REDUCED, fit_results, hsb_frame, hsb_session


@pytest.fixture(scope="module")
def df():
    return hsb_frame()


@pytest.fixture(scope="module")
def noslope(df):
    return fit_results(df, FULL)


@pytest.fixture(scope="module")
def reduced(df):
    return fit_results(df, REDUCED)


def run(session, name, body, *opts):
    handler = {"test": tcmd.test_cmd, "testparm": tcmd.testparm_cmd, "lincom": lincom_cmd}[name]
    session.out = Capture()
    handler(session, Command(name, body=body, options=[Option(*o) if isinstance(o, tuple) else Option(o)
                                                       for o in opts]))
    return session.out.getvalue()


def toy(df_r=None):
    names = [("y", "a"), ("y", "b"), ("y", "o.c"), ("y", "_cons")]
    b = np.array([1.0, 2.0, 0.0, 3.0])
    V = np.diag([0.25, 1.0, 0.0, 4.0])
    V[0, 1] = V[1, 0] = 0.1
    sc = {"N": 50.0}
    if df_r is not None:
        sc["df_r"] = df_r
    return EstimationResults("regress", names, b, V, np.array([False, False, True, False]), 4,
                             scalars=sc, macros={"depvar": "y", "cmd": "regress"})


def session_with(res):
    s = Session(out=Capture())
    s.post_estimation(res)
    return s


# --------------------------------------------------------------------- the notes' numbers
def test_notes_accumulated_tests_after_noslope(noslope):
    s = session_with(noslope)
    out = run(s, "test", "1.female#1.sector=0")
    assert out == ("\n ( 1)  [mathach]1.female#1.sector = 0\n\n"
                   "           chi2(  1) =    0.15\n         Prob > chi2 =    0.7017\n")
    assert s.r.scalars["df"] == 1
    out = run(s, "test", "2.sized#c.ses=0", "accumulate")
    assert " ( 1)  [mathach]1.female#1.sector = 0\n ( 2)  [mathach]2.sized#c.ses = 0\n" in out
    assert "           chi2(  2) =    0.94\n         Prob > chi2 =    0.6240\n" in out
    out = run(s, "test", "3.sized#c.ses=0", "accum")
    assert " ( 3)  [mathach]3.sized#c.ses = 0" in out
    assert "chi2(  3) =    1.01" in out and "Prob > chi2 =    0.7990" in out
    assert round(s.r.scalars["p"], 4) == 0.7990


def test_notes_equality_tests_after_reduced(reduced):
    s = session_with(reduced)
    out = run(s, "test", "2.sized=3.sized")
    assert " ( 1)  [mathach]2.sized - [mathach]3.sized = 0" in out
    assert "chi2(  1) =    1.14" in out and "Prob > chi2 =    0.2865" in out
    out = run(s, "test", "1.female#2.sized=1.female#3.sized", "accumulate")
    assert " ( 2)  [mathach]1.female#2.sized - [mathach]1.female#3.sized = 0" in out
    assert "chi2(  2) =    2.27" in out and "Prob > chi2 =    0.3212" in out
    assert round(s.r.scalars["chi2"], 2) == 2.27


def test_wald_matches_direct_formula(reduced):
    s = session_with(reduced)
    run(s, "test", "(2.sized=0) (3.sized=0)")
    i, j = reduced.coef_index("mathach", "2.sized"), reduced.coef_index("mathach", "3.sized")
    bb = reduced.b[[i, j]]
    VV = reduced.V[np.ix_([i, j], [i, j])]
    chi2 = float(bb @ np.linalg.solve(VV, bb))
    assert s.r.scalars["chi2"] == pytest.approx(chi2, rel=1e-10)
    assert s.r.scalars["p"] == pytest.approx(stats.chi2.sf(chi2, 2), rel=1e-10)


def test_accumulate_resets_after_new_estimation(reduced, noslope):
    s = session_with(noslope)
    run(s, "test", "1.female#1.sector=0")
    s.post_estimation(reduced)
    out = run(s, "test", "2.sized=3.sized", "accumulate")
    assert "( 2)" not in out and "chi2(  1) =    1.14" in out


# --------------------------------------------------------------------- syntax
def test_expression_forms_give_the_same_constraint(reduced):
    forms = ["2.sized=3.sized", "_b[2.sized] = _b[3.sized]", "[mathach]2.sized - [mathach]3.sized = 0",
             "_b[mathach:2.sized] - _b[mathach:3.sized]=0", "(2.sized = 3.sized)",
             "2*2.sized = 2*3.sized", "2.sized/2 = 3.sized/2"]
    rows = []
    for f in forms:
        (lin,) = parse_test_body(reduced, f)
        c = to_constraint(reduced, lin)
        rows.append(c.row / c.row[reduced.coef_index("mathach", "2.sized")])
    for r in rows[1:]:
        np.testing.assert_allclose(r, rows[0])


def test_constraint_display_coefficients_and_constant(reduced):
    s = session_with(reduced)
    out = run(s, "test", "_b[ses] = 2*_b[sector] + 1")
    assert " ( 1)  [mathach]ses - 2*[mathach]sector = 1" in out
    out = run(s, "test", "ses sector")
    assert " ( 1)  [mathach]ses = 0\n ( 2)  [mathach]sector = 0\n" in out
    assert s.r.scalars["df"] == 2
    out = run(s, "test", "0.5*ses = 0")
    assert " ( 1)  .5*[mathach]ses = 0" in out


def test_equation_chain_a_eq_b_eq_c(reduced):
    (c1, c2) = parse_test_body(reduced, "ses = sector = 1.female")
    assert c1.coef == {0: 1.0, 1: -1.0} and c2.coef == {0: 1.0, 3: -1.0}


def test_single_equation_results_print_plain_names_and_F():
    s = session_with(toy(df_r=47))
    out = run(s, "test", "a = b")
    assert " ( 1)  a - b = 0" in out
    d = -1.0
    var = 0.25 + 1.0 - 0.2
    F = d * d / var
    assert f"       F(  1,    47) ={F:8.2f}" in out
    assert f"            Prob > F =    {stats.f.sf(F, 1, 47):.4f}" in out


def test_dependent_and_omitted_constraints_dropped():
    s = session_with(toy())
    out = run(s, "test", "(a=0) (2*a=0) (o.c=0) (b=0)")
    assert "       Constraint 2 dropped" in out and "       Constraint 3 dropped" in out
    assert "chi2(  2)" in out
    chi2 = float(np.array([1.0, 2.0]) @ np.linalg.solve(np.array([[0.25, 0.1], [0.1, 1.0]]), [1.0, 2.0]))
    assert s.r.scalars["chi2"] == pytest.approx(chi2)
    out = run(s, "test", "o.c")
    assert "Constraint 1 dropped" in out and "chi2(  0) =       ." in out


def test_notest_prints_constraints_only(reduced):
    s = session_with(reduced)
    out = run(s, "test", "ses=0", "notest")
    assert "( 1)  [mathach]ses = 0" in out and "chi2" not in out
    out = run(s, "test", "sector=0", "accumulate")
    assert "chi2(  2)" in out


def test_name_normalisation():
    assert norm_name("1o.sector") == "1.sector"
    assert norm_name("c.ses#c.sector") == "ses#sector"
    assert norm_name("0b.female#2.sized") == "0.female#2.sized"


# --------------------------------------------------------------------- refusals
def test_errors_leave_state_alone(reduced):
    s = Session(out=Capture())
    with pytest.raises(StataError) as e:
        run(s, "test", "ses")
    assert e.value.rc == 301 and e.value.message == "last estimates not found"
    s.post_estimation(reduced)
    run(s, "test", "ses=0")
    chain, r = s.test_chain, s.r
    for body, rc, msg in [("foo", 111, "[mathach]foo not found"),
                          ("ses*sector = 0", 131, "not possible with test"),
                          ("ses = ", 198, "invalid syntax"),
                          ("[nosuch]ses = 0", 303, "equation nosuch not found")]:
        with pytest.raises(StataError) as e:
            run(s, "test", body, "accumulate")
        assert (e.value.rc, e.value.message) == (rc, msg)
        assert s.test_chain is chain and s.r is r
    with pytest.raises(StataError) as e:
        run(s, "test", "ses", "bogus")
    assert e.value.rc == 198


# --------------------------------------------------------------------- testparm / lincom
def test_testparm_terms(noslope, df):
    cols = tcmd.testparm_columns(noslope, "i.sized")
    assert [noslope.names[j][1] for j in cols] == ["2.sized", "3.sized"]
    cols = tcmd.testparm_columns(noslope, "c.ses#i.sized")
    assert [noslope.names[j][1] for j in cols] == ["2.sized#c.ses", "3.sized#c.ses"]
    cols = tcmd.testparm_columns(noslope, "i.female##i.sector")
    assert [noslope.names[j][1] for j in cols] == ["1.female", "1.female#1.sector"]
    s = hsb_session(df)             # testparm's varlist names variables of the data
    s.post_estimation(noslope)
    out = run(s, "testparm", "i.sized")
    assert " ( 1)  [mathach]2.sized = 0\n ( 2)  [mathach]3.sized = 0\n" in out
    with pytest.raises(StataError) as e:
        run(s, "testparm", "i.minority")
    assert e.value.rc == 111


def test_lincom_layout_and_numbers(reduced):
    s = session_with(reduced)
    out = run(s, "lincom", "2.sized - 3.sized")
    i, j = reduced.coef_index("mathach", "2.sized"), reduced.coef_index("mathach", "3.sized")
    est = reduced.b[i] - reduced.b[j]
    se = np.sqrt(reduced.V[i, i] + reduced.V[j, j] - 2 * reduced.V[i, j])
    lines = out.splitlines()
    assert lines[1] == " ( 1)  [mathach]2.sized - [mathach]3.sized = 0"
    assert lines[4] == "     mathach | Coefficient  Std. err.      z    P>|z|     [95% conf. interval]"
    assert lines[6].startswith("         (1) |")
    assert s.r.scalars["estimate"] == pytest.approx(est)
    assert s.r.scalars["se"] == pytest.approx(se)
    assert s.r.scalars["lb"] == pytest.approx(est - stats.norm.ppf(0.975) * se)
    # the same hypothesis by test: z^2 = chi2
    z2 = (est / se) ** 2
    run(s, "test", "2.sized=3.sized")
    assert s.r.scalars["chi2"] == pytest.approx(z2)


def test_lincom_t_based_after_regress_like_results():
    s = session_with(toy(df_r=47))
    out = run(s, "lincom", "a + 2*b")
    est = 1.0 + 4.0
    se = np.sqrt(0.25 + 4 * 1.0 + 4 * 0.1)
    assert "           y | Coefficient  Std. err.      t    P>|t|     [95% conf. interval]" in out
    assert s.r.scalars["t"] == pytest.approx(est / se)
    assert s.r.scalars["p"] == pytest.approx(2 * stats.t.sf(est / se, 47))
    assert s.r.scalars["ub"] == pytest.approx(est + stats.t.ppf(0.975, 47) * se)
    assert " ( 1)  a + 2*b = 0" in out
    with pytest.raises(StataError) as e:
        run(s, "lincom", "a = b")
    assert e.value.rc == 198
