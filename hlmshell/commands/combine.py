"""merge, append, collapse — putting datasets together and aggregating them."""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.commands.files import split_using
from hlmshell.commands.generate import store
from hlmshell.commands._toolkit import check_name, percentile, sort_keys, touse, varlist, weights
from hlmshell.commands.generate import strict_args
from hlmshell.registry import Args, Opt, abbrev_match, command
from hlmshell.data.dataset import Dataset, Variable, to_storage
from hlmshell.data.dta import read_dta
from hlmshell.data.locate import find_data
from hlmshell.data.missing import order_key
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt_count

_RANK = {"byte": 0, "int": 1, "long": 2, "float": 3, "double": 4}


def wider_type(a: str, b: str) -> str:
    """Storage type that holds values of both numeric types (long with float -> double)."""
    if a == b:
        return a
    if {a, b} == {"long", "float"}:
        return "double"
    return a if _RANK[a] >= _RANK[b] else b


def _str_type(a: str, b: str) -> str:
    if a == "strL" or b == "strL":
        return "strL"
    return f"str{max(int(a[3:]), int(b[3:]))}"


def _key_tuples(ds: Dataset, keys: list[str]) -> list[tuple]:
    cols = []
    for k in keys:
        v = ds.vars[k]
        if v.is_string:
            cols.append(list(v.values))
        else:
            cols.append(order_key(v.values).tolist())
    return list(zip(*cols)) if cols else [()] * ds.n


def _check_keys(master: Dataset, using: Dataset, keys: list[str]) -> None:
    for k in keys:
        if k not in using:
            raise StataError(f"variable {k} not found", 111)
        if master.vars[k].is_string != using.vars[k].is_string:
            kind = "str" if using.vars[k].is_string else "numeric"
            raise StataError(f"key variable {k} is {kind} in using data", 106)


_MERGE_LABELS = {1.0: "Master only (1)", 2.0: "Using only (2)", 3.0: "Matched (3)",
                 4.0: "Missing updated (4)", 5.0: "Nonmissing conflict (5)"}


def _parse_keep(text: str | None) -> set[int] | None:
    if not text:
        return None
    out = set()
    words = {"master": 1, "using": 2, "match": 3, "match_update": 4, "match_conflict": 5}
    for w in text.replace(",", " ").split():
        if w.isdigit() and 1 <= int(w) <= 5:
            out.add(int(w))
            continue
        hit = [words[w]] if w in words else [v for k, v in words.items()
                                              if abbrev_match(w, k, 3)]
        if len(hit) != 1:
            raise StataError(f"keep({text}) invalid", 198)
        out.add(hit[0])
    if 3 in out:
        out |= {4, 5}
    return out


@command("merge", byable=False, qualifiers="",
          family="Data management", body="anything", using="required", desc="merge datasets", example="merge m:1 id using schools",
          options=(Opt("keep", type="string", desc="results to keep: master, using, match, match_update, match_conflict"),
                   Opt("nogenerate", "nogen", desc="do not create the _merge variable"),
                   Opt("generate", "gen", "name", desc="name of the variable marking the source of each observation"),
                   Opt("keepusing", "keepus", type="varlist", desc="variables to keep from the using data"),
                   Opt("update", desc="update missing values of same-named variables"),
                   Opt("replace", desc="with update, replace nonmissing values too"),
                   Opt("nolabel", "nol", desc="do not copy value labels from the using data"),
                   Opt("nonotes", desc="do not copy notes from the using data"),
                   Opt("noreport", desc="do not display the match results table"),
                   Opt("sorted", desc="accepted for compatibility (data are sorted as needed)"),
                   Opt("assert", type="string", desc="require merge results (same words as keep())"),
                   # Stata 10's syntax (`merge keyvars using file`) and its options
                   Opt("sort", desc="old syntax: sort both datasets first (done as needed)"),
                   Opt("nokeep", desc="old syntax: drop using observations that do not match"),
                   Opt("unique", desc="old syntax: the keys identify observations in both datasets"),
                   Opt("uniqmaster", desc="old syntax: the keys identify observations in the master"),
                   Opt("uniqusing", desc="old syntax: the keys identify observations in the using data")))
