"""mata: run Mata statements (the subset in hlmshell.mata) from a do-file or the prompt.

    mata                      a block up to `end`; an error is shown and the block goes on
    mata:                     a block up to `end`; an error stops it (and the do-file)
    mata: istmt / mata istmt  one statement (an error is r(#))

In a block each statement is echoed after Mata's `: ` prompt (`> ` for its further lines),
its output follows, then a blank line, between the `mata (type end to exit)` rule and the
closing rule. The housekeeping statements (`mata clear`, `mata set ...`, `mata describe`,
`mata drop`) act on the Mata workspace, which lasts for the session as Mata's does. This
module is the only part that prints; hlmshell.mata computes.
"""
from __future__ import annotations

import re
import weakref

import numpy as np

from hlmshell.errors import StataError
from hlmshell.mata.errors import MataError
from hlmshell.mata.interpreter import Machine, Workspace
from hlmshell.mata.istmts import statements
from hlmshell.registry import command

_LINESIZE = 80
_OPEN_RULE = "-" * 49 + " mata (type end to exit) " + "-" * (_LINESIZE - 74)
_CLOSE_RULE = "-" * _LINESIZE

_WORKSPACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

_HOUSEKEEPING = re.compile(r"(?:mata\s*:?\s*)?(clear|set\s+\w+.*|describe.*|drop\s+.*|query|"
                           r"memory|mlib\s+.*|mosave\s+.*|rename\s+.*)$", re.DOTALL)


def workspace(session) -> Workspace:
    ws = _WORKSPACES.get(session)
    if ws is None:
        ws = _WORKSPACES[session] = Workspace()
    return ws


def clear_workspace(session) -> None:
    """`clear all` / `clear mata` / `mata clear`: Mata's variables and functions go."""
    ws = _WORKSPACES.get(session)
    if ws is not None:
        ws.clear()


# ---- Stata, as Mata sees it ----------------------------------------------------------------------
class SessionHost:
    """The Host protocol (hlmshell.mata.host) over a session."""

    def __init__(self, session):
        self.s = session

    @property
    def rng(self):
        return self.s.rng

    def matrix(self, name):
        from hlmshell.syntax import matrix_expr as mx
        try:
            return mx.lookup(self.s, name).values
        except StataError:
            return None

    def put_matrix(self, name, value):
        if value is None:
            self.s.matrices.pop(name, None)
        else:
            self.s.matrices[name] = np.array(value, dtype=float)

    def stripe(self, name, rows):
        from hlmshell.syntax import matrix_expr as mx
        try:
            m = mx.lookup(self.s, name)
        except StataError:
            return None
        names = m.rows if rows else m.cols
        return [tuple(x.split(":", 1)) if ":" in x else ("", x) for x in names]

    def put_stripe(self, name, rows, stripe):
        from hlmshell.commands.program import NamedMatrix
        from hlmshell.syntax import matrix_expr as mx
        m = mx.lookup(self.s, name)
        text = [f"{e}:{n}" if e else n for e, n in stripe]
        rn, cn = (text, m.cols) if rows else (m.rows, text)
        self.s.matrices[name] = NamedMatrix(m.values, rn, cn)

    def _results(self, name):
        m = re.fullmatch(r"([er])\((\w+)\)", name.replace(" ", ""))
        if m is None:
            return None, name
        return (self.s.e if m.group(1) == "e" else self.s.r), m.group(2)

    def numscalar(self, name):
        res, key = self._results(name)
        if res is not None or key != name:
            v = None if res is None else res.scalars.get(key)
        else:
            v = self.s.scalars.get(name)
        return None if v is None or isinstance(v, str) else float(v)

    def put_numscalar(self, name, value):
        if value is None:
            self.s.scalars.pop(name, None)
        else:
            self.s.scalars[name] = float(value)

    def macro(self, name, local):
        if local:
            return self.s.local.get(name, "")
        res, key = self._results(name)
        if key != name:
            return "" if res is None else str(res.macros.get(key, ""))
        return self.s.globals.get(name, "")

    def put_macro(self, name, value, local):
        (self.s.local if local else self.s.globals)[name] = value

    def varnames(self):
        return self.s.data.names

    def nobs(self):
        return self.s.data.n

    def is_string_var(self, index):
        return self.s.data.var(self.varnames()[index]).is_string

    def column(self, index):
        return self.s.data.values(self.varnames()[index])

    def add_var(self, vtype, name):
        from hlmshell.data.dataset import Variable
        if vtype not in ("byte", "int", "long", "float", "double") and not re.fullmatch(r"str\d+", vtype):
            raise MataError(3300, "invalid storage type")
        n = self.s.data.n
        values = np.full(n, "", dtype=object) if vtype.startswith("str") else np.full(n, np.nan)
        self.s.data.add(Variable(name, values, vtype))
        return self.varnames().index(name)

    def store(self, index, obs, values):
        name = self.varnames()[index]
        var = self.s.data.var(name)
        if var.is_string:
            new = np.array(var.values, dtype=object)
            new[obs] = [str(v) for v in values]
            width = max([len(str(v)) for v in new] + [1])
            vtype, form = var.vtype, var.format
            if vtype != "strL" and width > int(vtype[3:] or 1):
                if form == f"%{vtype[3:]}s":
                    form = f"%{min(width, 2045)}s"
                vtype = f"str{min(width, 2045)}"          # a longer string widens the type
            self.s.data.update(name, values=new, vtype=vtype, format=form)
            return
        new = np.array(var.values, dtype=float)
        vals = np.asarray(values, dtype=float)
        if var.vtype == "float":
            vals = np.where(np.isnan(vals), np.nan, vals.astype(np.float32).astype(float))
        new[obs] = vals
        self.s.data.update(name, values=new)

    def stata(self, text):
        """Run a Stata command; a failure shows Stata's message and returns the code."""
        try:
            self.s.runner.run_command(text)
        except StataError as e:
            if e.message:
                self.s.out.line(e.message)
            return e.rc
        return 0


