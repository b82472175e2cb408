"""Mata qrinv() (hlmshell/mata/functions.py): the inverse of a full-rank square matrix
(numpy's inv), the least-squares inverse (A'A)^-1 A' of a tall full-column-rank matrix
(numpy's pinv), and for a rank-deficient matrix a reflexive generalized inverse
(A X A = A, X A X = X) with zero rows for the dependent columns; missing in, missing out."""
import numpy as np

from hlmshell.mata.interpreter import Machine, Workspace
from hlmshell.mata.values import MISSING


class _Host:
    rng = np.random.default_rng(1)

    def matrix(self, name):
        return None


def value(text: str):
    m = Machine(Workspace(), _Host(), lambda s: None)
    m.run_text("__v = " + text)
    return np.asarray(m.ws.variables["__v"], dtype=float)


def _lit(a: np.ndarray) -> str:
    return "(" + "\\".join(",".join(repr(float(v)) for v in row) for row in a) + ")"


def test_square_and_tall():
    rng = np.random.default_rng(5)
    A = rng.normal(size=(4, 4))
    np.testing.assert_allclose(value(f"qrinv({_lit(A)})"), np.linalg.inv(A), rtol=1e-9, atol=1e-12)
    B = rng.normal(size=(7, 3))
    np.testing.assert_allclose(value(f"qrinv({_lit(B)})"), np.linalg.pinv(B), rtol=1e-9, atol=1e-12)
    V = 2.0 * np.eye(5) + 0.5                  # the textbook's estvar = varerror*I(n) :+ varsubject
    np.testing.assert_allclose(value(f"qrinv({_lit(V)})"), np.linalg.inv(V), rtol=1e-10)


def test_rank_deficient_generalized_inverse():
    C = np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1], [0, 1, 1]])
    C[:, 2] = C[:, 0] + C[:, 1]                # third column dependent
    X = value(f"qrinv({_lit(C)})")
    assert X.shape == (3, 4)
    np.testing.assert_allclose(C @ X @ C, C, atol=1e-10)
    np.testing.assert_allclose(X @ C @ X, X, atol=1e-10)
    assert (np.abs(X).sum(axis=1) == 0).sum() == 1      # one dependent column: one zero row


def test_missing():
    X = value("qrinv((1, . \\ 2, 3))")
    assert X.shape == (2, 2) and np.all(X == MISSING) or np.all(np.isnan(X))


def test_textbook_cholesky_residual_block():
    """The do-file's block: estvar = s2e*I(n) :+ s2u, qrinv, st_data, st_store over the range
    (1, n) -- an r x 2 observation argument is a list of ranges in Mata."""
    from tests.session_run import interp_session, iok
    s = interp_session("clear", "set obs 6", "gen res = _n - 3.5", "gen cholres = .")
    iok(s, 'mata\nestvar = 2*I(6) :+ 0.5\nsmi = qrinv(estvar)\nxstar = st_data(.,("res"))\n'
           'cholres = smi*xstar\nst_store((1,rows(cholres)),"cholres",cholres[,1])\nend')
    V = 2 * np.eye(6) + 0.5
    want = np.linalg.solve(V, np.arange(1, 7) - 3.5)
    np.testing.assert_allclose(np.asarray(s.data.var("cholres").values, dtype=float), want, rtol=1e-6)
    iok(s, 'mata: st_store((2,3 \\ 6,.), "cholres", (20 \\ 30 \\ 60))')
    got = np.asarray(s.data.var("cholres").values, dtype=float)
    assert got[1] == 20 and got[2] == 30 and got[5] == 60
