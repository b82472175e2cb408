"""table (Stata 17 and Stata 16's contents()): every cell against pandas/numpy, the layout,
options, errors with Stata's codes and an unchanged session."""
import numpy as np
import pytest
from hsb_fixtures import HSB, df, s  # noqa: F401  (fixtures)
from session_run import ok, run


def _rows(out):
    """{stub text stripped: [cells]} for the body lines (after the header rule)."""
    lines = out.splitlines()
    k = next(i for i, ln in enumerate(lines) if "+" in ln and set(ln) <= {"-", "+"})
    res = {}
    for ln in lines[k + 1:]:
        if "|" not in ln:
            continue
        stub, _, cells = ln.partition("|")
        res.setdefault(stub.strip(), []).append(cells.split())
    return res


def _num(t):
    return float(t.replace(",", ""))


def _pct(x, p):
    return np.percentile(x, p, method="averaged_inverted_cdf")


def test_oneway_frequency_layout(s, df):
    out = ok(s, "table sector").splitlines()
    n0, n1 = (df.sector == 0).sum(), (df.sector == 1).sum()
    lab = "1 if Catholic school, 0 if public"
    w = len(lab)
    assert out[1] == "-" * (w + 2 + 11)
    assert out[2] == " " * w + " |  Frequency"
    assert out[3] == "-" * (w + 1) + "+" + "-" * 11
    assert out[4] == lab + " |"
    assert out[5] == "  0".ljust(w) + f" |  {n0:>9,}"
    assert out[6] == "  1".ljust(w) + f" |  {n1:>9,}"
    assert out[7] == "  Total".ljust(w) + f" |  {n0 + n1:>9,}"
    assert out[8] == out[1]


def test_frequency_and_percent(s, df):
    r = _rows(ok(s, "table female, statistic(frequency) statistic(percent)"))
    n = len(df)
    for lev in (0, 1):
        f = (df.female == lev).sum()
        assert r[str(lev)][0] == [f"{f:,}", f"{100 * f / n:.2f}"]
    assert r["Total"][0] == [f"{n:,}", "100.00"]


def test_twoway_frequencies_and_header(s, df):
    out = ok(s, "table sector female")
    lines = out.splitlines()
    assert lines[2].split("|")[1].strip() == "1 if student is female"
    assert lines[3].split("|")[1] == "      0       1    Total"
    ct = df.groupby(["sector", "female"]).size()
    r = _rows(out)
    for sec in (0, 1):
        want = [ct[(sec, 0)], ct[(sec, 1)], ct[(sec, 0)] + ct[(sec, 1)]]
        assert [_num(t) for t in r[str(sec)][0]] == want
    assert [_num(t) for t in r["Total"][0]] == [(df.female == 0).sum(), (df.female == 1).sum(), len(df)]


def test_oneway_statistics_against_pandas(s, df):
    out = ok(s, "table sector, statistic(mean mathach) statistic(sd mathach) statistic(median mathach) "
                "statistic(p25 mathach) statistic(min mathach) statistic(max mathach) statistic(sum mathach) "
                "statistic(count mathach) statistic(variance mathach) statistic(iqr mathach) "
                "statistic(semean mathach) statistic(cv mathach) statistic(rawsum mathach) nformat(%12.6f)")
    assert "Standard deviation" in out and "25th percentile" in out and "Interquartile range" in out
    r = _rows(out)
    for key, sub in (("0", df[df.sector == 0]), ("1", df[df.sector == 1]), ("Total", df)):
        x = sub.mathach.to_numpy()
        want = [x.mean(), x.std(ddof=1), _pct(x, 50), _pct(x, 25), x.min(), x.max(), x.sum(), len(x),
                x.var(ddof=1), _pct(x, 75) - _pct(x, 25), x.std(ddof=1) / np.sqrt(len(x)),
                x.std(ddof=1) / x.mean(), x.sum()]
        np.testing.assert_allclose([_num(t) for t in r[key][0]], want, rtol=0, atol=1e-6)


def test_twoway_mean_default_format(s, df):
    r = _rows(ok(s, "table (sector) (female), statistic(mean mathach)"))
    m = df.groupby(["sector", "female"]).mathach.mean()
    for sec in (0, 1):
        cells = [_num(t) for t in r[str(sec)][0]]
        want = [m[(sec, 0)], m[(sec, 1)], df[df.sector == sec].mathach.mean()]
        np.testing.assert_allclose(cells, want, rtol=1e-6)
        assert r[str(sec)][0][0] == f"{m[(sec, 0)]:.7g}"


def test_twoway_several_statistics_in_rows(s, df):
    out = ok(s, "table sector female, statistic(mean mathach) statistic(sd mathach) nformat(%9.2f)")
    lines = out.splitlines()
    i = lines.index(next(ln for ln in lines if ln.startswith("  1 ")))
    assert lines[i + 1].startswith("    Mean ")
    assert lines[i + 2].startswith("    Standard deviation ")
    g = df[df.sector == 1].groupby("female").mathach
    assert lines[i + 1].split("|")[1].split() == [f"{g.mean()[0]:.2f}", f"{g.mean()[1]:.2f}",
                                                  f"{df[df.sector == 1].mathach.mean():.2f}"]
    assert lines[i + 2].split("|")[1].split()[:2] == [f"{g.std()[0]:.2f}", f"{g.std()[1]:.2f}"]


