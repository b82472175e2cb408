"""egen concat(), anycount(), anymatch(), cut(), seq(), fill(), pc(), mode(), run through the
interpreter on hsb and checked against pandas/numpy."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.session import Session
from hlmshell.output.writer import Capture
from tests.session_run import ok, run


@pytest.fixture
def s():
    sess = Session(out=Capture())
    ok(sess, "use hsb")
    ok(sess, "keep in 1/200")
    return sess


def frame(s, *names):
    return pd.DataFrame({n: s.data.var(n).values for n in names})


def test_concat_with_punct_and_decode(s):
    ok(s, "label define yn 0 no 1 yes")
    ok(s, "label values female yn")
    ok(s, 'egen c = concat(id female), punct("-")')
    ok(s, "egen d = concat(id female), decode")
    df = frame(s, "id", "female")
    want_c = df.id.astype(int).astype(str) + "-" + df.female.astype(int).astype(str)
    want_d = df.id.astype(int).astype(str) + df.female.map({0.0: "no", 1.0: "yes"})
    assert list(s.data.var("c").values) == list(want_c)
    assert list(s.data.var("d").values) == list(want_d)
    assert s.data.var("c").vtype == f"str{want_c.str.len().max()}"


def test_concat_format_and_if(s):
    ok(s, "egen c = concat(ses sector) if female, format(%6.2f)")
    df = frame(s, "ses", "sector", "female")
    want = [f"{a:.2f}{b:.2f}" if f == 1 else "" for a, b, f in zip(df.ses, df.sector, df.female)]
    assert list(s.data.var("c").values) == want


def test_anycount_anymatch(s):
    ok(s, "egen n = anycount(female minority sector), values(1)")
    ok(s, "egen m = anymatch(female minority), values(1)")
    df = frame(s, "female", "minority", "sector")
    want = (df[["female", "minority", "sector"]] == 1).sum(axis=1).to_numpy(float)
    np.testing.assert_array_equal(s.data.var("n").values, want)
    wantm = ((df.female == 1) | (df.minority == 1)).to_numpy(float)
    np.testing.assert_array_equal(s.data.var("m").values, wantm)
    assert s.data.var("m").vtype == "byte"
    rc, out = run(s, "egen z = anycount(female)")
    assert rc == 198 and "values() required" in out


def test_cut_at_and_icodes(s):
    ok(s, "egen a = cut(ses), at(-2 -1 0 1 2)")
    ok(s, "egen b = cut(ses), at(-2 -1 0 1 2) icodes")
    x = s.data.var("ses").values
    cats = pd.cut(x, [-2, -1, 0, 1, 2], right=False, labels=False)
    want_b = np.where(np.isnan(cats), np.nan, cats)
    left = np.array([-2, -1, 0, 1])
    want_a = np.where(np.isnan(cats), np.nan, left[np.nan_to_num(cats, nan=0).astype(int)])
    np.testing.assert_array_equal(s.data.var("b").values, want_b)
    np.testing.assert_allclose(s.data.var("a").values, want_a)
    assert np.isnan(want_b).any() or (x >= -2).all()


def test_cut_group_equal_frequency_and_label(s):
    ok(s, "egen g = cut(mathach), group(4) icodes label")
    x = np.sort(s.data.var("mathach").values)
    n = len(x)
    # boundaries: the sorted values at floor(i*n/4), min, max+1
    bounds = [x[0]] + [x[int(np.floor(i * n / 4))] for i in (1, 2, 3)] + [x[-1] + 1]
    want = np.searchsorted(bounds, s.data.var("mathach").values, side="right") - 1
    np.testing.assert_array_equal(s.data.var("g").values, want.astype(float))
    counts = np.bincount(want)
    assert counts.min() >= n // 4 - 5            # roughly equal groups
    assert s.data.var("g").vallab == "g"
    assert s.data.value_labels["g"][0.0].endswith("-")


def test_seq_from_to_block_by(s):
    ok(s, "egen q = seq(), from(1) to(3) block(2)")
    want = 1 + (np.arange(200) // 2) % 3
    np.testing.assert_array_equal(s.data.var("q").values, want.astype(float))
    ok(s, "egen q2 = seq(), f(1) t(3) b(2)")      # _gseq.ado's From To Block abbreviations
    np.testing.assert_array_equal(s.data.var("q2").values, want.astype(float))
    ok(s, "sort id")
    ok(s, "by id: egen r = seq()")
    df = frame(s, "id")
    np.testing.assert_array_equal(s.data.var("r").values,
                                  (df.groupby("id").cumcount() + 1).to_numpy(float))
    ok(s, "egen d = seq(), from(5) to(3)")
    np.testing.assert_array_equal(s.data.var("d").values[:4], [5.0, 4.0, 3.0, 5.0])


def test_fill(s):
    ok(s, "egen f = fill(10 12)")
    np.testing.assert_array_equal(s.data.var("f").values, 10 + 2 * np.arange(200.0))
    ok(s, "egen h = fill(1 1 2 2)")
    np.testing.assert_array_equal(s.data.var("h").values, 1 + np.arange(200.0) // 2)
    ok(s, "egen k = fill(3 1 4 3 1 4)")
    np.testing.assert_array_equal(s.data.var("k").values[:7], [3, 1, 4, 3, 1, 4, 3])


def test_pc_and_prop(s):
    ok(s, "egen p = pc(mathach), by(id)")
    ok(s, "egen q = pc(mathach), prop")
    df = frame(s, "id", "mathach")
    want = 100 * df.mathach / df.groupby("id").mathach.transform("sum")
    np.testing.assert_allclose(s.data.var("p").values, want.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(s.data.var("q").values, (df.mathach / df.mathach.sum()).to_numpy(),
                               rtol=1e-6)


def test_mode_options(s):
    ok(s, "egen m = mode(minority), by(id)")
    ok(s, "egen lo = mode(id), minmode")
    ok(s, "egen hi = mode(id), maxmode")
    df = frame(s, "id", "minority")
    counts = df.id.value_counts()
    top = sorted(counts[counts == counts.max()].index)
    assert s.data.var("lo").values[0] == top[0] and s.data.var("hi").values[0] == top[-1]

    def mode_or_nan(x):
        vc = x.value_counts()
        best = vc[vc == vc.max()]
        return best.index[0] if len(best) == 1 else np.nan

    want = df.groupby("id").minority.transform(mode_or_nan).to_numpy(float)
    np.testing.assert_array_equal(s.data.var("m").values, want)


def test_mode_of_string_and_warning(s):
    ok(s, 'generate str3 g = cond(female, "f", "m")')
    ok(s, "egen gm = mode(g)")
    vc = pd.Series(s.data.var("g").values).value_counts()
    assert s.data.var("gm").values[0] == vc.index[0]
    assert s.data.var("gm").vtype == "str3"
    out = ok(s, "egen x = mode(id)")
    counts = pd.Series(s.data.var("id").values).value_counts()
    if (counts == counts.max()).sum() > 1:
        assert "multiple modes" in out


def test_functions_refusing_by(s):
    rc, out = run(s, "egen c = concat(id female), by(sector)")
    assert rc == 190
    rc, _ = run(s, "egen c = cut(ses), at(0 1) group(3)")
    assert rc == 198
    rc, _ = run(s, "egen c = mode(id), minmode maxmode")
    assert rc == 198
