"""esttab as estout writes it: the documented examples, model groups, labels, notes and the
file modes (estout 2.x: esttab.hlp's Examples; estout.hlp's label suboptions; esttab.ado's
mode strings).

The help file's examples use auto.dta, which is not shipped: the two regressions are rebuilt
here from the numbers the help prints (its `plain` table gives b and t to 7 digits; se = b/t),
with e(df_r) 71 and 70 for the p-values behind the stars. The help's tables disagree in one
digit about the first constant (t .541018 in `plain` needs se >= 3597.05, [3597.0] in the
brackets table needs se < 3597.05), so the brackets example gets se 3597.049. The expected tables are the help's text, line by line
(its SMCL source drops trailing blanks, so lines are compared without them).

The other expectations follow estout's rules: each row is begin + the label left-aligned in
varwidth + per column delimiter + the cell right-aligned in modelwidth + stars left-aligned
in the star slot + end; a header label without `span` sits right-aligned in the first column
of its group, with `span` left-aligned over the group; erepeat() follows the row's end, with
@span the group's first-last column numbers. Numbers are checked against numpy OLS.
"""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from scipy import stats

from hlmshell.output.paper_tables import estout_a
from hlmshell.results.base import EstimationResults
from hlmshell.session import Session
from tests.session_run import ok, run


def _model(b, t, names, df, r2a, se=None):
    b = np.asarray(b, dtype=float)
    se = np.abs(b / np.asarray(t, dtype=float)) if se is None else np.asarray(se, dtype=float)
    return EstimationResults("regress", [("price", n) for n in names], b, np.diag(se ** 2),
                             np.zeros(len(b), bool), len(b), {"N": 74.0, "df_r": float(df), "r2_a": r2a},
                             {"depvar": "price", "cmd": "regress"})


def _auto(cons_se=None):
    s = Session()
    for line in ("set obs 1", "gen price = 1", "gen weight = 1", "gen mpg = 1", "gen foreign = 1",
                 'label var price "Price"', 'label var weight "Weight (lbs.)"',
                 'label var mpg "Mileage (mpg)"', 'label var foreign "Car type"'):
        ok(s, line)
    s.estimates["est1"] = _model([1.746559, -49.51222, 1946.069], [2.723238, -.5746808, .541018],
                                 ["weight", "mpg", "_cons"], 71, .2734846,
                                 se=[1.746559 / 2.723238, 49.51222 / .5746808, cons_se or 1946.069 / .541018])
    s.estimates["est2"] = _model([3.464706, 21.8536, 3673.06, -5853.696], [5.493003, .2944391, 5.370142, -1.733408],
                                 ["weight", "mpg", "foreign", "_cons"], 70, .4781119)
    s.globals["eststo"] = "est1 est2"
    s.globals["eststo_counter"] = "2"
    return s


@pytest.fixture()
def auto():
    return _auto()


def _lines(out: str) -> list[str]:
    return [ln.rstrip() for ln in out.split("\n")][:-1]


HELP_AR2 = """
--------------------------------------------
                      (1)             (2)
                    price           price
--------------------------------------------
weight              1.747**         3.465***
                   (2.72)          (5.49)

mpg                -49.51           21.85
                  (-0.57)          (0.29)

foreign                            3673.1***
                                   (5.37)

_cons              1946.1         -5853.7
                   (0.54)         (-1.73)
--------------------------------------------
N                      74              74
adj. R-sq           0.273           0.478
--------------------------------------------
t statistics in parentheses
* p<0.05, ** p<0.01, *** p<0.001"""

HELP_LABEL = """
----------------------------------------------------
                              (1)             (2)
                            Price           Price
----------------------------------------------------
Weight (lbs.)               1.747**         3.465***
                           (2.72)          (5.49)

Mileage (mpg)              -49.51           21.85
                          (-0.57)          (0.29)

Car type                                   3673.1***
                                           (5.37)

Constant                   1946.1         -5853.7
                           (0.54)         (-1.73)
----------------------------------------------------
Observations                   74              74
Adjusted R-squared          0.273           0.478
----------------------------------------------------
t statistics in parentheses
* p<0.05, ** p<0.01, *** p<0.001"""

HELP_PLAIN = """
                     est1         est2
                      b/t          b/t
weight           1.746559     3.464706
                 2.723238     5.493003
mpg             -49.51222      21.8536
                -.5746808     .2944391
foreign                        3673.06
                              5.370142
_cons            1946.069    -5853.696
                  .541018    -1.733408
N                      74           74
adj. R-sq        .2734846     .4781119"""

