"""The one Stata lexer (hlmshell/syntax/lexer.py) and the functions derived from it.

Checks:
* pinned results: tricky lines (TRICKY), and the inputs where the lexer deliberately differs from
  the scanners it replaced (DIFFERENT_ON_PURPOSE, DIFFERENT_REPL: compound quotes hide comment
  markers, * comments after continued lines, ; in parentheses under #delimit), each with the
  reason; the differential comparisons with the old scanners were retired with those scanners;
* consistency: the REPL's completeness and logical_lines come from one token stream and agree;
* the lexer itself: tokens cover the text, lexing line by line equals lexing the whole text,
  macro references are found exactly as the macro expander expands them, speed.
"""
from __future__ import annotations

import ast
import bisect
import re
import time
from dataclasses import astuple
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hlmshell.errors import StataError
from hlmshell.syntax import lexer as L
from hlmshell.syntax import macros


ROOT = Path(__file__).resolve().parent.parent
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lines(text):
    return [astuple(x) for x in L.logical_lines(text)]


# ---- corpus -------------------------------------------------------------------------------------
def _dofiles():
    return {p.name: p.read_text() for p in sorted((ROOT / "sample_dofiles").glob("*.do"))}


def _test_strings():
    """Every string constant in the test suite (do-file texts embedded in tests among them)."""
    out = {}
    for p in sorted((ROOT / "tests").glob("test_*.py")):
        if p.name == Path(__file__).name:
            continue
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.setdefault(node.value, f"{p.name}:{node.lineno}")
    return out


DOFILES = _dofiles()
TEST_STRINGS = _test_strings()
DOFILE_TEXTS = {**DOFILES, **{v: k for k, v in TEST_STRINGS.items() if "\n" in k}}

# Tricky inputs and what the lexer makes of them: (text, [(text, lineno, echo, is_comment)]).
# The old reader agrees on all of these.
TRICKY = [
    ('display "a /// b"\ndisplay 2',
     [('display "a /// b"', 1, ['display "a /// b"'], False), ("display 2", 2, ["display 2"], False)]),
    ("use http://x.org/a.dta, clear // fetch",
     [("use http://x.org/a.dta, clear", 1, ["use http://x.org/a.dta, clear // fetch"], False)]),
    ("display 1//2", [("display 1//2", 1, ["display 1//2"], False)]),
    ("* comment ///\n   continued\ndisplay 3",
     [("", 1, ["* comment ///", "   continued"], True), ("display 3", 3, ["display 3"], False)]),
    ("/* outer /* inner */ still outer */ display 4",
     [("display 4", 1, ["/* outer /* inner */ still outer */ display 4"], False)]),
    ("/* a\n /* b */\n c */ display 5",
     [("display 5", 1, ["/* a", " /* b */", " c */ display 5"], False)]),
    ('#delimit ;\ndisplay "a;b" ; // c ; d\ndisplay /* ; */ 2;\n* star ; display 3;\n#delimit cr\n'
     "display 4",
     [("#delimit ;", 1, ["#delimit ;"], False),
      ('display "a;b"', 2, ['display "a;b" ; // c ; d'], False),
      ("display  2", 3, ["display /* ; */ 2;"], False),
      ("", 4, ["* star ; display 3;"], True), ("display 3", 4, ["display 3"], False),
      ("#delimit cr", 5, ["#delimit cr"], False), ("display 4", 6, ["display 4"], False)]),
    ('#delimit ;\ndisplay "a\nb";',
     [("#delimit ;", 1, ["#delimit ;"], False), ('display "a b"', 2, ['display "a', 'b";'], False)]),
    ('display "abc', [('display "abc', 1, ['display "abc'], False)]),
    ("display (1 + 2", [("display (1 + 2", 1, ["display (1 + 2"], False)]),
    ("display 1 /* never closed\ndisplay 2",
     [("display 1", 1, ["display 1 /* never closed", "display 2"], False)]),
    ("regress y x ///\n", [("regress y x", 1, ["regress y x ///"], False)]),
    ("", []),
    ("\n", [("", 1, [""], True)]),
    ("\n\n  \n", [("", 1, [""], True), ("", 2, [""], True), ("", 3, ["  "], True)]),
    ("a\r\nb\rc", [("a", 1, ["a"], False), ("b", 2, ["b"], False), ("c", 3, ["c"], False)]),
    ("display `\"a `\"b\"' c\"'", [("display `\"a `\"b\"' c\"'", 1, ["display `\"a `\"b\"' c\"'"], False)]),
    ("di `x`i'' // c", [("di `x`i''", 1, ["di `x`i'' // c"], False)]),
    # the reader strips comments before macros are expanded
    ("di `= 4 /* c */ + 1'", [("di `= 4  + 1'", 1, ["di `= 4 /* c */ + 1'"], False)]),
    ("#d ;\ndi 1; di 2\n;", [("#d ;", 1, ["#d ;"], False), ("di 1", 2, ["di 1; di 2"], False),
                            ("di 2", 2, [";"], False)]),
]

