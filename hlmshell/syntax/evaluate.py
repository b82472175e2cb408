"""Evaluate expressions over the observations of the dataset, with Stata's missing rules.

Values are float64 arrays (missing = NaN, ordered above every number), object arrays of str,
or plain float/str for observation-free expressions. Comparisons use order_key so that
`x > 5` is true for a missing x; arithmetic on missing gives '.', x/0 gives '.'; logical
operators treat any nonzero value, missing included, as true.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.data.missing import order_key
from hlmshell.data.timeseries import canonical_name, split_name, ts_name, ts_values
from hlmshell.errors import StataError
from hlmshell.limits import MAX_STRLEN, check_memory, no_memory
from hlmshell.syntax.expr_ast import Binary, Call, Coef, Expr, Name, Num, Str, Subscript, Unary
from hlmshell.syntax.functions import FUNCTIONS, clean, creturn_value, is_str, num
from hlmshell.syntax.parser import parse_expr
from hlmshell.syntax.varlist import expand_varlist, unabbrev


def _tofloat(b) -> float | np.ndarray:
    b = np.asarray(b)
    return b.astype(float) if b.ndim else float(b)


class Evaluator:
    def __init__(self, session, groups=None):
        self.session = session
        self.data = session.data
        self.n = self.data.n
        self.groups = None if groups is None else np.asarray(groups)
        self._gstart = None

    # -- by-groups ---------------------------------------------------------------------------
    def group_start(self) -> np.ndarray:
        """Index of the first observation of each observation's group."""
        if self._gstart is None:
            g = self.groups
            n = len(g)
            new = np.ones(n, dtype=bool)
            if n > 1:
                new[1:] = g[1:] != g[:-1]
            idx = np.where(new, np.arange(n), 0)
            self._gstart = np.maximum.accumulate(idx)
        return self._gstart

    def group_size(self) -> np.ndarray:
        start = self.group_start()
        n = len(start)
        new = np.r_[True, start[1:] != start[:-1]] if n else np.zeros(0, bool)
        starts = np.flatnonzero(new)
        sizes = np.diff(np.r_[starts, n])
        return np.repeat(sizes, sizes).astype(float)

    # -- nodes -----------------------------------------------------------------------------------
    def ev(self, e: Expr):
        if isinstance(e, Num):
            return e.value
        if isinstance(e, Str):
            return e.value
        if isinstance(e, Name):
            return self.name(e.name)
        if isinstance(e, Binary):
            return self.binary(e)
        if isinstance(e, Unary):
            v = self.ev(e.operand)
            if e.op == "!":
                return _tofloat(np.asarray(num(v)) == 0)
            if e.op == "-":
                return clean(-num(v))
            return num(v)
        if isinstance(e, Call):
            return self.call(e)
        if isinstance(e, Subscript):
            return self.subscript(e)
        if isinstance(e, Coef):
            return self.coef(e)
        raise StataError("invalid syntax", 198)

    def name(self, nm: str):
        s = self.session
        if nm == "_n":
            if self.groups is not None:
                return (np.arange(self.n) - self.group_start() + 1).astype(float)
            return np.arange(1, self.n + 1, dtype=float)
        if nm == "_N":
            if self.groups is not None:
                return self.group_size()
            return float(self.n)
        if nm == "_pi":
            return math.pi
        if nm == "_rc":
            return float(s.rc)
        if nm in self.data.vars:
            # the stored column itself, not a copy: it is read-only (copy-on-write columns)
            return self.data.vars[nm].values
        if nm in s.scalars:
            return _scalar_value(s.scalars[nm])
        if nm == "_cons":
            return 1.0
        if "." in nm:
            return self.ts_name(nm)
        try:
            full = unabbrev(self.data.names, nm)
        except StataError as err:
            if "ambiguous" in err.message:
                raise
            raise StataError(f"variable {nm} not found", 111) from None
        return self.data.vars[full].values

    def ts_name(self, nm: str):
        """`L.x`, `D2.x`, `LD.x` (operators canonical from the parser; x may be abbreviated):
        matched by panel and time, whatever the sort order and the by-groups."""
        sp = split_name(nm)
        if sp is None:
            raise StataError("invalid syntax", 198)
        op, base = sp
        try:
            full = unabbrev(self.data.names, base)
        except StataError as err:
            if "ambiguous" in err.message:
                raise
            raise StataError(f"variable {base} not found", 111) from None
        return ts_values(self.data, ts_name(op, full))

    def binary(self, e: Binary):
        op = e.op
        a = self.ev(e.left)
        b = self.ev(e.right)
        if op in ("&", "|"):
            x = np.asarray(num(a)) != 0
            y = np.asarray(num(b)) != 0
            return _tofloat(x & y if op == "&" else x | y)
        if op in _COMPARE:
            return _compare(op, a, b)
        sa, sb = is_str(a), is_str(b)
        if op == "+" and (sa or sb):
            return _concat(a, b, sa, sb)
        if op == "*" and (sa or sb):
            return _repeat(a, b, sa, sb)
        return _arith(op, num(a), num(b))

    def call(self, e: Call):
        f = e.func
        if f in ("e", "r", "c") and len(e.args) == 1 and isinstance(e.args[0], Name):
            return self.result(f, e.args[0].name)
        if f == "scalar" and len(e.args) == 1 and isinstance(e.args[0], Name):
            nm = e.args[0].name
            if nm not in self.session.scalars:
                raise StataError(f"scalar {nm} not found", 111)
            return _scalar_value(self.session.scalars[nm])
        if f in _MATRIX_SCALAR:
            return self.matrix_function(e)
        fn = FUNCTIONS.get(f)
        if fn is None:
            raise StataError(f"unknown function {f}()", 133)
        args = [self.ev(a) for a in e.args]
        return fn(self, args)

    def matrix_function(self, e: Call):
        """el(M, i, j), rowsof(M), colsof(M), trace(), det(), colnumb(M, "name") ...: the
        first argument names a matrix (M, e(V), r(table)), it is not evaluated."""
        from hlmshell.syntax import matrix_expr as mx
        if not e.args:
            raise StataError("invalid syntax", 198)
        first = e.args[0]
        if isinstance(first, Name):
            name = first.name
        elif isinstance(first, Call) and first.func in ("e", "r") and len(first.args) == 1 \
                and isinstance(first.args[0], Name):
            name = f"{first.func}({first.args[0].name})"
        else:
            raise StataError("invalid syntax", 198)
        if len(e.args) - 1 != mx.SCALAR_FUNCTIONS[e.func]:
            raise StataError("invalid syntax", 198)
        extra = []
        for a in e.args[1:]:
            v = np.asarray(self.ev(a)).ravel()
            v = v[0] if v.size else float("nan")
            extra.append(str(v) if isinstance(v, str) or np.asarray(v).dtype.kind in "OUS"
                         else float(v))
        return mx.scalar_function(e.func, mx.lookup(self.session, name), extra)

    def result(self, kind: str, key: str):
        s = self.session
        if kind == "c":
            return creturn_value(s, key)
        res = s.r if kind == "r" else s.e
        if res is None:
            return float("nan")
        if kind == "e" and key == "sample":
            if res.sample is None or len(res.sample) != self.n:
                return np.zeros(self.n)
            return np.asarray(res.sample, dtype=float)
        if key in res.scalars:
            return float(res.scalars[key])
        if key in res.macros:
            return str(res.macros[key])
        return float("nan")

    def subscript(self, e: Subscript):
        s = self.session
        nm = e.name
        if len(e.index) == 2 or "(" in nm or (nm not in self.data.vars and nm in s.matrices):
            return self.matrix_element(nm, e.index)
        if nm in ("_b", "_se"):
            raise StataError("invalid syntax", 198)
        values = self.name(nm)
        if not isinstance(values, np.ndarray):
            raise StataError(f"variable {nm} not found", 111)
        idx = np.asarray(num(self.ev(e.index[0])), dtype=float)
        n = self.n
        idx = np.broadcast_to(idx, (n,)) if idx.ndim == 0 and n else idx
        with np.errstate(invalid="ignore"):
            k = np.where(np.isnan(idx), -1, np.trunc(idx)).astype(np.int64)
        if self.groups is not None:
            start = self.group_start()
            size = self.group_size().astype(np.int64)
            ok = (k >= 1) & (k <= size)
            pos = np.where(ok, start + k - 1, 0)
        else:
            ok = (k >= 1) & (k <= n)
            pos = np.where(ok, k - 1, 0)
        if n == 0:
            return values[:0]
        got = values[pos]
        if values.dtype == object:
            return np.where(ok, got, "")
        return np.where(ok, got, np.nan)

    def matrix_element(self, nm, index):
        """M[i, j] (or M[i] of a vector), i and j numbers or row/column names."""
        from hlmshell.syntax import matrix_expr as mx
        m = mx.lookup(self.session, nm)
        pos = []
        for axis, i in enumerate(index):
            v = np.asarray(self.ev(i)).ravel()[:1]
            pos.append(self._matrix_position(v, m.rows if axis == 0 else m.cols))
        if len(pos) == 1:
            pos = [0, pos[0]] if m.shape[0] == 1 else [pos[0], 0]
        i, j = pos
        if not (0 <= i < m.shape[0] and 0 <= j < m.shape[1]):
            raise StataError("subscript invalid", 503)
        return float(m.values[i, j])

    @staticmethod
    def _matrix_position(v, names) -> int:
        if v.dtype == object or v.dtype.kind in "US":
            key = str(v[0]) if v.size else ""
            for k, n in enumerate(names):
                if n == key or n.split(":")[-1] == key:
                    return k
            raise StataError("subscript invalid", 503)
        first = float(v[0]) if v.size else float("nan")
        if not math.isfinite(first):
            raise StataError("subscript invalid", 503)
        return int(first) - 1

    def coef(self, e: Coef):
        res = self.session.e
        if res is None:
            raise StataError("last estimates not found", 301)
        eq, name = e.eq, e.name
        if eq is None and name.startswith("/"):      # _b[/var(e.y)]: Stata's free-parameter equation
            eq, name = "/", name[1:]
        name = _normalise_coef(name, res)
        k = res.coef_index(eq, name)
        if k < 0:
            shown = f"{e.eq}:{e.name}" if e.eq else e.name
            raise StataError(f"[{shown}] not found", 111)
        if e.kind == "b":
            return float(np.asarray(res.b).ravel()[k])
        v = float(np.asarray(res.V)[k, k])
        return math.sqrt(v) if v >= 0 else float("nan")


