"""outreg2 (SSC, built in): the files it writes, read back and checked against numbers computed
here (numpy OLS with scipy's t distribution; e(b)/e(V) of the fits otherwise).

Reference behaviour: outreg2.ado (Roy Wada): the table is a tab-delimited .txt file (a row of
model numbers, the VARIABLES row, a blank row, each coefficient with its standard error in
parentheses below, a blank row, Observations / R-squared / Number of groups, the notes); the
auto(3) number format (autodigits2: three significant digits, commas); stars *** p<0.01,
** p<0.05, * p<0.1; `append` adds a column; word/excel/tex files are made from the table.
"""
from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy import stats

from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture()
def hsb(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Session()
    ok(s, "use hsb")
    return s


def _col(s, name):
    return np.asarray(s.data.var(name).values, dtype=float)


def _ols(s, y, xs):
    Y = _col(s, y)
    X = np.column_stack([_col(s, x) for x in xs] + [np.ones(Y.size)])
    b, *_ = np.linalg.lstsq(X, Y, rcond=None)
    e = Y - X @ b
    df = Y.size - X.shape[1]
    V = (e @ e / df) * np.linalg.inv(X.T @ X)
    se = np.sqrt(np.diag(V))
    p = 2 * stats.t.sf(np.abs(b / se), df)
    r2 = 1 - (e @ e) / np.sum((Y - Y.mean()) ** 2)
    return b, se, p, r2, df


def _auto(x):
    """outreg2's auto(3), written out independently: 3 significant digits, at least the
    integer part, commas."""
    if x == round(x):
        return f"{x:,.0f}"
    digits = math.floor(math.log10(abs(x))) + 1
    dec = 3 - digits + 1 if digits > 0 else -math.floor(math.log10(abs(x - math.trunc(x)))) + 2
    return f"{x:,.{max(dec, 0)}f}"


def _stars(p):
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def _rows(path):
    with open(path, encoding="utf-8") as fh:
        return [line.rstrip("\n").split("\t") for line in fh]


def _find(rows, label):
    i = next(k for k, r in enumerate(rows) if r[0] == label)
    return rows[i], rows[i + 1]


def test_auto_format_examples_from_outreg2():
    from hlmshell.output.outreg2_table import fmt_number
    # regress mpg weight foreign (auto.dta) as outreg2 prints it
    assert [fmt_number(x) for x in (-0.0060087, 0.0005179, -1.650029, 1.075994, 41.6797, 2.165547)] \
        == ["-0.00601", "0.000518", "-1.650", "1.076", "41.68", "2.166"]
    assert fmt_number(11253.06) == "11,253" and fmt_number(74.0) == "74"
    assert fmt_number(2.5e-9) == "2.50e-09" and fmt_number(float("nan")) == "."
    assert fmt_number(0.66326, 2) == "0.66"


def test_regress_text_file_against_numpy(hsb):
    ok(hsb, "quietly regress mathach ses female")
    out = ok(hsb, "outreg2 using tab1, replace")
    assert out == "tab1.txt\ndir : seeout\n"
    rows = _rows("tab1.txt")
    assert rows[0] == ["", "(1)"] and rows[1] == ["VARIABLES", "mathach"] and rows[2] == ["", ""]
    b, se, p, r2, _ = _ols(hsb, "mathach", ["ses", "female"])
    for k, name in enumerate(["ses", "female", "Constant"]):
        top, below = _find(rows, name)
        assert top[1] == _auto(b[k]) + _stars(p[k]), name
        assert below == ["", f"({_auto(se[k])})"]
    assert [r[0] for r in rows[3:9:2]] == ["ses", "female", "Constant"]
    assert rows[9] == ["", ""]
    assert rows[10] == ["Observations", "7,185"]
    assert rows[11] == ["R-squared", f"{r2:.3f}"]
    assert rows[12][0] == "Standard errors in parentheses"
    assert rows[13][0] == "*** p<0.01, ** p<0.05, * p<0.1"


def test_append_adds_a_column_new_variables_before_the_constant(hsb):
    ok(hsb, "quietly regress mathach ses")
    ok(hsb, "outreg2 using tab2, replace ctitle(Model 1)")
    ok(hsb, "quietly regress mathach ses minority")
    ok(hsb, "outreg2 using tab2, append ctitle(Model 2)")
    rows = _rows("tab2.txt")
    assert rows[0] == ["", "(1)", "(2)"] and rows[1] == ["VARIABLES", "Model 1", "Model 2"]
    labels = [r[0] for r in rows[3:9:2]]
    assert labels == ["ses", "minority", "Constant"]
    b1, se1, *_ = _ols(hsb, "mathach", ["ses"])
    b2, se2, p2, *_ = _ols(hsb, "mathach", ["ses", "minority"])
    top, below = _find(rows, "minority")
    assert top[1] == "" and top[2] == _auto(b2[1]) + _stars(p2[1]) and below[2] == f"({_auto(se2[1])})"
    top, below = _find(rows, "Constant")
    assert top[1].rstrip("*") == _auto(b1[1]) and top[2].rstrip("*") == _auto(b2[2])
    assert _find(rows, "Observations")[0] == ["Observations", "7,185", "7,185"]
    assert sum(r[0] == "Standard errors in parentheses" for r in rows) == 1


def test_default_is_append_and_replace_starts_over(hsb):
    ok(hsb, "quietly regress mathach ses")
    ok(hsb, "outreg2 using tab3")
    ok(hsb, "outreg2 using tab3")
    assert _rows("tab3.txt")[0] == ["", "(1)", "(2)"]
    ok(hsb, "outreg2 using tab3, replace")
    assert _rows("tab3.txt")[0] == ["", "(1)"]


def test_mixed_one_column_per_equation(hsb):
    """Numbers from lme4 (tests/data/outreg2/hsb_mixed_lme4.json: ML fit, log standard
    deviations as mixed's e(b) holds them); at outreg2's three significant digits the two fits
    print the same."""
    import json
    from pathlib import Path
    ref = json.loads((Path(__file__).parent / "data" / "outreg2" / "hsb_mixed_lme4.json").read_text())
    ok(hsb, "quietly mixed mathach ses || id:")
    ok(hsb, "outreg2 using mx, replace")
    rows = _rows("mx.txt")
    assert rows[1] == ["VARIABLES", "mathach", "lns1_1_1", "lnsig_e"]
    ses, ses_se = _find(rows, "ses")
    assert ses == ["ses", _auto(ref["b_ses"]) + "***", "", ""] and ses_se[1] == f"({_auto(ref['se_ses'])})"
    cons, cons_se = _find(rows, "Constant")
    assert [c.rstrip("*") for c in cons[1:]] == [_auto(ref["b_cons"]), _auto(ref["lns1_1_1"]),
                                                 _auto(ref["lnsig_e"])]
    assert cons_se[1] == f"({_auto(ref['se_cons'])})"
    V = np.asarray(hsb.e.V)
    j = hsb.e.coef_index("lnsig_e", "_cons")
    assert cons_se[3] == f"({_auto(math.sqrt(V[j, j]))})"
    assert _find(rows, "Number of groups")[0] == ["Number of groups", "160", "160", "160"]
    assert _find(rows, "Observations")[0] == ["Observations", "7,185", "7,185", "7,185"]


def test_word_excel_tex_files(hsb):
    ok(hsb, "quietly regress mathach ses")
    out = ok(hsb, 'outreg2 using res.doc, replace excel tex ctitle("OLS") title("Table 1")')
    assert out == "res.doc\nres.xml\nres.tex\ndir : seeout\n"
    assert os.path.exists("res.txt")
    b, *_ = _ols(hsb, "mathach", ["ses"])
    rtf = open("res.doc", encoding="utf-8").read()
    assert rtf.startswith("{\\rtf1") and _auto(b[0]) + "***" in rtf and "Table 1" in rtf
    root = ET.parse("res.xml").getroot()
    cells = [d.text or "" for d in root.iter("{urn:schemas-microsoft-com:office:spreadsheet}Data")]
    assert "OLS" in cells and _auto(b[0]) + "***" in cells and "7,185" in cells
    tex = open("res.tex", encoding="utf-8").read()
    assert "\\begin{tabular}{lc}" in tex and "\\begin{document}" in tex
    assert f"ses & {_auto(b[0])}*** \\\\" in tex
    ok(hsb, "outreg2 using frag.tex, replace tex(frag)")
    assert "\\begin{document}" not in open("frag.tex", encoding="utf-8").read()
    assert not [f for f in os.listdir(".") if f.endswith(".hlmtmp")]


def test_statistic_options(hsb):
    ok(hsb, "quietly regress mathach ses female")
    b, se, p, r2, df = _ols(hsb, "mathach", ["ses", "female"])
    ok(hsb, "outreg2 using o1, replace tstat dec(2) nocons")
    rows = _rows("o1.txt")
    assert _find(rows, "ses") == (["ses", f"{b[0]:.2f}***"], ["", f"({b[0] / se[0]:.2f})"])
    assert all(r[0] != "Constant" for r in rows) and rows[-2][0] == "t-statistics in parentheses"
    ok(hsb, "outreg2 using o2, replace pvalue noaster keep(female)")
    rows = _rows("o2.txt")
    assert [r[0] for r in rows if r[0] and r[0] != "VARIABLES"][:1] == ["female"]
    assert _find(rows, "female")[1][1] == f"({p[1]:.3f})"
    assert not any("p<" in r[0] for r in rows)
    ok(hsb, "outreg2 using o3, replace ci bdec(3) sdec(3) level(90)")
    q = stats.t.isf(0.05, df)
    assert _find(_rows("o3.txt"), "ses")[1][1] == f"({b[0] - q * se[0]:.3f} - {b[0] + q * se[0]:.3f})"
    ok(hsb, 'outreg2 using o4, replace alpha(0.001, 0.01) symbol(a, b) stats(coef se aster) nonotes addnote("Source: HSB")')
    rows = _rows("o4.txt")
    i = next(k for k, r in enumerate(rows) if r[0] == "female")
    assert rows[i][1] == _auto(b[1]) and rows[i + 2][1] == ("a" if p[1] < 0.001 else "b" if p[1] < 0.01 else "")
    assert rows[-1][0] == "Source: HSB" and not any("parentheses" in r[0] for r in rows)


def test_label_addstat_addtext_stored_estimates(hsb):
    ok(hsb, 'label variable ses "Socio-economic status"')
    ok(hsb, "quietly regress mathach ses")
    ok(hsb, "estimates store m1")
    ok(hsb, "quietly regress mathach ses female")
    ok(hsb, "estimates store m2")
    ok(hsb, "quietly summarize mathach")
    ok(hsb, 'outreg2 [m1 m2] using st, replace label addstat("Mean of y", r(mean)) addtext(Controls, NO)')
    rows = _rows("st.txt")
    assert rows[1] == ["VARIABLES", "m1", "m2"]
    assert rows[3][0] == "Socio-economic status"
    mean = float(np.mean(_col(hsb, "mathach")))
    assert _find(rows, "Mean of y")[0] == ["Mean of y", _auto(mean), _auto(mean)]
    assert _find(rows, "Controls")[0] == ["Controls", "NO", "NO"]


def test_eform_after_logit(hsb):
    ok(hsb, "quietly logit minority ses")
    ok(hsb, "outreg2 using lg, replace eform")
    j = hsb.e.coef_index(None, "ses")
    b, v = float(hsb.e.b[j]), float(np.asarray(hsb.e.V)[j, j])
    top, below = _find(_rows("lg.txt"), "ses")
    assert top[1].rstrip("*") == _auto(math.exp(b)) and below[1] == f"({_auto(math.exp(b) * math.sqrt(v))})"


def test_errors_leave_the_file_alone(hsb):
    assert run(hsb, "outreg2 using x, replace")[0] == 111         # no estimates yet
    ok(hsb, "quietly regress mathach ses")
    ok(hsb, "outreg2 using keepme, replace")
    before = open("keepme.txt", encoding="utf-8").read()
    for line, rc in (("outreg2 keepme", 100), ("outreg2 using keepme, bogus", 198),
                     ("outreg2 using keepme, tstat pvalue", 198), ("outreg2 using keepme, keep(ses) drop(ses)", 198),
                     ("outreg2 using keepme, stats(coef wrong)", 198), ("outreg2 [nosuch] using keepme", 111),
                     ("outreg2 using keepme, addstat(x)", 198), ("outreg2 using keepme, dec(40)", 198)):
        got, out = run(hsb, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out
    assert open("keepme.txt", encoding="utf-8").read() == before
    with open("notatable.txt", "w") as fh:
        fh.write("hello\n")
    assert run(hsb, "outreg2 using notatable, append")[0] == 610


def test_ssc_install_says_built_in(hsb):
    assert "built into hlmshell" in ok(hsb, "ssc install outreg2, replace")


def test_sum_log_summary_table(hsb):
    out = ok(hsb, "outreg2 mathach ses using desc, replace sum(log)")
    assert out == "desc.txt\ndir : seeout\n"
    rows = _rows("desc.txt")
    assert rows[0] == ["", "(1)", "(2)", "(3)", "(4)", "(5)"]
    assert rows[1] == ["VARIABLES", "N", "mean", "sd", "min", "max"]
    for name in ("mathach", "ses"):
        x = _col(hsb, name)
        row = next(r for r in rows if r[0] == name)
        assert row[1:] == ["7,185", _auto(x.mean()), _auto(x.std(ddof=1)), _auto(x.min()), _auto(x.max())]
    ok(hsb, "outreg2 using desc2, replace sum(log) keep(ses) eqkeep(N mean)")
    assert _rows("desc2.txt")[1] == ["VARIABLES", "N", "mean"]
    assert run(hsb, "outreg2 using desc3, replace sum(detail)")[0] == 198
