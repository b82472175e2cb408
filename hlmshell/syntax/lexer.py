"""One lexer for Stata text: every question about strings, comments and brackets asks it.

Until now seven scanners each decided for themselves where a string, a compound quote, a
comment or a bracket is, and they disagreed (``display `"a " // " b"'`` lost its second half in
a do-file because the comment stripper did not know compound quotes). Here one tokenizer, in
the manner of stata_kernel's single lexer, turns text into a token stream with offsets and
line numbers, and everything else is a thin function over that stream:

* do-file structure: `statements` / `logical_lines` (comments out, `///` joined, `#delimit`);
* REPL completeness: `input_state`, `is_complete`, `join_continuations`, `continuation_prompt`;
* top-level structure of (expanded) command text: `top_level_mask`, `find_top`, `split_top`,
  `top_words`, `tokens`, `matching_paren`, `strip_quotes`, `paren_groups`, `string_spans`;
* macro references with the expander's rules: `macro_refs`, `expand_refs`;
* highlighting: `highlight_kind`, `pygments_tokens`.

Two flavours of text exist. *Do-file text* (`tokenize`, `Lexer`) is what the user typed:
comments, `///`, `#delimit`, macro references. *Command text* (`tokenize_text`) is a command
after comments are gone and macros are expanded: only strings and brackets hide characters,
a backquote or `//` is an ordinary character, and a string may run over a line break.

The do-file lexer is resumable: a `LexState` carries everything one physical line leaves open
for the next (an open `/* */` and its depth, a `"..."` or compound quote left open under
`#delimit ;`, a `///` continuation, a `*` comment, the delimiter in force), so the REPL can lex
what was typed line by line.

The rules, Stata's reader's as the old scanners had them unless noted:
* "..." ends at the next " (no escapes); `"..."' nests and ends at "'; neither hides anything
  from the other kind's closing quote. In do-file text both end at the line end (left open),
  except under `#delimit ;`, where a line break is a blank and they run on.
* `//` and `///` are comments only at a line start or after a blank (`http://x` is not);
  `///` also takes the line break (the next line joins with a blank). `/* */` may start
  anywhere, spans lines (joining them) and nests.
* `*` as the first character of a command makes the command a comment, also after a `///`
  or a `/* */` line (the old reader ran `* x` there); inside it `///` still continues it,
  `/*` still opens a block comment (which then joins lines: the rest of the line where it
  closes is comment too), and strings still hide comment markers.
* Under `#delimit ;` a `;` outside quotes ends the command, also inside parentheses (the old
  reader did not split there); `#delimit` is recognised at the start of a command (under
  `#delimit ;` only at the start of a physical line) and takes effect at its line break.
* A local macro reference `...' (found by the macro expander's rules, on one line) is one
  token only when nothing in it could change what the reader does: the reader removes
  comments before macros are expanded, so `= 4 /* c */ + 1' loses its comment.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, NamedTuple

from hlmshell.errors import StataError

# ---- token kinds ----------------------------------------------------------------------------
WS = "ws"                        # blanks (never a line break in do-file text)
NEWLINE = "newline"              # a line break that ends the statement
LINEBREAK = "linebreak"          # a line break that does not: after `///`, inside /* */,
                                 # under `#delimit ;`
WORD = "word"
NUMBER = "number"
STRING = "string"                # "..."
CSTRING = "cstring"              # `"..."' (nests)
LOCAL = "local"                  # `name', `x`i'', `=exp', `:extended function'
GLOBAL = "global"                # $name, ${name}
COMMENT = "comment"              # // to the end of the line
CONTINUATION = "continuation"    # /// to the end of the line; the line break after it is a LINEBREAK
BLOCK_COMMENT = "block_comment"  # /* ... */ (one token per physical line it covers)
STAR_COMMENT = "star_comment"    # a statement starting with `*`
BRACKET = "bracket"              # ( ) [ ] { }
OP = "op"                        # operators and other punctuation
SEMICOLON = "semicolon"          # the statement separator under `#delimit ;`
DELIMIT = "delimit"              # the `#delimit` keyword at the start of a statement

#: kinds that say nothing about the command (a statement made only of these is blank)
TRIVIA = frozenset({WS, NEWLINE, LINEBREAK, COMMENT, CONTINUATION, BLOCK_COMMENT})
_ENDS = frozenset({NEWLINE, SEMICOLON})
#: kinds that are comments
COMMENTS = frozenset({COMMENT, CONTINUATION, BLOCK_COMMENT, STAR_COMMENT})


class Token(NamedTuple):
    """One token: kind, [start, end) offsets into the lexed text, physical line of its start."""

    kind: str
    start: int
    end: int
    line: int                    # 1-based physical line of `start`
    text: str
    closed: bool = True          # False: a string, quote, macro reference or /* */ left open


@dataclass
class LexState:
    """What a physical line leaves open for the next one (do-file text)."""

    delimit: bool = False        # `#delimit ;` in force
    block: int = 0               # depth of open /* */ comments (Stata nests them)
    string: bool = False         # a "..." left open at a line break (only under `#delimit ;`)
    cstring: int = 0             # depth of a compound quote left open (only under `#delimit ;`)
    star: bool = False           # inside a `*` comment statement
    continued: bool = False      # the line lexed last ends with `///` (its line break not seen)
    at_start: bool = True        # nothing but blanks and comments in the current statement yet
    fresh: bool = True           # nothing but blanks and comments on the current physical line
    directive: int = 0           # 1: `#delimit` read, 2: its argument is `;`, 3: anything else
    line: int = 1                # physical line of the next character

    def copy(self) -> "LexState":
        return replace(self)


# ---- regular expressions -----------------------------------------------------------------------
_NUMBER = r"\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"
_OPS = r"==|!=|~=|>=|<=|\|\||&&|\#\#|."
_DO = re.compile(
    r"(?P<nl>\r\n|\r|\n)|(?P<ws>[^\S\r\n]+)|(?P<cont>///[^\r\n]*)|(?P<comment>//[^\r\n]*)"
    r"|(?P<block>/\*)|(?P<cstr>`\")|(?P<str>\"[^\"\r\n]*\"?)|(?P<local>`)"
    r"|(?P<glob>\$\{[^}\r\n]*\}|\$[A-Za-z_][A-Za-z0-9_]{0,31})"
    r"|(?P<hash>\#d(?:e(?:l(?:i(?:m(?:i(?:t)?)?)?)?)?)?(?:\b|(?=cr\b)))"   # `#delimitcr` too
    rf"|(?P<number>{_NUMBER})|(?P<word>[^\W\d]\w*)|(?P<bracket>[()\[\]{{}}])|(?P<semi>;)"
    rf"|(?P<op>{_OPS})")
_TEXT = re.compile(
    r"(?P<ws>\s+)|(?P<cstr>`\")|(?P<str>\"[^\"]*\"?)"
    rf"|(?P<number>{_NUMBER})|(?P<word>[^\W\d]\w*)|(?P<bracket>[()\[\]{{}}])|(?P<op>{_OPS})")
# what can end or interrupt a `*` comment (strings are swallowed whole, so their contents cannot)
_STAR = re.compile(r"(?P<nl>\r\n|\r|\n)|(?P<cont>///[^\r\n]*)|(?P<comment>//[^\r\n]*)"
                   r"|(?P<block>/\*)|(?P<cstr>`\")|(?P<str>\"[^\"\r\n]*\"?)")
_STAR_SEMI = re.compile(_STAR.pattern + r"|(?P<semi>;)")
_BLOCK = re.compile(r"\*/|/\*|\r\n|\r|\n")
_CQ_LINE = re.compile(r"`\"|\"'|(?=[\r\n])")
_CQ = re.compile(r"`\"|\"'")
_NL = re.compile(r"\r\n|\r|\n")
_REF_BREAKER = re.compile(r"[\"{}]|/\*|(?<=\s)//")
_REF_BREAKER_SEMI = re.compile(r"[\"{};]|/\*|(?<=\s)//")
_MACRO_ATOM = re.compile(r"`\"?|'|\$")
_GNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
_SIMPLE = {"ws": WS, "number": NUMBER, "word": WORD, "bracket": BRACKET, "op": OP, "glob": GLOBAL}


# group number -> token kind for the tokens the hot loop makes itself (None: `_special`)
_KIND_BY_INDEX = [None] * (_DO.groups + 1)
for _name, _index in _DO.groupindex.items():
    _KIND_BY_INDEX[_index] = _SIMPLE.get(_name)


def _cq_end(text: str, pos: int, end: int, depth: int, stop_at_eol: bool) -> tuple[int, int]:
    """Scan a compound quote from `pos` with `depth` levels open: (end offset, depth left).

    `"...`"..."'..."' nests; only `" and "' count inside (a lone " or ` is text). With
    stop_at_eol the scan ends at a line break (do-file text: the quote stays open)."""
    rx = _CQ_LINE if stop_at_eol else _CQ
    while depth:
        m = rx.search(text, pos, end)
        if m is None:
            return end, depth
        if m.start() == m.end():              # a line break: the quote is still open
            return m.start(), depth
        depth += 1 if m.group() == '`"' else -1
        pos = m.end()
    return pos, 0


# ---- do-file lexer ---------------------------------------------------------------------------------
class _Run:
    """One pass of the do-file lexer over `text`, starting at a line boundary in `state`."""

    def __init__(self, text: str, state: LexState):
        self.text = text
        self.n = len(text)
        self.st = state
        self.pos = 0
        self.out: list[Token] = []

    def run(self) -> list[Token]:
        st = self.st
        while self.pos < self.n:
            if st.block:
                self._block(self.pos)
            elif st.string or st.cstring:
                self._resume_string()
            elif st.star:
                self._star()
            else:
                self._normal()
        return self.out

    # -- helpers
    def _emit(self, kind: str, s: int, e: int, closed: bool = True) -> None:
        st = self.st
        self.out.append(Token(kind, s, e, st.line, self.text[s:e], closed))
        if kind not in TRIVIA:
            st.at_start = False
            st.fresh = False
            if st.directive == 1 and kind != DELIMIT:
                st.directive = 2 if self.text.startswith(";", s) else 3

    def _blank_before(self, p: int) -> bool:
        """`//` and `///` are comments only at the start of a line or after a blank."""
        return p == 0 or self.text[p - 1].isspace()

    def _eol(self, p: int) -> int:
        m = _NL.search(self.text, p)
        return m.start() if m else self.n

    def _newline(self, s: int, e: int) -> None:
        """A line break ends the statement unless `///`, /* */ or `#delimit ;` carries it on
        (the line holding `#delimit` itself always ends at its line break)."""
        st = self.st
        ends = not st.block and not st.continued and (not st.delimit or st.directive != 0)
        self.out.append(Token(NEWLINE if ends else LINEBREAK, s, e, st.line, self.text[s:e]))
        st.line += 1
        st.continued = False
        st.fresh = True
        if ends:
            self._end_statement()
        self.pos = e

    def _end_statement(self) -> None:
        st = self.st
        st.at_start = True
        st.star = False
        if st.directive:
            st.delimit = st.directive == 2
            st.directive = 0

    def _comment(self, kind: str, p: int, e: int) -> None:
        self._emit(kind, p, e)
        if kind == CONTINUATION:
            self.st.continued = True
        self.pos = e

    def _open_block(self, p: int) -> None:
        self.st.block = 1
        self.pos = p + 2
        self._block(p)

    # -- modes
    def _normal(self) -> None:
        """Code: the hot loop, so plain tokens are made here and the rest in `_special`;
        `flags` says whether a significant token still has state to update."""
        text, st, out, n = self.text, self.st, self.out, self.n
        match, kinds, new = _DO.match, _KIND_BY_INDEX, tuple.__new__
        pos, line = self.pos, st.line
        flags = st.at_start or st.fresh or st.directive == 1
        while pos < n:
            if flags and st.at_start and text[pos] == "*":
                st.star = True
                break
            m = match(text, pos)
            simple = kinds[m.lastindex]
            if simple is None:
                self.pos = pos
                self._special(m.lastgroup, m)
                pos, line = self.pos, st.line
                if st.block or st.star or st.string or st.cstring:
                    break
                flags = st.at_start or st.fresh or st.directive == 1
                continue
            e = m.end()
            out.append(new(Token, (simple, pos, e, line, text[pos:e], True)))
            if flags and simple is not WS:
                st.at_start = st.fresh = flags = False
                if st.directive == 1:
                    st.directive = 2 if text[pos] == ";" else 3
            pos = e
        self.pos = pos

    def _special(self, kind: str, m: re.Match) -> None:
        p, e = m.start(), m.end()
        st = self.st
        if kind == "nl":
            self._newline(p, e)
        elif kind in ("cont", "comment"):
            if self._blank_before(p):
                self._comment(CONTINUATION if kind == "cont" else COMMENT, p, e)
            else:
                self._emit(OP, p, p + 1)
                self.pos = p + 1
        elif kind == "block":
            self._open_block(p)
        elif kind in ("cstr", "str"):
            self._string(kind, p, e, STRING if kind == "str" else CSTRING)
        elif kind == "local":
            self._local(p)
        elif kind == "hash":
            ok = st.at_start and (not st.delimit or st.fresh)
            self._emit(DELIMIT if ok else OP, p, e if ok else p + 1)
            if ok:
                st.directive = 1
            self.pos = e if ok else p + 1
        elif st.delimit and not st.directive:     # semi: the separator under #delimit ;
            self._emit(SEMICOLON, p, e)
            self._end_statement()
            self.pos = e
        else:
            self._emit(OP, p, e)
            self.pos = e

    def _string(self, kind: str, p: int, e: int, as_kind: str) -> None:
        """A "..." (matched to its closing quote or the line end) or a compound quote."""
        st = self.st
        if kind == "str":
            open_ = e - p < 2 or self.text[e - 1] != '"'
            if open_ and st.delimit:
                st.string = True
        else:
            e, depth = _cq_end(self.text, p + 2, self.n, 1, True)
            open_ = depth > 0
            if open_ and st.delimit:
                st.cstring = depth
        self._emit(as_kind, p, e, not open_)
        self.pos = e

    def _local(self, p: int) -> None:
        """`...' with the macro expander's rules, on this line, as one token. Stata's reader
        splits lines and removes comments before macros are expanded, so a reference is one
        token only when nothing in it could change what the reader does (no quote, comment
        opener, brace or, under `#delimit ;`, semicolon); otherwise, as for a lone `, the `
        is punctuation and lexing goes on inside."""
        eol = self._eol(p)
        _, e, closed = _scan_refs(self.text, p + 1, eol, True)
        rx = _REF_BREAKER_SEMI if self.st.delimit else _REF_BREAKER
        if closed and not rx.search(self.text, p, e):
            self._emit(LOCAL, p, e + 1)
            self.pos = e + 1
        else:
            self._emit(OP, p, p + 1)
            self.pos = p + 1

    def _star(self) -> None:
        """Inside a `*` comment: only line breaks, comments, /* and (under `#delimit ;`) a
        `;` end or interrupt it; strings are swallowed so a `///` or `;` in them is text."""
        text, st = self.text, self.st
        rx = _STAR_SEMI if st.delimit else _STAR
        start = self.pos
        while True:
            m = rx.search(text, self.pos)
            if m is None:
                self._flush_star(start, self.n)
                return
            kind, p = m.lastgroup, m.start()
            if kind in ("str", "cstr"):
                self._swallow_string(kind, m)
                if st.string or st.cstring:
                    self._flush_star(start, self.pos)
                    return
                continue
            if kind in ("cont", "comment") and not self._blank_before(p):
                self.pos = p + 1
                continue
            self._flush_star(start, p)
            self._star_stop(kind, m)
            return

    def _swallow_string(self, kind: str, m: re.Match) -> None:
        st = self.st
        if kind == "str":
            e = m.end()
            st.string = st.delimit and (e - m.start() < 2 or self.text[e - 1] != '"')
        else:
            e, depth = _cq_end(self.text, m.end(), self.n, 1, True)
            st.cstring = depth if st.delimit else 0
        self.pos = e

    def _flush_star(self, s: int, e: int) -> None:
        if e > s:
            self._emit(STAR_COMMENT, s, e)
        self.pos = e

    def _star_stop(self, kind: str, m: re.Match) -> None:
        p, e = m.start(), m.end()
        if kind == "nl":
            self._newline(p, e)
        elif kind in ("cont", "comment"):
            self._comment(CONTINUATION if kind == "cont" else COMMENT, p, e)
        elif kind == "block":
            self._open_block(p)
        else:                                   # `;` under #delimit ;
            self._emit(SEMICOLON, p, e)
            self._end_statement()
            self.pos = e

    def _block(self, seg: int) -> None:
        """Inside /* */ (the current piece began at `seg`): nesting counted, one token per
        physical line, until the comment closes or the text ends."""
        text, st = self.text, self.st
        while True:
            m = _BLOCK.search(text, self.pos)
            if m is None:
                if seg < self.n:
                    self._emit(BLOCK_COMMENT, seg, self.n, False)
                self.pos = self.n
                return
            t = m.group()
            self.pos = m.end()
            if t == "/*":
                st.block += 1
            elif t == "*/":
                st.block -= 1
                if not st.block:
                    self._emit(BLOCK_COMMENT, seg, m.end())
                    return
            else:
                if seg < m.start():
                    self._emit(BLOCK_COMMENT, seg, m.start(), False)
                self._newline(m.start(), m.end())
                seg = self.pos

    def _resume_string(self) -> None:
        """A string or compound quote left open at a line break under `#delimit ;`."""
        text, st = self.text, self.st
        p = self.pos
        m = _NL.match(text, p)
        if m:
            self._newline(p, m.end())
            return
        eol = self._eol(p)
        kind = STRING if st.string else CSTRING
        if st.string:
            q = text.find('"', p, eol)
            e = eol if q < 0 else q + 1
            st.string = q < 0
        else:
            e, st.cstring = _cq_end(text, p, eol, st.cstring, True)
        self._emit(STAR_COMMENT if st.star else kind, p, e, not (st.string or st.cstring))
        self.pos = e


class Lexer:
    """Resumable do-file lexer: feed it whole physical lines (or any text that ends at a line
    boundary, not between the \\r and \\n of one); `state` says what is open. Offsets count
    from the first text fed."""

    def __init__(self, state: LexState | None = None):
        self.state = state if state is not None else LexState()
        self.offset = 0

    def feed(self, text: str) -> list[Token]:
        toks = _Run(text, self.state).run()
        if self.offset:
            off = self.offset
            toks = [t._replace(start=t.start + off, end=t.end + off) for t in toks]
        self.offset += len(text)
        return toks


def tokenize(text: str, state: LexState | None = None) -> list[Token]:
    """The do-file token stream of `text` (state: where an earlier chunk left off; updated)."""
    return _Run(text, state if state is not None else LexState()).run()


def tokenize_text(text: str, start: int = 0) -> list[Token]:
    """Command text (comments gone, macros expanded): strings, compound quotes (nested),
    brackets, words, numbers, operators; whitespace includes line breaks. Line numbers are 1."""
    out = []
    n = len(text)
    p = start
    match = _TEXT.match
    while p < n:
        m = match(text, p)
        kind = m.lastgroup
        e = m.end()
        closed = True
        if kind == "str":
            closed = e - p >= 2 and text[e - 1] == '"'
            kind = STRING
        elif kind == "cstr":
            e, depth = _cq_end(text, e, n, 1, False)
            closed = depth == 0
            kind = CSTRING
        else:
            kind = _SIMPLE[kind]
        out.append(Token(kind, p, e, 1, text[p:e], closed))
        p = e
    return out


# ---- statements and logical lines -------------------------------------------------------------------
@dataclass
class Line:
    """A command as the interpreter runs it."""

    text: str                    # the command, comments removed ('' for blank/comment lines)
    lineno: int                  # first physical line (1-based)
    echo: list[str] = field(default_factory=list)   # physical lines as typed
    is_comment: bool = False


@dataclass
class Statement:
    """The tokens between two statement ends (a NEWLINE, or a SEMICOLON under `#delimit ;`)."""

    tokens: list[Token]          # everything since the previous end (blank lines, comments too)
    end: Token | None            # the NEWLINE / SEMICOLON that ended it; None: the text ran out
    delimit: bool                # read under `#delimit ;`

    @property
    def finished(self) -> bool:
        """Ended by its NEWLINE or `;`; under `#delimit ;`, blank lines and closed comments
        after the last `;` are not an unfinished statement either."""
        if self.end is not None:
            return True
        if not self.delimit or self.first() is not None:
            return False
        pieces = [t for t in self.tokens if t.kind == BLOCK_COMMENT]
        return not pieces or pieces[-1].closed       # not inside a /* */ still open

    def first(self) -> Token | None:
        """The first token that is not a blank, a line break or a comment (a `*` comment is)."""
        return next((t for t in self.tokens if t.kind not in TRIVIA), None)

    @property
    def is_directive(self) -> bool:
        f = self.first()
        return f is not None and f.kind == DELIMIT

    def code(self) -> str:
        """Text without comments; physical lines joined the way Stata's reader joins them."""
        buf: list[str] = []
        for t in self.tokens:
            k = t.kind
            if k == LINEBREAK:
                if self.delimit:
                    buf.append(" ")
                elif not (buf and buf[-1].endswith(" ")):
                    buf.append(" ")
            elif k not in COMMENTS or k == STAR_COMMENT:
                buf.append(t.text)
        return "".join(buf).strip()

    def directive_argument(self) -> str:
        """What follows `#delimit` (comments removed)."""
        f = self.first()
        code = self.code()
        return code[len(f.text):].strip() if f is not None and code.startswith(f.text) else ""


