"""svy: tabulate checked against R's survey package (tests/data/svy_tab_reference.json, made by
tests/data/svy_tab_reference.R from the variables built below): cell proportions and their
linearized covariance, weighted counts, row and column proportions with their standard errors,
design effects, logit intervals (svyciprop), the Rao-Scott second-order F (svychisq "F"),
the Wald tests (svychisq "Wald"/"adjWald"); the uncorrected chi2 and the generalized deffs
against a numpy Pearson statistic and R's F; then layout, replay and bad input."""
import importlib.util
import json
import os

import numpy as np
import pytest
from hsb_fixtures import s  # noqa: F401
from session_run import ok, run

with open(os.path.join(os.path.dirname(__file__), "data", "svy_tab_reference.json")) as _f:
    REF = json.load(_f)
SETUP = ["gen double w = 1 + mod(id,7)/3 + (minority==1)*0.5", "gen sesq = 1 + (ses > -0.5) + (ses > 0.5)",
         "gen mq = 1 + (mathach > 8) + (mathach > 14) + (mathach > 19)",
         "gen double fpcn = cond(sector==1, 150, 200)"]
DESIGNS = {"A": "svyset id [pw=w], strata(sector)", "B": "svyset id [pw=w], strata(sector) fpc(fpcn)",
           "C": "svyset _n [pw=w], strata(sector)"}


@pytest.fixture
def sv(s):  # noqa: F811
    for line in SETUP:
        ok(s, line)
    return s


def _r_deff(ses, d, key):
    """R's deff, re-expressed as Stata's: R's SRS variance uses svyvar's n / (n - 1) where
    Stata's has M / (M - 1), and always the without-replacement factor 1 - n / M, which
    Stata applies only with an fpc()."""
    n, M = ses.e.scalars["N"], ses.e.scalars["N_pop"]
    f = 1.0 if d == "B" else 1 - n / M
    return np.asarray(REF[key]["deff"]) * f * n * (M - 1) / ((n - 1) * M)


def _e(ses, name):
    return np.asarray(ses.e.matrices[name], float) if name not in ("b", "V") else \
        np.asarray(getattr(ses.e, name), float)


@pytest.mark.parametrize("d", ["A", "B", "C"])
def test_oneway_against_r(sv, d):
    ok(sv, DESIGNS[d])
    ok(sv, "svy: tabulate sesq")
    np.testing.assert_allclose(_e(sv, "b"), REF[f"one_{d}"]["b"], rtol=1e-10)
    np.testing.assert_allclose(_e(sv, "V"), REF[f"one_{d}"]["V"], rtol=1e-7, atol=1e-14)
    np.testing.assert_allclose(_e(sv, "Deff")[0], _r_deff(sv, d, f"one_{d}"), rtol=1e-6)
    ok(sv, "svy: tabulate sesq, count se")
    assert sv.e.macros["setype"] == "count"
    np.testing.assert_allclose(_e(sv, "b"), REF[f"count_{d}"]["b"], rtol=1e-10)
    np.testing.assert_allclose(_e(sv, "V"), REF[f"count_{d}"]["V"], rtol=1e-7)
    deff = _e(sv, "Deff")[0]               # of the counts now: V over the SRS variance of a total
    assert np.all(deff > 1) and np.all(deff < 100)
    np.testing.assert_allclose(deff, np.diag(_e(sv, "V")) / np.diag(_e(sv, "V_srs")), rtol=1e-12)


