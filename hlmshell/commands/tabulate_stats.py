"""The statistics and extra cell contents of a two-way `tabulate` (Stata 17's [R] tabulate
twoway): chi2, lrchi2, V, gamma, taub, exact, all; expected, cchi2, clrchi2 in the cells.

tabulate.py draws the table; this module says which lines each cell shows (in Stata's order,
with the Key box's words), computes what they hold, and prints the statistics block under the
table with its r() results. Everything is computed before anything is printed, so a request
that fails (an exact test too large to enumerate) leaves the session as it was.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.engine import contingency as ct
from hlmshell.errors import StataError
from hlmshell.registry import Opt

# the two-way options beyond the frequencies and percentages (minimum abbreviations: Stata 17)
STAT_OPTIONS = (
    Opt("exact", "e", desc="report Fisher's exact test (exact(#) accepted: workspace size)"),
    Opt("gamma", "g", desc="report Goodman and Kruskal's gamma"),
    Opt("lrchi2", "lr", desc="report likelihood-ratio chi-squared"),
    Opt("taub", "t", desc="report Kendall's tau-b"),
    Opt("V", desc="report Cramér's V"),
    Opt("cchi2", "cchi", desc="report Pearson's chi-squared in each cell"),
    Opt("clrchi2", "clr", desc="report likelihood-ratio chi-squared in each cell"),
    Opt("expected", "exp", desc="report expected frequency in each cell"),
    Opt("all", "a", desc="equivalent to specifying chi2 lrchi2 V gamma taub"),
    Opt("key", desc="report the cell contents key (the default)"),
    Opt("nolog", "nolo", desc="do not display enumeration log for Fisher's exact test"),
    Opt("rowsort", desc="list rows in order of observed frequency"),
    Opt("colsort", desc="list columns in order of observed frequency"),
)
TWOWAY_ONLY = ("row", "column", "cell", "chi2", "exact", "gamma", "lrchi2", "taub", "V", "cchi2",
               "clrchi2", "expected", "all", "nokey", "matcol", "rowsort", "colsort")

# what each line of a cell shows, in the order Stata stacks them, and the Key's words
LAYERS = ("freq", "expected", "cchi2", "clrchi2", "row", "column", "cell")
KEY_TEXT = {"freq": "frequency", "expected": "expected frequency", "cchi2": "chi2 contribution",
            "clrchi2": "LR chi2 contribution", "row": "row percentage",
            "column": "column percentage", "cell": "cell percentage"}


def exact_workspace(options) -> list:
    """`exact(#)`: Stata's workspace multiplier, a positive integer; the option list with the
    argument removed (so `exact` binds as the flag it otherwise is)."""
    out = []
    for o in options:
        if o.arg is not None and o.name and "exact".startswith(o.name):
            text = o.arg.strip()
            try:
                v = float(text) if text else 1.0
            except ValueError:
                raise StataError("option exact() incorrectly specified", 198) from None
            if not (v == v and v >= 1 and v == int(v)):
                raise StataError("option exact() incorrectly specified", 198)
            o = dataclasses.replace(o, arg=None)
        out.append(o)
    return out


def frequency_order(tab: np.ndarray, rows: bool, cols: bool) -> tuple[np.ndarray, np.ndarray]:
    """rowsort/colsort: the rows (columns) in descending order of their totals, ties kept in
    their natural order."""
    ro = np.argsort(-tab.sum(axis=1), kind="stable") if rows else np.arange(tab.shape[0])
    co = np.argsort(-tab.sum(axis=0), kind="stable") if cols else np.arange(tab.shape[1])
    return ro, co


def layers(args, nofreq: bool) -> list[str]:
    """The lines of each cell, in Stata's order."""
    shown = []
    for kind in LAYERS:
        if kind == "freq":
            if not nofreq:
                shown.append(kind)
        elif getattr(args, kind, False):
            shown.append(kind)
    return shown


def requested(args) -> dict[str, bool]:
    """The statistics asked for (`all` = chi2 lrchi2 V gamma taub)."""
    every = bool(getattr(args, "all", False))
    return {k: every or bool(getattr(args, k, False)) for k in ("chi2", "lrchi2", "V", "gamma", "taub")} \
        | {"exact": bool(getattr(args, "exact", False))}


