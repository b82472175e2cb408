"""encode, decode, destring, tostring: moving variables between string and numeric storage,
with Stata's per-variable reports (`x: all characters numeric; replaced as int`)."""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import typed_args
from hlmshell.registry import Opt, command
from hlmshell.data.dataset import DEFAULT_FORMATS, Variable
from hlmshell.data.missing import parse_missing
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt

_NUM = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_MISS = re.compile(r"\.[a-z]?$")


def _one_new(opts, key="generate") -> str:
    """The new variable's name (a `name` option, so one word), required."""
    name = getattr(opts, key)
    if not name:
        raise StataError(f"option {key}() required", 198)
    return name


def _unsort(ds, name: str) -> None:
    """A variable dropped and re-created (destring/tostring replace) ends the sort order there."""
    if name in ds.sortedby:
        ds.sortedby = ds.sortedby[:ds.sortedby.index(name)]


def _sortkey(s: str) -> bytes:
    return s.encode("utf-8")


# --- encode / decode ---------------------------------------------------------------------
@command("encode", byable=False, qualifiers="if in",
          family="Data management", body="varname", desc="string variable to labelled numeric", example="encode region, generate(nregion)",
          options=(Opt("generate", "gen", "name", desc="create newvar holding the codes (required)"),
                   Opt("label", type="name", desc="value label to use or create (default: newvar)"),
                   Opt("noextend", desc="refuse values not in an existing label()")))
def encode(session, cmd):
    g.no_weights(cmd)
    ds = session.data
    opts = typed_args(cmd)
    src = ds.var(g.one_var(session, cmd.body))
    if not src.is_string:
        raise StataError("not possible with numeric variable", 107)
    new = _one_new(opts)
    g.check_newname(session, new)
    lblname = opts.label or new
    if not re.fullmatch(r"[A-Za-z_]\w{0,31}", lblname):
        raise StataError(f"{lblname} invalid name", 198)
    touse = g.sample(session, cmd)
    strings = src.values
    wanted = sorted({s for s, t in zip(strings, touse) if t and s != ""}, key=_sortkey)
    lab = dict(ds.value_labels.get(lblname, {}))
    inv = {}
    for code in sorted(lab):
        inv.setdefault(lab[code], code)
    missing_ones = [s for s in wanted if s not in inv]
    if missing_ones and lblname in ds.value_labels and opts.noextend:
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


@command("decode", byable=False, qualifiers="if in",
          family="Data management", body="varname", desc="labelled numeric to string variable", example="decode sector, generate(ssector)",
          options=(Opt("generate", "gen", "name", desc="create string newvar (required)"),
                   Opt("maxlength", "maxl", "int", 2045, "keep at most # bytes of each label")))
def decode(session, cmd):
    g.no_weights(cmd)
    ds = session.data
    opts = typed_args(cmd)
    src = ds.var(g.one_var(session, cmd.body))
    if src.is_string:
        raise StataError("not possible with string variable", 108)
    if not src.vallab:
        raise StataError(f"{src.name} not labeled", 182)
    new = _one_new(opts)
    g.check_newname(session, new)
    maxlen = opts.maxlength
    if maxlen < 1:
        raise StataError("option maxlength() incorrectly specified", 198)
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
def insert_after(ds, var: Variable, after: str) -> None:
    """Add var right after `after` in the variable order (destring/tostring generate())."""
    ds.add(var)
    names = list(ds.vars)
    names.remove(var.name)
    names.insert(names.index(after) + 1, var.name)
    ds.vars = {nm: ds.vars[nm] for nm in names}


