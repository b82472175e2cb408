"""The panel settings (`xtset`/`tsset`), kept as Stata keeps them: characteristics of the
dataset, so they are saved with it and come back with `use`.

    _dta[_TSpanel]  panel variable ("" when only a time variable is set)
    _dta[_TStvar]   time variable ("" when only a panel variable is set)
    _dta[_TSdelta]  the time step in Stata's %21x form: +1.0000000000000X+000
    _dta[_TSitrvl]  1 (Stata's rudimentary delta, read by -ac- and -pergram-)
    _dta[iis], _dta[tis]   the same names, for the old `iis`/`tis` and commands that read them

and the data sorted by panelvar timevar. Commands that need the settings call

    ps = panel_settings(session)           # r(459) "panel variable not set; ..." when unset
    ps.panelvar, ps.timevar, ps.delta      # str, str | None, float

and `set_panel(session, panelvar, timevar, delta)` checks the data (integer times, no repeated
time within a panel) with Stata's messages, stores the settings and sorts the data.

`xt_settings(session, i=None, t=None, trequired=False)` is what Stata's xt commands do (its
_xt.ado): the settings, or an old-style i()/t() option (which sets them), with _xt's own
messages ("must specify panelvar; use xtset", r(459)). `time_settings(session)` is for
time-series operators (r(111) "time variable not set, use tsset varname ...").
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hlmshell.commands._toolkit import sort_keys, varlist
from hlmshell.data.dataset import TS_CHARS
from hlmshell.data.timeseries import parse_delta, time_not_set as _ts_time_not_set
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import FormatError, fmt, fmt_g


@dataclass(frozen=True)
class PanelSettings:
    panelvar: str | None           # None: time series only (`tsset year`)
    timevar: str | None            # None: panel only (`xtset id`)
    delta: float = 1.0


def panel_not_set() -> StataError:
    return StataError("panel variable not set; use xtset varname ...", 459)


def time_not_set() -> StataError:
    return StataError("must specify timevar; use xtset", 459)


# ---- Stata's %21x (the form _dta[_TSdelta] is stored in) -----------------------------------
def hex21(x: float) -> str:
    """`display %21x 1` -> +1.0000000000000X+000 (mantissa in hex, exponent in hex)."""
    if x == 0:
        return "+0.0000000000000X-3ff"
    m, e = float(x).hex().lstrip("-").replace("0x", "").split("p")
    whole, _, frac = m.partition(".")
    e = int(e)
    sign = "-" if x < 0 else "+"
    return f"{sign}{whole}.{frac.ljust(13, '0')}X{'-' if e < 0 else '+'}{abs(e):03x}"


# ---- time values as their %t format shows them ------------------------------------------------
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_PER_YEAR = {"q": 4, "m": 12, "h": 2, "w": 52}


def time_unit(fmt_text: str) -> str:
    """The unit letter of a time variable's format: y q m h w d c b, or g (generic)."""
    f = (fmt_text or "").lstrip("%-")
    if f.startswith("t") and len(f) > 1 and f[1].lower() in "yqmhwdcb":
        return f[1].lower()
    if f.startswith("d"):
        return "d"
    return "g"


def time_text(x: float, fmt_text: str) -> str:
    """A time value as Stata shows it in its format (`1935`, `2008q1`, `01jan1960`)."""
    if x != x:
        return "."
    unit = time_unit(fmt_text)
    v = int(math.floor(x))
    if unit == "y":
        return str(v)
    if unit in _PER_YEAR:
        k = _PER_YEAR[unit]
        return f"{1960 + v // k}{unit}{v % k + 1}"
    if unit == "d":
        import datetime as _dt
        try:
            d = _dt.date(1960, 1, 1) + _dt.timedelta(days=v)
        except OverflowError:
            return fmt_g(x, 9).strip()
        return f"{d.day:02d}{_MONTHS[d.month - 1]}{d.year}"
    try:
        return fmt(float(x), fmt_text).strip()
    except (FormatError, ValueError):
        return fmt_g(float(x), 9).strip()


