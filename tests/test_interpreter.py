"""Interpreter: prefixes, capture/_rc, blocks, loops, by-groups, error recovery, display."""
import numpy as np
import pytest

from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.registry import REGISTRY
from hlmshell.results import EstimationResults
from hlmshell.session import Session
from hlmshell.syntax.evaluate import evaluate, marksample


# throwaway handlers, in the test's own table (all commands plus these): the global one keeps none
TABLE = REGISTRY.extended()
command = TABLE.command


@command("zzsetx")
def _zz_setx(session, cmd):
    """Replace x with an expression, then fail if asked: tests the snapshot restore."""
    v = evaluate(cmd.exp, session)
    session.data.vars["x"].values = np.broadcast_to(np.asarray(v, float), (session.data.n,)).copy()
    session.scalars["touched"] = 1.0
    if cmd.option("fail"):
        raise StataError("asked to fail", 459)


@command("zzcount", byable=True)
def _zz_count(session, cmd):
    m = marksample(session, cmd)
    session.out.line(f"n={int(m.sum())}")


@command("zzself", byable="self")
def _zz_self(session, cmd):
    session.out.line(f"prefixes={[p.kind for p in cmd.prefixes]}")


@command("zznoby", byable=False)
def _zz_noby(session, cmd):
    pass


@command("zzbug")
def _zz_bug(session, cmd):
    session.scalars["bug"] = 1.0
    raise ZeroDivisionError("boom")


@command("zzbreak")
def _zz_break(session, cmd):
    session.scalars["brk"] = 1.0
    raise KeyboardInterrupt


@pytest.fixture
def s():
    sess = Session(Capture())
    Interpreter(sess, registry=TABLE)
    sess.data.add(Variable("x", np.array([1.0, 2.0, 3.0, 4.0]), "double"))
    sess.data.add(Variable("g", np.array([1.0, 2.0, 1.0, 2.0]), "byte"))
    return sess


def run(s, text):
    start = len(s.out.getvalue())
    rc = s.interpreter.run_line(text)
    return rc, s.out.getvalue()[start:]


def test_display_basics(s):
    assert run(s, 'display "x = " 2+3')[1] == "x = 5\n"
    assert run(s, "di 1/3")[1] == ".33333333\n"
    assert run(s, "di 7185")[1] == "7185\n"
    assert run(s, "di %9.2f 3.14159")[1] == "     3.14\n"
    assert run(s, 'di %-6s "ab" "|"')[1] == "ab    |\n"
    assert run(s, 'di "a" _col(5) "b"')[1] == "a   b\n"
    assert run(s, 'di "a" _n "b"')[1] == "a\nb\n"
    assert run(s, 'di "a" _skip(2) "b"')[1] == "a  b\n"
    assert run(s, 'di _dup(3) "-"')[1] == "---\n"
    assert run(s, 'di as text "t" as result 1')[1] == "t1\n"
    assert run(s, "di x")[1] == "1\n"                      # first observation
    assert run(s, "di x[3]")[1] == "3\n"
    assert run(s, 'di "a" + "b"')[1] == "ab\n"
    assert run(s, "di .")[1] == ".\n"
    assert run(s, "di -2^2")[1] == "-4\n"


def test_display_errors(s):
    rc, out = run(s, "di nosuch")
    assert rc == 111 and out == "variable nosuch not found\nr(111);\n"
    rc, out = run(s, 'di "a" + 1')
    assert rc == 109 and out == "type mismatch\nr(109);\n"
    rc, out = run(s, "di foo(1)")
    assert rc == 133 and out == "unknown function foo()\nr(133);\n"
    rc, out = run(s, "nosuchcmd x")
    assert rc == 199 and out == "command nosuchcmd is unrecognized\nr(199);\n"


def test_quietly_noisily_capture(s):
    assert run(s, "quietly display 1") == (0, "")
    assert run(s, "qui noi display 1") == (0, "1\n")
    rc, out = run(s, "capture display nosuch")
    assert rc == 0 and out == "" and s.rc == 111
    run(s, "capture display 1")
    assert s.rc == 0
    run(s, "capture nosuchcmd")
    assert s.rc == 199
    assert run(s, "display _rc")[1] == "199\n"
    assert run(s, "display c(rc)")[1] == "199\n"
    rc, out = run(s, "cap noi di 1")
    assert out == "1\n"


