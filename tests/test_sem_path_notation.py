"""sem path notation as two public panel / growth do-files write it: options inside a path's
parentheses (`(y <- U@1 x@a _cons@b, var(e.y@c))`), labels shared across equations, and the
group names `_LEx`/`_OEx`/`e._OEn` (any case, abbreviated or spelled out) in cov()/var().
Reference numbers: lavaan, tests/data/sem_path_notation/make_reference.R."""
import json
import os

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

HERE = os.path.dirname(__file__)
REF = json.load(open(os.path.join(HERE, "data", "sem_path_notation", "reference.json")))
FE_DATA = "tests/data/sem_path_notation/mcapsi_wide2.csv"
PANEL_DATA = "tests/data/sem_path_notation/panel_sim.csv"

FE = ("sem " + " ".join(f"(drinkd_{t} <- U@1 cesd_{t}@a _cons@b, var(e.drinkd_{t}@c))"
                        for t in range(1, 5)))
PANEL = ("sem (u@1 x1 z -> y1) (u@1 x2 z -> y2) (u@1 x3 z -> y3) (u@1 x4 z -> y4), "
         "latent(u) cov(_lexogenous*_oexogenous) cov(z*u@0)")


def _param(s, name):
    e = s.e
    j = list(e.names).index(name)
    return float(e.b[j]), float(e.se[j])


def _check(s, name, ref):
    est, se = _param(s, name)
    assert est == pytest.approx(ref[0], rel=2e-5, abs=1e-7), (name, est, ref)
    assert se == pytest.approx(ref[1], rel=2e-4, abs=1e-7), (name, se, ref)


def _fit(s, ref):
    sc = s.e.scalars
    assert sc["N"] == ref["n"]
    assert sc["ll"] == pytest.approx(ref["ll"], rel=1e-8)
    assert sc["chi2_ms"] == pytest.approx(ref["chi2"], abs=1e-4)
    assert sc["df_ms"] == ref["df"]


@pytest.fixture(scope="module")
def fe():
    s = csv_session(FE_DATA)
    ok(s, "quietly " + FE)
    return s


@pytest.fixture(scope="module")
def panel():
    s = csv_session(PANEL_DATA)
    ok(s, "quietly " + PANEL)
    return s


def test_path_options_and_shared_labels_match_lavaan(fe):
    ref = REF["fe"]
    _fit(fe, ref)
    for t in range(1, 5):
        _check(fe, (f"drinkd_{t}", f"cesd_{t}"), ref["a"])
        _check(fe, (f"drinkd_{t}", "_cons"), ref["b"])
        _check(fe, ("/", f"var(e.drinkd_{t})"), ref["c"])
    _check(fe, ("/", "var(U)"), ref["varU"])


def test_path_options_equal_the_same_options_after_the_comma(fe):
    """`(y <- x, var(e.y@c))` is the model `(y <- x), var(e.y@c)`."""
    s = csv_session(FE_DATA)
    paths = " ".join(f"(drinkd_{t} <- U@1 cesd_{t}@a _cons@b)" for t in range(1, 5))
    ok(s, f"quietly sem {paths}, var(e.drinkd_1@c e.drinkd_2@c) var(e.drinkd_3@c e.drinkd_4@c)")
    assert np.allclose(s.e.b, fe.e.b, rtol=1e-7, atol=1e-9)
    assert s.e.scalars["ll"] == pytest.approx(fe.e.scalars["ll"], rel=1e-12)


def test_group_names_in_cov_match_lavaan(panel):
    ref = REF["panel"]
    _fit(panel, ref)
    _check(panel, ("y1", "x1"), ref["y1_x1"])
    _check(panel, ("y2", "z"), ref["y2_z"])
    _check(panel, ("y4", "_cons"), ref["y4_cons"])
    _check(panel, ("/", "var(e.y3)"), ref["var_e_y3"])
    _check(panel, ("/", "var(u)"), ref["var_u"])
    _check(panel, ("/", "cov(x2,u)"), ref["cov_x2_u"])
    _check(panel, ("/", "cov(x1,z)"), ref["cov_x1_z"])
    _check(panel, ("/", "mean(x4)"), ref["mean_x4"])
    assert ("/", "cov(z,u)") not in list(panel.e.names)      # cov(z*u@0) overrides the group


