"""mkspline against Hmisc::rcspline.eval (tests/data/splines/rcs_reference.json) and the
piecewise definitions written out in numpy; contract/sample/cross/joinby/split/separate/
xpose/outsheet against pandas (value_counts, merge how='cross' and inner merges, str.split)."""
import json
import os

import numpy as np
import pandas as pd
import pytest

from hsb_fixtures import df, s  # noqa: F401
from session_run import ok, run

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "splines", "rcs_reference.json")))


def col(s, name):
    return s.data.var(name).values.astype(float)


def test_linear_spline_default_and_marginal(s, df):
    ok(s, "mkspline a1 -0.5 a2 0.5 a3 = ses")
    x = df.ses.to_numpy(float)
    assert col(s, "a1") == pytest.approx(np.where(x < -0.5, x, -0.5))
    assert col(s, "a2") == pytest.approx(np.where(x < -0.5, 0, np.where(x < 0.5, x + 0.5, 1.0)))
    assert col(s, "a3") == pytest.approx(np.where(x > 0.5, x - 0.5, 0))
    assert col(s, "a1") + col(s, "a2") + col(s, "a3") == pytest.approx(x, abs=1e-6)
    ok(s, "mkspline b1 0 b2 = ses, marginal")
    assert col(s, "b2") == pytest.approx(np.clip(x, 0, None))


def test_equal_and_pctile_knots(s, df):
    ok(s, "mkspline e 4 = ses, displayknots")
    x = df.ses.to_numpy(float)
    lo, hi = x.min(), x.max()
    assert s.r.matrices["knots"].ravel() == pytest.approx([lo + i * (hi - lo) / 4 for i in (1, 2, 3)], rel=1e-6)
    ok(s, "mkspline q 2 = ses, pctile")
    med = np.median(x)   # n even: summarize's 50th percentile is the midpoint, as numpy's
    assert col(s, "q1") == pytest.approx(np.minimum(x, med), abs=1e-6)


def test_cubic_matches_hmisc(s):
    knots = " ".join(str(k) for k in REF["knots"])
    ok(s, f"mkspline c = ses in 1/50, cubic knots({knots})")
    got = np.column_stack([col(s, f"c{i}")[:50] for i in range(1, 5)])
    assert got == pytest.approx(np.array(REF["basis"]), abs=2e-6)   # float storage
    assert np.isnan(col(s, "c1")[50:]).all()


def test_contract(s, df):
    ok(s, "contract sector minority, percent(pct) cfreq(cf)")
    ref = df.groupby(["sector", "minority"]).size()
    assert col(s, "_freq") == pytest.approx(ref.to_numpy())
    assert col(s, "cf") == pytest.approx(np.cumsum(ref.to_numpy()))
    assert col(s, "pct") == pytest.approx(100 * ref.to_numpy() / len(df), abs=1e-4)


def test_sample_sizes(s, df):
    ok(s, "set seed 7")
    out = ok(s, "sample 10")
    assert s.data.n == int(np.floor(len(df) * 0.1 + 0.5)) and "observations deleted" in out
    ok(s, "sample 3, count by(sector)")
    assert s.data.n == 6


def test_cross_and_joinby(s, df, tmp_path):
    path = tmp_path / "sect.dta"
    ok(s, "preserve")
    ok(s, "collapse (mean) meanses, by(sector)")
    ok(s, f'save "{path}"')
    ok(s, "restore")
    ok(s, "keep in 1/5")
    ok(s, "keep id ses sector")
    ok(s, "preserve")
    ok(s, "drop sector")
    ok(s, f'cross using "{path}"')
    assert s.data.n == 10 and s.data.names == ["id", "ses", "sector", "meanses"]
    ok(s, "restore")
    ok(s, f'joinby sector using "{path}"')
    means = df.groupby("sector").meanses.mean()
    assert col(s, "meanses") == pytest.approx(np.full(5, means[0]), rel=1e-6)


def test_split_and_separate(s, df):
    ok(s, 'generate str20 txt = string(id) + "-" + string(sector)')
    out = ok(s, 'split txt, parse("-") generate(p) destring')
    ref = (df.id.astype(int).astype(str) + "-" + df.sector.astype(int).astype(str)).str.split("-", expand=True)
    assert col(s, "p1") == pytest.approx(ref[0].astype(float).to_numpy())
    assert s.r.scalars["nvars"] == 2 and "variables created as numeric" in out
    ok(s, "separate mathach, by(sector)")
    x = df.mathach.to_numpy(float)
    assert np.nansum(col(s, "mathach1")) == pytest.approx(x[df.sector == 1].sum(), rel=1e-6)
    assert s.data.var("mathach0").label == "mathach, sector == 0"


def test_xpose_and_outsheet(s, df, tmp_path):
    path = tmp_path / "o.csv"
    ok(s, f'outsheet id ses using "{path}" in 1/4, comma')
    back = pd.read_csv(path)
    assert back.ses.to_numpy() == pytest.approx(df.ses[:4].to_numpy(), abs=1e-6)
    ok(s, "keep in 1/3")
    ok(s, "keep ses mathach")
    ok(s, "xpose, clear varname")
    assert col(s, "v2") == pytest.approx([df.ses[1], df.mathach[1]], rel=1e-6)
    assert list(s.data.var("_varname").values) == ["ses", "mathach"]


@pytest.mark.parametrize("line,rc", [
    ("mkspline a 0 b = nosuch", 111), ("mkspline a 1 b 0 c = ses", 198), ("mkspline a 0 b", 198),
    ("mkspline ses 0 b = ses", 110), ("mkspline c = ses, cubic nknots(9)", 198),
    ("contract nosuch", 111), ("sample 200", 198), ("sample abc", 198), ("cross using nosuchfile", 601),
    ("split ses", 109), ("separate mathach", 198), ("xpose", 198), ("outsheet using x.csv, bogus", 198)])
def test_bad_input(s, line, rc):
    assert run(s, line)[0] == rc
