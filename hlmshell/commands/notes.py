"""notes: notes on the dataset and its variables, kept as characteristics the way Stata keeps
them (`_dta[note1]`, `_dta[note2]`, ... with the count in `_dta[note0]`; `var[note#]` for a
variable), so they are saved in and read from .dta files.

    notes: text                 notes ses: text        (TS in the text: a time stamp)
    notes [list] [evarlist]     notes drop evarlist [in #[/#]]     notes renumber evarname
"""
from __future__ import annotations

import re
import time

from hlmshell.commands._toolkit import varlist
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import command


def _owners(session, text: str) -> list[str]:
    words = text.split()
    if not words:
        return ["_dta"] + [n for n in session.data.names]
    out = []
    for w in words:
        if w == "_dta":
            out.append(w)
        else:
            out += varlist(session, w, all_if_empty=False)
    return out


def _notes(ds, owner: str) -> list[tuple[int, str]]:
    """(number, text) of an owner's notes, in order."""
    table = ds.dta_chars if owner == "_dta" else ds.var(owner).chars
    try:
        n = int(table.get("note0", "0") or 0)
    except ValueError:
        n = 0
    return [(k, table[f"note{k}"]) for k in range(1, n + 1) if table.get(f"note{k}")]


def _add(session, owner_text: str, text: str) -> None:
    ds = session.data
    owner = owner_text.strip() or "_dta"
    if owner != "_dta":
        names = varlist(session, owner, all_if_empty=False)
        if len(names) != 1:
            raise syntax_error()
        owner = names[0]
    text = text.strip()
    if not text:
        raise syntax_error()
    text = re.sub(r"(?<!\S)TS(?!\S)", time.strftime("%e %b %Y %H:%M").strip(), text)
    table = ds.dta_chars if owner == "_dta" else ds.var(owner).chars
    n = int(table.get("note0", "0") or 0) + 1
    ds.set_char(owner, f"note{n}", text)
    ds.set_char(owner, "note0", str(n))
    ds.changed = True


def _list(session, text: str) -> None:
    ds, out = session.data, session.out
    for owner in _owners(session, text):
        notes = _notes(ds, owner)
        if not notes:
            continue
        out.line()
        out.line(f"{owner}:")
        for k, t in notes:
            out.line(f"{str(k).rjust(3)}.  {t}")


def _drop(session, text: str) -> None:
    ds = session.data
    m = re.match(r"(.*?)(?:\s+in\s+(\d+)(?:\s*/\s*(\d+))?)?\s*$", text)
    owners = _owners(session, m.group(1))
    lo = int(m.group(2)) if m.group(2) else None
    hi = int(m.group(3)) if m.group(3) else lo
    dropped = 0
    for owner in owners:
        notes = _notes(ds, owner)
        for k, _ in notes:
            if lo is None or lo <= k <= hi:
                ds.set_char(owner, f"note{k}", "")
                dropped += 1
        if lo is None or not any(not (lo <= k <= hi) for k, _ in notes):
            ds.set_char(owner, "note0", "")
    if dropped:
        ds.changed = True
    session.out.line(f"({dropped} note{'s' if dropped != 1 else ''} dropped)")


def _renumber(session, text: str) -> None:
    ds = session.data
    for owner in _owners(session, text):
        notes = _notes(ds, owner)
        for k, _ in notes:
            ds.set_char(owner, f"note{k}", "")
        for k, (_, t) in enumerate(notes, start=1):
            ds.set_char(owner, f"note{k}", t)
        ds.set_char(owner, "note0", str(len(notes)) if notes else "")


@command("notes", abbrev="note", raw=True, byable=False,
         family="Data management", desc="place notes in the data (kept as characteristics)",
         example="notes ses: standardized within the whole sample")
def notes_cmd(session, cmd):
    body = cmd.body.strip()
    if not session.data.names and not body.startswith(":"):
        if body:
            raise StataError("no variables defined", 111)
    head, colon, tail = body.partition(":")
    if colon and not re.search(r"\b(drop|list|search|replace|renumber)\b", head):
        _add(session, head, tail)
        return
    word, _, rest = body.partition(" ")
    if word == "drop":
        _drop(session, rest)
    elif word == "renumber":
        _renumber(session, rest)
    elif word in ("list", "l"):
        _list(session, rest)
    else:
        _list(session, body)