def merge_cmd(session, cmd):
    opts = strict_args(cmd)
    kind, keys, fname = _merge_spec(session, cmd.body)
    old_opts = [n for n in ("sort", "nokeep", "unique", "uniqmaster", "uniqusing") if getattr(opts, n)]
    if old_opts and kind != "old":
        raise StataError(f"option {old_opts[0]} not allowed", 198)
    master = session.data
    using = read_dta(find_data(fname))
    _check_keys(master, using, keys)
    gen = _merge_variable(master, opts)
    mkeys, ukeys = _key_tuples(master, keys), _key_tuples(using, keys)
    if kind == "old":
        kind = _old_kind(mkeys, ukeys, keys, opts)
        session.out.line("(you are using old merge syntax; see [D] merge for new syntax)")
        if opts.nokeep:
            opts = Args(tuple(opts._specs.values()), {**opts.given, "keep": "master match"})
    _check_unique(kind, keys, mkeys, "master")
    _check_unique(kind, keys, ukeys, "using")
    uvars = _using_vars(session, using, keys, opts.keepusing)
    mi, ui = _pair_rows(mkeys, ukeys, using.n)
    res, code = _merged(master, using, keys, uvars, mi, ui, opts)
    code = _finish_merge(res, code, keys, gen, opts)
    session.data = res
    if not opts.noreport:
        _report(session, code, gen or "_merge", opts.update)


def _merge_spec(session, body_text: str) -> tuple[str, list[str], str]:
    """`1:1|m:1|1:m keyvars using file` -> (kind, key variables, file)."""
    body, fname = split_using(body_text)
    if fname is None:
        raise StataError("using required", 100)
    m = re.match(r"\s*(1:1|m:1|1:m|m:m)\s+(.*)$", body)
    if not m and body.strip() and ":" not in body:
        # Stata 10's `merge keyvars using file`: 1:1, 1:m or m:1 as the keys' uniqueness says
        keys = varlist(session, body, all_if_empty=False)
        return "old", keys, fname
    if not m:
        raise StataError("invalid syntax", 198) if body else StataError("varlist required", 100)
    keys = varlist(session, m.group(2), all_if_empty=False)
    if not keys:
        raise StataError("varlist required", 100)
    if m.group(1) == "m:m":
        raise StataError("merge m:m is not supported; use 1:1, m:1 or 1:m", 198)
    return m.group(1), keys, fname


def _old_kind(mkeys, ukeys, keys: list[str], opts) -> str:
    m_unique, u_unique = len(set(mkeys)) == len(mkeys), len(set(ukeys)) == len(ukeys)
    for side, flag, unique in (("master", "uniqmaster", m_unique), ("using", "uniqusing", u_unique)):
        if (getattr(opts, flag) or opts.unique) and not unique:
            raise StataError(f"variable{'s' if len(keys) > 1 else ''} {' '.join(keys)} do"
                             f"{'' if len(keys) > 1 else 'es'} not uniquely identify observations "
                             f"in the {side} data", 459)
    if m_unique:
        return "1:1" if u_unique else "1:m"
    if u_unique:
        return "m:1"
    raise StataError(f"variable{'s' if len(keys) > 1 else ''} {' '.join(keys)} do not uniquely "
                     "identify observations in either the master or the using data", 459)


def _merge_variable(master: Dataset, opts: Args) -> str | None:
    """The name of the _merge variable (None with nogenerate), checked new."""
    gen = None if opts.nogenerate else "_merge"
    if opts.generate:
        gen = opts.generate
        check_name(gen)
    if gen and gen in master:
        raise StataError(f"variable {gen} already defined", 110)
    return gen


def _check_unique(kind: str, keys: list[str], tuples: list[tuple], side: str) -> None:
    """The `1` side of 1:1/m:1/1:m: its keys must identify its observations."""
    one_side = ("1:1", "1:m") if side == "master" else ("1:1", "m:1")
    if kind in one_side and len(set(tuples)) != len(tuples):
        raise StataError(f"variable{'s' if len(keys) > 1 else ''} {' '.join(keys)} do"
                         f"{'' if len(keys) > 1 else 'es'} not uniquely identify observations "
                         f"in the {side} data", 459)


def _using_vars(session, using: Dataset, keys: list[str], keepusing: list[str] | None) -> list[str]:
    """The using data's variables to bring in: all but the keys, or keepusing()'s."""
    uvars = [n for n in using.names if n not in keys]
    if keepusing:
        tmp = session.data
        session.data = using
        try:
            wanted = varlist(session, " ".join(keepusing))
        finally:
            session.data = tmp
        uvars = [n for n in uvars if n in wanted]
    return uvars