def _normalise_coef(name: str, res) -> str:
    """Accept the spellings Stata accepts: 'ses' for 'c.ses' parts, 'i2.x'-free forms."""
    known = {n for _, n in res.names}
    if name in known:
        return name
    # time-series operators as Stata spells them: l.x -> L.x, DL.x -> LD.x, cL.x -> c.L.x
    parts = [_ts_part(p) for p in name.split("#")]
    name = "#".join(parts)
    if name in known:
        return name
    alt = "#".join(p[2:] if p.startswith("c.") else p for p in parts)
    if alt in known:
        return alt
    alt2 = "#".join(p if ("." in p) else f"c.{p}" for p in parts)
    if alt2 in known:
        return alt2
    return name


_FV_TS = re.compile(r"(\d*[bon]*|c|co)((?:[LFDSlfds]\d*)+)\.([A-Za-z_]\w*)")


def _ts_part(part: str) -> str:
    """One part of a coefficient name with its operators canonical: `l2.x` -> `L2.x`,
    `cL.x` -> `c.L.x`, `1L.f` -> `1.L.f` (hlmshell's interaction names)."""
    m = _FV_TS.fullmatch(part)
    if not m:
        return part
    op = canonical_name(f"{m.group(2)}.{m.group(3)}")
    return f"{m.group(1)}.{op}" if m.group(1) else op


