"""eststo / esttab (estout package): stored names, numbers from e(b)/e(V)/e(), layout, files.

Reference layout: esttab.ado (estout 2.x, http://repec.sowi.unibe.ch/stata/estout/esttab.html,
"Basic usage"): in its fixed/smcl mode a stub of width 12, then per model " " + a 12-wide
right-aligned cell + a 3-wide star slot; a rule, the model numbers "(1)", the dependent
variables, a rule; each coefficient in estout's a3 format with stars, its t statistic
(2 decimals) in parentheses below, a blank line between coefficients; a rule, N, a rule;
"t statistics in parentheses" and "* p<0.05, ** p<0.01, *** p<0.001".
"""
from __future__ import annotations

import csv
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from hlmshell.output.paper_tables import estout_a
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture()
def hsb():
    s = Session()
    ok(s, "use hsb")
    return s


def _b_se(res, name, eq=None):
    j = res.coef_index(eq, name)
    return float(res.b[j]), math.sqrt(float(np.asarray(res.V)[j, j]))


def test_estout_a3_format():
    # the esttab example's numbers (auto.dta): 1.747 -49.51 3673.1 1946.1 0.641 86.16 684.0
    assert [estout_a(x) for x in (1.746559, -49.51222, 3673.06, 1946.069, .6413538, 86.15604, 684.0)] \
        == ["1.747", "-49.51", "3673.1", "1946.1", "0.641", "86.16", "684"]
    assert estout_a(0.0641) == "0.0641" and estout_a(float("nan")) == "."


def test_eststo_names_globals_and_messages(hsb):
    assert ok(hsb, "eststo: quietly regress mathach ses") == "(est1 stored)\n"
    assert ok(hsb, "quietly eststo: regress mathach ses female") == ""
    out = ok(hsb, "eststo m3: quietly mixed mathach ses || id:")
    assert out == ""                                   # a name given: no message (eststo.ado)
    assert hsb.globals["eststo"] == "est1 est2 m3" and hsb.globals["eststo_counter"] == "3"
    assert hsb.e.name == "m3" and hsb.estimates["m3"].cmd == "mixed"
    assert hsb.estimates["est1"].names == [("mathach", "ses"), ("mathach", "_cons")]
    ok(hsb, "eststo clear")
    assert "eststo" not in hsb.globals and not hsb.estimates
    assert hsb.e is not None                          # the active results stay


def test_eststo_errors_change_nothing(hsb):
    ok(hsb, "eststo: quietly regress mathach ses")
    before = (hsb.e, dict(hsb.estimates), dict(hsb.globals))
    for line, rc in (("eststo: regress mathach nosuch", 111), ("eststo 1bad: regress mathach ses", 198),
                     ("eststo a b: regress mathach ses", 198), ("eststo:", 198),
                     ("eststo, foo: regress mathach ses", 198), ("eststo clear now", 198)):
        got, out = run(hsb, line)
        assert got == rc, (line, out)
        assert (hsb.e, dict(hsb.estimates), dict(hsb.globals)) == before, line
    assert run(Session(), "eststo")[0] == 301


