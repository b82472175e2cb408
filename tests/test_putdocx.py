"""putdocx: the saved .docx is a valid package whose XML holds the paragraphs, styles and the
estimation table in order; bad input leaves the document in memory and files unchanged.

The etable cells are checked against an independent least-squares fit (numpy), not against
hlmshell's own regress output."""
import json
import math
import os
import zipfile
import xml.etree.ElementTree as ET

from pathlib import Path

import numpy as np
import pytest

from hsb_fixtures import df, s  # noqa: F401
from session_run import ok, run

DATA = Path(__file__).parent / "data" / "putdocx"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _doc(path):
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml",
                "word/_rels/document.xml.rels"} <= names
        styles = ET.fromstring(z.read("word/styles.xml"))
        ids = {st.get(W + "styleId") for st in styles.iter(W + "style")}
        assert {"Title", "Heading1", "Heading2"} <= ids
        return ET.fromstring(z.read("word/document.xml"))


def _blocks(root):
    """[(kind, style, text or rows)] of the body in order."""
    out = []
    for el in root.find(W + "body"):
        if el.tag == W + "p":
            st = el.find(f"{W}pPr/{W}pStyle")
            text = "".join(t.text or "" for t in el.iter(W + "t"))
            if text or st is not None:
                out.append(("p", st.get(W + "val") if st is not None else "", text))
        elif el.tag == W + "tbl":
            rows = [["".join(t.text or "" for t in tc.iter(W + "t")) for tc in tr.iter(W + "tc")]
                    for tr in el.iter(W + "tr")]
            out.append(("tbl", "", rows))
    return out


def test_paragraphs_styles_and_etable(s, df, tmp_path):  # noqa: F811
    path = tmp_path / "res.docx"
    ok(s, "regress mathach ses female")
    ok(s, "putdocx begin")
    ok(s, "putdocx paragraph, style(Title)")
    ok(s, 'putdocx text ("Multilevel <results> & more")')
    ok(s, "putdocx paragraph, style(Heading1) halign(center)")
    ok(s, 'putdocx text ("Model 1: "), bold')
    ok(s, "putdocx text (1+1)")
    ok(s, 'putdocx table m1 = etable, title("OLS") note("SE in parentheses" " here.")')
    ok(s, "putdocx pagebreak")
    ok(s, "putdocx paragraph, style(Heading2)")
    ok(s, 'putdocx text ("End")')
    out = ok(s, f'putdocx save "{path}"')
    assert "successfully created" in out
    assert getattr(s, "putdocx", None) is None          # save closes the document
    blocks = _blocks(_doc(path))
    assert blocks[0] == ("p", "Title", "Multilevel <results> & more")
    assert blocks[1] == ("p", "Heading1", "Model 1: 2")
    assert blocks[3] == ("p", "Heading2", "End")
    kind, _, rows = blocks[2]
    assert kind == "tbl"
    assert rows[0] == ["OLS"] and rows[-1] == ["SE in parentheses here."]
    assert rows[1] == ["mathach", "Coefficient", "Std. err.", "t", "P>|t|", "[95% conf.", "interval]"]
    assert [r[0] for r in rows[2:-1]] == ["ses", "female", "_cons"]
    # independent OLS
    X = np.column_stack([df.ses, df.female, np.ones(len(df))])
    y = df.mathach.to_numpy()
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ b
    V = (e @ e) / (len(y) - 3) * np.linalg.inv(X.T @ X)
    se = np.sqrt(np.diag(V))
    got = np.array([[float(x) for x in r[1:3]] for r in rows[2:-1]])
    np.testing.assert_allclose(got[:, 0], b, rtol=1e-6)
    np.testing.assert_allclose(got[:, 1], se, rtol=1e-6)
    from scipy import stats
    lo = b - stats.t.ppf(0.975, len(y) - 3) * se
    np.testing.assert_allclose([float(r[5]) for r in rows[2:-1]], lo, rtol=1e-6)


