"""mata: the Mata subset (hlmshell/mata, hlmshell/commands/mata.py).

Values are checked against numpy computed here, by hand, from the same inputs; layouts
against Mata's as public Stata logs show them (the `mata (type end to exit)` rule, `: `
echo, framed matrices, `<istmt>:  3200  conformability error`). A property test builds
random expression trees, renders them with as few parentheses as Mata's precedence allows
and checks the parsed value against numpy's.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from session_run import interp_session, iok, irun

from hlmshell.mata.errors import MataError
from hlmshell.mata.interpreter import Machine, Workspace


# ---- a Machine with a stub Host (no session) --------------------------------------------------
class _Host:
    def __init__(self):
        self.rng = np.random.default_rng(1)
        self.mats = {}

    def matrix(self, name):
        return self.mats.get(name)

    def put_matrix(self, name, value):
        self.mats[name] = value


def _machine():
    out = []
    return Machine(Workspace(), _Host(), out.append), out


def value(text: str, setup: str = ""):
    m, _ = _machine()
    if setup:
        m.run_text(setup)
    m.run_text("__v = " + text)
    return m.ws.variables["__v"]


def shown(text: str) -> str:
    m, out = _machine()
    m.run_text(text)
    return "".join(out)


def mata_error(text: str) -> MataError:
    m, _ = _machine()
    with pytest.raises(MataError) as info:
        m.run_text(text)
    return info.value


# ---- operators and literals against numpy -----------------------------------------------------
A = np.array([[4.0, 2.0, 1.0], [2.0, 5.0, 3.0], [1.0, 3.0, 6.0]])
A_TEXT = "(4,2,1\\2,5,3\\1,3,6)"


def test_literals_joins_ranges():
    np.testing.assert_array_equal(value("(1,2\\3,4)"), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(value("1::4"), np.arange(1, 5.0).reshape(-1, 1))
    np.testing.assert_array_equal(value("5..2"), [[5, 4, 3, 2]])
    np.testing.assert_array_equal(value("(1..3 \\ 4..6)"), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(value("(1::2, 3::4)"), [[1, 3], [2, 4]])
    np.testing.assert_array_equal(value("J(0,0,.) \\ (1,2)"), [[1, 2]])


def test_arithmetic_against_numpy():
    B = np.array([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0], [2.0, 0.0, 1.0]])
    setup = f"A = {A_TEXT}; B = (1,-1,2\\.5,3,-2\\2,0,1)"
    np.testing.assert_allclose(value("A*B", setup), A @ B)
    np.testing.assert_allclose(value("A'*B + B", setup), A.T @ B + B)
    np.testing.assert_allclose(value("A :* B :/ 2", setup), A * B / 2)
    np.testing.assert_allclose(value("A :- mean(A)", setup), A - A.mean(axis=0))
    np.testing.assert_allclose(value("A :+ (1\\2\\3)", setup), A + np.array([[1], [2], [3]]))
    np.testing.assert_allclose(value("B :^ 2", setup), B ** 2)
    np.testing.assert_allclose(value("2*A - A/4", setup), 2 * A - A / 4)
    np.testing.assert_allclose(value("A # (1,2)", setup), np.kron(A, [[1, 2]]))
    np.testing.assert_allclose(value("-2^2"), [[-4]])
    np.testing.assert_allclose(value("2^-1"), [[0.5]])
    np.testing.assert_allclose(value("(A :> 2) :& (B :< 2)", setup), ((A > 2) & (B < 2)) * 1.0)


def test_missing_values():
    v = value("(1, ., 3) :+ 1")
    assert v[0, 0] == 2 and np.isnan(v[0, 1]) and v[0, 2] == 4
    assert np.isnan(value("1/0")[0, 0])                     # division by zero is missing
    assert value("(.) > 1e300")[0, 0] == 1                  # missing is above every number
    assert value("(.) == (.)")[0, 0] == 1
    assert value("sum((1, ., 3))")[0, 0] == 4               # sums skip missing
    np.testing.assert_array_equal(value("mean((1,2\\.,4\\3,6))"), [[2, 4]])   # rows with . dropped


def test_subscripts():
    setup = "X = (1,2,3\\4,5,6\\7,8,9\\10,11,12\\13,14,15\\16,17,18)"
    X = np.arange(1, 19.0).reshape(6, 3)
    np.testing.assert_array_equal(value("X[(1,5,6),1]", setup), X[[0, 4, 5], :1])
    np.testing.assert_array_equal(value("X[.,2]", setup), X[:, 1:2])
    np.testing.assert_array_equal(value("X[,3]", setup), X[:, 2:3])
    np.testing.assert_array_equal(value("X[2,.]", setup), X[1:2, :])
    np.testing.assert_array_equal(value("X[|2,1\\3,2|]", setup), X[1:3, 0:2])
    np.testing.assert_array_equal(value("X[|5,2\\.,.|]", setup), X[4:, 1:])
    np.testing.assert_array_equal(value("X[(3::1), (3,1)]", setup), X[[2, 1, 0]][:, [2, 0]])
    np.testing.assert_array_equal(value("v[3]", "v = 10..15"), [[12]])
    np.testing.assert_array_equal(value("X", setup + "; X[2,3] = -1; X[|1,1\\1,2|] = (0,0)"),
                                  np.where(np.isin(np.arange(18).reshape(6, 3), [0, 1]), 0,
                                           np.where(np.arange(18).reshape(6, 3) == 5, -1, X)))


def test_linear_algebra_against_numpy():
    setup = f"A = {A_TEXT}"
    np.testing.assert_allclose(value("invsym(A)", setup), np.linalg.inv(A))
    np.testing.assert_allclose(value("luinv(A)", setup), np.linalg.inv(A))
    np.testing.assert_allclose(value("cholesky(A)", setup), np.linalg.cholesky(A))
    np.testing.assert_allclose(value("det(A)", setup), [[np.linalg.det(A)]])
    np.testing.assert_allclose(value("trace(A)", setup), [[np.trace(A)]])
    np.testing.assert_array_equal(value("diagonal(A)", setup), np.diag(A).reshape(-1, 1))
    np.testing.assert_array_equal(value("diag((1,2,3))"), np.diag([1.0, 2, 3]))
    np.testing.assert_allclose(value("cross(A, A)", setup), A.T @ A)
    # a dependent column: invsym zeroes it and inverts the rest (Stata's sweep)
    S = np.array([[2.0, 1, 3], [1, 2, 3], [3, 3, 6]])
    expect = np.zeros((3, 3))
    expect[:2, :2] = np.linalg.inv(S[:2, :2])
    np.testing.assert_allclose(value("invsym((2,1,3\\1,2,3\\3,3,6))"), expect, atol=1e-12)
    assert np.isnan(value("luinv((1,2\\2,4))")).all()
    assert np.isnan(value("cholesky((1,2\\2,1))")).all()


def test_reductions_sort_select():
    M = np.array([[3.0, 1], [1, 5], [2, 0], [1, 2]])
    setup = "M = (3,1\\1,5\\2,0\\1,2)"
    np.testing.assert_array_equal(value("colsum(M)", setup), M.sum(axis=0, keepdims=True))
    np.testing.assert_array_equal(value("rowsum(M)", setup), M.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(value("colmin(M), colmax(M)", setup),
                                  np.hstack([M.min(axis=0), M.max(axis=0)]).reshape(1, -1))
    np.testing.assert_array_equal(value("(min(M), max(M))", setup), [[0, 5]])
    np.testing.assert_array_equal(value("sort(M, (1, -2))", setup),
                                  M[np.lexsort((-M[:, 1], M[:, 0]))])
    np.testing.assert_array_equal(value("uniqrows((2,1\\1,3\\2,1))"), [[1, 3], [2, 1]])
    np.testing.assert_array_equal(value("select(M, M[.,1] :> 1)", setup), M[M[:, 0] > 1])
    np.testing.assert_array_equal(value("rows(M), cols(M), length(M)", setup), [[4, 2, 8]])
    np.testing.assert_allclose(value("sqrt((4, 9)), exp(0), ln(1), abs(-2)"), [[2, 3, 1, 0, 2]])
    np.testing.assert_allclose(value("round(2.567, .01), floor(-1.5), ceil(1.2)"), [[2.57, -2, 2]])
    assert np.isnan(value("sqrt(-1)")[0, 0])


def test_more_library_functions_against_numpy():
    M = np.array([[3.0, 1], [1, 5], [2, 0], [1, 2]])
    setup = "M = (3,1\\1,5\\2,0\\1,2)"
    np.testing.assert_array_equal(value("order(M, 1)", setup),
                                  (np.argsort(M[:, 0], kind="stable") + 1.0).reshape(-1, 1))
    np.testing.assert_allclose(value("correlation(M)", setup), np.corrcoef(M, rowvar=False))
    np.testing.assert_allclose(value("variance(M)", setup), np.cov(M, rowvar=False))
    w = np.array([1, 2, 3, 1])
    setup_w = setup + "; w = (1\\2\\3\\1)"
    np.testing.assert_allclose(value("mean(M, w)", setup_w), [np.average(M, axis=0, weights=w)])
    np.testing.assert_allclose(value("variance(M, w)", setup_w), np.cov(M, rowvar=False, fweights=w))
    np.testing.assert_array_equal(value("minmax((3,.,1)), any((0,0)), all((1,2))"), [[1, 3, 0, 1]])
    np.testing.assert_array_equal(value("colmissing((1,.\\.,.)), rownonmissing((1,.))"), [[1, 2, 1]])
    np.testing.assert_array_equal(value("lowertriangle((1,2\\3,4))"), [[1, 0], [3, 4]])
    np.testing.assert_allclose(value("factorial(5), comb(6,2), exp(lngamma(5))"), [[120, 15, 24]])


def test_random_numbers_have_the_shape_and_follow_the_seed():
    s = interp_session("set seed 12345")
    iok(s, "mata: u = runiform(3, 2); n = rnormal(2, 2, 10, 0)")
    rc, out = irun(s, "mata: rows(u), cols(u), (min(u) >= 0), (max(u) < 1), n[2,2]")
    assert rc == 0 and out.splitlines()[2] == "  1 |   3    2    1    1   10  |", out
    iok(s, "set seed 12345")
    iok(s, "mata: u2 = runiform(3, 2)")
    assert iok(s, "mata: u == u2") == "  1\n"
    iok(s, "mata: rseed(12345); u3 = uniform(3, 2)")
    assert iok(s, "mata: u == u3") == "  1\n"


def test_strings():
    assert value('"ab" + "cd"')[0, 0] == "abcd"
    assert value('strlen("hello")')[0, 0] == 5
    assert value('substr("hello", 2, 3)')[0, 0] == "ell"
    assert value('substr("hello", -3, .)')[0, 0] == "llo"
    assert value('strupper("Ab") + strlower("Ab")')[0, 0] == "ABab"
    assert value('strofreal(1/3)')[0, 0] == ".3333333"
    assert value('strofreal(2.5, "%5.2f")')[0, 0] == "2.50"
    assert value('"ab" * 3')[0, 0] == "ababab"
    assert value('("a","b") == ("a","b")')[0, 0] == 1
    assert value('subinstr("a-b-c", "-", "+", 1) + subinstr("a-b", "-", "")')[0, 0] == "a+b-cab"
    assert value('stritrim("a   b") + strltrim("  c")')[0, 0] == "a bc"
    assert value('eltype("a") + orgtype((1,2)) + orgtype(1::2)')[0, 0] == "stringrowvectorcolvector"


def test_underscore_functions_change_their_argument():
    m, _ = _machine()
    m.run_text("X = (3,1\\1,2\\2,0); _sort(X, 1); Y = (1,.); _editmissing(Y, 0); "
               "A = (4,2\\2,3); _invsym(A); T = (1,2); _transpose(T)")
    v = m.ws.variables
    np.testing.assert_array_equal(v["X"], [[1, 2], [2, 0], [3, 1]])
    np.testing.assert_array_equal(v["Y"], [[1, 0]])
    np.testing.assert_allclose(v["A"], np.linalg.inv([[4, 2], [2, 3]]))
    np.testing.assert_array_equal(v["T"], [[1], [2]])


# ---- statements ---------------------------------------------------------------------------------
def test_control_flow_and_functions():
    m, _ = _machine()
    m.run_text("s = 0\nfor (i=1; i<=10; i++) {\n  if (mod(i, 2) == 0) continue\n  s = s + i\n}")
    assert m.ws.variables["s"][0, 0] == 25
    m.run_text("k = 0; while (1) { k++; if (k >= 7) break }")
    assert m.ws.variables["k"][0, 0] == 7
    m.run_text("j = 5; do { j-- } while (j > 2)")
    assert m.ws.variables["j"][0, 0] == 2
    m.run_text("if (j > 10) z = 1\nelse if (j > 1) z = 2\nelse z = 3")
    assert m.ws.variables["z"][0, 0] == 2
    m.run_text("real scalar fact(real scalar n)\n{\n  if (n <= 1) return(1)\n"
               "  return(n * fact(n - 1))\n}")
    m.run_text("f6 = fact(6)")
    assert m.ws.variables["f6"][0, 0] == 720
    m.run_text("void bump(real matrix X)\n{\n  X = X :+ 1\n}\nQ = (1,2); bump(Q)")
    np.testing.assert_array_equal(m.ws.variables["Q"], [[2, 3]])     # passed by reference
    m.run_text("real scalar g(real scalar a, | real scalar b)\n{\n  if (args() == 1) b = 10\n"
               "  return(a + b)\n}\ngg = g(1), g(1, 2)")
    np.testing.assert_array_equal(m.ws.variables["gg"], [[11, 3]])        # optional arguments
    with pytest.raises(MataError) as info:
        m.run_text("g()")
    assert info.value.rc == 3001
    with pytest.raises(MataError) as info:                 # defined twice
        m.run_text("real scalar g(real scalar a)\n{\n  return(a)\n}")
    assert info.value.rc == 3000 and info.value.message == "g() already exists"


def test_display_layouts():
    assert shown("(1,2\\3,4)") == ("       1   2\n    +---------+\n  1 |  1   2  |\n"
                                   "  2 |  3   4  |\n    +---------+\n")
    assert shown("1/3") == "  .3333333333\n"
    assert shown('"hi"') == "  hi\n"
    assert shown("x = 5") == ""                                  # assignments show nothing
    assert shown("(4,2\\2,3)").startswith("[symmetric]\n       1   2\n    +---------+\n  1 |  4      |\n")
    kron = shown("(1,2\\3,4) # (0,5\\6,7)").splitlines()
    assert kron[0] == "        1    2    3    4"
    assert kron[1] == "    +---------------------+"
    assert kron[5] == "  4 |  18   21   24   28  |"
    wide = shown("1..30").splitlines()                           # too wide: further panels
    assert max(len(ln) for ln in wide) <= 80 and wide.count(wide[1]) >= 2


def test_printf():
    assert shown('printf("%9.3f|%s|%-4s|%5.0g\\n", 3.14159, "ab", "c", 12)') == \
        "    3.142|ab|c   |   12\n"
    assert shown('printf("a"); printf("b\\n")') == "ab\n"
    assert shown('x = sprintf("%4.1f", 2); x') == "   2.0\n"
    assert value('sprintf("%4.1f", 2)')[0, 0] == " 2.0"
    assert shown('printf("{txt}mean {res}%5.2f{txt}\\n{hline 3}\\n", 2)') == "mean  2.00\n---\n"
    assert shown('display("{res:x} y")') == "x y\n"


# ---- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, rc, message", [
    ("(1,2) + (1,2,3)", 3200, "                 <istmt>:  3200  conformability error"),
    ("(1,2) + 1", 3200, "conformability error"),
    ("(1,2) \\ (1,2,3)", 3200, "conformability error"),
    ("y + 1", 3499, "<istmt>:  3499  y not found"),
    ("nosuch(1)", 3499, "nosuch() not found"),
    ("x = (1,2); x[3]", 3301, "<istmt>:  3301  subscript invalid"),
    ("x = (1,2); x[0]", 3301, "subscript invalid"),
    ('"a" + 1', 3250, "type mismatch"),
    ("x = (1,2", 3000, "invalid expression"),
    ("1 +", 3000, "invalid expression"),
    ("J(2,2)", 3001, "J():  3001"),
    ("J(-1,2,0)", 3300, "J():  3300  argument out of range"),
    ("if ((1,2)) x = 1", 3204, "matrix found where scalar required"),
])
def test_errors(text, rc, message):
    e = mata_error(text)
    assert e.rc == rc and message in e.message, e.message


def test_library_error_names_the_function():
    e = mata_error("sort((1,2), 3)")
    assert e.message.splitlines() == ["                 sort():  3300  argument out of range",
                                      "                 <istmt>:     -  function returned error"]


def test_errors_inside_user_functions_name_the_chain():
    m, _ = _machine()
    m.run_text("real matrix g(real matrix X)\n{\n  return(sort(X, 5))\n}\n"
               "real matrix f(real matrix X)\n{\n  return(g(X) + (1,2,3))\n}\n"
               "real scalar h(real scalar x)\n{\n  return(x + (1,2))\n}")
    with pytest.raises(MataError) as info:
        m.run_text("f((1,2))")
    assert info.value.message.splitlines() == [
        "                 sort():  3300  argument out of range",
        "                 g():     -  function returned error",
        "                 f():     -  function returned error",
        "                 <istmt>:     -  function returned error"]
    with pytest.raises(MataError) as info:
        m.run_text("h(1)")
    assert info.value.message.splitlines()[0] == "                 h():  3200  conformability error"


# ---- through Stata: blocks, one-liners, the session ----------------------------------------------
@pytest.fixture(scope="module")
def s_hsb():
    from hsb_fixtures import HSB

    from hlmshell.data.dta import read_dta
    d = read_dta(HSB)
    s = interp_session(f'use "{HSB}"')
    X = np.column_stack([np.asarray(d.vars[v].values, dtype=float) for v in ("ses", "female")])
    return s, X, np.asarray(d.vars["mathach"].values, dtype=float)


def _session():
    return interp_session("clear", "set obs 4", "gen x = _n", "gen y = 2*_n + 1")


def test_block_echo_and_results_as_in_a_stata_log():
    s = interp_session()
    out = iok(s, "matrix table1 = (1,2\\3,4\\5,6\\7,8\\9,10\\11,12)\nmata\n"
                 "table1=st_matrix(\"table1\")\ntable1=table1[(1,5,6),1]\n"
                 "st_matrix(\"tot_dist\",table1)\ntable1\nend")
    assert out.endswith(
        "------------------------------------------------- mata (type end to exit) ------\n"
        ": table1=st_matrix(\"table1\")\n\n: table1=table1[(1,5,6),1]\n\n"
        ": st_matrix(\"tot_dist\",table1)\n\n: table1\n"
        "        1\n    +------+\n  1 |   1  |\n  2 |   9  |\n  3 |  11  |\n    +------+\n\n"
        ": end\n" + "-" * 80 + "\n")
    np.testing.assert_array_equal(s.matrices["tot_dist"], [[1], [9], [11]])


def test_block_without_colon_goes_on_after_an_error():
    s = interp_session()
    rc, out = irun(s, "mata\nx = y\nz = 2\nend\ndisplay \"after\"")
    assert rc == 0
    assert ": x = y\n                 <istmt>:  3499  y not found\nr(3499);\n\n: z = 2\n" in out
    assert out.endswith("after\n")
    assert iok(s, "mata: z") == "  2\n"


def test_block_with_colon_stops_with_the_error():
    s = interp_session()
    rc, out = irun(s, "mata:\nx = 1\nx = (1,2) + 1\nx = 3\ny = 4\nend\ndisplay \"after\"")
    assert rc == 3200 and "after" not in out
    assert "<istmt>:  3200  conformability error\n(2 lines skipped)\n" + "-" * 80 + "\nr(3200);" in out


def test_multiline_statements_are_echoed_with_continuation_prompts():
    s = interp_session()
    out = iok(s, "mata\nfor (i=1; i<=2; i++) {\n  printf(\"%g\\n\", i)\n}\nend")
    assert ": for (i=1; i<=2; i++) {\n>   printf(\"%g\\n\", i)\n> }\n1\n2\n\n: end\n" in out
    out = iok(s, "mata\n  x = 1   // kept in the echo\n  y = (1, ///\n     2)\nend")
    assert ":   x = 1   // kept in the echo\n\n:   y = (1, ///\n>      2)\n\n: end\n" in out
    out = iok(s, "mata\nx = 1\n\n// a note\nx\nend")
    assert ": x = 1\n\n: \n: // a note\n: x\n  1\n\n: end\n" in out      # as Stata echoes them
    assert iok(s, "mata: y") == "       1   2\n    +---------+\n  1 |  1   2  |\n    +---------+\n"


def test_one_liners_and_stata_interface():
    s = _session()
    iok(s, "mata: X = st_data(., \"x y\")")
    iok(s, "mata: st_numscalar(\"n\", rows(X)); st_local(\"m\", strofreal(sum(X[.,2])))")
    assert s.scalars["n"] == 4
    assert iok(s, "display `m'").strip() == str(int(sum(2 * k + 1 for k in range(1, 5))))
    iok(s, "mata st_global(\"G\", \"hi\")")
    assert s.globals["G"] == "hi"
    iok(s, "mata: idx = st_addvar(\"double\", \"z\"); st_store(., \"z\", X[.,1] :* X[.,2])")
    np.testing.assert_array_equal(s.data.values("z"), [3, 10, 21, 36])
    assert iok(s, "mata: st_nobs(), st_nvar()") == "       1   2\n    +---------+\n  1 |  4   3  |\n    +---------+\n"
    rc, out = irun(s, "mata: st_data(., \"nosuch\")")
    assert rc == 3500 and "st_data():  3500" in out


def test_select_variable_and_view_assignment_in_the_call():
    s = _session()
    iok(s, "gen touse = mod(x, 2)")
    iok(s, 'mata: st_view(V=., ., "x y", "touse"); D = st_data(., ("x", "y"), "touse")')
    iok(s, 'mata: st_matrix("V", V); st_matrix("D", D)')
    np.testing.assert_array_equal(s.matrices["V"], [[1, 3], [3, 7]])
    np.testing.assert_array_equal(s.matrices["D"], [[1, 3], [3, 7]])


def test_ols_by_hand_as_course_notes_write_it(s_hsb):
    """st_view(y=., ., ...), X'X (transposition then an operand multiplies), invsym: the
    coefficients equal numpy's least squares on the same columns."""
    s, X, y = s_hsb
    iok(s, "mata:\nst_view(y=., ., \"mathach\")\nst_view(X=., ., tokens(\"ses female\"))\n"
           "X = X, J(rows(X), 1, 1)\nb = invsym(X'X)*X'y\nst_matrix(\"b\", b')\nend")
    expect = np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)[0]
    np.testing.assert_allclose(s.matrices["b"].ravel(), expect, rtol=1e-9)


