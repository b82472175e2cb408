"""Grammar and command-line parsing: every construct the interpreter hands to handlers."""
import pytest

from hlmshell.errors import StataError
from hlmshell.registry import Registry
from hlmshell.syntax import parser
from hlmshell.syntax.ast import FVPart, FVTerm, InRange, MixedSpec, Option
from hlmshell.syntax.expr_ast import Binary, Call, Coef, Name, Num, Str, Subscript, Unary
from hlmshell.syntax.parser import parse_expr, parse_fvlist, parse_options
from hlmshell.syntax.lexer import logical_lines

# the test's own command table: the zz* stubs never enter the global registry
REGISTRY = Registry()
command = REGISTRY.command


def parse_command(text):
    return parser.parse_command(text, REGISTRY)


@command("zzgeneric", abbrev="zzg")
def _zz_generic(session, cmd):
    pass


@command("zzraw", raw=True)
def _zz_raw(session, cmd):
    pass


@command("zznoexp", exp=False)
def _zz_noexp(session, cmd):
    pass


@command("zzmixed", rule="mixed")
def _zz_mixed(session, cmd):
    pass


def P(*parts):
    return FVTerm(tuple(parts))


# ---- generic command line -----------------------------------------------------------------
def test_abbreviation_and_body():
    c = parse_command("zzg mathach ses")
    assert c.name == "zzgeneric" and c.typed == "zzg" and c.body == "mathach ses"
    with pytest.raises(StataError) as e:
        parse_command("zz x")
    assert e.value.rc == 199 and "command zz is unrecognized" in e.value.message


def test_qualifiers_and_options():
    c = parse_command('zzgeneric a b if x>1 & inlist(id, 1, 2) in 1/10 [fw=n], detail gen(a, "b)") level(90)')
    assert c.body == "a b"
    assert isinstance(c.if_, Binary) and c.if_.op == "&"
    assert c.in_ == InRange(1, 10)
    assert c.weight.kind == "fweight" and c.weight.exp == Name("n")
    assert c.options == [Option("detail"), Option("gen", 'a, "b)"'), Option("level", "90")]


@pytest.mark.parametrize("text,rng", [("in f/l", InRange("f", "l")), ("in -5/l", InRange(-5, "l")),
                                      ("in 5", InRange(5, 5)), ("in 2 / 7", InRange(2, 7))])
def test_in_ranges(text, rng):
    assert parse_command(f"zzgeneric x {text}").in_ == rng


@pytest.mark.parametrize("w,kind", [("fw", "fweight"), ("fweight", "fweight"), ("aw", "aweight"),
                                    ("pw", "pweight"), ("iw", "iweight"), ("pweight", "pweight")])
def test_weights(w, kind):
    c = parse_command(f"zzgeneric y x [{w} = wt*2]")
    assert c.weight.kind == kind and c.body == "y x"


def test_exp_and_if():
    c = parse_command("zzgeneric double y = x[_n-1] + 1 if _n > 1")
    assert c.body == "double y" and c.exp_text == "x[_n-1] + 1"
    assert isinstance(c.exp, Binary) and isinstance(c.exp.left, Subscript)
    assert c.if_ == Binary(">", Name("_n"), Num(1.0, "1"))


def test_comparison_equals_is_not_exp():
    c = parse_command("zzgeneric x if a == 1")
    assert c.exp is None and c.if_.op == "=="


def test_exp_false_keeps_equals_in_body():
    c = parse_command("zznoexp 2.sized=3.sized, acc")
    assert c.body == "2.sized=3.sized" and c.options == [Option("acc")] and c.exp is None


def test_raw_keeps_everything():
    c = parse_command('zzraw x = 1, y if z "a, b"')
    assert c.body == 'x = 1, y if z "a, b"' and c.options == [] and c.if_ is None


def test_quotes_and_parens_hide_separators():
    c = parse_command('zzgeneric x if s == "a, b if c" & inrange(y, 1, 2), opt')
    assert c.options == [Option("opt")]
    assert c.if_.op == "&"


def test_bad_expression_is_invalid_syntax():
    with pytest.raises(StataError) as e:
        parse_command("zzgeneric x if (a >")
    assert e.value.rc == 198


def test_options_parser():
    assert parse_options("a  b(1 (2) 3) c()") == [Option("a"), Option("b", "1 (2) 3"), Option("c", "")]
    # a stray comma between options is passed over, as Stata does (public do-files:
    # `xtlogit y x, i(school),  re`, `svyset v001, weight(w) strata(s) , singleunit(centered)`)
    assert parse_options("a, b") == parse_options("a , b,") == [Option("a"), Option("b")]
    for bad in (", b", "a,, b", "a ,,"):
        with pytest.raises(StataError):
            parse_options(bad)


# ---- prefixes -------------------------------------------------------------------------------
def test_prefixes():
    c = parse_command("qui cap noi zzg x")
    assert [p.kind for p in c.prefixes] == ["quietly", "capture", "noisily"]
    c = parse_command("n zzg x")
    assert [p.kind for p in c.prefixes] == ["noisily"]