def statements(text: str, state: LexState | None = None) -> list[Statement]:
    """Group the token stream into statements; a last one without its end is unfinished.

    The text is taken as the reader sees a file: when it does not end with a line break, its
    last line ends anyway (so `display 1` is finished, `display 1 ///` is not)."""
    st = state if state is not None else LexState()
    if text and not text.endswith(("\n", "\r")):
        text += "\n"
    delimit = st.delimit
    toks = tokenize(text, st)
    out: list[Statement] = []
    last = 0
    for i in [k for k, t in enumerate(toks) if t[0] in _ENDS]:
        s = Statement(toks[last:i], toks[i], delimit)
        out.append(s)
        if s.is_directive:
            delimit = s.directive_argument().startswith(";")
        last = i + 1
    if last < len(toks):
        out.append(Statement(toks[last:], None, delimit))
    return out


def physical_lines(text: str) -> list[str]:
    """Lines as typed (\\r\\n and \\r are line breaks; a final line break ends the last line)."""
    lines = _NL.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def logical_lines(text: str) -> list[Line]:
    """Split do-file text into commands.

    Without `#delimit ;` every physical line belongs to one Line (blank and comment lines
    too); under it, Lines are the `;`-separated statements and blank lines between them are
    skipped, with the echo and line number rules of the old reader (see `_delimit_line`).
    An unfinished last statement (open /* */, trailing `///`, no final `;`) is still a Line.
    """
    raw = physical_lines(text)
    lines: list[Line] = []
    prev_end: Token | None = None
    for s in statements(text):
        if not s.delimit:
            lines.append(_cr_line(s, raw))
        else:
            ln = _delimit_line(s, raw, prev_end)
            if ln is not None:
                lines.append(ln)
        prev_end = s.end if s.delimit and s.end is not None and s.end.kind == SEMICOLON else None
    return lines