def test_a_line_ending_in_an_operator_goes_on():
    s = interp_session()
    out = iok(s, "mata:\nX = 4,  7, 9 \\\n2, 12, 3 \\\n8,  8, 7\nend")
    assert ": X = 4,  7, 9 \\\n> 2, 12, 3 \\\n> 8,  8, 7\n\n: end" in out
    assert iok(s, "mata: rows(X), cols(X), X[3,1]") == \
        "       1   2   3\n    +-------------+\n  1 |  3   3   8  |\n    +-------------+\n"


def test_string_variables_and_void_calls():
    s = interp_session("clear", "set obs 2", 'gen str3 s = "a"')
    out = iok(s, 'mata: (void) st_addvar("double", "d"); st_sstore(., "s", ("hello"\\"b"))')
    assert out == ""                                        # (void): no index shown
    assert list(s.data.values("s")) == ["hello", "b"] and s.data.var("s").vtype == "str5"
    assert np.isnan(s.data.values("d")).all()
    assert iok(s, 'mata: st_isstrvar("s"), st_isnumvar("d"), st_isnumvar("s")') == \
        "       1   2   3\n    +-------------+\n  1 |  1   1   0  |\n    +-------------+\n"
    assert iok(s, 'mata: st_sdata(2, "s")') == "  b\n"
    assert irun(s, 'mata: st_sstore(., "d", ("x"\\"y"))')[0] == 3250


