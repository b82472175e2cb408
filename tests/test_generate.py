"""generate / replace / clonevar / assert: values, storage types and Stata's messages.

The handler tests feed evaluated arrays straight in (evaluate is patched to pass the
Command's `exp` through), so they test this module's rules independently of the parser;
the tests at the end run real command lines through the interpreter when it is present.
"""
import importlib.util

import numpy as np
import pytest

from hlmshell.commands import generate as g
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.ast import Command, InRange, Prefix


def make_session(**cols):
    s = Session(out=Capture())
    for name, (vtype, vals) in cols.items():
        arr = np.array(vals, dtype=object) if vtype.startswith("str") else np.array(vals, dtype=float)
        s.data.add(Variable(name, arr, vtype))
    s.data.changed = False
    return s


@pytest.fixture(autouse=True)
def passthrough(monkeypatch):
    """Expressions in these tests are already-evaluated arrays (or scalars)."""
    monkeypatch.setattr(g, "evaluate", lambda expr, session, groups=None: expr)
    monkeypatch.setattr(g, "parse_expr", lambda text: PARSED[text])


PARSED = {}


def out(s):
    return s.out.getvalue()


def run(fn, s, **kw):
    cmd = Command(kw.pop("name", fn.__name__.rstrip("_")), **kw)
    fn(s, cmd)
    return cmd


# --- generate ----------------------------------------------------------------------------
def test_generate_default_float_rounds_like_stata():
    s = make_session(a=("byte", [1, 2, 3]))
    run(g.generate, s, body="x", exp=0.1)
    v = s.data.var("x")
    assert v.vtype == "float"
    assert np.all(v.values == float(np.float32(0.1)))
    assert not np.any(v.values == 0.1)          # `count if x == 0.1` is 0 in Stata
    assert s.data.changed
    assert out(s) == ""


def test_generate_double_keeps_precision():
    s = make_session(a=("byte", [1, 2, 3]))
    run(g.generate, s, body="double x", exp=np.array([0.1, 0.2, 0.3]))
    v = s.data.var("x")
    assert v.vtype == "double" and v.format == "%10.0g"
    assert list(v.values) == [0.1, 0.2, 0.3]


def test_generate_missing_message_and_in_range():
    s = make_session(a=("byte", list(range(10))))
    run(g.generate, s, body="y", exp=np.arange(10.0), in_=InRange(3, 4))
    vals = s.data.var("y").values
    assert list(vals[2:4]) == [2.0, 3.0] and np.isnan(vals[[0, 1, 4, 9]]).all()
    assert out(s) == "(8 missing values generated)\n"


def test_generate_one_missing_value_singular():
    s = make_session(a=("byte", [1, 2]))
    run(g.generate, s, body="y", exp=np.array([1.0, np.nan]))
    assert out(s) == "(1 missing value generated)\n"


def test_generate_integer_types_truncate_and_overflow_to_missing():
    s = make_session(a=("byte", [1, 2, 3]))
    run(g.generate, s, body="byte b", exp=np.array([1.7, -2.9, 1000.0]))
    v = s.data.var("b").values
    assert v[0] == 1 and v[1] == -2 and np.isnan(v[2])
    assert "(1 missing value generated)" in out(s)


def test_generate_string_gets_needed_width():
    s = make_session(a=("byte", [1, 2]))
    run(g.generate, s, body="s", exp=np.array(["ab", "hello"], dtype=object))
    v = s.data.var("s")
    assert v.vtype == "str5" and v.format == "%5s"


def test_generate_str_type_truncates():
    s = make_session(a=("byte", [1]))
    run(g.generate, s, body="str3 s", exp="abcdef")
    assert s.data.var("s").vtype == "str3"
    assert s.data.var("s").values[0] == "abc"


