"""estadd and estpost, the estout package's helpers for esttab/estout tables (Ben Jann).

    estadd local name text             [, replace prefix() quietly] [: namelist]
    estadd scalar name = exp | r(name) | name
    estadd matrix name = matexp | r(name) | name
    estadd r(name)
    estadd ysumm [, mean sd min max sum var ...]
    estadd lrtest model [, name(stem) lrtest_options]   (estadd_lrtest.py)

    estpost summarize [varlist] [if] [in] [weight] [, detail listwise quietly]
    estpost tabstat varlist [if] [in] [weight] [, statistics() columns(variables|statistics)
        by(varname) nototal listwise quietly]
    estpost tabulate rowvar [colvar] [if] [in] [weight] [, nototal missing quietly]
    estpost correlate varlist [if] [in] [weight] [, matrix listwise quietly]
    estpost ttest varlist [if] [in], by(groupvar) [unequal quietly]

estadd adds results to the active estimates (and to their stored copy, when they were
stored), or silently to the stored sets after the colon, as estadd.hlp describes; it prints
what it added, in ereturn list's layout. estpost posts the statistics of a descriptive command
in e() as row vectors named by variable (e(mean), e(sd), ...; or, for tabstat's default
columns(variables), one vector per variable named by statistic), with e(cmd) `estpost`, so that
`esttab, cells("mean sd min max")` tabulates them; it shows them in estpost's table (each
e() vector a column 11 wide, five to a block).
"""
from __future__ import annotations

import copy
import math
import re

import numpy as np

from hlmshell.commands._postest import expand_names
from hlmshell.commands._toolkit import ensure_data, percentile, touse, value_text, varlist, weights
from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.registry import Opt, bind_options, command
from hlmshell.results import EstimationResults
from hlmshell.syntax.display import display_number
from hlmshell.syntax.parser import parse_options


# =========================================================================== shared
def _split_top(text: str, sep: str) -> tuple[str, str | None]:
    """Split at the first `sep` outside quotes, parentheses and brackets (`e(N_g)[1,1]`)."""
    depth, quote = 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quote = not quote
        elif not quote and ch in "([":
            depth += 1
        elif not quote and ch in ")]":
            depth -= 1
        elif not quote and depth == 0 and ch == sep:
            return text[:i], text[i + 1:]
    return text, None


def _unquote(text: str) -> str:
    t = text.strip()
    if t.startswith('`"') and t.endswith("\"'"):
        return t[2:-2]
    if len(t) >= 2 and t[0] == t[-1] == '"':
        return t[1:-1]
    return t


# =========================================================================== estadd
_ESTADD_OPTS = (Opt("replace", "r", desc="overwrite existing e() results"),
                Opt("prefix", "p", "string", None, "prefix of the added names"),
                Opt("quietly", "q", desc="no output"),
                Opt("mean", "me"), Opt("sd"), Opt("min", "mi"), Opt("max", "ma"), Opt("sum", "su"),
                Opt("var", "v"), Opt("range", "ra"), Opt("cv"), Opt("semean", "sem"),
                Opt("p25"), Opt("p50"), Opt("p75"), Opt("median", "med"))
_YSUMM_STATS = ("mean", "sd", "min", "max", "sum", "var", "range", "cv", "semean", "p25", "p50", "p75",
                "median")


def _check_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_]\w{0,31}", name or ""):
        raise StataError(f"{name} invalid name", 198)
    if name in ("b", "V"):
        raise StataError(f"e({name}) not allowed", 198)
    return name


def _scalar_value(session, name: str, rest: str) -> tuple[str, float | str]:
    from hlmshell.syntax.evaluate import evaluate_scalar
    m = re.fullmatch(r"r\(\s*(\w+)\s*\)", name)
    if m and not rest:
        r = session.r
        if r is None or m.group(1) not in r.scalars:
            raise StataError(f"r({m.group(1)}) not found", 111)
        return m.group(1), float(r.scalars[m.group(1)])
    if not rest:
        if name not in session.scalars:
            raise StataError(f"scalar {name} not found", 111)
        return name, session.scalars[name]
    if not rest.startswith("=") or not rest[1:].strip():
        raise StataError("invalid syntax", 198)
    v = evaluate_scalar(rest[1:].strip(), session)
    if isinstance(v, str):
        raise StataError("type mismatch", 109)
    return name, float(v)


