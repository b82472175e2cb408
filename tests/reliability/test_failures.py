"""Every failure is a Stata error: runaway recursion and deep nesting, huge arguments.

Recursion (a program calling itself, two programs calling each other, a do-file doing itself,
a chain of 100 do-files, include) stops at Stata's nesting limit of 64 with `system limit
exceeded - see manual` r(1000), printed once, caught by `capture` -- never r(9999), never a
Python RecursionError or a crashed interpreter. Macro references nest without limit (Stata
expands them inside out); expressions have Stata's 800-operator limit (r(130)). Functions and
display directives given huge, negative or missing numbers do what Stata does.

Each failing case also checks that the session is exactly as before (data, macros, scalars,
matrices, r(), e(), stored estimates) and that the interpreter's own counters are back at 0,
so the next command runs normally.
"""
from __future__ import annotations

import hashlib
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hlmshell.interpreter import Interpreter
from hlmshell.limits import MAX_BLOCK_NESTING, MAX_NESTING
from hlmshell.output.writer import Capture
from hlmshell.session import Session

SYSTEM_LIMIT = "system limit exceeded - see manual"


# ---- a session and its fingerprint --------------------------------------------------------------
def _digest(values) -> str:
    a = np.asarray(values)
    raw = "\x1f".join(map(str, a.ravel())).encode() if a.dtype == object else np.ascontiguousarray(a).tobytes()
    return hashlib.md5(raw).hexdigest()


def fingerprint(s: Session) -> dict:
    """What a failing command must leave alone (after tests/test_robustness.py's state())."""
    res = lambda r: None if r is None else (  # noqa: E731
        repr(sorted(r.scalars.items())), repr(sorted(r.macros.items())),
        {k: _digest(getattr(v, "values", v)) for k, v in r.matrices.items()})
    return {
        "data": (tuple((k, v.vtype, v.format, v.label, v.vallab, _digest(v.values))
                       for k, v in s.data.vars.items()), s.data.n, tuple(s.data.sortedby),
                 s.data.changed, repr(s.data.value_labels)),
        "globals": dict(s.globals), "locals": [dict(d) for d in s.locals],
        "scalars": repr(s.scalars),
        "matrices": {k: _digest(getattr(v, "values", v)) for k, v in s.matrices.items()},
        "r": res(s.r), "e": (id(s.e), res(s.e)), "estimates": dict(s.estimates),
        "settings": repr(s.settings),
    }


class Shell:
    def __init__(self, setup=()):
        self.s = Session(Capture())
        self.interp = Interpreter(self.s)
        for line in setup:
            assert self.interp.run_line(line) == 0, (line, self.s.out.getvalue())

    def run(self, text: str, dofile: bool = False) -> tuple[int, str]:
        out = self.s.out.stream
        start = out.tell()
        rc = self.interp.run_text(text, echo=True, name="t.do") if dofile else self.interp.run_line(text)
        return rc, out.getvalue()[start:]

    def settled(self) -> None:
        """The interpreter is back at the top: nothing left over from the unwinding."""
        it = self.interp
        assert (it.nesting, it.block_depth, it.depth, it.capture_depth, it.loop_depth) == (0, 0, 0, 0, 0)
        assert len(self.s.locals) == 1 and not it.r_pending and self.s.out.quiet == 0


SETUP = ["set obs 5", "generate x = _n", 'generate str3 s = "ab"', "global G hello",
         "local L world", "scalar sc = 3", r"matrix M = (1,2\3,4)", "quietly summarize x"]


def no_internal_error(out: str, rc: int) -> None:
    assert rc != 9999 and "r(9999)" not in out and "unexpected error" not in out, out
    assert "Traceback" not in out and "RecursionError" not in out, out


# ---- recursion: programs ------------------------------------------------------------------------
SELF = "program define myprog\n  myprog\nend\n"
MUTUAL = "program define pa\n  pb\nend\nprogram define pb\n  pa\nend\n"
# recursion through blocks and an argument, counting the levels that ran
COUNTING = ("program define deep\n  global n = $n + 1\n  forvalues i = 1/1 {\n    if 1 {\n"
            "      deep `=`1'+1'\n    }\n  }\nend\n")


@pytest.mark.parametrize("define, call", [(SELF, "myprog"), (MUTUAL, "pa"), (COUNTING, "deep 1")],
                         ids=["self", "mutual", "through-blocks"])
