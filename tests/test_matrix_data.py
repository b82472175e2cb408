"""svmat and mkmat: values and names both ways, data extended, errors leave things alone."""
import numpy as np
import pytest

from session_run import interp_session
from session_run import irun as run


@pytest.fixture()
def s():
    return interp_session("use hsb")


def test_svmat_names_and_values(s):
    rc, out = run(s, "quietly regress mathach ses sector\nmatrix T = r(table)'\nmatrix b = e(b)\n"
                     "drop ses sector\nsvmat double b, names(col)\n"
                     "svmat b\nsvmat b, names(coef)\nsvmat T, names(col)")
    assert rc == 0, out
    b = np.asarray(s.e.b, float)
    assert s.data.var("_cons").values[0] == b[2] and np.isnan(s.data.var("_cons").values[1])
    assert s.data.var("b1").values[0] == pytest.approx(b[0], rel=1e-7)
    assert s.data.var("coef3").vtype == "float"
    se = np.sqrt(np.diag(np.asarray(s.e.V)))
    np.testing.assert_allclose(np.asarray(s.data.var("se").values[:3], float), se, rtol=1e-6)


def test_svmat_extends_and_errors(s):
    rc, out = run(s, "keep in 1/2\nmatrix A = (1 \\ 2 \\ 3 \\ 4)\nsvmat A")
    assert rc == 0 and s.data.n == 4 and s.data.var("A1").values.tolist() == [1, 2, 3, 4]
    n_vars = len(s.data.names)
    for line, code in [("svmat A", 110), ("svmat nosuch", 111), ("svmat A, bogus(x)", 198)]:
        got, _ = run(s, line)
        assert got == code
    assert len(s.data.names) == n_vars


def test_mkmat(s):
    rc, out = run(s, "mkmat ses mathach in 1/5, matrix(X) rownames(id)\nmkmat ses in 1/3")
    assert rc == 0, out
    X = s.matrices["X"]
    ses = np.asarray(s.data.var("ses").values[:5], float)
    np.testing.assert_allclose(np.asarray(X.values)[:, 0], ses)
    assert X.colnames == ["ses", "mathach"] and X.rownames[0] == str(int(s.data.var("id").values[0]))
    assert np.asarray(s.matrices["ses"].values).shape == (3, 1)
    rc, _ = run(s, "replace ses = . in 2\nmkmat ses mathach in 1/5, matrix(Y) nomissing")
    assert rc == 0 and np.asarray(s.matrices["Y"].values).shape == (4, 2)
    assert run(s, "mkmat nosuch")[0] == 111
