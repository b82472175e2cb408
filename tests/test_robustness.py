"""Robustness sweep: malformed and edge-case command lines on hsb (with a fitted `mixed`).

For every line: no Python traceback and no `unexpected error` reaches the output, a failure ends
in Stata's `r(#);` with a code Stata uses (and the code the case expects), and a failing command
leaves the dataset, macros, scalars, matrices, r()/e(), stored estimates and the test chain
exactly as they were -- the interpreter's snapshot is checked, not trusted. Cases come from a
command x mutation table (qualifiers and options each command does not take), hand-written
malformed lines, an empty session (no data, no estimates), prefixes, and hypothesis.
"""
from __future__ import annotations

import hashlib
import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hlmshell.registry import REGISTRY
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

SETUP = [
    "use hsb",
    'generate str8 name = "s" + string(id)',
    "label define yn 0 no 1 yes",
    "label values female yn",
    "preserve",
    "collapse (mean) meanses=ses, by(id)",
    "save schools",
    "restore",
    "quietly mixed mathach ses || id:",
    "estimates store m1",
    "quietly mixed mathach ses female || id:",
    "estimates store m2",
    "global G hello",
    "local L world",
    "scalar sc = 3",
    r"matrix M = (1,2\3,4)",
    "quietly summarize ses",
    "save hsb_s",
    "export delimited using hsb_s.csv",
]

# return codes Stata uses for the failures these cases provoke
STATA_CODES = {1, 4, 5, 7, 9, 100, 101, 102, 103, 107, 108, 109, 110, 111, 119, 120, 121, 123, 125, 130, 131, 322,
               133, 134, 151, 170, 181, 182, 190, 198, 199, 301, 303, 321, 402, 401, 430, 451, 452, 459, 498,
               503, 504, 601, 602, 603, 606, 610, 612, 621, 622, 631, 669, 672, 673, 674, 675, 677, 693, 909, 1400, 2000, 2001}
# Mata's run-time and compile-time codes (mata: lines)
STATA_CODES |= {3000, 3001, 3200, 3201, 3202, 3203, 3204, 3205, 3250, 3253, 3300, 3301, 3351, 3499, 3500, 3598}


# ---- session state -----------------------------------------------------------------------------
def _digest(values: np.ndarray) -> str:
    if values.dtype == object:
        raw = "\x1f".join(map(str, values)).encode()
    else:
        raw = np.ascontiguousarray(values).tobytes()
    return hashlib.md5(raw).hexdigest()


def _data_fp(d):
    if d is None:
        return None
    return (tuple((k, v.name, v.vtype, v.format, v.label, v.vallab, _digest(v.values))
                  for k, v in d.vars.items()),
            repr(d.value_labels), tuple(d.sortedby), d.label, d.n, d.filename, d.changed)


def _res_fp(e):
    if e is None:
        return None
    mats = {k: _digest(np.asarray(getattr(v, "values", v), dtype=float)) for k, v in e.matrices.items()}
    return (e.cmd, tuple(e.names), _digest(np.asarray(e.b, float)), _digest(np.asarray(e.V, float)),
            e.k_f, repr(sorted(e.scalars.items())), repr(sorted(e.macros.items())), repr(mats),
            None if e.sample is None else _digest(np.asarray(e.sample)), e.name, e.serial)


def _mat_fp(m):
    return (_digest(np.asarray(getattr(m, "values", m), dtype=float)),
            repr(getattr(m, "rownames", None)), repr(getattr(m, "colnames", None)))


def state(s) -> dict:
    """Everything a failing command must leave alone."""
    return {
        "data": _data_fp(s.data),
        "globals": dict(s.globals),
        "locals": [dict(d) for d in s.locals],
        "scalars": repr(s.scalars),
        "matrices": {k: _mat_fp(v) for k, v in s.matrices.items()},
        "r": (repr(sorted(s.r.scalars.items())), repr(sorted(s.r.macros.items())),
              {k: _mat_fp(v) for k, v in s.r.matrices.items()}),
        "e": _res_fp(s.e),
        "e_object": id(s.e),
        "estimates": {k: _res_fp(v) for k, v in s.estimates.items()},
        "test_chain": repr(s.test_chain),
        "settings": repr(s.settings),
        "preserved": _data_fp(s.preserved),
        "logs": [getattr(f, "name", f) for f in s.out.logs],
    }


