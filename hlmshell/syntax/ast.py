"""AST node types produced by the lark Transformer (hlmshell/syntax/transform.py).

This module is the contract between the parser and the command handlers:
handlers receive a `Command` and never see lark trees or raw grammar tokens.
Expression node classes (Expr subclasses) are defined in syntax/expr_ast.py by the parser;
handlers treat them as opaque and evaluate them with hlmshell.syntax.evaluate().
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# --- factor-variable notation --------------------------------------------------------
@dataclass(frozen=True)
class FVPart:
    """One variable inside a factor-variable term.

    'ses' / 'c.ses'      -> FVPart('ses', factor=False)
    'i.sized'            -> FVPart('sized', factor=True)
    '2.sized'            -> FVPart('sized', factor=True, levels=(2,))
    'i(1 2).sized'       -> FVPart('sized', factor=True, levels=(1, 2))
    'ib3.sized'          -> FVPart('sized', factor=True, base=3)
    'ib(first|last|freq).x' -> base='first' / 'last' / 'freq'
    'ibn.sized'          -> FVPart('sized', factor=True, base='none')
    'i2.sized', 'i(2/4).sized' -> levels=(2,) / (2, 3, 4)
    'o.ses', '2o.sized'  -> omit=True (kept in e(b) as `o.ses`, `2o.sized`, estimated as 0)
    'ib(#2).sized'       -> base='#2' (the second level)
    `levels` given explicitly (a single '2.' or 'i(1 2).') means: exactly these levels, no base.
    """

    name: str
    factor: bool = False
    levels: tuple[int, ...] | None = None
    base: int | str | None = None
    omit: bool = False        # `o.x`, `2o.x`: the column is kept in e(b) but omitted

    def __str__(self) -> str:
        if not self.factor:
            return f"{'o' if self.omit else 'c'}.{self.name}"
        if self.levels is not None and len(self.levels) == 1:
            return f"{self.levels[0]}.{self.name}"
        if self.levels is not None:
            return f"i({' '.join(map(str, self.levels))}).{self.name}"
        if self.base == "none":
            return f"ibn.{self.name}"
        if self.base is not None:
            b = self.base if isinstance(self.base, int) else f"({self.base})"
            return f"ib{b}.{self.name}"
        return f"i.{self.name}"


@dataclass(frozen=True)
class FVTerm:
    """A term of a varlist: one part, or an interaction 'a#b#c' (parts in the order typed).

    `a##b` is expanded by the parser into the terms a, b, a#b (full factorial, Stata's order).
    `i.(a b)` is expanded into i.a, i.b.
    """

    parts: tuple[FVPart, ...]

    @property
    def is_interaction(self) -> bool:
        return len(self.parts) > 1

    def __str__(self) -> str:
        return "#".join(str(p) for p in self.parts)


# --- qualifiers and options -------------------------------------------------------------
@dataclass(frozen=True)
class InRange:
    """`in a/b`: ints are observation numbers (1-based; negative counts from the end);
    'f' and 'l' stand for first and last. `in 5` is InRange(5, 5)."""

    start: int | str
    end: int | str


@dataclass(frozen=True)
class Weight:
    kind: str        # 'fweight', 'aweight', 'pweight', 'iweight' (abbreviations resolved)
    exp: Any         # Expr


@dataclass(frozen=True)
class Option:
    """`name` or `name(arg)`; name as typed, arg is the raw text inside the parentheses. The
    parser resolves them against the command's spec into Command.opts (hlmshell.registry.Args);
    hlmshell.commands.options.OptionSpec does the same for code that still reads this list."""

    name: str
    arg: str | None = None


@dataclass
class Prefix:
    kind: str                         # 'quietly', 'noisily', 'capture', 'by'
    by_vars: list[str] = field(default_factory=list)   # by/bysort: grouping variables
    sort_vars: list[str] = field(default_factory=list) # bysort g (x): the parenthesised part
    sort: bool = False                # bysort or `by ..., sort`


# --- mixed ------------------------------------------------------------------------------------
@dataclass
class RandomLevel:
    """`|| group: [varlist] [, options]`; group may be '_all' (crossed effects: terms like R.var
    come through as FVPart with name 'R.var' kept verbatim in `raw_terms`)."""

    group: str
    terms: list[FVTerm] = field(default_factory=list)
    raw_terms: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)


@dataclass
class MixedSpec:
    """`mixed depvar fe_terms [if] [in] [weight] [, fe_options] || level ... [, options]`.

    Options after the last level are left on that level's `options`; the handler sorts
    level options (covariance, noconstant) from estimation options (reml, variance, ...).
    """

    depvar: str
    fixed: list[FVTerm]
    levels: list[RandomLevel] = field(default_factory=list)
    fixed_options: list[Option] = field(default_factory=list)


# --- the command ---------------------------------------------------------------------------
@dataclass
class Command:
    """One command after macro expansion and parsing.

    name      : canonical command name from the registry ('generate' for `g`/`gen`).
    typed     : the command word as typed.
    body      : raw text of the arguments between the command word and if/in/weight/options
                (e.g. 'store sesrandom' for `estimates store sesrandom`, 'mathach ses' for
                `summarize mathach ses`). Handlers parse varlists from it with the parser's
                helpers when the grammar has no specific rule for the command.
    args      : command-specific AST when the grammar has a rule for the command
                (MixedSpec for mixed/xtmixed/regress, Assignment for generate/replace/egen, ...);
                None otherwise.
    exp       : `= exp` when present (Expr); exp_text the same as text. Commands registered
                with extra exp=False keep '=...' inside `body` (test a=b); raw=True commands get the
                whole text after the command word in `body`, nothing split (display, local).
    if_, in_, weight, options: the qualifiers; `options` in the order typed.
    prefixes  : outer to inner.
    text      : the command as executed (after macro expansion), without its prefixes and
                with the command's full name: Stata's e(cmdline) (`qui reg y x` -> 'regress y x').
    """

    name: str
    typed: str = ""
    body: str = ""
    args: Any = None
    exp: Any = None
    exp_text: str = ""          # the `= exp` part as typed (egen needs `mean(x)` verbatim)
    if_: Any = None
    in_: InRange | None = None
    weight: Weight | None = None
    options: list[Option] = field(default_factory=list)
    prefixes: list[Prefix] = field(default_factory=list)
    text: str = ""
    # options resolved against the command's spec (hlmshell.registry.Args: attribute access to
    # typed values with defaults); None when the spec declares no options
    opts: Any = None
    # an estimation command's cformat()/pformat()/sformat() (the coefficient table's formats),
    # taken out of the options before they are bound
    formats: dict = field(default_factory=dict)

    def option(self, *names: str) -> Option | None:
        for o in self.options:
            if o.name in names:
                return o
        return None
