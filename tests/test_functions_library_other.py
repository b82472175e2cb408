"""Stata's date/time, string and remaining functions (functions_dates.py, functions_strings.py,
functions_misc.py). References: Python's datetime/calendar (an implementation independent of
the numpy day arithmetic), R's .leap.seconds (tests/data/functions_library/leap_seconds.json),
scipy for digamma/trigamma and the random draws, and the examples of Stata's [FN] manual and
the National Archives' soundex rules."""
from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import os

import numpy as np
import pytest

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCH = dt.date(1960, 1, 1)


@pytest.fixture(scope="module")
def s():
    return Session(out=Capture())


def value(s, expr):
    s.out = Capture()
    rc = Interpreter(s).run_line(f"scalar __v = {expr}")
    assert rc == 0, s.out.getvalue()
    v = s.scalars["__v"]
    return getattr(v, "value", v)


def td(d: dt.date) -> int:
    return (d - EPOCH).days


# ----------------------------------------------------------------------------- dates
def test_durations(s):
    assert value(s, "hours(5400000)") == 1.5
    assert value(s, "minutes(90000)") == 1.5
    assert value(s, "seconds(1500)") == 1.5
    assert value(s, "msofhours(2)") == 7_200_000
    assert value(s, "msofminutes(1.5)") == 90_000
    assert value(s, "msofseconds(2.5)") == 2_500
    assert math.isnan(value(s, "hours(.)"))


def test_leap_seconds_match_r():
    with open(os.path.join(HERE, "data", "functions_library", "leap_seconds.json")) as fh:
        ref = json.load(fh)
    s = Session(out=Capture())
    for i, after in enumerate(ref["after_ms"]):
        # just before the leap second: i earlier leap seconds; just after: i + 1
        assert value(s, f"Cofc({after - 1000}) - {after - 1000}") == 1000 * i
        assert value(s, f"Cofc({after}) - {after}") == 1000 * (i + 1)
        leap = after - 1000 + 1000 * i + 1000          # %tC of 23:59:60
        assert value(s, f"isleapsecond({leap})") == 1
        assert value(s, f"isleapsecond({leap} - 1000)") == 0
        assert value(s, f"isleapsecond({leap} + 1000)") == 0
        y, m, d = (int(p) for p in ref["dates"][i].split("-"))
        day = dt.date(y, m, d) - dt.timedelta(days=1)
        assert value(s, f"Cmdyhms({day.month},{day.day},{day.year},23,59,60)") == leap
        assert value(s, f"ssC({leap} + 500)") == 60.5
        assert value(s, f"dofC({leap})") == td(day)
        assert value(s, f"cofC(Cofc({after} + 12345)) - ({after} + 12345)") == 0


def test_tC_helpers(s):
    c = (td(dt.date(2020, 3, 15)) * 86400 + 10 * 3600 + 20 * 60 + 30) * 1000.0
    assert value(s, 'Clock("2020-03-15 10:20:30", "YMDhms")') == c + 27000
    assert value(s, "Cdhms(td(15mar2020), 10, 20, 30)") == c + 27000
    assert value(s, "Cofd(td(15mar2020))") == td(dt.date(2020, 3, 15)) * 86_400_000 + 27000
    assert value(s, "Chms(1,2,3)") == 3_723_000
    assert value(s, "hhC(Cdhms(td(15mar2020), 10, 20, 30))") == 10
    assert value(s, "mmC(Cdhms(td(15mar2020), 10, 20, 30))") == 20
    assert math.isnan(value(s, "Cmdyhms(12,30,2016,23,59,60)"))     # no leap second that day
    assert math.isnan(value(s, "Cofc(.)"))


@pytest.mark.parametrize("year", [1900, 1996, 2000, 2023, 2024, 2100, 1601])
def test_leap_years(s, year):
    assert value(s, f"isleapyear({year})") == float(calendar.isleap(year))
    nxt = next(y for y in range(year + 1, year + 9) if calendar.isleap(y))
    prv = next(y for y in range(year - 1, year - 9, -1) if calendar.isleap(y))
    assert value(s, f"nextleapyear({year})") == nxt
    assert value(s, f"previousleapyear({year})") == prv


