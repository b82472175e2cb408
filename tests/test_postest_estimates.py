"""estimates store/restore/dir/drop/clear/stats/table and estat ic/icc/group/recovariance."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hlmshell.commands.estat import estat_cmd, icc_table
from hlmshell.commands.estimates import estimates_cmd
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.ast import Command, Option

from test_postest_fixtures import FULL, fit_results, hsb_frame


@pytest.fixture(scope="module")
def df():
    return hsb_frame()


@pytest.fixture(scope="module")
def femalerandom(df):
    return fit_results(df, FULL, slopes=("female",), cov="unstructured")


@pytest.fixture(scope="module")
def noslope(df):
    return fit_results(df, FULL)


def est(s, body, *opts):
    s.out = Capture()
    estimates_cmd(s, Command("estimates", body=body,
                             options=[Option(*o) if isinstance(o, tuple) else Option(o) for o in opts]))
    return s.out.getvalue()


def estat(s, body, *opts):
    s.out = Capture()
    estat_cmd(s, Command("estat", body=body,
                         options=[Option(*o) if isinstance(o, tuple) else Option(o) for o in opts]))
    return s.out.getvalue()


# --------------------------------------------------------------------- estat ic
def test_estat_ic_femalerandom_row(femalerandom):
    s = Session(out=Capture())
    s.post_estimation(femalerandom)
    out = estat(s, "ic")
    assert "           . |      7,185          .  -23249.27      16   46530.53   46640.61" in out
    est(s, "store femalerandom")
    out = estat(s, "ic")
    assert out == (
        "\nAkaike's information criterion and Bayesian information criterion\n\n"
        + "-" * 77 + "\n"
        "       Model |          N   ll(null)  ll(model)      df        AIC        BIC\n"
        + "-" * 13 + "+" + "-" * 63 + "\n"
        "femalerandom |      7,185          .  -23249.27      16   46530.53   46640.61\n"
        + "-" * 77 + "\n"
        "Note: BIC uses N = number of observations. See [R] BIC note.\n")
    S = s.r.matrices["S"]
    ll = femalerandom.scalars["ll"]
    assert S[0, 4] == pytest.approx(-2 * ll + 32)
    assert S[0, 5] == pytest.approx(-2 * ll + math.log(7185) * 16)


def test_estimates_stats_several_models(femalerandom, noslope):
    s = Session(out=Capture())
    s.post_estimation(noslope)
    est(s, "store noslope")
    s.post_estimation(femalerandom)
    est(s, "sto femalerandom")
    out = est(s, "stats noslope femalerandom")
    assert "     noslope |      7,185          .  -23251.55      14   46531.09   46627.41" in out
    assert "femalerandom |      7,185          .  -23249.27      16" in out


# --------------------------------------------------------------------- store / restore / dir / drop
def test_store_restore_cycle(femalerandom, noslope):
    s = Session(out=Capture())
    with pytest.raises(StataError) as e:
        est(s, "store a")
    assert (e.value.rc, e.value.message) == (301, "last estimation results not found, nothing to store")
    s.post_estimation(noslope)
    est(s, "store A")
    assert s.e.name == "A" and s.estimates["A"].name == "A"
    assert noslope.name is None          # the original object is not mutated
    s.post_estimation(femalerandom)
    assert s.e.name is None
    out = est(s, "restore A")
    assert out == "(results A are active now)\n"
    assert s.e.b is noslope.b and s.e.name == "A"
    out = est(s, "dir")
    assert "           A | mixed        mathach        16" in out
    est(s, "store B")
    est(s, "drop A")
    assert list(s.estimates) == ["B"] and s.e.name == "B"
    est(s, "drop B")
    assert s.estimates == {} and s.e.name is None
    est(s, "store B")
    est(s, "clear")
    assert s.estimates == {}
    for body, rc, msg in [("restore nope", 111, "estimation result nope not found"),
                          ("drop nope", 111, "estimation result nope not found"),
                          ("store 1bad", 198, "1bad invalid name"),
                          ("store a b", 198, "single name expected"),
                          ("frobnicate", 198, "subcommand estimates frobnicate is unrecognized")]:
        with pytest.raises(StataError) as e:
            est(s, body)
        assert (e.value.rc, e.value.message) == (rc, msg)


def test_estat_without_results():
    s = Session(out=Capture())
    with pytest.raises(StataError) as e:
        estat(s, "ic")
    assert (e.value.rc, e.value.message) == (301, "last estimates not found")


def test_estimates_table(femalerandom, noslope):
    s = Session(out=Capture())
    s.post_estimation(noslope)
    est(s, "store noslope")
    s.post_estimation(femalerandom)
    est(s, "store femalerandom")
    out = est(s, "table noslope femalerandom", ("stats", "N ll aic bic"), ("b", "%9.4f"), "se")
    lines = out.splitlines()
    assert lines[2].startswith("    Variable |")
    assert "         ses |    3.0498     3.0727 " in lines
    assert "             |    0.2763     0.2757 " in lines
    assert any(l.startswith("           N |      7185       7185") for l in lines)
    assert lines[-1].strip() == "Legend: b/se"
    out = est(s, "table noslope femalerandom", "star")
    assert "Legend: * p<0.05; ** p<0.01; *** p<0.001" in out


# --------------------------------------------------------------------- icc / group / recovariance
def test_icc_null_model_reml(df):
    res = fit_results(df, ["_cons"], reml=True)
    s = Session(out=Capture())
    s.post_estimation(res)
    out = estat(s, "icc")
    var_u = res.model.fit.covs[0][0, 0]
    s2 = res.model.fit.sigma2
    assert round(var_u, 3) == 8.614 and round(s2, 3) == 39.148
    icc = var_u / (var_u + s2)
    assert abs(icc - 0.1803518) < 5e-7          # Stata prints .1803518
    assert s.r.scalars["icc2"] == pytest.approx(icc)
    # delta method by numerical differentiation in the (ln sd_u, ln sd_e) metric
    j, k = res.coef_index("lns1_1_1", "_cons"), res.coef_index("lnsig_e", "_cons")

    def f(t):
        return math.exp(2 * t[0]) / (math.exp(2 * t[0]) + math.exp(2 * t[1]))

    t0 = np.array([res.b[j], res.b[k]])
    g = np.array([(f(t0 + h) - f(t0 - h)) / 2e-6 for h in np.eye(2) * 1e-6])
    se = math.sqrt(g @ res.V[np.ix_([j, k], [j, k])] @ g)
    assert s.r.scalars["se2"] == pytest.approx(se, rel=1e-5)
    z = stats.norm.ppf(0.975)
    logit = math.log(icc / (1 - icc))
    lo = 1 / (1 + math.exp(-(logit - z * se / (icc * (1 - icc)))))
    hi = 1 / (1 + math.exp(-(logit + z * se / (icc * (1 - icc)))))
    np.testing.assert_allclose(s.r.matrices["ci2"], [[lo, hi]], rtol=1e-5)
    lines = out.splitlines()
    assert lines[1] == "Intraclass correlation"
    assert lines[4] == "                       Level |        ICC   Std. err.     [95% conf. interval]"
    assert lines[6].startswith("                          id |   .18")


def test_icc_titles(df, femalerandom, noslope):
    assert icc_table(noslope)[0] == "Residual intraclass correlation"
    title, rows, cond = icc_table(femalerandom)
    assert title == "Conditional intraclass correlation" and cond


def test_group_and_recovariance(femalerandom):
    s = Session(out=Capture())
    s.post_estimation(femalerandom)
    out = estat(s, "group")
    assert "             id |        160         14       44.9         67" in out
    out = estat(s, "recov")
    assert "Random-effects covariance matrix for level id" in out
    lines = out.splitlines()
    assert lines[3] == "             |    female      _cons "
    assert lines[4] == "-" * 13 + "+" + "-" * 23
    assert lines[5].startswith("      female |  ") and lines[5].endswith(" " * 11)
    M = s.r.matrices["cov"]
    assert M[0, 0] == pytest.approx(femalerandom.model.fit.covs[0][0, 0])
    estat(s, "recovariance", "correlation")
    C = s.r.matrices["corr"]
    assert C[0, 0] == pytest.approx(1.0) and -1 <= C[0, 1] <= 1
    with pytest.raises(StataError) as e:
        estat(s, "nonsense")
    assert e.value.rc == 321
