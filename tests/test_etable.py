"""etable (Stata 17): numbers from e(b)/e(V)/e(), layout, exports, errors.

Reference layout: [TABLES] etable (Stata 17 manual) -- a rule, the column header (the
dependent variable's label by default), a rule, each coefficient's _r_b with its _r_se in
parentheses below, `Intercept` for _cons, the random-effects parameters of mixed as
variances under their level (var(_cons), var(e)), `Number of observations`, a rule, notes.
"""
from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser

import numpy as np
import pytest

from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture(scope="module")
def hsb():
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly mixed mathach ses || id:")
    ok(s, "estimates store m1")
    ok(s, "quietly regress mathach ses female")
    ok(s, "estimates store m2")
    return s


def _b_se(res, name, eq=None):
    j = res.coef_index(eq, name)
    return float(res.b[j]), math.sqrt(float(np.asarray(res.V)[j, j]))


def _lines(out):
    return out.rstrip("\n").split("\n")


def test_default_active_results_layout(hsb):
    out = ok(hsb, "etable")
    lines = _lines(out)
    res = hsb.e                                           # regress mathach ses female
    b, se = _b_se(res, "ses")
    assert set(lines[0]) == {"-"} and lines[2] == lines[0] and lines[-1] == lines[0]
    assert lines[1].strip() == "mathematics achievement score"     # the depvar's label
    row = next(i for i, ln in enumerate(lines) if ln.startswith("socio-economic status"))
    assert lines[row].split()[-1] == f"{b:.3f}"
    assert lines[row + 1].strip() == f"({se:.3f})"
    assert lines[-3].startswith("Intercept") or lines[-4].startswith("Intercept")
    n_line = lines[-2]
    assert n_line.startswith("Number of observations") and n_line.split()[-1] == str(int(res.scalars["N"]))
    # every line as wide as the rules
    assert all(len(ln) <= len(lines[0]) for ln in lines)


def test_mixed_random_effects_as_variances(hsb):
    out = ok(hsb, "etable, estimates(m1) novarlabel")
    res = hsb.estimates["m1"]
    lines = _lines(out)
    b, se = _b_se(res, "_cons", "lns1_1_1")
    var = math.exp(2 * b)
    i = lines.index("id")
    assert lines[i + 1].startswith("  var(_cons)") and lines[i + 1].split()[-1] == f"{var:.3f}"
    assert lines[i + 2].strip() == f"({2 * var * se:.3f})"                # delta method
    be, see = _b_se(res, "_cons", "lnsig_e")
    j = next(k for k, ln in enumerate(lines) if ln.startswith("var(e)"))
    assert lines[j].split()[-1] == f"{math.exp(2 * be):.3f}"
    assert lines[j + 1].strip() == f"({2 * math.exp(2 * be) * see:.3f})"
    assert "lns1_1_1" not in out and "lnsig_e" not in out
    assert lines[1].strip() == "mathach"                 # novarlabel: names
    assert any(ln.startswith("_cons") for ln in lines)


def test_two_models_stars_and_stats(hsb):
    out = ok(hsb, "etable, estimates(m1 m2) mstat(N) mstat(ll) mstat(aic) mstat(bic) showstars showstarsnote column(estimates)")
    lines = _lines(out)
    assert lines[1].split() == ["m1", "m2"]
    assert lines[-1] == "*** p<.001, ** p<.01, * p<.05"
    m1, m2 = hsb.estimates["m1"], hsb.estimates["m2"]
    ll = next(ln for ln in lines if ln.startswith("Log likelihood")).split()[-2:]
    assert ll == [f"{m1.scalars['ll']:.3f}", f"{m2.scalars['ll']:.3f}"]
    aic = next(ln for ln in lines if ln.startswith("AIC")).split()[-2:]
    assert aic == [f"{-2 * m.scalars['ll'] + 2 * m.scalars['rank']:.3f}" for m in (m1, m2)]
    bic = next(ln for ln in lines if ln.startswith("BIC")).split()[-2:]
    assert bic == [f"{-2 * m.scalars['ll'] + math.log(m.scalars['N']) * m.scalars['rank']:.3f}" for m in (m1, m2)]
    fem = next(ln for ln in lines if ln.startswith("1 if student is female"))
    assert fem.split()[-1].endswith("***")              # only m2 has female
    # Intercept after the other fixed coefficients, before the random part
    labs = [ln[:10] for ln in lines]
    assert labs.index("Intercept ") > labs.index("1 if stude")


def test_cstat_keep_drop_column_index(hsb):
    out = ok(hsb, "etable, estimates(m2) cstat(_r_b) cstat(_r_z) keep(ses) column(index)")
    res = hsb.estimates["m2"]
    b, se = _b_se(res, "ses")
    lines = _lines(out)
    assert lines[1].strip() == "1"
    body = lines[3:-1]
    assert body[0].split()[-1] == f"{b:.3f}" and body[1].strip() == f"{b / se:.2f}"
    assert not any("Intercept" in ln for ln in body)
    out = ok(hsb, "etable, estimates(m2) drop(_cons female) cstat(_r_b, nformat(%9.2f))")
    assert "Intercept" not in out and "female" not in out and f"{b:.2f}" in out


