"""Recursive-descent parser for the Mata subset: statements and expressions.

`X'y` multiplies (a transposition followed by an operand), as Mata reads it.
Precedence, lowest first: `=` (right), `? :`, `|` `:|` `||`, `&` `:&` `&&`, relational
(`==` `!=` `<` ... and their colon forms), `\\` (column join), `,` (row join), `::` `..`
(ranges), `+` `-` `:+` `:-`, `*` `/` `#` `:*` `:/`, unary `-` `!` `++` `--`, `^` `:^`,
postfix `'`, subscripts, `++` `--`. Inside a function's arguments or a subscript a comma
separates; parentheses make it a join again.
"""
from __future__ import annotations

import math

from hlmshell.mata import nodes as n
from hlmshell.mata.errors import syntax
from hlmshell.mata.lexer import END, NAME, NUM, OP, SEP, STR, Token, tokenize

_OR = ("|", ":|", "||")
_AND = ("&", ":&", "&&")
_REL = ("==", "!=", ">", ">=", "<", "<=", ":==", ":!=", ":>", ":>=", ":<", ":<=")
_ADD = ("+", "-", ":+", ":-")
_MUL = ("*", "/", "#", ":*", ":/")
_POW = ("^", ":^")
_ASSIGN = ("=", "+=", "-=", "*=", "/=")
_TYPES = {"real", "string", "numeric", "transmorphic", "void", "matrix", "scalar", "vector",
          "rowvector", "colvector", "pointer", "complex", "function"}
_KEYWORDS = {"if", "else", "for", "while", "do", "break", "continue", "return"}


def parse(text: str) -> list:
    """The statements of `text` (one statement, or several separated by `;` / lines)."""
    p = Parser(tokenize(text))
    out = []
    while True:
        p.skip_seps()
        if p.peek().kind == END:
            return out
        out.append(p.statement())
        p.end_statement()


