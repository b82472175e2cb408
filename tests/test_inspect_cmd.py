"""inspect: counts against numpy, Stata 16/17's layout, r(), value-label notes, errors."""
import math

import numpy as np
from hsb_fixtures import HSB, df, s  # noqa: F401  (fixtures)
from session_run import ok, run


def _counts(x):
    x = x[~np.isnan(x)]
    isint = x == np.floor(x)
    return {"N": len(x), "N_neg": int((x < 0).sum()), "N_0": int((x == 0).sum()),
            "N_pos": int((x > 0).sum()), "N_negint": int(((x < 0) & isint).sum()),
            "N_posint": int(((x > 0) & isint).sum()), "uniq": len(np.unique(x))}


def _c(n):
    return "-" if n == 0 else f"{n:,}"


def test_counts_and_r_against_numpy(s, df):
    for v in ("mathach", "ses", "size", "female", "meanses"):
        ok(s, f"inspect {v}")
        want = _counts(df[v].to_numpy(dtype=float))
        r = s.r.scalars
        for k in ("N", "N_neg", "N_0", "N_pos", "N_negint", "N_posint"):
            assert r[k] == want[k], (v, k)
        if want["uniq"] <= 99:
            assert r["N_unique"] == want["uniq"]
        else:
            assert math.isnan(r["N_unique"])


def test_layout_lines(s, df):
    out = ok(s, "inspect ses").splitlines()
    x = df["ses"].to_numpy()
    c = _counts(x)
    assert out[1] == "ses:  socio-economic status (standardized)      Number of Observations"
    assert out[2] == "-" * 42 + " " + "-" * 39
    assert out[3] == " " * 39 + "      Total      Integers   Nonintegers"
    assert out[4].startswith("|") and out[4][29:] == (
        f"Negative{_c(c['N_neg']):>13}{_c(c['N_negint']):>14}{_c(c['N_neg'] - c['N_negint']):>14}")
    assert out[6][29:] == f"Positive{_c(c['N_pos']):>13}{'-':>14}{_c(c['N_pos']):>14}"
    assert out[7][39:] == "-----------   -----------   -----------"
    assert out[8][29:] == f"Total{_c(c['N']):>16}{'-':>14}{_c(c['N']):>14}"
    assert out[9][29:] == "Missing" + "-".rjust(14)
    assert out[10] == "+" + "-" * 22 + " " * 16 + "-" * 11
    lo, hi = f"{x.min():.4g}", f"{x.max():.4g}"
    assert out[11] == lo + " " * (23 - len(lo) - len(hi)) + hi + "7,185".rjust(50 - 23)
    assert out[12] == "(More than 99 unique values)"


def test_histogram_two_values(s, df):
    out = ok(s, "inspect sector").splitlines()
    n0, n1 = (df["sector"] == 0).sum(), (df["sector"] == 1).sum()
    h1 = int(6 * n1 / n0)                 # bars scaled to the tallest, six rows
    bars = [line[:8] for line in out[4:10]]
    for r, b in enumerate(bars):
        assert b[3] == "#"
        assert b[7] == ("#" if r >= 6 - h1 else " ")
    assert out[11].split() == ["0", "1", "7,185"]
    assert out[12] == "   (2 unique values)"


def test_if_in_and_missing(s, df):
    ok(s, "generate y = mathach if ses > 0")
    out = ok(s, "inspect y in 1/500").splitlines()
    x = df["mathach"].to_numpy()[:500].copy()
    x[df["ses"].to_numpy()[:500] <= 0] = np.nan
    c = _counts(x)
    assert s.r.scalars["N"] == c["N"]
    assert out[9][29:] == "Missing" + f"{int(np.isnan(x).sum()):,}".rjust(14)
    assert out[11].endswith("500")
    ok(s, "inspect mathach if sector == 1")
    assert s.r.scalars["N"] == (df["sector"] == 1).sum()


def test_value_label_notes(s):
    ok(s, 'label define sec 0 "public" 1 "catholic"')
    ok(s, "label values sector sec")
    out = ok(s, "inspect sector")
    assert "      sector is labeled and all values are documented in the label." in out
    assert s.r.scalars["N_undoc"] == 0
    ok(s, 'label define fem 1 "female"')
    ok(s, "label values female fem")
    out = ok(s, "inspect female")
    assert "      female is labeled but 1 value is NOT documented in the label." in out
    assert s.r.scalars["N_undoc"] == 1
    ok(s, "inspect ses")
    assert "N_undoc" not in s.r.scalars


def test_string_and_all_missing(s):
    ok(s, 'generate str5 name = "a"')
    out = ok(s, "inspect name").splitlines()
    assert out[11].split() == [".", "-9.0e+307", "7,185"]
    assert out[12] == "   (0 unique value)"
    assert s.r.scalars["N"] == 0


def test_all_variables_by_default(s):
    out = ok(s, "inspect")
    assert out.count("Number of Observations") == len(s.data.names)


def test_errors_leave_session(s):
    before = s.data.var("mathach").values.copy()
    for line, rc in (("inspect nosuch", 111), ("inspect mathach, detail", 198),
                     ("inspect mathach [fw=size]", 101)):
        code, _ = run(s, line)
        assert code == rc, line
    np.testing.assert_array_equal(s.data.var("mathach").values, before)