@pytest.mark.parametrize("body,exp", [("str10 s", 1.0), ("double s", "a"), ("s2", None)])
def test_generate_type_mismatch(body, exp):
    s = make_session(a=("byte", [1]))
    if exp is None:
        # numeric type given by position: generate int s2 = "x"
        body, exp = "int s2", "x"
    with pytest.raises(StataError) as e:
        run(g.generate, s, body=body, exp=exp)
    assert (e.value.message, e.value.rc) == ("type mismatch", 109)
    assert s.data.names == ["a"]


def test_generate_existing_name_leaves_data_alone():
    s = make_session(a=("byte", [1, 2]))
    with pytest.raises(StataError) as e:
        run(g.generate, s, body="a", exp=5.0)
    assert (e.value.message, e.value.rc) == ("variable a already defined", 110)
    assert list(s.data.var("a").values) == [1, 2] and not s.data.changed


@pytest.mark.parametrize("name", ["1x", "_n", "my-var", "a" * 33, "str5", "in"])
def test_generate_invalid_name(name):
    s = make_session(a=("byte", [1]))
    with pytest.raises(StataError) as e:
        run(g.generate, s, body=name, exp=1.0)
    assert (e.value.message, e.value.rc) == (f"{name} invalid name", 198)


def test_generate_requires_exp():
    s = make_session(a=("byte", [1]))
    with pytest.raises(StataError) as e:
        run(g.generate, s, body="x", exp=None)
    assert (e.value.message, e.value.rc) == ("=exp required", 100)


def test_generate_value_label_name():
    s = make_session(a=("byte", [1]))
    run(g.generate, s, body="byte x:yesno", exp=1.0)
    v = s.data.var("x")
    assert v.vtype == "byte" and v.vallab == "yesno"


def test_generate_honours_set_type_double():
    s = make_session(a=("byte", [1]))
    s.settings["type"] = "double"
    run(g.generate, s, body="x", exp=0.1)
    assert s.data.var("x").vtype == "double" and s.data.var("x").values[0] == 0.1


# --- replace ---------------------------------------------------------------------------------
def test_replace_counts_real_changes():
    s = make_session(x=("float", [1, 2, 3, 4]))
    run(g.replace, s, body="x", exp=np.array([1.0, 5.0, 6.0, 4.0]))
    assert out(s) == "(2 real changes made)\n"
    assert list(s.data.var("x").values) == [1, 5, 6, 4]
    assert s.data.changed


def test_replace_to_missing_and_singular_and_zero():
    s = make_session(x=("float", [1, 2, 3]))
    run(g.replace, s, body="x", exp=np.array([np.nan, np.nan, 7.0]))
    run(g.replace, s, body="x", exp=np.array([np.nan, 0.0, 7.0]))
    run(g.replace, s, body="x", exp=np.array([np.nan, 0.0, 7.0]))
    assert out(s).splitlines() == ["(3 real changes made, 2 to missing)",
                                   "(1 real change made)",
                                   "(0 real changes made)"]


def test_replace_float_compares_on_storage_grid():
    s = make_session(x=("float", [float(np.float32(0.1))]))
    run(g.replace, s, body="x", exp=0.1)
    assert out(s) == "(0 real changes made)\n"


def test_replace_promotes_int_to_float():
    s = make_session(x=("int", [1, 2, 3]))
    run(g.replace, s, body="x", exp=np.array([1.5, 2.0, 3.0]))
    assert out(s).splitlines() == ["variable x was int now float", "(1 real change made)"]
    v = s.data.var("x")
    assert v.vtype == "float" and v.values[0] == 1.5


def test_replace_promotes_byte_to_int_and_long_to_double():
    s = make_session(b=("byte", [1, 2]), l=("long", [1, 2]))
    run(g.replace, s, body="b", exp=1000.0, in_=InRange(1, 1))
    run(g.replace, s, body="l", exp=0.25, in_=InRange(2, 2))
    assert out(s).splitlines() == ["variable b was byte now int", "(1 real change made)",
                                   "variable l was long now double", "(1 real change made)"]
    assert s.data.var("b").values[0] == 1000 and s.data.var("l").values[1] == 0.25