@pytest.mark.parametrize("d", ["A", "B", "C"])
def test_twoway_against_r(sv, d):
    ok(sv, DESIGNS[d])
    ok(sv, "svy: tabulate sesq minority")
    np.testing.assert_allclose(_e(sv, "b"), REF[f"two_{d}"]["b"], rtol=1e-10)
    np.testing.assert_allclose(_e(sv, "V"), REF[f"two_{d}"]["V"], rtol=1e-7, atol=1e-14)
    np.testing.assert_allclose(_e(sv, "Deff")[0], _r_deff(sv, d, f"two_{d}"), rtol=1e-6)
    chi = REF[f"chi_{d}"]
    sc = sv.e.scalars
    for key, ours in (("F", "F_Pear"), ("df1", "df1_Pear"), ("df2", "df2_Pear"), ("p", "p_Pear"),
                      ("X2", "cun_Pear")):
        np.testing.assert_allclose(sc[ours], chi[key], rtol=1e-7)
    k = 2
    np.testing.assert_allclose(sc["mgdeff"], chi["X2"] / chi["F"] / k, rtol=1e-7)   # tr(Delta) = X2 / F
    np.testing.assert_allclose(sc["cvgdeff"], np.sqrt(k / chi["df1"] - 1), rtol=1e-6)   # d = k / (1 + cv^2)


@pytest.mark.parametrize("d", ["A", "C"])
def test_bigger_table_and_wald(sv, d):
    ok(sv, DESIGNS[d])
    ok(sv, "svy: tabulate mq sesq, wald")
    np.testing.assert_allclose(_e(sv, "b"), REF[f"two43_{d}"]["b"], rtol=1e-10)
    np.testing.assert_allclose(_e(sv, "V"), REF[f"two43_{d}"]["V"], rtol=1e-7, atol=1e-14)
    chi, sc = REF[f"chi43_{d}"], sv.e.scalars
    np.testing.assert_allclose([sc["F_Pear"], sc["df1_Pear"], sc["df2_Pear"], sc["p_Pear"]],
                               [chi["F"], chi["df1"], chi["df2"], chi["p"]], rtol=1e-7)
    np.testing.assert_allclose([sc["Fun_Wald"], sc["F_Wald"], sc["df2_Wald"]],
                               [chi["wald_F"], chi["adjwald_F"], chi["adjwald_df"][1]], rtol=1e-7)
    np.testing.assert_allclose([sc["pun_Wald"], sc["p_Wald"]], [chi["wald_p"][0][0], chi["adjwald_p"][0][0]],
                               rtol=1e-6)


def test_uncorrected_pearson_by_numpy(sv):
    """X2 = m sum (p_rc - p_r p_c)^2 / (p_r p_c) from pweighted cell shares computed here."""
    ok(sv, DESIGNS["A"])
    ok(sv, "svy: tabulate mq sesq")
    d = sv.data
    r, c, w = (d.var(v).values.astype(float) for v in ("mq", "sesq", "w"))
    P = np.array([[w[(r == i) & (c == j)].sum() for j in (1, 2, 3)] for i in (1, 2, 3, 4)]) / w.sum()
    E = np.outer(P.sum(1), P.sum(0))
    np.testing.assert_allclose(sv.e.scalars["cun_Pear"], d.n * np.sum((P - E) ** 2 / E), rtol=1e-10)
    np.testing.assert_allclose(sv.e.matrices["Prop"], P, rtol=1e-10)


def test_likelihood_ratio(sv):
    """G2 = 2 m sum p ln(p / (p_r p_c)) from pweighted shares computed here, corrected by the
    Delta of R's Rao-Scott F: tr(Delta) = X2 / F, same d."""
    from scipy.stats import f as fdist
    ok(sv, DESIGNS["A"])
    out = ok(sv, "svy: tabulate mq sesq, lr")
    d = sv.data
    r, c, w = (d.var(v).values.astype(float) for v in ("mq", "sesq", "w"))
    P = np.array([[w[(r == i) & (c == j)].sum() for j in (1, 2, 3)] for i in (1, 2, 3, 4)]) / w.sum()
    G2 = 2 * d.n * np.sum(P * np.log(P / np.outer(P.sum(1), P.sum(0))))
    chi, sc = REF["chi43_A"], sv.e.scalars
    tr = chi["X2"] / chi["F"]
    np.testing.assert_allclose(sc["cun_LR"], G2, rtol=1e-10)
    np.testing.assert_allclose(sc["F_LR"], G2 / tr, rtol=1e-7)
    np.testing.assert_allclose(sc["p_LR"], fdist.sf(G2 / tr, chi["df1"], chi["df2"]), rtol=1e-6)
    assert "  Likelihood ratio:" in out and "  Pearson:" not in out


