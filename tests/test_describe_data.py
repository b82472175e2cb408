"""duplicates, misstable, ds, lookfor, notes, codebook: results checked against pandas/numpy."""
import numpy as np
import pandas as pd
from hsb_fixtures import HSB, df, s  # noqa: F401  (fixtures)
from session_run import ok, run


# ---------------------------------------------------------------------------- duplicates
def test_duplicates_report(s, df):
    out = ok(s, "duplicates report sector female")
    sizes = df.groupby(["sector", "female"]).size()
    table = sizes.value_counts().sort_index()           # copies -> number of groups
    body = out.splitlines()[6:-1]
    assert len(body) == len(table)
    for line, (copies, ngroups) in zip(body, table.items()):
        assert line == f"{copies:9d} | {copies * ngroups:12d}  {copies * ngroups - ngroups:12d}"
    assert s.r.scalars == {"N": 7185.0, "unique_value": float(len(sizes))}
    assert "Duplicates in terms of sector female" in out


def test_duplicates_tag_and_drop(s, df):
    ok(s, "duplicates tag id in 1/100, gen(dup)")
    want = df.id[:100].map(df.id[:100].value_counts()) - 1
    got = s.data.var("dup").values
    np.testing.assert_array_equal(got[:100], want.to_numpy())
    assert np.isnan(got[100:]).all()
    assert run(s, "duplicates tag id, gen(dup)")[0] == 110
    assert run(s, "duplicates drop id")[0] == 198
    out = ok(s, "duplicates drop id, force")
    assert f"({7185 - 160:,} observations deleted)" in out
    assert s.data.n == 160
    firsts = df.drop_duplicates("id")
    np.testing.assert_array_equal(s.data.var("mathach").values, firsts.mathach.to_numpy())
    assert "(0 observations are duplicates)" in ok(s, "duplicates drop")


def test_duplicates_list_examples(s, df):
    out = ok(s, "duplicates examples sector female")
    groups = df.groupby(["sector", "female"])
    for k, ((sec, fem), g) in enumerate(groups, start=1):
        assert any(line.split()[1:5] == [str(k), str(len(g)), str(g.index[0] + 1), str(int(sec))]
                   for line in out.splitlines() if line.startswith("  | ") and line.split()[1].isdigit())
    assert run(s, "duplicates nosuch")[0] == 198


# ---------------------------------------------------------------------------- misstable
def test_misstable(s, df):
    assert "(variables nonmissing or string)" in ok(s, "misstable summarize")
    ok(s, "replace ses = . in 1/10")
    ok(s, "replace mathach = .a in 5/12")
    out = ok(s, "misstable summarize")
    x = df.mathach.to_numpy().copy()
    x[4:12] = np.nan
    ok_x = x[~np.isnan(x)]
    assert s.r.scalars["N_eq_dot"] == 0 and s.r.scalars["N_gt_dot"] == 8
    assert s.r.scalars["N_lt_dot"] == len(ok_x)
    assert s.r.scalars["min"] == ok_x.min() and s.r.scalars["max"] == ok_x.max()
    assert "  >500" in out      # mathach has more than 500 unique values
    assert len(np.unique(ok_x)) > 500
    y = df.ses.to_numpy()[10:]
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("ses |"))
    assert f"{len(np.unique(y)):6d}" in line and f"{len(y):9d}" in line
    ok(s, "misstable patterns")
    m = pd.DataFrame({"a": np.isnan(x), "b": np.r_[np.ones(10, bool), np.zeros(7175, bool)]})
    assert s.r.scalars["N_complete"] == float((~m.a & ~m.b).sum())
    assert s.r.scalars["K"] == float(len(m.drop_duplicates()))
    assert s.r.macros["vars"] == "mathach ses"   # fewest missing first


# ---------------------------------------------------------------------------- ds, lookfor
def test_ds(s, df):
    ok(s, "ds, has(type double)")
    assert s.r.macros["varlist"].split() == [c for c in df if df[c].dtype == float and
                                             s.data.var(c).vtype == "double"]
    ok(s, "ds, not(varlabel)")
    assert s.r.macros["varlist"] == "size"
    ok(s, "ds id ses, not")
    assert s.r.macros["varlist"].split() == [c for c in df if c not in ("id", "ses")]
    ok(s, "ds, alpha")
    assert s.r.macros["varlist"].split() == sorted(df.columns)
    assert run(s, "ds, has(type nonsense)")[0] == 198


def test_lookfor(s):
    out = ok(s, "lookfor SCHOOL minority")
    want = [n for n in s.data.names
            if "school" in (n + " " + s.data.var(n).label).lower() or "minority" in
            (n + " " + s.data.var(n).label).lower()]
    assert s.r.macros["varlist"].split() == want
    assert "school identifier" in out
    ok(s, "lookfor zzzz")
    assert "varlist" not in s.r.macros


# ---------------------------------------------------------------------------- notes
def test_notes_are_characteristics_saved_in_dta(s, tmp_path):
    ok(s, "notes: from the HLM manual")
    ok(s, "notes ses: standardized")
    ok(s, "notes ses: second")
    assert s.data.dta_chars["note1"] == "from the HLM manual" and s.data.dta_chars["note0"] == "1"
    assert s.data.var("ses").chars == {"note1": "standardized", "note0": "2", "note2": "second"}
    f = tmp_path / "n.dta"
    ok(s, f"save {f}")
    ok(s, f"use {f}, clear")
    out = ok(s, "notes")
    assert out == "\n_dta:\n  1.  from the HLM manual\n\nses:\n  1.  standardized\n  2.  second\n"
    assert ok(s, "notes drop ses in 1") == "(1 note dropped)\n"
    assert "note1" not in s.data.var("ses").chars
    assert ok(s, "notes ses") == "\nses:\n  2.  second\n"
    assert run(s, "notes nosuch: x")[0] == 111


# ---------------------------------------------------------------------------- codebook
def test_codebook_continuous(s, df):
    out = ok(s, "codebook ses")
    x = df.ses
    assert "                  Type: Numeric (double)" in out
    assert f"[{x.min():g},{x.max():g}]" in out and "Units: .001" in out
    assert f"Unique values: {x.nunique():<26}Missing .: 0/7,185" in out
    assert f"Std. dev.: {x.std():.6g}".replace("0.", ".") in out
    q = [np.percentile(x, p, method="averaged_inverted_cdf") for p in (10, 25, 50, 75, 90)]
    last = out.splitlines()[-1].split()
    np.testing.assert_allclose([float(v) for v in last], q)


def test_codebook_tabulation_and_compact(s, df):
    ok(s, "label define yn 0 no 1 yes")
    ok(s, "label values female yn")
    out = ok(s, "codebook female")
    c = df.female.value_counts().sort_index()
    assert f"{c[0]:,}".rjust(29) + "        0  no" in out
    assert f"{c[1]:,}".rjust(29) + "        1  yes" in out
    out = ok(s, "codebook id size if sector == 1, compact")
    d = df[df.sector == 1]
    row = next(ln for ln in out.splitlines() if ln.startswith("size"))
    assert row.split()[:3] == ["size", f"{len(d):,}", str(d["size"].nunique())]
    assert float(row.split()[4]) == d["size"].min() and float(row.split()[5]) == d["size"].max()
    ok(s, "generate one = 1")
    ok(s, "codebook, problems")
    assert s.r.macros["cons"] == "one"
