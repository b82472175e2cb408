"""cformat(), pformat(), sformat() on estimation commands and `set cformat/pformat/sformat`:
the coefficient table's estimates, SEs and limits, p-values and test statistics in the user's
formats (a number between -1 and 1 that is too wide loses its leading zero, as in Stata);
the defaults (%9.0g, %5.3f, %8.2f) are untouched without them."""
import re

import numpy as np
import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.hsb_fixtures import HSB
from tests.session_run import ok, run


@pytest.fixture
def s():
    s = Session(Capture())
    ok(s, f'use "{HSB}"')
    return s


def _row(out, name):
    return next(ln for ln in out.splitlines() if re.match(rf"\s+{name} \|", ln)).split("|")[1].split()


def test_regress_cformat_pformat_sformat(s):
    out = ok(s, "regress mathach ses female, cformat(%9.3f) pformat(%5.4f) sformat(%8.3f)")
    b = np.ravel(s.e.b)
    se = np.sqrt(np.diag(s.e.V))
    cells = _row(out, "ses")
    assert cells[0] == f"{b[0]:.3f}" and cells[1] == f"{se[0]:.3f}"
    assert cells[2] == f"{b[0] / se[0]:.3f}"
    assert cells[3] == ".0000"                         # %5.4f: no room for the leading zero
    default = ok(s, "regress mathach ses female")
    assert _row(default, "ses")[3] == "0.000" and _row(default, "ses")[2] == f"{b[0] / se[0]:.2f}"


def test_set_cformat_applies_until_reset(s):
    ok(s, "set cformat %7.2f")
    assert ok(s, "display c(cformat)").strip() == "%7.2f"
    out = ok(s, "logit minority ses, nolog or")
    eb = np.exp(np.ravel(s.e.b)[0])
    assert _row(out, "ses")[0] == f"{eb:.2f}"
    out = ok(s, "mixed mathach ses || id:, nolog")
    assert _row(out, "ses")[0] == f"{np.ravel(s.e.b)[0]:.2f}"
    out = ok(s, "regress mathach ses, cformat(%9.4f)")     # the option wins over the setting
    assert _row(out, "ses")[0] == f"{np.ravel(s.e.b)[0]:.4f}"
    ok(s, "set cformat")
    out = ok(s, "regress mathach ses")
    assert _row(out, "ses")[0] == "3.18387"


def test_bad_formats(s):
    for line, rc in (("regress mathach ses, cformat(%12.3f)", 198),
                     ("regress mathach ses, pformat(%6.3f)", 198),
                     ("regress mathach ses, cformat(abc)", 198),
                     ("set cformat %10.2f", 198), ("set pformat xyz", 120)):
        got, out = run(s, line)
        assert got == rc, (line, out)
        assert "Traceback" not in out
    assert not s.settings.get("cformat")


def test_random_effects_tables_follow_cformat(s):
    out = ok(s, "mixed mathach ses || id:, nolog cformat(%9.2f)")
    row = next(ln for ln in out.splitlines() if "var(_cons)" in ln).split("|")[1].split()
    assert all(re.fullmatch(r"\d+\.\d\d", c) for c in row)
    out = ok(s, "melogit minority ses || id:, cformat(%9.2f)")
    row = next(ln for ln in out.splitlines() if "var(_cons)" in ln).split("|")[1].split()
    assert all(re.fullmatch(r"\d+\.\d\d", c) for c in row)
