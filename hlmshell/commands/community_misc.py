"""Small community (SSC) data-description commands that public do-files call, built in.

    fre varlist [if] [in] [weight] [, format(#) nomissing nolabel novalue all tabulate(#)
        rows(#) includelabeled ascending descending]            (Ben Jann's fre)
    mdesc [varlist] [if] [in] [, abbreviate(#) any all none]    (Medeiros & Blanchette)
    distinct [varlist] [if] [in] [, missing abbrev(#) joint minimum(#) maximum(#)]
                                                                 (Longton & Cox)
    unique varlist [if] [in] [, by(varname) generate(newvar)]   (Tony Brady)
    bcuse name [, clear nodesc]                                  (Baum: Boston College data)

fre's table is its help file's: the values (and labels) in a column headed by the variable's
name and label, then Freq., Percent, Valid and Cum.; the valid values and their total, the
missing values and theirs, the grand total. mdesc lists missing counts, totals and percent
missing per variable; distinct the nonmissing and distinct counts. bcuse downloads a
Wooldridge dataset from fmwww.bc.edu (hlmshell.data.remote), failing offline with Stata's network
error codes.
"""
from __future__ import annotations

import os

import numpy as np

from hlmshell.commands._toolkit import ensure_data, touse, value_text, varlist, weights
from hlmshell.data.missing import missing_code, missing_str
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt
from hlmshell.registry import Opt, command
from hlmshell.results import RResults


def _abbrev(name: str, n: int) -> str:
    """Stata's abbrev(): names longer than n keep n-1 characters and a `~`."""
    return name if len(name) <= n else name[: max(n - 1, 1)] + "~"


def _is_missing(var) -> np.ndarray:
    return (var.values == "") if var.is_string else np.isnan(np.asarray(var.values, dtype=float))


# =========================================================================== mdesc
_MDESC = (Opt("abbreviate", "ab", "int", 12, "abbreviate names to # characters"),
          Opt("any", desc="observations missing on any variable"),
          Opt("all", desc="observations missing on all variables"),
          Opt("none", "no", desc="observations missing on none of the variables"))


@command("mdesc", family="Data", body="varlist", qualifiers="if in", options=_MDESC,
         changes_data=False, desc="missing values per variable (community: mdesc)",
         example="mdesc mathach ses")
def mdesc_cmd(session, cmd):
    opts = cmd.opts
    ensure_data(session)
    names = varlist(session, cmd.body)
    modes = [m for m in ("any", "all", "none") if m in opts]
    if len(modes) > 1:
        raise StataError("only one of any, all, or none may be specified", 198)
    if opts.abbreviate < 5:
        raise StataError("abbreviate() must be at least 5", 198)
    mask = touse(session, cmd)
    total = int(mask.sum())
    miss = {n: _is_missing(session.data.var(n))[mask] for n in names}
    out = session.out
    header = "    Variable    |     Missing          Total     Percent Missing"
    rule = "-" * 16 + "+" + "-" * 47
    out.line("")
    out.line(header)
    out.line(rule)
    rows = []
    if modes:
        stack = np.vstack([miss[n] for n in names]) if names else np.zeros((1, total), bool)
        hit = {"any": stack.any(axis=0), "all": stack.all(axis=0), "none": ~stack.any(axis=0)}[modes[0]]
        rows.append((f"{modes[0]}", int(hit.sum())))
    else:
        rows = [(n, int(miss[n].sum())) for n in names]
    for name, m in rows:
        pct = 100.0 * m / total if total else float("nan")
        out.line(f"{_abbrev(name, opts.abbreviate):>14}  |{m:>12,}{total:>15,}{_pct(pct):>15}")
    out.line(rule)
    m = rows[-1][1] if rows else 0
    macros = {}
    if not modes:
        macros = {"miss_vars": " ".join(n for n, k in rows if k), "notmiss_vars": " ".join(n for n, k in rows if not k)}
    session.r = RResults(scalars={"percent": 100.0 * m / total if total else float("nan"),
                                  "total": float(total), "miss": float(m)}, macros=macros)


