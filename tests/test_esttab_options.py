"""esttab options real do-files pass (estout 2.x, esttab.ado / esttab.hlp), and estadd lrtest.

References are computed here independently of hlmshell's logit: a Newton-Raphson logit in
numpy on the same HSB columns gives b, se and the log likelihoods; esttab's eform shows
exp(b) with the delta-method se exp(b)*se (estout.hlp: eform is transform(exp(@) exp(@))),
drops the intercept unless `constant`, and adds "Exponentiated coefficients" to the note;
estadd lrtest adds e(lrtest_chi2) = 2(ll_u - ll_r), e(lrtest_df), e(lrtest_p) (estadd.ado).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from hlmshell.output.paper_tables import estout_a
from hlmshell.session import Session
from tests.session_run import ok, run


def _logit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    b = np.zeros(X.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ b))
        H = X.T @ (X * (p * (1 - p))[:, None])
        step = np.linalg.solve(H, X.T @ (y - p))
        b += step
        if np.max(np.abs(step)) < 1e-12:
            break
    p = 1 / (1 + np.exp(-X @ b))
    ll = float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return b, np.sqrt(np.diag(np.linalg.inv(H))), ll


@pytest.fixture(scope="module")
def fitted():
    s = Session()
    ok(s, "use hsb")
    ok(s, "gen hi = mathach > 13")
    ses = np.asarray(s.data.var("ses").values, dtype=float)
    sector = np.asarray(s.data.var("sector").values, dtype=float)
    y = np.asarray(s.data.var("mathach").values, dtype=float) > 13
    one = np.ones_like(ses)
    ref_full = _logit(np.column_stack([ses, sector, one]), y.astype(float))
    ref_small = _logit(np.column_stack([ses, one]), y.astype(float))
    ok(s, "quietly logit hi ses i.sector")
    ok(s, "est store full")
    ok(s, "quietly logit hi ses")
    ok(s, "est store small")
    ok(s, "est restore full")
    return s, ref_full, ref_small


def _row(lines, label):
    i = next(k for k, ln in enumerate(lines) if ln.split() and ln.split()[0] == label)
    return i, lines[i]


def test_eform_exponentiates_b_and_delta_se(fitted):
    s, (b, se, _), _ = fitted
    lines = ok(s, "esttab full, b se(%9.3f) eform").strip("\n").split("\n")
    _, row = _row(lines, "ses")
    assert row.split()[1] == estout_a(math.exp(b[0])) + "***"
    i, _ = _row(lines, "1.sector")
    assert lines[i].split()[1] == estout_a(math.exp(b[1])) + "***"
    assert lines[i + 1].strip() == f"({math.exp(b[1]) * se[1]:.3f})"
    assert not any(ln.startswith("_cons") for ln in lines)        # intercept dropped in eform mode
    assert lines[-2] == "Exponentiated coefficients; Standard errors in parentheses"
    # t statistics stay those of the raw coefficient
    lines = ok(s, "esttab full, eform constant").strip("\n").split("\n")
    i, row = _row(lines, "_cons")
    assert row.split()[1].rstrip("*") == estout_a(math.exp(b[2]))
    assert lines[i + 1].strip() == f"({b[2] / se[2]:.2f})"
    assert lines[-2] == "Exponentiated coefficients; t statistics in parentheses"


def test_eform_pattern_goes_to_estout_and_transform_wins(fitted):
    s, (b, _, _), _ = fitted
    out = ok(s, "esttab small full, eform(0 1)")
    lines = out.strip("\n").split("\n")
    _, row = _row(lines, "ses")
    assert row.split()[1].rstrip("*") == estout_a(fitted[2][0][0])     # model 1 untransformed
    assert row.split()[2].rstrip("*") == estout_a(math.exp(b[0]))      # model 2 exponentiated
    assert any(ln.startswith("_cons") for ln in lines) and "Exponentiated" not in out
    lines = ok(s, "esttab full, eform transform(2*@ 2)").strip("\n").split("\n")
    assert _row(lines, "ses")[1].split()[1].rstrip("*") == estout_a(2 * b[0])
    assert ok(s, "esttab full, eform noeform").count("Exponentiated") == 0


def test_pr2_aic_bic_and_labelled_scalars(fitted):
    s, (_, _, ll_u), (_, _, ll_r) = fitted
    ok(s, "est restore full")
    out = ok(s, "estadd lrtest small")
    assert "Likelihood-ratio test" in out and "added scalars:" in out
    names = [ln.split("=")[0].strip() for ln in out.split("added scalars:")[1].strip().split("\n")]
    assert names == ["e(lrtest_p)", "e(lrtest_chi2)", "e(lrtest_df)"]
    chi2 = 2 * (ll_u - ll_r)
    shown = out.split("added scalars:")[1].strip().split("\n")
    assert shown[1] == "e(lrtest_chi2)".rjust(22) + " =  " + f"{chi2:.8g}"      # display's %10.0g
    assert shown[2] == "e(lrtest_df)".rjust(22) + " =  1"
    e = s.estimates["full"].scalars                                     # the stored copy too
    assert e["lrtest_chi2"] == pytest.approx(chi2, rel=1e-7) and e["lrtest_df"] == 1
    from scipy.stats import chi2 as chi2_dist
    assert e["lrtest_p"] == pytest.approx(chi2_dist.sf(chi2, 1), rel=1e-6)
    lines = ok(s, 'esttab full small, scalars("lrtest_chi2  LRTest Chi2" lrtest_df) pr2 aic bic') \
        .strip("\n").split("\n")
    stats = {ln[:12].strip(): ln[12:].split() for ln in lines if ln[:1].isalpha()}
    n = 7185
    y = np.asarray(s.data.var("mathach").values, dtype=float) > 13
    q = y.mean()
    ll_0 = n * (q * math.log(q) + (1 - q) * math.log(1 - q))          # the constant-only logit
    pr2 = 1 - ll_u / ll_0
    assert stats["pseudo R-sq"][0] == f"{pr2:.3f}"
    assert stats["AIC"] == [estout_a(-2 * ll_u + 6), estout_a(-2 * ll_r + 4)]
    assert stats["BIC"][0] == estout_a(-2 * ll_u + 3 * math.log(n))
    assert stats["LRTest Chi2"] == [estout_a(chi2)]                    # label after the name
    assert stats["lrtest_df"] == ["1"]


def test_estadd_lrtest_errors_leave_e_unchanged(fitted):
    s = fitted[0]
    ok(s, "est restore full")
    ok(s, "capture estadd lrtest small, replace quietly")
    before = dict(s.e.scalars)
    for line, rc in (("estadd lrtest small", 110), ("estadd lrtest nosuch, replace", 111),
                     ("estadd lrtest", 198), ("estadd lrtest small, name(1x) replace", 198),
                     ("estadd lrtest small, bogus replace", 198)):
        got, out = run(s, line)
        assert got == rc, (line, out)
        assert dict(s.e.scalars) == before, line
    out = ok(s, "estadd lrtest small, name(lr) quietly")
    assert out == "" and s.e.scalars["lrchi2"] == pytest.approx(before["lrtest_chi2"])


def test_wide_layout_and_note(fitted):
    s, (b, se, _), _ = fitted
    lines = ok(s, "esttab full small, wide").strip("\n").split("\n")
    width = 12 + 2 * 16 + 2 * 13          # estout's star slot only in the starred b columns
    assert lines[0] == "-" * width
    assert lines[1] == " " * 22 + "(1)" + " " * 26 + "(2)" + " " * 16
    _, row = _row(lines, "ses")
    assert row.split()[1:3] == [estout_a(b[0]) + "***", f"({b[0] / se[0]:.2f})"]
    assert "" not in lines                                               # no gaps when wide
    assert lines[-2] == "t statistics in parentheses"
    n_row = _row(lines, "N")[1]
    assert n_row.split() == ["N", "7185", "7185"] and n_row[12:29].strip() == "7185"
    # the lab do-file's line: se beside b, varwidth(13)
    lines = ok(s, "esttab full, se wide varwidth(13)").strip("\n").split("\n")
    _, row = _row(lines, "ses")
    assert row[:13] == "ses".ljust(13) and row[13:].split() == [estout_a(b[0]) + "***", f"({estout_a(se[0])})"]
    assert lines[-2] == "Standard errors in parentheses"


def test_brackets_noparentheses_compress_and_booktabs(fitted, tmp_path):
    s = fitted[0]
    out = ok(s, "esttab full, se brackets")
    assert "Standard errors in brackets" in out and "[0.0347]" in out
    out = ok(s, "esttab full, nopa")
    assert "t statistics in second row" in out and "(" not in out.split("-\n", 2)[-1].split("N ")[0]
    lines = ok(s, "esttab full, com nonum").strip("\n").split("\n")
    assert len(lines[0]) == 10 + 1 + 9 + 3
    f = tmp_path / "t.tex"
    ok(s, f'esttab full using "{f}", booktabs')
    text = f.read_text()
    assert "\\toprule" in text and "\\midrule" in text and "\\bottomrule" in text and "\\hline" not in text
    for line, rc in (("esttab full, constant nocon", 198), ("esttab full, gaps nogaps", 198),
                     ("esttab full, tex booktabs", 198), ("esttab full, eform(2)", 198),
                     ("esttab full, mtitle no p numbers", 198)):
        assert run(s, line)[0] == rc, line


def test_equations_matching_eqlabels_and_matched_names_in_transform():
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly mixed mathach ses || id:")
    ok(s, "est store a")
    ok(s, "quietly mixed mathach ses || id: ses, cov(un)")
    ok(s, "est store b")
    a, b = s.estimates["a"], s.estimates["b"]
    out = ok(s, 'esttab a b, not nostar transform("#2:_cons #3:_cons #4:_cons" exp(2*@) 2*exp(2*@)) '
                'equations(1:1, 2:3, 3:5, .:2) eqlabels("" "L2Var_cons" "L1Var_cons" "L2Var_ses") nonumbers')
    lines = out.strip("\n").split("\n")
    rules = [k for k, ln in enumerate(lines) if ln.startswith("---")]
    eq_rows = [lines[k + 1].strip() for k in rules[2:-2]]       # the row after each equation rule
    assert eq_rows == ["L2Var_cons", "L1Var_cons", "L2Var_ses", "atr1_1_1_2"]
    assert lines[rules[1] + 1].strip() == ""                    # eqlabels' "" for the first one

    def block(label):
        i = next(k for k, ln in enumerate(lines) if ln.strip() == label)
        return lines[i + 1].split()

    def var(res, eq):
        return math.exp(2 * float(res.b[res.coef_index(eq, "_cons")]))

    assert block("L2Var_cons") == ["_cons", estout_a(var(a, "lns1_1_1")), estout_a(var(b, "lns1_1_2"))]
    assert block("L1Var_cons") == ["_cons", estout_a(var(a, "lnsig_e")), estout_a(var(b, "lnsig_e"))]
    assert block("L2Var_ses") == ["_cons", estout_a(var(b, "lns1_1_1"))]
    rho = float(b.b[b.coef_index("atr1_1_1_2", "_cons")])                # unmatched: untransformed
    assert block("atr1_1_1_2") == ["_cons", estout_a(rho)]
    for bad in ("equations(1:1:1)", "equations(9)", "equations(1:x)", "equations(1:1,)"):
        assert run(s, f"esttab a b, {bad}")[0] == 198, bad


def test_estadd_lrtest_after_a_colon(fitted):
    s, (_, _, ll_u), (_, _, ll_r) = fitted
    ok(s, "est restore small")
    ok(s, "quietly logit hi")
    ok(s, "est store null")
    active = s.e
    out = ok(s, "estadd lrtest null, name(vsnull_) replace: full small")
    assert out == ""                                            # quietly, as estadd.ado loops
    n = s.data.n
    y = np.asarray(s.data.var("hi").values, dtype=float)
    q = y.mean()
    ll_0 = n * (q * math.log(q) + (1 - q) * math.log(1 - q))
    assert s.estimates["full"].scalars["vsnull_chi2"] == pytest.approx(2 * (ll_u - ll_0), rel=1e-7)
    assert s.estimates["small"].scalars["vsnull_df"] == 1
    assert s.e is active and "vsnull_chi2" not in s.e.scalars    # the active results put back
    assert run(s, "estadd lrtest null: nosuch")[0] == 111
