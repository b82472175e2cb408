"""outreg2 (Roy Wada's SSC package), built in: regression tables written to files.

    outreg2 [varlist] [[namelist]] using filename [, replace append word excel tex[(frag)]
        ctitle() title() label dec(#) bdec(#) sdec(#) rdec(#) auto(#) keep() drop() nocons
        se|tstat|pvalue|ci stats(coef se tstat pval ci aster blank) level(#) noaster alpha()
        symbol() addtext() addstat() adec() nonotes addnote() nor2 adjr2 noni eform noparen
        bracket see|seeout]

Public multilevel do-files end their model sections with `outreg2 using results.doc,
replace ctitle(Model 1)` and, after each further model, `..., append ctitle(Model 2)`. Like
outreg2, the table always lives in a tab-delimited `filename.txt` (one column per model; a
multi-equation model such as `mixed` gets one column per equation, named after it: the fixed
part, then lns1_1_1, lnsig_e, ... in e(b)'s metric, as outreg2 shows them); `word` (or a
.doc/.rtf name) also writes an RTF document, `excel` (or .xls/.xml) an XML spreadsheet, `tex`
a LaTeX file, each rebuilt from the whole text table. `append` (the default when neither
replace nor append is given, as in outreg2) adds the new columns to the existing table, rows
matched by name. Every file goes through a temporary file and a rename. The command ends with
outreg2's closing lines: the file written and `dir : seeout`.

Cells follow outreg2's defaults: coefficients and standard errors in auto(3) format (three
significant digits, thousands with commas), standard errors in parentheses below, stars at
p<0.01, 0.05, 0.1 (t with e(df_r), else normal), Observations, R-squared when e(r2) exists,
`Number of groups` from e(N_g); notes `Standard errors in parentheses` and the stars' key.
"""
from __future__ import annotations

import math
import os
import re
import shlex

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level, expand_names, lookup
from hlmshell.errors import StataError
from hlmshell.output import outreg2_table as ot
from hlmshell.output.paper_tables import write_text
from hlmshell.registry import Opt, bind_options, command
from hlmshell.syntax.parser import parse_options

_OPTS = (
    Opt("replace", desc="start a new table"), Opt("append", "ap", desc="add a column to the table"),
    Opt("seeout", "see", desc="accepted (opens the table in Stata's browser)"),
    Opt("word", desc="also write a Word (RTF) document"), Opt("excel", desc="also write an Excel XML file"),
    Opt("tex", "tex", "anything", None, "also write a LaTeX file; tex(frag) a fragment"),
    Opt("text", desc="the text file only (the default)"),
    Opt("label", "lab", "anything", None, "variable labels as row names"),
    Opt("title", "ti", "anything", None, "title lines above the table"),
    Opt("ctitle", "ct", "anything", None, "column title"),
    Opt("dec", "dec", "int", None, "decimals of every number"),
    Opt("bdec", "bd", "int", None, "decimals of the coefficients"),
    Opt("sdec", "sd", "int", None, "decimals of the standard errors (t, p, CI)"),
    Opt("tdec", "td", "int", None, "decimals of the t statistics"),
    Opt("rdec", "rd", "int", None, "decimals of R-squared"),
    Opt("adec", "ade", "int", None, "decimals of addstat() values"),
    Opt("auto", "auto", "int", 3, "significant digits of the automatic format (default 3)"),
    Opt("less", "less", "int", 0, "fewer decimals than auto() gives"),
    Opt("keep", "keep", "anything", None, "coefficients to report"),
    Opt("drop", "drop", "anything", None, "coefficients not to report"),
    Opt("nocons", "nocon", desc="no constant"),
    Opt("se", desc="standard errors below the coefficients (the default)"),
    Opt("nose", desc="coefficients only"),
    Opt("tstat", desc="t statistics below the coefficients"),
    Opt("pvalue", "p", desc="p-values below the coefficients"),
    Opt("ci", desc="confidence intervals below the coefficients"),
    Opt("level", "l", "real", None, "confidence level of ci"),
    Opt("stats", "st", "anything", None, "rows per coefficient: coef se tstat pval ci aster blank"),
    Opt("noaster", "noas", desc="no stars"),
    Opt("alpha", "alpha", "anything", None, "significance levels of the stars (default 0.01, 0.05, 0.1)"),
    Opt("symbol", "sym", "anything", None, "symbols of the stars (default ***, **, *)"),
    Opt("addtext", "addt", "anything", None, "rows of text: addtext(School FE, YES)"),
    Opt("addstat", "adds", "anything", None, "rows of statistics: addstat(Log lik, e(ll))"),
    Opt("nonotes", "nonot", desc="no notes"),
    Opt("addnote", "addn", "anything", None, "notes below the table"),
    Opt("nor2", desc="no R-squared"), Opt("adjr2", "adj", desc="adjusted R-squared"),
    Opt("noni", desc="no number of groups"), Opt("noobs", desc="no number of observations"),
    Opt("eform", "ef", desc="exponentiated coefficients"),
    Opt("noparen", "nopa", desc="no parentheses"), Opt("bracket", "br", desc="brackets, not parentheses"),
    Opt("sum", "sum", "anything", None, "sum(log): a table of summary statistics of the data"),
    Opt("eqkeep", "eqk", "anything", None, "with sum(log): the statistics to keep (N mean sd min max)"),
)
_OPTIONAL_ARG = {"tex", "label", "sum"}
_STATS = ("coef", "se", "tstat", "pval", "ci", "aster", "blank")
_NOTE = {"se": "Standard errors in parentheses", "tstat": "t-statistics in parentheses",
         "pval": "pval in parentheses", "ci": "ci in parentheses"}


