"""Stata's date and time display formats: %td, %tc/%tC, %tw, %tm, %tq, %th, %ty, %tg (and the
old %d), with or without a display mask (%tdCCYY-NN-DD, %tcHH:MM, %tmMon_CCYY, ...).

Elapsed dates count days from 01jan1960, %tc milliseconds from 01jan1960 00:00:00 (%tC is
shown the same way: leap seconds are not kept), %tw/%tm/%tq/%th periods from 1960's first.
"""
from __future__ import annotations

import datetime as _dt
import math
import re

_TFMT = re.compile(r"%(-)?(\d*)t([cCdwmqhybg])(.*)$", re.S)
_OLD_D = re.compile(r"%(-)?(\d*)d(.*)$", re.S)
_EPOCH = _dt.datetime(1960, 1, 1)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PER_YEAR = {"w": 52, "m": 12, "q": 4, "h": 2}
# each unit's default mask
_DEFAULT = {"c": "DDmonCCYY_HH:MM:SS", "C": "DDmonCCYY_HH:MM:SS", "d": "DDmonCCYY",
            "w": "CCYY!www", "m": "CCYY!mnn", "q": "CCYY!qq", "h": "CCYY!hh", "y": "CCYY"}


def is_time_format(spec: str) -> bool:
    """%t... formats and the old %d... date formats (not %9.2f and the like)."""
    return bool(_TFMT.match(spec or "")) or bool(_OLD_D.match(spec or "")) and \
        not re.match(r"%-?\d*\.\d", spec or "")


def _parts(spec: str) -> tuple[bool, str, str]:
    """(left-aligned, unit letter, mask) of a time format."""
    m = _TFMT.match(spec)
    if m:
        return bool(m.group(1)), m.group(3), m.group(4)
    m = _OLD_D.match(spec)
    if m:
        return bool(m.group(1)), "d", m.group(3)
    raise ValueError(spec)


def _moment(x: float, unit: str):
    """(datetime, period-of-year number) of a value in its unit; None when out of range."""
    v = math.floor(x)
    try:
        if unit in ("c", "C"):
            return _EPOCH + _dt.timedelta(milliseconds=x), None
        if unit == "d":
            return _EPOCH + _dt.timedelta(days=v), None
        if unit == "y":
            return _dt.datetime(v, 1, 1), None
        if unit in _PER_YEAR:
            k = _PER_YEAR[unit]
            year, per = 1960 + v // k, v % k
            if unit == "w":
                return _dt.datetime(year, 1, 1) + _dt.timedelta(days=7 * per), per + 1
            months = 12 // k
            return _dt.datetime(year, per * months + 1, 1), per + 1
    except (OverflowError, ValueError):
        return None
    return None