def _last_line(s: Statement) -> int:
    if s.end is not None:
        return s.end.line
    return s.tokens[-1].line


def _cr_line(s: Statement, raw: list[str]) -> Line:
    first = s.tokens[0].line if s.tokens else s.end.line
    last = _last_line(s)
    f = s.first()
    star = f is not None and f.kind == STAR_COMMENT
    text = "" if star else without_prompt(s.code())
    return Line(text, first, raw[first - 1:last], star or not text)


_PROMPT = re.compile(r"\.(?:\s+|$)")


def without_prompt(code: str) -> str:
    """A command copied from the Results window keeps Stata's dot prompt (`. regress y x`);
    Stata runs it as the command after the prompt. A period followed by a letter is not a
    prompt (`.Graph.draw` is the class system), so only a period then a blank is dropped."""
    m = _PROMPT.match(code)
    return code[m.end():] if m else code


def _delimit_line(s: Statement, raw: list[str], prev_end: Token | None) -> Line | None:
    """A statement under `#delimit ;`, echoed as the old reader did: from the first physical
    line holding its code; when it starts on the line where the one before it ended, that
    line is not repeated (a statement ending there too echoes as its own text)."""
    f = s.first()
    if f is None and s.end is None:
        return None                                  # blank lines and comments at the end
    if s.is_directive:
        code = s.code()
        if not s.directive_argument().startswith(";"):
            code = code.rstrip(";").strip()
        return Line(code, f.line, [raw[f.line - 1]])
    a = f.line if f is not None else s.end.line
    last = _last_line(s)
    code = s.code()
    star = f is not None and f.kind == STAR_COMMENT
    text = "" if star else without_prompt(code)
    if prev_end is not None and prev_end.line == a:
        echo = raw[a:last] if s.end is None or last > a else [code]
    else:
        echo = raw[a - 1:last]
    return Line(text, a, echo, star or not text)