def test_program_recursion_is_caught_by_capture(define, call):
    """`capture` catches r(1000) like any error: silent, _rc set, the session as before."""
    sh = Shell(SETUP)
    assert sh.run(define)[0] == 0
    before = fingerprint(sh.s)
    rc, out = sh.run(f"capture {call}")
    no_internal_error(out, rc)
    assert rc == 0 and out == ""                    # capture: silent, and the line succeeds
    rc, out = sh.run('display "after " _rc')
    assert out == "after 1000\n"
    after = fingerprint(sh.s)
    after["globals"].pop("n", None)                 # the counting program's own doing
    before["globals"].pop("n", None)
    assert after == before
    sh.settled()


@pytest.mark.parametrize("define, call", [(SELF, "myprog"), (MUTUAL, "pa")], ids=["self", "mutual"])
def test_program_recursion_prints_the_error_once(define, call):
    """Not caught: the message and r(1000) once (not once per level unwound, not r(9999))."""
    sh = Shell(SETUP)
    sh.run(define)
    before = fingerprint(sh.s)
    rc, out = sh.run(call)
    no_internal_error(out, rc)
    assert rc == 1000
    assert out == f"{SYSTEM_LIMIT}\nr(1000);\n"
    assert fingerprint(sh.s) == before
    sh.settled()
    # and again: the counters were put back, the limit is the same the second time
    assert sh.run(call) == (1000, f"{SYSTEM_LIMIT}\nr(1000);\n")


def test_nesting_limit_is_stata_64_levels():
    """From the prompt 64 nested programs run and the 65th is refused (Statalist, 2008:
    a recursive `display` program printed its blank line and 1...63, then r(1000))."""
    sh = Shell()
    sh.run(COUNTING)
    sh.run("global n = 0")
    rc, _ = sh.run("capture deep 1")
    assert sh.s.globals["n"] == str(MAX_NESTING) == "64"
    # a do-file is a level too: from inside one, 63 programs fit
    rc, out = sh.run("global n = 0\ncapture deep 1\ndisplay $n", dofile=True)
    assert rc == 0 and "\n63\n" in out


def test_program_recursion_in_a_dofile_stops_it_once(tmp_path):
    """In a do-file the error stops it: the message once, then `end of do-file`."""
    sh = Shell(SETUP)
    rc, out = sh.run(SELF + "myprog\ndisplay \"not reached\"", dofile=True)
    no_internal_error(out, rc)
    assert rc == 1000
    assert out.count(SYSTEM_LIMIT) == 1 and "not reached\n" not in out
    assert out.rstrip().endswith("end of do-file\n\nr(1000);")
    sh.settled()


# ---- recursion: do-files and include ------------------------------------------------------------------
@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HLMSHELL_DEBUG", raising=False)
    return tmp_path


def test_dofile_that_does_itself(in_tmp):
    """Do-files are levels too: the 65th `do` is refused; capture catches it."""
    Path("self.do").write_text("do self\n")
    sh = Shell(SETUP)
    before = fingerprint(sh.s)
    rc, out = sh.run("capture do self")
    no_internal_error(out, rc)
    assert rc == 0 and sh.run('display "after " _rc')[1] == "after 1000\n"
    assert fingerprint(sh.s) == before
    sh.settled()
    rc, out = sh.run("do self")
    no_internal_error(out, rc)
    assert rc == 1000
    # the message once; each of the 64 do-files then ends with Stata's `end of do-file`, r(1000)
    assert out.count(SYSTEM_LIMIT) == 1
    assert out.count("end of do-file") == MAX_NESTING
    assert out.count(". do self") == MAX_NESTING
    assert fingerprint(sh.s) == before
    sh.settled()


def test_chain_of_100_dofiles(in_tmp):
    """100 distinct files nested: the 65th level is refused, whatever the file names."""
    for i in range(1, 101):
        Path(f"chain{i}.do").write_text(f"do chain{i + 1}\n")
    Path("chain101.do").write_text('display "deepest"\n')
    sh = Shell(SETUP)
    before = fingerprint(sh.s)
    rc, out = sh.run("do chain1")
    no_internal_error(out, rc)
    assert rc == 1000 and out.count(SYSTEM_LIMIT) == 1 and "deepest" not in out
    # chain64 is the 64th level: its `do chain65` is echoed, then refused
    assert ". do chain65\n" in out and ". do chain66" not in out
    assert fingerprint(sh.s) == before
    sh.settled()
    # a chain that fits runs to the end
    Path("chain60.do").write_text('display "deepest"\n')
    rc, out = sh.run("do chain1")
    assert rc == 0 and "\ndeepest\n" in out