def test_month_facts_over_many_days(s):
    days = [dt.date(1899, 12, 31) + dt.timedelta(days=int(k)) for k in np.linspace(0, 80000, 97)]
    for d in days:
        t = td(d)
        n = calendar.monthrange(d.year, d.month)[1]
        assert value(s, f"daysinmonth({t})") == n
        assert value(s, f"firstdayofmonth({t})") == td(d.replace(day=1))
        assert value(s, f"lastdayofmonth({t})") == td(d.replace(day=n))


def test_month_domain(s):
    for e in ("isleapyear(2000.5)", "isleapyear(.)", "daysinmonth(.)", "nextleapyear(9999)"):
        assert math.isnan(value(s, e)), e


def _anniv(b: dt.date, year: int, march: bool) -> dt.date:
    if b.month == 2 and b.day == 29 and not calendar.isleap(year):
        return dt.date(year, 3, 1) if march else dt.date(year, 2, 28)
    return b.replace(year=year)


@pytest.mark.parametrize("b,d", [(dt.date(1990, 6, 15), dt.date(2020, 6, 15)),
                                 (dt.date(1990, 6, 15), dt.date(2020, 6, 14)),
                                 (dt.date(2000, 2, 29), dt.date(2023, 1, 10)),
                                 (dt.date(2000, 2, 29), dt.date(2023, 2, 28)),
                                 (dt.date(2000, 2, 29), dt.date(2024, 3, 5))])
def test_birthdays(s, b, d):
    for march, opt in ((True, ""), (False, ', "28feb"')):
        nxt = next(a for a in (_anniv(b, y, march) for y in range(d.year, d.year + 2)) if a > d)
        prv = next(a for a in (_anniv(b, y, march) for y in range(d.year, d.year - 2, -1)) if a < d)
        assert value(s, f"nextbirthday({td(b)}, {td(d)}{opt})") == td(nxt)
        assert value(s, f"previousbirthday({td(b)}, {td(d)}{opt})") == td(prv)
    assert math.isnan(value(s, f"nextbirthday({td(d)}, {td(b)})"))      # before birth


def _whole_years(a: dt.date, b: dt.date) -> int:
    n = b.year - a.year
    return n - 1 if _anniv(a, b.year, True) > b else n


def _whole_months(a: dt.date, b: dt.date) -> int:
    n = (b.year - a.year) * 12 + b.month - a.month
    return n - 1 if b.day < min(a.day, calendar.monthrange(b.year, b.month)[1]) else n


def test_datediff_against_calendar_arithmetic(s):
    rng = np.random.default_rng(3)
    for _ in range(60):
        a = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 30000)))
        b = a + dt.timedelta(days=int(rng.integers(0, 9000)))
        assert value(s, f'datediff({td(a)}, {td(b)}, "day")') == (b - a).days
        assert value(s, f'datediff({td(a)}, {td(b)}, "year")') == _whole_years(a, b)
        assert value(s, f'datediff({td(b)}, {td(a)}, "year")') == -_whole_years(a, b)
        assert value(s, f'datediff({td(a)}, {td(b)}, "month")') == _whole_months(a, b)


def test_datediff_frac(s):
    assert value(s, 'datediff_frac(td(01jan2020), td(01jul2020), "year")') == pytest.approx(182 / 366)
    assert value(s, 'datediff_frac(td(15jan2020), td(15feb2020), "month")') == 1
    assert value(s, 'datediff_frac(td(15jan2020), td(30jan2020), "month")') == pytest.approx(15 / 31)
    assert math.isnan(value(s, 'datediff(td(01jan2020), td(01jan2021), "fortnight")'))


@pytest.mark.parametrize("expr,want", [
    ('monthly("2020m3", "YM")', (2020 - 1960) * 12 + 2),
    ('monthly("March 2020", "MY")', (2020 - 1960) * 12 + 2),
    ('monthly("3/2020", "MY")', (2020 - 1960) * 12 + 2),
    ('monthly("20m3", "YM", 2050)', (2020 - 1960) * 12 + 2),
    ('monthly("20m3", "19YM")', (1920 - 1960) * 12 + 2),
    ('quarterly("2020q2", "YQ")', (2020 - 1960) * 4 + 1),
    ('quarterly("2 2020", "QY")', (2020 - 1960) * 4 + 1),
    ('halfyearly("2020h2", "YH")', (2020 - 1960) * 2 + 1),
    ('weekly("2020w7", "YW")', (2020 - 1960) * 52 + 6),
    ('yearly("2020", "Y")', 2020),
    ('yearly("98", "Y", 2020)', 1998),
])
def test_string_to_period(s, expr, want):
    assert value(s, expr) == want


