"""The tree-walker: runs parsed Mata statements against a workspace of variables.

The workspace (interactive variables) and the user's functions live in a Workspace that
outlives one `mata` block, as Mata's do until `mata clear`. A function body sees only its
parameters and its own variables; arguments that are plain variables are passed by
reference (written back when the function returns), as in Mata. An expression statement
whose value is not assigned shows the value (display.value_lines) through `emit`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.mata import nodes as n
from hlmshell.mata import operators as ops
from hlmshell.mata.display import value_lines
from hlmshell.mata.errors import MataError, conform, subscript, syntax, type_mismatch
from hlmshell.mata.functions import FUNCTIONS, random_functions
from hlmshell.mata.parser import parse
from hlmshell.mata.printf import render, smcl_text
from hlmshell.mata.stata_api import ST_FUNCTIONS, st_view_value
from hlmshell.mata.values import (
    is_string,
    need_real,
    need_value,
    real,
    scalar,
    str_scalar,
    strings,
    truth,
)

MAX_DEPTH = 100


@dataclass
class Workspace:
    variables: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)

    def clear(self) -> None:
        self.variables.clear()
        self.functions.clear()


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Return(Exception):
    def __init__(self, value):
        super().__init__()
        self.value = value


class Machine:
    def __init__(self, workspace: Workspace, host, emit):
        self.ws = workspace
        self.host = host
        self.emit = emit                   # emit(text): text may hold several lines
        self.scopes = [workspace.variables]
        self.passed: list[int] = []        # args(): arguments given to each running function
        self.library = dict(FUNCTIONS)
        self.library.update(random_functions(host))

    # ---- statements --------------------------------------------------------------------------
    def run_text(self, text: str) -> None:
        """Parse all of `text` (a compile error runs nothing), then run it."""
        for st in parse(text):
            try:
                self.execute(st, top=True)
            except (_Break, _Continue):
                raise syntax("break or continue outside of a loop") from None
            except _Return:
                raise syntax("return outside of a function") from None

    def execute(self, st, top: bool = False) -> None:
        kind = type(st)
        if kind is n.ExprStmt:
            self._expr_statement(st.expr)
        elif kind is n.Block:
            for s in st.body:
                self.execute(s)
        elif kind is n.If:
            if truth(self.eval(st.test)):
                self.execute(st.then)
            elif st.other is not None:
                self.execute(st.other)
        elif kind in (n.For, n.While, n.DoWhile):
            self._loop(st)
        elif kind is n.Jump:
            raise _Break() if st.kind == "break" else _Continue()
        elif kind is n.Return:
            raise _Return(None if st.value is None else self.eval(st.value))
        elif kind is n.FuncDef:
            self._define(st, top)
        elif kind is n.Declare:
            self._declare(st, top)

    def _expr_statement(self, e) -> None:
        value = self.eval(e)
        if isinstance(e, (n.Assign, n.Step)) or value is None:
            return
        lines = value_lines(value)
        if lines:
            self.emit("\n".join(lines) + "\n")

    def _loop(self, st) -> None:
        if isinstance(st, n.For) and st.init is not None:
            self.eval(st.init)
        first = True
        while True:
            if isinstance(st, n.DoWhile):
                if not first and not truth(self.eval(st.test)):
                    return
            elif st.test is not None and not truth(self.eval(st.test)):
                return
            first = False
            try:
                self.execute(st.body)
            except _Break:
                return
            except _Continue:
                pass
            if isinstance(st, n.For) and st.step is not None:
                self.eval(st.step)

    def _define(self, st: n.FuncDef, top: bool) -> None:
        if not top:
            raise syntax("function definition not allowed here")
        taken = (st.name in self.library or st.name in ST_FUNCTIONS or st.name in _OUTPUT
                 or st.name in self.ws.functions)
        if taken:     # as Mata: `mata drop f()` or `mata clear` before defining it again
            raise MataError(3000, f"{st.name}() already exists", compile_time=True)
        self.ws.functions[st.name] = st

    def _declare(self, st: n.Declare, top: bool) -> None:
        if top:
            raise syntax("declarations not allowed outside functions")

    # ---- expressions -------------------------------------------------------------------------
    def eval(self, e):
        kind = type(e)
        if kind is n.Num:
            return real(e.value)
        if kind is n.Str:
            return strings([[e.value]])
        if kind is n.Var:
            return self.lookup(e.name)
        if kind is n.Binary:
            return self._binary(e)
        if kind is n.Unary:
            v = self.eval(e.operand)
            return {"-": ops.negate, "!": ops.logical_not, "'": ops.transpose}[e.op](v)
        if kind is n.Call:
            return self.call(e)
        if kind is n.Subscript:
            return self._subscript(need_value(self.eval(e.base)), e.index)
        if kind is n.RangeSubscript:
            base = need_value(self.eval(e.base))
            rows, cols = self._range_index(base, e.corners)
            return base[rows, cols].copy()
        if kind is n.Assign:
            return self._assign(e)
        if kind is n.Step:
            return self._step(e)
        if kind is n.Discard:
            self.eval(e.operand)
            return None
        if kind is n.Cond:
            return self.eval(e.then) if truth(self.eval(e.test)) else self.eval(e.other)
        if e is None:
            return real(np.nan)
        raise syntax()

    def lookup(self, name: str):
        scope = self.scopes[-1]
        if name not in scope:
            raise MataError(3499, f"{name} not found")
        return scope[name]

    def _binary(self, e: n.Binary):
        if e.op in ("&", "|", "&&", "||"):
            left = truth(self.eval(e.left))
            if e.op in ("&", "&&"):
                return real(float(left and truth(self.eval(e.right))))
            return real(float(left or truth(self.eval(e.right))))
        return ops.binary(e.op, self.eval(e.left), self.eval(e.right))

    # ---- subscripts --------------------------------------------------------------------------
    def _positions(self, node, extent: int) -> np.ndarray:
        """1-based index expression -> 0-based positions (all for `.` or nothing)."""
        if node is None:
            return np.arange(extent)
        v = need_real(self.eval(node))
        if v.shape == (1, 1) and np.isnan(v[0, 0]):
            return np.arange(extent)
        if v.shape[0] > 1 and v.shape[1] > 1:
            raise subscript()
        flat = v.ravel()
        if np.isnan(flat).any() or (flat < 1).any() or (flat >= extent + 1).any():
            raise subscript()
        return flat.astype(int) - 1

    def _index(self, base: np.ndarray, index: tuple):
        r, c = base.shape
        if len(index) == 2:
            return np.ix_(self._positions(index[0], r), self._positions(index[1], c))
        if r == 1:
            return np.ix_([0], self._positions(index[0], c))
        if c == 1:
            return np.ix_(self._positions(index[0], r), [0])
        raise subscript()

    def _subscript(self, base: np.ndarray, index: tuple):
        rows, cols = self._index(base, index)
        return base[rows, cols].copy()

    def _range_index(self, base: np.ndarray, corners_node):
        k = need_real(self.eval(corners_node))
        r, c = base.shape
        if k.shape == (2, 2):
            r1, c1, r2, c2 = k[0, 0], k[0, 1], k[1, 0], k[1, 1]
        elif k.size == 2 and (r == 1 or c == 1):
            a, b = k.ravel()
            r1, r2, c1, c2 = (1, 1, a, b) if r == 1 else (a, b, 1, 1)
        else:
            raise subscript()
        r1, c1 = (1 if np.isnan(x) else x for x in (r1, c1))
        r2 = r if np.isnan(r2) else r2
        c2 = c if np.isnan(c2) else c2
        if not (1 <= r1 <= r2 + 1 and r2 <= r and 1 <= c1 <= c2 + 1 and c2 <= c):
            raise subscript()
        return slice(int(r1) - 1, int(r2)), slice(int(c1) - 1, int(c2))

    # ---- assignment --------------------------------------------------------------------------
    def _assign(self, e: n.Assign):
        value = need_value(self.eval(e.value))
        if e.op != "=":
            value = ops.binary(e.op[0], self.eval(e.target), value)
        target = e.target
        if isinstance(target, n.Var):
            self.scopes[-1][target.name] = value.copy()
            return value
        if not isinstance(target.base, n.Var):
            raise syntax("invalid lval")
        name = target.base.name
        base = self.lookup(name)
        if is_string(base) != is_string(value):
            raise type_mismatch()
        if isinstance(target, n.Subscript):
            where = self._index(base, target.index)
        else:
            where = self._range_index(base, target.corners)
        new = base.copy()
        shape = new[where].shape
        if value.shape != shape:
            raise conform()
        new[where] = value
        self.scopes[-1][name] = new
        return value

    def _step(self, e: n.Step):
        if not isinstance(e.target, n.Var):
            raise syntax("invalid lval")
        old = self.lookup(e.target.name)
        x = scalar(old)
        new = real(x + (1 if e.op == "++" else -1))
        self.scopes[-1][e.target.name] = new
        return new if e.prefix else old

    # ---- calls -------------------------------------------------------------------------------
    def call(self, e: n.Call):
        name = e.name
        if name in self.ws.functions:
            return self._call_user(self.ws.functions[name], e.args)
        if name == "st_view":
            return self._st_view(e.args)
        if name == "args" and not e.args and self.passed:
            return real(float(self.passed[-1]))
        if name in _IN_PLACE and e.args and isinstance(e.args[0], n.Var):
            return self._in_place(name, e.args)
        if name in _OUTPUT:
            return _OUTPUT[name](self, [self.eval(a) for a in e.args])
        table = ST_FUNCTIONS if name in ST_FUNCTIONS else self.library
        if name not in table:
            raise MataError(3499, f"{name}() not found")
        fn, lo, hi = table[name]
        if not lo <= len(e.args) <= hi:
            raise MataError(3001, "incorrect number of arguments", func=name)
        args = [self.eval(a) for a in e.args]
        try:
            return fn(self.host, args) if table is ST_FUNCTIONS else fn(args)
        except MataError as exc:
            if exc.func or exc.compile_time:
                raise
            raise exc.within(name) from None

    def _in_place(self, name: str, args: tuple):
        """_sort(X, idx), _editmissing(X, v), _invsym(A), _transpose(X): X itself changes."""
        target = args[0].name
        vals = [self.eval(a) for a in args]
        try:
            if name == "_transpose":
                if len(vals) != 1:
                    raise MataError(3001, "incorrect number of arguments")
                new = ops.transpose(vals[0])
            else:
                fn, lo, hi = self.library[name[1:]]
                if not lo <= len(vals) <= hi:
                    raise MataError(3001, "incorrect number of arguments")
                new = fn(vals)
        except MataError as exc:
            raise (exc if exc.func else exc.within(name)) from None
        self.scopes[-1][target] = new

    def _st_view(self, args):
        """st_view(V, rows, vars [, selectvar]): V gets a copy of the data (`V=.` too)."""
        target = args[0] if args else None
        if isinstance(target, n.Assign) and isinstance(target.target, n.Var):
            target = target.target
        if len(args) not in (3, 4) or not isinstance(target, n.Var):
            raise MataError(3001, "incorrect number of arguments", func="st_view")
        vals = [self.eval(a) for a in args[1:]]
        try:
            data = st_view_value(self.host, vals)
        except MataError as exc:
            raise (exc if exc.func else exc.within("st_view")) from None
        self.scopes[-1][target.name] = data

    def _call_user(self, fn: n.FuncDef, arg_nodes: tuple):
        least = len(fn.params) if fn.required < 0 else fn.required
        if not least <= len(arg_nodes) <= len(fn.params):
            raise MataError(3001, "incorrect number of arguments", func=fn.name)
        if len(self.scopes) > MAX_DEPTH:
            raise MataError(3000, "stack overflow", func=fn.name)
        values = [need_value(self.eval(a)) for a in arg_nodes]
        local = {p: v.copy() for p, v in zip(fn.params, values)}
        self.scopes.append(local)
        self.passed.append(len(values))
        result = None
        try:
            self.execute(fn.body)
        except _Return as r:
            result = r.value
        except (_Break, _Continue):
            raise syntax("break/continue outside loop") from None
        except MataError as exc:
            if exc.compile_time:
                raise
            raise exc.within(fn.name) from None
        finally:
            self.scopes.pop()
            self.passed.pop()
        for p, a in zip(fn.params, arg_nodes):   # pass by reference
            if isinstance(a, n.Var) and p in local and a.name in self.scopes[-1]:
                self.scopes[-1][a.name] = local[p]
        return result


# ---- output functions -----------------------------------------------------------------------------
def _printf(m: Machine, args):
    if not args:
        raise MataError(3001, "incorrect number of arguments", func="printf")
    m.emit(smcl_text(_render("printf", args)))


def _sprintf(m: Machine, args):
    if not args:
        raise MataError(3001, "incorrect number of arguments", func="sprintf")
    return strings([[_render("sprintf", args)]])


def _render(name: str, args) -> str:
    try:
        return render(str_scalar(args[0]), args[1:])
    except MataError as exc:
        raise (exc if exc.func else exc.within(name)) from None


def _display(m: Machine, args):
    if len(args) not in (1, 2):
        raise MataError(3001, "incorrect number of arguments", func="display")
    v = need_value(args[0])
    if not is_string(v):
        raise MataError(3250, func="display")
    for s in v.ravel():
        m.emit(smcl_text(str(s)) + "\n")


_IN_PLACE = {"_sort", "_editmissing", "_invsym", "_transpose"}

_OUTPUT = {"printf": _printf, "sprintf": _sprintf, "display": _display, "errprintf": _printf}
