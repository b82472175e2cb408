"""keep/drop, sort/gsort, rename, order, clear, set, preserve/restore, compress.

Every handler validates everything before it touches the data, so a failing command
leaves the dataset as it was even without the interpreter's snapshot.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.commands._toolkit import check_name, sort_keys, touse, typed_args, varlist
from hlmshell.commands.options import level_option
from hlmshell.registry import Opt, command
from hlmshell.data.dataset import INT_LIMITS, Dataset, Variable
from hlmshell.errors import StataError, syntax_error
from hlmshell.limits import check_memory, no_memory
from hlmshell.output.numfmt import fmt_count
from hlmshell.results import RResults
from hlmshell.syntax.evaluate import by_groups, evaluate


def obs_message(session, n: int, what: str = "deleted") -> None:
    session.out.line(f"({fmt_count(n)} observation{'' if n == 1 else 's'} {what})")


def _sort_prefix_after_drop(ds, dropped) -> list[str]:
    out = []
    for s in ds.sortedby:
        if s in dropped:
            break
        out.append(s)
    return out


# ----------------------------------------------------------------------------- keep / drop
def _keep_drop(session, cmd, keep: bool):
    typed_args(cmd)              # keep and drop take no options
    ds = session.data
    body = cmd.body.strip()
    if body and (cmd.if_ is not None or cmd.in_ is not None):
        raise syntax_error()
    if body:
        if body in ("_all", "*") and not keep:
            names = list(ds.names)
        else:
            names = varlist(session, body)
        gone = [n for n in ds.names if (n not in names if keep else n in names)]
        sortedby = _sort_prefix_after_drop(ds, gone)
        if gone:
            ds.drop(gone)
        ds.sortedby = sortedby
        if keep or gone:
            ds.changed = True
        return
    by = [p for p in cmd.prefixes if p.kind == "by"]
    if body and by:
        raise StataError(f"{cmd.name} varlist may not be combined with by", 190)
    if cmd.if_ is None and cmd.in_ is None:
        raise StataError("varlist required", 100)
    mask = _by_if_mask(session, cmd, by[-1]) if by else touse(session, cmd)
    stay = mask if keep else ~mask
    removed = int(np.count_nonzero(~stay))
    if removed:
        ds.take(stay)
        ds.changed = True
    obs_message(session, removed)


def _by_if_mask(session, cmd, prefix) -> np.ndarray:
    """`by g: drop if _n > 1`: the condition sees _n/_N within each by-group."""
    if cmd.in_ is not None:
        raise StataError("in may not be combined with by", 190)
    groups = by_groups(session, prefix)
    v = evaluate(cmd.if_, session, groups=groups)
    if isinstance(v, np.ndarray) and v.dtype == object or isinstance(v, str):
        raise StataError("type mismatch", 109)
    return np.broadcast_to(np.asarray(v, dtype=float) != 0, (session.data.n,)).copy()


@command("keep", byable="self", qualifiers="if in",
          family="Data management", body="varlist", desc="keep variables or observations", example="keep if sector == 1", options=False)
def keep_cmd(session, cmd):
    _keep_drop(session, cmd, True)


@command("drop", byable="self", qualifiers="if in",
          family="Data management", body="varlist", desc="drop variables or observations", example="drop if missing(ses)", options=False)
def drop_cmd(session, cmd):
    _keep_drop(session, cmd, False)


# ----------------------------------------------------------------------------- sort
@command("sort", abbrev="so", byable=False, qualifiers="in",
          family="Data management", body="varlist", desc="sort the data", example="sort id",
          options=(Opt("stable", desc="keep the order of ties (sorting is always stable)"),))
def sort_cmd(session, cmd):
    typed_args(cmd)              # stable: the sort is stable anyway
    ds = session.data
    names = varlist(session, cmd.body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    if cmd.if_ is not None:
        raise StataError("if not allowed", 101)
    if cmd.in_ is not None:
        mask = touse(session, cmd)
        idx = np.flatnonzero(mask)
        sub = ds.copy()
        sub.take(mask)
        perm = sort_keys(sub, names)
        full = np.arange(ds.n)
        full[idx] = idx[perm]
        ds.take(full)
        ds.sortedby = []
    else:
        ds.take(sort_keys(ds, names))
        ds.sortedby = list(names)
    ds.changed = True


@command("gsort", byable=False, qualifiers="",
          family="Data management", body="anything", desc="ascending and descending sort", example="gsort -mathach",
          options=(Opt("generate", "gen", "name", desc="create newvar numbering the groups of the sort keys"),
                   Opt("mfirst", desc="place missing values first in descending orderings")))
def gsort_cmd(session, cmd):
    opts = typed_args(cmd)
    ds = session.data
    toks = cmd.body.replace("+", " + ").replace("-", " - ").split()
    names, desc, sign = [], [], False
    for t in toks:
        if t == "-":
            sign = True
        elif t == "+":
            sign = False
        else:
            for nm in varlist(session, t):
                names.append(nm)
                desc.append(sign)
            sign = False
    if not names:
        raise StataError("varlist required", 100)
    perm = sort_keys(ds, names, desc, opts.mfirst)
    gen = opts.generate
    if gen:
        check_name(gen)
        if gen in ds:
            raise StataError(f"variable {gen} already defined", 110)
    ds.take(perm)
    lead = []
    for nm, d in zip(names, desc):
        if d:
            break
        lead.append(nm)
    ds.sortedby = lead
    if gen:
        keys = [ds.vars[n].values for n in names]
        new = np.ones(ds.n)
        grp = 1
        for i in range(1, ds.n):
            if any(not (k[i] == k[i - 1] or (isinstance(k[i], float) and np.isnan(k[i]) and np.isnan(k[i - 1])))
                   for k in keys):
                grp += 1
            new[i] = grp
        vt = "byte" if grp <= 100 else "int" if grp <= 32740 else "long"
        ds.add(Variable(gen, new, vt))
    ds.changed = True


# ----------------------------------------------------------------------------- rename / order
def _rename_pairs(session, body: str) -> list[tuple[str, str]]:
    body = body.strip()
    m = re.fullmatch(r"\(([^)]*)\)\s*\(([^)]*)\)", body)
    if m:
        olds = varlist(session, m.group(1), all_if_empty=False)
        news = m.group(2).split()
        if len(olds) != len(news):
            raise StataError("number of old and new names differ", 198)
        return list(zip(olds, news))
    parts = body.split()
    if len(parts) != 2:
        raise syntax_error()
    old, new = parts
    if old not in session.data:
        old = varlist(session, old, all_if_empty=False)
        if len(old) != 1:
            raise syntax_error()
        old = old[0]
    return [(old, new)]


@command("rename", abbrev="ren", byable=False, qualifiers="",
          family="Data management", body="anything", desc="rename a variable", example="rename size schsize",
          options=(Opt("upper", desc="rename varlist to upper case"),
                   Opt("lower", desc="rename varlist to lower case"),
                   Opt("proper", desc="rename varlist to proper case (first letter upper case)")))
def rename_cmd(session, cmd):
    opts = typed_args(cmd)
    ds = session.data
    cases = [c for c in ("upper", "lower", "proper") if getattr(opts, c)]
    if len(cases) > 1:
        raise StataError(f"options {cases[0]} and {cases[1]} may not be combined", 198)
    pairs = _case_pairs(session, cmd.body, cases[0]) if cases else _rename_pairs(session, cmd.body)
    olds = {o for o, _ in pairs}
    final = [n for n in ds.names if n not in olds]
    for old, new in pairs:
        check_name(new)
        if new != old and new in final:
            raise StataError(f"variable {new} already defined", 110)
        final.append(new)
    if len(set(n for _, n in pairs)) != len(pairs):
        raise StataError("variable names not unique", 198)
    mapping = dict(pairs)
    ds.rename_many(mapping)      # names, sort order, and the xtset/tsset characteristics


def _case_pairs(session, body: str, case: str) -> list[tuple[str, str]]:
    """`rename varlist, upper|lower|proper`: every variable of varlist (parentheses allowed)
    to that case."""
    names = varlist(session, body.strip().strip("()"), all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    change = {"upper": str.upper, "lower": str.lower, "proper": lambda n: n[:1].upper() + n[1:].lower()}
    return [(n, change[case](n)) for n in names]


@command("order", byable=False, qualifiers="",
          family="Data management", body="varlist", desc="reorder variables", example="order id",
          options=(Opt("first", desc="move the variables to the beginning (the default)"),
                   Opt("last", desc="move the variables to the end"),
                   Opt("before", type="name", desc="move the variables before varname"),
                   Opt("after", type="name", desc="move the variables after varname"),
                   Opt("alphabetic", "alpha", desc="move the variables in alphabetical order"),
                   Opt("sequential", "seq", desc="accepted for Stata compatibility")))
def order_cmd(session, cmd):
    opts = typed_args(cmd)
    ds = session.data
    moving = varlist(session, cmd.body, all_if_empty=False)
    if not moving:
        raise StataError("varlist required", 100)
    if opts.alphabetic:
        moving = sorted(moving, key=str.lower)
    rest = [n for n in ds.names if n not in moving]
    where = opts.before or opts.after
    if where:
        anchor = varlist(session, where)[0]
        if anchor in moving:
            raise StataError(f"{anchor} may not be in the varlist", 198)
        pos = rest.index(anchor) + (1 if opts.after else 0)
        new = rest[:pos] + moving + rest[pos:]
    elif opts.last:
        new = rest + moving
    else:
        new = moving + rest
    ds.vars = {n: ds.vars[n] for n in new}
    ds.changed = True


# ----------------------------------------------------------------------------- clear
@command("clear", byable=False, qualifiers="", options=False,
          family="Data management", body="anything", desc="clear the data in memory", example="clear")
def clear_cmd(session, cmd):
    what = cmd.body.strip()
    if what not in ("", "all", "*", "results", "matrix", "programs", "ado", "mata", "frames", "estimates"):
        raise syntax_error()
    if what in ("", "all", "*", "frames"):
        session.data = Dataset()
    if what in ("all", "*", "frames"):        # every frame goes; one empty `default` is left
        session.frames = {}
        session.frame = "default"
    if what in ("all", "*", "results"):
        session.r = RResults()
        session.e = None
        session.test_chain = None
    if what in ("all", "*"):
        session.estimates = {}
        session.scalars = {}
        session.matrices = {}
        session.preserved = None
        session.constraints = {}              # [D] clear: clear all drops the constraints too
    if what in ("all", "*", "mata"):          # Mata's variables and functions
        from hlmshell.commands.mata import clear_workspace
        clear_workspace(session)
    if what == "matrix":
        session.matrices = {}
    if what in ("all", "*", "programs", "ado"):   # user programs (ado: the auto-loaded ones,
        session.programs = {}                     # which load again when next used)


# ----------------------------------------------------------------------------- set
_IGNORED = {"more", "rmsg", "varabbrev", "matsize", "maxvar", "niceness", "output", "pagesize",
            "graphics", "emptycells", "showbaselevels", "showomitted", "fvlabel", "fvwrap",
            "cformat", "pformat", "sformat", "logtype", "trace", "tracedepth", "maxiter",
            "autotabgraphs", "scheme", "printcolor", "notifyuser", "update_query", "processors",
            "segmentsize", "dp", "coeftabresults", "showemptycells", "lstretch", "charset",
            "locale_ui", "httpproxy", "include_bitmap", "min_memory", "max_memory", "haverdir"}


def _integer_arg(arg: str) -> int:
    try:
        v = float(arg)
    except ValueError:
        v = float("nan")
    if not math.isfinite(v) or v != int(v):
        raise StataError(f"'{arg}' found where integer expected", 198)
    return int(v)


@command("set", exp=False, byable=False, qualifiers="",
          family="Settings", body="anything", desc="change a setting", example="set level 90",
          options=(Opt("permanently", "perm", desc="accepted for Stata compatibility (remember the setting)"),))
def set_cmd(session, cmd):
    typed_args(cmd)              # permanently: nothing is remembered between sessions
    parts = cmd.body.split(None, 1)
    if not parts:
        raise syntax_error()
    sub, arg = parts[0], (parts[1].strip() if len(parts) > 1 else "")
    ds = session.data
    if sub == "obs":
        n = _integer_arg(arg)
        if n < 0:
            raise StataError(f"'{arg}' found where integer expected", 198)
        if n < ds.n:
            raise StataError(f"observations must be >= {fmt_count(ds.n)}", 198)
        old = ds.n
        check_memory((n - old) * max(len(ds.vars), 1) * 8)
        try:
            ds.set_obs(n)
        except MemoryError:
            raise no_memory() from None
        if n != old:
            ds.changed = True
        session.out.line(f"Number of observations (_N) was {fmt_count(old)}, now {fmt_count(n)}.")
        return
    if sub == "seed":
        seed = _integer_arg(arg)
        if seed < 0 or seed > 2147483647:
            raise StataError("seed must be between 0 and 2,147,483,647", 198)
        session.rng = np.random.default_rng(seed)
        session.settings["seed"] = seed
        return
    if sub == "level":
        try:
            float(arg)
        except ValueError:
            raise StataError(f"'{arg}' found where number expected", 198) from None
        session.settings["level"] = level_option(arg, session)
        return
    if sub in ("linesize", "type"):
        if sub == "linesize":
            try:
                v = int(arg)
            except ValueError:
                raise StataError(f"'{arg}' found where integer expected", 198) from None
            if not 40 <= v <= 255:
                raise StataError("linesize must be between 40 and 255", 198)
            session.settings["linesize"] = v
        else:
            if arg.split(",")[0].strip() not in ("float", "double"):
                raise syntax_error()
            session.settings["type"] = arg.split(",")[0].strip()
        return
    if sub in _SWITCHES or sub == "rngstate":
        _set_switch(session, sub, arg)
        return
    if sub in ("cformat", "pformat", "sformat"):
        _set_table_format(session, sub, arg)
        return
    if sub in _IGNORED or re.fullmatch(r"[a-z_][a-z_0-9]*", sub):
        session.settings[sub] = arg
        return
    raise syntax_error()


def _set_table_format(session, sub: str, arg: str) -> None:
    """`set cformat %9.3f` (pformat, sformat): the coefficient tables' formats from now on;
    `set cformat` alone goes back to Stata's default."""
    from hlmshell.syntax.parser import TABLE_FORMATS, table_format_problem
    fmt_text = arg.split(",")[0].strip()
    problem = table_format_problem(sub, fmt_text) if fmt_text else None
    if problem == "format":
        raise StataError(f"invalid format {fmt_text}", 120)
    if problem == "width":
        raise StataError(f"{sub} width cannot exceed {TABLE_FORMATS[sub]}", 198)
    session.settings[sub] = fmt_text


