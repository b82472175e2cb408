"""Issue 13: syntax and options seen in real do-files -- factor-variable forms (i2., i(2/4).,
grouped interactions, ib(#k)., o.), mixed option synonyms and display options, regress beta
and zero residual degrees of freedom, test a == b, display "s" -exp, `if 1 prog`, lazy
forvalues."""
import os

import numpy as np
import pytest

import hlmshell
from hlmshell.data.dataset import Variable
from hlmshell.data.dta import read_dta
from hlmshell.errors import StataError
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.numlist import forvalues_range
from hlmshell.syntax.parser import parse_fvlist
from session_run import ok, run

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")


@pytest.fixture(scope="module")
def base():
    return read_dta(HSB)


@pytest.fixture()
def s(base):
    s = Session(out=Capture())
    s.data = base.copy() if hasattr(base, "copy") else read_dta(HSB)
    s.data.add(Variable("grp", (s.data.values("id").astype(int) % 3 + 1).astype(float), "byte"))
    return s


def _ols(y, X):
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    return b


# --- factor variables -------------------------------------------------------------------------
def test_parse_new_fv_forms():
    (t,) = parse_fvlist("i2.grp")
    assert t.parts[0].levels == (2,) and t.parts[0].factor
    (t,) = parse_fvlist("i(2/4).grp")
    assert t.parts[0].levels == (2, 3, 4)
    (t,) = parse_fvlist("o.ses")
    assert t.parts[0].omit and not t.parts[0].factor
    (t,) = parse_fvlist("2o.grp")
    assert t.parts[0].omit and t.parts[0].levels == (2,)
    (t,) = parse_fvlist("ib(#2).grp")
    assert t.parts[0].base == "#2"
    terms = [str(t) for t in parse_fvlist("c.x##(c.a i.b)")]
    assert terms == ["c.x", "c.a", "c.x#c.a", "i.b", "c.x#i.b"]
    terms = [str(t) for t in parse_fvlist("i.a#(c.b c.c)")]
    assert terms == ["i.a#c.b", "i.a#c.c"]
    with pytest.raises(StataError) as ei:
        parse_fvlist("(a b)")
    assert ei.value.rc == 198


def test_i_level_forms(s):
    ok(s, "regress mathach i2.grp ses")
    assert [n for _, n in s.e.names] == ["2.grp", "ses", "_cons"]
    ok(s, "regress mathach i(2/3).grp")
    assert [n for _, n in s.e.names] == ["2.grp", "3.grp", "_cons"]
    out = ok(s, "regress mathach i1.sector")
    assert "    1.sector |" in out


def test_grouped_interactions_numbers(s):
    ok(s, "regress mathach i.sector#(c.ses c.meanses)")
    names = [n for _, n in s.e.names]
    assert names == ["0.sector#c.ses", "1.sector#c.ses", "0.sector#c.meanses",
                     "1.sector#c.meanses", "_cons"]
    d = s.data
    y, ses, ms, sec = (d.values(v) for v in ("mathach", "ses", "meanses", "sector"))
    X = np.column_stack([(sec == 0) * ses, (sec == 1) * ses, (sec == 0) * ms, (sec == 1) * ms,
                         np.ones(len(y))])
    assert s.e.b == pytest.approx(_ols(y, X), rel=1e-9)
    ok(s, "regress mathach c.ses##(c.meanses i.sector)")
    names = [n for _, n in s.e.names]
    assert names == ["ses", "meanses", "c.ses#c.meanses", "0b.sector", "1.sector",
                     "0b.sector#co.ses", "1.sector#c.ses", "_cons"]
    X = np.column_stack([ses, ms, ses * ms, (sec == 1), (sec == 1) * ses, np.ones(len(y))])
    keep = [0, 1, 2, 4, 6, 7]
    assert s.e.b[keep] == pytest.approx(_ols(y, X.astype(float)), rel=1e-9)


def test_grouped_interaction_in_mixed_and_testparm(s):
    ok(s, "mixed mathach i.sector#(c.ses c.meanses) || id:, nolog")
    out = ok(s, "testparm i.sector#c.ses")
    assert "0.sector#c.ses = 0" in out and "chi2(  2)" in out


