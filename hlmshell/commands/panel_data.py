"""xtset / tsset (and the old iis / tis), xtdescribe, xtsum, xttab, in Stata 17's layout.

The settings live in the dataset's characteristics (hlmshell.commands._panel), so they are
saved with the data. `xtset id year` checks the data (integer times, no repeated time within a
panel), sorts it by id year and reports

    Panel variable: id (strongly balanced)
     Time variable: year, 1935 to 1954
             Delta: 1 unit

xtdescribe, xtsum and xttab find the panel variable as Stata's _xt does (the settings, or an
`i()` option, which sets them) and never change the data.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands._panel import (
    PanelSettings,
    check_delta,
    check_panel,
    clear_panel,
    current_settings,
    delta_text,
    panel_not_set,
    set_panel,
    time_text,
    time_unit,
    xt_settings,
)
from hlmshell.commands._toolkit import (
    percentile,
    touse,
    typed_args,
    value_text,
    varlist,
)
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults

_UNITS = ("clocktime", "daily", "weekly", "monthly", "quarterly", "halfyearly", "yearly", "generic")
_UNIT_FORMAT = {"clocktime": "%tc", "daily": "%td", "weekly": "%tw", "monthly": "%tm",
                "quarterly": "%tq", "halfyearly": "%th", "yearly": "%ty", "generic": "%tg"}

_SET_OPTIONS = (
    Opt("clear", desc="clear the panel and time settings"),
    Opt("delta", "del", "string", desc="period between observations in timevar units (default 1)"),
    Opt("format", "f", "string", desc="display format of timevar (%ty, %tq, %tm, %td, ...)"),
    Opt("clocktime", "c", desc="timevar is %tc (milliseconds)"),
    Opt("daily", "d", desc="timevar is %td (days)"),
    Opt("weekly", "w", desc="timevar is %tw (weeks)"),
    Opt("monthly", "m", desc="timevar is %tm (months)"),
    Opt("quarterly", "q", desc="timevar is %tq (quarters)"),
    Opt("halfyearly", "h", desc="timevar is %th (half years)"),
    Opt("yearly", "y", desc="timevar is %ty (years)"),
    Opt("generic", "g", desc="timevar is %tg (generic periods)"),
    Opt("noquery", "noq", desc="do not report the settings"),
)


# ============================================================================ xtset / tsset
@command("xtset", byable=False, qualifiers="", family="Panel data", body="varlist",
         options=_SET_OPTIONS, desc="declare data to be panel data",
         example="xtset firm year")
def xtset_cmd(session, cmd):
    _set_or_report(session, cmd, "xtset")


@command("tsset", byable=False, qualifiers="", family="Panel data", body="varlist",
         options=_SET_OPTIONS, desc="declare data to be time-series data",
         example="tsset year")
def tsset_cmd(session, cmd):
    _set_or_report(session, cmd, "tsset")


def _set_or_report(session, cmd, kind: str) -> None:
    opts = typed_args(cmd)
    ds = session.data
    names = varlist(session, cmd.body, all_if_empty=False)
    if opts.clear:
        if names:
            raise syntax_error()
        clear_panel(session)
        return
    if len(names) > 2:
        raise StataError("too many variables specified", 103)
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError(f"string variables not allowed in varlist;\n{nm} is a string variable", 109)
    if not names:
        ps = _stored(session, kind)
        if ps.timevar is None:
            _panel_only(session, ps.panelvar, quiet=opts.noquery)
            return
        names = [ps.panelvar, ps.timevar] if ps.panelvar else [ps.timevar]
        if "delta" not in opts:
            opts = typed_args(cmd, list(cmd.options) + [_DeltaOpt(fmt_g(ps.delta, 12).strip())])
    if len(names) == 1 and kind == "xtset":
        if any(k not in ("noquery",) for k in opts.given):
            raise StataError("options not allowed unless a time variable is specified", 101)
        clear_panel(session)
        _panel_only(session, names[0], quiet=opts.noquery, store=True)
        return
    panel, time = (names[0], names[1]) if len(names) == 2 else (None, names[0])
    fmt_text = _time_format(ds, time, opts)
    delta = _parse_delta(opts.delta, fmt_text)
    check_panel(ds, panel, time, delta)
    if fmt_text != ds.var(time).format:
        ds.update(time, format=fmt_text)
    ps = set_panel(session, panel, time, delta)
    report = _report(session, ps)
    if not opts.noquery:
        _show(session, ps, report)


class _DeltaOpt:
    """The stored delta, passed on as if typed (`xtset` alone re-runs `xtset p t, delta(#)`)."""
    name = "delta"

    def __init__(self, arg: str):
        self.arg = arg


def _stored(session, kind: str) -> PanelSettings:
    """The settings, for `xtset`/`tsset` typed alone (Stata's messages when there are none)."""
    ps = current_settings(session.data)
    if kind == "tsset":
        if ps is None or ps.timevar is None:
            raise StataError("time variable not set, use tsset varname ...", 111)
    elif ps is None or ps.panelvar is None:
        raise panel_not_set()
    return ps


def _time_format(ds, time: str, opts) -> str:
    """The display format the time variable gets: format(), a unit option, or its own."""
    units = [u for u in _UNITS if getattr(opts, u)]
    if "format" in opts and units:
        raise StataError(f"may not specify both format() and {units[0]}", 198)
    if len(units) > 1:
        raise StataError("may only specify one time-scale from daily, weekly, monthly,\n"
                         "quarterly, halfyearly, yearly, and generic", 198)
    current = ds.var(time).format
    if "format" in opts:
        text = (opts.format or "").strip()
        if not text.startswith("%"):
            raise StataError(f"invalid %format {text}", 120) if text else syntax_error()
        return text
    if units:
        new = _UNIT_FORMAT[units[0]]
        return current if time_unit(current) == time_unit(new) and time_unit(current) != "g" else new
    return current


_DELTA_WORDS = {"c": {"second": 1000, "sec": 1000, "minute": 60000, "min": 60000,
                      "hour": 3600000, "day": 86400000, "week": 604800000},
                "d": {"day": 1, "week": 7}, "b": {"day": 1}, "w": {"week": 1},
                "m": {"month": 1}, "q": {"quarter": 1}, "h": {"halfyear": 1}, "y": {"year": 1}}


def _parse_delta(text: str | None, fmt_text: str) -> float:
    """delta(#), delta((#)), delta(# units) as tsset reads it; Stata's r(198) messages."""
    if text is None or not text.strip():
        return 1.0
    raw = text.strip()
    words = raw.replace("(", " ").replace(")", " ").replace("+", " ").split()
    unit = time_unit(fmt_text)
    total = 0.0
    i = 0
    while i < len(words):
        try:
            amount = float(words[i])
        except ValueError:
            raise StataError(f"invalid argument in delta(): {raw}", 198) from None
        i += 1
        if i < len(words) and not _is_number(words[i]):
            word = words[i].rstrip("s")
            table = _DELTA_WORDS.get(unit, {})
            if word not in table:
                raise StataError(f"option delta({raw}) invalid for %t{unit} time variable", 198)
            amount *= table[word]
            i += 1
        total += amount
    try:
        return check_delta(total)
    except StataError:
        raise StataError(_delta_problem(raw, total), 198) from None


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _delta_problem(raw: str, d: float) -> str:
    if d != d:
        return f"delta({raw}) evaluates to a missing value"
    if d == 0:
        return f"delta({raw}) evaluates to zero"
    if d < 0:
        return f"delta({raw}) evaluates to a negative number"
    return f"delta({raw}) evaluates to a noninteger value"


# ---------------------------------------------------------------------------- the report
def _sorted_arrays(ds, ps: PanelSettings):
    t = ds.values(ps.timevar)
    p = ds.values(ps.panelvar) if ps.panelvar else np.zeros(ds.n)
    order = np.lexsort((_nan_last(t), _nan_last(p)))
    return p[order], t[order]


def _nan_last(x: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), np.inf, x)