def test_include_that_includes_itself(in_tmp):
    """include runs in the caller's scope but still nests: a self-include is r(1000)."""
    Path("inc.do").write_text("include inc\n")
    sh = Shell(SETUP)
    before = fingerprint(sh.s)
    rc, out = sh.run("capture include inc\ndisplay \"after \" _rc", dofile=True)
    no_internal_error(out, rc)
    assert rc == 0 and "\nafter 1000\n" in out
    assert fingerprint(sh.s) == before
    sh.settled()


def test_blocks_nested_beyond_the_guard():
    """Blocks do not count as Stata levels, but hlmshell bounds them (Python's stack): 1,000
    nested blocks run, one more is r(1000), printed once."""
    def nested(k):
        return "\n".join(["if 1 {"] * k + ['display "inner"'] + ["}"] * k)

    sh = Shell(SETUP)
    rc, out = sh.run(nested(MAX_BLOCK_NESTING))
    assert rc == 0 and out == "inner\n"
    before = fingerprint(sh.s)
    rc, out = sh.run(nested(MAX_BLOCK_NESTING + 1))
    no_internal_error(out, rc)
    assert (rc, out) == (1000, f"{SYSTEM_LIMIT}\nr(1000);\n")
    assert fingerprint(sh.s) == before
    sh.settled()


# ---- macros nest without a limit ----------------------------------------------------------------------
@pytest.mark.parametrize("depth", [500, 5000])
def test_deeply_nested_macro_references(depth):
    """Macro references have no nesting limit in Stata; expansion is inside out, so every
    shape of deep nesting expands (no RecursionError, no error at all)."""
    sh = Shell()
    # a chain of locals, each defined from the one before
    rc, out = sh.run(f"local m0 x\nforvalues i=1/{depth} {{\n local m`i' `m`=`i'-1''\n}}\n"
                     f"display \"`m{depth}'\"")
    assert (rc, out) == (0, "x\n")
    # `` ``...`a{depth}'...'' ``: each local names the next one, expanded inside out
    sh.run(f"local a0 end\nforvalues i=1/{depth} {{\n local a`i' a`=`i'-1'\n}}")
    rc, out = sh.run('display "' + "`" * (depth + 1) + f"a{depth}" + "'" * (depth + 1) + '"')
    assert (rc, out) == (0, "end\n")
    # nested macro expressions and extended functions
    assert sh.run("display " + "`=" * depth + "1" + "'" * depth) == (0, "1\n")
    assert sh.run('display "' + "`:display " * depth + "7" + "'" * depth + '"') == (0, "7\n")
    # a value holding a reference is not expanded again
    sh.run("local v : display _char(96) \"m0'\"")
    assert sh.s.local["v"] == "`m0'"
    assert sh.run("display `\"`v'\"'") == (0, "`m0'\n")
    sh.settled()


def test_unclosed_deep_reference_is_kept_as_typed():
    """3,000 references opened, one closed: from the outermost unclosed quote on, the text
    stays as typed (what the recursive expander did, without its RecursionError)."""
    sh = Shell()
    sh.run("local b B")
    text = "`" * 3000 + "b'"
    assert sh.run(f'display "{text}"') == (0, text + "\n")
    assert sh.run('display "`b\' `x"') == (0, "B `x\n")


# ---- expressions: Stata's limits ----------------------------------------------------------------
@pytest.mark.parametrize("expr, rc, out", [
    ("+".join(["1"] * 801), 0, "801\n"),                  # 800 operators: Stata's limit
    ("+".join(["1"] * 802), 130, "expression too long\nr(130);\n"),
    ("-" * 999 + "1", 0, "-1\n"),
    ("-" * 5000 + "1", 130, "expression too long\nr(130);\n"),
    ("!" * 20000 + "1", 130, "expression too long\nr(130);\n"),
    ("abs(" * 5000 + "1" + ")" * 5000, 130, "expression too long\nr(130);\n"),
    ("2^" * 900 + "1", 130, "expression too long\nr(130);\n"),
    ("(" * 5000 + "1" + ")" * 5000, 0, "1\n"),
])
def test_expression_limits(expr, rc, out):
    """800 dyadic operators is Stata's limit (r(130) beyond); a nesting deeper than hlmshell
    evaluates safely is r(130) too, never a Python RecursionError; parentheses alone nest freely."""
    sh = Shell(SETUP)
    before = fingerprint(sh.s)
    got = sh.run(f"display {expr}")
    assert got == (rc, out)
    assert sh.run(f"capture display {expr}")[0] == 0 and sh.run("display _rc")[1] == f"{rc}\n"
    assert fingerprint(sh.s) == before
    if rc:
        assert sh.run(f"generate y = {expr}") == (rc, out)
        assert fingerprint(sh.s) == before
    sh.settled()


