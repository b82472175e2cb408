"""Do-files: echo as Stata's log shows it, errors stop with `end of do-file`, nesting, scope."""
import pytest

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session


@pytest.fixture
def s():
    sess = Session(Capture())
    Interpreter(sess)
    return sess


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_echo_layout(s, tmp_path):
    p = write(tmp_path, "a.do", '* a comment\ndisplay 1\nlocal x 2\ndisplay `x\' ///\n   + 1\n\ndisplay "done"\n')
    rc = s.interpreter.run_dofile(p)
    assert rc == 0
    assert s.out.getvalue() == (
        ". * a comment\n"
        ". display 1\n1\n\n"
        ". local x 2\n\n"
        ". display `x' ///\n>    + 1\n3\n\n"
        ". \n"
        '. display "done"\ndone\n\n'
        "end of do-file\n")


def test_loop_echo_numbers_body_lines(s):
    rc = s.interpreter.run_text("foreach v in a b {\n  display \"`v'\"\n}\n")
    assert rc == 0
    assert s.out.getvalue() == (". foreach v in a b {\n  2.   display \"`v'\"\n  3. }\na\nb\n\nend of do-file\n")


def test_error_stops_with_end_of_dofile(s, tmp_path, capsys):
    p = write(tmp_path, "err.do", "display 1\n\ndisplay nosuch\ndisplay 3\n")
    rc = s.interpreter.run_dofile(p)
    assert rc == 111
    out = s.out.getvalue()
    assert out == (". display 1\n1\n\n. \n. display nosuch\nvariable nosuch not found\nr(111);\n\n"
                   "end of do-file\n\nr(111);\n")
    assert "display 3" not in out
    assert s.interpreter.error_location == (str(p), 3)
    assert "line 3" in capsys.readouterr().err


def test_error_line_number_inside_loop_and_continuation(s, tmp_path):
    p = write(tmp_path, "e2.do", "display 1 ///\n + 1\nforvalues i = 1/2 {\n  display `i'\n  display nosuch`i'\n}\n")
    rc = s.interpreter.run_dofile(p)
    assert rc == 111
    assert s.interpreter.error_location == (str(p), 5)
    assert "variable nosuch1 not found" in s.out.getvalue()


def test_capture_in_dofile_sets_rc_and_continues(s):
    rc = s.interpreter.run_text("capture display nosuch\ndisplay _rc\n", echo=True)
    assert rc == 0
    assert "111\n" in s.out.getvalue() and "end of do-file" in s.out.getvalue()


def test_nested_do_and_local_scope(s, tmp_path):
    write(tmp_path, "inner.do", 'display "inner `x\' `1\' `2\'"\nlocal x changed\nglobal G set\n')
    outer = write(tmp_path, "outer.do", f'local x outer\ndo "{tmp_path / "inner.do"}" a b\ndisplay "`x\'"\n')
    rc = s.interpreter.run_dofile(outer)
    assert rc == 0
    out = s.out.getvalue()
    assert "inner  a b" in out                 # caller's locals are not visible inside
    assert "\nouter\n" in out                  # and the inner do-file's do not leak out
    assert s.globals["G"] == "set"
    assert out.count("end of do-file") == 2


def test_nested_error_propagates(s, tmp_path):
    write(tmp_path, "bad.do", "display nosuch\n")
    outer = write(tmp_path, "outer.do", f'do "{tmp_path / "bad.do"}"\ndisplay "after"\n')
    rc = s.interpreter.run_dofile(outer)
    assert rc == 111
    out = s.out.getvalue()
    assert "after" not in out.replace('display "after"', "")
    assert out.count("variable nosuch not found") == 1
    assert out.count("end of do-file") == 2
    assert out.rstrip().endswith("r(111);")


def test_capture_do_and_run_is_silent(s, tmp_path):
    bad = write(tmp_path, "bad.do", "display nosuch\n")
    quiet = write(tmp_path, "q.do", 'display "hidden"\nglobal R ran\n')
    rc = s.interpreter.run_line(f'capture do "{bad}"')
    assert rc == 0 and s.rc == 111 and s.out.getvalue() == ""
    rc = s.interpreter.run_line(f'run "{quiet}"')
    assert rc == 0 and s.out.getvalue() == "" and s.globals["R"] == "ran"


def test_do_missing_file(s):
    rc = s.interpreter.run_line("do /no/such/file.do")
    assert rc == 601 and "not found" in s.out.getvalue()