# ---- REPL: is the input complete? ---------------------------------------------------------------
@dataclass
class InputState:
    complete: bool
    depth: int            # open `{` blocks
    continued: bool       # last line ends in `///`
    in_comment: bool      # inside /* */
    in_program: bool = False   # a `program define` has not reached its `end` yet


_PROGRAM_DEF = re.compile(
    r"^(?:(?:cap|capt|captu|captur|capture|qui|quie|quiet|quietl|quietly|n|no|noi|nois|noisi|noisil|"
    r"noisily)\s*:?\s+)*"
    r"pr(?:o|og|ogr|ogra|ogram)?(?:\s+(?:de|def|defi|defin|define))?\s+([A-Za-z_]\w*)"
    r"((?:\s*`[^`']*')*)\s*(,.*)?$")
# `program drop|dir|list ...` are ordinary one-line commands, not definitions
_PROGRAM_SUBCOMMANDS = ("drop", "dir", "list", "l", "li")


def program_header(line: str) -> re.Match | None:
    """The match (group 1: name, 2: macros typed after the name -- they must expand to nothing
    when the definition runs --, 3: options) when `line` starts a program definition (the
    REPL keeps reading until its `end`; syntax/statements.py parses the body); `capture
    program define` too (the definition fails quietly when the name is taken)."""
    m = _PROGRAM_DEF.match(line.strip())
    return m if m and m.group(1) not in _PROGRAM_SUBCOMMANDS else None


