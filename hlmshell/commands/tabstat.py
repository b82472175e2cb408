"""tabstat: a compact table of summary statistics, optionally by the levels of one variable.

    tabstat mathach ses, statistics(mean sd p50) by(sector) columns(statistics) save

Stata 17's layout: statistics in rows (`Stats` stub) and variables in columns by default;
columns(statistics) transposes (`Variable` stub). With by() a header names the statistics
(or the variable) and the group variable, groups are separated by rules and end in `Total`.
save leaves r(StatTotal), r(Stat1..k) and r(name1..k).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands._toolkit import percentile, touse, value_text, varlist, weights
from hlmshell.commands.program import NamedMatrix
from hlmshell.data.missing import missing_str, order_key
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, args_of, command

# statname -> (name in r() rows, label shown in the table)
_PCTS = (1, 5, 10, 25, 50, 75, 90, 95, 99)
STATS = {"mean": ("mean", "Mean"), "count": ("N", "N"), "n": ("N", "N"), "sum": ("sum", "Sum"),
         "max": ("max", "Max"), "min": ("min", "Min"), "range": ("range", "Range"),
         "sd": ("sd", "SD"), "variance": ("variance", "Variance"), "cv": ("cv", "CV"),
         "semean": ("se(mean)", "SE(mean)"), "skewness": ("skewness", "Skewness"),
         "kurtosis": ("kurtosis", "Kurtosis"), "median": ("p50", "p50"), "iqr": ("iqr", "IQR")}
STATS.update({f"p{p}": (f"p{p}", f"p{p}") for p in _PCTS})
_ABBREV = {"me": "mean", "co": "count", "su": "sum", "ma": "max", "mi": "min", "r": "range",
           "v": "variance", "se": "semean", "sk": "skewness", "k": "kurtosis", "med": "median",
           "iq": "iqr"}


def parse_stats(words: list[str]) -> list[str]:
    """statistics(mean sd q ...) -> statnames; q is p25 p50 p75. Unknown: Stata's r(198)."""
    out: list[str] = []
    for w in words or ["mean"]:
        w = w.lower()
        if w == "q":
            out += ["p25", "p50", "p75"]
            continue
        full = w if w in STATS else next((f for a, f in _ABBREV.items()
                                          if w.startswith(a) and f.startswith(w)), None)
        if full is None:
            raise StataError(f"{w} is not a valid statistic", 198)
        out.append(full)
    return out


def compute(x: np.ndarray, w: np.ndarray | None, kind: str | None, stat: str) -> float:
    """One statistic of the nonmissing values x (weights w of the given kind)."""
    n = len(x)
    if stat in ("count", "n"):
        return float(w.sum()) if kind == "fweight" else float(n)
    if n == 0:
        return 0.0 if stat == "sum" else math.nan
    ww = np.ones(n) if w is None else w.astype(float)
    sw = ww.sum()
    mean = float((ww * x).sum() / sw)
    nn = sw if kind == "fweight" else n
    dev = x - mean
    m2 = float((ww * dev ** 2).sum() / sw)
    var = m2 * nn / (nn - 1) if nn > 1 else math.nan
    simple = {"mean": mean, "sum": float((ww * x).sum()) if kind != "aweight" else float(n * mean),
              "max": float(x.max()), "min": float(x.min()), "range": float(x.max() - x.min()),
              "variance": var, "sd": math.sqrt(var) if var == var else math.nan}
    if stat in simple:
        return simple[stat]
    if stat == "cv":
        return simple["sd"] / mean if mean else math.nan
    if stat == "semean":
        return simple["sd"] / math.sqrt(nn)
    if stat in ("skewness", "kurtosis"):
        if m2 == 0:
            return math.nan
        k = 3 if stat == "skewness" else 4
        return float((ww * dev ** k).sum() / sw) / m2 ** (k / 2)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], (None if w is None else w[order].astype(float))
    if stat == "iqr":
        return percentile(xs, 75, ws) - percentile(xs, 25, ws)
    p = 50 if stat == "median" else int(stat[1:])
    return percentile(xs, p, ws)


