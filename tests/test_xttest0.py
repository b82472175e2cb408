"""xttest0 after xtreg, re: the Breusch-Pagan LM statistic against plm's plmtest(type = "bp")
(balanced Grunfeld: 798.16, the value Baltagi's textbook prints from Stata's xttest0; and an
unbalanced Grunfeld, Baltagi and Li's form), the one-sided p-value, layout and refusals."""
import re

import numpy as np
import pytest

from session_run import csv_session, ok, run
from hlmshell.commands.xttest0 import breusch_pagan
from hlmshell import distributions as dist

# plm::plmtest(plm(inv ~ value + capital, model = "pooling"), type = "bp")$statistic
PLM_BALANCED = 798.161548369
PLM_UNBALANCED = 789.256571636      # Grunfeld without rows 1, 25, 26 and 100


@pytest.fixture()
def s():
    s = csv_session("tests/data/grunfeld.csv")
    ok(s, "xtset firm year")
    return s


def test_balanced_grunfeld_matches_plm_and_the_published_value(s):
    ok(s, "xtreg inv value capital, re")
    out = ok(s, "xttest0")
    assert abs(s.r.scalars["lm"] - PLM_BALANCED) < 1e-8 * PLM_BALANCED
    assert s.r.scalars["df"] == 1
    assert s.r.scalars["p"] == pytest.approx(0.5 * dist.chi2_sf(PLM_BALANCED, 1), rel=1e-9)
    assert "chibar2(01) =    798.16" in out
    assert "Prob > chibar2 =   0.0000" in out
    assert "        inv[firm,t] = Xb + u[firm] + e[firm,t]" in out
    sig_u = s.e.scalars["sigma_u"]
    row = re.search(r"\n +u \| +(\S+) +(\S+)\n", out)
    assert float(row.group(1)) == pytest.approx(sig_u ** 2, rel=1e-6)
    assert float(row.group(2)) == pytest.approx(sig_u, rel=1e-6)
    inv = re.search(r"\n +inv \| +(\S+)", out)
    y = np.asarray(s.data.var("inv").values, dtype=float)
    assert float(inv.group(1)) == pytest.approx(np.var(y, ddof=1), rel=1e-6)


def test_unbalanced_panel_uses_baltagi_li(s):
    ok(s, "drop in 100")
    ok(s, "drop in 25/26")
    ok(s, "drop in 1")
    ok(s, "xtreg inv value capital, re")
    ok(s, "xttest0")
    assert abs(s.r.scalars["lm"] - PLM_UNBALANCED) < 1e-8 * PLM_UNBALANCED


def test_negative_direction_is_zero_with_p_one():
    rng = np.random.default_rng(3)
    codes = np.repeat(np.arange(50), 4)
    e = rng.standard_normal(200)
    e -= np.bincount(codes, weights=e)[codes] / 4     # panel sums exactly zero
    assert breusch_pagan(e, codes) == 0.0


def test_refusals_leave_r_alone(s):
    assert run(s, "xttest0")[0] == 301
    ok(s, "xtreg inv value capital, fe")
    ok(s, "summarize inv")
    before = dict(s.r.scalars)
    rc, out = run(s, "xttest0")
    assert rc == 301 and "last estimates not xtreg, re" in out
    assert s.r.scalars == before
    ok(s, "xtreg inv value capital, re")
    assert run(s, "xttest0, foo")[0] == 198
    assert run(s, "xttest0 inv")[0] == 198
    assert run(s, "xttest0")[0] == 0