HELP_BRACKETS = """
--------------------------------------
                      (1)          (2)
                    price        price
--------------------------------------
weight              1.747        3.465
                  [0.641]      [0.631]

mpg                -49.51        21.85
                  [86.16]      [74.22]

foreign                         3673.1
                               [684.0]

_cons              1946.1      -5853.7
                 [3597.0]     [3377.0]
--------------------------------------
N                      74           74
--------------------------------------
Standard errors in brackets"""


@pytest.mark.parametrize("line, expected", [("esttab, ar2", HELP_AR2), ("esttab, ar2 label", HELP_LABEL),
                                            ("esttab, ar2 plain", HELP_PLAIN),
                                            ("esttab, se nostar brackets", HELP_BRACKETS)])
def test_help_examples_digit_for_digit(line, expected):
    s = _auto(3597.049 if "brackets" in line else None)
    assert _lines(ok(s, line)) == expected.split("\n")


def test_mgroups_in_text_with_and_without_span(auto):
    auto.estimates["est3"], auto.estimates["est4"] = auto.estimates["est1"], auto.estimates["est2"]
    lines = ok(auto, 'esttab est1 est2 est3 est4, mgroups("Group A" "B", pattern(1 0 1 0)) nonotes').split("\n")
    col = 1 + 12 + 3
    assert lines[2] == " " * 12 + " " + "Group A".rjust(12) + " " * 3 + " " * col + " " + "B".rjust(12) + " " * 3 \
        + " " * col
    assert lines[3].split() == ["(1)", "(2)", "(3)", "(4)"]
    lines = ok(auto, 'esttab est1 est2 est3 est4, mgroups(A B, pattern(1 0 1 0) span lhs(Groups))').split("\n")
    assert lines[2] == "Groups".ljust(12) + " " + "A".ljust(2 * col - 1) + " " + "B".ljust(2 * col - 1)
    # prefix()/suffix() around each label, @span there = spanned columns; erepeat() after the end
    lines = ok(auto, 'esttab est1 est2 est3, mgroups(A B, pattern(1 0 1) prefix(<) suffix(@span>) span '
                     'erepeat([@span]))').split("\n")
    assert lines[2] == " " * 12 + " " + "<A2>".ljust(2 * col - 1) + " " + "<B1>".ljust(col - 1) + "[2-3][4-4]"


