"""table: Stata 17's table of frequencies and summary statistics (the collect-based one), and
Stata 16's `table ..., contents()` which Stata 17 still runs under version 16.

    table sector female, statistic(mean mathach) statistic(sd mathach) nformat(%9.2f)
    table (sector) (female minority), statistic(frequency) nototals
    table sector female, contents(freq mean mathach sd mathach) format(%9.2f) row col

Stata 17: `table rowvar [colvar [tabvar]]` or `table (rowvars) (colvars) (tabvars)`; the
statistics go to the columns when there is no column variable, else to the rows under each
row level; Totals for every variable unless nototals (totals() names the ones that get them).
Stata 16: cells 9 wide with up to five statistics stacked in each cell.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.commands._toolkit import collect_options, touse, value_text, varlist, weights
from hlmshell.data.missing import order_key
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt
from hlmshell.registry import Opt, command

_LABEL = {"frequency": "Frequency", "percent": "Percent", "mean": "Mean",
          "sd": "Standard deviation", "median": "Median", "min": "Minimum value",
          "max": "Maximum value", "sum": "Sum", "count": "Number of nonmissing values",
          "rawsum": "Unweighted sum", "variance": "Variance", "iqr": "Interquartile range",
          "semean": "Standard error of the mean", "cv": "Coefficient of variation"}
_ALIAS = {"freq": "frequency", "frequency": "frequency", "percent": "percent", "mean": "mean",
          "sd": "sd", "median": "median", "med": "median", "min": "min", "max": "max",
          "sum": "sum", "count": "count", "n": "count", "rawsum": "rawsum", "variance": "variance",
          "var": "variance", "iqr": "iqr", "semean": "semean", "sem": "semean", "cv": "cv"}
_NOVAR = ("frequency", "percent")
_OLD_HEAD = {"frequency": "Freq.", "median": "med", "count": "N", "semean": "sem"}

_OPTS = (Opt("statistic", "stat", "anything", desc="statistic to compute: freq mean x sd x ... (repeatable)"),
         Opt("nformat", "nformat", "anything", desc="numeric format for all or the named statistics"),
         Opt("totals", "total", "anything", desc="totals for the named variables only"),
         Opt("nototals", "nototal", desc="suppress all totals"),
         Opt("missing", "m", desc="treat missing values like other values"),
         Opt("contents", "c", "anything", desc="Stata 16 syntax: statistics in the cells"),
         Opt("format", "f", "anything", desc="Stata 16 syntax: display format of the cells"),
         Opt("row", "row", desc="Stata 16 syntax: add row totals"),
         Opt("column", "col", desc="Stata 16 syntax: add column totals"),
         Opt("scolumn", "sc", desc="Stata 16 syntax: add supercolumn totals"),
         Opt("cellwidth", "cellw", "int", desc="Stata 16 syntax: cell width"),
         Opt("stubwidth", "stubw", "int", desc="Stata 16 syntax: stub width"),
         Opt("csepwidth", "csepw", "int", desc="Stata 16 syntax: column-separation width"),
         Opt("concise", "conc", desc="Stata 16 syntax: suppress rows with all missing entries"),
         Opt("cw", "cw", desc="Stata 16 syntax: casewise deletion"),
         Opt("by", "by", "anything", desc="Stata 16 syntax: superrow variables"))
_REPEAT = ("statistic", "nformat")


# ----------------------------------------------------------------------------- options
def _collect(options) -> tuple[dict, dict]:
    """Options typed -> (last value by name, all values of the repeatable ones)."""
    return collect_options(options, _OPTS, _REPEAT)


def _stat_name(word: str) -> str:
    w = word.lower()
    if w in _ALIAS:
        return _ALIAS[w]
    if re.fullmatch(r"p([1-9]|[1-9][0-9])", w):
        return w
    raise StataError(f"invalid statistic {word}", 198)


def _ordinal(p: int) -> str:
    suf = "th" if 10 <= p % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(p % 10, "th")
    return f"{p}{suf} percentile"


def stat_label(stat: str) -> str:
    return _LABEL[stat] if stat in _LABEL else _ordinal(int(stat[1:]))


def parse_statistics(session, texts: list[str]) -> list[tuple[str, str | None]]:
    """statistic(name [varlist]) ... -> [(stat, var)] in Stata's order: a statistic's
    variables in turn."""
    specs: list[tuple[str, str | None]] = []
    for text in texts or ["frequency"]:
        words = text.split()
        stat = _stat_name(words[0])
        if stat in _NOVAR:
            if len(words) > 1:
                raise StataError(f"statistic {words[0]} does not take a varlist", 198)
            specs.append((stat, None))
            continue
        if len(words) == 1:
            raise StataError(f"statistic {words[0]} requires a varlist", 100)
        for nm in varlist(session, " ".join(words[1:]), all_if_empty=False):
            if session.data.var(nm).is_string:
                raise StataError(f"string variable {nm} not allowed", 109)
            specs.append((stat, nm))
    return specs


def _check_format(spec: str) -> str:
    try:
        fmt(1.0, spec)
    except Exception:
        raise StataError(f"invalid %format {spec}", 120) from None
    return spec


def parse_nformats(texts: list[str]) -> dict[str, str]:
    """nformat(%fmt [statnames]) -> {stat: format}, '*' for all."""
    out: dict[str, str] = {}
    for text in texts:
        words = text.split()
        spec = _check_format(words[0])
        for w in words[1:] or ["*"]:
            out[w if w == "*" else _stat_name(w)] = spec
    return out


def _default_format(stat: str) -> str:
    return {"frequency": "%11.0gc", "percent": "%9.2f"}.get(stat, "%9.0g")


# ----------------------------------------------------------------------------- data
def _groups_of(session, body: str) -> list[list[str]]:
    """`a b c` -> [[a], [b], [c]]; `(a b) (c) ()` -> [[a, b], [c], []]."""
    text = body.strip()
    if "(" not in text:
        names = varlist(session, text, all_if_empty=False) if text else []
        return [[n] for n in names]
    parts = re.findall(r"\(([^()]*)\)|(\S+)", text)
    groups = []
    for inner, bare in parts:
        src = inner if not bare else bare
        if bare and ("(" in bare or ")" in bare):
            raise StataError("invalid syntax", 198)
        groups.append(varlist(session, src, all_if_empty=False) if src.strip() else [])
    return groups


def _levels(ds, name: str, mask: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(label, selection) per level of `name` within mask, in Stata's order."""
    var = ds.var(name)
    vals = var.values
    if var.is_string:
        return [(lev, mask & (vals == lev)) for lev in sorted(set(vals[mask].tolist()))]
    keys = order_key(vals)
    out = []
    for k in np.unique(keys[mask]):
        sel = mask & (keys == k)
        x = float(vals[np.argmax(sel)])
        out.append((value_text(ds, var, x), sel))
    return out


