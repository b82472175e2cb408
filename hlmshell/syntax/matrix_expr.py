"""Stata's matrix expressions (`matrix C = inv(X'X) * X'y`, `(1, 2 \\ 3, 4)`, `A[1..2, "ses"]`)
and the lookup of a matrix by the names Stata accepts (a matrix, e(b), e(V), r(table), ...).

Do-files take estimates apart with them (`matrix b = e(b)`, `matrix se = vecdiag(e(V))`,
`display sqrt(V[2,2])`); the values are Stata's, and so are the row and column names each
operation passes on (a product takes its rows from the left and its columns from the right, a
transpose swaps them, a join concatenates them), because `matrix list` and `el()`/`colnumb()`
show and read them. Pure: the session is read (matrices, e(), r(), scalars) and never changed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hlmshell.errors import StataError, syntax_error


@dataclass
class Mat:
    values: np.ndarray            # 2-D float
    rows: list[str]               # "eq:name" or "name"
    cols: list[str]
    literal: bool = False         # a number typed in the expression (named by position)

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape


def _default(prefix: str, k: int) -> list[str]:
    return [f"{prefix}{i + 1}" for i in range(k)]


def numbered(values) -> Mat:
    v = np.atleast_2d(np.asarray(values, dtype=float))
    return Mat(v, _default("r", v.shape[0]), _default("c", v.shape[1]))


def not_found(name: str) -> StataError:
    return StataError(f"matrix {name} not found", 111)


def _from_object(obj, name: str) -> Mat:
    vals = np.atleast_2d(np.asarray(getattr(obj, "values", obj), dtype=float))
    rows = [str(r) for r in getattr(obj, "rownames", _default("r", vals.shape[0]))]
    cols = [str(c) for c in getattr(obj, "colnames", _default("c", vals.shape[1]))]
    if len(rows) != vals.shape[0] or len(cols) != vals.shape[1]:
        rows, cols = _default("r", vals.shape[0]), _default("c", vals.shape[1])
    return Mat(vals.copy(), rows, cols)


# single-equation commands whose e(b) carries no equation name in Stata (ML commands such as
# logit name theirs after the dependent variable)
NO_EQUATION = {"regress", "xtreg", "anova", "areg", "cnsreg", "ivregress", "reghdfe", "newey"}


def lookup(session, name: str) -> Mat:
    """A matrix by name: a user matrix, e(b)/e(V) (named by e()'s coefficient names), or any
    e()/r() matrix."""
    name = name.strip()
    m = re.fullmatch(r"([er])\(\s*(\w+)\s*\)", name)
    if m is None:
        mats = getattr(session, "matrices", {})
        if name not in mats:
            raise not_found(name)
        return _from_object(mats[name], name)
    res = session.e if m.group(1) == "e" else session.r
    key = m.group(2)
    if m.group(1) == "e" and key in ("b", "V"):
        if res is None:
            raise StataError("last estimates not found", 301)
        plain = res.macros.get("cmd") in NO_EQUATION
        names = [f"{q}:{n}" if q and not plain else n for q, n in res.names]
        if key == "b":
            return Mat(np.atleast_2d(np.asarray(res.b, dtype=float).ravel()).copy(), ["y1"], names)
        return Mat(np.asarray(res.V, dtype=float).copy(), list(names), list(names))
    if res is None or key not in getattr(res, "matrices", {}):
        raise not_found(name)
    return _from_object(res.matrices[key], name)


# ---- tokens -----------------------------------------------------------------------------------
_TOKEN = re.compile(r"""\s*(?:
    (?P<num>(?:\d+(?:\.(?!\.)\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<res>[er]\(\s*\w+\s*\))
  | (?P<name>[A-Za-z_]\w*)
  | (?P<str>"[^"]*")
  | (?P<op>\.\.\.|\.\.|[-+*/#',\\()\[\]])
  | (?P<other>[\^<>=!~&|.])
)""", re.X)


def _tokens(text: str) -> list[tuple[str, str, int, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise syntax_error()
        kind = m.lastgroup
        out.append((kind, m.group(kind), m.start(kind), m.end()))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent over the tokens; each rule returns a Mat."""

    def __init__(self, text: str, session, scalar_eval):
        self.text = text
        self.toks = _tokens(text)
        self.k = 0
        self.session = session
        self.scalar_eval = scalar_eval

    def peek(self, value: str | None = None):
        if self.k >= len(self.toks):
            return None
        t = self.toks[self.k]
        return t if value is None or t[1] == value else None

    def take(self, value: str):
        if self.peek(value) is None:
            raise syntax_error()
        self.k += 1

    def parse(self) -> Mat:
        if self._top_level_join():      # `matrix b = b, 0` / `0, 0, 0` / `A \ B`: joined
            rows = [[self.element()]]   # as if in parentheses (, and \ bind loosest)
            while self.peek(",") or self.peek("\\"):
                sep = self.toks[self.k][1]
                self.k += 1
                if sep == ",":
                    rows[-1].append(self.element())
                else:
                    rows.append([self.element()])
            out = _join(rows)
        else:
            out = self.expr()
        if self.k != len(self.toks):
            raise syntax_error()
        return out

    def _top_level_join(self) -> bool:
        depth = 0
        for _, v, _, _ in self.toks:
            if v in ("(", "["):
                depth += 1
            elif v in (")", "]"):
                depth -= 1
            elif depth == 0 and v in (",", "\\"):
                return True
        return False

    def expr(self) -> Mat:
        left = self.term()
        while self.peek("+") or self.peek("-"):
            op = self.toks[self.k][1]
            self.k += 1
            right = self.term()
            if left.shape != right.shape:
                raise StataError("conformability error", 503)
            left = Mat(left.values + right.values if op == "+" else left.values - right.values,
                       left.rows, left.cols, left.literal and right.literal)
        return left

    def term(self) -> Mat:
        left = self.unary()
        while self.peek("*") or self.peek("#") or self.peek("/"):
            op = self.toks[self.k][1]
            self.k += 1
            right = self.unary()
            both = left.literal and right.literal
            left = _binary(op, left, right)
            left.literal = both
        return left

    def unary(self) -> Mat:
        if self.peek("-"):
            self.k += 1
            m = self.unary()
            return Mat(-m.values, m.rows, m.cols, m.literal)
        return self.postfix(self.primary())

    def postfix(self, m: Mat) -> Mat:
        while True:
            if self.peek("'"):
                self.k += 1
                m = Mat(m.values.T.copy(), m.cols, m.rows)
            elif self.peek("["):
                self.k += 1
                m = self.subscript(m)
            else:
                return m

    def primary(self) -> Mat:
        t = self.peek()
        if t is None:
            raise syntax_error()
        kind, val, start, end = t
        if kind == "num":
            self.k += 1
            m = numbered([[float(val)]])
            m.literal = True
            return m
        if kind == "res":
            self.k += 1
            return lookup(self.session, val)
        if val == "(":
            return self.joined()
        if kind == "name":
            return self.named(val, start)
        if kind == "str":
            raise StataError("type mismatch", 109)
        raise syntax_error()

    def joined(self) -> Mat:
        self.take("(")
        rows = [[self.element()]]
        while True:
            if self.peek(","):
                self.k += 1
                rows[-1].append(self.element())
            elif self.peek("\\"):
                self.k += 1
                rows.append([self.element()])
            else:
                break
        self.take(")")
        return _join(rows)

    def element(self) -> Mat:
        """One element of a (a, b \\ c) literal: a matrix expression, or else a scalar
        expression Stata evaluates in place (`(e(N), exp(b[1,2])^2)`)."""
        first = self.k
        original: StataError | None = None
        try:
            m = self.expr()
            if self.k == len(self.toks) or self.peek(",") or self.peek("\\") or self.peek(")"):
                return m
        except StataError as exc:
            original = exc
        self.k = first
        depth, k = 0, first
        while k < len(self.toks):
            v = self.toks[k][1]
            if depth == 0 and v in (",", "\\", ")"):
                break
            depth += v in ("(", "[")
            depth -= v in (")", "]")
            k += 1
        if k == first:
            raise syntax_error()
        try:
            v = self.scalar_eval(self.text[self.toks[first][2]:self.toks[k - 1][3]])
        except StataError:
            if original is not None:
                raise original from None
            raise
        if isinstance(v, str):
            raise StataError("type mismatch", 109)
        self.k = k
        m = numbered([[float(v)]])
        m.literal = True
        return m

    def named(self, val: str, start: int) -> Mat:
        self.k += 1
        if self.peek("("):
            if val in MATRIX_FUNCTIONS:
                self.k += 1                     # each argument as a literal's element,
                args = [self.element()]         # so that J(1, 4, .) takes a missing value
                while self.peek(","):
                    self.k += 1
                    args.append(self.element())
                self.take(")")
                return MATRIX_FUNCTIONS[val](args)
            if val == "nullmat":
                self.k += 1
                name = self.peek()
                self.k += 1
                self.take(")")
                mats = getattr(self.session, "matrices", {})
                return lookup(self.session, name[1]) if name[1] in mats else Mat(
                    np.zeros((0, 0)), [], [])
            return self.scalar_call(start)
        mats = getattr(self.session, "matrices", {})
        if val in mats:
            return lookup(self.session, val)
        scalars = getattr(self.session, "scalars", {})
        if val in scalars:
            m = numbered([[float(scalars[val])]])
            m.literal = True
            return m
        raise not_found(val)

    def scalar_call(self, start: int) -> Mat:
        """A scalar function inside a matrix expression (rowsof(A), sqrt(2)): its text is
        handed to the scalar evaluator."""
        depth, k = 0, self.k
        while k < len(self.toks):
            v = self.toks[k][1]
            depth += v == "("
            depth -= v == ")"
            k += 1
            if depth == 0:
                break
        end = self.toks[k - 1][3]
        self.k = k
        v = self.scalar_eval(self.text[start:end])
        if isinstance(v, str):
            raise StataError("type mismatch", 109)
        m = numbered([[float(v)]])
        m.literal = True
        return m

    def subscript(self, m: Mat) -> Mat:
        parts = [[]]
        while not self.peek("]"):
            t = self.peek()
            if t is None:
                raise syntax_error()
            self.k += 1
            if t[1] == ",":
                parts.append([])
            else:
                parts[-1].append(t)
        self.take("]")
        if len(parts) == 1:
            if m.shape[0] == 1:
                parts = [[("num", "1", 0, 0)], parts[0]]
            else:
                parts = [parts[0], [("num", "1", 0, 0)]]
        if len(parts) != 2:
            raise syntax_error()
        ri = _index(parts[0], m.rows)
        ci = _index(parts[1], m.cols)
        return Mat(m.values[np.ix_(ri, ci)].copy(), [m.rows[i] for i in ri], [m.cols[j] for j in ci])


def _index(toks, names: list[str]) -> list[int]:
    """`2`, `1..3`, `2...`, `"ses"` -> 0-based positions."""
    def one(t):
        if t[0] == "num":
            i = int(float(t[1]))
            if not 1 <= i <= len(names):
                raise StataError("subscript invalid", 503)
            return i - 1
        if t[0] == "str":
            key = t[1][1:-1]
            for i, n in enumerate(names):
                if n == key or n.split(":")[-1] == key:
                    return i
            raise StataError("subscript invalid", 503)
        raise syntax_error()
    if len(toks) == 1:
        return [one(toks[0])]
    if len(toks) == 2 and toks[1][1] == "...":
        return list(range(one(toks[0]), len(names)))
    if len(toks) == 3 and toks[1][1] == "..":
        a, b = one(toks[0]), one(toks[2])
        if b < a:
            raise StataError("subscript invalid", 503)
        return list(range(a, b + 1))
    raise syntax_error()


def _binary(op: str, a: Mat, b: Mat) -> Mat:
    if op == "/":
        if b.shape != (1, 1):
            raise StataError("conformability error", 503)
        return Mat(a.values / b.values[0, 0], a.rows, a.cols)
    if op == "#":
        return numbered(np.kron(a.values, b.values))
    if a.shape == (1, 1) and b.shape != (1, 1):
        return Mat(a.values[0, 0] * b.values, b.rows, b.cols)
    if b.shape == (1, 1) and a.shape != (1, 1):
        return Mat(a.values * b.values[0, 0], a.rows, a.cols)
    if a.shape[1] != b.shape[0]:
        raise StataError("conformability error", 503)
    return Mat(a.values @ b.values, a.rows, b.cols)


def _join(rows: list[list[Mat]]) -> Mat:
    """(A, B \\ C, D); a matrix typed as numbers is named r1.. c1.. by position."""
    if all(m.literal for row in rows for m in row):
        out = _join_blocks(rows)
        return numbered(out.values) if out.values.size else out
    return _join_blocks(rows)


def _join_blocks(rows: list[list[Mat]]) -> Mat:
    blocks = []
    for row in rows:
        row = [m for m in row if m.values.size]
        if not row:
            continue
        if len({m.shape[0] for m in row}) != 1:
            raise StataError("conformability error", 503)
        blocks.append(Mat(np.hstack([m.values for m in row]), row[0].rows,
                          [c for m in row for c in m.cols]))
    if not blocks:
        return Mat(np.zeros((0, 0)), [], [])
    if len({b.shape[1] for b in blocks}) != 1:
        raise StataError("conformability error", 503)
    if len(blocks) == 1:
        return blocks[0]
    return Mat(np.vstack([b.values for b in blocks]), [r for b in blocks for r in b.rows],
               blocks[0].cols)


# ---- matrix functions -------------------------------------------------------------------------
def _square(m: Mat) -> Mat:
    if m.shape[0] != m.shape[1]:
        raise StataError("matrix not square", 505)
    return m


def _scalar_arg(m: Mat) -> float:
    if m.shape != (1, 1):
        raise StataError("conformability error", 503)
    return float(m.values[0, 0])


def _inv(args):
    m = _square(args[0])
    try:
        v = np.linalg.inv(m.values)
    except np.linalg.LinAlgError:
        raise StataError("matrix has missing values or is singular", 504) from None
    return Mat(v, m.cols, m.rows)


def _invsym(args):
    m = _square(args[0])
    return Mat(np.linalg.pinv(m.values, hermitian=True), m.cols, m.rows)


def _cholesky(args):
    m = _square(args[0])
    try:
        return Mat(np.linalg.cholesky(m.values), m.rows, m.cols)
    except np.linalg.LinAlgError:
        raise StataError("matrix not positive definite", 506) from None


def _identity(args):
    n = int(_scalar_arg(args[0]))
    if n < 1:
        raise StataError("invalid dimension", 198)
    return numbered(np.eye(n))


def _J(args):  # noqa: N802
    if len(args) != 3:
        raise syntax_error()
    r, c, v = (_scalar_arg(a) for a in args)
    return numbered(np.full((int(r), int(c)), v))


def _diag(args):
    m = args[0]
    if min(m.shape) != 1:
        raise StataError("conformability error", 503)
    names = m.cols if m.shape[0] == 1 else m.rows
    return Mat(np.diag(m.values.ravel()), list(names), list(names))


def _vecdiag(args):
    m = _square(args[0])
    return Mat(np.diag(m.values)[None, :].copy(), ["r1"], m.cols)


def _hadamard(args):
    a, b = args
    if a.shape != b.shape:
        raise StataError("conformability error", 503)
    return Mat(a.values * b.values, a.rows, a.cols)


def _corr(args):
    m = _square(args[0])
    d = np.sqrt(np.diag(m.values))
    return Mat(m.values / np.outer(d, d), m.rows, m.cols)


MATRIX_FUNCTIONS = {"inv": _inv, "invsym": _invsym, "syminv": _invsym, "cholesky": _cholesky,
                    "I": _identity, "J": _J, "diag": _diag, "vecdiag": _vecdiag,
                    "hadamard": _hadamard, "corr": _corr}


def evaluate_matrix(text: str, session, scalar_eval) -> Mat:
    """A matrix expression's value; scalar_eval evaluates scalar sub-expressions (rowsof(A))."""
    return _Parser(text, session, scalar_eval).parse()


# ---- scalar functions of matrices (el(), rowsof(), ...) ---------------------------------------
def scalar_function(name: str, m: Mat, extra: list):
    v = m.values
    if name == "rowsof":
        return float(v.shape[0])
    if name == "colsof":
        return float(v.shape[1])
    if name == "el":
        i, j = (int(x) if not isinstance(x, str) and x == x else -1 for x in extra[:2])
        if not (1 <= i <= v.shape[0] and 1 <= j <= v.shape[1]):
            return float("nan")
        return float(v[i - 1, j - 1])
    if name == "trace":
        return float(np.trace(_square(m).values))
    if name == "det":
        return float(np.linalg.det(_square(m).values))
    if name == "issymmetric":
        return float(v.shape[0] == v.shape[1] and np.array_equal(v, v.T))
    if name == "matmissing":
        return float(np.isnan(v).any())
    if name in ("rownumb", "colnumb"):
        names = m.rows if name == "rownumb" else m.cols
        key = str(extra[0])
        for i, n in enumerate(names):
            if n == key or n.split(":")[-1] == key:
                return float(i + 1)
        return float("nan")
    raise StataError(f"unknown function {name}()", 133)


SCALAR_FUNCTIONS = {"rowsof": 0, "colsof": 0, "el": 2, "trace": 0, "det": 0, "issymmetric": 0,
                    "matmissing": 0, "rownumb": 1, "colnumb": 1}