def test_by_prefixes():
    c = parse_command("by id: zzg x")
    p = c.prefixes[0]
    assert p.kind == "by" and p.by_vars == ["id"] and not p.sort
    c = parse_command("bysort id female (ses): zzg x")
    p = c.prefixes[0]
    assert p.by_vars == ["id", "female"] and p.sort_vars == ["ses"] and p.sort
    c = parse_command("quietly by id, sort: zzg x")
    assert [q.kind for q in c.prefixes] == ["quietly", "by"] and c.prefixes[1].sort
    c = parse_command("bys id: zzg x")
    assert c.prefixes[0].sort


# ---- factor variables --------------------------------------------------------------------------
def test_fv_basic():
    assert parse_fvlist("ses i.sized c.x 2.sized ib3.sized ibn.g") == [
        P(FVPart("ses")), P(FVPart("sized", True)), P(FVPart("x")), P(FVPart("sized", True, (2,))),
        P(FVPart("sized", True, None, 3)), P(FVPart("g", True, None, "none"))]


def test_fv_bases_and_levels():
    assert parse_fvlist("ib(first).x ib(last).y ib(freq).z i(1 2).w") == [
        P(FVPart("x", True, None, "first")), P(FVPart("y", True, None, "last")),
        P(FVPart("z", True, None, "freq")), P(FVPart("w", True, (1, 2)))]


def test_fv_base_operator_implies_i():
    """b2.x is ib2.x, bn.x is ibn.x, b(last).x is ib(last).x (Stata: the base operator implies i.)."""
    assert parse_fvlist("b2.x bn.y b(last).z b1.w#c.v") == parse_fvlist("ib2.x ibn.y ib(last).z ib1.w#c.v")
    assert parse_fvlist("b3.x")[0] == P(FVPart("x", True, None, 3))


def test_fv_group_prefix():
    assert parse_fvlist("i.(a b)") == [P(FVPart("a", True)), P(FVPart("b", True))]


def test_fv_interactions():
    a, b = FVPart("a", True), FVPart("b", True)
    assert parse_fvlist("a#b") == [P(a, b)]
    assert parse_fvlist("a##b") == [P(a), P(b), P(a, b)]
    assert parse_fvlist("1.female#2.sized 2.sized#c.ses") == [
        P(FVPart("female", True, (1,)), FVPart("sized", True, (2,))),
        P(FVPart("sized", True, (2,)), FVPart("ses"))]
    cs, cx = FVPart("ses"), FVPart("sector")
    assert parse_fvlist("c.ses##c.sector") == [P(cs), P(cx), P(cs, cx)]


def test_fv_three_way_order():
    a, b, c = (FVPart(n, True) for n in "abc")
    assert parse_fvlist("a##b##c") == [P(a), P(b), P(a, b), P(c), P(a, c), P(b, c), P(a, b, c)]


def test_fv_wildcards_and_ranges_pass_through():
    assert [str(t) for t in parse_fvlist("x* a-b")] == ["c.x*", "c.a-b"]


def test_fv_str_roundtrip():
    text = "c.ses#i.sized 1.female#2.sized ib3.x i(1 2).z"
    assert " ".join(str(t) for t in parse_fvlist(text)) == "c.ses#i.sized 1.female#2.sized ib3.x i(1 2).z"


# ---- mixed --------------------------------------------------------------------------------------
def test_mixed_spec():
    c = parse_command("zzmixed mathach c.ses##c.sector i.female if x<3 || id: ses female, cov(un) || _all: R.sector, reml")
    spec = c.args
    assert isinstance(spec, MixedSpec)
    assert spec.depvar == "mathach"
    assert [str(t) for t in spec.fixed] == ["c.ses", "c.sector", "c.ses#c.sector", "i.female"]
    assert c.if_.op == "<"
    assert [lv.group for lv in spec.levels] == ["id", "_all"]
    assert [str(t) for t in spec.levels[0].terms] == ["c.ses", "c.female"]
    assert spec.levels[0].options == [Option("cov", "un")]
    assert spec.levels[1].raw_terms == ["R.sector"] and spec.levels[1].terms == []
    assert spec.levels[1].options == [Option("reml")]


def test_mixed_fixed_options_and_empty_level():
    spec = parse_command("zzmixed y x, noconstant || id:").args
    assert spec.fixed_options == [Option("noconstant")]
    assert spec.levels[0].group == "id" and spec.levels[0].terms == []


def test_mixed_errors():
    with pytest.raises(StataError):
        parse_command("zzmixed || id:")
    with pytest.raises(StataError):
        parse_command("zzmixed y x || id ses")


# ---- expressions ------------------------------------------------------------------------------------
def test_expr_precedence():
    assert parse_expr("-2^2") == Unary("-", Binary("^", Num(2.0, "2"), Num(2.0, "2")))
    e = parse_expr("1 + 2 * 3")
    assert e.op == "+" and e.right.op == "*"
    e = parse_expr("a | b & c")
    assert e.op == "|" and e.right.op == "&"
    e = parse_expr("a == 1 & b ~= 2")
    assert e.op == "&" and e.right.op == "!="
    e = parse_expr("2^3^2")
    assert e.right.op == "^"
    e = parse_expr("!a")
    assert e == Unary("!", Name("a"))


