"""tab2 and two-way tabulate, summarize(): cells checked against pandas."""
import numpy as np
import pandas as pd
from hsb_fixtures import HSB, df, s  # noqa: F401  (fixtures)
from session_run import ok, run


def test_twoway_summarize_cells(s, df):
    out = ok(s, "tabulate sector female, summarize(mathach)")
    lines = out.splitlines()
    assert "Means, Standard Deviations and Frequencies of mathematics achievement score" in lines[1]
    g = df.groupby(["sector", "female"]).mathach
    body = [ln for ln in lines if "|" in ln and "+" not in ln][4:]
    cells = [[float(x) for x in ln.replace("|", " ").split()[-3:]] for ln in body if ln.strip(" |")]
    # row 0: mean, sd, freq; row 1: mean, sd, freq; Total: mean, sd, freq
    for i, sec in enumerate((0, 1)):
        m, sd, n = cells[3 * i: 3 * i + 3]
        np.testing.assert_allclose(m[:2], [g.mean()[(sec, 0)], g.mean()[(sec, 1)]], rtol=1e-6)
        np.testing.assert_allclose(sd[:2], [g.std()[(sec, 0)], g.std()[(sec, 1)]], rtol=1e-6)
        assert n[:2] == [g.size()[(sec, 0)], g.size()[(sec, 1)]]
        np.testing.assert_allclose(m[2], df.mathach[df.sector == sec].mean(), rtol=1e-6)
    np.testing.assert_allclose(cells[6][:2], df.groupby("female").mathach.mean(), rtol=1e-6)
    np.testing.assert_allclose(cells[7][2], df.mathach.std(), rtol=1e-6)
    assert s.r.scalars == {"N": 7185.0, "r": 2.0, "c": 2.0}
    out = ok(s, "tabulate sector female, summarize(mathach) means")
    assert "Means of mathematics" in out and "Frequencies" not in out


def test_tab2_all_pairs(s, df):
    out = ok(s, "tab2 sector female minority")
    heads = [ln.strip() for ln in out.splitlines() if ln.startswith("-> tabulation")]
    assert heads == ["-> tabulation of sector by female", "-> tabulation of sector by minority",
                     "-> tabulation of female by minority"]
    ct = pd.crosstab(df.female, df.minority)
    assert f"         1 |{ct.loc[1, 0]:10,} {ct.loc[1, 1]:10,} |{ct.loc[1].sum():10,} " in out
    assert s.r.scalars["N"] == 7185.0
    assert run(s, "tab2 sector")[0] == 102
