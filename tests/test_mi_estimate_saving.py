"""mi estimate, saving(miestfile[, replace]) and mi estimate using miestfile
(hlmshell/commands/mi_estimate.py, results/mi_ster.py): the five fixed imputations of
tests/data/mi/mi_fixed.csv, brought in with mi import wide; the combined results of the saved
fits against R's Rubin's rules (mi_fixed_expected.json, tests/data/mi/mi_fixed.R), and a
subset of imputations against Rubin's rules on numpy OLS fits computed here."""
import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "mi", "mi_fixed_expected.json")))


@pytest.fixture()
def s(tmp_path, monkeypatch):
    s = csv_session("tests/data/mi/mi_fixed.csv", "clear asdouble numericcols(5)")
    ok(s, "mi import wide, imputed(y = y1 y2 y3 y4 y5) drop")
    monkeypatch.chdir(tmp_path)
    return s


def _rubin(s, ms):
    d = s.data
    x = np.asarray(d.var("x").values, float)
    z = np.asarray(d.var("z").values, float)
    X = np.column_stack([x, z, np.ones(len(x))])
    qs, ws = [], []
    for m in ms:
        y = np.asarray(d.var(f"_{m}_y").values, float)
        b, *_ = np.linalg.lstsq(X, y, rcond=None)
        e = y - X @ b
        qs.append(b)
        ws.append(e @ e / (len(y) - 3) * np.linalg.inv(X.T @ X))
    M = len(ms)
    return np.mean(qs, 0), np.mean(ws, 0) + (1 + 1 / M) * np.cov(np.array(qs).T, ddof=1)


def test_saving_then_using(s, tmp_path):
    ok(s, "mi estimate, saving(out): regress y x z")
    assert (tmp_path / "out.ster").is_file()
    rc, out = run(s, "mi estimate, saving(out): regress y x z")
    assert rc == 602 and "already exists" in out
    ok(s, "mi estimate, saving(out, replace): regress y x z")
    ok(s, "regress y x z")                       # something else active
    out = ok(s, "mi estimate using out")
    ref = REF["regress"]
    e = s.e
    assert e.cmd == "mi estimate" and "Imputations       =          5" in out
    np.testing.assert_allclose(np.asarray(e.b).ravel(), ref["b"], rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(e.V)), ref["se"], rtol=1e-6)
    np.testing.assert_allclose(e.matrices["df_mi"].ravel(), ref["df"], rtol=1e-6)


def test_using_subset_and_options(s):
    ok(s, "quietly mi estimate, saving(fits): regress y x z")
    out = ok(s, "mi estimate using fits, imputations(1 2 3) level(90) vartable")
    b, V = _rubin(s, [1, 2, 3])
    e = s.e
    np.testing.assert_allclose(np.asarray(e.b).ravel(), b, rtol=1e-8)
    np.testing.assert_allclose(np.diag(e.V), np.diag(V), rtol=1e-8)
    assert "Imputations       =          3" in out and "[90% conf. interval]" in out
    assert "Variance information" in out
    ok(s, "mi estimate using fits, nimputations(2)")
    np.testing.assert_allclose(np.asarray(s.e.b).ravel(), _rubin(s, [1, 2])[0], rtol=1e-8)


@pytest.mark.parametrize("line,rc", [
    ("mi estimate using nosuch", 601),
    ("mi estimate using", 198),
    ("mi estimate using fits, imputations(7)", 125),
    ("mi estimate using fits, nosuchopt", 198),
    ("mi estimate using fits, saving(x)", 198),
    ("mi estimate, saving(a, nosuch): regress y x z", 198),
    ("mi estimate, saving(): regress y x z", 198),
])
def test_refusals(s, line, rc):
    ok(s, "quietly mi estimate, saving(fits): regress y x z")
    before = s.e
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out and s.e is before


def test_not_an_mi_file(s, tmp_path):
    ok(s, "regress y x z")
    ok(s, "estimates save plain")
    rc, out = run(s, "mi estimate using plain")
    assert rc == 610
