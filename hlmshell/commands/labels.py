"""label variable / define / values / list / drop / dir / data (abbreviated `la var`, `la def`, ...)."""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.registry import REGISTRY, Args, Opt, Sub, command
from hlmshell.data.dta import LABEL_MAX, LABEL_MIN, cut_utf8
from hlmshell.data.missing import missing_str, parse_missing
from hlmshell.errors import StataError, syntax_error

_TOKEN = re.compile(r'`"(.*?)"\'|"([^"]*)"|(\S+)', re.S)
# label define's pairs: a value may touch its quoted text (`1"Male" 2"Female"`, as Stata takes it)
_DEFINE_TOKEN = re.compile(r'`"(.*?)"\'|"([^"]*)"|((?:(?!`")[^\s"])+)', re.S)


def tokens(text: str, pattern: re.Pattern = _TOKEN) -> list[tuple[str, bool]]:
    """Split on blanks, keeping quoted strings whole: [(text, was_quoted)].

    `pattern`'s groups 1 and 2 are the compound-quoted and quoted forms; any later group is an
    unquoted token (recode adds its punctuation as one)."""
    out = []
    for m in pattern.finditer(text):
        if m.group(1) is not None:
            out.append((m.group(1), True))
        elif m.group(2) is not None:
            out.append((m.group(2), True))
        else:
            out.append((m.group(m.lastindex), False))
    return out


def _sub(word: str) -> str:
    """The subcommand the word abbreviates, from the spec on the registration line."""
    sub = REGISTRY.commands["label"].subcommand(word)
    if sub is None:
        raise syntax_error()
    return sub.name


def _label_text(rest: str) -> str:
    toks = tokens(rest)
    if not toks:
        return ""
    if len(toks) > 1 and any(q for _, q in toks):
        raise syntax_error()
    if toks[0][1]:
        return toks[0][0][:80]
    return rest.strip()[:80]


def _value(text: str) -> float:
    t = text.strip()
    if t.startswith("."):
        try:
            v = parse_missing(t)
        except ValueError:
            raise StataError(f"{t} invalid", 198) from None
        if t == ".":
            raise StataError("may not label .", 198)
        return v
    try:
        v = float(t)
    except ValueError:
        v = math.nan
    if not math.isfinite(v):        # `nan`, `inf`, 1e400: no Stata number
        raise StataError("invalid syntax", 198)
    if v != math.floor(v):
        raise StataError("may not label noninteger values", 198)
    if not LABEL_MIN <= v <= LABEL_MAX:
        # a value label maps Stata longs: -2,147,483,647 .. 2,147,483,620 (above are the
        # missing codes); anything else could never be saved
        raise StataError(f"may not label {t}", 198)
    return v


def _label_value_text(text: str) -> str:
    """A value label's text holds at most 32,000 bytes of UTF-8 (what a .dta keeps), cut at a
    character boundary, so the label in memory is exactly the one `save` writes."""
    return cut_utf8(text.encode("utf-8"), 32000).decode("utf-8")


def _key(table: dict, v: float):
    """Dict key for v; extended missing (NaN payloads) compare by code, not by ==."""
    if not np.isnan(v):
        return v
    code = missing_str(v)
    for k in table:
        if isinstance(k, float) and np.isnan(k) and missing_str(k) == code:
            return k
    return v


@command("label", abbrev="la", exp=False, byable=False, qualifiers="",
          family="Labels", body="anything", desc="label the data, variables and values", example='label variable ses "socio-economic status"',
          subcommands=(Sub("variable", "var", "attach a label to a variable", (), "varname \"label\""),
                       Sub("define", "de", "define a value label",
                           (Opt("add", desc="add labels for values not yet labelled"),
                            Opt("modify", desc="change or (with \"\") delete existing labels"),
                            Opt("replace", desc="redefine the value label from scratch"),
                            Opt("nofix", desc="accepted for Stata compatibility (display formats)")),
                           "lblname # \"label\" ..."),
                       Sub("values", "val", "attach a value label to variables",
                           (Opt("nofix", desc="accepted for Stata compatibility (display formats)"),),
                           "varlist lblname"),
                       Sub("list", "l", "list value labels", (), "[lblnames]"),
                       Sub("drop", "drop", "drop value labels", (), "lblnames"),
                       Sub("dir", "dir", "list names of value labels"),
                       Sub("data", "da", "attach a label to the dataset", (), "\"label\""),
                       Sub("copy", "copy", "copy a value label",
                           (Opt("replace", desc="overwrite an existing value label"),), "lblname lblname")))
def label_cmd(session, cmd):
    body = cmd.body.strip()
    if not body:
        raise syntax_error()
    word, _, rest = body.partition(" ")
    sub = _sub(word)
    opts = typed_args(cmd, sub=sub)      # the subcommand's options, typed (r(198) if not its own)
    _SUB_HANDLERS[sub](session, rest.strip(), opts)


