"""input: type a small dataset into a do-file, one observation per line, up to `end`.

    input str10 name age
    "Ann Lee" 34
    Bob 28
    end

Handouts build toy multilevel data this way. The interpreter gives the data lines to the
command (session.input_lines); the command echoes each, numbered as Stata does. With no data
in memory the variables are created (float unless a type is given, str# for strings); when
every variable named already exists (or none is named), the lines add observations to them.
Values are numbers or missing codes (`.`, `.a`); strings may be quoted. A line with fewer
values than variables continues on the next line, as Stata's prompt asks for the rest.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.data.dataset import Variable
from hlmshell.data.missing import parse_missing
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import command
from hlmshell.syntax.varlist import expand_varlist

_TYPE = re.compile(r"byte|int|long|float|double|strL|str([1-9]\d*)$")
_VALUE = re.compile(r'`"(.*?)"\'|"([^"]*)"|(\S+)')


def _declarations(text: str) -> list[tuple[str | None, str]]:
    """`str10 name age` -> [("str10", "name"), (None, "age")]: a type applies to the next name."""
    out: list[tuple[str | None, str]] = []
    pending = None
    for w in text.split():
        if _TYPE.fullmatch(w):
            if pending is not None:
                raise syntax_error()
            pending = w
            continue
        out.append((pending, w))
        pending = None
    if pending is not None:
        raise syntax_error()
    return out


def _values(lines: list[str]) -> list[tuple[str, bool]]:
    """Every value typed, in order: (text, quoted)."""
    out = []
    for ln in lines:
        for m in _VALUE.finditer(ln):
            if m.group(1) is not None or m.group(2) is not None:
                out.append((m.group(1) if m.group(1) is not None else m.group(2), True))
            else:
                out.append((m.group(3), False))
    return out


def read_number(text: str, quoted: bool) -> float | None:
    """A typed value as a number (`.`, `.a` ... as missing); None when it is not one (a
    quoted value never is)."""
    if quoted:
        return None
    try:
        return parse_missing(text)
    except ValueError:
        pass
    try:
        v = float(text)
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def _number(text: str, quoted: bool, name: str, obs: int) -> float:
    v = read_number(text, quoted)
    if v is None:
        raise StataError(f"'{text}' cannot be read as a number for {name}[{obs}]", 198)
    return v


def _header(names: list[str], widths: list[int]) -> str:
    return "   " + "".join(n.rjust(w) for n, w in zip(names, widths))


def _echo(session, lines: list[str], names: list[str], vtypes: list[str], first: int) -> None:
    """The header of names and each line typed, numbered from the first observation it fills."""
    widths = [max(11, int(t[3:]) + 2) if t[3:].isdigit() else 11 for t in vtypes]
    out = session.out
    out.line("")
    out.line(_header(names, widths))
    for k, ln in enumerate(lines + ["end"], first):
        out.line(f"{k:>3}. {ln.strip()}")


def _targets(session, decls) -> tuple[list[str], list[str], bool]:
    """(names, storage types, adding new variables?)"""
    ds = session.data
    if not decls:
        if not ds.names:
            raise StataError("no variables defined", 111)
        return list(ds.names), [ds.var(n).vtype for n in ds.names], False
    names = expand_varlist(None, " ".join(n for _, n in decls), new=True)
    exist = [n in ds.vars for n in names]
    if all(exist):
        if any(t is not None for t, _ in decls):
            raise StataError(f"{names[0]} already defined", 110)
        return names, [ds.var(n).vtype for n in names], False
    if any(exist):
        first = next(n for n, e in zip(names, exist) if e)
        raise StataError(f"{first} already defined", 110)
    return names, [t or "float" for t, _ in decls], True


@command("input", byable=False, qualifiers="", family="Data management", raw=True,
         desc="enter data typed in the do-file, one observation per line, up to end",
         example="input id score")
def input_cmd(session, cmd):
    body, _, options = (cmd.body or "").strip().partition(",")
    if options.strip():
        word = options.split()[0].split("(")[0]
        raise StataError(f"option {word} not allowed", 198)
    names, vtypes, new = _targets(session, _declarations(body))
    lines = list(getattr(session, "input_lines", None) or [])
    vals = _values(lines)
    k = len(names)
    nobs = -(-len(vals) // k) if vals else 0
    ds = session.data
    start = 0 if new else ds.n
    cols: list[list] = [[] for _ in names]
    for i, (text, quoted) in enumerate(vals):
        j = i % k
        obs = start + i // k + 1
        if g.is_string_type(vtypes[j]):
            cols[j].append(text)
        else:
            cols[j].append(_number(text, quoted, names[j], obs))
    for j, col in enumerate(cols):            # a last observation left short: missing
        fill = "" if g.is_string_type(vtypes[j]) else np.nan
        col += [fill] * (nobs - len(col))
    _echo(session, lines, names, vtypes, start + 1)
    total = max(ds.n, start + nobs) if not new else max(ds.n, nobs)
    if total > ds.n:
        ds.set_obs(total)
    for name, vt, col in zip(names, vtypes, cols):
        if new:
            base = np.full(total, "", dtype=object) if g.is_string_type(vt) else np.full(total, np.nan)
        else:
            base = np.array(ds.var(name).values, copy=True)
        base[start:start + nobs] = np.array(col, dtype=object if g.is_string_type(vt) else float)
        stored = g.store(base, vt)
        if new:
            ds.add(Variable(name, stored, vt))
        else:
            ds.put(ds.var(name).evolve(values=stored))
    ds.changed = True
