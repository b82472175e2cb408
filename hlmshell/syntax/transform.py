"""lark trees -> expression nodes (expr_ast) and factor-variable terms (ast.FVTerm)."""
from __future__ import annotations

import re

from hlmshell.data.missing import parse_missing
from hlmshell.data.timeseries import canonical_name
from hlmshell.errors import StataError
from hlmshell.syntax.ast import FVPart, FVTerm
from hlmshell.syntax.expr_ast import Binary, Call, Coef, Name, Num, Str, Subscript, Unary
from hlmshell.syntax.grammar_loader import Transformer
from hlmshell.syntax.tsops import split_prefix, with_op

_COEF = re.compile(r"(?:\[([^\]]*)\]\s*)?_(b|se|coef)\[((?:[^\]\[]|\[[^\]\[]*\])*)\]")
_EQ_NAME = re.compile(r"\[([^\]]*)\]\s*(\S+)")     # [eq]name: _b[eq:name]


def _bin(op):
    def f(self, items):
        return Binary(op, items[0], items[1])

    return f


class ExprTransformer(Transformer):
    or_ = _bin("|")
    and_ = _bin("&")
    add = _bin("+")
    sub = _bin("-")
    mul = _bin("*")
    div = _bin("/")
    pow = _bin("^")

    eq = _bin("==")
    ge = _bin(">=")
    le = _bin("<=")
    lt = _bin("<")
    gt = _bin(">")

    def ne(self, items):
        return Binary("!=", items[0], items[2])

    def neg(self, items):
        a = items[0]
        if isinstance(a, Num) and not a.text.startswith("-") and a.value == a.value:
            return Num(-a.value, "-" + a.text)
        return Unary("-", a)

    def pos(self, items):
        return items[0]

    def not_(self, items):
        return Unary("!", items[1])

    def number(self, items):
        t = str(items[0])
        v = float(t)
        return Num(v if v != float("inf") else float("nan"), t)

    def missing(self, items):
        t = str(items[0])
        return Num(parse_missing(t), t)

    def string(self, items):
        return Str(str(items[0])[1:-1])

    def cstring(self, items):
        return Str(str(items[0])[2:-2])

    def coef(self, items):
        m = _COEF.fullmatch(str(items[0]).strip())
        if m is None:
            short = _EQ_NAME.fullmatch(str(items[0]).strip())
            return Coef("b", short.group(1).strip(), short.group(2))
        eq, kind, inner = m.group(1), m.group(2), m.group(3)
        inner = re.sub(r"\s+", "", inner)
        if ":" in inner and eq is None:
            eq, inner = inner.split(":", 1)
        return Coef("se" if kind == "se" else "b", eq.strip() if eq else None, inner)

    def name(self, items):
        # `l2d.x` -> Name('L2D.x'): a time-series operated variable, named as Stata does
        return Name(canonical_name(str(items[0])))

    def call(self, items):
        fname = str(items[0])
        args = tuple(a for a in items[1:] if a is not None)
        return Call(fname, args)

    def subscript(self, items):
        return Subscript(re.sub(r"\s+", "", str(items[0])), tuple(items[1:]))


def _prefix_part(prefix: str | None, name: str, in_interaction: bool) -> FVPart:
    if prefix is None:
        return FVPart(name, factor=in_interaction)
    p = prefix[:-1]  # drop the dot
    if p.startswith("b"):
        p = "i" + p      # b2.x, bn.x, b(last).x: the i is implied by the base operator
    if p == "c":
        return FVPart(name, factor=False)
    if p == "i":
        return FVPart(name, factor=True)
    if p == "ibn":
        return FVPart(name, factor=True, base="none")
    if p == "o":
        return FVPart(name, factor=in_interaction, omit=True)
    if p == "R":
        return FVPart("R." + name, factor=True)
    m = re.fullmatch(r"ib(\d+)", p)
    if m:
        return FVPart(name, factor=True, base=int(m.group(1)))
    m = re.fullmatch(r"ib\(\s*(first|last|freq|#?\d+)\s*\)", p)
    if m:
        b = m.group(1)
        return FVPart(name, factor=True, base=int(b) if b.isdigit() else b)
    m = re.fullmatch(r"i\(([\d\s/]+)\)", p)
    if m:
        return FVPart(name, factor=True, levels=_level_list(m.group(1)))
    m = re.fullmatch(r"i?(\d+)(bn|o)?", p)
    if m:
        return FVPart(name, factor=True, levels=(int(m.group(1)),), omit=m.group(2) == "o")
    return FVPart(name, factor=True)


