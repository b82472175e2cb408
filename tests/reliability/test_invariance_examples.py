"""Issue 9's examples, one by one, on the full High School and Beyond data.

Each shifted or rescaled fit is compared with the fit on the data as they are (the correct
numbers: what Stata prints for `mixed mathach ses || id:` and `regress mathach ses`), not with
copied digits. Before the engine standardized its data these failed badly: +1e8 on the outcome
moved the ses slope from 2.3915 to 2.193, +1e10 made its standard error ten times too large,
`regress mathach s6` with s6 = ses + 1e6 gave 3.196 instead of 3.18387 and with ses + 1e9 a
slope of -0.004, ses in units of 1e12 broke the LR test against the linear model, and a
constant outcome had t = 71.65, P = 0.000.

Shifts of 1e8..1e12 round the stored data themselves (ses + 1e9 keeps ses to 1.2e-7), so
those comparisons allow what that rounding can move (1e-6 relative); shifts that are exact in
doubles are held to 1e-9.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

import hlmshell
from hlmshell.data.dta import read_dta
from hlmshell.interpreter import Interpreter
from hlmshell.output.numfmt import fmt
from hlmshell.output.writer import Capture
from hlmshell.session import Session

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")
WIDTH = 78


class Shell:
    """A session on the hsb data that runs commands and keeps each one's output."""

    def __init__(self):
        self.s = Session(out=Capture())
        self.s.data = read_dta(HSB)
        self.it = Interpreter(self.s)

    def run(self, line: str):
        self.s.out = Capture()
        rc = self.it.run_line(line)
        out = self.s.out.getvalue()
        assert rc == 0, out
        return self.s.e, out


@pytest.fixture(scope="module")
def sh():
    sh = Shell()
    for line in ("gen double y8 = mathach + 1e8", "gen double y10 = mathach + 1e10",
                 "gen double s6 = ses + 1e6", "gen double s9 = ses + 1e9",
                 "gen double sbig = ses * 1e12", "gen double ssmall = ses * 1e-12",
                 "gen double sg = round(ses * 512) / 512", "gen double sg12 = sg + 1e12",
                 "gen yconst = 5"):
        sh.run(line)
    return sh


@pytest.fixture(scope="module")
def ri(sh):
    """`mixed mathach ses || id:` on the data as they are: the correct numbers."""
    return sh.run("mixed mathach ses || id:, nolog")


def b_se(e, name):
    i = e.coef_index(None, name)
    return float(e.b[i]), math.sqrt(float(e.V[i, i]))


def row(out: str, name: str) -> str:
    return next(ln for ln in out.splitlines() if ln.strip().startswith(name + " |"))


def test_outcome_plus_1e8_changes_nothing_but_the_intercept(sh, ri):
    ref, ref_out = ri
    e, out = sh.run("mixed y8 ses || id:, nolog")
    b, se = b_se(e, "ses")
    b0, se0 = b_se(ref, "ses")
    assert b == pytest.approx(b0, rel=1e-7) and se == pytest.approx(se0, rel=1e-7)
    assert round(b, 4) == round(b0, 4)                    # 2.3915, not 2.193
    assert e.scalars["ll"] == pytest.approx(ref.scalars["ll"], rel=1e-10)   # -23320.502
    assert e.scalars["chi2_c"] == pytest.approx(ref.scalars["chi2_c"], rel=1e-7)
    assert row(out, "ses") == row(ref_out, "ses")
    assert b_se(e, "_cons")[0] == pytest.approx(b_se(ref, "_cons")[0] + 1e8, rel=1e-15)
    assert e.scalars["converged"] == 1


