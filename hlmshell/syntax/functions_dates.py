"""Stata's date and time functions beyond the basic ones in functions.py: durations
(hours(), msofminutes() ...), the leap-second-aware %tC clock (Cofc(), cofC(), Cmdyhms(),
Clock(), isleapsecond() ...), month and year facts (daysinmonth(), isleapyear(),
firstdayofmonth() ...), birthdays and date differences, and the string-to-period functions
monthly(), quarterly(), halfyearly(), weekly(), yearly().

%tC counts the 27 leap seconds inserted into UTC from 30jun1972 to 31dec2016 (the table
below, the IERS list Stata uses); %tc ignores them. A missing or invalid argument gives a
missing result, as in Stata."""
from __future__ import annotations

import re

import numpy as np

from hlmshell.syntax.function_args import clean, nargs, num, sval
from hlmshell.syntax.function_args import numeric_fn as fn
from hlmshell.syntax.stata_dates import (
    _MS_DAY,
    _YH,
    _YM,
    _YQ,
    _days_in_month,
    _hms,
    _mdy,
    _valid_td,
    _ymd,
    _yw,
)

_NAN = np.nan

# the days whose last minute had a 61st second (23:59:60 UTC)
_LEAP_DAYS = ((1972, 6, 30), (1972, 12, 31), (1973, 12, 31), (1974, 12, 31), (1975, 12, 31),
              (1976, 12, 31), (1977, 12, 31), (1978, 12, 31), (1979, 12, 31), (1981, 6, 30),
              (1982, 6, 30), (1983, 6, 30), (1985, 6, 30), (1987, 12, 31), (1989, 12, 31),
              (1990, 12, 31), (1992, 6, 30), (1993, 6, 30), (1994, 6, 30), (1995, 12, 31),
              (1997, 6, 30), (1998, 12, 31), (2005, 12, 31), (2008, 12, 31), (2012, 6, 30),
              (2015, 6, 30), (2016, 12, 31))
# %tc of the midnight that ends each leap-second day, and the %tC where each leap second starts
_Y, _M, _D = (np.array(c, dtype=float) for c in zip(*_LEAP_DAYS))
_AFTER = (_mdy(_M, _D, _Y) + 1) * _MS_DAY
_LEAP_START = _AFTER + 1000.0 * np.arange(len(_AFTER))


def _ok_c(c):
    with np.errstate(all="ignore"):
        return _valid_td(np.floor(c / _MS_DAY))


def _Cofc(c):
    n = np.searchsorted(_AFTER, np.where(np.isfinite(c), c, 0.0), side="right")
    return np.where(_ok_c(c), c + 1000.0 * n, _NAN)


def _split_C(C):
    """(%tc, leap) of %tC values: a leap second maps into 23:59:59 of its day, leap true."""
    Cf = np.where(np.isfinite(C), C, 0.0)
    n = np.searchsorted(_LEAP_START, Cf, side="right")
    i = np.clip(n - 1, 0, len(_LEAP_START) - 1)
    leap = (n > 0) & (Cf >= _LEAP_START[i]) & (Cf < _LEAP_START[i] + 1000.0)
    c = Cf - 1000.0 * n
    return np.where(np.isfinite(C), c, _NAN), leap & np.isfinite(C)


def _cofC(C):
    c, _ = _split_C(C)
    return np.where(_ok_c(c), c, _NAN)


def _isleapsecond(C):
    _, leap = _split_C(C)
    return np.where(np.isnan(C), _NAN, leap.astype(float))


def _dofC(C):
    c = _cofC(C)
    return np.where(np.isfinite(c), np.floor(c / _MS_DAY), _NAN)


def _Cofd(d):
    with np.errstate(all="ignore"):
        return _Cofc(np.where(_valid_td(d), np.floor(d) * _MS_DAY, _NAN))


def _C_parts(which):
    def f(C):
        c, leap = _split_C(C)
        ok = _ok_c(c)
        ms = np.mod(np.where(ok, c, 0.0), _MS_DAY)
        v = {"hh": np.floor(ms / 3_600_000), "mm": np.floor(np.mod(ms, 3_600_000) / 60_000),
             "ss": np.mod(ms, 60_000) / 1000 + np.where(leap, 1.0, 0.0)}[which]
        return np.where(ok, v, _NAN)

    return f