def test_default_layout_two_models(hsb):
    ok(hsb, "eststo: quietly regress mathach ses")
    ok(hsb, "eststo: quietly regress mathach ses female")
    lines = ok(hsb, "esttab").strip("\n").split("\n")
    m1, m2 = hsb.estimates["est1"], hsb.estimates["est2"]
    width = 12 + 2 * 16
    assert lines[0] == "-" * width and lines[3] == "-" * width
    assert lines[1] == " " * 22 + "(1)" + " " * 13 + "(2)   "
    assert lines[2] == " " * 12 + " " + "mathach".rjust(12) + "   " + " " + "mathach".rjust(12) + "   "
    b1, se1 = _b_se(m1, "ses")
    b2, se2 = _b_se(m2, "ses")
    assert lines[4] == "ses".ljust(12) + " " + estout_a(b1).rjust(12) + "***" + " " + estout_a(b2).rjust(12) + "***"
    assert lines[5] == " " * 12 + " " + f"({b1 / se1:.2f})".rjust(12) + "   " + " " + f"({b2 / se2:.2f})".rjust(12) + "   "
    assert lines[6] == ""                              # the gap between coefficients
    # female (only in model 2) comes before _cons, as estout merges the models' orders
    labels = [ln[:12].strip() for ln in lines]
    assert labels.index("female") < labels.index("_cons")
    assert lines[-5] == "-" * width
    assert lines[-4] == "N".ljust(12) + " " + "7185".rjust(12) + "   " + " " + "7185".rjust(12) + "   "
    assert lines[-3] == "-" * width
    assert lines[-2:] == ["t statistics in parentheses", "* p<0.05, ** p<0.01, *** p<0.001"]


def test_options_se_stats_label_nostar(hsb):
    ok(hsb, "eststo m1: quietly regress mathach ses female")
    out = ok(hsb, "esttab m1, se r2 ar2 aic bic scalars(ll rmse) label nostar nonumbers title(My table)")
    lines = out.strip("\n").split("\n")
    res = hsb.estimates["m1"]
    b, se = _b_se(res, "ses")
    assert lines[0] == "My table"
    assert lines[2].strip() == "mathematic~e"            # model labels abbreviated (fixed mode)
    row = next(i for i, ln in enumerate(lines) if ln.startswith("socio-economic"))
    assert lines[row].split()[-1] == estout_a(b) and lines[row + 1].strip() == f"({estout_a(se)})"
    assert any(ln.startswith("Constant") for ln in lines)
    stats = {ln[:20].strip(): ln[20:].strip() for ln in lines if ln[:1].isalpha()}
    assert stats["Observations"] == "7185"
    assert stats["R-squared"] == f"{res.scalars['r2']:.3f}"
    assert stats["Adjusted R-squared"] == f"{res.scalars['r2_a']:.3f}"
    aic = -2 * res.scalars["ll"] + 2 * res.scalars["rank"]
    assert stats["AIC"] == estout_a(aic)
    assert stats["ll"] == estout_a(res.scalars["ll"]) and stats["rmse"] == estout_a(res.scalars["rmse"])
    assert lines[-1] == "Standard errors in parentheses"          # nostar: no legend
    assert "*" not in out


def test_mixed_equations_p_and_star_levels(hsb):
    ok(hsb, "eststo m: quietly mixed mathach ses || id:")
    out = ok(hsb, "esttab m, p star(+ 0.10 * 0.05) nogaps nonumbers mtitles(Model)")
    res = hsb.e
    lines = out.strip("\n").split("\n")
    assert lines[1].strip() == "Model"
    eqrows = [ln.strip() for ln in lines if ln.strip() in ("mathach", "lns1_1_1", "lnsig_e")]
    assert eqrows == ["mathach", "lns1_1_1", "lnsig_e"]
    i = lines.index(next(ln for ln in lines if ln.strip() == "lnsig_e"))
    assert lines[i - 1] == lines[0]                                # a rule before each equation
    b, se = _b_se(res, "_cons", "lnsig_e")
    assert lines[i + 1].split()[-1] == estout_a(b) + "*"
    assert lines[i + 2].strip() == "(0.000)"
    assert "" not in lines[:-2]                                    # nogaps
    assert lines[-1] == "+ p<0.10, * p<0.05" and lines[-2] == "p-values in parentheses"


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.tag = [], None

    def handle_starttag(self, tag, attrs):
        self.tag = tag

    def handle_data(self, data):
        if self.tag in ("td", "th") and data.strip():
            self.cells.append(data.strip())


