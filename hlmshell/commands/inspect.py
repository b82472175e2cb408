"""describe, summarize, list, count, levelsof, isid.

The helpers the data commands share (varlist, touse, weights, value_text, ...) are in
hlmshell.commands._toolkit; files.py and labels.py still import some of them from here.

Layouts follow Stata 17: summarize's `Variable | Obs Mean Std. dev. Min Max` table with
%9.0g cells, the `, detail` block, describe's Contains-data header and variable table, list's
boxed table (or `clean`).
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.commands._toolkit import (percentile, sort_keys, touse, typed_args, value_text, varlist,
                                        weights)
from hlmshell.registry import Opt, args_of, command
from hlmshell.data.dta import read_dta
from hlmshell.data.locate import file_spec, find_data
from hlmshell.data.missing import missing_str, order_key
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.syntax.ast import Command


# ----------------------------------------------------------------------------- count
@command("count", abbrev="cou", qualifiers="if in", changes_data=False, options=(),
          family="Data inspection", body="none", desc="count observations satisfying a condition", example="count if sector == 1")
def count_cmd(session, cmd):
    typed_args(cmd)
    if cmd.body.strip():
        raise StataError("varlist not allowed", 101)
    n = int(np.count_nonzero(touse(session, cmd)))
    session.r.scalars = {"N": float(n)}
    session.r.macros = {}
    session.out.line(f"  {fmt_count(n)}")


# ----------------------------------------------------------------------------- summarize
def _moments(x: np.ndarray, w: np.ndarray | None, kind: str | None):
    """N, sum of weights, mean, variance, sum — Stata's definitions per weight kind."""
    n = len(x)
    if w is None:
        sw = float(n)
        s = float(np.sum(x))
        mean = s / n if n else math.nan
        var = float(np.sum((x - mean) ** 2) / (n - 1)) if n > 1 else math.nan
        return n, sw, mean, var, s
    sw = float(np.sum(w))
    mean = float(np.sum(w * x) / sw) if sw else math.nan
    s = float(np.sum(w * x))
    dev2 = float(np.sum(w * (x - mean) ** 2))
    if kind == "fweight":
        N = int(round(sw))
        var = dev2 / (sw - 1) if sw > 1 else math.nan
        return N, sw, mean, var, s
    # aweight / iweight: weights rescaled to sum to the number of observations
    var = dev2 / sw * n / (n - 1) if n > 1 else math.nan
    if kind == "aweight":
        s = float(np.sum(w * x)) * n / sw if sw else 0.0     # no observations: r(sum) is 0
    return n, sw, mean, var, s


def _finite(stats: dict) -> dict:
    """A statistic that overflowed (a sum of values near 1e308) is missing, as Stata has no
    infinity; arrays (the sorted values kept for the detail table) pass through."""
    return {k: math.nan if isinstance(v, float) and not math.isfinite(v) else v for k, v in stats.items()}


def _var_stats(x: np.ndarray, ww: np.ndarray | None, kind: str | None, detail: bool,
               meanonly: bool) -> dict:
    """summarize's r() for one variable's nonmissing values x (weights ww); with detail the
    percentiles, skewness and kurtosis, and the sorted values (_sorted) for the table."""
    n, sw, mean, v, s = _moments(x, ww, kind)
    r = {"N": float(n), "sum_w": sw, "mean": mean if n else math.nan}
    if not meanonly:
        r["Var"] = v
        r["sd"] = math.sqrt(v) if not math.isnan(v) else math.nan
    r["min"] = float(np.min(x)) if n else math.nan
    r["max"] = float(np.max(x)) if n else math.nan
    r["sum"] = s
    if detail:
        order = np.argsort(x, kind="stable")
        xs = x[order]
        wsort = ww[order] if ww is not None else None
        for p in (1, 5, 10, 25, 50, 75, 90, 95, 99):
            r[f"p{p}"] = percentile(xs, p, wsort if kind in ("fweight", "aweight") else None)
        r["skewness"] = r["kurtosis"] = math.nan
        if n > 0 and v and not math.isnan(v) and v > 0:
            wt = ww if ww is not None else np.ones(len(x))
            swt = float(np.sum(wt))
            m2 = float(np.sum(wt * (x - mean) ** 2)) / swt
            m3 = float(np.sum(wt * (x - mean) ** 3)) / swt
            m4 = float(np.sum(wt * (x - mean) ** 4)) / swt
            r["skewness"] = m3 / m2 ** 1.5
            r["kurtosis"] = m4 / m2 ** 2
        r["_sorted"] = xs
    return r