@pytest.mark.parametrize("expr", ['monthly("2020m13", "YM")', 'quarterly("2020q5", "YQ")',
                                  'monthly("2020m3", "YQ")', 'weekly("2020w53", "YW")',
                                  'monthly("20m3", "YM")', 'yearly("abc", "Y")'])
def test_string_to_period_invalid(s, expr):
    assert math.isnan(value(s, expr))


# ----------------------------------------------------------------------------- strings
@pytest.mark.parametrize("expr,want", [
    ('indexnot("abcdef", "abc")', 4), ('indexnot("abc", "abc")', 0),
    ('udstrlen("中文ab")', 6), ('ustrrpos("abcabc", "bc")', 5), ('ustrrpos("abcabc", "bc", 4)', 2),
    ('ustrwordcount("Hello, world! It\'s me")', 6), ('ustrcompare("apple", "Banana")', -1),
    ('ustrcompare("b", "a")', 1), ('ustrcompare("a", "a")', 0), ('ustrcompare("a", "A")', -1),
    ('uisdigit("1a")', 1), ('uisdigit("a1")', 0), ('uisletter("é1")', 1), ('uisletter("1")', 0),
    ('index("hello", "ll")', 3), ('ustrinvalidcnt("abc")', 0),
])
def test_string_numbers(s, expr, want):
    assert value(s, expr) == want


@pytest.mark.parametrize("expr,want", [
    ('plural(1, "horse")', "horse"), ('plural(2, "horse")', "horses"),
    ('plural(-1, "horse")', "horse"), ('plural(0, "glass", "+es")', "glasses"),
    ('plural(2, "man", "men")', "men"), ('plural(2, "cats", "-s")', "cat"),
    ('plural(1, "mouse", "mice")', "mouse"), ('plural(2, "abcdefg", "-efg")', "abcd"),
    ('subinword("this is this", "is", "X", .)', "this X this"), ('strtoname("_ab 10")', "_ab_10"),
    ('strtoname("1Var name", 0)', "1Var_name"),
    # [FN]'s soundex examples and the National Archives' coding rules
    ('soundex("Ashcraft")', "A226"), ('soundex_nara("Ashcraft")', "A261"),
    ('soundex("Robert")', "R163"), ('soundex("Rupert")', "R163"), ('soundex_nara("Tymczak")', "T522"),
    ('soundex_nara("Pfister")', "P236"), ('soundex_nara("Honeyman")', "H555"), ('soundex("Lee")', "L000"),
    ('strdup("ab", 3)', "ababab"), ('strdup("ab", 0)', ""),
    ('strtoname("1 var-name")', "_1_var_name"), ('strtoname("1abc", 0)', "1abc"),
    ('strtoname("a very long name that goes on and on and on")', "a_very_long_name_that_goes_on_an"),
    ('ustrtoname("élan vital")', "élan_vital"),
    ('subinword("this is this", "this", "that", .)', "that is that"),
    ('subinword("this is thistle", "this", "that", 1)', "that is thistle"),
    ('subinword("this is this", "this", "that", 1)', "that is this"),
    ('abbrev("displacement", 8)', "displa~t"), ('abbrev("mpg", 8)', "mpg"),
    ('abbrev("displacement", 3)', "dis~t"),
    ('udsubstr("中文ab", 2, 3)', "文a"), ('udsubstr("中文ab", 1, 3)', "中"),
    ('udsubstr("中文ab", -2, .)', "ab"), ('ustrleft("éclair", 2)', "éc"), ('ustrright("éclair", 3)', "air"),
    ('ustrword("Hello, world! It\'s me", 1)', "Hello"), ('ustrword("Hello, world! It\'s me", -2)', "It's"),
    ('ustrnormalize("e" + uchar(769), "nfc")', "é"), ('ustrnormalize("é", "nfd")', "e" + chr(769)),
    ('ustrunescape("caf\\u00e9")', "café"),
])
def test_string_results(s, expr, want):
    s.out = Capture()
    rc = Interpreter(s).run_line(f"scalar __s = {expr}")
    assert rc == 0, s.out.getvalue()
    got = s.scalars["__s"]
    assert getattr(got, "value", got) == want, (expr, got)


