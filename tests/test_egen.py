"""egen functions: group statistics, ranks, row statistics, group ids and tags."""
import importlib.util

import numpy as np
import pytest

from hlmshell.commands import egen as E
from hlmshell.commands import generate as g
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.ast import Command, InRange, Option, Prefix

nan = np.nan


def make_session(**cols):
    s = Session(out=Capture())
    for name, (vtype, vals) in cols.items():
        arr = np.array(vals, dtype=object) if vtype.startswith("str") else np.array(vals, dtype=float)
        s.data.add(Variable(name, arr, vtype))
    s.data.changed = False
    return s


@pytest.fixture(autouse=True)
def simple_exprs(monkeypatch):
    """Arguments in these tests are bare variable names."""
    monkeypatch.setattr(g, "parse_expr", lambda text: text.strip())
    monkeypatch.setattr(g, "evaluate", lambda expr, session, groups=None: session.data.var(expr).values)


def egen(s, text, *opts, body=None, **kw):
    lhs, _, rhs = text.partition("=")
    options = []
    for o in opts:
        name, _, arg = o.partition("(")
        options.append(Option(name, arg[:-1] if arg else None))
    E.egen(s, Command("egen", body=lhs.strip(), exp_text=rhs.strip(), options=options, **kw))
    return s.data.var(lhs.split()[-1].split(":")[0]).values