def _pct(x: float) -> str:
    return "." if x != x else f"{x:.2f}"


# =========================================================================== distinct
_DISTINCT = (Opt("missing", "m", desc="missing values count as values"),
             Opt("abbrev", "a", "int", None, "abbreviate names to # characters"),
             Opt("joint", "j", desc="distinct combinations of the variables"),
             Opt("minimum", "min", "int", None, "show variables with at least # distinct values"),
             Opt("maximum", "max", "int", None, "show variables with at most # distinct values"))


def _distinct_count(cols) -> int:
    if not cols:
        return 0
    keys = [np.unique(c, return_inverse=True)[1] for c in cols]
    if len(keys) == 1:
        return int(keys[0].max()) + 1 if keys[0].size else 0
    return int(np.unique(np.vstack(keys).T, axis=0).shape[0]) if keys[0].size else 0


def _codes(var, rows: np.ndarray):
    """Values as something np.unique can compare, missing codes told apart."""
    v = var.values[rows]
    if var.is_string:
        return np.asarray(v, dtype=object).astype(str)
    x = np.asarray(v, dtype=float)
    code = missing_code(x)
    return np.where(code >= 0, np.inf, x) + 0.0, code


@command("distinct", family="Data", body="varlist", qualifiers="if in", options=_DISTINCT,
         changes_data=False, desc="numbers of distinct values (community: distinct)",
         example="distinct id sector")
def distinct_cmd(session, cmd):
    opts = cmd.opts
    ensure_data(session)
    names = varlist(session, cmd.body)
    mask = touse(session, cmd)
    ds = session.data
    results = []
    if opts.joint:
        rows = mask.copy()
        if not opts.missing:
            for n in names:
                rows &= ~_is_missing(ds.var(n))
        cols = []
        for n in names:
            c = _codes(ds.var(n), rows)
            cols += list(c) if isinstance(c, tuple) else [c]
        results.append(("", int(rows.sum()), _distinct_count(cols)))
    else:
        for n in names:
            rows = mask & (True if opts.missing else ~_is_missing(ds.var(n)))
            c = _codes(ds.var(n), rows)
            results.append((n, int(rows.sum()), _distinct_count(list(c) if isinstance(c, tuple) else [c])))
    shown = [r for r in results if (opts.minimum is None or r[2] >= opts.minimum)
             and (opts.maximum is None or r[2] <= opts.maximum)]
    _distinct_table(session, shown, opts)
    last = results[-1] if results else ("", 0, 0)
    session.r = RResults(scalars={"N": float(last[1]), "ndistinct": float(last[2])})


def _distinct_table(session, rows, opts) -> None:
    out = session.out
    out.line("")
    if opts.joint:
        out.line("        Observations")
        out.line("      total   distinct")
        for _, n, k in rows:
            out.line(f"{n:>11}{k:>11}")
        return
    ab = opts.abbrev if opts.abbrev is not None else 32
    names = [_abbrev(n, ab) for n, _, _ in rows]
    w = max([len(n) for n in names] + [1])
    out.line(" " * (w + 2) + "|        Observations")
    out.line(" " * (w + 2) + "|      total   distinct")
    out.line("-" * (w + 2) + "+" + "-" * 22)
    for name, (_, n, k) in zip(names, rows):
        out.line(f" {name:>{w}} |{n:>11}{k:>11}")