def _pair_rows(mkeys: list[tuple], ukeys: list[tuple], n_using: int):
    """Row pairs of the result: (master row, using row), -1 where a side has none; master
    order first, unmatched using rows after."""
    uindex: dict[tuple, list[int]] = {}
    for j, k in enumerate(ukeys):
        uindex.setdefault(k, []).append(j)
    pairs: list[tuple[int, int]] = []
    used = set()
    for i, k in enumerate(mkeys):
        js = uindex.get(k)
        if js:
            for j in js:
                pairs.append((i, j))
                used.add(j)
        else:
            pairs.append((i, -1))
    pairs += [(-1, j) for j in range(n_using) if j not in used]
    return (np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.int64))


def _take(var: Variable, idx: np.ndarray) -> np.ndarray:
    """var's values at rows idx (missing / "" where idx is -1)."""
    src = var.values
    if var.is_string:
        return np.array([src[i] if i >= 0 else "" for i in idx], dtype=object)
    return np.where(idx >= 0, src[np.maximum(idx, 0)] if len(src) else np.nan, np.nan)


def _update(vals, other, string: bool, mi, ui, code, replace: bool):
    """update: fill the master's missing values from using (code 4), note conflicts (code 5,
    and take using's value with replace)."""
    both = (mi >= 0) & (ui >= 0)
    mmiss = (vals == "") if string else np.isnan(vals.astype(float))
    umiss = (other == "") if string else np.isnan(other.astype(float))
    fill = both & mmiss & ~umiss
    differ = both & ~mmiss & ~umiss & (vals != other)
    vals = np.where(fill, other, vals)
    code = np.where(fill & (code == 3), 4.0, code)
    code = np.where(differ, 5.0, code)
    if replace:
        vals = np.where(differ, other, vals)
    return vals, code


def _shared_var(nm, v, u, is_key: bool, mi, ui, code, opts):
    """A variable in both datasets: master's values, using's where only using has the row
    (and under update); returns the result's Variable and the updated codes."""
    if v.is_string != u.is_string:
        if is_key:
            raise StataError(f"key variable {nm} is str in using data", 106)
        vt = v.vtype
    else:
        vt = _str_type(v.vtype, u.vtype) if v.is_string else wider_type(v.vtype, u.vtype)
    vals = _take(v, mi)
    if v.is_string == u.is_string:
        other = _take(u, ui)
        vals = np.where(mi < 0, other, vals)
        if not is_key and opts.update:
            vals, code = _update(vals, other, v.is_string, mi, ui, code, opts.replace)
    return Variable(nm, vals if v.is_string else to_storage(vals, vt), vt, v.format, v.label,
                    v.vallab), code


def _merged(master, using, keys, uvars, mi, ui, opts: Args):
    """The merged dataset (unsorted) and each row's _merge code."""
    code = np.where(mi < 0, 2.0, np.where(ui < 0, 1.0, 3.0))
    res = Dataset(value_labels=dict(master.value_labels), label=master.label,
                  filename=master.filename)
    if not opts.nolabel:
        for k, t in using.value_labels.items():
            res.value_labels.setdefault(k, dict(t))
    for nm in master.names:
        v = master.vars[nm]
        if nm in keys or nm in uvars:
            res.vars[nm], code = _shared_var(nm, v, using.vars[nm], nm in keys, mi, ui, code, opts)
        else:
            res.vars[nm] = Variable(nm, _take(v, mi), v.vtype, v.format, v.label, v.vallab)
    for nm in uvars:
        if nm not in res.vars:
            u = using.vars[nm]
            res.vars[nm] = Variable(nm, _take(u, ui), u.vtype, u.format, u.label,
                                    None if opts.nolabel else u.vallab)
    res._n = len(mi)
    return res, code


def _finish_merge(res: Dataset, code: np.ndarray, keys: list[str], gen: str | None,
                  opts: Args) -> np.ndarray:
    """assert() and keep() on the codes, the _merge variable, sorted by the keys; returns the
    codes of the rows kept, in the final order."""
    keep = _parse_keep(opts.keep)
    required = getattr(opts, "assert")          # a Python keyword, so not opts.assert
    if required:
        allowed = _parse_keep(required)
        if not set(np.unique(code).astype(int)) <= allowed:
            raise StataError("merge:  after merge, not all observations from master or match", 9)
    if keep is not None:
        sel = np.isin(code.astype(int), list(keep))
        res.vars = {k: v.evolve(values=v.values[sel]) for k, v in res.vars.items()}
        code = code[sel]
        res._n = int(sel.sum())
    if gen:
        res.vars[gen] = Variable(gen, code.copy(), "byte", vallab=gen)
        res.value_labels[gen] = dict(_MERGE_LABELS)
    perm = sort_keys(res, keys)
    res.vars = {k: v.evolve(values=v.values[perm]) for k, v in res.vars.items()}
    res.sortedby = list(keys)
    res.changed = True
    return code[perm]