def test_string_functions_map_over_observations():
    s = Session(out=Capture())
    it = Interpreter(s)
    for line in ("set obs 3", 'gen str20 name = "Ashcraft" in 1', 'replace name = "Robert" in 2',
                 'replace name = "x" in 3', "gen code = soundex(name)", "gen n = _n",
                 'gen p = plural(n, "cat")', 'gen i = indexnot(name, "Asx")'):
        assert it.run_line(line) == 0, s.out.getvalue()
    assert list(s.data.var("code").values) == ["A226", "R163", "X000"]
    assert list(s.data.var("p").values) == ["cat", "cats", "cats"]
    assert list(s.data.var("i").values) == [3.0, 1.0, 0.0]


# ----------------------------------------------------------------------------- the rest
@pytest.mark.parametrize("expr,want", [
    ("recode(3,2,4,6)", 4), ("recode(7,2,4,6)", 6), ("recode(2,2,4,6)", 2), ("recode(10,2,4,.)", math.nan),
    ("irecode(3,2,4,6)", 1), ("irecode(7,2,4,6)", 3), ("irecode(1,2,4,6)", 0), ("irecode(2,2,4,6)", 0),
    ("autocode(3.2,4,0,10)", 5), ("autocode(-3,4,0,10)", 2.5), ("autocode(11,4,0,10)", 10),
    ("autocode(2.5,4,0,10)", 2.5), ("chop(2.0000001, 1e-6)", 2), ("chop(2.1, 1e-6)", 2.1),
    ("clip(5,1,3)", 3), ("clip(0,1,.)", 1), ("clip(2,.,.)", 2), ("byteorder()", 2), ("minbyte()", -127),
    ("minint()", -32767), ("minlong()", -2147483647), ("minfloat()", -1.7014117331926443e38),
    ('fmtwidth("%9.2f")', 9), ('fmtwidth("%-12s")', 12), ('fmtwidth("%td")', 9), ('fmtwidth("%tc")', 18),
    ('fmtwidth("%20.0gc")', 20), ('fmtwidth("%tm")', 7),
])
def test_misc_values(s, expr, want):
    got = value(s, expr)
    assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-15), (expr, got)


@pytest.mark.parametrize("expr", ["recode(.,2,4)", "recode(5,4,2)", "irecode(.,1,2)", "irecode(3,4,2)",
                                  "autocode(.,4,0,10)", "autocode(3,0,0,10)", "autocode(3,4,10,0)",
                                  "clip(.,1,2)", "clip(2,3,1)", 'fmtwidth("junk")', "digamma(-1)",
                                  "digamma(0)", "trigamma(-2)"])
def test_misc_missing(s, expr):
    assert math.isnan(value(s, expr)), expr


def test_digamma_trigamma_against_scipy(s):
    from scipy import special

    for x in (0.3, 1.0, 2.5, 17.25, -0.5, -3.7, 1e6):
        assert value(s, f"digamma({x})") == pytest.approx(float(special.digamma(x)), rel=1e-13)
        assert value(s, f"trigamma({x})") == pytest.approx(float(special.polygamma(1, x)), rel=1e-13)


def test_file_functions(tmp_path):
    s = Session(out=Capture())
    f = tmp_path / "note.txt"
    assert value(s, f'fileexists("{f}")') == 0
    assert value(s, f'filewrite("{f}", "hello", 1)') == 5
    assert value(s, f'filewrite("{f}", " world", 2)') == 6
    assert f.read_text() == "hello world"
    assert value(s, f'filewrite("{f}", "x")') == -602          # exists, neither replace nor append
    assert f.read_text() == "hello world"
    assert value(s, f'fileexists("{f}")') == 1
    s.out = Capture()
    assert Interpreter(s).run_line(f'scalar t = fileread("{f}")') == 0
    assert getattr(s.scalars["t"], "value", s.scalars["t"]) == "hello world"
    assert value(s, f'filereaderror(fileread("{f}"))') == 0
    assert value(s, f'filereaderror(fileread("{tmp_path}/missing.txt"))') == 601
    assert value(s, f'filewrite("{tmp_path}/no/such/dir.txt", "x", 1)') < 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.txt"]       # no temporary left


