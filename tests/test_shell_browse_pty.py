"""browse in the real interactive shell, through a pseudo-terminal: the full-screen viewer opens,
scrolls, closes on q and gives the prompt back; cls clears the terminal."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hlmshell.repl.browse import BrowseView

ROOT = Path(__file__).resolve().parents[1]

_PTY_REPL = '''
import sys
from hlmshell.session import Session
from hlmshell.interpreter import Interpreter
from hlmshell.repl.app import run_repl

s = Session()
sys.exit(run_repl(s, Interpreter(s)))
'''


def test_browse_opens_scrolls_and_quits_in_a_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    script = tmp_path / "repl.py"
    script.write_text(_PTY_REPL)
    env = dict(os.environ, PYTHONPATH=str(ROOT), HLMSHELL_HISTORY=str(tmp_path / "h"),
               TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    child = pexpect.spawn(sys.executable, [str(script)], env=env, encoding="utf-8", timeout=20,
                          dimensions=(24, 80))
    try:
        child.expect("Type exit to quit")
        child.send("set obs 30\r")
        child.expect("now 30")
        child.send('gen x = _n * 10\r')
        child.send('gen str8 who = "row" + string(_n)\r')
        child.send("browse\r")
        child.expect(r"obs 1-21 of 30")              # the status line of the viewer
        child.expect(r"vars 1-2 of 2")
        child.send("G")                              # last page
        child.expect(r"0-30 of 30")                  # (redrawn in place: only what changed)
        child.send("q")
        child.send("display 6*7\r")
        child.expect("42")                           # the prompt is back and works
        child.send("browse who if x > 250\r")
        child.expect(r"obs 1-5 of 5")
        child.send("\x1b")                           # Esc closes it too
        child.send("cls\r")
        child.expect(r"\x1b\[2J")                    # the terminal is erased
        child.send('display "after"\r')
        child.expect("after")
        child.send("exit, clear\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


class Table:
    title = "t"
    headers = ["a", "bb"]
    widths = [3, 5]
    right = [True, False]
    nrows = 100

    def obs(self, i):
        return i + 1

    def cell(self, i, j):
        return str(i) if j == 0 else "longtextvalue"


def test_view_paging_and_drawing():
    v = BrowseView(Table())
    v.size = (20, 10)
    assert v.page == 7
    v.move(rows=-5)
    assert v.top == 0
    v.end()
    assert v.top == 93
    v.move(rows=50)
    assert v.top == 93
    v.home()
    lines = "".join(t for _, t in v.lines()).splitlines()
    assert lines[0].split() == ["a", "bb"]
    assert lines[2] == "  1    0  longt~"[:20] or lines[2].endswith("~")
    assert len(lines) == 2 + 7
    v.move(cols=1)
    assert v.visible_columns() == [1]
    assert "obs 1-7 of 100" in v.status()[0][1]