class World:
    """One session set up once; every case starts from a fresh copy of that state."""

    def __init__(self, setup: list[str]):
        self.cwd = os.getcwd()          # its files (hsb_s.dta, ...) live here
        self.s = Session(Capture())
        Interpreter(self.s)
        for line in setup:
            rc = self.s.interpreter.run_line(line)
            assert rc == 0, (line, self.s.out.getvalue())
        self.base = self.s.snapshot()
        # e() and stored results are shared with every case, by reference: they must never be
        # changed in place (the interpreter's snapshot would not undo that either)
        self.shared = (_res_fp(self.s.e), {k: _res_fp(v) for k, v in self.s.estimates.items()})

    def reset(self):
        s = self.s
        os.chdir(self.cwd)
        s.restore(s.__class__.snapshot(_Proxy(self.base)))
        for f in s.out.logs:                # a `log using` case that worked
            f.close()
        s.out.logs = []
        s.out.stream.seek(0)
        s.out.stream.truncate()
        s.rc = 0

    def run(self, line: str, codes=None):
        s = self.s
        self.reset()
        before = state(s)
        rc = s.interpreter.run_line(line)
        out = s.out.getvalue()
        assert "Traceback" not in out, (line, out)
        assert "unexpected error" not in out and rc != 9999, (line, out)
        assert s.by_restrict is None and s.out.quiet == 0 and len(s.locals) == 1, line
        if rc:
            assert re.search(rf"r\({rc}\);\n$", out), (line, out)
            assert rc in STATA_CODES, (line, rc, out)
            after = state(s)
            changed = [k for k in before if before[k] != after[k]]
            assert not changed, (line, changed, out)
        if codes is not None:
            assert rc in codes, (line, rc, out)
        shared = (_res_fp(self.base["e"]), {k: _res_fp(v) for k, v in self.base["estimates"].items()})
        assert shared == self.shared, (line, "e() or a stored result was changed in place")
        return rc, out


class _Proxy:
    """Lets Session.snapshot() copy a snapshot dict (same copying rules as the interpreter's)."""

    def __init__(self, snap):
        self.__dict__.update(snap)


@pytest.fixture(scope="module")
def hsb(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("robust"))
        mp.delenv("HLMSHELL_DEBUG", raising=False)
        yield World(SETUP)


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("robust_empty"))
        mp.delenv("HLMSHELL_DEBUG", raising=False)
        yield World(["clear all"])


# ---- command x mutation ------------------------------------------------------------------------------
# a valid invocation of every non-raw command (and of the raw ones that take qualifiers)
BASE = {
    "append": "append using hsb_s", "assert": "assert ses < 10", "clear": "clear",
    "clonevar": "clonevar x = ses", "collapse": "collapse (mean) ses, by(id)",
    "compress": "compress ses", "correlate": "correlate ses mathach", "count": "count",
    "decode": "decode female, gen(x)", "describe": "describe ses",
    "destring": "destring name, gen(x) force", "drop": "drop ses", "egen": "egen x = mean(ses)",
    "encode": "encode name, gen(x)", "estat": "estat icc", "estimates": "estimates table m1",
    "export": "export delimited using x.csv", "generate": "generate x = 1", "gsort": "gsort -ses",
    "import": "import delimited using hsb_s.csv, clear", "isid": "isid id ses mathach minority female",
    "keep": "keep ses", "label": 'label variable ses "x"', "levelsof": "levelsof female",
    "lincom": "lincom ses", "list": "list ses", "log": "log using x, replace",
    "lrtest": "lrtest m1 m2", "merge": "merge m:1 id using schools", "mixed": "mixed mathach ses || id:", "order": "order ses",
    "predict": "predict x", "preserve": "preserve", "pwcorr": "pwcorr ses mathach",
    "recode": "recode female (1=2)", "regress": "regress mathach ses", "rename": "rename ses x",
    "replace": "replace ses = 1", "restore": "restore", "save": "save x", "set": "set seed 1",
    "sort": "sort ses", "summarize": "summarize ses", "tab1": "tab1 female",
    "tabulate": "tabulate female", "test": "test ses", "testparm": "testparm ses",
    "tostring": "tostring ses, gen(x)", "use": "use hsb_s, clear",
    "xtreg": "xtreg mathach ses, fe i(id)", "hausman": "hausman m2 m1",
    "xtset": "xtset id", "tsset": "tsset, clear", "iis": "iis id", "tis": "tis female",
    "xtsum": "xtsum ses, i(id)", "xttab": "xttab female, i(id)", "reshape": "reshape clear",
}
# raw commands whose text is theirs to read (display, macros, programs, ...): covered by the
# hand-written cases and hypothesis below
RAW = {"args", "cd", "confirm", "continue", "display", "do", "ereturn", "error", "exit", "global",
       "include", "local", "macro", "matrix", "pause", "program", "pwd", "return", "run", "scalar",
       "sleep", "sysuse", "tempfile", "tempname", "tempvar", "version", "webuse",
       "help",   # help only prints text generated from the registry (tests/test_registry.py)
       "char",   # its text is the characteristic's (tests/test_characteristics.py)
       "file", "type",   # tests/test_file_cmd.py
       "postfile", "post", "postclose", "postutil",   # tests/test_postfile.py
       "svmat", "mkmat",   # tests/test_matrix_data.py
       "syntax", "marksample", "markout", "tokenize", "gettoken", "unab",  # programs' parsing:
       # tests/test_program_syntax.py
       "xtdescribe"}   # needs a time variable, which hsb has not (tests/test_panel_data.py)

