"""Expression evaluation: Stata's missing rules, types, functions, subscripts, by-groups,
marksample; and a property test against a small reference evaluator on scalars."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hlmshell.data.dataset import Variable
from hlmshell.data.missing import ext_missing, missing_code
from hlmshell.errors import StataError
from hlmshell.results import EstimationResults
from hlmshell.session import Session
from hlmshell.syntax.ast import Command, InRange, Prefix
from hlmshell.syntax.evaluate import by_groups, evaluate, marksample
from hlmshell.syntax.parser import parse_expr
from hlmshell.syntax.varlist import expand_varlist

NAN = float("nan")


@pytest.fixture
def s():
    sess = Session()
    d = sess.data
    d.add(Variable("x", np.array([1.0, NAN, 3.0, 10.0, -2.0]), "double"))
    d.add(Variable("g", np.array([1.0, 1.0, 2.0, 2.0, 2.0]), "byte"))
    d.add(Variable("name", np.array(["a", "bb", "", "ccc", "a"], dtype=object), "str3"))
    d.add(Variable("mathach", np.array([5.0, 6.0, 7.0, 8.0, 9.0]), "float"))
    d.add(Variable("mathx", np.array([0.0, 0.0, 0.0, 0.0, 1.0]), "float"))
    return sess


def ev(s, text, **kw):
    return evaluate(parse_expr(text), s, **kw)


def same(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, equal_nan=True)


def test_arithmetic_scalars(s):
    assert ev(s, "1 + 2 * 3") == 7
    assert ev(s, "-2^2") == -4
    assert ev(s, "2^-1") == 0.5
    assert ev(s, "2^3^2") == 512
    assert ev(s, "7/2") == 3.5
    assert ev(s, "1e-3 * 1000") == 1
    assert math.isnan(ev(s, "1/0"))
    assert math.isnan(ev(s, ". + 1"))
    assert math.isnan(ev(s, "(-8)^(1/3)"))


def test_missing_ordering(s):
    assert same(ev(s, "x > 5"), [0, 1, 0, 1, 0])          # missing is larger than any number
    assert same(ev(s, "x == ."), [0, 1, 0, 0, 0])
    assert same(ev(s, "x < ."), [1, 0, 1, 1, 1])
    assert ev(s, ".a > .") == 1 and ev(s, ".z > .a") == 1 and ev(s, ".a == .a") == 1
    assert ev(s, ". > 1e300") == 1
    assert missing_code(np.array([ev(s, ".b")]))[0] == 2


def test_logic_treats_missing_as_true(s):
    assert ev(s, ". & 1") == 1 and ev(s, "!.") == 0 and ev(s, "0 | .") == 1
    assert ev(s, "!0") == 1 and ev(s, "~3") == 0
    assert same(ev(s, "x & 1"), [1, 1, 1, 1, 1])


def test_strings(s):
    assert ev(s, '"a" + "b"') == "ab"
    assert ev(s, '"ab" * 3') == "ababab"
    assert ev(s, '2 * "-"') == "--"
    assert list(ev(s, 'name + "!"')) == ["a!", "bb!", "!", "ccc!", "a!"]
    assert same(ev(s, 'name == "a"'), [1, 0, 0, 0, 1])
    assert ev(s, '"abc" < "abd"') == 1
    assert ev(s, '`"he said "hi""\'') == 'he said "hi"'
    for bad in ['"a" + 1', '"a" == 1', 'name * name', '-"a"', '!"a"', 'x + name', 'abs("a")']:
        with pytest.raises(StataError) as e:
            ev(s, bad)
        assert e.value.rc == 109, bad


def test_names_abbreviations_and_errors(s):
    assert same(ev(s, "mathx"), [0, 0, 0, 0, 1])
    assert same(ev(s, "na == \"a\""), [1, 0, 0, 0, 1])          # unique abbreviation of name
    with pytest.raises(StataError) as e:
        ev(s, "math")
    assert e.value.rc == 111 and "ambiguous" in e.value.message
    with pytest.raises(StataError) as e:
        ev(s, "nosuch + 1")
    assert e.value.rc == 111 and e.value.message == "variable nosuch not found"
    with pytest.raises(StataError) as e:
        ev(s, "nosuch(1)")
    assert e.value.rc == 133 and e.value.message == "unknown function nosuch()"
    s.scalars["k"] = 4.0
    assert ev(s, "k * 2") == 8
    assert ev(s, "scalar(k)") == 4


def test_system_values(s):
    assert same(ev(s, "_n"), [1, 2, 3, 4, 5])
    assert ev(s, "_N") == 5
    assert ev(s, "_pi") == pytest.approx(math.pi)
    assert ev(s, "c(pi)") == pytest.approx(math.pi)
    s.rc = 111
    assert ev(s, "_rc") == 111 and ev(s, "c(rc)") == 111


def test_subscripts_and_groups(s):
    assert same(ev(s, "x[_n-1]"), [NAN, 1, NAN, 3, 10])
    assert same(ev(s, "x[1]"), [1] * 5)
    assert same(ev(s, "x[_N]"), [-2] * 5)
    groups = np.array([0, 0, 1, 1, 1])
    assert same(ev(s, "_n", groups=groups), [1, 2, 1, 2, 3])
    assert same(ev(s, "_N", groups=groups), [2, 2, 3, 3, 3])
    assert same(ev(s, "x[_n-1]", groups=groups), [NAN, 1, NAN, 3, 10])
    assert same(ev(s, "x[_N]", groups=groups), [NAN, NAN, -2, -2, -2])
    assert same(ev(s, "sum(x)"), [1, 1, 4, 14, 12])
    assert same(ev(s, "sum(x)", groups=groups), [1, 1, 3, 13, 11])
    assert list(ev(s, "name[_n+1]")) == ["bb", "", "ccc", "a", ""]


@pytest.mark.parametrize("text,expected", [
    ("abs(-3)", 3), ("exp(0)", 1), ("ln(1)", 0), ("log(1)", 0), ("log10(1000)", 3), ("sqrt(16)", 4),
    ("round(2.5)", 3), ("round(-2.5)", -2), ("round(3.14159, .01)", 3.14), ("floor(-1.5)", -2),
    ("ceil(1.2)", 2), ("int(-1.7)", -1), ("mod(7, 3)", 1), ("mod(-1, 3)", 2), ("min(3, ., 1)", 1),
    ("max(3, ., 1)", 3), ("missing(1, .)", 1), ("missing(1, 2)", 0), ('missing("")', 1),
    ("inlist(2, 1, 2, 3)", 1), ("inlist(4, 1, 2)", 0), ('inlist("b", "a", "b")', 1),
    ("inrange(2, 1, 3)", 1), ("inrange(5, 1, .)", 1), ("inrange(., 1, 3)", 0),
    ("cond(1, 10, 20)", 10), ("cond(0, 10, 20)", 20), ("cond(., 10, 20)", 10), ("cond(., 10, 20, 30)", 30),
    ('real("3.5")', 3.5), ('strlen("abc")', 3), ('length("ab")', 2),
    ("normal(0)", 0.5), ("invnormal(0.975)", 1.959963984540054), ("chi2tail(1, 3.841458820694124)", 0.05),
    ("ttail(10, 0)", 0.5), ("sqrt(-1) == .", 1), ("ln(0) == .", 1),
    ("float(1.1) == 1.1", 0), ("float(16777217)", 16777216), ("float(.) == .", 1),
])
def test_functions(s, text, expected):
    assert ev(s, text) == pytest.approx(expected)


@pytest.mark.parametrize("text,expected", [
    ('substr("hello", 2, 3)', "ell"), ('substr("hello", -3, .)', "llo"), ('upper("ab")', "AB"),
    ('lower("AB")', "ab"), ('strtrim("  a b  ")', "a b"), ('trim(" a ")', "a"), ('ltrim(" a ")', "a "),
    ('rtrim(" a ")', " a"), ("string(1/4)", ".25"), ("string(7185)", "7185"), ('cond(0, "a", "b")', "b"),
    ('real("x") == .', 1.0),
])
def test_string_functions(s, text, expected):
    assert ev(s, text) == expected


def test_float_matches_float_storage(s):
    """float(x) is what a float variable holds: comparisons with a float variable then agree."""
    assert ev(s, "float(1.1)") == float(np.float32(1.1))
    assert ev(s, "float(1.1)") != 1.1


def test_random_functions_use_session_rng(s):
    a = ev(s, "runiform()")
    assert a.shape == (5,) and np.all((a >= 0) & (a < 1))
    s2 = Session()
    s2.data = s.data.copy()
    s.rng = np.random.default_rng(1)
    s2.rng = np.random.default_rng(1)
    assert same(ev(s, "rnormal()"), ev(s2, "rnormal()"))


def test_results_in_expressions(s):
    with pytest.raises(StataError) as e:
        ev(s, "_b[ses]")
    assert e.value.rc == 301
    res = EstimationResults("mixed", [("mathach", "ses"), ("mathach", "1.female#2.sized"), ("mathach", "_cons"),
                                      ("lns1_1_1", "_cons")],
                            np.array([2.0, -0.5, 12.0, 0.3]), np.diag([0.04, 0.25, 1.0, 0.01]),
                            np.zeros(4, bool), 3, scalars={"N": 7185.0}, macros={"cmd": "mixed"})
    s.post_estimation(res)
    assert ev(s, "_b[ses]") == 2.0
    assert ev(s, "_se[ses]") == pytest.approx(0.2)
    assert ev(s, "_b[1.female#2.sized]") == -0.5
    assert ev(s, "[lns1_1_1]_b[_cons]") == 0.3
    assert ev(s, "_b[lns1_1_1:_cons]") == 0.3
    assert ev(s, "e(N)") == 7185 and ev(s, "e(cmd)") == "mixed"
    assert math.isnan(ev(s, "e(nosuch)"))
    with pytest.raises(StataError) as e:
        ev(s, "_b[nosuch]")
    assert e.value.rc == 111
    s.r.scalars["mean"] = 12.5
    assert ev(s, "r(mean) * 2") == 25


# ---- marksample and varlists ---------------------------------------------------------------------
def test_marksample(s):
    cmd = Command("zz", if_=parse_expr("g == 2"))
    assert list(marksample(s, cmd)) == [False, False, True, True, True]
    assert list(marksample(s, cmd, ["x"])) == [False, False, True, True, True]
    assert list(marksample(s, Command("zz"), ["x"])) == [True, False, True, True, True]
    assert list(marksample(s, Command("zz", in_=InRange(-2, "l")))) == [False, False, False, True, True]
    assert list(marksample(s, Command("zz", in_=InRange("f", 2)))) == [True, True, False, False, False]
    assert list(marksample(s, Command("zz", if_=parse_expr("x")))) == [True, True, True, True, True]
    assert list(marksample(s, Command("zz"), ["name"], strok=True)) == [True, True, False, True, True]
    s.by_restrict = np.array([True, True, False, False, False])
    assert list(marksample(s, Command("zz"), ["x"])) == [True, False, False, False, False]
    s.by_restrict = None
    for bad in (InRange(0, 2), InRange(1, 6), InRange(4, 2), InRange(-6, "l")):
        with pytest.raises(StataError) as e:
            marksample(s, Command("zz", in_=bad))
        assert e.value.rc == 198 and e.value.message == "observation numbers out of range"
    with pytest.raises(StataError) as e:
        marksample(s, Command("zz", if_=parse_expr("name")))
    assert e.value.rc == 109


def test_expand_varlist(s):
    d = s.data
    assert expand_varlist(d, "x g") == ["x", "g"]
    assert expand_varlist(d, "math*") == ["mathach", "mathx"]
    assert expand_varlist(d, "x-name") == ["x", "g", "name"]
    assert expand_varlist(d, "x - name") == ["x", "g", "name"]
    assert expand_varlist(d, "matha n") == ["mathach", "name"]
    assert expand_varlist(d, "_all") == ["x", "g", "name", "mathach", "mathx"]
    assert expand_varlist(d, "?") == ["x", "g"]
    assert expand_varlist(d, "x x g") == ["x", "g"]
    for bad, msg in [("math", "math ambiguous abbreviation"), ("zz", "variable zz not found"),
                     ("q*", "variable q* not found")]:
        with pytest.raises(StataError) as e:
            expand_varlist(d, bad)
        assert e.value.rc == 111 and e.value.message == msg
    assert expand_varlist(d, "new1 new2", new=True) == ["new1", "new2"]
    with pytest.raises(StataError):
        expand_varlist(d, "1bad", new=True)
    terms = expand_varlist(d, "c.mathach##i.g mathx", fv=True)
    assert [str(t) for t in terms] == ["c.mathach", "i.g", "c.mathach#i.g", "c.mathx"]
    assert [str(t) for t in expand_varlist(d, "i.math*", fv=True)] == ["i.mathach", "i.mathx"]
    with pytest.raises(StataError):
        expand_varlist(d, "i.g")


def test_by_groups(s):
    codes = by_groups(s, Prefix("by", by_vars=["g"]))
    assert list(codes) == [0, 0, 1, 1, 1]
    s.data.vars["g"].values = np.array([2.0, 1.0, 2.0, 1.0, 1.0])
    s.data.sortedby = []
    with pytest.raises(StataError) as e:
        by_groups(s, Prefix("by", by_vars=["g"]))
    assert e.value.rc == 5 and e.value.message == "not sorted"
    codes = by_groups(s, Prefix("by", by_vars=["g"], sort=True))
    assert list(codes) == [0, 0, 0, 1, 1]
    # stable: within g, the original order is kept
    assert same(s.data.values("x"), [NAN, 10, -2, 1, 3])
    assert s.data.sortedby == ["g"]


# ---- property test: a reference evaluator on scalars ---------------------------------------------------
MISS = {".": ext_missing(0), ".a": ext_missing(1), ".b": ext_missing(2)}


def _key(v):
    """Reference order: numbers < . < .a < .b"""
    if isinstance(v, tuple):
        return (1, v[1])
    return (0, v)


def ref_eval(node):
    """Values: float, or ('m', code) for a missing value."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "miss":
        return ("m", node[1])
    if kind == "neg":
        v = ref_eval(node[1])
        return ("m", 0) if isinstance(v, tuple) else -v
    if kind == "not":
        v = ref_eval(node[1])
        return 0.0 if (isinstance(v, tuple) or v != 0) else 1.0
    op, a, b = node[1], ref_eval(node[2]), ref_eval(node[3])
    if op in ("&", "|"):
        ta = isinstance(a, tuple) or a != 0
        tb = isinstance(b, tuple) or b != 0
        return float(ta and tb) if op == "&" else float(ta or tb)
    if op in ("==", "!=", "<", "<=", ">", ">="):
        ka, kb = _key(a), _key(b)
        return float({"==": ka == kb, "!=": ka != kb, "<": ka < kb, "<=": ka <= kb, ">": ka > kb,
                      ">=": ka >= kb}[op])
    if isinstance(a, tuple) or isinstance(b, tuple):
        return ("m", 0)
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op == "/":
        if b == 0:
            return ("m", 0)
        r = a / b
    else:  # ^
        try:
            r = a ** b
        except (OverflowError, ZeroDivisionError):
            return ("m", 0)
        if isinstance(r, complex):
            return ("m", 0)
    if math.isinf(r) or math.isnan(r):
        return ("m", 0)
    return r


