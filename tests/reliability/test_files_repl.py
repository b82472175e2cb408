"""Ctrl-D at the prompt is `exit`: with unsaved changes it is refused (r(4)) until a second
Ctrl-D in a row or `exit, clear`; the history file is private to the user (0600).

Driven through a real pseudo-terminal (pexpect) running the hlmshell command line, and through
prompt_toolkit's pipe input for the exact sequences.
"""
from __future__ import annotations

import os
import stat
import sys
import threading

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from files_helpers import hlmshell_env
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.repl.app import run_repl
from hlmshell.repl.history import make_history
from hlmshell.session import Session

CTRL_D = "\x04"
ENTER = "\r"
REFUSAL = "no; dataset in memory has changed since last saved"
PROMPT_READY = "\x1b[?2004h"      # prompt_toolkit turns bracketed paste on as it shows a prompt


def _spawn(tmp_path, hist):
    pexpect = pytest.importorskip("pexpect")
    env = hlmshell_env(HLMSHELL_HISTORY=str(hist), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    return pexpect, pexpect.spawn(sys.executable, ["-m", "hlmshell"], cwd=str(tmp_path), env=env,
                                  encoding="utf-8", timeout=20)


def test_ctrl_d_in_a_terminal_refuses_then_confirms(tmp_path):
    hist = tmp_path / "hist"
    pexpect, child = _spawn(tmp_path, hist)
    try:
        child.expect("Type exit to quit")
        child.expect_exact(PROMPT_READY)
        child.send("set obs 3" + ENTER)
        child.expect("now 3")
        child.expect_exact(PROMPT_READY)     # a key typed while a command runs goes to the tty
        child.send(CTRL_D)                                 # Ctrl-D: refused
        child.expect(REFUSAL)
        child.expect(r"r\(4\);")
        child.expect_exact(PROMPT_READY)
        child.send('display "still" + " here"' + ENTER)  # the session goes on
        child.expect("still here")
        child.expect_exact(PROMPT_READY)
        child.send(CTRL_D)                                 # refused again: not consecutive
        child.expect(REFUSAL)
        child.expect_exact(PROMPT_READY)
        child.send(CTRL_D)                                 # second Ctrl-D in a row: quit
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert stat.S_IMODE(os.stat(hist).st_mode) == 0o600
    assert 'display "still" + " here"' in hist.read_text()


def test_ctrl_d_in_a_terminal_quits_when_nothing_changed(tmp_path):
    hist = tmp_path / "hist"
    hist.write_text("")
    os.chmod(hist, 0o644)                                 # an existing, readable history
    pexpect, child = _spawn(tmp_path, hist)
    try:
        child.expect("Type exit to quit")
        child.expect_exact(PROMPT_READY)
        child.send("display 2+2" + ENTER)
        child.expect("4")
        child.expect_exact(PROMPT_READY)
        child.send(CTRL_D)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert REFUSAL not in (child.before or "")
    assert stat.S_IMODE(os.stat(hist).st_mode) == 0o600  # tightened


def _drive(keys: str, session: Session, hist) -> tuple[int, str]:
    with create_pipe_input() as inp:
        inp.send_text(keys)
        timer = threading.Timer(10, inp.close)
        timer.start()
        try:
            rc = run_repl(session, Interpreter(session), input=inp, output=DummyOutput(),
                          history_path=str(hist), banner=False)
        finally:
            timer.cancel()
    return rc, session.out.getvalue()


def test_ctrl_d_sequences(tmp_path):
    hist = tmp_path / "h"
    s = Session(out=Capture())
    rc, out = _drive("set obs 2" + ENTER + CTRL_D + "exit, clear" + ENTER, s, hist)
    assert rc == 0 and out.count(REFUSAL) == 1 and "r(4);" in out
    s = Session(out=Capture())
    rc, out = _drive("set obs 2" + ENTER + CTRL_D + CTRL_D + 'display "after"' + ENTER, s, hist)
    assert out.count(REFUSAL) == 1 and "after" not in out     # the second Ctrl-D quit
    s = Session(out=Capture())
    rc, out = _drive("set obs 2" + ENTER + "generate x = 1" + ENTER + f"save {tmp_path}/d"
                     + ENTER + CTRL_D
                     + 'display "after"' + ENTER, s, hist)
    assert REFUSAL not in out and "after" not in out          # saved: Ctrl-D quits at once


def test_history_file_created_private(tmp_path):
    path = tmp_path / "sub" / "history"
    old = os.umask(0o000)                 # even with a permissive umask
    try:
        make_history(str(path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path.chmod(0o664)
    make_history(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
