"""reshape long / wide and back, reshape error, the settings kept in characteristics.

Grunfeld (tests/data/grunfeld.csv: R's plm::Grunfeld, see test_panel_data.py) for the round
trips; Stata's reshape1 example (id sex inc80-82 ue80-81) for the layout; hypothesis for random
balanced and unbalanced panels.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlmshell.commands.reshape import subname, wrapped
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

GRUNFELD = Path(__file__).resolve().parent / "data" / "grunfeld.csv"


def make_shell(ds: Dataset | None = None):
    ses = Session(out=Capture())
    if ds is not None:
        ses.data = ds
    it = Interpreter(ses)

    def run(text):
        start = len(ses.out.getvalue())
        rc = it.run_line(text)
        return rc, ses.out.getvalue()[start:]

    run.session = ses
    return run


@pytest.fixture
def sh(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = make_shell()
    assert run(f'import delimited using "{GRUNFELD}", clear')[0] == 0
    return run


def reshape1() -> Dataset:
    """Stata's reshape1 example without ue82 (so one wide variable is missing)."""
    ds = Dataset()
    cols = {"id": [1, 2, 3], "sex": [0, 1, 0], "inc80": [5000, 2000, 3000],
            "inc81": [5500, 2200, 2000], "inc82": [6000, 3300, 1000], "ue80": [0, 1, 0],
            "ue81": [1, 0, 0]}
    for nm, v in cols.items():
        ds.add(Variable(nm, np.array(v, dtype=float), "int" if nm.startswith("inc") else "byte"))
    ds.changed = False
    return ds


def snapshot(ds: Dataset) -> dict:
    return {nm: (v.vtype, v.format, v.label, v.vallab, v.values.tolist()) for nm, v in ds.vars.items()}


# ---------------------------------------------------------------------------- layout
def test_long_layout_and_result():
    sh = make_shell(reshape1())
    rc, out = sh("reshape long inc ue, i(id) j(year)")
    assert rc == 0
    assert out.splitlines() == [
        "(j = 80 81 82)",
        "(variable ue82 not found)",
        "",
        "Data                               Wide   ->   Long",
        "-" * 77,
        "Number of observations                3   ->   9",
        "Number of variables                   7   ->   5",
        "j variable (3 values)                     ->   year",
        "xij variables:",
        "                      inc80 inc81 inc82   ->   inc",
        "                         ue80 ue81 ue82   ->   ue",
        "-" * 77]
    ds = sh.session.data
    assert ds.names == ["id", "year", "sex", "inc", "ue"]
    assert ds.values("year").tolist() == [80, 81, 82] * 3 and ds.var("year").vtype == "byte"
    assert ds.values("inc").tolist() == [5000, 5500, 6000, 2000, 2200, 3300, 3000, 2000, 1000]
    assert np.isnan(ds.values("ue")[[2, 5, 8]]).all() and ds.values("ue")[3] == 1
    assert ds.values("sex").tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0]
    assert ds.sortedby == ["id", "year"] and ds.changed
    chars = ds.characteristics()["_dta"]
    assert chars["ReS_ver"] == "v.2" and chars["ReS_i"] == "id" and chars["ReS_j"] == "year"
    assert chars["ReS_Xij"] == "inc ue" and chars["ReS_str"] == "0"
    assert chars["ReS_Xij_wide1"] == "inc80 inc81 inc82" and chars["ReS_Xij_long2"] == "ue"


def test_wide_layout_and_back_without_arguments():
    sh = make_shell(reshape1())
    sh("reshape long inc ue, i(id) j(year)")
    rc, out = sh("reshape wide")
    assert rc == 0
    assert out.splitlines()[:9] == [
        "(j = 80 81 82)",
        "",
        "Data                               Long   ->   Wide",
        "-" * 77,
        "Number of observations                9   ->   3",
        "Number of variables                   5   ->   8",
        "j variable (3 values)              year   ->   (dropped)",
        "xij variables:",
        "                                    inc   ->   inc80 inc81 inc82"]
    ds = sh.session.data
    assert ds.names == ["id", "inc80", "ue80", "inc81", "ue81", "inc82", "ue82", "sex"]
    assert ds.var("inc81").label == "81 inc" and ds.var("inc81").vtype == "int"
    assert ds.values("inc81").tolist() == [5500, 2200, 2000]
    assert np.isnan(ds.values("ue82")).all() and ds.sortedby == ["id"]
    assert sh("reshape wide")[1] == "(already wide)\n"
    assert sh("reshape long")[0] == 0
    assert sh("reshape long")[1] == "(already long)\n"
    assert sh.session.data.names == ["id", "year", "inc", "ue", "sex"]