def test_ib_ordinal_base_and_omit_operator(s):
    ok(s, "regress mathach ib(#2).grp")
    assert [n for _, n in s.e.names] == ["1.grp", "2b.grp", "3.grp", "_cons"]
    out = ok(s, "regress mathach o.ses meanses")
    assert [n for _, n in s.e.names] == ["o.ses", "meanses", "_cons"]
    assert "         ses |          0  (omitted)" in out and "note:" not in out
    y, ms = s.data.values("mathach"), s.data.values("meanses")
    assert s.e.b[1:] == pytest.approx(_ols(y, np.column_stack([ms, np.ones(len(y))])), rel=1e-9)
    assert run(s, "regress mathach ib(#7).grp")[0] == 111


# --- mixed options ----------------------------------------------------------------------------
def test_mixed_option_synonyms(s):
    ok(s, "mixed mathach ses, ml nocon || id:, nolog")
    assert s.e.macros["method"] == "ML"
    assert [n for _, n in s.e.names][:1] == ["ses"] and ("mathach", "_cons") not in s.e.names
    out = ok(s, "mixed mathach ses || id:, ml var nolog")
    assert "var(_cons)" in out


def test_mixed_display_options(s):
    ok(s, "mixed mathach ses || id: ses, nolog cov(un)")
    out = ok(s, "mixed, nostderr")
    line = next(ln for ln in out.splitlines() if "var(_cons)" in ln)
    assert line.rstrip().endswith(line.split()[-1]) and len(line.split()) == 3
    out = ok(s, "mixed, nogroup")
    assert "Group variable" not in out and "Number of obs" in out and "Wald chi2" in out
    out = ok(s, "mixed, estmetric")
    for eq in ("mathach      |", "lns1_1_1     |", "lns1_1_2     |", "atr1_1_1_2   |",
               "lnsig_e      |"):
        assert eq in out
    assert "Random-effects parameters" not in out
    k = s.e.b.size
    assert f"{s.e.b[k - 1]:.4f}"[:5] in out


# --- regress ------------------------------------------------------------------------------------
def test_regress_beta(s):
    out = ok(s, "regress mathach ses meanses, beta")
    assert out.count("Beta") == 1 and "conf. interval" not in out
    d = s.data
    y, x1, x2 = d.values("mathach"), d.values("ses"), d.values("meanses")
    b = _ols(y, np.column_stack([x1, x2, np.ones(len(y))]))
    beta = b[:2] * np.array([x1.std(), x2.std()]) / y.std()
    row = next(ln for ln in out.splitlines() if ln.startswith("         ses |"))
    assert float(row.split()[-1]) == pytest.approx(beta[0], rel=1e-6)
    cons = next(ln for ln in out.splitlines() if ln.startswith("       _cons |"))
    assert cons.endswith("          .") and len(cons) == 78
    assert "Beta" in ok(s, "regress, beta")


def test_regress_zero_residual_df():
    s = Session(out=Capture())
    ok(s, "set obs 3")
    ok(s, "gen x = _n")
    ok(s, "gen z = _n^2")
    ok(s, "gen y = 1 + 2*x + 3*z + (_n == 2)/2")
    out = ok(s, "regress y x z")
    X = np.column_stack([[1, 2, 3], [1, 4, 9], [1, 1, 1]]).astype(float)
    yv = np.array([6, 17.5, 34])
    assert s.e.b == pytest.approx(np.linalg.solve(X, yv), rel=1e-9)
    assert s.e.scalars["df_r"] == 0 and s.e.scalars["rmse"] == 0
    assert np.isnan(s.e.scalars["F"])
    assert "           x |          4          .        .       .            .           ." in out
    assert "F(2, 0)         =         ." in out


# --- test, display, if, forvalues -------------------------------------------------------------
def test_test_double_equals(s):
    ok(s, "regress mathach ses meanses")
    a = ok(s, "test ses == meanses")
    assert "ses - meanses = 0" in a
    assert a == ok(s, "test ses = meanses")
    assert "2*ses + meanses = 3" in ok(s, "test 2*ses + meanses == 3")