def _matrix_value(session, name: str, rest: str):
    from hlmshell.syntax import matrix_expr as mx
    from hlmshell.syntax.evaluate import evaluate_scalar
    m = re.fullmatch(r"r\(\s*(\w+)\s*\)", name)
    if m and not rest:
        mat = mx.lookup(session, name)
        return m.group(1), NamedMatrix(mat.values, mat.rows, mat.cols)
    if not rest:
        mat = mx.lookup(session, name)
        return name, NamedMatrix(mat.values, mat.rows, mat.cols)
    if not rest.startswith("=") or not rest[1:].strip():
        raise StataError("invalid syntax", 198)
    mat = mx.evaluate_matrix(rest[1:].strip(), session, lambda t: evaluate_scalar(t, session))
    return name, NamedMatrix(mat.values, mat.rows, mat.cols)


def _ysumm(session, res, opts) -> list[tuple[str, str, object]]:
    if res.sample is None:
        raise StataError("e(sample) information not available", 498)
    depvar = (res.depvar or "").split()
    if not depvar or depvar[0] not in session.data:
        raise StataError("dependent variable not found", 111)
    y = np.asarray(session.data.var(depvar[0]).values, dtype=float)
    sample = np.asarray(res.sample, dtype=bool)
    if sample.size != y.size:
        raise StataError("e(sample) does not match the data in memory", 459)
    x = np.sort(y[sample & ~np.isnan(y)])
    chosen = [s for s in _YSUMM_STATS if s in opts] or ["mean", "sd", "min", "max"]
    stats = _describe(x, None)
    out = []
    for s in chosen:
        out.append(("scalar", s, stats["p50" if s == "median" else s]))
    return out


def _describe(x: np.ndarray, w: np.ndarray | None) -> dict[str, float]:
    """summarize's statistics of sorted x (weights as aweights/fweights: sum of weights)."""
    n = x.size
    ww = np.ones(n) if w is None else w
    W = float(ww.sum())
    mean = float((ww * x).sum() / W) if W > 0 else math.nan
    dev = x - mean
    var = float((ww * dev * dev).sum() / (W - 1)) if W > 1 else math.nan
    sd = math.sqrt(var) if var == var else math.nan
    m2 = float((ww * dev ** 2).sum() / W) if W > 0 else math.nan
    out = {"count": float(n), "N": float(n), "n": float(n), "sum_w": W, "mean": mean, "var": var,
           "Var": var, "variance": var, "sd": sd, "sum": float((ww * x).sum()),
           "min": float(x[0]) if n else math.nan, "max": float(x[-1]) if n else math.nan,
           "semean": sd / math.sqrt(W) if W > 0 else math.nan,
           "skewness": float((ww * dev ** 3).sum() / W) / m2 ** 1.5 if m2 > 0 else math.nan,
           "kurtosis": float((ww * dev ** 4).sum() / W) / m2 ** 2 if m2 > 0 else math.nan}
    out["range"] = out["max"] - out["min"]
    out["cv"] = sd / mean if mean else math.nan
    for p in (1, 5, 10, 25, 50, 75, 90, 95, 99):
        out[f"p{p}"] = percentile(x, p, w) if n else math.nan
    out["median"] = out["p50"]
    out["iqr"] = out["p75"] - out["p25"]
    return out


def _additions(session, sub: str, body: str, opts, res) -> list[tuple[str, str, object]]:
    """[(kind, name, value)] that estadd `sub` adds to `res`."""
    words = body.split(None, 1)
    if sub == "local":
        if not words:
            raise StataError("invalid syntax", 198)
        return [("macro", _check_name(words[0]), _unquote(words[1]) if len(words) > 1 else "")]
    if sub in ("scalar", "matrix"):
        if not words:
            raise StataError("invalid syntax", 198)
        head = re.match(r"\s*(r\(\s*\w+\s*\)|[A-Za-z_]\w*)\s*", body)
        if head is None:
            raise StataError("invalid syntax", 198)
        rest = body[head.end():].strip()
        getter = _scalar_value if sub == "scalar" else _matrix_value
        name, value = getter(session, head.group(1).replace(" ", ""), rest)
        return [(sub, _check_name(name), value)]
    if sub == "rreturn":
        name = body.strip()[2:-1].strip()
        r = session.r
        if r is not None and name in r.scalars:
            return [("scalar", _check_name(name), float(r.scalars[name]))]
        if r is not None and name in r.matrices:
            return [("matrix", _check_name(name), _matrix_value(session, f"r({name})", "")[1])]
        raise StataError(f"r({name}) not found", 111)
    if sub == "ysumm":
        if body.strip():
            raise StataError("invalid syntax", 198)
        return _ysumm(session, res, opts)
    raise StataError(f"estadd: {sub} is not a valid subcommand", 199)