# what each command accepts (Stata 17 syntax diagrams)
TAKES = {
    "assert": "if in", "clonevar": "if in", "collapse": "if in weight", "correlate": "if in weight",
    "count": "if in", "decode": "if in", "drop": "if in", "egen": "if in", "encode": "if in",
    "export": "if in", "generate": "if in", "keep": "if in", "levelsof": "if in", "list": "if in",
    "mixed": "if in", "predict": "if in", "pwcorr": "if in weight", "recode": "if in",
    "regress": "if in weight", "replace": "if in", "sort": "in", "summarize": "if in weight",
    "tab1": "if in weight", "tabulate": "if in weight", "use": "if in", "xtreg": "if in",
    "xtsum": "if in", "xttab": "if in",
}
NO_OPTIONS = {"clear", "clonevar"}   # generate takes before()/after(), replace nopromote


def _load_family_cases() -> None:
    """Each command family's entries (BASE, RAW, TAKES, NO_OPTIONS) from
    tests/robustness_cases/<family>.py, so families added in parallel never edit one table."""
    import importlib.util
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "robustness_cases")
    if not os.path.isdir(folder):
        return
    for fname in sorted(os.listdir(folder)):
        if not fname.endswith(".py") or fname.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"robustness_cases_{fname[:-3]}",
                                                      os.path.join(folder, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        BASE.update(getattr(mod, "BASE", {}))
        RAW.update(getattr(mod, "RAW", ()))
        TAKES.update(getattr(mod, "TAKES", {}))
        NO_OPTIONS.update(getattr(mod, "NO_OPTIONS", ()))


_load_family_cases()

MUTATIONS = {
    "badopt": (", nosuchopt", {198}),
    "pweight": (" [pw=ses]", {101, 402}),
    "strweight": (" [fw=name]", {101, 109, 111}),
    "in0": (" in 0", {198, 101}),
    "in51": (" in 5/1", {198, 101}),
    "ifnosuch": (" if nosuch", {111, 101}),
    "ifstring": (" if name", {109, 101, 111}),
    "ifparen": (" if (", {198}),
    "unbalanced": (' "abc', {198, 601, 111, 103}),
}


def mutate(line: str, piece: str) -> str:
    """Put a qualifier before the options; an option after the existing ones."""
    if " ||" in line and not piece.startswith(","):       # mixed and the me* commands
        head, _, tail = line.partition(" ||")
        return f"{head}{piece} ||{tail}"
    if "," not in line:
        return line + piece
    if piece.startswith(","):
        return line + " " + piece[1:].strip()
    head, _, tail = line.partition(",")
    return f"{head}{piece},{tail}"


def expected(cmd: str, kind: str) -> set[int]:
    codes = set(MUTATIONS[kind][1])
    takes = TAKES.get(cmd, "").split()
    qualifier = {"pweight": "weight", "strweight": "weight", "in0": "in", "in51": "in",
                 "ifnosuch": "if", "ifstring": "if", "ifparen": "if"}.get(kind)
    if qualifier and qualifier not in takes:
        codes = {101} if kind != "ifparen" else {198, 101}   # `if (` does not parse at all
    if cmd in ("drop", "keep") and qualifier == "if":
        codes |= {198}                  # `drop varlist if exp` is not Stata syntax
    return codes


CASES = [(cmd, kind) for cmd in sorted(BASE) for kind in MUTATIONS
         if not (kind == "unbalanced" and cmd in ("clear", "preserve", "restore", "count", "set"))]


def test_every_registered_command_is_swept():
    names = {n for n in REGISTRY.names() if not n.startswith("zz")}    # test_interpreter's stubs
    assert names <= set(BASE) | RAW, sorted(names - set(BASE) - RAW)


@pytest.mark.parametrize("cmd,kind", CASES)
def test_command_mutations(hsb, cmd, kind):
    line = mutate(BASE[cmd], MUTATIONS[kind][0])
    hsb.run(line, expected(cmd, kind) | ({198} if kind == "unbalanced" else set()))


@pytest.mark.parametrize("cmd", sorted(BASE))
def test_base_lines_run(hsb, cmd):
    """The unmutated lines work, so the mutations are what the failures above are about."""
    if cmd == "restore":
        hsb.run("preserve", {0})
        return
    hsb.run(BASE[cmd], {0})


def test_options_a_command_does_not_take(hsb):
    for cmd in NO_OPTIONS:
        rc, out = hsb.run(BASE[cmd] + ", before(ses)", {198})
        assert out.splitlines()[-2] == "option before not allowed"
    rc, out = hsb.run("list ses [fw=female]", {101})
    assert out == "weights not allowed\nr(101);\n"
    rc, out = hsb.run("describe in 1/5", {101})
    assert out == "in range not allowed\nr(101);\n"
    rc, out = hsb.run("lincom ses if female", {101})
    assert out == "if not allowed\nr(101);\n"


# ---- hand-written malformed lines: (line, expected rc, Stata's message or None) -------------------
MALFORMED = [
    # weights whose expression is a string
    ("summarize ses [fw=name]", 109, "type mismatch"),
    ("tabulate female [fw=name]", 109, "type mismatch"),
    ("pwcorr ses mathach [aw=name]", 109, "type mismatch"),
    ('correlate ses mathach [aw="a"]', 109, "type mismatch"),
    ("collapse (mean) ses [fw=name], by(id)", 109, "type mismatch"),
    ("use hsb_s [fw=female], clear", 101, "weights not allowed"),
    # empty samples, degenerate fits
    ("collapse (mean) ses if 0, by(id)", 2000, "no observations"),
    ("mixed mathach ses if 0 || id:", 2000, "no observations"),
    ("mixed mathach ses in 1/1 || id:", 2001, "insufficient observations"),
    ("mixed mathach ses in 1/2 || id:", 2001, "insufficient observations"),
    ("mixed mathach in 1/1", 2001, "insufficient observations"),
    ("mixed mathach mathach || id:, nolog", 1400, "initial values not feasible"),
    ("regress mathach ses in 1/1", 2001, "insufficient observations"),
    # numbers beyond Stata's largest double, missing where a number is needed
    ("test 2*ses = 1e400", 504, "matrix has missing values"),
    ("test ses/1e-320 = 0", 504, "matrix has missing values"),
    ("lincom 1e400*ses", 504, "matrix has missing values"),
    ("lincom ses + 1e308*2", 504, "matrix has missing values"),
    ("mixed mathach ses || id:, iterate(1e400)", 198, "option iterate() incorrectly specified"),
    ("set obs 1e400", 198, "'1e400' found where integer expected"),
    ("set obs 2.5", 198, "'2.5' found where integer expected"),
    ("set seed 1e400", 198, "'1e400' found where integer expected"),
    ("set obs 1e12", 909, "op. sys. refuses to provide memory"),
    ('display "a" * 1e10', 909, "op. sys. refuses to provide memory"),
    ("display M[.,1]", 503, "subscript invalid"),
    ("display M[1e400,1]", 503, "subscript invalid"),
    ('display M["a",1]', 503, "subscript invalid"),     # no row named a
    ("recode female (1=1e400)", 198, "unknown el 1e400 in rule"),
    ("recode female (nan=1)", 198, "unknown el nan in rule"),
    ("label define yn2 nan a", 198, "invalid syntax"),
    ("label define yn2 1e400 a", 198, "invalid syntax"),
    ("foreach x of numlist 1e400 {\n display `x'\n}", 121, "invalid numlist"),
    ("forvalues i = 1/1e12 {\n display `i'\n}", 123, "invalid numlist has too many elements"),
    ("error .", 198, "invalid syntax"),
    ("error 1e10", 198, "invalid syntax"),
    ("error -1", 198, "invalid syntax"),
    ('error "a"', 109, "type mismatch"),
    ("exit 3, foo", 198, "option foo not allowed"),
    ("exit .", 198, "invalid syntax"),
    # formats, levels, integer options
    ("estimates table m1, b(%zz)", 120, "invalid %format"),
    ('display string(1, "%zz")', 120, "invalid %format"),
    ('display string(3, "%9.300f")', 120, "invalid %format"),
    ("display %999999999.2f 3", 198, "invalid syntax"),
    ('display %999999999s "a"', 120, "invalid %format"),
    ("estat icc, level(abc)", 198, "level() must be between 10 and 99.99 inclusive"),
    ("estat icc, level(500)", 198, "level() must be between 10 and 99.99 inclusive"),
    ("lincom ses, level(abc)", 198, "level() must be between 10 and 99.99 inclusive"),
    ("lincom ses, level(nan)", 198, "level() must be between 10 and 99.99 inclusive"),
    ("mixed, level(5)", 198, "level() must be between 10 and 99.99 inclusive"),
    ("summarize ses, separator(abc)", 198, "option separator() incorrectly specified"),
    ("summarize ses, separator(1e400)", 198, "option separator() incorrectly specified"),
    ("list ses in 1/2, sep(nan)", 198, "option separator() incorrectly specified"),
    ("list ses in 1/2, ab(abc)", 198, "option abbreviate() incorrectly specified"),
    ("decode female, gen(x) maxlength(abc)", 198, "option maxlength() incorrectly specified"),
    ("decode female, gen(x) maxlength(0)", 198, "option maxlength() incorrectly specified"),
    ("pwcorr ses mathach, star(nan)", 198, "option star() incorrectly specified"),
    ("pwcorr ses mathach, star(-1)", 198, "star() out of range"),
    # names
    ("levelsof ses, local(1bad)", 198, "1bad invalid name"),
    ("levelsof female, matcell(1bad)", 198, "1bad invalid name"),
    ("levelsof name, matrow(V)", 109, "type mismatch"),
    ("levelsof female, hexadecimal", 198, "option hexadecimal not allowed"),
    ("encode name, gen(x) label(1bad)", 198, "1bad invalid name"),
    # matrices
    ('matrix A = (1,"a")', 109, "type mismatch"),
    (r"matrix A = (1,2\3)", 503, "conformability error"),
    ("matrix list", 198, "invalid syntax"),
    ("matrix list M N", 198, "invalid syntax"),
    ("matrix list M, format(%9.2f)", 198, "option format not allowed"),
    ("matrix list nosuch", 111, "matrix nosuch not found"),
    # file names
    ('save x "abc', 198, "invalid file specification"),
    ("save a b", 198, "invalid file specification"),
    ('use "hsb_s, clear', 198, "invalid file specification"),
    ('log using x "abc', 198, "invalid file specification"),
    ('export delimited using x.csv "abc', 198, "invalid file specification"),
    ('append using hsb_s "abc', 198, "invalid file specification"),
    ("merge m:1 id using schools extra", 198, "invalid file specification"),
    ('describe using "abc', 198, "invalid file specification"),
    ("use nosuch, clear", 601, None),
    # post-estimation
    ('testparm ses "abc', 198, "invalid syntax"),
    ("testparm nosuch", 111, "variable nosuch not found"),
    ("testparm minority", 111, None),
    ("test nosuch", 111, None),
    ("test [nosuch]ses", 303, "equation nosuch not found"),
    ("test (ses", 198, "invalid syntax"),
    ("lincom ses*ses", 131, "not possible with lincom"),
    ("estat icc foo", 198, "invalid syntax"),
    ("estat group foo", 198, "invalid syntax"),
    ("estat foo", 321, None),
    ("estimates restore nosuch", 111, "estimation result nosuch not found"),
    ("estimates store 1bad", 198, "1bad invalid name"),
    ("lrtest m1 nosuch", 111, "estimation result nosuch not found"),
    # lrtest.ado expands _all/wildcards/(namelist) and refuses models named on both sides
    # (r(198)) before it looks at any of them; the active results are m2, stored as m2
    ("lrtest _all", 198, "models m2 specified more than once"),
    ("lrtest m* m1", 198, "models m1 specified more than once"),
    ("lrtest (m1 m2)", 198, "models m2 specified more than once"),
    ("lrtest (m1", 198, "invalid syntax"),
    ("lrtest m1 m2 m1", 198, "invalid input following specifications: m1"),
    ("predict x, xb reffects", 198, None),
    ("predict x y z, xb", 103, None),
    ("predict ses", 110, "variable ses already defined"),
    ("predict x, relevel(nosuch)", 198, None),
    ("set seed 1, foo", 198, "option foo not allowed"),
    # by: on commands that do not take it
    ("by female: test ses", 190, "test may not be combined with by"),
    ("bysort female: lincom ses", 190, "lincom may not be combined with by"),
    ("bysort female: estimates store zz", 190, "estimates may not be combined with by"),
    ("bysort female: estat icc", 190, "estat may not be combined with by"),
    ("bysort female: lrtest m1 m2", 190, "lrtest may not be combined with by"),
    ("bysort female: collapse ses", 190, "collapse may not be combined with by"),
    ("by female: summarize ses", 5, "not sorted"),
    ("by nosuch: count", 111, "variable nosuch not found"),
    ("bysort female, foo: count", 198, "option foo not allowed"),
    ("bysort female (ses: count", 198, "invalid syntax"),
    # mixed specification variants
    ("mixed mathach ses ||", 198, "invalid syntax"),
    ("mixed mathach ses || id", 198, "invalid syntax"),
    ("mixed mathach ses || nosuch:", 111, "variable nosuch not found"),
    ("mixed mathach ses || id: name", 109, "type mismatch"),
    ("mixed mathach ses || id:, cov(foo)", 198, None),
    ("mixed mathach ses || id:, reml ml", 198, None),
    ("mixed mathach ses || id:, iterate(-1)", 198, "option iterate() incorrectly specified"),
    ("mixed mathach ses [pw=ses] || id:", 402, "negative weights encountered"),
    ("mixed mathach ses [aw=ses] || id:", 101, "aweights not allowed"),
    ("mixed mathach i.ses || id:", 452, None),
    ("mixed mathach (ses || id:", 198, "invalid syntax"),
    ("mixed mathach ses || _all: R.nosuch", 111, "variable nosuch not found"),
    # macros and extended functions
    ("local x : nosuch", 198, "invalid syntax"),
    ("local x : word abc of a b c", 198, "invalid syntax"),
    ("local x : variable label nosuch", 111, "variable nosuch not found"),
    ("local x = (1", 198, "invalid syntax"),
    ('local x = "a" + 1', 109, "type mismatch"),
    ("global x = nosuch", 111, "variable nosuch not found"),
    ("scalar x = (1", 198, "invalid syntax"),
    ("macro shift 5", 198, "invalid syntax"),
    ("ereturn list foo", 198, "invalid syntax"),
    ("return list foo", 198, "invalid syntax"),
    ("program list nosuch", 111, "program nosuch not found"),
    ("program dir foo", 198, "invalid syntax"),
    ("foreach x of varlist nosuch {\n display 1\n}", 111, "variable nosuch not found"),
    ("forvalues i = 1(0)5 {\n display 1\n}", 121, "invalid numlist"),
    ("forvalues i = a/b {\n display 1\n}", 121, "invalid numlist"),
    ('while "a" {\n display 1\n}', 109, "type mismatch"),
    ("foreach x in a b {\n display 1", 198, "} expected"),
    # labels, recode, egen, collapse, import
    ("label define yn 0 no", 110, "label yn already defined"),
    ("label define yn2 1.5 a", 198, "may not label noninteger values"),
    ("label values name yn", 181, "may not label strings"),
    ("label drop nosuch", 111, None),
    ("recode name (1=2)", 108, None),
    ("recode female (1=2", 198, None),
    ("recode female (1=2), gen(female)", 110, "variable female already defined"),
    ("egen x = nosuch(ses)", 133, None),
    ("egen x = mean(name)", 109, "type mismatch"),
    ("egen x = pctile(ses), p(200)", 198, None),
    ("egen x = total(ses) [fw=female]", 101, "weights not allowed"),
    ("collapse (foo) ses", 198, None),
    ("collapse (mean) x=ses x=mathach", 198, None),
    ("import delimited using nosuch.csv, clear", 601, None),
    ("import delimited using hsb_s.csv, clear encoding(nosuch)", 198, "option encoding() invalid"),
    ("import delimited using hsb_s.csv, clear case(foo)", 198, "option case() invalid"),
    ("import delimited using hsb_s.csv, clear stringcols(abc)", 198, "option stringcols() invalid"),
    ("import delimited using hsb_s.csv, clear numericcols(0)", 198, "option numericcols() invalid"),
    ("import excel using x.xlsx", 601, None),
    ("correlate name ses", 109, None),
    ("pwcorr ses mathach, bonferroni sidak", 198, None),
]


@pytest.mark.parametrize("line,rc,message", MALFORMED, ids=[c[0][:40] for c in MALFORMED])
def test_malformed_lines(hsb, line, rc, message):
    got, out = hsb.run(line, {rc})
    if message is not None:
        assert out.endswith(f"{message}\nr({rc});\n"), out


# ---- no data, no estimates ---------------------------------------------------------------------------
EMPTY = [
    ("predict x", 301), ("test ses", 301), ("testparm ses", 301), ("lincom ses", 301),
    ("estat icc", 301), ("estat ic", 301), ("estimates store m", 301), ("estimates replay", 301),
    ("estimates table", 301), ("estimates stats", 301), ("estimates restore m1", 111),
    ("lrtest m1 .", 111), ("mixed", 301), ("regress", 301), ("matrix A = e(b)", 301),
    ("summarize ses", 111), ("tabulate female", 111), ("correlate", 111), ("pwcorr", 111),
    ("replace x = 1", 111), ("collapse (mean) x", 111), ("sort x", 111), ("drop x", 111),
    ("drop in 1", 198), ("list in 1", 198), ("count in 1/l", 198), ("rename x y", 111),
    ("recode x (1=2)", 111), ("levelsof x", 111), ("encode x, gen(y)", 111), ("save x", 111),
    ("merge 1:1 id using nosuch", 111), ("display ses[1]", 111), ("restore", 622),
    ("mixed mathach ses || id:", 111), ("by x: count", 111), ("gen x = _n in 1", 198),
    ("label values x yn", 111), ("local x : variable label ses", 111), ("tostring, replace", 100),
]


@pytest.mark.parametrize("line,rc", EMPTY)
def test_empty_session(empty, line, rc):
    empty.run(line, {rc})


# ---- prefixes ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("line,rc", [("generate ses = 1", 110), ("summarize nosuch", 111),
                                     ("mixed mathach ses || id:, foo", 198), ("test nosuch", 111),
                                     ("replace ses = . if ses > 0, foo", 198), ("drop if name", 109)])