# --------------------------------------------------------------------------- the command line
def _split_comma(text: str) -> tuple[str, str]:
    depth, quote = 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quote = not quote
        elif not quote and ch in "([":
            depth += 1
        elif not quote and ch in ")]":
            depth -= 1
        elif not quote and depth == 0 and ch == ",":
            return text[:i], text[i + 1:]
    return text, ""


def _head(text: str) -> tuple[str, list[str] | None, str]:
    """`[varlist] [[names]] using file` -> (varlist text, names or None, file)."""
    if text.count('"') % 2:
        raise StataError("invalid syntax", 198)
    m = re.search(r'(?:^|\s)using(?:\s+("[^"]*"|[^\s\[]+)|\s*$)', text)
    if not m:
        raise StataError("using required", 100)
    if not m.group(1):
        raise StataError("invalid file specification", 198)
    fname = m.group(1).strip('"')
    rest = text[m.end():].strip()
    if rest.startswith("["):
        raise StataError("weights not allowed", 101)
    if rest:
        word = rest.split()[0]
        raise StataError(f"{word} not allowed" if word in ("if", "in") else "invalid syntax",
                         101 if word in ("if", "in") else 198)
    before = text[: m.start()]
    names = None
    bm = re.search(r"\[([^\]]*)\]", before)
    if bm:
        names = bm.group(1).split()
        before = before[: bm.start()] + " " + before[bm.end():]
    if "[" in before or "]" in before or not fname:
        raise StataError("invalid syntax", 198)
    return before.strip(), names, fname


def _options(text: str):
    opts = bind_options(_OPTS, parse_options(text))
    for spec in _OPTS:
        if spec.name in opts and spec.name not in _OPTIONAL_ARG:
            has = bool((opts.raw(spec.name) or "").strip())
            if has != spec.takes_arg:
                raise StataError("invalid syntax" if spec.takes_arg
                                 else f"option {spec.name} not allowed", 198)
    aux = [k for k in ("tstat", "pvalue", "ci", "nose") if k in opts]
    if len(aux) > 1:
        raise StataError("choose only one of tstat, pvalue, ci, or nose", 198)
    if "stats" in opts and aux:
        raise StataError(f"cannot specify both stats( ) and {aux[0]} options", 198)
    if "keep" in opts and "drop" in opts:
        raise StataError("cannot use both keep( ) and drop( )", 198)
    if "noaster" in opts and ("alpha" in opts or "symbol" in opts):
        raise StataError("cannot choose both noaster and symbol( )", 198)
    for k in ("dec", "bdec", "sdec", "tdec", "rdec", "adec"):
        if k in opts and not 0 <= getattr(opts, k) <= 11:
            raise StataError(f"option {k}() incorrectly specified", 198)
    if "auto" in opts and not 0 <= opts.auto <= 11:
        raise StataError("option auto() incorrectly specified", 198)
    return opts


