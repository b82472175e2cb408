"""simulate [exp_list], reps(#) [seed(#) nodots dots(#) noisily saving(file[, replace double
every(#)]) nolegend verbose double]: command -- Monte Carlo simulations (Stata 17's [R]
simulate): run the command reps times and replace the data by one observation per run.

This module also holds what the replication prefixes share (simulate here; bootstrap,
jackknife and permute in resample.py): the exp_list with Stata's names (_sim_1, _b_x,
eq_b_x ...), running the command after the colon through the interpreter
(session.runner.run_command, as statsby and eststo do), the dots display and the dataset of
replicates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import typed_args
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.errors import StataError, syntax_error
from hlmshell.output.numfmt import fmt_count
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults

RULER = "----+--- 1 ---+--- 2 ---+--- 3 ---+--- 4 ---+--- 5 "


# ============================================================================ the exp_list
@dataclass
class Item:
    """One collected statistic: the variable it becomes (`var`), its expression as the legend
    and the variable label show it (`text`), and for a coefficient (`kind` b or se) the
    equation and name it is looked up by in each replication's e(b). `col` is its e(b) column
    (equation, name) after bootstrap/jackknife; `eexp`: it came from _b/_se."""

    var: str
    text: str
    kind: str = "exp"
    eq: str | None = None
    coef: str = ""
    col: tuple[str, str] = ("", "")
    eexp: bool = False


_COEF = re.compile(r"(?:\[(\w+)\])?_(b|se)(?:\[([^\]]+)\])?$")


def split_prefix(body: str) -> tuple[str, str, str]:
    """`exp_list [, options] : command` -> (exp_list, option text, command)."""
    from hlmshell.commands.statsby import split_body

    return split_body(body)


def exp_words(text: str) -> list[tuple[str | None, str]]:
    """exp_list words -> (name or None, expression): `name = (exp)` or `name=exp`, `(exp)`,
    `r(mean)`, `_b`, `_b[x]`; `(name: elist)` groups are refused."""
    from hlmshell.syntax.lexer import top_words

    compact = re.sub(r"\s*=\s*", "=", text.strip())
    out: list[tuple[str | None, str]] = []
    for s, e in top_words(compact):
        word = compact[s:e]
        if word.startswith("(") and ":" in word and re.match(r"\(\s*\w+\s*:", word):
            raise StataError("(name: elist) groups in an exp_list are not supported by hlmshell", 198)
        name, eq, exp = word.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_]\w{0,31}", name) and exp:
            out.append((name, exp))
        else:
            out.append((None, word))
    return out


def _coef_items(e, kind: str, eq: str | None, which: str | None) -> list[Item]:
    """`_b` / `_se` over every coefficient, or `_b[x]`, `[eq]_b[x]`, `_b[eq:x]`."""
    if which is not None and eq is None and ":" in which:
        eq, which = which.split(":", 1)
    multi = len({q for q, _ in e.names}) > 1
    out = []
    for q, nm in e.names:
        if which is not None and (nm != which or (eq is not None and q != eq)):
            continue
        short = "cons" if nm == "_cons" else nm
        var = f"{q}_{kind}_{short}" if multi else f"_{kind}_{short}"
        var = re.sub(r"[^A-Za-z0-9_]", "_", var)[:32]
        text = f"[{q}]_{kind}[{nm}]" if multi else f"_{kind}[{nm}]"
        col = (q if multi else "", nm) if kind == "b" else (f"{q}_se" if multi else "_se", nm)
        out.append(Item(var, text, kind, q, nm, col, eexp=True))
    if not out:
        raise StataError(f"[{which}] not found", 111)
    return out


def build_items(session, words, stub: str) -> list[Item]:
    """The statistics to collect, named as Stata's prefixes name them: `stub#` (_sim_1,
    _bs_1, ...) for unnamed expressions, the given name otherwise, _b_x / eq_b_x / _se_x for
    coefficients of the estimation the command left."""
    items: list[Item] = []
    k = 0
    for name, exp in words:
        m = _COEF.match(exp)
        if m and name is None:
            if session.e is None:
                raise StataError("last estimates not found", 301)
            eq, kind, which = m.groups()
            items += _coef_items(session.e, kind, eq, which)
            continue
        k += 1
        var = name or f"{stub}{k}"
        text = exp[1:-1].strip() if exp.startswith("(") and exp.endswith(")") else exp
        g.parse_expr(text)              # a malformed expression is the prefix's error
        items.append(Item(var, text, col=("", var)))
    names = [it.var for it in items]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise StataError(f"{dup} already defined", 110)
    return items


def default_words(session, eclass: bool, stub: str, rclass_ok: bool = True) -> list[tuple[str | None, str]]:
    """No exp_list: _b after an estimation command, else (simulate) every scalar in r();
    bootstrap, jackknife and permute have no default but _b (rclass_ok=False)."""
    if eclass and session.e is not None:
        return [(None, "_b")]
    if not rclass_ok:
        raise StataError("expression list required", 100)
    scalars = list(session.r.scalars) if session.r is not None else []
    if not scalars:
        raise StataError("expression list required", 100)
    return [(s, f"r({s})") for s in scalars]      # named after the scalars, as Stata does


def evaluate_items(session, items: list[Item]) -> tuple[list[float], bool]:
    """The items' values now (missing where one cannot be computed) and whether any is
    missing. Coefficients are found by name in e(b), so that a replication whose design lost
    a column still puts each value in its place."""
    out = []
    e = session.e
    for it in items:
        if it.kind in ("b", "se"):
            i = -1 if e is None else e.coef_index(it.eq, it.coef)
            if i < 0:
                out.append(np.nan)
                continue
            arr = np.asarray(e.b if it.kind == "b" else e.se, dtype=float).reshape(-1)
            out.append(float(arr[i]) if i < len(arr) else np.nan)
            continue
        try:
            v = g.evaluate(g.parse_expr(it.text), session)
            arr = np.asarray(v).reshape(-1)
            out.append(float(arr[0]) if arr.size and arr.dtype != object else np.nan)
        except (StataError, ValueError, TypeError, IndexError):
            out.append(np.nan)
    return out, any(np.isnan(x) for x in out)


# ============================================================================ running
def run_inner(session, text: str, noisily: bool) -> int:
    """Run the command after the colon (quietly unless noisily); 0 or its return code. A
    Break (Ctrl-C) goes through: the whole prefix command stops and is undone."""
    run = getattr(session.runner, "run_command", None)
    if run is None:
        raise StataError("prefix commands need the interpreter", 198)
    try:
        run(text if noisily else "quietly " + text)
        return 0
    except StataError as exc:
        return exc.rc or 198


def first_run(session, text: str, noisily: bool, caller: str) -> bool:
    """The command on the data as they are (e() and r() cleared first, as Stata's prefixes
    do); its failure is the prefix's, with Stata's `an error occurred when ... executed`.
    Returns whether it left new estimation results."""
    session.e = None
    session.r = RResults()
    serial = session.estimation_serial
    run = getattr(session.runner, "run_command", None)
    if run is None:
        raise StataError("prefix commands need the interpreter", 198)
    try:
        run(text if noisily else "quietly " + text)
    except StataError as exc:
        if exc.message:
            session.out.line(exc.message)
        raise StataError(f"an error occurred when {caller} executed {command_name(text)}",
                         exc.rc or 198) from None
    return session.estimation_serial != serial and session.e is not None


def command_name(text: str) -> str:
    """The command word (unabbreviated when it is a built-in command)."""
    from hlmshell.registry import REGISTRY

    word = text.split()[0] if text.split() else ""
    word = word.rstrip(",")
    spec = REGISTRY.lookup(word)
    return spec.name if spec is not None else word


def check_not_nested(text: str, caller: str, excluded: tuple[str, ...]) -> None:
    name = command_name(text)
    if name in excluded:
        raise StataError(f"{name} is not supported by {caller}", 199)


def set_seed(session, seed: str | None) -> None:
    """seed(#): as `set seed #` (its checks and messages)."""
    if seed is None:
        return
    if not seed.strip():
        raise syntax_error()
    session.runner.run_command(f"set seed {seed.strip()}")


class Dots:
    """Stata's replication dots: a title with the count, the ruler, one character per
    replication (. done, x error, e missing value) and the count after every 50th."""

    def __init__(self, out, title: str, reps: int, show: bool, every: int = 1, noisily: bool = False):
        # noisily implies nodots: the title still heads the command's output, without the ruler
        self.out, self.show, self.k, self.line, self.every = out, show and not noisily, 0, 0, max(every, 1)
        if show:
            out.line(f"{title} ({fmt_count(reps)})")
        if self.show:
            out.line(RULER)

    def mark(self, ch: str) -> None:
        self.k += 1
        if not self.show or self.k % self.every:
            return
        self.out.write(ch)
        self.line += 1
        if self.line == 50:
            self.out.write(f"{self.k:>6}\n")
            self.line = 0

    def close(self) -> None:
        if self.show and self.line:
            self.out.write("\n")
        self.line = 0


def legend(out, command_text: str, items: list[Item], verbose: bool = False,
           extra: list[tuple[str, str]] = (), always: bool = True) -> None:
    """`      Command: sim` and one line per expression; _b/_se items only with verbose (as
    _prefix_legend shows them). bootstrap and jackknife (always=False) show nothing when
    only coefficients were collected; simulate still names the command."""
    shown = [it for it in items if verbose or not it.eexp]
    if not shown and not extra and not verbose and not always:
        return
    out.line()
    out.line(f"{'Command':>13}: {command_text}")
    for it in shown:
        out.line(f"{abbrev(it.var, 13):>13}: {it.text}")
    for name, text in extra:
        out.line(f"{name:>13}: {text}")


def results_dataset(items: list[Item], rows, vtype: str, label: str, command_text: str) -> Dataset:
    """One observation per replication, a variable per item labelled with its expression."""
    new = Dataset()
    mat = np.asarray(rows, dtype=float).reshape(len(rows), len(items))
    for j, it in enumerate(items):
        var = Variable(it.var, g.store(mat[:, j], vtype), vtype, label=it.text[:80])
        var.chars = {"expression": it.text}
        new.vars[it.var] = var
    new._n = len(rows)
    new.label = label
    new.dta_chars = {"command": command_text}
    return new


def saving_option(raw: str | None):
    """saving(filename[, replace double every(#)]) -> (filename, replace, double) or None."""
    if raw is None:
        return None
    from hlmshell.data.locate import unquote
    from hlmshell.syntax.lexer import find_top

    comma = find_top(raw, ",")
    fname, sub = (raw, "") if comma < 0 else (raw[:comma], raw[comma + 1:])
    words = re.findall(r"\w+(?:\([^)]*\))?", sub)
    if any(not re.fullmatch(r"replace|double|every\(\s*\d+\s*\)", w) for w in words):
        raise StataError("option saving() invalid", 198)
    fname = unquote(fname.strip())
    if not fname:
        raise StataError("option saving() invalid", 198)
    return fname, "replace" in words, "double" in words


def check_saving(saving) -> None:
    """A file that exists without replace: r(602) before any replication runs."""
    if saving is None:
        return
    from hlmshell.data.locate import target_path
    path = target_path(saving[0])
    if path.exists() and not saving[1]:
        raise StataError(f"file {path} already exists", 602)


def save_results(session, ds: Dataset, saving) -> None:
    from hlmshell.data.dta import write_dta
    from hlmshell.data.locate import target_path

    path = target_path(saving[0])
    ds.changed = False
    write_dta(ds, path, shown=str(path))


def dots_every(opts) -> int:
    if "dots" not in opts:
        return 1
    try:
        k = int(str(opts.raw("dots")).strip())
    except ValueError:
        raise StataError("option dots() incorrectly specified", 198) from None
    if k < 1:
        raise StataError("option dots() incorrectly specified", 198)
    return k


# ============================================================================ simulate
@command("simulate", abbrev="simul", raw=True, byable=False, qualifiers="",
          family="Statistics",
          desc="Monte Carlo simulations (prefix: simulate exp_list, reps(#): command)",
          example="simulate mean=r(mean), reps(100) seed(12): mysim",
          options=(Opt("reps", "r", "int", None, "perform # replications (required)"),
                   Opt("seed", "seed", "string", None, "set random-number seed to #"),
                   Opt("nodots", desc="suppress replication dots"),
                   Opt("dots", "dots", "string", None, "display dots every # replications"),
                   Opt("noisily", "noi", desc="display any output from command"),
                   Opt("trace", "tr", desc="trace command (shows its output)"),
                   Opt("saving", "sa", "string", None, "filename[, replace double every(#)]: save the results"),
                   Opt("nolegend", "nol", desc="suppress the table legend"),
                   Opt("verbose", "v", desc="display the full table legend"),
                   Opt("double", desc="save the results as doubles")))
def simulate_cmd(session, cmd):
    explist, opt_text, inner = split_prefix(cmd.body or "")
    from hlmshell.syntax.parser import parse_options
    opts = typed_args(cmd, options=parse_options(opt_text))
    reps = opts.reps
    if reps is None or reps < 1:
        raise StataError("reps() is required, and must be a positive integer", 198)
    every = dots_every(opts)
    saving = saving_option(opts.raw("saving") if "saving" in opts else None)
    check_saving(saving)
    check_not_nested(inner, "simulate", ("simulate",))
    noisily = opts.noisily or opts.trace
    words = exp_words(explist) if explist.strip() else None
    set_seed(session, opts.raw("seed") if "seed" in opts else None)
    out = session.out
    if noisily:
        out.line(f". {inner}")
    eclass = first_run(session, inner, noisily, "simulate")
    items = build_items(session, words if words is not None else default_words(session, eclass, "_sim_"),
                        "_sim_")
    rows = [evaluate_items(session, items)[0]]
    if not opts.nolegend:
        legend(out, inner, items, opts.verbose)
    out.line()
    dots = Dots(out, "Simulations", reps, not opts.nodots or noisily, every, noisily)
    dots.mark("e" if any(np.isnan(rows[0])) else ".")
    for _ in range(2, reps + 1):
        if noisily:
            out.line(f". {inner}")
        rc = run_inner(session, inner, noisily)
        if rc:
            rows.append([np.nan] * len(items))
            dots.mark("x")
            continue
        vals, missing = evaluate_items(session, items)
        rows.append(vals)
        dots.mark("e" if missing else ".")
    dots.close()
    vtype = "double" if opts.double or (saving and saving[2]) else "float"
    result = results_dataset(items, rows, vtype, f"simulate: {command_name(inner)}", inner)
    if saving is not None:
        save_results(session, result.copy(), saving)
    result.changed = False
    session.data = result