def test_files(hsb, tmp_path):
    ok(hsb, "eststo: quietly regress mathach ses")
    ok(hsb, "eststo: quietly mixed mathach ses || id:")
    b, se = _b_se(hsb.estimates["est1"], "ses")
    t = f"({b / se:.2f})"
    f = tmp_path / "t"
    for ext in ("csv", "html", "md", "tex", "rtf", "txt"):
        assert ok(hsb, f"esttab using {f}.{ext}, replace") == f"(output written to {f}.{ext})\n"
    rows = list(csv.reader(Path(f"{f}.csv").read_text().splitlines()))
    assert rows[0] == [] and rows[1] == ['=""', '="(1)"', '="(2)"']      # esttab's top gap
    ses = next(r for r in rows if r and r[0] == '="ses"')
    assert ses[1] == f'="{estout_a(b)}***"'
    p = _Cells()
    p.feed(Path(f"{f}.html").read_text())
    assert estout_a(b) in p.cells and t in p.cells
    assert estout_a(b) + "<sup>***</sup>" in Path(f"{f}.html").read_text()          # esttab's html stars
    md = [ln for ln in Path(f"{f}.md").read_text().splitlines() if ln.startswith("|")]
    # estout's mmd style: "| " begin, " | " delimiter, the alignment row after the head
    assert all(ln.count("|") == 4 for ln in md) and md[2] == "| " + "-" * 12 + (" | :" + "-" * 27 + ":") * 2 + " |"
    assert any(estout_a(b) + r"<sup>\*\*\*</sup>" in ln for ln in md)
    tex = Path(f"{f}.tex").read_text()
    assert r"\begin{tabular}{l*{2}{c}}" in tex and estout_a(b) + r"\sym{***}" in tex
    assert r"lns1\_1\_1" in tex
    assert Path(f"{f}.rtf").read_text().startswith(r"{\rtf1")
    txt = Path(f"{f}.txt").read_text()
    assert txt == ok(hsb, "esttab").lstrip("\n")
    # append adds to the file; without replace/append an existing file is kept (r(602))
    ok(hsb, f"esttab est1 using {f}.txt, append")
    assert Path(f"{f}.txt").read_text().startswith(txt) and len(Path(f"{f}.txt").read_text()) > len(txt)
    rc, out = run(hsb, f"esttab using {f}.csv")
    assert rc == 602 and out.splitlines()[0] == f"file {f}.csv already exists"
    # no suffix: plain text, .txt added
    ok(hsb, f"esttab using {tmp_path / 'plain'}")
    assert (tmp_path / "plain.txt").exists()


def test_esttab_errors(hsb):
    ok(hsb, "eststo: quietly regress mathach ses")
    for line, rc, msg in (("esttab nosuch", 111, "estimation result nosuch not found"),
                          ("esttab, foo", 198, "option foo not allowed"),
                          ("esttab, se p", 198, "only one allowed of z, se, p, ci, and aux()"),
                          ("esttab, star(* 0.01 ** 0.05)", 198, None),
                          ("esttab, star(* x)", 7, None),
                          ("esttab, b(%zz)", 198, None),
                          ("esttab [fw=female]", 101, "weights not allowed")):
        got, out = run(hsb, line)
        assert got == rc, (line, out)
        if msg:
            assert out.splitlines()[-2] == msg
    assert run(Session(), "esttab")[0] == 301


def test_eststo_in_loops_and_capture(hsb, tmp_path):
    do = tmp_path / "t.do"
    do.write_text("eststo clear\nforeach v in ses female {\n    eststo: quietly regress mathach `v'\n}\n"
                  "capture eststo: regress mathach nosuch\nscalar rc = _rc\n"
                  "eststo m_`=1+1': quietly mixed mathach ses || id:\n")
    ok(hsb, f"do {do}")
    assert hsb.globals["eststo"] == "est1 est2 m_2" and hsb.scalars["rc"] == 111
    out = ok(hsb, "esttab, p")
    assert "***" in out.split("N ")[0] and out.rstrip().endswith("* p<0.05, ** p<0.01, *** p<0.001")
    # rows: a model's new first coefficient goes before the later ones already there
    labels = [ln[:12].strip() for ln in out.splitlines()]
    assert labels.index("ses") < labels.index("female") < labels.index("_cons")
    assert ok(hsb, "eststo drop est1") == "(est1 dropped)\n" and hsb.globals["eststo"] == "est2 m_2"