def test_outcome_plus_1e10_keeps_the_standard_errors(sh, ri):
    ref, _ = ri
    e, out = sh.run("mixed y10 ses || id:, nolog")
    for name in ("ses", "_cons"):
        assert b_se(e, name)[1] == pytest.approx(b_se(ref, name)[1], rel=1e-6)   # not 10x
    assert b_se(e, "ses")[0] == pytest.approx(b_se(ref, "ses")[0], rel=1e-6)
    assert e.scalars["ll"] == pytest.approx(ref.scalars["ll"], rel=1e-9)
    kf = ref.k_f
    assert np.allclose(e.b[kf:], ref.b[kf:], rtol=1e-6)
    assert np.allclose(np.diag(e.V)[kf:], np.diag(ref.V)[kf:], rtol=1e-5)
    # the intercept's z (5.3e+10) in e-notation, the table still 78 columns wide
    assert all(len(ln) <= WIDTH for ln in out.splitlines())
    z = b_se(e, "_cons")[0] / b_se(e, "_cons")[1]
    assert fmt(z, "%8.2f") in row(out, "_cons") and "e+10" in row(out, "_cons")


def test_reml_outcome_shift(sh):
    ref, _ = sh.run("mixed mathach ses || id:, nolog reml")
    e, _ = sh.run("mixed y10 ses || id:, nolog reml")
    assert e.scalars["ll"] == pytest.approx(ref.scalars["ll"], rel=1e-9)
    assert e.scalars["ll_c"] == pytest.approx(ref.scalars["ll_c"], rel=1e-9)
    assert b_se(e, "ses")[1] == pytest.approx(b_se(ref, "ses")[1], rel=1e-6)


@pytest.mark.parametrize("var", ["s6", "s9"])
def test_regress_on_a_shifted_covariate(sh, var):
    ref, ref_out = sh.run("regress mathach ses")
    e, out = sh.run(f"regress mathach {var}")
    b, se = b_se(e, var)
    b0, se0 = b_se(ref, "ses")
    assert b == pytest.approx(b0, rel=1e-6) and se == pytest.approx(se0, rel=1e-6)
    assert round(b, 5) == round(b0, 5)                     # 3.18387, not 3.196 or -0.004
    for stat in ("r2", "F", "rmse", "ll"):
        assert e.scalars[stat] == pytest.approx(ref.scalars[stat], rel=1e-7), stat
    # the intercept moves by -shift * slope, with the same precision
    shift = 1e6 if var == "s6" else 1e9
    assert b_se(e, "_cons")[0] == pytest.approx(b_se(ref, "_cons")[0] - shift * b0, rel=1e-6)
    assert all(len(ln) <= WIDTH for ln in out.splitlines())


def test_mixed_on_a_shifted_covariate(sh, ri):
    ref, ref_out = ri
    e, out = sh.run("mixed mathach s6 || id:, nolog")
    b, se = b_se(e, "s6")
    assert b == pytest.approx(b_se(ref, "ses")[0], rel=1e-6)       # 2.3915, not 2.412
    assert se == pytest.approx(b_se(ref, "ses")[1], rel=1e-6)
    assert e.scalars["ll"] == pytest.approx(ref.scalars["ll"], rel=1e-10)
    assert e.scalars["chi2_c"] == pytest.approx(ref.scalars["chi2_c"], rel=1e-7)
    assert out.splitlines()[-1] == ref_out.splitlines()[-1]       # LR test line
    assert e.model.fit.vc_V is not None                              # standard errors computed


@pytest.mark.parametrize("var,scale", [("sbig", 1e12), ("ssmall", 1e-12)])
def test_lr_test_vs_linear_model_with_a_rescaled_covariate(sh, ri, var, scale):
    ref, ref_out = ri
    e, out = sh.run(f"mixed mathach {var} || id:, nolog")
    assert e.scalars["ll_c"] == pytest.approx(ref.scalars["ll_c"], rel=1e-10)
    assert e.scalars["chi2_c"] == pytest.approx(ref.scalars["chi2_c"], rel=1e-7)
    assert out.splitlines()[-1] == ref_out.splitlines()[-1]       # chibar2(01) = 456.94
    b, se = b_se(e, var)
    assert b * scale == pytest.approx(b_se(ref, "ses")[0], rel=1e-7)
    assert se * scale == pytest.approx(b_se(ref, "ses")[1], rel=1e-7)


