"""Helpers every post-estimation command shares: the active results, stored results by name,
information criteria, coefficient names without Stata's markers.

They live here, not in one of the commands that use them, so that estat, lrtest, predict and
estimates do not import one another (a command module imports helpers, never a command).
"""
from __future__ import annotations

import fnmatch
import math
import re

import numpy as np

from hlmshell.errors import StataError
from hlmshell.output import postest_output as po
from hlmshell.registry import Args
from hlmshell.results import EstimationResults, RResults

# --------------------------------------------------------------------------- typed options


def confidence_level(session, opts: Args) -> float:
    """level(#) of a confidence interval: the session's `set level` when not given; Stata's
    check (10 to 99.99) when given, whatever was typed."""
    if "level" not in opts:
        return float(session.settings.get("level", 95.0))
    try:
        lv = float(opts.level)
    except StataError:
        lv = float("nan")
    if not 10 <= lv <= 99.99:
        raise StataError("level() must be between 10 and 99.99 inclusive", 198)
    return lv


def nonnegative_int(opts: Args, name: str) -> int:
    """An int option (typed by its spec) that may not be negative: iterate(#), emiterate(#)."""
    v = getattr(opts, name)
    if v < 0:
        raise StataError(f"option {name}() incorrectly specified", 198)
    return v


# --------------------------------------------------------------------------- results by name
def active(session) -> EstimationResults:
    """e(), or Stata's r(301) when no estimation has been run."""
    if session.e is None:
        raise StataError("last estimates not found", 301)
    return session.e


def expand_names(session, text: str, *, default: str | None = None) -> list[str]:
    """Stata's est_expand: `.`, `_all`, `*`, wildcards, stored names -> names ('.' kept)."""
    words = text.split() if text and text.strip() else ([default] if default else [])
    out: list[str] = []
    for w in words:
        if w == "_all" or w == "*":
            out += list(session.estimates)
        elif w == ".":
            if session.e is None:
                raise StataError("last estimates not found", 301)
            out.append(session.e.name if session.e.name in session.estimates else ".")
        else:
            hits = [n for n in session.estimates if fnmatch.fnmatchcase(n, w)]
            if not hits:
                raise StataError(f"estimation result {w} not found", 111)
            out += hits
    return out


def lookup(session, name: str) -> EstimationResults:
    if name == ".":
        if session.e is None:
            raise StataError("last estimates not found", 301)
        return session.e
    try:
        return session.estimates[name]
    except KeyError:
        raise StataError(f"estimation result {name} not found", 111) from None


# --------------------------------------------------------------------------- information criteria
def model_df(res: EstimationResults) -> float:
    """Parameter count for AIC/BIC and lrtest: e(df_ic), else e(rank), else non-omitted columns."""
    for key in ("df_ic", "rank"):
        v = res.scalars.get(key)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            return float(v)
    return float(np.count_nonzero(~np.asarray(res.omitted, dtype=bool)))


def ic_row(res: EstimationResults, label: str, n_user: float | None = None):
    n = float(res.scalars.get("N_ic", res.scalars.get("N", float("nan")))) if n_user is None \
        else float(n_user)
    ll0 = float(res.scalars.get("ll_0", float("nan")))
    ll = float(res.scalars.get("ll", float("nan")))
    df = model_df(res)
    aic = -2 * ll + 2 * df
    bic = -2 * ll + math.log(n) * df if n > 0 else float("nan")
    return (label, n, ll0, ll, df, aic, bic)


def ic_n_option(text: str | None) -> float | None:
    """`n(#)` of estat ic / estimates stats: the N used in BIC instead of e(N), one number > 0."""
    if text is None:
        return None
    words = text.split()
    try:
        value = float(words[0]) if len(words) == 1 else None
    except ValueError:
        value = None
    if value is None:
        raise StataError("invalid numlist", 121)
    if not value > 0:
        raise StataError("numlist has elements outside of allowed range", 125)
    return value


def print_ic(session, items: list[tuple[str, EstimationResults]], n_user: float | None = None) -> None:
    """The AIC/BIC table (estat ic, estimates stats, lrtest's stats) and r(S); n_user: n(#)."""
    rows = [ic_row(res, label, n_user) for label, res in items]
    for line in po.ic_lines(rows, note=n_user is None):
        session.out.line(line)
    S = np.array([[r[1], r[2], r[3], r[4], r[5], r[6]] for r in rows], dtype=float)
    session.r = RResults(matrices={"S": S})


# --------------------------------------------------------------------------- coefficient names
LEVEL_NAME = re.compile(r"^(\d+)[bon]*\.(.+)$")     # `2b.sector` -> 2, sector


def norm_part(p: str) -> str:
    """One factor of a coefficient name without `c.`, `o.`/`b.` and base/omitted markers."""
    p = p.strip()
    if p.startswith("c."):
        p = p[2:]
    if p.startswith("o.") or p.startswith("b."):
        p = p[2:]
    m = LEVEL_NAME.match(p)
    if m:
        return f"{m.group(1)}.{m.group(2)}"
    return p


def norm_name(name: str) -> str:
    """Stata coefficient name without omitted/base markers and `c.` prefixes."""
    return "#".join(norm_part(p) for p in name.split("#"))