def _echo_lines(group: list[int], lines: list[str], echo) -> list[str]:
    """The statement as typed (indentation and comments kept): `: ` first, `> ` after."""
    physical: list[str] = []
    for k in group:
        typed = echo[k] if echo is not None and k < len(echo) and echo[k] else [lines[k]]
        physical.extend(t.rstrip() for t in typed)
    return [(": " if i == 0 else "> ") + t for i, t in enumerate(physical)]


# ---- the command ----------------------------------------------------------------------------------
def _housekeeping(session, text: str) -> bool:
    m = _HOUSEKEEPING.match(text)
    if m is None:
        return False
    word = m.group(1).split()[0]
    if word == "clear":
        clear_workspace(session)
    elif word == "drop":
        ws = workspace(session)
        for name in m.group(1).split()[1:]:
            name = name.rstrip("()")
            ws.variables.pop(name, None)
            ws.functions.pop(name, None)
    elif word == "describe":
        _describe(session)
    return True


def _describe(session) -> None:
    """`mata describe`: the workspace's functions and variables, with their sizes."""
    ws = workspace(session)
    out = session.out
    out.line("")
    out.line("      # bytes   type                        name and extent")
    out.line("-" * 79)
    for name in sorted(ws.functions):
        out.line(f"{'':>13}   {'function':<27} {name}()")
    for name, v in sorted(ws.variables.items()):
        kind = "string" if v.dtype == object else "real"
        r, c = v.shape
        shape = ("scalar" if (r, c) == (1, 1) else "rowvector" if r == 1 else
                 "colvector" if c == 1 else "matrix")
        extent = "" if shape == "scalar" else f"[{r},{c}]"
        size = sum(len(str(x)) for x in v.ravel()) if kind == "string" else v.nbytes
        out.line(f"{size:>13,}   {kind + ' ' + shape:<27} {name}{extent}")
    out.line("-" * 79)


def _machine(session) -> Machine:
    return Machine(workspace(session), SessionHost(session), session.out.write)


def _one_line(session, text: str) -> None:
    try:
        _machine(session).run_text(text)
    except MataError as e:
        raise StataError(e.message, e.rc) from None


def _run_block(session, lines: list[str], echo, stop_on_error: bool) -> None:
    from hlmshell.syntax.macros import expand_macros

    out = session.out
    out.line(_OPEN_RULE)
    groups = statements(lines)
    machine = _machine(session)
    for g, group in enumerate(groups):
        for ln in _echo_lines(group, lines, echo):
            out.line(ln)
        if not any(lines[k].strip() for k in group):     # blank or a comment: `: ` only
            continue
        try:
            machine.run_text("\n".join(expand_macros(lines[k], session) for k in group))
        except MataError as e:
            if stop_on_error:
                left = sum(len(_echo_lines(grp, lines, echo)) for grp in groups[g + 1:])
                tail = [f"({left} line{'s' if left != 1 else ''} skipped)"] if left else []
                raise StataError("\n".join([e.message, *tail, _CLOSE_RULE]), e.rc) from None
            out.line(e.message)
            out.line(f"r({e.rc});")
        out.line("")
    out.line(": end")
    out.line(_CLOSE_RULE)


@command("mata", byable=False, qualifiers="", raw=True, family="Programming",
         desc="Mata: a block up to end, or one statement (the everyday subset of Mata)",
         example="mata: X = (1,2\\3,4); X'")
def mata_cmd(session, cmd):
    """`mata` / `mata:` open a block (its lines come from the interpreter, as input's do);
    `mata[:] istmt` runs one statement; Mata's housekeeping statements act on the workspace."""
    text = (cmd.body or "").strip()
    colon = text.startswith(":")
    if colon:
        text = text[1:].strip()
    if not text:
        lines = list(getattr(session, "input_lines", None) or [])
        _run_block(session, lines, getattr(session, "input_echo", None), stop_on_error=colon)
        return
    if _housekeeping(session, text):
        return
    _one_line(session, text)
