"""simulate: one observation per replication with Stata's names, legend, dots and errors.

Values are checked against numpy recomputations of what each replication must give (programs
whose data are a known function of the replication number), and the Monte Carlo spread of a
simulated mean against its sampling standard deviation."""
import numpy as np
import pytest

from hlmshell.data.dta import read_dta
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

COUNTER = """program define tick, rclass
    global k = $k + 1
    drop _all
    set obs 20
    generate x = _n
    generate y = 2*x + $k*mod(_n, 3)
    summarize y
    return scalar mean = r(mean)
    return scalar k = $k
end"""

REG = """program define reg1
    global k = $k + 1
    drop _all
    set obs 12
    generate x = _n
    generate y = 1 + 0.5*x + mod(_n*$k, 5)
    regress y x
end"""

NORM = """program define draw, rclass
    drop _all
    set obs `1'
    generate z = rnormal()
    summarize z
    return scalar mean = r(mean)
end"""


@pytest.fixture
def s():
    sess = Session(out=Capture())
    Interpreter(sess)            # one interpreter: the programs defined stay defined
    return sess


def run(s, line):
    s.out = Capture()
    rc = s.interpreter.run_line(line)
    return rc, s.out.getvalue()


def ok(s, line):
    rc, out = run(s, line)
    assert rc == 0, out
    return out


def define(s, text):
    s.out = Capture()
    rc = s.interpreter.run_text(text, echo=False)
    assert rc == 0, s.out.getvalue()


def tick_values(k):
    x = np.arange(1, 21, dtype=float)
    y = 2 * x + k * np.mod(x, 3)
    return y.mean()


def test_named_expressions_replace_the_data(s):
    define(s, COUNTER)
    ok(s, "global k = 0")
    out = ok(s, "simulate m=r(mean) kk=r(k), reps(7): tick")
    assert s.data.names == ["m", "kk"] and s.data.n == 7
    np.testing.assert_array_equal(s.data.var("kk").values, np.arange(1, 8))
    want = [tick_values(k) for k in range(1, 8)]
    np.testing.assert_allclose(s.data.var("m").values, want, rtol=1e-6)
    assert s.data.var("m").label == "r(mean)" and s.data.var("m").vtype == "float"
    assert s.data.label == "simulate: tick"
    lines = out.splitlines()
    assert lines[:5] == ["", "      Command: tick", "            m: r(mean)", "           kk: r(k)", ""]
    assert lines[5:8] == ["Simulations (7)", "----+--- 1 ---+--- 2 ---+--- 3 ---+--- 4 ---+--- 5 ",
                          "......."]


def test_default_names_and_dots_every_fifty(s):
    define(s, COUNTER)
    ok(s, "global k = 0")
    out = ok(s, "simulate r(mean) (r(k)*2), reps(60): tick")
    assert s.data.names == ["_sim_1", "_sim_2"]
    np.testing.assert_array_equal(s.data.var("_sim_2").values, 2 * np.arange(1, 61))
    assert "." * 50 + "    50\n" + "." * 10 + "\n" in out
    assert "       _sim_2: r(k)*2" in out


def test_b_and_se_of_a_regression_each_replication(s):
    define(s, REG)
    ok(s, "global k = 0")
    out = ok(s, "simulate _b _se, reps(4) nodots: reg1")
    assert s.data.names == ["_b_x", "_b_cons", "_se_x", "_se_cons"]
    assert "Simulations" not in out and "Command: reg1" in out and "_b[x]" not in out
    for k in range(1, 5):
        x = np.arange(1, 13, dtype=float)
        y = 1 + 0.5 * x + np.mod(x * k, 5)
        X = np.column_stack([x, np.ones_like(x)])
        b = np.linalg.lstsq(X, y, rcond=None)[0]
        e = y - X @ b
        se = np.sqrt(np.diag(e @ e / 10 * np.linalg.inv(X.T @ X)))
        got = [s.data.var(n).values[k - 1] for n in s.data.names]
        np.testing.assert_allclose(got, [b[0], b[1], se[0], se[1]], rtol=1e-6)
    assert s.data.var("_b_x").label == "_b[x]"


def test_verbose_legend_and_default_exp_list_after_estimation(s):
    define(s, REG)
    ok(s, "global k = 0")
    out = ok(s, "simulate, reps(2) verbose nodots: reg1")
    assert s.data.names == ["_b_x", "_b_cons"]
    assert "        _b_x: _b[x]" in out.replace("     _b_x", "    _b_x")


