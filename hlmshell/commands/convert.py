"""encode, decode, destring, tostring: moving variables between string and numeric storage,
with Stata's per-variable reports (`x: all characters numeric; replaced as int`)."""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands.options import OptionSpec
from hlmshell.commands.registry import command
from hlmshell.data.dataset import DEFAULT_FORMATS, Variable
from hlmshell.data.missing import parse_missing
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt

_NUM = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$")
_MISS = re.compile(r"\.[a-z]?$")


def _one_new(opts, key="generate") -> str:
    name = (opts.get(key) or "").strip()
    if not name:
        raise StataError(f"option {key}() required", 198)
    if len(name.split()) != 1:
        raise syntax_error()
    return name


def _sortkey(s: str) -> bytes:
    return s.encode("utf-8")


# --- encode / decode ---------------------------------------------------------------------
@command("encode")
def encode(session, cmd):
    ds = session.data
    opts = OptionSpec("generate(gen)= label= noextend").parse(cmd.options)
    src = ds.var(g.one_var(session, cmd.body))
    if not src.is_string:
        raise StataError("not possible with numeric variable", 108)
    new = _one_new(opts)
    g.check_newname(session, new)
    lblname = opts.get("label") or new
    touse = g.sample(session, cmd)
    strings = src.values
    wanted = sorted({s for s, t in zip(strings, touse) if t and s != ""}, key=_sortkey)
    lab = dict(ds.value_labels.get(lblname, {}))
    inv = {}
    for code in sorted(lab):
        inv.setdefault(lab[code], code)
    missing_ones = [s for s in wanted if s not in inv]
    if missing_ones and lblname in ds.value_labels and "noextend" in opts:
        raise StataError(f"there are values of {src.name} not present in label {lblname}", 459)
    nxt = int(max(lab)) + 1 if lab else 1
    for s in missing_ones:
        lab[float(nxt)] = s
        inv[s] = float(nxt)
        nxt += 1
    vals = np.array([inv[s] if (t and s != "") else np.nan for s, t in zip(strings, touse)],
                    dtype=np.float64)
    ds.value_labels[lblname] = lab
    ds.add(Variable(new, g.store(vals, "long"), "long", label=src.label, vallab=lblname))
    ds.changed = True


@command("decode")
def decode(session, cmd):
    ds = session.data
    opts = OptionSpec("generate(gen)= maxlength(maxl)=").parse(cmd.options)
    src = ds.var(g.one_var(session, cmd.body))
    if src.is_string:
        raise StataError("type mismatch", 109)
    if not src.vallab:
        raise StataError(f"{src.name} not labeled", 181)
    new = _one_new(opts)
    g.check_newname(session, new)
    maxlen = 2045
    if opts.get("maxlength"):
        try:
            maxlen = int(opts["maxlength"])
        except ValueError:
            raise syntax_error() from None
    lab = ds.value_labels.get(src.vallab, {})
    touse = g.sample(session, cmd)
    out = np.array([lab.get(float(v), "") if (t and not np.isnan(v)) else ""
                    for v, t in zip(src.values, touse)], dtype=object)
    out = g.truncate_str(out, maxlen)
    vtype = g.str_type_for(out)
    ds.add(Variable(new, out, vtype, label=src.label))
    ds.changed = True
    g.missing_message(session, out)


# --- destring -----------------------------------------------------------------------------
def destring_values(strings, ignore: str = "", percent: bool = False, dpcomma: bool = False):
    """Parse strings to numbers: returns (values, bad mask of nonnumeric nonempty strings)."""
    vals = np.full(len(strings), np.nan)
    bad = np.zeros(len(strings), dtype=bool)
    for i, s in enumerate(strings):
        t = str(s)
        for ch in ignore:
            t = t.replace(ch, "")
        t = t.strip()
        if percent and t.endswith("%"):
            t = t[:-1].strip()
            scale = 0.01
        else:
            scale = 1.0
        if dpcomma:
            t = t.replace(",", ".")
        if t == "":
            continue
        if _MISS.match(t):
            vals[i] = parse_missing(t)
            continue
        if _NUM.match(t):
            vals[i] = float(t.replace("d", "e").replace("D", "e")) * scale
        else:
            bad[i] = True
    return vals, bad