@command("summarize", abbrev="su", changes_data=False, qualifiers="if in weight", weights="aw fw iw",
          family="Data inspection", body="varlist", desc="summary statistics", example="summarize mathach ses, detail",
          options=(Opt("detail", "d", desc="display additional statistics"),
                   Opt("meanonly", "mean", desc="compute the mean only, quietly (no output)"),
                   Opt("format", desc="use each variable's display format"),
                   Opt("separator", "sep", "int", 5, "draw a separator line every # variables"),
                   Opt("noheader", "nohead", desc="suppress the header")))
def summarize_cmd(session, cmd):
    opts = args_of(cmd)          # typed options from the spec on the registration line
    names = varlist(session, cmd.body, ts=True)
    mask = touse(session, cmd)
    kind = cmd.weight.kind if cmd.weight is not None else None
    w = weights(session, cmd, mask)
    if w is not None:
        mask = mask & ~np.isnan(w) & (w != 0 if kind != "iweight" else True)
    ds = session.data
    detail, meanonly = opts.detail, opts.meanonly
    if detail and meanonly:
        raise StataError("options detail and meanonly may not be combined", 198)
    sep = opts.separator
    out = session.out
    results = {}
    rows = []
    for nm in names:
        var = ds.var(nm)
        if var.is_string:
            rows.append((nm, None))
            results = {"N": 0.0, "sum_w": 0.0, "sum": 0.0}
            continue
        sel = mask & ~np.isnan(var.values)
        ww = w[sel] if w is not None else None
        # the column itself (read-only, never copied) when every observation is used
        r = _var_stats(var.values if sel.all() else var.values[sel], ww, kind, detail, meanonly)
        r = _finite(r)
        rows.append((nm, r))
        results = r
    session.r.macros = {}
    session.r.matrices = {}
    session.r.scalars = {k: v for k, v in results.items() if not k.startswith("_")}
    if meanonly:
        return
    if detail:
        for nm, r in rows:
            _print_detail(session, ds.var(nm), r, kind)
        return
    if kind in ("aweight", "iweight"):
        _print_weighted(out, rows, sep)
        return
    out.line()
    out.line("    Variable |        Obs        Mean    Std. dev.       Min        Max")
    for i, (nm, r) in enumerate(rows):
        if sep > 0 and i % sep == 0 or i == 0:
            out.line("-------------+---------------------------------------------------------")
        label = abbrev(nm, 12).rjust(12)
        if r is None:
            out.line(f"{label} |{fmt_count(0, 11)}")
            continue
        cells = fmt_count(int(r["N"]), 11)
        if r["N"] > 0:
            cells += "   " + fmt_g(r["mean"], 9).rjust(9)
            cells += "   " + fmt_g(r["sd"], 9).rjust(9) if not math.isnan(r["sd"]) else "            "
            cells += "  " + fmt_g(r["min"], 9).rjust(9) + "  " + fmt_g(r["max"], 9).rjust(9)
        out.line(f"{label} |{cells}".rstrip())


def _print_weighted(out, rows, sep):
    """aweight/iweight table: an extra Weight column (sum of the weights)."""
    out.line()
    out.line("    Variable |     Obs      Weight        Mean   Std. dev.       Min        Max")
    for i, (nm, r) in enumerate(rows):
        if sep > 0 and i % sep == 0 or i == 0:
            out.line("-------------+" + "-" * 65)
        label = abbrev(nm, 12).rjust(12)
        if r is None:
            out.line(f"{label} |{fmt_count(0, 8)}")
            continue
        cells = fmt_count(int(r["N"]), 8)
        if r["N"] > 0:
            cells += "  " + fmt_g(r["sum_w"], 10).rjust(10)
            cells += "   " + fmt_g(r["mean"], 9).rjust(9)
            cells += "  " + (fmt_g(r["sd"], 9) if not math.isnan(r["sd"]) else "").rjust(9)
            cells += "  " + fmt_g(r["min"], 9).rjust(9) + "  " + fmt_g(r["max"], 9).rjust(9)
        out.line(f"{label} |{cells}".rstrip())


