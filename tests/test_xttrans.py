"""xttrans: transition percentages of a variable between successive periods of each panel,
checked against a pandas computation of the same transitions (the value at t + 1 in the same
panel; gaps in time are not transitions)."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture()
def panel():
    rng = np.random.default_rng(7)
    rows = []
    for i in range(1, 41):
        years = sorted(rng.choice(np.arange(1, 9), size=rng.integers(2, 8), replace=False))
        for t in years:
            rows.append((i, int(t), int(rng.integers(0, 3))))
    df = pd.DataFrame(rows, columns=["id", "year", "st"])
    s = Session(out=Capture())
    ok(s, f"set obs {len(df)}")
    for c in df.columns:
        ok(s, f"gen {c} = .")
        s.data.update(c, values=df[c].to_numpy(dtype=float))
    ok(s, "xtset id year")
    return s, df


def _expected(df):
    nxt = df.merge(df.assign(year=df.year - 1), on=["id", "year"], how="left", suffixes=("", "_n"))
    nxt = nxt.dropna(subset=["st_n"])
    return pd.crosstab(nxt.st, nxt.st_n)


def test_percentages_and_counts(panel):
    s, df = panel
    tab = _expected(df)
    before = (list(s.data.vars), s.data.changed, list(s.data.sortedby))
    out = ok(s, "xttrans st, freq")
    assert s.r.scalars["N"] == tab.to_numpy().sum()
    pct = 100 * tab.div(tab.sum(axis=1), axis=0)
    for a in tab.index:
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(f"{int(a)} |"))
        counts = [float(v.replace(",", "")) for v in line.split("|")[1].split()]
        assert counts == pytest.approx(tab.loc[a].to_list())
    out = ok(s, "xttrans st")
    for a in tab.index:
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(f"{int(a)} |"))
        shown = [float(v) for v in line.split("|")[1].split()]
        assert shown == pytest.approx(pct.loc[a].to_list(), abs=0.006)
    assert (list(s.data.vars), s.data.changed, list(s.data.sortedby)) == before


def test_errors(panel):
    s, _ = panel
    assert run(s, "xttrans")[0] == 100
    assert run(s, "xttrans st id")[0] == 103
    assert run(s, "xttrans st if id > 100")[0] == 2000
    ok(s, 'gen str3 lab = "a"')
    assert run(s, "xttrans lab")[0] == 109
    ok(s, "xtset, clear")
    rc, out = run(s, "xttrans st")
    assert rc == 459