def test_prefixes_keep_state_and_code(hsb, line, rc):
    got, out = hsb.run("capture " + line, {0})
    assert out == "" and hsb.s.rc == rc
    assert state(hsb.s) == _after_reset(hsb)
    got, out = hsb.run("quietly " + line, {rc})
    assert out.endswith(f"r({rc});\n")
    got, out = hsb.run("capture noisily " + line, {0})
    assert hsb.s.rc == rc and "r(" not in out and out.strip()
    hsb.run("noisily " + line, {rc})
    hsb.run("quietly capture noisily " + line, {0})


def _after_reset(world):
    """The state a case starts from (what a captured failure must leave)."""
    s = world.s
    keep = s.rc
    world.reset()
    st_ = state(s)
    s.rc = keep
    return st_


def test_failing_command_in_a_loop_keeps_earlier_passes(hsb):
    """Each command is its own transaction: the loop stops at the failure, earlier passes stay."""
    s = hsb.s
    hsb.reset()
    rc = s.interpreter.run_line("forvalues i = 1/3 {\n generate x`i' = `i'\n generate x`i' = 0\n}")
    assert rc == 110 and "x1" in s.data.vars and "x2" not in s.data.vars
    assert s.out.getvalue().endswith("variable x1 already defined\nr(110);\n")