# Inputs where the lexer and the old reader differ on purpose: (text, old, new, why).
DIFFERENT_ON_PURPOSE = [
    ("display `\"a \" // \" b\"'",
     [('display `"a "', 1, ["display `\"a \" // \" b\"'"], False)],
     [("display `\"a \" // \" b\"'", 1, ["display `\"a \" // \" b\"'"], False)],
     "a // inside a compound quote is text (the old reader did not know compound quotes)"),
    ("local x `\"a \"//\" b\"' // real comment",
     [('local x `"a "//" b"\'', 1, ["local x `\"a \"//\" b\"' // real comment"], False)],
     [('local x `"a "//" b"\'', 1, ["local x `\"a \"//\" b\"' // real comment"], False)],
     "same result, by luck before: the inner quotes happened to pair up"),
    ('display `"a"/* x',
     [('display `"a"', 1, ['display `"a"/* x'], False)],
     [('display `"a"/* x', 1, ['display `"a"/* x'], False)],
     'an unclosed compound quote runs to the end of the line, as an unclosed "..." does'),
    ("* note /* block\nstill comment */ display 9\ndisplay 10",
     [("", 1, ["* note /* block"], True), ("display 9", 2, ["still comment */ display 9"], False),
      ("display 10", 3, ["display 10"], False)],
     [("", 1, ["* note /* block", "still comment */ display 9"], True),
      ("display 10", 3, ["display 10"], False)],
     "a /* in a * comment opens a block comment (both agree); a /* */ over lines joins them, "
     "so the * comment goes on to the end of the line where it closes (as stata_kernel)"),
    ("///\n* not a command",
     [("* not a command", 1, ["///", "* not a command"], False)],
     [("", 1, ["///", "* not a command"], True)],
     "a command whose first character is * is a comment, also after /// or a /* */ line"),
    ("/* a\n*/ * b", [("* b", 1, ["/* a", "*/ * b"], False)], [("", 1, ["/* a", "*/ * b"], True)],
     "the same, after a /* */ over lines"),
    ("#delimit ;\n(x;y);",
     [("#delimit ;", 1, ["#delimit ;"], False), ("(x;y)", 2, ["(x;y);"], False)],
     [("#delimit ;", 1, ["#delimit ;"], False), ("(x", 2, ["(x;y);"], False), ("y)", 2, ["y)"], False)],
     "under #delimit ; a ; ends the command even inside parentheses (only quotes protect it; "
     "Stata's reader does not parse parentheses, cf. Mata's for(;;) and [M-2] semicolons)"),
    ("#delimit ;\ndisplay 1;\n* unterminated",
     [("#delimit ;", 1, ["#delimit ;"], False), ("display 1", 2, ["display 1;"], False),
      ("* unterminated", 3, ["* unterminated"], False)],
     [("#delimit ;", 1, ["#delimit ;"], False), ("display 1", 2, ["display 1;"], False),
      ("", 3, ["* unterminated"], True)],
     "a * comment left without its ; at the end of the file is still a comment"),
    ("#delimit ;\n#delimit ;\ndisplay 1;",
     [("#delimit ;", 1, ["#delimit ;"], False), ("#delimit", 2, ["#delimit ;"], False),
      ("display 1", 3, ["display 1;"], False)],
     [("#delimit ;", 1, ["#delimit ;"], False), ("#delimit ;", 2, ["#delimit ;"], False),
      ("display 1", 3, ["display 1;"], False)],
     "#delimit ; repeated keeps its ; (the old text '#delimit' printed 'delimiter now cr')"),
    ('#delimit ;\ndisplay "a\n// b";',
     [("#delimit ;", 1, ["#delimit ;"], False), ('display "a', 2, ['display "a', '// b";'], False)],
     [("#delimit ;", 1, ["#delimit ;"], False), ('display "a // b"', 2, ['display "a', '// b";'], False)],
     "under #delimit ; a string runs over line breaks for comments too, as it already did "
     "for finding the ;"),
]


# ---- (a) logical lines ----------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", TRICKY)
def test_tricky_lines(text, expected):
    assert lines(text) == [tuple(x) for x in expected]


