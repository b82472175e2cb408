"""parmest/parmby and sencode (Newson's SSC packages, built in).

References are computed here independently: OLS by numpy least squares, t and normal
quantiles and tail areas by scipy, per-group OLS for parmby; sencode's codes are the strings'
order of first appearance, found with a plain loop over the data."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hlmshell.session import Session
from tests.session_run import HSB_DTA, hsb_session, interp_session, iok, irun, ok, run

HSB = HSB_DTA


@pytest.fixture(scope="module")
def raw():
    return pd.read_stata(HSB)


def _session():
    return hsb_session()


def _ols(d, y, xs):
    X = np.column_stack([d[x].to_numpy(float) for x in xs] + [np.ones(len(d))])
    yv = d[y].to_numpy(float)
    b, *_ = np.linalg.lstsq(X, yv, rcond=None)
    e = yv - X @ b
    df = len(yv) - X.shape[1]
    V = (e @ e / df) * np.linalg.inv(X.T @ X)
    return b, np.sqrt(np.diag(V)), df


def _col(s, name):
    return np.asarray(s.data.var(name).values)


def test_parmest_regress_matches_ols(raw):
    s = _session()
    ok(s, 'label variable ses "Socio-economic status"')
    ok(s, "quietly regress mathach ses female")
    ok(s, "parmest, label level(90 99) stars(0.05 0.01) norestore")
    b, se, df = _ols(raw, "mathach", ["ses", "female"])
    assert list(_col(s, "parm")) == ["ses", "female", "_cons"]
    assert list(_col(s, "label")) == ["Socio-economic status", s.data.var("label").values[1], "Constant"]
    np.testing.assert_allclose(_col(s, "estimate"), b, rtol=1e-9)
    np.testing.assert_allclose(_col(s, "stderr"), se, rtol=1e-9)
    assert set(_col(s, "dof")) == {df}
    np.testing.assert_allclose(_col(s, "t"), b / se, rtol=1e-9)
    np.testing.assert_allclose(_col(s, "p"), 2 * stats.t.sf(np.abs(b / se), df), rtol=1e-6, atol=1e-300)
    for lev in (90, 99):
        q = stats.t.ppf(1 - (1 - lev / 100) / 2, df)
        np.testing.assert_allclose(_col(s, f"min{lev}"), b - q * se, rtol=1e-9)
        np.testing.assert_allclose(_col(s, f"max{lev}"), b + q * se, rtol=1e-9)
    assert s.data.var("min90").chars.get("level") == "90"
    assert "z" not in s.data and "eq" not in s.data
    assert list(_col(s, "stars")) == ["**", "**", "**"]


def test_parmest_eform_z_and_equations(raw):
    s = _session()
    ok(s, "generate hi = mathach > 13")
    ok(s, "quietly logit hi ses")
    b = np.asarray(s.e.b, dtype=float).reshape(-1)
    se = np.sqrt(np.diag(np.asarray(s.e.V, dtype=float)))
    ok(s, "parmest, eform norestore idnum(7) idstr(m1) escal(N) emac(cmd)")
    np.testing.assert_allclose(_col(s, "estimate"), np.exp(b), rtol=1e-10)
    np.testing.assert_allclose(_col(s, "stderr"), se * np.exp(b), rtol=1e-10)
    np.testing.assert_allclose(_col(s, "z"), b / se, rtol=1e-10)
    q = stats.norm.ppf(0.975)
    np.testing.assert_allclose(_col(s, "min95"), np.exp(b - q * se), rtol=1e-9)
    assert "dof" not in s.data and set(_col(s, "idnum")) == {7}
    assert set(_col(s, "idstr")) == {"m1"} and set(_col(s, "em_1")) == {"logit"}
    assert set(_col(s, "es_1")) == {7185}
    s2 = _session()
    ok(s2, "quietly mixed mathach ses || id:")
    ok(s2, "parmest, norestore")
    assert list(_col(s2, "eq")) == ["mathach", "mathach", "lns1_1_1", "lnsig_e"]


def test_parmest_keeps_data_unless_norestore_and_saves(tmp_path):
    s = _session()
    ok(s, "quietly regress mathach ses")
    n0 = s.data.n
    out = ok(s, "parmest, list(parm estimate) format(estimate %8.3f)")
    assert s.data.n == n0 and "mathach" in s.data
    assert "   ses " in out and "_cons" in out
    f = tmp_path / "pe.dta"
    ok(s, f'parmest, saving("{f}") flist(FL)')
    assert f.exists() and s.globals["FL"] == str(f)
    rc, out = run(s, f'parmest, saving("{f}")')
    assert rc == 602
    ok(s, f'parmest, saving("{f}", replace) rename(estimate b stderr se)')
    s2 = Session()
    ok(s2, f'use "{f}", clear')
    assert "b" in s2.data and "se" in s2.data and "estimate" not in s2.data


def test_parmby_matches_per_group_ols(raw):
    s = _session()
    ok(s, 'parmby "regress mathach ses", by(sector) norestore command')
    assert list(_col(s, "parmseq")) == [1, 2, 1, 2]
    assert set(_col(s, "command")) == {"regress mathach ses"}
    for k, sec in enumerate((0, 1)):
        b, se, df = _ols(raw[raw.sector == sec], "mathach", ["ses"])
        np.testing.assert_allclose(_col(s, "estimate")[2 * k:2 * k + 2], b, rtol=1e-9)
        np.testing.assert_allclose(_col(s, "stderr")[2 * k:2 * k + 2], se, rtol=1e-9)
        assert _col(s, "sector")[2 * k] == sec and _col(s, "dof")[2 * k] == df


@pytest.mark.parametrize("line, rc", [
    ("parmest", 198),                        # no output destination
    ("parmest, list(parm) level(100)", 198),
    ("parmest, norestore format(estimate %s)", 120),
    ("parmest, norestore rename(estimate)", 198),
    ("parmest, norestore mcompare(foo)", 198),
    ('parmby regress mathach ses, norestore', 198),
])
def test_parmest_bad_input_changes_nothing(line, rc):
    s = _session()
    ok(s, "quietly regress mathach ses")
    before = (s.data.n, list(s.data.names))
    got, out = run(s, line)
    assert got == rc, out
    assert (s.data.n, list(s.data.names)) == before


def test_parmest_needs_estimates():
    s = _session()
    assert run(s, "parmest, norestore")[0] == 301


def test_sencode_order_of_appearance_and_many():
    s = interp_session("clear", 'input str5 town x\n"york" 1\n"ayr" 2\n"york" 3\n"zug" 4\n'
                       '"" 5\n"ayr" 6\nend')
    ok(s, "sencode town, generate(t1)")
    first = []
    for v in ["york", "ayr", "york", "zug", "", "ayr"]:
        if v and v not in first:
            first.append(v)
    want = [first.index(v) + 1 if v else np.nan for v in ["york", "ayr", "york", "zug", "", "ayr"]]
    np.testing.assert_array_equal(_col(s, "t1"), want)
    assert s.data.value_labels["t1"] == {1.0: "york", 2.0: "ayr", 3.0: "zug"}
    ok(s, "encode town, generate(t2)")            # encode is alphabetical: ayr=1
    assert _col(s, "t2")[1] == 1
    ok(s, "sencode town, generate(t3) gsort(-x)")
    assert _col(s, "t3")[5] == 1 and _col(s, "t3")[3] == 2    # ayr (x=6) first, then zug
    ok(s, "sencode town if x < 4, generate(t4) many")
    np.testing.assert_array_equal(_col(s, "t4"), [1, 2, 3, np.nan, np.nan, np.nan])
    ok(s, "sencode town, replace label(tl)")
    assert not s.data.var("town").is_string and s.data.names[0] == "town"
    assert s.data.var("town").vallab == "tl"


@pytest.mark.parametrize("line, rc", [
    ("sencode x, generate(y)", 107),
    ("sencode town", 198),
    ("sencode town, generate(y) replace", 198),
    ("sencode town, generate(x)", 110),
    ("sencode town, generate(y) label(1bad)", 198),
    ("sencode nosuch, generate(y)", 111),
])
def test_sencode_bad_input(line, rc):
    s = interp_session("clear", 'input str5 town x\n"a" 1\nend')
    got, out = run(s, line)
    assert got == rc, out
    assert s.data.names == ["town", "x"]


def test_sdecode_labels_formats_and_options():
    s = interp_session("clear", "input x\n1\n2.5\n.a\n3\nend",
                       'label define xl 1 "one" 3 "three"', "label values x xl")
    iok(s, "sdecode x, gen(s1)")
    assert [v.strip() for v in s.data.values("s1")] == ["one", "2.5", "", "three"]
    iok(s, 'sdecode x, gen(s2) missing ftrim prefix("<") suffix(">")')
    assert list(s.data.values("s2")) == ["<one>", "<2.5>", "<.a>", "<three>"]
    iok(s, "sdecode x, gen(s3) labonly")
    assert list(s.data.values("s3")) == ["one", "", "", "three"]
    iok(s, "sdecode x in 1/2, gen(s4) format(%6.2f) ftrim")
    assert list(s.data.values("s4")) == ["one", "2.50", "", ""]
    iok(s, "sdecode x, replace")
    assert s.data.var("x").is_string and s.data.names[0] == "x"


@pytest.mark.parametrize("line, rc", [("sdecode x", 198), ("sdecode x, gen(y) replace", 198),
                                      ("sdecode s, gen(y)", 108), ("sdecode x, gen(x)", 110),
                                      ("sdecode x, gen(y) format(%5s)", 120)])
def test_sdecode_bad_input(line, rc):
    s = interp_session("clear", 'input x str3 s\n1 "a"\nend')
    got, out = irun(s, line)
    assert got == rc, out
    assert s.data.names == ["x", "s"]
