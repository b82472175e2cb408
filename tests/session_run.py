"""Shared helpers for tests that run commands through the interpreter, as a do-file line does
(errors come back as the return code and Stata's message in the output)."""
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture


def run(s, text):
    """(rc, output) of one line run on session s, with a fresh output buffer."""
    s.out = Capture()
    rc = Interpreter(s).run_line(text)
    return rc, s.out.getvalue()


def ok(s, text):
    """The output of a line that must succeed."""
    rc, out = run(s, text)
    assert rc == 0, out
    return out
