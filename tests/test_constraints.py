"""constraint and constrained estimation (cnsreg; constraints() on logit, probit, poisson and
mlogit) against R fits with the constraints substituted into the model by hand
(tests/data/constraints/constraints_reference.R), and cnsreg against the closed-form restricted
least squares b_c = b - (X'X)^-1 R' (R (X'X)^-1 R')^-1 (R b - r) computed here with numpy."""
import json
import os

import numpy as np
import pytest

from hsb_fixtures import df, s  # noqa: F401
from session_run import ok, run

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "constraints",
                                  "constraints_reference.json")))


def _b_se(s, eq, names):
    e = s.e
    idx = [e.coef_index(eq, nm) for nm in names]
    assert min(idx) >= 0
    return e.b[idx], e.se[idx]


# --------------------------------------------------------------------------- constraint
def test_define_list_drop_get_free(s):
    ok(s, "constraint 1 ses = meanses")
    ok(s, "constraint define 3 [mathach]female = 0")
    ok(s, "cons def 7 ses")
    out = ok(s, "constraint list")
    assert out.splitlines() == ["     1:  ses = meanses", "     3:  [mathach]female = 0", "     7:  ses"]
    assert ok(s, "constraint dir 3").splitlines() == ["     3:  [mathach]female = 0"]
    ok(s, "constraint get 3")
    assert s.r.scalars["defined"] == 1 and s.r.macros["contents"] == "[mathach]female = 0"
    ok(s, "constraint get 2")
    assert s.r.scalars["defined"] == 0 and "contents" not in s.r.macros
    ok(s, "constraint free")
    assert s.r.macros["free"] == "2"
    ok(s, "constraint drop 1, 3")
    assert sorted(s.constraints) == [7]
    ok(s, "constraint drop _all")
    assert s.constraints == {} and ok(s, "constraint list") == ""


@pytest.mark.parametrize("line,rc", [("constraint 0 ses = 0", 198), ("constraint 2000 ses = 0", 198),
                                     ("constraint 1.5 ses = 0", 198), ("constraint 4", 198),
                                     ("constraint drop", 198), ("constraint get", 198),
                                     ("constraint frobnicate", 198), ("constraint drop 1-x", 121)])
def test_constraint_bad_input(s, line, rc):
    ok(s, "constraint 9 ses = 1")
    got, out = run(s, line)
    assert got == rc, out
    assert "Traceback" not in out
    assert s.constraints == {9: "ses = 1"}


# --------------------------------------------------------------------------- cnsreg
def _restricted_ls(df):
    """Closed-form restricted least squares and its variance, independent of the engine."""
    X = np.column_stack([df.ses, df.meanses, df.female, df.minority, np.ones(len(df))])
    y = df.mathach.to_numpy(float)
    R = np.array([[1.0, -1, 0, 0, 0], [1.0, 0, 0, 1, 0]])
    r = np.array([0.0, -3.0])
    XtXi = np.linalg.inv(X.T @ X)
    b = XtXi @ X.T @ y
    M = R @ XtXi @ R.T
    bc = b - XtXi @ R.T @ np.linalg.solve(M, R @ b - r)
    e = y - X @ bc
    s2 = e @ e / (len(y) - X.shape[1] + R.shape[0])
    Vc = s2 * (XtXi - XtXi @ R.T @ np.linalg.solve(M, R @ XtXi))
    return bc, np.sqrt(np.clip(np.diag(Vc), 0, None)), np.sqrt(s2)


def test_cnsreg_against_closed_form_and_r(s, df):
    ok(s, "constraint 1 ses = meanses")
    ok(s, "constraint 3 ses + minority = -3")
    out = ok(s, "cnsreg mathach ses meanses female minority, constraints(1 3)")
    names = ["ses", "meanses", "female", "minority", "_cons"]
    b, se = _b_se(s, "mathach", names)
    bc, sec, rmse = _restricted_ls(df)
    assert np.allclose(b, bc, rtol=1e-9, atol=1e-10)
    assert np.allclose(se, sec, rtol=1e-7)
    ref = REF["cnsreg"]
    assert np.allclose(b, ref["b"], rtol=1e-8)
    assert np.allclose(se, ref["se"], rtol=1e-7)
    sc = s.e.scalars
    assert np.isclose(sc["rmse"], ref["rmse"], rtol=1e-9) and np.isclose(sc["rmse"], rmse, rtol=1e-9)
    assert sc["df_r"] == ref["df_r"] and sc["df_m"] == 2 and sc["rank"] == 3
    assert np.isclose(sc["F"], ref["F"], rtol=1e-7)
    lines = out.splitlines()
    assert lines[1].startswith("Constrained linear regression") and lines[1].endswith("7,185")
    assert "F(2, 7182)" in lines[2]
    assert " ( 1)  ses - meanses = 0" in lines and " ( 2)  ses + minority = -3" in lines
    cns = s.e.matrices["Cns"]
    assert cns.colnames[-1] == "_r" and cns.values.shape == (2, 6)
    assert np.allclose(cns.values[1], [1, 0, 0, 1, 0, -3])


