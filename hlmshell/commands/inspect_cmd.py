"""inspect: Stata's per-variable report of negative/zero/positive, integer/noninteger counts,
missing values, the number of unique values and a small text histogram.

    inspect mathach ses if sector == 1

Stata 16/17 layout (columns 11 wide, counts with thousands separators, `-` for zero):

    ses:  ...                                       Number of Observations
    -----------                            ---------------------------------------
                                                 Total      Integers   Nonintegers
    |          #                 Negative        3,286             -         3,286
    ...
    +----------------------                -----------
    -3.758             2.692                     7,185
    (More than 99 unique values)

r(N) (nonmissing), r(N_neg), r(N_0), r(N_pos), r(N_negint), r(N_posint), r(N_unique)
(missing when more than 99), r(N_undoc) (values without a label, labeled variables).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands._toolkit import touse, varlist
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt, fmt_count
from hlmshell.registry import command

_BARS = 5          # histogram bars, at columns 3, 7, ..., 19
_HEIGHT = 6        # rows of the histogram (Negative ... Missing)
_LABELS = ("Negative", "Zero", "Positive", "", "Total", "Missing")


def _cnt(n: int) -> str:
    return "-" if n == 0 else fmt_count(n)


def inspect_stats(x: np.ndarray, nmiss: int) -> dict:
    """The counts behind the report, for the nonmissing values x."""
    isint = x == np.floor(x)
    uniq = np.unique(x)
    return {"N": len(x), "N_neg": int((x < 0).sum()), "N_0": int((x == 0).sum()),
            "N_pos": int((x > 0).sum()), "N_negint": int(((x < 0) & isint).sum()),
            "N_posint": int(((x > 0) & isint).sum()), "N_int": int(isint.sum()),
            "uniq": uniq, "N_unique": len(uniq), "N_miss": nmiss}


def histogram(x: np.ndarray, uniq: np.ndarray) -> list[int]:
    """Counts per bar: a bar per value with at most five distinct values, else five equal-width
    bins from the minimum to the maximum."""
    if len(x) == 0:
        return []
    if len(uniq) <= _BARS:
        return [int((x == u).sum()) for u in uniq]
    lo, hi = float(uniq[0]), float(uniq[-1])
    k = np.floor((x - lo) / (hi - lo) * _BARS).astype(int)
    k = np.clip(k, 0, _BARS - 1)
    return [int((k == i).sum()) for i in range(_BARS)]


def _hist_rows(counts: list[int]) -> list[str]:
    top = max(counts) if counts else 0
    heights = [int(math.floor(_HEIGHT * c / top)) if top else 0 for c in counts]
    rows = []
    for r in range(_HEIGHT):
        cells = []
        for c, h in zip(counts, heights):
            if h >= _HEIGHT - r:
                cells.append("#")
            elif r == _HEIGHT - 1 and c > 0:
                cells.append(".")
            else:
                cells.append(" ")
        rows.append(("  " + "   ".join(cells)).rstrip() if cells else "")
    return rows


def _report(out, name: str, label: str, st: dict, counts: list[int], x: np.ndarray) -> None:
    head = f"{name}:  {label}" if label else f"{name}:"
    out.line()
    out.line(head.ljust(47) + " Number of Observations")
    out.line(("-" * len(head + ("" if label else "  "))).ljust(38) + " " + "-" * 39)
    out.line(" " * 39 + "Total".rjust(11) + "   " + "Integers".rjust(11) + "   " + "Nonintegers".rjust(11))
    n = st["N"]
    cells = {"Negative": (st["N_neg"], st["N_negint"]), "Zero": (st["N_0"], st["N_0"]),
             "Positive": (st["N_pos"], st["N_posint"]), "Total": (n, st["N_int"])}
    hist = _hist_rows(counts)
    for r, lab in enumerate(_LABELS):
        left = "|" + hist[r].ljust(28)
        if lab in cells:
            tot, ints = cells[lab]
            out.line(f"{left}{lab:<10}{_cnt(tot):>11}   {_cnt(ints):>11}   {_cnt(tot - ints):>11}")
        elif lab == "Missing":
            out.line(f"{left}{lab:<10}{_cnt(st['N_miss']):>11}")
        else:
            out.line(left + " " * 10 + "   ".join(["-" * 11] * 3))
    out.line("+" + "-" * 22 + " " * 16 + "-" * 11)
    lo = fmt(float(x.min()), "%9.0g").strip() if n else "."
    hi = fmt(float(x.max()), "%9.0g").strip() if n else "-9.0e+307"
    s = lo + " " * max(1, 23 - len(lo) - len(hi)) + hi
    total = fmt_count(n + st["N_miss"])
    out.line(s + " " * max(1, 50 - len(s) - len(total)) + total)
    if st["N_unique"] > 99:
        out.line("(More than 99 unique values)")
    else:
        k = st["N_unique"]
        out.line(f"({k}".rjust(5) + " unique value" + ("s" if k > 1 else "") + ")")


def _label_note(out, ds, var, st: dict) -> int | None:
    """The value-label note; returns r(N_undoc) (None for unlabeled variables)."""
    if not var.vallab:
        return None
    lab = ds.value_labels.get(var.vallab, {})
    if st["N_unique"] > 99:
        return None
    undoc = sum(1 for u in st["uniq"] if float(u) not in lab)
    out.line()
    if undoc == 0:
        out.line(f"      {var.name} is labeled and all values are documented in the label.")
    else:
        verb = "value is" if undoc == 1 else "values are"
        out.line(f"      {var.name} is labeled but {undoc} {verb} NOT documented in the label.")
    return undoc


@command("inspect", abbrev="ins", changes_data=False, qualifiers="if in", family="Data inspection",
         body="varlist", desc="display simple summary of data's attributes",
         example="inspect mathach ses", options=())
def inspect_cmd(session, cmd):
    from hlmshell.results.base import RResults
    ds = session.data
    names = varlist(session, cmd.body)
    mask = touse(session, cmd)
    out = session.out
    r = {}
    for nm in names:
        var = ds.var(nm)
        if var.is_string:
            x = np.empty(0)
            nmiss = int(mask.sum())
        else:
            v = np.asarray(var.values, dtype=float)[mask]
            ok = ~np.isnan(v)
            x, nmiss = v[ok], int((~ok).sum())
        st = inspect_stats(x, nmiss)
        _report(out, nm, var.label or "", st, histogram(x, st["uniq"]), x)
        undoc = _label_note(out, ds, var, st) if not var.is_string else None
        r = {k: float(st[k]) for k in ("N", "N_neg", "N_0", "N_pos", "N_negint", "N_posint")}
        r["N_unique"] = float(st["N_unique"]) if st["N_unique"] <= 99 else math.nan
        if undoc is not None:
            r["N_undoc"] = float(undoc)
    session.r = RResults(scalars=r)
