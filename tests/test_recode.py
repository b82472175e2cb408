"""recode: rule parsing, first-match-wins, generate()/prefix(), messages, value labels."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.commands import recode as R
from hlmshell.data.dataset import Variable
from hlmshell.data.missing import ext_missing, missing_code
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.ast import Command, InRange, Option

nan = np.nan
HSB = __import__("pathlib").Path(__file__).resolve().parents[1] / "hlmshell" / "sample_data" / "hsb.dta"


def make_session(**cols):
    s = Session(out=Capture())
    for name, (vtype, vals) in cols.items():
        arr = np.array(vals, dtype=object) if vtype.startswith("str") else np.array(vals, dtype=float)
        s.data.add(Variable(name, arr, vtype))
    s.data.changed = False
    return s


def recode(s, body, *opts, **kw):
    options = []
    for o in opts:
        name, _, arg = o.partition("(")
        options.append(Option(name, arg[:-1] if arg else None))
    R.recode(s, Command("recode", body=body, options=options, **kw))


def vals(s, name):
    return list(s.data.var(name).values)


def same(a, b):
    return np.allclose(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


def test_notes_sized_from_hsb():
    df = pd.read_stata(HSB, convert_categoricals=False)
    s = Session(out=Capture())
    s.data.add(Variable("size", df["size"].to_numpy(float), "long"))
    recode(s, "size (min/499=1) (500/1199=2) (1200/max=3)", "generate(sized)")
    v = s.data.var("sized")
    assert v.label == "RECODE of size" and v.vtype == "long"
    u, c = np.unique(v.values, return_counts=True)
    assert list(u) == [1, 2, 3] and list(c) == [1524, 2984, 2677]
    assert s.out.getvalue() == "(7,185 differences between size and sized)\n"
    assert s.data.changed


def test_generate_label_keeps_the_old_variable_label():
    s = make_session(x=("byte", [1, 2]))
    s.data.var("x").label = "the x"
    recode(s, "x (1=0)", "gen(y)")
    assert s.data.var("y").label == "RECODE of x (the x)"


def test_first_matching_rule_wins_and_unmatched_kept():
    s = make_session(x=("byte", [1, 2, 3, 4, 5, 6]))
    recode(s, "x (1 2=10) (2/4=20) (6=.)")
    assert same(vals(s, "x"), [10, 10, 20, 20, 5, nan])
    assert s.out.getvalue() == "(x: 5 changes made)\n"
    recode(s, "x (5=6)")
    assert s.out.getvalue().splitlines()[-1] == "(x: 1 changes made)"   # recode.ado's wording
    assert s.data.var("x").vtype == "byte"


def test_missing_nonmissing_else():
    a = ext_missing(1)
    s = make_session(x=("double", [1, nan, a, 7]), y=("double", [1, nan, a, 7]),
                     z=("double", [1, 2, 3, nan]))
    recode(s, "x (1=5) (missing=-1)")
    assert same(vals(s, "x"), [5, -1, -1, 7])
    recode(s, "y (.a=99) (nonmissing=5)")
    assert same(vals(s, "y"), [5, nan, 99, 5])
    recode(s, "z (else=0) ")
    assert same(vals(s, "z"), [0, 0, 0, 0])


def test_otherwise_rules_apply_after_ordinary_rules():
    s = make_session(x=("byte", [1, 2, 3]))
    recode(s, "x (1=9) (* = 0)")
    assert vals(s, "x") == [9, 0, 0]


def test_float_variables_compare_in_float_precision():
    s = make_session(x=("float", [float(np.float32(0.1)), 0.5]), d=("double", [0.1, 0.5]))
    s.data.var("x").values = g_store([0.1, 0.5])
    recode(s, "x (0.1=1)")
    assert vals(s, "x") == [1, 0.5]
    recode(s, "d (0.1=1)")
    assert vals(s, "d") == [1, 0.5]


def g_store(v):
    from hlmshell.commands.generate import store

    return store(np.array(v, float), "float")


def test_min_max_as_targets_and_in_ranges():
    s = make_session(x=("int", [5, 10, 15, nan]))
    recode(s, "x (min=0) (max=99) (10=max)")
    assert same(vals(s, "x"), [0, 15, 99, nan])


def test_extended_missing_target():
    s = make_session(x=("byte", [1, 9]))
    recode(s, "x (9=.a)")
    assert missing_code(s.data.var("x").values)[1] == 1


def test_generate_copies_unmatched_and_if_gives_missing():
    s = make_session(x=("byte", [1, 2, 3, 4]))
    recode(s, "x (1=5)", "gen(y)", in_=InRange(1, 3))
    assert same(vals(s, "y"), [5, 2, 3, nan])
    assert vals(s, "x") == [1, 2, 3, 4]
    recode(s, "x (1=5)", "gen(z)", "copyrest", in_=InRange(1, 3))
    assert same(vals(s, "z"), [5, 2, 3, 4])
    recode(s, "x (1=5) (4=0)", in_=InRange(1, 3))
    assert vals(s, "x") == [5, 2, 3, 4]
    # differences are counted over the sample only
    assert s.out.getvalue().splitlines() == ["(1 differences between x and y)",
                                             "(1 differences between x and z)",
                                             "(x: 1 changes made)"]


def test_several_variables_prefix_and_old_syntax():
    s = make_session(a=("byte", [1, 2]), b=("byte", [2, 2]))
    recode(s, "a b (2=0)", "prefix(r_)")
    assert vals(s, "r_a") == [1, 0] and vals(s, "r_b") == [0, 0]
    assert s.data.var("r_b").label == "RECODE of b"
    recode(s, "a 1=7 2=8")
    assert vals(s, "a") == [7, 8]


def test_promotes_storage_for_fractional_targets():
    s = make_session(x=("byte", [1, 2]))
    recode(s, "x (1=0.5)")
    assert s.data.var("x").vtype == "float" and s.data.var("x").values[0] == 0.5


def test_value_labels_from_rules():
    s = make_session(x=("byte", [1, 2, 3]))
    recode(s, 'x (1 2=1 "low (1-2)") (3=2 "high")', "gen(xr)")
    assert s.data.var("xr").vallab == "xr"
    assert s.data.value_labels["xr"] == {1.0: "low (1-2)", 2.0: "high"}
    recode(s, 'x (1=1 "one") (else=0 "other")', "gen(xo)", "label(lo)")
    assert s.data.value_labels["lo"] == {1.0: "one", 0.0: "other"}
    assert s.data.var("xo").vallab == "lo"


def test_rule_parsing():
    head, rules, parens = R.split_spec('x y (1 / 3 = 1) (4 5 = 2 "a b") (missing=9)')
    assert head == "x y" and parens
    r = R.parse_rules(rules, parens)
    assert r.ordinary[0].items == [("range", "1", "3")] and r.ordinary[0].target == "1"
    assert r.ordinary[1].items == [("num", "4"), ("num", "5")] and r.ordinary[1].label == "a b"
    assert r.other["missing"].target == "9"
    head, rules, parens = R.split_spec("x 1=2 2/3=4")
    assert head == "x" and not parens
    assert [rr.target for rr in R.parse_rules(rules, parens).ordinary] == ["2", "4"]


@pytest.mark.parametrize("body,opts,rc", [
    ("x (1)", (), 198),
    ("x (1=2", (), 198),
    ("x (else=1) (2=3)", (), 198),
    ("x (else=1) (missing=3)", (), 198),
    ("x (=3)", (), 198),
    ("x (a=3)", (), 198),
    ("x", (), 198),
    ("(1=2)", (), 102),
    ("x (1=2)", ("gen(a b)",), 198),
    ("x (1=2)", ("gen(x)",), 110),
    ("x (1=2)", ("gen(1bad)",), 198),
    ("x (1=2)", ("gen(y)", "prefix(r)"), 198),
    ("x (1=2)", ("label(l)",), 198),
    ('x (1=2 "two")', (), 198),
    ('x (1=. "none")', ("gen(y)",), 198),
    ('x (1=2.5 "x")', ("gen(y)",), 198),
    ("s (1=2)", (), 108),
    ("nosuch (1=2)", (), 111),
    ("x (1=2)", ("bogus",), 198),
])
def test_errors_change_nothing(body, opts, rc):
    s = make_session(x=("byte", [1, 2]), s=("str1", ["a", "b"]))
    with pytest.raises(StataError) as e:
        recode(s, body, *opts)
    assert e.value.rc == rc
    assert s.data.names == ["x", "s"] and vals(s, "x") == [1, 2] and not s.data.changed
