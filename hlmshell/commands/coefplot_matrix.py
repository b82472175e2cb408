"""coefplot's other sources of numbers: matrix(mspec) models and the ci(), se() and v()
options, which read a matrix instead of e(V).

    mspec:  name | name[#] | name[#,.] | name[.,#] | name[,#]
            (the first row by default; [#]: row #; [.,#]: column #)

In matrix mode the estimates are that row (or column) of a user matrix, named by its
column (row) names; se(#), ci((# #)) and at(#) then name other rows (columns) of the same
matrix, and se(mspec), v(name) and ci(name) / ci((mspec mspec)) other matrices. After an
estimation the same options read e() matrices of the model: ci(ci_bc) takes rows 1 and 2 of
e(ci_bc), se(name) a row of e(name), v(name) the diagonal of e(name)."""
from __future__ import annotations

import re

import numpy as np

from hlmshell.errors import StataError

_MSPEC = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\[\s*([^\],]*?)\s*(?:,\s*([^\]]*?)\s*)?\])?\s*\Z")


class Source:
    """Where one model's numbers come from: a user matrix (matrix mode) or an e() set."""

    def __init__(self, session, res=None, main: str | None = None):
        self.session, self.res = session, res
        self.main = None
        self.by_col = False              # matrix mode: the estimates are a column
        if main is not None:
            name, row, col = mspec(main)
            self.main = self.matrix(name)
            self.main_name = name
            self.by_col = col is not None
            self.index = (col if self.by_col else row) - 1
            self._check(self.main, self.index, self.by_col)

    # ---- matrices ----------------------------------------------------------------------
    def matrix(self, name: str):
        """(values 2-D, row names, column names) of a user matrix (matrix mode) or of the
        model's e(name)."""
        if self.res is None:
            from hlmshell.syntax import matrix_expr as mx
            m = mx.lookup(self.session, name)
            return np.atleast_2d(np.asarray(m.values, float)), list(m.rows), list(m.cols)
        names = [f"{q}:{n}" if q else n for q, n in self.res.names]
        if name == "b":
            return np.atleast_2d(np.asarray(self.res.b, float).ravel()), ["y1"], names
        if name == "V":
            return np.atleast_2d(np.asarray(self.res.V, float)), names, names
        obj = self.res.matrices.get(name)
        if obj is None:
            raise StataError(f"matrix e({name}) not found", 111)
        vals = np.atleast_2d(np.asarray(getattr(obj, "values", obj), dtype=float))
        return vals, list(getattr(obj, "rownames", [])), list(getattr(obj, "colnames", []))

    @staticmethod
    def _check(mat, index: int, by_col: bool) -> None:
        vals = mat[0]
        limit = vals.shape[1] if by_col else vals.shape[0]
        if not 0 <= index < limit:
            raise StataError("invalid subscript", 503)

    def estimates(self) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """The main vector and its (equation, name) pairs."""
        vals, rows, cols = self.main
        if self.by_col:
            return vals[:, self.index].copy(), [_split(r) for r in rows]
        return vals[self.index, :].copy(), [_split(c) for c in cols]

    def vector(self, spec: str, k: int) -> np.ndarray:
        """se()/at(): `#` (matrix mode: that row or column of the main matrix) or mspec."""
        spec = spec.strip()
        if self.main is not None and re.fullmatch(r"\d+", spec):
            idx = int(spec) - 1
            self._check(self.main, idx, self.by_col)
            vals = self.main[0]
            return vals[:, idx].copy() if self.by_col else vals[idx, :].copy()
        name, row, col = mspec(spec)
        mat = self.matrix(name)
        by_col = col is not None
        idx = (col if by_col else row) - 1
        self._check(mat, idx, by_col)
        out = mat[0][:, idx] if by_col else mat[0][idx, :]
        if len(out) != k:
            raise StataError(f"{spec}: conformability error", 503)
        return np.asarray(out, float).copy()

    def variances(self, name: str, k: int) -> np.ndarray:
        vals = self.matrix(name.strip())[0]
        if vals.shape != (k, k):
            raise StataError(f"{name}: conformability error", 503)
        return np.diag(vals).copy()

    def intervals(self, spec: str, k: int) -> list:
        """ci(): per element, a confidence level (a number >= 10 that is not a row) or a
        (lower, upper) pair of vectors."""
        out: list = []
        for item in _ci_items(spec):
            if isinstance(item, tuple):
                out.append(tuple(self.vector(v, k) for v in item))
            elif re.fullmatch(r"\d+(\.\d*)?", item) and self.main is None:
                out.append(float(item))
            else:
                out.append((self.vector(f"{item}[1]", k), self.vector(f"{item}[2]", k)))
        return out


def mspec(text: str) -> tuple[str, int | None, int | None]:
    """name[#,.] -> (name, row, None); name[.,#] -> (name, None, col); name -> row 1."""
    m = _MSPEC.match(text or "")
    if m is None:
        raise StataError(f"invalid matrix specification {text}", 198)
    name, a, b = m.group(1), (m.group(2) or "").strip(), m.group(3)
    if b is not None and b.strip() not in ("", "."):
        if a not in ("", "."):
            raise StataError(f"invalid matrix specification {text}", 198)
        return name, None, _index(b)
    return name, _index(a) if a not in ("", ".") else 1, None


def _index(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise StataError("invalid subscript", 503) from None
    if v < 1:
        raise StataError("invalid subscript", 503)
    return v


def _split(name: str) -> tuple[str, str]:
    eq, colon, coef = str(name).rpartition(":")
    return (eq, coef) if colon else ("", coef)


def _ci_items(spec: str) -> list:
    """`95 myci (2 3) (ll[1] ul[1])` -> ['95', 'myci', ('2', '3'), ('ll[1]', 'ul[1]')]."""
    items: list = []
    for m in re.finditer(r"\(([^()]*)\)|(\S+)", spec or ""):
        if m.group(1) is not None:
            parts = m.group(1).split()
            if len(parts) != 2:
                raise StataError("invalid ci()", 198)
            items.append((parts[0], parts[1]))
        else:
            items.append(m.group(2))
    return items
