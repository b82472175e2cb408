"""infile (free format) and outfile: text files of values separated by blanks or commas.

    infile [type] varname [_skip(#)] ... using filename[.raw] [if] [in]
           [, clear automatic byvariable(#)]
    outfile [varlist] using filename[.raw] [if] [in]
           [, comma wide nolabel noquote dictionary replace]

Old econometrics course files (Cameron and Trivedi's MOM.dat ...) read their data this way.
Values are numbers, Stata's missing codes (`.`, `.a`), or strings, quoted when they hold blanks;
two commas in a row leave a value missing; a value that is not a number is missing for a
numeric variable (with Stata's note) unless `automatic` turns the text into value-labelled
codes. A type word applies to the next name or to a parenthesised list, `str20 name`,
`double(x y)`; `v1-v5` names five new variables. Stata refuses to read over data in memory
without `clear` (r(4) when they changed since last saved, r(18) otherwise).

outfile writes what infile reads back: values in their display formats (without thousands
separators) separated by blanks, strings and value labels in double quotes, an observation
broken into lines of at most 80 characters unless `wide`; `comma` separates by commas without
the formats' padding; `dictionary` writes a Stata dictionary before the data. The file is
written atomically (hlmshell/data/atomic.py).
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import check_name, touse, typed_args
from hlmshell.commands.files import split_using
from hlmshell.commands.infile_tokens import TYPE_WORD as _TYPE
from hlmshell.commands.infile_tokens import split_columns as _split_columns
from hlmshell.commands.infile_tokens import tokens
from hlmshell.commands.input_cmd import read_number
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.locate import find_data
from hlmshell.data.missing import parse_missing
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt, command

_SKIP = re.compile(r"_skip(?:\((\d+)\))?")


def _names(word: str) -> list[str]:
    """`x` -> [x]; `v1-v3` -> [v1, v2, v3] (new names, so a range counts its suffix)."""
    m = re.fullmatch(r"([^\W\d]\w*?)(\d+)-([^\W\d]\w*?)(\d+)", word)
    if m:
        if m.group(1) != m.group(3) or int(m.group(2)) > int(m.group(4)):
            raise syntax_error()
        return [f"{m.group(1)}{k}" for k in range(int(m.group(2)), int(m.group(4)) + 1)]
    if "-" in word:
        raise syntax_error()
    return [word]


def _words(text: str) -> list[str]:
    """Split the declaration, keeping `double(x y)` and `(str8) a b` together as one word."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise syntax_error()
        if ch.isspace() and depth == 0:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if depth:
        raise syntax_error()
    return out + ([cur] if cur else [])


def declarations(text: str) -> list[tuple[str | None, str | int]]:
    """[(type, name)] with (None, k) for `_skip(k)`: the layout of one record."""
    out: list[tuple[str | None, str | int]] = []
    pending = None
    for w in _words(text):
        m = _SKIP.fullmatch(w)
        if m:
            if pending is not None:
                raise syntax_error()
            out.append((None, int(m.group(1) or 1)))
            continue
        grp = re.fullmatch(r"(\w+)\((.*)\)|\((\w+)\)(.*)", w)
        if grp:
            typ, inner = (grp.group(1), grp.group(2)) if grp.group(1) else (grp.group(3), grp.group(4))
            if not _TYPE.fullmatch(typ) or pending is not None:
                raise syntax_error()
            out += [(typ, nm) for word in inner.split() for nm in _names(word)]
            continue
        if _TYPE.fullmatch(w):
            if pending is not None:
                raise syntax_error()
            pending = w
            continue
        names = _names(w)
        out += [(pending if k == 0 else None, nm) for k, nm in enumerate(names)]
        pending = None
    if pending is not None or not any(isinstance(n, str) for _, n in out):
        raise syntax_error()
    return out


