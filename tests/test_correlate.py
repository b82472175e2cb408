"""correlate and pwcorr: numbers against numpy/pandas/scipy, Stata's layout, r(), errors."""
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hlmshell.registry import resolve
from hlmshell.errors import StataError
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.parser import parse_command

from datacmd import run, s  # noqa: F401 (fixture)

HSB = Path(__file__).resolve().parents[1] / "hlmshell" / "sample_data" / "hsb.dta"
HEAD13 = " " * 13 + "|"


@pytest.fixture(scope="module")
def ref():
    return pd.read_stata(HSB)


def rows_of(out: str) -> dict[str, list[str]]:
    """Table rows 'name | cells' -> the cell texts (9-character columns after '|')."""
    got = {}
    for ln in out.splitlines():
        m = re.match(r"^(.{12}) \|(.*)$", ln)
        if m and m.group(1).strip():
            body = m.group(2)
            got[m.group(1).strip()] = [body[k:k + 9] for k in range(0, len(body), 9)]
    return got


def missing_fixture(s, ref):
    """ses missing in 1/100, mathach missing in 50/300, in the session and in a pandas copy."""
    run(s, "replace ses = . in 1/100")
    run(s, "replace mathach = . in 50/300")
    df = ref.copy()
    df.loc[0:99, "ses"] = np.nan
    df.loc[49:299, "mathach"] = np.nan
    return df


# ----------------------------------------------------------------------------- correlate
def test_correlate_layout_two_variables(s, ref):
    out = run(s, "correlate mathach ses")
    lines = out.split("\n")
    assert lines[0] == "(obs=7,185)"
    assert lines[1] == ""
    assert lines[2] == HEAD13 + "  mathach" + "      ses"
    assert lines[3] == "-" * 13 + "+" + "-" * 18
    rho = np.corrcoef(ref["mathach"], ref["ses"])[0, 1]
    assert lines[4] == "     mathach |" + f"{1:9.4f}"
    assert lines[5] == "         ses |" + f"{rho:9.4f}" + f"{1:9.4f}"
    assert lines[6] == "" and out.endswith("\n\n")


def test_correlate_numbers_and_r(s, ref):
    names = ["mathach", "ses", "female", "minority", "meanses"]
    out = run(s, "corr " + " ".join(names))
    want = ref[names].corr().to_numpy()
    r = s.r
    assert r.scalars["N"] == len(ref)
    assert r.scalars["rho"] == pytest.approx(want[0, 1], rel=1e-12)
    C = r.matrices["C"]
    assert C.rownames == names and C.colnames == names
    np.testing.assert_allclose(C.values, want, rtol=1e-12, atol=1e-14)
    cells = rows_of(out)
    for i, nm in enumerate(names):
        assert len(cells[nm]) == i + 1
        for j in range(i + 1):
            assert cells[nm][j] == f"{want[i, j]:9.4f}"
    assert "cov_12" not in r.scalars


def test_correlate_r_C_is_a_listable_matrix(s):
    run(s, "correlate mathach ses")
    out = run(s, "matrix list r(C)")
    assert "symmetric r(C)[2,2]" in out
    run(s, "matrix R = r(C)")
    assert s.matrices["R"].values.shape == (2, 2)


def test_correlate_covariance(s, ref):
    names = ["mathach", "ses", "female"]
    out = run(s, "correlate mathach ses female, covariance")
    want = np.cov(ref[names].to_numpy(), rowvar=False, ddof=1)
    r = s.r.scalars
    assert r["cov_12"] == pytest.approx(want[0, 1], rel=1e-12)
    assert r["Var_1"] == pytest.approx(want[0, 0], rel=1e-12)
    assert r["Var_2"] == pytest.approx(want[1, 1], rel=1e-12)
    assert r["rho"] == pytest.approx(np.corrcoef(ref["mathach"], ref["ses"])[0, 1], rel=1e-12)
    np.testing.assert_allclose(s.r.matrices["C"].values, want, rtol=1e-12)
    cells = rows_of(out)
    for i, nm in enumerate(names):
        for j in range(i + 1):
            txt = cells[nm][j]
            assert len(txt) == 9 and txt.startswith(" ")
            # Stata shows covariances with 7 significant characters (%8.0g in a 9 column)
            assert float(txt) == pytest.approx(want[i, j], rel=5e-6, abs=5e-7)
            assert len(txt.strip().lstrip("-")) <= 7


def test_correlate_abbreviations_resolve():
    for word in ("cor", "corr", "corre", "correlate"):
        assert resolve(word).name == "correlate"
    assert parse_command("cor mathach ses, c").name == "correlate"
    assert resolve("pwcorr").name == "pwcorr"


