"""duplicates report|examples|list|tag|drop [varlist] [if] [in] [, force generate()]

Observations are duplicates when they agree on every variable of the varlist (all variables when
none is given); missing values are values like any other. report tabulates how many copies the
observations have, tag counts the surplus copies of each observation, drop keeps the first of
each group in the current sort order.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands._toolkit import check_name, touse, value_text, varlist
from hlmshell.data.dataset import Variable
from hlmshell.data.missing import order_key
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count
from hlmshell.registry import REGISTRY, Opt, Sub, args_of, command
from hlmshell.results.base import RResults


def group_ids(ds, names, mask) -> np.ndarray:
    """Group number (1, 2, ... in sort order of the values) of each selected observation."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return np.zeros(0, dtype=np.int64)
    cols = []
    for nm in names:
        v = ds.var(nm)
        x = v.values[idx]
        if v.is_string:
            _, codes = np.unique(x.astype(str), return_inverse=True)
        else:
            _, codes = np.unique(order_key(x), return_inverse=True)
        cols.append(codes)
    keys = np.stack(cols, axis=1)
    _, gid = np.unique(keys, axis=0, return_inverse=True)
    return np.asarray(gid).reshape(-1) + 1


def _parse(session, cmd):
    body = cmd.body.strip()
    word, _, rest = body.partition(" ")
    spec = REGISTRY.commands["duplicates"]
    sub = spec.subcommand(word) if word else None
    if sub is None:
        raise StataError("invalid subcommand" if word else "subcommand required", 198)
    names = varlist(session, rest, all_if_empty=True)
    if not names:
        raise StataError("no variables defined", 111)
    return sub.name, names, rest.strip() == ""


def _title(names, all_vars: bool) -> str:
    return "Duplicates in terms of " + ("all variables" if all_vars else " ".join(names))


@command("duplicates", abbrev="duplicates", qualifiers="if in", byable=False,
         family="Data inspection", body="anything", desc="report, tag, or drop duplicate observations",
         example="duplicates report id",
         subcommands=(Sub("report", "r", "tabulate the number of copies", (), "[varlist]"),
                      Sub("examples", "e", "list one example of each group of duplicates", (), "[varlist]"),
                      Sub("list", "l", "list all duplicated observations", (), "[varlist]"),
                      Sub("tag", "t", "count the surplus copies of each observation",
                          (Opt("generate", "gen", "name", desc="name of the new variable"),), "[varlist]"),
                      Sub("drop", "drop", "drop all but the first of each group of duplicates",
                          (Opt("force", desc="drop duplicates in terms of a varlist"),), "[varlist]")),
         options=(Opt("generate", "gen", "name", desc="tag: name of the new variable"),
                  Opt("force", desc="drop: allow a varlist")))
def duplicates_cmd(session, cmd):
    sub, names, all_vars = _parse(session, cmd)
    opts = args_of(cmd)
    allowed = {"tag": {"generate"}, "drop": {"force"}}.get(sub, set())
    for o in opts.given:
        if o not in allowed:
            raise StataError(f"option {o} not allowed", 198)
    ds = session.data
    mask = touse(session, cmd)
    gid = group_ids(ds, names, mask)
    counts = np.bincount(gid)[gid] if len(gid) else gid
    out = session.out
    if sub == "tag":
        return _tag(session, names, all_vars, mask, counts, opts)
    if sub == "drop":
        return _drop(session, names, all_vars, mask, gid, opts)
    out.line()
    out.line(_title(names, all_vars))
    out.line()
    if sub == "report":
        _report(session, gid, counts)
    else:
        _list(session, names, mask, gid, counts, sub == "examples")


def _report(session, gid, counts) -> None:
    out = session.out
    out.line("-" * 38)
    out.line("   Copies | Observations       Surplus")
    out.line("-" * 10 + "+" + "-" * 27)
    for c in sorted(set(counts.tolist())):
        nobs = int((counts == c).sum())
        out.line(f"{c:9d} | {nobs:12d}  {nobs - nobs // c:12d}")
    out.line("-" * 38)
    session.r = RResults(scalars={"N": float(len(gid)),
                                  "unique_value": float(len(set(gid.tolist())))})


def _list(session, names, mask, gid, counts, examples: bool) -> None:
    ds = session.data
    idx = np.flatnonzero(mask)
    dup = counts > 1
    # groups numbered as Stata does: in order of their values, among duplicated groups only
    order = np.lexsort((idx, gid))
    rows = []
    gnum, last = 0, None
    for k in order:
        if not dup[k]:
            continue
        if gid[k] != last:
            gnum += 1
            last = gid[k]
        elif examples:
            continue
        vals = [value_text(ds, ds.var(nm), ds.var(nm).values[idx[k]]) for nm in names]
        rows.append([str(gnum)] + ([str(int(counts[k]))] if examples else []) + [str(idx[k] + 1)] + vals)
    if not rows:
        session.out.line("(0 observations are duplicates)")
        return
    head = ["Group"] + (["#", "e.g. obs"] if examples else ["Obs"]) + names
    widths = [max(len(h), max(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    inner = "   ".join("x" * w for w in widths)
    out = session.out
    out.line("  +" + "-" * (len(inner) + 2) + "+")
    out.line("  | " + "   ".join(h.rjust(w) for h, w in zip(head, widths)) + " |")
    out.line("  |" + "-" * (len(inner) + 2) + "|")
    for r in rows:
        out.line("  | " + "   ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")
    out.line("  +" + "-" * (len(inner) + 2) + "+")


def _tag(session, names, all_vars, mask, counts, opts) -> None:
    new = opts.generate
    if not new:
        raise StataError("option generate() required", 198)
    check_name(new)
    ds = session.data
    if new in ds:
        raise StataError(f"variable {new} already defined", 110)
    session.out.line()
    session.out.line(_title(names, all_vars))
    session.out.line()
    vals = np.full(ds.n, np.nan)
    vals[mask] = counts - 1
    top = np.nanmax(vals) if mask.any() else 0
    ds.add(Variable(new, vals, "byte" if top <= 100 else "int" if top <= 32740 else "long"))
    ds.changed = True


def _drop(session, names, all_vars, mask, gid, opts) -> None:
    if not all_vars and not opts.force:
        raise StataError("force option required with duplicates drop varlist", 198)
    ds = session.data
    idx = np.flatnonzero(mask)
    _, first = np.unique(gid, return_index=True)
    keep = np.ones(ds.n, dtype=bool)
    keep[idx] = False
    keep[idx[first]] = True
    ndrop = int((~keep).sum())
    out = session.out
    out.line()
    out.line(_title(names, all_vars))
    out.line()
    if ndrop == 0:
        out.line("(0 observations are duplicates)")
        return
    ds.take(np.flatnonzero(keep))
    ds.changed = True
    out.line(f"({fmt_count(ndrop)} observation{'s' if ndrop != 1 else ''} deleted)")