def _number(tok, name: str, obs: int, notes: list[str]) -> float:
    if tok is None:
        return np.nan
    text, quoted = tok
    v = read_number(text, quoted)
    if v is None:
        notes.append(f"'{text}' cannot be read as a number for {name}[{obs}]")
        return np.nan
    return v


def _coded(col: list, labels: dict[str, int]) -> list[float]:
    """`automatic`: numbers stay numbers, other text becomes 1, 2, ... in order of appearance."""
    out = []
    for tok in col:
        if tok is None:
            out.append(np.nan)
            continue
        text, quoted = tok
        try:
            out.append(parse_missing(text) if not quoted else float("x"))
            continue
        except ValueError:
            pass
        try:
            v = float(text) if not quoted else float("x")
            if np.isfinite(v):
                out.append(v)
                continue
        except ValueError:
            pass
        labels.setdefault(text, len(labels) + 1)
        out.append(float(labels[text]))
    return out


def _variable(name: str, vtype: str, col: list, opts, ds: Dataset, notes: list[str]) -> Variable:
    if g.is_string_type(vtype):
        vals = np.array(["" if t is None else t[0] for t in col], dtype=object)
        return Variable(name, g.store(vals, vtype), vtype)
    if opts.automatic:
        labels: dict[str, int] = {}
        vals = np.array(_coded(col, labels), dtype=float)
        var = Variable(name, g.store(vals, vtype), vtype)
        if labels:
            ds.value_labels[name] = {float(v): k for k, v in labels.items()}
            var = var.evolve(vallab=name)
        return var
    vals = np.array([_number(t, name, i + 1, notes) for i, t in enumerate(col)], dtype=float)
    return Variable(name, g.store(vals, vtype), vtype)


def _check_memory(session, clear: bool) -> None:
    ds = session.data
    if clear or not (ds.names or ds.n):
        return
    if ds.changed:
        raise StataError("no; dataset in memory has changed since last saved", 4)
    raise StataError("you must start with an empty dataset", 18)


@command("infile", byable=False, qualifiers="if in", body="anything", using="required",
         family="Files", desc="read a text file: free format, or laid out by a dictionary",
         example="infile id str20 name score using scores.raw, clear",
         options=(Opt("clear", desc="replace the data in memory"),
                  Opt("automatic", "a", desc="create value labels from nonnumeric data"),
                  Opt("byvariable", "byv", "int", None,
                      "the file holds # observations of the first variable, then the next, ..."),
                  Opt("using", "", "string", None, "with a dictionary: the data file")))
def infile_cmd(session, cmd):
    opts = typed_args(cmd)
    body, fname = split_using(cmd.body or "")
    if not fname:
        raise StataError("using required", 100)
    if opts.byvariable is not None and (opts.byvariable < 1 or not body.strip()):
        raise StataError("byvariable() invalid", 198)
    if body.strip():
        if opts.using is not None:
            raise StataError("option using() not allowed", 198)
        names, types, cols, fields = _free_format(session, body, fname, opts)
    else:
        from hlmshell.commands.infile_dictionary import read_dictionary
        _check_memory(session, opts.clear)
        names, types, cols, fields = read_dictionary(session, cmd, opts, fname)
    _check_names(names)
    new = Dataset()
    notes: list[str] = []
    for nm, col in zip(names, cols):
        new.add(_variable(nm, types[nm], col, opts, new, notes))
    for f in fields:                    # a dictionary's labels
        new.update(f.name, label=f.label, **({"vallab": f.lblname} if f.lblname else {}))
    new.changed = True
    session.data = new
    for note in notes:
        session.out.line(note)
    if cmd.if_ is not None or cmd.in_ is not None:
        new.take(np.flatnonzero(touse(session, cmd)))
    n = new.n
    session.out.line(f"({n:,} observation{'s' if n != 1 else ''} read)")


def _check_names(names: list[str]) -> None:
    for nm in names:
        check_name(nm)
    dup = next((n for k, n in enumerate(names) if n in names[:k]), None)
    if dup:
        raise StataError(f"{dup} already defined", 110)