# ---- hypothesis: random lines built from fragments ----------------------------------------------------------
FRAGMENTS = [
    "ses", "mathach", "female", "id", "name", "nosuch", "sector", "_all", "*", "s*", "ses-mathach",
    "i.female", "c.ses", "i.female#c.ses", "ib9.sector", "2.female", "1", "0", "-1", "1e400",
    "1e-320", "2147483648", ".", ".a", "3.5", '"a"', '"', '`"x"\'', "(", ")", "[", "]", "=", "==", "+",
    "*", "/", "||", "id:", ":", ",", ", foo", ", detail", ", gen(x)", ", gen(ses)", ", by(id)",
    ", level(500)", ", level(abc)", ", level(90)", ", replace", ", clear", ", nolog", ", reml",
    ", cov(un)", ", format(%zz)", ", sep(abc)", ", missing", ", sort", ", relevel(id)", ", reffects",
    ", xb", ", star(nan)", ", sig", ", label(yn)", ", force", ", noconstant", ", iterate(1e400)",
    "if", "if ses > 0", "if name", "if 0", "in", "in 1/5", "in 0", "in 5/1", "in -3/l",
    "[fw=female]", "[aw=ses]", "[pw=id]", "[iw=1]", "[fw=name]", "using", "using hsb_s",
    "using nosuch", "x", "y", "x = 1", "x = ses", "= 1", "(1=2)", "(min/0=9)", "(mean)", "(sd) x=ses",
    "mean(ses)", "rowmean(ses mathach)", "group(id)", "store", "restore", "replay", "table", "stats",
    "dir", "drop", "m1", "m2", "icc", "ic", "group", "recovariance", "define", "values", "variable",
    "list", "yn", "0 no 1 yes", "obs", "seed", "level", "1:1", "m:1", "delimited", "_n", "_N",
    "_b[ses]", "e(N)", "r(mean)", "M", "e(b)", r"(1,2\3,4)", "%9.2f", "%zz", "M[1,1]", "M[.,1]",
]
# commands that write files, open logs or run do-files stay out of the random walk
SKIP = {"do", "run", "include", "log", "save", "saveold", "export", "cd", "program", "sleep", "pause", "exit"}
PREFIXES = ["", "", "", "by female: ", "bysort id: ", "capture ", "quietly ", "noisily ",
            "capture noisily ", "by nosuch: ", "bysort female (ses): "]

