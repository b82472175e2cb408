"""Data-management staples of course do-files: contract, sample, cross, joinby, split,
separate, xpose, outsheet.

    contract varlist [if] [in] [, freq(name) cfreq(name) percent(name) cpercent(name) zero nomiss]
    sample # [if] [in] [, count by(varlist)]
    cross using filename
    joinby [varlist] using filename [, unmatched(none|both|master|using) _merge(name)]
    split strvar [if] [in] [, generate(stub) parse(strings) limit(#) notrim destring]
    separate varname [if] [in], by(groupvar) [generate(stub) shortlabel]
    xpose, clear [varname]
    outsheet [varlist] using filename [if] [in] [, comma nonames nolabel noquote replace]

Each does what Stata's manual says, with its messages and return codes; `sample` draws with
the session's random-number generator (`set seed` makes it repeatable, not Stata's draw).
"""
from __future__ import annotations

import itertools
import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import check_name, sort_keys, touse, typed_args, value_text, varlist
from hlmshell.commands.files import split_using
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.dta import read_dta
from hlmshell.data.locate import find_data, target_path, unquote
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count
from hlmshell.registry import Opt, command
from hlmshell.results import RResults


def _key_tuples(ds: Dataset, names: list[str], idx=None) -> list[tuple]:
    cols = [ds.var(nm).values if idx is None else ds.var(nm).values[idx] for nm in names]
    return [tuple(v if isinstance(v, str) else (None if v != v else float(v)) for v in row)
            for row in zip(*cols)]


def _new_data(session, ds: Dataset) -> None:
    ds.changed = True
    ds.filename = session.data.filename
    session.data = ds


# ----------------------------------------------------------------------------- contract
@command("contract", byable=False, qualifiers="if in weight", weights="fw", body="varlist",
         family="Data management", desc="make dataset of frequencies and percentages",
         example="contract sector minority",
         options=(Opt("freq", "f", "name", desc="name of the frequency variable (default _freq)"),
                  Opt("cfreq", "cf", "name", desc="create cumulative frequency variable"),
                  Opt("percent", "p", "name", desc="create percentage variable"),
                  Opt("cpercent", "cp", "name", desc="create cumulative percentage variable"),
                  Opt("float", desc="percentages as float"),
                  Opt("format", type="string", desc="display format for percentages"),
                  Opt("zero", desc="include combinations with frequency zero"),
                  Opt("nomiss", desc="drop observations with missing values")))
def contract_cmd(session, cmd):
    opts = typed_args(cmd)
    ds = session.data
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    mask = touse(session, cmd, names if opts.nomiss else ())
    w = np.ones(ds.n)
    if cmd.weight is not None:
        from hlmshell.commands._toolkit import weights
        w = weights(session, cmd, mask, allowed=("fweight",))
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        raise StataError("no observations", 2000)
    out_names = [opts.freq or "_freq", opts.cfreq, opts.percent, opts.cpercent]
    for nm in filter(None, out_names):
        if nm in names:
            raise StataError(f"variable {nm} already defined", 110)
        check_name(nm)
    counts: dict[tuple, float] = {}
    first: dict[tuple, int] = {}
    for i, key in zip(idx, _key_tuples(ds, names, idx)):
        counts[key] = counts.get(key, 0.0) + float(w[i])
        first.setdefault(key, int(i))
    rows = list(first.values())
    res = Dataset(value_labels=dict(ds.value_labels))
    for nm in names:
        v = ds.var(nm)
        res.add(v.evolve(values=v.values[rows]))
    freq = np.array([counts[k] for k in first])
    if opts.zero:
        res, freq = _with_zeros(res, names, freq)
    order = sort_keys(res, names)
    res.take(order)
    freq = freq[order]
    total = freq.sum()
    res.add(Variable(out_names[0], freq, "long" if total > 32740 else "int"))
    extras = [(out_names[1], np.cumsum(freq), "long"), (out_names[2], 100 * freq / total, "float"),
              (out_names[3], 100 * np.cumsum(freq) / total, "float")]
    for nm, vals, vt in extras:
        if nm:
            res.add(Variable(nm, vals, vt, format=(opts.format or "%8.2f") if vt == "float" else ""))
    res.sortedby = list(names)
    _new_data(session, res)