def test_correlate_option_abbreviations(s):
    out = run(s, "cor mathach ses, c")
    assert "cov_12" in s.r.scalars
    out = run(s, "cor mathach ses, m")
    assert "Std. dev." in out


def test_correlate_if_in(s, ref):
    run(s, "correlate mathach ses if sector == 1 in 1/4000")
    sub = ref.iloc[:4000]
    sub = sub[sub["sector"] == 1]
    assert s.r.scalars["N"] == len(sub)
    assert s.r.scalars["rho"] == pytest.approx(np.corrcoef(sub["mathach"], sub["ses"])[0, 1], rel=1e-12)


def test_correlate_listwise_deletion(s, ref):
    df = missing_fixture(s, ref)
    out = run(s, "correlate mathach ses female")
    comp = df[["mathach", "ses", "female"]].dropna()
    assert s.r.scalars["N"] == len(comp) == 7185 - 300
    assert out.startswith(f"(obs={len(comp):,})\n")
    np.testing.assert_allclose(s.r.matrices["C"].values, comp.corr().to_numpy(), rtol=1e-12)


def test_correlate_means_table(s, ref):
    out = run(s, "correlate mathach ses, means")
    lines = out.split("\n")
    assert lines[0] == "(obs=7,185)"
    assert lines[1] == ""
    assert lines[2] == "    Variable |         Mean    Std. dev.          Min          Max"
    assert lines[3] == "-" * 13 + "+" + "-" * 52
    for ln, nm in zip(lines[4:6], ["mathach", "ses"]):
        assert ln.startswith(nm.rjust(12) + " |")
        vals = [float(v) for v in ln.split("|")[1].split()]
        x = ref[nm]
        # %9.0g: seven significant digits
        assert vals == pytest.approx([x.mean(), x.std(ddof=1), x.min(), x.max()], rel=1e-6, abs=5.1e-8)
        assert len(ln) == 14 + 52
    # two blank lines, then the matrix
    assert lines[6] == "" and lines[7] == "" and lines[8].startswith(HEAD13)


def test_correlate_wraps_at_linesize(s, ref):
    out = run(s, "correlate")
    names = list(ref.columns)
    headers = [ln for ln in out.splitlines() if ln.startswith(HEAD13)]
    assert len(headers) == 2
    assert headers[0] == HEAD13 + "".join(
        (nm if len(nm) <= 8 else nm[:6] + "~" + nm[-1]).rjust(9) for nm in names[:7])
    assert headers[1] == HEAD13 + "".join(nm.rjust(9) for nm in names[7:])
    assert all(len(ln) <= 80 for ln in out.splitlines())
    # second block starts its triangle at its first column
    second = out.split("\n\n")[2]
    assert second.splitlines()[2] == "      pracad |   1.0000"
    s.settings["linesize"] = 120
    out = run(s, "correlate")
    assert len([ln for ln in out.splitlines() if ln.startswith(HEAD13)]) == 1
    s.settings["linesize"] = 80
    out = run(s, "correlate, wrap")
    assert len([ln for ln in out.splitlines() if ln.startswith(HEAD13)]) == 1
    np.testing.assert_allclose(s.r.matrices["C"].values, ref.corr().to_numpy(), rtol=1e-10)


def test_correlate_long_names_abbreviated(s):
    run(s, "generate double socioeconomic_status = ses")
    out = run(s, "correlate mathach socioeconomic_status")
    assert HEAD13 + "  mathach" + " socioe~s" in out
    assert "socioecono~s |" in out


def test_correlate_fweights(s, ref):
    out = run(s, "correlate mathach ses [fw=size], covariance")
    w = ref["size"].to_numpy()
    X = ref[["mathach", "ses"]].to_numpy()
    want = np.cov(X, rowvar=False, fweights=w)
    assert s.r.scalars["N"] == w.sum()
    assert out.startswith(f"(obs={int(w.sum()):,})\n")
    np.testing.assert_allclose(s.r.matrices["C"].values, want, rtol=1e-10)