# ---- the C stack survives the deepest nesting allowed --------------------------------------------------
def _worst_case_dofile(path: Path) -> None:
    """64 levels of programs, each inside capture/foreach/forvalues/if blocks, the innermost
    nesting blocks up to the guard and evaluating expressions at the depth guard."""
    inner_blocks = MAX_BLOCK_NESTING - 4 * (MAX_NESTING - 1) - 8
    deep = "abs(" * 990 + "1" + ")" * 990
    inner = "\n".join(["if 1 {"] * inner_blocks
                      + [f"display {deep}", "local z = " + "-" * 990 + "1", 'display "inner ok `z\'"']
                      + ["}"] * inner_blocks)
    path.write_text(f"""program define p
  args d
  capture noisily {{
    foreach a in 1 {{
      forvalues b = 1/1 {{
        if `d' < {MAX_NESTING - 1} {{
          p `=`d'+1'
        }}
        else {{
{inner}
        }}
      }}
    }}
  }}
  if _rc error _rc
end
p 1
display "done"
""")


@pytest.mark.parametrize("stack_kb", [None, 2048])
def test_deepest_nesting_does_not_overflow_the_c_stack(tmp_path, stack_kb):
    """The real CLI in a subprocess: with the default stack the worst case runs to the end;
    with a 2 MB stack hlmshell lowers its recursion limit and fails with a Stata error --
    in neither case does the process die of a signal (SIGSEGV)."""
    _worst_case_dofile(tmp_path / "worst.do")

    def small_stack():
        if stack_kb:
            resource.setrlimit(resource.RLIMIT_STACK, (stack_kb * 1024, stack_kb * 1024))

    env = {k: v for k, v in os.environ.items() if k not in ("HLMSHELL_DEBUG", "PYTHONWARNINGS")}
    proc = subprocess.run([sys.executable, "-m", "hlmshell", "worst.do"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, preexec_fn=small_stack)
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}"
    no_internal_error(proc.stdout, proc.returncode)
    if stack_kb is None:
        assert proc.returncode == 0 and "\ninner ok 1\n" in proc.stdout and "\ndone\n" in proc.stdout
    else:
        assert proc.returncode in (0, 130, 255), proc.stdout[-500:]   # 1000 squeezed into 255


# ---- functions and display directives given extreme numbers ---------------------------------------------
@pytest.mark.parametrize("line, out", [
    # subinstr(): n missing or beyond any string's length replaces all, n <= 0 none
    ('display subinstr("aaa","a","b",1e300)', "bbb"),
    ('display subinstr("aaa","a","b",.)', "bbb"),
    ('display subinstr("aaa","a","b",2)', "bba"),
    ('display subinstr("aaa","a","b",1.9)', "baa"),
    ('display subinstr("aaa","a","b",0)', "aaa"),
    ('display subinstr("aaa","a","b",-1)', "aaa"),
    # _char(#): the character, nothing outside 0-255 (as char() gives "")
    ('display _char(65) _char(1e10) _char(-1) _char(256) "|"', "A|"),
    ('display _dup(3) "ab" _skip(-2) "|" _col(-5) "|"', "ababab||"),
    ('display _dup(1e300) ""', ""),
    ('display "a" _n(0) "b"', "ab"),
    ('display substr("abc", 1e300, 2) "|" substr("abc", 2, 1e300) "|" substr("abc", -1e300, 1)', "|bc|"),
    ('display substr("abc", ., 2) "|" substr("abc", 2, .)', "|bc"),
    ('display word("a b c", 1e300) "|" word("a b c", -1e300) "|" word("a b c", .)', "||"),
    ('display real("1e999") "|" real("-1e999") "|" (real("1e300") == 1e300)', ".|.|1"),
    ('display int(1e300) == 1e300', "1"),
    ('display "a"*-1 "|" "a"*. "|" "ab"*2.7', "||abab"),
    ('display string(1, "%9.2f") "|" string(.a)', "1.00|.a"),
    ('display x[1e300] "|" x[-1e300] "|" x[.]', ".|.|."),
    ('display log(0) ln(-1) sqrt(-1) 0/0 1/0 exp(1e300) 10^400 1e300*1e300', "........"),
    ('local q = 1e300*1e300\ndisplay "`q\'"', "."),
])
def test_functions_with_extreme_arguments(line, out):
    """Huge, negative or missing numbers where a count or position is expected: Stata's
    result (all, none, empty, missing), never r(9999)."""
    sh = Shell(SETUP)
    rc, got = sh.run(line)
    assert (rc, got) == (0, out + "\n")


