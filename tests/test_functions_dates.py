"""Date and time functions against Python's datetime (days since 01jan1960, missing when invalid)."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from hlmshell.syntax.evaluate import evaluate_scalar
from hlmshell.syntax.parser import parse_expr

E0 = dt.date(1960, 1, 1)
S = Session(out=Capture())


def val(expr: str):
    return evaluate_scalar(parse_expr(expr), S)


def td(d: dt.date) -> int:
    return (d - E0).days


def is_missing(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


dates = st.dates(min_value=dt.date(100, 1, 1), max_value=dt.date(9999, 12, 31))


@settings(max_examples=150, deadline=None)
@given(dates)
def test_mdy_and_its_parts_match_datetime(d):
    e = td(d)
    assert val(f"mdy({d.month}, {d.day}, {d.year})") == e
    assert val(f"year({e})") == d.year
    assert val(f"month({e})") == d.month
    assert val(f"day({e})") == d.day
    assert val(f"dow({e})") == (d.isoweekday() % 7)          # 0 = Sunday
    doy = d.timetuple().tm_yday
    assert val(f"doy({e})") == doy
    assert val(f"week({e})") == min((doy - 1) // 7 + 1, 52)
    assert val(f"quarter({e})") == (d.month - 1) // 3 + 1
    assert val(f"halfyear({e})") == (d.month - 1) // 6 + 1


@settings(max_examples=120, deadline=None)
@given(dates)
def test_periods_round_trip(d):
    e = td(d)
    m = (d.year - 1960) * 12 + d.month - 1
    assert val(f"mofd({e})") == m
    assert val(f"ym({d.year}, {d.month})") == m
    assert val(f"dofm({m})") == td(d.replace(day=1))
    q = (d.year - 1960) * 4 + (d.month - 1) // 3
    assert val(f"qofd({e})") == q
    assert val(f"dofq({q})") == td(dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1))
    assert val(f"yq({d.year}, {(d.month - 1) // 3 + 1})") == q
    h = (d.year - 1960) * 2 + (d.month - 1) // 6
    assert val(f"hofd({e})") == h and val(f"dofh({h})") == td(dt.date(d.year, 6 * ((d.month - 1) // 6) + 1, 1))
    w = val(f"wofd({e})")
    assert val(f"dofw({w})") <= e < val(f"dofw({w})") + 9
    assert val(f"cofd({e})") == e * 86400000.0 and val(f"dofc(cofd({e}) + 5000)") == e


@settings(max_examples=120, deadline=None)
@given(dates, st.sampled_from(["DMY", "MDY", "YMD"]), st.sampled_from(["%d %b %Y", "%d/%m/%Y", "%d%m%Y",
                                                                         "%d %B %Y", "%d-%m-%Y"]))
def test_date_parses_what_strftime_writes(d, mask, form):
    order = {"DMY": "%d {sep}%m{sep}%Y", "MDY": "%m{sep}%d{sep}%Y", "YMD": "%Y{sep}%m{sep}%d"}
    text = form if mask == "DMY" else order[mask].replace(" ", "").format(sep="/")
    s = f"{d.day:02d}" + d.strftime(text[2:]) if text.startswith("%d") else d.strftime(text)
    s = s.replace(str(d.year), f"{d.year:04d}") if d.year < 1000 else s
    if d.year < 1000:
        return           # strftime's %Y does not pad years before 1000 everywhere
    assert val(f'date("{s}", "{mask}")') == td(d), s


@pytest.mark.parametrize("expr,want", [
    ('date("15jan2020", "DMY")', td(dt.date(2020, 1, 15))),
    ('date("January 15, 2020", "MDY")', td(dt.date(2020, 1, 15))),
    ('date("2020-01-15", "YMD")', td(dt.date(2020, 1, 15))),
    ('date("20200115", "YMD")', td(dt.date(2020, 1, 15))),
    ('date("15.1.2020", "DMY")', td(dt.date(2020, 1, 15))),
    ('date("1/15/99", "MD19Y")', td(dt.date(1999, 1, 15))),
    ('date("1/15/05", "MDY", 2020)', td(dt.date(2005, 1, 15))),
    ('date("1/15/45", "MDY", 2020)', td(dt.date(1945, 1, 15))),
    ('date("1/15/45", "MDY")', None),           # two-digit year, no century: missing
    ('date("31feb2020", "DMY")', None),
    ('date("", "DMY")', None),
    ('date("15jan2020", "DMQ")', None),
    ('date("15 foo 2020", "DMY")', None),
    ("mdy(2, 29, 2001)", None), ("mdy(2, 29, 2000)", td(dt.date(2000, 2, 29))),
    ("mdy(13, 1, 2000)", None), ("mdy(1, 1, 99)", None), ("mdy(1.5, 1, 2000)", None),
    ("mdy(., 1, 2000)", None), ("year(.)", None), ("month(1e9)", None), ("dofm(.)", None),
    ("ym(2020, 13)", None), ("yq(2020, 0)", None),
    ("mdy(1, 1, 1960)", 0), ("dow(0)", 5), ("mofd(0)", 0), ("dofq(1)", 91),
    ('clock("15jan2020 10:30:15.5", "DMYhms")', td(dt.date(2020, 1, 15)) * 86400000.0 + 37815500),
    ('clock("2020-01-15 2:05 pm", "YMDhm")', td(dt.date(2020, 1, 15)) * 86400000.0 + (14 * 60 + 5) * 60000),
    ('clock("15jan2020", "DMY")', td(dt.date(2020, 1, 15)) * 86400000.0),
    ('clock("15jan2020 25:00:00", "DMYhms")', None),
    ('hh(clock("15jan2020 10:30:15.5", "DMYhms"))', 10),
    ('mm(clock("15jan2020 10:30:15.5", "DMYhms"))', 30),
    ('ss(clock("15jan2020 10:30:15.5", "DMYhms"))', 15.5),
    ("hms(1, 2, 3)", 3723000), ("hms(24, 0, 0)", None),
    ("mdyhms(1, 1, 1960, 0, 0, 1)", 1000), ("dhms(1, 0, 0, 0)", 86400000),
    ("dofy(2000)", td(dt.date(2000, 1, 1))), ("yofd(0)", 1960),
])
def test_date_cases(expr, want):
    got = val(expr)
    if want is None:
        assert is_missing(got), (expr, got)
    else:
        assert got == pytest.approx(want), expr


def test_today_and_now():
    assert val("today()") == td(dt.date.today())
    assert abs(val("now()") - (td(dt.date.today()) * 86400000.0)) < 86400000.0 * 1.01


def test_date_functions_vectorised_over_a_string_variable():
    s = Session(out=Capture())
    it = Interpreter(s)
    for line in ("set obs 3", 'gen str12 d = "15jan2020"', 'replace d = "bad" in 2', 'replace d = "" in 3',
                 'gen t = date(d, "DMY")', "format t %td", "gen y = year(t)"):
        assert it.run_line(line) == 0, s.out.getvalue()
    t = s.data.var("t").values
    assert t[0] == td(dt.date(2020, 1, 15)) and np.isnan(t[1:]).all()
    assert s.data.var("y").values[0] == 2020


def test_wrong_types():
    s = Session(out=Capture())
    it = Interpreter(s)
    assert it.run_line('display year("a")') == 109
    assert it.run_line("display date(1, 2)") == 109
    assert it.run_line("display mdy(1, 2)") == 198


@pytest.mark.parametrize("text,want", [
    ("td(01jan2020) + 1", "21915 + 1"), ("x > td(15feb1999) & y", "x > 14290 & y"),
    ("d(2jan1960)", "1"), ("tc(01jan1960 00:00:01)", "1000"), ("tm(2020m1)", "720"),
    ("tq(1960q2)", "1"), ("th(1961h1)", "2"), ("tw(1960w3)", "2"), ("ty(2020)", "2020"),
    ('"td(01jan2020)" + string(td(1jan2020))', '"td(01jan2020)" + string(21915)'),
    ("m(x) + td(x)", "m(x) + td(x)"), ("c(current_date)", "c(current_date)"),
])
def test_date_literals_are_expanded(text, want):
    from hlmshell.syntax.functions import expand_date_literals

    assert expand_date_literals(text) == want


@settings(max_examples=100, deadline=None)
@given(dates)
def test_td_literal_round_trips(d):
    from hlmshell.syntax.functions import expand_date_literals

    if d.year < 1000:
        return
    assert expand_date_literals(f"td({d.day}{d.strftime('%b').lower()}{d.year})") == str(td(d))


def test_invalid_date_literal_is_an_error():
    from hlmshell.errors import StataError
    from hlmshell.syntax.functions import expand_date_literals

    with pytest.raises(StataError) as e:
        expand_date_literals("td(31feb2020)")
    assert e.value.rc == 198


@settings(max_examples=60, deadline=None)
@given(dates.filter(lambda d: d.year >= 1000))
def test_display_shows_dates_in_time_formats(d):
    """`display %td exp` and masks (%tdDD/NN/CCYY): the date datetime writes."""
    from tests.session_run import ok

    s = Session(out=Capture())
    e = td(d)
    assert ok(s, f"display %td {e}") == d.strftime("%d%b%Y").lower() + "\n"
    assert ok(s, f'display %tdDD/NN/CCYY {e} " x"') == d.strftime("%d/%m/%Y") + " x\n"
    assert ok(s, f"display %tc {e * 86400000}+3723000") == \
        d.strftime("%d%b%Y").lower() + " 01:02:03\n"
