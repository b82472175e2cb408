"""One corpus of tricky lines through every front end: they must agree (issue 10).

The REPL's completeness check, the do-file reader and `display` all ask the one lexer
(syntax/lexer.py) where strings, compound quotes, comments and `#delimit ;` are, so a line
that the REPL thinks complete runs the same way typed at the prompt and read from a do-file.
"""
from __future__ import annotations

import re

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.repl.app import Repl
from hlmshell.session import Session
from hlmshell.syntax.lexer import is_complete, logical_lines

# (input as typed, what it prints)
CORPUS = [
    ('display `"a " // " b"\'', ['a " // " b']),
    ('display `"a /* b */ c"\'', ["a /* b */ c"]),
    ('display "a /// b"', ["a /// b"]),
    ('display "a // b"', ["a // b"]),
    ('display `"x `"y"\' z"\'', ['x `"y"\' z']),
    ('local q `"he said "hi""\'\ndisplay `"`q\'"\'', ['he said "hi"']),
    ('local a `"`"in"\' out"\'\ndisplay `"[`a\']"\'', ['[`"in"\' out]']),
    ('display "x" ///\n  "y"', ["xy"]),
    ('display 1 /* a comment\n  over two lines */ + 2', ["3"]),
    ('display 4 /* nested /* inner */\n still */ + 1', ["5"]),
    ('#delimit ;\ndisplay "a;b" ;\ndisplay 1\n + 1 ;\n#delimit cr', ["delimiter now ;", "a;b", "2",
                                                                      "delimiter now cr"]),
    ('* a comment ///\n  still comment\ndisplay "after"', ["after"]),
    ('if 1 {\n  display `"{ in quotes"\'\n}', ["{ in quotes"]),
    ('foreach w in `"a b"\' c {\n  display "`w\'"\n}', ["a b", "c"]),
]
_ECHO = re.compile(r"^(\. |> |\s*\d+\. |end of do-file$|$)")


def _results(out: str) -> list[str]:
    return [ln for ln in out.split("\n") if not _ECHO.match(ln)]


def _dofile(text: str) -> list[str]:
    s = Session(out=Capture())
    assert Interpreter(s).run_text(text + "\n", echo=True, name="t.do") == 0
    return _results(s.out.getvalue())


def _repl(text: str) -> list[str]:
    s = Session(out=Capture())
    interp = Interpreter(s)
    with create_pipe_input() as inp:
        Repl(interp, s, input=inp, output=DummyOutput()).execute(text)
    return [ln for ln in s.out.getvalue().split("\n") if ln]


@pytest.mark.parametrize("text, expected", CORPUS, ids=[c[0][:30] for c in CORPUS])
def test_repl_dofile_and_display_agree(text, expected):
    assert is_complete(text)
    assert _dofile(text) == expected
    assert _repl(text) == expected


@pytest.mark.parametrize("text, expected", [c for c in CORPUS if "\n" in c[0] and "{" not in c[0]
                                            and "#delimit" not in c[0] and "local" not in c[0]],
                         ids=lambda c: str(c)[:30])
def test_repl_waits_exactly_as_long_as_the_reader_joins(text, expected):
    """Every physical line before the last one leaves the input open (the reader joins them
    into one command), unless it is a whole comment."""
    lines = text.split("\n")
    cmds = [ln for ln in logical_lines(text) if not ln.is_comment]
    assert len(cmds) == 1
    first = cmds[0].lineno
    for k in range(first, len(lines)):
        assert not is_complete("\n".join(lines[first - 1:k])), lines[:k]


def test_compound_quote_hides_comment_markers_in_a_dofile():
    assert _dofile('display `"a " // " b"\'') == ['a " // " b']
