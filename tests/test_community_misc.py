"""fre, mdesc, distinct, log2html, bcuse (community packages, built in): counts checked against
numpy on the data, layouts against the packages' help files (fre.hlp's examples: a caption
`name -- label`, a column of `value label` rows, Freq./Percent/Valid/Cum. 11 wide, Valid and
Missing sections with their totals)."""
from __future__ import annotations

import os

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture()
def hsb(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Session()
    ok(s, "use hsb")
    ok(s, "replace ses = . in 1/10")
    ok(s, "replace ses = .a in 11/12")
    return s


def _col(s, name):
    return np.asarray(s.data.var(name).values, dtype=float)


def test_mdesc_counts_and_results(hsb):
    out = ok(hsb, "mdesc mathach ses")
    lines = out.split("\n")
    assert lines[1] == "    Variable    |     Missing          Total     Percent Missing"
    assert lines[2] == "-" * 16 + "+" + "-" * 47
    miss = int(np.isnan(_col(hsb, "ses")).sum())
    assert miss == 12
    assert lines[4] == f"{'ses':>14}  |{miss:>12}{'7,185':>15}{100 * miss / 7185:>15.2f}"
    assert hsb.r.scalars["miss"] == miss and hsb.r.scalars["total"] == 7185
    assert hsb.r.macros["miss_vars"] == "ses" and hsb.r.macros["notmiss_vars"] == "mathach"
    ok(hsb, "mdesc mathach ses if sector == 1, all")
    assert hsb.r.scalars["total"] == int((_col(hsb, "sector") == 1).sum())
    assert run(hsb, "mdesc ses, any all")[0] == 198


def test_distinct_counts(hsb):
    out = ok(hsb, "distinct id ses")
    ses = _col(hsb, "ses")
    n_ses, k_ses = int((~np.isnan(ses)).sum()), len(np.unique(ses[~np.isnan(ses)]))
    assert out.split("\n")[-2] == f" ses |{n_ses:>11}{k_ses:>11}"
    assert out.split("\n")[3] == "-" * 5 + "+" + "-" * 22
    assert hsb.r.scalars == {"N": n_ses, "ndistinct": k_ses}
    ok(hsb, "distinct ses, missing")
    assert hsb.r.scalars == {"N": 7185, "ndistinct": k_ses + 2}       # . and .a are two values
    ok(hsb, "distinct sector minority, joint")
    pairs = {(a, b) for a, b in zip(_col(hsb, "sector"), _col(hsb, "minority"))}
    assert hsb.r.scalars["ndistinct"] == len(pairs)
    out = ok(hsb, "distinct id sector, min(3)")
    assert " sector |" not in out and " id |" in out


def test_fre_layout_and_numbers(hsb):
    ok(hsb, 'label define sec 0 "Public" 1 "Catholic"')
    ok(hsb, "label values sector sec")
    ok(hsb, 'label variable sector "School sector"')
    lines = ok(hsb, "fre sector").split("\n")
    sec = _col(hsb, "sector")
    n0, n1 = int((sec == 0).sum()), int((sec == 1).sum())
    assert lines[1] == "sector -- School sector"
    assert lines[3] == " " * 19 + "|      Freq.    Percent      Valid       Cum."
    assert lines[4] == "-" * 19 + "+" + "-" * 44
    p0 = 100 * n0 / 7185
    assert lines[5] == f"Valid   0 Public   |{n0:>11}{p0:>11.2f}{p0:>11.2f}{p0:>11.2f}"
    assert lines[6] == f"        1 Catholic |{n1:>11}{100 - p0:>11.2f}{100 - p0:>11.2f}{100:>11.2f}"
    assert lines[7] == f"        Total      |{7185:>11}{100:>11.2f}{100:>11.2f}"


def test_fre_missing_section(hsb):
    ok(hsb, "generate byte low = ses < -1 if !missing(ses)")
    ok(hsb, "replace low = .a in 11/12")
    lines = ok(hsb, "fre low").split("\n")
    low = _col(hsb, "low")
    n1 = int((low == 1).sum())
    rows = {ln.split("|")[0].strip(): ln.split("|")[1].split() for ln in lines if "|" in ln}
    assert rows["Valid   0"][0] == str(int((low == 0).sum()))
    assert rows["1"][0] == str(n1)
    assert rows["Missing ."] == ["10", f"{1000 / 7185:.2f}"]
    assert rows[".a"] == ["2", f"{200 / 7185:.2f}"]
    assert rows["Total"][0] in ("7173", "12", "7185")
    assert hsb.r.scalars["N_missing"] == 12 and hsb.r.scalars["N_valid"] == 7173
    valid_pct = 100 * n1 / 7173
    assert rows["1"][2] == f"{valid_pct:.2f}"


def test_log2html_smcl_and_text(hsb):
    with open("a.smcl", "w") as fh:
        fh.write("{smcl}\n{com}. summarize x\n{txt}{hline 5}{c +}{hline 3}\n"
                 "    x {c |}{res}      3.14\n{err}variable y not found\n")
    ok(hsb, 'log2html a, title("My <log>") result(#ff0000)')
    page = open("a.html", encoding="utf-8").read()
    assert "<title>My &lt;log&gt;</title>" in page
    assert '<font color="#ff0000">      3.14</font>' in page
    assert "-----+---" in page and "    x |" in page
    assert '<font color="#cc0000">variable y not found</font>' in page
    assert run(hsb, "log2html a")[0] == 602
    with open("b.log", "w") as fh:
        fh.write(". display 1 < 2\n1\n")
    ok(hsb, "log2html b, erase")
    assert "1 &lt; 2" in open("b.html", encoding="utf-8").read() and not os.path.exists("b.log")
    assert run(hsb, "log2html nosuch")[0] == 601


def test_bcuse_offline_fails_and_keeps_the_data(hsb):
    rc, out = run(hsb, "bcuse wage1, clear")      # the tests' folder is a closed local port
    assert rc == 677 and "127.0.0.1:9/bc/wage1.dta" in out
    assert hsb.data.n == 7185


def test_packages_say_built_in(hsb):
    for pkg in ("fre", "mdesc", "distinct", "log2html", "bcuse"):
        assert "built into hlmshell" in ok(hsb, f"ssc install {pkg}")
