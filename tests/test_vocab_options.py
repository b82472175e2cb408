"""Options that a scan of 152 public multilevel/panel do-files found hlmshell refusing on
commands it has: merge keepus() and Stata 10's merge options (sort, nokeep, unique...), list
nodisplay, rename varlist upper/lower/proper, isid so(rt), logit noheader, estimates table
t/p/se formats and eform, egen anycount value(), and ml's maximize options on xt models."""
import math
import re

import numpy as np
import pytest
from scipy import stats

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.hsb_fixtures import HSB
from tests.session_run import ok, run


def hsb():
    s = Session(Capture())
    ok(s, f'use "{HSB}"')
    return s


@pytest.fixture
def two_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Session(Capture())
    for line in ("set obs 3", "generate id = _n", "generate x = 10 * id", "generate z = -id",
                 "save a"):
        ok(s, line)
    ok(s, "clear")
    for line in ("set obs 4", "generate id = _n * 2 - 1", "generate y = 100 * id"):
        ok(s, line)
    return s                                          # master ids 1 3 5 7; using ids 1 2 3


def test_merge_keepus_abbreviation(two_files):
    s = two_files
    ok(s, "merge 1:1 id using a, keepus(x) nogen")
    assert "x" in s.data.names and "z" not in s.data.names


def test_merge_old_syntax_options(two_files):
    s = two_files
    out = ok(s, "merge id using a, sort nokeep unique")
    assert "old merge syntax" in out
    ids = sorted(np.asarray(s.data.values("id")).tolist())
    assert ids == [1, 3, 5, 7]                        # nokeep: no using-only observation (id 2)
    assert run(s, "merge 1:1 id using a, sort")[0] == 198     # old options need the old syntax


def test_merge_old_syntax_unique_checks(two_files):
    s = two_files
    ok(s, "replace id = 1")
    rc, out = run(s, "merge id using a, uniqmaster")
    assert rc == 459 and "master" in out


def test_list_nodisplay_is_the_table_format():
    s = hsb()
    assert ok(s, "list id ses in 1/3, nodisplay") == ok(s, "list id ses in 1/3")


def test_rename_case_options():
    s = hsb()
    ok(s, "rename (ses minority) (SES MinOrity)")
    ok(s, "rename *, lower")
    assert "ses" in s.data.names and "minority" in s.data.names
    ok(s, "rename (ses minority), upper")
    assert "SES" in s.data.names and "MINORITY" in s.data.names
    ok(s, "rename SES MINORITY, proper")
    assert "Ses" in s.data.names and "Minority" in s.data.names
    assert run(s, "rename Ses, upper lower")[0] == 198


def test_isid_so_sorts():
    s = hsb()
    ok(s, "gsort -mathach")
    ok(s, "generate n = _n")
    ok(s, "isid n, so")
    assert np.all(np.diff(np.asarray(s.data.values("n"))) > 0)


def test_logit_noheader():
    s = hsb()
    out = ok(s, "logit minority ses, nolog noheader")
    assert "Logistic regression" not in out and "Pseudo R2" not in out
    assert re.search(r"^\s+ses \|", out, re.M)


def test_estimates_table_t_p_and_formats():
    s = hsb()
    ok(s, "regress mathach ses female")
    ok(s, "estimates store m")
    b = np.ravel(s.e.b).astype(float)
    se = np.sqrt(np.diag(s.e.V))
    df = float(s.e.scalars["df_r"])
    out = ok(s, "estimates table m, t se p b(%9.4f)")
    lines = out.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.strip().startswith("ses |"))
    got = [float(lines[i + k].split("|")[1]) for k in range(4)]
    assert got[0] == pytest.approx(b[0], abs=5e-5)
    assert got[1] == pytest.approx(se[0], abs=5e-5)                  # se in b's format
    assert got[2] == pytest.approx(b[0] / se[0], abs=5e-3)           # t: %7.2f
    assert got[3] == pytest.approx(2 * stats.t.sf(abs(b[0] / se[0]), df), abs=5e-5)
    assert lines[-1].strip() == "Legend: b/se/t/p"
    out = ok(s, "estimates table m, se(%6.3f) p(%5.3f)")
    assert lines and "Legend: b/se/p" in out
    assert run(s, "estimates table m, t(%bad)")[0] == 120
    assert run(s, "estimates table m, star t")[0] == 198


