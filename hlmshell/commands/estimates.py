"""estimates store/restore/replay/dir/drop/clear/table/stats: the catalogue of fitted models.

Stored results are kept in session.estimates as copies whose `.name` is set; the active
results (session.e) learn their name on `store` too, so `estat ic` shows it. Every handler
checks its input before touching the session.
"""
from __future__ import annotations

import copy
import fnmatch
import math
import re

import numpy as np
from scipy import stats as sps

from hlmshell.commands.options import OptionSpec
from hlmshell.commands.registry import command
from hlmshell.errors import StataError
from hlmshell.output import postest_output as po
from hlmshell.results import EstimationResults, RResults

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


# --------------------------------------------------------------------------- look-ups
def renamed(res: EstimationResults, name: str | None) -> EstimationResults:
    """A shallow copy with another `.name` (data arrays are shared, never mutated)."""
    out = copy.copy(res)
    out.name = name
    return out


def expand_names(session, text: str, *, default: str | None = None) -> list[str]:
    """Stata's est_expand: `.`, `_all`, `*`, wildcards, stored names -> names ('.' kept)."""
    words = text.split() if text and text.strip() else ([default] if default else [])
    out: list[str] = []
    for w in words:
        if w == "_all" or w == "*":
            out += list(session.estimates)
        elif w == ".":
            if session.e is None:
                raise StataError("last estimates not found", 301)
            out.append(session.e.name if session.e.name in session.estimates else ".")
        else:
            hits = [n for n in session.estimates if fnmatch.fnmatchcase(n, w)]
            if not hits:
                raise StataError(f"estimation result {w} not found", 111)
            out += hits
    return out


def lookup(session, name: str) -> EstimationResults:
    if name == ".":
        if session.e is None:
            raise StataError("last estimates not found", 301)
        return session.e
    try:
        return session.estimates[name]
    except KeyError:
        raise StataError(f"estimation result {name} not found", 111) from None


# --------------------------------------------------------------------------- information criteria
def model_df(res: EstimationResults) -> float:
    """Parameter count for AIC/BIC and lrtest: e(df_ic), else e(rank), else non-omitted columns."""
    for key in ("df_ic", "rank"):
        v = res.scalars.get(key)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            return float(v)
    return float(np.count_nonzero(~np.asarray(res.omitted, dtype=bool)))


def ic_row(res: EstimationResults, label: str):
    n = float(res.scalars.get("N_ic", res.scalars.get("N", float("nan"))))
    ll0 = float(res.scalars.get("ll_0", float("nan")))
    ll = float(res.scalars.get("ll", float("nan")))
    df = model_df(res)
    aic = -2 * ll + 2 * df
    bic = -2 * ll + math.log(n) * df if n > 0 else float("nan")
    return (label, n, ll0, ll, df, aic, bic)


def print_ic(session, items: list[tuple[str, EstimationResults]]) -> None:
    rows = [ic_row(res, label) for label, res in items]
    for line in po.ic_lines(rows):
        session.out.line(line)
    S = np.array([[r[1], r[2], r[3], r[4], r[5], r[6]] for r in rows], dtype=float)
    session.r = RResults(matrices={"S": S})


# --------------------------------------------------------------------------- subcommands
def _store(session, rest: str, options) -> None:
    if session.e is None:
        raise StataError("last estimation results not found, nothing to store", 301)
    OptionSpec("title= nocopy").parse(options)
    words = rest.split()
    if not words:
        raise StataError("invalid syntax", 198)
    if len(words) > 1:
        raise StataError("single name expected", 198)
    name = words[0]
    if not _NAME.match(name) or name == "_all":
        raise StataError(f"{name} invalid name", 198)
    active = renamed(session.e, name)
    session.estimates[name] = renamed(session.e, name)
    session.e = active


def _restore(session, rest: str, options) -> None:
    opts = OptionSpec("noheader drop").parse(options)
    names = expand_names(session, rest)
    if len(names) != 1:
        raise StataError("too few names specified" if not names else "too many names specified", 198)
    name = names[0]
    if name != ".":
        res = session.estimates[name]
        if "drop" in opts:
            del session.estimates[name]
        session.e = renamed(res, name)
    if "noheader" not in opts:
        session.out.line(f"(results {name} are active now)")