def test_replace_string_widens():
    s = make_session(s=("str2", ["ab", "cd"]))
    run(g.replace, s, body="s", exp=np.array(["ab", "longer"], dtype=object))
    assert out(s).splitlines() == ["variable s was str2 now str6", "(1 real change made)"]
    assert s.data.var("s").vtype == "str6"


def test_replace_type_mismatch_leaves_data_unchanged():
    s = make_session(x=("float", [1, 2]))
    with pytest.raises(StataError) as e:
        run(g.replace, s, body="x", exp="a")
    assert (e.value.message, e.value.rc) == ("type mismatch", 109)
    assert list(s.data.var("x").values) == [1, 2] and not s.data.changed


def test_replace_nonexistent_variable():
    s = make_session(x=("float", [1, 2]))
    with pytest.raises(StataError) as e:
        run(g.replace, s, body="nosuch", exp=1.0)
    assert e.value.rc == 111 and "nosuch" in e.value.message


def test_replace_requires_exp_and_one_name():
    s = make_session(x=("float", [1]))
    with pytest.raises(StataError) as e:
        run(g.replace, s, body="x", exp=None)
    assert (e.value.message, e.value.rc) == ("=exp required", 100)
    with pytest.raises(StataError) as e:
        run(g.replace, s, body="x x", exp=1.0)
    assert e.value.rc == 198


# --- by groups ----------------------------------------------------------------------------
def test_bysort_sorts_and_codes_groups():
    s = make_session(id=("byte", [2, 1, 2, 1, 3]), x=("float", [10, 20, 30, 40, 50]))
    cmd = Command("generate", body="n", exp=1.0, prefixes=[Prefix("by", ["id"], sort=True)])
    codes = g.by_groups(s, cmd)
    assert list(s.data.var("id").values) == [1, 1, 2, 2, 3]
    assert list(s.data.var("x").values) == [20, 40, 10, 30, 50]   # stable within groups
    assert list(codes) == [0, 0, 1, 1, 2]
    assert s.data.sortedby == ["id"]


def test_by_unsorted_is_an_error():
    s = make_session(id=("byte", [2, 1]))
    cmd = Command("generate", body="n", exp=1.0, prefixes=[Prefix("by", ["id"])])
    with pytest.raises(StataError) as e:
        g.generate(s, cmd)
    assert (e.value.message, e.value.rc) == ("not sorted", 5)
    assert "n" not in s.data


def test_by_passes_groups_to_evaluate(monkeypatch):
    seen = {}

    def fake(expr, session, groups=None):
        seen["groups"] = groups
        # by-group _n
        return np.array([np.sum(groups[: i + 1] == groups[i]) for i in range(len(groups))], float)

    monkeypatch.setattr(g, "evaluate", fake)
    s = make_session(id=("byte", [1, 1, 2, 2, 2]))
    g.generate(s, Command("generate", body="n", exp="_n", prefixes=[Prefix("by", ["id"])]))
    assert list(s.data.var("n").values) == [1, 2, 1, 2, 3]
    assert list(seen["groups"]) == [0, 0, 1, 1, 1]


def test_by_with_in_is_an_error():
    s = make_session(id=("byte", [1, 2]))
    cmd = Command("generate", body="n", exp=1.0, in_=InRange(1, 1), prefixes=[Prefix("by", ["id"])])
    with pytest.raises(StataError) as e:
        g.generate(s, cmd)
    assert e.value.rc == 190


# --- clonevar / assert -----------------------------------------------------------------
def test_clonevar_copies_type_format_labels():
    s = make_session(x=("int", [1, 2, 3]))
    v = s.data.var("x")
    v.label, v.vallab, v.format = "the x", "xl", "%5.0f"
    run(g.clonevar, s, body="y", exp_text="x", in_=InRange(1, 2))
    y = s.data.var("y")
    assert (y.vtype, y.format, y.label, y.vallab) == ("int", "%5.0f", "the x", "xl")
    assert list(y.values[:2]) == [1, 2] and np.isnan(y.values[2])
    assert out(s) == "(1 missing value generated)\n"