def test_cnsreg_cluster_against_r(s):
    ok(s, "constraint 1 ses = meanses")
    ok(s, "constraint 2 female = 0")
    out = ok(s, "cnsreg mathach ses meanses female minority, c(1-2) vce(cluster id)")
    ref = REF["cnsreg_cluster"]
    b, se = _b_se(s, "mathach", ["ses", "meanses", "female", "minority", "_cons"])
    assert np.allclose(b, ref["b"], rtol=1e-8, atol=1e-12)
    assert np.allclose(se, ref["se"], rtol=1e-7, atol=1e-12)
    assert s.e.scalars["df_r"] == 159 and "F(2, 159)" in out
    assert "      female |          0  (constrained)" in out.splitlines()


def test_cnsreg_needs_constraints(s):
    rc, out = run(s, "cnsreg mathach ses")
    assert rc == 198 and "option constraints() required" in out
    rc, out = run(s, "cnsreg mathach ses, constraints(5)")
    assert rc == 111 and "constraint 5 not defined" in out
    assert s.e is None


# --------------------------------------------------------------------------- ML commands
def test_logit_constraints_against_r(s):
    ok(s, "constraint 1 ses = meanses")
    ok(s, "constraint 2 female = 0")
    out = ok(s, "logit minority ses meanses female, constraints(1 2)")
    ref = REF["logit"]
    b, se = _b_se(s, "minority", ["ses", "meanses", "female", "_cons"])
    assert np.allclose(b, ref["b"], rtol=1e-6, atol=1e-12)
    assert np.allclose(se, ref["se"], rtol=1e-5, atol=1e-12)
    sc = s.e.scalars
    assert np.isclose(sc["ll"], ref["ll"], rtol=1e-10)
    assert s.e.macros["chi2type"] == "Wald" and sc["df_m"] == 1 and sc["rank"] == 2
    assert np.isclose(sc["chi2"], ref["wald"], rtol=1e-5)
    lines = out.splitlines()
    assert "Wald chi2(1)" in out
    assert " ( 1)  ses - meanses = 0" in lines and " ( 2)  female = 0" in lines
    assert "      female |          0  (constrained)" in lines
    quiet = ok(s, "logit minority ses meanses female, constraints(1 2) nocnsreport nolog")
    assert " ( 1)  ses - meanses = 0" not in quiet.splitlines()


def test_probit_constraint_with_rhs_against_r(s):
    ok(s, "constraint 4 ses + female = 1")
    ok(s, "probit minority ses female, constraints(4) nolog")
    ref = REF["probit"]
    b, se = _b_se(s, "minority", ["ses", "female", "_cons"])
    assert np.allclose(b, ref["b"], rtol=1e-6)
    assert np.allclose(se, ref["se"], rtol=1e-4)
    assert np.isclose(s.e.scalars["ll"], ref["ll"], rtol=1e-10)


def test_poisson_constraint_against_r(s):
    ok(s, "gen cnt = max(0, floor(mathach/5))")
    ok(s, "constraint 5 female = minority")
    ok(s, "poisson cnt ses female minority, constraints(5) nolog")
    ref = REF["poisson"]
    b, se = _b_se(s, "cnt", ["ses", "female", "minority", "_cons"])
    assert np.allclose(b, ref["b"], rtol=1e-6)
    assert np.allclose(se, ref["se"], rtol=1e-5)
    assert np.isclose(s.e.scalars["ll"], ref["ll"], rtol=1e-10)


def test_glm_constraint_against_r(s):
    ok(s, "gen cnt = max(0, floor(mathach/5))")
    ok(s, "constraint 5 female = minority")
    out = ok(s, "glm cnt ses female minority, family(poisson) constraints(5) nolog")
    ref = REF["poisson"]
    b, se = _b_se(s, "cnt", ["ses", "female", "minority", "_cons"])
    assert np.allclose(b, ref["b"], rtol=1e-6)
    assert np.allclose(se, ref["se"], rtol=1e-5)
    assert np.isclose(s.e.scalars["ll"], ref["ll"], rtol=1e-10)
    assert s.e.scalars["df"] == 7185 - 3 and " ( 1)  female - minority = 0" in out.splitlines()


