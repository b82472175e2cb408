"""tabulate (one- and two-way), tab1 — frequency tables in Stata 17's layout.

One-way: the variable label heads the stub (wrapped onto several lines when it does not fit),
Freq. with thousands separators, Percent and Cum. to two decimals. generate(stub) makes
0/1 byte indicators labelled `var==1.0000` (or `var==label`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hlmshell.commands import tabulate_stats as tabstats
from hlmshell.commands._toolkit import check_name, touse, typed_args, value_text, varlist, weights
from hlmshell.registry import Args, Opt, command
from hlmshell.data.dataset import Variable
from hlmshell.data.missing import missing_code, missing_str, order_key
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count, fmt_g


def wrap(text: str, width: int) -> list[str]:
    """Word-wrap a header; a word too long breaks after its last '=' that fits, else hard."""
    words = text.split()
    lines: list[str] = []
    cur = ""
    for w in words:
        while len(w) > width:
            if cur:
                lines.append(cur)
                cur = ""
            cut = w.rfind("=", 0, width) + 1 or width
            lines.append(w[:cut])
            w = w[cut:]
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= width:
            cur += " " + w
        else:
            lines.append(cur)
            cur = w
    if cur or not lines:
        lines.append(cur)
    return lines


def _levels(var, x: np.ndarray):
    """Distinct values in Stata's order (numbers, then . .a ... .z; strings sorted)."""
    if var.is_string:
        return sorted(set(x.tolist()))
    keys = order_key(x)
    _, first = np.unique(keys, return_index=True)
    return [float(x[i]) for i in sorted(first, key=lambda i: keys[i])]


def _codes(var, x: np.ndarray, levels) -> np.ndarray:
    if var.is_string:
        pos = {v: i for i, v in enumerate(levels)}
        return np.array([pos[v] for v in x], dtype=np.int64)
    lk = order_key(np.array(levels, dtype=np.float64))
    return np.searchsorted(lk, order_key(x))


def _sample(session, cmd, names, missing: bool):
    ds = session.data
    mask = touse(session, cmd)
    w = weights(session, cmd, mask, allowed=("fweight", "aweight", "iweight"))
    if w is not None:
        mask = mask & ~np.isnan(w)
    if not missing:
        for nm in names:
            v = ds.vars[nm]
            mask = mask & (v.values != "" if v.is_string else ~np.isnan(v.values))
    return mask, w


def _text(ds, var, v, labels: bool) -> str:
    if var.is_string:
        return v
    return value_text(ds, var, v, labels=labels)


@dataclass(frozen=True)
class TabOptions:
    """What tabulate and tab1 were asked for, typed once from their specs (an option the
    command does not declare is its default here)."""

    missing: bool = False
    labels: bool = True
    generate: str | None = None
    sort: bool = False
    nofreq: bool = False
    row: bool = False
    column: bool = False
    cell: bool = False
    chi2: bool = False
    nokey: bool = False
    matcell: str | None = None
    matrow: str | None = None
    matcol: str | None = None
    summarize: str | None = None
    expected: bool = False
    cchi2: bool = False
    clrchi2: bool = False
    lrchi2: bool = False
    V: bool = False
    gamma: bool = False
    taub: bool = False
    exact: bool = False
    all: bool = False
    rowsort: bool = False
    colsort: bool = False

    @classmethod
    def of(cls, opts: Args) -> TabOptions:
        def flag(name: str) -> bool:
            return bool(getattr(opts, name, False))

        def value(name: str):
            return getattr(opts, name, None)

        summ = value("summarize")
        return cls(missing=flag("missing"), labels=not flag("nolabel"), generate=value("generate"),
                   sort=flag("sort"), nofreq=flag("nofreq"), row=flag("row"), column=flag("column"),
                   cell=flag("cell"), chi2=flag("chi2"), nokey=flag("nokey"),
                   matcell=value("matcell"), matrow=value("matrow"), matcol=value("matcol"),
                   summarize=" ".join(summ) if summ is not None else None,
                   **{k: flag(k) for k in ("expected", "cchi2", "clrchi2", "lrchi2", "V", "gamma",
                                           "taub", "exact", "all", "rowsort", "colsort")})


