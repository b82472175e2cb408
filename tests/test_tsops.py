"""Time-series operators `L.`, `F.`, `D.`, `S.` (hlmshell/data/timeseries.py; the notation in
hlmshell/syntax/tsops.py, the grammar and varlist.py): names as Stata spells them, values
matched by (panel, time) with gaps respected, in varlists of regress/mixed/xtreg, summarize,
list, correlate and in expressions; errors with Stata's messages and codes.

Reference numbers: R's plm (its lag() matches by the time index), computed once by
tests/data/tsops_reference.R and carried here as literals; generated variables against pandas
on a complete panel grid; a property test against a brute-force (panel, time) lookup.
"""
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlmshell.commands._panel import parse_delta as panel_parse_delta
from hlmshell.commands._panel import set_panel
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.timeseries import (canonical_name, parse_delta, parse_ops, split_name, ts_label,
                                      ts_values)
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.parser import parse_expr, parse_fvlist, parse_mixed
from hlmshell.syntax.tsops import expand_ops, split_prefix
from hlmshell.syntax.varlist import expand_varlist
from session_run import ok, run

HERE = os.path.join(os.path.dirname(__file__), "data")
TOL = 1e-5


# --------------------------------------------------------------------------- fixtures
def dataset(frame: pd.DataFrame) -> Dataset:
    ds = Dataset()
    for c in frame.columns:
        ds.add(Variable(c, np.asarray(frame[c], dtype=np.float64), "double"))
    return ds


def grunfeld(gaps: bool = False) -> pd.DataFrame:
    d = pd.read_csv(os.path.join(HERE, "grunfeld.csv"))
    if gaps:                        # as tsops_reference.R: gaps inside every panel
        d = d[(d.firm + d.year) % 7 != 0].reset_index(drop=True)
    return d


def session_of(frame: pd.DataFrame, panel=("firm", "year")) -> Session:
    s = Session(out=Capture())
    s.data = dataset(frame)
    if panel:
        set_panel(s, *panel)
    return s


def fails(s, text, rc, message=None):
    got, out = run(s, text)
    assert got == rc, out
    if message is not None:
        assert message in out, out
    return out