def test_blups_do_not_depend_on_a_covariate_shift(sh):
    sh.run("mixed mathach sg || id:, nolog")
    sh.run("predict double u_ref, reffects reses(se_ref)")
    sh.run("mixed mathach sg12 || id:, nolog")
    sh.run("predict double u_12, reffects reses(se_12)")
    v = sh.s.data.values
    assert np.allclose(v("u_12"), v("u_ref"), rtol=1e-9, atol=1e-9)
    assert np.allclose(v("se_12"), v("se_ref"), rtol=1e-9, atol=1e-12)


def test_constant_outcome(sh):
    e, out = sh.run("regress yconst ses")
    lines = out.splitlines()
    # exact coefficients, zero sums of squares, Root MSE 0; F, R-squared and their kin missing
    assert e.b[e.coef_index(None, "_cons")] == 5.0 and e.b[e.coef_index(None, "ses")] == 0.0
    assert e.scalars["rss"] == 0.0 and e.scalars["mss"] == 0.0 and e.scalars["rmse"] == 0.0
    assert np.all(e.V == 0.0)
    for stat in ("F", "r2", "r2_a", "ll"):
        assert math.isnan(e.scalars[stat]), stat
    assert "       Model |           0         1           0   Prob > F        =         ." in lines
    assert "    Residual |           0     7,183           0   R-squared       =         ." in lines
    assert "       Total |           0     7,184           0   Root MSE        =         0" in lines
    assert "-------------+----------------------------------   F(1, 7183)      =         ." in lines
    # no t, no P: the standard errors are zero
    assert row(out, "ses") == "         ses |          0          0        .       .            .           ."
    assert row(out, "_cons") == "       _cons |          5          0        .       .            .           ."


def test_outcome_regressed_on_itself_fits_exactly_and_fits_the_table(sh):
    e, out = sh.run("regress mathach mathach")
    assert e.scalars["rss"] == 0.0 and e.scalars["r2"] == 1.0
    assert b_se(e, "mathach") == (pytest.approx(1.0, rel=1e-14), 0.0)
    assert all(len(ln) <= WIDTH for ln in out.splitlines())
    assert "   F(1, 7183)      =         ." in out and "Root MSE        =         0" in out


@pytest.mark.parametrize("x,spec,want", [
    (10000000.0, "%9.2fc", " 1.00e+07"),                # Stata: display %9.2fc 10000000
    (1.2345e15, "%8.2f", "1.23e+15"),
    (-1.2345e15, "%8.2f", "-1.2e+15"),
    (53384282426.66, "%8.2f", "5.34e+10"),
    (12345.678, "%8.2f", "12345.68"),                   # still fits: unchanged
    (4.723e33, "%10.2f", "  4.72e+33"),
    (123456789.0, "%10.0fc", " 123456789"),            # commas dropped before e-notation
])
def test_oversized_fixed_format_switches_to_e_notation(x, spec, want):
    assert fmt(x, spec) == want


def test_near_exact_fit_prints_e_notation_within_the_columns(sh):
    """A genuine, huge t (an outcome within 1e-9 of a linear function of ses) prints as
    Stata's e-notation instead of a 20-digit number that pushes the table apart."""
    sh.run("gen double ynear = 3 + 2 * ses + 1e-9 * (mod(_n, 7) - 3)")
    e, out = sh.run("regress ynear ses")
    t = b_se(e, "ses")[0] / b_se(e, "ses")[1]
    assert t > 1e8
    assert all(len(ln) <= WIDTH for ln in out.splitlines())
    assert fmt(t, "%8.2f") in row(out, "ses") and "e+" in fmt(t, "%8.2f")
    F = e.scalars["F"]
    assert f"={fmt(F, '%10.2f')}" in out and "e+" in fmt(F, "%10.2f")