# `input [varlist]`: the lines after it are data, up to a line `end` (prefixes allowed)
_INPUT_CMD = re.compile(r"^(?:(?:qui|quie|quiet|quietl|quietly|n|no|noi|nois|noisi|noisil|noisily|"
                        r"cap|capt|captu|captur|capture)\s*:?\s+)*(?:inp(?:u|ut)?(?=\s|,|$)|mata\s*:?\s*$)")


def input_header(line: str) -> bool:
    """Does `line` run `input`, whose data lines follow it up to `end`? (A bare `mata` or
    `mata:` opens a Mata block, whose lines also run up to `end`.)"""
    return _INPUT_CMD.match(line.strip()) is not None


def split_program(text: str) -> tuple[bool, str] | None:
    """For input that starts with a program definition or an `input` command: (closed by
    `end`, text after `end`), over this module's logical_lines."""
    lines = logical_lines(text)
    start = next((k for k, ln in enumerate(lines) if not ln.is_comment and ln.text.strip()), None)
    if start is None or (program_header(lines[start].text) is None
                         and not input_header(lines[start].text)):
        return None
    for ln in lines[start + 1:]:
        if ln.text.strip() == "end":
            after = ln.lineno - 1 + len(ln.echo or [ln.text])
            return True, "\n".join(text.replace("\r\n", "\n").split("\n")[after:])
    return False, ""


