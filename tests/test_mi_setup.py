"""mi data layout: the styles (flong, mlong, wide) as Stata stores them, conversions between
them, registration, save/use keeping the imputations, mi extract/xeq/passive/reshape/xtset,
and bad input failing with Stata's codes and leaving the session as it was."""
import numpy as np
import pytest
from session_run import ok, run

from hlmshell.data.dataset import Variable
from hlmshell.output.writer import Capture
from hlmshell.session import Session

N, M = 12, 3


def _session():
    s = Session(Capture())
    i = np.arange(1, N + 1, dtype=float)
    y = np.where(i % 3 == 0, np.nan, 2.0 * i)
    w = np.where(i % 4 == 0, np.nan, i / 2)
    s.data.add(Variable("id", i, "int"))
    s.data.add(Variable("y", y, "float"))
    s.data.add(Variable("w", w, "float"))
    s.data.add(Variable("g", (i % 2), "byte"))
    return s


@pytest.fixture
def mi():
    s = _session()
    ok(s, "mi set flong")
    ok(s, "mi register imputed y w")
    ok(s, "mi register regular g")
    ok(s, f"quietly mi impute regress y g, add({M}) rseed(5)")
    ok(s, "quietly mi impute pmm w g, replace rseed(6)")
    return s


def _values(s):
    """{(m, id): (y, w)} of the data in memory, read through mi extract (style-free)."""
    out = {}
    for m in range(M + 1):
        t = Session(Capture())
        t.data = s.data.copy()
        ok(t, f"mi extract {m}, clear")
        for k in range(t.data.n):
            out[(m, int(t.data.values("id")[k]))] = (t.data.values("y")[k], t.data.values("w")[k])
    return out


def test_flong_layout(mi):
    d = mi.data
    assert d.n == N * (M + 1)
    np.testing.assert_array_equal(d.values("_mi_m"), np.repeat(np.arange(M + 1.0), N))
    np.testing.assert_array_equal(d.values("_mi_id"), np.tile(np.arange(1.0, N + 1), M + 1))
    miss0 = d.values("_mi_miss")[:N]
    expect = np.isnan(d.values("y")[:N]) | np.isnan(d.values("w")[:N])
    np.testing.assert_array_equal(miss0, expect * 1.0)
    assert np.isnan(d.values("_mi_miss")[N:]).all()
    ch = d.dta_chars
    assert ch["_mi_marker"] == "_mi_ds_1" and ch["_mi_style"] == "flong" and ch["_mi_M"] == str(M)
    assert ch["_mi_ivars"] == "y w" and ch["_mi_rvars"] == "g" and ch["_mi_N"] == str(N)


def test_imputed_values_only_fill_missing(mi):
    d = mi.data
    mm = d.values("_mi_m")
    y0 = d.values("y")[mm == 0]
    for m in range(1, M + 1):
        ym = d.values("y")[mm == m]
        obs = ~np.isnan(y0)
        np.testing.assert_array_equal(ym[obs], y0[obs])
        assert not np.isnan(ym).any()
        # pmm: every imputed w is an observed w
        w0 = d.values("w")[mm == 0]
        wm = d.values("w")[mm == m]
        assert set(wm[np.isnan(w0)]) <= set(w0[~np.isnan(w0)])


@pytest.mark.parametrize("style", ["mlong", "wide", "flong"])
def test_convert_round_trip(mi, style):
    before = _values(mi)
    ok(mi, f"mi convert {style}")
    d = mi.data
    assert d.dta_chars["_mi_style"] == style
    if style == "mlong":
        inc = int(np.nansum(d.values("_mi_miss")))
        assert d.n == N + M * inc
        assert d.dta_chars["_mi_n"] == str(M * inc)
        assert (d.values("_mi_miss")[d.values("_mi_m") == 0] == 1).sum() == inc
    if style == "wide":
        assert d.n == N
        assert [f"_{m}_y" in d for m in range(1, M + 1)] == [True] * M
        assert "_mi_m" not in d
    after = _values(mi)
    assert before.keys() == after.keys()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])
    ok(mi, "mi convert flong")
    assert _values(mi).keys() == before.keys()


