"""use, save, import/export delimited, log — moving data and output in and out of the session."""
from __future__ import annotations

import codecs
import csv
import datetime as _dt
import functools
import io
import math
import re
from pathlib import Path

import numpy as np

from hlmshell.commands.inspect import touse, value_text, varlist
from hlmshell.commands.generate import strict_args
from hlmshell.registry import REGISTRY, Args, Opt, Sub, command
from hlmshell.data.dataset import INT_LIMITS, Dataset, Variable
from hlmshell.data.atomic import (atomic_write, create_replacing, fsync_file, open_append,
                                  write_failed)
from hlmshell.data.dta import STR_MAX, read_dta, write_dta
from hlmshell.data.locate import file_spec, file_specs, find_data, target_path, unquote
from hlmshell.data.missing import missing_code, missing_str
from hlmshell.errors import StataError, syntax_error
from hlmshell.limits import no_memory
from hlmshell.output.numfmt import fmt_count
from hlmshell.syntax.numlist import numlist


def memory_guard(fn):
    """Running out of memory while reading or writing a file is Stata's r(909) (the
    interpreter puts the session back), not an internal error."""
    @functools.wraps(fn)
    def run(session, cmd):
        try:
            return fn(session, cmd)
        except MemoryError:
            raise no_memory() from None

    return run


_USING = re.compile(r"(?:^|\s)using\s+(.+)$", re.S)


def split_using(body: str, many: bool = False):
    """'a b using f.dta' -> ('a b', 'f.dta'); the file part may be quoted. With many=True the
    file part is a list of names (`append using a b`)."""
    m = _USING.search(body or "")
    if not m:
        return (body or "").strip(), None
    files = m.group(1).strip()
    return body[: m.start()].strip(), file_specs(files) if many else file_spec(files)


def check_can_replace_data(session, clear: bool) -> None:
    """Stata's r(4): refuse to discard unsaved changes unless `clear` was given."""
    if not clear and session.data.changed and (session.data.names or session.data.n):
        raise StataError("no; dataset in memory has changed since last saved", 4)


# ----------------------------------------------------------------------------- use
def _parse_use(cmd) -> tuple[str, str]:
    """`use [varlist] [if] [in] using file [, opts]` or `use file [, opts]` -> (varlist, file).

    `use` takes its text raw: the generic parser would read `if x using f` as one expression.
    """
    from hlmshell.syntax.ast import Command
    from hlmshell.syntax.lexer import top_words
    from hlmshell.syntax.parser import fill_qualifiers

    text = cmd.body
    at = next(((a, b) for a, b in top_words(text) if text[a:b] == "using"), None)
    if at is None:
        fill_qualifiers(cmd, text, allow_exp=False)
        return "", file_spec(cmd.body)
    tail = Command("use")
    fill_qualifiers(tail, text[at[1]:], allow_exp=False)
    head = Command("use")
    fill_qualifiers(head, text[: at[0]], allow_exp=False)
    cmd.options, cmd.body = tail.options, head.body
    cmd.if_ = head.if_ if head.if_ is not None else tail.if_
    cmd.in_ = head.in_ if head.in_ is not None else tail.in_
    cmd.weight = head.weight if head.weight is not None else tail.weight
    return head.body, file_spec(tail.body)


@command("use", raw=True, byable=False,
          family="Files", using="optional", desc="load a Stata dataset", example="use hsb, clear",
          options=(Opt("clear", desc="replace the data in memory, even if changed"),
                   Opt("nolabel", "nol", desc="do not load value labels")))
@memory_guard
def use_cmd(session, cmd):
    if cmd.if_ is None and cmd.in_ is None and not cmd.options:
        vars_text, fname = _parse_use(cmd)
    else:  # already split (a hand-built Command)
        vars_text, fname = split_using(cmd.body)
        if fname is None:
            fname, vars_text = file_spec(cmd.body), ""
    opts = strict_args(cmd)
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    if not fname:
        raise StataError("invalid file specification", 198)
    check_can_replace_data(session, opts.clear)
    new = _read_use(fname, opts.nolabel)
    if vars_text or cmd.if_ is not None or cmd.in_ is not None:
        _use_subset(session, cmd, new, vars_text)
    session.data = new


