"""Varlists: unique-prefix abbreviations, * ? ~ wildcards, a-b ranges, factor variables."""
from __future__ import annotations

import fnmatch
import re
from dataclasses import replace

from hlmshell.data.timeseries import ts_settings
from hlmshell.errors import StataError
from hlmshell.syntax.ast import FVPart, FVTerm
from hlmshell.syntax.parser import parse_fvlist
from hlmshell.syntax.tsops import distribute_groups, split_ts_word, with_op

_NAME = re.compile(r"[^\W\d]\w{0,31}")   # Unicode letters allowed (Stata 14+)
RESERVED = {"_all", "_b", "_coef", "_cons", "_n", "_N", "_pi", "_pred", "_rc", "_se", "_skip",
            "byte", "double", "float", "if", "in", "int", "long", "using", "with", "str"}


def unabbrev(names: list[str], word: str) -> str:
    """One variable name or unique abbreviation -> the dataset's name."""
    if word in names:
        return word
    hits = [n for n in names if n.startswith(word)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise StataError(f"variable {word} not found", 111)
    raise StataError(f"{word} ambiguous abbreviation", 111)


def _expand_word(names: list[str], word: str) -> list[str]:
    if word in ("_all", "*"):
        if not names:
            raise StataError("no variables defined", 111)
        return list(names)
    if "-" in word:
        a, b = word.split("-", 1)
        if not a or not b:
            raise StataError("invalid syntax" if not names else f"variable {word} not found", 198 if not names else 111)
        ia, ib = names.index(unabbrev(names, a)), names.index(unabbrev(names, b))
        if ia > ib:
            raise StataError(f"{word}: variables out of order", 111)
        return names[ia:ib + 1]
    if any(c in word for c in "*?~"):
        if "~" in word:
            hits = [n for n in names if fnmatch.fnmatchcase(n, word.replace("~", "*"))]
            if len(hits) > 1:
                raise StataError(f"{word} ambiguous abbreviation", 111)
        else:
            hits = [n for n in names if fnmatch.fnmatchcase(n, word)]
        if not hits:
            raise StataError(f"variable {word} not found", 111)
        return hits
    if not _NAME.fullmatch(word):
        raise StataError(f"{word} invalid name" if word[:1].isalpha() else "invalid syntax", 198)
    return [unabbrev(names, word)]


def _words(text: str) -> list[str]:
    """Split a varlist, gluing `a - b` into one range word."""
    text = re.sub(r"\s*-\s*", "-", text.strip())
    return text.split()


def expand_varlist(dataset, text: str, *, new: bool = False, fv: bool = False,
                   ts: bool = False, maxvars: int | None = None):
    """Varlist text -> dataset names (or FVTerms with fv=True), in the order typed.

    new=True checks new variable names (no abbreviation; existing names are the caller's
    business). Plain varlists drop repeated names; factor-variable lists keep repeated terms
    (Stata keeps `regress y x x` and notes the second x as omitted).
    ts=True (Stata's varlist(ts)) allows time-series operators in a plain varlist: `L.x`,
    `L(1/2).x`, `LD.(x y)` give Stata's names `L.x`, `L2.x`, `LD.x`, ... (the dataset's
    Dataset.var() computes them); factor-variable lists always allow them.
    """
    names = list(dataset.names) if dataset is not None else []
    if new:
        out = _new_names(text)
    elif fv:
        out = _fv_terms(names, text, dataset)
    else:
        out = _plain_names(names, text, dataset if ts else None, ts)
    if maxvars is not None and len(out) > maxvars:
        raise StataError("too many variables specified", 103)
    return out


def _new_names(text: str) -> list[str]:
    """New variable names: valid, not reserved, not repeated, never abbreviated."""
    out: list[str] = []
    for w in text.split():
        if not _NAME.fullmatch(w) or w in RESERVED:
            raise StataError(f"{w} invalid name" if w[:1].isalpha() or w[:1] == "_" else "invalid syntax", 198)
        if w in out:
            raise StataError("invalid syntax", 198)
        out.append(w)
    return out


def _check_time(dataset) -> None:
    """Operators need a time variable: Stata's r(111) "time variable not set" otherwise."""
    if dataset is None:
        raise StataError("time variable not set, use tsset varname ...", 111)
    ts_settings(dataset)


def _expand_ts(names: list[str], word: str, dataset) -> list[str]:
    """A word with or without operators (`L(1/2).x*`) -> Stata's names, variable by variable
    (`L.x1 L2.x1 L.x2 L2.x2`)."""
    sp = split_ts_word(word)
    if sp is None:
        return _expand_word(names, word)
    ops, base = sp
    vs = _expand_word(names, base)
    if any(ops):
        _check_time(dataset)
    return [with_op(op, v) for v in vs for op in ops]


def _fv_terms(names: list[str], text: str, dataset=None) -> list[FVTerm]:
    """A factor-variable list: every part's varlist expanded (one variable per part of an
    interaction), repeated terms kept."""
    terms: list[FVTerm] = []
    for term in parse_fvlist(text):
        expanded: list[list[FVPart]] = []
        for part in term.parts:
            if part.name.startswith("R."):
                expanded.append([part])
                continue
            vs = _expand_ts(names, part.name, dataset)
            if len(vs) > 1 and term.is_interaction:
                raise StataError("invalid syntax", 198)
            expanded.append([replace(part, name=v) for v in vs])
        if term.is_interaction:
            terms.append(FVTerm(tuple(e[0] for e in expanded)))
        else:
            terms.extend(FVTerm((p,)) for p in expanded[0])
    return terms


def _plain_names(names: list[str], text: str, dataset=None, ts: bool = False) -> list[str]:
    """A plain varlist: abbreviations, wildcards and ranges expanded, repeats dropped;
    with ts, time-series operators too (`L.x`, `L(1/2).(x y)`)."""
    out: list[str] = []
    if ts:
        text = distribute_groups(text)
    for w in _words(text):
        if re.match(r"^(i|c|ib\w*|\d+)\.", w) or "#" in w:
            raise StataError("factor-variable and time-series operators not allowed", 101)
        if not ts and split_ts_word(w) is not None:
            raise StataError("time-series operators not allowed", 101)
        for v in (_expand_ts(names, w, dataset) if ts else _expand_word(names, w)):
            if v not in out:
                out.append(v)
    return out
