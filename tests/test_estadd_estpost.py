"""estadd / estpost (estout package) and esttab's cells() over their results: numbers checked
against numpy/scipy on the data; layouts against estpost.hlp's examples (estpost's table: a
12-wide stub, e() vectors 11 wide; `esttab ., cells("mean sd count") noobs`: model number,
blank title row, element names, one row per variable)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture()
def hsb():
    s = Session()
    ok(s, "use hsb")
    return s


def _col(s, name):
    return np.asarray(s.data.var(name).values, dtype=float)


def _vec(res, name):
    m = res.matrices[name]
    return dict(zip(m.colnames, np.asarray(m.values, dtype=float).ravel()))


def test_estadd_scalar_local_matrix_and_stored_copy(hsb):
    ok(hsb, "quietly regress mathach ses")
    ok(hsb, "estimates store m1")
    out = ok(hsb, 'estadd local fe "Yes"')
    assert out == '\nadded macro:\n' + "e(fe)".rjust(22) + ' : "Yes"\n'
    ok(hsb, "quietly summarize mathach if sector == 1")
    mean1 = float(np.mean(_col(hsb, "mathach")[_col(hsb, "sector") == 1]))
    out = ok(hsb, "estadd scalar r(mean)")
    assert "e(mean)" in out and math.isclose(hsb.e.scalars["mean"], mean1, rel_tol=1e-12)
    ok(hsb, "estadd scalar twice = 2 * e(r2)")
    assert math.isclose(hsb.e.scalars["twice"], 2 * hsb.e.scalars["r2"])
    assert hsb.estimates["m1"].macros["fe"] == "Yes" and "twice" in hsb.estimates["m1"].scalars
    ok(hsb, r"matrix M = (1, 2 \ 3, 4)")
    ok(hsb, "estadd matrix M")
    assert np.array_equal(hsb.e.matrices["M"].values, [[1, 2], [3, 4]])
    assert run(hsb, "estadd scalar twice = 1")[0] == 110                  # exists: replace needed
    ok(hsb, "estadd scalar twice = 1, replace")
    assert hsb.e.scalars["twice"] == 1
    assert run(hsb, "estadd scalar b = 1")[0] == 198
    assert run(hsb, "estadd nosuch x")[0] == 199
    assert ok(hsb, "estadd scalar q = 3, quietly") == ""


def test_estadd_namelist_is_silent_and_ysumm(hsb):
    ok(hsb, "quietly regress mathach ses if sector == 0")
    ok(hsb, "estimates store a")
    ok(hsb, "quietly regress mathach ses")
    ok(hsb, "estimates store b")
    assert ok(hsb, 'estadd local sample "all" : a b') == ""
    assert hsb.estimates["a"].macros["sample"] == "all" and hsb.estimates["b"].macros["sample"] == "all"
    ok(hsb, "estimates restore a")
    ok(hsb, "estadd ysumm")
    y = _col(hsb, "mathach")[_col(hsb, "sector") == 0]
    assert math.isclose(hsb.e.scalars["ymean"], y.mean(), rel_tol=1e-12)
    assert math.isclose(hsb.e.scalars["ysd"], y.std(ddof=1), rel_tol=1e-12)
    assert hsb.e.scalars["ymin"] == y.min() and hsb.e.scalars["ymax"] == y.max()
    assert run(Session(), "estadd local x y")[0] == 301


def test_esttab_shows_added_scalars_and_locals(hsb):
    ok(hsb, "eststo: quietly regress mathach ses")
    ok(hsb, 'estadd local fe "Yes"')
    ok(hsb, "eststo: quietly regress mathach ses female")
    ok(hsb, 'estadd local fe "No"')
    ok(hsb, "estadd scalar half = 0.5")
    lines = ok(hsb, "esttab, stats(N fe half)").lstrip("\n").split("\n")
    fe = next(ln for ln in lines if ln.startswith("fe "))
    assert fe.split() == ["fe", "Yes", "No"]
    half = next(ln for ln in lines if ln.startswith("half"))
    assert half.split() == ["half", ".5"]


def test_estpost_summarize_against_numpy(hsb):
    out = ok(hsb, "estpost summarize mathach ses, detail")
    e = hsb.e
    assert e.macros["cmd"] == "estpost" and e.macros["subcmd"] == "summarize"
    for v in ("mathach", "ses"):
        x = _col(hsb, v)
        assert _vec(e, "count")[v] == x.size
        assert math.isclose(_vec(e, "mean")[v], x.mean(), rel_tol=1e-12)
        assert math.isclose(_vec(e, "sd")[v], x.std(ddof=1), rel_tol=1e-12)
        assert math.isclose(_vec(e, "Var")[v], x.var(ddof=1), rel_tol=1e-12)
        assert math.isclose(_vec(e, "sum")[v], x.sum(), rel_tol=1e-12)
        assert math.isclose(_vec(e, "skewness")[v], stats.skew(x), rel_tol=1e-10)
        assert math.isclose(_vec(e, "kurtosis")[v], stats.kurtosis(x, fisher=False), rel_tol=1e-10)
        xs = np.sort(x)
        n = xs.size                              # Stata's percentile: average at exact positions
        i = n * 25 / 100
        p25 = (xs[int(i) - 1] + xs[int(i)]) / 2 if i == int(i) else xs[int(i)]
        assert _vec(e, "p25")[v] == p25
    lines = out.split("\n")
    assert lines[1] == " " * 12 + " |" + "  e(count)   e(sum_w)    e(mean)     e(Var)      e(sd)"
    assert lines[2] == "-" * 13 + "+" + "-" * 55
    assert lines[3].startswith("     mathach |      7185       7185")


def test_esttab_cells_after_estpost(hsb):
    ok(hsb, "quietly estpost summarize mathach ses")
    lines = ok(hsb, 'esttab ., cells("mean sd count") noobs').lstrip("\n").split("\n")
    assert lines[0] == "-" * 51
    assert lines[1] == " " * 22 + "(1)" + " " * 26
    assert lines[2].strip() == ""
    assert lines[3] == " " * 21 + "mean           sd        count"
    x = _col(hsb, "mathach")
    from hlmshell.output.numfmt import fmt
    assert lines[5] == "mathach     " + "".join(" " + fmt(v, "%9.0g").strip().rjust(12)
                                             for v in (x.mean(), x.std(ddof=1), 7185.0))
    assert len(lines) == 9 and lines[7] == "-" * 51
    lines = ok(hsb, 'esttab ., cells("mean(fmt(a3)) sd(fmt(2))")').lstrip("\n").split("\n")
    assert lines[5].split() == ["mathach", f"{x.mean():.2f}", f"{x.std(ddof=1):.2f}"]
    assert lines[8].split() == ["N", "7185"]


def test_estpost_tabstat_tabulate_correlate_ttest(hsb):
    ok(hsb, "quietly estpost tabstat mathach ses, statistics(mean sd p50) by(sector)")
    e = hsb.e
    sec = _col(hsb, "sector")
    for g, lab in ((0, "0"), (1, "1")):
        x = _col(hsb, "mathach")[sec == g]
        vec = _vec(e, "mathach")
        assert math.isclose(vec[f"{lab}:mean"], x.mean(), rel_tol=1e-12)
        assert math.isclose(vec[f"{lab}:sd"], x.std(ddof=1), rel_tol=1e-12)
    assert math.isclose(_vec(e, "ses")["Total:mean"], _col(hsb, "ses").mean(), rel_tol=1e-12)
    ok(hsb, "quietly estpost tabulate minority")
    m = _col(hsb, "minority")
    b = dict(zip([n for _, n in hsb.e.names], hsb.e.b))
    assert b["0"] == (m == 0).sum() and b["1"] == (m == 1).sum() and b["Total"] == m.size
    assert math.isclose(_vec(hsb.e, "pct")["1"], 100 * (m == 1).mean(), rel_tol=1e-12)
    lines = ok(hsb, 'esttab ., cells("b pct(fmt(2))") noobs nomtitles').lstrip("\n").split("\n")
    assert lines[5].split() == ["1", str(int((m == 1).sum())), f"{100 * (m == 1).mean():.2f}"]
    ok(hsb, "quietly estpost correlate mathach ses minority")
    r, p = stats.pearsonr(_col(hsb, "mathach"), _col(hsb, "minority"))
    assert math.isclose(_vec(hsb.e, "rho")["minority"], r, rel_tol=1e-10)
    assert math.isclose(_vec(hsb.e, "p")["minority"], p, rel_tol=1e-6)
    ok(hsb, "quietly estpost ttest mathach, by(sector)")
    y = _col(hsb, "mathach")
    t = stats.ttest_ind(y[sec == 0], y[sec == 1])
    assert math.isclose(_vec(hsb.e, "t")["mathach"], t.statistic, rel_tol=1e-10)
    assert math.isclose(_vec(hsb.e, "p")["mathach"], t.pvalue, rel_tol=1e-6)
    assert math.isclose(float(hsb.e.b[0]), y[sec == 0].mean() - y[sec == 1].mean(), rel_tol=1e-12)
    ok(hsb, "quietly estpost ttest mathach, by(sector) unequal")
    tw = stats.ttest_ind(y[sec == 0], y[sec == 1], equal_var=False)
    assert math.isclose(_vec(hsb.e, "t")["mathach"], tw.statistic, rel_tol=1e-10)


def test_estpost_errors_leave_results(hsb):
    ok(hsb, "quietly regress mathach ses")
    before = hsb.e
    for line, rc in (("estpost", 198), ("estpost nosuch x", 199), ("estpost summarize nosuch", 111),
                     ("estpost ttest mathach", 198), ("estpost ttest mathach, by(id)", 420),
                     ("estpost tabstat mathach, statistics(bogus)", 198),
                     ("estpost correlate mathach", 102), ("estpost summarize mathach, bogus", 198)):
        got, out = run(hsb, line)
        assert got == rc, (line, out)
        assert hsb.e is before


def test_ssc_estout_lists_estadd_estpost(hsb):
    assert "estadd" in ok(hsb, "ssc install estout") and "estpost" in ok(hsb, "ssc install estout")


def test_estpost_tabulate_two_way(hsb):
    ok(hsb, "quietly estpost tabulate sector minority")
    sec, mino = _col(hsb, "sector"), _col(hsb, "minority")
    b = dict(zip([f"{q}:{n}" for q, n in hsb.e.names], hsb.e.b))
    for c in (0, 1):
        for r in (0, 1):
            assert b[f"{c}:{r}"] == ((sec == r) & (mino == c)).sum()
        assert math.isclose(_vec(hsb.e, "colpct")[f"{c}:1"],
                            100 * ((sec == 1) & (mino == c)).sum() / (mino == c).sum(), rel_tol=1e-12)
    assert math.isclose(_vec(hsb.e, "rowpct")["1:0"], 100 * ((sec == 0) & (mino == 1)).sum() / (sec == 0).sum(),
                        rel_tol=1e-12)
    assert b["Total:Total"] == sec.size
    assert run(hsb, "estpost tabulate sector minority female")[0] == 103


def test_esttab_cells_confidence_bounds(hsb):
    ok(hsb, "quietly regress mathach ses")
    out = ok(hsb, 'esttab, cells("b(fmt(4)) ci_l(fmt(4)) ci_u(fmt(4)) var(fmt(6))") noobs')
    x, y = _col(hsb, "ses"), _col(hsb, "mathach")
    res = stats.linregress(x, y)
    q = stats.t.isf(0.025, y.size - 2)
    row = next(ln for ln in out.split("\n") if ln.startswith("ses"))
    assert row.split() == ["ses", f"{res.slope:.4f}", f"{res.slope - q * res.stderr:.4f}",
                           f"{res.slope + q * res.stderr:.4f}", f"{res.stderr ** 2:.6f}"]


def test_estadd_ysumm_prefix(hsb):
    ok(hsb, "quietly regress mathach ses")
    ok(hsb, "estadd ysumm, mean prefix(dv_)")
    assert math.isclose(hsb.e.scalars["dv_mean"], _col(hsb, "mathach").mean(), rel_tol=1e-12)
    assert "ymean" not in hsb.e.scalars