@pytest.mark.parametrize("d", ["A", "B"])
def test_row_and_column_proportions(sv, d):
    ok(sv, DESIGNS[d])
    ok(sv, "svy: tabulate sesq minority, row se")
    assert sv.e.macros["setype"] == "row"
    R = REF[f"row_{d}"]       # svyby: minority=0 for sesq 1..3, then minority=1
    rb = np.asarray(R["b"]).reshape(2, 3).T.reshape(-1)
    rse = np.asarray(R["se"]).reshape(2, 3).T.reshape(-1)
    np.testing.assert_allclose(_e(sv, "b"), rb, rtol=1e-10)
    np.testing.assert_allclose(np.sqrt(np.diag(_e(sv, "V"))), rse, rtol=1e-7)
    ok(sv, "svy: tabulate sesq minority, column se")
    C = REF[f"col_{d}"]
    cb, cse = np.asarray(C["b"]), np.asarray(C["se"])     # svyby: minority varies fastest
    np.testing.assert_allclose(_e(sv, "b"), cb, rtol=1e-10)
    np.testing.assert_allclose(np.sqrt(np.diag(_e(sv, "V"))), cse, rtol=1e-7)


def test_subpop_against_r(sv):
    ok(sv, DESIGNS["A"])
    ok(sv, "svy, subpop(female): tabulate sesq minority")
    np.testing.assert_allclose(_e(sv, "b"), REF["two_sub_A"]["b"], rtol=1e-10)
    np.testing.assert_allclose(_e(sv, "V"), REF["two_sub_A"]["V"], rtol=1e-7, atol=1e-14)
    chi, sc = REF["chi_sub_A"], sv.e.scalars
    # R's design df for a subset counts only the PSUs with subpopulation members (139); Stata's
    # svy keeps the whole sample's (160 PSUs - 2 strata = 158): F and d agree, df2 = d * 158
    from scipy.stats import f as fdist
    np.testing.assert_allclose([sc["F_Pear"], sc["df1_Pear"]], [chi["F"], chi["df1"]], rtol=1e-7)
    np.testing.assert_allclose(chi["df2"], chi["df1"] * 139, rtol=1e-9)
    np.testing.assert_allclose(sc["df2_Pear"], chi["df1"] * 158, rtol=1e-7)
    np.testing.assert_allclose(sc["p_Pear"], fdist.sf(chi["F"], chi["df1"], chi["df1"] * 158), rtol=1e-6)
    np.testing.assert_allclose(sv.e.scalars["cun_Pear"], chi["X2"], rtol=1e-7)
    assert sv.e.scalars["N_sub"] == float(np.sum(sv.data.var("female").values == 1))
    ok(sv, "svy, subpop(female): tabulate sesq")
    np.testing.assert_allclose(_e(sv, "b"), REF["one_sub_A"]["b"], rtol=1e-10)
    np.testing.assert_allclose(_e(sv, "V"), REF["one_sub_A"]["V"], rtol=1e-7, atol=1e-14)


def test_oneway_layout_and_logit_ci(sv):
    ok(sv, DESIGNS["A"])
    out = ok(sv, "svy: tab sesq, se ci format(%7.4f)")
    lines = out.splitlines()
    assert lines[0] == "(running tabulate on estimation sample)"
    assert any(ln.startswith("Number of strata") for ln in lines)
    head = next(ln for ln in lines if ln.startswith("sesq"))
    assert head.split("|")[1].split() == ["proportion", "se", "lb", "ub"]
    row2 = next(ln for ln in lines if ln.strip().startswith("2 |")).split("|")[1].split()
    ci = REF["ciprop_A"]
    assert row2[0] == f"{ci['p']:.4f}"[1:] or row2[0] == f"{ci['p']:.4f}"
    assert float(row2[2]) == pytest.approx(ci["ci"][0], abs=6e-5)
    assert float(row2[3]) == pytest.approx(ci["ci"][1], abs=6e-5)
    assert "  Key: proportion = Cell proportion" in lines
    total = next(ln for ln in lines if ln.strip().startswith("Total |"))
    assert total.split("|")[1].split()[0] == "1.0000"