def test_nototals_totals_and_if(s, df):
    out = ok(s, "table sector female if minority == 1, nototals")
    assert "Total" not in out
    sub = df[df.minority == 1]
    r = _rows(out)
    assert [_num(t) for t in r["0"][0]] == list(sub[sub.sector == 0].groupby("female").size())
    out = ok(s, "table sector female, totals(sector)")
    lines = out.splitlines()
    assert "Total" not in lines[3]
    assert "Total" in _rows(out)


def test_fweights_and_aweights(s, df):
    r = _rows(ok(s, "table sector [fw=size]"))
    assert _num(r["0"][0][0]) == df[df.sector == 0]["size"].sum()
    r = _rows(ok(s, "table sector [aw=size], statistic(mean mathach) nformat(%12.6f)"))
    sub = df[df.sector == 1]
    assert _num(r["1"][0][0]) == pytest.approx(np.average(sub.mathach, weights=sub["size"]), abs=1e-6)


def test_value_labels_and_nested_columns(s, df):
    ok(s, 'label define sec 0 "Public" 1 "Catholic"')
    ok(s, "label values sector sec")
    r = _rows(ok(s, "table sector"))
    assert "Public" in r and "Catholic" in r
    out = ok(s, "table (sector) (female minority), nototals")
    r = _rows(out)
    ct = df.groupby(["sector", "female", "minority"]).size()
    assert [_num(t) for t in r["Catholic"][0]] == [ct[(1, f, m)] for f in (0, 1) for m in (0, 1)]


def test_table_variable_gives_a_table_per_level(s, df):
    out = ok(s, "table sector female minority, nototals")
    assert "1 if student is a minority = 0" in out and "1 if student is a minority = 1" in out


def test_contents_oneway_stata16_layout(s, df):
    out = ok(s, "table sector, contents(freq mean mathach sd mathach)").splitlines()
    assert out[5].endswith("|         Freq.  mean(mathach)    sd(mathach)")
    x = df[df.sector == 0].mathach
    assert out[7] == f"{'0':>9} |" + f"{(df.sector == 0).sum():>14}{x.mean():>15.7g}{x.std():>15.7g}"


def test_contents_twoway_row_col_format(s, df):
    out = ok(s, "table sector female, contents(mean mathach sd mathach) format(%9.2f) row col")
    lines = out.splitlines()
    assert lines[5].split("|")[1].split() == ["0", "1", "Total"]
    i = next(k for k, ln in enumerate(lines) if ln.startswith("        1 |"))
    sub = df[df.sector == 1]
    g = sub.groupby("female").mathach
    assert lines[i].split("|")[1].split() == [f"{g.mean()[0]:.2f}", f"{g.mean()[1]:.2f}", f"{sub.mathach.mean():.2f}"]
    assert lines[i + 1].split("|")[1].split() == [f"{g.std()[0]:.2f}", f"{g.std()[1]:.2f}", f"{sub.mathach.std():.2f}"]
    assert any(ln.strip().startswith("Total |") for ln in lines)
    assert lines[-1] == "-" * len(lines[-1])


def test_contents_by_superrows(s, df):
    """Stata 16's by(): a group per level of the by-variable, headed by its value, cells
    computed within it (the Stata 17 syntax refuses by())."""
    out = ok(s, "table sector female, contents(mean mathach) by(minority) format(%9.3f)")
    lines = out.splitlines()
    heads = [i for i, ln in enumerate(lines) if ln.split("|")[0].rstrip() in ("0", "1")
             and ln.split("|")[1].strip() == ""]
    assert len(heads) == 2 and set(lines[heads[1] - 1]) <= {"-", "+"}
    for h, m in zip(heads, (0, 1)):
        sub = df[df.minority == m]
        for k, sec in enumerate((0, 1)):
            g = sub[sub.sector == sec].groupby("female").mathach.mean()
            assert lines[h + 1 + k].split("|")[1].split() == [f"{g[0]:.3f}", f"{g[1]:.3f}"]
    assert run(s, "table sector, statistic(mean mathach) by(minority)")[0] == 198


@pytest.mark.parametrize("line, rc", [
    ("table sector, statistic(foo mathach)", 198),
    ("table sector, statistic(mean)", 100),
    ("table sector, statistic(frequency mathach)", 198),
    ("table sector, nformat(%q)", 120),
    ("table nosuch", 111),
    ("table sector if sector > 5", 2000),
    ("table sector, bogus", 198),
    ("table sector, format(%9.2f)", 198),
    ("table sector, contents(mean)", 100),
    ("table sector, contents(freq freq freq freq freq freq)", 198),
    ("table sector [pw=size]", 101),
    ("table sector, totals(sector) nototals", 198),
])
def test_errors_leave_session(s, line, rc):
    before = (s.data.n, list(s.data.names))
    code, out = run(s, line)
    assert code == rc, out
    assert (s.data.n, list(s.data.names)) == before