def test_save_use_keeps_the_imputations(mi, tmp_path):
    before = _values(mi)
    f = tmp_path / "midata.dta"
    ok(mi, f'save "{f}"')
    s2 = Session(Capture())
    ok(s2, f'use "{f}"')
    out = ok(s2, "mi query")
    assert out.splitlines()[0] == f"data mi set flong, M = {M}"
    after = _values(s2)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])


def test_describe_and_register_messages():
    s = _session()
    assert ok(s, "mi query").strip() == "(data not mi set)"
    ok(s, "mi set mlong")
    out = ok(s, "mi register imputed y")
    assert out.strip() == "(4 m=0 obs now marked as incomplete)"
    out = ok(s, "mi describe")
    assert "Style:  mlong" in out and "imputed:  1; y(4)" in out
    assert s.r.scalars["N_incomplete"] == 4 and s.r.scalars["M"] == 0
    ok(s, "mi unregister y")
    assert "_mi_ivars" not in s.data.dta_chars


def test_extract_xeq_passive(mi):
    vals = _values(mi)
    ok(mi, "mi extract 2, clear")
    assert "_mi_m" not in mi.data and mi.data.n == N
    np.testing.assert_array_equal(mi.data.values("y"), [vals[(2, i)][0] for i in range(1, N + 1)])


def test_passive_variable_follows_each_imputation(mi):
    out = ok(mi, "mi passive: generate double yw = y + w")
    assert "m=0:" in out and f"m={M}:" in out
    assert mi.data.dta_chars["_mi_pvars"] == "yw"
    d = mi.data
    np.testing.assert_allclose(d.values("yw"), d.values("y") + d.values("w"))
    out = ok(mi, "mi xeq 1 2: summarize y")
    assert "m=1 data:" in out and "-> summarize y" in out and "m=0 data:" not in out


def test_reshape_long_keeps_imputed_roles():
    s = Session(Capture())
    i = np.arange(1, 7, dtype=float)
    s.data.add(Variable("pid", i, "int"))
    s.data.add(Variable("x1", np.where(i == 2, np.nan, i), "float"))
    s.data.add(Variable("x2", np.where(i == 5, np.nan, 10 + i), "float"))
    s.data.add(Variable("a", i * 3, "float"))
    ok(s, "mi set mlong")
    ok(s, "mi register imputed x1 x2")
    ok(s, "quietly mi impute regress x1 a, add(2) rseed(1)")
    ok(s, "quietly mi impute regress x2 a, add(0) replace rseed(2)")
    wide = _extract(s, 1)
    ok(s, "mi reshape long x, i(pid) j(t)")
    d = s.data
    assert d.dta_chars["_mi_ivars"] == "x"
    long1 = _extract(s, 1)
    assert long1.n == 12
    x = long1.values("x").reshape(6, 2)
    np.testing.assert_allclose(x[:, 0], wide.values("x1"))
    np.testing.assert_allclose(x[:, 1], wide.values("x2"))
    ok(s, "mi xtset pid t")
    assert s.data.dta_chars["_TSpanel"] == "pid"


def _extract(s, m):
    t = Session(Capture())
    t.data = s.data.copy()
    ok(t, f"mi extract {m}, clear")
    return t.data


def _fingerprint(s):
    d = s.data
    return (tuple(d.names), d.n, tuple(sorted(d.dta_chars.items())),
            tuple(np.nan_to_num(d.values(v), nan=-9e9).tobytes() for v in d.names if not d.var(v).is_string))