# =========================================================================== fre
_FRE = (Opt("format", "f", "int", 2, "decimals of the percentages"),
        Opt("nomissing", "nomis", desc="leave out missing values"),
        Opt("nolabel", "nol", desc="no value labels"),
        Opt("novalue", "nov", desc="labels only, not the values"),
        Opt("all", desc="every value"),
        Opt("tabulate", "t", "int", 20, "the # smallest and # largest values"),
        Opt("rows", "r", "int", None, "# rows"),
        Opt("includelabeled", "i", desc="labelled values that do not occur too"),
        Opt("ascending", "as", desc="rows in ascending order of frequency"),
        Opt("descending", "de", desc="rows in descending order of frequency"),
        Opt("notitle", "noti", desc="no caption"),
        Opt("noname", "non", desc="the label alone in the caption"))


def _fre_values(session, name, mask, w, opts):
    """[(value, label text, frequency)] of the valid and of the missing values."""
    ds = session.data
    var = ds.var(name)
    vals = var.values[mask]
    ww = w[mask]
    if var.is_string:
        uniq = sorted(set(vals), key=lambda s: s.encode("utf-8"))
        freq = {u: float(ww[vals == u].sum()) for u in uniq}
        valid = [(u, u, "", freq[u]) for u in uniq if u != ""]
        missing = [("", '""', "", freq[""])] if "" in freq else []
        return valid, missing
    x = np.asarray(vals, dtype=float)
    code = missing_code(x)
    labels = ds.value_labels.get(var.vallab, {}) if var.vallab and not opts.nolabel else {}
    keys = {}
    for xi, ci, wi in zip(x, code, ww):
        k = ("m", int(ci)) if ci >= 0 else ("v", float(xi))
        keys[k] = keys.get(k, 0.0) + float(wi)
    if opts.includelabeled:
        for lv in labels:
            c = int(missing_code(np.array([lv]))[0])
            keys.setdefault(("m", c) if c >= 0 else ("v", float(lv)), 0.0)
    valid, missing = [], []
    for k in sorted(keys, key=lambda t: (t[0] == "m", t[1])):
        xv = float(k[1]) if k[0] == "v" else None
        if k[0] == "v":
            text = value_text(ds, var, xv, labels=False)
            valid.append((xv, text, labels.get(xv, ""), keys[k]))
        else:
            from hlmshell.data.missing import ext_missing
            mv = ext_missing(k[1])
            lab = next((lab for lv, lab in labels.items() if int(missing_code(np.array([lv]))[0]) == k[1]), "")
            missing.append((mv, missing_str(mv), lab, keys[k]))
    return valid, missing


def _order(rows, opts):
    if opts.descending:
        return sorted(rows, key=lambda r: -r[3])
    if opts.ascending:
        return sorted(rows, key=lambda r: r[3])
    return rows


def _cells(rows, opts):
    """The row texts: `value label` with values padded to one width."""
    vw = max([len(r[1]) for r in rows] + [0])
    has_lab = any(r[2] for r in rows)
    out = []
    for r in rows:
        if opts.novalue and r[2]:
            out.append(r[2])
        elif has_lab:
            out.append(f"{r[1]:<{vw}} {r[2]}".rstrip() if r[2] else r[1])
        else:
            out.append(r[1])
    lw = max([len(c) for c in out] + [0])
    return [c.ljust(lw) if has_lab else c.ljust(vw) for c in out]


class _FreLayout:
    """Widths and number formats of one fre table."""

    def __init__(self, opts, valid_text, miss_text):
        self.d = opts.format
        self.show_valid = not opts.nomissing
        self.prefix_w = 0 if opts.nomissing else 8
        self.body_w = max([len(t) for t in valid_text + miss_text] + [5])
        self.width = self.prefix_w + self.body_w
        self.ncol = 4 if self.show_valid else 3

    def rule(self, mid: str) -> str:
        return "-" * (self.width + 1) + mid + "-" * (11 * self.ncol)

    def row(self, tag: str, text: str, cells: str) -> str:
        return f"{tag}{text:<{self.body_w}} |{cells}"

    def num(self, x) -> str:
        return f"{fmt(float(x), '%9.0g').strip():>11}"

    def pct(self, x, den) -> str:
        return f"{100.0 * x / den:>11.{self.d}f}" if den else f"{'.':>11}"


