"""translate (SMCL log to text, written through a temporary file) and cmdlog (commands typed
at the prompt, not those a do-file runs)."""
import pytest

from hlmshell.commands.log_tools import smcl_to_text
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from session_run import ok, run


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sess = Session(Capture())
    Interpreter(sess)
    return sess


def test_smcl_to_text():
    smcl = ("{smcl}\n{com}. display 1\n{res}1\n{txt}{hline 5}{c +}{hline 3}\n"
            "{space 3}{res:x} {help mixed:mixed}\n")
    assert smcl_to_text(smcl) == ". display 1\n1\n-----+---\n   x mixed\n"


def test_translate_writes_plain_text(s, tmp_path):
    (tmp_path / "a.smcl").write_text("{smcl}\n{com}. summarize\n{txt}{hline 3}\n")
    out = ok(s, "translate a.smcl a.log")
    assert "a.log" in out
    assert (tmp_path / "a.log").read_text() == ". summarize\n---\n"
    assert run(s, "translate a.smcl a.log")[0] == 602
    ok(s, "translate a.smcl a.log, replace")
    assert run(s, "translate nosuch.smcl b.log")[0] == 601
    assert run(s, "translate a.smcl")[0] == 198
    assert run(s, "translate a.smcl b.log, bogus")[0] == 198
    assert not (tmp_path / "b.log").exists()


def test_cmdlog_records_typed_lines_only(s, tmp_path):
    (tmp_path / "sub.do").write_text("display 1\ndisplay 2\n")
    interp = s.interpreter
    assert interp.run_line("cmdlog using cmds, replace") == 0
    interp.run_line("display 3")
    interp.run_line("do sub.do")
    interp.run_line("cmdlog off")
    interp.run_line("display 4")
    interp.run_line("cmdlog on")
    interp.run_line("cmdlog close")
    text = (tmp_path / "cmds.txt").read_text()
    assert text == "display 3\ndo sub.do\ncmdlog off\ncmdlog close\n"
    assert run(s, "cmdlog close")[0] == 606
    assert run(s, "cmdlog using cmds")[0] == 602
    assert run(s, "cmdlog bogus")[0] == 198