_SUBS = (("local", 3), ("scalar", 3), ("matrix", 3), ("ysumm", 5))


def _subcommand(word: str) -> str:
    if re.fullmatch(r"r\(\s*\w+\s*\)", word):
        return "rreturn"
    for full, n in _SUBS:
        if len(word) >= n and full.startswith(word):
            return full
    raise StataError(f"estadd: {word} is not a valid subcommand", 199)


def _apply(res: EstimationResults, adds, prefix: str, replace: bool) -> EstimationResults:
    new = copy.copy(res)
    new.scalars, new.macros, new.matrices = dict(res.scalars), dict(res.macros), dict(res.matrices)
    for kind, name, value in adds:
        full = prefix + name
        exists = full in res.scalars or full in res.macros or full in res.matrices
        if exists and not replace:
            raise StataError(f"e({full}) already defined", 110)
        for store in (new.scalars, new.macros, new.matrices):
            store.pop(full, None)
        if kind == "macro":
            new.macros[full] = value
        elif kind == "matrix":
            new.matrices[full] = value
        elif isinstance(value, str):
            new.macros[full] = value
        else:
            new.scalars[full] = float(value)
    return new


def _report(session, adds, prefix: str) -> None:
    groups = {"scalar": [], "macro": [], "matrix": []}
    for kind, name, value in adds:
        groups["macro" if kind == "scalar" and isinstance(value, str) else kind].append((prefix + name, value))
    for kind, items in groups.items():
        if not items:
            continue
        plural = {"scalar": "scalars", "macro": "macros", "matrix": "matrices"}[kind] if len(items) > 1 else kind
        session.out.line("")
        session.out.line(f"added {plural}:")
        for name, value in items:
            label = f"e({name})".rjust(22)
            if kind == "scalar":            # estadd.ado: di as res e(name), display's format
                session.out.line(f"{label} =  {display_number(float(value))}")
            elif kind == "macro":
                session.out.line(f'{label} : "{value}"')
            else:
                r, c = np.atleast_2d(value.values).shape
                session.out.line(f"{label} :  {r} x {c}")


@command("estadd", byable=False, qualifiers="", raw=True, changes_data=False, options=_ESTADD_OPTS[:3],
         check_options=False,
         family="Postestimation", desc="add results to (stored) estimates (estout's estadd)",
         example='estadd local school_fe "Yes"')
def estadd_cmd(session, cmd) -> None:
    text, names = _split_top(cmd.body or "", ":")
    head, optext = _split_top(text, ",")
    words = head.split(None, 1)
    if not words:
        raise StataError("invalid syntax", 198)
    if words[0] == "lrtest":
        _estadd_lrtest(session, words[1] if len(words) > 1 else "", optext, names)
        return
    sub = _subcommand(words[0])
    body = head.strip() if sub == "rreturn" else (words[1] if len(words) > 1 else "")
    opts = bind_options(_ESTADD_OPTS, parse_options(optext or ""), strict=True)
    # ysumm's results are named y<stat> unless prefix() names them otherwise (estadd.hlp)
    prefix = (opts.prefix or "").strip() if opts.prefix is not None else ("y" if sub == "ysumm" else "")
    if names is not None:
        targets = list(dict.fromkeys(expand_names(session, names)))
        if not targets:
            raise StataError("invalid syntax", 198)
        for n in targets:
            res = session.e if n == "." else session.estimates[n]
            new = _apply(res, _additions(session, sub, body, opts, res), prefix, opts.replace)
            if n == ".":
                session.e = new
            else:
                session.estimates[n] = new
                if session.e is not None and session.e.name == n:
                    session.e = new
        return
    if session.e is None:
        raise StataError("last estimates not found", 301)
    adds = _additions(session, sub, body, opts, session.e)
    new = _apply(session.e, adds, prefix, opts.replace)
    session.e = new
    if new.name is not None and new.name in session.estimates:
        session.estimates[new.name] = new
    if not opts.quietly:
        _report(session, adds, prefix)