def delta_text(delta: float, fmt_text: str) -> str:
    """`1 unit`, `2 units`, `1 year`, `7 days` (Stata's _TS_p_delta2str, %tc in ms)."""
    unit = time_unit(fmt_text)
    word = {"g": "unit", "d": "day", "b": "day", "w": "week", "m": "month", "q": "quarter",
            "h": "halfyear", "y": "year", "c": "millisecond"}[unit]
    n = fmt_g(delta, 9).strip()
    return f"{n} {word}{'s' if delta > 1 else ''}"


# ---- reading the settings ---------------------------------------------------------------------
def current_settings(ds) -> PanelSettings | None:
    """The settings stored in the dataset's characteristics, or None (also when a variable
    they name is no longer in the data)."""
    pvar = ds.char("_dta", "_TSpanel") or ds.char("_dta", "iis") or None
    tvar = ds.char("_dta", "_TStvar") or ds.char("_dta", "tis") or None
    if pvar is None and tvar is None:
        return None
    if (pvar is not None and pvar not in ds) or (tvar is not None and tvar not in ds):
        return None
    delta = parse_delta(ds.char("_dta", "_TSdelta")) or 1.0
    return PanelSettings(pvar, tvar, delta)


def panel_settings(session, required: bool = True, *, need_time: bool = False) -> PanelSettings | None:
    """The panel settings; without a panel variable Stata's r(459) "panel variable not set;
    use xtset varname ..." (None when not required). need_time: also a time variable (Stata's
    _xt message "must specify timevar; use xtset", r(459), otherwise)."""
    ps = current_settings(session.data)
    if ps is None or ps.panelvar is None:
        if required:
            raise panel_not_set()
        return None
    if need_time and ps.timevar is None:
        raise time_not_set()
    return ps


def time_settings(session) -> PanelSettings:
    """Settings with a time variable (time-series operators need one): Stata's r(111)
    "time variable not set, use tsset varname ..." otherwise."""
    ps = current_settings(session.data)
    if ps is None or ps.timevar is None:
        raise _ts_time_not_set()
    return ps


# ---- setting them ------------------------------------------------------------------------------
def clear_panel(session) -> None:
    for key in TS_CHARS:
        session.data.set_char("_dta", key, "")


def _check_numeric(ds, name: str) -> None:
    if ds.var(name).is_string:
        raise StataError(f"string variables not allowed in varlist;\n{name} is a string variable", 109)


def _check_times(t: np.ndarray, p: np.ndarray | None, delta: float) -> None:
    """Stata's checks of tsset on times `t` sorted by panel `p` (None: one series): integer
    times, no repeats within a panel, steps of at least delta."""
    ok = ~np.isnan(t)
    if np.any(t[ok] != np.trunc(t[ok])):
        raise StataError("time variable must contain only integer values", 451)
    if len(t) < 2:
        return
    step = np.diff(t)
    same = np.ones(len(t) - 1, dtype=bool) if p is None else p[1:] == p[:-1]
    step = step[same & ok[1:] & ok[:-1]]
    if step.size and np.min(step) == 0:
        where = "within panel" if p is not None else "in sample"
        raise StataError(f"repeated time values {where}", 451)
    if step.size and np.min(step) < delta:
        raise StataError("time values with period less than delta() found", 451)


def check_delta(delta: float) -> float:
    if not math.isfinite(delta):
        raise StataError(f"delta({delta:g}) evaluates to a missing value", 198)
    if delta == 0:
        raise StataError(f"delta({delta:g}) evaluates to zero", 198)
    if delta < 0:
        raise StataError(f"delta({delta:g}) evaluates to a negative number", 198)
    if delta != math.floor(delta):
        raise StataError(f"delta({delta:g}) evaluates to a noninteger value", 198)
    return float(delta)


