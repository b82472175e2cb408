"""Statements parsed once (syntax/statements.py) and the session owning what runs (issue 10)."""
from __future__ import annotations

from pathlib import Path

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax import statements as S

ROOT = Path(__file__).resolve().parent.parent


def kinds(block):
    return [type(st).__name__ for st in block.statements]


def test_tree_of_a_dofile():
    text = ("* comment\n"
            "display 1\n"
            "foreach v in a b {\n  display \"`v'\"\n}\n"
            "forvalues i = 1/2 {\n  if `i' == 1 {\n    di 1\n  }\n  else di 2\n}\n"
            "while 0 {\n}\n"
            "quietly {\n  di 3\n}\n"
            "capture noisily foreach x in 1 {\n  di `x'\n}\n"
            "program define p, rclass\n  di 4\nend\n"
            "if 1 di 5\nelse {\n  di 6\n}\n")
    block = S.parse_text(text)
    assert kinds(block) == ["Comment", "CommandStmt", "ForeachStmt", "ForvaluesStmt", "WhileStmt",
                            "PrefixBlock", "ForeachStmt", "ProgramDef", "CommandStmt", "ElseStmt"]
    fv = block.statements[3]
    assert fv.head == "forvalues i = 1/2" and kinds(fv.body) == ["IfStmt"]
    if_stmt = fv.body.statements[0]
    assert [c for c, _ in if_stmt.branches] == ["if `i' == 1"]
    assert kinds(if_stmt.else_block) == ["CommandStmt"]
    cap = block.statements[6]
    assert cap.prefixes == ("capture", "noisily") and cap.head == "foreach x in 1"
    prog = block.statements[7]
    assert (prog.name, prog.options, kinds(prog.body)) == ("p", ", rclass", ["CommandStmt"])
    assert [ln.lineno for ln in prog.body_lines] == [21] and prog.end.lineno == 22


def test_structural_errors_wait_for_their_line():
    block = S.parse_text("display 1\nforeach v in a {\n  display 2\n")
    assert kinds(block) == ["CommandStmt", "ErrorStmt"]
    assert block.statements[1].line.lineno == 2
    s = Session(out=Capture())
    rc = Interpreter(s).run_text("display 1\nforeach v in a {\n  display 2\n", echo=True, name="t.do")
    out = s.out.getvalue()
    assert rc == 198 and "\n1\n" in out and "} expected" in out
    assert kinds(S.parse_text("}\ndisplay 1")) == ["ErrorStmt"]
    assert kinds(S.parse_text("program p\ndi 1\n")) == ["ErrorStmt"]


def test_program_body_is_parsed_once_at_definition():
    s = Session(out=Capture())
    it = Interpreter(s)
    assert it.run_text("program define twice\n  forvalues i = 1/2 {\n    di `i'\n  }\nend\n",
                       echo=False) == 0
    prog = s.programs["twice"]
    block = prog.block
    assert it.run_line("twice") == 0 and it.run_line("twice") == 0
    assert s.programs["twice"].block is block and kinds(block) == ["ForvaluesStmt"]
    assert s.out.getvalue().split() == ["1", "2", "1", "2"]


def test_programs_are_session_state_in_the_snapshot():
    s = Session(out=Capture())
    it = Interpreter(s)
    it.run_text("program define a\n di 1\nend\n", echo=False)
    assert "programs" in s.snapshot()
    assert it.run_line("program drop a nosuch") == 111
    assert "a" in s.programs and it.programs is s.programs


def test_handlers_never_reach_into_the_interpreter():
    for path in (ROOT / "hlmshell").rglob("*.py"):
        assert "session.interpreter" not in path.read_text(encoding="utf-8"), path