def test_append_adds_columns(hsb):
    ok(hsb, "etable, estimates(m1)")
    out = ok(hsb, "etable, estimates(m2) append column(estimates)")
    assert _lines(out)[1].split() == ["m1", "m2"]


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        if self.tags and self.tags[-1] in ("td", "th") and data.strip():
            self.cells.append(data.strip())


def test_exports_parse(hsb, tmp_path):
    res = hsb.estimates["m2"]
    b, se = _b_se(res, "ses")
    base = tmp_path / "t"
    for ext in ("md", "html", "tex", "docx", "xlsx", "txt"):
        out = ok(hsb, f"etable, estimates(m1 m2) export({base}.{ext}, replace)")
        assert f"(collection ETable exported to file {base}.{ext})" in out
    md = (tmp_path / "t.md").read_text().splitlines()
    rows = [ln for ln in md if ln.startswith("|")]
    assert rows[1].startswith("|:---|") and all(r.count("|") == rows[0].count("|") for r in rows)
    assert any(f"| {b:.3f} |" in r for r in rows)
    p = _Cells()
    p.feed((tmp_path / "t.html").read_text())
    assert f"{b:.3f}" in p.cells and f"({se:.3f})" in p.cells and "var(e)" in p.cells
    tex = (tmp_path / "t.tex").read_text()
    assert r"\begin{tabular}{l*{2}{c}}" in tex and r"\end{tabular}" in tex and r"\end{document}" in tex
    assert re.search(r"var\(\\_cons\)", tex)
    body = [ln for ln in tex.splitlines() if ln.endswith(r"\\") and "&" in ln]
    assert all(ln.count("&") == 2 for ln in body)
    import pandas as pd
    df = pd.read_excel(tmp_path / "t.xlsx", header=None, dtype=str).fillna("")
    assert f"{b:.3f}" in df.values and "Number of observations" in df[0].values
    with zipfile.ZipFile(tmp_path / "t.docx") as z:
        assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml"} <= set(z.namelist())
        root = ET.fromstring(z.read("word/document.xml"))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    texts = [t.text for t in root.iter(f"{w}t")]
    assert root.find(f"{w}body/{w}tbl") is not None and f"{b:.3f}" in texts and "var(e)" in texts
    assert (tmp_path / "t.txt").read_text().splitlines()[0].startswith("----")


def test_export_as_type_and_column_abbreviation(hsb, tmp_path):
    """export(file, as(markdown) replace) writes the named type whatever the suffix;
    column(estimate) is column(estimates) spelled short (both as seen in real do-files)."""
    res = hsb.estimates["m2"]
    b, _ = _b_se(res, "ses")
    f = tmp_path / "table.out"
    out = ok(hsb, f'etable, estimates(m1 m2) column(estimate) export("{f}", as(markdown) replace)')
    rows = [ln for ln in f.read_text().splitlines() if ln.startswith("|")]
    assert rows[1].startswith("|:---|") and any(f"| {b:.3f} |" in r for r in rows)
    assert rows[0].split("|")[2:4] == [" m1 ", " m2 "]
    assert out.splitlines()[1].split() == ["m1", "m2"]
    ok(hsb, f'etable, estimates(m2) export("{f}", as(html) replace)')
    assert f.read_text().lstrip().lower().startswith(("<!doctype html", "<html", "<table"))
    rc, _ = run(hsb, f'etable, estimates(m2) export("{f}", as(pdfx) replace)')
    assert rc == 198
    rc, _ = run(hsb, "etable, estimates(m2) column(de)")
    assert rc == 198


def test_errors_leave_session_alone(hsb, tmp_path):
    before = (hsb.e, dict(hsb.estimates), dict(hsb.globals))
    cases = [("etable, estimates(nosuch)", 111, "estimation result nosuch not found"),
             ("etable, nosuchopt", 198, "option nosuchopt not allowed"),
             ("etable, cstat(_r_foo)", 198, None),
             ("etable, column(foo)", 198, None),
             ("etable, export(x.pdf)", 198, None),
             ("etable, stars(.05)", 198, None),
             ("etable ses", 198, "invalid syntax"),
             ("etable if ses", 101, "if not allowed")]
    for line, rc, msg in cases:
        got, out = run(hsb, line)
        assert got == rc, (line, out)
        if msg:
            assert out.splitlines()[-2] == msg
    f = tmp_path / "keep.md"
    f.write_text("old")
    rc, out = run(hsb, f"etable, export({f})")
    assert rc == 602 and f.read_text() == "old"
    assert (hsb.e, dict(hsb.estimates), dict(hsb.globals)) == before
    empty = Session()
    rc, out = run(empty, "etable")
    assert rc == 301


def test_factor_levels_under_their_variable(tmp_path):
    s = Session()
    ok(s, "use hsb")
    ok(s, "label define sec 0 public 1 Catholic")
    ok(s, "label values sector sec")
    ok(s, "quietly regress mathach i.sector ses")
    lines = _lines(ok(s, "etable"))
    b, se = _b_se(s.e, "1.sector")
    i = lines.index("1 if Catholic school, 0 if public")
    assert lines[i + 1].startswith("  Catholic") and lines[i + 1].split()[-1] == f"{b:.3f}"
    assert not any("public" in ln.split()[:1] for ln in lines)          # no base level row