class Parser:
    def __init__(self, toks: list[Token]):
        self.toks = toks
        self.i = 0
        self.args = False          # parsing call arguments or a subscript: `,` separates

    # ---- token helpers -----------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.peek()
        self.i += 1
        return t

    def at(self, *ops: str) -> bool:
        t = self.peek()
        return t.kind == OP and t.text in ops

    def expect(self, op: str) -> None:
        if not self.at(op):
            raise syntax()
        self.i += 1

    def skip_seps(self) -> None:
        while self.peek().kind == SEP:
            self.i += 1

    def end_statement(self) -> None:
        t = self.peek()
        if t.kind not in (SEP, END) and not self.at("}"):
            raise syntax()

    # ---- statements --------------------------------------------------------------------------
    def statement(self):
        t = self.peek()
        if t.kind == OP and t.text == "{":
            return self.block()
        if t.kind == NAME and t.text in _KEYWORDS:
            return getattr(self, "stmt_" + t.text)()
        if t.kind == NAME and t.text in _TYPES:
            return self.typed()
        return n.ExprStmt(self.assignment())

    def block(self) -> n.Block:
        self.expect("{")
        body = []
        while True:
            self.skip_seps()
            if self.at("}"):
                self.i += 1
                return n.Block(tuple(body))
            if self.peek().kind == END:
                raise syntax("unexpected end of line")
            body.append(self.statement())
            self.end_statement()

    def body(self):
        """The statement after `if (...)`, `for (...)`, ...: on the same line or the next."""
        self.skip_seps()
        if self.peek().kind == END:
            raise syntax("unexpected end of line")
        return self.statement()

    def paren(self):
        self.expect("(")
        saved, self.args = self.args, False
        e = self.assignment()
        self.args = saved
        self.expect(")")
        return e

    def stmt_if(self):
        self.next()
        test = self.paren()
        then = self.body()
        save = self.i
        self.skip_seps()
        if self.peek().kind == NAME and self.peek().text == "else":
            self.next()
            return n.If(test, then, self.body())
        self.i = save
        return n.If(test, then, None)

    def stmt_else(self):
        raise syntax("else without if")

    def stmt_for(self):
        self.next()
        self.expect("(")
        parts = []
        for closer in (";", ";", ")"):
            if (closer == ")" and self.at(")")) or (closer == ";" and self.peek().text == ";"):
                parts.append(None)
            else:
                parts.append(self.assignment())
            if closer == ")":
                self.expect(")")
            elif self.peek().kind == SEP and self.peek().text == ";":
                self.i += 1
            else:
                raise syntax()
        return n.For(parts[0], parts[1], parts[2], self.body())

    def stmt_while(self):
        self.next()
        test = self.paren()
        return n.While(test, self.body())

    def stmt_do(self):
        self.next()
        body = self.body()
        self.skip_seps()
        if not (self.peek().kind == NAME and self.peek().text == "while"):
            raise syntax()
        self.next()
        return n.DoWhile(body, self.paren())

    def stmt_break(self):
        self.next()
        return n.Jump("break")

    def stmt_continue(self):
        self.next()
        return n.Jump("continue")

    def stmt_return(self):
        self.next()
        if self.at("("):
            return n.Return(self.paren())
        return n.Return(None)

    def typed(self):
        """`real scalar f(args) { ... }` (a function) or `real scalar i, j` (a declaration)."""
        while self.peek().kind == NAME and self.peek().text in _TYPES:
            self.next()
        name = self.peek()
        if name.kind != NAME:
            raise syntax()
        self.next()
        if self.at("("):
            return self.function(name.text)
        names = [name.text]
        while self.at(","):
            self.next()
            t = self.next()
            if t.kind != NAME:
                raise syntax()
            names.append(t.text)
        return n.Declare(tuple(names))

    def function(self, name: str) -> n.FuncDef:
        self.expect("(")
        params = []
        required = -1
        while not self.at(")"):
            if self.at("|") and required < 0:      # f(a, | b): b is optional
                self.next()
                required = len(params)
            words = []
            while self.peek().kind == NAME:
                words.append(self.next().text)
            if not words or words[-1] in _TYPES:
                raise syntax()
            params.append(words[-1])
            if not self.at(")"):
                self.expect(",")
        self.next()
        self.skip_seps()
        if not self.at("{"):
            raise syntax()
        return n.FuncDef(name, tuple(params), self.block(), required)

    # ---- expressions -------------------------------------------------------------------------
    def assignment(self):
        left = self.conditional()
        if self.at(*_ASSIGN):
            op = self.next().text
            if not isinstance(left, (n.Var, n.Subscript, n.RangeSubscript)):
                raise syntax("invalid lval")
            return n.Assign(left, op, self.assignment())
        return left

    def conditional(self):
        test = self.binary(0)
        if self.at("?"):
            self.next()
            then = self.conditional()
            self.expect(":")
            return n.Cond(test, then, self.conditional())
        return test

    _LEVELS = (_OR, _AND, _REL, ("\\",), (",",), ("::", ".."), _ADD, _MUL)

    def binary(self, level: int):
        if level == len(self._LEVELS):
            return self.unary()
        ops = self._LEVELS[level]
        left = self.binary(level + 1)
        while self.at(*ops) and not (self.args and self.peek().text == ","):
            op = self.next().text
            if op == "," and self._empty_after_comma():
                raise syntax()
            left = n.Binary(op, left, self.binary(level + 1))
        return left

    def _empty_after_comma(self) -> bool:
        t = self.peek()
        return t.kind in (SEP, END) or (t.kind == OP and t.text in (")", "]", "|]", ","))

    def unary(self):
        if self.at("-", "!"):
            op = self.next().text
            return n.Unary(op, self.unary())
        if self.at("+"):
            self.next()
            return self.unary()
        if self.at("++", "--"):
            op = self.next().text
            return n.Step(op, self.unary(), True)
        return self.power()

    def power(self):
        left = self.postfix()
        while self.at(*_POW):
            op = self.next().text
            right = self.unary() if self.at("-", "+", "!") else self.postfix()
            left = n.Binary(op, left, right)
        return left

    def postfix(self):
        e = self.primary()
        while True:
            if self.at("'"):
                self.next()
                e = n.Unary("'", e)
                if self.peek().kind in (NAME, NUM) or self.at("("):
                    e = n.Binary("*", e, self.power())      # X'X is X' * X
            elif self.at("["):
                e = self.subscript(e)
            elif self.at("[|"):
                self.next()
                saved, self.args = self.args, False
                corners = self.assignment()
                self.args = saved
                self.expect("|]")
                e = n.RangeSubscript(e, corners)
            elif self.at("++", "--"):
                e = n.Step(self.next().text, e, False)
            else:
                return e

    def subscript(self, base):
        self.expect("[")
        saved, self.args = self.args, True
        index = [self._index_part()]
        while self.at(","):
            self.next()
            index.append(self._index_part())
        self.args = saved
        self.expect("]")
        if len(index) > 2:
            raise syntax()
        return n.Subscript(base, tuple(index))

    def _index_part(self):
        if self.at(",", "]"):
            return None
        return self.conditional()

    def primary(self):
        t = self.next()
        if t.kind == NUM:
            return n.Num(_number(t.text))
        if t.kind == STR:
            return n.Str(t.text)
        if t.kind == NAME:
            if t.text in _KEYWORDS or t.text in _TYPES and t.text != "function":
                raise syntax()
            if self.at("("):
                return n.Call(t.text, self.call_args())
            return n.Var(t.text)
        if t.kind == OP and t.text == "(":
            if self.peek().text == "void" and self.peek(1).text == ")":
                self.i += 2
                return n.Discard(self.unary())
            self.i -= 1
            return self.paren()
        raise syntax()

    def call_args(self) -> tuple:
        self.expect("(")
        saved, self.args = self.args, True
        args = []
        while not self.at(")"):
            if self.at(","):          # an omitted argument: st_data(., "x") takes `.`
                args.append(None)
            else:
                args.append(self.conditional_or_assign())
            if not self.at(")"):
                self.expect(",")
        self.next()
        self.args = saved
        return tuple(args)

    def conditional_or_assign(self):
        """An argument may assign (`st_view(V=., ...)`-style code); mostly it is an expression."""
        return self.assignment()


def _number(text: str) -> float:
    if text.startswith(".") and (len(text) == 1 or text[1].isalpha()):
        return float("nan")
    v = float(text)
    return v if math.isfinite(v) else float("nan")     # 1e400 is missing
