"""over() of graph bar and graph box: the categories (several over() nest as Stata's, the
last over() outermost) and over()'s own suboptions -- label(angle() ...) for the category
axis' labels, relabel(# "text" ...), sort(varname | # | (stat) varname), descending,
missing. No command is registered here."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.errors import StataError
from hlmshell.registry import abbrev_match
from hlmshell.syntax.lexer import strip_quotes, top_words
from hlmshell.syntax.varlist import expand_varlist

# over() suboptions that only change the look
_LOOK = ("gap", "axis", "total", "lab", "labels")


@dataclass
class Over:
    """name: the first over() variable (None without over()); codes: each observation's
    category (-1: none); cats: the category codes in drawing order; labels: their texts;
    angle: label(angle()) of the category axis; sort: ('var', name) | ('yvar', k) |
    ('stat', stat, name) | None; descending."""

    name: str | None = None
    codes: np.ndarray | None = None
    cats: list = field(default_factory=lambda: [None])
    labels: list = field(default_factory=lambda: [""])
    angle: float | None = None
    sort: tuple | None = None
    descending: bool = False

    def reorder(self, key: list[float]) -> None:
        """Put the categories in the order of `key` (one number per category; NaN last),
        descending if asked; ties keep their order."""
        vals = np.asarray(key, dtype=float)
        vals = np.where(np.isnan(vals), np.inf, -vals if self.descending else vals)
        order = np.argsort(vals, kind="stable")
        self.cats = [self.cats[i] for i in order]
        self.labels = [self.labels[i] for i in order]

    def sort_by(self, session, sel: np.ndarray, heights: list, statistic) -> None:
        """over(, sort() descending): heights[k][c] is the drawn value of yvar k+1 in category
        c (sort(#)); sort(varname) orders by varname's mean per category, sort((stat) var)
        by that statistic -- statistic(stat, values) computes it."""
        if self.sort is None:
            self.reorder(list(range(len(self.cats))))
            return
        if self.sort[0] == "yvar":
            if self.sort[1] > len(heights):
                raise StataError("option sort() incorrectly specified", 198)
            self.reorder(heights[self.sort[1] - 1])
            return
        how, var = ("mean", self.sort[1]) if self.sort[0] == "var" else self.sort[1:]
        x = np.asarray(session.data.var(var).values, dtype=float)
        self.reorder([statistic(how, x[sel & (self.codes == u) & ~np.isnan(x)])
                      for u in self.cats])


def over_groups(session, own: dict, mask: np.ndarray) -> Over:
    if own.get("over") is None:
        return Over()
    ds = session.data
    names, subs = [], []
    for part in own["over"].split(gc.OVER_SEP):
        head, opts = gc.head_and_options(part)
        if not head:
            raise StataError("varlist required", 100)
        names.append(expand_varlist(ds, head)[0])
        subs.append(opts)
    cols = [np.asarray(ds.var(n).values) for n in names]
    keys = list(zip(*[c.tolist() for c in cols]))
    keep_missing = "missing" in own or any(gc.sub(o, "missing", "mis") is not None for o in subs)
    present = {k for k, m in zip(keys, mask) if m and (keep_missing or not any(
        _missing(u) for u in k))}
    order = sorted(present, key=lambda k: tuple(_sort_key(u) for u in reversed(k)))
    code_of = {k: j for j, k in enumerate(order)}
    over = Over(names[0], np.array([code_of.get(k, -1) for k in keys], dtype=int),
                list(range(len(order))))
    relabels = [_relabel(gc.sub(o, "relabel", "relab")) for o in subs]
    levels = [sorted({k[i] for k in order}, key=_sort_key) for i in range(len(names))]
    over.labels = ["\n".join(_text(ds, n, u, levels[i], relabels[i])
                             for i, (n, u) in enumerate(zip(names, k))) for k in order]
    _read_suboptions(session, over, subs[0])
    for opts in subs[1:]:
        _check_suboptions(opts)
    return over


def _missing(u) -> bool:
    return isinstance(u, float) and np.isnan(u)


def _sort_key(u):
    if isinstance(u, str):
        return (2, u, 0.0)
    return (1 if _missing(u) else 0, "", 0.0 if _missing(u) else u)


def _text(ds, name, value, levels, relabel: dict) -> str:
    idx = levels.index(value) + 1
    if idx in relabel:
        return relabel[idx]
    if _missing(value):
        return "."
    return gc.group_label(ds, name, value)


def _relabel(arg) -> dict:
    """relabel(1 "low" 2 "high") -> {1: 'low', 2: 'high'}."""
    if arg is None:
        return {}
    words = [arg[s:e] for s, e in top_words(arg)]
    if len(words) % 2:
        raise StataError("option relabel() incorrectly specified", 198)
    out = {}
    for num, text in zip(words[::2], words[1::2]):
        out[gc.integer(num, "relabel", 1)] = strip_quotes(text)
    return out


def _read_suboptions(session, over: Over, opts) -> None:
    _check_suboptions(opts)
    for o in opts:
        if abbrev_match(o.name, "label", "lab"):
            over.angle = _label_angle(o.arg or "", over.angle)
        elif abbrev_match(o.name, "descending", "desc"):
            over.descending = True
        elif o.name == "sort":
            over.sort = _sort_rule(session, o.arg or "")


def _check_suboptions(opts) -> None:
    for o in opts:
        n = o.name
        known = (abbrev_match(n, "label", "lab") or abbrev_match(n, "descending", "desc")
                 or n == "sort" or abbrev_match(n, "relabel", "relab") or n in _LOOK
                 or abbrev_match(n, "missing", "mis"))
        if not known:
            raise gc.not_allowed(n)


def _label_angle(arg: str, angle):
    """over(x, label(angle(15) labsize(small) nolabels ...)): the angle; the rest is look."""
    from hlmshell.syntax.parser import parse_options
    for o in parse_options(arg):
        if abbrev_match(o.name, "angle", "a"):
            angle = gc.angle(o.arg)
    return angle


def _sort_rule(session, arg: str) -> tuple:
    text = arg.strip()
    m = re.fullmatch(r"\(\s*(\w+)\s*\)\s*(\S+)", text)
    if m:                       # the statistic's word is checked by the command's statistic()
        return ("stat", m.group(1), expand_varlist(session.data, m.group(2))[0])
    if re.fullmatch(r"\d+", text):
        return ("yvar", gc.integer(text, "sort", 1))
    if not text:
        raise StataError("option sort() incorrectly specified", 198)
    return ("var", expand_varlist(session.data, text)[0])