def destring_values(strings, ignore: str = "", percent: bool = False, dpcomma: bool = False):
    """destring.ado's conversion: drop the ignore() characters, trim, real().
    Returns (values, flag): flag when some nonmissing-looking string did not convert."""
    out = []
    for s in strings:
        t = str(s)
        for ch in ignore:
            t = t.replace(ch, "")
        out.append(t.strip())
    ismissing = np.array([t == "" or bool(_MISS.match(t)) for t in out])
    vals = np.full(len(out), np.nan)
    for i, t in enumerate(out):
        if dpcomma and not ismissing[i]:
            t = t.replace(".", "X").replace(",", ".", 1)
        if _MISS.match(t):
            vals[i] = parse_missing(t)
        elif _NUM.match(t):
            vals[i] = float(t)
    flag = int(ismissing.sum()) != int(np.isnan(vals).sum())
    if percent and any("%" in str(s) for s in strings):
        vals = vals / 100.0
    return vals, flag


def _compress_type(vals: np.ndarray, gtype: str) -> str:
    """`compress` after `gen double`: the smallest integer type that holds the values."""
    return g.int_type_for(vals) or gtype


def _newnames(session, opts, names, errmsg):
    """generate(newvarlist) (a varlist option, one new name per variable) or replace."""
    newnames = opts.generate
    if newnames and opts.replace:
        raise StataError("options generate and replace are mutually exclusive", 198)
    if not newnames and not opts.replace:
        raise StataError("must specify either generate or replace option", 198)
    if not newnames:
        return None
    try:
        for nn in newnames:
            g.check_newname(session, nn)
        if len(set(newnames)) != len(newnames):
            raise syntax_error()
    except StataError as e:
        raise StataError(errmsg, e.rc) from None
    if len(newnames) != len(names):
        raise StataError("number of variables in varlist must equal number of variables in "
                         "generate(newvarlist)", 198)
    return newnames


@command("destring", byable=False, qualifiers="",
          family="Data management", body="varlist", desc="string variables to numeric", example="destring x, replace",
          options=(Opt("generate", "g", "varlist", desc="create newvarlist, one new variable for each variable"),
                   Opt("replace", desc="replace the string variables by numeric ones"),
                   Opt("force", desc="convert nonnumeric strings to missing values"),
                   Opt("float", desc="create float rather than double variables"),
                   Opt("ignore", "i", "string", desc='remove these characters first (quoted: ignore(",") )'),
                   Opt("percent", desc="convert percentages to fractions"),
                   Opt("dpcomma", desc="the decimal separator is a comma")))
def destring(session, cmd):
    g.no_weights(cmd)
    ds = session.data
    opts = typed_args(cmd)
    names = g.varlist(session, cmd.body) if cmd.body.strip() else list(ds.names)
    newnames = _newnames(session, opts, names,
                         "generate() contains existing variable(s) and/or illegal variable name(s)")
    ignore = _ignore_chars(opts)
    genrep = "generate" if newnames else "replace"
    for i, nm in enumerate(names):
        var = ds.var(nm)
        if not var.is_string:
            session.out.line(f"{nm} already numeric; no {genrep}")
            continue
        vals, flag = destring_values(var.values, ignore, opts.percent, opts.dpcomma)
        if flag and not opts.force:
            what = ("characters not specified in ignore()" if ignore else "nonnumeric characters")
            session.out.line(f"{nm}: contains {what}; no {genrep}")
            continue
        gtype = "float" if opts.float else "double"
        vals = g.store(vals, gtype)
        vtype = _compress_type(vals, gtype)
        vals = g.store(vals, vtype)
        final = f"{newnames[i]} " if newnames else ""
        for line in _destring_report(nm, var.values, ignore, flag, f"{final}{genrep}d as {vtype}"):
            session.out.line(line)
        g.missing_message(session, vals)
        if newnames:
            insert_after(ds, Variable(newnames[i], vals, vtype, label=var.label), nm)
        else:
            ds.update(nm, values=vals, vtype=vtype, format=DEFAULT_FORMATS[vtype])
            _unsort(ds, nm)
        ds.changed = True


def _ignore_chars(opts) -> str:
    """ignore()'s characters: quoted to include a comma; `%` added by percent. The text is
    read as typed (opts.raw): blanks are characters to ignore too."""
    ignore = opts.raw("ignore") or ""
    if len(ignore) >= 2 and ignore[0] == '"' and ignore[-1] == '"':
        ignore = ignore[1:-1]
    elif "," in ignore:
        raise StataError("ignore string must be enclosed with quotes to ignore commas or use options", 198)
    if opts.percent and "%" not in ignore:
        ignore += "%"
    return ignore