def test_assert_true_is_silent_and_false_counts():
    s = make_session(x=("float", [1, 2, 3, 4, 5]))
    PARSED["ok"] = np.ones(5)
    PARSED["bad"] = np.array([1.0, 0.0, 1.0, 0.0, np.nan])   # missing counts as true
    run(g.assert_, s, name="assert", body="ok")
    assert out(s) == ""
    with pytest.raises(StataError) as e:
        run(g.assert_, s, name="assert", body="bad")
    assert (e.value.message, e.value.rc) == ("assertion is false", 9)
    assert out(s) == "2 contradictions in 5 observations\n"
    run(g.assert_, s, name="assert", body="bad", in_=InRange(1, 1))


def test_assert_rc0():
    from hlmshell.syntax.ast import Option

    s = make_session(x=("float", [1, 2]))
    PARSED["bad1"] = np.array([0.0, 1.0])
    run(g.assert_, s, name="assert", body="bad1", options=[Option("rc0")])
    assert out(s) == "1 contradiction in 2 observations\n"


# --- through the interpreter (once the language helper's parser is in) ----------------------
needs_interp = pytest.mark.skipif(
    importlib.util.find_spec("hlmshell.interpreter") is None
    or importlib.util.find_spec("hlmshell.syntax.evaluate") is None,
    reason="interpreter not there yet")


def _interp(text):
    from hlmshell.interpreter import Interpreter

    s = make_session(id=("byte", [2, 1, 2, 1, 1]), x=("float", [1, 2, 3, 4, 5]))
    rc = Interpreter(s).run_text(text, echo=False)
    return s, rc


@needs_interp
def test_interp_generate_and_replace(monkeypatch):
    monkeypatch.undo()
    s, rc = _interp("gen y = x*2 if x > 2\nreplace y = 0 if x == 5\ngen double z = 0.1\n")
    assert rc == 0
    y = s.data.var("y").values
    assert np.isnan(y[:2]).all() and list(y[2:]) == [6, 8, 0]
    assert out(s).splitlines() == ["(2 missing values generated)", "(1 real change made)"]
    assert s.data.var("z").values[0] == 0.1


@needs_interp
def test_interp_by_and_bysort(monkeypatch):
    monkeypatch.undo()
    s, rc = _interp("bysort id: gen tot = sum(x)\nby id: gen n = _n\nby id: gen N = _N\n")
    assert rc == 0
    assert list(s.data.var("id").values) == [1, 1, 1, 2, 2]
    assert list(s.data.var("tot").values) == [2, 6, 11, 1, 4]
    assert list(s.data.var("n").values) == [1, 2, 3, 1, 2]
    assert list(s.data.var("N").values) == [3, 3, 3, 2, 2]


@needs_interp
def test_interp_failing_generate_changes_nothing(monkeypatch):
    monkeypatch.undo()
    s, rc = _interp("gen x = 1")
    assert rc == 110
    s, rc = _interp('replace x = "a"')
    assert rc == 109 and list(s.data.var("x").values) == [1, 2, 3, 4, 5]


# --- replace is sequential: x[_n-1] sees values already replaced -----------------------------
def _reference_sequential(x, f, mask_fn):
    """Plain loop over observations, the way Stata's replace works."""
    x = list(x)
    for i in range(len(x)):
        if mask_fn(x, i):
            x[i] = f(x, i)
    return x