def _estadd_lrtest(session, body: str, optext: str | None, names: str | None) -> None:
    """estadd lrtest model: lrtest's chi2, df and p added to the active estimates (and their
    stored copy). After `: namelist`, each stored set in turn is made active and tested
    against `model`, quietly, as estadd.ado loops; the active results are put back."""
    from hlmshell.commands.estadd_lrtest import lrtest_additions
    if names is not None:
        targets = list(dict.fromkeys(expand_names(session, names)))
        if not targets:
            raise StataError("invalid syntax", 198)
        active, updated = session.e, {}
        try:
            for n in targets:
                res = session.e if n == "." else session.estimates[n]
                session.e = res
                adds, prefix, replace, _quiet = lrtest_additions(session, body, (optext or "") + " quietly")
                updated[n] = _apply(res, adds, prefix, replace)
        finally:
            session.e = active
        for n, new in updated.items():
            if n == ".":
                session.e = new
                continue
            session.estimates[n] = new
            if active is not None and active.name == n:
                session.e = new
        return
    adds, prefix, replace, quiet = lrtest_additions(session, body, optext)
    new = _apply(session.e, adds, prefix, replace)
    session.e = new
    if new.name is not None and new.name in session.estimates:
        session.estimates[new.name] = new
    if not quiet:
        _report(session, adds, prefix)


# =========================================================================== estpost
def _post(session, sub: str, matrices: dict, scalars: dict, macros: dict, mask, b=None, bnames=None):
    """The estpost results: e(cmd) estpost, e(subcmd), the vectors; e(b) when the command
    has a natural one (tabulate, correlate, ttest)."""
    if b is None:
        b_arr, names = np.zeros(0), []
    else:
        b_arr = np.asarray(b, dtype=float)
        names = [tuple(n.split(":", 1)) if ":" in n else ("", n) for n in bnames]
    k = b_arr.size
    res = EstimationResults(cmd="estpost", names=names, b=b_arr, V=np.zeros((k, k)),
                            omitted=np.zeros(k, dtype=bool), k_f=k, scalars=scalars,
                            macros={"cmd": "estpost", "subcmd": sub, **macros},
                            matrices=matrices, sample=np.asarray(mask, dtype=bool).copy())
    session.e = res


def _vector(values, cols) -> NamedMatrix:
    return NamedMatrix(np.asarray(values, dtype=float)[None, :], ["y1"], cols)


def _show(session, stub_title: str, rows: list[str], columns: list[tuple[str, list[float]]]) -> None:
    """estpost's display: a stub of 12, then each e() vector 11 wide, five to a block; rows
    named `group:name` under a line naming their group."""
    out = session.out
    for start in range(0, len(columns), 5):
        block = columns[start:start + 5]
        rule = "-" * 13 + "+" + "-" * (11 * len(block))
        out.line("")
        out.line(f"{stub_title[:12]:>12} |" + "  ".join(f" {name:>9}" if k == 0 else f"{name:>9}"
                                                       for k, (name, _) in enumerate(block)))
        out.line(rule)
        group = None
        for i, r in enumerate(rows):
            eq, _, name = r.rpartition(":")
            if eq and eq != group:
                if group is not None:
                    out.line(rule)
                out.line(f"{eq[:13]:<13}|")
                group = eq
            cells = [f"{fmt_g(v[i], 9) if v[i] == v[i] else '.':>9}" for _, v in block]
            out.line(f"{name[-12:]:>12} | " + "  ".join(cells))


def _estpost_options(options, specs):
    return bind_options(specs, options, strict=True)