def var_label(ds, name: str) -> str:
    return ds.var(name).label or name


class _Ctx:
    """What the cell computations need: data, weights, the statistics and their formats."""

    def __init__(self, ds, w, kind, specs, formats, grand):
        self.ds, self.w, self.kind, self.specs, self.formats = ds, w, kind, specs, formats
        self.grand = grand

    def freq(self, sel: np.ndarray) -> float:
        return float(self.w[sel].sum()) if self.kind == "fweight" else float(sel.sum())

    def value(self, k: int, sel: np.ndarray) -> float:
        from hlmshell.commands.tabstat import compute
        stat, nm = self.specs[k]
        if stat == "frequency":
            return self.freq(sel)
        if stat == "percent":
            return 100.0 * self.freq(sel) / self.grand if self.grand else math.nan
        v = self.ds.var(nm).values
        ok = sel & ~np.isnan(v)
        if stat == "rawsum":
            return float(v[ok].sum())
        w = self.w[ok] if self.w is not None else None
        return compute(v[ok], w, self.kind, stat)

    def text(self, k: int, sel: np.ndarray | None) -> str:
        if sel is None or not sel.any():
            return ""
        stat = self.specs[k][0]
        spec = self.formats.get(stat, self.formats.get("*", _default_format(stat)))
        x = self.value(k, sel)
        return fmt(x, spec).strip()