def check_panel(ds, panelvar: str | None, timevar: str | None, delta: float = 1.0) -> np.ndarray:
    """Check settings against the data without changing it (Stata's messages and codes):
    the variables exist and are numeric, delta is a positive integer, times are integers
    and not repeated within a panel. Returns the permutation sorting by panelvar timevar."""
    if panelvar is None and timevar is None:
        raise StataError("varlist required", 100)
    check_delta(delta)
    for name in (panelvar, timevar):
        if name is not None:
            ds.var(name)
            _check_numeric(ds, name)
    keys = [n for n in (panelvar, timevar) if n is not None]
    perm = sort_keys(ds, keys)
    if timevar is not None:
        p = None if panelvar is None else ds.values(panelvar)[perm]
        _check_times(ds.values(timevar)[perm], p, delta)
    return perm


def set_panel(session, panelvar: str | None, timevar: str | None = None,
              delta: float = 1.0) -> PanelSettings:
    """Check and store the settings (Stata's messages and codes) and, with a time variable,
    sort the data by panelvar timevar, as xtset does. Validates before changing anything."""
    ds = session.data
    delta = check_delta(delta)
    perm = check_panel(ds, panelvar, timevar, delta)
    if timevar is not None:             # tsset sorts by panelvar timevar; `xtset id` does not
        if np.any(perm != np.arange(ds.n)):
            ds.take(perm)
        ds.sortedby = [n for n in (panelvar, timevar) if n is not None]
    clear_panel(session)
    ds.set_char("_dta", "_TSpanel", panelvar or "")
    ds.set_char("_dta", "iis", panelvar or "")
    if timevar is not None:
        ds.set_char("_dta", "_TStvar", timevar)
        ds.set_char("_dta", "tis", timevar)
        ds.set_char("_dta", "_TSdelta", hex21(delta))
        ds.set_char("_dta", "_TSitrvl", "1")
    return PanelSettings(panelvar, timevar, delta)


# ---- what an xt command uses (Stata's _xt) ---------------------------------------------------
def xt_settings(session, i: str | None = None, t: str | None = None,
                trequired: bool = False) -> PanelSettings:
    """The panel (and time) variables an xt command uses, as Stata's _xt finds them: the
    settings, or i()/t() options (which set them, as _xt does). Stata's r(459) messages."""
    ds = session.data
    ps = current_settings(ds)
    pvar = ps.panelvar if ps else None
    tvar = ps.timevar if ps else None
    delta = ps.delta if ps else 1.0
    if i is None and t is None:
        if pvar is None:
            msg = "must specify panelvar and timevar; use xtset" if trequired and tvar is None \
                else "must specify panelvar; use xtset"
            raise StataError(msg, 459)
        if trequired and tvar is None:
            raise StataError("must specify timevar; use xtset", 459)
        if trequired:
            check_panel(ds, pvar, tvar, delta)
        return PanelSettings(pvar, tvar, delta)
    return _xt_options(session, i, t, trequired, ps)


def _xt_options(session, i, t, trequired, ps) -> PanelSettings:
    pvar = _one_var(session, i) if i else (ps.panelvar if ps else None)
    if pvar is None:
        raise StataError("must specify panelvar; use xtset", 459)
    tvar = _one_var(session, t) if t else (ps.timevar if ps else None)
    delta = 1.0 if t or ps is None else ps.delta
    if tvar is None:
        if trequired:
            raise StataError("must specify timevar; use xtset", 459)
        return set_panel(session, pvar, None)
    try:
        return set_panel(session, pvar, tvar, delta)
    except StataError:
        if trequired:
            raise
        return set_panel(session, pvar, None)


def _one_var(session, text: str) -> str:
    names = varlist(session, text, all_if_empty=False)
    if len(names) != 1:
        raise StataError("too many variables specified", 103) if names else syntax_error()
    return names[0]


__all__ = ["PanelSettings", "panel_settings", "set_panel", "check_panel", "clear_panel",
           "time_settings", "current_settings", "panel_not_set", "hex21", "parse_delta",
           "time_text", "delta_text", "time_unit", "xt_settings"]
