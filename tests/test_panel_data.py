"""xtset / tsset / iis / tis, xtdescribe, xtsum, xttab on Grunfeld's investment data.

tests/data/grunfeld.csv is R's plm::Grunfeld (plm 2.6.2), written by
    Rscript -e 'data(Grunfeld, package="plm"); write.csv(Grunfeld, "grunfeld.csv", row.names=FALSE)'
(10 firms x 20 years, 1935-1954: firm year inv value capital). Reference numbers are computed
here from the CSV with pandas (overall / between / within as Stata's xtsum defines them), not
taken from hlmshell.
"""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hlmshell.commands._panel import (
    PanelSettings,
    hex21,
    panel_settings,
    parse_delta,
    set_panel,
    time_text,
)
from hlmshell.errors import StataError
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

GRUNFELD = Path(__file__).resolve().parent / "data" / "grunfeld.csv"


@pytest.fixture(scope="module")
def ref():
    """The CSV as `import delimited` stores it: inv, value, capital as float (float32)."""
    df = pd.read_csv(GRUNFELD)
    for c in ("inv", "value", "capital"):
        df[c] = df[c].astype(np.float32).astype(np.float64)
    return df


@pytest.fixture
def sh(tmp_path, monkeypatch):
    """Run commands through the interpreter: sh("cmd") -> (rc, output of that command)."""
    monkeypatch.chdir(tmp_path)
    ses = Session(out=Capture())
    it = Interpreter(ses)

    def run(text):
        start = len(ses.out.getvalue())
        rc = it.run_line(text)
        return rc, ses.out.getvalue()[start:]

    run.session = ses
    assert run(f'import delimited using "{GRUNFELD}", clear')[0] == 0
    return run


def numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d*\.?\d+(?:e[-+]\d+)?", line)]


# ---------------------------------------------------------------------------- xtset
def test_xtset_output_storage_and_sort(sh):
    sh("sort year firm")                                   # xtset must sort by firm year
    rc, out = sh("xtset firm year")
    assert rc == 0
    assert out.splitlines() == ["", "Panel variable: firm (strongly balanced)",
                                " Time variable: year, 1935 to 1954", "         Delta: 1 unit"]
    ds = sh.session.data
    assert ds.sortedby == ["firm", "year"]
    assert list(ds.values("firm")[:3]) == [1, 1, 1] and list(ds.values("year")[:3]) == [1935, 1936, 1937]
    assert ds.characteristics()["_dta"] == {
        "_TSpanel": "firm", "iis": "firm", "_TStvar": "year", "tis": "year",
        "_TSdelta": "+1.0000000000000X+000", "_TSitrvl": "1"}
    r = sh.session.r
    assert r.scalars["tmin"] == 1935 and r.scalars["tmax"] == 1954 and r.scalars["tdelta"] == 1
    assert r.scalars["imin"] == 1 and r.scalars["imax"] == 10 and r.scalars["gaps"] == 0
    assert r.macros["panelvar"] == "firm" and r.macros["timevar"] == "year"
    assert r.macros["balanced"] == "strongly balanced"
    assert sh("xtset")[1] == out                           # typed alone: the same report
    assert sh("tsset")[1] == out


def test_unbalanced_gaps_and_weak_balance(sh):
    sh("xtset firm year")
    sh("drop if firm == 5 & year > 1950")
    rc, out = sh("xtset")
    assert "Panel variable: firm (unbalanced)" in out
    assert " Time variable: year, 1935 to 1954\n" in out           # a shorter panel is no gap
    sh("drop if year == 1940 & firm == 1")
    out = sh("xtset")[1]
    assert " Time variable: year, 1935 to 1954, but with a gap\n" in out
    sh("drop if year == 1941 & firm == 2")
    assert ", but with gaps\n" in sh("xtset")[1]
    assert sh.session.r.scalars["gaps"] == 1
    # weakly balanced: every panel has 19 years, not the same years
    sh(f'import delimited using "{GRUNFELD}", clear')
    sh("drop if (firm <= 5 & year == 1935) | (firm > 5 & year == 1954)")
    assert "Panel variable: firm (weakly balanced)" in sh("xtset firm year")[1]


def test_panel_only_and_time_only(sh):
    rc, out = sh("xtset firm")
    assert rc == 0 and out == "\nPanel variable: firm (balanced)\n"
    ds = sh.session.data
    assert ds.char("_dta", "_TSpanel") == "firm" and ds.char("_dta", "_TStvar") == ""
    assert sh("xtset")[1] == out
    rc, out = sh("tsset")
    assert rc == 111 and "time variable not set, use tsset varname ..." in out
    sh("keep if firm == 3")
    rc, out = sh("tsset year")
    assert out.splitlines() == ["", "Time variable: year, 1935 to 1954", "        Delta: 1 unit"]
    assert sh.session.data.char("_dta", "_TSpanel") == ""
    rc, out = sh("xtset")
    assert rc == 459 and "panel variable not set; use xtset varname ..." in out