def test_ologit_constraints_against_r(s):
    ok(s, "gen grp = 1 + (mathach > 10) + (mathach > 17)")
    ok(s, "constraint 1 ses = meanses")
    ok(s, "constraint 2 female = 0")
    out = ok(s, "ologit grp ses meanses female minority, constraints(1 2) nolog")
    ref = REF["ologit"]
    e = s.e
    idx = [e.coef_index("grp", nm) for nm in ("ses", "meanses", "female", "minority")]
    idx += [e.coef_index("/", "cut1"), e.coef_index("/", "cut2")]
    assert np.allclose(e.b[idx], ref["b"], rtol=1e-5, atol=1e-9)
    assert np.allclose(e.se[idx], ref["se"], rtol=1e-3, atol=1e-9)
    assert np.isclose(e.scalars["ll"], ref["ll"], rtol=1e-10)
    assert e.scalars["df_m"] == 2 and "Wald chi2(2)" in out
    ok(s, "constraint 3 _b[/cut2] - [/]cut1 = 1.5")
    ok(s, "ologit grp ses female, constraints(3) nolog")
    ref = REF["ologit_cut"]
    e = s.e
    idx = [e.coef_index("grp", "ses"), e.coef_index("grp", "female"),
           e.coef_index("/", "cut1"), e.coef_index("/", "cut2")]
    assert np.allclose(e.b[idx], ref["b"], rtol=1e-5)
    assert np.allclose(e.se[idx], ref["se"], rtol=1e-3)
    assert np.isclose(e.scalars["ll"], ref["ll"], rtol=1e-10)


def test_mlogit_constraints_against_r(s):
    ok(s, "keep in 1/600")
    ok(s, "gen grp = 1 + (mathach > 10) + (mathach > 17)")
    ok(s, "constraint 1 [2]ses = 0")
    ok(s, "constraint 2 [3]female = [2]female")
    ok(s, "constraint 3 [2]nosuch = 0")
    out = ok(s, "mlogit grp ses female, const(1/3) b(1)")
    ref = REF["mlogit"]
    names = ["ses", "female", "_cons"]
    b2, se2 = _b_se(s, "2", names)
    b3, se3 = _b_se(s, "3", names)
    assert np.allclose(b2, ref["b2"], rtol=1e-5, atol=1e-7)
    assert np.allclose(b3, ref["b3"], rtol=1e-5, atol=1e-7)
    assert np.allclose(se2, ref["se2"], rtol=1e-4, atol=1e-9)
    assert np.allclose(se3, ref["se3"], rtol=1e-4, atol=1e-9)
    assert np.isclose(s.e.scalars["ll"], ref["ll"], rtol=1e-9)
    lines = out.splitlines()
    assert "note: constraint number 3 caused error r(111)" in lines
    assert " ( 1)  [2]ses = 0" in lines and " ( 2)  - [2]female + [3]female = 0" in lines
    assert "         ses |          0  (constrained)" in lines
    assert s.e.scalars["rank"] == 4 and s.e.matrices["Cns"].values.shape == (2, 10)
    rrr = ok(s, "mlogit grp ses female, const(1/2) b(1) rrr nolog")
    assert "         ses |          1  (constrained)" in rrr.splitlines()


def test_inconsistent_constraints_leave_session(s):
    ok(s, "logit minority ses female, nolog")
    before = s.e
    ok(s, "constraint 1 ses = 0")
    ok(s, "constraint 2 ses = 1")
    rc, out = run(s, "logit minority ses female, constraints(1 2)")
    assert rc == 412 and "redundant or inconsistent constraints" in out
    assert s.e is before
    ok(s, "constraint 2 2*ses = 0")         # redundant but consistent: dropped, fit goes on
    ok(s, "logit minority ses female, constraints(1 2) nolog")
    assert s.e.matrices["Cns"].values.shape == (1, 4)


