"""recast (change storage types) and format (set display formats)."""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.data.dataset import DEFAULT_FORMATS
from hlmshell.data.dta import STR_MAX
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt_count
from hlmshell.registry import Opt, command

_NUMERIC = ("byte", "int", "long", "float", "double")


# ----------------------------------------------------------------------------- recast
def _target_type(word: str) -> str:
    if word in _NUMERIC or word == "strL":
        return word
    m = re.fullmatch(r"str(\d+)", word)
    if m and 1 <= int(m.group(1)) <= STR_MAX:
        return word
    raise syntax_error()


def changed_count(v, new_type: str) -> tuple[int, np.ndarray]:
    """(values that the new type would change, the values stored in it)."""
    stored = g.store(v.values, new_type)
    if v.is_string:
        return int(sum(a != b for a, b in zip(v.values, stored))), stored
    same = (stored == v.values) | (np.isnan(stored) & np.isnan(v.values))
    return int((~same).sum()), stored


@command("recast", byable=False, qualifiers="",
          family="Data management", body="anything",
          desc="change the storage type of variables", example="recast double ses",
          options=(Opt("force", desc="change the type even when values change"),))
def recast_cmd(session, cmd):
    opts = typed_args(cmd)
    words = (cmd.body or "").split(None, 1)
    if len(words) < 2:
        raise StataError("varlist required", 100) if words else syntax_error()
    new = _target_type(words[0])
    ds = session.data
    for nm in varlist(session, words[1], all_if_empty=False):
        v = ds.var(nm)
        if v.is_string != g.is_string_type(new):
            raise StataError("type mismatch", 109)
        if v.vtype == new:
            continue
        k, stored = changed_count(v, new)
        if k and not opts.force:
            session.out.line(f"{nm}:  {fmt_count(k)} value{'' if k == 1 else 's'} would be changed; not changed")
            continue
        fmt = v.format
        if not v.is_string and v.format == DEFAULT_FORMATS.get(v.vtype):
            fmt = DEFAULT_FORMATS[new]
        elif v.is_string and re.fullmatch(r"%-?\d+s", v.format) and new != "strL":
            fmt = f"%{'-' if '-' in v.format else ''}{new[3:]}s"
        ds.update(nm, values=stored, vtype=new, format=fmt)
        if k:
            session.out.line(f"{nm}:  {fmt_count(k)} value{'' if k == 1 else 's'} changed")


# ----------------------------------------------------------------------------- format
_NUMFMT = re.compile(r"%-?0?\d+\.\d+[gfe]c?$|%-?0?\d+\.\d+gc$|%-?\d+x$")
_STRFMT = re.compile(r"%-?~?\d+s$")


def format_kind(spec: str) -> str:
    """'numeric', 'string' or 'time' for a valid display format, else r(120)."""
    from hlmshell.output.datefmt import check_time_format, is_time_format

    if _NUMFMT.match(spec):
        m = re.match(r"%-?0?(\d+)\.(\d+)", spec)
        if m and int(m.group(1)) <= 2045 and int(m.group(2)) < int(m.group(1)):
            return "numeric"
        raise StataError("invalid %format", 120)
    if _STRFMT.match(spec):
        if int(re.sub(r"\D", "", spec)) <= 2045:
            return "string"
        raise StataError("invalid %format", 120)
    if is_time_format(spec):
        try:
            check_time_format(spec)
        except ValueError:
            raise StataError("invalid %format", 120) from None
        return "time"
    raise StataError("invalid %format", 120)


def _split_format_body(body: str) -> tuple[str, str | None]:
    """`varlist %fmt` or `%fmt varlist` -> (varlist text, format or None)."""
    words = body.split()
    fmts = [w for w in words if w.startswith("%")]
    if len(fmts) > 1:
        raise syntax_error()
    if not fmts:
        return body, None
    f = fmts[0]
    if words[0] != f and words[-1] != f:
        raise syntax_error()
    return " ".join(w for w in words if w != f), f


@command("format", byable=False, qualifiers="", raw=True,
          family="Data management",
          desc="set (or show) variables' display formats", example="format ses %9.2f",
          options=())
def format_cmd(session, cmd):
    body = cmd.body or ""
    if "," in body:
        raise StataError("options not allowed", 101)
    vars_text, spec = _split_format_body(body.strip())
    ds = session.data
    names = varlist(session, vars_text, all_if_empty=spec is None)
    if spec is None:
        _show_formats(session, names)
        return
    if not names:
        raise StataError("varlist required", 100)
    kind = format_kind(spec)
    for nm in names:
        v = ds.var(nm)
        if v.is_string != (kind == "string"):
            raise StataError("invalid %format", 120)
    for nm in names:
        if ds.var(nm).format != spec:
            ds.update(nm, format=spec)


def _show_formats(session, names: list[str]) -> None:
    out = session.out
    out.line()
    out.line("  Variable name   Display format")
    out.line("  " + "-" * 30)
    for nm in names:
        out.line(f"  {nm:<15} {session.data.var(nm).format}")
    out.line("  " + "-" * 30)
