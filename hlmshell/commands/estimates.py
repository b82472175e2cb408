"""estimates store/restore/replay/dir/drop/clear/table/stats/save/use: the catalogue of fitted models.

Stored results are kept in session.estimates as copies whose `.name` is set; the active
results (session.e) learn their name on `store` too, so `estat ic` shows it. Every handler
checks its input before touching the session.
"""
from __future__ import annotations

import copy
import math
import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import (
    expand_names,
    ic_n_option,
    ic_row,
    lookup,
    model_df,
    norm_name,
    print_ic,
)
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output import postest_output as po
from hlmshell.registry import (
    REGISTRY,
    Args,
    Opt,
    Sub,
    bind_command,
    bind_options,
    command,
    resolve,
)
from hlmshell.results import EstimationResults, RResults
from hlmshell.syntax.ast import Command

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


# --------------------------------------------------------------------------- look-ups
def renamed(res: EstimationResults, name: str | None) -> EstimationResults:
    """A shallow copy with another `.name` (data arrays are shared, never mutated)."""
    out = copy.copy(res)
    out.name = name
    return out


# --------------------------------------------------------------------------- subcommands
# Each subcommand receives its options typed by its spec on the registration line (Args).
def _store(session, rest: str, opts: Args) -> None:
    if session.e is None:
        raise StataError("last estimation results not found, nothing to store", 301)
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


def _restore(session, rest: str, opts: Args) -> None:
    names = expand_names(session, rest)
    if len(names) != 1:
        raise StataError("too few names specified" if not names else "too many names specified", 198)
    name = names[0]
    if name != ".":
        res = session.estimates[name]
        if opts.drop:
            del session.estimates[name]
        session.e = renamed(res, name)
    if not opts.noheader:
        session.out.line(f"(results {name} are active now)")


def replay_stored(session, res: EstimationResults) -> None:
    """Show stored results as their command replays them: run the command word with no
    arguments (which replays e()) with `res` active for the moment. Going through the
    command table keeps estimates independent of the estimation commands' modules."""
    word, _, rest = res.cmd.partition(" ")      # e(cmd) "mi estimate": the mi command replays
    if res.macros.get("prefix") == "svy":       # svy results: the svy prefix replays them
        word, rest = "svy", ""
    try:
        info = resolve(word)
    except StataError:
        raise StataError("impossible to replay estimation command", 198) from None
    saved = session.e
    session.e = res
    try:
        info.handler(session, Command(info.name, typed=word, text=res.cmd, body=rest))
    finally:
        session.e = saved


def _replay(session, rest: str, opts: Args) -> None:
    names = expand_names(session, rest, default=".")
    for name in names:
        res = lookup(session, name)
        if not opts.noheader:
            session.out.line()
            session.out.line("-" * 79)
            session.out.line(f"Model {name}" if name != "." else "active results")
            session.out.line("-" * 79)
        replay_stored(session, res)


def _dir(session, rest: str, opts: Args) -> None:
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


def _drop(session, rest: str, opts: Args) -> None:
    if not rest.strip():
        raise StataError("invalid syntax", 198)
    names = [n for n in expand_names(session, rest) if n != "."]
    for n in names:
        session.estimates.pop(n, None)
        if session.e is not None and session.e.name == n:
            session.e = renamed(session.e, None)


def _clear(session, rest: str, opts: Args) -> None:
    if rest.strip() or opts.given:
        raise StataError("invalid syntax", 198)
    if session.e is not None and session.e.name in session.estimates:
        session.e = renamed(session.e, None)
    session.estimates.clear()


def _save(session, rest: str, opts: Args) -> None:
    """`estimates save filename [, replace]`: the active results to filename.ster."""
    from hlmshell.data.locate import file_spec, target_path
    from hlmshell.results import ster

    if session.e is None:
        raise StataError("last estimation results not found, nothing to save", 301)
    fname = file_spec(rest)
    if not fname:
        raise StataError("invalid file specification", 198)
    path = target_path(fname, ".ster")
    if path.exists() and not opts.replace:
        raise StataError(f"file {path} already exists", 602)
    try:
        raw = ster.dumps(session.e)
    except Exception:  # noqa: BLE001 - a result holding something unpicklable: say so, no traceback
        raise StataError(f"{session.e.cmd} results cannot be saved to a file", 498) from None
    try:
        path.write_bytes(raw)
    except OSError:
        raise StataError(f"file {path} could not be opened", 603) from None
    session.out.line(f"file {path} saved")