def test_mixed_etable_has_variance_rows(s, tmp_path):  # noqa: F811
    """Cells against lme4 (ML): tests/data/putdocx/mixed_ri_lme4.R."""
    ref = json.loads((DATA / "mixed_ri_lme4.json").read_text())
    path = tmp_path / "m.docx"
    ok(s, "mixed mathach ses || id:")
    ok(s, "putdocx begin")
    ok(s, "putdocx table m = etable, nformat(%12.8g)")
    ok(s, f'putdocx save "{path}"')
    rows = _blocks(_doc(path))[0][2]
    assert [r[0] for r in rows] == ["mathach", "ses", "_cons", "id: var(_cons)", "var(e)"]
    val = {r[0]: [float(x) if x else None for x in r[1:]] for r in rows[1:]}
    assert val["ses"][0] == pytest.approx(ref["b"][1], rel=1e-4)
    assert val["_cons"][0] == pytest.approx(ref["b"][0], rel=1e-4)
    assert val["ses"][1] == pytest.approx(ref["se"][1], rel=1e-3)
    assert val["_cons"][1] == pytest.approx(ref["se"][0], rel=1e-3)
    assert val["id: var(_cons)"][0] == pytest.approx(ref["var_cons"], rel=1e-4)
    assert val["var(e)"][0] == pytest.approx(ref["var_e"], rel=1e-4)
    v, se, _, _, lo, hi = val["var(e)"]
    assert v == pytest.approx(math.sqrt(lo * hi), rel=1e-6)      # CI symmetric in log(var)
    assert val["var(e)"][2] is None and val["var(e)"][3] is None


def test_matrix_and_cells(s, tmp_path):  # noqa: F811
    path = tmp_path / "t.docx"
    ok(s, "matrix M = (1.234,2\\3,.)")
    ok(s, "matrix rownames M = a b")
    ok(s, "matrix colnames M = x y")
    ok(s, "putdocx begin")
    ok(s, "putdocx table t = matrix(M), rownames colnames nformat(%5.2f)")
    ok(s, "putdocx table u = (2,3)")
    ok(s, 'putdocx table u(2,3) = ("last"), bold')
    ok(s, "putdocx table u(1,1) = (2*21)")
    out = ok(s, "putdocx describe")
    assert "Tables" in out and "u" in out
    ok(s, f'putdocx save "{path}"')
    b = _blocks(_doc(path))
    assert b[0][2] == [["", "x", "y"], ["a", "1.23", "2.00"], ["b", "3.00", "."]]
    assert b[1][2] == [["42", "", ""], ["", "", "last"]]


def test_replace_append_and_errors_leave_state(s, tmp_path):  # noqa: F811
    path = tmp_path / "a.docx"
    assert run(s, "putdocx paragraph")[0] == 198           # no document yet
    assert run(s, f'putdocx save "{path}"')[0] == 198
    ok(s, "putdocx begin")
    assert run(s, "putdocx begin")[0] == 110
    assert run(s, 'putdocx text ("x")')[0] == 198          # no paragraph yet
    ok(s, "putdocx paragraph")
    ok(s, 'putdocx text ("one")')
    before = s.putdocx
    for bad in ('putdocx text "no parens"', 'putdocx text ("a"), bogus', "putdocx paragraph, style(Nope)",
                "putdocx paragraph, halign(middle)", "putdocx table t = matrix(NOSUCH)",
                "putdocx table t = (0,2)", 'putdocx table zz(1,1) = ("a")', "putdocx table t = etable",
                "putdocx text (nosuchvar_xyz)", "putdocx frobnicate"):
        rc, out = run(s, bad)
        assert rc not in (0, 9999) and "Traceback" not in out, (bad, out)
        assert s.putdocx is before, bad
    ok(s, f'putdocx save "{path}"')
    data = path.read_bytes()
    ok(s, "putdocx begin")
    ok(s, "putdocx paragraph")
    ok(s, 'putdocx text ("two")')
    rc, out = run(s, f'putdocx save "{path}"')
    assert rc == 602 and path.read_bytes() == data
    assert run(s, f'putdocx save "{path}", replace append')[0] == 198
    assert path.read_bytes() == data and s.putdocx is not None
    ok(s, f'putdocx save "{path}", append')
    assert [b[2] for b in _blocks(_doc(path))] == ["one", "two"]
    ok(s, "putdocx begin")
    ok(s, "putdocx paragraph")
    ok(s, 'putdocx text ("three")')
    ok(s, f'putdocx save "{path}", replace')
    assert [b[2] for b in _blocks(_doc(path))] == ["three"]
    ok(s, "putdocx begin")
    ok(s, "putdocx clear")
    assert s.putdocx is None
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".hlmtmp")]