def _report(session, code: np.ndarray, gen: str, update: bool) -> None:
    out = session.out
    n = {k: int(np.count_nonzero(code == k)) for k in (1, 2, 3, 4, 5)}

    def row(label, value, tag=""):
        out.line(f"    {label:<28}{fmt_count(value):>13}{'  ' + tag if tag else ''}")

    out.line()
    out.line("    Result                      Number of obs")
    out.line("    " + "-" * 41)
    row("Not matched", n[1] + n[2])
    if n[1] + n[2]:
        row("    from master", n[1], f"({gen}==1)")
        row("    from using", n[2], f"({gen}==2)")
        out.line()
    if update:
        row("Matched", n[3] + n[4] + n[5])
        row("    not updated", n[3], f"({gen}==3)")
        row("    missing updated", n[4], f"({gen}==4)")
        row("    nonmissing conflict", n[5], f"({gen}==5)")
    else:
        row("Matched", n[3], f"({gen}==3)")
    out.line("    " + "-" * 41)


# ----------------------------------------------------------------------------- append
@command("append", byable=False, qualifiers="",
          family="Data management", body="anything", using="required", desc="append datasets", example="append using more",
          options=(Opt("generate", "gen", "name", desc="new variable marking the source of each observation (0 = master)"),
                   Opt("keep", type="varlist", desc="variables to keep from the using data"),
                   Opt("nolabel", "nol", desc="do not copy value labels from the using data"),
                   Opt("nonotes", desc="do not copy notes from the using data"),
                   Opt("force", desc="append string to numeric or numeric to string without error")))
def append_cmd(session, cmd):
    opts = strict_args(cmd)
    body, files = split_using(cmd.body, many=True)
    if files is None or body or not files:
        raise StataError("using required", 100) if not files else syntax_error()
    master = session.data
    gen = opts.generate
    if gen:
        check_name(gen)
        if gen in master:
            raise StataError(f"variable {gen} already defined", 110)
    res = master.copy()
    msgs: list[str] = []
    source = [np.zeros(master.n)]
    for k, f in enumerate(files, start=1):
        using = _appended_file(session, f, opts.keep)
        _append_one(res, using, opts, msgs)
        source.append(np.full(using.n, float(k)))
    if gen:
        res.vars[gen] = Variable(gen, np.concatenate(source), "byte")
    res.sortedby = []
    res.changed = True
    session.data = res
    for m in msgs:
        session.out.line(m)


def _appended_file(session, f, keep: list[str] | None) -> Dataset:
    """One using file, cut to keep()'s variables."""
    using = read_dta(find_data(f))
    if keep:
        tmp = session.data
        session.data = using
        try:
            keepv = varlist(session, " ".join(keep))
        finally:
            session.data = tmp
        using.vars = {n: v for n, v in using.vars.items() if n in keepv}
    return using


def _missing(n: int, string: bool) -> np.ndarray:
    return np.full(n, "", dtype=object) if string else np.full(n, np.nan)


def _appended_values(nm: str, v: Variable, u: Variable | None, n1: int, force: bool,
                     msgs: list[str]) -> tuple[np.ndarray, str]:
    """What one master variable gets below it from the using data (missing where using
    lacks it), and its storage type widened to hold both (noted in msgs)."""
    if u is None:
        return _missing(n1, v.is_string), v.vtype
    if v.is_string != u.is_string:
        if not force:
            raise StataError(f"variable {nm} is {v.vtype} in master but {u.vtype} in using data", 106)
        return _missing(n1, v.is_string), v.vtype
    nt = _str_type(v.vtype, u.vtype) if v.is_string else wider_type(v.vtype, u.vtype)
    if nt != v.vtype:
        msgs.append(f"(variable {nm} was {v.vtype}, now {nt} to accommodate using data's values)")
    return (u.values if v.is_string else to_storage(u.values, nt)), nt