def _leap_hms(day_ms, h, m, s):
    """%tC of a day (as %tc midnight) at h:m:s, where s may reach 60 in a leap second."""
    base = _Cofc(day_ms + _hms(h, m, np.minimum(s, 59.999)))
    after = day_ms + _MS_DAY
    j = np.searchsorted(_AFTER, np.where(np.isfinite(after), after, 0.0))
    is_leap_day = (j < len(_AFTER)) & (_AFTER[np.clip(j, 0, len(_AFTER) - 1)] == after)
    leap_ok = is_leap_day & (h == 23) & (m == 59) & (s >= 60) & (s < 61)
    leap_value = _LEAP_START[np.clip(j, 0, len(_AFTER) - 1)] + (s - 60) * 1000
    return np.where(s >= 60, np.where(leap_ok, leap_value, _NAN), base)


def _Cmdyhms(M, D, Y, h, m, s):
    return _leap_hms(_mdy(M, D, Y) * _MS_DAY, h, m, s)


def _Cdhms(d, h, m, s):
    with np.errstate(all="ignore"):
        ok = _valid_td(d) & (d == np.floor(d))
        return np.where(ok, _leap_hms(np.where(ok, d, 0.0) * _MS_DAY, h, m, s), _NAN)


# ----------------------------------------------------------------------------- months, years
def _isleap(y):
    return ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)


def _year_ok(y):
    return np.isfinite(y) & (y == np.floor(y)) & (y >= 100) & (y <= 9999)


def _isleapyear(y):
    return np.where(_year_ok(y), _isleap(np.where(_year_ok(y), y, 0)).astype(float), _NAN)


def _daysinmonth(d):
    ok, y, m, _ = _ymd(d)
    return np.where(ok, _days_in_month(y, m).astype(float), _NAN)


def _firstdayofmonth(d):
    ok, y, m, _ = _ymd(d)
    return np.where(ok, _mdy(m, 1.0, y), _NAN)


def _lastdayofmonth(d):
    ok, y, m, _ = _ymd(d)
    return np.where(ok, _mdy(m, _days_in_month(y, m), y), _NAN)


def _leapyear_step(step):
    def f(y):
        ok = _year_ok(y)
        cand = np.where(ok, y, 2000.0)
        out = np.full(np.shape(cand), _NAN)
        todo = np.ones(np.shape(cand), dtype=bool)
        for _ in range(8):                 # the next leap year is at most 8 years away
            cand = cand + step
            hit = todo & _isleap(cand)
            out = np.where(hit, cand, out)
            todo &= ~hit
        return np.where(ok & (out >= 100) & (out <= 9999), out, _NAN)

    return f


def _snl(args):
    """The non-leap-year date of a 29feb birthday: "01mar" (default) or "28feb"."""
    if len(args) < 3:
        return 1.0
    v = sval(args[2])
    v = str(np.ravel(np.asarray(v, dtype=object))[0]) if isinstance(v, np.ndarray) else v
    return 0.0 if v.strip().lower() == "28feb" else 1.0


def _anniversary(y0, m0, d0, year, march):
    """The date of a (m0, d0) anniversary in `year`; 29feb moves to 01mar or 28feb."""
    feb29 = (m0 == 2) & (d0 == 29) & ~_isleap(year)
    mm = np.where(feb29 & (march == 1), 3, m0)
    dd = np.where(feb29, np.where(march == 1, 1, 28), d0)
    return _mdy(mm, dd, year)