# ----------------------------------------------------------------------------- Stata 17
def _row_entries(ds, names, mask, totals, indent=0):
    """Stub entries (text, selection or None) for nested row variables."""
    if not names:
        return [("", mask)]
    name, rest = names[0], names[1:]
    out = [(" " * indent + var_label(ds, name), None)]
    for text, sel in _levels(ds, name, mask):
        if rest:
            out.append((" " * (indent + 2) + text, None))
            out += _row_entries(ds, rest, sel, totals, indent + 4)
        else:
            out.append((" " * (indent + 2) + text, sel))
    if name in totals:
        out.append((" " * (indent + 2) + "Total", mask))
    return out


def _col_leaves(ds, names, mask, totals):
    """Column leaves [(selection, path of level texts)] for nested column variables, and the
    header rows (label and level spans)."""
    leaves: list[tuple[np.ndarray, tuple]] = [(mask, ())]
    for name in names:
        new = []
        for sel0, path in leaves:
            for text, sel in _levels(ds, name, sel0):
                new.append((sel, path + (text,)))
            if name in totals:
                new.append((sel0, path + ("Total",)))
        leaves = new
    return leaves


def _col_headers(ds, names, leaves) -> list[list[tuple[str, int, int]]]:
    rows = []
    for d, name in enumerate(names):
        # runs of leaves sharing the path above this depth; a Total above spans nothing new
        lab_row, lev_row = [], []
        j = 0
        while j < len(leaves):
            k = j
            while k + 1 < len(leaves) and leaves[k + 1][1][:d] == leaves[j][1][:d]:
                k += 1
            if len(leaves[j][1]) > d and "Total" not in leaves[j][1][:d]:
                lab_row.append((var_label(ds, name), j, k))
            m = j
            while m <= k:
                n = m
                while n + 1 <= k and len(leaves[n + 1][1]) > d and leaves[n + 1][1][:d + 1] == leaves[m][1][:d + 1]:
                    n += 1
                if len(leaves[m][1]) > d and "Total" not in leaves[m][1][:d]:
                    lev_row.append((leaves[m][1][d], m, n))
                m = n + 1
            j = k + 1
        rows += [lab_row, lev_row]
    return rows


def _stat_columns(ctx, headers_only=False):
    """One-way tables: a column per statistic (and variable); header rows."""
    specs = ctx.specs
    stats = list(dict.fromkeys(s for s, _ in specs))
    vars_ = list(dict.fromkeys(v for _, v in specs if v is not None))
    show_var = len(vars_) > 1
    top, second = [], []
    j = 0
    while j < len(specs):
        k = j
        while k + 1 < len(specs) and specs[k + 1][0] == specs[j][0]:
            k += 1
        top.append((stat_label(specs[j][0]), j, k))
        for m in range(j, k + 1):
            nm = specs[m][1]
            second.append((var_label(ctx.ds, nm) if nm else "", m, m))
        j = k + 1
    del stats
    return [top, second] if show_var else [top]


def _spec_rows(ctx, indent):
    """Stub entries for the statistics nested under a row (two-way tables)."""
    specs = ctx.specs
    vars_ = list(dict.fromkeys(v for _, v in specs if v is not None))
    out = []
    for k, (stat, nm) in enumerate(specs):
        lab = stat_label(stat)
        if len(vars_) > 1 and nm is not None:
            lab = f"{lab} {var_label(ctx.ds, nm)}"
        out.append((" " * indent + lab, k))
    return out


def _one_table(out, ctx, rows, cols, mask, totals):
    from hlmshell.output.table_layout import stata17
    ds = ctx.ds
    entries = _row_entries(ds, rows, mask, totals) if rows else [("", mask)]
    stub, cells = [], []
    if not cols:
        headers = _stat_columns(ctx)
        for text, sel in entries:
            stub.append(text)
            cells.append(None if sel is None else [ctx.text(k, sel) for k in range(len(ctx.specs))])
        ncols = len(ctx.specs)
    else:
        leaves = _col_leaves(ds, cols, mask, totals)
        headers = _col_headers(ds, cols, leaves)
        many = len(ctx.specs) > 1
        for text, sel in entries:
            stub.append(text)
            if sel is None:
                cells.append(None)
                continue
            if not many:
                cells.append([ctx.text(0, sel & cs) for cs, _ in leaves])
                continue
            cells.append(None)
            ind = len(text) - len(text.lstrip()) + 2
            for lab, k in _spec_rows(ctx, ind):
                stub.append(lab)
                cells.append([ctx.text(k, sel & cs) for cs, _ in leaves])
        ncols = len(leaves)
    for line in stata17(stub, headers, cells, ncols):
        out.line(line)


