"""Junk input never shows a traceback: every failure is a Stata message and r(#)."""
import contextlib
import os
import re
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from hlmshell.data.dataset import Variable
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

WORDS = ["display", "di", "local", "global", "scalar", "foreach", "forvalues", "while", "if", "else",
         "capture", "quietly", "noisily", "by", "bysort", "x", "g", "_n", "_N", "`x'", "$g", "{", "}",
         "(", ")", "[", "]", ",", "=", "==", "+", "-", "*", "/", "^", "&", "|", "!", "\"", "`\"", "\"'",
         "1", "2.5", ".", ".a", "in", "1/2", "f/l", "_b[x]", "e(N)", "r(mean)", "abs(", "substr(",
         "///", "//", "/*", "*/", ":", ";", "#delimit", "continue", "exit 3", "matrix", "list", "return",
         "ereturn", "macro", "_col(3)", "%9.2f", "inlist(", "cond(", "runiform()", "#", "##", "i.", "c."]


@contextlib.contextmanager
def sandbox():
    """Junk may spell `cd`, `log using`...: run it in a scratch directory, then come back."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(old)


def make():
    s = Session(Capture())
    Interpreter(s)
    s.data.add(Variable("x", np.array([1.0, 2.0, np.nan]), "double"))
    s.data.add(Variable("g", np.array([1.0, 1.0, 2.0]), "byte"))
    return s


junk = st.one_of(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=10).map(" ".join),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk)
def test_junk_lines_give_stata_errors(text):
    s = make()
    try:
        with sandbox():
            rc = s.interpreter.run_line(text)
    except Exception as exc:  # only `exit` may leave run_line, as the REPL expects
        from hlmshell.errors import ExitDo

        assert isinstance(exc, ExitDo), repr(exc)
        return
    out = s.out.getvalue()
    assert "Traceback" not in out
    assert "unexpected error" not in out, out
    if rc:
        assert re.search(rf"r\({rc}\);\n$", out), (text, out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(junk, min_size=1, max_size=6).map("\n".join))
def test_junk_dofiles_end_cleanly(text):
    s = make()
    with sandbox():
        rc = s.interpreter.run_text(text, echo=True)
    out = s.out.getvalue()
    assert "Traceback" not in out and "unexpected error" not in out, out
    if rc:
        assert out.rstrip().endswith(f"r({rc});")
    assert s.by_restrict is None and len(s.locals) == 1 and s.out.quiet == 0


def test_very_long_expressions_are_stata_errors():
    s = make()
    long = "+".join(["1"] * 3000)
    for text in (f"display {long}", f"local x = {long}", f"if {long} display 1", "display " + "(" * 600 + "1" + ")" * 600):
        start = len(s.out.getvalue())
        rc = s.interpreter.run_line(text)
        out = s.out.getvalue()[start:]
        assert rc in (0, 130) and "Traceback" not in out
        if rc:
            assert out == "expression too long\nr(130);\n"