def _append_one(res: Dataset, using: Dataset, opts: Args, msgs: list[str]) -> None:
    """Add using's observations below res's (in place): shared variables widened, the
    others padded with missing values, value labels merged unless nolabel."""
    n0, n1 = res.n, using.n
    for nm in res.names:
        v = res.vars[nm]
        add, vtype = _appended_values(nm, v, using.vars.get(nm) if nm in using else None, n1,
                                      opts.force, msgs)
        res.vars[nm] = v.evolve(values=np.concatenate([v.values, add]), vtype=vtype)
    for nm in using.names:
        if nm in res.vars:
            continue
        u = using.vars[nm]
        res.vars[nm] = Variable(nm, np.concatenate([_missing(n0, u.is_string), u.values]), u.vtype,
                                u.format, u.label, None if opts.nolabel else u.vallab)
    if not opts.nolabel:
        for lk, t in using.value_labels.items():
            res.value_labels.setdefault(lk, dict(t))
    res._n = n0 + n1


# ----------------------------------------------------------------------------- collapse
_STATS = {"mean", "median", "sd", "sum", "rawsum", "count", "min", "max", "first", "last",
          "firstnm", "lastnm", "iqr", "semean", "percent"}


def _parse_collapse(text: str) -> list[tuple[str, str, str]]:
    """'(mean) a b=c (sd) d' -> [(stat, target, source), ...]."""
    toks = re.findall(r"\([^)]*\)|[^\s=]+\s*=\s*[^\s=]+|\S+", text)
    stat = "mean"
    out = []
    for t in toks:
        if t.startswith("("):
            stat = t[1:-1].strip()
            if stat not in _STATS and not re.fullmatch(r"p([1-9]|[1-9][0-9])", stat):
                raise StataError(f"({stat}) invalid statistic", 198)
            continue
        if "=" in t:
            a, b = (s.strip() for s in t.split("=", 1))
            out.append((stat, a, b))
        else:
            out.append((stat, "", t))
    return out


def _count_stat(stat: str, x, xv, wv) -> float:
    """Statistics defined on an empty group too: count, first/last (nonmissing), sums."""
    n = len(xv)
    if stat == "count":
        return float(n if wv is None else wv.sum())
    if stat in ("first", "last"):
        return float(x[0] if stat == "first" else x[-1]) if len(x) else math.nan
    if stat == "firstnm":
        return float(xv[0]) if n else math.nan
    if stat == "lastnm":
        return float(xv[-1]) if n else math.nan
    return float(np.sum(xv * wv) if (wv is not None and stat == "sum") else np.sum(xv))


def _moment_stat(stat: str, xv, wv) -> float:
    """mean, sd, semean (weighted as Stata's collapse), min, max of nonmissing values."""
    n = len(xv)
    if stat == "mean":
        return float(np.sum(xv * wv) / np.sum(wv)) if wv is not None else float(np.mean(xv))
    if stat in ("sd", "semean"):
        if n < 2:
            return math.nan
        if wv is None:
            sd = float(np.std(xv, ddof=1))
        else:
            m = np.sum(xv * wv) / np.sum(wv)
            sd = float(math.sqrt(np.sum(wv * (xv - m) ** 2) / np.sum(wv) * n / (n - 1)))
        return sd / math.sqrt(n) if stat == "semean" else sd
    return float(np.min(xv) if stat == "min" else np.max(xv))


def _order_stat(stat: str, xv) -> float:
    """median, iqr and pNN (unweighted, as summarize's percentiles)."""
    xs = np.sort(xv)
    if stat == "median":
        return percentile(xs, 50)
    if stat == "iqr":
        return percentile(xs, 75) - percentile(xs, 25)
    return percentile(xs, float(stat[1:]))


_COUNT_STATS = ("count", "first", "last", "firstnm", "lastnm", "sum", "rawsum")
_MOMENT_STATS = ("mean", "sd", "semean", "min", "max")


def _stat(stat: str, x: np.ndarray, w: np.ndarray | None) -> float:
    ok = ~np.isnan(x)
    xv = x[ok]
    wv = w[ok] if w is not None else None
    if stat in _COUNT_STATS:
        return _count_stat(stat, x, xv, wv)
    if len(xv) == 0:
        return math.nan
    if stat in _MOMENT_STATS:
        return _moment_stat(stat, xv, wv)
    if stat in ("median", "iqr") or stat.startswith("p"):
        return _order_stat(stat, xv)
    raise StataError(f"({stat}) invalid statistic", 198)


