"""Stata's `syntax` statement: the spec a user program declares, and its parse of `0'.

    syntax [varlist|varname|newvarlist|newvarname|namelist|name|anything [(specifiers)]]
           [if] [in] [using/] [=exp] [fweight aweight pweight iweight] [, options]

Programs in real do-files (simulation programs for `simulate`, small helpers) start with
`syntax`; it checks the arguments the program was called with and leaves them in locals named
after the elements (`varlist', `if', `in', `using', `exp', `weight', one local per option).
This module holds the pure part: reading a spec into elements and option specs, and matching
the caller's text against them (Stata's messages and codes on mismatch). The command that
writes the locals is hlmshell.commands.program_parsing.

Option specs follow Stata's capitalisation rule: the capital letters are the shortest
abbreviation (`Detail` -> d, `GENerate(name)` -> gen); `noCONStant` is a "no" option whose
local is `constant' ("noconstant" when given); `*` collects the options not declared.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from hlmshell.errors import StataError, syntax_error
from hlmshell.syntax.lexer import find_top, matching_paren, top_words

_LISTS = ("varlist", "varname", "newvarlist", "newvarname", "namelist", "name", "anything")
_WEIGHTS = {"fweight": "fweight", "fw": "fweight", "aweight": "aweight", "aw": "aweight",
            "pweight": "pweight", "pw": "pweight", "iweight": "iweight", "iw": "iweight"}
_OPT_TYPES = ("integer", "real", "string", "name", "namelist", "varlist", "varname", "numlist",
              "passthru", "cilevel", "anything")


@dataclass
class Element:
    """One positional element of a spec: kind, optional?, its (specifiers) text."""

    kind: str                     # a _LISTS word, if, in, using, exp, weight
    optional: bool
    specifiers: str = ""
    slash: bool = False           # using/ and =/exp: the local without `using' / `='
    weights: tuple[str, ...] = ()


@dataclass
class OptionSpec:
    """One declared option: what is typed, its local and its type."""

    word: str                     # the full option as typed in lower case (noconstant)
    local: str                    # the local it fills (constant)
    min_len: int                  # shortest abbreviation
    kind: str = "flag"            # flag, no, or an _OPT_TYPES word
    default: str = ""
    required: bool = False
    asis: bool = False

    def matches(self, typed: str) -> bool:
        t = typed.lower()
        return len(t) >= self.min_len and self.word.startswith(t)


@dataclass
class Spec:
    elements: list[Element] = field(default_factory=list)
    options: list[OptionSpec] = field(default_factory=list)
    star: bool = False            # `*`: undeclared options go to `options'

    def element(self, kind: str) -> Element | None:
        return next((e for e in self.elements if e.kind == kind), None)

    @property
    def list_element(self) -> Element | None:
        return next((e for e in self.elements if e.kind in _LISTS), None)


# ---- reading the spec -------------------------------------------------------------------------
def parse_spec(text: str) -> Spec:
    """The text after `syntax` -> Spec; a malformed spec is invalid syntax r(198)."""
    spec = Spec()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "[":
            j = _closing_bracket(text, i)
            inner = text[i + 1:j].strip()
            if inner.startswith(","):
                _read_options(spec, inner[1:], optional=True)
            else:
                spec.elements.extend(_read_elements(inner, optional=True))
            i = j + 1
        elif c == ",":
            _read_options(spec, text[i + 1:], optional=False)
            break
        else:
            m = re.compile(r"[^\s\[,(]+").match(text, i)
            if m is None:
                raise syntax_error()
            end = m.end()
            if end < n and text[end] == "(":
                end = matching_paren(text, end) + 1
                if end <= 0:
                    raise syntax_error()
            spec.elements.extend(_read_elements(text[i:end], optional=False))
            i = end
    return spec


def _closing_bracket(text: str, i: int) -> int:
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "[":
            depth += 1
        elif text[j] == "]":
            depth -= 1
            if depth == 0:
                return j
    raise syntax_error()


def _read_elements(text: str, optional: bool) -> list[Element]:
    words = [w for w in re.findall(r"[^\s(]+(?:\([^)]*\))?", text)]
    if words and all(w.lower() in _WEIGHTS or w.lower() == "weight" for w in words):
        kinds = tuple(_WEIGHTS.get(w.lower(), "fweight") for w in words)
        if "weight" in (w.lower() for w in words):
            kinds = ("fweight", "aweight", "pweight", "iweight")
        return [Element("weight", optional, weights=kinds)]
    out = []
    for w in words:
        m = re.fullmatch(r"([A-Za-z=/]+)(?:\((.*)\))?", w)
        if not m:
            raise syntax_error()
        word, spec = m.group(1), (m.group(2) or "")
        low = word.lower()
        if low in _LISTS:
            out.append(Element(low, optional, spec))
        elif low in ("if", "in"):
            out.append(Element(low, optional))
        elif low in ("using", "using/"):
            out.append(Element("using", optional, slash=low.endswith("/")))
        elif low in ("=exp", "=/exp"):
            out.append(Element("exp", optional, slash="/" in low))
        else:
            raise syntax_error()
    return out


def _read_options(spec: Spec, text: str, optional: bool) -> None:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "[":
            j = _closing_bracket(text, i)
            _read_options(spec, text[i + 1:j], optional=True)
            i = j + 1
        elif c == "*":
            spec.star = True
            i += 1
        else:
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, i)
            if not m:
                raise syntax_error()
            word, i = m.group(0), m.end()
            inner = None
            if i < n and text[i] == "(":
                j = matching_paren(text, i)
                if j < 0:
                    raise syntax_error()
                inner, i = text[i + 1:j], j + 1
            spec.options.append(_option_spec(word, inner, required=not optional))


def _option_spec(word: str, inner: str | None, required: bool) -> OptionSpec:
    if word.startswith("no") and len(word) > 2 and word[2].isupper() and inner is None:
        rest = word[2:]
        caps = len(rest) - len(rest.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        return OptionSpec(word.lower(), rest.lower(), 2 + (caps or len(rest)), "no",
                          required=required)
    caps = len(word) - len(word.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    opt = OptionSpec(word.lower(), word.lower(), caps or len(word), required=required)
    if inner is None:
        return opt
    parts = inner.split()
    if not parts or parts[0].lower() not in _OPT_TYPES:
        raise syntax_error()
    opt.kind = parts[0].lower()
    opt.asis = "asis" in (p.lower() for p in parts[1:])
    rest = [p for p in parts[1:] if p.lower() not in ("asis", "ascending", "min=1", "max=1")]
    if rest and opt.kind in ("integer", "real"):
        opt.default = rest[0]
    return opt


# ---- reading the caller's text ----------------------------------------------------------------
@dataclass
class Call:
    """The caller's `0' split as syntax sees it."""

    body: str = ""
    if_: str | None = None
    in_: str | None = None
    using: str | None = None
    exp: str | None = None
    weight: tuple[str, str] | None = None      # (kind as typed, exp)
    options: list[tuple[str, str | None, str]] = field(default_factory=list)  # name, arg, text


def split_call(text: str) -> Call:
    """`x y if z in 1/5 using f [aw=w], opt(1)` -> Call."""
    from hlmshell.syntax.parser import _qualifier_marks, _segments, parse_options
    call = Call()
    comma = find_top(text, ",")
    main, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    for o in parse_options(opts):
        call.options.append((o.name, o.arg, o.name if o.arg is None else f"{o.name}({o.arg})"))
    using_at = next((s for s, e in top_words(main) if main[s:e] == "using"), -1)
    if using_at >= 0:
        after = main[using_at + 5:]
        words = top_words(after)
        if not words:
            raise syntax_error()
        s, e = words[0]
        call.using = after[s:e]
        main = main[:using_at] + " " * (5 + e) + after[e:]
    seg = _segments(main, _qualifier_marks(main, True))
    call.body = seg["body"].strip()
    if "exp" in seg:
        call.exp = seg["exp"].strip()
    if "if" in seg:
        call.if_ = seg["if"].strip()
    if "in" in seg:
        call.in_ = seg["in"].strip()
    if "weight" in seg:
        w = seg["weight"].strip()
        m = re.fullmatch(r"\[\s*([A-Za-z]+)\s*=(.*)\]", w, re.S)
        if not m:
            raise syntax_error()
        call.weight = (m.group(1).lower(), m.group(2).strip())
    return call


def weight_kind(typed: str) -> str | None:
    """`aw` -> aweight, `weight` -> weight (the program's first allowed kind)."""
    for full in ("fweight", "aweight", "pweight", "iweight", "weight"):
        if len(typed) >= 2 and full.startswith(typed):
            return full
    return None