def _scalar_value(v):
    if isinstance(v, str):
        return v
    return float(v)


def evaluate(expr, session, *, groups=None):
    """Expr (or expression text) -> array per observation, or a scalar when no variable is used."""
    if isinstance(expr, str):
        expr = parse_expr(expr)
    try:
        with np.errstate(all="ignore"):     # log(0), 0/0, exp(1000): missing, not a warning
            return Evaluator(session, groups).ev(expr)
    except RecursionError:
        raise StataError("expression too long", 130) from None


def evaluate_scalar(expr, session):
    """One value: Stata uses the first observation when an expression refers to variables."""
    v = evaluate(expr, session)
    if isinstance(v, np.ndarray):
        if v.size == 0:
            return "" if v.dtype == object else float("nan")
        return v.ravel()[0] if v.dtype == object else float(v.ravel()[0])
    return v


# ---- samples ------------------------------------------------------------------------------------
def in_mask(n: int, rng) -> np.ndarray:
    def pos(v, default):
        if v == "f":
            return 1
        if v == "l":
            return n
        v = int(v)
        return n + v + 1 if v < 0 else v

    a, b = pos(rng.start, 1), pos(rng.end, n)
    if a < 1 or b > n or a > b:
        raise StataError("observation numbers out of range", 198)
    m = np.zeros(n, dtype=bool)
    m[a - 1:b] = True
    return m