def same(a, b):
    return np.allclose(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


@pytest.fixture
def s():
    return make_session(g=("byte", [1, 1, 1, 2, 2, 3]),
                        x=("double", [1, 2, 6, nan, 4, nan]),
                        y=("double", [1, nan, 3, nan, 5, 6]))


def test_mean_by_and_float_storage(s):
    v = egen(s, "m = mean(x)", "by(g)")
    assert same(v, [3, 3, 3, 4, 4, nan])
    assert s.data.var("m").vtype == "float"
    assert s.out.getvalue() == "(1 missing value generated)\n"
    v = egen(s, "m3 = mean(y)")
    assert v[0] == float(np.float32(15 / 4))


def test_sd_total_count_min_max(s):
    assert same(egen(s, "sd = sd(x)", "by(g)"), [np.std([1, 2, 6], ddof=1)] * 3 + [nan, nan, nan])
    assert same(egen(s, "t = total(x)", "by(g)"), [9, 9, 9, 4, 4, 0])
    assert same(egen(s, "tm = total(x)", "by(g)", "missing"), [9, 9, 9, 4, 4, nan])
    assert same(egen(s, "c = count(x)", "by(g)"), [3, 3, 3, 1, 1, 0])
    assert same(egen(s, "lo = min(x)", "by(g)"), [1, 1, 1, 4, 4, nan])
    assert same(egen(s, "hi = max(x)"), [6] * 6)


def test_if_restricts_computation_and_result(s, monkeypatch):
    monkeypatch.setattr(g, "sample", lambda session, cmd, groups=None, varnames=(), strok=True:
                        np.array([1, 1, 0, 1, 1, 1], bool))
    assert same(egen(s, "m = mean(x)", "by(g)"), [1.5, 1.5, nan, 4, 4, nan])


def test_in_range(s):
    assert same(egen(s, "m = mean(x)", in_=InRange(1, 2)), [1.5, 1.5, nan, nan, nan, nan])


def test_median_and_pctile():
    s = make_session(x=("double", [5, 1, 4, 2, 3, 6]))
    assert egen(s, "md = median(x)")[0] == 3.5
    assert egen(s, "p25 = pctile(x)", "p(25)")[0] == 2      # n*p = 1.5 -> x(2)
    assert egen(s, "p50 = pctile(x)", "p(50)")[0] == 3.5    # n*p = 3 -> mean of x(3), x(4)
    assert E.pctile_of(np.array([1.0, 2, 3, 4, 5]), 50) == 3


def test_std(s):
    v = egen(s, "z = std(x)")
    xs = np.array([1, 2, 6, 4.0])
    want = (xs - xs.mean()) / xs.std(ddof=1)
    assert same(v[[0, 1, 2, 4]], np.float32(want)) and np.isnan(v[[3, 5]]).all()


def test_rank_variants():
    s = make_session(x=("double", [10, 20, 20, 30, nan]))
    assert same(egen(s, "r = rank(x)"), [1, 2.5, 2.5, 4, nan])
    assert same(egen(s, "rf = rank(x)", "field"), [4, 2, 2, 1, nan])
    assert same(egen(s, "rt = rank(x)", "track"), [1, 2, 2, 4, nan])
    assert same(egen(s, "ru = rank(x)", "unique"), [1, 2, 3, 4, nan])


def test_row_functions(s):
    assert same(egen(s, "rm = rowmean(x y)"), [1, 2, 4.5, nan, 4.5, 6])
    assert same(egen(s, "rt = rowtotal(x y)"), [2, 2, 9, 0, 9, 6])
    assert same(egen(s, "rt2 = rowtotal(x y)", "missing"), [2, 2, 9, nan, 9, 6])
    assert same(egen(s, "rmin = rowmin(x y)"), [1, 2, 3, nan, 4, 6])
    assert same(egen(s, "rmax = rowmax(x y)"), [1, 2, 6, nan, 5, 6])
    assert same(egen(s, "nm = rownonmiss(x y)"), [2, 1, 2, 0, 2, 1])


def test_group_and_label():
    s = make_session(a=("byte", [3, 1, 3, nan, 1]), b=("str1", ["x", "y", "x", "z", "x"]))
    assert same(egen(s, "gr = group(a)"), [2, 1, 2, nan, 1])
    assert same(egen(s, "gm = group(a)", "missing"), [2, 1, 2, 3, 1])
    v = egen(s, "gab = group(a b)", "label")
    assert same(v, [3, 2, 3, nan, 1])
    assert s.data.var("gab").vallab == "gab"
    assert s.data.value_labels["gab"] == {1.0: "1 x", 2.0: "1 y", 3.0: "3 x"}


def test_tag():
    s = make_session(a=("byte", [1, 1, 2, nan, 2]))
    v = egen(s, "t = tag(a)")
    assert list(v) == [1, 0, 1, 0, 0]
    assert s.data.var("t").vtype == "byte"
    assert list(egen(s, "tm = tag(a)", "missing")) == [1, 0, 1, 1, 0]


def test_by_prefix_sorts_and_groups():
    s = make_session(g=("byte", [2, 1, 2, 1]), x=("double", [1, 2, 3, 4]))
    v = egen(s, "m = mean(x)", prefixes=[Prefix("by", ["g"], sort=True)])
    assert list(s.data.var("g").values) == [1, 1, 2, 2]
    assert same(v, [3, 3, 2, 2])


def test_errors_leave_data_unchanged(s):
    with pytest.raises(StataError) as e:
        egen(s, "m = foo(x)")
    assert (e.value.message, e.value.rc) == ("unknown egen function foo()", 133)
    with pytest.raises(StataError) as e:
        egen(s, "x = mean(y)")
    assert e.value.rc == 110
    with pytest.raises(StataError) as e:
        egen(s, "m = mean(x)", "bogus")
    assert (e.value.message, e.value.rc) == ("option bogus not allowed", 198)
    with pytest.raises(StataError) as e:
        egen(s, "str5 m = mean(x)")
    assert e.value.rc == 109
    assert s.data.names == ["g", "x", "y"] and not s.data.changed


needs_interp = pytest.mark.skipif(
    importlib.util.find_spec("hlmshell.interpreter") is None
    or importlib.util.find_spec("hlmshell.syntax.evaluate") is None,
    reason="interpreter not there yet")


@needs_interp
def test_interp_egen(monkeypatch):
    monkeypatch.undo()
    from hlmshell.interpreter import Interpreter

    s = make_session(g=("byte", [2, 1, 2, 1]), x=("double", [1, 2, 3, 4]))
    rc = Interpreter(s).run_text("egen m = mean(x*2), by(g)\nbysort g: egen t = total(x)\n"
                                 "egen sm = mean(x) if x > 1\n", echo=False)
    assert rc == 0
    assert same(s.data.var("t").values, [6, 6, 4, 4])
    assert same(s.data.var("m").values, [6, 6, 4, 4])
    assert same(s.data.var("sm").values, [3, 3, nan, 3])


def test_variable_labels_like_the_ado_files(s):
    egen(s, "gr = group(g)")
    egen(s, "t = tag(g)")
    egen(s, "r = rank(x)", "by(g)")
    egen(s, "rf = rank(x)", "field")
    egen(s, "z = std(y)")
    egen(s, "m = mean(x)")
    lab = {nm: s.data.var(nm).label for nm in ("gr", "t", "r", "rf", "z", "m")}
    assert lab == {"gr": "group(g)", "t": "tag(g)", "r": "rank of x by g", "rf": "field rank of x",
                   "z": "Standardized values of y", "m": ""}


@pytest.mark.parametrize("fn", ["group(g)", "tag(g)", "std(x)", "rowmean(x y)", "rowtotal(x y)"])
def test_functions_that_refuse_by(s, fn):
    with pytest.raises(StataError) as e:
        egen(s, f"new = {fn}", "by(g)")
    assert e.value.rc == 190
    assert e.value.message == f"egen ... {fn.split('(')[0]}() may not be combined with by"
    with pytest.raises(StataError) as e:
        egen(s, f"new = {fn}", prefixes=[Prefix("by", ["g"])])
    assert e.value.rc == 190
    assert "new" not in s.data


def test_pctile_range_message(s):
    with pytest.raises(StataError) as e:
        egen(s, "p = pctile(x)", "p(100)")
    assert (e.value.message, e.value.rc) == ("p(100) must be between 0 and 100", 198)


def test_missing_message_has_a_thousands_separator():
    s = make_session(x=("double", [np.nan] * 1500 + [1.0]))
    egen(s, "m = max(x)", in_=InRange(1500, 1501))
    assert s.out.getvalue() == "(1,499 missing values generated)\n"


def test_rowtotal_accumulates_in_float_like_stata():
    big = 16777216.0            # 2^24: adding 1 in float is lost
    s = make_session(a=("double", [big]), b=("double", [1.0]), c=("double", [1.0]))
    assert egen(s, "t = rowtotal(a b c)")[0] == big          # float: each step rounds
    assert egen(s, "double td = rowtotal(a b c)")[0] == big + 2


def test_mean_is_float_of_the_double_mean():
    s = make_session(x=("double", [0.1, 0.2, 0.4]))
    v = egen(s, "m = mean(x)")
    assert v[0] == float(np.float32((0.1 + 0.2 + 0.4) / 3))
    v = egen(s, "double md = mean(x)")
    assert v[0] == ((0.1 + 0.2) + 0.4) / 3


def test_count_of_a_string_counts_nonempty():
    s = make_session(g=("byte", [1, 1, 2]), t=("str1", ["a", "", "b"]))
    assert same(egen(s, "c = count(t)", "by(g)"), [1, 1, 1])
    with pytest.raises(StataError) as e:
        egen(s, "m = mean(t)")
    assert e.value.rc == 109


def test_ranks_match_a_reference_on_many_groups():
    rng = np.random.default_rng(7)
    n = 3000
    v = rng.integers(0, 12, n).astype(float)
    v[::13] = np.nan
    codes = rng.integers(0, 40, n)
    touse = np.ones(n, bool)

    def ref(how):
        out = np.full(n, np.nan)
        for i in range(n):
            if np.isnan(v[i]):
                continue
            same = (codes == codes[i]) & ~np.isnan(v)
            x = v[same]
            lt, eq, gt = (x < v[i]).sum(), (x == v[i]).sum(), (x > v[i]).sum()
            earlier = ((codes[:i] == codes[i]) & (v[:i] == v[i])).sum()
            out[i] = {"average": lt + (eq + 1) / 2, "track": lt + 1, "field": gt + 1,
                      "unique": lt + earlier + 1}[how]
        return out

    for how in ("average", "track", "field", "unique"):
        assert same(E.rank_values(v, touse, codes, how), ref(how)), how


def test_spread_and_shape_functions():
    x = np.array([1.0, 2, 4, 7, 11, 16, nan])
    s = make_session(x=("double", list(x)))
    xs = x[~np.isnan(x)]
    m = xs.mean()
    m2, m3, m4 = (((xs - m) ** k).mean() for k in (2, 3, 4))
    assert np.isclose(egen(s, "double sk = skew(x)")[0], m3 / m2 ** 1.5)
    assert np.isclose(egen(s, "double ku = kurt(x)")[0], m4 / m2 ** 2)
    assert np.isclose(egen(s, "double md = mdev(x)")[0], np.abs(xs - m).mean())
    # iqr: p75 = x(5) = 11 (n*p = 4.5), p25 = x(2) = 2 (n*p = 1.5)
    assert egen(s, "double iq = iqr(x)")[0] == 9
    # mad: median 5.5; deviations 4.5 3.5 1.5 1.5 5.5 10.5 -> median 4
    assert egen(s, "double ma = mad(x)")[0] == 4
