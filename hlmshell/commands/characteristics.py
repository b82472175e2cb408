"""char: Stata's characteristics, `_dta[name]` and `varname[name]`, kept in the dataset (and in
its .dta file).

    char _dta[source] Grunfeld (1958), from R's plm       Stata 17's syntax (define implied)
    char define inv[units] millions of 1947 dollars      the older spelling
    char inv[units]                                      (no text) deletes it
    char list                                            every characteristic
    char list _dta[]   /   char list inv[units]
    char rename oldvar newvar [, replace]                move a variable's characteristics
"""
from __future__ import annotations

import re

from hlmshell.commands._toolkit import varlist
from hlmshell.data.dataset import Dataset
from hlmshell.data.dta import CHAR_MAX, cut_utf8
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import REGISTRY, Opt, Sub, command

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}$")
_EVAR = re.compile(r"\s*([^\s\[\]]+)\s*\[\s*([^\]]*?)\s*\](.*)$", re.S)


@command("char", raw=True, byable=False, family="Data management",
         desc="characteristics of the data and of variables (_dta[name], var[name])",
         example="char _dta[source] Grunfeld investment data",
         subcommands=(Sub("define", "def", "define (or, with no text, delete) a characteristic", (),
                          "evarname[charname] [text]"),
                      Sub("list", "l", "list characteristics", (), "[evarname[[charname]]]"),
                      Sub("rename", "ren", "move the characteristics of one variable to another",
                          (Opt("replace", desc="replace the characteristics newvar has"),),
                          "oldvar newvar")))
def char_cmd(session, cmd):
    body = cmd.body.strip()
    word, _, rest = body.partition(" ")
    sub = REGISTRY.commands["char"].subcommand(word) if word and "[" not in word else None
    if sub is None:
        _define(session, body)
    elif sub.name == "define":
        _define(session, rest)
    elif sub.name == "list":
        _list(session, rest.strip())
    else:
        _rename(session, rest)


def _owner(session, name: str) -> str:
    """`_dta` or the variable an evarname (possibly abbreviated) names."""
    if name == "_dta":
        return name
    names = varlist(session, name, all_if_empty=False)
    if len(names) != 1:
        raise syntax_error()
    return names[0]


def _unquote(text: str) -> str:
    """Characteristic text as `local` takes it: one pair of enclosing quotes removed."""
    t = text.strip()
    if t.startswith('`"') and t.endswith("\"'") and len(t) >= 4:
        return t[2:-2]
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"' and '"' not in t[1:-1]:
        return t[1:-1]
    return t


def _define(session, text: str) -> None:
    m = _EVAR.match(text)
    if not m:
        raise syntax_error()
    owner = _owner(session, m.group(1))
    name = m.group(2)
    if not _NAME.match(name):
        raise StataError(f"{name} invalid name" if name else "invalid syntax", 198)
    value = _unquote(m.group(3))
    value = cut_utf8(value.encode("utf-8"), CHAR_MAX - 1).decode("utf-8")
    session.data.set_char(owner, name, value)


def _list(session, text: str) -> None:
    ds: Dataset = session.data
    owner = name = None
    if text:
        m = _EVAR.match(text)
        target = m.group(1) if m else text
        if m and m.group(3).strip():
            raise syntax_error()
        owner = _owner(session, target)
        name = (m.group(2) or None) if m else None
    for own, table in ds.characteristics().items():
        if owner is not None and own != owner:
            continue
        for key, value in table.items():
            if name is not None and key != name:
                continue
            label = f"  {own}[{key}]:"
            session.out.line(f"{label:<30}{value}" if len(label) < 30 else f"{label} {value}")


def _rename(session, text: str) -> None:
    words, _, opts = text.partition(",")
    replace = False
    for o in opts.split():
        if "replace".startswith(o) and len(o) >= len("replace"):
            replace = True
        else:
            raise StataError(f"option {o} not allowed", 198)
    names = words.split()
    if len(names) != 2:
        raise syntax_error()
    ds: Dataset = session.data
    old, new = _owner(session, names[0]), _owner(session, names[1])
    if old == "_dta" or new == "_dta":
        raise syntax_error()
    if ds.var(new).chars and not replace:
        raise StataError(f"{new} has characteristics; specify option replace", 110)
    moved = ds.var(old).chars
    if moved or replace:
        ds.update(new, chars=dict(moved))
    if moved:
        ds.update(old, chars={})
    ds.changed = True