def _with_zeros(res: Dataset, names: list[str], freq: np.ndarray):
    levels = [list(dict.fromkeys(res.var(nm).values.tolist())) for nm in names]
    have = {k: f for k, f in zip(_key_tuples(res, names), freq)}
    combos = list(itertools.product(*levels))
    out = Dataset(value_labels=res.value_labels)
    for j, nm in enumerate(names):
        v = res.var(nm)
        vals = [c[j] for c in combos]
        out.add(v.evolve(values=np.array(vals, dtype=object if v.is_string else float)))
    keys = _key_tuples(out, names)
    return out, np.array([have.get(k, 0.0) for k in keys])


# ----------------------------------------------------------------------------- sample
@command("sample", byable=False, qualifiers="if in", body="anything", exp=False,
         family="Data management", desc="draw a random sample", example="sample 10",
         options=(Opt("count", desc="# is a number of observations, not a percentage"),
                  Opt("by", type="varlist", desc="sample within groups")))
def sample_cmd(session, cmd):
    opts = typed_args(cmd)
    text = (cmd.body or "").strip()
    try:
        k = float(text)
    except ValueError:
        raise StataError("invalid syntax" if text else "invalid syntax", 198) from None
    if k < 0 or (not opts.count and k > 100) or (opts.count and k != int(k)):
        raise StataError(f"{text} invalid" if k >= 0 else "sample size must be nonnegative", 198)
    ds = session.data
    mask = touse(session, cmd)
    groups = np.zeros(ds.n, int)
    if opts.by is not None:
        byv = varlist(session, " ".join(opts.by), all_if_empty=False)
        keys = _key_tuples(ds, byv)
        lookup: dict[tuple, int] = {}
        groups = np.array([lookup.setdefault(key, len(lookup)) for key in keys])
    keep = ~mask
    for grp in np.unique(groups[mask]):
        cand = np.flatnonzero(mask & (groups == grp))
        m = int(k) if opts.count else int(np.floor(len(cand) * k / 100 + 0.5))
        m = min(m, len(cand))
        chosen = session.rng.choice(cand, size=m, replace=False) if m else np.array([], int)
        keep[chosen] = True
    dropped = int((~keep).sum())
    if dropped:
        ds.take(np.flatnonzero(keep))
    session.out.line(f"({fmt_count(dropped)} observation{'' if dropped == 1 else 's'} deleted)")


# ----------------------------------------------------------------------------- cross, joinby
def _using(cmd) -> Dataset:
    body, fname = split_using(cmd.body or "")
    if fname is None:
        raise StataError("using required", 100)
    return body, read_dta(find_data(fname))


@command("cross", byable=False, qualifiers="", body="anything", using="required", options=(),
         family="Data management", desc="form every pairwise combination of two datasets",
         example="cross using schools")
def cross_cmd(session, cmd):
    body, using = _using(cmd)
    if body.strip():
        raise StataError("invalid syntax", 198)
    ds = session.data
    common = [nm for nm in using.names if nm in ds]
    if common:
        raise StataError(f"variable {common[0]} in both datasets", 110)
    n1, n2 = ds.n, using.n
    i1, i2 = np.repeat(np.arange(n1), n2), np.tile(np.arange(n2), n1)
    res = Dataset(value_labels={**using.value_labels, **ds.value_labels})
    for nm in ds.names:
        res.add(ds.var(nm).evolve(values=ds.var(nm).values[i1]))
    for nm in using.names:
        res.add(using.var(nm).evolve(values=using.var(nm).values[i2]))
    _new_data(session, res)


def _fill(v: Variable, idx: np.ndarray) -> np.ndarray:
    """v's values at idx, missing where idx is -1."""
    vals = v.values[np.maximum(idx, 0)] if len(v.values) else np.full(len(idx), np.nan)
    if v.is_string:
        vals = np.where(idx >= 0, vals, "").astype(object)
    else:
        vals = np.where(idx >= 0, vals, np.nan)
    return vals


def _join_pairs(mk: list[tuple], uk: list[tuple], unmatched: str):
    where: dict[tuple, list[int]] = {}
    for j, k in enumerate(uk):
        where.setdefault(k, []).append(j)
    mi, ui, code = [], [], []
    used = set()
    for i, k in enumerate(mk):
        js = where.get(k)
        if js:
            used.add(k)
            mi += [i] * len(js)
            ui += js
            code += [3] * len(js)
        elif unmatched in ("both", "master"):
            mi.append(i), ui.append(-1), code.append(1)
    if unmatched in ("both", "using"):
        for j, k in enumerate(uk):
            if k not in used:
                mi.append(-1), ui.append(j), code.append(2)
    return np.array(mi, int), np.array(ui, int), np.array(code, float)