def _break_ends(st: LexState) -> bool:
    """Would a line break now end the statement? Lexes one "\\n" into `st`: under `#delimit ;`
    nothing may be pending since the last `;`; otherwise the break must be a NEWLINE (not
    after `///`, not inside /* */)."""
    was_delimit = st.delimit
    kind = tokenize("\n", st)[-1].kind
    return kind == NEWLINE or (was_delimit and st.at_start and not st.block)


def _brace_state(text: str) -> InputState:
    """Open `{` outside strings and comments, and whether the last line ends the statement
    (the REPL's input ends at the end of its last line, as if a line break followed)."""
    st = LexState()
    depth = 0
    for t in tokenize(text, st):
        if t.kind == BRACKET:
            if t.text == "{":
                depth += 1
            elif t.text == "}":
                depth -= 1
    continued, in_comment = st.continued, st.block > 0
    ended = _break_ends(st)
    return InputState(complete=depth <= 0 and ended, depth=max(depth, 0),
                      continued=continued, in_comment=in_comment)


def input_state(text: str) -> InputState:
    """Is `text` (possibly several lines) ready to run? (drop-in for continuation.input_state)"""
    prog = split_program(text)
    if prog is None:
        return _brace_state(text)
    closed, rest = prog
    whole = _brace_state(text)      # only for a trailing `///` or an open /* comment
    if not closed:
        return InputState(complete=False, depth=whole.depth, continued=whole.continued,
                          in_comment=whole.in_comment, in_program=True)
    if whole.continued or whole.in_comment:
        return InputState(complete=False, depth=0, continued=whole.continued,
                          in_comment=whole.in_comment)
    return input_state(rest)        # anything pasted after `end`


def is_complete(text: str) -> bool:
    return input_state(text).complete


def _line_ends(text: str) -> list[tuple[int, bool]]:
    """Per physical line ("\\n"-separated): (offset of its `///` in the line or -1, does the
    statement end with the line). Lexed line by line with one carried state, as the REPL
    sees typed input."""
    st = LexState()
    out = []
    for line in text.split("\n"):
        cont = next((t.start for t in tokenize(line, st) if t.kind == CONTINUATION), -1)
        out.append((cont, _break_ends(st)))
    return out


def join_continuations(text: str) -> str:
    """Join `///` continuation lines into one line each (the `///` comment becomes a space)."""
    out: list[str] = []
    pending = ""
    continued = False
    for line, (cont, _ended) in zip(text.split("\n"), _line_ends(text)):
        if cont >= 0:
            pending += line[:cont].rstrip() + " "
            continued = True
            continue
        out.append(pending + (line.lstrip() if continued else line))
        pending = ""
        continued = False
    if pending:
        out.append(pending.rstrip())
    return "\n".join(out)


def continuation_prompt(text: str, line_index: int) -> str:
    """Prompt for physical line `line_index` (>0) of a multi-line input.

    `> ` when the line before did not end its statement (`///`, inside /* */, no `;` yet
    under `#delimit ;`), otherwise Stata's numbered block prompt `  2. `; a program body is
    numbered from `  1. ` (the header is not line 1 of the program).
    """
    number = 0 if split_program(text) is not None else 1
    ends = _line_ends(text)[:line_index]
    number += sum(1 for _c, ended in ends if ended)
    if ends and not ends[-1][1]:
        return "> "
    return f"{number:>3}. "


# ---- top-level structure of command text ----------------------------------------------------------
_OPEN = "([{"


def top_level_mask(text: str) -> list[bool]:
    """mask[i] is True when text[i] is outside quotes and (), [], {} (the bracket characters
    themselves count as top level at their outermost position; of a string only its opening
    quote does)."""
    mask = [False] * len(text)
    depth = 0
    for t in tokenize_text(text):
        k = t.kind
        if k == BRACKET:
            if t.text in _OPEN:
                if depth == 0:
                    mask[t.start] = True
                depth += 1
            else:
                depth = max(depth - 1, 0)
                if depth == 0:
                    mask[t.start] = True
        elif depth:
            continue
        elif k == STRING or k == CSTRING:
            mask[t.start] = True
        else:
            mask[t.start:t.end] = [True] * (t.end - t.start)
    return mask


def find_top(text: str, sub: str, start: int = 0, mask: list[bool] | None = None) -> int:
    """Index of the first top-level occurrence of `sub` at or after `start`, or -1."""
    mask = top_level_mask(text) if mask is None else mask
    i = text.find(sub, start)
    while i >= 0:
        if mask[i]:
            return i
        i = text.find(sub, i + 1)
    return -1


def split_top(text: str, sep: str) -> list[str]:
    """Split at every top-level occurrence of `sep`."""
    mask = top_level_mask(text)
    parts, last = [], 0
    i = find_top(text, sep, 0, mask)
    while i >= 0:
        parts.append(text[last:i])
        last = i + len(sep)
        i = find_top(text, sep, last, mask)
    parts.append(text[last:])
    return parts