# ----------------------------------------------------------------------------- one-way
def oneway(session, cmd, name: str, opts: TabOptions) -> None:
    ds = session.data
    var = ds.var(name)
    missing = opts.missing
    labels = opts.labels
    mask, w = _sample(session, cmd, [name], missing)
    x = var.values[mask]
    if len(x) == 0:
        raise StataError("no observations", 2000)
    levels = _levels(var, x)
    codes = _codes(var, x, levels)
    ww = w[mask] if w is not None else np.ones(len(x))
    freq = np.bincount(codes, weights=ww, minlength=len(levels))
    total = float(freq.sum())
    gen = opts.generate
    if gen:
        newnames = [f"{gen}{k + 1}" for k in range(len(levels))]
        for nm in newnames:
            check_name(nm)
            if nm in ds:
                raise StataError(f"variable {nm} already defined", 110)
    order = list(range(len(levels)))
    if opts.sort:
        order = sorted(order, key=lambda k: -freq[k])
    texts = [_text(ds, var, levels[k], labels) for k in range(len(levels))]
    title = var.label or var.name
    stub = max(11, min(max((len(t) for t in texts), default=1), 32))
    head = wrap(title, stub)
    out = session.out
    out.line()
    for line in head[:-1]:
        out.line(f"{line.rjust(stub)} |")
    out.line(f"{head[-1].rjust(stub)} |      Freq.     Percent        Cum.")
    out.line("-" * (stub + 1) + "+" + "-" * 35)
    cumf = 0.0
    for k in order:
        pct = 100.0 * freq[k] / total
        cumf += freq[k]
        cum = 100.0 * cumf / total
        out.line(f"{texts[k][:stub].rjust(stub)} |{_count(freq[k], w is not None, 11)}"
                 f"{pct:12.2f}{cum:12.2f}")
    out.line("-" * (stub + 1) + "+" + "-" * 35)
    out.line(f"{'Total'.rjust(stub)} |{_count(total, w is not None, 11)}{100.0:12.2f}")
    session.r.scalars = {"N": total, "r": float(len(levels))}
    session.r.macros = {}
    _store_matrices(session, opts, freq[order].reshape(-1, 1), var, [levels[k] for k in order], None, None)
    if gen:
        full = var.values
        for k, nm in enumerate(newnames):
            lev = levels[k]
            if var.is_string:
                ind = (full == lev).astype(np.float64)
                lab = f"{name}=={lev}"
            else:
                if np.isnan(lev):
                    ind = (missing_code(full) == missing_code(np.array([lev]))[0]).astype(np.float64)
                else:
                    ind = (full == lev).astype(np.float64)
                vl = ds.value_labels.get(var.vallab, {}) if var.vallab else {}
                lt = vl.get(lev) if not np.isnan(lev) else None
                lab = f"{name}=={lt}" if lt is not None else f"{name}=={_num4(lev)}"
            ind[~mask] = np.nan
            ds.add(Variable(nm, ind, "byte", label=lab[:80]))
        ds.changed = True


def _num4(v: float) -> str:
    if np.isnan(v):
        return missing_str(v)
    return f"{v:.4f}"


def _count(v: float, weighted: bool, width: int) -> str:
    if float(v).is_integer():
        return fmt_count(int(v), width)
    return fmt_g(v, 9).rjust(width)


def _store_matrices(session, opts: TabOptions, cells, rv, rl, cv, cl) -> None:
    """matcell()/matrow()/matcol(): frequencies and the (numeric) row/column values."""
    if opts.matcell:
        session.matrices[opts.matcell] = np.array(cells, dtype=float)
    for key, var, levels, shape in (("matrow", rv, rl, (-1, 1)), ("matcol", cv, cl, (1, -1))):
        mname = getattr(opts, key)
        if mname:
            if var is None:
                raise StataError(f"option {key}() not allowed", 198)
            if var.is_string:
                raise StataError(f"{key}() not allowed with string variables", 109)
            session.matrices[mname] = np.array(levels, dtype=float).reshape(shape)