@command("joinby", byable=False, qualifiers="", body="anything", using="required",
         family="Data management", desc="form all pairwise combinations within groups",
         example="joinby id using schools",
         options=(Opt("unmatched", "unm", "name", desc="none, both, master or using"),
                  Opt("_merge", "_merge", "name", desc="name of the variable marking the source"),
                  Opt("update", desc="update missing values of same-named variables"),
                  Opt("replace", desc="with update, replace nonmissing values too"),
                  Opt("nolabel", "nol", desc="do not copy value labels from the using data")))
def joinby_cmd(session, cmd):
    opts = typed_args(cmd)
    body, using = _using(cmd)
    ds = session.data
    keys = varlist(session, body, all_if_empty=False) if body.strip() else \
        [nm for nm in ds.names if nm in using]
    if not keys:
        raise StataError("no common variables", 459)
    for k in keys:
        if k not in using:
            raise StataError(f"variable {k} not found in using data", 111)
        if ds.var(k).is_string != using.var(k).is_string:
            raise StataError(f"key variable {k} is str in one dataset and numeric in the other", 106)
    unmatched = (opts.unmatched or "none").lower()
    if unmatched not in ("none", "both", "master", "using"):
        raise StataError("option unmatched() invalid", 198)
    mrg = (opts.raw("_merge") or "_merge").strip()
    if unmatched != "none" and mrg in ds:
        raise StataError(f"variable {mrg} already defined", 110)
    mi, ui, code = _join_pairs(_key_tuples(ds, keys), _key_tuples(using, keys), unmatched)
    res = Dataset(value_labels={**({} if opts.nolabel else using.value_labels), **ds.value_labels})
    for nm in ds.names:
        v = ds.var(nm)
        vals = _fill(v, mi)
        if nm in keys:
            vals = np.where(mi >= 0, vals, _fill(using.var(nm), ui))
        elif nm in using and opts.update:
            uvals = _fill(using.var(nm), ui)
            miss = (vals == "") if v.is_string else np.isnan(vals.astype(float))
            vals = np.where(miss | opts.replace & (ui >= 0), uvals, vals)
        res.add(v.evolve(values=vals))
    for nm in using.names:
        if nm not in ds:
            res.add(using.var(nm).evolve(values=_fill(using.var(nm), ui)))
    if unmatched != "none":
        res.add(Variable(mrg, code, "byte"))
    _new_data(session, res)


# ----------------------------------------------------------------------------- split
def _split_text(s: str, seps: list[str], trim: bool) -> list[str]:
    if trim:
        s = s.strip()
    if not s:
        return []
    if seps == [" "]:
        return s.split()
    parts = re.split("|".join(re.escape(p) for p in seps), s)
    return [p.strip() if trim else p for p in parts]


@command("split", byable=False, qualifiers="if in", body="varlist",
         family="Data management", desc="split string variables into parts",
         example='split name, parse(",") generate(part)',
         options=(Opt("generate", "gen", "name", desc="stub of the new variables"),
                  Opt("parse", "p", "string", desc="parse on these strings (default: space)"),
                  Opt("limit", "l", "int", None, "create at most # new variables"),
                  Opt("notrim", desc="do not trim leading and trailing spaces"),
                  Opt("destring", desc="apply destring to the new variables"),
                  Opt("ignore", type="string", desc="with destring: characters to remove"),
                  Opt("force", desc="with destring: nonnumeric to missing"),
                  Opt("float", desc="with destring: float type"),
                  Opt("percent", desc="with destring: percentages")))
def split_cmd(session, cmd):
    opts = typed_args(cmd)
    names = _single(session, cmd)
    ds = session.data
    v = ds.var(names[0])
    if not v.is_string:
        raise StataError(f"{names[0]} is not a string variable", 109)
    seps = _parse_list(opts.parse) if opts.parse is not None else [" "]
    mask = touse(session, cmd)
    pieces = [_split_text(s, seps, not opts.notrim) if m else [] for s, m in zip(v.values, mask)]
    k = max((len(p) for p in pieces), default=0)
    if opts.limit is not None:
        k = min(k, opts.limit)
    stub = opts.generate or names[0]
    new = [f"{stub}{i}" for i in range(1, k + 1)]
    for nm in new:
        g.check_newname(session, nm)
    for i, nm in enumerate(new):
        col = np.array([p[i] if len(p) > i else "" for p in pieces], dtype=object)
        width = max(1, max((len(s) for s in col), default=1))
        nv = Variable(nm, col, f"str{min(width, 2045)}")
        if opts.destring:
            nv = _destring(col, nm, opts) or nv
        ds.add(nv)
    ds.changed = bool(new) or ds.changed
    _report_split(session.out, ds, new, opts.destring)
    session.r = RResults(scalars={"nvars": float(k)}, macros={"varlist": " ".join(new)})