def _balance(p: np.ndarray, t: np.ndarray) -> str:
    """Stata's wording: strongly balanced (every panel has every time), weakly balanced (the
    same number of times), unbalanced."""
    keep = ~np.isnan(p)
    p, t = p[keep], t[keep]
    if np.isnan(t).any():
        return "unbalanced"
    _, counts = np.unique(p, return_counts=True)
    if counts.size and counts.min() != counts.max():
        return "unbalanced"
    _, per_time = np.unique(t, return_counts=True)
    return "strongly balanced" if np.all(per_time == counts.size) else "weakly balanced"


def _report(session, ps: PanelSettings) -> dict:
    """The numbers tsset reports (and posts in r()) for data sorted by panelvar timevar."""
    ds = session.data
    p, t = _sorted_arrays(ds, ps)
    ok = ~np.isnan(t) & ~np.isnan(p)
    same = (p[1:] == p[:-1]) & ok[1:]
    gaps = int(np.count_nonzero(same & (t[1:] - t[:-1] != ps.delta))) if ds.n > 1 else 0
    tv = t[ok]
    out = {"tmin": float(tv.min()) if tv.size else math.nan,
           "tmax": float(tv.max()) if tv.size else math.nan, "gaps": gaps}
    if ps.panelvar:
        pv = p[~np.isnan(p)]
        out["imin"] = float(pv.min()) if pv.size else math.nan
        out["imax"] = float(pv.max()) if pv.size else math.nan
        out["balanced"] = _balance(p, t)
    fmt_text = ds.var(ps.timevar).format
    out["tmins"] = time_text(out["tmin"], fmt_text)
    out["tmaxs"] = time_text(out["tmax"], fmt_text)
    out["tdeltas"] = delta_text(ps.delta, fmt_text)
    _post(session, ps, out, fmt_text)
    return out