def _variable(session, rest: str, opts: Args) -> None:
    name, _, text = rest.partition(" ")
    if not name:
        raise syntax_error()
    nm = varlist(session, name)
    if len(nm) != 1:
        raise syntax_error()
    session.data.update(nm[0], label=_label_text(text))


def _data(session, rest: str, opts: Args) -> None:
    session.data.label = _label_text(rest)
    session.data.changed = True


def _values(session, rest: str, opts: Args) -> None:
    ds = session.data
    parts = rest.split()
    if not parts:
        raise syntax_error()
    # `label values varlist lblname`; a lone varlist (or `.`) detaches the labels
    lab = None
    if len(parts) > 1:
        lab, parts = parts[-1], parts[:-1]
    names = varlist(session, " ".join(parts), all_if_empty=False)
    for nm in names:
        if ds.vars[nm].is_string:
            raise StataError("may not label strings", 181)
    if lab is not None and lab != "." and not re.fullmatch(r"[A-Za-z_]\w{0,31}", lab):
        raise StataError(f"{lab} invalid name", 198)
    for nm in names:
        ds.update(nm, vallab=None if lab in (None, ".") else lab)
    ds.changed = True


def _list(session, rest: str, opts: Args) -> None:
    ds = session.data
    names = rest.split() or sorted(ds.value_labels)
    for nm in names:
        if nm not in ds.value_labels:
            raise StataError(f"value label {nm} not found", 111)
    for nm in names:
        table = ds.value_labels[nm]
        session.out.line(f"{nm}:")
        items = sorted(table.items(), key=lambda kv: (np.isnan(kv[0]), missing_str(kv[0])
                                                      if np.isnan(kv[0]) else "", kv[0]))
        for v, t in items:
            shown = missing_str(v) if np.isnan(v) else str(int(v))
            session.out.line(f"{shown.rjust(12)} {t}")
    session.r.scalars = {}
    if names:
        tab = ds.value_labels[names[-1]]
        vals = [v for v in tab if not np.isnan(v)]
        session.r.scalars = {"k": float(len(tab)), "min": float(min(vals)) if vals else math.nan,
                             "max": float(max(vals)) if vals else math.nan,
                             "hasemiss": float(any(np.isnan(v) for v in tab))}


def _drop(session, rest: str, opts: Args) -> None:
    ds = session.data
    names = rest.split()
    if not names:
        raise syntax_error()
    if names == ["_all"]:
        ds.value_labels = {}
    else:
        for nm in names:
            if nm not in ds.value_labels:
                raise StataError(f"value label {nm} not found", 111)
        for nm in names:
            del ds.value_labels[nm]
    ds.changed = True


def _dir(session, rest: str, opts: Args) -> None:
    ds = session.data
    for nm in sorted(ds.value_labels):
        session.out.line(nm)
    session.r.macros = {"names": " ".join(sorted(ds.value_labels))}


def _copy(session, rest: str, opts: Args) -> None:
    ds = session.data
    parts = rest.split()
    if len(parts) != 2:
        raise syntax_error()
    a, b = parts
    if a not in ds.value_labels:
        raise StataError(f"value label {a} not found", 111)
    if b in ds.value_labels and not opts.replace:
        raise StataError(f"label {b} already defined", 110)
    ds.value_labels[b] = dict(ds.value_labels[a])
    ds.changed = True


def _define(session, rest: str, opts: Args) -> None:
    ds = session.data
    if _DEFINE_TOKEN.sub(" ", rest).strip():        # a quote left open: `1 "Male`
        raise StataError("too few quotes", 132)
    toks = tokens(rest, _DEFINE_TOKEN)
    if not toks or toks[0][1]:
        raise syntax_error()
    name = toks[0][0]
    if not re.fullmatch(r"[A-Za-z_]\w{0,31}", name):
        raise StataError(f"{name} invalid name", 198)
    pairs = toks[1:]
    if len(pairs) % 2:
        raise syntax_error()
    entries = []
    for i in range(0, len(pairs), 2):
        v, vq = pairs[i]
        t, _ = pairs[i + 1]
        if vq:
            raise syntax_error()
        entries.append((_value(v), t))
    exists = name in ds.value_labels
    if exists and not (opts.add or opts.modify or opts.replace):
        raise StataError(f"label {name} already defined", 110)
    table = {} if (not exists or opts.replace) else dict(ds.value_labels[name])
    for v, t in entries:
        k = _key(table, v)
        if k in table and not opts.modify and not opts.replace:
            raise StataError("invalid attempt to modify label", 180)
        if t == "" and opts.modify:
            table.pop(k, None)
        else:
            table[k] = _label_value_text(t)
    ds.value_labels[name] = table
    ds.changed = True


_SUB_HANDLERS = {"variable": _variable, "data": _data, "define": _define, "values": _values,
                 "list": _list, "drop": _drop, "dir": _dir, "copy": _copy}