def test_rclass_default_collects_every_scalar(s):
    define(s, COUNTER)
    ok(s, "global k = 0")
    ok(s, "simulate, reps(3) nodots: tick")
    assert sorted(s.data.names) == ["k", "mean"]


def test_seed_reproduces_and_spread_matches_theory(s):
    define(s, NORM)
    ok(s, "simulate mu=r(mean), reps(400) seed(2024) nodots: draw 25")
    first = s.data.var("mu").values.copy()
    ok(s, "simulate mu=r(mean), reps(400) seed(2024) nodots: draw 25")
    np.testing.assert_array_equal(first, s.data.var("mu").values)
    ok(s, "simulate mu=r(mean), reps(400) seed(99) nodots: draw 25")
    assert not np.array_equal(first, s.data.var("mu").values)
    # the sampling sd of a mean of 25 N(0,1) draws is 1/5; 400 replications estimate it
    # within about 1/5/sqrt(800) = 0.007
    assert abs(np.std(first, ddof=1) - 0.2) < 0.03
    assert abs(np.mean(first)) < 4 * 0.2 / np.sqrt(400)


def test_failed_replications_are_missing_with_x(s):
    define(s, """program define flaky, rclass
    global k = $k + 1
    if mod($k, 2) == 0 {
        error 459
    }
    return scalar k = $k
end""")
    ok(s, "global k = 0")
    out = ok(s, "simulate kk=r(k), reps(5): flaky")
    v = s.data.var("kk").values
    np.testing.assert_array_equal(v[[0, 2, 4]], [1, 3, 5])
    assert np.isnan(v[[1, 3]]).all()
    assert ".x.x.\n" in out


def test_saving_writes_the_replicates(s, tmp_path):
    define(s, COUNTER)
    ok(s, "global k = 0")
    f = tmp_path / "sims.dta"
    ok(s, f'simulate kk=r(k), reps(3) nodots saving("{f}", double): tick')
    d = read_dta(str(f))
    np.testing.assert_array_equal(d.vars["kk"].values, [1, 2, 3])
    assert d.vars["kk"].vtype == "double"
    rc, out = run(s, f'simulate kk=r(k), reps(3) nodots saving("{f}"): tick')
    assert rc == 602 and "already exists" in out
    ok(s, f'simulate kk=r(k), reps(2) nodots saving("{f}", replace): tick')
    assert read_dta(str(f)).n == 2


@pytest.mark.parametrize("line,rc,message", [
    ("simulate r(mean): tick", 198, "reps() is required, and must be a positive integer"),
    ("simulate r(mean), reps(0): tick", 198, "reps() is required"),
    ("simulate r(mean), reps(2)", 198, "invalid syntax"),
    ("simulate r(mean), reps(2) bogus: tick", 198, "option bogus not allowed"),
    ("simulate r(mean), reps(2): nosuchcmd", 199, "an error occurred when simulate executed nosuchcmd"),
    ("simulate r(mean), reps(2): summarize nosuchvar", 111, "an error occurred when simulate executed summarize"),
    ("simulate _b, reps(2): tick", 301, "last estimates not found"),
    ("simulate r(mean), reps(2): simulate r(mean), reps(2): tick", 199, "simulate is not supported by simulate"),
    ("simulate x=r(mean) x=r(k), reps(2): tick", 110, "x already defined"),
    ("simulate m=r(mean)+, reps(2): tick", 198, "invalid syntax"),
    ("simulate r(mean), reps(2) seed(-3): tick", 198, "seed must be between"),
    ("by female: simulate r(mean), reps(2): tick", 190, "may not be combined with by"),
])
def test_bad_input_leaves_the_data(s, line, rc, message):
    define(s, COUNTER)
    ok(s, "global k = 0")
    ok(s, "set obs 3")
    ok(s, "generate female = _n")
    before = s.data.var("female").values.copy()
    got, out = run(s, line)
    assert got == rc, out
    assert message in out and "Traceback" not in out
    assert s.data.names == ["female"]
    np.testing.assert_array_equal(s.data.var("female").values, before)


def test_noisily_shows_each_run_without_dots(s):
    define(s, COUNTER)
    ok(s, "global k = 0")
    out = ok(s, "simulate kk=r(k), reps(3) noisily: tick")
    assert out.count(". tick") == 3 and out.count("Variable |        Obs") == 3
    assert "Simulations (3)" in out and "----+--- 1" not in out