def test_stata_runs_a_command_from_mata():
    s = interp_session()
    assert iok(s, 'mata: stata("display 2+2")') == "4\n"
    out = iok(s, 'mata: rc = _stata("display 1+"); rc')
    assert out == "invalid syntax\n  198\n"
    rc, out = irun(s, 'mata: stata("display 1+")')
    assert rc == 3598 and "stata():  3598  Stata returned error" in out


def test_expected_counts_as_a_public_do_file_computes_them():
    """mata: o = st_matrix("o"); st_matrix("e", (rowsum(o)*colsum(o))/sum(o))"""
    s = interp_session("matrix o = (10,20\\30,40)")
    iok(s, 'mata: o = st_matrix("o")')
    iok(s, 'mata: st_matrix("e", (rowsum(o)* colsum(o)) / sum(o))')
    o = np.array([[10.0, 20], [30, 40]])
    np.testing.assert_allclose(s.matrices["e"], np.outer(o.sum(1), o.sum(0)) / o.sum())
    assert iok(s, "display e[1,1]").strip() == "12"


def test_reads_r_and_e_results_and_stripes():
    s = _session()
    iok(s, "quietly regress y x")
    iok(s, 'mata: b = st_matrix("e(b)"); st_matrix("bb", b)')
    np.testing.assert_allclose(s.matrices["bb"], [[2, 1]], atol=1e-10)
    out = iok(s, 'mata: st_matrixcolstripe("e(b)")')
    assert "x" in out and "_cons" in out
    iok(s, 'mata: st_matrixrowstripe("bb", ("", "coef"))')
    assert iok(s, "matrix list bb").splitlines()[3].startswith("coef")