random_line = st.builds(
    lambda pre, cmd, frags: pre + cmd + " " + " ".join(frags),
    st.sampled_from(PREFIXES),
    st.sampled_from(sorted((set(BASE) | RAW) - SKIP)),
    st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=6),
)


# derandomize: the same 250 lines on every run (a seed from the test's own source), so CI cannot
# fail on a line drawn for the first time; widen the walk by editing FRAGMENTS/PREFIXES here
@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(line=random_line)
def test_random_lines_fail_like_stata(hsb, line):
    hsb.run(line)


# ---- fixes whose right answer is a result, not an error -----------------------------------------------------
def test_lrtest_modelspecs_in_parentheses(hsb):
    """lrtest.ado reads a modelspec as a name, `.` or `(namelist)`: `(m1)` is m1."""
    rc, out = hsb.run("lrtest (m1) (m2)")
    assert rc == 0 and "m1 nested within m2" in out
    assert hsb.s.r.scalars["df"] == 1


def test_random_functions_take_variables(hsb):
    s = hsb.s
    hsb.run("set seed 7", {0})
    hsb.s.interpreter.run_line("generate double y = rnormal(ses, 0.5)")
    y, ses = s.data.vars["y"].values, s.data.vars["ses"].values
    assert np.isfinite(y).all() and abs(np.std(y - ses) - 0.5) < 0.03
    s.interpreter.run_line("generate double u = runiform(0, mathach)")
    u, m = s.data.vars["u"].values, s.data.vars["mathach"].values
    ok = m > 0
    assert np.all((u[ok] >= 0) & (u[ok] < m[ok])) and np.isnan(u[~ok]).all()
    rc, out = hsb.run("display rnormal(0, -1)", {0})
    assert out == ".\n"


