"""The Mata syntax tree: expressions and statements the parser builds and the interpreter
walks. Plain frozen dataclasses; no behaviour."""
from __future__ import annotations

from dataclasses import dataclass


# ---- expressions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Unary:
    op: str            # "-", "!", "'" (transpose)
    operand: object


@dataclass(frozen=True)
class Step:
    """++x, --x (prefix) or x++, x-- (postfix): the variable changes by one."""
    op: str
    target: object
    prefix: bool


@dataclass(frozen=True)
class Subscript:
    """x[i, j] or x[i]; an omitted index (x[, 2]) is None, as `.` is."""
    base: object
    index: tuple


@dataclass(frozen=True)
class RangeSubscript:
    """x[|a, b \\ c, d|]: the block from (a, b) to (c, d)."""
    base: object
    corners: object


@dataclass(frozen=True)
class Discard:
    """`(void) f(x)`: call for the effect, show nothing."""
    operand: object


@dataclass(frozen=True)
class Cond:
    test: object
    then: object
    other: object


@dataclass(frozen=True)
class Assign:
    target: object     # Var, Subscript or RangeSubscript
    op: str            # "=", "+=", ...
    value: object


# ---- statements --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExprStmt:
    expr: object


@dataclass(frozen=True)
class Block:
    body: tuple


@dataclass(frozen=True)
class If:
    test: object
    then: object
    other: object | None


@dataclass(frozen=True)
class For:
    init: object | None
    test: object | None
    step: object | None
    body: object


@dataclass(frozen=True)
class While:
    test: object
    body: object


@dataclass(frozen=True)
class DoWhile:
    body: object
    test: object


@dataclass(frozen=True)
class Jump:
    kind: str          # "break" or "continue"


@dataclass(frozen=True)
class Return:
    value: object | None


@dataclass(frozen=True)
class Declare:
    """`real scalar i, n` inside a function: the names exist (void until assigned)."""
    names: tuple


@dataclass(frozen=True)
class FuncDef:
    name: str
    params: tuple      # parameter names
    body: Block
    required: int = -1  # parameters before `|` (the rest are optional); -1: all


@dataclass(frozen=True)
class Empty:
    pass