def test_expr_atoms():
    assert parse_expr("1e-3") == Num(0.001, "1e-3")
    assert parse_expr(".5").value == 0.5
    m = parse_expr(".")
    assert m.value != m.value
    assert parse_expr('"a b"') == Str("a b")
    assert parse_expr('`"say "hi""\'') == Str('say "hi"')
    assert parse_expr("_b[ses]") == Coef("b", None, "ses")
    assert parse_expr("_se[1.female#2.sized]") == Coef("se", None, "1.female#2.sized")
    assert parse_expr("[mathach]_b[ses]") == Coef("b", "mathach", "ses")
    assert parse_expr("_b[mathach:ses]") == Coef("b", "mathach", "ses")
    assert parse_expr("e(N)") == Call("e", (Name("N"),))
    assert parse_expr("cond(a, 1, 2, 3)") == Call("cond", (Name("a"), Num(1.0, "1"), Num(2.0, "2"), Num(3.0, "3")))
    assert parse_expr("runiform()") == Call("runiform", ())
    assert parse_expr("x[_n-1]") == Subscript("x", (Binary("-", Name("_n"), Num(1.0, "1")),))


@pytest.mark.parametrize("bad", ["1 +", "(a", "a b", "a = 1", "f(,)", "", "_b[x", "1..2"])
def test_expr_errors(bad):
    with pytest.raises(StataError) as e:
        parse_expr(bad)
    assert e.value.rc == 198


# ---- do-file text ----------------------------------------------------------------------------------------
def test_logical_lines_comments_and_continuation():
    text = ('* star comment\n'
            'display 1 // trailing\n'
            'display 2 ///\n'
            '   + 3 /// comment after\n'
            '   + 4\n'
            '/* multi\n'
            '   line */ display "http://x/*y*/"\n'
            '  * indented star\n')
    lines = logical_lines(text)
    cmds = [ln.text for ln in lines if not ln.is_comment]
    assert cmds[0] == "display 1" and cmds[2] == 'display "http://x/*y*/"' and len(cmds) == 3
    assert cmds[1].split() == ["display", "2", "+", "3", "+", "4"]
    assert lines[2].lineno == 3 and len(lines[2].echo) == 3
    assert sum(ln.is_comment for ln in lines) == 2


def test_logical_lines_delimit():
    text = "#delimit ;\ndisplay 1\n + 1;\ndisplay 2; display 3;\n#delimit cr\ndisplay 4\n"
    cmds = [ln.text for ln in logical_lines(text) if not ln.is_comment]
    assert cmds[0] == "#delimit ;"
    assert cmds[1].split() == ["display", "1", "+", "1"]
    assert cmds[2:4] == ["display 2", "display 3"]
    assert cmds[4] == "#delimit cr" and cmds[5] == "display 4"


def test_weight_without_space_and_subscripts_are_not_weights():
    c = parse_command("zzgeneric y x[aw=w]")
    assert c.body == "y x" and c.weight.kind == "aweight"
    c = parse_command("zzgeneric y if x[_n-1] == 1")
    assert c.weight is None and c.if_.op == "=="
    c = parse_command('zzgeneric y if(x > 1)')
    assert c.body == "y" and c.if_.op == ">"


def test_grammar_is_found_and_cached():
    from hlmshell.syntax.grammar_loader import get_parser, grammar_text

    assert "?expr" in grammar_text() and "fvlist" in grammar_text()
    assert get_parser() is get_parser()


def test_stata_operator_order():
    """Each comparison has its own level (!= > < <= >= ==, tightest first)."""
    e = parse_expr("a > b == c > d")
    assert e.op == "==" and e.left.op == ">" and e.right.op == ">"
    e = parse_expr("a != b > c")
    assert e.op == ">" and e.left.op == "!="
    e = parse_expr("a <= b == c")
    assert e.op == "==" and e.left.op == "<="
    e = parse_expr("a < b <= c")
    assert e.op == "<=" and e.left.op == "<"
    e = parse_expr("a - b - c")
    assert e.op == "-" and e.left.op == "-"
    e = parse_expr("a / b / c")
    assert e.op == "/" and e.left.op == "/"
    e = parse_expr("a + b - c")
    assert e.op == "+" and e.right.op == "-"
    e = parse_expr("a * b / c")
    assert e.op == "*" and e.right.op == "/"


def test_fv_repeats_are_kept():
    """As in the notes: `c.ses##c.sector c.ses##i.sized` has ses twice (Stata omits the second)."""
    terms = [str(t) for t in parse_fvlist("c.ses##c.sector c.ses##i.sized")]
    assert terms == ["c.ses", "c.sector", "c.ses#c.sector", "c.ses", "i.sized", "c.ses#i.sized"]