def test_base_levels_as_estout_shows_them(hsb):
    """estout keeps base levels and omitted terms (b 0, t missing), markers stripped
    (estout.ado, estout_omitted_and_base): 0b.sector -> 0.sector."""
    ok(hsb, "quietly regress mathach i.sector ses")
    res = hsb.e
    lines = ok(hsb, "esttab").splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("0.sector"))
    assert lines[i].split() == ["0.sector", "0"] and lines[i + 1].strip() == "(.)"
    b, se = _b_se(res, "1.sector")
    assert lines[i + 3].split() == ["1.sector", estout_a(b) + "***"]
    assert not any(ln.startswith("0.sector") for ln in ok(hsb, "esttab, nobaselevels").splitlines())


def test_estout_default_and_cells(hsb, tmp_path):
    """estout's smcl default (estout.ado): varwidth 12, " " + 12-wide cells, rules at the top,
    under the header and at the bottom; model names, then the cells' element names; b in %9.0g
    (the example in estout's estadd page: `weight   .4602192   .9129516`)."""
    ok(hsb, "quietly regress mathach ses")
    ok(hsb, "estimates store model1")
    ok(hsb, "quietly regress mathach ses female")
    ok(hsb, "estimates store model2")
    from hlmshell.output.numfmt import fmt
    lines = ok(hsb, "estout model1 model2").strip("\n").splitlines()
    m1, m2 = hsb.estimates["model1"], hsb.estimates["model2"]
    assert lines[0] == "-" * 38 and lines[3] == "-" * 38 and lines[-1] == "-" * 38
    assert lines[1] == " " * 12 + " " + "model1".rjust(12) + " " + "model2".rjust(12)
    assert lines[2] == " " * 12 + " " + "b".rjust(12) + " " + "b".rjust(12)
    b1, b2 = _b_se(m1, "ses")[0], _b_se(m2, "ses")[0]
    assert lines[4] == "ses".ljust(12) + " " + fmt(b1, "%9.0g").strip().rjust(12) + " " \
        + fmt(b2, "%9.0g").strip().rjust(12)
    assert [ln[:12].strip() for ln in lines[4:7]] == ["ses", "female", "_cons"]
    out = ok(hsb, "estout model2, cells(b(star fmt(3)) se(par fmt(3))) stats(N ll)")
    b, se = _b_se(m2, "female")
    i = next(k for k, ln in enumerate(out.splitlines()) if ln.startswith("female"))
    assert out.splitlines()[i].split() == ["female", f"{b:.3f}***"]
    assert out.splitlines()[i + 1].strip() == f"({se:.3f})"
    f = tmp_path / "eo.txt"
    ok(hsb, f"estout model1 using {f}")
    assert f.read_text().splitlines()[:2] == ["\tmodel1", "\tb"]          # tab style in a file
    for line, rc in (("estout, cells(foo)", 198), ("estout, style(foo)", 601), ("estout nosuch", 111)):
        assert run(hsb, line)[0] == rc


def test_t_switch_with_se_shows_standard_errors(hsb):
    """`esttab, b(3) se(3) t` (a public do-file): t is esttab's default switch, se decides."""
    ok(hsb, "eststo m1: quietly regress mathach ses female")
    a = ok(hsb, "esttab m1, b(3) se(3) t")
    b = ok(hsb, "esttab m1, b(3) se(3)")
    assert a == b
    _, se = _b_se(hsb.estimates["m1"], "ses")
    assert f"({se:.3f})" in a
    assert run(hsb, "esttab m1, se z")[0] == 198
