"""encode / decode / destring / tostring."""
import numpy as np
import pytest

from hlmshell.commands import convert as C
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.ast import Command, Option

nan = np.nan


def make_session(**cols):
    s = Session(out=Capture())
    for name, (vtype, vals) in cols.items():
        arr = np.array(vals, dtype=object) if vtype.startswith("str") else np.array(vals, dtype=float)
        s.data.add(Variable(name, arr, vtype))
    s.data.changed = False
    return s


def run(fn, s, body, *opts, **kw):
    options = []
    for o in opts:
        name, _, arg = o.partition("(")
        options.append(Option(name, arg[:-1] if arg else None))
    fn(s, Command(fn.__name__, body=body, options=options, **kw))


def lines(s):
    return s.out.getvalue().splitlines()


def same(a, b):
    return np.allclose(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


def test_encode_sorted_codes_and_label():
    s = make_session(c=("str6", ["pear", "apple", "", "pear", "Zed"]))
    run(C.encode, s, "c", "gen(n)")
    v = s.data.var("n")
    assert v.vtype == "long" and v.vallab == "n"
    assert s.data.value_labels["n"] == {1.0: "Zed", 2.0: "apple", 3.0: "pear"}   # byte order
    assert same(v.values, [3, 2, nan, 3, 1])
    assert s.data.changed


def test_encode_extends_existing_label():
    s = make_session(c=("str3", ["b", "a"]))
    s.data.value_labels["lab"] = {1.0: "b", 5.0: "q"}
    run(C.encode, s, "c", "gen(n)", "label(lab)")
    assert s.data.value_labels["lab"] == {1.0: "b", 5.0: "q", 6.0: "a"}
    assert same(s.data.var("n").values, [1, 6])
    s2 = make_session(c=("str3", ["b", "a"]))
    s2.data.value_labels["lab"] = {1.0: "b"}
    with pytest.raises(StataError) as e:
        run(C.encode, s2, "c", "gen(n)", "label(lab)", "noextend")
    assert e.value.rc == 459 and "n" not in s2.data


def test_encode_errors():
    s = make_session(c=("str3", ["b"]), x=("byte", [1]))
    with pytest.raises(StataError) as e:
        run(C.encode, s, "x", "gen(n)")
    assert (e.value.message, e.value.rc) == ("not possible with numeric variable", 107)
    with pytest.raises(StataError) as e:
        run(C.encode, s, "c")
    assert e.value.rc == 198
    with pytest.raises(StataError) as e:
        run(C.encode, s, "c", "gen(x)")
    assert e.value.rc == 110


def test_decode_roundtrip():
    s = make_session(n=("byte", [1, 2, nan, 3]))
    s.data.var("n").vallab = "l"
    s.data.value_labels["l"] = {1.0: "one", 2.0: "three"}
    run(C.decode, s, "n", "gen(t)")
    v = s.data.var("t")
    assert list(v.values) == ["one", "three", "", ""] and v.vtype == "str5"
    assert lines(s) == ["(2 missing values generated)"]
    s2 = make_session(n=("byte", [1]))
    with pytest.raises(StataError) as e:
        run(C.decode, s2, "n", "gen(t)")
    assert (e.value.message, e.value.rc) == ("n not labeled", 182)


def test_destring_replace_chooses_smallest_type():
    s = make_session(a=("str3", ["1", " 20", "."]), b=("str6", ["1.5", "1e3", ""]),
                     c=("str5", ["70000", "-3", "4"]))
    run(C.destring, s, "a b c", "replace")
    assert lines(s) == ["a: all characters numeric; replaced as byte",
                        "(1 missing value generated)",
                        "b: all characters numeric; replaced as double",
                        "(1 missing value generated)",
                        "c: all characters numeric; replaced as long"]
    assert same(s.data.var("a").values, [1, 20, nan]) and s.data.var("a").vtype == "byte"
    assert s.data.var("b").values[1] == 1000 and s.data.var("b").format == "%10.0g"
    assert s.data.var("c").vtype == "long"


def test_destring_nonnumeric_and_force_and_generate():
    s = make_session(a=("str3", ["1", "x2", "3"]), n=("byte", [1, 2, 3]))
    run(C.destring, s, "a n", "replace")
    assert lines(s) == ["a: contains nonnumeric characters; no replace",
                        "n already numeric; no replace"]
    assert s.data.var("a").is_string and not s.data.changed
    run(C.destring, s, "a", "gen(an)", "force")
    assert lines(s)[2:] == ["a: contains nonnumeric characters; an generated as byte",
                            "(1 missing value generated)"]
    assert same(s.data.var("an").values, [1, nan, 3])


def test_destring_ignore():
    s = make_session(a=("str6", ["1,000", "2,500"]))
    run(C.destring, s, "a", "replace", 'ignore(",")')
    assert same(s.data.var("a").values, [1000, 2500]) and s.data.var("a").vtype == "int"


def test_destring_needs_replace_or_generate():
    s = make_session(a=("str3", ["1"]))
    with pytest.raises(StataError) as e:
        run(C.destring, s, "a")
    assert e.value.rc == 198


def test_tostring_replace_and_generate():
    s = make_session(x=("float", [1, 2.5, nan]), y=("double", [1 / 3, 2, 3]))
    run(C.tostring, s, "x", "replace")
    assert lines(s) == ["x was float now str3"]
    assert list(s.data.var("x").values) == ["1", "2.5", "."]
    run(C.tostring, s, "y", "gen(ys)")
    assert lines(s)[1] == "y cannot be converted reversibly; no generate"
    run(C.tostring, s, "y", "gen(ys)", "force")
    assert lines(s)[2] == "ys generated as str11"
    assert s.data.var("ys").values[0] == ".3333333333"
    run(C.tostring, s, "y", "gen(yf)", "format(%9.2f)", "force")
    assert list(s.data.var("yf").values) == ["0.33", "2.00", "3.00"]
    run(C.tostring, s, "x", "replace")
    assert lines(s)[-1] == "x already string; no replace"


def test_destring_generate_goes_after_source_and_reports_ignored_characters():
    s = make_session(a=("str6", ["1,000", "2,500"]), z=("byte", [1, 2]))
    run(C.destring, s, "a", "gen(an)", 'ignore(",")')
    assert s.data.names == ["a", "an", "z"]
    assert lines(s) == ["a: character , removed; an generated as int"]


def test_destring_force_messages_and_percent():
    s = make_session(a=("str4", ["1", "x", "3"]), p=("str4", ["50%", "5%", "100%"]))
    run(C.destring, s, "a", "replace", "force")
    run(C.destring, s, "p", "replace", "percent")
    assert lines(s) == ["a: contains nonnumeric characters; replaced as byte",
                        "(1 missing value generated)",
                        "p: character % removed; replaced as double"]
    assert same(s.data.var("p").values, [0.5, 0.05, 1.0])


def test_destring_option_errors():
    s = make_session(a=("str3", ["1"]))
    for opts, msg in [((), "must specify either generate or replace option"),
                      (("replace", "gen(b)"), "options generate and replace are mutually exclusive"),
                      (("gen(b c)",), "number of variables in varlist must equal number of "
                                      "variables in generate(newvarlist)"),
                      (("gen(a)",), "generate() contains existing variable(s) and/or illegal "
                                    "variable name(s)")]:
        with pytest.raises(StataError) as e:
            run(C.destring, s, "a", *opts)
        assert e.value.message == msg
    assert s.data.var("a").is_string and not s.data.changed


def test_tostring_value_label_and_force_messages():
    s = make_session(x=("byte", [1, 2]), y=("double", [0.1, 1 / 3]), w=("byte", [0, 0]))
    s.data.var("x").vallab = "xl"
    run(C.tostring, s, "x", "replace")
    run(C.tostring, s, "y", "gen(ys)", "force", "format(%4.2f)")
    assert lines(s) == ["x has value label; no replace", "ys generated as str4",
                        "ys was forced to string; some loss of information"]
    assert s.data.names == ["x", "y", "ys", "w"]
    with pytest.raises(StataError) as e:
        run(C.tostring, s, "x", "gen(xs)", "format(%9s)")
    assert e.value.message == "use numeric format in format() option"


def test_tostring_float_point_one_is_not_reversible():
    s = make_session(x=("float", [0.1]))
    s.data.var("x").values = np.array([float(np.float32(0.1))])
    run(C.tostring, s, "x", "replace")
    assert lines(s) == ["x cannot be converted reversibly; no replace"]