@needs_interp
@pytest.mark.parametrize("cmd,f,mask_fn", [
    ("replace y = y[_n-1] if missing(y)",
     lambda x, i: x[i - 1] if i > 0 else np.nan, lambda x, i: np.isnan(x[i])),
    ("replace y = y + y[_n-1] in 2/l",
     lambda x, i: x[i] + x[i - 1], lambda x, i: i >= 1),
    ("replace y = y[9-_n]",                       # reads forward: the slow exact path
     lambda x, i: x[7 - i], lambda x, i: True),
    ("replace y = cond(missing(y[_n-2]), 0, y[_n-2]) + 1 if _n > 2",
     lambda x, i: (0 if np.isnan(x[i - 2]) else x[i - 2]) + 1, lambda x, i: i >= 2),
])
def test_replace_sequential_semantics(monkeypatch, cmd, f, mask_fn):
    monkeypatch.undo()
    from hlmshell.interpreter import Interpreter

    start = [1.0, np.nan, np.nan, 4.0, np.nan, 6.0, np.nan, np.nan]
    s = make_session(y=("double", start))
    assert Interpreter(s).run_text(cmd, echo=False) == 0
    want = _reference_sequential(start, f, mask_fn)
    assert np.allclose(s.data.var("y").values, want, equal_nan=True)


@needs_interp
def test_by_replace_carries_forward_within_groups(monkeypatch):
    monkeypatch.undo()
    from hlmshell.interpreter import Interpreter

    s = make_session(id=("byte", [1, 1, 1, 2, 2, 2]), y=("float", [5, nan, nan, nan, 7, nan]))
    rc = Interpreter(s).run_text("by id: replace y = y[_n-1] if missing(y)", echo=False)
    assert rc == 0
    assert np.allclose(s.data.var("y").values, [5, 5, 5, nan, 7, 7], equal_nan=True)
    assert out(s) == "(3 real changes made)\n"


nan = np.nan


@needs_interp
def test_running_sum_accumulates_over_selected_obs_only(monkeypatch):
    monkeypatch.undo()
    from hlmshell.interpreter import Interpreter

    s = make_session(id=("byte", [1, 1, 1, 2, 2]), x=("float", [1, 2, 3, 4, 5]))
    rc = Interpreter(s).run_text("gen s = sum(x) if x > 1\nby id: gen t = sum(x) if x != 2\n"
                                 "gen k = _n if x > 3\n", echo=False)
    assert rc == 0
    assert np.allclose(s.data.var("s").values, [nan, 2, 5, 9, 14], equal_nan=True)
    assert np.allclose(s.data.var("t").values, [1, nan, 4, 4, 9], equal_nan=True)
    assert np.allclose(s.data.var("k").values, [nan, nan, nan, 4, 5], equal_nan=True)


def test_clonevar_reports_missing_like_gen():
    s = make_session(x=("float", [1, nan, 3]))
    run(g.clonevar, s, body="y", exp_text="x")
    assert out(s) == "(1 missing value generated)\n"
    with pytest.raises(StataError) as e:
        run(g.clonevar, s, body="z", exp_text="")
    assert e.value.message == "syntax is clonevar newvar = varname ..."


@needs_interp
@pytest.mark.parametrize("cmd,start,f", [
    # reads both directions: earlier values are already replaced, later ones are not
    ("replace y = y[_n-1] + y[_n+1] in 2/7", [1, 2, 3, 4, 5, 6, 7, 8],
     lambda x, i: x[i - 1] + x[i + 1] if 1 <= i <= 6 else x[i]),
    # the index reads the variable itself: only the observation-by-observation path is exact
    ("replace y = y[y] + 1", [2, 3, 1, 4],
     lambda x, i: x[int(x[i]) - 1] + 1 if 1 <= x[i] <= 4 else np.nan),
])
def test_replace_sequential_mixed_reads(monkeypatch, cmd, start, f):
    monkeypatch.undo()
    from hlmshell.interpreter import Interpreter

    s = make_session(y=("double", start))
    assert Interpreter(s).run_text(cmd, echo=False) == 0
    want = _reference_sequential([float(v) for v in start], f, lambda x, i: True)
    assert np.allclose(s.data.var("y").values, want, equal_nan=True)