def _columns(session, names, mask, w, listwise):
    ds = session.data
    cols = {}
    for n in names:
        v = ds.var(n)
        if v.is_string:
            raise StataError(f"{n}: string variables not allowed", 109)
        cols[n] = np.asarray(v.values, dtype=float)
    if listwise:
        for n in names:
            mask = mask & ~np.isnan(cols[n])
    return cols, mask


def _stats_of(col, mask, w):
    ok = mask & ~np.isnan(col)
    if w is not None:
        ok &= ~np.isnan(w)
    order = np.argsort(col[ok], kind="stable")
    x = col[ok][order]
    ww = None if w is None else w[ok][order]
    return _describe(x, ww)


_SUMMARIZE = (Opt("detail", "d"), Opt("meanonly", "mean"), Opt("listwise", "list"),
              Opt("casewise", "case"), Opt("quietly", "q"), Opt("esample", "es"))


def _estpost_summarize(session, cmd, body: str, optext: str) -> None:
    opts = _estpost_options(optext, _SUMMARIZE)
    ensure_data(session)
    names = varlist(session, body)
    mask = touse(session, cmd)
    w = weights(session, cmd, mask, ("fweight", "aweight", "iweight"))
    cols, mask = _columns(session, names, mask, w, opts.listwise or opts.casewise)
    keys = ["count", "sum_w", "mean", "Var", "sd", "min", "max", "sum"]
    if opts.meanonly:
        keys = ["count", "sum_w", "mean", "min", "max", "sum"]
    if opts.detail:
        keys += ["p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "skewness", "kurtosis"]
    per = {n: _stats_of(cols[n], mask, w) for n in names}
    mats = {k: _vector([per[n][k] for n in names], names) for k in keys}
    N = max([per[n]["count"] for n in names] + [0.0])
    _post(session, "summarize", mats, {"N": N}, {}, mask)
    if not opts.quietly:
        _show(session, "", names, [(f"e({k})", [per[n][k] for n in names]) for k in keys])


_TABSTAT = (Opt("statistics", "s", "anything", None), Opt("columns", "c", "string", None),
            Opt("by", "by", "string", None), Opt("nototal", "not"), Opt("missing", "m"),
            Opt("listwise", "list"), Opt("casewise", "case"), Opt("quietly", "q"),
            Opt("esample", "es"), Opt("elabels", "el"))
_STAT_NAMES = {"mean", "count", "n", "sum", "max", "min", "range", "sd", "variance", "var", "cv",
               "semean", "skewness", "kurtosis", "median", "iqr", "p1", "p5", "p10", "p25", "p50",
               "p75", "p90", "p95", "p99"}


def _tabstat_stats(text: str | None) -> list[str]:
    words = (text or "mean").split()
    out = []
    for w in words:
        w = {"q": "p25 p50 p75", "mea": "mean", "co": "count", "su": "sum", "ma": "max", "mi": "min",
             "r": "range", "v": "variance", "med": "median", "sk": "skewness", "k": "kurtosis",
             "sem": "semean"}.get(w, w)
        for x in w.split():
            if x not in _STAT_NAMES:
                raise StataError(f"{x} is not a valid statistic", 198)
            out.append(x)
    return out


def _tabstat_groups(session, by: str | None, mask, nototal: bool):
    if not by:
        return [("", mask)]
    ds = session.data
    name = varlist(session, by)
    if len(name) != 1:
        raise StataError("by(): one variable allowed", 103)
    v = ds.var(name[0])
    vals = v.values
    out = []
    keys = sorted(set(vals[mask]), key=lambda s: s.encode() if isinstance(s, str) else s) if v.is_string \
        else sorted(set(float(x) for x in vals[mask] if x == x))
    for k in keys:
        label = k if v.is_string else value_text(ds, v, k)
        out.append((re.sub(r"[:\s]+", "_", str(label)), mask & (vals == k)))
    if not nototal:
        out.append(("Total", mask))
    return out


def _estpost_tabstat(session, cmd, body: str, optext: str) -> None:
    opts = _estpost_options(optext, _TABSTAT)
    names = varlist(session, body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    stats = _tabstat_stats(opts.statistics)
    colmode = (opts.columns or "variables").strip().lower()
    if not ("variables".startswith(colmode) or "statistics".startswith(colmode)) or not colmode:
        raise StataError("columns() invalid", 198)
    by_stats = "statistics".startswith(colmode)
    mask = touse(session, cmd)
    w = weights(session, cmd, mask, ("fweight", "aweight"))
    cols, mask = _columns(session, names, mask, w, opts.listwise or opts.casewise)
    groups = _tabstat_groups(session, opts.by, mask, opts.nototal)
    per = {(g, n): _stats_of(cols[n], gm, w) for g, gm in groups for n in names}
    mats, show, rows = _tabstat_vectors(per, groups, names, stats, by_stats)
    N = float(np.sum(mask & np.all([~np.isnan(cols[n]) for n in names], axis=0))) \
        if opts.listwise or opts.casewise else max(per[(groups[-1][0], n)]["count"] for n in names)
    _post(session, "tabstat", mats, {"N": N}, {}, mask)
    if not opts.quietly:
        session.out.line("")
        session.out.line(f"Summary statistics: {' '.join(stats)}")
        session.out.line(f"     for variables: {' '.join(names)}")
        if opts.by:
            session.out.line(f"  by categories of: {opts.by.strip()}")
        _show(session, opts.by.strip() if opts.by else "", rows, show)


def _tabstat_vectors(per, groups, names, stats, by_stats):
    """columns(statistics): a vector per statistic over (group:)variables; columns(variables):
    a vector per variable over (group:)statistics."""
    key = lambda s: {"n": "count", "var": "variance"}.get(s, s)  # noqa: E731
    pre = lambda g: f"{g}:" if g else ""  # noqa: E731
    outer, inner = (stats, names) if by_stats else (names, stats)
    colnames = [pre(g) + x for g, _ in groups for x in inner]
    mats, show = {}, []
    for o in outer:
        vals = [per[(g, n if by_stats else o)][key(s if not by_stats else o)]
                for g, _ in groups for n, s in ((x, x) for x in inner)]
        mats[o] = _vector(vals, colnames)
        show.append((f"e({o})", vals))
    return mats, show, colnames


_TABULATE = (Opt("nototal", "not"), Opt("quietly", "q"), Opt("missing", "m"), Opt("esample", "es"),
             Opt("elabels", "el"), Opt("nolabel", "nol"))


def _levels(session, name: str, mask, with_missing: bool):
    """(value, column name, label, selector) of each level of `name` within mask."""
    ds = session.data
    v = ds.var(name)
    vals = v.values
    miss = (vals == "") if v.is_string else np.isnan(np.asarray(vals, dtype=float))
    if v.is_string:
        keys = sorted(set(vals[mask & ~miss]), key=lambda s: s.encode("utf-8"))
        out = [(k, str(k), str(k), vals == k) for k in keys]
    else:
        keys = sorted(set(float(x) for x in vals[mask & ~miss]))
        out = [(k, fmt_g(k, 9), value_text(ds, v, k), vals == k) for k in keys]
    if with_missing and (miss & mask).any():
        out.append((None, ".", ".", miss))
    return out, miss


def _estpost_tabulate(session, cmd, body: str, optext: str) -> None:
    opts = _estpost_options(optext, _TABULATE)
    names = varlist(session, body, all_if_empty=False)
    if not 1 <= len(names) <= 2:
        raise StataError("too many variables specified" if names else "varlist required",
                         103 if names else 100)
    mask = touse(session, cmd)
    w = weights(session, cmd, mask, ("fweight", "aweight", "iweight"))
    ww = np.ones(session.data.n) if w is None else w
    rows, miss = _levels(session, names[0], mask, opts.missing)
    if not opts.missing:
        mask = mask & ~miss
    if len(names) == 2:
        _estpost_tabulate2(session, names, mask, ww, rows, opts)
        return
    if not mask.any():
        raise StataError("no observations", 2000)
    counts = [float(ww[mask & sel].sum()) for _, _, _, sel in rows]
    colnames = [c for _, c, _, _ in rows]
    labels = [lab if not opts.nolabel else c for _, c, lab, _ in rows]
    total = sum(counts)
    pct = [100 * c / total for c in counts]
    cum = list(np.cumsum(pct))
    if not opts.nototal:
        counts, pct, cum = counts + [total], pct + [100.0], cum + [math.nan]
        colnames, labels = colnames + ["Total"], labels + ["Total"]
    mats = {"pct": _vector(pct, colnames), "cumpct": _vector(cum, colnames), "count": _vector(counts, colnames)}
    macros = {"labels": " ".join(f'{c} "{lab}"' for c, lab in zip(colnames, labels)), "depvar": names[0]}
    _post(session, "tabulate", mats, {"N": total, "r": float(len(rows))}, macros, mask,
          b=counts, bnames=colnames)
    if not opts.quietly:
        _show(session, names[0], labels, [("e(b)", counts), ("e(pct)", pct), ("e(cumpct)", cum)])


def _estpost_tabulate2(session, names, mask, ww, rows, opts) -> None:
    """Two-way: e(b) the frequencies, named `colvalue:rowvalue` (the column variable's levels
    as equations, Total last in each), with e(pct), e(colpct), e(rowpct)."""
    cols, miss2 = _levels(session, names[1], mask, opts.missing)
    if not opts.missing:
        mask = mask & ~miss2
    if not mask.any():
        raise StataError("no observations", 2000)
    rsel = [sel for *_, sel in rows] + ([np.ones_like(mask)] if not opts.nototal else [])
    csel = [sel for *_, sel in cols] + ([np.ones_like(mask)] if not opts.nototal else [])
    rname = [c for _, c, _, _ in rows] + (["Total"] if not opts.nototal else [])
    cname = [c for _, c, _, _ in cols] + (["Total"] if not opts.nototal else [])
    N = float(ww[mask].sum())
    b, pct, colpct, rowpct, names_out = [], [], [], [], []
    for cn, cs in zip(cname, csel):
        ctot = float(ww[mask & cs].sum())
        for rn, rs in zip(rname, rsel):
            f = float(ww[mask & cs & rs].sum())
            rtot = float(ww[mask & rs].sum())
            b.append(f)
            pct.append(100 * f / N)
            colpct.append(100 * f / ctot if ctot else math.nan)
            rowpct.append(100 * f / rtot if rtot else math.nan)
            names_out.append(f"{cn}:{rn}")
    mats = {k: _vector(v, names_out) for k, v in (("pct", pct), ("colpct", colpct), ("rowpct", rowpct),
                                                   ("count", b))}
    _post(session, "tabulate", mats, {"N": N, "r": float(len(rows)), "c": float(len(cols))},
          {"rowvar": names[0], "colvar": names[1]}, mask, b=b, bnames=names_out)
    if not opts.quietly:
        _show(session, names[1], names_out, [("e(b)", b), ("e(pct)", pct), ("e(colpct)", colpct),
                                             ("e(rowpct)", rowpct)])


_CORRELATE = (Opt("matrix", "mat"), Opt("listwise", "list"), Opt("casewise", "case"),
              Opt("quietly", "q"), Opt("esample", "es"), Opt("print", "p", "real", None),
              Opt("star", "st", "real", None), Opt("bonferroni", "b"), Opt("sidak", "sid"))


def _estpost_correlate(session, cmd, body: str, optext: str) -> None:
    from hlmshell import distributions as dist
    opts = _estpost_options(optext, _CORRELATE)
    names = varlist(session, body, all_if_empty=False)
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    mask = touse(session, cmd)
    cols, mask = _columns(session, names, mask, None, opts.listwise or opts.casewise)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i:]] if opts.matrix \
        else [(names[0], b) for b in names[1:]]
    rho, p, count, colnames = [], [], [], []
    for a, b in pairs:
        ok = mask & ~np.isnan(cols[a]) & ~np.isnan(cols[b])
        n = int(ok.sum())
        r = float(np.corrcoef(cols[a][ok], cols[b][ok])[0, 1]) if n > 2 else math.nan
        if a == b:
            r = 1.0
        t = r * math.sqrt((n - 2) / (1 - r * r)) if n > 2 and abs(r) < 1 else math.nan
        rho.append(r)
        p.append(float(2 * dist.t_sf(abs(t), n - 2)) if t == t else math.nan)
        count.append(float(n))
        colnames.append(f"{a}:{b}" if opts.matrix else b)
    mats = {"rho": _vector(rho, colnames), "p": _vector(p, colnames), "count": _vector(count, colnames)}
    _post(session, "correlate", mats, {"N": float(mask.sum())}, {}, mask, b=rho, bnames=colnames)
    if not opts.quietly:
        _show(session, names[0] if not opts.matrix else "", colnames,
              [("e(b)", rho), ("e(rho)", rho), ("e(p)", p), ("e(count)", count)])


