"""More of Stata's extended macro functions (`local x : ...`) that real do-files use: `dir`
(loops over data files), `label` (the text of a value), `char`, `data label`, `sortedby`,
matrix row and column names and equations of any matrix, `all globals|scalars|matrices|
numeric variables|string variables`, `copy`, `ustrlen`/`udstrlen`, `permname`, `env`.

macros.extended_function tries its own forms first and then `extended(session, spec)`; None
here means "not one of these" (the caller says invalid syntax, r(198)).
"""
from __future__ import annotations

import fnmatch
import os
import re

from hlmshell.errors import StataError
from hlmshell.syntax.lexer import strip_quotes
from hlmshell.syntax.varlist import unabbrev


def extended(session, spec: str) -> str | None:
    for pattern, handler in _FORMS:
        m = pattern.fullmatch(spec)
        if m:
            return handler(session, m)
    return None


# ---- files ---------------------------------------------------------------------------------
def _dir(session, m: re.Match) -> str:
    """`: dir "path" files|dirs|other "pattern" [, nofail respectcase]`: the names, each in
    double quotes, as Stata returns them (sorted here: the order of a directory listing is the
    file system's, not Stata's)."""
    where, kind, pattern = strip_quotes(m.group(1)), m.group(2), strip_quotes(m.group(3))
    opts = (m.group(4) or "").lstrip(",").split()
    for o in opts:
        if o not in ("nofail", "respectcase"):
            raise StataError(f"option {o} not allowed", 198)
    try:
        entries = os.listdir(where or ".")
    except OSError:
        return ""
    names = []
    for e in entries:
        full = os.path.join(where or ".", e)
        is_dir = os.path.isdir(full)
        if kind == "files" and (is_dir or not os.path.isfile(full)):
            continue
        if kind == "dirs" and not is_dir:
            continue
        if kind == "other" and (is_dir or os.path.isfile(full)):
            continue
        if kind == "dirs" and e in (".", ".."):
            continue
        if fnmatch.fnmatchcase(e, pattern):
            names.append(e)
    return " ".join(f'"{n}"' for n in sorted(names))


# ---- value labels, characteristics, the dataset --------------------------------------------
def _label(session, m: re.Match) -> str:
    """`: label (varname) #|maxlength [, strict]` and `: label lblname # [, strict]`: the text
    of value #, or # itself when it has none (empty with strict)."""
    ds = session.data
    if m.group(1):
        var = ds.var(unabbrev(ds.names, m.group(1).strip()))
        table = ds.value_labels.get(var.vallab or "", {}) if var.vallab else {}
    else:
        lbl = m.group(2)
        if lbl not in ds.value_labels:
            raise StataError(f"value label {lbl} not found", 111)
        table = ds.value_labels[lbl]
    what = m.group(3)
    strict = "strict" in (m.group(4) or "")
    if what == "maxlength":
        return str(max((len(t) for t in table.values()), default=0))
    try:
        value = float(what)
    except ValueError:
        raise StataError("invalid syntax", 198) from None
    if value in table:
        return table[value]
    return "" if strict else what


def _char(session, m: re.Match) -> str:
    ds = session.data
    owner = m.group(1)
    if owner != "_dta":
        owner = unabbrev(ds.names, owner)
    return ds.char(owner, m.group(2))


def _data_label(session, m: re.Match) -> str:
    return session.data.label or ""


def _sortedby(session, m: re.Match) -> str:
    return " ".join(session.data.sortedby)


# ---- matrices --------------------------------------------------------------------------------
def _matrix_names(session, m: re.Match) -> str:
    """rownames/colnames (names), row/colfullnames (eq:name), roweq/coleq (equations, `_`
    where a name has none) of any matrix: user matrices, e(b), e(V), r(table), ..."""
    from hlmshell.syntax import matrix_expr as mx
    which, name = m.group(1), m.group(2).strip()
    mat = mx.lookup(session, name)
    labels = [str(x) for x in (mat.rows if which.startswith("row") else mat.cols)]
    if which.endswith("fullnames"):
        return " ".join(labels)
    if which.endswith("eq"):
        return " ".join(x.split(":", 1)[0] if ":" in x else "_" for x in labels)
    return " ".join(x.split(":", 1)[1] if ":" in x else x for x in labels)


# ---- lists of names --------------------------------------------------------------------------
def _all(session, m: re.Match) -> str:
    kind = m.group(1)
    pattern = strip_quotes(m.group(2) or "").strip() or "*"
    if kind == "globals":
        names = [n for n in session.globals if not n.startswith("S_")]
    elif kind == "scalars":
        names = list(getattr(session, "scalars", {}))
    elif kind == "matrices":
        names = list(getattr(session, "matrices", {}))
    else:
        want_string = kind.startswith("string")
        names = [n for n in session.data.names if session.data.var(n).is_string == want_string]
        return " ".join(n for n in names if fnmatch.fnmatchcase(n, pattern))
    return " ".join(sorted(n for n in names if fnmatch.fnmatchcase(n, pattern)))


def _copy(session, m: re.Match) -> str:
    src = session.local if m.group(1) == "local" else session.globals
    return src.get(m.group(2), "")


def _ulen(session, m: re.Match) -> str:
    import unicodedata
    src = session.local if m.group(2) == "local" else session.globals
    text = src.get(m.group(3), "")
    if m.group(1) == "ustrlen":
        return str(len(text))
    wide = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
    return str(wide)


def _permname(session, m: re.Match) -> str:
    """A new variable name built from the suggestion, unused in the data."""
    base = m.group(1)[:32]
    taken = set(session.data.names)
    if base not in taken:
        return base
    for k in range(1, 100000):
        cand = f"{base[:32 - len(str(k))]}{k}"
        if cand not in taken:
            return cand
    raise StataError("no name available", 110)


def _env(session, m: re.Match) -> str:
    return os.environ.get(m.group(1), "")


_FORMS = [
    (re.compile(r"dir\s+(\"[^\"]*\"|`\".*?\"'|\S+)\s+(files|dirs|other)\s+(\"[^\"]*\"|`\".*?\"'|\S+)"
                r"\s*(,.*)?", re.S), _dir),
    (re.compile(r"lab(?:e|el)?\s+(?:\(\s*(\w+)\s*\)|(\w+))\s+(\S+)\s*(,\s*\w+)?"), _label),
    (re.compile(r"char\s+(\w+)\s*\[\s*(\w+)\s*\]"), _char),
    (re.compile(r"data\s+label"), _data_label),
    (re.compile(r"sortedby"), _sortedby),
    (re.compile(r"(rownames|colnames|rowfullnames|colfullnames|roweq|coleq)\s+(.+)", re.S),
     _matrix_names),
    (re.compile(r"all\s+(globals|scalars|matrices|numeric\s+variables|string\s+variables)"
                r"(?:\s+(\"[^\"]*\"))?"), _all),
    (re.compile(r"copy\s+(local|global)\s+(\w+)"), _copy),
    (re.compile(r"(ustrlen|udstrlen)\s+(local|global)\s+(\w+)"), _ulen),
    (re.compile(r"permname\s+(\w+)(?:\s*,\s*length\(\d+\))?"), _permname),
    (re.compile(r"env(?:ironment)?\s+(\w+)"), _env),
]