@pytest.mark.parametrize("line, rc, msg", [
    ('display _dup(1e300) "a"', 909, "op. sys. refuses to provide memory"),
    ('display _skip(1e10) "a"', 909, "op. sys. refuses to provide memory"),
    ('display _column(1e10) "a"', 909, "op. sys. refuses to provide memory"),
    ('display "a" _n(1e300)', 909, "op. sys. refuses to provide memory"),
    ('display "a"*1e300', 909, "op. sys. refuses to provide memory"),
    ('generate t = "a"*1e300', 909, "op. sys. refuses to provide memory"),
    ('display _char(.)', 198, "invalid syntax"),
    ('display _skip("a")', 198, "invalid syntax"),
    ('display %9.1e300f 1', 198, "invalid syntax"),     # one token, not %9.1e then 300f
    ('display %1e300.0g 1', 198, "invalid syntax"),
    ('display %-1e300s "a"', 198, "invalid syntax"),
    ('display string(1, "%9.1e300f")', 120, "invalid %format"),
    ('generate t = string(x, s)', 120, "invalid %format"),   # a format per observation
])
def test_extreme_arguments_that_are_errors(line, rc, msg):
    """Where the result cannot be had (output of 1e300 characters) or the argument is not a
    number or format: Stata's error, caught by capture, the session as before."""
    sh = Shell(SETUP)
    before = fingerprint(sh.s)
    got = sh.run(line)
    assert got == (rc, f"{msg}\nr({rc});\n")
    rc2, out = sh.run(f"capture {line}")
    assert (rc2, out) == (0, "") and sh.run("display _rc") == (0, f"{rc}\n")
    assert fingerprint(sh.s) == before
    sh.settled()


def test_subinstr_count_may_vary_by_observation():
    """The count is an expression like any other: per observation, not the first one's."""
    sh = Shell(SETUP)
    sh.run('generate t = subinstr("aaaa", "a", "b", cond(_n == 5, ., _n - 2))')
    assert list(sh.s.data.vars["t"].values) == ["aaaa", "aaaa", "baaa", "bbaa", "bbbb"]


def test_overflow_is_missing_not_inf():
    """Sums past 1e308 are Stata's missing value: summarize's mean, running sums, collapse;
    nothing infinite is stored, returned or put in a macro."""
    sh = Shell(["set obs 6", "generate double h = 8e307", "generate g = _n > 3"])
    rc, out = sh.run("summarize h")
    # %9.0g e-notation keeps the mantissa's zeros (Stata: %9.0g of 1e8 is 1.00e+08); a 3-digit
    # exponent leaves room for one decimal within the 8 characters (was 8e+307, stripped)
    assert rc == 0 and re.search(r"h \|\s+6\s+\.\s+8\.0e\+307\s+8\.0e\+307", out), out
    assert np.isnan(sh.s.r.scalars["mean"]) and np.isnan(sh.s.r.scalars["sum"])
    sh.run("local m = r(mean)")
    assert sh.s.local["m"] == "."
    sh.run("generate double rs = sum(h)")
    rs = sh.s.data.vars["rs"].values
    assert rs[0] == 8e307 and np.isnan(rs[2:]).all() and not np.isinf(rs).any()
    assert sh.run("collapse (sum) h (mean) m=h, by(g)")[0] == 0
    for v in ("h", "m"):
        assert np.isnan(sh.s.data.vars[v].values).all()
