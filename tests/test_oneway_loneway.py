"""oneway and loneway against independent numbers: scipy's one-way F and Bartlett test, the
ANOVA decomposition from pandas group sums, and the intraclass correlation of a real Stata log
(Statalist, 2003: loneway mes sub on nine observations)."""
import math

import numpy as np
import pytest
from scipy import stats

from hsb_fixtures import df, s  # noqa: F401
from session_run import ok, run

from hlmshell.output.writer import Capture
from hlmshell.session import Session

STATALIST = [(25, 1), (36, 2), (14, 3), (24, 1), (35, 2), (12, 3), (25, 1), (37, 2), (14, 3)]


def _input_session(rows, names="mes sub"):
    ses = Session(Capture())
    ses.out = Capture()
    lines = [f"{a} {b}" for a, b in rows]
    from hlmshell.interpreter import Interpreter
    Interpreter(ses).run_text("clear\ninput " + names + "\n" + "\n".join(lines) + "\nend\n")
    return ses


def test_loneway_matches_a_real_stata_log():
    ses = _input_session(STATALIST)
    out = ok(ses, "loneway mes sub")
    # Stata's own output (Statalist 2003): 0.99311 0.00792 0.97759 1.00863, F 433.50
    assert "0.99311     0.00792       0.97759     1.00863" in out
    assert "433.50" in out and "770.66667" in out
    assert ses.r.scalars["N"] == 9


def _icc_reference(y, g):
    """Method-of-moments ICC with Smith's asymptotic variance, written out from its definition."""
    groups = {k: y[g == k] for k in np.unique(g)}
    N, k = len(y), len(groups)
    ni = np.array([len(v) for v in groups.values()], float)
    msw = sum(((v - v.mean()) ** 2).sum() for v in groups.values()) / (N - k)
    msb = sum(len(v) * (v.mean() - y.mean()) ** 2 for v in groups.values()) / (k - 1)
    n0 = (N - (ni ** 2).sum() / N) / (k - 1)
    sb2 = max((msb - msw) / n0, 0)
    r = sb2 / (sb2 + msw)
    term = ((ni ** 2).sum() - 2 * (ni ** 3).sum() / N + (ni ** 2).sum() ** 2 / N ** 2)
    var = 2 * (1 - r) ** 2 / n0 ** 2 * ((1 + r * (n0 - 1)) ** 2 / (N - k)
                                       + ((k - 1) * (1 - r) * (1 + r * (2 * n0 - 1)) + r * r * term) / (k - 1) ** 2)
    return r, math.sqrt(var), math.sqrt(sb2), math.sqrt(msw), n0 * r / (1 + (n0 - 1) * r)


def test_loneway_hsb_icc(s, df):
    ok(s, "loneway mathach id")
    r, se, sdb, sdw, rel = _icc_reference(df.mathach.to_numpy(float), df.id.to_numpy())
    R = s.r.scalars
    assert R["rho"] == pytest.approx(r, rel=1e-10)
    assert R["se"] == pytest.approx(se, rel=1e-10)
    assert R["sd_b"] == pytest.approx(sdb, rel=1e-10)
    assert R["sd_w"] == pytest.approx(sdw, rel=1e-10)
    assert R["rho_t"] == pytest.approx(rel, rel=1e-10)
    assert R["lb"] == pytest.approx(r - 1.959963985 * se, rel=1e-8)
    F = stats.f_oneway(*[v.mathach.to_numpy() for _, v in df.groupby("id")]).statistic
    assert R["F"] == pytest.approx(F, rel=1e-10)


def test_oneway_f_and_bartlett(s, df):
    out = ok(s, "oneway mathach minority if id < 1500, tabulate")
    d = df[df.id < 1500]
    groups = [v.mathach.to_numpy() for _, v in d.groupby("minority")]
    R = s.r.scalars
    assert R["F"] == pytest.approx(stats.f_oneway(*groups).statistic, rel=1e-10)
    assert R["chi2bart"] == pytest.approx(stats.bartlett(*groups).statistic, rel=1e-10)
    assert R["N"] == len(d)
    assert "Bartlett's equal-variances test" in out and "Summary of mathach" in out


def test_oneway_bonferroni_p(s, df):
    d = df[df.id < 1500].copy()
    d["grp"] = (d.ses > -0.5).astype(int) + (d.ses > 0.5).astype(int)
    ok(s, "generate grp = (ses > -0.5) + (ses > 0.5)")
    out = ok(s, "oneway mathach grp if id < 1500, bonferroni")
    g = [d.mathach[d.grp == k].to_numpy() for k in range(3)]
    msw = sum(((v - v.mean()) ** 2).sum() for v in g) / (len(d) - 3)
    t = (g[2].mean() - g[0].mean()) / math.sqrt(msw * (1 / len(g[2]) + 1 / len(g[0])))
    p = min(1, 3 * 2 * stats.t.sf(abs(t), len(d) - 3))
    assert f"{p:.3f}" in out and "(Bonferroni)" in out


@pytest.mark.parametrize("line,rc", [("loneway mathach", 102), ("loneway mathach id ses", 103),
                                     ("loneway nosuch id", 111), ("oneway mathach id if id < 0", 2000),
                                     ("loneway name id", 109), ("oneway mathach sector, bogus", 198)])
def test_bad_input(s, line, rc):
    ok(s, 'generate str3 name = "a"')
    assert run(s, line)[0] == rc


def test_loneway_exact_and_centering():
    ses = _input_session(STATALIST)
    ok(ses, "loneway mes sub, exact")
    F, d1, d2, n = 433.5, 2, 6, 3
    fl, fu = F / stats.f.ppf(0.975, d1, d2), F / stats.f.ppf(0.025, d1, d2)
    assert ses.r.scalars["lb"] == pytest.approx((fl - 1) / (fl + n - 1), rel=1e-10)
    assert ses.r.scalars["ub"] == pytest.approx((fu - 1) / (fu + n - 1), rel=1e-10)
    ok(ses, "loneway mes sub, mean")
    fc = d2 / (d2 - 2)
    assert ses.r.scalars["rho"] == pytest.approx((F - fc) / (F + (n - 1) * fc), rel=1e-10)
    ok(ses, "loneway mes sub, median")
    fm = stats.f.median(d1, d2)
    assert ses.r.scalars["rho"] == pytest.approx((F - fm) / (F + (n - 1) * fm), rel=1e-10)


def test_loneway_exact_needs_balance(s):
    assert run(s, "loneway mathach id, exact")[0] == 198