def _birthday_fn(direction):
    def f(ev, args):
        nargs(args, 2, 3)
        march = _snl(args)
        b, d = (np.asarray(num(a), dtype=float) for a in args[:2])
        with np.errstate(all="ignore"):
            okb, yb, mb, db = _ymd(b)
            okd, yd, _, _ = _ymd(d)
            ok = okb & okd & (np.floor(d) >= np.floor(b))
            this = _anniversary(yb, mb, db, yd, march)
            if direction > 0:
                r = np.where(this > np.floor(d), this, _anniversary(yb, mb, db, yd + 1, march))
            else:
                r = np.where(this < np.floor(d), this, _anniversary(yb, mb, db, yd - 1, march))
                ok &= r >= np.floor(b)
            r = np.where(ok, r, _NAN)
        return clean(r if r.ndim else float(r))

    return f


_UNITS = {"d": "day", "day": "day", "days": "day", "m": "month", "mo": "month", "month": "month",
          "months": "month", "y": "year", "yr": "year", "year": "year", "years": "year"}


def _months_between(d1, d2, months, march):
    """Whole `months`-long steps from d1 to d2 (d2 >= d1) and the fraction of the next one."""
    _, y1, m1, dd1 = _ymd(d1)
    _, y2, m2, _ = _ymd(d2)
    total = (y2 - y1) * 12 + (m2 - m1)
    n = total // months

    def at(k):
        mm = m1 - 1 + k * months
        return _anniversary(y1, mm % 12 + 1, np.minimum(dd1, _days_in_month(y1 + mm // 12, mm % 12 + 1))
                            if months == 1 else dd1, y1 + mm // 12, march)

    n = np.where(at(n) > d2, n - 1, n)
    lo, hi = at(n), at(n + 1)
    return n.astype(float), n + (d2 - lo) / (hi - lo)


def _datediff_fn(frac):
    def f(ev, args):
        nargs(args, 3, 4)
        unit = sval(args[2])
        unit = str(np.ravel(np.asarray(unit, dtype=object))[0]) if isinstance(unit, np.ndarray) else unit
        kind = _UNITS.get(unit.strip().lower())
        if kind is None:
            return float("nan") if not isinstance(args[0], np.ndarray) else np.full(len(args[0]), _NAN)
        march = _snl(args[:2] + args[3:]) if len(args) == 4 else 1.0
        d1, d2 = (np.floor(np.asarray(num(a), dtype=float)) for a in args[:2])
        with np.errstate(all="ignore"):
            ok = _valid_td(d1) & _valid_td(d2)
            a, b = np.where(ok, np.minimum(d1, d2), 0.0), np.where(ok, np.maximum(d1, d2), 0.0)
            sign = np.where(d2 >= d1, 1.0, -1.0)
            if kind == "day":
                whole = part = b - a
            else:
                whole, part = _months_between(a, b, 12 if kind == "year" else 1, march)
            r = np.where(ok, sign * (part if frac else whole), _NAN)
        return clean(r if r.ndim else float(r))

    return f


def _age_fn(frac):
    """age(d_B, d[, s_nl]) / age_frac(): datediff[_frac]() in years, missing before birth."""
    diff = _datediff_fn(frac)

    def f(ev, args):
        nargs(args, 2, 3)
        r = diff(ev, [args[0], args[1], "year", *args[2:]])
        with np.errstate(all="ignore"):
            before = np.floor(np.asarray(num(args[1]), dtype=float)) < np.floor(np.asarray(num(args[0]), dtype=float))
            r = np.where(before, _NAN, r)
        return clean(r if r.ndim else float(r))

    return f


def _birthday(ev, args):
    """birthday(d_B, Y[, s_nl]): the date of the birthday in year Y."""
    nargs(args, 2, 3)
    march = _snl(args)
    b, y = (np.asarray(num(a), dtype=float) for a in args[:2])
    with np.errstate(all="ignore"):
        okb, yb, mb, db = _ymd(b)
        ok = okb & _year_ok(y) & (y >= yb)
        r = np.where(ok, _anniversary(yb, mb, db, np.where(ok, y, 2000).astype(np.int64), march), _NAN)
    return clean(r if r.ndim else float(r))


_CLOCK_UNITS = {"d": 86_400_000.0, "day": 86_400_000.0, "days": 86_400_000.0, "h": 3_600_000.0,
                "hour": 3_600_000.0, "hours": 3_600_000.0, "m": 60_000.0, "min": 60_000.0,
                "minute": 60_000.0, "minutes": 60_000.0, "s": 1000.0, "sec": 1000.0, "second": 1000.0,
                "seconds": 1000.0, "ms": 1.0, "millisecond": 1.0, "milliseconds": 1.0}


def _clockdiff_fn(frac):
    """clockdiff(t1, t2, su) / Clockdiff(): t2 - t1 in days, hours, minutes, seconds or
    milliseconds, whole units toward zero (or with the fraction); %tC differences count the
    leap seconds between, since %tC itself does."""
    def f(ev, args):
        nargs(args, 3)
        unit = sval(args[2])
        unit = str(np.ravel(np.asarray(unit, dtype=object))[0]) if isinstance(unit, np.ndarray) else unit
        size = _CLOCK_UNITS.get(unit.strip().lower())
        c1, c2 = (np.asarray(num(a), dtype=float) for a in args[:2])
        with np.errstate(all="ignore"):
            v = (c2 - c1) / (size if size else np.nan)
            r = v if frac else np.trunc(v)
            r = np.where(_ok_c(c1) & _ok_c(c2), r, _NAN)
        return clean(r if r.ndim else float(r))

    return f


# ----------------------------------------------------------------------------- strings to periods
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _period_mask(mask: str, unit: str):
    """[(letter, century)] of a mask such as "YM", "MY", "19YQ"; None if invalid."""
    out, century = [], ""
    for ch in mask.replace(" ", ""):
        if ch.isdigit():
            century += ch
            continue
        if ch not in ("Y", unit) or (century and ch != "Y"):
            return None
        out.append((ch, int(century) if century else None))
        century = ""
    want = ["Y"] if unit == "" else sorted(["Y", unit])
    return out if not century and sorted(c for c, _ in out) == want else None


def _period_value(text: str, elems, unit: str, topyear):
    toks = re.findall(r"\d+|[a-z]+", text.lower())
    if unit != "M":
        toks = [t for t in toks if t != unit.lower()]
    else:
        toks = [t for t in toks if t != "m"]
    if len(toks) != len(elems):
        return _NAN
    year = sub = _NAN
    for (ch, century), t in zip(elems, toks):
        if ch == "Y":
            if not t.isdigit():
                return _NAN
            y = int(t)
            if len(t) <= 2:
                if century is not None:
                    y += century * 100
                elif topyear is not None:
                    y = topyear - ((topyear - y) % 100)
                else:
                    return _NAN
            year = float(y)
        elif t.isdigit():
            sub = float(int(t))
        elif unit == "M" and t[:3] in _MONTH_NAMES:
            sub = float(_MONTH_NAMES.index(t[:3]) + 1)
        else:
            return _NAN
    return year, sub


_PERIOD_OF = {"M": _YM, "Q": _YQ, "H": _YH, "W": _yw}


def _string_period(unit):
    def f(ev, args):
        nargs(args, 2, 3)
        s, mask = sval(args[0]), sval(args[1])
        top = num(args[2]) if len(args) == 3 else float("nan")
        top = float(np.ravel(np.asarray(top))[0]) if np.size(top) else float("nan")
        topyear = int(top) if np.isfinite(top) else None

        def one(t, mk):
            elems = _period_mask(mk, unit)
            if elems is None:
                return _NAN
            got = _period_value(t, elems, unit, topyear)
            if not isinstance(got, tuple):
                return _NAN
            y, k = got
            if unit == "":
                return y if 100 <= y <= 9999 else _NAN
            return float(_PERIOD_OF[unit](np.float64(y), np.float64(k)))

        if isinstance(s, np.ndarray) or isinstance(mask, np.ndarray):
            S, K = np.broadcast_arrays(np.asarray(s, dtype=object), np.asarray(mask, dtype=object))
            return np.array([one(a, b) for a, b in zip(S, K)], dtype=float)
        return one(s, mask)

    return f


def _tin(strict):
    """tin(d1, d2) / twithin(d1, d2): whether the tsset time variable lies in [d1, d2]
    (twithin: strictly between); a missing bound is open. The literal bounds (1995m1,
    01jan1995, ...) are numbers by now: expand_date_literals rewrote them."""
    def f(ev, args):
        from hlmshell.data.timeseries import ts_settings

        nargs(args, 2)
        lo, hi = (np.asarray(num(a), dtype=float) for a in args)
        _, tvar, _ = ts_settings(ev.data)
        t = np.asarray(ev.data.var(tvar).values, dtype=float)
        with np.errstate(all="ignore"):
            lo_ok = np.isnan(lo) | ((t > lo) if strict else (t >= lo))
            hi_ok = np.isnan(hi) | ((t < hi) if strict else (t <= hi))
            return (~np.isnan(t) & lo_ok & hi_ok).astype(float)

    return f


def _then_Cofc(clock):
    """Clock(s, mask): clock()'s %tc (the parser lives with clock() in functions.py), as %tC;
    a time of 23:59:60 (clock() rejects it) counts where it names a real leap second."""
    def f(ev, args):
        c = np.asarray(clock(ev, args), dtype=float)
        with np.errstate(all="ignore"):
            r = _Cofc(c)
            text = np.asarray(sval(args[0]), dtype=object)
            sixty = np.vectorize(lambda t: ":60" in t, otypes=[bool])(text) if text.size else text
            if np.any(sixty & np.isnan(r)):
                earlier = np.vectorize(lambda t: t.replace(":60", ":59", 1), otypes=[object])(text)
                c59 = np.asarray(clock(ev, [earlier if earlier.ndim else str(earlier), *args[1:]]), dtype=float)
                leap = _Cofc(c59) + 1000.0
                frac = np.mod(c59, 1000.0)
                ok = sixty & np.isnan(r) & (_isleapsecond(leap - frac) == 1)
                r = np.where(ok, leap, r)
        return clean(r if r.ndim else float(r))

    return f


def date_functions(clock) -> dict:
    """The table of this module's functions; `clock` is functions.py's clock()."""
    return {**DATE_FUNCTIONS, "Clock": _then_Cofc(clock)}


DATE_FUNCTIONS = {
    "hours": fn(1, lambda ms: ms / 3_600_000), "minutes": fn(1, lambda ms: ms / 60_000),
    "seconds": fn(1, lambda ms: ms / 1000), "msofhours": fn(1, lambda h: h * 3_600_000),
    "msofminutes": fn(1, lambda m: m * 60_000), "msofseconds": fn(1, lambda s: s * 1000),
    "Cofc": fn(1, _Cofc), "cofC": fn(1, _cofC), "Cofd": fn(1, _Cofd), "dofC": fn(1, _dofC),
    "isleapsecond": fn(1, _isleapsecond), "Cmdyhms": fn(6, _Cmdyhms), "Cdhms": fn(4, _Cdhms),
    "Chms": fn(3, _hms), "hhC": fn(1, _C_parts("hh")), "mmC": fn(1, _C_parts("mm")),
    "ssC": fn(1, _C_parts("ss")),
    "isleapyear": fn(1, _isleapyear), "daysinmonth": fn(1, _daysinmonth),
    "firstdayofmonth": fn(1, _firstdayofmonth), "lastdayofmonth": fn(1, _lastdayofmonth),
    "nextleapyear": fn(1, _leapyear_step(1)), "previousleapyear": fn(1, _leapyear_step(-1)),
    "nextbirthday": _birthday_fn(1), "previousbirthday": _birthday_fn(-1),
    "datediff": _datediff_fn(False), "datediff_frac": _datediff_fn(True),
    "clockdiff": _clockdiff_fn(False), "clockdiff_frac": _clockdiff_fn(True),
    "Clockdiff": _clockdiff_fn(False), "Clockdiff_frac": _clockdiff_fn(True),
    "tin": _tin(False), "twithin": _tin(True),
    "age": _age_fn(False), "age_frac": _age_fn(True), "birthday": _birthday,
    "monthly": _string_period("M"), "quarterly": _string_period("Q"),
    "halfyearly": _string_period("H"), "weekly": _string_period("W"), "yearly": _string_period(""),
}
