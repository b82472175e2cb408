"""tabstat: statistics checked against pandas/numpy, layout, r() under save, errors."""
import numpy as np
from hsb_fixtures import HSB, df, s  # noqa: F401  (fixtures)
from scipy import stats as sps
from session_run import ok, run


def _r(s, name):
    return s.r.matrices[name]


def test_default_layout(s, df):
    out = ok(s, "tabstat mathach ses")
    lines = out.splitlines()
    assert lines[1] == "   Stats |   mathach       ses"
    assert lines[2] == "---------+--------------------"
    m = df[["mathach", "ses"]].mean()
    assert lines[3] == f"    Mean |  {m['mathach']:.7g}  {m['ses']:.4g}".replace("0.0", ".0")
    assert lines[4] == "-" * 30


def test_statistics_against_pandas(s, df):
    ok(s, "tabstat mathach ses, statistics(n mean sd var min max range sum cv semean skew kurt) save")
    m = _r(s, "StatTotal")
    assert m.rownames == ["N", "mean", "sd", "variance", "min", "max", "range", "sum", "cv",
                          "se(mean)", "skewness", "kurtosis"]
    assert m.colnames == ["mathach", "ses"]
    for j, v in enumerate(["mathach", "ses"]):
        x = df[v].to_numpy()
        want = [len(x), x.mean(), x.std(ddof=1), x.var(ddof=1), x.min(), x.max(), np.ptp(x), x.sum(),
                x.std(ddof=1) / x.mean(), x.std(ddof=1) / np.sqrt(len(x)),
                sps.skew(x), sps.kurtosis(x, fisher=False)]
        np.testing.assert_allclose(m.values[:, j], want, rtol=1e-9)


def test_percentiles_are_statas_definition(s, df):
    """Stata's percentiles average at exact positions: R's quantile type 2."""
    ok(s, "tabstat mathach ses, statistics(p1 p5 p10 q p90 p95 p99 iqr median) save")
    m = _r(s, "StatTotal").values
    for j, v in enumerate(["mathach", "ses"]):
        x = df[v].to_numpy()
        q = [np.percentile(x, p, method="averaged_inverted_cdf") for p in (1, 5, 10, 25, 50, 75, 90, 95, 99)]
        want = q + [q[5] - q[3], q[4]]
        np.testing.assert_allclose(m[:, j], want, rtol=1e-12)


def test_by_groups_and_r(s, df):
    out = ok(s, "tabstat mathach ses, statistics(mean sd) by(sector) save")
    assert "Summary statistics: Mean, SD" in out
    assert "Group variable: sector (1 if Catholic school, 0 if public)" in out
    g = df.groupby("sector")
    for k, lev in enumerate([0, 1], start=1):
        m = _r(s, f"Stat{k}").values
        np.testing.assert_allclose(m[0], g.mean().loc[lev, ["mathach", "ses"]], rtol=1e-12)
        np.testing.assert_allclose(m[1], g.std().loc[lev, ["mathach", "ses"]], rtol=1e-12)
        assert s.r.macros[f"name{k}"] == str(lev)
    assert out.splitlines()[-2].startswith("         |")      # the Total block's sd row
    assert "   Total |" in out
    out = ok(s, "tabstat mathach, by(sector) nototal")
    assert "Total" not in out


def test_columns_statistics_and_format(s, df):
    out = ok(s, "tabstat mathach ses, statistics(mean sd) columns(statistics) format(%8.2f)")
    lines = out.splitlines()
    assert lines[1] == "    Variable |      Mean        SD"
    x = df["mathach"]
    assert lines[3] == f"     mathach |{x.mean():10.2f}{x.std():10.2f}"


def test_weights_and_if(s, df):
    ok(s, "tabstat mathach if sector == 1 [fw=female+1], statistics(n mean sd) save")
    d = df[df.sector == 1]
    w = d.female + 1
    x = d.mathach
    mean = np.average(x, weights=w)
    sd = np.sqrt((w * (x - mean) ** 2).sum() / (w.sum() - 1))
    np.testing.assert_allclose(_r(s, "StatTotal").values[:, 0], [w.sum(), mean, sd], rtol=1e-12)
    ok(s, "tabstat mathach [aw=size], statistics(n mean) save")
    np.testing.assert_allclose(_r(s, "StatTotal").values[:, 0],
                               [len(df), np.average(df.mathach, weights=df["size"])], rtol=1e-12)


def test_errors_leave_session(s):
    assert run(s, "tabstat mathach, statistics(foo)")[0] == 198
    assert run(s, "tabstat mathach [pw=ses]")[0] == 101
    assert run(s, "tabstat mathach, columns(nonsense)")[0] == 198
    assert run(s, "tabstat mathach if 0")[0] == 2000
    assert run(s, "tabstat")[0] == 100
    ok(s, 'generate str3 t = "a"')
    assert run(s, "tabstat t")[0] == 109