def test_scalar_random_stream_unchanged(hsb):
    """Vectorising rnormal()/runiform() kept the stream a scalar call draws."""
    s = hsb.s
    hsb.run("set seed 12345", {0})
    s.interpreter.run_line("scalar z = rnormal(1, 2)")
    s.interpreter.run_line("scalar u = runiform(3, 5)")
    rng = np.random.default_rng(12345)
    n = s.data.n                    # with data in memory an expression draws one per observation
    assert s.scalars["z"] == pytest.approx(rng.normal(1, 2, n)[0], rel=1e-15)
    assert s.scalars["u"] == pytest.approx(3 + 2 * rng.random(n)[0], rel=1e-15)


def test_levelsof_matcell_matrow(hsb):
    hsb.run("levelsof sector, matcell(F) matrow(V) local(lv)", {0})
    s = hsb.s
    sector = s.data.vars["sector"].values
    assert np.asarray(s.matrices["V"]).ravel().tolist() == [0.0, 1.0]
    assert np.asarray(s.matrices["F"]).ravel().tolist() == [float((sector == 0).sum()),
                                                             float((sector == 1).sum())]
    assert s.local["lv"] == "0 1"


def test_quoted_file_names(hsb):
    s = hsb.s
    hsb.reset()
    assert s.interpreter.run_line('save "my data", replace') == 0
    assert s.interpreter.run_line('append using "my data" hsb_s') == 0, s.out.getvalue()
    assert s.data.n == 3 * 7185


