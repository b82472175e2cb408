"""lrtest: the notes' four tests, order independence, and Stata's refusals."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hlmshell.commands.estimates import estimates_cmd
from hlmshell.commands.lrtest import lrtest_cmd
from hlmshell.errors import StataError
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.ast import Command, Option

from test_postest_fixtures import FINAL, FULL, fit_results, hsb_frame

# (restricted, unrestricted, df, LR chi2, p) as printed in the notes
NOTES = [("noslope", "sesrandom", 2, 5.75, 0.0564),
         ("noslope", "femalerandom", 2, 4.56, 0.1022),
         (".", "femalerandom", 7, 7.84, 0.3467),
         (".", "sesrandom", 7, 9.03, 0.2504)]


@pytest.fixture(scope="module")
def models():
    df = hsb_frame()
    return {
        "df": df,
        "sesrandom": fit_results(df, FULL, slopes=("ses",), cov="unstructured"),
        "noslope": fit_results(df, FULL),
        "femalerandom": fit_results(df, FULL, slopes=("female",), cov="unstructured"),
        "final": fit_results(df, FINAL),
    }


def make_session(models, active="final"):
    s = Session(out=Capture())
    for nm in ("sesrandom", "noslope", "femalerandom"):
        s.post_estimation(models[nm])
        estimates_cmd(s, Command("estimates", body=f"store {nm}"))
    s.post_estimation(models[active])
    return s


def lr(s, body, *opts):
    s.out = Capture()
    lrtest_cmd(s, Command("lrtest", body=body, options=[Option(o) for o in opts]))
    return s.out.getvalue()


@pytest.mark.parametrize("restricted,unrestricted,df,chi2,p", NOTES)
def test_notes_lrtests(models, restricted, unrestricted, df, chi2, p):
    s = make_session(models)
    for body in (f"{restricted} {unrestricted}", f"{unrestricted} {restricted}"):
        out = lr(s, body)
        assert f"Assumption: {restricted} nested within {unrestricted}\n" in out
        assert f" LR chi2({df}) ={chi2:7.2f}\nProb > chi2 = {p:.4f}\n" in out
        assert s.r.scalars["df"] == df
        assert round(s.r.scalars["chi2"], 2) == chi2
        assert round(s.r.scalars["p"], 4) == p
        assert "Note: The reported degrees of freedom assumes the null hypothesis is not on the\n" in out


def test_layout_exact(models):
    s = make_session(models)
    out = lr(s, "sesrandom noslope")
    assert out == (
        "\nLikelihood-ratio test\nAssumption: noslope nested within sesrandom\n\n"
        " LR chi2(2) =   5.75\nProb > chi2 = 0.0564\n\n"
        "Note: The reported degrees of freedom assumes the null hypothesis is not on the\n"
        "      boundary of the parameter space.  If this is not true, then the reported\n"
        "      test is conservative.\n")


def test_single_name_uses_active_and_stats_option(models):
    s = make_session(models)
    out = lr(s, "femalerandom", "stats")
    assert "Assumption: . nested within femalerandom" in out
    assert "Akaike's information criterion" in out


def test_no_boundary_note_when_variance_parameters_agree(models):
    df = models["df"]
    s = Session(out=Capture())
    big = fit_results(df, FULL)
    small = fit_results(df, FINAL)
    s.post_estimation(big)
    estimates_cmd(s, Command("estimates", body="store big"))
    s.post_estimation(small)
    out = lr(s, "big .")
    assert "Note:" not in out
    chi2 = -2 * (small.scalars["ll"] - big.scalars["ll"])
    assert s.r.scalars["chi2"] == pytest.approx(chi2)
    assert s.r.scalars["df"] == 5
    assert s.r.scalars["p"] == pytest.approx(stats.chi2.sf(chi2, 5))


def _refuse(s, body, rc, msg, *opts):
    before = (s.e, dict(s.estimates), s.r)
    with pytest.raises(StataError) as e:
        lr(s, body, *opts)
    assert (e.value.rc, e.value.message) == (rc, msg)
    assert (s.e, dict(s.estimates), s.r) == before


def test_refusals(models):
    df = models["df"]
    s = make_session(models)
    _refuse(s, "foo noslope", 111, "estimation result foo not found")
    _refuse(s, "noslope noslope", 198, "models noslope specified more than once")
    _refuse(s, "", 198, "name(s) of estimation results expected")
    # ML against REML
    reml = fit_results(df, FINAL, reml=True)
    s.post_estimation(reml)
    _refuse(s, ". femalerandom", 498, "cannot compare a REML model with an ML model")
    # REML fits with different fixed parts
    estimates_cmd(s, Command("estimates", body="store remlfinal"))
    s.post_estimation(fit_results(df, FULL, slopes=("ses",), cov="unstructured", reml=True))
    _refuse(s, ". remlfinal", 498,
            "REML criterion is not comparable under different fixed-effects specifications")
    # different samples
    keep = np.ones(len(df), bool)
    keep[:100] = False
    s.post_estimation(fit_results(df, FINAL, sample=keep))
    _refuse(s, ". femalerandom", 498, "observations differ: 7185 vs. 7085")
    # equal parameter counts
    s.post_estimation(models["femalerandom"])
    _refuse(s, ". sesrandom", 498, "df(unrestricted) = df(restricted) = 16")
    # not nested: more fixed effects but fewer variance parameters
    s.post_estimation(models["final"])
    estimates_cmd(s, Command("estimates", body="store final"))
    s.post_estimation(fit_results(df, ["ses", "_cons"], slopes=("ses",), cov="unstructured"))
    _refuse(s, "final .", 498, "Mixed models are not nested")
    # no active results
    s2 = Session(out=Capture())
    _refuse(s2, "foo", 301, "last estimates not found\nsecond specification expected")


def test_force_skips_checks(models):
    df = models["df"]
    s = make_session(models)
    s.post_estimation(fit_results(df, FINAL, reml=True))
    lr(s, ". femalerandom", "force")
    assert s.r.scalars["df"] == 7


def test_reml_note_with_same_fixed_part(models):
    df = models["df"]
    s = Session(out=Capture())
    s.post_estimation(fit_results(df, FINAL, reml=True))
    estimates_cmd(s, Command("estimates", body="store a"))
    s.post_estimation(fit_results(df, FINAL, slopes=("ses",), cov="unstructured", reml=True))
    out = lr(s, "a .")
    assert "Note: LR tests based on REML are valid only when the fixed-effects specification\n" \
           "      is identical for both models.\n" in out
