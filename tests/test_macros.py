"""Macro expansion and the local/global/scalar commands."""
import numpy as np
import pytest

from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.macros import expand_macros, extended_function, num_to_macro


@pytest.fixture
def s():
    sess = Session(Capture())
    Interpreter(sess)
    return sess


def run(s, text):
    rc = s.interpreter.run_text(text, echo=False)
    return rc, s.out.getvalue()


def test_basic_local_and_global(s):
    s.local["x"] = "hello"
    s.globals["g"] = "world"
    assert expand_macros("`x' $g ${g}!", s) == "hello world world!"
    assert expand_macros("`nosuch'|$nosuch|", s) == "||"
    assert expand_macros("cost $5 and 'quoted'", s) == "cost $5 and 'quoted'"


def test_nested_references(s):
    s.local.update({"i": "2", "x2": "two", "name": "x"})
    assert expand_macros("`x`i''", s) == "two"
    assert expand_macros("``name'`i''", s) == "two"
    s.globals["g2"] = "G"
    assert expand_macros("${g`i'}", s) == "G"


def test_compound_quotes_untouched(s):
    s.local["x"] = "v"
    text = "`" + '"a "b" ' + "`x'" + '"' + "'"
    assert expand_macros(text, s) == "`" + '"a "b" v"' + "'"


def test_expression_and_increment(s):
    assert expand_macros("`=2+3'", s) == "5"
    assert expand_macros("`=1/4'", s) == ".25"
    s.local["i"] = "1"
    assert expand_macros("`++i'", s) == "2" and s.local["i"] == "2"
    assert expand_macros("`i++'", s) == "2" and s.local["i"] == "3"
    assert expand_macros("`--i'", s) == "2"


def test_results_references(s):
    s.r.scalars["mean"] = 12.5
    s.r.macros["varlist"] = "x y"
    assert expand_macros("`r(mean)' `r(varlist)'", s) == "12.5 x y"


def test_num_to_macro():
    assert num_to_macro(5.0) == "5"
    assert num_to_macro(1 / 3) == ".3333333333333333"
    assert num_to_macro(-0.25) == "-.25"
    assert num_to_macro(float("nan")) == "."
    assert num_to_macro(1e20) == "1e+20"


def test_extended_functions(s):
    s.local["lst"] = 'a b "c d" b'
    assert extended_function(s, "word count `lst'".replace("`lst'", s.local["lst"])) == "4"
    assert extended_function(s, 'word 3 of a b "c d"') == "c d"
    assert extended_function(s, "word 9 of a b") == ""
    assert extended_function(s, "list uniq lst") == "a b c d"
    assert extended_function(s, "list sizeof lst") == "4"
    s.local["o"] = "b z"
    assert extended_function(s, "list lst - o") == "a c d"
    assert extended_function(s, "list lst | o") == "a b c d z"
    assert extended_function(s, "list lst & o") == "b"
    assert extended_function(s, 'list posof "b" in lst') == "2"
    assert extended_function(s, "list sort o") == "b z"
    with pytest.raises(StataError):
        extended_function(s, "nosuch thing")


def test_local_command_forms(s):
    rc, _ = run(s, 'local a hello world\nlocal b = 2*3\nlocal c "quoted text"\nlocal d : word count `a\'\n'
                   'global G `b\'\nlocal e `a\' `b\'\nlocal ++b\nlocal f = "str" + "ing"')
    assert rc == 0
    assert s.local["a"] == "hello world"
    assert s.local["b"] == "7"
    assert s.local["c"] == "quoted text"
    assert s.local["d"] == "2"
    assert s.globals["G"] == "6"
    assert s.local["e"] == "hello world 6"
    assert s.local["f"] == "string"


def test_local_empty_and_bad(s):
    rc, _ = run(s, "local z")
    assert rc == 0 and s.local["z"] == ""
    rc, out = run(s, "local = 3")
    assert rc == 198 and "r(198);" in out


def test_macros_expand_in_every_loop_pass(s):
    rc, out = run(s, 'local total 0\nforeach v in 1 2 3 {\n  local total = `total\' + `v\'\n}\ndisplay `total\'')
    assert rc == 0 and out.strip().endswith("6")


def test_scalars(s):
    s.data.add(Variable("x", np.array([4.0, 5.0]), "double"))
    rc, out = run(s, 'scalar a = 2\nscalar define b = a * x\nscalar c = "text"\ndisplay b\nscalar list a b')
    assert rc == 0
    assert s.scalars == {"a": 2.0, "b": 8.0, "c": "text"}
    lines = out.splitlines()
    assert lines[0] == "8"
    assert lines[1].split() == ["a", "=", "2"] and lines[2].split() == ["b", "=", "8"]
    rc, out = run(s, "scalar list nosuch")
    assert rc == 111


def test_macro_list_and_drop(s):
    run(s, "global G1 one\nlocal l1 two\nmacro list")
    out = s.out.getvalue()
    assert "G1:" in out and "one" in out and "_l1:" in out
    run(s, "macro drop G1")
    assert "G1" not in s.globals


def test_tempvar_names_are_distinct(s):
    run(s, "tempvar a b")
    assert s.local["a"] != s.local["b"] and s.local["a"].startswith("__")


def test_failed_macro_assignment_changes_nothing(s):
    run(s, "local keep old\nglobal G old")
    rc, out = run(s, "local keep = 1 + nosuch")
    assert rc == 111 and s.local["keep"] == "old"
    rc, out = run(s, "global G = substr(1, 2, 3)")
    assert rc == 109 and s.globals["G"] == "old"
    rc, out = run(s, "forvalues i = 1/3 {\n local keep `i'\n global G = `i' / (`i' < 2) + \"x\"\n}")
    assert rc == 109 and s.local["keep"] == "1" and s.globals["G"] == "old"


def test_display_extended_function_and_inline_forms(s):
    rc, _ = run(s, 'local f : display %9.2f 3.14159\nlocal w : word 2 of alpha beta')
    assert rc == 0 and s.local["f"] == "     3.14" and s.local["w"] == "beta"
    s.local["lst"] = "a b c"
    assert expand_macros("`: word count `lst''", s) == "3"
    assert expand_macros("`:list sizeof lst'", s) == "3"


def test_one_line_if_expands_macros_once(s):
    s.local["v"] = "`" + "inner'"
    s.local["inner"] = "SHOULD-NOT-APPEAR"
    rc, out = run(s, 'if 1 display "`v\'"')
    assert rc == 0 and out.strip() == "`inner'"
    s.local["i"] = "0"
    run(s, "if 0 display `++i'")
    assert s.local["i"] == "1"          # as Stata: the line is expanded before the test


def test_tempfile_is_a_path_in_the_temp_dir(s):
    import os
    import tempfile

    run(s, "tempfile a b")
    assert os.path.dirname(s.local["a"]) == tempfile.gettempdir() and s.local["a"] != s.local["b"]