_MATRIX_SCALAR = {"rowsof", "colsof", "el", "trace", "det", "issymmetric", "matmissing",
                  "rownumb", "colnumb"}


def by_codes(session):
    """The by-group number of every observation while a command runs under by (else None):
    per-observation expressions (if, assert) then see _n and _N within the group."""
    if getattr(session, "by_restrict", None) is None:
        return None
    return getattr(session, "by_codes", None)


def marksample(session, cmd, varnames=(), *, strok: bool = False) -> np.ndarray:
    """Observations selected by if/in (and the by-group being run), nonmissing in varnames."""
    data = session.data
    n = data.n
    mask = np.ones(n, dtype=bool)
    if cmd is not None and cmd.in_ is not None:
        mask &= in_mask(n, cmd.in_)
    if cmd is not None and cmd.if_ is not None:
        # under a by prefix, _n and _N in `if` count within the by-group, as in Stata
        v = evaluate(cmd.if_, session, groups=by_codes(session))
        if is_str(v):
            raise StataError("type mismatch", 109)
        mask &= np.broadcast_to(np.asarray(v, dtype=float) != 0, (n,))
    br = getattr(session, "by_restrict", None)
    if br is not None:
        mask &= np.asarray(br, dtype=bool)
    if cmd is not None and cmd.weight is not None:
        w = evaluate(cmd.weight.exp, session)
        if is_str(w):
            raise StataError("type mismatch", 109)
        w = np.broadcast_to(np.asarray(w, dtype=float), (n,))
        mask &= ~np.isnan(w) & (w != 0)     # marksample drops missing and zero weights
    for nm in varnames:
        var = data.var(nm)
        if var.is_string:
            if strok:
                mask &= var.values != ""
            else:
                mask &= False
        else:
            mask &= ~np.isnan(var.values)
    return mask


# ---- by-groups ---------------------------------------------------------------------------------------
def _sort_keys(data, names):
    keys = []
    for nm in names:
        v = data.var(nm)
        if v.is_string:
            _, inv = np.unique(v.values.astype(str), return_inverse=True)
            keys.append(inv.astype(float))
        else:
            keys.append(order_key(v.values))
    return keys


