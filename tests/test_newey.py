"""newey (hlmshell/commands/newey.py, engine/hac.py) against R: sandwich::NeweyWest(fit, lag,
prewhite = FALSE, adjust = TRUE) for one series (also lag 0, noconstant, aweights and a gap
bridged by `force`), and a within-panel Bartlett loop in R for xtset data
(tests/data/newey/newey_ref.R). Layout, e(), predict, replay and refusals."""
import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "newey")
with open(os.path.join(HERE, "newey_ref.json")) as f:
    REF = json.load(f)


@pytest.fixture()
def grun():
    s = csv_session("tests/data/grunfeld.csv")
    ok(s, "xtset firm year")
    return s


def _check(s, ref, names):
    e = s.e
    idx = [e.coef_index(None, nm) for nm in names]
    assert np.allclose(np.asarray(e.b)[idx], ref["b"], rtol=1e-8, atol=1e-10)
    assert np.allclose(e.se[idx], ref["se"], rtol=1e-7)
    if "F" in ref:
        assert e.scalars["F"] == pytest.approx(ref["F"], rel=1e-7)


def test_panel_lags_within_firms(grun):
    out = ok(grun, "newey inv value capital, lag(3)")
    _check(grun, REF["panel_lag3"], ["_cons", "value", "capital"])
    assert "Regression with Newey-West standard errors      Number of obs     =        200" in out
    assert "maximum lag: 3                                  F(  2,       197) =      79.67" in out
    assert "                                                Prob > F          =     0.0000" in out
    assert "             |             Newey-West" in out
    e = grun.e
    assert e.macros["cmd"] == "newey" and e.macros["vcetype"] == "Newey-West"
    assert e.scalars["lag"] == 3 and e.scalars["df_r"] == 197 and e.scalars["df_m"] == 2


def test_one_series_lags(grun):
    ok(grun, "newey inv value capital if firm == 1, lag(3)")
    _check(grun, REF["series_lag3"], ["_cons", "value", "capital"])
    ok(grun, "newey inv value capital if firm == 1, lag(0)")
    _check(grun, REF["series_lag0"], ["_cons", "value", "capital"])
    ok(grun, "newey inv value capital if firm == 1, lag(2) nocons")
    _check(grun, REF["series_nocons"], ["value", "capital"])
    ok(grun, "newey inv value if firm == 1 [aw=capital], lag(2)")
    _check(grun, REF["series_aweight"], ["_cons", "value"])
    assert grun.e.macros["wtype"] == "aweight"


def test_gap_needs_force(grun):
    ok(grun, "drop if year == 1940")
    rc, out = run(grun, "newey inv value capital if firm == 1, lag(2)")
    assert rc == 198 and "year is not regularly spaced -- use the force option to override" in out
    assert grun.e is None
    ok(grun, "newey inv value capital if firm == 1, lag(2) force")
    _check(grun, REF["gap_force"], ["_cons", "value", "capital"])
    assert grun.e.scalars["N"] == REF["gap_force"]["N"]
    ok(grun, "newey inv value capital if firm == 1, lag(0)")      # no lag: no spacing check


def test_predict_replay_and_t_option(grun):
    ok(grun, "newey inv L.value capital, lag(2)")
    b = np.asarray(grun.e.b)
    ok(grun, "predict double xb")
    ok(grun, "predict double r, residuals")
    d = grun.data
    lv = np.r_[np.nan, np.asarray(d.var("value").values, dtype=float)[:-1]]
    lv[np.asarray(d.var("year").values) == 1935] = np.nan
    cap = np.asarray(d.var("capital").values, dtype=float)
    want = b[0] * lv + b[1] * cap + b[2]
    got = np.asarray(d.var("xb").values, dtype=float)
    assert np.allclose(got[~np.isnan(want)], want[~np.isnan(want)])
    assert np.isnan(got[np.isnan(want)]).all()
    r = np.asarray(d.var("r").values, dtype=float)
    assert np.allclose(r[~np.isnan(want)], (np.asarray(d.var("inv").values) - want)[~np.isnan(want)])
    out = ok(grun, "newey, level(90)")
    assert "[90% conf. interval]" in out and "maximum lag: 2" in out
    ok(grun, "tsset, clear")
    ok(grun, "newey inv value capital if firm == 1, lag(3) t(year)")     # old t() syntax
    _check(grun, REF["series_lag3"], ["_cons", "value", "capital"])


@pytest.mark.parametrize("line,rc,msg", [
    ("newey inv value capital", 198, "option lag() required"),
    ("newey inv value capital, lag(-1)", 198, "lag(-1) invalid"),
    ("newey inv value capital, lag(a)", 198, "lag(a) invalid"),
    ("newey inv, lag(1) nocons", 198, "may not specify noconstant without regressors"),
    ("newey inv value [fw=firm], lag(1)", 101, "fweights not allowed"),
    ("newey inv nosuch, lag(1)", 111, ""),
    ("newey inv value if firm > 99, lag(1)", 2000, "no observations"),
])
def test_refusals(grun, line, rc, msg):
    got, out = run(grun, line)
    assert got == rc and msg in out and "Traceback" not in out
    assert grun.e is None


def test_needs_time_variable():
    s = csv_session("tests/data/grunfeld.csv")
    rc, out = run(s, "newey inv value, lag(1)")
    assert rc == 111 and "time variable not set" in out
    rc, out = run(s, "newey")
    assert rc == 301
    ok(s, "newey inv value, lag(0)")          # lag(0): White's VCE, no time order needed


def test_postestimation(grun):
    ok(grun, "quietly newey inv value capital, lag(4) force")
    e = grun.e
    b, V = np.asarray(e.b), np.asarray(e.V)
    out = ok(grun, "lincom value + capital")
    se_lin = np.sqrt(V[0, 0] + V[1, 1] + 2 * V[0, 1])
    assert f"{se_lin:.7f}".lstrip("0")[:7] in out
    out = ok(grun, "margins")                 # the mean linear prediction, delta-method se
    d = grun.data
    xbar = np.array([np.mean(d.var("value").values), np.mean(d.var("capital").values), 1.0])
    m = float(xbar @ b)
    se = float(np.sqrt(xbar @ V @ xbar))
    row = [ln for ln in out.splitlines() if ln.strip().startswith("_cons |")][0]
    got = [float(x) for x in row.split("|")[1].split()[:2]]
    assert got == [pytest.approx(m, rel=1e-6), pytest.approx(se, rel=1e-5)]
    assert "Model VCE: Newey-West" in out
    ok(grun, "quietly newey inv value capital, lag(4)")
    ok(grun, "estimates store nw")
    ok(grun, "quietly regress inv value capital")
    out = ok(grun, "estimates table nw ., se")
    assert "inv " not in out                   # no equation names: rows shared with regress