def read_ster(text: str) -> tuple[bytes, str]:
    """(bytes, name as shown) of the .ster file `text` names (estimates use, mi estimate
    using): r(198) for no name, r(603) when it cannot be read."""
    from hlmshell.data.locate import file_spec, find_data, with_ext

    fname = file_spec(text)
    if not fname:
        raise StataError("invalid file specification", 198)
    shown = with_ext(fname, ".ster")
    try:
        return find_data(fname, ".ster").read_bytes(), shown
    except OSError:
        raise StataError(f"file {shown} could not be opened", 603) from None


def _use(session, rest: str, opts: Args) -> None:
    """`estimates use filename`: results saved by `estimates save` become the active ones,
    unnamed (as new estimation results are), e(sample) kept when the data in memory have as
    many observations as the estimation data."""
    from hlmshell.results import ster

    raw, shown = read_ster(rest)
    res = ster.loads(raw, shown)
    if res.sample is not None and (session.data is None or len(res.sample) != session.data.n):
        res.sample = None
    session.post_estimation(renamed(res, None))


def _stats(session, rest: str, opts: Args) -> None:
    names = expand_names(session, rest, default=".")
    print_ic(session, [(n, lookup(session, n)) for n in names], ic_n_option(opts.raw("n")))


# --------------------------------------------------------------------------- estimates table
_BASE = re.compile(r"(^|#)\d+b\.")
_OMIT = re.compile(r"(^|#)(\d+)?o\.")


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
            p = float(2 * dist.t_sf(zz, df_r)) if df_r is not None and df_r == df_r else float(2 * dist.norm_sf(zz))
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


def _unique(seq) -> list:
    return list(dict.fromkeys(seq))


def _table_keys(results: list[EstimationResults]) -> tuple[list[str], list[tuple[str, str]]]:
    """Equations and (equation, coefficient) rows of the table: the union over the models,
    each model's order kept."""
    eq_order = _merge_order([[eq for eq, _ in r.names] for r in results])
    keys: list[tuple[str, str]] = []
    for eq in eq_order:
        seqs = [[nm for e, nm in r.names if e == eq] for r in results]
        keys += [(eq, nm) for nm in _merge_order(seqs)]
    return eq_order, keys


def _selected(name: str, keep: list[str], drop: list[str]) -> bool:
    n = norm_name(name)
    return not (keep and n not in keep) and not (drop and n in drop)


def _equation_rows(eq: str, keys, allcells, keep: list[str], drop: list[str]) -> list:
    """Rows of one equation: a header row per factor group, then one row per coefficient with
    each model's (b, se, p, omitted) or None where the model lacks it or has it as a base."""
    names_eq, cells_eq = [], []
    for e, name in keys:
        if e != eq or not _selected(name, keep, drop):
            continue
        cells = []
        for c in allcells:
            v = c.get((eq, name))
            cells.append(None if v is None or v[4] else v[:4])
        names_eq.append(name)
        cells_eq.append(cells)
    status = ["base" if all(c is None for c in cells) else None for cells in cells_eq]
    rows = []
    for g in ct.groups_from_names(names_eq, status):
        if g.header is not None:
            rows.append((eq, list(ct.header_lines(g.header)), None))
        for r in g.rows:
            labels = [ct.level_label(r.label)] if g.header is not None else ct.name_lines(r.label)
            rows.append((eq, labels, cells_eq[r.index]))
    return rows


def _plain_equations(res: EstimationResults) -> EstimationResults:
    """Single-equation commands whose e(b) has no equation names in Stata (regress, xtreg,
    areg, ...) match coefficients by name alone across models, as Stata's table does."""
    import copy
    from hlmshell.syntax.matrix_expr import NO_EQUATION
    if res.macros.get("cmd") not in NO_EQUATION:
        return res
    new = copy.copy(res)
    new.names = [("", nm) for _, nm in res.names]
    return new


