"""xi: indicator variables for categorical terms, the pre-factor-variable way (`xi: regress y
i.school`), still in many course do-files written for Stata 10 and earlier.

`xi [: command]` makes, for each term, 0/1 variables named _I<var>_<level> (the lowest level
omitted), after dropping the _I* variables of the previous xi, then runs the command with each
term replaced by the variables made for it:

    i.a        _Ia_2 ... _Ia_k
    i.a*i.b    _Ia_*  _Ib_*  _IaXb_#_#  (products of the non-omitted levels)
    i.a*x      _Ia_*  x  _IaXx_#        (x times each non-omitted level of a)
    i.a|x      x  _IaXx_#
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.registry import command
from hlmshell.syntax.varlist import expand_varlist

_TERM = re.compile(r"(?<![\w.])[iI]\.([A-Za-z_]\w*)(?:([*|])([iI]\.)?([A-Za-z_]\w*))?")


def _levels(ds, name: str):
    """(level tags, code per observation: level index or -1 when missing). Integer codes are
    their own tags; other values (strings, fractions, negatives) are numbered 1..k in order."""
    v = ds.var(name)
    vals = v.values
    if v.is_string:
        present = vals != ""
        levels = sorted(set(vals[present].tolist()))
    else:
        present = ~np.isnan(vals.astype(float))
        levels = sorted(set(vals[present].tolist()))
    index = {lv: k for k, lv in enumerate(levels)}
    codes = np.array([index[x] if ok else -1 for x, ok in zip(vals.tolist(), present)], dtype=int)
    if v.is_string or any(x != int(x) or x < 0 for x in levels):
        return [float(k + 1) for k in range(len(levels))], codes
    return levels, codes


def _tag(level) -> str:
    return str(int(level)) if isinstance(level, float) else str(level)


def _stub(name: str) -> str:
    return name[:min(len(name), 24)]


class _Maker:
    """Collects the variables a term needs (created after every term checks)."""

    def __init__(self, ds):
        self.ds = ds
        self.new: list[tuple[str, np.ndarray, str]] = []
        self.notes: list[str] = []

    def dummies(self, name: str) -> list[str]:
        levels, codes = _levels(self.ds, name)
        if len(levels) < 2:
            return []
        stub = _stub(name)
        out = []
        for k in range(1, len(levels)):
            nm = f"_I{stub}_{_tag(levels[k])}"
            vals = np.where(codes < 0, np.nan, (codes == k).astype(float))
            self.new.append((nm, vals, f"{name}=={_tag(levels[k])}"))
            out.append(nm)
        first = f"_I{stub}_{_tag(levels[0])}"
        self.notes.append(f"i.{name:<16}{out[0][:-len(_tag(levels[1]))] + _tag(levels[0]) + '-' + _tag(levels[-1]):<20}"
                          f"(naturally coded; {first} omitted)")
        return out

    def by_levels(self, a: str, other: str, other_is_factor: bool) -> list[str]:
        la, ca = _levels(self.ds, a)
        out = []
        if other_is_factor:
            lb, cb = _levels(self.ds, other)
            for i in range(1, len(la)):
                for j in range(1, len(lb)):
                    nm = f"_I{_stub(a)[:10]}X{_stub(other)[:10]}_{_tag(la[i])}_{_tag(lb[j])}"
                    miss = (ca < 0) | (cb < 0)
                    vals = np.where(miss, np.nan, ((ca == i) & (cb == j)).astype(float))
                    self.new.append((nm, vals, f"{a}=={_tag(la[i])} & {other}=={_tag(lb[j])}"))
                    out.append(nm)
        else:
            x = self.ds.var(other).values.astype(float)
            for i in range(1, len(la)):
                nm = f"_I{_stub(a)[:10]}X{_stub(other)[:10]}_{_tag(la[i])}"
                vals = np.where(ca < 0, np.nan, (ca == i) * x)
                self.new.append((nm, vals, f"({a}=={_tag(la[i])})*{other}"))
                out.append(nm)
        return out

    def term(self, m: re.Match) -> str:
        a = self._var(m.group(1))
        if not m.group(2):
            return " ".join(self.dummies(a))
        b = self._var(m.group(4))
        factor_b = bool(m.group(3))
        main_a = self.dummies(a) if m.group(2) == "*" else []
        if factor_b:
            main_b = self.dummies(b)
        else:
            main_b = [b]
        inter = self.by_levels(a, b, factor_b)
        return " ".join(main_a + main_b + inter)

    def _var(self, word: str) -> str:
        return expand_varlist(self.ds, word)[0]


@command("xi", byable=False, qualifiers="", raw=True, family="Data management",
         desc="indicator variables for categorical terms; xi: runs a command with them",
         example="xi: regress mathach i.sector")
def xi_cmd(session, cmd):
    text = (cmd.body or "").strip()
    head, colon, rest = text.partition(":")
    if colon and head.strip().startswith(","):
        raise StataError(f"option {head.strip()[1:].split()[0]} not allowed", 198)
    if colon and head.strip():
        raise StataError("invalid syntax", 198)
    command_text = rest.strip() if colon else text
    if not command_text:
        raise StataError("invalid syntax", 198)
    if not colon and "," in command_text:          # `xi i.a, prefix(_J)`: not supported
        word = command_text.split(",", 1)[1].split()
        raise StataError(f"option {word[0].split('(')[0] if word else ','} not allowed", 198)
    ds = session.data
    maker = _Maker(ds)
    replaced = _TERM.sub(maker.term, command_text)
    if not maker.new and colon:
        session.runner.run_command(command_text)
        return
    for nm in [n for n in ds.names if n.startswith("_I")]:
        ds.drop([nm])
    for nm, vals, label in maker.new:
        ds.add(Variable(nm, vals, "byte", label=label))
    for note in maker.notes:
        session.out.line(note)
    if colon:
        session.runner.run_command(replaced)
