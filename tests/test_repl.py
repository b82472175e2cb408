"""The interactive shell, driven through prompt_toolkit's pipe input (a real prompt, no terminal).

A recording stand-in interpreter shows exactly what the REPL hands to the interpreter API
(run_line / run_text); separate tests exercise the real Interpreter when it is importable.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from hlmshell.data.dataset import Variable
from hlmshell.output.writer import Capture
from hlmshell.repl.app import Repl, data_changed, parse_exit, run_repl
from hlmshell.repl.completer import StataCompleter
from hlmshell.syntax.lexer import continuation_prompt, input_state, is_complete, join_continuations
from hlmshell.repl.highlight import repl_style, stata_lexer
from hlmshell.repl.history import history_path, make_history
from hlmshell.session import Session

CTRL_C = "\x03"
CTRL_D = "\x04"
ENTER = "\r"
UP = "\x1b[A"


class RecordingInterpreter:
    """Stands in for hlmshell.interpreter.Interpreter: records calls, prints a marker."""

    def __init__(self, session, fail_with=None):
        self.session = session
        self.calls: list[tuple[str, str]] = []
        self.fail_with = fail_with

    def run_line(self, text):
        self.calls.append(("line", text))
        if self.fail_with is not None and text.startswith("boom"):
            raise self.fail_with
        self.session.out.line(f"<ran {text}>")
        return 0

    def run_text(self, text, echo=True, name=""):
        self.calls.append(("text", text))
        self.session.out.line("<ran block>")
        return 0


def make_session(with_data=False):
    s = Session(out=Capture())
    if with_data:
        s.data.add(Variable("mathach", np.arange(3.0), "float"))
        s.data.add(Variable("meanses", np.arange(3.0), "float"))
        s.data.add(Variable("id", np.arange(3.0), "int"))
    return s


@pytest.fixture
def hist(tmp_path, monkeypatch):
    path = tmp_path / "history"
    monkeypatch.setenv("HLMSHELL_HISTORY", str(path))
    return path


def drive(keys: str, session=None, interp=None, banner=False):
    """Type `keys` at the prompt (all at once, as typeahead) and run until the REPL ends."""
    session = session or make_session()
    interp = interp or RecordingInterpreter(session)
    with create_pipe_input() as inp:
        inp.send_text(keys)
        # safety net: if the keys never end the REPL, closing the input does (EOF)
        timer = threading.Timer(10, inp.close)
        timer.start()
        try:
            rc = run_repl(session, interp, input=inp, output=DummyOutput(), banner=banner)
        finally:
            timer.cancel()
    return rc, interp, session.out.getvalue()


# -- continuation logic ------------------------------------------------------------------

def test_complete_simple_lines():
    assert is_complete("display 1")
    assert is_complete("")
    assert is_complete('display "{"')          # brace inside a string
    assert is_complete('display `"say "{" now"\'')  # compound quotes
    assert is_complete("di 1 // open { in a comment")
    assert is_complete("* a { comment line")


def test_incomplete_inputs():
    assert not is_complete("regress y x ///")
    assert not is_complete("regress y x /// a comment after")
    assert not is_complete("foreach v in a b {")
    assert not is_complete("foreach v in a b {\n  di 1")
    assert not is_complete("foreach v in a b {\n  if 1 {\n  di 1\n  }")
    assert is_complete("foreach v in a b {\n  if 1 {\n  di 1\n  }\n}")
    assert not is_complete("di 1 /* open")
    assert is_complete("di 1 /* open\n closed */")
    st = input_state("forvalues i = 1/3 {\nquietly {")
    assert st.depth == 2 and not st.complete


def test_triple_slash_needs_blank_before_and_not_in_string():
    assert is_complete('display "a ///"')
    assert is_complete("display 1///")  # Stata needs a blank before ///


def test_join_continuations():
    assert join_continuations("regress y x ///\n  z, vce(robust)") == "regress y x z, vce(robust)"
    assert join_continuations("a /// one\nb ///\nc") == "a b c"
    block = "foreach v in a b {\n  di ///\n   1\n}"
    assert join_continuations(block) == "foreach v in a b {\n  di 1\n}"


def test_continuation_prompts_follow_stata():
    text = "foreach v in a b {\ndi ///\n1\n}"
    assert continuation_prompt(text, 1) == "  2. "
    assert continuation_prompt(text, 2) == "> "
    assert continuation_prompt(text, 3) == "  3. "
    assert continuation_prompt("reg y ///\nx", 1) == "> "


# -- exit ----------------------------------------------------------------------------------

def test_parse_exit():
    assert parse_exit("display 1") is None
    assert parse_exit("exiting") is None
    assert parse_exit("exit").clear is False
    assert parse_exit("exit, clear").clear is True
    assert parse_exit("exit , STATA clear").clear is True
    assert parse_exit("exit 3").code == 3
    from hlmshell.errors import StataError

    with pytest.raises(StataError):
        parse_exit("exit, bogus")
    with pytest.raises(StataError):
        parse_exit("exit now")


def test_data_changed_flag():
    s = make_session()
    assert not data_changed(s)
    s = make_session(with_data=True)
    assert data_changed(s)
    s.data.changed = False
    assert not data_changed(s)


# -- the prompt, through pipe input ---------------------------------------------------------

def test_typed_commands_run_in_order(hist):
    rc, interp, out = drive("display 1" + ENTER + "summarize" + ENTER + CTRL_D)
    assert rc == 0
    assert interp.calls == [("line", "display 1"), ("line", "summarize")]
    assert "<ran display 1>\n\n<ran summarize>\n\n" in out


def test_blank_input_runs_nothing(hist):
    _, interp, _ = drive(ENTER + "   " + ENTER + CTRL_D)
    assert interp.calls == []


def test_triple_slash_continuation_joined(hist):
    keys = "mixed mathach ses ///" + ENTER + "|| id: ses, reml" + ENTER + CTRL_D
    _, interp, _ = drive(keys)
    assert interp.calls == [("line", "mixed mathach ses || id: ses, reml")]


def test_block_runs_as_one_text(hist):
    keys = ('foreach v in a b {' + ENTER + 'display "`v\'"' + ENTER + '}' + ENTER
            + "display 2" + ENTER + CTRL_D)
    _, interp, out = drive(keys)
    assert interp.calls == [("text", 'foreach v in a b {\ndisplay "`v\'"\n}'),
                            ("line", "display 2")]
    assert "<ran block>" in out


def test_nested_block_waits_for_outer_brace(hist):
    keys = ("quietly {" + ENTER + "if 1 {" + ENTER + "di 1" + ENTER + "}" + ENTER
            + "}" + ENTER + CTRL_D)
    _, interp, _ = drive(keys)
    assert interp.calls == [("text", "quietly {\nif 1 {\ndi 1\n}\n}")]


def test_ctrl_c_cancels_current_input(hist):
    keys = "display 1" + CTRL_C + "foreach v in a {" + ENTER + "di 1" + CTRL_C + "display 2" + ENTER + CTRL_D
    _, interp, _ = drive(keys)
    assert interp.calls == [("line", "display 2")]


def test_ctrl_d_quits_with_status_zero(hist):
    rc, interp, out = drive(CTRL_D + "display 1" + ENTER)
    assert rc == 0 and interp.calls == []


def test_banner(hist):
    _, _, out = drive(CTRL_D, banner=True)
    head = out.splitlines()
    assert head[0].startswith("hlmshell ") and "exit" in out.lower()
    assert len([ln for ln in head if ln.strip()]) <= 2


def test_exit_quits_when_data_unchanged(hist):
    rc, interp, out = drive("exit" + ENTER + "display 1" + ENTER + CTRL_D)
    assert rc == 0 and interp.calls == []
    assert "r(4)" not in out


def test_exit_refused_when_data_changed_then_exit_clear(hist):
    s = make_session(with_data=True)
    keys = "exit" + ENTER + "display 1" + ENTER + "exit, clear" + ENTER + "display 2" + ENTER + CTRL_D
    rc, interp, out = drive(keys, session=s)
    assert "no; dataset in memory has changed since last saved\nr(4);" in out
    # the session went on after the refusal, and ended at `exit, clear`
    assert interp.calls == [("line", "display 1")]
    assert rc == 0


def test_exit_after_save_is_allowed(hist):
    s = make_session(with_data=True)

    class Saver(RecordingInterpreter):
        def run_line(self, text):
            super().run_line(text)
            if text.startswith("save"):
                self.session.data.changed = False
            return 0

    rc, interp, out = drive("save x" + ENTER + "exit" + ENTER + "display 9" + ENTER + CTRL_D,
                            session=s, interp=Saver(s))
    assert interp.calls == [("line", "save x")]
    assert "r(4)" not in out


def test_bad_exit_option_is_a_stata_error(hist):
    _, interp, out = drive("exit, bogus" + ENTER + CTRL_D)
    assert "option bogus not allowed\nr(198);" in out


def test_break_during_command_keeps_session(hist):
    s = make_session()
    interp = RecordingInterpreter(s, fail_with=KeyboardInterrupt())
    _, interp, out = drive("boom" + ENTER + "display 2" + ENTER + CTRL_D, session=s, interp=interp)
    assert "--Break--\nr(1);" in out
    assert interp.calls[-1] == ("line", "display 2")


def test_interpreter_bug_does_not_end_session(hist, capsys):
    s = make_session()
    interp = RecordingInterpreter(s, fail_with=RuntimeError("oops"))
    _, interp, out = drive("boom" + ENTER + "display 2" + ENTER + CTRL_D, session=s, interp=interp)
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err
    assert interp.calls[-1] == ("line", "display 2")


def test_typed_commands_reach_open_logs(hist, tmp_path):
    import io

    s = make_session()
    log = io.StringIO()
    s.out.logs.append(log)
    drive("display 1" + ENTER + "foreach v in a {" + ENTER + "di 1" + ENTER + "}" + ENTER + CTRL_D,
          session=s)
    text = log.getvalue()
    assert ". display 1\n<ran display 1>\n\n" in text
    assert ". foreach v in a {\n  2. di 1\n  3. }\n" in text


# -- history ---------------------------------------------------------------------------------

def test_history_path_from_env(hist):
    assert history_path() == str(hist)


def test_history_persists_and_reloads(hist):
    drive("display 42" + ENTER + "reg y ///" + ENTER + "x" + ENTER + CTRL_D)
    saved = hist.read_text()
    assert "+display 42" in saved and "+reg y ///\n+x" in saved
    # a new session recalls the previous inputs with Up (the continued input is one entry:
    # Up first walks its two lines, then reaches the older entry)
    _, interp, _ = drive(UP + ENTER + CTRL_D)
    assert interp.calls == [("line", "reg y x")]
    _, interp, _ = drive(UP + UP + UP + ENTER + CTRL_D)
    assert interp.calls == [("line", "display 42")]


def test_unwritable_history_falls_back_to_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    h = make_history(str(blocker / "sub" / "history"))
    assert type(h).__name__ == "InMemoryHistory"


# -- completion ------------------------------------------------------------------------------

def completions(completer, text):
    doc = Document(text, len(text))
    return [c.text for c in completer.get_completions(doc, CompleteEvent(completion_requested=True))]


@pytest.fixture
def completer(tmp_path):
    s = make_session(with_data=True)
    s.estimates = {"m1": object(), "m2": object(), "ri": object()}
    for name in ("hsb.dta", "hsb.csv", "notes.do", "other.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.dta").write_text("")
    names = ["summarize", "mixed", "display", "estimates", "lrtest", "use", "generate"]
    return StataCompleter(lambda: s, command_names=lambda: names, cwd=lambda: str(tmp_path))


def test_complete_command_names(completer):
    assert completions(completer, "su") == ["summarize"]
    assert completions(completer, "e") == ["else", "estimates", "exit"]
    assert completions(completer, "quietly mi") == ["mixed"]
    assert completions(completer, "by id: su") == ["summarize"]
    assert completions(completer, "bysort id (mathach): ge") == ["generate"]
    assert completions(completer, "foreach v in a {\n su") == ["summarize"]


def test_complete_variables(completer):
    assert completions(completer, "summarize m") == ["mathach", "meanses"]
    assert completions(completer, "mixed mathach me") == ["meanses"]
    assert completions(completer, "mixed mathach || i") == ["id"]
    assert completions(completer, "by i") == ["id"]
    assert completions(completer, "summarize zz") == []


def test_complete_estimate_names(completer):
    assert completions(completer, "estimates restore ") == ["m1", "m2", "ri"]
    assert completions(completer, "est restore m") == ["m1", "m2"]
    assert completions(completer, "estimates replay r") == ["ri"]
    assert completions(completer, "est drop ") == ["m1", "m2", "ri"]
    assert completions(completer, "estimates table m1 ") == ["m1", "m2", "ri"]
    assert completions(completer, "lrtest m1 ") == ["m1", "m2", "ri"]
    assert completions(completer, "estimates re") == ["replay", "restore"]


def test_complete_file_names(completer):
    assert completions(completer, "use ") == ["hsb.dta", "sub/"]
    assert completions(completer, "use h") == ["hsb.dta"]
    assert completions(completer, "use sub/") == ["sub/inner.dta"]
    assert completions(completer, "do ") == ["notes.do", "sub/"]
    assert completions(completer, "run n") == ["notes.do"]
    assert completions(completer, "save ") == ["hsb.dta", "sub/"]
    assert completions(completer, "import delimited ") == ["hsb.csv", "other.txt", "sub/"]
    assert completions(completer, "import delimited using h") == ["hsb.csv"]
    assert completions(completer, "merge 1:1 id using ") == ["hsb.dta", "sub/"]
    assert completions(completer, 'use "h') == ['"hsb.dta"']


def test_completer_never_raises(completer):
    broken = StataCompleter(lambda: None, command_names=lambda: [])
    assert completions(broken, "summarize m") == []
    assert completions(completer, 'display "unterminated') == []


def _type_and_wait(inp, repl, keys, until, timeout=5.0, menu=False):
    """Send keys, then wait until the buffer holds `until` (and, with menu, a completion menu)."""
    inp.send_text(keys)
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            buf = repl.prompt_session.app.current_buffer
            text, state = buf.text, buf.complete_state
        except Exception:
            text = state = None
        if text == until and (not menu or state is not None):
            return True
        time.sleep(0.02)
    return False


def _run_with_feeder(session, interp, feed):
    with create_pipe_input() as inp:
        repl = Repl(interp, session, input=inp, output=DummyOutput())
        result = {}

        def feeder():
            try:
                result["ok"] = feed(inp, repl)
            finally:
                time.sleep(0.2)
                inp.close()  # ends the REPL (EOF) whatever happened

        th = threading.Thread(target=feeder)
        th.start()
        repl.loop(banner=False)
        th.join()
    return result.get("ok")


def test_tab_key_completes_variable(hist):
    s = make_session(with_data=True)
    interp = RecordingInterpreter(s)

    def feed(inp, repl):
        ok = _type_and_wait(inp, repl, "summarize mat\t", "summarize mathach")
        inp.send_text(ENTER)
        return ok

    assert _run_with_feeder(s, interp, feed)
    assert interp.calls == [("line", "summarize mathach")]


def test_tab_key_cycles_and_completes_estimates(hist):
    s = make_session(with_data=True)
    s.estimates = {"m1": object(), "m2": object()}
    interp = RecordingInterpreter(s)

    def feed(inp, repl):
        # first Tab inserts the common part "m" and opens the menu; each further Tab cycles
        ok = _type_and_wait(inp, repl, "estimates restore \t", "estimates restore m", menu=True)
        ok = ok and _type_and_wait(inp, repl, "\t", "estimates restore m1")
        ok = ok and _type_and_wait(inp, repl, "\t", "estimates restore m2")
        inp.send_text(ENTER)   # closes the menu
        time.sleep(0.2)
        inp.send_text(ENTER)   # runs
        return ok

    assert _run_with_feeder(s, interp, feed)
    assert interp.calls == [("line", "estimates restore m2")]


def test_tab_key_completes_command_from_registry(hist):
    from hlmshell.registry import REGISTRY

    names = REGISTRY.names()
    target = next((n for n in names if len(n) >= 5 and
                   sum(m.startswith(n[:4]) for m in names + ["exit"]) == 1), None)
    if target is None:
        pytest.skip("command table has no commands yet")
    s = make_session()
    interp = RecordingInterpreter(s)

    def feed(inp, repl):
        ok = _type_and_wait(inp, repl, target[:4] + "\t", target)
        inp.send_text(ENTER)
        return ok

    assert _run_with_feeder(s, interp, feed)
    assert interp.calls == [("line", target)]


# -- highlighting ------------------------------------------------------------------------------

def test_highlighting_marks_keywords_strings_comments():
    lex = stata_lexer()
    tokens = lex.lex_document(Document('foreach v in a { // note\ndisplay "hi"'))
    first = tokens(0)
    assert ("class:pygments.keyword", "foreach") in first
    assert any("comment" in cls for cls, _ in first)
    assert any("string" in cls for cls, _ in tokens(1))
    repl_style()  # the style builds


def test_highlighting_knows_hlmshell_commands(monkeypatch):
    from hlmshell.repl import highlight

    monkeypatch.setattr(highlight, "_is_command", lambda w: w == "mixed")
    tokens = stata_lexer().lex_document(Document('quietly mixed y x || id:\n di "mixed" // mixed'))
    assert ("class:pygments.keyword", "mixed") in [(c, t.strip()) for c, t in tokens(0)]
    second = tokens(1)
    assert not any(t.strip() == "mixed" and "keyword" in c for c, t in second)
    assert "".join(t for _, t in second) == ' di "mixed" // mixed'


# -- a real terminal (pseudo-tty): Ctrl-C is a signal there, not a key ------------------------

_PTY_SCRIPT = '''
import sys, time
from hlmshell.session import Session
from hlmshell.repl.app import run_repl

class Slow:
    def __init__(self, s): self.session = s
    def run_line(self, t):
        if t == "sleep":
            time.sleep(30)
        self.session.out.line("<ran " + t + ">")
        return 0
    def run_text(self, t, echo=True, name=""):
        self.session.out.line("<block>")
        return 0

s = Session()
sys.exit(run_repl(s, Slow(s)))
'''


def test_ctrl_c_interrupts_running_command_in_a_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    import sys
    from pathlib import Path

    script = tmp_path / "slow_repl.py"
    script.write_text(_PTY_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]),
               HLMSHELL_HISTORY=str(tmp_path / "h"), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(sys.executable, [str(script)], env=env, encoding="utf-8", timeout=15)
    try:
        child.expect("Type exit to quit")
        child.send("display 1\r")
        child.expect("<ran display 1>")
        child.send("sleep\r")
        time.sleep(0.7)
        child.sendintr()
        child.expect("--Break--")
        child.expect(r"r\(1\);")
        child.send("display 2\r")          # the session survived the break
        child.expect("<ran display 2>")
        child.send("foreach v in a {\r")
        child.expect(r"2\.")               # Stata's numbered block prompt
        child.send("}\r")
        child.expect("<block>")
        child.send("exit\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


# -- with the real interpreter (skipped until hlmshell.interpreter exists) ---------------------

def _real_interpreter():
    try:
        from hlmshell.interpreter import Interpreter
    except Exception:
        pytest.skip("hlmshell.interpreter not available yet")
    s = make_session()
    return s, Interpreter(s)


def test_real_interpreter_commands_blocks_and_exit(hist):
    s, interp = _real_interpreter()
    keys = ("set obs 3" + ENTER
            + "generate x = _n ///" + ENTER + " * 2" + ENTER
            + "forvalues i = 1/2 {" + ENTER + "display `i' * 10" + ENTER + "}" + ENTER
            + "summarize x" + ENTER
            + "exit" + ENTER
            + "display 99" + ENTER
            + "exit, clear" + ENTER)
    rc, _, out = drive(keys, session=s, interp=interp)
    assert rc == 0
    assert list(s.data.values("x")) == [2.0, 4.0, 6.0]
    lines = out.splitlines()
    assert "10" in lines and "20" in lines
    assert "no; dataset in memory has changed since last saved" in out
    assert "99" in lines                    # the refused exit kept the session going


def test_real_interpreter_error_keeps_session(hist):
    s, interp = _real_interpreter()
    rc, _, out = drive("nosuchcommand" + ENTER + "display 5" + ENTER + CTRL_D, session=s, interp=interp)
    assert "r(199);" in out and "5" in out.splitlines()


_PTY_LOOP = '''
import sys
from hlmshell.session import Session
from hlmshell.interpreter import Interpreter
from hlmshell.repl.app import run_repl

s = Session()
sys.exit(run_repl(s, Interpreter(s)))
'''


def test_ctrl_c_breaks_a_long_loop_with_real_interpreter(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    _real_interpreter()
    import sys
    from pathlib import Path

    script = tmp_path / "loop_repl.py"
    script.write_text(_PTY_LOOP)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]),
               HLMSHELL_HISTORY=str(tmp_path / "h"), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(sys.executable, [str(script)], env=env, encoding="utf-8", timeout=20)
    try:
        child.expect("Type exit to quit")
        child.send("local n = 0\r")
        child.send("while 1 {\r")
        child.send("local n = `n' + 1\r")
        child.send('if `n\' == 50 display "loop" + "ing"\r')
        child.send("}\r")
        child.expect("looping")            # the loop is running (output, not the echo)
        import time as _t
        _t.sleep(0.3)
        child.sendintr()
        child.expect("--Break--")
        child.expect(r"r\(1\);")
        child.send('display "al" + "ive"\r')
        child.expect("alive")             # the result, not the echoed input
        child.send("exit\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_command_completion_from_real_table_and_interpreter_words():
    s = make_session()
    comp = StataCompleter(lambda: s)
    assert "foreach" in completions(comp, "fore")
    assert "forvalues" in completions(comp, "forv")
    from hlmshell.registry import REGISTRY

    if "mixed" in REGISTRY.names():
        assert completions(comp, "mix") == ["mixed"]
        assert "xtmixed" in completions(comp, "xtm")


def test_sigint_inside_a_finalizer_is_redelivered():
    """A KeyboardInterrupt raised in __del__ would be swallowed; the handler retries later."""
    import signal

    from hlmshell.repl import interrupt

    fired = []

    class Finalized:
        def __del__(self):
            # a signal arriving now: the handler must not raise here
            try:
                interrupt._handler(signal.SIGINT, __import__("sys")._getframe())
                fired.append("deferred")
            except KeyboardInterrupt:
                fired.append("raised")

    with pytest.raises(KeyboardInterrupt):
        with interrupt.reliable_sigint():
            Finalized()                  # __del__ runs at once (refcount), defers the signal
            assert fired == ["deferred"]
            t0 = time.time()
            while time.time() - t0 < 5:  # the re-sent SIGINT interrupts ordinary code
                time.sleep(0.01)
    assert signal.getsignal(signal.SIGINT) is not interrupt._handler


def test_complete_shipped_sample_data(completer):
    assert completions(completer, "sysuse h") == ["hsb"]
    assert "hsb" in completions(completer, "webuse ")