def _fre_limit(opts, n: int) -> list[int]:
    """Indices of the valid rows shown (-1: the `:` row between the smallest and largest)."""
    limit = None
    if not opts.all and opts.tabulate >= 1:
        limit = opts.rows // 2 if opts.rows is not None and "tabulate" not in opts else opts.tabulate
    idx = list(range(n))
    if limit is not None and n > 2 * limit:
        idx = idx[:limit] + [-1] + idx[-limit:]
    return idx


def _fre_valid_rows(lay: _FreLayout, valid, valid_text, total, n_valid, opts) -> list[str]:
    lines = []
    for k, i in enumerate(_fre_limit(opts, len(valid))):
        tag = ("Valid   " if k == 0 else " " * 8) if lay.prefix_w else ""
        if i < 0:
            lines.append(lay.row(tag, ":", f"{':':>11}" * lay.ncol))
            continue
        f = valid[i][3]
        cum = sum(r[3] for r in valid[: i + 1])
        cells = lay.num(f) + lay.pct(f, total) + (lay.pct(f, n_valid) if lay.show_valid else "") \
            + lay.pct(cum, n_valid)
        lines.append(lay.row(tag, valid_text[i], cells))
    return lines


def _fre_missing_rows(lay: _FreLayout, missing, miss_text, total, n_valid, n_miss) -> list[str]:
    lines = [lay.row(" " * 8, "Total", lay.num(n_valid) + lay.pct(n_valid, total) + lay.pct(n_valid, n_valid))]
    for k, (r, t) in enumerate(zip(missing, miss_text)):
        lines.append(lay.row("Missing " if k == 0 else " " * 8, t, lay.num(r[3]) + lay.pct(r[3], total)))
    if len(missing) > 1:
        lines.append(lay.row(" " * 8, "Total", lay.num(n_miss) + lay.pct(n_miss, total)))
    if missing:
        lines.append(f"{'Total':<{lay.width}} |" + lay.num(total) + lay.pct(total, total))
    return lines


def _fre_one(session, name, mask, w, opts):
    valid, missing = _fre_values(session, name, mask, w, opts)
    if opts.nomissing:
        missing = []
    valid = _order(valid, opts)
    n_valid = sum(r[3] for r in valid)
    n_miss = sum(r[3] for r in missing)
    total = n_valid + n_miss
    valid_text, miss_text = _cells(valid, opts), _cells(missing, opts)
    lay = _FreLayout(opts, valid_text, miss_text)
    label = session.data.var(name).label if not opts.nolabel else ""
    lines = [""]
    if not opts.notitle:
        lines.append(label if opts.noname and label else f"{name} -- {label}" if label else name)
    head = "      Freq.    Percent" + ("      Valid" if lay.show_valid else "") + "       Cum."
    lines += [lay.rule("-"), " " * (lay.width + 1) + "|" + head, lay.rule("+")]
    lines += _fre_valid_rows(lay, valid, valid_text, total, n_valid, opts)
    if lay.prefix_w:
        lines += _fre_missing_rows(lay, missing, miss_text, total, n_valid, n_miss)
    lines.append(lay.rule("-"))
    for ln in lines:
        session.out.line(ln)
    return total, n_valid, n_miss, len(valid), len(valid) + len(missing)


@command("fre", family="Data", body="varlist", qualifiers="if in weight",
         weights=("fweight", "aweight", "iweight"), options=_FRE, changes_data=False,
         desc="one-way frequency tables with labels and missing values (community: fre)",
         example="fre sector")