def close(a, b, tol=TOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert np.allclose(a, b, rtol=tol, atol=0), (a, b)


def coefs(s):
    e = s.e
    return np.asarray(e.b[: e.k_f]), np.asarray(e.se[: e.k_f])


def col(s, name):
    return np.asarray(s.data.var(name).values, dtype=float)


# --------------------------------------------------------------------------- names
@pytest.mark.parametrize("typed, name, label", [
    ("L.x", "L.x", "L1."), ("L1.x", "L.x", "L1."), ("l2.x", "L2.x", "L2."),
    ("F.x", "F.x", "F1."), ("D.x", "D.x", "D1."), ("D2.x", "D2.x", "D2."),
    ("S12.x", "S12.x", "S12."), ("S.x", "S.x", "S1."), ("LD.x", "LD.x", "LD."),
    ("DL.x", "LD.x", "LD."), ("L2D.x", "L2D.x", "L2D."), ("ld2.x", "LD2.x", "LD2."),
    ("L0.x", "x", "--."), ("LF.x", "x", "--."), ("L3F.x", "L2.x", "L2."),
])
def test_canonical_names_and_labels(typed, name, label):
    assert canonical_name(typed) == name
    assert ts_label(typed) == ("x", label)


def test_names_without_operators_are_left_alone():
    for nm in ("x", "ses", "c.x", "1.f", "_cons", "R.id"):
        assert split_name(nm) is None and canonical_name(nm) == nm
    assert parse_ops("L2DS12").shift == 2 and parse_ops("L2DS12").seasonal == (12,)
    with pytest.raises(StataError):
        parse_ops("X")


def test_operator_lists():
    assert expand_ops("L(1/3)") == ["L", "L2", "L3"]
    assert expand_ops("L(0/2)") == ["", "L", "L2"]
    assert expand_ops("L(1/2)D") == ["LD", "L2D"]
    assert expand_ops("D(1 2)") == ["D", "D2"]
    assert split_prefix("cL") == ("c", ["L"])
    assert split_prefix("iL(1/2)") == ("i", ["L", "L2"])
    assert split_prefix("L2D") == (None, ["L2D"])
    assert split_prefix("ib3") == ("ib3", None)
    with pytest.raises(StataError):
        expand_ops("L(1/2)D(1/2)")          # one parenthesised numlist at most, as Stata


def test_parse_fvlist_with_operators():
    names = [str(t) for t in parse_fvlist("L.x L(1/2).y L(0/1).z LD.w cL.v i.f#cL.x L.(a b)")]
    assert names == ["c.L.x", "c.L.y", "c.L2.y", "c.z", "c.L.z", "c.LD.w", "c.L.v",
                     "i.f#c.L.x", "c.L.a", "c.L.b"]
    (t,) = parse_fvlist("iL.f")
    assert t.parts[0].name == "L.f" and t.parts[0].factor
    # L(1/3).(gnp cpi): variable by variable, as Stata's manual lists them
    assert [t.parts[0].name for t in parse_fvlist("L(1/2).(g c)")] == ["L.g", "L2.g", "L.c", "L2.c"]


def test_expressions_parse_operated_names():
    assert str(parse_expr("D.x - l2.y + LD.z")) == "((D.x - L2.y) + LD.z)"
    assert str(parse_expr("dl.x*2")) == "(LD.x * 2)"
    assert str(parse_expr("x[_n-1]")) == "x[(_n - 1)]"


def test_operated_depvar():
    assert parse_mixed("D.inv L.value").depvar == "D.inv"


def test_parse_delta_moved_but_still_importable_from_panel():
    assert panel_parse_delta is parse_delta
    assert parse_delta("+1.0000000000000X+000") == 1.0 and parse_delta("+1.0000000000000X+001") == 2.0


# --------------------------------------------------------------------------- varlists
def test_varlist_expansion():
    s = session_of(grunfeld())
    ds = s.data
    assert expand_varlist(ds, "L(0/1).cap va", ts=True) == ["capital", "L.capital", "value"]
    assert expand_varlist(ds, "L.(inv value) D.v*", ts=True) == ["L.inv", "L.value", "D.value"]
    terms = expand_varlist(ds, "L(1/2).inv cL.value#i.firm", fv=True)
    assert [str(t) for t in terms] == ["c.L.inv", "c.L2.inv", "c.L.value#i.firm"]
    with pytest.raises(StataError) as err:
        expand_varlist(ds, "L.value")           # a plain varlist without ts: Stata's r(101)
    assert err.value.rc == 101


# --------------------------------------------------------------------------- regress vs plm
def test_regress_lags_against_plm_balanced():
    s = session_of(grunfeld())
    out = ok(s, "regress inv L.value L(0/1).capital")
    assert [n for _, n in s.e.names] == ["L.value", "capital", "L.capital", "_cons"]
    b, se = coefs(s)
    close(b, [0.110540070071985, 0.604581225532109, -0.415657266443787, -34.704602524492600])
    close(se, [0.00703040277650003, 0.17775750360028289, 0.19822029729466226, 10.93276876043806567])
    sc = s.e.scalars
    assert sc["N"] == 190
    close([sc["r2"], sc["rmse"]], [0.796994355498896, 100.23449235945])
    # Stata 17's layout: the variable as a header, a row per operator, `--.` for none
    table = out[out.index("         inv |"):]
    assert table.splitlines()[2:11] == [
        "       value |",
        "         L1. |   .1105401   .0070304    15.72   0.000     .0966705    .1244096",
        "             |",
        "     capital |",
        "         --. |   .6045812   .1777575     3.40   0.001     .2539012    .9552612",
        "         L1. |  -.4156573   .1982203    -2.10   0.037    -.8067063   -.0246082",
        "             |",
        "       _cons |   -34.7046   10.93277    -3.17   0.002    -56.27277   -13.13644",
        "------------------------------------------------------------------------------",
    ][:10]


def test_regress_lags_against_plm_with_gaps():
    s = session_of(grunfeld(gaps=True))
    ok(s, "regress inv L.value L(0/1).capital")
    b, se = coefs(s)
    assert s.e.scalars["N"] == 134
    close(b, [0.116373283670136, 0.332780653450157, -0.147672700087280, -33.120947896504056])
    close(se, [0.00789250834683238, 0.18990552797258509, 0.21099592910451323, 12.12579422614708946])
    close([s.e.scalars["r2"], s.e.scalars["rmse"]], [0.802726343186447, 93.5716428372025])


def test_regress_unsorted_data_is_the_same_model():
    d = grunfeld(gaps=True).sample(frac=1.0, random_state=3).reset_index(drop=True)
    s = session_of(d, panel=None)
    s.data.set_char("_dta", "_TSpanel", "firm")      # settings without xtset's sort
    s.data.set_char("_dta", "_TStvar", "year")
    ok(s, "regress inv L.value L(0/1).capital")
    b, _ = coefs(s)
    close(b, [0.116373283670136, 0.332780653450157, -0.147672700087280, -33.120947896504056])


def test_xtreg_fe_against_plm():
    s = session_of(grunfeld())
    out = ok(s, "xtreg inv L.value capital, fe")
    b, se = coefs(s)
    close(b[:2], [0.0645010937990392, 0.3391467998451752])
    close(se[:2], [0.0144483108746825, 0.0204962281417267])
    close(s.e.scalars["r2_w"], 0.686588884067696)
    assert "       value |\n         L1. |   .0645011" in out
    g = session_of(grunfeld(gaps=True))
    ok(g, "xtreg inv L.value capital, fe")
    b, se = coefs(g)
    assert g.e.scalars["N"] == 134
    close(b[:2], [0.0925605454740848, 0.2852249154375422])
    close(se[:2], [0.0148338472164931, 0.0203575195500273])
    close(g.e.scalars["r2_w"], 0.738126636310087)


def test_mixed_with_lags_is_mixed_on_generated_lags():
    s = session_of(grunfeld(gaps=True))
    ok(s, "mixed inv L.value || firm:")
    b1, se1, ll1 = *coefs(s), s.e.scalars["ll"]
    ok(s, "generate double lvalue = L.value")
    ok(s, "mixed inv lvalue || firm:")
    b2, se2, ll2 = *coefs(s), s.e.scalars["ll"]
    close(b1, b2, 1e-9)
    close(se1, se2, 1e-7)
    close(ll1, ll2, 1e-10)


def test_factor_and_interaction_terms():
    s = session_of(grunfeld())
    ok(s, "generate big = value > 1000")
    out = ok(s, "regress inv iL.big L2.value i.big#cL.capital D.inv")
    assert "      1L.big |" in out
    assert "       value |\n         L2. |" in out
    assert "         big#|\n  cL.capital |\n          0  |" in out
    assert "         inv |\n         D1. |" in out
    # _b[] takes Stata's spellings
    ok(s, "display _b[L2.value] + _b[1L.big] + _b[1.big#cL.capital] + _b[D.inv]")


def test_operated_depvar_and_difference_model():
    s = session_of(grunfeld())
    out = ok(s, "regress D.inv D.value")
    assert s.e.depvar == "D.inv" and "       D.inv |" in out
    ok(s, "generate double dinv = D.inv")
    ok(s, "generate double dval = D.value")
    b1, _ = coefs(s)
    ok(s, "regress dinv dval")
    b2, _ = coefs(s)
    close(b1, b2, 1e-10)


# --------------------------------------------------------------------------- generate vs pandas
def _pandas_ops(d: pd.DataFrame, var: str) -> pd.DataFrame:
    """L, L2, F, D, D2, S2, LD of `var` on the complete firm x year grid (gaps become NaN
    rows, so a shift along the grid is a shift in time), read back at the observed rows."""
    grid = pd.MultiIndex.from_product([sorted(d.firm.unique()), range(d.year.min(), d.year.max() + 1)],
                                      names=["firm", "year"])
    full = d.set_index(["firm", "year"])[var].reindex(grid)
    g = full.groupby(level="firm")
    out = pd.DataFrame({
        "L": g.shift(1), "L2": g.shift(2), "F": g.shift(-1),
        "D": full - g.shift(1), "S2": full - g.shift(2),
    })
    out["D2"] = out["D"] - out["D"].groupby(level="firm").shift(1)
    out["LD"] = out["D"].groupby(level="firm").shift(1)
    return out.loc[list(zip(d.firm, d.year))].reset_index(drop=True)


@pytest.mark.parametrize("shuffle", [False, True])
def test_generate_against_pandas_shift_with_gaps(shuffle):
    d = grunfeld(gaps=True)
    d = d[~((d.firm == 3) & d.year.between(1940, 1943))]
    if shuffle:
        d = d.sample(frac=1.0, random_state=11)
    d = d.reset_index(drop=True)
    s = session_of(d, panel=None)
    ok(s, "xtset firm year")
    ok(s, "sort value")                     # any order: matched by panel and time
    for new, op in [("l1", "L.value"), ("l2", "L2.value"), ("f1", "F.value"), ("d1", "D.value"),
                    ("d2", "D2.value"), ("s2", "S2.value"), ("ld", "LD.value")]:
        ok(s, f"generate double {new} = {op}")
    back = pd.DataFrame({c: col(s, c) for c in ["firm", "year", "value", "l1", "l2", "f1", "d1",
                                                "d2", "s2", "ld"]})
    ref = _pandas_ops(back[["firm", "year", "value"]].astype({"firm": int, "year": int}), "value")
    for mine, theirs in [("l1", "L"), ("l2", "L2"), ("f1", "F"), ("d1", "D"), ("d2", "D2"),
                         ("s2", "S2"), ("ld", "LD")]:
        np.testing.assert_allclose(back[mine].to_numpy(), ref[theirs].to_numpy(), rtol=1e-12,
                                   equal_nan=True, err_msg=mine)


def test_replace_with_operators_and_if():
    s = session_of(grunfeld())
    ok(s, "generate double z = 0")
    ok(s, "replace z = value - L.value if year > 1940")
    v, y, f, z = col(s, "value"), col(s, "year"), col(s, "firm"), col(s, "z")
    prev = {(a, b): c for a, b, c in zip(f, y, v)}
    want = np.array([(c - prev[(a, b - 1)]) if b > 1940 else 0.0 for a, b, c in zip(f, y, v)])
    np.testing.assert_allclose(z, want, rtol=1e-12)


def test_delta_and_time_series_without_panel():
    d = pd.DataFrame({"t": [2, 4, 6, 10, 12], "x": [1.0, 2.0, 4.0, 8.0, 16.0]})
    s = session_of(d, panel=None)
    ok(s, "tsset t, delta(2)")
    ok(s, "generate double lx = L.x")
    ok(s, "generate double dx = D.x")
    np.testing.assert_array_equal(col(s, "lx"), [np.nan, 1, 2, np.nan, 8])
    np.testing.assert_array_equal(col(s, "dx"), [np.nan, 1, 2, np.nan, 8])


def test_summarize_list_correlate():
    s = session_of(grunfeld())
    out = ok(s, "summarize L(0/1).value D.value")
    assert "     L.value |        190" in out and "     D.value |        190" in out
    assert s.r.scalars["N"] == 190
    out = ok(s, "list firm year L.value F.value in 1/2")
    assert "L.value" in out and "F.value" in out and "3078.5" in out
    ok(s, "correlate value L.value")
    assert s.r.scalars["N"] == 190


# --------------------------------------------------------------------------- errors
def test_time_variable_not_set():
    s = session_of(grunfeld(), panel=None)
    before = s.data.names
    fails(s, "generate y = L.value", 111, "time variable not set, use tsset varname ...")
    fails(s, "regress inv L.value", 111, "time variable not set")
    assert s.data.names == before
    ok(s, "xtset firm")                       # a panel variable alone is not enough
    fails(s, "summarize L.value", 111, "time variable not set")


def test_repeated_time_values():
    s = session_of(grunfeld())
    ok(s, "replace year = 1935 if year == 1936 & firm == 2")
    fails(s, "generate y = L.value", 451, "repeated time values within panel")
    fails(s, "regress inv L.value", 451, "repeated time values within panel")


def test_other_errors():
    s = session_of(grunfeld())
    fails(s, "generate y = L.nosuch", 111, "variable nosuch not found")
    fails(s, "regress inv L.nosuch", 111)
    fails(s, "drop L.value", 101, "time-series operators not allowed")
    ok(s, 'generate str3 name = "abc"')
    fails(s, "generate y = D.name", 109)
    ok(s, "generate str3 lname = L.name")      # a lag of a string is a string


# --------------------------------------------------------------------------- property
@st.composite
def panels(draw):
    n_panels = draw(st.integers(1, 4))
    scale = draw(st.sampled_from([7.0, -0.37]))     # integer panel ids, and others
    rows = []
    for p in range(n_panels):
        times = draw(st.lists(st.integers(-10, 25), min_size=0, max_size=12, unique=True))
        rows += [(p * scale + 1, t) for t in times]
    rows = draw(st.permutations(rows))
    values = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=len(rows),
                           max_size=len(rows)))
    delta = draw(st.sampled_from([1, 1, 2, 3]))
    return rows, values, delta