@command("destring")
def destring(session, cmd):
    ds = session.data
    opts = OptionSpec("generate(gen)= replace ignore= force float percent dpcomma").parse(cmd.options)
    names = g.varlist(session, cmd.body)
    if ("replace" in opts) == bool(opts.get("generate")):
        raise StataError("must specify either generate or replace option", 198)
    newnames = opts["generate"].split() if opts.get("generate") else None
    if newnames is not None:
        if len(newnames) != len(names):
            raise StataError("too few names specified" if len(newnames) < len(names)
                             else "too many names specified", 198)
        for nn in newnames:
            g.check_newname(session, nn)
    ignore = (opts.get("ignore") or "").strip()
    if len(ignore) >= 2 and ignore[0] == '"' and ignore[-1] == '"':
        ignore = ignore[1:-1]
    what = "generate" if newnames else "replace"
    for i, nm in enumerate(names):
        var = ds.var(nm)
        if not var.is_string:
            session.out.line(f"{nm} already numeric; no {what}")
            continue
        vals, bad = destring_values(var.values, ignore, "percent" in opts, "dpcomma" in opts)
        if bad.any() and "force" not in opts:
            session.out.line(f"{nm}: contains nonnumeric characters; no {what}")
            continue
        vtype = g.int_type_for(vals) or ("float" if "float" in opts else "double")
        stored = g.store(vals, vtype)
        head = f"{nm}: contains nonnumeric characters; " if bad.any() else (
            f"{nm}: character{'s' if len(ignore) > 1 else ''} {ignore} removed; " if ignore
            else f"{nm}: all characters numeric; ")
        if newnames:
            ds.add(Variable(newnames[i], stored, vtype, label=var.label))
            session.out.line(f"{head}{newnames[i]} generated as {vtype}")
        else:
            var.values = stored
            var.vtype = vtype
            var.format = DEFAULT_FORMATS[vtype]
            session.out.line(f"{head}replaced as {vtype}")
        ds.changed = True
        g.missing_message(session, stored)


# --- tostring ------------------------------------------------------------------------------
def _real(s: str) -> float:
    s = s.strip()
    if _MISS.match(s):
        return parse_missing(s)
    try:
        return float(s)
    except ValueError:
        return np.nan


@command("tostring")
def tostring(session, cmd):
    ds = session.data
    opts = OptionSpec("generate(gen)= replace format= force usedisplayformat").parse(cmd.options)
    names = g.varlist(session, cmd.body)
    if ("replace" in opts) == bool(opts.get("generate")):
        raise StataError("must specify either generate or replace option", 198)
    newnames = opts["generate"].split() if opts.get("generate") else None
    if newnames is not None:
        if len(newnames) != len(names):
            raise StataError("too few names specified" if len(newnames) < len(names)
                             else "too many names specified", 198)
        for nn in newnames:
            g.check_newname(session, nn)
    what = "generate" if newnames else "replace"
    for i, nm in enumerate(names):
        var = ds.var(nm)
        if var.is_string:
            session.out.line(f"{nm} already string; no {what}")
            continue
        spec = opts.get("format") or (var.format if "usedisplayformat" in opts else "%12.0g")
        try:
            strs = [fmt(float(v), spec).strip() for v in var.values]
        except ValueError:
            raise syntax_error() from None
        out = np.array(strs, dtype=object)
        back = np.array([_real(s) for s in strs])
        if not np.all(g.same_values(back, var.values)) and "force" not in opts:
            session.out.line(f"{nm} cannot be converted reversibly; no {what}")
            continue
        vtype = g.str_type_for(out)
        if newnames:
            ds.add(Variable(newnames[i], out, vtype, label=var.label))
            session.out.line(f"{newnames[i]} generated as {vtype}")
        else:
            old = var.vtype
            var.values = out
            var.vtype = vtype
            var.format = f"%{max(int(vtype[3:]) if vtype[3:].isdigit() else 9, 1)}s"
            var.vallab = None
            session.out.line(f"{nm} was {old} now {vtype}")
        ds.changed = True
