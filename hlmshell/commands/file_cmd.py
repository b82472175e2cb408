"""file: Stata's low-level text files (file open/write/read/close), as do-files use them to
write a results table or read a list of names.

    file open handle using filename, read|write [text] [replace|append]
    file write handle [display directives: "text" _n _tab(#) _col(#) _skip(#) %fmt exp ...]
    file read handle localmacname          (r(eof) = 1 at the end)
    file close handle | _all
    file query

A file opened for writing is collected in memory and written at `file close` through a
temporary file renamed over the target, like every file hlmshell writes: a do-file that stops
halfway never leaves a truncated file behind (Stata writes as it goes; only the end result is
the same). `append` keeps the old contents in front. Handles live outside the session's
snapshots, like Stata's.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from hlmshell.data.atomic import atomic_write
from hlmshell.data.locate import file_spec
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Sub, command
from hlmshell.results import RResults
from hlmshell.syntax.display import display_text
from hlmshell.syntax.lexer import find_top

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")


@dataclass
class Handle:
    path: str
    mode: str                      # read | write
    shown: str
    parts: list[str] = field(default_factory=list)     # written text (write mode)
    lines: list[str] = field(default_factory=list)     # read mode
    pos: int = 0


def _handles(session) -> dict[str, Handle]:
    h = getattr(session, "file_handles", None)
    if h is None:
        h = {}
        session.file_handles = h
    return h


def _open(session, rest: str) -> None:
    comma = find_top(rest, ",")
    main, opts = (rest, "") if comma < 0 else (rest[:comma], rest[comma + 1:])
    m = re.fullmatch(r"\s*(\w+)\s+using\s+(.+?)\s*", main, re.S)
    if not m:
        raise syntax_error()
    name, target = m.group(1), file_spec(m.group(2).strip())
    flags = set(opts.split())
    bad = flags - {"read", "write", "text", "replace", "append", "binary"}
    if bad:
        raise StataError(f"option {sorted(bad)[0]} not allowed", 198)
    if "binary" in flags:
        raise StataError("file open ..., binary is not available in hlmshell; use text files", 198)
    if ("read" in flags) == ("write" in flags):
        raise StataError("either read or write must be specified", 198)
    handles = _handles(session)
    if name in handles:
        raise StataError(f"file handle {name} already exists", 110)
    if "read" in flags:
        handles[name] = Handle(target, "read", target, lines=read_lines(target))
        return
    exists = os.path.exists(target)
    if exists and not flags & {"replace", "append"}:
        raise StataError(f"file {target} already exists", 602)
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise StataError(f"file {target} could not be opened", 603)
    h = Handle(target, "write", target)
    if exists and "append" in flags:
        with open(target, encoding="utf-8", errors="replace", newline="") as f:
            h.parts.append(f.read())
    handles[name] = h


def read_lines(path: str) -> list[str]:
    """A text file's lines, with Stata's errors (r(601) not found, r(603) not readable)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        raise StataError(f"file {path} not found", 601) from None
    except OSError:
        raise StataError(f"file {path} could not be opened", 603) from None


def _get(session, name: str, mode: str | None = None) -> Handle:
    h = _handles(session).get(name)
    if h is None:
        raise StataError(f"file handle {name} not found", 601)
    if mode and h.mode != mode:
        raise StataError(f"file handle {name} not open for {mode}", 198)
    return h


def _write(session, rest: str) -> None:
    m = re.match(r"\s*(\w+)\s*(.*)", rest, re.S)
    if not m:
        raise syntax_error()
    h = _get(session, m.group(1), "write")
    body = re.sub(r"\b_tab\((\s*\d+\s*)\)", lambda k: " _char(9)" * int(k.group(1)), m.group(2))
    body = re.sub(r"\b_tab\b", " _char(9)", body)
    h.parts.append(display_text(session, body + " _continue") if body.strip() else "")


def _read(session, rest: str) -> None:
    words = rest.split()
    if len(words) != 2 or not _NAME.fullmatch(words[1]):
        raise syntax_error()
    h = _get(session, words[0], "read")
    r = RResults()
    if h.pos < len(h.lines):
        session.local[words[1]] = h.lines[h.pos]
        h.pos += 1
        r.scalars["eof"] = 0.0
    else:
        session.local[words[1]] = ""
        r.scalars["eof"] = 1.0
    session.r = r


def _close(session, rest: str) -> None:
    words = rest.split()
    if len(words) != 1:
        raise syntax_error()
    handles = _handles(session)
    names = list(handles) if words[0] == "_all" else [words[0]]
    for nm in names:
        h = _get(session, nm)
        del handles[nm]
        if h.mode == "write":
            with atomic_write(h.path, shown=h.shown, text=True) as f:
                f.write("".join(h.parts))


def _query(session) -> None:
    handles = _handles(session)
    if not handles:
        session.out.line("  no files open")
        return
    for nm, h in handles.items():
        session.out.line(f"  {nm:<12} {h.mode:<6} text  {h.path}")


@command("file", raw=True, byable=False, changes_data=False, family="Programming",
         desc="read and write text files (file open/write/read/close)",
         example='file open fh using results.txt, write replace',
         subcommands=(Sub("open", "open", "open a file"), Sub("write", "w", "write to a file"),
                      Sub("read", "r", "read a line into a local"),
                      Sub("close", "close", "close a file"), Sub("query", "q", "list open files")))
def file_cmd(session, cmd):
    text = (cmd.body or "").strip()
    word, _, rest = text.partition(" ")
    if word == "open":
        _open(session, rest)
    elif word in ("w", "wr", "wri", "writ", "write"):
        _write(session, rest)
    elif word in ("r", "re", "rea", "read"):
        _read(session, rest)
    elif word == "close":
        _close(session, rest)
    elif word in ("q", "qu", "que", "quer", "query"):
        _query(session)
    elif word in ("seek", "set", "sersetwrite", "sersetread"):
        raise StataError(f"file {word} is not available in hlmshell", 198)
    else:
        raise StataError("invalid file subcommand" if word else "invalid syntax", 198)


@command("type", raw=True, byable=False, changes_data=False, family="Programming",
         desc="display the contents of a text file", example="type results.txt")
def type_cmd(session, cmd):
    """`type file [, asis smcl showtabs lines(#)]`: the file's lines as they are."""
    text = (cmd.body or "").strip()
    comma = find_top(text, ",")
    main, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    if not main.strip():
        raise syntax_error()
    limit = None
    for o in re.findall(r"\w+(?:\([^)]*\))?", opts):
        m = re.fullmatch(r"lines\((\d+)\)", o)
        if m:
            limit = int(m.group(1))
        elif o not in ("asis", "smcl", "showtabs", "starbang"):
            raise StataError(f"option {o} not allowed", 198)
    lines = read_lines(file_spec(main.strip()))
    show_tabs = "showtabs" in opts
    for ln in lines[:limit]:
        session.out.line(ln.replace("\t", "<T>") if show_tabs else ln.expandtabs(8))
