"""Value labels outside what a .dta can hold are refused when defined, not at every later
`save`: Stata's value labels map integers -2,147,483,647 .. 2,147,483,620 (the long range
below its missing codes)."""
from __future__ import annotations

import pandas as pd
import pytest

from files_helpers import Shell, assert_stata_error


@pytest.fixture
def sh():
    shell = Shell()
    shell.ok("clear")
    shell.ok("set obs 3")
    shell.ok("generate x = _n")
    shell.ok('label define yn 1 "yes" 0 "no"')
    shell.ok("label values x yn")
    return shell


@pytest.mark.parametrize("value", ["3000000000", "2147483621", "2147483647", "-2147483648",
                                   "-3e9", "1e10"])
def test_out_of_range_value_refused_and_session_unchanged(sh, tmp_path, value):
    before = sh.state()
    for cmd in (f'label define big {value} "huge"',
                f'label define yn 2 "two" {value} "huge", add',
                f'label define yn {value} "huge", modify'):
        rc, printed = sh.run(cmd)
        assert_stata_error(rc, printed, 198, f"may not label {value}")
        assert sh.state() == before
    sh.ok(f"save {tmp_path}/ok")                    # and every save still works


def test_boundary_values_are_kept_through_save(sh, tmp_path):
    sh.ok('label define yn 2147483620 "top" -2147483647 "bottom" .a "refused", add')
    sh.ok(f"save {tmp_path}/edges")
    with pd.io.stata.StataReader(tmp_path / "edges.dta") as rd:
        labels = rd.value_labels()["yn"]
    assert labels[2147483620] == "top" and labels[-2147483647] == "bottom"
    assert labels[1] == "yes"
    sh.ok(f"use {tmp_path}/edges, clear")
    table = sh.session.data.value_labels["yn"]
    assert table[2147483620.0] == "top" and table[-2147483647.0] == "bottom"
    assert "refused" in table.values()