def test_many_values_are_abbreviated_and_long_lines_wrap():
    ds = Dataset()
    ds.add(Variable("id", np.arange(1.0, 3.0), "byte"))
    for k in range(1, 41):
        ds.add(Variable(f"q{k}", np.array([k, 2.0 * k]), "byte"))
    sh = make_shell(ds)
    rc, out = sh("reshape long q, i(id) j(item)")
    lines = out.splitlines()
    assert lines[0] == "(j = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28"
    assert lines[1] == ">  29 30 31 32 33 34 35 36 37 38 39 40)"
    assert "                          q1 q2 ... q40   ->   q" in lines
    assert "j variable (40 values)                    ->   item" in lines
    assert "Number of observations                2   ->   80" in lines
    assert wrapped("x" * 79) == "x" * 79 and wrapped("x" * 80) == "x" * 79 + "\n> x"


# ---------------------------------------------------------------------------- round trips
def test_grunfeld_round_trips_are_identical(sh):
    sh("label variable inv \"gross investment\"")
    sh.session.data.update("value", format="%9.2f")          # (hlmshell has no `format`)
    sh("sort firm year")
    long0 = snapshot(sh.session.data)
    assert sh("reshape wide inv value capital, i(firm) j(year)")[0] == 0
    ds = sh.session.data
    assert ds.n == 10 and len(ds.names) == 61
    assert ds.names[:4] == ["firm", "inv1935", "value1935", "capital1935"]
    ref = pd.read_csv(GRUNFELD)
    assert np.allclose(ds.values("value1950"), ref[ref.year == 1950].sort_values("firm").value, rtol=1e-6)
    assert ds.var("value1950").format == "%9.2f" and ds.var("inv1940").label == "1940 inv"
    wide0 = snapshot(ds)
    assert sh("reshape long")[0] == 0
    assert snapshot(sh.session.data) == long0                  # labels and formats come back
    assert sh.session.data.sortedby == ["firm", "year"]
    assert sh("reshape wide")[0] == 0
    assert snapshot(sh.session.data) == wide0


def test_settings_survive_save_and_use(sh):
    sh("reshape wide inv value capital, i(firm) j(year)")
    sh("save w")
    sh("clear")
    sh("use w")
    rc, out = sh("reshape long")
    assert rc == 0 and "j variable (20 values)                    ->   year" in out
    assert sh.session.data.names == ["firm", "year", "inv", "value", "capital"]


def test_value_labels_formats_and_j_labels():
    ds = Dataset()
    ds.add(Variable("id", np.repeat([1.0, 2.0], 2), "byte"))
    ds.add(Variable("wave", np.tile([1.0, 2.0], 2), "byte", label="survey wave", vallab="wavel"))
    ds.add(Variable("sat", np.array([1.0, 2.0, 2.0, 1.0]), "byte", "%4.0f", "satisfied?", "yesno"))
    ds.value_labels = {"wavel": {1.0: "spring", 2.0: "autumn"}, "yesno": {1.0: "no", 2.0: "yes"}}
    sh = make_shell(ds)
    assert sh("reshape wide sat, i(id) j(wave)")[0] == 0
    w = sh.session.data
    assert w.var("sat1").vallab == "yesno" and w.var("sat1").format == "%4.0f"
    assert w.var("sat2").label == "2 sat"
    assert sh("reshape long")[0] == 0
    back = sh.session.data
    assert back.var("wave").vallab == "wavel" and back.var("wave").label == "survey wave"
    assert back.value_labels["wavel"] == {1.0: "spring", 2.0: "autumn"}
    assert back.var("sat").label == "satisfied?" and back.var("sat").vallab == "yesno"
    assert "__JValLab" not in back.characteristics()["_dta"]


def test_string_j_and_at_stubs():
    ds = Dataset()
    ds.add(Variable("id", np.array([1.0, 2.0]), "byte"))
    for sx in ("m", "f"):
        ds.add(Variable(f"inc{sx}r", np.array([10.0, 20.0]) + (sx == "f"), "float"))
    sh = make_shell(ds)
    rc, out = sh("reshape long inc@r, i(id) j(sex)")
    assert rc == 111 and "no xij variables found" in out    # f, m are not numbers
    rc, out = sh("reshape long inc@r, i(id) j(sex) string")
    assert rc == 0 and out.startswith("(j = f m)\n")
    ds = sh.session.data
    assert ds.names == ["id", "sex", "incr"] and ds.var("sex").vtype == "str1"
    assert ds.values("sex").tolist() == ["f", "m", "f", "m"]
    assert ds.values("incr").tolist() == [11, 10, 21, 20]
    assert sh("reshape wide")[0] == 0
    assert sh.session.data.names == ["id", "incfr", "incmr"]
    assert subname("inc@r", "80") == "inc80r" and subname("inc", "80") == "inc80"