@pytest.mark.parametrize("line,rc", [
    ("mi set flongsep", 198), ("mi set", 198), ("mi set long", 198), ("mi set flong", 119),
    ("mi register", 198), ("mi register imputed", 100), ("mi register imputed nosuch", 111),
    ("mi register imputed _mi_m", 198), ("mi frobnicate", 199), ("mi", 198),
    ("mi impute regress y g", 198), ("mi impute regress g y, replace", 459),
    ("mi impute tobit y g, replace", 198), ("mi impute regress y y, replace", 198),
    ("mi impute regress y nosuch, replace", 111), ("mi impute mvn y w = g, add(-1)", 198),
    ("mi impute chained y w = g, replace", 198), ("mi impute chained (probit) y = g, replace", 198),
    ("mi estimate: regress y nosuch", 111), ("mi estimate, post regress y", 198),
    ("mi extract 9, clear", 125), ("mi extract x, clear", 198), ("mi convert", 198),
    ("mi xeq 7: summarize y", 125), ("mi passive: summarize y", 198),
    ("mi passive: replace y = 1", 198), ("mi reshape sideways y, i(id) j(t)", 198),
    ("mi ptrace use nosuchfile", 601), ("mi rename y g", 110),
])
def test_bad_input_leaves_the_session_unchanged(mi, line, rc):
    before = _fingerprint(mi)
    got, out = run(mi, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert _fingerprint(mi) == before


def test_stset_fails_cleanly(mi):
    """mi stset: r(199) without survival commands, else stset's own answer (no st settings)."""
    before = _fingerprint(mi)
    rc, out = run(mi, "mi stset")
    assert rc in (199, 119, 198) and "Traceback" not in out
    assert _fingerprint(mi) == before


def test_not_mi_set_is_r119():
    s = _session()
    for line in ("mi describe", "mi register imputed y", "mi impute regress y g, add(2)",
                 "mi convert wide", "mi extract 0, clear", "mi xeq: summarize y"):
        rc, out = run(s, line)
        assert rc == 119, line
        assert "data not mi set" in out


def test_flong_keeps_unregistered_variables_changed_per_imputation(mi):
    """generate on the flong data itself: each imputation keeps its own values (Stata's flong
    is the stacked data), so mi extract and mi estimate see them."""
    ok(mi, "generate double y2 = 2*y")
    vals = _values(mi)
    for m in range(M + 1):
        t = Session(Capture())
        t.data = mi.data.copy()
        ok(t, f"mi extract {m}, clear")
        y = np.array([vals[(m, i)][0] for i in range(1, N + 1)])
        np.testing.assert_array_equal(t.data.values("y2"), 2 * y)
    ok(mi, "quietly mi estimate: regress y2 g")
    ok(mi, "quietly mi estimate: regress y g")
    b_y = np.asarray(mi.e.b).ravel()
    ok(mi, "quietly mi estimate: regress y2 g")
    np.testing.assert_allclose(np.asarray(mi.e.b).ravel(), 2 * b_y)


def test_replay_through_estimates_store(mi):
    ok(mi, "quietly mi estimate: regress y g")
    ok(mi, "estimates store a")
    out = ok(mi, "estimates replay a")
    assert "Multiple-imputation estimates" in out and "Model a" in out
    out = ok(mi, "mi estimate, dftable")
    assert "% Increase" in out and "DF" in out
    out = ok(mi, "mi estimate, vartable nocitable")
    assert "Variance information" in out and "P>|t|" not in out


def test_set_M_and_drop_imputations(mi):
    vals = _values(mi)
    out = ok(mi, "mi query")
    assert out.splitlines()[1].startswith("last mi update ") and "ago" in out
    ok(mi, "mi set m -= (2)")
    assert mi.data.dta_chars["_mi_M"] == str(M - 1)
    t = Session(Capture())
    t.data = mi.data.copy()
    ok(t, "mi extract 2, clear")
    np.testing.assert_array_equal(t.data.values("y"), [vals[(3, i)][0] for i in range(1, N + 1)])
    ok(mi, "mi set M += 2")
    assert mi.data.dta_chars["_mi_M"] == str(M + 1)
    t.data = mi.data.copy()
    ok(t, f"mi extract {M + 1}, clear")
    assert np.isnan(t.data.values("y")).sum() == 4          # new imputations start as m=0
    ok(mi, "quietly mi impute regress y g, replace rseed(1)")
    t.data = mi.data.copy()
    ok(t, f"mi extract {M + 1}, clear")
    assert not np.isnan(t.data.values("y")).any()
    assert run(mi, "mi set M = -1")[0] == 198
    assert run(mi, "mi set m -= (0)")[0] == 198


def test_estimation_sample_must_not_vary(mi):
    ok(mi, f"replace y = . if _mi_m == 2 & _mi_id == 1")
    rc, out = run(mi, "mi estimate: regress y g")
    assert rc == 459 and "estimation sample varies between m=1 and m=2" in out
    ok(mi, "quietly mi estimate, esampvaryok: regress y g")
    assert mi.e.scalars["N"] == N - 1


def test_import_flong_from_stacked_imputations(mi):
    """What mi import flong reads: the flong data itself with the mi system variables renamed
    (as imputations made elsewhere, R's mice, arrive) gives back the same mi data."""
    vals = _values(mi)
    t = Session(Capture())
    t.data = mi.data.copy()
    t.data.dta_chars = {}
    ok(t, "rename _mi_m imp")
    ok(t, "drop _mi_miss")
    ok(t, "rename _mi_id rowid")
    ok(t, "mi import flong, m(imp) id(rowid) imputed(y w) regular(g)")
    assert t.data.dta_chars["_mi_M"] == str(M) and "imp" not in t.data
    for k, v in _values(t).items():
        np.testing.assert_array_equal(v, vals[k])
    rc, out = run(t, "mi import flong, m(imp) id(rowid)")
    assert rc == 119
    u = Session(Capture())
    u.data = mi.data.copy()
    u.data.dta_chars = {}
    ok(u, "drop _mi_miss")
    assert run(u, "mi import flong, m(_mi_m) id(g)")[0] == 459          # id() not unique
    assert run(u, "mi import wide, imputed(y)")[0] == 198


def test_passive_with_by_prefix(mi):
    ok(mi, "mi passive: bysort g: egen double my = mean(y)")
    for m in range(M + 1):
        t = Session(Capture())
        t.data = mi.data.copy()
        ok(t, f"mi extract {m}, clear")
        y, g, my = (t.data.values(v) for v in ("y", "g", "my"))
        for lev in (0, 1):
            np.testing.assert_allclose(my[g == lev], np.nanmean(y[g == lev]))


def test_commands_that_sort_keep_the_imputations_aligned(mi):
    """Sorting by an imputed variable orders each imputation differently; mi puts every
    imputation's observations back in their m=0 order."""
    before = _values(mi)
    ok(mi, "mi passive: bysort y: generate double yy = y + id")
    ok(mi, "mi xeq: sort w")
    after = _values(mi)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])
    t = Session(Capture())
    for m in range(M + 1):
        t.data = mi.data.copy()
        ok(t, f"mi extract {m}, clear")
        np.testing.assert_allclose(t.data.values("yy"), t.data.values("y") + t.data.values("id"))
    rc, out = run(mi, "mi xeq 1: drop in 1")
    assert rc == 459