@pytest.mark.parametrize("text,old,new,why", DIFFERENT_ON_PURPOSE)
def test_differences_on_purpose(text, old, new, why):
    assert lines(text) == [tuple(x) for x in new], why


def test_compound_quote_comment_bug_is_fixed():
    """Issue 10: in a do-file `display `"a " // " b"'` stopped with r(198)."""
    (ln,) = L.logical_lines("display `\"a \" // \" b\"'\n")
    assert ln.text == "display `\"a \" // \" b\"'" and not ln.is_comment


CR_FRAGMENTS = ["x", "a b", " ", "\t", "\n", '"', "//", "///", "/*", "/* c */", "/* c\nd */", "{", "}",
                "(", ")", "`", "'", "$g", "http://x", ";", "`x'", "#delimit", "display"]
DELIMIT_FRAGMENTS = ["x", "a b", " ", "\n", '"s;t"', " //", " ///", " /* c */", " /* ;\n c */", ";",
                     "\n#delimit cr\n", "`x'", "$g", "\t"]


# ---- (b) REPL completeness agrees with the statements ------------------------------------------------
ALL_FRAGMENTS = CR_FRAGMENTS + ["*", "*/", '`"', "\"'", "#delimit ;\n", "#delimit cr\n", "\n*", "{\n", "}\n"]


def _statement_complete(text: str) -> bool:
    """Complete iff logical_lines leaves no statement unfinished and no { open (the REPL's
    input ends at the end of its last line: as a file with one more line break)."""
    depth = sum((t.text == "{") - (t.text == "}") for t in L.tokenize(text) if t.kind == L.BRACKET)
    one_more_break = "\r" if text.endswith("\r") else "\n"     # not "\r" + "\n": one break
    return all(s.finished for s in L.statements(text + one_more_break)) and depth <= 0


@FAST
@given(st.lists(st.sampled_from(ALL_FRAGMENTS), max_size=14).map("".join))
def test_input_state_agrees_with_statements(text):
    assert L.is_complete(text) == _statement_complete(text)


def test_input_state_agrees_with_statements_on_test_strings():
    texts = [s for s in TEST_STRINGS if L.split_program(s) is None]
    assert [s for s in texts if L.is_complete(s) != _statement_complete(s)] == []


@pytest.mark.parametrize("text,complete", [
    ("display 1", True), ("", True), ('display "{"', True), ("display `\"say \"{\" now\"'", True),
    ("di 1 // open { in a comment", True), ("* a { comment line", True),
    ("regress y x ///", False), ("regress y x ///\n", True), ("///", False),
    ("foreach v in a b {", False), ("foreach v in a b {\n  di 1\n}", True),
    ("di 1 /* open", False), ("di 1 /* open\n closed */", True), ("/* a /* b */ c", False),
    ('display "a ///"', True), ("display 1///", True),
    ("#delimit ;\ndisplay 1", False), ("#delimit ;\ndisplay 1;", True), ("#delimit ;", True),
    ("program p\ndi 1", False), ("program p\ndi 1\nend", True), ("program p\nend ///", False),
])
def test_is_complete(text, complete):
    assert L.is_complete(text) is complete


def test_input_state_fields():
    st_ = L.input_state("forvalues i = 1/3 {\nquietly {")
    assert (st_.depth, st_.complete) == (2, False)
    assert L.input_state("reg y ///").continued and L.input_state("di /* x").in_comment
    assert L.input_state("program p\ndi 1").in_program


# REPL inputs where the lexer and the old REPL scanner differ on purpose: (function, text, old,
# new, why). The lexer follows the do-file reader, so the REPL and `do` read text alike.
DIFFERENT_REPL = [
    ("is_complete", "* note /* open", True, False, "a /* in a * comment opens a block comment"),
    ("is_complete", "* comment ///\n{", False, True, "the continued * comment swallows the {"),
    ("is_complete", '* a "b ///" c', False, True, "a string in a * comment hides ///"),
    ("is_complete", "* a // b ///", False, True, "after // the rest of the line is a comment"),
    ("is_complete", "/* a /* b */ c", True, False, "/* */ nests, as in the do-file reader"),
    ("is_complete", "#delimit ;\ndisplay 1", True, False,
     "#delimit ; in one multi-line input: the command needs its ;"),
    ("continuation_prompt", ("#delimit ;\ndisplay 1\n+ 1;", 2), "  3. ", "> ",
     "the same: a line without ; continues"),
    ("join_continuations", "* a // b ///\nc", "* a // b c", "* a // b ///\nc",
     "/// after // is part of the comment"),
]


