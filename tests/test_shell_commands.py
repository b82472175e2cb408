"""cls, browse/edit (batch behaviour), set, query, about, creturn list, c() values and timer."""
from __future__ import annotations

import os
import re
import time

import pytest

from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


@pytest.fixture
def s():
    ses = Session(out=Capture())
    ok(ses, "set obs 3")
    ok(ses, "gen x = _n")
    return ses


def test_cls_in_batch_prints_nothing(s):
    assert ok(s, "cls") == ""
    assert run(s, "cls now")[0] == 198


def test_browse_in_batch_is_a_note(s):
    for line in ("browse", "bro x", "br x in 1/2", "edit x if x > 1", "browse, nolabel"):
        out = ok(s, line)
        assert out.count("\n") == 1 and "list" in out, line
    assert run(s, "browse nosuch")[0] == 111
    assert run(s, "browse, foo")[0] == 198


class FakeScreen:
    def __init__(self):
        self.cleared = 0
        self.tables = []

    def clear(self):
        self.cleared += 1

    def browse(self, table):
        self.tables.append(table)


def test_cls_and_browse_use_the_repl_screen(s):
    ok(s, 'gen str5 name = "n" + string(_n)')
    ok(s, "label define yn 1 yes 2 no")
    ok(s, "label values x yn")
    s.screen = FakeScreen()
    assert ok(s, "cls") == "" and s.screen.cleared == 1
    ok(s, "quietly cls")
    assert s.screen.cleared == 1
    assert ok(s, "browse if x >= 2") == ""
    t = s.screen.tables[-1]
    assert t.headers == ["x", "name"] and t.nrows == 2
    assert [t.obs(i) for i in range(2)] == [2, 3]
    assert t.cell(0, 0) == "no" and t.cell(1, 1) == "n3" and t.cell(1, 0) == "3"
    ok(s, "browse x, nolabel")
    assert s.screen.tables[-1].cell(0, 0) == "1"


def test_set_settings_and_c_values(s):
    ok(s, "set linesize 100")
    assert ok(s, "display c(linesize)").strip() == "100"
    assert run(s, "set linesize 20")[0] == 198
    ok(s, "set more on")
    assert ok(s, "display c(more)").strip() == "on"
    ok(s, "set more off, permanently")
    assert run(s, "set more maybe")[0] == 198
    ok(s, "set varabbrev off")
    assert ok(s, "display c(varabbrev)").strip() == "off"
    ok(s, "set type double")
    assert ok(s, "display c(type)").strip() == "double"
    ok(s, "set seed 42")
    assert ok(s, "display c(seed)").strip() == "42"


@pytest.mark.parametrize("expr,pattern", [
    ("c(N)", r"3"), ("c(k)", r"1"), ("c(version)", r"17"), ("c(stata_version)", r"17"),
    ("c(os)", r"Unix|MacOSX|Windows"), ("c(maxdouble)", r"8\.99e\+307"),
    ("c(mindouble)", r"-8\.99e\+307"), ("c(epsdouble)", r"2\.220?e-16"), ("c(linesize)", r"80"),
    ("c(current_date)", r"[ 0-3]\d [A-Z][a-z]{2} \d{4}"), ("c(current_time)", r"\d\d:\d\d:\d\d"),
    ("c(pwd)", re.escape(os.getcwd())), ("c(changed)", r"1"), ("c(filename)", r""),
    ("c(hostname)", r".*"), ("c(Mons)", r"Jan Feb .* Dec"), ("c(pi)", r"3\.14159\d*"),
    ("c(nosuchthing)", r"\."),
])
def test_c_values_in_expressions(s, expr, pattern):
    out = ok(s, f"display {expr}").strip()
    assert re.fullmatch(pattern, out), (expr, out)


def test_c_values_in_macros(s):
    ok(s, 'local d "`c(current_date)\'"')
    assert re.fullmatch(r"[ 0-3]\d [A-Z][a-z]{2} \d{4}\n", ok(s, "display \"`d'\""))
    assert ok(s, "display \"`c(N)'\"") == "3\n"


def test_query_and_about(s):
    ok(s, "set linesize 120")
    out = ok(s, "query")
    assert "Output settings" in out and re.search(r"linesize\s+120", out)
    assert re.search(r"more\s+off", out) and re.search(r"type\s+float", out)
    assert "Output settings" not in ok(s, "query other")
    assert run(s, "query nonsense")[0] == 198
    assert re.search(r"Memory settings\n\s+maxvar\s+5000", ok(s, "query memory"))
    assert "Output settings" not in ok(s, "query memory")
    assert ok(s, "query trace") == "(hlmshell has no trace settings)\n"
    assert "hlmshell" in ok(s, "about")
    assert run(s, "about x")[0] == 198


def test_creturn_list(s):
    out = ok(s, "creturn list")
    for piece in ("System values", 'c(current_date) = "', "c(N) = 3", "c(k) = 1", "c(maxdouble) =",
                  'c(os) = "', "c(linesize) = 80"):
        assert piece in out, piece
    assert run(s, "creturn")[0] == 198
    assert run(s, "creturn foo")[0] == 198


def test_timer(s):
    ok(s, "timer clear")
    ok(s, "timer on 1")
    time.sleep(0.05)
    ok(s, "timer off 1")
    ok(s, "timer on 1")
    ok(s, "timer off 1")
    ok(s, "timer on 7")
    time.sleep(0.01)
    ok(s, "timer off 7")
    out = ok(s, "timer list")
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 2
    m = re.fullmatch(r"\s+1:\s+(\d+\.\d\d) /\s+2 =\s+(\d+\.\d{4})", lines[0])
    assert m and float(m.group(1)) >= 0.05
    assert re.fullmatch(r"\s+7:\s+\d+\.\d\d /\s+1 =\s+\d+\.\d{4}", lines[1])
    assert float(ok(s, "display r(t1)")) >= 0.05
    assert ok(s, "display r(nt1)").strip() == "2" and ok(s, "display r(nt7)").strip() == "1"
    out = ok(s, "timer list 1")
    assert out.strip().startswith("1:") and ok(s, "display r(nt7)").strip() == "."
    ok(s, "timer clear 1")
    ok(s, "timer list 1")
    assert ok(s, "display r(t1)").strip() == "0"
    ok(s, "timer clear")
    assert ok(s, "timer list") == ""
    for bad in ("timer", "timer on", "timer on 0", "timer on 101", "timer on x", "timer go 1",
                "timer off 1 2", "timer on 1.5"):
        assert run(s, bad)[0] == 198, bad


def test_timer_off_without_on_and_double_on(s):
    ok(s, "timer off 3")
    ok(s, "timer on 3")
    ok(s, "timer on 3")
    ok(s, "timer off 3")
    ok(s, "timer list 3")
    assert ok(s, "display r(nt3)").strip() == "1"