# ----------------------------------------------------------------------------- parse
def _options(session, cmd):
    opts = args_of(cmd)
    if opts.raw("statistics") is not None and opts.raw("stats") is not None:
        raise StataError("options statistics() and stats() may not be combined", 198)
    stats = parse_stats((opts.raw("statistics") or opts.raw("stats") or "").split())
    col = (opts.raw("columns") or "variables").strip().lower()
    if col and "variables".startswith(col) and len(col) >= 1:
        col = "variables"
    elif col and "statistics".startswith(col) and len(col) >= 1:
        col = "statistics"
    else:
        raise StataError("columns() invalid -- invalid option", 198)
    fmtspec = None
    if "format" in opts:
        fmtspec = (opts.raw("format") or "").strip() or "var"
        if fmtspec != "var":
            try:
                fmt(1.0, fmtspec)
            except Exception:
                raise StataError(f"invalid %format {fmtspec}", 120) from None
    by = None
    if opts.raw("by"):
        names = varlist(session, opts.raw("by"), all_if_empty=False)
        if len(names) != 1:
            raise StataError("too many variables specified", 103)
        by = names[0]
    for o in ("casewise", "nototal", "missing", "save", "noseparator", "longstub"):
        if opts.raw(o):
            raise StataError(f"option {o} not allowed", 198)
    return dict(stats=stats, col=col, fmt=fmtspec, by=by, casewise=opts.casewise,
                total=not opts.nototal, missing=opts.missing, save=opts.save,
                sep=not opts.noseparator, varwidth=opts.varwidth, labelwidth=opts.labelwidth)


def _sample(session, cmd, names, o):
    ds = session.data
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError("string variables not allowed in varlist;\n" + nm + " is a string variable", 109)
    mask = touse(session, cmd)
    w = weights(session, cmd, mask, allowed=("aweight", "fweight"))
    if w is not None:
        mask = mask & ~np.isnan(w)
    if o["by"] and not o["missing"]:
        bv = ds.var(o["by"])
        mask = mask & (bv.values != "" if bv.is_string else ~np.isnan(bv.values))
    if o["casewise"]:
        for nm in names:
            mask = mask & ~np.isnan(ds.var(nm).values)
    return mask, w


def _groups(ds, by, mask):
    """(label, selection) for each level of by() within the sample, in Stata's order."""
    if by is None:
        return []
    bv = ds.var(by)
    x = bv.values[mask]
    if bv.is_string:
        levels = sorted(set(x.tolist()))
    else:
        keys = order_key(x)
        _, first = np.unique(keys, return_index=True)
        levels = [float(x[i]) for i in sorted(first, key=lambda i: keys[i])]
    out = []
    for lev in levels:
        if bv.is_string:
            sel = mask & (bv.values == lev)
            text = lev
        else:
            sel = mask & (order_key(bv.values) == order_key(np.array([lev]))[0])
            text = value_text(ds, bv, lev) if not np.isnan(lev) else missing_str(lev)
        out.append((text, lev, sel))
    return out


def _matrix(ds, names, sel, w, kind, stats):
    """stats x variables for the observations in sel."""
    m = np.empty((len(stats), len(names)))
    for j, nm in enumerate(names):
        v = ds.var(nm).values
        ok = sel & ~np.isnan(v)
        wj = w[ok] if w is not None else None
        for i, st in enumerate(stats):
            m[i, j] = compute(v[ok], wj, kind, st)
    return m


@command("tabstat", qualifiers="if in weight", weights="aw fw", changes_data=False,
         family="Data inspection", body="varlist", desc="compact table of summary statistics",
         example="tabstat mathach ses, statistics(mean sd p50) by(sector)",
         options=(Opt("by", type="varlist", desc="group statistics by variable"),
                  Opt("statistics", "s", "anything", desc="report specified statistics (mean sd min max n sum p50 ...)"),
                  Opt("stats", "stats", "anything", desc="synonym for statistics()"),
                  Opt("columns", "c", "string", desc="display variables or statistics in table columns"),
                  Opt("format", "f", "anything", desc="display format for statistics; default %9.0g"),
                  Opt("casewise", "ca", desc="perform casewise deletion of observations"),
                  Opt("nototal", "not", desc="do not report overall statistics; use with by()"),
                  Opt("missing", "m", desc="report statistics for missing values of by() variable"),
                  Opt("noseparator", "nosep", desc="do not use separator line between by() categories"),
                  Opt("longstub", "long", desc="make left table stub wider"),
                  Opt("save", desc="store summary statistics in r()"),
                  Opt("varwidth", "varw", "int", 12, desc="variable width; default is varwidth(12)"),
                  Opt("labelwidth", "labelw", "int", 16, desc="width for by() variable labels")))