def _built(s, line):
    """The RAM model sem would fit for `line` (no fit): its cells and their parameters."""
    from types import SimpleNamespace

    from hlmshell.commands.sem import read_request
    from hlmshell.commands.sem_build import build
    req, _ = read_request(s, SimpleNamespace(body=line[len("sem "):]))
    return sorted((e.mat, e.i, e.j, e.k, e.value) for e in build(req.spec).model.entries)


@pytest.mark.parametrize("spelling", ["_LEx*_OEx", "_lex*_oex", "_LExogenous*_OExogenous",
                                      "_lexo*_oexog", "_OEx*_LEx"])
def test_group_names_any_case_and_abbreviation(panel, spelling):
    s = csv_session(PANEL_DATA)
    explicit = PANEL.replace("_lexogenous*_oexogenous",
                             "u*x1 u*x2 u*x3 u*x4 u*z")
    want = _built(s, explicit)
    assert _built(s, PANEL.replace("_lexogenous*_oexogenous", spelling)) == want
    assert _built(s, PANEL) == want


def test_error_group_in_var_shares_one_label():
    """var(e._OEn@v): every observed endogenous error variance carries the label v, the same
    model as naming each one."""
    s = csv_session(PANEL_DATA)
    base = "quietly sem (u@1 x1 z -> y1) (u@1 x2 z -> y2) (u@1 x3 z -> y3), latent(u)"
    ok(s, base + " var(e._OEn@v)")
    b1, ll1 = np.array(s.e.b), s.e.scalars["ll"]
    ok(s, base + " var(e.y1@v e.y2@v e.y3@v)")
    assert np.allclose(b1, s.e.b, rtol=1e-6, atol=1e-8)
    assert ll1 == pytest.approx(s.e.scalars["ll"], rel=1e-10)
    v = [_param(s, ("/", f"var(e.y{k})"))[0] for k in (1, 2, 3)]
    assert v[0] == pytest.approx(v[1]) == pytest.approx(v[2])


@pytest.mark.parametrize("line", [
    "sem (y1 <- x1, bogus(1))",
    "sem (y1 <- x1, latent(u))",
    "sem (y1 <- x1, )",
    "sem (y1 <- x1 (x2))",
    "sem (y1 <- x1), var(_OEn)",
    "sem (y1 <- x1), var(e._OEx)",
    "sem (y1 <- x1, var(e.y1@)",
])
def test_bad_path_options_are_r198_and_leave_the_session(panel, line):
    before = panel.e
    rc, out = run(panel, line)
    assert rc == 198, out
    assert "Traceback" not in out
    assert panel.e is before


def test_shared_constraints_across_equations_with_error_group_match_lavaan():
    """Bou & Satorra's multivariate fixed-effects model, written as their do-file does (no
    spaces between the options): one intercept, slope and error variance for all waves."""
    ref = REF["panel_fe"]
    s = csv_session(PANEL_DATA)
    paths = " ".join(f"(_cons@alpha u@1 x{t}@b z@g -> y{t})" for t in range(1, 5))
    ok(s, f"quietly sem {paths}, latent(u) var(e._OEn@e)cov(_lex*_oex)cov(z*u@0)")
    _fit(s, ref)
    for t in range(1, 5):
        _check(s, (f"y{t}", f"x{t}"), ref["b"])
        _check(s, (f"y{t}", "z"), ref["g"])
        _check(s, (f"y{t}", "_cons"), ref["alpha"])
        _check(s, ("/", f"var(e.y{t})"), ref["e"])
    _check(s, ("/", "var(u)"), ref["var_u"])
    _check(s, ("/", "cov(x4,u)"), ref["cov_x4_u"])