def top_words(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of whitespace-separated words; quotes/brackets keep a word whole."""
    mask = top_level_mask(text)
    spans = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace() and mask[i]:
            i += 1
            continue
        j = i
        while j < n and not (text[j].isspace() and mask[j]):
            j += 1
        spans.append((i, j))
        i = j
    return spans


def tokens(text: str) -> list[str]:
    """Words as Stata's foreach/word-of see them: "a b" is one word (quotes removed)."""
    out = []
    for s, e in top_words(text):
        w = text[s:e]
        if len(w) >= 2 and w[0] == '"' and w[-1] == '"':
            w = w[1:-1]
        elif len(w) >= 4 and w.startswith('`"') and w.endswith("\"'"):
            w = w[2:-2]
        out.append(w)
    return out


def matching_paren(text: str, i: int) -> int:
    """Index of the ')' matching the '(' at i (strings and compound quotes respected), or -1."""
    depth = 0
    for t in tokenize_text(text, i):
        if t.kind == BRACKET:
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
                if depth == 0:
                    return t.start
    return -1


def strip_quotes(s: str) -> str:
    """Remove one pair of bounding "" or `"..."' quotes."""
    s = s.strip()
    if len(s) >= 4 and s.startswith('`"') and s.endswith("\"'"):
        return s[2:-2]
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1]
    return s


def paren_groups(text: str) -> list[str] | None:
    """`(a=0) (b=0)` -> ['a=0', 'b=0']; None when the text is not a run of groups; r(198)
    for an unclosed group (drop-in for commands/test.py's _paren_groups)."""
    groups, i, n = [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] != "(":
            return None
        j = matching_paren(text, i)
        if j < 0:
            raise StataError("invalid syntax", 198)
        groups.append(text[i + 1:j])
        i = j + 1
    return groups


def string_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every top-level "..." and `"..."' in command text (for tokenizers,
    such as display's, that only need to know where strings are)."""
    return [(t.start, t.end) for t in tokenize_text(text) if t.kind == STRING or t.kind == CSTRING]


# ---- macro references --------------------------------------------------------------------------------
@dataclass
class MacroRef:
    """A macro reference as the expander sees it; `children` are the references inside its
    name, expanded first (`x`i'' -> i, then x<value of i>)."""

    kind: str                    # LOCAL or GLOBAL
    start: int                   # offset of ` or $
    end: int                     # offset after ' (or after the name or })
    name_start: int              # the name: between ` and ', after $, inside ${ }
    name_end: int
    closed: bool = True          # False: no closing '; the text from `start` on stays as typed
    children: list["MacroRef"] = field(default_factory=list)


def _global_ref(text: str, p: int, n: int) -> MacroRef | None:
    if p + 1 < n and text[p + 1] == "{":
        close = text.find("}", p + 2, n)
        if close > 0:
            kids, _, _ = _scan_refs(text, p + 2, close, False)
            return MacroRef(GLOBAL, p, close + 1, p + 2, close, True, kids)
    m = _GNAME.match(text, p + 1, n)
    if m:
        return MacroRef(GLOBAL, p, m.end(), p + 1, m.end())
    return None


def _scan_refs(text: str, i: int, n: int, inside: bool) -> tuple[list[MacroRef], int, bool]:
    """References in text[i:n] by the expander's rules: `" is plain text, ` opens a reference
    (nesting), ' closes the innermost one, $ starts a global. Inside a reference, returns at
    its closing ': (references, offset of the ', True); otherwise (references, n, False). An
    unclosed reference ends the scan: everything from it on is left as typed. Open references
    are kept on an explicit stack, so nesting depth costs no Python recursion."""
    frames: list[tuple[list[MacroRef], int]] = [([], -1)]    # (references found, ` offset)
    while True:
        m = _MACRO_ATOM.search(text, i, n)
        if m is None:
            while len(frames) > 1:                           # every open reference: unclosed
                kids, p = frames.pop()
                frames[-1][0].append(MacroRef(LOCAL, p, n, p + 1, n, False, kids))
            return frames[0][0], n, False
        a, p = m.group(), m.start()
        i = p + 1
        if a == '`"':
            i = p + 2
        elif a == "`":
            frames.append(([], p))
        elif a == "'" and len(frames) > 1:
            kids, p0 = frames.pop()
            frames[-1][0].append(MacroRef(LOCAL, p0, p + 1, p0 + 1, p, True, kids))
        elif a == "'" and inside:
            return frames[0][0], p, True
        elif a == "$":
            g = _global_ref(text, p, n)
            if g is not None:
                frames[-1][0].append(g)
                i = g.end


def macro_refs(text: str) -> list[MacroRef]:
    """The outermost macro references in `text`, in order, each with its nested ones.

    The rules are the macro expander's (macros._Expander._scan): they apply everywhere, in
    "..." and in compound quotes too (`"`x'"' expands x), and `" is never a reference."""
    return _scan_refs(text, 0, len(text), False)[0]


