"""mvdecode: survey codes for "don't know" or "refused" (-9, 99, ...) made missing values.

    mvdecode varlist [if] [in], mv(numlist | numlist=mvc [\\ numlist=mvc ...])

Real survey do-files start with `mvdecode _all, mv(-9/-1)` before any model. Each numeric
variable's values in the numlist become `.` (or the extended code given, `.a` ... `.z`);
string variables are left alone, as Stata does.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import touse, typed_args, varlist
from hlmshell.data.missing import parse_missing
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.syntax.numlist import numlist


def parse_mv(text: str) -> list[tuple[list[float], float]]:
    """`-9 -8` -> [([-9, -8], .)]; `-9=.a \\ -8=.b` -> one rule per part."""
    rules = []
    for part in text.split("\\"):
        part = part.strip()
        if not part:
            raise StataError("invalid mv() specification", 198)
        nums, eq, code = part.partition("=")
        try:
            target = parse_missing(code.strip()) if eq else np.nan
        except ValueError:
            raise StataError(f"{code.strip()} invalid missing-value code", 198) from None
        values = numlist(nums.strip())
        if not values:
            raise StataError("invalid mv() specification", 198)
        rules.append((values, target))
    return rules


@command("mvdecode", byable=False, qualifiers="if in", body="varlist",
         family="Data management", desc="change numeric codes to missing values",
         example="mvdecode _all, mv(-9/-1)",
         options=(Opt("mv", "mv", "string", None, "the codes (numlist), or numlist=.a \\ numlist=.b"),))
def mvdecode_cmd(session, cmd):
    opts = typed_args(cmd)
    if not opts.mv:
        raise StataError("option mv() required", 198)
    rules = parse_mv(opts.mv)
    ds = session.data
    names = [n for n in varlist(session, cmd.body, all_if_empty=False) if not ds.var(n).is_string]
    mask = touse(session, cmd)
    changes = []
    for nm in names:
        v = ds.var(nm)
        vals = np.array(v.values, dtype=float, copy=True)
        hit_all = np.zeros(len(vals), dtype=bool)
        for codes, target in rules:
            hit = mask & np.isin(vals, np.asarray(codes, dtype=float)) & ~np.isnan(vals)
            vals[hit] = target
            hit_all |= hit
        if hit_all.any():
            changes.append((nm, v.evolve(values=g.store(vals, v.vtype)), int(hit_all.sum())))
    for nm, var, k in changes:
        ds.put(var)
        session.out.line(f"{abbrev(nm, 12):>12}: {fmt_count(k)} missing value{'s' if k != 1 else ''} generated")