@settings(max_examples=150, deadline=None)
@given(panels(), st.integers(-4, 4))
def test_lag_equals_brute_force_lookup(data, k):
    rows, values, delta = data
    ds = Dataset()
    ds.add(Variable("id", np.array([r[0] for r in rows], dtype=float), "double"))
    ds.add(Variable("t", np.array([r[1] * delta for r in rows], dtype=float), "double"))
    ds.add(Variable("x", np.array(values, dtype=float), "double"))
    ds.set_char("_dta", "_TSpanel", "id")
    ds.set_char("_dta", "_TStvar", "t")
    ds.set_char("_dta", "_TSdelta", str(delta))
    op = f"L{k}" if k >= 0 else f"F{-k}"
    got = ts_values(ds, canonical_name(f"{op}.x"))
    lookup = {(r[0], r[1] * delta): v for r, v in zip(rows, values)}
    want = [lookup.get((r[0], (r[1] - k) * delta), np.nan) for r in rows]
    np.testing.assert_array_equal(got, np.array(want, dtype=float))
    d = ts_values(ds, "D.x")
    prev = [lookup.get((r[0], (r[1] - 1) * delta), np.nan) for r in rows]
    np.testing.assert_array_equal(d, np.array(values, dtype=float) - np.array(prev, dtype=float))


def test_testparm_takes_time_series_operators():
    """testparm L.x and L(1/2).x find the lag columns of e(b); the test equals `test`'s."""
    from hlmshell.output.writer import Capture
    from hlmshell.session import Session
    from session_run import ok, run
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    s = Session(out=Capture())
    cwd = os.getcwd()
    os.chdir(root)
    try:
        ok(s, "import delimited tests/data/resid/bodyweight.csv, clear asdouble")
    finally:
        os.chdir(cwd)
    ok(s, "xtset rat wk")
    ok(s, "regress weight L.weight L(1/2).time")
    out = ok(s, "testparm L(1/2).time")
    assert " ( 1)  L.time = 0" in out and " ( 2)  L2.time = 0" in out
    F1 = s.r.scalars["F"]
    ok(s, "test L.time L2.time")
    assert s.r.scalars["F"] == pytest.approx(F1, rel=1e-12)
    rc, out = run(s, "testparm L.nosuchvar")
    assert rc == 111
