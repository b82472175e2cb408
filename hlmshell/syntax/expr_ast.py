"""Expression nodes made by the parser; handlers treat them as opaque (see evaluate())."""
from __future__ import annotations

from dataclasses import dataclass


class Expr:
    __slots__ = ()


@dataclass(frozen=True)
class Num(Expr):
    value: float
    text: str = ""

    def __str__(self):
        return self.text or repr(self.value)


@dataclass(frozen=True)
class Str(Expr):
    value: str

    def __str__(self):
        return f'"{self.value}"'


@dataclass(frozen=True)
class Name(Expr):
    """A variable, scalar or system name (_n, _N, _pi, _rc)."""

    name: str

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class Call(Expr):
    func: str
    args: tuple

    def __str__(self):
        return f"{self.func}({', '.join(map(str, self.args))})"


@dataclass(frozen=True)
class Subscript(Expr):
    """x[exp] (observation) or M[i, j] (matrix element)."""

    name: str
    index: tuple

    def __str__(self):
        return f"{self.name}[{', '.join(map(str, self.index))}]"


@dataclass(frozen=True)
class Coef(Expr):
    """_b[eq:name] / _se[...] / [eq]_b[name]."""

    kind: str        # 'b' or 'se'
    eq: str | None
    name: str

    def __str__(self):
        eq = f"{self.eq}:" if self.eq else ""
        return f"_{self.kind}[{eq}{self.name}]"


@dataclass(frozen=True)
class Unary(Expr):
    op: str          # '-', '+', '!'
    operand: Expr

    def __str__(self):
        return f"{self.op}{self.operand}"


@dataclass(frozen=True)
class Binary(Expr):
    op: str          # + - * / ^ == != < <= > >= & |
    left: Expr
    right: Expr

    def __str__(self):
        return f"({self.left} {self.op} {self.right})"


def names_in(expr: Expr) -> set[str]:
    """Every bare name used in an expression (for markout of variables, completion, ...)."""
    out: set[str] = set()

    def walk(e):
        if isinstance(e, Name):
            out.add(e.name)
        elif isinstance(e, Subscript):
            out.add(e.name)
            for i in e.index:
                walk(i)
        elif isinstance(e, Call):
            for a in e.args:
                walk(a)
        elif isinstance(e, Unary):
            walk(e.operand)
        elif isinstance(e, Binary):
            walk(e.left)
            walk(e.right)

    walk(expr)
    return out