def test_correlate_aweights(s, ref):
    out = run(s, "correlate mathach ses [aw=size], covariance")
    w = ref["size"].to_numpy().astype(float)
    X = ref[["mathach", "ses"]].to_numpy()
    n = len(X)
    m = (w[:, None] * X).sum(0) / w.sum()
    D = X - m
    want = (w[:, None] * D).T @ D / w.sum() * n / (n - 1)   # Stata: weights rescaled to sum to n
    np.testing.assert_allclose(s.r.matrices["C"].values, want, rtol=1e-10)
    assert s.r.scalars["N"] == n
    assert s.r.scalars["sum_w"] == w.sum()
    assert out.startswith(f"(sum of wgt is {int(w.sum()):,})\n(obs=7,185)\n")
    run(s, "correlate mathach ses [aw=size]")
    rho = np.cov(X, rowvar=False, aweights=w)
    assert s.r.scalars["rho"] == pytest.approx(rho[0, 1] / math.sqrt(rho[0, 0] * rho[1, 1]), rel=1e-10)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("text, rc, msg", [
    ("correlate mathach foo", 111, "variable foo not found"),
    ("correlate mathach ses if mathach > 1000", 2000, "no observations"),
    ("correlate mathach ses, sig", 198, "option sig not allowed"),
    ("correlate mathach ses [pw=size]", 101, None),
    ("pwcorr mathach", 102, "too few variables specified"),
    ("pwcorr mathach foo", 111, "variable foo not found"),
    ("pwcorr mathach ses if mathach > 1000", 2000, "no observations"),
    ("pwcorr mathach ses, star(200)", 198, "star() out of range"),
    ("pwcorr mathach ses, star(abc)", 198, None),
    ("pwcorr mathach ses, bonferroni sidak", 198, "invalid syntax"),
    ("pwcorr mathach ses, means", 198, "option means not allowed"),
])
def test_errors(s, text, rc, msg):
    before = dict(s.r.scalars)
    with pytest.raises(StataError) as e:
        run(s, text)
    assert e.value.rc == rc
    if msg:
        assert e.value.message == msg
    assert s.r.scalars == before


def test_string_variable_rejected_by_correlate(s):
    run(s, 'generate str5 name = "a"')
    with pytest.raises(StataError) as e:
        run(s, "correlate mathach name")
    assert e.value.rc == 109
    assert e.value.message == "string variables not allowed in varlist;\nname is a string variable"
    # no varlist: numeric variables only
    run(s, "correlate")
    assert "name" not in s.r.matrices["C"].rownames


def test_interpreter_prints_error_not_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ses = Session(out=Capture())
    it = Interpreter(ses)
    assert it.run_line("use hsb") == 0
    assert it.run_line("generate str1 t = \"x\"") == 0
    assert it.run_line("correlate mathach t") == 109
    assert it.run_line("pwcorr mathach ses, star(5) bonf sidak") == 198
    out = ses.out.getvalue()
    assert "Traceback" not in out
    assert "r(109);" in out and "r(198);" in out
    assert it.run_line("cor mathach ses") == 0


# ----------------------------------------------------------------------------- pwcorr
def test_pwcorr_layout(s, ref):
    out = run(s, "pwcorr mathach ses female")
    lines = out.split("\n")
    assert lines[0] == ""
    assert lines[1] == HEAD13 + "  mathach      ses   female"
    assert lines[2] == "-" * 13 + "+" + "-" * 27
    C = ref[["mathach", "ses", "female"]].corr().to_numpy()
    assert lines[3] == "     mathach |   1.0000"
    assert lines[4] == "         ses |" + f"{C[1, 0]:9.4f}" + f"{1:9.4f}"
    assert lines[5] == "      female |" + f"{C[2, 0]:9.4f}" + f"{C[2, 1]:9.4f}" + f"{1:9.4f}"
    assert lines[6:] == [""]


def test_pwcorr_pairwise_deletion(s, ref):
    df = missing_fixture(s, ref)
    names = ["mathach", "ses", "female"]
    out = run(s, "pwcorr mathach ses female, obs")
    want = df[names].corr().to_numpy()   # pandas: pairwise-complete observations
    np.testing.assert_allclose(s.r.matrices["C"].values, want, rtol=1e-12)
    n12 = int(df[["mathach", "ses"]].dropna().shape[0])
    assert s.r.scalars["N"] == n12
    assert s.r.scalars["rho"] == pytest.approx(want[0, 1], rel=1e-12)
    obs_rows = [ln for ln in out.splitlines()
                if ln.startswith(HEAD13) and re.fullmatch(r"[\d ]+", ln[14:] or "x")]
    counts = {nm: [int(c) for c in ln[14:].split()] for nm, ln in zip(names, obs_rows)}
    cnt = lambda a, b: int(df[[a, b]].dropna().shape[0])  # noqa: E731
    assert counts["mathach"] == [cnt("mathach", "mathach")]
    assert counts["ses"] == [cnt("ses", "mathach"), cnt("ses", "ses")]
    assert counts["female"] == [cnt("female", "mathach"), cnt("female", "ses"), 7185]
    # listwise: the same numbers as correlate
    run(s, "pwcorr mathach ses female, listwise")
    np.testing.assert_allclose(s.r.matrices["C"].values, df[names].dropna().corr().to_numpy(), rtol=1e-12)
    assert s.r.scalars["N"] == 7185 - 300
    run(s, "pwcorr mathach ses female, casewise")
    assert s.r.scalars["N"] == 7185 - 300