_UNIT_NAMES = {"c": "clocktime", "d": "daily", "b": "daily", "w": "weekly", "m": "monthly",
               "q": "quarterly", "h": "halfyearly", "y": "yearly", "g": "generic"}


def _post(session, ps: PanelSettings, out: dict, fmt_text: str) -> None:
    scalars = {"tmin": out["tmin"], "tmax": out["tmax"], "tdelta": ps.delta,
               "gaps": float(out["gaps"] > 0)}
    macros = {"timevar": ps.timevar or "", "panelvar": ps.panelvar or "",
              "tmins": out["tmins"], "tmaxs": out["tmaxs"], "tdeltas": out["tdeltas"],
              "tsfmt": fmt_text}
    unit1 = fmt_text[2:3]                   # tsset: bsubstr(format, 3, 1), "." for %9.0g
    macros["unit1"] = unit1
    macros["unit"] = _UNIT_NAMES.get(unit1, "") if fmt_text.startswith("%t") else ""
    if ps.panelvar:
        scalars.update(imin=out["imin"], imax=out["imax"])
        macros["balanced"] = out["balanced"]
    session.r = RResults(scalars=scalars, macros=macros)


def _show(session, ps: PanelSettings, out: dict) -> None:
    tline = f"{ps.timevar}, {out['tmins']} to {out['tmaxs']}"
    if out["gaps"]:
        tline += ", but with a gap" if out["gaps"] == 1 else ", but with gaps"
    lines = [""]
    if ps.panelvar:
        lines.append(f"Panel variable: {ps.panelvar} ({out['balanced']})")
        lines.append(f" Time variable: {tline}")
        lines.append(f"         Delta: {out['tdeltas']}")
    else:
        lines.append(f"Time variable: {tline}")
        lines.append(f"        Delta: {out['tdeltas']}")
    for ln in lines:
        session.out.line(ln)


def _panel_only(session, panel: str, *, quiet: bool = False, store: bool = False) -> None:
    """`xtset id`: a panel variable without time (balanced: every panel the same size)."""
    ds = session.data
    if store:
        ps = set_panel(session, panel, None)
    else:
        ps = PanelSettings(panel, None, 1.0)
    p = ds.values(ps.panelvar)
    _, counts = np.unique(np.where(np.isnan(p), np.inf, p), return_counts=True)
    bal = "balanced" if counts.size and counts.min() == counts.max() else "unbalanced"
    pv = p[~np.isnan(p)]
    session.r = RResults(scalars={"imin": float(pv.min()) if pv.size else math.nan,
                                  "imax": float(pv.max()) if pv.size else math.nan},
                         macros={"balanced": bal, "panelvar": ps.panelvar})
    if not quiet:
        session.out.line()
        session.out.line(f"Panel variable: {ps.panelvar} ({bal})")