_TTEST = (Opt("by", "by", "string", None), Opt("unequal", "une"), Opt("welch", "w"),
          Opt("quietly", "q"), Opt("esample", "es"), Opt("listwise", "list"), Opt("casewise", "case"))


def _estpost_ttest(session, cmd, body: str, optext: str) -> None:
    from hlmshell import distributions as dist
    opts = _estpost_options(optext, _TTEST)
    if not opts.by:
        raise StataError("option by() required", 198)
    names = varlist(session, body, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    g = varlist(session, opts.by)
    if len(g) != 1:
        raise StataError("by(): one variable allowed", 103)
    mask = touse(session, cmd)
    cols, mask = _columns(session, names, mask, None, opts.listwise or opts.casewise)
    gv = np.asarray(session.data.var(g[0]).values, dtype=float)
    levels = sorted(set(float(x) for x in gv[mask] if x == x))
    if len(levels) != 2:
        raise StataError("more than 2 groups found, only 2 allowed" if len(levels) > 2
                         else "1 group found, 2 required", 420)
    unequal = opts.unequal or opts.welch
    res = {k: [] for k in ("b", "count", "se", "t", "df_t", "p_l", "p", "p_u", "N_1", "mu_1", "N_2", "mu_2")}
    for n in names:
        ok = mask & ~np.isnan(cols[n])
        x1, x2 = cols[n][ok & (gv == levels[0])], cols[n][ok & (gv == levels[1])]
        n1, n2 = x1.size, x2.size
        m1, m2 = float(x1.mean()), float(x2.mean())
        v1, v2 = float(x1.var(ddof=1)), float(x2.var(ddof=1))
        if unequal:
            se = math.sqrt(v1 / n1 + v2 / n2)
            df = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
            if opts.welch:
                df = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 + 1) + (v2 / n2) ** 2 / (n2 + 1)) - 2
        else:
            df = n1 + n2 - 2
            sp = ((n1 - 1) * v1 + (n2 - 1) * v2) / df
            se = math.sqrt(sp * (1 / n1 + 1 / n2))
        t = (m1 - m2) / se
        for k, v in (("b", m1 - m2), ("count", float(n1 + n2)), ("se", se), ("t", t), ("df_t", df),
                     ("p_l", float(dist.t_cdf(t, df))), ("p", float(2 * dist.t_sf(abs(t), df))),
                     ("p_u", float(dist.t_sf(t, df))), ("N_1", float(n1)), ("mu_1", m1),
                     ("N_2", float(n2)), ("mu_2", m2)):
            res[k].append(v)
    mats = {k: _vector(v, names) for k, v in res.items() if k != "b"}
    _post(session, "ttest", mats, {}, {"byvar": g[0]}, mask, b=res["b"], bnames=names)
    if not opts.quietly:
        _show(session, "", names, [(f"e({k})", v) for k, v in res.items()])


_ESTPOST_SUBS = (("summarize", 2, _estpost_summarize), ("tabstat", 7, _estpost_tabstat),
                 ("tabulate", 2, _estpost_tabulate), ("correlate", 3, _estpost_correlate),
                 ("ttest", 5, _estpost_ttest))


@command("estpost", byable=False, qualifiers="if in weight", weights=("fweight", "aweight", "iweight"),
         body="anything", options=None, check_options=False, family="Postestimation",
         desc="post descriptive statistics in e() for esttab (estout's estpost)",
         example="estpost summarize mathach ses")
def estpost_cmd(session, cmd) -> None:
    words = (cmd.body or "").split(None, 1)
    if not words:
        raise StataError("subcommand required", 198)
    sub = next((fn for full, n, fn in _ESTPOST_SUBS if len(words[0]) >= n and full.startswith(words[0])), None)
    if sub is None:
        raise StataError(f"estpost: {words[0]} not supported", 199)
    sub(session, cmd, words[1] if len(words) > 1 else "", cmd.options)