def _textlist(text: str | None) -> list[str]:
    """outreg2's comma-separated text lists: `a, "b, c", d` -> [a, b, c... as quoted]."""
    if text is None or not text.strip():
        return []
    out, cur, quote = [], "", False
    for ch in text:
        if ch == '"':
            quote = not quote
        elif ch == "," and not quote:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    out.append(cur.strip())
    return [w[1:-1] if len(w) >= 2 and w[0] == w[-1] == '"' else w for w in out]


def _stats_list(opts) -> list[str]:
    if "stats" in opts:
        words = (opts.stats or "").replace(",", " ").split()
        for w in words:
            if w not in _STATS:
                raise StataError(f"{w} is not a valid option for stats( )", 198)
        if not words:
            raise StataError("invalid syntax", 198)
        return words
    if "nose" in opts:
        return ["coef"]
    return ["coef", {"tstat": "tstat", "pvalue": "pval", "ci": "ci"}.get(
        next((k for k in ("tstat", "pvalue", "ci") if k in opts), ""), "se")]


def _stars(opts) -> list[tuple[str, float]]:
    if "noaster" in opts:
        return []
    try:
        levels = [float(x) for x in _textlist(opts.alpha)] if "alpha" in opts else [0.01, 0.05, 0.1]
    except ValueError:
        raise StataError("alpha() must be numbers", 198) from None
    symbols = _textlist(opts.symbol) if "symbol" in opts else ["***", "**", "*"][: len(levels)]
    if len(symbols) < len(levels):
        raise StataError("alpha() has more levels than symbol() has symbols (***, **, * by default)", 198)
    if any(not 0 < a < 1 for a in levels) or not levels:
        raise StataError("alpha() must be between 0 and 1", 198)
    return sorted(zip(symbols, levels), key=lambda s: s[1])


# --------------------------------------------------------------------------- one column
class _Fmt:
    """The cell formats the options ask for."""

    def __init__(self, opts):
        dec = opts.dec if "dec" in opts else None
        self.auto, self.less = opts.auto, opts.less
        self.b = opts.bdec if "bdec" in opts else dec
        self.s = opts.sdec if "sdec" in opts else dec
        self.t = opts.tdec if "tdec" in opts else self.s
        self.r = opts.rdec if "rdec" in opts else (dec if dec is not None else 3)
        self.a = opts.adec if "adec" in opts else dec

    def num(self, x, dec):
        return ot.fmt_number(x, dec, self.auto, self.less)


def _wrap(text: str, opts) -> str:
    if "noparen" in opts:
        return text
    return f"[{text}]" if "bracket" in opts else f"({text})"


def _coef_block(b, se, p, df_r, opts, f: _Fmt, stats, stars, eform, level) -> list[str]:
    star = next((s for s, a in stars if p == p and p < a), "") if stars else ""
    aster_row = "aster" in stats
    z = b / se if se > 0 else float("nan")
    q = dist.t_isf((1 - level / 100) / 2, df_r) if df_r is not None else dist.norm_isf((1 - level / 100) / 2)
    lo, hi = b - q * se, b + q * se
    if eform:
        b, se, lo, hi = math.exp(b), math.exp(b) * se, math.exp(lo), math.exp(hi)
    cells = []
    for s in stats:
        if s == "coef":
            cells.append(f.num(b, f.b) + ("" if aster_row else star))
        elif s == "se":
            cells.append(_wrap(f.num(se, f.s), opts))
        elif s == "tstat":
            cells.append(_wrap(f.num(z, f.t), opts))
        elif s == "pval":
            cells.append(_wrap(f.num(p, f.s if f.s is not None else 3), opts))
        elif s == "ci":
            cells.append(_wrap(f"{f.num(lo, f.s)} - {f.num(hi, f.s)}", opts))
        elif s == "aster":
            cells.append(star)
        else:
            cells.append("")
    return cells


_BASE = re.compile(r"(^|#)\d+b\.|(^|#)(\d+)?o\.|^o\.")