def test_booktabs_file_of_a_public_do_file(tmp_path):
    """14_degeest's tables: cells(b(star fmt(3)) se(par fmt(2))), booktabs, mgroups with
    \\multicolumn prefix/suffix, span and \\cmidrule erepeat, collabels(none), legend, drop()
    of whole equations and a base level, varlabels(), addnotes()."""
    s = Session()
    ok(s, "use hsb")
    d = {v: np.asarray(s.data.var(v).values, dtype=float) for v in ("mathach", "ses", "sector")}
    fits = []
    for sec in (0, 1):
        for k, fem in enumerate((0, 1)):
            ok(s, f"quietly eststo m{sec + 1}{k + 1}: regress mathach i.female ses if sector == {sec} & minority == {fem}")
            m = (d["sector"] == sec) & (np.asarray(s.data.var("minority").values) == fem)
            X = np.column_stack([np.asarray(s.data.var("female").values)[m], d["ses"][m], np.ones(m.sum())])
            y = d["mathach"][m]
            b = np.linalg.lstsq(X, y, rcond=None)[0]
            e = y - X @ b
            V = (e @ e) / (len(y) - 3) * np.linalg.inv(X.T @ X)
            fits.append((b, np.sqrt(np.diag(V)), len(y) - 3, len(y)))
    f = tmp_path / "ate.tex"
    ok(s, f"esttab m11 m12 m21 m22 using {f}, replace cells(b(star fmt(3)) se(par fmt(2))) "
          "star(* 0.10 ** 0.05 *** 0.01) numbers nodepvars booktabs "
          'mtitles("No Punishment" "Punishment" "No Punishment" "Punishment") '
          r'mgroups("Insiders" "Outsiders", pattern(1 0 1 0) prefix(\multicolumn{@span}{c}{) suffix(}) span '
          r'erepeat(\cmidrule(lr){@span})) label legend collabels(none) drop(0.female) '
          'varlabels(_cons Constant 1.female "Female") addnotes("Standard errors clustered at the group level.")')
    lines = f.read_text().split("\n")
    span = 2 * (12 + 1 + 9) - 1 + 1          # two columns of 12 + `\sym{***}` and a delimiter, less one
    assert lines[:4] == ["{", r"\def\sym#1{\ifmmode^{#1}\else\(^{#1}\)\fi}", r"\begin{tabular}{l*{4}{c}}", r"\toprule"]
    assert lines[4] == " " * 20 + "&" + r"\multicolumn{2}{c}{Insiders}".ljust(span - 1) + "&" \
        + r"\multicolumn{2}{c}{Outsiders}".ljust(span - 1) + r"\\\cmidrule(lr){2-3}\cmidrule(lr){4-5}"
    assert lines[5] == " " * 20 + "".join("&" + r"\multicolumn{1}{c}{(%d)}" % k for k in range(1, 5)) + r"\\"
    assert lines[6] == " " * 20 + "".join("&" + r"\multicolumn{1}{c}{%s}" % t for t in
                                          ("No Punishment", "Punishment", "No Punishment", "Punishment")) + r"\\"
    assert lines[7] == r"\midrule"

    def cell(b, se, df):
        p = 2 * stats.t.sf(abs(b / se), df)
        sym = "***" if p < .01 else "**" if p < .05 else "*" if p < .10 else ""
        return f"{b:.3f}".rjust(12) + (r"\sym{%s}" % sym if sym else "").ljust(9)
    female = "Female".ljust(20) + "".join("&" + cell(b[0], se[0], df) for b, se, df, _ in fits) + r"\\"
    assert lines[8] == female
    assert lines[9] == " " * 20 + "".join("&" + f"({se[0]:.2f})".rjust(12) + " " * 9 for _, se, _, _ in fits) + r"\\"
    assert lines[10].startswith("socio-economic status (standardized)&")
    assert lines[12].startswith("Constant".ljust(20) + "&")      # varlabels(): no gaps between rows
    assert lines[14] == r"\midrule"
    assert lines[15] == "Observations".ljust(20) + "".join("&" + str(n).rjust(12) + " " * 9 for *_, n in fits) + r"\\"
    assert lines[16:] == [r"\bottomrule",
                          r"\multicolumn{5}{l}{\footnotesize Standard errors clustered at the group level.}\\",
                          r"\multicolumn{5}{l}{\footnotesize \sym{*} \(p<0.10\), \sym{**} \(p<0.05\), "
                          r"\sym{***} \(p<0.01\)}\\", r"\end{tabular}", "}", ""]


@pytest.fixture()
def mixed2():
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly eststo nc1: xtmixed mathach || id:")
    ok(s, "quietly eststo nc2: xtmixed mathach ses || id:")
    return s


def test_eqlabels_none_names_the_variance_rows_and_elist(mixed2, tmp_path):
    """18_wang's tables: eqlabels("" "..." "...", none) drops the equation rows and labels
    each equation's lone _cons; varlabels(, elist()) writes after the row's end; CSV."""
    s = mixed2
    lines = ok(s, 'esttab nc1 nc2, b(3) se(3) la mtitles(2000 2005) transform(ln*: exp(@) exp(@)) '
                  'eqlabels("" "Level 2" "Residual", none) varlabels(,elist(ses "{hline @width}")) '
                  'varwidth(13)').split("\n")
    res = s.estimates["nc2"]
    j = res.coef_index("lns1_1_1", "_cons")
    sd = math.exp(float(res.b[j]))
    width = 13 + 2 * 16
    labels = [ln[:13].rstrip() for ln in lines[5:15]]
    assert labels == ["socio-econo~)", "", "_cons", "", "Level 2", "", "Residual", "", "-" * 13, "Observations"]
    assert lines[6].endswith("{hline %d}" % width)             # @width inserted, {hline} is SMCL's
    assert lines[9].split()[:2] == ["Level", "2"] and lines[9].split()[3] == f"{sd:.3f}***"
    f = tmp_path / "e18.csv"
    ok(s, f'esttab nc1 nc2 using {f}, b(3) se(3) la mtitles(2000 2005) transform(ln*: exp(@) exp(@)) '
          'eqlabels("" "Level 2" "Residual" , none) varlabels(,elist(ses "{break}{hline @width}")) varwidth(13) replace')
    rows = f.read_text().split("\n")
    assert rows[0] == "" and rows[1] == '="             ",="(1)",="(2)"' and rows[2] == '="             ",="2000",="2005"'
    assert rows[5] == '="             ",="",="(%.3f)"{break}{hline %d}' % (
        math.sqrt(float(np.asarray(res.V)[0, 0])), 13 + 2 * 4)      # csv: no model widths, delimiter 4 wide
    assert rows[8] == '="Level 2      ",="%s",="%.3f***"' % (rows[8].split(",")[1][2:-1], sd)