def matched_equations(results: list[EstimationResults], spec: str) -> list[EstimationResults]:
    """equations(matchlist): equations matched by position across the models and shown as
    one (`1` = every model's first equation, `1:2` = the first of one and the second of the
    other; `name = 1:1` names it, else `#1`, `#2`, ... as Stata labels them)."""
    import copy
    items = [s.strip() for s in spec.split(",") if s.strip()]
    maps: list[dict[str, str]] = [{} for _ in results]
    for j, item in enumerate(items, 1):
        label, _, pos = item.rpartition("=")
        label = label.strip() or f"#{j}"
        parts = [p.strip() for p in pos.split(":")]
        if len(parts) == 1:
            parts = parts * len(results)
        if len(parts) != len(results) or not all(p.isdigit() and int(p) >= 1 for p in parts):
            raise StataError("option equations() invalid", 198)
        for k, (res, p) in enumerate(zip(results, parts)):
            eqs = _unique(eq for eq, _ in res.names)
            if int(p) > len(eqs):
                raise StataError(f"equation {p} not found", 303)
            maps[k][eqs[int(p) - 1]] = label
    out = []
    for res, m in zip(results, maps):
        new = copy.copy(res)
        new.names = [(m.get(eq, eq), nm) for eq, nm in res.names]
        out.append(new)
    return out


def _table(session, rest: str, opts: Args) -> None:
    uniq = _unique(expand_names(session, rest, default="."))
    results = [_plain_equations(lookup(session, n)) for n in uniq]
    if opts.raw("equations"):
        results = matched_equations(results, opts.raw("equations"))
    star, extra = _under_rows(opts)

    def _sel(arg: str | None) -> list[str]:
        return [norm_name(w.split(":")[-1]) for w in (arg or "").split()]

    allcells = [_coef_cells(res) for res in results]
    eq_order, keys = _table_keys(results)
    keep, drop = _sel(opts.keep), _sel(opts.drop)
    rows = [row for eq in eq_order for row in _equation_rows(eq, keys, allcells, keep, drop)]
    stat_names = (opts.stats or "") + " " + (opts.statistics or "")
    stat_names = [s for s in stat_names.replace(",", " ").split() if s]
    stat_rows = [(s, [_stat_value(r, s) for r in results]) for s in dict.fromkeys(stat_names)]
    eqs = _unique(eq for r in results for eq, _ in r.names)
    labels = [n if n != "." else "active" for n in uniq]
    stfmt = (opts.stfmt or "").strip() or None
    if stfmt and not re.fullmatch(r"%-?\d+\.\d+[fge]c?", stfmt):
        raise StataError(f"invalid format {stfmt}", 120)
    for line in po.table_lines(labels, rows, stat_rows, opts.b or None, extra, star, len(eqs) > 1,
                               stfmt, eform=bool(opts.eform)):
        session.out.line(line)
    session.r = RResults(macros={"names": " ".join(uniq)})


def _under_rows(opts: Args) -> tuple[bool, list]:
    """(star, [(se|t|p, format)]): what goes beside or under each coefficient."""
    extra = [(k, _stat_format(opts, k)) for k in ("se", "t", "p") if k in opts]
    if opts.star and extra:
        raise StataError("option star may not be combined with se, t, or p", 198)
    return bool(opts.star), extra


def _stat_format(opts: Args, kind: str) -> str | None:
    """The %format given to se(), t() or p() (None: b's format for se, %7.2f for t, %7.4f
    for p)."""
    text = (opts.raw(kind) or "").strip()
    if not text:
        return {"t": "%7.2f", "p": "%7.4f"}.get(kind)
    if not re.fullmatch(r"%-?\d+\.\d+[fge]c?", text):
        raise StataError(f"invalid format {text}", 120)
    return text