def _read_use(fname: str, nolabel: bool) -> Dataset:
    """The dataset `use` loads (without its value labels with nolabel); a URL is fetched."""
    from hlmshell.data.remote import is_url, read_remote_dta

    url = unquote(fname)
    if is_url(url):
        if not Path(url.rsplit("/", 1)[-1]).suffix:
            url += ".dta"               # as for a file: `use https://.../hsb` reads hsb.dta
        new = read_remote_dta(url)
    else:
        new = read_dta(find_data(fname))
    new.filename = fname if Path(fname).suffix else fname + ".dta"
    if nolabel:
        new.value_labels = {}
        new.vars = {k: v.evolve(vallab=None) for k, v in new.vars.items()}
    return new


def _use_subset(session, cmd, new: Dataset, vars_text: str) -> None:
    """`use varlist if in using`: keep those variables and observations of the loaded data
    (the varlist and if/in are read against it)."""
    old = session.data
    session.data = new
    try:
        keep = varlist(session, vars_text) if vars_text else list(new.names)
        mask = touse(session, cmd)
    finally:
        session.data = old
    new.drop([n for n in new.names if n not in keep])
    if not mask.all():
        new.take(mask)
    new.changed = False


@command("sysuse", raw=True, byable=False,
          family="Files", desc="load a dataset shipped with hlmshell", example="sysuse hsb, clear",
          options=(Opt("clear", desc="replace the data in memory, even if changed"),))
def sysuse_cmd(session, cmd):
    """`sysuse name` loads only the sample data shipped with hlmshell."""
    from hlmshell.data.locate import sample_data_dir, with_ext

    vars_text, fname = _parse_use(cmd)
    opts = strict_args(cmd)
    if vars_text or cmd.if_ is not None or cmd.in_ is not None or not fname:
        raise syntax_error()
    d = sample_data_dir()
    if fname == "dir":
        _sysuse_dir(session, d)
        return
    name = with_ext(fname)
    if d is not None and (d / name).is_file():
        check_can_replace_data(session, opts.clear)
        new = read_dta(d / name)
    else:
        new = _from_web(session, cmd.name, name, d, opts.clear)
    new.filename = name
    session.data = new


def _from_web(session, verb: str, name: str, d, clear: bool) -> Dataset:
    """A dataset not shipped with hlmshell, from Stata Press's web folder (`webuse set`
    changes it) where `sysuse` and `webuse` datasets are published; offline, Stata's network
    error plus what is available here."""
    from hlmshell.data.remote import DEFAULT_WEBUSE, read_remote_dta, webuse_url

    check_can_replace_data(session, clear)
    url = webuse_url(session.settings.get("webuse_prefix", DEFAULT_WEBUSE), name)
    try:
        new = read_remote_dta(url)
    except StataError as err:
        if err.rc in (601, 631, 677):
            raise _not_offline(verb, name, d, err) from None
        raise
    if verb == "sysuse":
        session.out.line(f"({name} is not shipped with hlmshell; read from {url})")
    return new


def _shipped(d) -> list[str]:
    return sorted(p.name for p in d.glob("*.dta")) if d is not None and d.is_dir() else []


