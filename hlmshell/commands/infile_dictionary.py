"""infile using a dictionary ([D] infile (fixed format)): read text data laid out by a .dct file.

    infile using dfilename[.dct] [if] [in] [, using(filename) clear automatic]

    [infile] dictionary [using filename] {
        * comments
        _column(#)  _skip(#)  _line(#)  _newline[(#)]  _lines(#)  _firstlineoffile(#)
        [type] varname [:lblname] [%infmt] ["variable label"]
    }
    (data, when no using filename)

%infmt is %#[.#]{f|g|e} or %#s / %#S: a field of # columns from the current column; a variable
without one reads the next blank-separated value from the current column. Without any column
information (outfile's dictionary) the data are free format, as infile varlist reads them.
Records are _lines(#) lines long (1 by default); _line(#) moves to a line of the record.
"""
from __future__ import annotations

import re
import shlex

from hlmshell.commands import infile_tokens as inf
from hlmshell.data.locate import find_data
from hlmshell.errors import StataError

_FMT = re.compile(r"%(\d+)(?:\.(\d+))?([fgesS])$")
_DIRECTIVE = re.compile(r"_(column|skip|line|newline|lines|firstlineoffile|first|lrecl)(?:\((\d+)\))?$")


class Field:
    """One variable of the dictionary and where it sits in a record."""

    def __init__(self, vtype, name, label, lblname, width, line, column):
        self.vtype, self.name, self.label, self.lblname = vtype, name, label, lblname
        self.width, self.line, self.column = width, line, column


def _bad(what: str) -> StataError:
    return StataError(f"invalid dictionary: {what}", 198)


def split_dictionary(text: str) -> tuple[str | None, list[str], list[str]]:
    """(data file named after `using`, the lines between the braces, the lines after)."""
    m = re.match(r"\s*(?:infile\s+)?dictionary\b(.*?)\{", text, re.DOTALL)
    if not m:
        raise _bad("dictionary { ... } not found")
    head = m.group(1).strip()
    using = None
    if head:
        hm = re.fullmatch(r"using\s+(.+)", head)
        if not hm:
            raise _bad(head)
        using = shlex.split(hm.group(1))[0] if hm.group(1).strip() else None
    rest = text[m.end():]
    close = rest.find("}")
    if close < 0:
        raise _bad("closing brace not found")
    body = rest[:close].splitlines()
    after = rest[close + 1:].split("\n", 1)
    return using, body, (after[1].splitlines() if len(after) > 1 else [])


def _variable(words: list[str], state: dict) -> Field:
    vtype = words.pop(0) if words and inf.TYPE_WORD.fullmatch(words[0]) else None
    if not words:
        raise _bad("variable name expected")
    name = words.pop(0)
    lblname = words.pop(0)[1:] if words and words[0].startswith(":") else None
    width = None
    if words and words[0].startswith("%"):
        fm = _FMT.match(words.pop(0))
        if not fm:
            raise _bad("invalid %infmt")
        width = int(fm.group(1))
        if fm.group(3) in "sS" and vtype is None:
            vtype = f"str{width}"
        state["fixed"] = True
    label = words.pop(0) if words else ""
    if words:
        raise _bad(" ".join(words))
    f = Field(vtype or "float", name, label, lblname, width, state["line"], state["column"])
    if width is not None:
        state["column"] += width
    else:
        state["column"] = None           # next free-format value: after this one
    return f


def parse_body(lines: list[str]) -> tuple[list[Field], int, int]:
    """(fields, lines per record, first line of the file)."""
    state = {"line": 1, "column": 1, "lines": 1, "first": 1, "fixed": False}
    fields: list[Field] = []
    for raw in lines:
        text = raw.strip()
        if not text or text.startswith("*"):
            continue
        try:
            words = shlex.split(text)
        except ValueError:
            raise _bad(text) from None
        while words and _DIRECTIVE.match(words[0]):
            d = _DIRECTIVE.match(words.pop(0))
            k = int(d.group(2) or 1)
            kind = d.group(1)
            if kind == "column":
                state["column"], state["fixed"] = k, True
            elif kind == "skip":
                state["column"] = (state["column"] or 1) + k
            elif kind in ("line", "newline"):
                state["line"] = k if kind == "line" else state["line"] + k
                state["column"] = 1
                state["lines"] = max(state["lines"], state["line"])
            elif kind == "lines":
                state["lines"] = max(state["lines"], k)
            elif kind in ("firstlineoffile", "first"):
                state["first"] = k
        if words:
            fields.append(_variable(words, state))
    if not fields:
        raise _bad("no variables")
    return fields, (state["lines"] if state["fixed"] or state["lines"] > 1 else 0), state["first"]


def _fixed_values(data: list[str], fields: list[Field], per: int) -> list[list]:
    """Each field's tokens ((text, quoted) or None) record by record."""
    cols: list[list] = [[] for _ in fields]
    for r in range(0, len(data) - per + 1 if per else 0, per):
        record = data[r:r + per]
        ends = {}
        for j, f in enumerate(fields):
            line = record[f.line - 1] if f.line - 1 < len(record) else ""
            start = (f.column or ends.get(f.line, 1)) - 1
            if f.width is not None:
                piece = line[start:start + f.width]
                ends[f.line] = start + f.width + 1
            else:
                m = re.match(r'\s*("([^"]*)"|\S+)', line[start:])
                piece = "" if not m else (m.group(2) if m.group(2) is not None else m.group(1))
                ends[f.line] = start + (m.end() if m else 0) + 1
            text = piece.strip() if not f.vtype.startswith("str") else piece.rstrip()
            cols[j].append((text, False) if text else None)
    return cols


def read_dictionary(session, cmd, opts, dct_name: str):
    """Fill a new dataset from the dictionary file (and its data), as infile using does."""
    path = find_data(dct_name, ".dct")
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        raise StataError(f"file {path} could not be opened", 603) from None
    using, body, after = split_dictionary(text)
    fields, per, first = parse_body(body)
    data_name = (opts.using or "").strip() or using
    if data_name:
        lines = find_data(data_name, ".raw").read_bytes().decode("utf-8", errors="replace").splitlines()
    else:
        lines = after
    lines = lines[first - 1:]
    names = [f.name for f in fields]
    if per:
        cols = _fixed_values(lines, fields, per)
    else:
        layout = [(f.vtype, f.name) for f in fields]
        cols = inf.split_columns(inf.tokens("\n".join(lines)), layout, None)
    return names, {f.name: f.vtype for f in fields}, cols, fields
