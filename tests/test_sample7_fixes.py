"""Everyday syntax a blind sample of public do-files (/tmp/dofile_corpus7) tripped on: by-group
_n/_N in `if` and `assert`, `else` after a blank line, macros in a `program` line, tabs between
words, coeflegend, `set more 1`, marginsplot bgcolor() and plot(, labels())."""
import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import HSB_DTA, hsb_session, interp_session, iok, irun, ok, run

HSB = HSB_DTA


def _hsb():
    return hsb_session()


def test_by_group_n_and_N_in_if_and_assert():
    s = interp_session("clear", "set obs 5", "gen g = cond(_n <= 2, 1, 2)")
    out = iok(s, "by g: count if _n == 1")
    assert [ln.strip() for ln in out.splitlines() if ln.strip().isdigit()] == ["1", "1"]
    rc, out = irun(s, "by g: assert _N == 2")
    assert rc == 9 and "1 contradiction" not in out      # group 2 has 3 observations
    iok(s, "by g: assert _N == cond(g == 1, 2, 3)")
    iok(s, "by g: keep if _n == _N")
    assert list(s.data.values("g")) == [1, 2]


def test_by_group_n_with_reference_counts():
    """count if _n==1 under by equals the number of groups (independently: np.unique)."""
    s = _hsb()
    rng = np.random.default_rng(3)
    ok(s, "sort id")
    ok(s, "generate k = 0")
    ok(s, "quietly by id: replace k = 1 if _n == 1")
    ok(s, "quietly by id: generate first = 1 if _n == 1")
    ids = np.asarray(s.data.values("id"))
    assert int(np.nansum(s.data.values("k"))) == len(np.unique(ids)) == int(np.nansum(s.data.values("first")))
    del rng


@pytest.mark.parametrize("gap", ["\n", "\n\n* a comment\n", "\n   \n"])
def test_else_after_blank_lines(gap):
    text = ('local b ""\nif "`b\'" == "x" {\n  display "one"\n}' + gap +
            'else if "`b\'" == "" {\n  display "two"\n}\n\nelse {\n  display "three"\n}\ndisplay "end"')
    s = interp_session()
    rc, out = irun(s, text)
    assert rc == 0, out
    lines = [ln.strip() for ln in out.splitlines()]
    assert "two" in lines and "one" not in lines and "three" not in lines and "end" in lines


def test_macros_in_program_line():
    s = interp_session()
    iok(s, 'program emargins `1\', eclass\n  display "inside"\nend')
    assert "inside" in iok(s, "emargins")
    iok(s, "local z extra")
    rc, out = irun(s, "program p2 `z'\n  display 1\nend")
    assert rc == 198
    rc, _ = irun(s, "p2")
    assert rc == 199                                   # not defined


def test_tabs_separate_words_but_not_inside_strings():
    s = interp_session("clear", "set obs 1", "gen v = 1")
    iok(s, 'label var v\t"My\tlabel"')
    assert s.data.var("v").label == "My\tlabel"
    iok(s, "label define\tyn 1 yes")
    iok(s, "label values\tv yn")
    assert s.data.var("v").vallab == "yn"


def test_set_more_variants():
    s = Session()
    for line in ("set more 1", "set more 0", "set more off, permanently", "set more on, perm"):
        ok(s, line)
    assert run(s, "set more 2")[0] == 198
    assert run(s, "set more off, nonsense")[0] == 198


def test_coeflegend_regress_logit_mlogit_mixed():
    s = _hsb()
    out = ok(s, "regress mathach ses i.sector c.ses#i.female, coeflegend")
    b = dict(zip([n for _, n in s.e.names], np.asarray(s.e.b).reshape(-1)))
    assert "     mathach | Coefficient  Legend" in out
    row = next(ln for ln in out.splitlines() if ln.endswith("_b[ses]"))
    assert row.startswith("         ses |") and float(row.split("|")[1].split()[0]) == pytest.approx(b["ses"], rel=1e-6)
    assert "_b[1.sector]" in out and "_b[1.female#c.ses]" in out and "_b[_cons]" in out
    assert "Std. err." not in out and "Source |" in out
    out = ok(s, "mlogit sector ses, coeflegend")
    assert "(base outcome)" in out and "_b[1:ses]" in out and "_b[0:" not in out
    out = ok(s, "mixed mathach ses || id:, coeflegend")
    assert "_b[mathach:ses]" in out and "Random-effects parameters" in out
    out = ok(s, "quietly logit sector ses, coefl")
    assert out.strip() == ""
    assert run(s, "summarize ses, coeflegend")[0] == 198


def test_marginsplot_bgcolor_and_plot_labels():
    s = _hsb()
    ok(s, "quietly regress mathach i.sector##c.ses")
    ok(s, "quietly margins sector, at(ses=(-1 0 1))")
    ok(s, "marginsplot, bgcolor(white)")
    ok(s, 'marginsplot, plot(, labels("Public" "Catholic"))')
    g = s.graphs.graphs[s.graphs.current]
    labels = [se.label for se in g.panels[0].series if se.kind == "connected"]
    assert labels == ["Public", "Catholic"]
    ok(s, 'marginsplot, plotdimension(sector, elabels(2 "Cath."))')
    g = s.graphs.graphs[s.graphs.current]
    assert [se.label for se in g.panels[0].series if se.kind == "connected"][1] == "Cath."
    assert run(s, "marginsplot, plot(nosuch)")[0] == 322
    assert run(s, "marginsplot, plot(, bogus(1))")[0] == 198


def test_levelsof_abbreviations_and_logit_maximize_options():
    s = interp_session(f'use "{HSB}", clear')
    iok(s, "levelsof sector, l(levs) s(,) c")
    assert iok(s, 'display "`levs\'"').strip().endswith("0,1")
    iok(s, "quietly logit sector ses")
    b0 = np.asarray(s.e.b).copy()
    iok(s, "quietly logit sector ses, difficult technique(nr) tolerance(1e-8) nrtolerance(1e-6)")
    np.testing.assert_allclose(np.asarray(s.e.b), b0, rtol=1e-7)
    rc, _ = irun(s, "logit sector ses, technique")
    assert rc == 198


def test_margins_by_is_over():
    s = _hsb()
    ok(s, "quietly regress mathach ses i.female i.sector")
    a = ok(s, "margins, by(female sector) atmeans vsquish")
    tab_by = np.asarray(s.r.margins.table).copy()
    b = ok(s, "margins, over(female sector) atmeans vsquish")
    np.testing.assert_array_equal(tab_by, np.asarray(s.r.margins.table))
    assert a == b


def test_list_under_by_numbers_within_the_group():
    s = interp_session("clear", "set obs 5", "gen g = cond(_n <= 2, 1, 2)", "gen x = _n")
    out = iok(s, "by g: list x")
    nums = [ln.split(".")[0].strip() for ln in out.splitlines() if ln.strip()[:2] in ("1.", "2.", "3.")]
    assert nums == ["1", "2", "1", "2", "3"]
    out = iok(s, "list x if g == 2")
    assert "  3. |" in out and "  5. |" in out
