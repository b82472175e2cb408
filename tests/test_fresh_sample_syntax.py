"""Valid Stata 17 that real course do-files use and hlmshell refused (issue 13's fresh sample of
do-files): an option name followed by a space before its parenthesis (`egen m = mean(x), by (g)`,
L. Hoffman's course files), a comma ending the options (`estat ic, n(94),`), a block opened by
`if(` or `while(` with no space after the word, and `residuals(ar1, t(t))` /
`residuals(banded0, t(t))` with the order glued to the structure's name."""
import json
import os

import numpy as np
import pandas as pd
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import csv_session, ok, run

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "data", "fresh_sample")


def _small():
    s = Session(out=Capture())
    ok(s, "set obs 9")
    ok(s, "gen g = ceil(_n/3)")
    ok(s, "gen y = _n^2")
    return s


def _do(s, tmp_path, text):
    path = tmp_path / "t.do"
    path.write_text(text)
    return run(s, f'do "{path}"')


def test_option_with_space_before_paren():
    s = _small()
    ok(s, "egen m = mean(y), by (g)")
    y = np.arange(1, 10) ** 2
    expect = pd.Series(y).groupby(np.repeat([1, 2, 3], 3)).transform("mean").to_numpy()
    assert np.allclose(s.data.values("m"), expect)


def test_trailing_comma_after_options_is_ignored():
    s = _small()
    ok(s, "summarize y, meanonly,")
    assert s.r.scalars["mean"] == pytest.approx(np.mean(np.arange(1, 10) ** 2))
    ok(s, "regress y g")
    ok(s, "estat ic, n(94),")
    S = s.r.matrices["S"]
    ll, df = s.e.scalars["ll"], s.e.scalars["rank"]
    assert S[0, 0] == 94
    assert S[0, 5] == pytest.approx(-2 * ll + df * np.log(94))


def test_lone_commas_still_invalid():
    s = _small()
    rc, out = run(s, "summarize y, ,")
    assert rc == 198
    rc, out = run(s, "summarize y, meanonly, detail")
    assert rc == 198


def test_if_and_while_blocks_without_space(tmp_path):
    s = _small()
    rc, out = _do(s, tmp_path, "local i = 1\nlocal tot = 0\nwhile(`i' <= 5) {\n"
                  "if(`i'!=2 & `i'!=4) {\nlocal tot = `tot' + `i'\n}\nlocal i = `i' + 1\n}\n"
                  "scalar tot = `tot'\n")
    assert rc == 0, out
    assert s.scalars["tot"] == 1 + 3 + 5


@pytest.fixture(scope="module")
def panel():
    with open(os.path.join(REF, "residual_structures.json")) as fh:
        ref = json.load(fh)
    return csv_session("tests/data/fresh_sample/hetero_panel.csv"), ref


@pytest.mark.parametrize("spec, key", [("banded0", "banded0"), ("banded 0", "banded0"),
                                       ("ar1", "ar1")])
def test_residual_order_glued_to_name(panel, spec, key):
    """Against nlme::lme (varIdent by occasion for banded 0; corAR1 for ar 1), REML."""
    s, ref = panel
    ok(s, f"quietly mixed y t || id:, reml residuals({spec}, t(t))")
    assert s.e.scalars["ll"] == pytest.approx(ref[key]["ll"], abs=2e-5)
    b = np.asarray(s.e.b).ravel()
    assert b[0] == pytest.approx(ref[key]["b"][1], abs=1e-5)
    assert b[1] == pytest.approx(ref[key]["b"][0], abs=1e-5)


def test_residual_order_errors(panel):
    s, _ = panel
    rc, out = run(s, "mixed y t || id:, reml residuals(toeplitz0, t(t))")
    assert rc == 198 and "residuals(toeplitz0, t(t)) invalid" in out
    rc, out = run(s, "mixed y t || id:, reml residuals(ar1 2, t(t))")
    assert rc == 198


def test_ic_n_option_estimates_stats_and_errors():
    """n(#) replaces N in BIC = -2 ll + ln(N) df (and in the N column); no footnote then."""
    s = _small()
    ok(s, "regress y g")
    ok(s, "estimates store m1")
    out = ok(s, "estimates stats m1, n(50)")
    assert "Note: BIC uses N" not in out
    ll, df = s.e.scalars["ll"], s.e.scalars["rank"]
    S = s.r.matrices["S"]
    assert S[0, 0] == 50 and S[0, 5] == pytest.approx(-2 * ll + df * np.log(50))
    out = ok(s, "estat ic")
    assert "Note: BIC uses N = number of observations." in out
    assert s.r.matrices["S"][0, 5] == pytest.approx(-2 * ll + df * np.log(9))
    assert run(s, "estat ic, n(0)")[0] == 125
    assert run(s, "estat ic, n(a)")[0] == 121