def test_dofile_changes_survive_a_later_error(s, tmp_path):
    p = write(tmp_path, "d.do", "global A 1\ndisplay nosuch\nglobal B 2\n")
    s.interpreter.run_dofile(p)
    assert s.globals.get("A") == "1" and "B" not in s.globals


def test_exit_ends_dofile(s):
    rc = s.interpreter.run_text('display 1\nexit\ndisplay 2\n')
    assert rc == 0
    assert "2\n" not in s.out.getvalue().replace("display 2", "")


def test_delimit_and_comments(s):
    text = ("#delimit ;\n"
            "display 1\n  + 1;\n"
            "* comment ;\n"
            "display \"a\"; display \"b\";\n"
            "#delimit cr\n"
            "/* block\n comment */ display 5 // trailing\n")
    rc = s.interpreter.run_text(text)
    assert rc == 0
    out = s.out.getvalue()
    assert "delimiter now ;" in out and "delimiter now cr" in out
    results = [ln for ln in out.splitlines() if ln and not ln.startswith((".", ">", " ")) and "delimiter" not in ln]
    assert results == ["2", "a", "b", "5", "end of do-file"]


def test_if_block_in_dofile(s):
    rc = s.interpreter.run_text('local a 1\nif `a\' {\n  display "yes"\n}\nelse {\n  display "no"\n}\n')
    assert rc == 0
    out = s.out.getvalue()
    assert "yes\n" in out and "\nno\n" not in out


def test_unclosed_brace_is_an_error(s):
    rc = s.interpreter.run_text("forvalues i = 1/2 {\n display `i'\n")
    assert rc == 198


def test_long_echo_lines_wrap_at_79_columns(s):
    long = "display " + " + ".join(["1"] * 40)
    s.interpreter.run_text(long + "\n")
    lines = s.out.getvalue().splitlines()
    assert lines[0] == (". " + long)[:79]
    assert lines[1].startswith("> ") and len(lines[1]) <= 79
    assert "".join([lines[0][2:]] + [ln[2:] for ln in lines[1:3] if ln.startswith("> ")]) == long
    assert "40" in lines


def test_break_stops_dofile(s):
    from hlmshell.registry import REGISTRY

    table = REGISTRY.extended()         # the stub stays out of the global table

    @table.command("zzbrk2")
    def _brk(session, cmd):
        session.globals["half"] = "done"
        raise KeyboardInterrupt

    Interpreter(s, registry=table)
    rc = s.interpreter.run_text("global a 1\nzzbrk2\nglobal b 2\n")
    assert rc == 1
    out = s.out.getvalue()
    assert "--Break--\nr(1);\n\nend of do-file\n\nr(1);\n" in out
    assert s.globals.get("a") == "1" and "b" not in s.globals and "half" not in s.globals


def test_run_shows_errors_but_not_the_echo(s, tmp_path):
    p = write(tmp_path, "r.do", 'display "hidden"\ndisplay nosuch\n')
    rc = s.interpreter.run_line(f'run "{p}"')
    assert rc == 111
    assert s.out.getvalue() == "variable nosuch not found\nr(111);\n\nr(111);\n"


def test_continue_outside_a_loop_does_not_end_the_dofile(s):
    rc = s.interpreter.run_text("continue\ndisplay 42\n", echo=False, name="x")
    assert rc == 0 and "42" in s.out.getvalue()


def test_commands_pasted_with_the_dot_prompt_run(s):
    """Lines copied from the Results window keep `. ` in front; the command after it runs,
    blocks included, and a period before a name is not taken for a prompt."""
    text = ("clear\n. set obs 3\n. generate x = _n\n.\n"
            ". forvalues i = 1/2 {\n. replace x = x + `i'\n. }\n")
    rc = s.interpreter.run_text(text)
    assert rc == 0
    assert list(s.data.values("x")) == [4, 5, 6]
    rc = s.interpreter.run_text(".summarize x\n")
    assert rc == 199


def test_delimitcr_without_a_space(s):
    """`#delimitcr` (no space) ends `#delimit ;` as `#delimit cr` does (a public do-file)."""
    rc = s.interpreter.run_text("#delimit ;\ndisplay 1\n + 1;\n#delimitcr\ndisplay 3\n")
    assert rc == 0
    out = s.out.getvalue()
    assert "delimiter now cr" in out and "\n3\n" in out
