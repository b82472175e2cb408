"""merge, append, collapse — putting datasets together and aggregating them."""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.commands.files import split_using
from hlmshell.commands.generate import store
from hlmshell.commands.inspect import _pctile, touse, varlist
from hlmshell.commands.manage import check_name, sort_keys
from hlmshell.commands.options import OptionSpec
from hlmshell.commands.registry import command
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
                                              if k.startswith(w) and len(w) >= 3]
        if len(hit) != 1:
            raise StataError(f"keep({text}) invalid", 198)
        out.add(hit[0])
    if 3 in out:
        out |= {4, 5}
    return out


@command("merge", byable=False, qualifiers="")
def merge_cmd(session, cmd):
    opts = OptionSpec("keep= nogenerate(nogen) generate(gen)= keepusing= update replace nolabel "
                      "nonotes noreport sorted assert=").parse(cmd.options)
    body, fname = split_using(cmd.body)
    if fname is None:
        raise StataError("using required", 100)
    m = re.match(r"\s*(1:1|m:1|1:m|m:m)\s+(.*)$", body)
    if not m:
        raise StataError("invalid syntax", 198) if body else StataError("varlist required", 100)
    kind, keytext = m.group(1), m.group(2)
    master = session.data
    keys = varlist(session, keytext, all_if_empty=False)
    if not keys:
        raise StataError("varlist required", 100)
    if kind == "m:m":
        raise StataError("merge m:m is not supported; use 1:1, m:1 or 1:m", 198)
    using = read_dta(find_data(fname))
    _check_keys(master, using, keys)
    gen = "_merge" if "nogenerate" not in opts else None
    if opts.get("generate"):
        gen = opts["generate"].strip()
        check_name(gen)
    if gen and gen in master:
        raise StataError(f"variable {gen} already defined", 110)
    mkeys, ukeys = _key_tuples(master, keys), _key_tuples(using, keys)
    if kind in ("1:1", "1:m") and len(set(mkeys)) != len(mkeys):
        raise StataError(f"variable{'s' if len(keys) > 1 else ''} {' '.join(keys)} do"
                         f"{'' if len(keys) > 1 else 'es'} not uniquely identify observations "
                         "in the master data", 459)
    if kind in ("1:1", "m:1") and len(set(ukeys)) != len(ukeys):
        raise StataError(f"variable{'s' if len(keys) > 1 else ''} {' '.join(keys)} do"
                         f"{'' if len(keys) > 1 else 'es'} not uniquely identify observations "
                         "in the using data", 459)
    uvars = [n for n in using.names if n not in keys]
    if opts.get("keepusing"):
        tmp = session.data
        session.data = using
        try:
            wanted = varlist(session, opts["keepusing"])
        finally:
            session.data = tmp
        uvars = [n for n in uvars if n in wanted]
    # pair observations
    uindex: dict[tuple, list[int]] = {}
    for j, k in enumerate(ukeys):
        uindex.setdefault(k, []).append(j)
    pairs: list[tuple[int, int]] = []       # (master row or -1, using row or -1)
    used = set()
    for i, k in enumerate(mkeys):
        js = uindex.get(k)
        if js:
            for j in js:
                pairs.append((i, j))
                used.add(j)
        else:
            pairs.append((i, -1))
    for j in range(using.n):
        if j not in used:
            pairs.append((-1, j))
    mi = np.array([p[0] for p in pairs], dtype=np.int64)
    ui = np.array([p[1] for p in pairs], dtype=np.int64)
    code = np.where(mi < 0, 2.0, np.where(ui < 0, 1.0, 3.0))
    # build the result
    res = Dataset(value_labels=dict(master.value_labels), label=master.label,
                  filename=master.filename)
    if "nolabel" not in opts:
        for k, t in using.value_labels.items():
            res.value_labels.setdefault(k, dict(t))

    def take(var: Variable, idx: np.ndarray, vtype: str) -> np.ndarray:
        src = var.values
        if var.is_string:
            out = np.array([src[i] if i >= 0 else "" for i in idx], dtype=object)
        else:
            out = np.where(idx >= 0, src[np.maximum(idx, 0)] if len(src) else np.nan, np.nan)
        return out

    for nm in master.names:
        v = master.vars[nm]
        if nm in keys or nm in uvars:
            u = using.vars[nm]
            if v.is_string != u.is_string:
                if nm in keys:
                    raise StataError(f"key variable {nm} is str in using data", 106)
                vt = v.vtype
            else:
                vt = _str_type(v.vtype, u.vtype) if v.is_string else wider_type(v.vtype, u.vtype)
            vals = take(v, mi, vt)
            other = take(u, ui, vt) if v.is_string == u.is_string else None
            if other is not None:
                from_using = mi < 0
                if nm in keys:
                    vals = np.where(from_using, other, vals)
                else:
                    vals = np.where(from_using, other, vals)
                    if "update" in opts:
                        both = (mi >= 0) & (ui >= 0)
                        mmiss = (vals == "") if v.is_string else np.isnan(vals.astype(float))
                        umiss = (other == "") if v.is_string else np.isnan(other.astype(float))
                        fill = both & mmiss & ~umiss
                        differ = both & ~mmiss & ~umiss & (vals != other)
                        vals = np.where(fill, other, vals)
                        code = np.where(fill & (code == 3), 4.0, code)
                        code = np.where(differ, 5.0, code)
                        if "replace" in opts:
                            vals = np.where(differ, other, vals)
            res.vars[nm] = Variable(nm, vals if v.is_string else to_storage(vals, vt), vt,
                                    v.format, v.label, v.vallab)
        else:
            res.vars[nm] = Variable(nm, take(v, mi, v.vtype), v.vtype, v.format, v.label, v.vallab)
    for nm in uvars:
        if nm in res.vars:
            continue
        u = using.vars[nm]
        res.vars[nm] = Variable(nm, take(u, ui, u.vtype), u.vtype, u.format, u.label,
                                None if "nolabel" in opts else u.vallab)
    if "update" in opts:
        # code 3 stays 3 only where all shared variables agree; 4/5 already set
        pass
    res._n = len(pairs)
    keep = _parse_keep(opts.get("keep"))
    if opts.get("assert"):
        allowed = _parse_keep(opts["assert"])
        if not set(np.unique(code).astype(int)) <= allowed:
            raise StataError("merge:  after merge, not all observations from master or match", 9)
    if keep is not None:
        sel = np.isin(code.astype(int), list(keep))
        for v in res.vars.values():
            v.values = v.values[sel]
        code = code[sel]
        res._n = int(sel.sum())
    if gen:
        res.vars[gen] = Variable(gen, code.copy(), "byte")
        res.value_labels[gen] = dict(_MERGE_LABELS)
        res.vars[gen].vallab = gen
    perm = sort_keys(res, keys)
    for v in res.vars.values():
        v.values = v.values[perm]
    code = code[perm]
    res.sortedby = list(keys)
    res.changed = True
    session.data = res
    if "noreport" not in opts:
        _report(session, code, gen or "_merge", "update" in opts)


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
@command("append", byable=False, qualifiers="")
def append_cmd(session, cmd):
    opts = OptionSpec("generate(gen)= keep= nolabel nonotes force").parse(cmd.options)
    body, files = split_using(cmd.body, many=True)
    if files is None or body or not files:
        raise StataError("using required", 100) if not files else syntax_error()
    master = session.data
    gen = opts.get("generate")
    if gen:
        gen = gen.strip()
        check_name(gen)
        if gen in master:
            raise StataError(f"variable {gen} already defined", 110)
    res = master.copy()
    msgs = []
    source = [np.zeros(master.n)]
    for k, f in enumerate(files, start=1):
        using = read_dta(find_data(f))
        if opts.get("keep"):
            tmp = session.data
            session.data = using
            try:
                keepv = varlist(session, opts["keep"])
            finally:
                session.data = tmp
            using.vars = {n: v for n, v in using.vars.items() if n in keepv}
        n0, n1 = res.n, using.n
        for nm in res.names:
            v = res.vars[nm]
            if nm in using:
                u = using.vars[nm]
                if v.is_string != u.is_string:
                    if "force" not in opts:
                        raise StataError(f"variable {nm} is {v.vtype} in master but {u.vtype} in "
                                         "using data", 106)
                    add = np.full(n1, "", dtype=object) if v.is_string else np.full(n1, np.nan)
                else:
                    add = u.values
                    if v.is_string:
                        nt = _str_type(v.vtype, u.vtype)
                        if nt != v.vtype:
                            msgs.append(f"(variable {nm} was {v.vtype}, now {nt} to accommodate "
                                        "using data's values)")
                            v.vtype = nt
                    else:
                        nt = wider_type(v.vtype, u.vtype)
                        if nt != v.vtype:
                            msgs.append(f"(variable {nm} was {v.vtype}, now {nt} to accommodate "
                                        "using data's values)")
                            v.vtype = nt
                        add = to_storage(add, nt)
            else:
                add = np.full(n1, "", dtype=object) if v.is_string else np.full(n1, np.nan)
            v.values = np.concatenate([v.values, add])
        for nm in using.names:
            if nm in res.vars:
                continue
            u = using.vars[nm]
            pad = np.full(n0, "", dtype=object) if u.is_string else np.full(n0, np.nan)
            res.vars[nm] = Variable(nm, np.concatenate([pad, u.values]), u.vtype, u.format,
                                    u.label, None if "nolabel" in opts else u.vallab)
        if "nolabel" not in opts:
            for lk, t in using.value_labels.items():
                res.value_labels.setdefault(lk, dict(t))
        res._n = n0 + n1
        source.append(np.full(n1, float(k)))
    if gen:
        res.vars[gen] = Variable(gen, np.concatenate(source), "byte")
    res.sortedby = []
    res.changed = True
    session.data = res
    for m in msgs:
        session.out.line(m)


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