# ============================================================================ iis / tis
@command("iis", byable=False, qualifiers="", family="Panel data", body="varlist",
         options=(Opt("clear", desc="clear the panel variable"),),
         desc="declare the panel variable (old syntax of xtset)", example="iis id")
def iis_cmd(session, cmd):
    _old_setter(session, cmd, "iis", "i", "_TSpanel")


@command("tis", byable=False, qualifiers="", family="Panel data", body="varlist",
         options=(Opt("clear", desc="clear the time variable"),),
         desc="declare the time variable (old syntax of xtset)", example="tis year")
def tis_cmd(session, cmd):
    _old_setter(session, cmd, "tis", "t", "_TStvar")


def _old_setter(session, cmd, key: str, letter: str, ts_key: str) -> None:
    """`iis id` / `tis year` as Stata's iis.ado and tis.ado: the _TS settings are cleared and
    only _dta[iis] (_dta[tis]) is set; `iis` alone reports it."""
    opts = typed_args(cmd)
    ds = session.data
    names = varlist(session, cmd.body, all_if_empty=False)
    if len(names) > 1:
        raise StataError("too many variables specified", 103)
    if not names:
        if opts.clear:
            for k in (key, ts_key) + (("_TSdelta",) if key == "tis" else ()):
                ds.set_char("_dta", k, "")
            return
        current = ds.char("_dta", key)
        session.out.line(f"{letter}() is {current}" if current else f"({letter}() has not been defined)")
        return
    name = names[0]
    if ds.var(name).is_string:
        raise StataError(f"string variables not allowed in varlist;\n{name} is a string variable", 109)
    if ds.char("_dta", key) == name:
        return
    for k in ("_TStvar", "_TSpanel", "_TSdelta", "_TSitrvl"):
        ds.set_char("_dta", k, "")
    ds.set_char("_dta", key, name)


# ============================================================================ xtdescribe
@command("xtdescribe", abbrev="xtdes", qualifiers="if in", family="Panel data", body="none",
         options=(Opt("patterns", "p", "int", 9, "maximum number of participation patterns (default 9)"),
                  Opt("width", "w", "int", 100, "display width of the patterns (default 100)"),
                  Opt("i", "i", "name", desc="panel variable (old syntax; sets xtset)"),
                  Opt("t", "t", "name", desc="time variable (old syntax; sets xtset)")),
         desc="describe the pattern of panel data", example="xtdescribe")
def xtdescribe_cmd(session, cmd):
    opts = typed_args(cmd)
    if opts.patterns < 0 or (opts.patterns and opts.width <= 2):
        raise syntax_error() if opts.patterns < 0 else \
            StataError("width must be a positive integer greater than 2", 198)
    ps = xt_settings(session, opts.i, opts.t, trequired=True)
    _xtdescribe(session, cmd, ps, opts.patterns, opts.width)


def _xtdescribe(session, cmd, ps: PanelSettings, patterns: int, width: int) -> None:
    ds = session.data
    p_all, t_all = ds.values(ps.panelvar), ds.values(ps.timevar)
    mask = touse(session, cmd) & ~np.isnan(p_all) & ~np.isnan(t_all)
    p, t = p_all[mask], t_all[mask]
    tmin = float(np.nanmin(t_all[~np.isnan(p_all)])) if ds.n else math.nan
    tt = np.trunc((t - tmin) / ps.delta) if ps.delta != 1 else t
    times = np.unique(tt)
    if times.size < 2:
        raise StataError(f"{ps.timevar} must have multiple distinct nonmissing values", 459)
    panels, pidx = np.unique(p, return_inverse=True)
    out = session.out
    fmt_text = ds.var(ps.timevar).format
    out.line()
    head = _head_line(ps.panelvar, [_num(panels[0]), _num(panels[1]) if panels.size > 1 else ".",
                                    _num(panels[-1])], "n", panels.size)
    out.line(head)
    second = float(np.min(t[tt > times[0]]))
    tl = _pretty_t([time_text(float(np.min(t)), fmt_text), time_text(second, fmt_text),
                    time_text(float(np.max(t)), fmt_text)])
    out.line(_pad(" " * max(0, 8 - len(ps.timevar)) + f"{ps.timevar}:  {tl[0]}", 61)
             + f"T ={times.size:11d}")
    for extra in tl[1:]:
        out.line(" " * 11 + extra)
    span = int(times[-1] - times[0] + 1)
    out.line(" " * 11 + f"Delta({ps.timevar}) = {delta_text(ps.delta, fmt_text)}")
    out.line(" " * 11 + f"Span({ps.timevar})  = {span} periods")
    pairs = np.unique(np.stack([pidx, tt]), axis=1).shape[1] if p.size else 0
    ident = "uniquely identifies each observation" if pairs == p.size \
        else "does not uniquely identify observations"
    out.line(" " * 11 + f"({ps.panelvar}*{ps.timevar} {ident})")
    ti = np.bincount(pidx).astype(float)
    q = _distribution(session, ti)
    _post_xtdes(session, panels.size, times.size, p.size, q)
    if patterns:
        _patterns(session, pidx, panels.size, tt, times, patterns, width)