def test_workspace_lasts_and_clears():
    s = interp_session()
    iok(s, 'mata: x = 1; X = (1,2\\3,4); v = 1..3')
    rows = iok(s, "mata describe").splitlines()[3:6]
    assert [r.split() for r in rows] == [["32", "real", "matrix", "X[2,2]"],
                                         ["24", "real", "rowvector", "v[1,3]"],
                                         ["8", "real", "scalar", "x"]]
    iok(s, "mata clear")
    iok(s, "mata: real scalar f(real scalar a) { return(2*a) }")
    iok(s, "mata: mata drop f()")
    iok(s, "mata: real scalar f(real scalar a) { return(3*a) }")
    assert iok(s, "mata: f(2)") == "  6\n"
    iok(s, "mata: w = 3")
    assert iok(s, "mata: w") == "  3\n"
    iok(s, "mata mata clear")
    assert irun(s, "mata: w")[0] == 3499
    iok(s, "mata: w = 3")
    iok(s, "clear all")
    assert irun(s, "mata: w")[0] == 3499


def test_bad_mata_leaves_the_session_and_no_warnings():
    s = _session()
    before = (s.data.n, dict(s.matrices), dict(s.scalars))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for line in ("mata: min(J(0,3,.))", "mata: colmax((.,.\\.,.))", "mata: mean(J(2,2,.))",
                     "mata: ln(0), sqrt(-1), 1/0", "mata: invsym((0,0\\0,0))"):
            iok(s, line)
        for line in ("mata: (1,2)*(3,4)", "mata: x[", 'mata: st_matrix("1bad", 1)',
                     "mata: st_store(., \"x\", (1,2))", "mata: 1..", "mata: `\"unclosed"):
            rc, out = irun(s, line)
            assert 3000 <= rc < 4000 and "Traceback" not in out, (line, out)
    assert (s.data.n, dict(s.matrices), dict(s.scalars)) == before


