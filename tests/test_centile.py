"""centile against independent numbers: numpy's 'weibull' quantile (Hyndman-Fan type 6, the
(n+1)q rule), the exact order-statistic interval for a median of 13 (x(3) to x(11), coverage
97.8%, textbook tables), the interpolation of STB-8 sg7 worked by hand with math.comb, and the
normal-based limits with scipy's density."""
import math

import numpy as np
import pytest
from scipy import stats

from hsb_fixtures import df, s  # noqa: F401
from session_run import ok, run

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session


def _seq_session(values):
    ses = Session(Capture())
    Interpreter(ses).run_text("clear\ninput x\n" + "\n".join(str(v) for v in values) + "\nend\n")
    return ses


def test_estimates_are_type6_quantiles(s, df):
    ok(s, "centile mathach ses, centile(5 25 50 90)")
    for j, q in enumerate((5, 25, 50, 90), start=1):
        ref = np.quantile(df.ses.to_numpy(float), q / 100, method="weibull")
        assert s.r.scalars[f"c_{j}"] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_conservative_interval_median_of_13():
    data = [3.1, 0.5, 7.2, 1.9, 4.4, 9.0, 2.2, 6.1, 5.5, 8.3, 0.9, 4.0, 7.7]
    ses = _seq_session(data)
    ok(ses, "centile x, cci")
    xs = sorted(data)
    assert (ses.r.scalars["lb_1"], ses.r.scalars["ub_1"]) == pytest.approx((xs[2], xs[10]), rel=1e-6)
    assert ses.r.scalars["c_1"] == pytest.approx(xs[6], rel=1e-6)   # float storage


def test_interpolated_interval_by_hand():
    ses = _seq_session(range(1, 14))
    ok(ses, "centile x")
    F = [sum(math.comb(13, k) for k in range(i + 1)) / 2 ** 13 for i in range(14)]
    g = (0.025 - F[2]) / (F[3] - F[2])
    assert ses.r.scalars["lb_1"] == pytest.approx(3 + g, rel=1e-12)
    assert ses.r.scalars["ub_1"] == pytest.approx(11 - g, rel=1e-12)   # symmetric


def test_normal_limits(s, df):
    ok(s, "centile mathach if id < 1400, normal centile(30)")
    x = df.mathach[df.id < 1400].to_numpy(float)
    c = np.quantile(x, 0.3, method="weibull")
    dens = stats.norm.pdf(c, x.mean(), x.std(ddof=1))
    se = math.sqrt(30 * 70 / len(x)) / (100 * dens)
    assert s.r.scalars["lb_1"] == pytest.approx(c - stats.norm.ppf(0.975) * se, rel=1e-9)


@pytest.mark.parametrize("line,rc", [("centile nosuch", 111), ("centile mathach, c(0)", 198),
                                     ("centile mathach, c(abc)", 198), ("centile mathach if id < 0", 2000),
                                     ("centile mathach, cci normal", 198), ("centile mathach, level(200)", 198)])
def test_bad_input(s, line, rc):
    assert run(s, line)[0] == rc