def _run17(session, cmd, groups, given, rep):
    ds = session.data
    if len(groups) > 3:
        raise StataError("too many variables specified", 103)
    specs = parse_statistics(session, rep["statistic"])
    formats = parse_nformats(rep["nformat"])
    rows = groups[0] if groups else []
    cols = groups[1] if len(groups) > 1 else []
    tabs = groups[2] if len(groups) > 2 else []
    allv = rows + cols + tabs
    mask, w, kind = _sample(session, cmd, allv, "missing" in given)
    if given.get("totals") is not None:
        totals = set(varlist(session, given["totals"], all_if_empty=False))
    else:
        totals = set() if "nototals" in given else set(allv)
    if "nototals" in given and given.get("totals") is not None:
        raise StataError("options totals() and nototals may not be combined", 198)
    ctx = _Ctx(ds, w, kind, specs, formats, 0.0)
    ctx.grand = ctx.freq(mask)
    out = session.out
    out.line()
    for b, (text, sel) in enumerate(_tab_blocks(ds, tabs, mask, totals)):
        if b:
            out.line()
        if text:
            out.line(text)
        _one_table(out, ctx, rows, cols, sel, totals)


def _tab_blocks(ds, tabs, mask, totals):
    """One table per combination of the table variables' levels ((text, selection))."""
    blocks = [("", mask)]
    for name in tabs:
        new = []
        for text, sel0 in blocks:
            for lev, sel in _levels(ds, name, sel0):
                new.append(((text + ", " if text else "") + f"{var_label(ds, name)} = {lev}", sel))
            if name in totals:
                new.append(((text + ", " if text else "") + f"{var_label(ds, name)} = Total", sel0))
        blocks = new
    return blocks


def _sample(session, cmd, names, missing):
    ds = session.data
    mask = touse(session, cmd)
    w = weights(session, cmd, mask, allowed=("fweight", "aweight"))
    kind = cmd.weight.kind if cmd.weight is not None else None
    if w is not None:
        mask = mask & ~np.isnan(w)
    if not missing:
        for nm in names:
            v = ds.var(nm)
            mask = mask & (v.values != "" if v.is_string else ~np.isnan(np.asarray(v.values, dtype=float)))
    if not mask.any():
        raise StataError("no observations", 2000)
    return mask, w, kind


# ----------------------------------------------------------------------------- Stata 16
def parse_contents(session, text: str) -> list[tuple[str, str | None]]:
    """contents(freq mean x sd x ...) -> [(stat, var)]; at most five."""
    words = text.split()
    specs = []
    i = 0
    while i < len(words):
        stat = _stat_name(words[i])
        if stat == "percent":
            raise StataError(f"{words[i]} invalid statistic", 198)
        if stat == "frequency":
            specs.append((stat, None))
            i += 1
            continue
        if i + 1 >= len(words):
            raise StataError("varname required", 100)
        nm = varlist(session, words[i + 1], all_if_empty=False)
        if len(nm) != 1:
            raise StataError("too many variables specified", 103)
        if session.data.var(nm[0]).is_string:
            raise StataError(f"string variable {nm[0]} not allowed", 109)
        specs.append((stat, nm[0]))
        i += 2
    if len(specs) > 5:
        raise StataError("too many statistics specified", 198)
    return specs or [("frequency", None)]


def _old_head(stat: str, nm: str | None) -> str:
    if stat == "frequency":
        return "Freq."
    return f"{_OLD_HEAD.get(stat, stat)}({nm})"


def _old_setup(session, cmd, groups, given):
    ds = session.data
    names = [g[0] for g in groups if g]
    if len(names) > 3:
        raise StataError("too many variables specified", 103)
    if any(len(g) != 1 for g in groups) or not names:
        raise StataError("invalid syntax", 198)
    specs = parse_contents(session, given["contents"])
    spec = _check_format(given["format"]) if given.get("format") else "%9.0g"
    mask, w, kind = _sample(session, cmd, names, "missing" in given)
    ctx = _Ctx(ds, w, kind, specs, {"*": spec}, 0.0)
    ctx.grand = ctx.freq(mask)
    return names, ctx, mask