def test_csv_layout_gaps_and_notes(auto, tmp_path):
    f = tmp_path / "t.csv"
    ok(auto, f"esttab est1 using {f}, replace addnotes(Note one)")
    assert f.read_text().split("\n") == [
        "", '="",="(1)"', '="",="price"', "", '="weight",="1.747**"', '="",="(2.72)"', "",
        '="mpg",="-49.51"', '="",="(-0.57)"', "", '="_cons",="1946.1"', '="",="(0.54)"', "", '="N",="74"', "",
        '="t statistics in parentheses"', '="Note one"', '="* p<0.05, ** p<0.01, *** p<0.001"', ""]
    ok(auto, f"esttab est1 using {f}, replace plain nonotes")
    assert f.read_text().split("\n")[:3] == ['"","est1"', '"","b/t"', '"weight","1.746559"']
    assert list(csv.reader(f.read_text().splitlines()))[2] == ["weight", "1.746559"]


def test_tex_html_and_fragment(auto, tmp_path):
    f = tmp_path / "t.tex"
    ok(auto, f"esttab est1 using {f}, replace title(Auto) nonotes")
    tex = f.read_text().split("\n")
    assert tex[:5] == [r"\begin{table}[htbp]\centering", r"\def\sym#1{\ifmmode^{#1}\else\(^{#1}\)\fi}",
                       r"\caption{Auto}", r"\begin{tabular}{l*{1}{c}}", r"\hline\hline"]
    assert tex[8] == "weight      &" + "1.747".rjust(12) + r"\sym{**}".ljust(9) + r"\\"
    assert tex[10] == "[1em]"
    assert r"\(N\)       &" + "74".rjust(12) + " " * 9 + r"\\" in tex
    assert tex[-3:] == [r"\end{tabular}", r"\end{table}", ""]
    ok(auto, f"esttab est1 using {f}, replace fragment")
    tex = f.read_text().split("\n")
    assert tex[0].startswith(" " * 12 + "&") and r"\hline" in tex and r"\hline\hline" not in tex
    assert not any("footnotesize" in x or "tabular" in x for x in tex)
    h = tmp_path / "t.html"
    ok(auto, f"esttab est1 using {h}, replace")
    html = h.read_text().split("\n")
    assert html[0] == '<table border="0" width="*">' and html[-2] == "</table>"
    assert "<tr><td>weight      </td><td>       1.747<sup>**</sup> </td></tr>" in html
    assert "<br /><sup>*</sup> <i>p</i> < 0.05, <sup>**</sup> <i>p</i> < 0.01, <sup>***</sup> <i>p</i> < 0.001" \
        in html


def test_heads_feet_notes_and_rows(auto):
    out = ok(auto, 'esttab est1, prehead("@M models, @width wide" "@hline") posthead(---) prefoot(...) '
                   'postfoot(end) nonumbers')
    lines = out.split("\n")
    assert lines[1:4] == ["1 models, 28 wide", "-" * 28, " " * 13 + "price".rjust(12) + "   "]
    assert lines[4] == "---" and lines[-4:] == ["...", "N" + "74".rjust(24) + "   ", "end", ""]
    lines = ok(auto, "esttab est1, note(My note) nolegend").split("\n")
    assert lines[-2] == "My note"
    lines = ok(auto, "esttab est1, nonotes legend").split("\n")
    assert lines[-2] == "* p<0.05, ** p<0.01, *** p<0.001"
    lines = ok(auto, 'esttab est1 est2, order(foreign _cons) keep(foreign _cons mpg) coeflabels(mpg Mileage) '
                     'nolines nonotes').split("\n")
    assert [ln.split()[0] for ln in lines if ln and ln[0] != " "] == ["foreign", "_cons", "Mileage", "N"]
    assert not any(set(ln) == {"-"} for ln in lines if ln)
    lines = ok(auto, 'esttab est1 est2, refcat(mpg "Base group", nolabel) rename(weight heavy) nonotes').split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith("Base group"))
    assert lines[i].rstrip() == "Base group" and lines[i + 1].startswith("mpg") and lines[i - 3].startswith("heavy")
    lines = ok(auto, 'esttab est1 est2, refcat(foreign "Domestic") nonotes').split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith("Domestic"))
    assert lines[i] == "Domestic" + " " * 4 + " " * 17 + "ref.".rjust(12) + "   "
    lines = ok(auto, 'esttab est1 est2, indicate("Foreign = foreign", labels(yes no)) nonotes').split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith("Foreign"))
    assert lines[i].split() == ["Foreign", "no", "yes"] and lines[i - 1] == ""
    assert not any(ln.startswith("foreign") for ln in lines)