# ----------------------------------------------------------------------------- two-way
def twoway(session, cmd, rname: str, cname: str, opts: TabOptions) -> None:
    ds = session.data
    rv, cv = ds.var(rname), ds.var(cname)
    mask, w = _sample(session, cmd, [rname, cname], opts.missing)
    rx, cx = rv.values[mask], cv.values[mask]
    if len(rx) == 0:
        raise StataError("no observations", 2000)
    rl, cl = _levels(rv, rx), _levels(cv, cx)
    ri, ci = _codes(rv, rx, rl), _codes(cv, cx, cl)
    ww = w[mask] if w is not None else np.ones(len(rx))
    tab = np.zeros((len(rl), len(cl)))
    np.add.at(tab, (ri, ci), ww)
    ro, co = tabstats.frequency_order(tab, opts.rowsort, opts.colsort)
    tab, rl, cl = tab[ro][:, co], [rl[k] for k in ro], [cl[k] for k in co]
    shows = tabstats.layers(opts, opts.nofreq)
    integer = bool(np.all(ww == np.rint(ww)))
    results = tabstats.compute(tab, tabstats.requested(opts), integer)   # may fail: nothing printed yet
    _store_matrices(session, opts, tab, rv, rl, cv, cl)
    rtexts = [_text(ds, rv, v, opts.labels) for v in rl]
    ctexts = [_text(ds, cv, v, opts.labels) for v in cl]
    out = session.out
    out.line()
    if len(shows) > 1 and not opts.nokey:
        for line in tabstats.key_lines(shows):
            out.line(line)
    _draw_twoway(session, tab, shows, (rv.label or rname, cv.label or cname), rtexts, ctexts,
                 w is not None)
    session.r.scalars = {"N": float(tab.sum()), "r": float(len(rl)), "c": float(len(cl))}
    session.r.macros = {}
    tabstats.report(session, results)


def _layer_values(tab: np.ndarray, kind: str, extra: dict) -> np.ndarray:
    """What one line of every cell shows, margins included: an (r+1) x (c+1) array."""
    full = np.zeros((tab.shape[0] + 1, tab.shape[1] + 1))
    full[:-1, :-1] = tab
    full[:-1, -1] = tab.sum(axis=1)
    full[-1, :-1] = tab.sum(axis=0)
    full[-1, -1] = tab.sum()
    if kind == "freq":
        return full
    if kind in extra:
        return extra[kind]
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "row":
            return 100.0 * full / full[:, -1:]
        if kind == "column":
            return 100.0 * full / full[-1:, :]
        return 100.0 * full / full[-1, -1]


def _draw_twoway(session, tab, shows, titles, rtexts, ctexts, weighted: bool) -> None:
    """The table itself: header, one block of lines per row (one line per layer), totals."""
    stub = max(10, min(max(len(t) for t in rtexts), 32))
    cw = max(10, min(max(len(t) for t in ctexts), 32)) if ctexts else 10
    extra = {k: tabstats.cell_layer(tab, k) for k in shows if k in ("expected", "cchi2", "clrchi2")}
    values = {k: _layer_values(tab, k, extra) for k in shows}
    out = session.out
    block = (cw + 1) * len(ctexts)
    for line in _twoway_head(titles[0], titles[1], ctexts, stub, cw):
        out.line(line)
    dash = "-" * (stub + 1) + "+" + "-" * block + "+" + "-" * 10
    out.line(dash)

    def fmt(v, kind, width):
        if kind == "freq":
            return _count(v, weighted, width)
        if v != v:
            return ".".rjust(width)
        return f"{v:{width}.1f}" if kind in extra else f"{v:{width}.2f}"

    def emit(label, i):
        for j, kind in enumerate(shows):
            row = values[kind][i]
            body = " ".join(fmt(v, kind, cw) for v in row[:-1])
            out.line(f"{(label if j == 0 else '')[:stub].rjust(stub)} |{body} |{fmt(row[-1], kind, 10)} ")

    for i, t in enumerate(rtexts):
        if i and len(shows) > 1:
            out.line(f"{' ' * stub} |{' ' * block}|{' ' * 10}")
        emit(t, i)
    out.line(dash)
    emit("Total", len(rtexts))


