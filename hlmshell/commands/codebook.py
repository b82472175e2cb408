"""codebook [varlist] [if] [in] [, compact problems tabulate(#)]

Per variable: type, range and units, unique values and missing, then a tabulation (few unique
values), mean/sd/percentiles (numeric) or examples (string). compact: one line per variable.
problems: constant variables, variables with no observations, value labels not found.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands._toolkit import percentile, touse, varlist
from hlmshell.data.missing import missing_str, order_key
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt, fmt_count
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, args_of, command
from hlmshell.results.base import RResults

RULE = "-" * 79
MISS_STR = 'Missing "":'


def g6(x: float) -> str:
    """Six significant digits, Stata's way (no leading zero)."""
    if x is None or math.isnan(x):
        return "."
    t = f"{x:.6g}"
    if "e" in t:
        return fmt(x, "%9.0g").strip()
    return t.replace("0.", ".", 1) if t.startswith(("0.", "-0.")) else t


def short(x: float) -> str:
    return fmt(float(x), "%9.0g").strip()


def units(x: np.ndarray) -> float:
    """The largest power of ten of which every value is a multiple."""
    x = x[x != 0]
    if len(x) == 0:
        return 1.0
    for k in range(8, -9, -1):
        u = 10.0 ** k
        q = x / u
        r = np.round(q)
        if np.all(r != 0) and np.all(np.abs(q - r) <= 1e-6 * np.maximum(1.0, np.abs(q))):
            return u
    return 1e-8


def _header(out, name: str, label: str) -> None:
    out.line(RULE)
    out.line(name + label.rjust(79 - len(name)) if label else name)
    out.line(RULE)
    out.line()


def _numeric(session, v, x: np.ndarray, maxcat: int) -> None:
    out = session.out
    ok = x[~np.isnan(x)]
    uniq = np.unique(ok)
    out.line(f"{'Type:':>23} Numeric ({v.vtype})")
    if v.vallab:
        out.line(f"{'Label:':>23} {v.vallab}" + ("" if v.vallab in session.data.value_labels
                                                  else ", but label does not exist"))
    out.line()
    if len(ok):
        rng = f"[{short(ok.min())},{short(ok.max())}]"
        out.line(f"{'Range:':>23} {rng.ljust(30)}Units: {short(units(ok))}")
    out.line(f"{'Unique values:':>23} {fmt_count(len(uniq)).ljust(26)}Missing .: "
             f"{fmt_count(len(x) - len(ok))}/{fmt_count(len(x))}")
    out.line()
    if 0 < len(uniq) <= maxcat:
        _tabulation(session, v, x)
    elif len(ok):
        mean = float(ok.mean())
        sd = float(ok.std(ddof=1)) if len(ok) > 1 else math.nan
        out.line(f"{'Mean:':>23} {g6(mean)}")
        out.line(f"{'Std. dev.:':>23} {g6(sd)}")
        out.line()
        xs = np.sort(ok)
        out.line(f"{'Percentiles:':>23}" + "".join(f"{p}%".rjust(8 if p == 10 else 10) for p in (10, 25, 50, 75, 90)))
        out.line(" " * 23 + "".join(short(percentile(xs, p)).rjust(8 if p == 10 else 10) for p in (10, 25, 50, 75, 90)))


def _tabulation(session, v, x: np.ndarray) -> None:
    ds, out = session.data, session.out
    keys = order_key(x)
    uk, first, cnt = np.unique(keys, return_index=True, return_counts=True)
    labelled = bool(v.vallab and v.vallab in ds.value_labels)
    out.line(f"{'Tabulation:':>23} Freq.  " + ("Numeric  Label" if labelled else "Value"))
    for i, c in zip(first, cnt):
        val = float(x[i])
        shown = missing_str(val) if np.isnan(val) else short(val)
        if labelled:
            lab = ds.value_labels[v.vallab].get(val) if not np.isnan(val) else None
            out.line(" " * 24 + f"{fmt_count(int(c)).rjust(5)}  {shown.rjust(7)}  {lab or ''}".rstrip())
        else:
            out.line(" " * 24 + f"{fmt_count(int(c)).rjust(5)}  {shown}")


