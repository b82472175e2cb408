"""Shared helpers for tests that run commands through the interpreter, as a do-file line does
(errors come back as the return code and Stata's message in the output)."""
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture


def _hsb_path() -> str:
    import os

    import hlmshell
    return os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")


HSB_DTA = _hsb_path()        # High School and Beyond, shipped inside the package


def hsb_session():
    """A fresh session with the shipped hsb.dta loaded."""
    from hlmshell.session import Session
    s = Session(out=Capture())
    ok(s, f'use "{HSB_DTA}", clear')
    return s


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


def csv_session(relpath: str, options: str = "clear asdouble"):
    """A fresh session with a CSV of the project's tests/data loaded by `import delimited`
    (relpath relative to the project root; asdouble: the R references read doubles)."""
    import os

    from hlmshell.session import Session
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    s = Session(out=Capture())
    cwd = os.getcwd()
    os.chdir(root)
    try:
        ok(s, f"import delimited {relpath}, {options}")
    finally:
        os.chdir(cwd)
    return s


def interp_session(*lines):
    """A session with one interpreter for its whole life (user programs, file handles and
    postfiles live as long as it does), after running `lines`."""
    from hlmshell.session import Session
    s = Session(out=Capture())
    Interpreter(s)
    for ln in lines:
        iok(s, ln)
    return s


def irun(s, text):
    """(rc, output) of do-file text run by the session's own interpreter, as typed."""
    s.out = Capture()
    rc = s.interpreter.run_text(text, echo=False)
    return rc, s.out.getvalue()


def iok(s, text):
    rc, out = irun(s, text)
    assert rc == 0, out
    return out