def tabstat_cmd(session, cmd):
    o = _options(session, cmd)
    ds = session.data
    names = varlist(session, cmd.body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    mask, w = _sample(session, cmd, names, o)
    kind = cmd.weight.kind if cmd.weight is not None else None
    if not mask.any():
        raise StataError("no observations", 2000)
    groups = _groups(ds, o["by"], mask)
    blocks = [(t, _matrix(ds, names, sel, w, kind, o["stats"])) for t, _, sel in groups]
    total = _matrix(ds, names, mask, w, kind, o["stats"])
    _report(session, names, o, blocks, total)
    _store(session, names, o, groups, blocks, total)


# ----------------------------------------------------------------------------- report
def _cell(ds, names, j, x, o, col_is_var):
    spec = o["fmt"]
    if spec == "var":
        spec = ds.var(names[j]).format if col_is_var else "%9.0g"
    elif spec is None:
        spec = "%9.0g"
    return fmt(float(x), spec).strip().rjust(9)


def _report(session, names, o, blocks, total):
    ds = session.data
    out = session.out
    stats = o["stats"]
    labels = [STATS[s][1] for s in stats]
    by = o["by"]
    out.line()
    if by is not None:
        bv = ds.var(by)
        if o["col"] == "variables":
            out.line("Summary statistics: " + ", ".join(labels))
        else:
            out.line("Summary for variables: " + " ".join(names))
        out.line(f"Group variable: {by}" + (f" ({bv.label})" if bv.label else ""))
        out.line()
    if o["col"] == "variables":
        _by_rows(session, names, o, blocks, total, labels)
    else:
        _stat_cols(session, names, o, blocks, total, labels)


def _by_rows(session, names, o, blocks, total, labels):
    """Variables in columns: a block of statistic rows per group (or one block, `Stats`)."""
    ds, out = session.data, session.out
    by = o["by"]
    if by is None:
        stub = max(8, max(len(t) for t in labels))
        rows_of = [(labels, total)]
        head = "Stats"
    else:
        texts = [t for t, _ in blocks] + (["Total"] if o["total"] else [])
        stub = max(len(by[:o["labelwidth"]]), max((len(t[:o["labelwidth"]]) for t in texts), default=0), 8)
        head = by
        rows_of = []
    width = 10 * len(names)
    out.line(f"{head[:stub].rjust(stub)} |" + "".join(abbrev(n, 8).rjust(10) for n in names))
    rule = "-" * (stub + 1) + "+" + "-" * width
    out.line(rule)
    if by is None:
        for i, lab in enumerate(labels):
            out.line(f"{lab.rjust(stub)} |" + "".join(" " + _cell(ds, names, j, total[i, j], o, True)
                                                       for j in range(len(names))))
    else:
        items = list(blocks) + ([("Total", total)] if o["total"] else [])
        for k, (text, m) in enumerate(items):
            if k and (o["sep"] and len(labels) > 1 or text == "Total"):
                out.line(rule)
            for i in range(len(labels)):
                lab = text[:o["labelwidth"]] if i == 0 else ""
                out.line(f"{lab.rjust(stub)} |" + "".join(" " + _cell(ds, names, j, m[i, j], o, True)
                                                          for j in range(len(names))))
    out.line("-" * (stub + 2 + width))


def _stat_cols(session, names, o, blocks, total, labels):
    """Statistics in columns: a row per variable (per group with by())."""
    ds, out = session.data, session.out
    by = o["by"]
    width = 10 * len(labels)
    if by is None:
        stub = max(8, o["varwidth"])
        out.line(f"{'Variable'.rjust(stub)} |" + "".join(t.rjust(10) for t in labels))
        rule = "-" * (stub + 1) + "+" + "-" * width
        out.line(rule)
        for j, nm in enumerate(names):
            out.line(f"{abbrev(nm, stub).rjust(stub)} |" + "".join(
                " " + _cell(ds, names, j, total[i, j], o, True) for i in range(len(labels))))
        out.line("-" * (stub + 2 + width))
        return
    texts = [t for t, _ in blocks] + ["Total"]
    stub = max(len(by), max(len(t[:o["labelwidth"]]) for t in texts), 8)
    out.line(f"{by[:stub].rjust(stub)} |" + "".join(t.rjust(10) for t in labels))
    rule = "-" * (stub + 1) + "+" + "-" * width
    out.line(rule)
    items = list(blocks) + ([("Total", total)] if o["total"] else [])
    for k, (text, m) in enumerate(items):
        if k and (o["sep"] and len(names) > 1 or text == "Total"):
            out.line(rule)
        for j in range(len(names)):
            lab = text[:o["labelwidth"]] if j == 0 else ""
            out.line(f"{lab.rjust(stub)} |" + "".join(" " + _cell(ds, names, j, m[i, j], o, True)
                                                      for i in range(len(labels))))
    out.line("-" * (stub + 2 + width))


def _store(session, names, o, groups, blocks, total):
    from hlmshell.results.base import RResults
    if not o["save"]:
        session.r = RResults()
        return
    rows = [STATS[s][0] for s in o["stats"]]
    mats = {"StatTotal": NamedMatrix(total, rows, names)}
    macros = {}
    for k, ((text, lev, _), (_, m)) in enumerate(zip(groups, blocks), start=1):
        mats[f"Stat{k}"] = NamedMatrix(m, rows, names)
        bv = session.data.var(o["by"])
        macros[f"name{k}"] = text if bv.is_string or bv.vallab else (
            missing_str(lev) if np.isnan(lev) else fmt(lev, "%9.0g").strip())
    session.r = RResults(matrices=mats, macros=macros)