def test_twoway_layout_tests_and_replay(sv):
    ok(sv, DESIGNS["A"])
    out = ok(sv, "svy: tabulate sesq minority, wald")
    assert "  Pearson:" not in out
    assert "  Wald (Pearson):" in out
    assert "Adjusted      F(2, 157)" in out
    out = ok(sv, "svy: tabulate sesq minority, percent")
    assert "  Key: Cell percentage" in out
    assert "    Uncorrected   chi2(2)         =  522.3517" in out
    assert "    Design-based  F(1.40, 221.55) =   61.2680     P = 0.0000" in out
    row = next(ln for ln in out.splitlines() if ln.strip().startswith("1 |"))
    assert row.split("|")[1].split() == ["13.76", "14.25", "28"]
    b = _e(sv, "b").copy()
    out = ok(sv, "svy, noadjust")
    assert "Design-based" in out and np.array_equal(_e(sv, "b"), b)
    out = ok(sv, "svy: tabulate sesq minority, nomarginals obs")
    assert "Total" not in out.split("Key")[0].split("+")[-1]
    assert "1902" not in out          # sesq 1 total obs is a margin, suppressed


def test_missing_option(sv):
    ok(sv, DESIGNS["A"])
    ok(sv, "replace sesq = . in 1/50")
    ok(sv, "svy: tabulate sesq")
    assert sv.e.scalars["N"] == sv.data.n - 50
    ok(sv, "svy: tabulate sesq, missing")
    assert sv.e.scalars["N"] == sv.data.n and sv.e.scalars["r"] == 4


def _state(ses):
    e = ses.e
    return (None if e is None else (e.cmd, tuple(np.ravel(e.b)), e.serial), tuple(ses.data.names), ses.data.n)