@pytest.mark.parametrize("fn,arg,old,new,why", DIFFERENT_REPL)
def test_repl_differences_on_purpose(fn, arg, old, new, why):
    args = arg if isinstance(arg, tuple) else (arg,)
    assert getattr(L, fn)(*args) == new, why


REPL_FRAGMENTS = ["x", "a b", " ", "\t", "\n", '"', "//", "///", "/* c */", "/* c\nd */", "{", "}", "(",
                  ")", "`", "'", "$g", "http://x", ";", "`x'", '`"', "\"'"]


def test_join_continuations_and_prompts():
    assert L.join_continuations("regress y x ///\n  z, vce(robust)") == "regress y x z, vce(robust)"
    assert L.join_continuations("a /// one\nb ///\nc") == "a b c"
    assert L.join_continuations("foreach v in a b {\n  di ///\n   1\n}") == "foreach v in a b {\n  di 1\n}"
    text = "foreach v in a b {\ndi ///\n1\n}"
    assert [L.continuation_prompt(text, i) for i in (1, 2, 3)] == ["  2. ", "> ", "  3. "]
    text = "program define p\nargs a ///\n b\nforeach v in a {\ndi 1\n}\nend"
    assert [L.continuation_prompt(text, i) for i in range(1, 7)] == \
        ["  1. ", "> ", "  2. ", "  3. ", "  4. ", "  5. "]


# ---- (c) top-level structure --------------------------------------------------------------------------
TEXT_FRAGMENTS = ["x", " ", "\n", '"', '`"', "\"'", "`", "'", "(", ")", "[", "]", "{", "}", ",", "||",
                  ":", "a b", "\t", "//", "/*", ";", "=", "1"]


def test_matching_paren_knows_compound_quotes():
    text = 'f(`"a "x ) "y" b"\', 2) + 1'
    assert L.matching_paren(text, 1) == text.index(") +")


def test_top_level_examples():
    assert L.split_top('inlist(x, 1, 2), "a, b" `"c, "d""\', opt', ",") == \
        ['inlist(x, 1, 2)', ' "a, b" `"c, "d""\'', " opt"]
    assert L.tokens('a "b c" `"d "e" f"\' (g h)') == ["a", "b c", 'd "e" f', "(g h)"]
    assert L.find_top("f(a:b) : c", ":") == 7
    assert L.paren_groups("(a=0) (b=0)") == ["a=0", "b=0"] and L.paren_groups("a=0") is None
    with pytest.raises(StataError) as e:
        L.paren_groups("(a=0")
    assert e.value.rc == 198
    assert L.string_spans('a "b" `"c"\' d') == [(2, 5), (6, 11)]


# ---- the token stream ---------------------------------------------------------------------------------
@FAST
@given(st.lists(st.sampled_from(ALL_FRAGMENTS + ["\r\n", "\r", "$", "${g}"]), max_size=20).map("".join))
def test_tokens_cover_the_text_and_resume_line_by_line(text):
    toks = L.tokenize(text)
    assert "".join(t.text for t in toks) == text
    assert all(a.end == b.start for a, b in zip(toks, toks[1:]))
    assert all(t.text == text[t.start:t.end] for t in toks)
    lx = L.Lexer()
    fed = [t for line in text.splitlines(keepends=True) for t in lx.feed(line)]
    assert fed == toks
    breaks = [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    assert all(t.line == 1 + bisect.bisect_right(breaks, t.start) for t in toks)


def test_token_kinds():
    text = ("di `x`i'' \"a\" $g ${h} /* c */ 1.5 // x\n* star ///\n cont\n"
            "#delimit ;\nx `\"q\"' ; y\n;\n#delimit cr\n")
    kinds = [(t.kind, t.text) for t in L.tokenize(text) if t.kind != L.WS]
    assert kinds == [
        ("word", "di"), ("local", "`x`i''"), ("string", '"a"'), ("global", "$g"), ("global", "${h}"),
        ("block_comment", "/* c */"), ("number", "1.5"), ("comment", "// x"), ("newline", "\n"),
        ("star_comment", "* star "), ("continuation", "///"), ("linebreak", "\n"),
        ("star_comment", " cont"), ("newline", "\n"),
        ("delimit", "#delimit"), ("op", ";"), ("newline", "\n"),
        ("word", "x"), ("cstring", '`"q"\''), ("semicolon", ";"), ("word", "y"), ("linebreak", "\n"),
        ("semicolon", ";"), ("linebreak", "\n"), ("delimit", "#delimit"), ("word", "cr"),
        ("newline", "\n")]


def test_state_carries_across_lines():
    st_ = L.LexState()
    L.tokenize("di 1 /* a /* b */", st_)
    assert st_.block == 1
    toks = L.tokenize("\nstill */ di 2", st_)
    assert [t.kind for t in toks if t.kind != L.WS][-2:] == ["word", "number"] and st_.block == 0
    st_ = L.LexState(delimit=True)
    toks = L.tokenize('di "a;\nb";', st_)
    assert [t.kind for t in toks][-1] == L.SEMICOLON and not st_.string
    st_ = L.LexState()
    L.tokenize("reg y ///", st_)
    assert st_.continued and not st_.at_start


def test_lone_and_comment_holding_macro_quotes_are_punctuation():
    assert [t.kind for t in L.tokenize("`x")] == ["op", "word"]
    assert [t.kind for t in L.tokenize("`= 4 /* c */'")][:2] == ["op", "op"]
    assert L.tokenize("`x'")[0].kind == L.LOCAL


# ---- (4) macro references -------------------------------------------------------------------------------
class _Lookup(macros._Expander):
    """The real expander with a recording lookup (so the order of `++i'-like side effects
    is compared too)."""

    def __init__(self, calls):
        super().__init__(SimpleNamespace(globals=_GLOBALS))
        self.calls = calls

    def lookup(self, name):
        self.calls.append(name)
        return f"<{name}>"


_GLOBALS = {"g": "GV", "ab": "AB", "x": "X"}
MACRO_FRAGMENTS = ["x", " ", '"', '`"', "\"'", "`", "'", "$g", "${", "}", "$", "ab", "`x", "{", "=", ":",
                   "\n", "$1", "++", "//"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(MACRO_FRAGMENTS), max_size=14).map("".join))