def _stat(stat: str, x: np.ndarray, w: np.ndarray | None) -> float:
    ok = ~np.isnan(x)
    xv = x[ok]
    wv = w[ok] if w is not None else None
    n = len(xv)
    if stat == "count":
        return float(n if wv is None else wv.sum())
    if stat in ("first", "last"):
        return float(x[0] if stat == "first" else x[-1]) if len(x) else math.nan
    if stat == "firstnm":
        return float(xv[0]) if n else math.nan
    if stat == "lastnm":
        return float(xv[-1]) if n else math.nan
    if stat in ("sum", "rawsum"):
        return float(np.sum(xv * wv) if (wv is not None and stat == "sum") else np.sum(xv))
    if n == 0:
        return math.nan
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
    if stat == "min":
        return float(np.min(xv))
    if stat == "max":
        return float(np.max(xv))
    xs = np.sort(xv)
    if stat == "median":
        return _pctile(xs, 50)
    if stat == "iqr":
        return _pctile(xs, 75) - _pctile(xs, 25)
    if stat.startswith("p"):
        return _pctile(xs, float(stat[1:]))
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


@command("collapse", exp=False, byable=False)
def collapse_cmd(session, cmd):
    opts = OptionSpec("by= cw fast").parse(cmd.options)
    ds = session.data
    specs = _parse_collapse(cmd.body)
    if not specs:
        raise StataError("varlist required", 100)
    byv = varlist(session, opts.get("by") or "", all_if_empty=False)
    items = _collapse_items(session, specs, byv)
    mask = touse(session, cmd)
    w = None
    if cmd.weight is not None:
        from hlmshell.commands.inspect import weights

        w = weights(session, cmd, mask, allowed=("fweight", "aweight", "iweight", "pweight"))
        mask &= ~np.isnan(w)
    if "cw" in opts:
        for _, _, s in items:
            mask &= ~np.isnan(ds.vars[s].values)
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
    bounds = list(zip(starts, starts[1:] + [sub.n]))
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