def _string(session, v, x: np.ndarray, maxcat: int) -> None:
    out = session.out
    ok = x[x != ""]
    uniq = sorted(set(ok.tolist()))
    out.line(f"{'Type:':>23} String ({v.vtype})")
    out.line()
    out.line(f"{'Unique values:':>23} {fmt_count(len(uniq)).ljust(25)}{MISS_STR} "
             f"{fmt_count(len(x) - len(ok))}/{fmt_count(len(x))}")
    out.line()
    if 0 < len(uniq) <= maxcat:
        out.line(f"{'Tabulation:':>23} Freq.  Value")
        for u in uniq:
            out.line(" " * 24 + f"{fmt_count(int((ok == u).sum())).rjust(5)}  \"{u}\"")
    elif uniq:
        xs = sorted(ok.tolist())
        picks = [xs[int(len(xs) * q)] for q in (0.1, 0.3, 0.5, 0.7)]
        out.line(f"{'Examples:':>23} \"{picks[0]}\"")
        for p in picks[1:]:
            out.line(" " * 24 + f"\"{p}\"")


def _compact(session, names, mask) -> None:
    ds, out = session.data, session.out
    out.line()
    out.line("Variable      Obs Unique      Mean       Min       Max  Label")
    out.line(RULE)
    for nm in names:
        v = ds.var(nm)
        x = v.values[mask]
        if v.is_string:
            ok = x[x != ""]
            row = (len(ok), len(set(ok.tolist())), ".", ".", ".")
        else:
            ok = x[~np.isnan(x)]
            row = (len(ok), len(np.unique(ok)),
                   *(short(f(ok)) if len(ok) else "." for f in (np.mean, np.min, np.max)))
        out.line(f"{abbrev(nm, 8).ljust(8)}{fmt_count(row[0]).rjust(9)}{str(row[1]).rjust(7)}"
                 f"{row[2].rjust(10)}{row[3].rjust(10)}{row[4].rjust(10)}  {v.label[:28]}".rstrip())
    out.line(RULE)


def _problems(session, names, mask) -> None:
    ds, out = session.data, session.out
    cons, nolab = [], []
    for nm in names:
        v = ds.var(nm)
        x = v.values[mask]
        vals = set(x.tolist()) if v.is_string else set(order_key(x).tolist())
        if len(vals) <= 1:
            cons.append(nm)
        if v.vallab and v.vallab not in ds.value_labels:
            nolab.append(nm)
    out.line()
    if not cons and not nolab:
        out.line("No potential problems in dataset")
    else:
        out.line("               Potential problem   Variables")
        out.line(RULE)
        if cons:
            out.line(f"{'constant (or all missing) vars':>32}   {' '.join(cons)}")
        if nolab:
            out.line(f"{'vars with nonexisting label':>32}   {' '.join(nolab)}")
        out.line(RULE)
    session.r = RResults(macros={k: " ".join(v) for k, v in (("cons", cons), ("labelnotfound", nolab)) if v})


@command("codebook", abbrev="codebook", qualifiers="if in", changes_data=False,
         family="Data inspection", body="varlist", desc="describe data contents",
         example="codebook ses female",
         options=(Opt("compact", "c", desc="display compact report on the variables"),
                  Opt("problems", "p", desc="report potential problems in dataset"),
                  Opt("tabulate", "t", "int", 9, desc="tabulate variables with no more than # unique values"),
                  Opt("all", "a", desc="accepted for Stata compatibility"),
                  Opt("header", "h", desc="accepted for Stata compatibility"),
                  Opt("notes", "n", desc="accepted for Stata compatibility"),
                  Opt("mv", desc="accepted for Stata compatibility")))
def codebook_cmd(session, cmd):
    opts = args_of(cmd)
    ds = session.data
    names = varlist(session, cmd.body)
    if not names:
        raise StataError("no variables defined", 111)
    if opts.compact and opts.problems:
        raise StataError("options compact and problems may not be combined", 198)
    mask = touse(session, cmd)
    if opts.compact:
        _compact(session, names, mask)
        return
    if opts.problems:
        _problems(session, names, mask)
        return
    for nm in names:
        v = ds.var(nm)
        session.out.line()
        _header(session.out, nm, v.label)
        if v.is_string:
            _string(session, v, v.values[mask], opts.tabulate)
        else:
            _numeric(session, v, v.values[mask], opts.tabulate)