def _collapse_items(session, specs, byv: list[str]) -> list[tuple[str, str, str]]:
    """(stat, target, source) for every result collapse makes; names checked (a target twice
    is `name conflict`, a target among the by() variables r(110), a string source r(109))."""
    items = []
    for stat, target, src in specs:
        srcs = varlist(session, src, all_if_empty=False)
        if target:
            if len(srcs) != 1:
                raise syntax_error()
            check_name(target)
            items.append((stat, target, srcs[0]))
        else:
            items.extend((stat, s, s) for s in srcs)
    targets = [t for _, t, _ in items]
    if len(set(targets)) != len(targets):
        raise StataError("name conflict", 198)
    for t in targets:
        if t in byv:
            raise StataError(f"variable {t} already defined", 110)
    for _, _, s in items:
        if session.data.vars[s].is_string:
            raise StataError("type mismatch", 109)
    return items


_KEEPS_TYPE = ("min", "max", "first", "last", "firstnm", "lastnm")


def _collapsed_var(stat: str, target: str, src: str, v: Variable, vals: np.ndarray,
                   weighted: bool) -> Variable:
    """The variable holding one statistic per group, in the storage type Stata gives it
    (a value that overflows it, 1e308 summed, say, is missing)."""
    if stat == "count":
        vt = "double" if weighted else "long"
    elif stat in _KEEPS_TYPE:
        vt = v.vtype
    else:
        vt = "double" if v.vtype == "double" or stat in ("sum", "rawsum") and v.vtype != "float" else "float"
    fmt = v.format if stat != "count" and vt == v.vtype else ""
    return Variable(target, store(vals, vt), vt, fmt, f"({stat}) {v.label or src}"[:80],
                    v.vallab if stat in _KEEPS_TYPE else None)


@command("collapse", exp=False, byable=False,
          family="Data management", body="anything", desc="make a dataset of summary statistics", example="collapse (mean) mathach ses, by(id)", options=(Opt("by", type="varlist", desc="groups over which the statistics are calculated"),
                   Opt("cw", desc="casewise deletion: drop observations missing any source variable"),
                   Opt("fast", desc="accepted for compatibility (no preserve is made)")))
def collapse_cmd(session, cmd):
    opts = strict_args(cmd)
    ds = session.data
    specs = _parse_collapse(cmd.body)
    if not specs:
        raise StataError("varlist required", 100)
    byv = varlist(session, " ".join(opts.by or ()), all_if_empty=False)
    items = _collapse_items(session, specs, byv)
    mask, w = _collapse_sample(session, cmd, items, opts.cw)
    sub, wsub, bounds = _collapse_groups(ds, mask, w, byv)
    res = Dataset(value_labels={k: dict(v) for k, v in ds.value_labels.items()}, label=ds.label)
    for b in byv:
        v = sub.vars[b]
        res.vars[b] = Variable(b, v.values[[s for s, _ in bounds]], v.vtype, v.format, v.label, v.vallab)
    for stat, target, src in items:
        vals = np.array([_stat(stat, sub.vars[src].values[a:e], wsub[a:e] if wsub is not None else None)
                         for a, e in bounds])
        res.vars[target] = _collapsed_var(stat, target, src, sub.vars[src], vals, w is not None)
    res._n = len(bounds)
    res.sortedby = list(byv)
    res.changed = True
    session.data = res


def _collapse_sample(session, cmd, items, cw: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The observations collapse uses (if/in, nonmissing weights, with cw nonmissing sources)
    and the weights."""
    mask = touse(session, cmd)
    w = None
    if cmd.weight is not None:
        w = weights(session, cmd, mask, allowed=("fweight", "aweight", "iweight", "pweight"))
        mask &= ~np.isnan(w)
    if cw:
        for _, _, s in items:
            mask &= ~np.isnan(session.data.vars[s].values)
    return mask, w


def _collapse_groups(ds, mask, w, byv):
    """The sample sorted by the by() variables: (data, weights, (start, end) of each group);
    no observations is r(2000)."""
    idx = np.flatnonzero(mask)
    sub = ds.copy()
    sub.take(mask)
    wsub = w[idx] if w is not None else None
    if byv:
        perm = sort_keys(sub, byv)
        sub.take(perm)
        if wsub is not None:
            wsub = wsub[perm]
        tup = _key_tuples(sub, byv)
        starts = [0] + [i for i in range(1, sub.n) if tup[i] != tup[i - 1]] if sub.n else []
    else:
        starts = [0] if sub.n else []
    if not starts:
        raise StataError("no observations", 2000)
    return sub, wsub, list(zip(starts, starts[1:] + [sub.n]))