@pytest.mark.parametrize("expr,dist", [
    ("rcauchy(1, 2)", ("cauchy", (1, 2))), ("rlaplace(-1, 3)", ("laplace", (-1, 3))),
    ("rweibullph(1.5, 2)", ("weibull_min", (1.5, 0, 2 ** (-1 / 1.5)))),
    ("rweibullph(1.5, 2, 4)", ("weibull_min", (1.5, 4, 2 ** (-1 / 1.5)))),
])
def test_new_random_draws(expr, dist):
    from scipy import stats

    s = Session(out=Capture())
    it = Interpreter(s)
    for line in ("set obs 3000", "set seed 2024", f"gen double x = {expr}"):
        assert it.run_line(line) == 0, s.out.getvalue()
    x = s.data.var("x").values
    assert stats.kstest(x, dist[0], args=dist[1]).pvalue > 0.001
    assert it.run_line("gen double y = rcauchy(0, -1)") == 0
    assert np.isnan(s.data.var("y").values).all()


def test_age_and_birthday(s):
    # Stata 17's announcement: born 29feb2000, still 17 on 28feb2018 when 01mar is the birthday
    assert value(s, 'age(td(29feb2000), td(28feb2018), "01mar")') == 17
    assert value(s, 'age(td(29feb2000), td(28feb2018), "28feb")') == 18
    assert value(s, 'datediff(td(31jul2000), td(31jul2010), "day")') == (dt.date(2010, 7, 31) - dt.date(2000, 7, 31)).days
    assert math.isnan(value(s, "age(td(1jan2000), td(1jan1999))"))
    assert value(s, "age_frac(td(1jan2000), td(1jul2001))") == pytest.approx(1 + 181 / 365)
    assert value(s, "birthday(td(29feb2000), 2019)") == td(dt.date(2019, 3, 1))
    assert value(s, 'birthday(td(29feb2000), 2019, "28feb")') == td(dt.date(2019, 2, 28))
    assert value(s, "birthday(td(29feb2000), 2024)") == td(dt.date(2024, 2, 29))
    assert math.isnan(value(s, "birthday(td(1jan2000), 1999)"))


def test_no_new_function_raises_warns_or_returns_infinity():
    """Every function of the new modules on random mixes of numbers (0, negative, huge, missing,
    a variable) and strings: a Stata error or a value, never a Python exception, a warning or
    an infinite result."""
    import warnings

    from hlmshell.errors import StataError
    from hlmshell.syntax.evaluate import Evaluator
    from hlmshell.syntax.functions import FUNCTIONS
    from hlmshell.syntax.functions_dates import DATE_FUNCTIONS
    from hlmshell.syntax.functions_dist import DIST_FUNCTIONS
    from hlmshell.syntax.functions_misc import MISC_FUNCTIONS
    from hlmshell.syntax.functions_strings import STRING_FUNCTIONS

    names = sorted((set(DIST_FUNCTIONS) | set(DATE_FUNCTIONS) | set(STRING_FUNCTIONS) | set(MISC_FUNCTIONS)
                    | {"Clock", "minbyte", "byteorder"}) - {"filewrite", "fileread", "fileexists"})
    ev = Evaluator(Session(out=Capture()))
    pool = [0.0, -1.0, 0.5, 1.0, 3.0, 1e300, -1e300, math.nan, 2.5e9, np.array([0.0, 0.5, np.nan, 7.0, -3.0]),
            "", "abc", "%9.2f"]
    rng = np.random.default_rng(11)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in names:
            for n in range(5):
                for _ in range(15 if n else 1):
                    args = [pool[int(rng.integers(len(pool)))] for _ in range(n)]
                    try:
                        r = np.asarray(FUNCTIONS[name](ev, list(args)))
                    except StataError:
                        continue
                    assert not (r.dtype.kind == "f" and np.isinf(r).any()), (name, args)


