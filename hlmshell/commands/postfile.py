"""postfile / post / postclose / postutil: build a results dataset one observation at a time.

    postfile handle [type] newvar [[type] newvar ...] using filename [, every(#) replace]
    post handle (exp) (exp) ...
    postclose handle
    postutil dir | clear

Simulation do-files (power analyses for multilevel designs) loop over replications, fit a
model and `post` its estimates, then `use` the file. The observations are kept in memory and
the .dta is written at `postclose`, atomically like every file hlmshell writes (Stata writes
every(#) observations as it goes; the finished file is the same). Types follow Stata: float by
default, `str#` for strings; a post of the wrong kind is `type mismatch` r(109).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.locate import file_spec, with_ext
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import command
from hlmshell.syntax.evaluate import evaluate_scalar
from hlmshell.syntax.lexer import find_top, matching_paren

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
_TYPE = re.compile(r"byte|int|long|float|double|str\d+|strL")


@dataclass
class Poster:
    path: str
    shown: str
    names: list[str]
    types: list[str]
    rows: list[list] = field(default_factory=list)


def _posters(session) -> dict[str, Poster]:
    p = getattr(session, "post_handles", None)
    if p is None:
        p = {}
        session.post_handles = p
    return p


def _parse_vars(text: str, default_type: str) -> tuple[list[str], list[str]]:
    names, types, pending = [], [], None
    for w in text.split():
        if _TYPE.fullmatch(w):
            if pending is not None:
                raise syntax_error()
            pending = w
            continue
        if not _NAME.fullmatch(w):
            raise StataError(f"{w} invalid name", 198)
        if w in names:
            raise StataError(f"variable {w} defined more than once", 110)
        names.append(w)
        types.append(pending or default_type)
        pending = None
    if pending is not None or not names:
        raise syntax_error()
    return names, types


@command("postfile", raw=True, byable=False, changes_data=False, family="Programming",
         desc="declare a dataset to be built with post", example="postfile h b se using sims, replace")
def postfile_cmd(session, cmd):
    text = (cmd.body or "").strip()
    comma = find_top(text, ",")
    main, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    flags = re.findall(r"\w+(?:\([^)]*\))?", opts)
    for f in flags:
        if f != "replace" and not re.fullmatch(r"every\(\s*\d+\s*\)", f):
            raise StataError(f"option {f.split('(')[0]} not allowed", 198)
    m = re.fullmatch(r"\s*(\w+)\s+(.+?)\s+using\s+(.+?)\s*", main, re.S)
    if not m:
        raise syntax_error()
    handle, varpart, target = m.groups()
    posters = _posters(session)
    if handle in posters:
        raise StataError(f"handle {handle} already exists", 110)
    names, types = _parse_vars(varpart, "float")
    path = with_ext(file_spec(target))
    if os.path.exists(path) and "replace" not in flags:
        raise StataError(f"file {path} already exists", 602)
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise StataError(f"file {path} could not be opened", 603)
    posters[handle] = Poster(path, path, names, types)


def _post_items(text: str) -> list[str]:
    items, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] != "(":
            raise StataError("post: above message corresponds to expression 1, variable", 198) \
                if not items else syntax_error()
        j = matching_paren(text, i)
        if j < 0:
            raise syntax_error()
        items.append(text[i + 1:j])
        i = j + 1
    return items


@command("post", raw=True, byable=False, changes_data=False, family="Programming",
         desc="add one observation to a postfile", example="post h (_b[x]) (_se[x])")
def post_cmd(session, cmd):
    text = (cmd.body or "").strip()
    handle, _, rest = text.partition(" ")
    poster = _posters(session).get(handle)
    if poster is None:
        raise StataError(f"handle {handle} not found", 111)
    items = _post_items(rest)
    if len(items) != len(poster.names):
        raise StataError(f"post: {len(items)} expressions for {len(poster.names)} variables", 198)
    row = []
    for k, (item, vtype) in enumerate(zip(items, poster.types), 1):
        v = evaluate_scalar(item, session)
        if isinstance(v, str) != vtype.startswith("str"):
            raise StataError(f"type mismatch\npost: above message corresponds to expression {k}, "
                             f"variable {poster.names[k - 1]}", 109)
        row.append(v)
    poster.rows.append(row)


def _close(session, handle: str) -> None:
    posters = _posters(session)
    poster = posters.pop(handle, None)
    if poster is None:
        raise StataError(f"handle {handle} not found", 111)
    from hlmshell.data.dta import write_dta
    ds = Dataset()
    for k, (nm, vtype) in enumerate(zip(poster.names, poster.types)):
        col = [r[k] for r in poster.rows]
        if vtype.startswith("str"):
            vals = np.array(col, dtype=object)
        else:
            vals = np.array(col, dtype=np.float64) if col else np.zeros(0)
        ds.add(Variable(nm, g.store(vals, vtype), vtype))
    write_dta(ds, poster.path, shown=poster.shown)


@command("postclose", raw=True, byable=False, changes_data=False, family="Programming",
         desc="close a postfile and write its dataset", example="postclose h")
def postclose_cmd(session, cmd):
    words = (cmd.body or "").split()
    if len(words) != 1:
        raise syntax_error()
    _close(session, words[0])


@command("postutil", raw=True, byable=False, changes_data=False, family="Programming",
         desc="list or clear open postfiles", example="postutil clear")
def postutil_cmd(session, cmd):
    words = (cmd.body or "").split()
    posters = _posters(session)
    if words == ["dir"] or words == ["d"]:
        if not posters:
            session.out.line("  (no postfiles open)")
        for nm, p in posters.items():
            session.out.line(f"  handle {nm}: {' '.join(p.names)} -> {p.shown}")
    elif words and words[0] == "clear":
        for nm in (words[1:] or list(posters)):
            posters.pop(nm, None)
    else:
        raise syntax_error()