def test_display_string_then_minus(s):
    ok(s, "quietly regress mathach ses")
    out = ok(s, 'display "deviance = " -2*e(ll)')
    assert out.strip() == "deviance = " + f"{-2 * s.e.scalars['ll']:.7g}"[:8] or "deviance = " in out
    assert ok(s, 'display "a" + "b" -1').strip() == "ab-1"
    assert ok(s, "display 3 -2").strip() == "1"


def _do(s, text):
    rc = Interpreter(s).run_text(text, echo=False)
    return rc, s.out.getvalue()


def test_one_line_if_runs_program_and_lazy_forvalues():
    s = Session(out=Capture())
    rc, out = _do(s, 'program define myprog\ndisplay "hi from prog"\nend\nif 1 myprog\n'
                     'if 0 myprog\n'
                     'forvalues i = 1/100000000 {\nif `i\' > 3 continue, break\n}\n'
                     'display "stopped at `i\'"\n')
    assert rc == 0, out
    assert out.count("hi from prog") == 1 and "stopped at 4" in out


def test_forvalues_range_is_lazy():
    it = forvalues_range("1/1e9")
    assert next(it) == 1 and next(it) == 2
    assert list(forvalues_range("10(-3)1")) == [10, 7, 4, 1]
    assert list(forvalues_range("1 3 to 9")) == [1, 3, 5, 7, 9]


# --- Unicode names --------------------------------------------------------------------------
def test_unicode_variable_names(s):
    s.data.add(Variable("größe", s.data.values("ses") * 2, "double"))
    ok(s, "gen y2 = größe + 1")
    assert s.data.values("y2")[0] == pytest.approx(s.data.values("ses")[0] * 2 + 1)
    assert "größe |" in ok(s, "summarize größe")
    assert "größe" in ok(s, "list größe in 1/2")
    ok(s, "regress mathach c.größe##i.sector")
    assert ("mathach", "1.sector#c.größe") in s.e.names
    assert "größe = 0" in ok(s, "test größe")
    assert ok(s, "display größe[1]").strip() == ok(s, "display ses[1]*2").strip()


def test_forvalues_beyond_the_loop_counter_is_refused():
    with pytest.raises(Exception) as ei:
        forvalues_range("1/1e12")
    assert getattr(ei.value, "rc", None) == 123


def test_testparm_new_forms(s):
    ok(s, "quietly regress mathach i.grp c.ses##(c.meanses i.sector)")
    assert "( 2)  3.grp = 0" in ok(s, "testparm i(2/3).grp")
    out = ok(s, "testparm i2.grp")
    assert "( 1)  2.grp = 0" in out and "( 2)" not in out
    out = ok(s, "testparm c.ses#(c.meanses i.sector)")
    assert "c.ses#c.meanses = 0" in out and "1.sector#c.ses = 0" in out
    assert "2.grp - 3.grp = 0" in ok(s, "test 2.grp == 3.grp")


def test_reml_and_ml_together_refused(s):
    rc, out = run(s, "mixed mathach ses, ml || id:, reml")
    assert rc == 198 and "reml and mle may not be combined" in out


def test_zero_df_with_robust_and_beta():
    s = Session(out=Capture())
    for line in ("set obs 3", "gen x = _n", "gen z = _n^2", "gen y = 1 + 2*x + 3*z + (_n == 2)/2"):
        ok(s, line)
    out = ok(s, "regress y x z, vce(robust)")
    assert "           x |          4          .        .       ." in out
    out = ok(s, "regress y x z, beta")
    x, z, y = (np.array(v, dtype=float) for v in ([1, 2, 3], [1, 4, 9], [6, 17.5, 34]))
    row = next(ln for ln in out.splitlines() if ln.startswith("           x |"))
    assert float(row.split()[-1]) == pytest.approx(4 * x.std() / y.std(), rel=1e-6)
    assert run(s, "regress y x z in 1")[0] == 2001