def test_substitute_and_collabels(auto):
    lines = ok(auto, "esttab est1, substitute(price Cost _cons Intercept) nonotes").split("\n")
    assert lines[3].split() == ["Cost"] and any(ln.startswith("Intercept") for ln in lines)
    lines = ok(auto, 'esttab est1, cells(b(star) se(par)) collabels("Coef/SE") nonotes').split("\n")
    assert lines[4].split() == ["Coef/SE"]
    lines = ok(auto, "esttab est1, cells(b(star) se(par)) nonotes").split("\n")
    assert lines[4].split() == ["b/se"]                   # estout's default column label


def test_bad_label_options_leave_everything(auto, tmp_path):
    before = (dict(auto.estimates), dict(auto.globals))
    f = tmp_path / "x.tex"
    for line in ('esttab, mgroups(A B, pattern(1 2))', 'esttab, mgroups(A, foo)', 'esttab, varlabels(weight)',
                 'esttab, refcat(weight)', 'esttab, indicate(foreign)', 'esttab, rename(weight)',
                 'esttab, varlabels(, elist(weight))', f'esttab using {f}, mgroups(A, pattern(x)) replace'):
        rc, out = run(auto, line)
        assert rc == 198, (line, out)
        assert "Traceback" not in out
    assert (dict(auto.estimates), dict(auto.globals)) == before and not f.exists()


def test_estout_defaults_legend_labels_and_styles(auto, tmp_path):
    """estout's own defaults: model names and element labels as heads, SMCL rules, no stars
    unless cells() asks; stats(, fmt() labels()), legend after the foot, mlabels()/collabels(),
    varlabels(); styles tex and html; an unknown style r(601)."""
    lines = ok(auto, "estout est1 est2").split("\n")
    w = 12 + 2 * 13
    assert lines[1:5] == ["-" * w, " " * 12 + " " + "est1".rjust(12) + " " + "est2".rjust(12),
                          " " * 12 + " " + "b".rjust(12) + " " + "b".rjust(12), "-" * w]
    assert lines[5] == "weight".ljust(12) + " " + "1.746559".rjust(12) + " " + "3.464706".rjust(12)
    assert lines[-2] == "-" * w and len(lines) == 11
    out = ok(auto, 'estout est1, cells(b(star fmt(3)) se(par fmt(2))) stats(N r2_a, fmt(0 3) labels(Obs "Adj R2")) '
                   'legend mlabels(Model) collabels(none) varlabels(_cons Constant)')
    lines = out.split("\n")
    w = 12 + 1 + 12 + 3
    assert lines[2] == " " * 13 + "Model".rjust(12) + "   " and lines[3] == "-" * w
    assert lines[4] == "weight".ljust(12) + " " + "1.747".rjust(12) + "** "
    assert lines[5] == " " * 13 + "(0.64)".rjust(12) + "   "
    assert lines[8] == "Constant".ljust(12) + " " + "1946.069".rjust(12) + "   "
    assert lines[10:14] == ["-" * w, "Obs".ljust(12) + " " + "74".rjust(12) + "   ",
                            "Adj R2".ljust(12) + " " + "0.273".rjust(12) + "   ", "-" * w]
    assert lines[14] == "* p<0.05, ** p<0.01, *** p<0.001"
    f = tmp_path / "eo.tex"
    ok(auto, f"estout est1 using {f}, style(tex) cells(b(star fmt(2)))")
    assert f.read_text().split("\n")[:3] == [" " * 12 + "&" + "est1".rjust(12) + "   \\\\",
                                            " " * 12 + "&" + "b".rjust(12) + "   \\\\",
                                            "weight      &" + "1.75".rjust(12) + "** \\\\"]
    f = tmp_path / "eo.html"
    ok(auto, f"estout est1 using {f}, style(html)")
    assert f.read_text().split("\n")[2] == "<tr><td>weight      </td><td>    1.746559</td></tr>"
    assert run(auto, "estout est1, style(foo)")[0] == 601