def test_explicit_j_values_and_ranges():
    sh = make_shell(reshape1())
    rc, out = sh("reshape long inc, i(id) j(year 80-81)")
    assert rc == 0 and not out.startswith("(j =")
    ds = sh.session.data
    assert ds.values("year").tolist() == [80, 81] * 3
    assert "inc82" in ds.names and "ue80" in ds.names        # not reshaped: constant within i


# ---------------------------------------------------------------------------- errors
def test_errors_and_reshape_error(sh):
    sh("replace year = 1936 in 1")
    rc, out = sh("reshape wide inv value capital, i(firm) j(year)")
    assert rc == 9 and "values of variable year not unique within firm" in out
    assert sh.session.data.n == 200 and "year" in sh.session.data   # data unchanged
    # as in Stata, the settings were stored: reshape error lists the problem
    rc, out = sh("reshape error")
    assert rc == 0
    assert "The following 2 of 200 observations have repeated year values:" in out
    assert "(data now sorted by firm year)" in out
    sh(f'import delimited using "{GRUNFELD}", clear')
    rc, out = sh("reshape wide inv value, i(firm) j(year)")
    assert rc == 9 and "variable capital not constant within firm" in out
    rc, out = sh("reshape error")
    assert "capital not constant within i (firm) for 10 values of i:" in out
    rc, out = sh("reshape long inv, i(firm) j(t)")      # no inv# variables: Stata checks that first
    assert rc == 111 and "no xij variables found" in out
    sh("gen inv1 = inv")
    rc, out = sh("reshape long inv, i(firm) j(t)")
    assert rc == 9 and "variable firm does not uniquely identify the observations" in out
    rc, out = sh("reshape error")
    assert "200 of 200 observations have duplicate i values:" in out


def test_error_codes(sh):
    cases = [("reshape long inv", 198, "option i() required"),
             ("reshape long inv, i(firm) j(year)", 110, "variable year already exists"),
             ("reshape wide inv, i(firm) j(t)", 111, "variable t not found"),
             ("reshape wide inv, i(firm)", 198, "option j() required"),
             ("reshape wide inv, i(firm) j(year) string", 109, "variable year is numeric"),
             ("reshape wide nosuch, i(firm) j(year)", 111, "variable nosuch not found"),
             ("reshape wide inv, i(nosuch) j(year)", 111, "variable nosuch not found"),
             ("reshape wide inv, i(firm) j(year 1935 x)", 198, "must specify option string"),
             ("reshape sideways inv, i(firm)", 198, "invalid syntax")]
    for cmd, rc, msg in cases:
        data = snapshot(sh.session.data)
        got, out = sh(cmd)
        assert got == rc and msg in out, cmd
        assert snapshot(sh.session.data) == data, cmd
    sh("replace year = . in 5")
    rc, out = sh("reshape wide inv value capital, i(firm) j(year)")
    assert rc == 498 and "variable year contains missing values" in out
    rc, out = make_shell(reshape1())("reshape long")
    assert rc == 111 and "data have not been reshaped yet" in out
    sh("gen _merge = 1")
    sh("replace year = 1940 in 5")
    rc, out = sh("reshape wide inv value capital, i(firm) j(year)")
    assert rc == 110 and "cannot reshape data containing variable _merge" in out


def test_type_mismatch_and_name_conflicts():
    ds = reshape1()
    ds.add(Variable("inc83", np.array(["a", "b", "c"], dtype=object), "str1"))
    rc, out = make_shell(ds)("reshape long inc, i(id) j(year)")
    assert rc == 198 and "variable inc80 type mismatch with other inc variables" in out
    ds = Dataset()
    ds.add(Variable("id", np.array([1.0, 1.0]), "byte"))
    ds.add(Variable("t", np.array([1.0, 2.0]), "byte"))
    ds.add(Variable("x", np.array([5.0, 6.0]), "byte"))
    ds.add(Variable("x1", np.array([7.0, 7.0]), "byte"))
    rc, out = make_shell(ds)("reshape wide x, i(id) j(t)")
    assert rc == 110 and "variable x1 already defined" in out