def test_estimates_table_eform():
    s = hsb()
    ok(s, "logit minority ses, nolog")
    ok(s, "estimates store l")
    b = np.ravel(s.e.b).astype(float)
    se = np.sqrt(np.diag(s.e.V))
    out = ok(s, "estimates table l, eform se b(%9.5f)")
    lines = out.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.strip().startswith("ses |"))
    assert float(lines[i].split("|")[1]) == pytest.approx(math.exp(b[0]), abs=5e-6)
    assert float(lines[i + 1].split("|")[1]) == pytest.approx(math.exp(b[0]) * se[0], abs=5e-6)


def test_egen_anycount_value_abbreviation():
    s = hsb()
    ok(s, "egen n1 = anycount(female minority), value(1)")
    ok(s, "egen n2 = anycount(female minority), v(1)")
    f = np.asarray(s.data.values("female")) == 1
    m = np.asarray(s.data.values("minority")) == 1
    assert np.array_equal(np.asarray(s.data.values("n1")), f.astype(float) + m)
    assert np.array_equal(np.asarray(s.data.values("n2")), np.asarray(s.data.values("n1")))


def test_xt_models_accept_ml_maximize_options():
    s = hsb()
    ok(s, "xtset id")
    ok(s, "xtlogit minority ses, re nolog")
    b0 = np.ravel(s.e.b).copy()
    ok(s, "xtlogit minority ses, re nolog technique(bfgs) difficult nrtolerance(1e-6)")
    assert np.allclose(np.ravel(s.e.b), b0)


def test_xttobit_re_is_the_default():
    s = hsb()
    ok(s, "xtset id")
    ok(s, "xttobit mathach ses, ll(0) nolog")
    b0 = np.ravel(s.e.b).copy()
    ok(s, "xttobit mathach ses, re ll(0) nolog technique(nr)")
    assert np.allclose(np.ravel(s.e.b), b0)


def test_vif_uncentered_against_the_auxiliary_regressions():
    s = hsb()
    ok(s, "regress mathach ses female")
    out = ok(s, "vif, uncentered")
    X = np.column_stack([np.asarray(s.data.values(v), float) for v in ("ses", "female")]
                        + [np.ones(s.data.n)])
    want = {}
    for j, nm in enumerate(("ses", "female", "_cons")):
        y, Z = X[:, j], np.delete(X, j, axis=1)
        rss = float(((y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]) ** 2).sum())
        want[nm] = 1.0 / (rss / float((y ** 2).sum()))          # 1 / (1 - uncentered R2)
    got = {ln.split("|")[0].strip(): float(ln.split("|")[1].split()[0])
           for ln in out.splitlines() if ln.count("|") == 1 and ln.split("|")[0].strip() in want}
    assert got == {k: pytest.approx(v, abs=0.006) for k, v in want.items()}
    assert "_cons" in ok(s, "estat vif, uncentered")
    ok(s, "regress mathach ses female, noconstant")
    assert run(s, "vif")[0] == 498
    ok(s, "vif, uncentered")


def test_margins_noestimcheck():
    s = hsb()
    ok(s, "regress mathach ses i.sector")
    assert ok(s, "margins sector, noestimcheck") == ok(s, "margins sector")


def test_ssc_install_of_a_package_built_in_and_ado_view():
    s = Session(Capture())
    for pkg in ("tabplot", "unique", "xtmrho", "combomarginsplot", "estout"):
        assert "built into hlmshell" in ok(s, f"ssc install {pkg}, replace")
    assert run(s, "ssc install nosuchpackage")[0] == 631
    assert "no packages installed" in ok(s, "ado dir")
    assert "nothing to uninstall" in ok(s, "ado uninstall estout")
    assert run(s, "ado uninstall nosuchpackage")[0] == 111
    assert "no packages to update" in ok(s, "ado update, update")
    assert "no Viewer" in ok(s, "view mylog.smcl")
    assert run(s, "view")[0] == 198


def test_reghdfe_res_abbreviation():
    s = hsb()
    ok(s, "reghdfe mathach ses, absorb(id) res(r1)")
    ok(s, "reghdfe mathach ses, absorb(id) residuals(r2)")
    assert np.allclose(s.data.values("r1"), s.data.values("r2"))
    ok(s, "reghdfe mathach ses, absorb(id) resid")


def test_ado_refuses_junk():
    s = Session(Capture())
    for line in ("ado dir [pw=ses]", "ado uninstall a b c", "ado dir (x)"):
        rc, out = run(s, line)
        assert rc == 198 and "Traceback" not in out
