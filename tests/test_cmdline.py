"""e(cmdline) as Stata stores it: the command's full name and its arguments as typed, without
the quietly/noisily/capture/by prefixes around it."""
import pytest

from hsb_fixtures import s  # noqa: F401  (fixture)
from session_run import ok


@pytest.mark.parametrize("line, want", [
    ("quietly regress mathach ses", "regress mathach ses"),
    ("qui: reg mathach ses if sector==1", "regress mathach ses if sector==1"),
    ("capture noisily quietly regress mathach ses  ,  robust", "regress mathach ses  ,  robust"),
    ("quietly mixed mathach ses || id:", "mixed mathach ses || id:"),
    ("quietly xtmixed mathach ses || id:", "xtmixed mathach ses || id:"),
])
def test_cmdline_has_no_prefixes(s, line, want):
    ok(s, line)
    assert s.e.macros["cmdline"] == want