def _single(session, cmd) -> list[str]:
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if len(names) != 1:
        raise StataError("too many variables specified" if names else "varlist required",
                         103 if names else 100)
    return names


def _report_split(out, ds, new: list[str], destring: bool) -> None:
    if new:
        kinds = "numeric" if destring and all(not ds.var(nm).is_string for nm in new) else "string"
        out.line(f"variables created as {kinds}: ")
        out.line(" ".join(f"{nm:<9}" for nm in new).rstrip())


def _parse_list(text: str) -> list[str]:
    out = [m.group(1) if m.group(1) is not None else m.group(2)
           for m in re.finditer(r'"([^"]*)"|(\S+)', text)]
    return [p if p else " " for p in out] or [" "]


def _destring(col: np.ndarray, nm: str, opts) -> Variable | None:
    ign = unquote(opts.ignore) if opts.ignore else ""
    vals = []
    for s in col:
        t = "".join(ch for ch in s if ch not in ign).strip()
        if opts.percent and t.endswith("%"):
            t = t[:-1]
        if t in ("", "."):
            vals.append(np.nan)
            continue
        try:
            x = float(t)
        except ValueError:
            if not opts.force:
                return None
            x = np.nan
        vals.append(x / 100 if opts.percent else x)
    arr = np.array(vals, float)
    ok = arr[~np.isnan(arr)]
    integer = ok.size == 0 or np.all(ok == np.round(ok))
    vt = "float" if opts.float else ("byte" if integer and ok.size and np.abs(ok).max() <= 100
                                      else "long" if integer else "double")
    return Variable(nm, arr, vt)


# ----------------------------------------------------------------------------- separate
@command("separate", byable=False, qualifiers="if in", body="varlist",
         family="Data management", desc="create separate variables by group",
         example="separate mathach, by(sector)",
         options=(Opt("by", type="anything", desc="groupvar or expression"),
                  Opt("generate", "gen", "name", desc="stub of the new variables"),
                  Opt("sequential", "seq", desc="number the new variables 1, 2, ..."),
                  Opt("missing", desc="also a variable for the missing group"),
                  Opt("shortlabel", "short", desc="shorter variable labels")))
def separate_cmd(session, cmd):
    opts = typed_args(cmd)
    names = _single(session, cmd)
    if opts.by is None:
        raise StataError("option by() required", 198)
    ds = session.data
    src = ds.var(names[0])
    gv, gvals, label_of, suffix_of = _separate_groups(session, opts.by.strip())
    mask = touse(session, cmd)
    is_miss = (gvals == "") if gv is not None and gv.is_string else np.isnan(gvals.astype(float))
    levels = sorted(set(gvals[mask & ~is_miss].tolist()))
    if opts.missing and (mask & is_miss).any():
        levels.append(None)
    stub = opts.generate or names[0]
    made = []
    for i, lv in enumerate(levels, start=1):
        suffix = str(i) if opts.sequential or suffix_of is None or lv is None else suffix_of(lv)
        if not re.fullmatch(r"\w+", suffix):
            suffix = str(i)
        nm = f"{stub}{suffix}"
        g.check_newname(session, nm)
        sel = mask & (is_miss if lv is None else (gvals == lv) & ~is_miss)
        vals = np.where(sel, src.values, "" if src.is_string else np.nan)
        lab = "" if lv is None else (label_of(lv) if opts.shortlabel else f"{names[0]}, {label_of(lv)}")
        made.append(Variable(nm, vals.astype(object) if src.is_string else vals.astype(float),
                             src.vtype, src.format, lab))
    for v in made:
        ds.add(v)
    ds.changed = True
    _describe_new(session.out, made)
    session.r = RResults(macros={"varlist": " ".join(v.name for v in made)})


def _separate_groups(session, by_text: str):
    """(group variable or None, group values, label text of a value, suffix of a value)."""
    ds = session.data
    if re.fullmatch(r"[^\W\d]\w*", by_text):
        gname = varlist(session, by_text, all_if_empty=False)[0]
        gv = ds.var(gname)
        if gv.is_string:
            return gv, gv.values, (lambda x: f'{gname} == "{x}"'), None
        return (gv, gv.values, (lambda x: f"{gname} == {value_text(ds, gv, x, labels=False)}"),
                (lambda x: value_text(ds, gv, x, labels=False)))
    gvals = g.broadcast(g.evaluate(g.parse_expr(by_text), session), ds.n).astype(float)
    return None, gvals, (lambda x: f"{by_text} == {int(x)}"), (lambda x: str(int(x)))