def test_delta_and_formats(sh):
    sh("keep if mod(year, 2) == 1")
    rc, out = sh("xtset firm year, delta(2)")
    assert rc == 0 and "Delta: 2 units" in out and "but with" not in out
    assert sh.session.data.char("_dta", "_TSdelta") == hex21(2) == "+1.0000000000000X+001"
    out = sh("xtset firm year")[1]                           # delta 1: every step a gap
    assert "1935 to 1953, but with gaps" in out
    rc, out = sh("xtset firm year, yearly delta(2 years)")
    assert rc == 0 and "Delta: 2 years" in out
    assert sh.session.data.var("year").format == "%ty"
    rc, out = sh("xtset firm year, delta(2 quarters)")
    assert rc == 198 and "invalid for %ty time variable" in out
    rc, out = sh("xtset firm year, delta(0)")
    assert rc == 198 and "delta(0) evaluates to zero" in out
    rc, out = sh("xtset firm year, delta(1.5)")
    assert rc == 198 and "noninteger" in out
    rc, out = sh("xtset firm year, delta(4)")
    assert rc == 451 and "time values with period less than delta() found" in out


def test_time_formats_shown():
    assert time_text(0, "%tq") == "1960q1" and time_text(193, "%tq") == "2008q2"
    assert time_text(-1, "%tm") == "1959m12" and time_text(0, "%td") == "01jan1960"
    assert time_text(1954, "%ty") == "1954" and time_text(3.5, "%9.0g") == "3.5"
    assert parse_delta("+1.c000000000000X+002") == 7.0 and parse_delta("2") == 2.0
    assert parse_delta("junk") is None


def test_xtset_errors_leave_data_unchanged(sh):
    ds0 = sh.session.data
    order = ds0.values("inv").copy()
    rc, out = sh("xtset firm inv")
    assert rc == 451 and "time variable must contain only integer values" in out
    rc, out = sh("xtset capital year")           # capital is not a panel id: no repeats though
    assert rc == 0
    sh(f'import delimited using "{GRUNFELD}", clear')
    sh("replace year = 1936 in 1")
    before = sh.session.data.values("inv").copy()
    rc, out = sh("xtset firm year")
    assert rc == 451 and "repeated time values within panel" in out
    assert np.array_equal(sh.session.data.values("inv"), before)
    assert sh.session.data.char("_dta", "_TSpanel") == ""
    rc, out = sh("tsset year")
    assert rc == 451 and "repeated time values in sample" in out
    sh("tostring firm, gen(sfirm)")
    rc, out = sh("xtset sfirm year")
    assert rc == 109 and "sfirm is a string variable" in out
    assert sh("xtset firm year inv")[0] == 103
    assert sh("xtset nosuch year")[0] == 111
    assert sh("xtset firm, delta(2)")[0] == 101
    assert len(order) == 200


def test_xtset_clear_iis_tis(sh):
    sh("xtset firm year")
    assert sh("xtset, clear")[0] == 0
    assert sh.session.data.characteristics() == {}
    assert sh("iis")[1] == "(i() has not been defined)\n"
    assert sh("iis firm")[0] == 0
    assert sh("tis year")[0] == 0
    assert sh("iis")[1] == "i() is firm\n" and sh("tis")[1] == "t() is year\n"
    ds = sh.session.data
    assert ds.char("_dta", "iis") == "firm" and ds.char("_dta", "_TSpanel") == ""
    assert panel_settings(sh.session) == PanelSettings("firm", "year", 1.0)
    assert sh("xtsum inv")[0] == 0                           # xt commands find iis/tis
    assert sh("tis, clear")[0] == 0
    assert panel_settings(sh.session).timevar is None


def test_settings_survive_save_and_use(sh, tmp_path):
    sh("xtset firm year, delta(1)")
    sh("save grun")
    sh("clear")
    assert sh("use grun")[0] == 0
    ds = sh.session.data
    assert ds.sortedby == ["firm", "year"]
    assert panel_settings(sh.session) == PanelSettings("firm", "year", 1.0)
    assert "strongly balanced" in sh("xtset")[1]
    # the file is still an ordinary .dta for pandas
    assert pd.read_stata(tmp_path / "grun.dta").shape == (200, 5)


def test_drop_of_the_panel_variable_clears_the_settings(sh):
    sh("xtset firm year")
    sh("drop year")
    rc, out = sh("xtset")
    assert rc == 459
    assert sh.session.data.characteristics() == {}