def _wanted(name: str, keep: list[str], drop: list[str], nocons: bool) -> bool:
    import fnmatch
    if nocons and name == "_cons":
        return False
    if keep and not any(fnmatch.fnmatchcase(name, k) for k in keep):
        return False
    return not any(fnmatch.fnmatchcase(name, d) for d in drop)


def _row_label(session, name: str, label: bool) -> str:
    if name == "_cons":
        return "Constant"
    if label and session.data is not None and name in getattr(session.data, "vars", {}):
        return session.data.vars[name].label or name
    return name


def _stat_rows(session, res, opts, f: _Fmt, depvar_label: bool) -> list[tuple[str, str]]:
    rows = []
    if "noobs" not in opts and res.scalars.get("N") is not None:
        rows.append(("Observations", f.num(float(res.scalars["N"]), 0)))
    key = "r2_a" if "adjr2" in opts else "r2"
    if "adjr2" in opts and res.scalars.get("r2_a") is None:
        raise StataError("Adjusted R-squared (e(r2_a)) not defined; cannot use adjr2 option", 198)
    if "nor2" not in opts and res.scalars.get(key) is not None:
        rows.append(("Adj. R-squared" if key == "r2_a" else "R-squared", f.num(float(res.scalars[key]), f.r)))
    ng = _n_groups(res)
    if "noni" not in opts and ng is not None:
        ivar = res.macros.get("ivar", "")
        rows.append((f"Number of {ivar}" if ivar else "Number of groups", f.num(ng, 0)))
    return rows


def _n_groups(res) -> float | None:
    v = res.scalars.get("N_g")
    if v is None and res.matrices.get("N_g") is not None:
        arr = np.asarray(getattr(res.matrices["N_g"], "values", res.matrices["N_g"]), dtype=float).ravel()
        v = float(arr[0]) if arr.size else None
    return None if v is None else float(v)


def _addstat(session, text: str | None, f: _Fmt) -> list[tuple[str, str]]:
    from hlmshell.syntax.evaluate import evaluate_scalar
    words = _textlist(text)
    if len(words) % 2:
        raise StataError("addstat() requires pairs of a name and a value", 198)
    rows = []
    for name, exp in zip(words[::2], words[1::2]):
        if not name:
            raise StataError("empty strings not allowed in addstat() option", 6)
        v = evaluate_scalar(exp, session)
        rows.append((name, v if isinstance(v, str) else f.num(float(v), f.a)))
    return rows


def _addtext(text: str | None) -> list[tuple[str, str]]:
    words = _textlist(text)
    if len(words) % 2:
        raise StataError("addtext() requires pairs of a name and a text", 198)
    return list(zip(words[::2], words[1::2]))


def _p_value(z: float, df_r: float | None) -> float:
    if z != z:
        return float("nan")
    return float(2 * (dist.t_sf(abs(z), df_r) if df_r is not None else dist.norm_sf(abs(z))))


def _estimates(res):
    """e(b), e(V), the omitted flags and e(df_r) (None when absent or missing)."""
    b = np.asarray(res.b, dtype=float).ravel()
    V = np.asarray(res.V, dtype=float).reshape(b.size, b.size)
    omitted = (np.asarray(res.omitted, dtype=bool).ravel() if res.omitted is not None
               else np.zeros(b.size, bool))
    df_r = res.scalars.get("df_r")
    return b, V, omitted, (float(df_r) if df_r is not None and df_r == df_r else None)


def _coef_blocks(session, res, opts, eqs) -> dict[str, list[list[str]]]:
    """Row label -> the cells of its rows, one column per equation."""
    f = _Fmt(opts)
    stats, stars = _stats_list(opts), _stars(opts)
    level = confidence_level(session, opts)
    eform = "eform" in opts or res.cmd == "logistic"
    keep = (opts.keep or "").split() if "keep" in opts else []
    drop = (opts.drop or "").split() if "drop" in opts else []
    b, V, omitted, df_r = _estimates(res)
    blocks: dict[str, list[list[str]]] = {}
    for j, (eq, name) in enumerate(res.names):
        if omitted[j] or _BASE.search(name) or not _wanted(name, keep, drop, "nocons" in opts):
            continue
        se = math.sqrt(V[j, j]) if V[j, j] > 0 else float("nan")
        p = _p_value(b[j] / se if se > 0 else float("nan"), df_r)
        cells = _coef_block(b[j], se, p, df_r, opts, f, stats, stars, eform, level)
        block = blocks.setdefault(_row_label(session, name, "label" in opts),
                                  [[""] * len(eqs) for _ in stats])
        for k, c in enumerate(cells):
            block[k][eqs.index(eq)] = c
    return blocks