# ---- property: random expressions against numpy ---------------------------------------------------
# a tree is (op, children...) or a leaf ("lit", text, value); render() uses Mata's precedence
_PREC = {"+": 6, "-": 6, "*": 7, ":*": 7, ":+": 6, ":-": 6, "#": 7, ",": 4, "\\": 3}


def _leaf(draw):
    r = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    vals = np.array(draw(st.lists(st.integers(-5, 5), min_size=r * c, max_size=r * c)),
                    dtype=float).reshape(r, c)
    text = "\\".join(",".join(str(int(v)) for v in row) for row in vals)
    if r * c > 1 or vals[0, 0] < 0:
        text = "(" + text + ")"
    return ("lit", text, vals)


@st.composite
def trees(draw, depth=3):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return _leaf(draw)
    a = draw(trees(depth=depth - 1))
    kind = draw(st.sampled_from(["+", "-", "*", ":*", ":+", ":-", "#", ",", "\\", "'", "neg"]))
    if kind in ("'", "neg"):
        return (kind, a)
    b = draw(trees(depth=depth - 1))
    return (kind, a, b)


def _value(t):
    """numpy's value of the tree, or None where Mata would refuse (conformability)."""
    if t[0] == "lit":
        return t[2]
    if t[0] in ("'", "neg"):
        v = _value(t[1])
        return None if v is None else (v.T if t[0] == "'" else -v)
    a, b = _value(t[1]), _value(t[2])
    if a is None or b is None:
        return None
    op = t[0]
    if op in ("+", "-"):
        return (a + b if op == "+" else a - b) if a.shape == b.shape else None
    if op == "*":
        if a.shape == (1, 1) or b.shape == (1, 1):
            return a * b
        return a @ b if a.shape[1] == b.shape[0] else None
    if op == "#":
        return np.kron(a, b)
    if op == ",":
        return np.hstack([a, b]) if a.shape[0] == b.shape[0] else None
    if op == "\\":
        return np.vstack([a, b]) if a.shape[1] == b.shape[1] else None
    ok = (a.shape == b.shape or a.shape == (1, 1) or b.shape == (1, 1)
          or (a.shape[0] == 1 and a.shape[1] == b.shape[1]) or (b.shape[0] == 1 and a.shape[1] == b.shape[1])
          or (a.shape[1] == 1 and a.shape[0] == b.shape[0]) or (b.shape[1] == 1 and a.shape[0] == b.shape[0]))
    if not ok:
        return None
    return {":*": np.multiply, ":+": np.add, ":-": np.subtract}[op](a, b)