def test_transform_and_eform_in_cells_and_estout(mixed2):
    """transform() reaches cells() tables and estout: exp(b) with the delta-method se
    exp(b)*se (estout.hlp); estout's eform exponentiates every coefficient."""
    s = mixed2
    res = s.estimates["nc2"]
    V = np.asarray(res.V)
    j = res.coef_index("lns1_1_1", "_cons")
    b, se = float(res.b[j]), math.sqrt(V[j, j])
    for line in ("esttab nc2, cells(b(fmt(4)) se(fmt(4))) transform(ln*: exp(@) exp(@)) nonotes",
                 "estout nc2, transform(ln*: exp(@) exp(@)) cells(b(fmt(4)) se(fmt(4)))"):
        lines = ok(s, line).split("\n")
        i = next(k for k, ln in enumerate(lines) if ln.startswith("lns1_1_1"))
        assert lines[i + 1].split() == ["_cons", f"{math.exp(b):.4f}"], line
        assert lines[i + 2].split() == [f"{math.exp(b) * se:.4f}"], line
    k = res.coef_index(None, "ses")
    lines = ok(s, "estout nc2, eform cells(b(fmt(3)))").split("\n")
    assert next(ln for ln in lines if ln.startswith("ses")).split() == ["ses", f"{math.exp(float(res.b[k])):.3f}"]
    assert run(s, "estout nc2, eform(2)")[0] == 198


# ----------------------------------------------------------------- estout.hlp's examples
def _estout_auto():
    """estout.hlp's m1 and m2 (auto.dta, price and weight in 1000s) from the numbers the help
    prints: b and se of its cells(b se) table, pinned more finely where its t statistics show
    more (se = b/t; m2's weight b 4.6135886; m2's constant b = se 4.42572 times t -3.26491),
    so that b, se and t all round as printed; e(r2), e(r2_a), BIC through e(ll), N 74, and
    e(p) of the models' F tests (both far below .001: F(2, 71) = 14.7 and F(4, 69) = 21.2)."""
    from hlmshell.commands._postest import model_df
    s = Session()
    for line in ("set obs 1", "gen price = 1", "gen weight = 1", "gen mpg = 1", "gen foreign = 1", "gen forXmpg = 1",
                 'label var weight "Weight (lbs.)"', 'label var mpg "Mileage (mpg)"',
                 'label var foreign "Foreign car type"', 'label var forXmpg "Foreign*Mileage"'):
        ok(s, line)
    spec = {"m1": (["weight", "mpg", "_cons"], [1.746559, -.0495122, 1.946068],
                   [.6413538, .0495122 / .5746806, 3.59705], 71, .2933891, .2734846, 356.2918, "Model 1"),
            "m2": (["weight", "mpg", "forXmpg", "foreign", "_cons"],
                   [4.6135886, .2631875, -.3072165, 11.24033, -4.42572 * 3.26491],
                   [.7254961, .2631875 / 2.375421, .3072165 / 2.830687, 11.24033 / 4.084896, 4.42572],
                   69, .5516277, .5256351, 331.2406, "Model 2")}
    for name, (cols, b, se, df, r2, r2a, bic, title) in spec.items():
        res = EstimationResults("regress", [("price", c) for c in cols], np.asarray(b), np.diag(np.asarray(se) ** 2),
                                np.zeros(len(b), bool), len(b), {"N": 74.0, "df_r": float(df), "r2": r2, "r2_a": r2a,
                                                                 "rank": float(len(b)), "p": 1e-5},
                                {"depvar": "price", "cmd": "regress", "estimates_title": title})
        res.scalars["ll"] = -(bic - math.log(74) * model_df(res)) / 2
        s.estimates[name] = res
    return s


ESTOUT_DEFAULT = """
--------------------------------------
                       m1           m2
                        b            b
--------------------------------------
weight           1.746559     4.613589
mpg             -.0495122     .2631875
forXmpg                      -.3072165
foreign                       11.24033
_cons            1.946068    -14.44958
--------------------------------------"""

ESTOUT_TEX = """
            &          m1&          m2\\\\
            &           b&           b\\\\
weight      &    1.746559&    4.613589\\\\
mpg         &   -.0495122&    .2631875\\\\
forXmpg     &            &   -.3072165\\\\
foreign     &            &    11.24033\\\\
\\_cons      &    1.946068&   -14.44958\\\\"""