def _destring_report(nm: str, strings, ignore: str, flag: bool, done: str) -> list[str]:
    """destring.ado's lines for one converted variable: nonnumeric characters (with force),
    the ignore() characters it removed, or `all characters numeric`; `done` is
    `[newvar ]generated|replaced as type`."""
    removed = [("space" if ch == " " else ch) for ch in dict.fromkeys(ignore)
               if any(ch in str(s) for s in strings)]
    out = []
    if flag:
        line = f"{nm}: contains nonnumeric characters"
        if ignore:
            line += " not specified in ignore()"
        if not removed:
            line += f"; {done}"
        out.append(line)
    if removed:
        word = "character" if len(removed) == 1 else "characters"
        out.append(f"{nm}: {word} {' '.join(removed)} removed; {done}")
    elif not flag:
        out.append(f"{nm}: all characters numeric; {done}")
    return out


# --- tostring ------------------------------------------------------------------------------
def _real(s: str) -> float:
    s = s.strip()
    if _MISS.match(s):
        return parse_missing(s)
    return float(s) if _NUM.match(s) else np.nan


@command("tostring", byable=False, qualifiers="",
          family="Data management", body="varlist", desc="numeric variables to string", example="tostring id, replace",
          options=(Opt("generate", "g", "varlist", desc="create newvarlist, one new variable for each variable"),
                   Opt("replace", desc="replace the numeric variables by string ones"),
                   Opt("force", desc="convert even when information is lost"),
                   Opt("format", type="string", desc="numeric display format used to convert (default %12.0g)"),
                   Opt("usedisplayformat", "u", desc="convert with each variable's display format")))
def tostring(session, cmd):
    g.no_weights(cmd)
    ds = session.data
    opts = typed_args(cmd)
    names = g.varlist(session, cmd.body)
    newnames = _newnames(session, opts, names, "generate(newvarlist) invalid")
    spec = opts.format or ""
    if opts.usedisplayformat and spec:
        raise StataError("must choose between usedisplayformat and format() options", 198)
    if spec:
        if "s" in spec:
            raise StataError("use numeric format in format() option", 198)
        try:
            fmt(12345.6789, spec)
        except ValueError:
            raise StataError("format() option invalid", 198) from None
    genrep = "generate" if newnames else "replace"
    for i, nm in enumerate(names):
        var = ds.var(nm)
        if var.is_string:
            session.out.line(f"{nm} already string; no {genrep}")
            continue
        if not newnames and var.vallab and not opts.force:
            session.out.line(f"{nm} has value label; no replace")
            continue
        f = var.format if opts.usedisplayformat else (spec or "%12.0g")
        try:
            strs = [fmt(float(v), f).strip() for v in var.values]
        except ValueError:
            raise StataError("format() option invalid", 198) from None
        out = np.array(strs, dtype=object)
        back = np.array([_real(s) for s in strs])
        flag = not np.all(g.same_values(back, var.values))
        if flag and not opts.force:
            session.out.line(f"{nm} cannot be converted reversibly; no {genrep}")
            continue
        vtype = g.str_type_for(out)
        if newnames:
            insert_after(ds, Variable(newnames[i], out, vtype, label=var.label), nm)
            session.out.line(f"{newnames[i]} generated as {vtype}")
            shown = newnames[i]
        else:
            old = var.vtype
            ds.update(nm, values=out, vtype=vtype, vallab=None,
                      format=f"%{max(int(vtype[3:]) if vtype[3:].isdigit() else 9, 1)}s")
            _unsort(ds, nm)
            session.out.line(f"{nm} was {old} now {vtype}")
            shown = nm
        if flag:
            session.out.line(f"{shown} was forced to string; some loss of information")
        ds.changed = True