def test_errors_show_through_quietly(s):
    rc, out = run(s, "quietly display nosuch")
    assert rc == 111 and out == "variable nosuch not found\nr(111);\n"


def test_failed_command_restores_state(s):
    before = s.data.values("x").copy()
    rc, out = run(s, "zzsetx = 99, fail")
    assert rc == 459 and "asked to fail" in out
    assert np.array_equal(s.data.values("x"), before) and "touched" not in s.scalars
    rc, _ = run(s, "zzsetx = 5")
    assert rc == 0 and s.scalars["touched"] == 1.0 and np.all(s.data.values("x") == 5)


def test_unexpected_exception_becomes_stata_error(s, monkeypatch):
    monkeypatch.delenv("HLMSHELL_DEBUG", raising=False)
    rc, out = run(s, "zzbug")
    assert rc == 9999
    assert "Traceback" not in out and "ZeroDivisionError" in out and out.endswith("r(9999);\n")
    assert "bug" not in s.scalars
    monkeypatch.setenv("HLMSHELL_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        s.interpreter.run_line("zzbug")


def test_break_restores_and_reports(s):
    rc, out = run(s, "zzbreak")
    assert rc == 1 and out == "--Break--\nr(1);\n" and "brk" not in s.scalars
    rc, out = run(s, "forvalues i = 1/3 {\n display `i'\n zzbreak\n}")
    assert rc == 1 and out == "1\n--Break--\nr(1);\n"


def test_if_else_blocks(s):
    text = 'local v 5\nif `v\' > 3 {\n di "big"\n}\nelse if `v\' > 1 {\n di "mid"\n}\nelse {\n di "small"\n}'
    assert s.interpreter.run_text(text, echo=False) == 0
    assert s.out.getvalue() == "big\n"
    out0 = len(s.out.getvalue())
    s.interpreter.run_text('local v 2\nif `v\' > 3 {\n di "big"\n}\n else if `v\' > 1 {\n di "mid"\n}\nelse di "small"',
                           echo=False)
    assert s.out.getvalue()[out0:] == "mid\n"
    out0 = len(s.out.getvalue())
    s.interpreter.run_text('if 0 {\n di "no"\n} else {\n di "yes"\n}', echo=False)
    assert s.out.getvalue()[out0:] == "yes\n"


def test_one_line_if(s):
    assert run(s, 'if 1 == 1 display "yes"')[1] == "yes\n"
    assert run(s, 'if 0 display "yes"')[1] == ""
    assert run(s, 'if x[2] == 2 di "two"')[1] == "two\n"
    assert run(s, 'if "a" == "a" di "s"')[1] == "s\n"
    rc, out = run(s, 'if "a" di 1')
    assert rc == 109


def test_loops(s):
    rc, out = run(s, "foreach v of varlist x g {\n di \"`v'\"\n}")
    assert out == "x\ng\n"
    assert run(s, "foreach n of numlist 1/3 10(5)20 {\n di `n'\n}")[1] == "1\n2\n3\n10\n15\n20\n"
    assert run(s, "forvalues i = 10(-3)1 {\n di `i'\n}")[1] == "10\n7\n4\n1\n"
    assert run(s, "forvalues i = 0(.25)1 {\n di `i'\n}")[1] == "0\n.25\n.5\n.75\n1\n"
    assert run(s, "forvalues i = 1 3 to 7 {\n di `i'\n}")[1] == "1\n3\n5\n7\n"
    s.local["lst"] = "p q"
    assert run(s, "foreach w of local lst {\n di \"`w'\"\n}")[1] == "p\nq\n"
    s.globals["gl"] = "r"
    assert run(s, "foreach w of global gl {\n di \"`w'\"\n}")[1] == "r\n"
    assert run(s, "forvalues i = 1/5 {\n if `i' == 2 continue\n if `i' == 4 continue, break\n di `i'\n}")[1] == \
        "1\n3\n"
    assert run(s, "local i 0\nwhile `i' < 3 {\n local ++i\n di `i'\n}")[1] == "1\n2\n3\n"
    nested = "forvalues i = 1/2 {\n foreach c in a b {\n  di \"`i'`c'\"\n }\n}"
    assert run(s, nested)[1] == "1a\n1b\n2a\n2b\n"


def test_error_inside_loop_stops_and_restores_that_command(s):
    text = ("forvalues i = 1/3 {\n"
            "  zzsetx = `i'\n"
            "  if `i' == 2 zzsetx = 1 + , fail\n"
            "}")
    rc, out = run(s, text)
    assert rc == 198 and out == "invalid syntax\nr(198);\n"
    # the first pass and the good command of the second pass stay; the bad one changed nothing
    assert np.all(s.data.values("x") == 2)
    text = "forvalues i = 1/3 {\n  local last `i'\n  zzsetx = `i' * 10, fail\n}"
    rc, out = run(s, text)
    assert rc == 459 and np.all(s.data.values("x") == 2) and s.local["last"] == "1"


def test_prefix_blocks(s):
    rc, out = run(s, "quietly {\n di 1\n noisily di 2\n}")
    assert out == "2\n"
    rc, out = run(s, "capture {\n di 1\n di nosuch\n di 3\n}")
    assert rc == 0 and out == "" and s.rc == 111
    rc, out = run(s, "capture noisily {\n di 1\n}")
    assert out == "1\n" and s.rc == 0


def test_by_runs_once_per_group(s):
    rc, out = run(s, "bysort g: zzcount if x > 1")
    assert rc == 0
    assert out.splitlines() == ["", "-" * 79, "-> g = 1", "n=1", "", "-" * 79, "-> g = 2", "n=2"]
    assert list(s.data.values("g")) == [1, 1, 2, 2] and list(s.data.values("x")) == [1, 3, 2, 4]
    assert s.by_restrict is None


def test_by_requires_sort(s):
    rc, out = run(s, "by g: zzcount")
    assert rc == 5 and out == "not sorted\nr(5);\n"
    rc, out = run(s, "by g, sort: zzcount")
    assert rc == 0
    rc, out = run(s, "by g: zzcount")
    assert rc == 0


def test_by_self_and_not_byable(s):
    rc, out = run(s, "by g: zzself")
    assert out == "prefixes=['by']\n"
    rc, out = run(s, "bysort g: zznoby")
    assert rc == 190 and "may not be combined with by" in out


def test_results_listing(s):
    s.r.scalars.update({"N": 4.0, "mean": 2.5})
    rc, out = run(s, "return list")
    assert out.splitlines() == ["", "scalars:", "                  r(N) =  4", "               r(mean) =  2.5"]
    res = EstimationResults("mixed", [("mathach", "ses"), ("mathach", "_cons")], np.array([2.0, 12.5]),
                            np.array([[0.04, 0.01], [0.01, 0.25]]), np.zeros(2, bool), 2,
                            scalars={"N": 7185.0}, macros={"cmd": "mixed"}, sample=np.ones(4, bool))
    s.post_estimation(res)
    rc, out = run(s, "ereturn list")
    lines = out.splitlines()
    assert "                  e(N) =  7185" in lines
    assert '                e(cmd) : "mixed"' in lines
    assert "                  e(b) :  1 x 2" in lines and "                  e(V) :  2 x 2" in lines
    assert "functions:" in lines
    rc, out = run(s, "matrix list e(b)")
    lines = out.splitlines()
    assert lines[1] == "e(b)[1,2]"
    assert lines[2].split() == ["mathach:", "mathach:"] and lines[3].split() == ["ses", "_cons"]
    assert lines[4].split() == ["y1", "2", "12.5"]
    rc, out = run(s, "matrix list e(V)")
    lines = out.splitlines()
    assert lines[1] == "symmetric e(V)[2,2]"
    assert lines[4].split() == ["mathach:ses", ".04"] and lines[5].split() == ["mathach:_cons", ".01", ".25"]
    assert run(s, "di _b[ses] + _se[_cons]")[1] == "2.5\n"
    assert run(s, "di e(N)")[1] == "7185\n"


def test_matrix_define_and_element(s):
    rc, _ = run(s, "matrix A = (1, 2 \\ 3, 4)")
    A = s.matrices["A"]
    assert rc == 0 and np.asarray(getattr(A, "values", A)).tolist() == [[1, 2], [3, 4]]
    assert run(s, "di A[2,1]")[1] == "3\n"


def test_exit_at_prompt_raises_for_repl(s):
    from hlmshell.errors import ExitDo

    with pytest.raises(ExitDo):
        s.interpreter.run_line("exit")


def test_user_programs(s):
    text = ("program define addup, rclass\n"
            "  args a b\n"
            "  local hidden 1\n"
            "  return scalar sum = `a' + `b'\n"
            "  return local words `0'\n"
            "  display \"sum `a' `b'\"\n"
            "end\n"
            "addup 2 3\n"
            "display r(sum)\n"
            "display \"`r(words)'|`hidden'|\"\n")
    assert s.interpreter.run_text(text, echo=False) == 0
    assert s.out.getvalue() == "sum 2 3\n5\n2 3||\n"
    rc, out = run(s, "program addup\n di 1\nend")
    assert rc == 110
    run(s, "program drop addup")
    assert "addup" not in s.interpreter.programs
    rc, out = run(s, "addup 1 2")
    assert rc == 199
    rc, out = run(s, "return scalar x = 1")
    assert rc == 151


def test_program_error_propagates(s):
    text = "program bad\n  display nosuch\nend\nbad\n"
    assert s.interpreter.run_text(text, echo=False) == 111
    run(s, "capture bad")
    assert s.rc == 111


def test_one_line_if_with_else(s):
    text = 'local v 1\nif `v\' == 1 di "one"\nelse di "other"\nif `v\' == 2 di "two"\nelse di "not two"\n'
    assert s.interpreter.run_text(text, echo=False) == 0
    assert s.out.getvalue() == "one\nnot two\n"
    start = len(s.out.getvalue())
    text = 'if 0 di "a"\nelse {\n  di "b"\n  di "c"\n}\ndi "d"\n'
    assert s.interpreter.run_text(text, echo=False) == 0
    assert s.out.getvalue()[start:] == "b\nc\nd\n"


def test_capture_noisily_shows_message_without_rc(s):
    rc, out = run(s, "capture noisily display nosuch")
    assert rc == 0 and out == "variable nosuch not found\n" and s.rc == 111


def test_cd_and_pwd(s, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub dir").mkdir()
    rc, out = run(s, 'cd "sub dir"')
    assert rc == 0 and out.strip().endswith("sub dir")
    rc, out = run(s, "pwd")
    assert out.strip().endswith("sub dir")
    rc, out = run(s, "cd /no/such/dir")
    assert rc == 170


def test_confirm(s, tmp_path):
    assert run(s, "confirm variable x g")[0] == 0
    assert run(s, "confirm variable nosuch")[0] == 111
    assert run(s, "confirm new variable x")[0] == 110
    assert run(s, "confirm new variable brandnew")[0] == 0
    assert run(s, "confirm numeric variable x")[0] == 0
    assert run(s, "confirm string variable x")[0] == 7
    assert run(s, "confirm number 3.5")[0] == 0
    assert run(s, "confirm integer number 3.5")[0] == 7
    assert run(s, "confirm number abc")[0] == 7
    assert run(s, f'confirm file "{tmp_path}"')[0] == 0
    assert run(s, "confirm file /no/such/file")[0] == 601


def test_matrix_copy_keeps_names(s):
    res = EstimationResults("mixed", [("mathach", "ses"), ("mathach", "_cons")], np.array([2.0, 12.5]),
                            np.array([[0.04, 0.01], [0.01, 0.25]]), np.zeros(2, bool), 2)
    s.post_estimation(res)
    run(s, "matrix b = e(b)")
    rc, out = run(s, "matrix list b")
    lines = out.splitlines()
    assert lines[1] == "b[1,2]" and lines[2].split() == ["mathach:", "mathach:"]
    assert run(s, "di b[1,2]")[1] == "12.5\n"
    run(s, "matrix V = e(V)")
    assert run(s, "di sqrt(V[1,1])")[1] == ".2\n"


def test_display_item_splitting(s):
    assert run(s, "di 2 -3")[1] == "-1\n"             # greedy, as Stata: 2-3
    assert run(s, "di 2 3")[1] == "23\n"
    assert run(s, 'di "a" (1+2)')[1] == "a3\n"
    assert run(s, 'di "x" .a " " .a > .')[1] == "x.a 1\n"
    assert run(s, 'di 1 != 0 "|" 1 !0')[1] == "1|11\n"
    assert run(s, "di abs(-2) abs (-3)")[1] == "23\n"
    long = " ".join(['"ab" 1+2'] * 200)
    assert run(s, f"di {long}")[1] == "ab3" * 200 + "\n"


def test_prefixed_loops(s):
    rc, out = run(s, "quietly forvalues i = 1/2 {\n di `i'\n noisily di \"n`i'\"\n}")
    assert rc == 0 and out == "n1\nn2\n"
    rc, out = run(s, "capture foreach v in a b {\n di nosuch`v'\n}")
    assert rc == 0 and out == "" and s.rc == 111