def _describe_new(out, made) -> None:
    out.line("")
    out.line("Variable      Storage   Display    Value")
    out.line("    name         type    format    label      Variable label")
    out.line("-" * 72)
    for v in made:
        out.line(f"{v.name:<14}{v.vtype:<9}{v.format:<11}{'':<11}{v.label}".rstrip())


# ----------------------------------------------------------------------------- xpose
@command("xpose", byable=False, qualifiers="", body="none", family="Data management",
         desc="interchange observations and variables", example="xpose, clear varname",
         options=(Opt("clear", desc="required: the data in memory are replaced"),
                  Opt("varname", desc="add _varname holding the original names"),
                  Opt("format", type="string", desc="display format of the new variables"),
                  Opt("promote", desc="use the most compact type that preserves the data")))
def xpose_cmd(session, cmd):
    opts = typed_args(cmd)
    if not opts.clear:
        raise StataError("option clear required", 198)
    ds = session.data
    names = [nm for nm in ds.names if nm != "_varname"]
    M = np.array([np.full(ds.n, np.nan) if ds.var(nm).is_string else ds.var(nm).values.astype(float)
                  for nm in names]).reshape(len(names), ds.n)
    res = Dataset()
    fmt = opts.format or "%9.0g"
    newnames = [f"v{j + 1}" for j in range(ds.n)]
    if "_varname" in ds and ds.var("_varname").is_string:
        cand = [str(s) for s in ds.var("_varname").values]
        if all(re.fullmatch(r"[^\W\d]\w{0,31}", c) for c in cand) and len(set(cand)) == len(cand):
            newnames = cand
    for j, nm in enumerate(newnames):
        res.add(Variable(nm, M[:, j], "float", fmt))
    if opts.varname:
        width = max([len(n) for n in names] + [1])
        res.add(Variable("_varname", np.array(names, dtype=object), f"str{width}"))
    if not names:
        res._n = 0
    _new_data(session, res)


# ----------------------------------------------------------------------------- outsheet
@command("outsheet", byable=False, qualifiers="if in", body="anything", using="required",
         family="Files", desc="write a tab- or comma-delimited text file (old export delimited)",
         example="outsheet using data.csv, comma replace",
         options=(Opt("comma", desc="comma-delimited (default: tab)"),
                  Opt("delimiter", "delim", "string", desc="delimiter character"),
                  Opt("nonames", "non", desc="no variable names on the first line"),
                  Opt("nolabel", "nol", desc="numeric codes, not value labels"),
                  Opt("noquote", "noq", desc="do not quote strings"),
                  Opt("replace", desc="overwrite an existing file")))
def outsheet_cmd(session, cmd):
    from hlmshell.data.atomic import atomic_write

    opts = typed_args(cmd)
    body, fname = split_using(cmd.body or "")
    if fname is None:
        raise StataError("using required", 100)
    ds = session.data
    names = varlist(session, body)
    mask = touse(session, cmd)
    path = target_path(fname, ".out")
    if path.exists() and not opts.replace:
        raise StataError(f"file {path} already exists", 602)
    delim = unquote(opts.delimiter) if opts.delimiter else ("," if opts.comma else "\t")
    idx = np.flatnonzero(mask)
    cols = [[_cell(ds, ds.var(nm), i, opts) for i in idx] for nm in names]
    with atomic_write(path, shown=str(path), text=True) as fh:
        if not opts.nonames:
            fh.write(delim.join(names) + "\n")
        for row in zip(*cols):
            fh.write(delim.join(row) + "\n")


def _quoted(text: str, opts) -> str:
    return text if opts.noquote else '"' + text.replace('"', '""') + '"'


def _cell(ds, v: Variable, i: int, opts) -> str:
    """A cell as outsheet writes it: strings and value labels quoted, numbers as %9.0g shows
    them without a leading zero (more digits for doubles), missing values empty."""
    x = v.values[i]
    if v.is_string:
        return _quoted(str(x), opts)
    if x != x:
        return ""
    if not opts.nolabel and v.vallab and v.vallab in ds.value_labels:
        lab = ds.value_labels[v.vallab].get(float(x))
        if lab is not None:
            return _quoted(lab, opts)
    if float(x).is_integer() and abs(x) < 2 ** 53:
        return str(int(x))
    text = str(np.float32(x)) if v.vtype == "float" else repr(float(x))
    if "e" in text:
        return text
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text
