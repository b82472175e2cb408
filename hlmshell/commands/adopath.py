"""sysdir and adopath: where Stata looks for ado-files, and the lookup itself.

Project do-files set them up (`sysdir set PLUS "$root/ado"`, `adopath ++ "code/ado"`) and then
call their own commands written as ado-files. As in Stata, a command word that is neither built
in nor a defined program is looked up as `word.ado` along the ado-path (each folder, and its
one-letter subfolder as `net install` lays packages out); the file is run quietly, and if it
defined the program, the program runs. The path: BASE and SITE (hlmshell has nothing there),
the current folder, PERSONAL, PLUS, OLDPLACE — Stata's default order — with `adopath` edits.
"""
from __future__ import annotations

import os

from hlmshell.errors import StataError
from hlmshell.registry import command

_CODEWORDS = ("STATA", "BASE", "SITE", "PLUS", "PERSONAL", "OLDPLACE")


def _home_ado(*parts: str) -> str:
    return os.path.join(os.path.expanduser("~"), "ado", *parts) + os.sep


def sysdirs(session) -> dict[str, str]:
    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")
    table = {"STATA": here, "BASE": os.path.join(here, "ado", "base", ""),
             "SITE": os.path.join(here, "ado", "site", ""), "PLUS": _home_ado("plus"),
             "PERSONAL": _home_ado("personal"), "OLDPLACE": _home_ado()}
    table.update(session.settings.get("sysdir", {}))
    return table


def adopath_entries(session) -> list[str]:
    """Codewords (BASE, PLUS, ...) or folders, in search order."""
    return list(session.settings.get("adopath", ["BASE", "SITE", ".", "PERSONAL", "PLUS", "OLDPLACE"]))


def _folder(session, entry: str) -> str:
    return sysdirs(session).get(entry, entry)


def find_ado(session, word: str) -> str | None:
    """The file `word.ado` along the ado-path, or None."""
    if not word or not word.replace("_", "a").isalnum():
        return None
    name = f"{word}.ado"
    for entry in adopath_entries(session):
        folder = os.path.expanduser(_folder(session, entry))
        for cand in (os.path.join(folder, name), os.path.join(folder, word[0].lower(), name)):
            if os.path.isfile(cand):
                return cand
    return None


@command("sysdir", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Programming", desc="list or set the system folders", example="sysdir set PLUS ado/plus")
def sysdir_cmd(session, cmd):
    words = (cmd.body or "").split(None, 2)
    if not words or words[0] == "list":
        for code in _CODEWORDS:
            session.out.line(f"   {code + ':':<10}{sysdirs(session)[code]}")
        return
    if words[0] != "set" or len(words) != 3:
        raise StataError("invalid syntax", 198)
    code = words[1].upper()
    if code not in _CODEWORDS[1:] or words[1] != code:
        raise StataError(f"{words[1]} invalid codeword", 198)
    path = words[2].strip().strip('"')
    table = dict(session.settings.get("sysdir", {}))
    table[code] = os.path.join(path, "") if path else path
    session.settings["sysdir"] = table


@command("adopath", byable=False, qualifiers="", raw=True, changes_data=False,
         family="Programming", desc="list or change the ado-file search path",
         example='adopath + "code/ado"')
def adopath_cmd(session, cmd):
    body = (cmd.body or "").strip()
    entries = adopath_entries(session)
    if body:
        op, _, arg = body.partition(" ")
        arg = arg.strip().strip('"')
        if op not in ("+", "++", "-") or not arg:
            raise StataError("invalid syntax", 198)
        entries = _edit(entries, op, arg)
        session.settings["adopath"] = entries
    for k, e in enumerate(entries, start=1):
        code = f"({e})" if e in _CODEWORDS else ""
        session.out.line(f'  [{k}]  {code:<11} "{_folder(session, e)}"')


def _edit(entries: list[str], op: str, arg: str) -> list[str]:
    key = arg.upper() if arg.upper() in _CODEWORDS else arg
    if op == "-":
        if key.isdigit():
            k = int(key)
            if not 1 <= k <= len(entries):
                raise StataError(f"adopath element {k} not found", 111)
            return entries[:k - 1] + entries[k:]
        if key not in entries:
            raise StataError(f"{arg} not found in adopath", 111)
        return [e for e in entries if e != key]
    rest = [e for e in entries if e != key]
    return rest + [key] if op == "+" else [key] + rest