def test_query_clear_and_advanced_syntax():
    sh = make_shell(reshape1())
    assert "(data have not been reshaped yet)" in sh("reshape")[1]
    for cmd in ("reshape i id", "reshape j year", "reshape xij inc"):
        assert sh(cmd)[0] == 0
    out = sh("reshape query")[1]
    assert " (data are wide)" in out and "reshape j year" in out and "reshape xij inc" in out
    assert sh("reshape long")[0] == 0
    assert sh.session.data.names[:2] == ["id", "year"]
    assert sh("reshape clear")[0] == 0
    assert not any(k.startswith("ReS_") for k in sh.session.data.characteristics().get("_dta", {}))


# ---------------------------------------------------------------------------- properties
@st.composite
def wide_panels(draw):
    """Wide data: a unique id in random order, a constant, stubs a and b whose j suffixes may
    be missing for some values (unbalanced), numeric values with missing cells."""
    n = draw(st.integers(1, 7))
    js = sorted(draw(st.sets(st.integers(0, 30), min_size=1, max_size=5)))
    ids = draw(st.permutations(list(range(1, n + 1))))
    ds = Dataset()
    ds.add(Variable("id", np.array(ids, dtype=float), "byte"))
    ds.add(Variable("c", np.array(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), float), "int"))
    value = st.one_of(st.none(), st.integers(-1000, 1000).map(float))
    for stub in ("a", "b"):
        have = [j for j in js if draw(st.booleans())] or ([js[0]] if stub == "a" else [])
        for j in have:
            vals = [np.nan if v is None else v for v in draw(st.lists(value, min_size=n, max_size=n))]
            ds.add(Variable(f"{stub}{j}", np.array(vals), "double"))
    return ds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wide_panels())
def test_property_long_then_wide_returns_the_wide_data(ds):
    original = ds.copy()
    sh = make_shell(ds)
    assert sh("reshape long a b, i(id) j(j)")[0] == 0
    assert sh("reshape wide")[0] == 0
    back = sh.session.data
    order = np.argsort(original.values("id"))
    assert back.values("id").tolist() == sorted(original.values("id").tolist())
    for nm in original.names:
        assert np.array_equal(back.values(nm), original.values(nm)[order], equal_nan=True), nm
        assert back.var(nm).vtype == original.var(nm).vtype
    for nm in set(back.names) - set(original.names):      # wide variables the panel lacked
        assert np.isnan(back.values(nm)).all()


@st.composite
def long_panels(draw):
    """Long data: unbalanced (id, t) pairs, a constant within id, two xij variables."""
    pairs = sorted(draw(st.sets(st.tuples(st.integers(1, 6), st.integers(1, 8)), min_size=1, max_size=25)))
    ids = [p for p, _ in pairs]
    const = {p: draw(st.integers(0, 3)) for p in set(ids)}
    ds = Dataset()
    ds.add(Variable("id", np.array(ids, float), "byte"))
    ds.add(Variable("t", np.array([t for _, t in pairs], float), "byte"))
    ds.add(Variable("g", np.array([const[p] for p in ids], float), "byte"))
    ds.add(Variable("y", np.array(draw(st.lists(st.floats(-1e6, 1e6), min_size=len(pairs), max_size=len(pairs)))), "double"))
    ds.add(Variable("s", np.array([f"v{p}{t}" for p, t in pairs], dtype=object), "str3"))
    return ds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(long_panels())
def test_property_wide_then_long_returns_the_long_data(ds):
    original = ds.copy()
    sh = make_shell(ds)
    assert sh("reshape wide y s, i(id) j(t)")[0] == 0
    assert sh("reshape long")[0] == 0
    back = sh.session.data
    keys = list(zip(back.values("id"), back.values("t")))
    present = {(p, t): k for k, (p, t) in enumerate(zip(original.values("id"), original.values("t")))}
    ids, ts = sorted(set(original.values("id"))), sorted(set(original.values("t")))
    assert keys == [(p, t) for p in ids for t in ts]          # every id x every t, sorted
    for k, key in enumerate(keys):
        if key in present:
            o = present[key]
            assert back.values("y")[k] == original.values("y")[o]
            assert back.values("s")[k] == original.values("s")[o]
        else:
            assert np.isnan(back.values("y")[k]) and back.values("s")[k] == ""
        assert back.values("g")[k] == original.values("g")[original.values("id") == key[0]][0]
    assert back.var("y").vtype == "double" and back.var("s").vtype == "str3"