def model_table(session, res, opts, column_title: str | None) -> ot.OutregTable:
    """The columns one set of estimates adds: one per equation of e(b)."""
    eqs = list(dict.fromkeys(eq for eq, _ in res.names))
    blocks = _coef_blocks(session, res, opts, eqs)
    order = [r for r in blocks if r != "Constant"] + (["Constant"] if "Constant" in blocks else [])
    heads = list(eqs)
    depvar = res.depvar.split()[0] if res.depvar else (eqs[0] if eqs else "")
    if heads:
        heads[0] = column_title if column_title is not None else _row_label(session, depvar, "label" in opts)
    t = ot.OutregTable(numbers=[f"({k + 1})" for k in range(len(eqs))], heads=heads,
                       coefs=[(r, blocks[r]) for r in order])
    f = _Fmt(opts)
    extra = _stat_rows(session, res, opts, f, "label" in opts) + _addstat(session, opts.addstat, f) \
        + _addtext(opts.addtext)
    t.stats = [(lab, [v] * len(eqs)) for lab, v in extra]
    return t


def _notes(opts, stats) -> list[str]:
    if "nonotes" in opts:
        notes = []
    else:
        aux = next((s for s in stats if s in _NOTE), None)
        notes = [_NOTE[aux]] if aux else []
        stars = _stars(opts)
        if stars:
            notes.append(", ".join(f"{s} p<{_lev(a)}" for s, a in stars))
    return notes + _textlist(opts.addnote)


def _lev(a: float) -> str:
    return f"{a:g}" if a >= 0.001 else repr(a)


# --------------------------------------------------------------------------- sum(log)
_SUM_STATS = ("N", "mean", "sd", "min", "max")


def _summary_columns(opts) -> list[str]:
    if (opts.sum or "").strip().lower() != "log":
        raise StataError(f"sum({(opts.sum or '').strip()}) not supported; use sum(log)", 198)
    chosen = (opts.eqkeep or "").split() if "eqkeep" in opts else list(_SUM_STATS)
    bad = [c for c in chosen if c not in _SUM_STATS]
    if bad or not chosen:
        raise StataError(f"eqkeep(): {bad[0] if bad else ''} not one of N mean sd min max", 198)
    return chosen


def _summary_vars(session, opts) -> list[str]:
    import fnmatch
    from hlmshell.commands._toolkit import varlist as expand
    ds = session.data
    if "keep" in opts and (opts.keep or "").strip():
        names = expand(session, opts.keep)
    else:
        drop = (opts.drop or "").split() if "drop" in opts else []
        names = [n for n in ds.names if not any(fnmatch.fnmatchcase(n, d) for d in drop)]
    return [n for n in names if not ds.var(n).is_string]


def _describe(x: np.ndarray) -> dict[str, float]:
    x = x[~np.isnan(x)]
    if not x.size:
        return {"N": 0.0, "mean": float("nan"), "sd": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"N": float(x.size), "mean": float(x.mean()),
            "sd": float(x.std(ddof=1)) if x.size > 1 else float("nan"),
            "min": float(x.min()), "max": float(x.max())}


def _summary_table(session, opts, names) -> ot.OutregTable:
    """outreg2's sum(log): a row per numeric variable, columns N mean sd min max."""
    if names is not None:
        raise StataError("sum(log) does not take stored estimates", 198)
    chosen = _summary_columns(opts)
    f = _Fmt(opts)
    coefs = []
    for n in _summary_vars(session, opts):
        st = _describe(np.asarray(session.data.var(n).values, dtype=float))
        coefs.append((_row_label(session, n, "label" in opts),
                      [[f.num(st[c], 0 if c == "N" else f.b) for c in chosen]]))
    if not coefs:
        raise StataError("no variables", 102)
    return ot.OutregTable(title=_textlist(opts.title), numbers=[f"({k + 1})" for k in range(len(chosen))],
                          heads=list(chosen), coefs=coefs, notes=_textlist(opts.addnote))


