"""sencode and sdecode (Roger Newson's SSC packages, built in). sencode, "sequential encode": a string variable to a
labelled numeric one whose codes follow the order in which the strings first appear in the
data (or in a gsort() order), not alphabetical order as encode's; `many` gives every
observation its own code (many codes per string); `replace` puts the numeric variable in the
string variable's place.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import sort_keys, typed_args
from hlmshell.data.dataset import Variable
from hlmshell.data.locate import unquote
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command


def _order(session, spec: str | None) -> np.ndarray:
    """Observation order for first appearances: the data's order, or gsort(spec)'s."""
    ds = session.data
    if not spec or not spec.strip():
        return np.arange(ds.n)
    names, desc = [], []
    for w in spec.split():
        sign = w[0] if w[0] in "+-" else "+"
        name = w.lstrip("+-")
        full = g.one_var(session, name)
        names.append(full)
        desc.append(sign == "-")
    return sort_keys(ds, names, desc)


def _target(session, opts, src) -> str:
    """The new variable's name: generate()'s (a new name), or the source's under replace."""
    if bool(opts.generate) == bool(opts.replace):
        raise StataError("either generate() or replace must be specified, but not both", 198)
    if opts.generate:
        g.check_newname(session, opts.generate)
        return opts.generate
    return src.name


def _store(ds, var: Variable, replace: bool) -> None:
    """The result added, or put in the source's place (which ends the sort order there)."""
    if replace:
        ds.put(var)
        if var.name in ds.sortedby:
            ds.sortedby = ds.sortedby[:ds.sortedby.index(var.name)]
    else:
        ds.add(var)
    ds.changed = True


def _codes(strings, use, order, lab: dict, many: bool, noextend: bool, src: str, lblname: str):
    """Codes in order of first appearance; strings already in the label keep their code."""
    inv: dict[str, float] = {}
    for code in sorted(lab):
        inv.setdefault(lab[code], code)
    nxt = int(max(lab)) + 1 if lab else 1
    vals = np.full(len(strings), np.nan)
    for i in order:
        s = strings[i]
        if not use[i] or s == "":
            continue
        if s in inv and not many:
            vals[i] = inv[s]
            continue
        if noextend:
            raise StataError(f"there are values of {src} not present in label {lblname}", 459)
        lab[float(nxt)] = s
        inv.setdefault(s, float(nxt))
        vals[i] = float(nxt)
        nxt += 1
    return vals


@command("sencode", byable=False, qualifiers="if in", family="Data management", body="varname",
         desc="string variable to labelled numeric, coded in order of appearance (SSC sencode)",
         example="sencode region, generate(nregion)",
         options=(Opt("generate", "gen", "name", desc="create newvar holding the codes"),
                  Opt("replace", desc="replace the string variable by the numeric one"),
                  Opt("label", type="name", desc="value label to use or create (default: the new variable's name)"),
                  Opt("noextend", desc="refuse values not in an existing label()"),
                  Opt("gsort", type="string", desc="order of first appearance: a gsort list"),
                  Opt("many", desc="a distinct code for every observation")))
def sencode_cmd(session, cmd):
    g.no_weights(cmd)
    ds = session.data
    opts = typed_args(cmd)
    src = ds.var(g.one_var(session, cmd.body))
    if not src.is_string:
        raise StataError("not possible with numeric variable", 107)
    new = _target(session, opts, src)
    lblname = opts.label or new
    if not re.fullmatch(r"[A-Za-z_]\w{0,31}", lblname):
        raise StataError(f"{lblname} invalid name", 198)
    use = g.sample(session, cmd)
    order = _order(session, opts.gsort if "gsort" in opts else None)
    lab = dict(ds.value_labels.get(lblname, {}))
    vals = _codes(list(src.values), use, order, lab, bool(opts.many), bool(opts.noextend),
                  src.name, lblname)
    ds.value_labels[lblname] = lab
    _store(ds, Variable(new, g.store(vals, "long"), "long", label=src.label, vallab=lblname),
           bool(opts.replace))


# ----------------------------------------------------------------------------- sdecode
def _decoded(values, lab: dict, fmt_text: str, opts) -> np.ndarray:
    """Each value as its value label, else (unless labonly) as formatted by the display format;
    missing values empty unless `missing`; prefix()/suffix() around every nonempty result."""
    from hlmshell.output.numfmt import fmt as format_number
    from hlmshell.data.missing import missing_str
    out = []
    for v in values:
        v = float(v)
        if v in lab:
            text = lab[v]
        elif v != v:
            text = missing_str(v) if opts.missing else ""
        elif opts.labonly:
            text = ""
        else:
            text = format_number(v, fmt_text)
            if opts.ftrim:
                text = text.strip()
        if text:
            text = f"{unquote(opts.prefix or '')}{text}{unquote(opts.suffix or '')}"
        out.append(text)
    return np.array(out, dtype=object)


@command("sdecode", byable=False, qualifiers="if in", family="Data management", body="varname",
         desc="numeric variable to string: value labels, else formatted values (SSC sdecode)",
         example="sdecode sector, generate(ssector)",
         options=(Opt("generate", "gen", "name", desc="create string newvar"),
                  Opt("replace", desc="replace the numeric variable by the string one"),
                  Opt("maxlength", "maxl", "int", 2045, "keep at most # bytes of each string"),
                  Opt("missing", "mi", desc="decode missing values as . .a ... (default empty)"),
                  Opt("prefix", "pr", "string", desc="text put before each nonempty string"),
                  Opt("suffix", "su", "string", desc="text put after each nonempty string"),
                  Opt("labonly", "lab", desc="only values with value labels; the rest empty"),
                  Opt("ftrim", "ft", desc="trim blanks from formatted values"),
                  Opt("format", "fo", "string", desc="display format for unlabelled values")))
def sdecode_cmd(session, cmd):
    g.no_weights(cmd)
    ds = session.data
    opts = typed_args(cmd)
    src = ds.var(g.one_var(session, cmd.body))
    if src.is_string:
        raise StataError("not possible with string variable", 108)
    new = _target(session, opts, src)
    if opts.maxlength < 1:
        raise StataError("option maxlength() incorrectly specified", 198)
    fmt_text = (opts.format or "").strip().strip('"') or src.format
    if "format" in opts:
        from hlmshell.commands.recast import format_kind
        if format_kind(fmt_text) == "string":
            raise StataError("invalid %format", 120)
    lab = ds.value_labels.get(src.vallab, {}) if src.vallab else {}
    use = g.sample(session, cmd)
    vals = np.asarray(src.values, dtype=float)
    out = _decoded(vals, lab, fmt_text, opts)
    out = np.where(use, out, "").astype(object)
    out = g.truncate_str(out, opts.maxlength)
    _store(ds, Variable(new, out, g.str_type_for(out), label=src.label), bool(opts.replace))
