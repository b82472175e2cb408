"""Statements from a sixth sample of public do-files that hlmshell refused: `#delimit;`
without a blank, `capture` around a malformed by-prefix, J() filled with missing values, the
display options nofvlabel / baselevels on regress, logit and melogit (exponentiated base rows
read `1  (base)`), and mi estimate's reporting options or/irr/baselevels."""
import math
import re

import numpy as np
import pytest

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.hsb_fixtures import HSB
from tests.session_run import ok, run


def hsb_session():
    s = Session(Capture())
    ok(s, f'use "{HSB}"')
    return s


def test_delimit_semicolon_without_a_blank():
    s = Session(Capture())
    rc = Interpreter(s).run_text('#delimit;\ndisplay "a"\n  + "b";\n#delimit cr\ndisplay "c"\n')
    out = s.out.getvalue()
    assert rc == 0, out
    assert "delimiter now ;" in out and re.search(r"^ab$", out, re.M) and re.search(r"^c$", out, re.M)


def test_capture_catches_a_by_prefix_without_colon():
    s = hsb_session()
    ok(s, "capture bysort sector egen m = mean(ses)")
    assert ok(s, "display _rc").strip() == "198"
    assert "m" not in s.data.names
    rc, out = run(s, "bysort sector egen m = mean(ses)")
    assert rc == 198


def test_J_with_missing_values():
    s = Session(Capture())
    ok(s, "matrix b = J(1, 4, .)")
    vals = s.matrices["b"].values
    assert vals.shape == (1, 4) and np.all(np.isnan(vals))
    ok(s, "matrix c = J(2, 2, .a)")
    assert np.all(np.isnan(s.matrices["c"].values))


def test_regress_nofvlabel_shows_level_numbers():
    s = hsb_session()
    ok(s, 'label define sec 0 "Public" 1 "Catholic"')
    ok(s, "label values sector sec")
    labelled = ok(s, "regress mathach ses i.sector")
    assert "Catholic" in labelled
    plain = ok(s, "regress mathach ses i.sector, nofvlabel")
    assert "Catholic" not in plain and re.search(r"^\s+1\.sector \|", plain, re.M)
    assert "Catholic" not in ok(s, "regress, nofvlabel")


def test_logit_baselevels_and_exponentiated_base_rows():
    s = hsb_session()
    out = ok(s, "logit minority ses i.sector, baselevels nolog")
    assert re.search(r"^\s+0  \|\s+0  \(base\)$", out, re.M)
    b = {nm: float(v) for (_, nm), v in zip(s.e.names, np.ravel(s.e.b))}
    out = ok(s, "logit minority ses i.sector, or base nolog")
    lines = out.splitlines()
    base_row = next(i for i, ln in enumerate(lines) if "(base)" in ln)
    assert re.fullmatch(r"\s+0  \|\s+1  \(base\)", lines[base_row])
    # Stata's blank `|` line after a multi-line factor group, before _cons
    cons = next(i for i, ln in enumerate(lines) if ln.strip().startswith("_cons"))
    assert lines[cons - 1].strip() == "|"
    row1 = next(ln for ln in lines[base_row + 1:] if ln.strip().startswith("1  |"))
    assert float(row1.split("|")[1].split()[0]) == pytest.approx(math.exp(b["1.sector"]), rel=1e-6)


def test_melogit_base():
    s = hsb_session()
    out = ok(s, "melogit minority ses i.sector || id:, base")
    assert re.search(r"^\s+0  \|\s+0  \(base\)$", out, re.M)


def test_mi_estimate_or_irr_base():
    s = hsb_session()
    for line in ("set seed 1", "replace ses = . if runiform() < 0.1", "mi set wide",
                 "mi register imputed ses", "mi impute regress ses mathach minority, add(3) rseed(2)"):
        ok(s, line)
    ok(s, "mi estimate: logit minority ses i.sector")
    b = np.ravel(s.e.b).astype(float)
    se = np.sqrt(np.diag(s.e.V))
    out = ok(s, "mi estimate, or baselevels: logit minority ses i.sector")
    assert "Odds ratio" in out and "(base)" in out
    ses_row = next(ln for ln in out.splitlines() if ln.strip().startswith("ses |"))
    cells = [float(x) for x in ses_row.split("|")[1].split()]
    assert cells[0] == pytest.approx(math.exp(b[0]), rel=1e-5)
    assert cells[1] == pytest.approx(math.exp(b[0]) * se[0], rel=1e-5)
    assert "IRR" in ok(s, "mi estimate, irr: poisson minority ses")
    assert run(s, "mi estimate, bogus: logit minority ses")[0] == 198


def test_matrix_names_may_be_quoted_with_blanks():
    s = Session(Capture())
    ok(s, "matrix A = (1, 2 \\ 3, 4)")
    ok(s, 'matrix rownames A = "Patient intercept" "Hospice intercept"')
    ok(s, 'matrix colnames A = "Std. err." b')
    m = s.matrices["A"]
    assert m.rownames == ["Patient intercept", "Hospice intercept"]
    assert m.colnames == ["Std. err.", "b"]
    assert run(s, 'matrix rownames A = "a" "b" "c"')[0] == 503