def fre_cmd(session, cmd):
    opts = cmd.opts
    names = varlist(session, cmd.body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    if not 0 <= opts.format <= 16:
        raise StataError("format() invalid", 198)
    mask = touse(session, cmd)
    w = weights(session, cmd, mask)
    if w is None:
        w = np.ones(session.data.n)
    else:
        mask = mask & ~np.isnan(w)
    if not mask.any():
        raise StataError("no observations", 2000)
    last = None
    for n in names:
        last = _fre_one(session, n, mask, w, opts)
    total, n_valid, n_miss, r_valid, r_all = last
    session.r = RResults(scalars={"N": total, "N_valid": n_valid, "N_missing": n_miss,
                                  "r": float(r_all), "r_valid": float(r_valid)},
                         macros={"depvar": names[-1], "label": session.data.var(names[-1]).label})


# =========================================================================== unique
_UNIQUE = (Opt("by", "by", "string", None, "count within the groups of varname"),
           Opt("generate", "gen", "string", None, "with by(): a variable holding each group's count"),
           Opt("detail", "d", desc="accepted (summary of the counts per group)"))


def _combo_codes(ds, names: list[str], rows: np.ndarray) -> np.ndarray:
    """One integer per observation in rows naming its combination of values (missing included)."""
    cols = []
    for n in names:
        c = _codes(ds.var(n), rows)
        cols += list(c) if isinstance(c, tuple) else [c]
    keys = np.vstack([np.unique(c, return_inverse=True)[1] for c in cols]).T
    return np.unique(keys, axis=0, return_inverse=True)[1].ravel()


@command("unique", family="Data", body="varlist", qualifiers="if in", options=_UNIQUE,
         desc="number of unique values (community: unique)", example="unique id")
def unique_cmd(session, cmd):
    """Tony Brady's unique: the number of distinct combinations of the variables' values
    (missing values are values) and the number of records; with by(), per group."""
    opts = cmd.opts
    ensure_data(session)
    names = varlist(session, cmd.body)
    mask = touse(session, cmd)
    ds = session.data
    n = int(mask.sum())
    codes = _combo_codes(ds, names, mask) if n else np.zeros(0, int)
    k = int(codes.max()) + 1 if n else 0
    out = session.out
    if opts.by is None:
        if opts.generate:
            raise StataError("generate() requires by()", 198)
        out.line(f"Number of unique values of {' '.join(names)} is  {k}")
        out.line(f"Number of records is  {n}")
        session.r = RResults(scalars={"N": float(n), "unique": float(k), "sum": float(k)})
        return
    by = varlist(session, opts.by)
    newname = opts.generate or "_Unique"
    if opts.generate:
        from hlmshell.commands.generate import check_newname
        check_newname(session, newname)
    groups = _combo_codes(ds, by, mask) if n else np.zeros(0, int)
    counts = np.array([np.unique(codes[groups == j]).size for j in range(int(groups.max()) + 1 if n else 0)])
    out.line(f"Number of unique values of {' '.join(names)} is  {k}")
    out.line(f"Number of records is  {n}")
    if opts.generate:
        from hlmshell.data.dataset import Variable
        vals = np.full(ds.n, np.nan)
        idx = np.flatnonzero(mask)
        vals[idx] = counts[groups]
        ds.add(Variable(newname, vals, "float" if vals[~np.isnan(vals)].max(initial=0) < 2 ** 24 else "double"))
    session.r = RResults(scalars={"N": float(n), "unique": float(k), "sum": float(counts.sum()),
                                  "maxJ": float(counts.max()) if counts.size else 0.0,
                                  "minJ": float(counts.min()) if counts.size else 0.0})


# =========================================================================== bcuse
_BC_URL = "http://fmwww.bc.edu/ec-p/data/wooldridge"


@command("bcuse", byable=False, qualifiers="", raw=True, family="Files",
         desc="load a Boston College (Wooldridge textbook) dataset from the web",
         example="bcuse wage1, clear")
def bcuse_cmd(session, cmd):
    """Kit Baum's bcuse: `use` of fmwww.bc.edu's copy of the Wooldridge textbook data, then
    `describe` (unless nodesc). HLMSHELL_BCUSE_PREFIX replaces the folder (the tests use a local
    server); offline it fails with the network's error and names the file it wanted."""
    from hlmshell.commands.files import check_can_replace_data
    from hlmshell.data.remote import read_remote_dta

    text, _, optext = (cmd.body or "").partition(",")
    words = text.split()
    if len(words) != 1:
        raise StataError("invalid syntax" if words else "dataset name required", 198 if words else 100)
    opts = [w.lower() for w in optext.split()]
    for w in opts:
        if w not in ("clear", "nodesc", "nodescribe"):
            raise StataError(f"option {w} not allowed", 198)
    name = words[0]
    fname = name if name.lower().endswith(".dta") else name + ".dta"
    url = f"{(os.environ.get('HLMSHELL_BCUSE_PREFIX') or _BC_URL).rstrip('/')}/{fname}"
    check_can_replace_data(session, "clear" in opts)
    try:
        new = read_remote_dta(url)
    except StataError as err:
        if err.rc not in (601, 631, 677):
            raise
        hint = f"; a local copy exists: type `use {fname}`" if os.path.isfile(fname) else ""
        raise StataError(f"file {url} not found\nbcuse: {err.message.splitlines()[0]}{hint}",
                         err.rc) from None
    new.filename = fname
    session.data = new
    if not {"nodesc", "nodescribe"} & set(opts):
        session.runner.run_command("describe")


# =========================================================================== log2html
_LOG2HTML = (Opt("replace", desc="overwrite the HTML file"),
             Opt("erase", desc="erase the log once converted"),
             Opt("title", "ti", "string", None, "title of the page"),
             Opt("input", "in", "string", None, "colour of commands (#rrggbb)"),
             Opt("result", "res", "string", None, "colour of results"),
             Opt("text", "te", "string", None, "colour of text"),
             Opt("error", "err", "string", None, "colour of errors"),
             Opt("bg", "bg", "string", None, "background colour"),
             Opt("linesize", "line", "int", None, "accepted (the log's own widths are kept)"),
             Opt("percentsize", "perc", "int", None, "accepted (font size is the browser's)"))


def _log_source(name: str) -> str:
    if os.path.splitext(name)[1]:
        cands = [name]
    else:
        cands = [name + ".smcl", name + ".log"]
    for c in cands:
        if os.path.isfile(c):
            return c
    raise StataError(f"file {cands[0]} not found", 601)


@command("log2html", byable=False, qualifiers="", body="anything", options=_LOG2HTML,
         changes_data=False, family="Files",
         desc="convert a SMCL or text log to an HTML page (community: log2html)",
         example="log2html mylog, replace title(My analysis)")
def log2html_cmd(session, cmd):
    from hlmshell.data.locate import file_spec
    from hlmshell.output.log_html import log_html
    from hlmshell.output.paper_tables import write_text
    opts = cmd.opts
    name = file_spec(cmd.body or "")
    if not name:
        raise StataError("invalid file specification", 198)
    src = _log_source(os.path.expanduser(name))
    target = os.path.splitext(src)[0] + ".html"
    if os.path.exists(target) and not opts.replace:
        raise StataError(f"file {target} already exists", 602)
    colours = {}
    for key in ("input", "result", "text", "error", "bg"):
        v = getattr(opts, key)
        if v is not None:
            v = v.strip().strip('"')
            if not v or any(ch in v for ch in '<>"\''):
                raise StataError(f"option {key}() incorrectly specified", 198)
            colours[key] = v
    try:
        with open(src, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        raise StataError(f"file {src} could not be opened", 603) from None
    title = (opts.title or "").strip().strip('"') or os.path.basename(src)
    write_text(target, log_html(text, title, colours), shown=target)
    if opts.erase:
        try:
            os.remove(src)
        except OSError:
            raise StataError(f"file {src} could not be erased", 693) from None