def _replayer():
    """The estimation helper's replay(session, res); else re-run the command word with no
    arguments (which replays e()) with `res` made active for the moment."""
    try:
        from hlmshell.commands.estimation import replay
        return replay
    except ImportError:
        pass

    def fallback(session, res):
        from hlmshell.commands.registry import resolve
        from hlmshell.syntax.ast import Command

        try:
            info = resolve(res.cmd)
        except StataError:
            raise StataError("impossible to replay estimation command", 198) from None
        saved = session.e
        session.e = res
        try:
            info.handler(session, Command(info.name, typed=res.cmd, text=res.cmd))
        finally:
            session.e = saved

    return fallback


def _replay(session, rest: str, options) -> None:
    OptionSpec("noheader").parse(options)
    names = expand_names(session, rest, default=".")
    replay = _replayer()
    for name in names:
        res = lookup(session, name)
        if not any(o.name.startswith("nohe") for o in options):
            session.out.line()
            session.out.line("-" * 79)
            session.out.line(f"Model {name}" if name != "." else "active results")
            session.out.line("-" * 79)
        replay(session, res)


def _dir(session, rest: str, options) -> None:
    OptionSpec("").parse(options)
    names = expand_names(session, rest, default="_all")
    if not names:
        return
    rows = []
    for name in names:
        res = lookup(session, name)
        rows.append((name, res.macros.get("cmd2") or res.cmd, res.depvar, len(res.names),
                     res.macros.get("estimates_title", "")))
    for line in po.dir_lines(rows):
        session.out.line(line)
    session.r = RResults(macros={"names": " ".join(names)})


def _drop(session, rest: str, options) -> None:
    OptionSpec("").parse(options)
    if not rest.strip():
        raise StataError("invalid syntax", 198)
    names = [n for n in expand_names(session, rest) if n != "."]
    for n in names:
        session.estimates.pop(n, None)
        if session.e is not None and session.e.name == n:
            session.e = renamed(session.e, None)


def _clear(session, rest: str, options) -> None:
    if rest.strip() or options:
        raise StataError("invalid syntax", 198)
    if session.e is not None and session.e.name in session.estimates:
        session.e = renamed(session.e, None)
    session.estimates.clear()


def _stats(session, rest: str, options) -> None:
    OptionSpec("").parse(options)
    names = expand_names(session, rest, default=".")
    print_ic(session, [(n, lookup(session, n)) for n in names])


# --------------------------------------------------------------------------- estimates table
_BASE = re.compile(r"(^|#)\d+b\.")
_OMIT = re.compile(r"(^|#)(\d+)?o\.")


def _table_options(options) -> dict:
    spec = OptionSpec("b se star stats statistics keep drop")
    out: dict = {}
    for o in options:
        full, _ = spec.resolve(o.name)
        out[full] = o.arg
    return out


def _coef_cells(res: EstimationResults):
    k = len(res.names)
    b = np.asarray(res.b, dtype=float).reshape(-1)
    V = np.asarray(res.V, dtype=float).reshape(k, k)
    df_r = res.scalars.get("df_r")
    cells = {}
    for j, (eq, name) in enumerate(res.names):
        se = math.sqrt(V[j, j]) if V[j, j] > 0 else float("nan")
        if se == se and se > 0:
            zz = abs(b[j]) / se
            p = float(2 * sps.t.sf(zz, df_r)) if df_r is not None and df_r == df_r else float(2 * sps.norm.sf(zz))
        else:
            p = float("nan")
        base = bool(_BASE.search(name))
        om = bool(res.omitted[j]) and not base
        if _OMIT.search(name):
            om = True
        cells[(eq, name)] = (b[j], se, p, om, base)
    return cells


def _stat_value(res: EstimationResults, s: str):
    if s in ("aic", "bic"):
        row = ic_row(res, "")
        return row[5] if s == "aic" else row[6]
    if s == "rank":
        return model_df(res)
    v = res.scalars.get(s)
    return None if v is None else float(v)


def _merge_order(seqs: list[list[str]]) -> list[str]:
    """Union of sequences keeping each one's order: a newcomer goes right after its predecessor."""
    out: list[str] = []
    for seq in seqs:
        prev = None
        for item in dict.fromkeys(seq):
            if item not in out:
                out.insert(out.index(prev) + 1 if prev is not None else 0, item)
            prev = item
    return out