ESTOUT_B_SE = """
--------------------------------------
                       m1           m2
                     b/se         b/se
--------------------------------------
weight           1.746559     4.613589
                 .6413538     .7254961
mpg             -.0495122     .2631875
                  .086156     .1107961
forXmpg                      -.3072165
                              .1085307
foreign                       11.24033
                              2.751681
_cons            1.946068    -14.44958
                  3.59705      4.42572
--------------------------------------"""

ESTOUT_STARS = """
--------------------------------------------
                       m1              m2
                      b/t             b/t
--------------------------------------------
weight              1.747**         4.614***
                   (2.72)          (6.36)
mpg                -0.050           0.263*
                  (-0.57)          (2.38)
forXmpg                            -0.307**
                                  (-2.83)
foreign                            11.240***
                                   (4.08)
_cons               1.946         -14.450**
                   (0.54)         (-3.26)
--------------------------------------------"""

ESTOUT_STATS = """
--------------------------------------
                       m1           m2
                        b            b
--------------------------------------
weight           1.746559     4.613589
mpg             -.0495122     .2631875
forXmpg                      -.3072165
foreign                       11.24033
_cons            1.946068    -14.44958
--------------------------------------
r2               .2933891     .5516277
bic              356.2918     331.2406
N                      74           74
--------------------------------------"""

ESTOUT_PUBLICATION = """
----------------------------------------------------
                          Model 1         Model 2
----------------------------------------------------
Weight (lbs.)               1.747**         4.614***
                          (0.641)         (0.725)
Mileage (mpg)              -0.050           0.263*
                          (0.086)         (0.111)
Foreign*Mileage                            -0.307**
                                          (0.109)
Foreign car type                           11.240***
                                          (2.752)
Constant                    1.946         -14.450**
                          (3.597)         (4.426)
----------------------------------------------------
R-squared                   0.273           0.526
N                              74              74
----------------------------------------------------
* p<0.05, ** p<0.01, *** p<0.001"""

ESTOUT_BSETP = """
----------------------------------------------------------------
                       m2
                        b           se            t            p
----------------------------------------------------------------
weight           4.613589     .7254961     6.359219     1.89e-08
mpg              .2631875     .1107961     2.375421     .0203122
forXmpg         -.3072165     .1085307    -2.830687     .0060799
foreign          11.24033     2.751681     4.084896     .0001171
_cons           -14.44958      4.42572     -3.26491     .0017061
----------------------------------------------------------------"""

ESTOUT_STATS_STAR = """
--------------------------------------------
                       m1              m2
--------------------------------------------
r2_a             .2734846***     .5256351***
bic              356.2918        331.2406
N                      74              74
--------------------------------------------"""

ESTOUT_KEEP_T = """
--------------------------------------------
                       m1              m2
                      b/t             b/t
--------------------------------------------
weight           1.746559**      4.613589***
mpg             -.0495122        .2631875*
              (-.5746806)      (2.375421)
forXmpg                         -.3072165**
foreign                          11.24033***
_cons            1.946068       -14.44958**
--------------------------------------------"""


@pytest.mark.parametrize("line, expected", [
    ("estout m1 m2", ESTOUT_DEFAULT),
    (r"estout *, style(tex) varlabels(_cons \_cons)", ESTOUT_TEX),
    ("estout *, cells(b se)", ESTOUT_B_SE),
    ("estout *, cells(b(star fmt(3)) t(par fmt(2)))", ESTOUT_STARS),
    ("estout *, stats(r2 bic N)", ESTOUT_STATS),
    ("estout *, cells(b(star fmt(%9.3f)) se(par)) stats(r2_a N, fmt(%9.3f %9.0g) labels(R-squared)) "
     "legend label collabels(none) varlabels(_cons Constant)", ESTOUT_PUBLICATION),
    ("estout *, cells(b(star) t(par keep(mpg)))", ESTOUT_KEEP_T),
    ('estout m2, cells("b se t p")', ESTOUT_BSETP),
    ("estout *, cells(none) stats(r2_a bic N, star)", ESTOUT_STATS_STAR)])
def test_estout_help_examples_digit_for_digit(line, expected):
    assert _lines(ok(_estout_auto(), line)) == expected.split("\n")


def test_estout_help_tab_file(tmp_path):
    f = tmp_path / "example.txt"
    s = _estout_auto()
    assert ok(s, f"estout * using {f}") == f"(output written to {f})\n"
    assert f.read_text().split("\n") == ["\tm1\tm2", "\tb\tb", "weight\t1.746559\t4.613589", "mpg\t-.0495122\t.2631875",
                                        "forXmpg\t\t-.3072165", "foreign\t\t11.24033", "_cons\t1.946068\t-14.44958", ""]