def _level_list(text: str) -> tuple[int, ...]:
    """The levels of `i(1 3)` / `i(2/4)` / `i(1 3/5)`, in order, each once."""
    out: list[int] = []
    for tok in re.sub(r"\s*/\s*", "/", text.strip()).split():
        a, _, b = tok.partition("/")
        if not a or (_ and not b):
            raise StataError("invalid numlist", 121)
        lo, hi = int(a), int(b or a)
        out += range(lo, hi + 1) if hi >= lo else range(lo, hi - 1, -1)
    return tuple(dict.fromkeys(out))


def _prefix_parts(prefix: str | None, name: str, in_interaction: bool) -> list[FVPart]:
    """The parts one `prefix.name` stands for: one, or one per time-series operator of a
    numlist (`L(1/2).x` -> L.x, L2.x; `cL(0/1).x` -> c.x, c.L.x); an operated variable is
    named as Stata names it (`L.x`, `LD.x`), its factor-variable prefix applies to it."""
    if prefix is None:
        return [_prefix_part(None, name, in_interaction)]
    fv, ops = split_prefix(prefix[:-1])
    if ops is None:
        return [_prefix_part(prefix, name, in_interaction)]
    fvp = None if fv is None else fv + "."
    return [_prefix_part(fvp, with_op(op, name), in_interaction) for op in ops]


class _Paren(list):
    """The parts of a parenthesised group `(c.a i.b)` (valid only beside # or ##)."""


class FVTransformer(Transformer):
    """fvlist -> list[FVTerm], with ## expanded into the full factorial in Stata's order."""

    def fvsingle(self, items):
        prefix = str(items[0]) if len(items) == 2 else None
        return [(prefix, str(items[-1]))]

    def fvgroup(self, items):
        prefix = str(items[0])
        return [(prefix, str(t)) for t in items[1:]]

    def fvparen(self, items):
        """`(c.a i.b)` after # or ##: the parts of every factor inside, as one group."""
        return _Paren(pn for f in items for pn in f)

    def fvterm(self, items):
        factors = items[0::2]
        ops = [str(t) for t in items[1::2]]
        inter = bool(ops)
        if not inter and isinstance(factors[0], _Paren):
            raise StataError("invalid syntax", 198)     # `(a b)` only groups the terms of # / ##
        # each factor may stand for several variables (i.(a b), L(1/2).x); build term lists
        groups = [[part for (p, n) in f for part in _prefix_parts(p, n, inter)] for f in factors]
        # start: the first factor's variables, each a term
        terms: list[tuple[FVPart, ...]] = [(g,) for g in groups[0]]
        for op, grp in zip(ops, groups[1:]):
            new_terms: list[tuple[FVPart, ...]] = []
            if op == "#":
                for t in terms:
                    for g in grp:
                        new_terms.append(t + (g,))
            else:  # ##: existing terms, the new main effects, then every interaction
                # (once each: c.x##c.x is c.x c.x#c.x in Stata, the main effect not repeated)
                new_terms = list(terms)
                for g in grp:
                    for cand in [(g,)] + [t + (g,) for t in terms]:
                        if cand not in new_terms:
                            new_terms.append(cand)
            terms = new_terms
        return [FVTerm(t) for t in terms]

    def fvlist(self, items):
        # repeats are kept: Stata keeps `regress y x x` and reports the second x as omitted
        return [t for terms in items for t in terms]

    def re_equation(self, items):
        """`group: terms` -> (group, terms); R.var terms are left to the caller."""
        return str(items[0]), items[1]
