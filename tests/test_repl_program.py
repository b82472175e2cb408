"""`program define NAME ... end` typed at the REPL, piped into hlmshell, and in a terminal.

The prompt tests use prompt_toolkit's pipe input (a real prompt, no terminal) with the real
Interpreter, so they check what the user sees: the definition is collected up to `end`,
runs later, and errors in its body show only when it runs.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.repl.app import run_repl
from hlmshell.syntax.lexer import continuation_prompt, input_state, is_complete, split_program
from hlmshell.syntax.statements import program_header
from hlmshell.session import Session

ROOT = Path(__file__).resolve().parents[1]
CTRL_C = "\x03"
CTRL_D = "\x04"
ENTER = "\r"


@pytest.fixture(autouse=True)
def hist(tmp_path, monkeypatch):
    monkeypatch.setenv("HLMSHELL_HISTORY", str(tmp_path / "history"))


class Recording:
    """Stand-in interpreter: shows exactly what the REPL hands over."""

    def __init__(self, session):
        self.session = session
        self.calls: list[tuple[str, str]] = []

    def run_line(self, text):
        self.calls.append(("line", text))
        return 0

    def run_text(self, text, echo=True, name=""):
        self.calls.append(("text", text))
        return 0


def drive(lines, interp_factory=Interpreter):
    """Type `lines` (ENTER after each; CTRL_C kept as typed) at a fresh REPL; return output."""
    session = Session(out=Capture())
    interp = interp_factory(session)
    keys = "".join(ln if ln.endswith(CTRL_C) else ln + ENTER for ln in lines) + CTRL_D
    with create_pipe_input() as inp:
        inp.send_text(keys)
        timer = threading.Timer(10, inp.close)     # EOF if the keys never end the REPL
        timer.start()
        try:
            run_repl(session, interp, input=inp, output=DummyOutput(), banner=False)
        finally:
            timer.cancel()
    return session.out.getvalue(), interp, session


def shown(out: str) -> list[str]:
    return [ln for ln in out.splitlines() if ln.strip()]


# -- when the input is complete ---------------------------------------------------------------

@pytest.mark.parametrize("header", ["program define hi", "program hi", "pr hi", "prog hi, rclass",
                                    "program def hi , eclass", "  program define hi  "])
def test_program_header_keeps_input_open_until_end(header):
    assert not is_complete(header)
    assert input_state(header + "\ndi 1").in_program
    assert not is_complete(header + "\ndi 1")
    assert is_complete(header + "\ndi 1\nend")
    assert is_complete(header + "\nend")


@pytest.mark.parametrize("line", ["program drop hi", "program drop _all", "program list",
                                  "program list hi", "program dir", "pr l", "program define drop",
                                  "display 1", "programs"])
def test_program_subcommands_and_other_lines_are_one_line(line):
    assert is_complete(line)
    assert program_header(line) is None


def test_braces_in_the_body_do_not_decide_only_end_does():
    body = "program define p\nforeach v in a b {\nif 1 {\ndi 1"
    assert not is_complete(body)
    assert not is_complete(body + "\n}\n}")            # braces closed, still no `end`
    assert is_complete(body + "\n}\n}\nend")
    assert is_complete("program p\ndi \"{\"\nend")       # a `{` in a string, no block


def test_what_counts_as_end():
    assert is_complete("program p\n   end   ")
    assert is_complete("program p\nend // done")
    assert not is_complete('program p\ndi "end"')
    assert not is_complete("program p\nending")
    assert not is_complete("program p\n/* a comment\nend")        # `end` inside /* */
    assert is_complete("program p\n/* a comment\nend */\nend")
    assert not is_complete("program p\nend ///")                   # `end` continued: not yet
    assert not is_complete("program p\nend ///\n di 1")            # `end di 1` is no end
    assert not is_complete("program p, ///\nrclass")               # header continued over lines
    assert is_complete("program p, ///\nrclass\nend")


def test_text_pasted_after_end_is_checked_too():
    assert split_program("program p\ndi 1\nend\nhi") == (True, "hi")
    assert is_complete("program p\ndi 1\nend\np")
    assert not is_complete("program p\ndi 1\nend\nforeach v in a {")
    assert not is_complete("program p\nend\nprogram q\ndi 1")


def test_program_body_prompts_are_numbered_from_one():
    text = "program define p\nargs a ///\n b\nforeach v in a {\ndi 1\n}\nend"
    prompts = [continuation_prompt(text, i) for i in range(1, 7)]
    assert prompts == ["  1. ", "> ", "  2. ", "  3. ", "  4. ", "  5. "]
    assert continuation_prompt("foreach v in a {\ndi 1", 1) == "  2. "    # loops unchanged


@pytest.mark.parametrize("header", ["program define hi", "program hi", "pr hi, rclass",
                                    "program drop hi", "program list", "program dir",
                                    "program define drop", "pr l"])
def test_repl_and_interpreter_agree_on_what_opens_a_definition(header):
    """A lone header is an unfinished definition to the interpreter (r(612)) exactly when
    the REPL keeps reading after it."""
    s = Session(out=Capture())
    rc = Interpreter(s).run_text(header, echo=False)
    assert (rc == 612) == (not is_complete(header))


# -- typed at the prompt, with the real interpreter ---------------------------------------------

def test_define_then_run():
    out, _, _ = drive(["program define hi", 'display "he" + "llo"', "end", "hi", "hi"])
    assert shown(out) == ["hello", "hello"]            # nothing ran before `end`, then twice


def test_the_block_reaches_the_interpreter_as_one_input():
    _, rec, _ = drive(["pr hi, rclass", "  di 1", "end", "hi 2"], interp_factory=Recording)
    # (Enter carries the indentation of the line above over to the next one)
    assert rec.calls == [("text", "pr hi, rclass\n  di 1\n  end"), ("line", "hi 2")]


def test_program_with_args_rclass_nested_braces_and_continuation():
    out, _, s = drive([
        "program define addup, rclass",
        "    args a b",
        "    if `a' > 0 {",
        "        foreach k in 1 2 {",
        '            display "k`k\' " `a\' + `b\' + `k\'',
        "        }",
        "    }",
        "    else {",
        '        display "neg"',
        "    }",
        "    return scalar sum = `a' ///",
        "        + `b'",
        "end",
        "addup 2 3",
        "display r(sum)",
        "addup -1 1",
    ])
    assert shown(out) == ["k1 6", "k2 7", "5", "neg"]
    assert "addup" in s.interpreter.programs


def test_program_uses_positional_macros_and_runs_repeatedly():
    out, _, _ = drive(["program twice", "display `1' * 2", 'display "`0\'"', "end",
                       "twice 4", "twice 5 x"])
    assert shown(out) == ["8", "4", "10", "5 x"]


def test_program_list_and_drop():
    out, _, s = drive(["program define hi", 'display "hi"', "end", "program list",
                       "program drop hi", "hi", "program drop hi"])
    lines = [ln.strip() for ln in shown(out)]
    assert lines[:2] == ["hi:", '1.  display "hi"']
    assert "command hi is unrecognized" in lines and "r(199);" in lines
    assert lines[-2:] == ["program hi not found", "r(111);"]
    assert "hi" not in s.interpreter.programs


def test_redefining_needs_drop_first():
    out, _, _ = drive(["program hi", "display 1", "end", "program hi", "display 2", "end", "hi",
                       "program drop hi", "program hi", "display 3", "end", "hi"])
    assert shown(out) == ["program hi already defined", "r(110);", "1", "3"]


def test_syntax_error_in_body_shows_only_when_run():
    out, _, _ = drive(["program define bad", 'display "before"', "display 1 +",
                       "nosuchcommand x", "end", 'display "defined"', "bad", 'display "after"'])
    assert shown(out) == ["defined", "before", "invalid syntax", "r(198);", "after"]


def test_error_code_of_the_failing_body_line():
    out, _, _ = drive(["program define bad2", "nosuchcommand x", "end", "bad2"])
    assert shown(out) == ["command nosuchcommand is unrecognized", "r(199);"]


def test_ctrl_c_while_collecting_defines_nothing():
    out, _, s = drive(["program define gone", "display 1" + CTRL_C, "gone", 'display "ok"'])
    assert shown(out) == ["command gone is unrecognized", "r(199);", "ok"]
    assert s.interpreter.programs == {}


def test_end_with_comment_and_indentation_closes():
    out, _, _ = drive(["program p", "/* end", "still a comment */", 'display "end"',
                       "   end   // done", "p"])
    assert shown(out) == ["end"]


def test_definition_reaches_open_logs_as_stata_echoes_it():
    import io

    session = Session(out=Capture())
    log = io.StringIO()
    session.out.logs.append(log)
    interp = Interpreter(session)
    keys = ENTER.join(["program define hi", 'display "hi"', "end", "hi"]) + ENTER + CTRL_D
    with create_pipe_input() as inp:
        inp.send_text(keys)
        run_repl(session, interp, input=inp, output=DummyOutput(), banner=False)
    assert '. program define hi\n  1. display "hi"\n  2. end\n' in log.getvalue()


# -- piped into the hlmshell command (no terminal) --------------------------------------------

def pipe(text, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               HLMSHELL_HISTORY=str(tmp_path / "h"))
    env.pop("HLMSHELL_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "hlmshell"], input=text, env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_piped_define_and_run(tmp_path):
    p = pipe('program define hi\ndi "h" + "i"\nend\nhi\n', tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "hi" in p.stdout.splitlines()
    assert "Traceback" not in p.stderr


def test_piped_args_nested_braces_and_drop(tmp_path):
    text = ("program add, rclass\n args a b\n if `a' > 0 {\n  foreach k in 1 2 {\n"
            "   di `a' + `b' + `k'\n  }\n }\n return scalar s = `a' ///\n  + `b'\nend\n"
            "add 2 3\ndi r(s)\nprogram drop add\ncapture add 1 1\ndi _rc\n")
    p = pipe(text, tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout.splitlines()
    assert ["6", "7"] == [ln for ln in out if ln in ("6", "7")]
    assert "5" in out and "199" in out


def test_piped_body_error_only_at_run_time(tmp_path):
    p = pipe('program bad\ndi 1 +\nend\ndi "defined"\nbad\ndi "not reached"\n', tmp_path)
    out = p.stdout.splitlines()
    assert "defined" in out and "invalid syntax" in out and "r(198);" in out
    assert "not reached" not in out
    assert p.returncode == 198


def test_piped_missing_end(tmp_path):
    p = pipe('program hi\ndi "x"\n', tmp_path)
    assert "unexpected end of file\nr(612);" in p.stdout
    assert p.returncode == 255                   # r(612) squeezed into an exit status


# -- a real terminal ---------------------------------------------------------------------------

_PTY_REPL = '''
import sys
from hlmshell.session import Session
from hlmshell.interpreter import Interpreter
from hlmshell.repl.app import run_repl

s = Session()
sys.exit(run_repl(s, Interpreter(s)))
'''


def test_program_definition_in_a_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    script = tmp_path / "repl.py"
    script.write_text(_PTY_REPL)
    env = dict(os.environ, PYTHONPATH=str(ROOT), HLMSHELL_HISTORY=str(tmp_path / "h"),
               TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(sys.executable, [str(script)], env=env, encoding="utf-8", timeout=20)
    try:
        child.expect("Type exit to quit")
        child.send("program define greet\r")
        child.expect(r"1\. ")                        # the body prompt, nothing ran
        child.send('display "hel" + "lo " + "`1\'"\r')
        child.expect(r"2\. ")
        child.send("end\r")
        child.send("greet world\r")
        child.expect("hello world")                  # the output, not the echoed input
        child.send("program define gone\r")
        child.expect(r"1\. ")
        child.send('display "x"')
        child.sendintr()                             # Ctrl-C abandons the definition
        child.send("program list\r")
        child.expect("greet:")
        child.send("gone\r")
        child.expect("command gone is unrecognized")
        child.expect(r"r\(199\);")
        child.send("exit\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