def sort_data(session, names) -> None:
    """Stable sort of the dataset on `names` (Stata order, missing last)."""
    data = session.data
    if data.n > 1:
        keys = _sort_keys(data, names)
        idx = np.lexsort(keys[::-1])
        if not np.array_equal(idx, np.arange(data.n)):
            data.take(idx)
    data.sortedby = list(names)


def _is_sorted(data, names) -> bool:
    if data.sortedby[: len(names)] == list(names):
        return True
    n = data.n
    if n < 2:
        return True
    keys = _sort_keys(data, names)
    ok_prev_eq = np.ones(n - 1, dtype=bool)
    for k in keys:
        a, b = k[:-1], k[1:]
        if np.any(ok_prev_eq & (b < a)):
            return False
        ok_prev_eq &= (a == b)
    return True


def by_groups(session, prefix) -> np.ndarray:
    """Integer group code per observation (0, 1, ...) for a `by` prefix; sorts for bysort."""
    data = session.data
    byv = expand_varlist(data, " ".join(prefix.by_vars))
    sv = expand_varlist(data, " ".join(prefix.sort_vars)) if prefix.sort_vars else []
    if prefix.sort:
        sort_data(session, byv + sv)
    elif not _is_sorted(data, byv + sv):
        raise StataError("not sorted", 5)
    n = data.n
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    for k in _sort_keys(data, byv):
        change[1:] |= k[1:] != k[:-1]
    return np.cumsum(change).astype(np.int64)


_COMPARE = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
            ">": np.greater, ">=": np.greater_equal}


def _compare(op: str, a, b):
    """a op b for two strings or two numbers (missing values sort above every number)."""
    sa = is_str(a)
    if sa != is_str(b):
        raise StataError("type mismatch", 109)
    if sa:
        x, y = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    else:
        x, y = order_key(num(a)), order_key(num(b))
    return _tofloat(np.asarray(_COMPARE[op](x, y), dtype=bool))


def _concat(a, b, sa: bool, sb: bool):
    """string + string."""
    if not (sa and sb):
        raise StataError("type mismatch", 109)
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    A, B = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
    return np.array([x + y for x, y in zip(A.ravel(), B.ravel())], dtype=object).reshape(A.shape)


def _repeat(a, b, sa: bool, sb: bool):
    """string * n (either order): the string n times; nothing for n missing or negative."""
    if sa and sb:
        raise StataError("type mismatch", 109)
    s, k = (a, b) if sa else (b, a)
    S, K = np.broadcast_arrays(np.asarray(s, dtype=object), np.asarray(k, dtype=float))
    counts = [0 if math.isnan(c) or c < 0 or not t else c for t, c in zip(S.ravel(), K.ravel())]
    sizes = [len(t) * c for t, c in zip(S.ravel(), counts)]
    if sizes and (max(sizes) > MAX_STRLEN):
        raise no_memory()           # longer than any string Stata can hold
    check_memory(sum(sizes))
    r = np.array([t * int(c) for t, c in zip(S.ravel(), counts)],
                 dtype=object).reshape(S.shape)
    return r if r.ndim else str(r.item())


def _arith(op: str, x, y):
    """Numeric + - * / ^ with Stata's missing values (x/0 is missing)."""
    with np.errstate(all="ignore"):
        if op == "+":
            r = np.add(x, y)
        elif op == "-":
            r = np.subtract(x, y)
        elif op == "*":
            r = np.multiply(x, y)
        elif op == "/":
            ya = np.asarray(y, dtype=float)
            r = np.where(ya == 0, np.nan, np.divide(x, np.where(ya == 0, 1.0, ya)))
        elif op == "^":
            xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
            r = np.where(np.isnan(xa) | np.isnan(ya), np.nan, np.power(xa, ya))
        else:
            raise StataError("invalid syntax", 198)
    r = np.asarray(r, dtype=float)
    return clean(r if r.ndim else float(r))