def test_cells_none_shows_the_statistics_alone(auto):
    lines = ok(auto, "esttab est1 est2, cells(none) stats(N r2_a)").split("\n")
    w = 12 + 2 * 13
    assert lines[1:] == ["-" * w, " " * 13 + "(1)".rjust(12) + " " + "(2)".rjust(12),
                         " " * 13 + "price".rjust(12) + " " + "price".rjust(12), "-" * w,
                         "N" + " " * 11 + " " + "74".rjust(12) + " " + "74".rjust(12),
                         "r2_a" + " " * 8 + " " + ".2734846".rjust(12) + " " + ".4781119".rjust(12), "-" * w, ""]


def test_append_inserts_into_rtf_and_tex_documents(auto, tmp_path):
    """esttab, append: an RTF table (or a tex/html page) goes inside the document already
    there, which stays one document (esttab.ado's appendfile)."""
    f = tmp_path / "a.rtf"
    ok(auto, f"esttab est1 using {f}, replace nonotes")
    ok(auto, f"esttab est2 using {f}, append nonotes")
    text = f.read_text()
    assert text.count(r"{\rtf1") == 1 and text.count(r"\row}") > 8 and text.endswith("{\\pard \\par}\n}\n")
    assert text.count("{\\pard \\par}") == 2
    t = tmp_path / "a.tex"
    ok(auto, f"esttab est1 using {t}, replace page")
    ok(auto, f"esttab est2 using {t}, append page")
    tex = t.read_text().split("\n")
    assert tex.count(r"\begin{document}") == 1 and tex.count(r"\end{document}") == 1
    assert tex.count(r"\end{tabular}") == 2 and tex[-2] == r"\end{document}"


def test_ci_abs_staraux_against_numpy(tmp_path):
    """esttab's ci: [lower,upper] with t(df_r) critical values (level() changes them), a3 like
    b, the model column 2*12-2 wide; abs: |t| and "Absolute t statistics"; staraux: the stars
    on the statistic's row."""
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly eststo: regress mathach ses female")
    y = np.asarray(s.data.var("mathach").values, dtype=float)
    X = np.column_stack([np.asarray(s.data.var(v).values, dtype=float) for v in ("ses", "female")] + [np.ones(len(y))])
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    e = y - X @ b
    df = len(y) - 3
    se = np.sqrt(np.diag((e @ e) / df * np.linalg.inv(X.T @ X)))
    for level, fmt in ((95, "a3"), (90, "2")):
        q = stats.t.ppf(1 - (1 - level / 100) / 2, df)
        opts = "ci" if level == 95 else f"ci({fmt}) level({level}) staraux"
        lines = ok(s, f"esttab, {opts}").split("\n")
        i = next(k for k, ln in enumerate(lines) if ln.startswith("ses"))
        f = estout_a if fmt == "a3" else (lambda x: f"{x:.2f}")
        width = 12 + 1 + 22 + 3
        assert lines[1] == "-" * width
        stars = "***" if level == 90 else ""
        assert lines[i + 1] == " " * 13 + f"[{f(b[0] - q * se[0])},{f(b[0] + q * se[0])}]".rjust(22) + stars.ljust(3)
        assert lines[i].rstrip().endswith(estout_a(b[0]) + ("" if stars else "***"))
    assert ok(s, "esttab, ci").split("\n")[-3] == "95% confidence intervals in brackets"
    lines = ok(s, "esttab, abs").split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith("female"))
    assert lines[i + 1].strip() == f"({abs(b[1] / se[1]):.2f})" and lines[-3] == "Absolute t statistics in parentheses"


def test_mlabels_suboptions():
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly eststo a, title(My A): regress mathach ses")
    lines = ok(s, "esttab a, mlabels(, titles) nonotes").split("\n")
    assert lines[3] == " " * 13 + "My A".rjust(12) + "   "
    lines = ok(s, "esttab a, mlabels(, depvars numbers) nonumbers nonotes").split("\n")
    assert lines[2] == " " * 13 + "(1) mathach".rjust(12) + "   "
    lines = ok(s, 'esttab a, mlabels("Model A", lhs(Outcome:) prefix([) suffix(])) nonotes').split("\n")
    assert lines[3] == "Outcome:    " + " " + "[Model A]".rjust(12) + "   "