def _tokens():
    """(code, renderer) pairs, longest first so greedy matching works."""
    def two(n):
        return f"{n:02d}"

    return [
        ("DAYNAME", lambda t, p: _DAYS[t.weekday()]),
        ("Dayname", lambda t, p: _DAYS[t.weekday()]),
        ("dayname", lambda t, p: _DAYS[t.weekday()].lower()),
        ("Month", lambda t, p: _MONTHS[t.month - 1]),
        ("month", lambda t, p: _MONTHS[t.month - 1].lower()),
        ("Mon", lambda t, p: _MONTHS[t.month - 1][:3]),
        ("mon", lambda t, p: _MONTHS[t.month - 1][:3].lower()),
        ("Day", lambda t, p: _DAYS[t.weekday()][:3]),
        ("day", lambda t, p: _DAYS[t.weekday()][:3].lower()),
        ("Da", lambda t, p: _DAYS[t.weekday()][:2]),
        ("da", lambda t, p: _DAYS[t.weekday()][:2].lower()),
        ("JJJ", lambda t, p: f"{t.timetuple().tm_yday:03d}"),
        ("jjj", lambda t, p: str(t.timetuple().tm_yday)),
        (".sss", lambda t, p: f".{t.microsecond // 1000:03d}"),
        (".ss", lambda t, p: f".{t.microsecond // 10000:02d}"),
        (".s", lambda t, p: f".{t.microsecond // 100000:d}"),
        (".a.m.", lambda t, p: "a.m." if t.hour < 12 else "p.m."),
        (".A.M.", lambda t, p: "A.M." if t.hour < 12 else "P.M."),
        ("CC", lambda t, p: two(t.year // 100)), ("cc", lambda t, p: str(t.year // 100)),
        ("YY", lambda t, p: two(t.year % 100)), ("yy", lambda t, p: str(t.year % 100)),
        ("NN", lambda t, p: two(t.month)), ("nn", lambda t, p: str(t.month)),
        ("DD", lambda t, p: two(t.day)), ("dd", lambda t, p: str(t.day)),
        ("WW", lambda t, p: two(min(52, (t.timetuple().tm_yday - 1) // 7 + 1))),
        ("ww", lambda t, p: str(min(52, (t.timetuple().tm_yday - 1) // 7 + 1))),
        ("HH", lambda t, p: two(t.hour)), ("hH", lambda t, p: str(t.hour)),
        ("Hh", lambda t, p: two((t.hour - 1) % 12 + 1)), ("hh", lambda t, p: str((t.hour - 1) % 12 + 1)),
        ("MM", lambda t, p: two(t.minute)), ("mm", lambda t, p: str(t.minute)),
        ("SS", lambda t, p: two(t.second)), ("ss", lambda t, p: str(t.second)),
        ("am", lambda t, p: "am" if t.hour < 12 else "pm"), ("pm", lambda t, p: "am" if t.hour < 12 else "pm"),
        ("AM", lambda t, p: "AM" if t.hour < 12 else "PM"), ("PM", lambda t, p: "AM" if t.hour < 12 else "PM"),
        ("q", lambda t, p: str((t.month - 1) // 3 + 1)), ("h", lambda t, p: str((t.month - 1) // 6 + 1)),
        ("_", lambda t, p: " "),
    ]


_TOKENS = _tokens()
_LITERAL = set(".,:-/'")


def _apply_mask(mask: str, t, per) -> str:
    out = []
    i = 0
    while i < len(mask):
        if mask[i] == "!" and i + 1 < len(mask):
            out.append(mask[i + 1])
            i += 2
            continue
        for code, fn in _TOKENS:
            if mask.startswith(code, i):
                out.append(fn(t, per))
                i += len(code)
                break
        else:
            if mask[i] not in _LITERAL:
                raise ValueError(mask)
            out.append(mask[i])
            i += 1
    return "".join(out)


def _plain(x: float) -> str:
    """A generic (%tg) or out-of-range time value: the number (integers without decimals).
    (Not numfmt.fmt_g: numfmt dispatches here, and output modules must not import in a cycle.)"""
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:.7g}"


def fmt_time(x: float, spec: str) -> str:
    """x shown in the time format spec, padded to the default form's width; ValueError for a
    spec that is not a time format. Missing values are the caller's."""
    left, unit, mask = _parts(spec)
    if unit in ("g", "b"):
        return _plain(x).rjust(9)
    mask = mask or _DEFAULT[unit]
    m = _moment(float(x), unit)
    if m is None:
        text = _plain(x)
    else:
        text = _apply_mask(mask, *m)
    width = len(_apply_mask(mask, _dt.datetime(2000, 12, 28, 10, 10, 10), 10))
    return text.ljust(width) if left else text.rjust(width)


def check_time_format(spec: str) -> None:
    """ValueError unless spec is a time format whose mask Stata would accept."""
    _, unit, mask = _parts(spec)
    if unit not in ("g", "b"):
        _apply_mask(mask or _DEFAULT[unit], _dt.datetime(2000, 1, 1), 1)