def _num(x: float) -> str:
    return fmt(float(x), "%9.0g").strip()


def _pad(text: str, col: int) -> str:
    """Stata's _col(col+1): pad to `col` characters (nothing when already past it)."""
    return text.ljust(col)


def _head_line(name: str, vals: list[str], letter: str, count: int) -> str:
    text = " " * max(0, 8 - len(name)) + f"{name}:  {vals[0]}, {vals[1]}, ..., {vals[2]}"
    return _pad(text, 61) + f"{letter} ={count:11d}"


def _pretty_t(per: list[str]) -> list[str]:
    """xtdescribe's time line: `1935, 1936, ..., 1954`, broken as Stata breaks long ones."""
    lines = [per[0] + ","]
    if len(lines[0]) + len(per[1]) < 46:
        lines[0] += f" {per[1]}, ...,"
    else:
        lines.append(f"{per[1]}, ...,")
    if len(lines[-1]) + len(per[2]) < 50:
        lines[-1] += f" {per[2]}"
    else:
        lines.append(per[2])
    return lines


def _distribution(session, ti: np.ndarray) -> list[float]:
    x = np.sort(ti)
    q = [float(x[0])] + [percentile(x, pc) for pc in (5, 25, 50, 75, 95)] + [float(x[-1])]
    f6 = [fmt(v, "%6.0f") for v in q]
    session.out.line()
    session.out.line("Distribution of T_i:   min      5%     25%       50%       75%     95%     max")
    session.out.line(" " * 20 + f"{f6[0]}  {f6[1]}  {f6[2]}    {f6[3]}    {f6[4]}  {f6[5]}  {f6[6]}")
    return q


def _post_xtdes(session, n: int, T: int, N: int, q: list[float]) -> None:
    names = ("min", "p5", "p25", "p50", "p75", "p95", "max")
    sc = {"n": float(n), "N": float(N), "T": float(T)}
    sc.update({k: float(v) for k, v in zip(names, q)})
    session.r = RResults(scalars=sc)


def _bins(tt: np.ndarray, times: np.ndarray, width: int, patterns: int):
    """Columns of the patterns: xtdescribe's bins (l, l+dtv] from the first time - .5."""
    steps = np.diff(times)
    dtv = float(steps[steps > 0].min())
    span = times[-1] - times[0]
    if patterns and int(span / dtv) + 1 > width:
        dtv = float(int(span / (width - 1))) or dtv
    lo = times[0] - 0.5
    n_bins = 0
    edge = lo
    while edge < times[-1]:
        n_bins += 1
        edge += dtv
    col = np.clip(np.ceil((tt - lo) / dtv).astype(np.int64) - 1, 0, n_bins - 1)
    return col, n_bins, dtv


