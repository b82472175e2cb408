"""What a sweep of the Stata 17 [ME] manual's example lines found missing or broken, fixed:
estat icc after mecloglog, meologit and meoprobit (latent residual variance pi^2/6, pi^2/3,
1), ... The variances are checked against lme4::glmer / ordinal::clmm fits
(tests/data/me_manual/make_icc_reference.R), the ICCs recomputed from them by hand."""
import json
import math
import os

import pytest

from session_run import csv_session, ok, run

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "me_manual", "icc_reference.json")))


def _icc_check(s, var, c, rel):
    names = [f"{e}:{n}" for e, n in s.e.names]
    j = names.index("/:var(_cons[district])")
    v, sv = float(s.e.b[j]), math.sqrt(s.e.V[j, j])
    assert v == pytest.approx(var, rel=rel)
    out = ok(s, "estat icc")
    assert "Residual intraclass correlation" in out and "district |" in out
    assert s.r.scalars["icc2"] == pytest.approx(var / (var + c), rel=rel)
    assert s.r.scalars["se2"] == pytest.approx(sv * c / (v + c) ** 2, rel=1e-10)
    assert s.r.macros["label2"] == "district"
    lo, hi = s.r.matrices["ci2"][0]
    assert lo < s.r.scalars["icc2"] < hi


def test_estat_icc_after_mecloglog_uses_the_extreme_value_variance():
    s = csv_session("tests/data/glmm/contraception.csv")
    ok(s, "mecloglog use age urban || district:, intmethod(mcaghermite) intpoints(25) nolog")
    assert s.e.scalars["ll"] == pytest.approx(REF["cloglog_ll"], rel=1e-9)
    _icc_check(s, REF["cloglog_var"], math.pi ** 2 / 6, 1e-4)


def test_estat_icc_after_ordinal_models():
    s = csv_session("tests/data/glmm/ordinal.csv")
    ok(s, "meoprobit y age urban || district:, intmethod(laplace) nolog")
    assert s.e.scalars["ll"] == pytest.approx(REF["oprobit_ll"], rel=1e-9)
    _icc_check(s, REF["oprobit_var"], 1.0, 1e-4)
    ok(s, "meologit y age urban || district:, intmethod(laplace) nolog")
    _icc_check(s, 0.3701014586, math.pi ** 2 / 3, 1e-4)    # clmm's, test_me_commands.py
    ok(s, "meologit y age urban || district: age, intmethod(laplace) nolog")
    out = ok(s, "estat icc")
    assert "Conditional intraclass correlation" in out
    rc, _ = run(s, "estat icc, level(200)")
    assert rc == 198


def test_noheader_and_nogroup_after_me_commands():
    """[ME] meglm's display options: nogroup drops the group lines of the header, noheader all
    of it; both also on replay, and the table is the same."""
    s = csv_session("tests/data/glmm/contraception.csv")
    full = ok(s, "melogit use age urban || district:, nolog")
    b = s.e.b.copy()
    out = ok(s, "melogit use age urban || district:, nolog nogroup")
    assert "Group variable" not in out and "Obs per group" not in out
    assert "Integration method: mvaghermite" in out and "Log likelihood" in out
    assert (s.e.b == b).all()
    tail = full[full.index("-------"):]
    assert out[out.index("-------"):] == tail
    out = ok(s, "melogit, noheader")
    assert "Number of obs" not in out and "Integration method" not in out
    assert out.strip().startswith("-------") and out[out.index("-------"):] == tail
    out = ok(s, "melogit use age urban || district: || _all: R.urban, nolog nogr intmethod(laplace)")
    assert "No. of" not in out and "Integration method: laplace" in out
    rc, out = run(s, "melogit use age urban || district:, nolog noheaderx")
    assert rc == 198
