"""Stata's calendar: %td days since 01jan1960, %tc milliseconds, and the %tm/%tq/%th/%tw
periods, as numpy arithmetic on the proleptic Gregorian calendar. Shared by the date
functions in functions.py and functions_dates.py."""
from __future__ import annotations

import numpy as np

# Stata's dates: %td days since 01jan1960, %tc milliseconds since 01jan1960 00:00:00, %tm months,
# %tq quarters, %th half-years, %tw weeks since 1960. Valid dates run 01jan0100 - 31dec9999;
# anything else (and a missing or invalid argument) is missing.
_EPOCH = 3653          # days from 01jan1960 to 01jan1970
TD_MIN, TD_MAX = -679350, 2936549
_MS_DAY = 86_400_000.0


def _days_from_civil(y, m, d):
    """Days since 01jan1960 of (year, month, day) integer arrays (proleptic Gregorian)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468 + _EPOCH


def _civil_from_days(td):
    """(year, month, day) integer arrays of days since 01jan1960."""
    z = td - _EPOCH + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return y + (m <= 2), m, d


def _days_in_month(y, m):
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    base = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 1, 12).astype(np.int64) - 1]
    return base + ((m == 2) & leap)


def _mdy(m, d, y):
    m, d, y = np.broadcast_arrays(np.asarray(m, float), np.asarray(d, float), np.asarray(y, float))
    with np.errstate(all="ignore"):
        ok = (np.isfinite(m) & np.isfinite(d) & np.isfinite(y) & (m == np.floor(m)) & (d == np.floor(d))
              & (y == np.floor(y)) & (m >= 1) & (m <= 12) & (y >= 100) & (y <= 9999) & (d >= 1))
        mi, di, yi = (np.where(ok, v, 1).astype(np.int64) for v in (m, d, y))
        ok &= di <= _days_in_month(yi, mi)
        r = np.where(ok, _days_from_civil(yi, mi, di).astype(float), np.nan)
    return r


def _valid_td(td):
    with np.errstate(all="ignore"):
        return np.isfinite(td) & (td >= TD_MIN) & (td <= TD_MAX + 0.999999999)


def _ymd(td):
    """(ok, year, month, day) of %td values (fractions truncated toward the day they fall in)."""
    td = np.asarray(td, dtype=float)
    ok = _valid_td(td)
    di = np.floor(np.where(ok, td, 0.0)).astype(np.int64)
    y, m, d = _civil_from_days(di)
    return ok, y, m, d


def _part(which):
    def fn(td):
        ok, y, m, d = _ymd(td)
        if which == "year":
            v = y
        elif which == "month":
            v = m
        elif which == "day":
            v = d
        elif which == "quarter":
            v = (m - 1) // 3 + 1
        elif which == "halfyear":
            v = (m - 1) // 6 + 1
        else:
            doy = np.floor(np.where(ok, td, 0.0)).astype(np.int64) - _days_from_civil(y, np.ones_like(y), np.ones_like(y)) + 1
            v = doy if which == "doy" else np.minimum((doy - 1) // 7 + 1, 52)
        return np.where(ok, v.astype(float), np.nan)

    return fn


def _dow(td):
    ok = _valid_td(td)
    return np.where(ok, np.mod(np.floor(np.where(ok, td, 0.0)) + 5, 7), np.nan)   # 01jan1960: Friday


def _periods(per_year, month_of):
    """(period -> first day, day -> period) for months (12), quarters (4), half-years (2)."""
    def dof(p):
        with np.errstate(all="ignore"):
            ok = np.isfinite(p)
            pi = np.floor(np.where(ok, p, 0.0))
            y = 1960 + np.floor_divide(pi, per_year)
            k = pi - (y - 1960) * per_year
            return np.where(ok, _mdy(month_of(k), 1.0, y), np.nan)

    def ofd(td):
        ok, y, m, d = _ymd(td)
        k = (m - 1) * per_year // 12
        return np.where(ok, ((y - 1960) * per_year + k).astype(float), np.nan)

    def ym(y, k):
        with np.errstate(all="ignore"):
            ok = (y == np.floor(y)) & (k == np.floor(k)) & (k >= 1) & (k <= per_year) & (y >= 100) & (y <= 9999)
            return np.where(ok, (y - 1960) * per_year + k - 1, np.nan)

    return dof, ofd, ym


_DOFM, _MOFD, _YM = _periods(12, lambda k: k + 1)
_DOFQ, _QOFD, _YQ = _periods(4, lambda k: 3 * k + 1)
_DOFH, _HOFD, _YH = _periods(2, lambda k: 6 * k + 1)


def _dofw(w):
    with np.errstate(all="ignore"):
        ok = np.isfinite(w)
        wi = np.floor(np.where(ok, w, 0.0))
        y = 1960 + np.floor_divide(wi, 52)
        k = wi - (y - 1960) * 52
        return np.where(ok, _mdy(1.0, 1.0, y) + 7 * k, np.nan)


def _wofd(td):
    y = _part("year")(td)
    return (y - 1960) * 52 + _part("week")(td) - 1


def _yw(y, w):
    with np.errstate(all="ignore"):
        ok = (y == np.floor(y)) & (w == np.floor(w)) & (w >= 1) & (w <= 52) & (y >= 100) & (y <= 9999)
        return np.where(ok, (y - 1960) * 52 + w - 1, np.nan)


def _hms(h, m, s):
    with np.errstate(all="ignore"):
        ok = ((h == np.floor(h)) & (m == np.floor(m)) & (h >= 0) & (h <= 23) & (m >= 0) & (m <= 59)
              & (s >= 0) & (s < 60))
        return np.where(ok, np.round((h * 3600 + m * 60 + s) * 1000), np.nan)


def _clock_parts(which):
    def fn(c):
        with np.errstate(all="ignore"):
            ok = _valid_td(np.floor(c / _MS_DAY))
            ms = np.mod(np.where(ok, c, 0.0), _MS_DAY)
            v = {"hh": np.floor(ms / 3_600_000), "mm": np.floor(np.mod(ms, 3_600_000) / 60_000),
                 "ss": np.mod(ms, 60_000) / 1000}[which]
            return np.where(ok, v, np.nan)

    return fn


def _dofc(c):
    with np.errstate(all="ignore"):
        d = np.floor(c / _MS_DAY)
        return np.where(_valid_td(d), d, np.nan)


def _cofd(td):
    with np.errstate(all="ignore"):
        return np.where(_valid_td(td), np.floor(td) * _MS_DAY, np.nan)