def to_text(node):
    kind = node[0]
    if kind == "num":
        return repr(node[1]) if node[1] >= 0 else f"({node[1]!r})"
    if kind == "miss":
        return [".", ".a", ".b"][node[1]]
    if kind == "neg":
        return f"(-({to_text(node[1])}))"
    if kind == "not":
        return f"(!({to_text(node[1])}))"
    return f"({to_text(node[2])} {node[1]} {to_text(node[3])})"


leaves = st.one_of(
    st.integers(-5, 5).map(lambda i: ("num", float(i))),
    st.sampled_from([0.5, 1.5, 2.25, 100.0]).map(lambda f: ("num", f)),
    st.integers(0, 2).map(lambda c: ("miss", c)),
)
exprs = st.recursive(
    leaves,
    lambda ch: st.one_of(
        st.tuples(st.just("bin"), st.sampled_from(["+", "-", "*", "/", "^", "==", "!=", "<", "<=", ">", ">=",
                                                    "&", "|"]), ch, ch),
        st.tuples(st.just("neg"), ch),
        st.tuples(st.just("not"), ch),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(exprs)
def test_property_matches_reference(node):
    s = Session()
    got = evaluate(parse_expr(to_text(node)), s)
    want = ref_eval(node)
    if isinstance(want, tuple):
        assert math.isnan(got)
        assert missing_code(np.array([got]))[0] == want[1]
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(exprs)
def test_property_vectorised_equals_scalar(node):
    """The same expression over a variable gives, per observation, the scalar result."""
    s = Session()
    s.data.add(Variable("v", np.array([1.0, -2.0, NAN, 0.0]), "double"))
    text = to_text(node)
    full = f"({text}) + v * 0"
    got = evaluate(parse_expr(full), s)
    want = evaluate(parse_expr(text), s)
    for i, vi in enumerate([1.0, -2.0, NAN, 0.0]):
        if math.isnan(vi):
            assert math.isnan(got[i])
        elif isinstance(want, float) and math.isnan(want):
            assert math.isnan(got[i])
        else:
            assert got[i] == pytest.approx(want)