def test_pwcorr_sig_star_and_adjustments(s, ref):
    names = ["mathach", "ses", "female", "size"]
    sub = ref.iloc[:150]
    out = run(s, "pwcorr mathach ses female size in 1/150, sig star(.05)")
    P = np.zeros((4, 4))
    for i in range(4):
        for j in range(i):
            P[i, j] = P[j, i] = stats.pearsonr(sub[names[i]], sub[names[j]])[1]
    np.testing.assert_allclose(s.r.matrices["sig"].values, P, rtol=1e-8, atol=1e-12)
    lines = out.splitlines()
    for i, nm in enumerate(names):
        k = next(n for n, ln in enumerate(lines) if ln.startswith(nm.rjust(12) + " |"))
        coef = lines[k][15:]   # "name | " then " %7.4f" and the star column
        cells = [coef[c:c + 9] for c in range(0, len(coef), 9)]
        for j in range(i):
            assert cells[j].endswith("*") == (P[i, j] <= 0.05)
        sig = lines[k + 1]
        assert sig.startswith(HEAD13)
        ps = [float(v) for v in sig[14:].split()]
        assert ps == pytest.approx([round(P[i, j], 4) for j in range(i)], abs=5e-5)
        assert lines[k + 2] == HEAD13
    assert "*" in out and " 1.0000*" not in out
    assert (P[np.tril_indices(4, -1)] > 0.05).any()   # the sample mixes starred and plain cells

    run(s, "pwcorr mathach ses female size in 1/150, sig bonferroni")
    np.testing.assert_allclose(s.r.matrices["sig"].values, np.minimum(P * 6, 1), rtol=1e-8, atol=1e-12)
    run(s, "pwcorr mathach ses female size in 1/150, sig sidak")
    sid = np.minimum(1, 1 - (1 - P) ** 6)
    np.fill_diagonal(sid, 0)
    np.testing.assert_allclose(s.r.matrices["sig"].values, sid, rtol=1e-8, atol=1e-12)


def test_pwcorr_star_in_percent_and_print(s, ref):
    sub = ref.iloc[:60]
    p = stats.pearsonr(sub["mathach"], sub["female"])[1]
    out5 = run(s, "pwcorr mathach female in 1/60, star(5)")
    out05 = run(s, "pwcorr mathach female in 1/60, star(.05)")
    assert out5 == out05
    assert ("*" in out5) == (p <= 0.05)
    # print(): coefficients above the level are left blank
    level = p / 2
    out = run(s, f"pwcorr mathach female in 1/60, print({level})")
    row = [ln for ln in out.splitlines() if ln.startswith("      female |")][0]
    assert row == "      female |" + " " * 9 + f"{1:9.4f}"


def test_pwcorr_ignores_string_variables(s, ref):
    run(s, 'generate str5 name = "a"')
    out = run(s, "pwcorr mathach name ses")
    assert out.startswith("(name ignored because string variable)\n")
    assert s.r.matrices["C"].rownames == ["mathach", "ses"]
    with pytest.raises(StataError) as e:
        run(s, "pwcorr mathach name")
    assert e.value.rc == 102


def test_pwcorr_blocks_of_seven(s, ref):
    out = run(s, "pwcorr")
    headers = [ln for ln in out.splitlines() if ln.startswith(HEAD13) and ln.strip("| ")
               and not re.search(r"\d", ln)]
    assert len(headers) == 2
    assert len(headers[0]) == 14 + 63 and len(headers[1]) == 14 + 36
    np.testing.assert_allclose(s.r.matrices["C"].values, ref.corr().to_numpy(), rtol=1e-10)


def test_pwcorr_weighted_matches_correlate(s):
    run(s, "correlate mathach ses [aw=size]")
    rho = s.r.scalars["rho"]
    run(s, "pwcorr mathach ses [aw=size]")
    assert s.r.scalars["rho"] == pytest.approx(rho, rel=1e-12)


def test_by_prefix_runs_per_group(tmp_path, monkeypatch, ref):
    monkeypatch.chdir(tmp_path)
    ses = Session(out=Capture())
    it = Interpreter(ses)
    it.run_line("use hsb")
    assert it.run_line("by sector, sort: correlate mathach ses") == 0
    out = ses.out.getvalue()
    for g in (0, 1):
        sub = ref[ref["sector"] == g]
        assert f"(obs={len(sub):,})" in out
        rho = np.corrcoef(sub["mathach"], sub["ses"])[0, 1]
        assert f"         ses |{rho:9.4f}   1.0000" in out
