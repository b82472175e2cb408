"""Matrix expressions (matrix C = inv(X'X)*X'y ...), el()/rowsof()/colnumb(), subscripts by
number, range and name, row/column names as Stata passes them on, r(table) after estimation;
checked against numpy and scipy, and a property test of the algebra."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from session_run import interp_session as new_session
from session_run import iok as ok
from session_run import irun as run


def mat(s, name):
    m = s.matrices[name]
    return np.asarray(getattr(m, "values", m), dtype=float), list(getattr(m, "rownames", [])), \
        list(getattr(m, "colnames", []))


@pytest.fixture(scope="module")
def s():
    s = new_session()
    ok(s, "use hsb")
    return s


def test_ols_by_matrix_algebra_and_r_table(s):
    ok(s, "regress mathach ses sector")
    T = s.r.matrices["table"]
    b_e = np.asarray(s.e.b, float)
    ok(s, "matrix b = e(b)\nmatrix V = e(V)\nmatrix se = vecdiag(V)")
    v, rows, cols = mat(s, "b")
    assert rows == ["y1"] and cols == ["ses", "sector", "_cons"]      # regress: no equation
    y = np.asarray(s.data.var("mathach").values, float)
    X = np.column_stack([np.asarray(s.data.var(n).values, float) for n in ("ses", "sector")]
                        + [np.ones(len(y))])
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    np.testing.assert_allclose(v.ravel(), beta, rtol=1e-9)
    vals = np.asarray(T.values)
    assert list(T.rownames) == ["b", "se", "t", "pvalue", "ll", "ul", "df", "crit", "eform"]
    se = np.sqrt(np.diag(np.asarray(s.e.V)))
    df = len(y) - 3
    np.testing.assert_allclose(vals[0], b_e)
    np.testing.assert_allclose(vals[3], 2 * stats.t.sf(np.abs(b_e / se), df), rtol=1e-8)
    np.testing.assert_allclose(vals[4], b_e - stats.t.isf(0.025, df) * se, rtol=1e-10)
    assert s.r.scalars["level"] == 95
    out = ok(s, 'display el(r(table), 4, 1) " " colnumb(e(V), "sector") " " rowsof(V) " " b[1, "ses"]')
    assert out.split()[1:3] == ["2", "3"] and float(out.split()[3]) == pytest.approx(beta[0], rel=1e-7)


def test_algebra_names_and_subscripts(s):
    ok(s, "matrix A = (1, 2 \\ 3, 4)\nmatrix B = A'*A\nmatrix C = inv(B)\n"
          "matrix D = (A, A \\ 2*A, I(2))\nmatrix E = D[2..3, 3...]\nmatrix F = A # I(2)\n"
          "matrix rownames A = a b\nmatrix G = A[\"b\", 1..2]\nmatrix H = J(2, 3, 7) / 7\n"
          "matrix A[1, 2] = -5")
    A0 = np.array([[1.0, 2], [3, 4]])
    np.testing.assert_allclose(mat(s, "B")[0], A0.T @ A0)
    np.testing.assert_allclose(mat(s, "C")[0], np.linalg.inv(A0.T @ A0))
    D, rows, cols = mat(s, "D")
    np.testing.assert_allclose(D, np.block([[A0, A0], [2 * A0, np.eye(2)]]))
    assert cols == ["c1", "c2", "c1", "c2"] and rows == ["r1", "r2", "r1", "r2"]
    np.testing.assert_allclose(mat(s, "E")[0], D[1:3, 2:])
    np.testing.assert_allclose(mat(s, "F")[0], np.kron(A0, np.eye(2)))
    G, grows, _ = mat(s, "G")
    assert grows == ["b"] and G.tolist() == [[3, 4]]
    np.testing.assert_allclose(mat(s, "H")[0], np.ones((2, 3)))
    assert mat(s, "A")[0].tolist() == [[1, -5], [3, 4]] and mat(s, "A")[1] == ["a", "b"]
    out = ok(s, 'display trace(B) " " det(B) " " issymmetric(B) " " el(A, 9, 9)')
    tr, det, sym, miss = out.split()
    assert float(tr) == 30 and float(det) == pytest.approx(4.0) and sym == "1" and miss == "."


@pytest.mark.parametrize("line,rc", [
    ("matrix Z = (1, 2) + (1 \\ 2)", 503), ("matrix Z = nosuch * 2", 111),
    ("matrix Z = (1, 2) * (3, 4)", 503), ("matrix Z = inv((1, 2 \\ 3, 4, 5))", 503),
    ("matrix Z = (1, 2 \\ 3, 4)[3, 1]", 503), ("matrix Z = (1, 2", 198),
    ("matrix Z = inv((1, 2 \\ 2, 4))", 504), ("display el(nosuch, 1, 1)", 111),
])
def test_errors_leave_matrices_alone(s, line, rc):
    before = set(s.matrices)
    got, out = run(s, line)
    assert got == rc, out
    assert set(s.matrices) == before


small = st.lists(st.floats(-5, 5, allow_nan=False).map(lambda x: round(x, 2)), min_size=6, max_size=6)


@settings(max_examples=30, deadline=None)
@given(a=small, b=small)
def test_transpose_of_product(a, b):
    s = _shared()
    A = np.array(a).reshape(2, 3)
    B = np.array(b).reshape(3, 2)
    lit = lambda M: "(" + " \\ ".join(", ".join(repr(float(x)) for x in r) for r in M) + ")"  # noqa: E731
    ok(s, f"matrix P = {lit(A)}\nmatrix Q = {lit(B)}\nmatrix L = (P*Q)'\nmatrix R = Q'*P'\n"
          "matrix S = P + 2*P - (3*P)")
    np.testing.assert_allclose(mat(s, "L")[0], mat(s, "R")[0], atol=1e-9)
    np.testing.assert_allclose(mat(s, "L")[0], (A @ B).T, atol=1e-9)
    np.testing.assert_allclose(mat(s, "S")[0], np.zeros((2, 3)), atol=1e-9)


_S = []


def _shared():
    if not _S:
        _S.append(new_session())
    return _S[0]


def test_scalar_expressions_as_literal_elements(s):
    """(e(N), s) and (exp(b[1,1])^2, ...): elements that are scalar expressions are evaluated
    in place, as a public do-file's getres program needs; names are by position."""
    ok(s, "regress mathach ses")
    ok(s, "scalar t1 = 5")
    ok(s, "matrix a = (e(N), t1)")
    v, rows, cols = mat(s, "a")
    assert v.tolist() == [[7185.0, 5.0]] and cols == ["c1", "c2"]
    ok(s, "matrix bb = e(b)")
    ok(s, "matrix c = ((exp(bb[1,1]))^2, 1 \\ e(r2), 2+3)")
    v, rows, cols = mat(s, "c")
    b = float(np.asarray(s.e.b).ravel()[0])
    np.testing.assert_allclose(v, [[np.exp(b) ** 2, 1], [s.e.scalars["r2"], 5]], rtol=1e-12)
    assert rows == ["r1", "r2"] and cols == ["c1", "c2"]
    assert run(s, "matrix f = (1, nosuch)")[0] == 111
    assert run(s, "matrix f = (1, 2")[0] == 198
    assert run(s, 'matrix f = (1, "a")')[0] == 109


def test_joins_without_parentheses():
    """`matrix M = 0, 0, 0`, `matrix b = b, 1`, `matrix C = A \\ A`: , and \\ join at the top
    level as inside parentheses (Stata's idiom for growing a vector in a loop)."""
    s = new_session()
    ok(s, "matrix M = 0, 0, 0")
    assert np.array_equal(s.matrices["M"].values, np.zeros((1, 3)))
    ok(s, "matrix M = M, 2*2")
    assert np.array_equal(s.matrices["M"].values, [[0, 0, 0, 4]])
    ok(s, "matrix N = M \\ M")
    assert s.matrices["N"].values.shape == (2, 4)
    ok(s, "scalar z = 7")
    ok(s, "matrix P = z, 1 \\ 2, z")
    assert np.array_equal(s.matrices["P"].values, [[7, 1], [2, 7]])
    assert run(s, "matrix Q = M \\ 1")[0] == 503
    assert run(s, "matrix Q = 1,")[0] == 198