def cell_layer(tab: np.ndarray, kind: str) -> np.ndarray:
    """An (r+1) x (c+1) array, margins included, of what one line of each cell shows."""
    if kind == "expected":
        m = ct.expected(tab)
    elif kind == "cchi2":
        m = ct.pearson_cells(tab)
    else:
        m = ct.lr_cells(tab)
    full = np.zeros((m.shape[0] + 1, m.shape[1] + 1))
    full[:-1, :-1] = m
    full[:-1, -1] = m.sum(axis=1)
    full[-1, :-1] = m.sum(axis=0)
    full[-1, -1] = m.sum()
    return full


def compute(tab: np.ndarray, want: dict[str, bool], weighted_integer: bool) -> list[tuple]:
    """The statistics block: (kind, values...) in Stata's order, and nothing printed yet."""
    res: list[tuple] = []
    df = ct.degrees_of_freedom(tab)
    if want["chi2"]:
        stat = float(ct.pearson_cells(tab).sum())
        res.append(("chi2", df, stat, _p(stat, df)))
    if want["lrchi2"]:
        stat = float(ct.lr_cells(tab).sum())
        res.append(("lrchi2", df, stat, _p(stat, df)))
    if want["V"]:
        res.append(("V", ct.cramers_v(tab)))
    if want["gamma"]:
        res.append(("gamma", *ct.gamma(tab)))
    if want["taub"]:
        res.append(("taub", *ct.taub(tab)))
    if want["exact"]:
        if not weighted_integer:
            raise StataError("may not use noninteger frequency weights", 401)
        try:
            fe = ct.fisher_exact(np.rint(tab))
        except ct.ExactTooLarge:
            raise StataError("Fisher's exact test: the table has too many possible tables with its "
                             "margins to enumerate", 498) from None
        res.append(("exact", fe.p, fe.p1))
    return res


def _p(stat: float, df: int) -> float:
    return float(dist.chi2_sf(stat, df)) if df > 0 else math.nan


def _num(v: float, fmt: str) -> str:
    return format(v, fmt) if v == v else ".".rjust(int(fmt.split(".")[0]))


def _label(text: str) -> str:
    return f"{text + ' = ':>28}"


def report(session, results: list[tuple]) -> None:
    """Print the statistics under the table and put them in r()."""
    if not results:
        return
    out, r = session.out, session.r.scalars
    out.line()
    for item in results:
        kind = item[0]
        if kind in ("chi2", "lrchi2"):
            _, df, stat, p = item
            name = "Pearson chi2" if kind == "chi2" else "likelihood-ratio chi2"
            out.line(f"{_label(f'{name}({df})')}{_num(stat, '8.4f')}   Pr = {_num(p, '5.3f')}")
            r.update({"chi2": stat, "p": p} if kind == "chi2" else {"chi2_lr": stat, "p_lr": p})
        elif kind == "V":
            out.line(_label("Cramér's V") + _num(item[1], "8.4f"))
            r["CramersV"] = item[1]
        elif kind in ("gamma", "taub"):
            _, est, ase = item
            name = "gamma" if kind == "gamma" else "Kendall's tau-b"
            out.line(f"{_label(name)}{_num(est, '8.4f')}  ASE = {_num(ase, '5.3f')}")
            r.update({"gamma": est, "ase_gam": ase} if kind == "gamma" else {"taub": est, "ase_taub": ase})
        else:
            _, p, p1 = item
            out.line(_label("Fisher's exact") + " " * 16 + _num(p, "5.3f"))
            r["p_exact"] = p
            if p1 is not None:
                out.line(_label("1-sided Fisher's exact") + " " * 16 + _num(p1, "5.3f"))
                r["p1_exact"] = p1


def key_lines(shown: list[str]) -> list[str]:
    """The `Key` box naming what each line of a cell shows, and a blank line after it."""
    inner = max(19, max(len(KEY_TEXT[s]) for s in shown) + 2)
    bar = "+" + "-" * inner + "+"
    out = [bar, "| " + "Key".ljust(inner - 1) + "|", "|" + "-" * inner + "|"]
    for s in shown:
        t = KEY_TEXT[s]
        left = (inner - len(t)) // 2
        out.append(f"|{' ' * left}{t.ljust(inner - left)}|")
    return out + [bar, ""]
