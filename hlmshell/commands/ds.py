"""ds: list variables, optionally those that have (or have not) a type, label, format or
characteristic; lookfor: variables whose name or label contains a string. Both leave
r(varlist).

    ds, has(type string)        ds, not(varlabel)        ds ses, not
    ds, has(vallabel yn)        ds, has(format %10*)     lookfor school
"""
from __future__ import annotations

import fnmatch

from hlmshell.commands._toolkit import varlist
from hlmshell.errors import StataError
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, args_of, command
from hlmshell.results.base import RResults

_NUMERIC = ("byte", "int", "long", "float", "double")


def _type_ok(v, words: list[str]) -> bool:
    for w in words:
        if w == "numeric" and not v.is_string or w == "string" and v.is_string:
            return True
        if w == v.vtype or w == "str#" and v.is_string and v.vtype != "strL":
            return True
        if w.startswith("str") and fnmatch.fnmatchcase(v.vtype, w):
            return True
    return False


def _patterns_ok(text: str, words: list[str]) -> bool:
    return bool(text) and (not words or any(fnmatch.fnmatchcase(text, w) for w in words))


def matches(ds, v, spec: str) -> bool:
    """Whether variable v has what has()/not() describes."""
    words = spec.split()
    if not words:
        raise StataError("invalid syntax", 198)
    kind, rest = words[0], words[1:]
    if kind == "type":
        if not rest:
            raise StataError("invalid syntax", 198)
        bad = [w for w in rest if w not in _NUMERIC + ("numeric", "string", "str#", "strL")
               and not w.startswith("str")]
        if bad:
            raise StataError(f"{bad[0]} invalid type", 198)
        return _type_ok(v, rest)
    if "varlabel".startswith(kind) and len(kind) >= 4:
        return _patterns_ok(v.label, rest)
    if "vallabel".startswith(kind) and len(kind) >= 4:
        return _patterns_ok(v.vallab or "", rest)
    if "format".startswith(kind) and len(kind) >= 3:
        return _patterns_ok(v.format, rest)
    if kind == "char":
        return bool(v.chars) and (not rest or any(k in v.chars for k in rest))
    raise StataError(f"{kind} invalid", 198)


def _listing(session, names: list[str], width: int) -> None:
    out = session.out
    col = width + 2
    per = max(1, 79 // col)
    for i in range(0, len(names), per):
        row = names[i:i + per]
        out.line("".join(abbrev(n, width).ljust(col) for n in row).rstrip())


@command("ds", qualifiers="", changes_data=False, byable=False,
         family="Data inspection", body="varlist", desc="list variables, by type, label, format ...",
         example="ds, has(type numeric)",
         options=(Opt("has", type="anything", desc="list variables that have: type x | varlabel | vallabel | format | char"),
                  Opt("not", type="anything", desc="list variables that do not have ... (bare: the complement of varlist)"),
                  Opt("alpha", desc="list the variables in alphabetical order"),
                  Opt("detail", desc="describe the variables found"),
                  Opt("varwidth", "varw", "int", 12, desc="display width for variable names; default 12"),
                  Opt("skip", type="int", desc="accepted for Stata compatibility"),
                  Opt("indent", type="int", desc="accepted for Stata compatibility")))
def ds_cmd(session, cmd):
    opts = args_of(cmd)
    ds = session.data
    names = varlist(session, cmd.body)
    has, nothas = opts.raw("has"), opts.raw("not")
    if has is not None and nothas is not None and nothas.strip():
        raise StataError("may not specify both has() and not()", 198)
    if "not" in opts and not (nothas or "").strip():
        names = [n for n in ds.names if n not in set(names)]
    elif has is not None:
        names = [n for n in names if matches(ds, ds.var(n), has)]
    elif nothas:
        names = [n for n in names if not matches(ds, ds.var(n), nothas)]
    if opts.alpha:
        names = sorted(names)
    if opts.varwidth < 5 or opts.varwidth > 32:
        raise StataError("varwidth() must be between 5 and 32", 198)
    if opts.detail:
        _describe(session, names)
    else:
        _listing(session, names, opts.varwidth)
    session.r = RResults(macros={"varlist": " ".join(names)} if names else {})


def _describe(session, names: list[str]) -> None:
    """The variable table of describe (lookfor's and ds, detail's output)."""
    ds, out = session.data, session.out
    out.line()
    out.line("Variable      Storage   Display    Value")
    out.line("    name         type    format    label      Variable label")
    out.line("-" * 79)
    for nm in names:
        v = ds.var(nm)
        shown = abbrev(nm, 15)
        out.line((shown.ljust(16) + v.vtype.ljust(8) + v.format.ljust(11) + (v.vallab or "").ljust(11)
                  + v.label).rstrip())


@command("lookfor", qualifiers="", changes_data=False, byable=False, options=(),
         family="Data inspection", body="anything", desc="search variable names and labels for strings",
         example="lookfor school")
def lookfor_cmd(session, cmd):
    if cmd.body.count('"') % 2:
        raise StataError("unmatched quote", 198)
    words = [w.strip('"').lower() for w in cmd.body.split()]
    if not words:
        raise StataError("invalid syntax", 198)
    ds = session.data
    found = [n for n in ds.names
             if any(w in n.lower() or w in ds.var(n).label.lower() for w in words)]
    if found:
        _describe(session, found)
    session.r = RResults(macros={"varlist": " ".join(found)} if found else {})