def test_xtset_sorts_every_imputation_alike(mi):
    before = _values(mi)
    ok(mi, "mi xtset g id")
    assert mi.data.dta_chars["_TSpanel"] == "g"
    after = _values(mi)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])
    t = Session(Capture())
    t.data = mi.data.copy()
    ok(t, "mi extract 1, clear")
    assert list(t.data.values("g")) == sorted(t.data.values("g"))


def test_describe_detail_counts_missing_per_imputation(mi):
    out = ok(mi, "mi describe")
    assert "imputed:  2; y(4) w(3)" in out
    ok(mi, "replace y = . if _mi_m == 2 & _mi_id == 1")
    out = ok(mi, "mi describe, detail")
    assert "y(4; 0 1 0) w(3; 3*0)" in out


def test_misstable_reports_m0(mi):
    out = ok(mi, "mi misstable summarize y w")
    t = Session(Capture())
    t.data = mi.data.copy()
    ok(t, "mi extract 0, clear")
    assert out == ok(t, "misstable summarize y w")
    assert "4" in out and "3" in out


def test_stset_settings_and_variables_reach_every_imputation(mi):
    from hlmshell.registry_index import COMMANDS
    if not any(r[0] == "stset" for r in COMMANDS):
        pytest.skip("no stset in this build")
    ok(mi, "generate double tt = id")
    ok(mi, "quietly mi stset tt, failure(g)")
    for m in (0, M):
        t = Session(Capture())
        t.data = mi.data.copy()
        ok(t, f"mi extract {m}, clear")
        assert "_t" in t.data and "_d" in t.data
        np.testing.assert_array_equal(t.data.values("_d"), t.data.values("g") != 0)
    ok(mi, "quietly mi estimate: stcox y")
    assert mi.e.macros["cmd_mi"] in ("cox", "stcox") and mi.e.scalars["M_mi"] == M
