"""contrast and pwcompare `small` after `mixed ..., reml dfmethod(kroger|satterthwaite|...)`:
F tests on the small-sample denominator DF and t tests per contrast, checked against
lmerTest's contestMD/contest1D (tests/data/contrast_small/lmertest.R, run on the same data;
Kenward-Roger standard errors from pbkrtest's adjusted covariance, as Stata's)."""
import json
from pathlib import Path

import numpy as np
import pytest

from tests.session_run import csv_session, ok, run

DATA = Path(__file__).parent / "data" / "contrast_small"
REF = json.loads((DATA / "lmertest.json").read_text())
FIT = "quietly mixed y i.agent c.trial i.agent#c.trial || pid: trial, reml dfmethod({})"


# lmerTest's Satterthwaite DF come from the observed information: dfmethod(satterthwaite, oim)
METHODS = {"kroger": "kroger", "satterthwaite": "satterthwaite, oim"}


@pytest.fixture(scope="module", params=sorted(METHODS))
def fitted(request):
    s = csv_session("tests/data/contrast_small/agents.csv")
    ok(s, FIT.format(METHODS[request.param]))
    return s, REF[request.param]


def _m(s, name):
    return np.asarray(s.r.matrices[name].values, dtype=float)


def test_joint_f_on_small_sample_ddf(fitted):
    s, ref = fitted
    out = ok(s, "contrast i.agent, small")
    assert _m(s, "df")[0, 0] == ref["joint"]["df1"] == 2
    assert _m(s, "F")[0, 0] == pytest.approx(ref["joint"]["F"], rel=1e-4)
    assert _m(s, "df2")[0, 0] == pytest.approx(ref["joint"]["ddf"], rel=1e-4)
    assert _m(s, "p")[0, 0] == pytest.approx(ref["joint"]["p"], rel=1e-3)
    head = [ln for ln in out.splitlines() if "P>F" in ln][0]
    assert head.split() == ["|", "df", "ddf", "F", "P>F"]
    row = [ln for ln in out.splitlines() if ln.strip().startswith("agent |")][0]
    assert row.split()[3] == f"{ref['joint']['ddf']:.2f}"


def test_pairwise_t_tests_bonferroni(fitted):
    s, ref = fitted
    out = ok(s, "pwcompare i.agent, small effects mcompare(bonf)")
    T = _m(s, "table_vs")
    pr = ref["pairs"]
    np.testing.assert_allclose(T[0], pr["estimate"], rtol=1e-5)
    np.testing.assert_allclose(T[1], pr["se"], rtol=1e-4)
    np.testing.assert_allclose(T[2], pr["t"], rtol=1e-4)
    np.testing.assert_allclose(T[6], pr["df"], rtol=1e-4)
    np.testing.assert_allclose(T[3], np.minimum(1.0, 3 * np.array(pr["p"])), rtol=1e-3)
    assert s.r.macros["mcmethod_vs"] == "bonferroni"
    assert "      t    P>|t|" in out


def test_margins_own_df(fitted):
    s, ref = fitted
    ok(s, "pwcompare i.agent, small cimargins")
    T = _m(s, "table")
    mr = ref["margins"]
    np.testing.assert_allclose(T[0], mr["estimate"], rtol=1e-5)
    np.testing.assert_allclose(T[1], mr["se"], rtol=1e-4)
    np.testing.assert_allclose(T[6], mr["df"], rtol=2e-3)


def test_reference_contrasts_rows_and_joint(fitted):
    s, ref = fitted
    ok(s, "contrast r.agent, small")
    F, df2 = _m(s, "F")[0], _m(s, "df2")[0]
    t = np.array(ref["pairs"]["t"][:2])
    np.testing.assert_allclose(F[:2], t ** 2, rtol=1e-4)          # a 1-df F is t squared
    np.testing.assert_allclose(df2[:2], ref["pairs"]["df"][:2], rtol=1e-4)
    assert F[2] == pytest.approx(ref["joint"]["F"], rel=1e-4)
    T = _m(s, "table")
    np.testing.assert_allclose(T[3], ref["pairs"]["p"][:2], rtol=1e-3)


def test_interaction_with_a_continuous_covariate(fitted):
    """`contrast i.agent#c.trial, small` (equal slopes) and `pwcompare (c.trial#agent)`, as
    the public do-file types them."""
    s, ref = fitted
    ok(s, "contrast i.agent#c.trial, small")
    assert _m(s, "F")[0, 0] == pytest.approx(ref["inter"]["F"], rel=1e-4)
    assert _m(s, "df2")[0, 0] == pytest.approx(ref["inter"]["ddf"], rel=1e-4)
    ok(s, "pwcompare (c.trial#agent), effects mcompare(bonf) small")
    T = _m(s, "table_vs")
    sp = ref["slope_pairs"]
    np.testing.assert_allclose(T[0], sp["estimate"], rtol=1e-5)
    np.testing.assert_allclose(T[1], sp["se"], rtol=1e-4)
    np.testing.assert_allclose(T[6], sp["df"], rtol=1e-4)
    assert s.r.matrices["table_vs"].colnames[0] == "2vs1.agent#c.trial"


def test_slope_terms_bad_input():
    s = csv_session("tests/data/contrast_small/agents.csv")
    ok(s, FIT.format("kroger"))
    for line, rc in (("contrast c.trial", 198), ("contrast agent#c.nosuch", 111),
                     ("contrast c.trial#c.trial", 198), ("pwcompare (c.trial#c.pid)", 198)):
        assert run(s, line)[0] == rc, line


def test_without_small_stays_large_sample(fitted):
    s, _ = fitted
    ok(s, "contrast i.agent")
    assert "chi2" in s.r.matrices and "df2" not in s.r.matrices


def test_residual_method_uses_its_df():
    s = csv_session("tests/data/contrast_small/agents.csv")
    ok(s, FIT.format("residual"))
    ok(s, "contrast i.agent, small")
    assert _m(s, "df2")[0, 0] == pytest.approx(514 - 6)


def test_small_needs_dfmethod_and_leaves_results():
    s = csv_session("tests/data/contrast_small/agents.csv")
    ok(s, "quietly mixed y i.agent c.trial || pid:, reml")
    ok(s, "contrast i.agent")
    before = s.r.matrices["chi2"].values.copy()
    for line in ("contrast i.agent, small", "pwcompare i.agent, small"):
        rc, out = run(s, line)
        assert rc == 198 and "dfmethod()" in out
    assert np.array_equal(s.r.matrices["chi2"].values, before)
    ok(s, "quietly regress y i.agent")
    assert run(s, "pwcompare i.agent, small")[0] == 198