# --------------------------------------------------------------------------- files
def _targets(fname: str, opts) -> tuple[str, list[tuple[str, str]]]:
    """(the text file, [(kind, path)] of the other files to write)."""
    base, ext = os.path.splitext(fname)
    ext = ext.lower()
    if not base or ext == ".":
        raise StataError("invalid file specification", 198)
    txt = base + ".txt" if ext in ("", ".doc", ".rtf", ".xls", ".xml", ".tex", ".xlsx", ".docx") else fname
    extra = []
    if "word" in opts or ext in (".doc", ".rtf", ".docx"):
        extra.append(("word", base + (ext if ext in (".doc", ".rtf") else ".rtf")))
    if "excel" in opts or ext in (".xls", ".xml", ".xlsx"):
        extra.append(("excel", base + (ext if ext in (".xls", ".xml") else ".xml")))
    if "tex" in opts or ext == ".tex":
        extra.append(("tex", base + ".tex"))
    return txt, extra


def _read_existing(path: str) -> ot.OutregTable | None:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        raise StataError(f"file {path} could not be opened", 603) from None
    table = ot.parse_txt(text)
    if table is None:
        raise StataError(f"file {path} is not an outreg2 table; specify replace", 610)
    return table


def _render(kind: str, table: ot.OutregTable, opts) -> str:
    if kind == "word":
        return ot.rtf_text(table)
    if kind == "excel":
        return ot.xml_text(table)
    frag = "frag" in (opts.tex or "").lower() if "tex" in opts else False
    return ot.tex_text(table, fragment=frag)


def _column_titles(opts, n: int) -> list[str | None]:
    words = _textlist(opts.ctitle) if "ctitle" in opts else []
    return [words[k] if k < len(words) else None for k in range(n)] if len(words) > 1 and n > 1 \
        else [" ".join(words) if words else None] * n


@command("outreg2", byable=False, qualifiers="", raw=True, changes_data=False, options=_OPTS,
         check_options=False,
         family="Postestimation",
         desc="regression table to a text, Word, Excel or LaTeX file (SSC outreg2)",
         example="outreg2 using results.doc, replace ctitle(Model 1)")
def outreg2_cmd(session, cmd) -> None:
    head, optext = _split_comma(cmd.body or "")
    varlist, names, fname = _head(head)
    opts = _options(optext)
    if varlist and "keep" not in opts:
        if "drop" in opts:
            raise StataError("cannot use both varlist and drop( )", 198)
        opts.given["keep"] = varlist
    if "sum" in opts:
        table = _summary_table(session, opts, names)
        _write(session, table, fname, opts)
        return
    stats = _stats_list(opts)
    if names is None:
        if session.e is None:
            raise StataError("matrix e(b) not found; need to run regression first", 111)
        items = [(None, session.e)]
    else:
        items = [(n, lookup(session, n)) for n in dict.fromkeys(expand_names(session, " ".join(names)))]
        if not items:
            raise StataError("invalid syntax", 198)
    titles = _column_titles(opts, len(items))
    table = None
    for (name, res), title in zip(items, titles):
        part = model_table(session, res, opts, title if title is not None else name)
        table = part if table is None else ot.merge(table, part)
    table.title = _textlist(opts.title)
    table.notes = _notes(opts, stats)
    _write(session, table, fname, opts)


def _write(session, table: ot.OutregTable, fname: str, opts) -> None:
    """The text file (merged into the old one under append) and the other formats, then
    outreg2's closing lines."""
    txt, extra = _targets(fname, opts)
    if "append" in opts or "replace" not in opts:
        old = _read_existing(txt)
        if old is not None:
            table = ot.merge(old, table)
    writes = [(txt, ot.txt_text(table))] + [(p, _render(k, table, opts)) for k, p in extra]
    for path, text in writes:
        write_text(path, text, shown=path)
    for path in [p for _, p in extra] or [txt]:
        session.out.line(path)
    session.out.line("dir : seeout")