def render(t, minimal: bool) -> str:
    if t[0] == "lit":
        return t[1]
    if t[0] == "'":
        inner = render(t[1], minimal)
        return (inner if t[1][0] == "lit" else "(" + inner + ")") + "'"
    if t[0] == "neg":
        return "-(" + render(t[1], minimal) + ")"
    op = t[0]
    p = _PREC[op]
    left, right = render(t[1], minimal), render(t[2], minimal)
    if not minimal or _needs(t[1], p, False):
        left = "(" + left + ")"
    if not minimal or _needs(t[2], p, True):
        right = "(" + right + ")"
    return f"{left} {op} {right}"


def _needs(child, p: int, right: bool) -> bool:
    if child[0] in ("lit", "'", "neg"):
        return False
    cp = _PREC[child[0]]
    return cp < p or (right and cp == p)


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees())
def test_random_expressions_match_numpy(tree):
    expect = _value(tree)
    for minimal in (False, True):
        text = render(tree, minimal)
        m, _ = _machine()
        if expect is None:
            with pytest.raises(MataError) as info:
                m.run_text("__v = " + text)
            assert info.value.rc == 3200, text
        else:
            m.run_text("__v = " + text)
            np.testing.assert_allclose(m.ws.variables["__v"], expect, err_msg=text)


# ---- property: random token soup fails only as Mata fails ------------------------------------------
_SOUP = ["(", ")", "[", "]", "[|", "|]", ",", "\\", "::", "..", "'", "x", "y", "1", "0", "-1", ".",
         '"a"', "+", "-", "*", "/", "^", ":*", ":+", ":/", ":^", ":==", "==", "!=", "<", ">=", "&",
         "|", "!", "?", ":", "=", "{", "}", "if", "else", "for", "while", ";", "\n", "i++", "--",
         "J(2,2,1)", "I(3)", "sum", "invsym", "sort", "substr", "select", "cholesky", "x[1,2]",
         "x[.,1]", "return", "break", "continue", "real scalar f(real scalar a)", "printf",
         '"%5.2f\\n"', "st_matrix", '"M"', "1e400", "#", "strofreal", "&&", "(1,2\\3,4)"]


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(st.sampled_from(_SOUP), min_size=1, max_size=9))
def test_random_statements_fail_only_with_mata_errors(words):
    m, _ = _machine()
    m.run_text('x = (1,2\\3,4); y = "s"')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            m.run_text(" ".join(words))
        except MataError as e:
            assert 3000 <= e.rc < 4000 and e.message
