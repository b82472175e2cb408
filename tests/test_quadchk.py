"""quadchk: the last random-effects fit refitted with 2/3 and 4/3 of its quadrature points
(or the two numbers given), the table of values, differences and relative differences, and
the original results left active. The comparison columns are checked against the same models
fitted directly, and the differences against arithmetic done here."""
import numpy as np
import pytest

from session_run import csv_session, ok, run


@pytest.fixture(scope="module")
def ohio():
    s = csv_session("tests/data/gee/ohio.csv")
    ok(s, "xtset id t")
    return s


def _rows(out):
    """label -> the numbers on the values line, and the differences on the next lines."""
    lines = out.splitlines()
    rows = {}
    for i, ln in enumerate(lines):
        if ln.strip().endswith("Difference") and not ln.strip().endswith("Relative difference"):
            values = [float(v) for v in lines[i - 1].split()[-3:]]
            diff = [float(v) for v in ln.split()[-3:-1]]
            rel = [float(v) for v in lines[i + 1].split()[-4:-2]]
            label = (lines[i - 1][:16].strip() + lines[i][:16].strip())
            rows[label] = (values, diff, rel)
    return rows


def test_quadchk_after_xtlogit(ohio):
    ok(ohio, "xtlogit resp age smoke, nolog")
    before = ohio.e
    out = ok(ohio, "quadchk, nooutput")
    assert ohio.e is before
    assert "Refitting model intpoints() = 8" in out and "Refitting model intpoints() = 16" in out
    assert "Quadrature check" in out and "Random-effects" not in out
    rows = _rows(out)
    fits = {}
    for k in (8, 16):
        ok(ohio, f"xtlogit resp age smoke, intpoints({k}) nolog")
        fits[k] = (ohio.e.scalars["ll"], dict(zip([nm for _, nm in ohio.e.names], np.ravel(ohio.e.b))))
    ll_vals, ll_diff, ll_rel = rows["Loglikelihood"]
    assert ll_vals[0] == pytest.approx(before.scalars["ll"], rel=1e-7)
    assert ll_vals[1:] == pytest.approx([fits[8][0], fits[16][0]], rel=1e-7)
    assert ll_diff == pytest.approx([fits[k][0] - before.scalars["ll"] for k in (8, 16)], rel=1e-3)
    assert ll_rel == pytest.approx([(fits[k][0] - before.scalars["ll"]) / before.scalars["ll"]
                                    for k in (8, 16)], rel=1e-3)
    age = rows["resp:age"][0]
    assert age[1:] == pytest.approx([fits[8][1]["age"], fits[16][1]["age"]], rel=1e-6)
    assert rows["lnsig2u"][0][2] == pytest.approx(fits[16][1]["lnsig2u"], rel=1e-6)


def test_quadchk_points_given_and_output_shown(ohio):
    ok(ohio, "xtprobit resp age smoke, intpoints(8) nolog")
    serial = ohio.e.serial
    out = ok(ohio, "quadchk 4 10")
    assert out.count("Random-effects probit regression") == 2
    assert "4 points" in out and "10 points" in out and " 8 points" in out
    assert ohio.e.serial == serial and ohio.e.scalars["n_quad"] == 8


def test_quadchk_after_xtologit(ohio):
    ok(ohio, "xtologit resp age smoke, intpoints(6) nolog")
    out = ok(ohio, "quadchk 4 8, noout")
    rows = _rows(out)
    assert "cut1" in rows and "sigma2_u" in rows


@pytest.mark.parametrize("setup,line,rc", [
    ("xtlogit resp age smoke, fe nolog", "quadchk", 301),
    ("xtpoisson resp age, nolog", "quadchk", 301),
    ("regress resp age", "quadchk", 301),
    ("xtlogit resp age, nolog intpoints(4)", "quadchk 4", 198),
    ("xtlogit resp age, nolog intpoints(4)", "quadchk a b", 198),
    ("xtlogit resp age, nolog intpoints(4)", "quadchk 0 300", 198),
    ("xtlogit resp age, nolog intpoints(4)", "quadchk, bogus", 198),
])
def test_quadchk_refusals(ohio, setup, line, rc):
    if ohio.e is None or ohio.e.macros.get("cmdline") != setup:
        ok(ohio, setup)
    before = ohio.e
    got, out = run(ohio, line)
    assert got == rc, out
    assert ohio.e is before and "Traceback" not in out


def test_refit_line_replaces_the_points_and_the_log():
    from hlmshell.commands.quadchk import refit_line
    assert refit_line("xtlogit resp age if t > 1, re intp(12) log", 8) == \
        "xtlogit resp age if t > 1, re intpoints(8) nolog"
    assert refit_line("xtprobit y x", 16) == "xtprobit y x, intpoints(16) nolog"
    assert refit_line('xtlogit y x if s == "a,b", offset(logx) nolog', 4) == \
        'xtlogit y x if s == "a,b", offset(logx) intpoints(4) nolog'