# --------------------------------------------------------------------------- dispatcher
_TABLE_OPTIONS = (
    Opt("b", "b", "string", None, "display coefficients, optionally in a %format: b or b(%9.3f)"),
    Opt("se", "se", "string", None, "display standard errors, optionally in a %format"),
    Opt("t", "t", "string", None, "display t or z statistics, optionally in a %format"),
    Opt("p", "p", "string", None, "display p-values, optionally in a %format"),
    Opt("eform", desc="display coefficients in exponentiated form"),
    Opt("star", desc="mark significance with stars (not with se)"),
    Opt("stats", "stats", "anything", None, "display these scalars (N ll aic bic rank, any e() scalar)"),
    Opt("statistics", "statistics", "anything", None, "same as stats()"),
    Opt("keep", "keep", "anything", None, "display only these coefficients"),
    Opt("drop", "drop", "anything", None, "do not display these coefficients"),
    Opt("equations", "eq", "anything", None, "match equations by position: 1, 1:2, name = 1:1"),
    Opt("stfmt", "stfmt", "string", None, "display format of the statistics"),
)


def _resolve_sub(word: str) -> str:
    """The subcommand the word abbreviates, from the spec on the registration line below."""
    sub = REGISTRY.commands["estimates"].subcommand(word)
    if sub is None:
        raise StataError(f"subcommand estimates {word} is unrecognized", 198)
    return sub.name


def _query(session, rest, opts: Args) -> None:
    if session.e is None:
        session.out.line("(no estimation results)")
        return
    name = session.e.name
    tail = f"; also stored as {name}" if name else "; not yet stored"
    session.out.line(f"(active results produced by {session.e.cmd}{tail})")


@command("estimates", abbrev="est", byable=False, qualifiers="",
          family="Postestimation", body="anything", desc="save and manipulate estimation results",
          example="estimates store ses_random",
          subcommands=(Sub("store", "sto", "store the active results under a name",
                           (Opt("title", "", "string", None, "title of the results (accepted; not kept)"),
                            Opt("nocopy", desc="accepted for compatibility")), "name"),
                       Sub("restore", "res", "make stored results the active ones",
                           (Opt("noheader", desc="do not say which results are active now"),
                            Opt("drop", desc="drop the stored copy once restored")), "name"),
                       Sub("replay", "r", "redisplay stored results", (Opt("noheader", desc="suppress the header"),), "[namelist]"),
                       Sub("dir", "dir", "list the stored results", (), "[namelist]"),
                       Sub("drop", "drop", "drop stored results", (), "namelist"),
                       Sub("clear", "clear", "drop all stored results"),
                       Sub("table", "tab", "table of coefficients of stored results", _TABLE_OPTIONS, "[namelist]"),
                       Sub("stats", "stat", "AIC and BIC of stored results",
                           (Opt("n", "n", "string", None, "N used in calculating BIC"),), "[namelist]"),
                       Sub("query", "q", "which results are active"),
                       Sub("save", "save", "save the active results to a file (.ster)",
                           (Opt("replace", desc="overwrite an existing file"),), "filename"),
                       Sub("use", "use", "make results saved in a file the active ones", (), "filename")))
def estimates_cmd(session, cmd) -> None:
    body = (cmd.body or "").strip()
    if not body:
        if session.e is not None:
            _replay(session, "", bind_command("estimates", cmd.options, "replay"))
        return
    word, _, rest = body.partition(" ")
    sub = _resolve_sub(word)
    handler = {
        "store": _store, "restore": _restore, "replay": _replay, "dir": _dir, "drop": _drop,
        "clear": _clear, "table": _table, "stats": _stats, "query": _query, "save": _save,
        "use": _use,
    }[sub]
    handler(session, rest.strip(), _sub_options(sub, cmd.options))


def _sub_options(sub: str, options) -> Args:
    """The options typed with subcommand `sub`, bound to its spec: strictly (Stata's refusals
    of a missing argument or one where none goes), except `clear`, which refuses any option
    as invalid syntax itself, and `table`, whose b takes an optional format (`b` or `b(%9.3f)`)."""
    specs = REGISTRY.commands["estimates"].subcommand(sub).options
    if sub == "clear":
        return Args((), {o.name: o.arg for o in options})
    if sub == "table":
        return bind_options(specs, options)
    return bind_command("estimates", options, sub)