def _old_rows(ctx, levels, col_leaves):
    rows = []
    for text, sel in levels:
        for k in range(len(ctx.specs)):
            cells = [ctx.text(k, sel & cs) for cs, _ in col_leaves]
            rows.append((text if k == 0 else "", cells))
    return rows


def _superrows(session, mask, by_text: str | None) -> list[tuple[list[str], np.ndarray]]:
    """by(varlist) of the Stata 16 syntax: each combination of the by-variables' levels (their
    value labels joined by ", "), with its observations; one group of everything without by()."""
    if not by_text:
        return [([], mask)]
    from hlmshell.commands._toolkit import varlist
    ds = session.data
    out = [([], mask)]
    for name in varlist(session, by_text):
        out = [(lab + [t], sel) for lab, m in out for t, sel in _levels(ds, name, m)]
    return out


def _run16(session, cmd, groups, given):
    from hlmshell.output.table_layout import RULE, stata16, wrap
    names, ctx, mask = _old_setup(session, cmd, groups, given)
    ds, specs = session.data, ctx.specs
    col_leaves = _old_cols(ds, names[1:], mask, "column" in given, "scolumn" in given)
    supers = _superrows(session, mask, given.get("by"))
    rows = []
    for k, (lab, sub) in enumerate(supers):
        if lab:
            rows += ([(RULE, None)] if k else []) + [(", ".join(lab), None)]
        levels = _levels(ds, names[0], sub) + ([("Total", sub)] if "row" in given else [])
        if col_leaves:
            rows += _old_rows(ctx, levels, [(cs & sub, t) for cs, t in col_leaves])
        else:
            rows += _one_way_rows(ctx, levels)
    if col_leaves:
        col_head = " and ".join(var_label(ds, n) for n in names[1:])
        labels = [t for _, t in col_leaves]
    else:
        col_head, labels = None, [_old_head(s, v) for s, v in specs]
    cellw = int(given.get("cellwidth") or 0) or max([9] + [len(h) for h in labels])
    stubw = int(given.get("stubwidth") or 10)
    stub = var_label(ds, names[0])
    if given.get("by"):
        from hlmshell.commands._toolkit import varlist
        byl = [var_label(ds, n) for n in varlist(session, given["by"])]
        stub = ", ".join(byl[:-1] + [f"{byl[-1]} and {stub}"])
    head = wrap(stub, max(stubw - 1, 1))
    out = session.out
    out.line()
    for line in stata16(head, col_head, labels, rows, cellwidth=cellw,
                        csep=int(given.get("csepwidth") or 2), stubwidth=stubw,
                        blank_between=len(specs) if col_leaves else 0):
        out.line(line)


def _one_way_rows(ctx, levels):
    return [(text, [ctx.text(k, sel) for k in range(len(ctx.specs))]) for text, sel in levels]


def _old_cols(ds, names, mask, col_total, sc_total):
    """Stata 16 columns: levels of the column variable (within each supercolumn level)."""
    if not names:
        return []
    col = names[0]
    if len(names) == 1:
        out = _levels(ds, col, mask) + ([("Total", mask)] if col_total else [])
        return [(sel, t) for t, sel in out]
    sup = names[1]
    out = []
    for stext, ssel in _levels(ds, sup, mask):
        out += [(f"{t}", sel) for t, sel in _levels(ds, col, ssel)]
        if col_total:
            out.append(("Total", ssel))
    if sc_total:
        out += _levels(ds, col, mask)
    return [(sel, t) for t, sel in out]


@command("table", abbrev="table", qualifiers="if in weight", weights="fw aw", changes_data=False,
         family="Data inspection", body="anything", desc="table of frequencies and summary statistics",
         example="table sector female, statistic(mean mathach) nformat(%9.2f)", options=_OPTS)
def table_cmd(session, cmd):
    from hlmshell.results.base import RResults
    given, rep = _collect(cmd.options)
    groups = _groups_of(session, cmd.body)
    if "contents" in given:
        _run16(session, cmd, groups, given)
    else:
        for o in ("format", "row", "column", "scolumn", "cellwidth", "stubwidth", "csepwidth",
                  "concise", "cw", "by"):
            if o in given:
                raise StataError(f"option {o} not allowed", 198)
        _run17(session, cmd, groups, given, rep)
    session.r = RResults()
