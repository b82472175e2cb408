"""statsby [exp_list] [, by(varlist[, missing]) clear saving() total subsets double nodots
noisily nolegend]: command -- run a command on each group and replace the data by the
collected statistics (Stata 17's statsby prefix).

statsby is an ordinary raw-text command: the handler splits off the `: command` part itself
and runs it once per group through session.runner.run_command (the interpreter's one-line
entry), on that group's observations only.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt, command

_RULER = "----+--- 1 ---+--- 2 ---+--- 3 ---+--- 4 ---+--- 5 "


@dataclass
class Stat:
    """One collected statistic: the new variable, its expression (shown and used as its
    label), and either a coefficient position in e(b) (`kind` b/se) or an expression."""

    name: str
    text: str
    kind: str = "exp"            # exp | b | se
    index: int = -1


@dataclass
class Plan:
    by: list[str]
    missing: bool
    command: str
    stats: list[Stat] = field(default_factory=list)
    explist: str = ""


# ----------------------------------------------------------------------------- parsing
def split_body(body: str) -> tuple[str, str, str]:
    """`exp_list [, options] : command` -> (exp_list, option text, command)."""
    from hlmshell.syntax.lexer import find_top

    colon = find_top(body, ":")
    if colon < 0:
        raise syntax_error()
    head, inner = body[:colon], body[colon + 1:].strip()
    if not inner:
        raise syntax_error()
    comma = find_top(head, ",")
    if comma < 0:
        return head.strip(), "", inner
    return head[:comma].strip(), head[comma + 1:].strip(), inner


def _by_option(session, raw: str | None) -> tuple[list[str], bool]:
    """by(varlist[, missing])."""
    if raw is None:
        return [], False
    text, _, sub = raw.partition(",")
    missing = False
    if sub.strip():
        if not re.fullmatch(r"\s*miss(i(n(g)?)?)?\s*", sub):
            raise StataError("option by() invalid", 198)
        missing = True
    names = varlist(session, text, all_if_empty=False)
    if not names:
        raise StataError("option by() invalid", 198)
    return names, missing


def _exp_items(text: str) -> list[tuple[str | None, str]]:
    """exp_list words -> (name or None, expression text); `name = (exp)`, `(exp)`, `_b`, ..."""
    from hlmshell.syntax.lexer import top_words

    compact = re.sub(r"\s*=\s*", "=", text.strip())
    items = []
    for s, e in top_words(compact):
        word = compact[s:e]
        if word.startswith("(") and ":" in word:
            raise StataError("(name: elist) groups are not supported by hlmshell's statsby", 198)
        name, eq, exp = word.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_]\w{0,31}", name) and exp:
            items.append((name, exp))
        else:
            items.append((None, word))
    return items


def _strip_parens(exp: str) -> str:
    return exp[1:-1].strip() if exp.startswith("(") and exp.endswith(")") else exp


def _coef_stats(e, kind: str, which: str | None) -> list[Stat]:
    """`_b`/`_se` (all coefficients) or `_b[name]` / `[eq]_b[name]` as Stats."""
    multi = len({eq for eq, _ in e.names}) > 1
    out = []
    for i, (eq, nm) in enumerate(e.names):
        if which is not None and which not in (nm, f"{eq}:{nm}"):
            continue
        short = nm.replace("_cons", "cons") if nm == "_cons" else nm
        vname = (f"{eq}_{kind}_{short}" if multi else f"_{kind}_{short}")
        vname = re.sub(r"[^A-Za-z0-9_]", "_", vname)[:32]
        label = f"[{eq}]_{kind}[{nm}]" if multi else f"_{kind}[{nm}]"
        out.append(Stat(vname, label, kind, i))
    return out


_COEF = re.compile(r"(?:\[(\w+)\])?_(b|se)(?:\[([^\]]+)\])?$")


def build_stats(session, items, eclass: bool) -> list[Stat]:
    """The statistics to collect, named as statsby names them (_stat_#, _b_x, _se_x, eq_b_x)."""
    e = session.e
    stats: list[Stat] = []
    k = 0
    for name, exp in items:
        m = _COEF.match(exp)
        if m and name is None:
            if e is None:
                raise StataError("last estimates not found", 301)
            eq, kind, which = m.groups()
            if which is not None and eq is not None:
                which = f"{eq}:{which}"
            found = _coef_stats(e, kind, which)
            if not found:
                raise StataError(f"[{which}] not found", 111)
            stats += found
            continue
        k += 1
        stats.append(Stat(name or f"_stat_{k}", _strip_parens(exp)))
    names = [s.name for s in stats]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise StataError(f"{dup} already defined", 110)
    return stats


def default_items(session, eclass: bool) -> list[tuple[str | None, str]]:
    """No exp_list: _b after an estimation command, else every r() scalar."""
    if eclass:
        return [(None, "_b")]
    scalars = list(session.r.scalars) if session.r is not None else []
    if not scalars:
        raise StataError("expression list required", 100)
    return [(None, f"r({s})") for s in scalars]


# ----------------------------------------------------------------------------- running
def _runner(session):
    run = getattr(session.runner, "run_command", None)
    if run is None:
        raise StataError("statsby: prefix commands need the interpreter", 198)
    return run


def run_on(session, data: Dataset, command_text: str, noisily: bool) -> bool:
    """Run the command on `data` (in place of the data in memory); whether it succeeded."""
    session.data = data
    try:
        _runner(session)(command_text if noisily else "quietly " + command_text)
        return True
    except StataError:
        return False


def collect(session, stats: list[Stat], serial0: int) -> list[float]:
    """The statistics left by the command just run (missing where an expression fails)."""
    out = []
    e = session.e
    fresh = e is not None and e.serial != serial0
    for st in stats:
        if st.kind in ("b", "se"):
            if not fresh or st.index >= len(e.names):
                out.append(np.nan)
                continue
            arr = e.b if st.kind == "b" else e.se
            out.append(float(np.asarray(arr, dtype=float).reshape(-1)[st.index]))
            continue
        try:
            v = g.evaluate(g.parse_expr(st.text), session)
            arr = np.asarray(v).reshape(-1)
            out.append(float(arr[0]) if arr.size and arr.dtype != object else np.nan)
        except (StataError, ValueError, TypeError, IndexError):
            out.append(np.nan)
    return out


def group_masks(ds: Dataset, by: list[str], missing: bool, subsets: bool, total: bool):
    """(by-variable values to record, observation mask) per group, in sort order: all of by
    (then each smaller subset of by with subsets; the rest missing), then the total."""
    n = ds.n
    sets = [list(by)]
    if subsets:
        sets = [list(c) for r in range(len(by), 0, -1) for c in itertools.combinations(by, r)]
    out = []
    for subset in sets:
        keep = np.ones(n, dtype=bool)
        if not missing:
            for nm in subset:
                v = ds.var(nm)
                keep &= (v.values != "") if v.is_string else ~np.isnan(v.values)
        idx = np.flatnonzero(keep)
        if not idx.size:
            continue
        keys = g.sort_keys(ds, subset)
        stacked = np.column_stack([k[idx] for k in keys])
        uniq, first, inv = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
        inv = np.asarray(inv).reshape(-1)
        for j in range(len(uniq)):
            members = np.zeros(n, dtype=bool)
            members[idx[inv == j]] = True
            row = idx[first[j]]
            out.append(({nm: ds.var(nm).values[row] for nm in subset}, members))
    if total or not by:
        out.append(({}, np.ones(n, dtype=bool)))
    return out


# ----------------------------------------------------------------------------- result data
def result_dataset(full: Dataset, by: list[str], groups, rows, stats, vtype: str) -> Dataset:
    new = Dataset()
    for nm in by:
        src = full.var(nm)
        miss = "" if src.is_string else np.nan
        vals = np.array([grp.get(nm, miss) for grp, _ in groups],
                        dtype=object if src.is_string else float)
        new.vars[nm] = Variable(nm, vals, src.vtype, src.format, src.label, src.vallab)
        if src.vallab and src.vallab in full.value_labels:
            new.value_labels[src.vallab] = dict(full.value_labels[src.vallab])
    mat = np.asarray(rows, dtype=float).reshape(len(groups), len(stats))
    for j, st in enumerate(stats):
        new.vars[st.name] = Variable(st.name, g.store(mat[:, j], vtype), vtype, label=st.text)
    new._n = len(groups)
    new.changed = True
    return new


# ----------------------------------------------------------------------------- the command
@command("statsby", raw=True, byable=False, qualifiers="",
          family="Data management",
          desc="collect statistics of a command across groups (prefix: statsby ...: command)",
          example="statsby _b _se, by(id) clear: regress mathach ses",
          options=(Opt("by", type="string", desc="varlist[, missing]: groups to run command on"),
                   Opt("clear", desc="replace the data in memory, even if changed"),
                   Opt("saving", type="string", desc="filename[, replace]: save the statistics to a file instead"),
                   Opt("total", desc="add an observation for the whole sample"),
                   Opt("subsets", desc="also run on groups of each subset of the by() variables"),
                   Opt("double", desc="store the statistics as doubles"),
                   Opt("nodots", desc="suppress the dots showing progress"),
                   Opt("noisily", "n", desc="show the command's output for each group"),
                   Opt("nolegend", desc="suppress the legend of the collected statistics")))
def statsby_cmd(session, cmd):
    explist, opt_text, inner = split_body(cmd.body or "")
    from hlmshell.syntax.parser import parse_options
    opts = typed_args(cmd, options=parse_options(opt_text))
    by, missing = _by_option(session, opts.raw("by") if "by" in opts else None)
    saving = _saving(opts.raw("saving") if "saving" in opts else None)
    if saving is None:
        from hlmshell.commands.files import check_can_replace_data
        check_can_replace_data(session, opts.clear)
    plan = Plan(by, missing, inner, explist=explist)
    full = session.data
    saved = (session.e, session.r, session.estimation_serial, session.test_chain)
    try:
        _prepare(session, plan, full, opts.noisily)
        if not opts.nolegend:
            _legend(session, plan)
        groups = group_masks(full, by, missing, opts.subsets, opts.total)
        rows = _run_groups(session, plan, full, groups, opts)
    finally:
        session.data = full
        session.e, session.r, session.estimation_serial, session.test_chain = saved
    result = result_dataset(full, by, groups, rows, plan.stats, "double" if opts.double else "float")
    if saving is not None:
        _save(session, result, *saving)
        return
    session.data = result


def _saving(raw: str | None):
    if raw is None:
        return None
    fname, _, sub = raw.partition(",")
    sub = sub.strip()
    if sub and sub not in ("replace",):
        raise StataError("option saving() invalid", 198)
    from hlmshell.data.locate import unquote
    fname = unquote(fname.strip())
    if not fname:
        raise StataError("option saving() invalid", 198)
    return fname, sub == "replace"


def _save(session, ds: Dataset, fname: str, replace: bool) -> None:
    from hlmshell.data.dta import write_dta
    from hlmshell.data.locate import target_path
    path = target_path(fname)
    if path.exists() and not replace:
        raise StataError(f"file {path} already exists", 602)
    ds.changed = False
    write_dta(ds, path, shown=str(path))


def _prepare(session, plan: Plan, full: Dataset, noisily: bool) -> None:
    """Run the command once on all the data (as Stata does) to learn what it leaves: the
    default exp_list and the coefficient names behind _b/_se."""
    serial0 = session.estimation_serial
    ok = run_on(session, full.copy(), plan.command, False)
    eclass = session.estimation_serial != serial0
    if not ok and not plan.explist:
        # the failure itself, with its message and code
        session.data = full.copy()
        _runner(session)("quietly " + plan.command)
    items = _exp_items(plan.explist) if plan.explist else default_items(session, eclass)
    plan.stats = build_stats(session, items, eclass)


def _legend(session, plan: Plan) -> None:
    out = session.out
    out.line()
    out.line(f"{'Command':>13}: {plan.command}")
    for st in plan.stats:
        out.line(f"{st.name:>13}: {st.text}")
    if plan.by:
        out.line(f"{'By':>13}: {' '.join(plan.by)}")
    out.line()


def _run_groups(session, plan: Plan, full: Dataset, groups, opts) -> list[list[float]]:
    rows = []
    dots = []
    out = session.out
    if not opts.nodots:
        out.line("Statsby groups")
        out.line(_RULER)
    for k, (_, mask) in enumerate(groups, 1):
        sub = full.copy()
        sub.take(mask)
        sub.changed = full.changed
        serial0 = session.estimation_serial
        ok = run_on(session, sub, plan.command, opts.noisily)
        rows.append(collect(session, plan.stats, serial0) if ok else [np.nan] * len(plan.stats))
        dots.append("." if ok else "x")
        if not opts.nodots and k % 50 == 0:
            out.line("".join(dots) + f"{k:>6}")
            dots = []
    if not opts.nodots and dots:
        out.line("".join(dots))
    return rows