# ---------------------------------------------------------------------------- the _panel API
def test_panel_api(sh):
    with pytest.raises(StataError) as e:
        panel_settings(sh.session)
    assert e.value.rc == 459 and e.value.message == "panel variable not set; use xtset varname ..."
    assert panel_settings(sh.session, required=False) is None
    ps = set_panel(sh.session, "firm", "year", 1)
    assert ps == PanelSettings("firm", "year", 1.0)
    assert panel_settings(sh.session) == ps
    set_panel(sh.session, "firm", None)
    with pytest.raises(StataError) as e:
        panel_settings(sh.session, need_time=True)
    assert e.value.rc == 459 and e.value.message == "must specify timevar; use xtset"
    with pytest.raises(StataError) as e:
        set_panel(sh.session, "firm", "inv")
    assert e.value.rc == 451


# ---------------------------------------------------------------------------- xtdescribe
def test_xtdescribe_grunfeld(sh):
    sh("xtset firm year")
    rc, out = sh("xtdescribe")
    assert rc == 0
    assert out.splitlines() == [
        "",
        "    firm:  1, 2, ..., 10                                     n =         10",
        "    year:  1935, 1936, ..., 1954                             T =         20",
        "           Delta(year) = 1 unit",
        "           Span(year)  = 20 periods",
        "           (firm*year uniquely identifies each observation)",
        "",
        "Distribution of T_i:   min      5%     25%       50%       75%     95%     max",
        "                        20      20      20        20        20      20      20",
        "",
        "     Freq.  Percent    Cum. |  Pattern",
        " ---------------------------+----------------------",
        "       10    100.00  100.00 |  11111111111111111111",
        " ---------------------------+----------------------",
        "       10    100.00         |  XXXXXXXXXXXXXXXXXXXX"]
    assert sh.session.r.scalars["n"] == 10 and sh.session.r.scalars["T"] == 20
    assert sh("xtdes")[1] == out


def test_xtdescribe_patterns_match_pandas(sh, ref):
    rng = np.random.default_rng(7)
    drop = rng.random(200) < 0.25
    keep = ref[~drop]
    sh("gen byte gone = 0")
    for k in np.flatnonzero(drop):
        sh(f"replace gone = 1 in {k + 1}")
    sh("drop if gone")
    sh("xtset firm year")
    rc, out = sh("xtdescribe, patterns(3)")
    assert rc == 0
    pats = keep.assign(c="1").pivot(index="firm", columns="year", values="c")
    pats = pats.reindex(columns=range(1935, 1955)).fillna(".").agg("".join, axis=1)
    counts = pats.value_counts()
    counts = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].replace(".", "0")))
    lines = out.splitlines()
    start = lines.index("     Freq.  Percent    Cum. |  Pattern") + 2
    for k, (pat, c) in enumerate(counts[:3]):
        assert lines[start + k].endswith("|  " + pat)
        assert numbers(lines[start + k])[0] == c
    other = sum(c for _, c in counts[3:])
    if other:
        assert lines[start + 3].endswith("| (other patterns)") and numbers(lines[start + 3])[0] == other
    ti = keep.groupby("firm").size().sort_values().to_numpy()
    dist = numbers(lines[lines.index("Distribution of T_i:   min      5%     25%       50%       75%     95%     max") + 1])
    assert dist[0] == ti.min() and dist[-1] == ti.max()
    assert abs(dist[3] - np.median(ti)) <= 0.5             # %6.0f of summarize's p50


def test_xtdescribe_needs_time_and_gaps_in_columns(sh):
    sh("xtset firm")
    rc, out = sh("xtdescribe")
    assert rc == 459 and "must specify timevar; use xtset" in out
    sh("keep if mod(year, 2) == 1")
    sh("xtset firm year, delta(2)")
    out = sh("xtdescribe")[1]
    assert "Delta(year) = 2 units" in out and "Span(year)  = 10 periods" in out
    assert "|  1111111111\n" in out


# ---------------------------------------------------------------------------- xtsum
def _xtsum_ref(df, var):
    x = df[var]
    g = df.groupby("firm")[var]
    means = g.mean()
    within = x - g.transform("mean") + x.mean()
    return {"mean": x.mean(), "sd": x.std(), "min": x.min(), "max": x.max(),
            "sd_b": means.std(), "min_b": means.min(), "max_b": means.max(),
            "sd_w": within.std(), "min_w": within.min(), "max_w": within.max(),
            "N": len(x), "n": means.size, "Tbar": len(x) / means.size}