_SWITCHES = {"more", "rmsg", "varabbrev", "dots", "fvlabel", "trace", "coeftabresults"}


def _set_switch(session, sub: str, arg: str) -> None:
    """`set more|rmsg|varabbrev|... on|off`, and `set rngstate` (the text c(rngstate) gave)."""
    if sub == "rngstate":
        from hlmshell.syntax.functions import rng_from_state

        rng = rng_from_state(arg)
        if rng is None:
            raise StataError("rngstate invalid", 198)
        session.rng = rng
        return
    value, _, tail = arg.partition(",")
    value, tail = value.strip(), tail.strip()
    if tail and not (len(tail) >= 4 and "permanently".startswith(tail)):
        raise syntax_error()
    if sub == "more" and value in ("1", "0"):       # old do-files' `set more 1`: a no-op here
        value = "on" if value == "1" else "off"
    if value not in ("on", "off"):
        raise syntax_error()
    session.settings[sub] = value


# ----------------------------------------------------------------------------- preserve / restore
@command("preserve", byable=False, qualifiers="",
          family="Data management", body="none", desc="preserve the data", example="preserve",
          options=(Opt("changed", desc="accepted for Stata compatibility"),))
def preserve_cmd(session, cmd):
    typed_args(cmd)
    if session.preserved is not None:
        raise StataError("already preserved", 621)
    session.preserved = session.data.copy()