def _table(session, rest: str, options) -> None:
    opts = _table_options(options)
    names = expand_names(session, rest, default=".")
    uniq: list[str] = []
    for n in names:
        if n not in uniq:
            uniq.append(n)
    results = [lookup(session, n) for n in uniq]
    from hlmshell.commands.test import norm_name

    allcells = [_coef_cells(res) for res in results]
    eq_order = _merge_order([[eq for eq, _ in r.names] for r in results])
    keys: list[tuple[str, str]] = []
    for eq in eq_order:
        seqs = [[nm for e, nm in r.names if e == eq] for r in results]
        keys += [(eq, nm) for nm in _merge_order(seqs)]

    def _sel(arg: str | None) -> list[str]:
        return [norm_name(w.split(":")[-1]) for w in (arg or "").split()]

    keep, drop = _sel(opts.get("keep")), _sel(opts.get("drop"))
    from hlmshell.output import coeftable as ct

    rows = []
    for eq in eq_order:
        names_eq, cells_eq = [], []
        for e, name in keys:
            if e != eq:
                continue
            if keep and norm_name(name) not in keep:
                continue
            if drop and norm_name(name) in drop:
                continue
            cells = []
            for c in allcells:
                v = c.get((eq, name))
                cells.append(None if v is None or v[4] else v[:4])
            names_eq.append(name)
            cells_eq.append(cells)
        status = ["base" if all(c is None for c in cells) else None for cells in cells_eq]
        for g in ct.groups_from_names(names_eq, status):
            if g.header is not None:
                rows.append((eq, [ln for ln in ct.header_lines(g.header)], None))
            for r in g.rows:
                labels = [ct.level_label(r.label)] if g.header is not None else ct.name_lines(r.label)
                rows.append((eq, labels, cells_eq[r.index]))
    stat_names = (opts.get("stats") or "") + " " + (opts.get("statistics") or "")
    stat_names = [s for s in stat_names.replace(",", " ").split() if s]
    stat_rows = [(s, [_stat_value(r, s) for r in results]) for s in dict.fromkeys(stat_names)]
    se = "se" in opts
    star = "star" in opts
    if star and se:
        raise StataError("option star may not be combined with se, t, or p", 198)
    bfmt = opts.get("b") or None
    eqs = []
    for r in results:
        for eq, _ in r.names:
            if eq not in eqs:
                eqs.append(eq)
    labels = [n if n != "." else "active" for n in uniq]
    for line in po.table_lines(labels, rows, stat_rows, bfmt, se, star, len(eqs) > 1):
        session.out.line(line)
    session.r = RResults(macros={"names": " ".join(uniq)})


# --------------------------------------------------------------------------- dispatcher
_SUBCOMMANDS = [
    # (full name, minimum abbreviation length)
    ("store", 3), ("restore", 3), ("replay", 1), ("dir", 3), ("drop", 4), ("clear", 5),
    ("table", 3), ("stats", 4), ("query", 1),
]


def _resolve_sub(word: str) -> str:
    for full, mn in _SUBCOMMANDS:
        if full.startswith(word) and len(word) >= mn:
            return full
    raise StataError(f"subcommand estimates {word} is unrecognized", 198)


def _query(session, rest, options) -> None:
    if session.e is None:
        session.out.line("(no estimation results)")
        return
    name = session.e.name
    tail = f"; also stored as {name}" if name else "; not yet stored"
    session.out.line(f"(active results produced by {session.e.cmd}{tail})")


@command("estimates", abbrev="est", byable=False, qualifiers="")
def estimates_cmd(session, cmd) -> None:
    body = (cmd.body or "").strip()
    if not body:
        if session.e is not None:
            _replay(session, "", cmd.options)
        return
    word, _, rest = body.partition(" ")
    sub = _resolve_sub(word)
    handler = {
        "store": _store, "restore": _restore, "replay": _replay, "dir": _dir, "drop": _drop,
        "clear": _clear, "table": _table, "stats": _stats, "query": _query,
    }[sub]
    handler(session, rest.strip(), cmd.options)