def test_xtsum_matches_pandas(sh, ref):
    sh("xtset firm year")
    rc, out = sh("xtsum inv value capital")
    assert rc == 0
    lines = out.splitlines()
    assert lines[1] == "Variable         |      Mean   Std. dev.       Min        Max |    Observations"
    assert lines[2] == "-----------------+--------------------------------------------+----------------"
    assert lines[3].startswith("inv      overall |  145.9583   216.8753        .93     1486.7 |     N =     200")
    assert lines[6] == "                 |                                            |"
    for k, var in enumerate(["inv", "value", "capital"]):
        r = _xtsum_ref(ref, var)
        o, b, w = (numbers(lines[3 + 4 * k].split("|", 1)[1]), numbers(lines[4 + 4 * k]),
                   numbers(lines[5 + 4 * k]))
        assert o[:4] == pytest.approx([r["mean"], r["sd"], r["min"], r["max"]], rel=1e-6)
        assert o[4] == r["N"]
        assert b[:3] == pytest.approx([r["sd_b"], r["min_b"], r["max_b"]], rel=1e-6) and b[3] == 10
        assert w[:3] == pytest.approx([r["sd_w"], r["min_w"], r["max_w"]], rel=1e-6) and w[3] == 20
        assert lines[5 + 4 * k].endswith("|     T =      20")
    # r() holds the last variable's statistics at full precision
    r = _xtsum_ref(ref, "capital")
    for key in ("mean", "sd", "sd_b", "sd_w", "min_w", "max_w", "Tbar"):
        assert sh.session.r.scalars[key] == pytest.approx(r[key], rel=1e-12)


def test_xtsum_unbalanced_if_and_tbar(sh, ref):
    sh("xtset firm year")
    rc, out = sh("xtsum inv if year < 1950 & !(firm == 2 & year < 1940)")
    sub = ref[(ref.year < 1950) & ~((ref.firm == 2) & (ref.year < 1940))]
    r = _xtsum_ref(sub, "inv")
    last = out.splitlines()[-1]
    assert r["Tbar"] == 14.5 and last.endswith("| T-bar =    14.5")     # %8.0g
    w = numbers(last)
    assert w[:3] == pytest.approx([r["sd_w"], r["min_w"], r["max_w"]], rel=1e-6)


def test_xt_commands_need_a_panel(sh):
    for cmd in ("xtsum inv", "xttab firm"):
        rc, out = sh(cmd)
        assert rc == 459 and "must specify panelvar; use xtset" in out
    rc, out = sh("xtsum inv, i(firm)")                    # i() sets it, as Stata's _xt does
    assert rc == 0 and sh.session.data.char("_dta", "_TSpanel") == "firm"


# ---------------------------------------------------------------------------- xttab
def test_xttab_matches_pandas(sh, ref):
    sh("xtset firm year")
    sh("gen byte big = inv > 100")
    sh('label define bigl 0 "small" 1 "large"')
    sh("label values big bigl")
    rc, out = sh("xttab big")
    assert rc == 0
    lines = out.splitlines()
    assert lines[1] == "                  Overall             Between            Within"
    assert lines[2] == "      big |    Freq.  Percent      Freq.  Percent        Percent"
    assert lines[3] == "----------+-----------------------------------------------------"
    df = ref.assign(big=(ref.inv > 100).astype(int))
    share = df.groupby("firm").big.mean()
    rows = []
    for v, lab in ((0, "small"), (1, "large")):
        has = df[df.big == v].firm.unique()
        within = (share[has] if v == 1 else 1 - share[has]).mean() * 100
        rows.append(((df.big == v).sum(), has.size, within))
        line = lines[4 + v]
        assert line.startswith(f"{lab:>9} |")
        got = numbers(line.split("|")[1])
        assert got[0] == rows[-1][0] and got[2] == rows[-1][1]
        assert got[1] == pytest.approx(100 * rows[-1][0] / 200, abs=0.005)
        assert got[3] == pytest.approx(100 * rows[-1][1] / 10, abs=0.005)
        assert got[4] == pytest.approx(within, abs=0.005)
    tot = numbers(lines[7].split("|")[1])
    nb = rows[0][1] + rows[1][1]
    assert tot[0] == 200 and tot[2] == nb
    assert tot[4] == pytest.approx(sum(r[1] / nb * r[2] for r in rows), abs=0.005)
    assert lines[8] == " " * 32 + "(n = 10)"
    assert sh.session.r.scalars["n"] == 10
    rc, out = sh("tostring firm, gen(sf)")
    rc, out = sh("xttab sf")
    assert rc == 109 and "sf must be numeric" in out


def test_xttab_no_observations(sh):
    sh("xtset firm year")
    rc, out = sh("xttab firm if year > 2000")
    assert rc == 2000 and "no observations" in out