def _free_format(session, body: str, fname: str, opts):
    """(names, types, columns of tokens, no dictionary fields) of `infile varlist using`."""
    layout = declarations(body)
    names = [n for _, n in layout if isinstance(n, str)]
    _check_names(names)
    _check_memory(session, opts.clear)
    path = find_data(fname, ".raw")
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        raise StataError(f"file {path} could not be opened", 603) from None
    cols = _split_columns(tokens(text), layout, opts.byvariable)
    return names, {n: (t or "float") for t, n in layout if isinstance(n, str)}, cols, []


# ----------------------------------------------------------------------------- outfile
def _plain_format(spec: str) -> str:
    """The display format without thousands separators (infile could not read `4,725`)."""
    return spec[:-1] if spec.endswith("c") and not spec.startswith("%t") else spec


def _out_cell(ds: Dataset, v: Variable, x, opts) -> str:
    from hlmshell.output.numfmt import fmt

    def quoted(text: str) -> str:
        return text if opts.noquote else '"' + text + '"'

    if v.is_string:
        return quoted(str(x))
    if not np.isnan(x) and not opts.nolabel and v.vallab and v.vallab in ds.value_labels:
        lab = ds.value_labels[v.vallab].get(float(x))
        if lab is not None:
            return quoted(lab)
    text = fmt(float(x), _plain_format(v.format))      # extended missing as .a, ...
    return text.strip() if opts.comma else text


def _records(cells: list[str], opts) -> list[str]:
    """One observation's text lines: blank-separated and broken before 80 characters unless
    `wide` (infile reads on across lines), or comma-separated on one line."""
    if opts.comma:
        return [",".join(cells)]
    lines, cur = [], ""
    for c in cells:
        piece = " " + c
        if cur and not opts.wide and len(cur) + len(piece) > 80:
            lines.append(cur)
            cur = ""
        cur += piece
    return lines + [cur]


def _dictionary(ds: Dataset, names: list[str]) -> list[str]:
    out = ["dictionary {"]
    for nm in names:
        v = ds.var(nm)
        lab = f' "{v.label}"' if v.label else ""
        out.append(f"    {v.vtype:<8} {nm}{lab}")
    return out + ["}"]


@command("outfile", byable=False, qualifiers="if in", body="anything", using="required",
         family="Files", desc="write the data to a text file that infile reads back",
         example="outfile id ses mathach using hsb.raw, replace",
         options=(Opt("dictionary", "dict", desc="write the file in Stata's dictionary format"),
                  Opt("nolabel", "nol", desc="numeric codes, not value labels"),
                  Opt("noquote", "noq", desc="do not enclose strings in double quotes"),
                  Opt("comma", desc="comma-separated values"),
                  Opt("wide", desc="one line per observation"),
                  Opt("replace", desc="overwrite an existing file")))
def outfile_cmd(session, cmd):
    from hlmshell.commands._toolkit import varlist
    from hlmshell.data.atomic import atomic_write
    from hlmshell.data.locate import target_path

    opts = typed_args(cmd)
    body, fname = split_using(cmd.body or "")
    if not fname:
        raise StataError("using required", 100)
    ds = session.data
    names = varlist(session, body)
    if not names:
        raise StataError("no variables defined", 111)
    mask = touse(session, cmd)
    path = target_path(fname, ".dct" if opts.dictionary else ".raw")
    if path.exists() and not opts.replace:
        raise StataError(f"file {path} already exists", 602)
    vars_ = [ds.var(nm) for nm in names]
    lines = _dictionary(ds, names) if opts.dictionary else []
    for i in np.flatnonzero(mask):
        lines += _records([_out_cell(ds, v, v.values[i], opts) for v in vars_], opts)
    with atomic_write(path, shown=str(path), text=True) as fh:
        for ln in lines:
            fh.write(ln + "\n")