def test_bad_input_leaves_session_unchanged(sv):
    path = os.path.join(os.path.dirname(__file__), "robustness_cases", "svy_tab_cases.py")
    spec = importlib.util.spec_from_file_location("svy_tab_cases", path)
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    ok(sv, DESIGNS["A"])
    ok(sv, "quietly svy: tab sesq minority")
    for line, rc in cases.BAD:
        before = _state(sv)
        got, out = run(sv, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out and _state(sv) == before, line


# ---- svy: ologit (R svyolr) and svy: mlogit (numpy) -------------------------------------------
@pytest.mark.parametrize("d", ["A", "B"])
def test_ologit_against_r_svyolr(sv, d):
    ok(sv, DESIGNS[d])
    ok(sv, "svy: ologit mq ses minority female")
    assert [nm for _, nm in sv.e.names] == ["ses", "minority", "female", "cut1", "cut2", "cut3"]
    np.testing.assert_allclose(_e(sv, "b"), REF[f"ologit_{d}"]["b"], rtol=2e-6)
    np.testing.assert_allclose(_e(sv, "V"), REF[f"ologit_{d}"]["V"], rtol=2e-4, atol=1e-9)
    assert sv.e.macros["prefix"] == "svy" and sv.e.scalars["df_m"] == 3


def test_ologit_subpop_against_r(sv):
    ok(sv, DESIGNS["A"])
    out = ok(sv, "svy, subpop(female): ologit mq ses minority")
    np.testing.assert_allclose(_e(sv, "b"), REF["ologit_sub_A"]["b"], rtol=2e-6)
    np.testing.assert_allclose(_e(sv, "V"), REF["ologit_sub_A"]["V"], rtol=2e-4, atol=1e-9)
    assert "/cut1 |" in out and "Subpop. no. obs   =      3,795" in out


def _design_variance(scores, strata, psu):
    """First-stage linearized variance with replacement: PSU totals centred in their stratum."""
    import pandas as pd
    df = pd.DataFrame(scores)
    df["h"], df["i"] = strata, psu
    tot = df.groupby(["h", "i"]).sum()
    G = np.zeros((scores.shape[1], scores.shape[1]))
    for _, t in tot.groupby(level=0):
        dev = t.values - t.values.mean(axis=0)
        G += len(t) / (len(t) - 1) * dev.T @ dev
    return G


def test_mlogit_against_numpy(sv):
    """Weighted multinomial logit by Newton on a finite-difference Hessian of the weighted
    log likelihood written out here, the base the most frequent outcome, and the sandwich
    with the design variance of the weighted scores."""
    ok(sv, DESIGNS["A"])
    out = ok(sv, "svy: mlogit sesq mathach minority")
    d = sv.data
    y = d.var("sesq").values.astype(int) - 1
    X = np.column_stack([d.var("mathach").values, d.var("minority").values, np.ones(d.n)]).astype(float)
    w = d.var("w").values.astype(float)
    base = int(np.argmax(np.bincount(y)))
    others = [j for j in range(3) if j != base]

    def ll(v):
        eta = np.zeros((d.n, 3))
        eta[:, others] = X @ v.reshape(2, 3).T
        return np.sum(w * (eta[np.arange(d.n), y] - np.log(np.exp(eta).sum(axis=1))))

    def grad_obs(v):
        eta = np.zeros((d.n, 3))
        eta[:, others] = X @ v.reshape(2, 3).T
        P = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
        Y = np.eye(3)[y]
        return np.concatenate([((Y - P)[:, j] * w)[:, None] * X for j in others], axis=1)

    v = np.zeros(6)
    for _ in range(50):
        g = grad_obs(v).sum(axis=0)
        H = np.column_stack([(grad_obs(v + 1e-6 * e).sum(0) - grad_obs(v - 1e-6 * e).sum(0)) / 2e-6
                             for e in np.eye(6)])
        step = np.linalg.solve(H, g)
        v = v - step
        if np.max(np.abs(step)) < 1e-12:
            break
    Hinv = np.linalg.inv(H)
    V = Hinv @ _design_variance(grad_obs(v), d.var("sector").values, d.var("id").values) @ Hinv
    b = _e(sv, "b")
    keep = ~np.asarray(sv.e.omitted)
    np.testing.assert_allclose(b[keep], v, rtol=1e-7)
    np.testing.assert_allclose(_e(sv, "V")[np.ix_(keep, keep)], V, rtol=1e-5)
    assert ll(v) == pytest.approx(ll(b[keep]), rel=1e-12)
    assert sv.e.scalars["ibaseout"] == base + 1 and "(base outcome)" in out
    assert sv.e.scalars["df_m"] == 4 and sv.e.scalars["df_r_test"] == 155
    out = ok(sv, "svy, noheader")             # replay; rrr: exp(b) with t from b
    first = next(ln for ln in out.splitlines() if ln.strip().startswith("mathach |"))
    out = ok(sv, "svy: mlogit sesq mathach minority, rrr")
    row = next(ln for ln in out.splitlines() if ln.strip().startswith("mathach |")).split("|")[1].split()
    assert float(row[0]) == pytest.approx(np.exp(v[0]), rel=1e-6)
    assert row[2] == first.split("|")[1].split()[2]
    assert "RRR" in out and "Note: _cons estimates baseline relative risk for each outcome." in out


def test_models_bad_input(sv):
    path = os.path.join(os.path.dirname(__file__), "robustness_cases", "svy_tab_cases.py")
    spec = importlib.util.spec_from_file_location("svy_tab_cases", path)
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    ok(sv, "gen one = 1")
    ok(sv, DESIGNS["A"])
    ok(sv, "quietly svy: ologit mq ses")
    for line, rc in cases.BAD_MODELS:
        before = _state(sv)
        got, out = run(sv, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out and _state(sv) == before, line