def test_test_coef_is_restricted_least_squares_after_regress(s, df):
    """test, coef after regress: the minimum-distance estimate with V = s^2 (X'X)^-1 is the
    restricted least-squares b (cnsreg's), its variance on the unrestricted s^2."""
    ok(s, "regress mathach ses meanses female minority")
    out = ok(s, "test (ses = meanses) (ses + minority = -3), coef")
    lines = out.splitlines()
    start = lines.index("Constrained coefficients")
    rows = {ln.split("|")[0].strip(): ln.split("|")[1].split() for ln in lines[start + 5:start + 10]}
    bc, _, _ = _restricted_ls(df)
    X = np.column_stack([df.ses, df.meanses, df.female, df.minority, np.ones(len(df))])
    y = df.mathach.to_numpy(float)
    XtXi = np.linalg.inv(X.T @ X)
    e = y - X @ (XtXi @ X.T @ y)
    s2 = e @ e / (len(y) - 5)
    R = np.array([[1.0, -1, 0, 0, 0], [1.0, 0, 0, 1, 0]])
    Vc = s2 * (XtXi - XtXi @ R.T @ np.linalg.solve(R @ XtXi @ R.T, R @ XtXi))
    for j, nm in enumerate(["ses", "meanses", "female", "minority", "_cons"]):
        assert np.isclose(float(rows[nm][0]), bc[j], rtol=2e-6)
        assert np.isclose(float(rows[nm][1]), np.sqrt(Vc[j, j]), rtol=2e-6)
    out = ok(s, "test female = 0, coef")
    assert "      female |          0  (constrained)" in out.splitlines()


def test_equation_constraints_of_the_help(s):
    """`constraint # [eq] = 0`, `[eq]:` and `[eq1=eq2]:` as [R] constraint's examples write
    them: every coefficient but the constant, zero or equal across equations."""
    ok(s, "keep in 1/600")
    ok(s, "gen grp = 1 + (mathach > 10) + (mathach > 17)")
    ok(s, "constraint 2 [2] = 0")
    out = ok(s, "mlogit grp ses female, constraints(2) nolog")
    assert " ( 1)  [2]ses = 0" in out.splitlines() and " ( 2)  [2]female = 0" in out.splitlines()
    b, se = _b_se(s, "2", ["ses", "female"])
    assert np.all(b == 0) and np.all(se == 0)
    ok(s, "constraint 10 [1]:")
    ok(s, "constraint 11 [1=3]:")
    ok(s, "mlogit grp ses female, constraints(10/11) baseoutcome(2) nolog")
    assert s.e.matrices["Cns"].values.shape == (4, 10)
    b3, _ = _b_se(s, "3", ["ses", "female"])
    assert np.allclose(b3, 0, atol=1e-12)
    ok(s, "constraint drop 2, 10-11")
    assert s.constraints == {}


def test_svy_refuses_constraints(s):
    """svy: fits do not apply constraints, so the option is refused rather than ignored."""
    ok(s, "svyset id")
    ok(s, "constraint 1 ses = 0")
    ok(s, "gen grp = 1 + (mathach > 10) + (mathach > 17)")
    for line in ("svy: logit minority ses, constraints(1)", "svy: ologit grp ses, constraints(1)",
                 "svy: mlogit grp ses, constraints(1)"):
        rc, out = run(s, line)
        assert rc == 198 and "option constraints() not allowed" in out


def test_option_abbreviations(s):
    """constraints() is c() on cnsreg and mlogit, const() on the ml commands (c() is
    ambiguous with cluster() there, as logit's help underlines const)."""
    ok(s, "constraint 2 female = 0")
    ok(s, "logit minority ses female, const(2) nolog")
    assert "Cns" in s.e.matrices
    rc, out = run(s, "logit minority ses female, c(2) nolog")
    assert rc == 198
    ok(s, "cnsreg mathach ses female, c(2)")
    ok(s, "constraint 3 [1]female = 0")
    ok(s, "mlogit sector ses female, c(3) b(0) nolog")
    assert s.e.matrices["Cns"].values.shape == (1, 7)


def test_cnsreg_robust_and_aweights_against_r(s):
    ok(s, "constraint 1 ses = meanses")
    ok(s, "constraint 2 female = 0")
    names = ["ses", "meanses", "female", "minority", "_cons"]
    ok(s, "cnsreg mathach ses meanses female minority, c(1 2) vce(robust)")
    b, se = _b_se(s, "mathach", names)
    ref = REF["cnsreg_robust"]
    assert np.allclose(b, ref["b"], rtol=1e-8, atol=1e-12)
    assert np.allclose(se, ref["se"], rtol=1e-7, atol=1e-12)
    ok(s, "cnsreg mathach ses meanses female minority [aw=size], c(1 2)")
    b, se = _b_se(s, "mathach", names)
    ref = REF["cnsreg_aweight"]
    assert np.allclose(b, ref["b"], rtol=1e-8, atol=1e-12)
    assert np.allclose(se, ref["se"], rtol=1e-7, atol=1e-12)
    assert np.isclose(s.e.scalars["rmse"], ref["rmse"], rtol=1e-9)


def test_clear_all_drops_constraints(s):
    ok(s, "constraint 1 ses = 0")
    ok(s, "clear")
    assert s.constraints == {1: "ses = 0"}
    ok(s, "clear all")
    assert s.constraints == {}