def _print_detail(session, var, r, kind):
    out = session.out
    title = var.label or var.name
    out.line()
    out.line(" " * max(0, (61 - len(title)) // 2) + title)
    out.line("-" * 61)
    if r is None:
        return
    g = lambda v: fmt_g(v, 9)  # noqa: E731
    xs = r.get("_sorted", np.array([]))
    n = len(xs)
    small = [g(xs[i]) if i < n else "" for i in range(4)]
    large = [g(xs[n - 1 - i]) if i < n else "" for i in range(4)]
    wlab = "Sum of wgt."
    rt = lambda lab, val: "       " + lab.ljust(11) + val.rjust(12)  # noqa: E731
    out.line("      Percentiles      Smallest")
    out.line(f" 1%{g(r['p1']).rjust(13)}{small[0].rjust(15)}")
    out.line(f" 5%{g(r['p5']).rjust(13)}{small[1].rjust(15)}")
    out.line(f"10%{g(r['p10']).rjust(13)}{small[2].rjust(15)}{rt('Obs', fmt_count(int(r['N'])))}")
    out.line(f"25%{g(r['p25']).rjust(13)}{small[3].rjust(15)}{rt(wlab, fmt_g(r['sum_w'], 9) if kind else fmt_count(int(r['sum_w'])))}")
    out.line()
    out.line(f"50%{g(r['p50']).rjust(13)}{'':15}{rt('Mean', g(r['mean']))}")
    out.line(f"{'Largest'.rjust(31)}{rt('Std. dev.', g(r['sd']))}")
    out.line(f"75%{g(r['p75']).rjust(13)}{large[3].rjust(15)}")
    out.line(f"90%{g(r['p90']).rjust(13)}{large[2].rjust(15)}{rt('Variance', g(r['Var']))}")
    out.line(f"95%{g(r['p95']).rjust(13)}{large[1].rjust(15)}{rt('Skewness', g(r['skewness']))}")
    out.line(f"99%{g(r['p99']).rjust(13)}{large[0].rjust(15)}{rt('Kurtosis', g(r['kurtosis']))}")


# ----------------------------------------------------------------------------- describe
@command("describe", abbrev="d", byable=False, qualifiers="", changes_data=False,
          family="Data inspection", body="varlist", desc="describe the data in memory", example="describe",
          options=(Opt("short", "s", desc="display only general information (no variable table)"),
                   Opt("simple", desc="display only the variable names"),
                   Opt("fullnames", "f", desc="do not abbreviate variable names"),
                   Opt("numbers", "n", desc="accepted for Stata compatibility (variable numbers)")))
def describe_cmd(session, cmd):
    opts = typed_args(cmd)
    ds = session.data
    out = session.out
    body = cmd.body.strip()
    if body == "using" or body.startswith("using ") or body.startswith('using"'):
        # describe using file: the file's contents without loading it
        path = find_data(file_spec(body[5:]))
        saved = session.data
        session.data = read_dta(path)
        session.data.filename = str(path)
        try:
            describe_cmd(session, Command("describe", options=cmd.options))
        finally:
            session.data = saved
        return
    names = varlist(session, cmd.body) if cmd.body.strip() else list(ds.names)
    session.r.scalars = {"N": float(ds.n), "k": float(len(ds.names)),
                         "changed": 1.0 if ds.changed else 0.0}
    session.r.macros = {"varlist": " ".join(names)}
    if ds.sortedby:
        session.r.macros["sortlist"] = " ".join(ds.sortedby)
    if opts.simple:
        out.line("  ".join(names))
        return
    header = not cmd.body.strip()
    out.line()
    if header:
        out.line(f"Contains data{' from ' + ds.filename if ds.filename else ''}")
        out.line(f" Observations:{fmt_count(ds.n).rjust(14)}" + (" " * 18 + ds.label if ds.label else ""))
        out.line(f"    Variables:{fmt_count(len(ds.names)).rjust(14)}")
    if not opts.short:
        out.line("-" * 79)
        out.line("Variable      Storage   Display    Value")
        out.line("    name         type    format    label      Variable label")
        out.line("-" * 79)
        for nm in names:
            v = ds.vars[nm]
            shown = nm if opts.fullnames else abbrev(nm, 15)
            line = shown.ljust(16) + v.vtype.ljust(8) + v.format.ljust(11) + \
                (v.vallab or "").ljust(11) + v.label
            if len(shown) > 15 or len(v.format) > 10:
                line = shown + " " + v.vtype.ljust(8) + v.format.ljust(11) + (v.vallab or "").ljust(11) + v.label
            out.line(line.rstrip())
        out.line("-" * 79)
    if header:
        out.line(f"Sorted by: {' '.join(ds.sortedby)}".rstrip())
        if ds.changed:
            out.line("     Note: Dataset has changed since last saved.")


# ----------------------------------------------------------------------------- list
@command("list", abbrev="l", qualifiers="if in", changes_data=False,
          family="Data inspection", body="varlist", desc="list values of variables", example="list id mathach in 1/5",
          options=(Opt("clean", desc="list without boxes"),
                   Opt("noobs", desc="do not list observation numbers"),
                   Opt("separator", "sep", "int", 5, "draw a separator line every # observations; 0: none"),
                   Opt("sepby", type="varlist", desc="draw a separator line whenever these variables change"),
                   Opt("nolabel", "nol", desc="display numeric codes rather than value labels"),
                   Opt("noheader", "nohead", desc="suppress the variable names at the top"),
                   Opt("abbreviate", "ab", "int", 8, "abbreviate variable names to # characters"),
                   Opt("compress", desc="accepted for Stata compatibility (columns are always compressed)"),
                   Opt("nocompress", desc="accepted for Stata compatibility"),
                   Opt("fast", desc="accepted for Stata compatibility"),
                   Opt("table", desc="force the table format (the default)"),
                   Opt("nodisplay", desc="force the table format (the default), as table does"),
                   Opt("divider", desc="accepted for Stata compatibility (column dividers)"),
                   Opt("string", "str", "int", None, "accepted for Stata compatibility (string width)")))
def list_cmd(session, cmd):
    opts = typed_args(cmd)
    ds = session.data
    names = varlist(session, cmd.body, ts=True)
    mask = touse(session, cmd)
    idx = np.flatnonzero(mask)
    labels = not opts.nolabel
    ab, sep = opts.abbreviate, opts.separator
    if len(idx) == 0 or not names:
        return
    cols = [_list_column(ds, nm, idx, labels, ab) for nm in names]
    shown, obsw = _numbering(session, idx)
    out = session.out
    noobs = opts.noobs
    pad = "" if noobs else " " * (obsw + 2)
    out.line()
    if opts.clean:
        for line in _clean_lines(cols, shown, noobs, obsw, not opts.noheader):
            out.line(line)
        return
    bar = "-" * (len("   ".join("-" * w for _, _, w, _ in cols)) + 2)
    linesize = int(session.settings.get("linesize", 80) or 80)
    if len(pad) + len(bar) + 2 > linesize and len(cols) > 1:
        _list_blocks(out, cols, shown, pad, noobs, obsw, linesize)
        return
    breaks = None
    if opts.raw("sepby") is not None:      # sepby() implies separator(0)
        breaks = _sepby_breaks(ds, varlist(session, opts.raw("sepby")), idx)
        sep = 0
    for line in _boxed_lines(cols, shown, pad, bar, noobs, obsw, sep, not opts.noheader, breaks):
        out.line(line)


def _numbering(session, idx: np.ndarray) -> tuple[np.ndarray, int]:
    """The observation numbers shown (0-based) and their column width: under by, each group
    is listed as a dataset of its own (1., 2., ... within the group), as in Stata."""
    group = getattr(session, "by_restrict", None)
    if group is None:
        return idx, max(3, len(str(session.data.n)) + 1)
    members = np.flatnonzero(group)
    return idx - members[0], max(3, len(str(len(members))) + 1)


def _sepby_breaks(ds, names: list[str], idx: np.ndarray) -> set[int]:
    """Positions k (in the listed rows) where a sepby() variable differs from the row before."""
    out: set[int] = set()
    for nm in names:
        v = ds.var(nm).values[idx]
        prev, cur = v[:-1], v[1:]
        if ds.var(nm).is_string:
            diff = np.array([a != b for a, b in zip(prev, cur)], dtype=bool)
        else:
            diff = (prev != cur) & ~(np.isnan(prev) & np.isnan(cur))
        out.update((np.flatnonzero(diff) + 1).tolist())
    return out


def _list_column(ds, nm: str, idx: np.ndarray, labels: bool, ab: int):
    """(header, cell texts, width, left-aligned?) of one listed variable."""
    v = ds.var(nm)
    vals = [value_text(ds, v, v.values[i], labels=labels) for i in idx]
    left = v.is_string and v.format.startswith("%-")
    if not v.is_string and labels and v.vallab and v.vallab in ds.value_labels:
        left = False
    head = abbrev(nm, max(ab, max((len(s) for s in vals), default=1)))
    width = max(len(head), max((len(s) for s in vals), default=1))
    return head, vals, width, left


def _cell(text: str, width: int, left: bool) -> str:
    return text.ljust(width) if left else text.rjust(width)


def _clean_lines(cols, idx, noobs: bool, obsw: int, header: bool) -> list[str]:
    """list, clean: columns three blanks apart, no box."""
    out = []
    if header:
        out.append(("" if noobs else " " * (obsw + 1)) + "   " +
                   "   ".join(_cell(h, w, lf) for h, _, w, lf in cols))
    for k, i in enumerate(idx):
        num = "" if noobs else f"{i + 1}.".rjust(obsw + 1)
        out.append((num + "   " + "   ".join(_cell(vals[k], w, lf) for _, vals, w, lf in cols)).rstrip())
    return out


def _boxed_lines(cols, idx, pad: str, bar: str, noobs: bool, obsw: int, sep: int,
                 header: bool, breaks: set[int] | None = None) -> list[str]:
    """list's box: header row, a rule every `sep` observations (or before the rows in
    `breaks`, for sepby())."""
    out = [f"{pad}+{bar}+"]
    if header:
        out.append(f"{pad}| " + "   ".join(_cell(h, w, lf) for h, _, w, lf in cols) + " |")
        out.append(f"{pad}|{bar}|")
    for k, i in enumerate(idx):
        if k and ((sep and k % sep == 0) or (breaks is not None and k in breaks)):
            out.append(f"{pad}|{bar}|")
        num = "" if noobs else f"{i + 1}.".rjust(obsw + 1) + " "
        out.append(f"{num}| " + "   ".join(_cell(vals[k], w, lf) for _, vals, w, lf in cols) + " |")
    out.append(f"{pad}+{bar}+")
    return out


def _list_blocks(out, cols, idx, pad, noobs, obsw, linesize) -> None:
    """A table too wide for the line: one block per observation, variables wrapped in rows."""
    width = max(20, linesize - len(pad) - 2)
    rows, cur, used = [], [], 0
    for c in cols:
        w = c[2] + 3
        if cur and used + w > width - 1:
            rows.append(cur)
            cur, used = [], 0
        cur.append(c)
        used += w
    if cur:
        rows.append(cur)
    inner = max(sum(c[2] + 3 for c in r) for r in rows) - 1

    def cell(text, w, left):
        return text.ljust(w) if left else text.rjust(w)

    for k, i in enumerate(idx):
        if k:
            out.line()
        out.line(f"{pad}+{'-' * inner}+")
        for j, r in enumerate(rows):
            if j:
                out.line(f"{pad}|{'-' * inner}|")
            head = " | ".join(cell(h, w, lf) for h, _, w, lf in r)
            vals = " | ".join(cell(v[k], w, lf) for _, v, w, lf in r)
            num = "" if noobs else f"{i + 1}.".rjust(obsw + 1) + " "
            out.line(f"{num if j == 0 else pad}| {head.ljust(inner - 2)} |")
            out.line(f"{pad}| {vals.ljust(inner - 2)} |")
        out.line(f"{pad}+{'-' * inner}+")


# ----------------------------------------------------------------------------- levelsof / isid
@command("levelsof", qualifiers="if in", changes_data=False,
          family="Data inspection", body="varname", desc="distinct values of a variable", example="levelsof sector",
          options=(Opt("clean", "c", desc="display string values without quotes"),
                   Opt("local", "l", "name", desc="put the list of values in local macro name"),
                   Opt("missing", "miss", desc="include missing values"),
                   Opt("separate", "s", "string", desc="separator between the values (default a blank)"),
                   Opt("matcell", "matc", "name", desc="save the frequencies in matrix name"),
                   Opt("matrow", "matr", "name", desc="save the (numeric) values in matrix name")))
def levelsof_cmd(session, cmd):
    opts = typed_args(cmd)
    lname = opts.local or ""
    if lname and not re.fullmatch(r"[A-Za-z_]\w{0,30}", lname):
        raise StataError(f"{lname} invalid name", 198)
    names = varlist(session, cmd.body, all_if_empty=False)
    if len(names) != 1:
        raise StataError("too many variables specified" if names else "varlist required",
                         103 if names else 100)
    var = session.data.vars[names[0]]
    x = var.values[touse(session, cmd)]
    mats = {k: getattr(opts, k) for k in ("matcell", "matrow") if k in opts}
    for m in mats.values():
        if not re.fullmatch(r"[A-Za-z_]\w{0,31}", m):
            raise StataError(f"{m} invalid name", 198)
    if var.is_string and "matrow" in mats:
        raise StataError("type mismatch", 109)     # a matrix cannot hold string levels
    levels = _string_levels if var.is_string else _numeric_levels
    vals, words, freqs = levels(x, opts.missing, opts.clean)
    if not words and not len(x):
        raise StataError("no observations", 2000)
    sep = opts.raw("separate")      # the separator is text, kept exactly as typed
    text = (sep if sep is not None else " ").join(words)
    session.out.line(text)
    session.r.scalars = {"N": float(len(x)), "r": float(len(words))}
    session.r.macros = {"levels": text}
    session.r.matrices = {}
    if lname:
        session.local[lname] = text
    # matcell(): the frequency of each level, matrow(): the (numeric) levels, as column vectors
    if "matcell" in mats:
        session.matrices[mats["matcell"]] = np.array(freqs, dtype=float).reshape(-1, 1)
    if "matrow" in mats:
        session.matrices[mats["matrow"]] = np.array(vals, dtype=float).reshape(-1, 1)


def _string_levels(x, missing: bool, clean: bool):
    """Distinct strings (sorted; "" only with missing), each quoted unless clean, and their
    frequencies."""
    vals = sorted(set(v for v in x if v != "" or missing))
    words = [v if clean else f'`"{v}"\'' if '"' in v else f'"{v}"' for v in vals]
    return vals, words, [sum(1 for v in x if v == w) for w in vals]


def _numeric_levels(x, missing: bool, clean: bool):
    """Distinct values in Stata's order (missing codes last, only with missing), as levelsof
    writes them (integers plainly, others in %17g), and their frequencies."""
    keep = x if missing else x[~np.isnan(x)]
    keys = order_key(keep)
    uniq, first, counts = np.unique(keys, return_index=True, return_counts=True)
    order = sorted(range(len(first)), key=lambda j: keys[first[j]])
    vals = [float(keep[first[j]]) for j in order]
    words = [missing_str(v) if np.isnan(v) else fmt_g(v, 17) if not float(v).is_integer()
             else str(int(v)) for v in vals]
    return vals, words, [int(counts[j]) for j in order]


@command("isid", qualifiers="",
          family="Data inspection", body="varlist", desc="check that variables uniquely identify observations", example="isid id",
          options=(Opt("sort", "so", desc="sort the data by the varlist"),
                   Opt("missok", desc="allow missing values in the variables")))
def isid_cmd(session, cmd):
    opts = typed_args(cmd)
    names = varlist(session, cmd.body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    ds = session.data
    cols = []
    for nm in names:
        v = ds.vars[nm]
        if v.is_string:
            cols.append(list(v.values))
        else:
            if not opts.missok and np.isnan(v.values).any():
                raise StataError(f"variable {nm} should never be missing", 459)
            cols.append(order_key(v.values).tolist())
    keys = list(zip(*cols))
    if len(set(keys)) != len(keys):
        what = f"variable {names[0]} does" if len(names) == 1 else f"variables {' '.join(names)} do"
        raise StataError(f"{what} not uniquely identify the observations", 459)
    if opts.sort:
        ds.take(sort_keys(ds, names))
        ds.sortedby = list(names)