def _patterns(session, pidx, npanels: int, tt, times, patterns: int, width: int) -> None:
    col, n_bins, dtv = _bins(tt, times, width, patterns)
    mat = np.zeros((npanels, n_bins), dtype=np.int32)
    np.add.at(mat, (pidx, col), 1)
    mat = np.minimum(mat, 10).astype(np.uint8)
    rows, counts = np.unique(mat, axis=0, return_counts=True)
    order = sorted(range(len(counts)), key=lambda k: (-counts[k], tuple(rows[k])))
    total = int(counts.sum())
    star = "*" if dtv != 1 else ""
    dup = max(int((times[-1] - times[0]) / dtv + 1.5), len("Pattern" + star))
    rule = " " + "-" * 27 + "+" + "-" * (2 + dup)
    out = session.out
    out.line()
    out.line(" " * 5 + "Freq.  Percent    Cum. |  Pattern" + star)
    out.line(rule)
    shown = order[:patterns]
    cum = 0
    for k in shown:
        cum += int(counts[k])
        out.line(f"{counts[k]:9d}{100 * counts[k] / total:10.2f}{100 * cum / total:8.2f} |  "
                 + "".join(_cell(v) for v in rows[k]))
    if len(order) > len(shown):
        rest = total - cum
        out.line(f"{rest:9d}{100 * rest / total:10.2f}{100:8.2f} | (other patterns)")
    out.line(rule)
    seen = mat.sum(axis=0) > 0
    out.line(f"{total:9d}{100:10.2f}" + " " * 8 + " |  " + "".join("X" if s else "." for s in seen))
    if star:
        out.line(" " + "-" * 27 + "+" + "-" * (2 + dup))
        out.line(f" *Each column represents {fmt_g(dtv, 9).strip()} periods.")


def _cell(v: int) -> str:
    return "." if v == 0 else (str(int(v)) if v <= 9 else "X")


# ============================================================================ xtsum
@command("xtsum", qualifiers="if in", family="Panel data", body="varlist",
         options=(Opt("i", "i", "name", desc="panel variable (old syntax; sets xtset)"),),
         desc="summarize panel data: overall, between and within", example="xtsum inv value capital")
def xtsum_cmd(session, cmd):
    opts = typed_args(cmd)
    names = varlist(session, cmd.body)
    ps = xt_settings(session, opts.i)
    ds = session.data
    sample = touse(session, cmd)
    out = session.out
    out.line()
    out.line("Variable" + " " * 9 + "|" + " " * 6
             + "Mean   Std. dev.       Min        Max |    Observations")
    out.line("-" * 17 + "+" + "-" * 44 + "+" + "-" * 16)
    last = {}
    for k, nm in enumerate(names):
        if k:
            out.line(" " * 17 + "|" + " " * 44 + "|")
        last = _xtsum_var(session, nm, ds.values(ps.panelvar), sample)
    session.r = RResults(scalars=last)


def _xtsum_stats(x: np.ndarray, p: np.ndarray) -> dict:
    nan = math.nan
    N = x.size
    st = {"N": float(N), "mean": nan, "sd": nan, "min": nan, "max": nan, "n": 0.0,
          "sd_b": nan, "min_b": nan, "max_b": nan, "sd_w": nan, "min_w": nan, "max_w": nan,
          "Tbar": nan}
    if N == 0:
        return st
    groups, idx, ti = np.unique(p, return_inverse=True, return_counts=True)
    means = np.bincount(idx, weights=x) / ti
    w = x - means[idx]
    m = float(x.mean())
    st.update(mean=m, sd=_sd(x), min=float(x.min()), max=float(x.max()), n=float(groups.size),
              sd_b=_sd(means), min_b=float(means.min()), max_b=float(means.max()),
              sd_w=_sd(w), min_w=float(w.min()) + m, max_w=float(w.max()) + m,
              Tbar=N / groups.size)
    st["_balanced"] = bool(ti.min() == ti.max())
    return st


def _sd(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1)) if x.size > 1 else math.nan