def _twoway_head(rtitle: str, ctitle: str, ctexts: list[str], stub: int, cw: int) -> list[str]:
    """The header rows: the row variable's title (wrapped to the stub) beside the column
    variable's, centred over the columns, then the column values and `Total`."""
    block = (cw + 1) * len(ctexts)
    rhead = wrap(rtitle, stub)
    pad = max(1, (block - len(ctitle) + 1) // 2)
    lines = [" " * stub] * max(0, 2 - len(rhead)) + [h.rjust(stub) for h in rhead]
    out = []
    for k, h in enumerate(lines[:-1]):
        extra = " " * pad + ctitle if k == len(lines) - 2 else ""
        out.append(f"{h} |{extra}".rstrip() if extra else f"{h} |")
    out.append(f"{lines[-1]} |" + " ".join(t[:cw].rjust(cw) for t in ctexts) + " |" + "Total".rjust(10))
    return out


_COMMON = (Opt("missing", "m", desc="treat missing values like other values"),
           Opt("nofreq", "nof", desc="do not display frequencies"),
           Opt("nolabel", "nol", desc="display numeric codes rather than value labels"),
           Opt("sort", desc="display the table in descending order of frequency"),
           Opt("plot", desc="accepted for Stata compatibility (bar chart of frequencies)"))

_SPEC = _COMMON + (
    Opt("generate", "gen", "name", desc="create indicator variables stub1, stub2, ... (one-way)"),
    Opt("row", "r", desc="report relative frequency within its row of each cell (two-way)"),
    Opt("column", "co", desc="report relative frequency within its column of each cell (two-way)"),
    Opt("cell", "ce", desc="report the relative frequency of each cell (two-way)"),
    Opt("chi2", "ch", desc="report Pearson's chi-squared (two-way)"),
    Opt("nokey", desc="suppress the Key box (two-way)"),
    Opt("matcell", type="name", desc="save the frequencies in matrix name"),
    Opt("matrow", type="name", desc="save the row values in matrix name"),
    Opt("matcol", type="name", desc="save the column values in matrix name (two-way)"),
    Opt("subpop", type="varlist", desc="accepted for Stata compatibility (subpopulation)"),
    Opt("wrap", "w", desc="accepted for Stata compatibility (do not wrap wide tables)"),
    Opt("summarize", "su", "varlist", desc="mean, sd and frequency of varname within each level (one-way)"),
    Opt("means", "mean", desc="accepted with summarize() (means are always shown)"),
    Opt("standard", "st", desc="accepted with summarize() (standard deviations are always shown)"),
    Opt("freq", desc="accepted with summarize() (frequencies are always shown)"),
    Opt("obs", desc="accepted with summarize() for Stata compatibility"),
    Opt("nomeans", desc="accepted with summarize() for Stata compatibility"),
    Opt("nostandard", "nost", desc="accepted with summarize() for Stata compatibility")) \
    + tabstats.STAT_OPTIONS


def oneway_summary(session, cmd, name: str, opts: TabOptions) -> None:
    """`tabulate g, summarize(x)`: mean, sd and frequency of x within each level of g."""
    ds = session.data
    var = ds.var(name)
    target = varlist(session, opts.summarize, all_if_empty=False)
    if len(target) != 1:
        raise StataError("invalid syntax", 198)
    y = ds.var(target[0])
    if y.is_string:
        raise StataError("type mismatch", 109)
    mask, w = _sample(session, cmd, [name], opts.missing)
    mask = mask & ~np.isnan(y.values)
    x, yy = var.values[mask], y.values[mask]
    if len(x) == 0:
        raise StataError("no observations", 2000)
    levels = _levels(var, x)
    codes = _codes(var, x, levels)
    texts = [_text(ds, var, v, opts.labels) for v in levels]
    stub = max(11, min(max(len(t) for t in texts), 32))
    out = session.out

    def stats(v):
        n = len(v)
        m = float(np.mean(v)) if n else math.nan
        sd = float(np.std(v, ddof=1)) if n > 1 else 0.0 if n == 1 else math.nan
        return m, sd, n

    title = f"Summary of {y.label or y.name}"
    out.line()
    head = wrap(var.label or name, stub)
    head = [""] * max(0, 2 - len(head)) + head
    pad = max(1, (36 - len(title)) // 2)
    for k, h in enumerate(head[:-1]):
        out.line(f"{h.rjust(stub)} |" + (" " * pad + title if k == 0 else ""))
    out.line(f"{head[-1].rjust(stub)} |        Mean   Std. dev.       Freq.")
    out.line("-" * (stub + 1) + "+" + "-" * 36)

    def row(label, v):
        m, sd, n = stats(v)
        out.line(f"{label[:stub].rjust(stub)} | {fmt_g(m, 10).rjust(11)} {fmt_g(sd, 10).rjust(11)}"
                 f" {fmt_count(n, 11)}")

    for k, t in enumerate(texts):
        row(t, yy[codes == k])
    out.line("-" * (stub + 1) + "+" + "-" * 36)
    row("Total", yy)
    session.r.scalars = {"N": float(len(yy)), "r": float(len(levels))}


def _summary_parts(args) -> list[str]:
    """What each cell of a two-way summary table shows (means standard freq obs; no- forms)."""
    chosen = [k for k in ("means", "standard", "freq", "obs") if getattr(args, k, False)]
    parts = chosen or ["means", "standard", "freq"]
    if getattr(args, "nomeans", False):
        parts = [p for p in parts if p != "means"]
    if getattr(args, "nostandard", False):
        parts = [p for p in parts if p != "standard"]
    return parts


_SUMMARY_TITLE = {"means": "Means", "standard": "Standard Deviations", "freq": "Frequencies",
                  "obs": "Number of Obs"}


def twoway_summary(session, cmd, rname: str, cname: str, opts: TabOptions, args) -> None:
    """`tabulate r c, summarize(x)`: mean, sd and frequency of x in each cell, row and column."""
    ds = session.data
    rv, cv = ds.var(rname), ds.var(cname)
    target = varlist(session, opts.summarize, all_if_empty=False)
    if len(target) != 1:
        raise StataError("invalid syntax", 198)
    y = ds.var(target[0])
    if y.is_string:
        raise StataError("type mismatch", 109)
    mask, w = _sample(session, cmd, [rname, cname], opts.missing)
    mask = mask & ~np.isnan(y.values)
    rx, cx, yy = rv.values[mask], cv.values[mask], y.values[mask]
    if len(rx) == 0:
        raise StataError("no observations", 2000)
    rl, cl = _levels(rv, rx), _levels(cv, cx)
    ri, ci = _codes(rv, rx, rl), _codes(cv, cx, cl)
    parts = _summary_parts(args)
    names = [_SUMMARY_TITLE[p] for p in parts]
    title = (", ".join(names[:-1]) + " and " + names[-1]) if len(names) > 1 else names[0]
    out = session.out
    out.line()
    out.line(f"{title} of {y.label or y.name}".center(79).rstrip())
    rtexts = [_text(ds, rv, v, opts.labels) for v in rl]
    ctexts = [_text(ds, cv, v, opts.labels) for v in cl]
    stub = max(10, min(max(len(t) for t in rtexts), 32))
    cw = 10
    out.line()
    for line in _twoway_head(rv.label or rname, cv.label or cname, ctexts, stub, cw):
        out.line(line)
    dash = "-" * (stub + 1) + "+" + "-" * ((cw + 1) * len(cl)) + "+" + "-" * 10
    out.line(dash)

    def cell(v, part):
        n = len(v)
        if part in ("freq", "obs"):
            return str(n).rjust(cw)
        if part == "means":
            return (fmt_g(float(np.mean(v)), 9) if n else ".").rjust(cw)
        return (fmt_g(float(np.std(v, ddof=1)), 9) if n > 1 else "0" if n == 1 else ".").rjust(cw)

    def block(label, sels, tot):
        for k, part in enumerate(parts):
            body = " ".join(cell(yy[sel], part) for sel in sels)
            out.line(f"{(label if k == 0 else '')[:stub].rjust(stub)} |{body} |{cell(yy[tot], part)}")

    for i, t in enumerate(rtexts):
        if i and len(parts) > 1:
            out.line(f"{' ' * stub} |{' ' * ((cw + 1) * len(cl))}|")
        block(t, [(ri == i) & (ci == j) for j in range(len(cl))], ri == i)
    out.line(dash)
    block("Total", [ci == j for j in range(len(cl))], np.ones(len(yy), dtype=bool))
    session.r.scalars = {"N": float(len(yy)), "r": float(len(rl)), "c": float(len(cl))}


@command("tabulate", abbrev="ta",
          family="Data inspection", body="varlist", desc="one- and two-way tables of frequencies", example="tabulate sector", options=_SPEC)
def tabulate_cmd(session, cmd):
    args = typed_args(cmd, tabstats.exact_workspace(cmd.options))
    opts = TabOptions.of(args)
    names = varlist(session, cmd.body, all_if_empty=False)
    if opts.summarize is not None:
        if len(names) == 2:
            twoway_summary(session, cmd, names[0], names[1], opts, args)
            return
        if len(names) != 1:
            raise StataError("too many variables specified", 103)
        oneway_summary(session, cmd, names[0], opts)
        return
    if len(names) == 1:
        for o in tabstats.TWOWAY_ONLY:
            if getattr(opts, o):
                raise StataError(f"option {o}{'()' if o == 'matcol' else ''} not allowed", 198)
        oneway(session, cmd, names[0], opts)
    elif len(names) == 2:
        if opts.generate:
            raise StataError("option generate() not allowed", 198)
        twoway(session, cmd, names[0], names[1], opts)
    elif not names:
        raise StataError("varlist required", 100)
    else:
        raise StataError("too many variables specified", 103)


@command("tab1",
          family="Data inspection", body="varlist", desc="one-way tables for each variable", example="tab1 sector minority", options=_COMMON)
def tab1_cmd(session, cmd):
    opts = TabOptions.of(typed_args(cmd))
    names = varlist(session, cmd.body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    for nm in names:
        session.out.line()
        session.out.line(f"-> tabulation of {nm}  ")
        oneway(session, cmd, nm, opts)


_TAB2 = _COMMON + tuple(o for o in _SPEC if o.name in ("row", "column", "cell", "chi2", "nokey", "wrap",
                                                       "matcell", "matrow", "matcol")) \
    + tabstats.STAT_OPTIONS + (Opt("firstonly", "first", desc="only the tables that include the first variable"),)


@command("tab2", qualifiers="if in weight", weights="fw aw iw", changes_data=False,
         family="Data inspection", body="varlist", desc="two-way tables of all pairs of variables",
         example="tab2 sector female minority", options=_TAB2)
def tab2_cmd(session, cmd):
    args = typed_args(cmd, tabstats.exact_workspace(cmd.options))
    opts = TabOptions.of(args)
    names = varlist(session, cmd.body, all_if_empty=False)
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    firsts = names[:1] if args.firstonly else names
    for i, a in enumerate(firsts):
        for b in names[i + 1:]:
            session.out.line()
            session.out.line(f"-> tabulation of {a} by {b}  ")
            twoway(session, cmd, a, b, opts)