@command("restore", byable=False, qualifiers="",
          family="Data management", body="none", desc="restore the preserved data", example="restore",
          options=(Opt("not", desc="cancel the preserve without restoring"),
                   Opt("preserve", desc="restore the data and keep it preserved")))
def restore_cmd(session, cmd):
    opts = typed_args(cmd)
    if session.preserved is None:
        raise StataError("nothing to restore", 622)
    if getattr(opts, "not"):       # `not` is a Python keyword
        session.preserved = None
        return
    session.data = session.preserved.copy()
    if not opts.preserve:
        session.preserved = None


# ----------------------------------------------------------------------------- compress
_SIZE = {"byte": 1, "int": 2, "long": 4, "float": 4, "double": 8}


@command("compress", byable=False, qualifiers="",
          family="Data management", body="varlist", desc="store variables in the smallest types", example="compress",
          options=(Opt("nocoalesce", desc="accepted for Stata compatibility"),))
def compress_cmd(session, cmd):
    typed_args(cmd)
    ds = session.data
    names = varlist(session, cmd.body)
    saved = 0
    for nm in names:
        v = ds.vars[nm]
        if v.is_string:
            w = max((len(s.encode("utf-8")) for s in v.values), default=1)
            cur = int(v.vtype[3:]) if v.vtype[3:].isdigit() else None
            if cur and max(w, 1) < cur:
                new = f"str{max(w, 1)}"
                session.out.line(f"  variable {nm} was {v.vtype} now {new}")
                saved += (cur - max(w, 1)) * ds.n
                fmt = v.format
                if v.format == f"%{cur}s":
                    fmt = f"%{max(w, 1)}s"
                elif v.format == f"%-{cur}s":
                    fmt = f"%-{max(w, 1)}s"
                ds.vars[nm] = v.evolve(vtype=new, format=fmt)
            continue
        x = v.values[~np.isnan(v.values)]
        new = v.vtype
        if x.size == 0 or np.all(x == np.round(x)):
            for t in ("byte", "int", "long"):
                lo, hi = INT_LIMITS[t]
                if x.size == 0 or (x.min() >= lo and x.max() <= hi):
                    new = t
                    break
        elif v.vtype == "double" and np.all(x.astype(np.float32).astype(np.float64) == x):
            new = "float"
        if _SIZE.get(new, 8) < _SIZE.get(v.vtype, 8):
            session.out.line(f"  variable {nm} was {v.vtype} now {new}")
            saved += (_SIZE[v.vtype] - _SIZE[new]) * ds.n
            old_default = {"byte": "%8.0g", "int": "%8.0g", "long": "%12.0g", "float": "%9.0g",
                           "double": "%10.0g"}
            fmt = old_default[new] if v.format == old_default.get(v.vtype) else v.format
            ds.vars[nm] = v.evolve(vtype=new, format=fmt)
    if saved:
        ds.changed = True
    session.out.line(f"  ({fmt_count(saved)} bytes saved)")
