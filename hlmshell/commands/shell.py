"""Shell conveniences: cls, browse/edit, query, about, creturn list, timer.

The interactive shell puts a `screen` on the session (hlmshell/repl/screen.py): `cls` clears
the terminal and `browse` opens the full-screen data viewer through it. In a do-file run in
batch (no screen) `cls` does nothing and `browse` prints a one-line note.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell import __version__
from hlmshell.commands._toolkit import touse, typed_args, value_text, varlist
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, command
from hlmshell.results import RResults
from hlmshell.syntax.functions import CRETURN_SECTIONS, creturn_value


def _screen(session):
    return getattr(session, "screen", None)


# ----------------------------------------------------------------------------- cls
@command("cls", raw=True, byable=False, changes_data=False,
          family="Shell", desc="clear the Results window (the terminal)", example="cls")
def cls_cmd(session, cmd):
    if cmd.body.strip():
        raise syntax_error()
    screen = _screen(session)
    if screen is not None and not session.out.quiet:
        session.out.flush()
        screen.clear()


# ----------------------------------------------------------------------------- browse / edit
class BrowseTable:
    """The selected observations and variables as the viewer asks for them, cell by cell."""

    MAXW = 40

    def __init__(self, ds, names, idx, labels: bool, title: str):
        self.ds = ds
        self.vars = [ds.var(nm) for nm in names]
        self.headers = list(names)
        self.idx = idx
        self.labels = labels
        self.title = title
        self.nrows = len(idx)
        self.right = [not v.is_string for v in self.vars]
        self.widths = [self._width(v, nm) for v, nm in zip(self.vars, names)]

    def _width(self, v, nm) -> int:
        if v.is_string:
            sample = v.values[self.idx[:5000]]
            w = max((len(str(s)) for s in sample), default=1)
        else:
            m = re.match(r"%-?0?(\d+)", v.format or "")
            w = int(m.group(1)) if m else 9
            if self.labels and v.vallab and v.vallab in self.ds.value_labels:
                w = max([w] + [len(t) for t in self.ds.value_labels[v.vallab].values()])
        return max(1, min(self.MAXW, max(w, len(nm))))

    def obs(self, i: int) -> int:
        return int(self.idx[i]) + 1

    def cell(self, i: int, j: int) -> str:
        v = self.vars[j]
        return value_text(self.ds, v, v.values[self.idx[i]], labels=self.labels)


def _browse(session, cmd):
    opts = typed_args(cmd)
    names = varlist(session, cmd.body)
    idx = np.flatnonzero(touse(session, cmd))
    screen = _screen(session)
    if screen is None:
        session.out.line(f"({cmd.name} shows the data only in the interactive shell; use list in a do-file)")
        return
    title = session.data.filename or "(data in memory)"
    session.out.flush()
    screen.browse(BrowseTable(session.data, names, idx, not opts.nolabel, title))


_BROWSE_OPTS = (Opt("nolabel", "nol", desc="display numeric codes rather than value labels"),)


@command("browse", abbrev="br", qualifiers="if in", changes_data=False, byable=False,
          family="Shell", body="varlist", desc="look at the data in a scrollable table (read-only)",
          example="browse mathach ses in 1/100", options=_BROWSE_OPTS)
def browse_cmd(session, cmd):
    _browse(session, cmd)


@command("edit", abbrev="ed", qualifiers="if in", changes_data=False, byable=False,
          family="Shell", body="varlist", desc="look at the data (hlmshell's editor is read-only)",
          example="edit id", options=_BROWSE_OPTS)
def edit_cmd(session, cmd):
    _browse(session, cmd)


# ----------------------------------------------------------------------------- query / about
_QUERY = (
    ("Memory settings", ("maxvar",)),
    ("Output settings", ("more", "rmsg", "dp", "linesize", "pagesize", "logtype")),
    ("Interface settings", ("varabbrev",)),
    ("Other settings", ("type", "level", "maxiter", "seed", "emptycells", "fvlabel")),
)
# Stata's other query categories: accepted, but hlmshell has no settings of its own there
_QUERY_EMPTY = ("graphics", "efficiency", "network", "update", "trace", "mata", "java",
                "putdocx", "python", "rng", "sort", "unicode")


def _setting_text(value) -> str:
    if isinstance(value, float):
        return fmt_g(value, 12).strip() if not math.isnan(value) else "."
    return str(value) if value != "" else "(not set)"


@command("query", abbrev="q", raw=True, byable=False, changes_data=False,
          family="Shell", desc="display the settings", example="query")
def query_cmd(session, cmd):
    want = cmd.body.strip().lower()
    sections = [s for s in _QUERY if not want or s[0].lower().startswith(want)]
    out = session.out
    if not sections and want in _QUERY_EMPTY:
        out.line(f"(hlmshell has no {want} settings)")
        return
    if not sections:
        raise StataError(f"{want} invalid", 198)
    for title, keys in sections:
        out.line("-" * 78)
        out.line(f"    {title}")
        for k in keys:
            out.line(f"      {k:<19} {_setting_text(creturn_value(session, k))}")
        out.line()


@command("about", raw=True, byable=False, changes_data=False,
          family="Shell", desc="display information about hlmshell", example="about")
def about_cmd(session, cmd):
    import platform
    import sys

    if cmd.body.strip():
        raise syntax_error()
    out = session.out
    out.line()
    out.line(f"hlmshell {__version__} - Stata-like shell for multilevel (mixed) models")
    out.line("Stata 17 syntax, output and stored results; not a product of StataCorp.")
    out.line(f"Python {platform.python_version()} on {platform.system() or sys.platform}, "
             f"numpy {np.__version__}")
    out.line("Random numbers: numpy's PCG64 generator (reproducible after set seed, not Stata's stream).")


# ----------------------------------------------------------------------------- creturn
def _c_text(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if math.isnan(value):
        return "."
    return fmt_g(value, 16).strip() if value != int(value) or abs(value) >= 1e15 else str(int(value))


@command("creturn", abbrev="cret", raw=True, byable=False, changes_data=False,
          family="Programming", desc="list the system values c()", example="creturn list")
def creturn_cmd(session, cmd):
    words = cmd.body.split()
    if len(words) != 1 or not "list".startswith(words[0]) or len(words[0]) < 1:
        raise syntax_error()
    out = session.out
    for title, keys in CRETURN_SECTIONS:
        out.line()
        out.line(title)
        out.line("-" * 78)
        for k in keys:
            out.line(f"    {'c(' + k + ')':>20} = {_c_text(creturn_value(session, k))}")


# ----------------------------------------------------------------------------- timer
def _timers(session) -> dict:
    t = getattr(session, "timers", None)
    if t is None:
        t = session.timers = {}
    return t


def _timer_number(text: str) -> int:
    try:
        v = float(text)
    except ValueError:
        raise StataError(f"'{text}' found where integer expected", 198) from None
    if v != v or v != int(v) or not 1 <= v <= 100:
        raise StataError("timer number must be between 1 and 100", 198)
    return int(v)


def _timer_list(session, which) -> None:
    timers = _timers(session)
    r = RResults()
    keys = [which] if which is not None else sorted(k for k, v in timers.items() if v[1] > 0 or v[0] > 0)
    for k in keys:
        total, count, _ = timers.get(k, (0.0, 0, None))
        r.scalars[f"t{k}"] = float(total)
        r.scalars[f"nt{k}"] = float(count)
        avg = f"{total / count:12.4f}" if count else f"{'.':>12}"
        session.out.line(f"{k:>4}: {total:9.2f} / {count:8d} = {avg}")
    session.r = r


def _timer_on(session, k):
    import time

    timers = _timers(session)
    total, count, start = timers.get(k, (0.0, 0, None))
    if start is None:
        timers[k] = (total, count, time.perf_counter())


def _timer_off(session, k):
    import time

    timers = _timers(session)
    total, count, start = timers.get(k, (0.0, 0, None))
    if start is not None:
        timers[k] = (total + time.perf_counter() - start, count + 1, None)


@command("timer", raw=True, byable=False, changes_data=False,
          family="Programming", desc="time sections of code (timer on|off|list|clear #)",
          example="timer on 1")
def timer_cmd(session, cmd):
    words = cmd.body.split()
    if not words or len(words) > 2 or words[0] not in ("on", "off", "list", "clear"):
        raise syntax_error()
    sub = words[0]
    k = _timer_number(words[1]) if len(words) == 2 else None
    if sub in ("on", "off") and k is None:
        raise syntax_error()
    if sub == "on":
        _timer_on(session, k)
    elif sub == "off":
        _timer_off(session, k)
    elif sub == "clear":
        timers = _timers(session)
        if k is None:
            timers.clear()
        else:
            timers.pop(k, None)
    else:
        _timer_list(session, k)