def test_tin_and_twithin_over_the_tsset_time_variable():
    s = Session(out=Capture())
    it = Interpreter(s)
    for line in ("set obs 12", "gen t = tm(1995m1) + _n - 1", "format t %tm", "tsset t",
                 "gen a = tin(1995m3, 1995m6)", "gen b = twithin(1995m3, 1995m6)",
                 "gen c = tin(, 1995m2)", "gen e = tin(1995m11, )", 'gen str20 s = "tin(1995m1, 1995m2)"'):
        assert it.run_line(line) == 0, s.out.getvalue()
    t = np.arange(12) + (1995 - 1960) * 12
    lo, hi = (1995 - 1960) * 12 + 2, (1995 - 1960) * 12 + 5
    assert list(s.data.var("a").values) == list(((t >= lo) & (t <= hi)).astype(float))
    assert list(s.data.var("b").values) == list(((t > lo) & (t < hi)).astype(float))
    assert s.data.var("c").values.sum() == 2 and s.data.var("e").values.sum() == 2
    assert s.data.var("s").values[0] == "tin(1995m1, 1995m2)"        # strings are left alone
    s2 = Session(out=Capture())
    it2 = Interpreter(s2)
    assert it2.run_line("set obs 3") == 0
    assert it2.run_line("count if tin(1, 2)") == 111                  # no time variable set


def test_clockdiff(s):
    a = "tc(01jan2020 10:00:00)"
    b = "tc(02jan2020 12:30:30)"
    assert value(s, f'clockdiff({a}, {b}, "hour")') == 26
    assert value(s, f'clockdiff({b}, {a}, "hour")') == -26
    assert value(s, f'clockdiff({a}, {b}, "day")') == 1
    assert value(s, f'clockdiff_frac({a}, {b}, "minute")') == pytest.approx(26 * 60 + 30.5)
    assert value(s, f'clockdiff({a}, {b}, "ms")') == (26 * 3600 + 30 * 60 + 30) * 1000
    # across 31dec2016's leap second: one second more in %tC than in %tc
    x, y = "tc(31dec2016 23:59:00)", "tc(01jan2017 00:01:00)"
    assert value(s, f'clockdiff({x}, {y}, "second")') == 120
    assert value(s, f'Clockdiff(Cofc({x}), Cofc({y}), "second")') == 121
    assert math.isnan(value(s, f'clockdiff({a}, {b}, "fortnight")'))
    assert math.isnan(value(s, f'clockdiff(., {b}, "day")'))


def test_Clock_reads_leap_seconds():
    s = Session(out=Capture())
    assert value(s, 'Clock("31dec2016 23:59:60", "DMYhms") - Cmdyhms(12,31,2016,23,59,60)') == 0
    assert value(s, 'Clock("31dec2016 23:59:60.5", "DMYhms") - Cmdyhms(12,31,2016,23,59,60.5)') == 0
    assert value(s, 'isleapsecond(Clock("30jun2015 23:59:60", "DMYhms"))') == 1
    assert math.isnan(value(s, 'Clock("30dec2016 23:59:60", "DMYhms")'))      # no leap second then
    it = Interpreter(s)
    for line in ("set obs 2", 'gen str30 t = "31dec2016 23:59:60"', 'replace t = "01jan2017 00:00:00" in 2',
                 'gen double C = Clock(t, "DMYhms")'):
        assert it.run_line(line) == 0, s.out.getvalue()
    C = s.data.var("C").values
    assert C[1] - C[0] == 1000


def test_string_results_stay_strings_without_observations():
    s = Session(out=Capture())
    it = Interpreter(s)
    for line in ('gen str5 name = ""', "gen code = soundex(name)", "gen n = indexnot(name, \"a\")"):
        assert it.run_line(line) == 0, s.out.getvalue()
    assert s.data.var("code").values.dtype == object
    assert s.data.var("n").values.dtype != object


def test_ustrtohex_tobytes():
    s = Session(out=Capture())
    it = Interpreter(s)
    cases = {'ustrtohex("нулю")': "\\u043d\\u0443\\u043b\\u044e", 'ustrtohex("нулю", 2)': "\\u0443\\u043b\\u044e",
             'ustrtohex("a" + uchar(128512))': "\\u0061\\U0001f600", 'tobytes("abc")': "\\d097\\d098\\d099",
             'tobytes("abc", 1)': "\\x61\\x62\\x63",
             'tobytes("é")': "".join(f"\\d{b:03d}" for b in "é".encode())}
    for expr, want in cases.items():
        assert it.run_line(f"scalar __s = {expr}") == 0, s.out.getvalue()
        got = s.scalars["__s"]
        assert getattr(got, "value", got) == want, expr
    # ustrunescape undoes ustrtohex
    assert it.run_line('scalar __s = ustrunescape(ustrtohex("Grüße, 世界 " + uchar(128512)))') == 0
    got = s.scalars["__s"]
    assert getattr(got, "value", got) == "Grüße, 世界 \U0001f600"
