"""misstable summarize|patterns|tree [varlist] [if] [in] [, all]

summarize: per numeric variable with missing values, the counts of `.`, of extended missing
(.a-.z) and of nonmissing values, with unique nonmissing values, min and max. patterns: the
frequency of each pattern of missingness among the variables that have missing values.
tree: the nested pattern (misstable_tree.py).
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands._toolkit import touse, varlist
from hlmshell.commands.misstable_tree import tree
from hlmshell.data.missing import missing_code
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt
from hlmshell.output.text import abbrev
from hlmshell.registry import REGISTRY, Opt, Sub, args_of, command
from hlmshell.results.base import RResults


def counts(x: np.ndarray) -> tuple[int, int, int]:
    """(# equal to ., # extended missing, # nonmissing)."""
    miss = np.isnan(x)
    code = missing_code(x[miss]) if miss.any() else np.zeros(0)
    n_dot = int((code == 0).sum())
    return n_dot, int(miss.sum()) - n_dot, int((~miss).sum())


def _parse(session, cmd):
    word, _, rest = cmd.body.strip().partition(" ")
    sub = REGISTRY.commands["misstable"].subcommand(word) if word else None
    if sub is None or sub.name not in ("summarize", "patterns", "tree"):
        raise StataError("invalid subcommand" if word else "subcommand required", 198)
    names = [n for n in varlist(session, rest) if not session.data.var(n).is_string]
    return sub.name, names


@command("misstable", abbrev="misstable", qualifiers="if in", changes_data=False, byable=False,
         family="Data inspection", body="anything", desc="tabulate missing values",
         example="misstable summarize",
         subcommands=(Sub("summarize", "sum", "counts of missing values per variable", (), "[varlist]"),
                      Sub("patterns", "pat", "patterns of missing values", (), "[varlist]"),
                      Sub("tree", "tree", "nested pattern of missing values", (), "[varlist]")),
         options=(Opt("all", desc="summarize: show all variables, not only those with missing values"),
                  Opt("showzeros", desc="summarize: show zeros rather than blanks"),
                  Opt("frequency", "freq", desc="patterns: report frequencies rather than percents"),
                  Opt("asis", desc="patterns, tree: variables in the order specified"),
                  Opt("exok", desc="tree: treat .a-.z as nonmissing"),
                  Opt("bypatterns", "bypat", desc="patterns: list the patterns in pattern order, not by frequency")))
def misstable_cmd(session, cmd):
    sub, names = _parse(session, cmd)
    opts = args_of(cmd)
    mask = touse(session, cmd)
    if opts.exok and sub != "tree":
        raise StataError("option exok not allowed", 198)
    if sub == "summarize":
        _summarize(session, names, mask, opts)
    elif sub == "tree":
        tree(session, list(dict.fromkeys(names)), mask, opts)
    else:
        _patterns(session, names, mask, opts)


def _blank(n: int, zeros: bool) -> str:
    return f"{n:9d}" if n or zeros else " " * 9


def _summarize(session, names, mask, opts) -> None:
    ds, out = session.data, session.out
    rows = []
    for nm in names:
        x = ds.var(nm).values[mask]
        eq, gt, lt = counts(x)
        if eq + gt == 0 and not opts.all:
            continue
        ok = x[~np.isnan(x)]
        rows.append((nm, eq, gt, lt, len(np.unique(ok)), ok.min() if len(ok) else np.nan,
                     ok.max() if len(ok) else np.nan))
    if not rows:
        out.line("(variables nonmissing or string)")
        session.r = RResults()
        return
    out.line(" " * 63 + "Obs<.")
    out.line(" " * 48 + "+" + "-" * 30)
    out.line(" " * 15 + "|" + " " * 32 + "| Unique")
    out.line("      Variable |     Obs=.     Obs>.     Obs<.  | values        Min         Max")
    out.line("  -------------+--------------------------------+" + "-" * 30)
    for nm, eq, gt, lt, k, lo, hi in rows:
        uniq = f"{k:6d}" if k < 500 else "  >500"
        out.line(f"  {abbrev(nm, 12).rjust(12)} |{_blank(eq, opts.showzeros)} {_blank(gt, opts.showzeros)}"
                 f" {_blank(lt, True)}  | {uniq}  {fmt(lo, '%9.0g')}   {fmt(hi, '%9.0g')}")
    out.line("  " + "-" * 77)
    nm, eq, gt, lt, k, lo, hi = rows[-1]
    session.r = RResults(scalars={"N_eq_dot": float(eq), "N_gt_dot": float(gt), "N_lt_dot": float(lt),
                                  "K_uniq": float(k) if k < 500 else np.nan, "min": float(lo), "max": float(hi)},
                         macros={"vartype": "numeric"})


def _pct(p: float, first: bool) -> str:
    text = "<1" if 0 < p < 0.5 else f"{p:.0f}"
    return text + ("%" if first else "")


def _patterns(session, names, mask, opts) -> None:
    ds, out = session.data, session.out
    miss = {nm: np.isnan(ds.var(nm).values[mask]) for nm in names}
    used = [nm for nm in names if miss[nm].any()]
    if not opts.asis:                       # fewest missing first, unless asis
        used = sorted(used, key=lambda nm: int(miss[nm].sum()))
    n = int(mask.sum())
    if not used:
        out.line("(no missing values)")
        session.r = RResults(scalars={"N_complete": float(n), "N_incomplete": 0.0, "K": 0.0})
        return
    pat = np.stack([~miss[nm] for nm in used], axis=1).astype(int)
    uniq, inv = np.unique(pat, axis=0, return_inverse=True)
    freq = np.bincount(np.asarray(inv).reshape(-1))
    if opts.bypatterns:                     # patterns in their own order, complete first
        order = sorted(range(len(uniq)), key=lambda i: [-v for v in uniq[i]])
    else:
        order = sorted(range(len(uniq)), key=lambda i: (-freq[i], [-v for v in uniq[i]]))
    width = 3 * len(used) + 4
    out.line()
    out.line("    Missing-value patterns")
    out.line("      (1 means complete)")
    out.line()
    out.line("              |   Pattern")
    head = "  Frequency   |" if opts.frequency else "    Percent   |"
    out.line(head + "".join(f"{k + 1:3d}" for k in range(len(used))))
    out.line("  ------------+" + "-" * width)
    for j, i in enumerate(order):
        val = f"{freq[i]:,}" if opts.frequency else _pct(100.0 * freq[i] / n, j == 0)
        shown = val if opts.frequency or j == 0 else val + " "
        out.line(f"{shown:>11}   |" + "".join(f"{v:3d}" for v in uniq[i]))
        if j == 0 and len(order) > 1:
            out.line("              |")
    out.line("  ------------+" + "-" * width)
    out.line(f"{(f'{n:,}' if opts.frequency else '100%'):>11}   |")
    out.line()
    out.line("  Variables are  " + "  ".join(f"({k + 1}) {nm}" for k, nm in enumerate(used)))
    complete = int(pat.all(axis=1).sum())
    session.r = RResults(scalars={"N_complete": float(complete), "N_incomplete": float(n - complete),
                                  "K": float(len(uniq))}, macros={"vars": " ".join(used)})