def test_macro_refs_expand_as_the_expander(text):
    old_calls, new_calls = [], []
    expected = _Lookup(old_calls).run(text)

    def local(name):
        new_calls.append(name)
        return f"<{name}>"

    assert L.expand_refs(text, local, lambda n: _GLOBALS.get(n, "")) == expected
    assert new_calls == old_calls


def test_macro_refs_structure():
    text = "a `x`i'' $g ${h`j'} `\"q\"' \"`s'\" `unclosed $z"
    refs = L.macro_refs(text)
    assert [(r.kind, r.start, r.end, r.closed) for r in refs] == [
        ("local", 2, 8, True), ("global", 9, 11, True), ("global", 12, 19, True),
        ("local", 27, 30, True), ("local", 32, len(text), False)]
    assert [(c.start, c.end) for c in refs[0].children] == [(4, 7)]
    assert [(c.kind, c.start) for c in refs[2].children] == [("local", 15)]
    assert L.expand_refs("`\"`x'\"'", lambda n: n.upper(), str) == "`\"X\"'"


# ---- (5) highlighting -------------------------------------------------------------------------------------
def test_highlight_classes():
    from pygments.token import Comment, Keyword, Name, String

    text = "quietly regress y x // c\ndisplay `\"a // b\"' `x' abs(1)"
    toks = list(L.pygments_tokens(text, is_command=lambda w: w in ("regress", "display")))
    assert "".join(v for _, _, v in toks) == text
    got = {v: t for _, t, v in toks}
    assert got["regress"] is Keyword and got["display"] is Keyword and got["// c"] is Comment.Single
    assert got["`\"a // b\"'"] is String and got["`x'"] is Name.Variable
    assert got["abs"] is Name.Function
    assert [L.highlight_kind(t) for t in L.tokenize("/* a */ $g")] == ["comment", "text", "global"]


def test_command_positions():
    toks = L.tokenize("cap noi: bysort id (x): regress y x\n{ di 1")
    words = [toks[k].text for k in sorted(L.command_positions(toks))]
    assert words == ["cap", "noi", "bysort", "regress", "di"]
    kinds = {v: t for _, t, v in L.pygments_tokens("quietly by g: summarize x", lambda w: False)}
    assert str(kinds["quietly"]) == str(kinds["by"]) == "Token.Keyword"
    assert str(kinds["summarize"]) == "Token.Text"


# ---- speed ------------------------------------------------------------------------------------------------
def test_ten_thousand_lines_well_under_a_second():
    body = "".join(DOFILES.values()).splitlines() + [
        "regress y x1 x2 x3 if a == 1 & b < 2, vce(robust) // c", "local z = `x' + ${g} * 2",
        'display "a b" `"c "d" e"\'', "mixed y x ///", "   || id:, reml /* note */"]
    text = "\n".join((body * (10000 // len(body) + 1))[:10000]) + "\n"
    t0 = time.process_time()
    L.tokenize(text)
    assert time.process_time() - t0 < 1.0