def _sysuse_dir(session, d) -> None:
    """`sysuse dir`: the datasets shipped with hlmshell, in columns as Stata lists them."""
    names = _shipped(d)
    width = max((len(n) for n in names), default=0) + 2
    per_line = max(1, 76 // max(width, 1))
    for i in range(0, len(names), per_line):
        session.out.line("  " + "".join(n.ljust(width) for n in names[i:i + per_line]).rstrip())


def _not_offline(verb: str, name: str, d, err: StataError) -> StataError:
    """Stata's error for the failed download, saying plainly which datasets are here offline."""
    have = ", ".join(_shipped(d)) or "none"
    first = f"file {name} not found" if err.rc == 601 else err.message
    return StataError(f"{first}\n{verb}: {name} is not shipped with hlmshell and could not be "
                      f"fetched from the web; the shipped datasets are available offline ({have}); "
                      "type `sysuse dir`", 601 if verb == "sysuse" else err.rc)


@command("webuse", raw=True, byable=False,
          family="Files", desc="load a packaged copy of a Stata web dataset", example="webuse hsb, clear",
          options=(Opt("clear", desc="replace the data in memory, even if changed"),))
def webuse_cmd(session, cmd):
    """`webuse name`: the packaged copy if there is one (hsb), else Stata Press's web folder;
    `webuse set [url]` and `webuse query` set and show that folder."""
    from hlmshell.data.remote import DEFAULT_WEBUSE, is_url

    words = cmd.body.split(None, 1)
    if words and words[0] in ("set", "query") and not cmd.options:
        if words[0] == "set":
            url = unquote(words[1].strip()) if len(words) > 1 else DEFAULT_WEBUSE
            if not is_url(url):
                raise StataError("invalid URL", 669)
            session.settings["webuse_prefix"] = url.rstrip("/")
        prefix = session.settings.get("webuse_prefix", DEFAULT_WEBUSE)
        session.out.line(f'(prefix now "{prefix}")')
        return
    sysuse_cmd(session, cmd)


# ----------------------------------------------------------------------------- save
@command("save", abbrev="sa", byable=False, qualifiers="",
          family="Files", body="anything", desc="save the data in memory", example="save mydata, replace",
          options=(Opt("replace", desc="overwrite an existing file"),
                   Opt("nolabel", "nol", desc="omit value labels from the saved dataset"),
                   Opt("orphans", desc="save all value labels (accepted; all are saved)"),
                   Opt("emptyok", desc="save even if there are no variables")))
@memory_guard
def save_cmd(session, cmd):
    save_with(session, cmd, strict_args(cmd), lambda ds, path, shown: write_dta(ds, path, shown=shown))


def save_with(session, cmd, opts: Args, write) -> None:
    """What `save` and `saveold` share: the file name (default: the data's own), the checks
    Stata makes, and the bookkeeping after the file is written by `write(ds, path, shown)`."""
    ds = session.data
    fname = file_spec(cmd.body)
    if not fname:
        if not ds.filename:
            raise StataError("invalid file specification", 198)
        fname = ds.filename
    if not ds.names and not opts.emptyok:
        raise StataError("no variables defined", 111)
    path = target_path(fname)
    shown = str(path)
    if path.exists() and not opts.replace:
        raise StataError(f"file {shown} already exists", 602)
    if opts.replace and not path.exists():
        session.out.line(f"(file {shown} not found)")
    out = ds
    if opts.nolabel:
        out = ds.copy()
        out.value_labels = {}
        out.vars = {k: v.evolve(vallab=None) for k, v in out.vars.items()}
    write(out, path, shown)
    session.out.line(f"file {shown} saved")
    ds.filename = shown
    ds.changed = False


# ----------------------------------------------------------------------------- import delimited
def _infer_type(strings: list[str]) -> tuple[str, np.ndarray]:
    """Column of CSV cells -> (storage type, values), as import delimited decides."""
    vals = np.empty(len(strings), dtype=np.float64)
    numeric = True
    for i, s in enumerate(strings):
        t = s.strip()
        if t == "" or t == ".":
            vals[i] = np.nan
            continue
        if len(t) == 2 and t[0] == "." and t[1].isalpha() and t[1].islower():
            vals[i] = np.nan
            continue
        try:
            vals[i] = float(t)
        except ValueError:
            numeric = False
            break
        if not np.isfinite(vals[i]):
            numeric = False
            break
    if not numeric:
        width = max((len(s.encode("utf-8")) for s in strings), default=1)
        return _str_type(width), np.array(strings, dtype=object)
    ok = vals[~np.isnan(vals)]
    if ok.size == 0:
        return "byte", vals
    if np.all(ok == np.round(ok)):
        for t in ("byte", "int", "long"):
            lo, hi = INT_LIMITS[t]
            if ok.min() >= lo and ok.max() <= hi:
                return t, vals
        return "double", vals
    return "float", vals.astype(np.float32).astype(np.float64)


def _str_type(width: int) -> str:
    """str# up to Stata's str2045; a longer cell makes the column strL (as Stata's import
    delimited does), so nothing is cut."""
    return "strL" if width > STR_MAX else f"str{max(1, width)}"


def _csv_rows(text: str, delim: str) -> list[list[str]]:
    """All rows of the file; the csv module's 128 KB cell limit is lifted for the read
    (Stata reads such a cell into a strL) and put back after, as it is process-wide."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, len(text) + 1, 1 << 20))
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delim))
    except csv.Error as exc:
        raise StataError(f"file could not be read as delimited text ({exc})", 692) from None
    finally:
        csv.field_size_limit(old)


_NAME_BAD = re.compile(r"\W")      # Unicode letters and digits stay (Stata 14+ names are Unicode)


def _decode_file(session, path: Path, encoding: str) -> str:
    """The file's text in `encoding`; byte sequences not valid in it become U+FFFD, with a
    note saying how many (the rest of the file is still read)."""
    raw = path.read_bytes()
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        pass
    text = raw.decode(encoding, errors="replace")
    bad = text.count("\ufffd") - raw.decode(encoding, errors="ignore").count("\ufffd")
    session.out.line(f"(note: {bad} invalid byte sequence{'s' if bad != 1 else ''} in encoding "
                     f"{encoding} replaced by U+FFFD; see the encoding() option)")
    return text


def _varname(raw: str, j: int, used: set[str], case: str) -> str:
    nm = _NAME_BAD.sub("", raw.strip().replace(" ", "_"))
    if nm.encode("utf-8") and len(nm.encode("utf-8")) > 128:
        nm = nm.encode("utf-8")[:128].decode("utf-8", errors="ignore")
    if case == "lower":
        nm = nm.lower()
    elif case == "upper":
        nm = nm.upper()
    if not nm or nm[0].isdigit():
        nm = f"v{j + 1}"
    nm = nm[:32]
    base, k = nm, 1
    while nm in used:
        k += 1
        nm = f"{base[:30]}{k}"
    used.add(nm)
    return nm


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _column_set(words: list[str] | None, k: int, name: str) -> set[int]:
    """stringcols()/numericcols(): a numlist of column numbers or _all."""
    if words is None:
        return set()
    if words == ["_all"]:
        return set(range(1, k + 1))
    try:
        cols = numlist(" ".join(words).replace(",", " "))     # Stata's numlists take commas
    except StataError:
        raise StataError(f"option {name}() invalid", 198) from None
    if not cols or any(c != int(c) or c < 1 for c in cols):
        raise StataError(f"option {name}() invalid", 198)
    return {int(c) for c in cols}


_IMPORT_OPTS = (Opt("clear", desc="replace the data in memory, even if changed"),
                Opt("varnames", "varn", "string", desc="1: variable names in the first row; nonames: none"),
                Opt("delimiters", "delim", "string", desc='column delimiter: a character, "tab" or "\\t" (default: sniffed)'),
                Opt("case", type="string", desc="case of variable names: lower (default), upper or preserve"),
                Opt("asdouble", desc="import floating-point columns as double"),
                Opt("encoding", type="string", desc="text encoding of the file (default utf-8)"),
                Opt("stringcols", type="numlist", desc="columns (numbers or _all) imported as strings"),
                Opt("numericcols", type="numlist", desc="columns (numbers or _all) imported as numbers"))
_EXPORT_OPTS = (Opt("replace", desc="overwrite an existing file"),
                Opt("nolabel", desc="write values, not value labels"),
                Opt("delimiter", "delim", "string", desc='column delimiter: a character or "tab" (default comma)'),
                Opt("novarnames", desc="do not write variable names in the first row"),
                Opt("quote", desc="quote every cell"),
                Opt("datafmt", desc="write numbers in their display formats"))
_XL_IMPORT_OPTS = (Opt("clear", desc="replace the data in memory, even if changed"),
                   Opt("sheet", type="string", desc="worksheet to read (default: the first)"),
                   Opt("cellrange", type="string", desc="[start][:end] cells to read, e.g. A1:D20"),
                   Opt("firstrow", desc="variable names from the first row"),
                   Opt("case", type="string", desc="case of variable names: preserve (default), lower or upper"),
                   Opt("allstring", desc="import all columns as strings"))
_XL_EXPORT_OPTS = (Opt("replace", desc="overwrite an existing file"),
                   Opt("sheet", type="string", desc='worksheet name ("Sheet1" by default)'),
                   Opt("firstrow", type="string", desc="variables or varlabels: write names or labels in the first row"),
                   Opt("sheetreplace", desc="replace the worksheet of an existing workbook"),
                   Opt("sheetmodify", desc="write into the worksheet of an existing workbook"),
                   Opt("cell", type="string", desc="upper-left cell to write to (default A1)"),
                   Opt("nolabel", desc="write values, not value labels"))
_OTHER_IMPORTS = ("sas", "spss", "fred", "haver", "sasxport5", "sasxport8")


def _import_subcommand(body: str) -> tuple[str, str]:
    """`import delimited ...` -> (the subcommand as typed, the text after it); other kinds
    are refused."""
    sub, _, rest = body.strip().partition(" ")
    if REGISTRY.resolve("import").subcommand(sub) is None:
        if sub in _OTHER_IMPORTS:
            raise StataError(f"import {sub} is not available in hlmshell", 199)
        raise StataError("invalid syntax", 198)
    return sub, rest.strip()


def _import_filename(rest: str) -> str:
    """`[using] filename` -> the file named."""
    if rest.startswith("using"):
        rest = rest[5:].strip()
    fname = file_spec(rest)
    if not fname:
        raise StataError("invalid file specification", 198)
    return fname


def _import_settings(opts: Args) -> tuple[str, str, str]:
    """delimiters(), encoding() and case() -> (delimiter or "" to sniff, encoding, case)."""
    delim = unquote(opts.delimiters or "")
    if delim in ("tab", "\\t"):
        delim = "\t"
    encoding = (opts.encoding or "utf-8").strip('"')
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise StataError("option encoding() invalid", 198) from None
    case = opts.case or "lower"
    if case not in ("preserve", "lower", "upper"):
        raise StataError("option case() invalid", 198)
    return delim, encoding, case


def _sniff_delimiter(text: str) -> str:
    """Tab when the first line has more tabs than commas, else comma."""
    first = text.splitlines()[0] if text else ""
    return "\t" if first.count("\t") > first.count(",") else ","


def _import_rows(text: str, delim: str, varnames: str | None) -> tuple[list[str], list[list[str]]]:
    """The file's non-empty rows split into (header cells, data rows) as varnames() says."""
    rows = [r for r in _csv_rows(text, (delim or _sniff_delimiter(text))[0]) if r != []]
    vn = varnames or "1"
    if vn not in ("1", "nonames"):
        raise StataError("option varnames() invalid", 198)
    if vn != "nonames" and rows:
        return rows[0], rows[1:]
    return [], rows


def _import_column_sets(opts: Args, k: int) -> tuple[set[int], set[int]]:
    """stringcols() and numericcols() as sets of 1-based column numbers (disjoint)."""
    as_string = _column_set(opts.stringcols, k, "stringcols")
    as_number = _column_set(opts.numericcols, k, "numericcols")
    if as_string & as_number:
        raise StataError("options stringcols() and numericcols() may not name the same column", 198)
    return as_string, as_number


def _import_values(cells: list[str], col: int, as_string: set[int], as_number: set[int],
                   asdouble: bool) -> tuple[str, np.ndarray]:
    """One column's cells -> (storage type, values)."""
    if col in as_string:
        width = max((len(c.encode("utf-8")) for c in cells), default=1)
        vtype, vals = _str_type(width), np.array(cells, dtype=object)
    elif col in as_number:
        vtype, vals = _infer_type([c if _is_number(c) else "" for c in cells])
    else:
        vtype, vals = _infer_type(cells)
    if asdouble and vtype == "float":
        # numericcols() columns may hold non-numbers ("NA"): missing, as without asdouble
        vals = np.array([float(c) if _is_number(c) else np.nan for c in cells])
        vtype = "double"
    return vtype, vals


def _import_dataset(head: list[str], data: list[list[str]], k: int, case: str,
                    column_sets: tuple[set[int], set[int]], asdouble: bool) -> Dataset:
    """The imported columns as a new (unchanged) dataset."""
    ds = Dataset()
    used: set[str] = set()
    for j in range(k):
        raw = head[j] if j < len(head) else ""
        name = _varname(raw, j, used, case) if raw.strip() else _varname("", j, used, case)
        cells = [r[j] if j < len(r) else "" for r in data]
        vtype, vals = _import_values(cells, j + 1, *column_sets, asdouble)
        label = raw.strip() if raw.strip() and raw.strip() != name else ""
        ds.vars[name] = Variable(name, vals, vtype, label=label)
    ds._n = len(data)
    ds.changed = False
    return ds


@command("import", byable=False, qualifiers="",
          family="Files", body="anything", using="optional", desc="import data (import delimited)", example="import delimited using hsb.csv, clear",
          subcommands=(Sub("delimited", "delim", "import a delimited text file", _IMPORT_OPTS, "using filename"),
                       Sub("excel", "exc", "import an Excel .xlsx worksheet", _XL_IMPORT_OPTS, "[using] filename")))
@memory_guard
def import_cmd(session, cmd):
    sub, rest = _import_subcommand(cmd.body)
    opts = strict_args(cmd, sub)
    fname = _import_filename(rest)
    if REGISTRY.resolve("import").subcommand(sub).name == "excel":
        _import_excel(session, fname, opts)
        return
    check_can_replace_data(session, opts.clear)
    path = find_data(fname, ".csv")
    delim, encoding, case = _import_settings(opts)
    text = _decode_file(session, path, encoding)
    head, data = _import_rows(text, delim, opts.varnames)
    k = max([len(head)] + [len(r) for r in data]) if (head or data) else 0
    column_sets = _import_column_sets(opts, k)
    session.data = _import_dataset(head, data, k, case, column_sets, opts.asdouble)
    session.out.line(f"({k} vars, {fmt_count(len(data))} obs)")


def _csv_number(x: float, vtype: str) -> str:
    if np.isnan(x):
        c = int(missing_code(np.array([x]))[0])
        return "" if c <= 0 else missing_str(x)
    if vtype in ("byte", "int", "long") or float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    if vtype == "float":
        return _lead0(str(np.float32(x)))
    return _lead0(repr(float(x)))


def _lead0(s: str) -> str:
    if s.startswith("0."):
        return s[1:]
    if s.startswith("-0."):
        return "-" + s[2:]
    return s


@command("export", byable=False, qualifiers="if in",
          family="Files", body="anything", using="required", desc="export data (export delimited)", example="export delimited using out.csv, replace",
          subcommands=(Sub("delimited", "delim", "export a delimited text file", _EXPORT_OPTS, "[varlist] using filename"),
                       Sub("excel", "exc", "export to an Excel .xlsx worksheet", _XL_EXPORT_OPTS, "[varlist] using filename")))
@memory_guard
def export_cmd(session, cmd):
    body = cmd.body.strip()
    sub, _, rest = body.partition(" ")
    if REGISTRY.resolve("export").subcommand(sub) is None:
        raise StataError("invalid syntax", 198)
    opts = strict_args(cmd, sub)
    vars_text, fname = split_using(rest)
    if fname is None:
        raise StataError("using required", 100)
    if REGISTRY.resolve("export").subcommand(sub).name == "excel":
        _export_excel(session, cmd, vars_text, fname, opts)
        return
    names = varlist(session, vars_text)
    mask = touse(session, cmd)
    path = target_path(fname, ".csv")
    if path.exists() and not opts.replace:
        raise StataError(f"file {path} already exists", 602)
    delim = unquote(opts.delimiter or ",")
    if delim == "tab":
        delim = "\t"
    ds = session.data
    idx = np.flatnonzero(mask)
    cols = [_export_cells(ds, ds.vars[nm], idx, opts) for nm in names]
    with atomic_write(path, shown=str(path), text=True) as fh:
        w = csv.writer(fh, delimiter=delim[0], lineterminator="\n",
                       quoting=csv.QUOTE_ALL if opts.quote else csv.QUOTE_MINIMAL)
        if not opts.novarnames:
            w.writerow(names)
        w.writerows(zip(*cols) if cols else [])
    session.out.line(f"file {path} saved")


def _export_cells(ds, v, idx, opts: Args) -> list:
    """One variable's cells as export delimited writes them (labels unless nolabel)."""
    if v.is_string:
        return [v.values[i] for i in idx]
    if not opts.nolabel and v.vallab and v.vallab in ds.value_labels:
        tab = ds.value_labels[v.vallab]
        return [tab.get(float(v.values[i]), None) or _csv_number(v.values[i], v.vtype)
                if not np.isnan(v.values[i]) else _csv_number(v.values[i], v.vtype)
                for i in idx]
    if opts.datafmt:
        return [value_text(ds, v, v.values[i], labels=False) if not np.isnan(v.values[i])
                else "" for i in idx]
    return [_csv_number(v.values[i], v.vtype) for i in idx]


# ----------------------------------------------------------------------------- excel
def _import_excel(session, fname: str, opts: Args) -> None:
    from hlmshell.commands import _excel

    check_can_replace_data(session, opts.clear)
    path = find_data(fname, ".xlsx")
    case = opts.case or "preserve"
    if case not in ("preserve", "lower", "upper"):
        raise StataError("option case() invalid", 198)
    sheet = unquote(opts.sheet) if opts.sheet is not None else None
    rows, c0 = _excel.read_sheet(path, sheet, opts.cellrange)
    ds = _excel.excel_dataset(rows, c0, opts.firstrow, case, opts.allstring)
    session.data = ds
    session.out.line(f"({len(ds.names)} vars, {fmt_count(ds.n)} obs)")


def _export_excel(session, cmd, vars_text: str, fname: str, opts: Args) -> None:
    from hlmshell.commands import _excel

    names = varlist(session, vars_text)
    mask = touse(session, cmd)
    path = target_path(fname, ".xlsx")
    if opts.sheetreplace and opts.sheetmodify:
        raise StataError("options sheetreplace and sheetmodify may not be combined", 198)
    if opts.replace and (opts.sheetreplace or opts.sheetmodify):
        raise StataError("option replace may not be combined with sheetreplace or sheetmodify", 198)
    firstrow = opts.firstrow
    if firstrow is not None and firstrow not in ("variables", "varlabels"):
        raise StataError("option firstrow() invalid", 198)
    exists = path.exists()
    if exists and not (opts.replace or opts.sheetreplace or opts.sheetmodify):
        raise StataError(f"file {path} already exists", 602)
    mode = "new" if not exists or opts.replace else ("sheetreplace" if opts.sheetreplace else "sheetmodify")
    sheet = unquote(opts.sheet) if opts.sheet else "Sheet1"
    _excel.write_sheet(path, exists, session.data, names, np.flatnonzero(mask), sheet=sheet,
                       mode=mode, firstrow=firstrow, cell=opts.cell, nolabel=opts.nolabel,
                       shown=str(path))
    session.out.line(f"file {path} saved")


# ----------------------------------------------------------------------------- log
class LogFile:
    """An open `log using` target; `log off` pauses it without closing.

    The file is created through hlmshell.data.atomic: with `replace` the new log is made
    beside the old one and renamed over it at open time, so a log that cannot be created
    leaves the old one whole. A write that fails later (disk full) turns the log off, says
    so once on the screen and keeps the session going: the log is not the user's data.
    """

    def __init__(self, path: Path, append: bool, kind: str, name: str, out=None):
        self.path, self.kind, self.name = path, kind, name
        shown = str(path)
        self.fh = open_append(path, shown=shown) if append else create_replacing(path, shown=shown)
        self.on = True
        self.failed = False
        self.out = out

    def write(self, text: str) -> None:
        if self.on and not self.failed:
            try:
                self.fh.write(text)
                self.fh.flush()
            except OSError:
                self._fail()

    def _fail(self) -> None:
        self.failed = True
        self.on = False
        if self.out is not None:
            err = write_failed(str(self.path))
            self.out.line(f"{err.message}; log {self.name} turned off")

    def close(self) -> None:
        """Flush, fsync and close; a failure here is r(693) (the log is closed either way)."""
        try:
            if not self.failed:
                self.fh.flush()
                fsync_file(self.fh.fileno())
        except OSError:
            self.failed = True
        finally:
            try:
                self.fh.close()
            except OSError:
                self.failed = True


def _logs(session) -> list:
    return [f for f in session.out.logs if isinstance(f, LogFile)]


def _log_banner(session, lf: LogFile, verb: str) -> None:
    now = _dt.datetime.now()
    stamp = f"{now.day:2d} {now:%b %Y, %H:%M:%S}"
    out = session.out
    if verb == "opened":
        out.line("-" * 79)
    out.line(f"      name:  {lf.name}")
    out.line(f"       log:  {lf.path.resolve()}")
    out.line(f"  log type:  {lf.kind}")
    out.line(f" {verb} on:  {stamp}")
    if verb == "closed":
        out.line("-" * 79)


@command("log", byable=False, qualifiers="",
          family="Files", body="anything", desc="log the session to a file", example="log using session, replace text",
          subcommands=(Sub("using", "using", "open a log file",
                           (Opt("replace", desc="overwrite an existing log file"),
                            Opt("append", desc="append to an existing log file"),
                            Opt("text", desc="write the log as plain text (the default)"),
                            Opt("smcl", desc="write the log as SMCL"),
                            Opt("name", type="name", desc="name of the log (default <unnamed>)")),
                           "filename"),
                       Sub("close", "close", "close a log"), Sub("off", "off", "suspend logging"),
                       Sub("on", "on", "resume logging"), Sub("query", "query", "report the open logs")))
def log_cmd(session, cmd):
    sub, _, rest = cmd.body.strip().partition(" ")
    rest = rest.strip()
    opts = strict_args(cmd, sub)
    if sub == "using":
        _log_using(session, rest, opts)
        return
    if sub in ("query", ""):
        _log_query(session)
    elif sub in ("close", "off", "on"):
        _log_switch(session, sub, rest)
    else:
        raise StataError("invalid syntax", 198)


def _log_target(fname: str, opts: Args) -> tuple[Path, str]:
    """`log using` file and options -> (path, log type), refusing what Stata refuses."""
    if not fname:
        raise StataError("invalid file specification", 198)
    kind = "smcl" if opts.smcl and not opts.text else "text"
    path = target_path(fname, ".smcl" if kind == "smcl" else ".log")
    if opts.replace and opts.append:
        raise StataError("options replace and append may not be combined", 198)
    if path.exists() and not (opts.replace or opts.append):
        raise StataError(f"file {path.resolve()} already exists", 602)
    return path, kind


def _log_using(session, rest: str, opts: Args) -> None:
    """`log using filename [, replace append text smcl name()]`: open a log and say so."""
    name = opts.name or "<unnamed>"
    if any(lf.name == name for lf in _logs(session)):
        raise StataError("log file already open", 604)
    path, kind = _log_target(file_spec(rest), opts)
    lf = LogFile(path, opts.append, kind, name, session.out)
    session.out.logs.append(lf)
    _log_banner(session, lf, "opened")


def _log_query(session) -> None:
    """`log` / `log query`: each open log's name, file, type and status."""
    open_logs = _logs(session)
    if not open_logs:
        session.out.line("no log file open")
    for lf in open_logs:
        session.out.line(f"      name:  {lf.name}")
        session.out.line(f"       log:  {lf.path.resolve()}")
        session.out.line(f"  log type:  {lf.kind}")
        session.out.line(f"    status:  {'on' if lf.on else 'off'}"
                         + ("  (file I/O error on write)" if lf.failed else ""))


def _log_switch(session, sub: str, rest: str) -> None:
    """`log close|off|on [name|_all]`; a close whose final flush failed is r(693)."""
    open_logs = _logs(session)
    target = [lf for lf in open_logs if rest in ("", "_all") or lf.name == rest]
    if not target:
        if sub == "close" and not open_logs:
            raise StataError("no log file open", 606)
        raise StataError(f"log {rest or ''} not found".replace("  ", " "), 111)
    for lf in target:
        if sub == "close":
            _log_banner(session, lf, "closed")
            session.out.logs.remove(lf)
            lf.close()
        else:
            lf.on = sub == "on" and not lf.failed
    failed = [lf for lf in target if sub == "close" and lf.failed]
    if failed:
        raise write_failed(str(failed[0].path))