def _xtsum_var(session, name: str, p_all: np.ndarray, sample: np.ndarray) -> dict:
    var = session.data.var(name)
    if var.is_string:
        st = _xtsum_stats(np.array([]), np.array([]))
        st["N"] = 0.0
        wrd = "    T"
    else:
        x = var.values
        keep = sample & ~np.isnan(x) & ~np.isnan(p_all)
        st = _xtsum_stats(x[keep], p_all[keep])
        wrd = "    T" if st.pop("_balanced", True) else "T-bar"
    g = [fmt(st[k], "%9.0g") for k in ("mean", "sd", "min", "max")]
    b = [fmt(st[k], "%9.0g") for k in ("sd_b", "min_b", "max_b")]
    w = [fmt(st[k], "%9.0g") for k in ("sd_w", "min_w", "max_w")]
    out = session.out
    out.line(f"{abbrev(name, 8):<9}overall | {g[0]}  {g[1]}  {g[2]}  {g[3]} |     N ="
             + fmt(st["N"], "%8.0f"))
    out.line(" " * 9 + "between |" + " " * 12 + f"{b[0]}  {b[1]}  {b[2]} |     n ="
             + fmt(st["n"], "%8.0f"))
    out.line(" " * 9 + "within  |" + " " * 12 + f"{w[0]}  {w[1]}  {w[2]} | {wrd} ="
             + fmt(st["Tbar"], "%8.0g"))
    return st


# ============================================================================ xttab
@command("xttab", qualifiers="if in", family="Panel data", body="varname",
         options=(Opt("i", "i", "name", desc="panel variable (old syntax; sets xtset)"),),
         desc="tabulate panel data: overall, between and within", example="xttab union")
def xttab_cmd(session, cmd):
    opts = typed_args(cmd)
    names = varlist(session, cmd.body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    if len(names) > 1:
        raise StataError("too many variables specified", 103)
    ps = xt_settings(session, opts.i)
    ds = session.data
    var = ds.var(names[0])
    if var.is_string:
        raise StataError(f"{names[0]} must be numeric", 109)
    x, p = var.values, ds.values(ps.panelvar)
    keep = touse(session, cmd) & ~np.isnan(x) & ~np.isnan(p)
    if not keep.any():
        raise StataError("no observations", 2000)
    _xttab(session, var, x[keep], p[keep])


def _xttab(session, var, x: np.ndarray, p: np.ndarray) -> None:
    ds = session.data
    panels, pidx, psize = np.unique(p, return_inverse=True, return_counts=True)
    n = panels.size
    levels, vidx = np.unique(x, return_inverse=True)
    cell = np.zeros((levels.size, n))
    np.add.at(cell, (vidx, pidx), 1.0)
    freq_o = cell.sum(axis=1)
    has = cell > 0
    freq_b = has.sum(axis=1)
    share = np.where(has, cell / psize[None, :], 0.0)
    freq_w = share.sum(axis=1) / freq_b
    out = session.out
    out.line()
    out.line(" " * 18 + "Overall" + " " * 13 + "Between" + " " * 12 + "Within")
    out.line(f"{abbrev(var.name, 9):>9} |    Freq.  Percent      Freq.  Percent        Percent")
    out.line("-" * 10 + "+" + "-" * 53)
    rows = []
    for k, v in enumerate(levels):
        stub = _xttab_stub(ds, var, float(v))
        row = [float(v), freq_o[k], 100 * freq_o[k] / x.size, float(freq_b[k]),
               100 * freq_b[k] / n, 100 * freq_w[k]]
        rows.append(row)
        out.line(f"{stub} |" + _xttab_cells(row[1:]))
    tot_b = float(freq_b.sum())
    within = float(np.sum(freq_b / tot_b * 100 * freq_w))
    total = [math.nan, float(x.size), 100.0, tot_b, 100 * tot_b / n, within]
    rows.append(total)
    out.line("-" * 10 + "+" + "-" * 53)
    out.line("    Total |" + _xttab_cells(total[1:]))
    base = f"(n = {n}"
    out.line(" " * (39 - len(base)) + base + ")")
    session.r = RResults(scalars={"n": float(n)}, matrices={"results": np.array(rows)})


def _xttab_stub(ds, var, v: float) -> str:
    if var.vallab and var.vallab in ds.value_labels and v in ds.value_labels[var.vallab]:
        return f"{ds.value_labels[var.vallab][v][:8]:>9}"
    return fmt(v, "%9.0g") if var.vallab else f"{value_text(ds, var, v, labels=False, format='%9.0g'):>9}"


def _xttab_cells(c: list[float]) -> str:
    return (fmt(c[0], "%8.0f") + fmt(c[1], "%10.2f") + fmt(c[2], "%10.0f") + fmt(c[3], "%10.2f")
            + " " + fmt(c[4], "%14.2f"))