def expand_refs(text: str, local: Callable[[str], str], global_: Callable[[str], str]) -> str:
    """Expand `text` with `local(name)` / `global_(name)` giving values, inside out and left
    to right (the order matters for `++i'); the macro expander's (macros._Expander) engine.

    One pass with an explicit stack of open references (no recursion, so 50,000 levels
    nest): ` opens a reference, ' closes the innermost one and is replaced by its value,
    `" is plain text, $name and ${name} are globals. A reference never closed leaves the
    text from its ` on as typed (the lookups inside it have still happened)."""
    n = len(text)
    parts: list[list[str]] = [[]]   # parts[0]: the expansion; parts[k]: open reference k's name
    opened: list[int] = []          # where each open reference's ` is
    i = 0
    while True:
        m = _MACRO_ATOM.search(text, i)
        if m is None:
            parts[-1].append(text[i:])
            break
        a, p = m.group(), m.start()
        parts[-1].append(text[i:p])
        i = p + 1
        if a == '`"':
            parts[-1].append(a)
            i = p + 2
        elif a == "`":
            opened.append(p)
            parts.append([])
        elif a == "'" and opened:
            name = "".join(parts.pop())
            opened.pop()
            parts[-1].append(local(name))
        elif a == "'":
            parts[-1].append(a)
        else:
            i = _expand_global(text, p, n, parts[-1], local, global_)
    if opened:
        return "".join(parts[0]) + text[opened[0]:]
    return "".join(parts[0])


def _expand_global(text: str, p: int, n: int, out: list[str],
                   local: Callable[[str], str], global_: Callable[[str], str]) -> int:
    """$name or ${name} at text[p] (a lone $ is kept); returns the offset after it."""
    if p + 1 < n and text[p + 1] == "{":
        close = text.find("}", p + 2)
        if close > 0:
            out.append(global_(expand_refs(text[p + 2:close], local, global_).strip()))
            return close + 1
    m = _GNAME.match(text, p + 1)
    if m:
        out.append(global_(m.group(0)))
        return m.end()
    out.append("$")
    return p + 1


# ---- highlighting ----------------------------------------------------------------------------------
_HIGHLIGHT = {
    WS: "text", NEWLINE: "text", LINEBREAK: "text", WORD: "name", NUMBER: "number",
    STRING: "string", CSTRING: "string", LOCAL: "variable", GLOBAL: "global",
    COMMENT: "comment", CONTINUATION: "continuation", BLOCK_COMMENT: "comment",
    STAR_COMMENT: "comment", BRACKET: "punctuation", OP: "operator", SEMICOLON: "operator",
    DELIMIT: "preproc",
}
_PREFIX = re.compile(r"qui(?:e(?:t(?:l(?:y)?)?)?)?|n(?:o(?:i(?:s(?:i(?:l(?:y)?)?)?)?)?)?"
                     r"|cap(?:t(?:u(?:r(?:e)?)?)?)?")
_BY = re.compile(r"by|bys(?:o(?:r(?:t)?)?)?")


def highlight_kind(tok: Token) -> str:
    """A plain class name for a token: text, name, number, string, variable, global, comment,
    continuation, punctuation, operator, preproc."""
    return _HIGHLIGHT[tok.kind]


def command_positions(toks: list[Token]) -> set[int]:
    """Indices of the words in command position: the first word of a statement, after the
    prefixes quietly/noisily/capture (with or without `:`), `by ...:` and an opening `{`."""
    out: set[int] = set()
    expect = True
    in_by = False
    for k, t in enumerate(toks):
        kind = t.kind
        if kind in (NEWLINE, SEMICOLON):
            expect, in_by = True, False
        elif kind in TRIVIA:
            continue
        elif in_by:
            in_by = not (kind == OP and t.text == ":")
            expect = not in_by
        elif expect and kind == WORD:
            out.add(k)
            if _BY.fullmatch(t.text):
                in_by, expect = True, False
            else:
                expect = bool(_PREFIX.fullmatch(t.text))
        elif not (expect and (t.text == "{" or t.text == ":")):
            expect = False
    return out


def pygments_tokens(text: str, is_command: Callable[[str], bool] | None = None
                    ) -> Iterator[tuple[int, object, str]]:
    """(index, pygments token type, value) for prompt_toolkit's PygmentsLexer: one lexer for
    colours too, so a `//` inside a compound quote is coloured as the string it is."""
    from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

    kinds = {"text": Text, "name": Text, "number": Number, "string": String,
             "variable": Name.Variable, "global": Name.Variable.Global, "comment": Comment.Single,
             "continuation": Comment.Special, "punctuation": Punctuation, "operator": Operator,
             "preproc": Comment.Preproc}
    toks = tokenize(text)
    commands = command_positions(toks) if is_command is not None else set()
    for k, t in enumerate(toks):
        ttype = kinds[_HIGHLIGHT[t.kind]]
        if t.kind == BLOCK_COMMENT:
            ttype = Comment.Multiline
        elif t.kind == WORD:
            if k in commands and (_PREFIX.fullmatch(t.text) or _BY.fullmatch(t.text)
                                  or is_command(t.text)):
                ttype = Keyword
            elif k + 1 < len(toks) and toks[k + 1].text == "(":
                ttype = Name.Function
        yield t.start, ttype, t.text


__all__ = [
    "WS", "NEWLINE", "LINEBREAK", "WORD", "NUMBER", "STRING", "CSTRING", "LOCAL", "GLOBAL",
    "COMMENT", "CONTINUATION", "BLOCK_COMMENT", "STAR_COMMENT", "BRACKET", "OP", "SEMICOLON",
    "DELIMIT", "TRIVIA", "COMMENTS", "Token", "LexState", "Lexer", "tokenize", "tokenize_text",
    "Line", "Statement", "statements", "physical_lines", "logical_lines", "InputState",
    "program_header", "input_header", "split_program", "input_state", "is_complete", "join_continuations", "continuation_prompt",
    "top_level_mask", "find_top", "split_top", "top_words", "tokens", "matching_paren",
    "strip_quotes", "paren_groups", "string_spans", "MacroRef", "macro_refs", "expand_refs",
    "highlight_kind", "command_positions", "pygments_tokens",
]