def test_infinite_values_print_as_missing():
    from hlmshell.output.numfmt import FormatError, fmt, fmt_g

    assert fmt_g(float("inf")) == "." and fmt(float("-inf"), "%9.2f") == "        ."
    for bad in ("%zz", "%9.300f", "%3000.2f"):
        with pytest.raises(FormatError) as e:
            fmt(1.0, bad)
        assert (e.value.message, e.value.rc) == ("invalid %format", 120)
        assert isinstance(e.value, ValueError)


def test_import_stringcols_numericcols(hsb):
    """Accepted before but ignored: now they force a column's type."""
    s = hsb.s
    hsb.run("import delimited using hsb_s.csv, clear stringcols(1) numericcols(12) case(preserve)", {0})
    assert s.data.vars["id"].is_string and s.data.vars["id"].values[0] == "1224"
    assert not s.data.vars["name"].is_string and np.isnan(s.data.vars["name"].values).all()


def test_program_drop_checks_every_name_first(hsb):
    """Programs are outside the session snapshot: a failing drop must not drop the others."""
    s = hsb.s
    hsb.reset()
    s.interpreter.run_text("program define zzrob1\n display 1\nend", echo=False)
    try:
        assert s.interpreter.run_line("program drop zzrob1 nosuch") == 111
        assert "zzrob1" in s.interpreter.programs
        assert s.interpreter.run_line("program drop zzrob1") == 0
        assert "zzrob1" not in s.interpreter.programs
    finally:
        s.interpreter.programs.pop("zzrob1", None)
