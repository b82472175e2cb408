"""permute permvar exp_list [, reps(#) left right strata(varlist) seed(#) saving() eps(#)
level() nodots noisily notable noheader nolegend]: command -- Monte Carlo permutation tests
(Stata 17's [R] permute): the command runs once on the data, then reps times with the values
of permvar shuffled (within strata); for each statistic c counts the permuted values at least
as extreme as the observed one, p = c/n with its binomial standard error and exact interval.
Results in r(), as permute stores them.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import simulate as sim
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.data.dataset import Dataset
from hlmshell.engine import resampling as rs
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults


def _split_permvar(explist: str, session) -> tuple[str, str]:
    words = explist.split(None, 1)
    if not words:
        raise StataError("permvar required", 100)
    names = varlist(session, words[0], all_if_empty=False)
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    return names[0], (words[1] if len(words) > 1 else "")


def _permuted(rng, values: np.ndarray, strata: np.ndarray | None) -> np.ndarray:
    """The values shuffled, within each stratum."""
    out = values.copy()
    groups = [np.arange(len(values))] if strata is None else \
        [np.flatnonzero(strata == s) for s in np.unique(strata)]
    for idx in groups:
        out[idx] = values[idx[rng.permutation(len(idx))]]
    return out


def _strata_codes(ds: Dataset, names: list[str]) -> np.ndarray | None:
    if not names:
        return None
    keys = np.column_stack([np.unique(ds.var(nm).values.astype(str) if ds.var(nm).is_string
                                      else ds.var(nm).values.astype(float), return_inverse=True)[1]
                            for nm in names])
    return np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)


@command("permute", raw=True, byable=False, qualifiers="", family="Statistics",
          desc="Monte Carlo permutation tests (prefix: permute permvar exp_list, reps(#): command)",
          example="permute sector diff=(_b[sector]), reps(200) seed(1): regress mathach sector",
          options=(Opt("reps", "r", "int", 100, "perform # random permutations; default is reps(100)"),
                   Opt("left", desc="compute one-sided p-values for the lower tail"),
                   Opt("right", desc="compute one-sided p-values for the upper tail"),
                   Opt("strata", "str", "string", None, "permute within strata"),
                   Opt("seed", "seed", "string", None, "set random-number seed to #"),
                   Opt("saving", "sa", "string", None, "filename[, replace double every(#)]: save the permutations"),
                   Opt("eps", "eps", "real", 1e-7, "numerical tolerance; seldom used"),
                   Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                   Opt("nodots", desc="suppress replication dots"),
                   Opt("dots", "dots", "string", None, "display dots every # replications"),
                   Opt("noisily", "noi", desc="display any output from command"),
                   Opt("trace", "tr", desc="trace command"),
                   Opt("notable", desc="suppress table of results"),
                   Opt("noheader", "noh", desc="suppress table header"),
                   Opt("nolegend", "nol", desc="suppress table legend"),
                   Opt("verbose", "v", desc="display the full table legend"),
                   Opt("nodrop", desc="do not drop observations"),
                   Opt("nowarn", desc="do not warn when e(sample) is not set"),
                   Opt("double", desc="save the permutations as doubles")))
def permute_cmd(session, cmd):
    explist, opt_text, inner = sim.split_prefix(cmd.body or "")
    from hlmshell.syntax.parser import parse_options
    opts = typed_args(cmd, options=parse_options(opt_text))
    permvar, explist = _split_permvar(explist, session)
    if opts.reps < 1:
        raise StataError("reps() must be a positive integer", 198)
    if opts.left and opts.right:
        raise StataError("options left and right may not be combined", 198)
    level = confidence_level(session, opts)
    strata = varlist(session, opts.raw("strata"), all_if_empty=False) if "strata" in opts else []
    saving = sim.saving_option(opts.raw("saving") if "saving" in opts else None)
    sim.check_saving(saving)
    sim.check_not_nested(inner, "permute", ("permute", "bootstrap", "jackknife", "simulate", "statsby"))
    every = sim.dots_every(opts)
    noisily = opts.noisily or opts.trace
    sim.set_seed(session, opts.raw("seed") if "seed" in opts else None)
    if session.data.var(permvar).is_string:
        raise StataError("type mismatch", 109)
    full = session.data
    out = session.out
    if not opts.nodots:
        out.line(f"(running {sim.command_name(inner)} on estimation sample)")
    items, observed = _observed(session, inner, explist, noisily)
    rows = _permutations(session, full, permvar, _strata_codes(full, strata), inner, items,
                         opts.reps, not opts.nodots or noisily, every, noisily)
    session.data = full
    if saving is not None:
        ds = sim.results_dataset(items, rows, "double" if saving[2] else "float",
                                 f"permute {permvar}: {sim.command_name(inner)}", inner)
        sim.save_results(session, ds, saving)
    kind = "lower" if opts.left else "upper" if opts.right else "two"
    counts = [rs.permutation_count(observed[j], rows[:, j], kind, level, opts.eps) for j in range(len(items))]
    _post(session, full.n, permvar, inner, items, observed, counts, opts.reps, level, kind)
    if not opts.noheader:
        _header(out, full.n, opts.reps, inner, items, permvar, opts.nolegend, opts.verbose)
    if not opts.notable:
        for ln in table_lines(items, observed, counts, level, kind):
            out.line(ln)


def _observed(session, inner: str, explist: str, noisily: bool):
    """The command on the data as they are: the statistics to collect and their values."""
    eclass = sim.first_run(session, inner, noisily, "permute")
    words = sim.exp_words(explist) if explist.strip() else sim.default_words(session, eclass, "", rclass_ok=False)
    items = sim.build_items(session, words, "_pm_")
    observed, _ = sim.evaluate_items(session, items)
    for it, v in zip(items, observed):
        if np.isnan(v):
            raise StataError(f"'{it.text}' evaluated to missing in full sample", 322)
    return items, observed


def _permutations(session, full: Dataset, permvar: str, strata, inner: str, items, reps: int,
                  show: bool, every: int, noisily: bool) -> np.ndarray:
    out = session.out
    if show:
        out.line()
    dots = sim.Dots(out, "Permutation replications", reps, show, every, noisily)
    values = full.var(permvar).values
    rows = []
    for _ in range(reps):
        data = full.copy()
        data.put(data.var(permvar).evolve(values=_permuted(session.rng, values, strata)))
        session.data = data
        if noisily:
            out.line(f". {inner}")
        if sim.run_inner(session, inner, noisily):
            rows.append([np.nan] * len(items))
            dots.mark("x")
            continue
        vals, missing = sim.evaluate_items(session, items)
        rows.append(vals)
        dots.mark("e" if missing else ".")
    dots.close()
    return np.asarray(rows, dtype=float).reshape(reps, len(items))


def _post(session, n, permvar, inner, items, observed, counts, reps, level, kind) -> None:
    from hlmshell.commands.program import NamedMatrix

    names = [it.var for it in items]
    row = lambda vals: NamedMatrix(np.asarray(vals, dtype=float).reshape(1, -1), ["r1"], names)  # noqa: E731
    r = RResults()
    r.scalars.update({"N": float(n), "N_reps": float(reps), "level": level,
                      "k_exp": float(sum(not it.eexp for it in items)),
                      "k_eexp": float(sum(it.eexp for it in items))})
    r.macros.update({"cmd": "permute", "command": inner, "permvar": permvar,
                     "title": "Monte Carlo permutation results"})
    if kind != "two":
        r.macros["left" if kind == "lower" else "right"] = "left" if kind == "lower" else "right"
    for j, it in enumerate([it for it in items if not it.eexp], 1):
        r.macros[f"exp{j}"] = it.text
    r.matrices.update({"b": row(observed), "c": row([c.c for c in counts]), "reps": row([c.n for c in counts]),
                       "p": row([c.p for c in counts]), "se": row([c.se for c in counts]),
                       "ci": NamedMatrix(np.array([[c.lo for c in counts], [c.hi for c in counts]]),
                                         ["ll", "ul"], names)})
    session.r = r


def _header(out, n, reps, inner, items, permvar, nolegend, verbose) -> None:
    out.line()
    out.line(f"{'Monte Carlo permutation results':<48}{'Number of obs':<18}={fmt_count(n):>11}")
    out.line(f"{'':48}Number of permutations ={fmt_count(reps):>6}")
    if not nolegend:
        sim.legend(out, inner, items, verbose, [("permute var", permvar)])


def table_lines(items, observed, counts, level: float, kind: str) -> list[str]:
    ci = f"[{level:g}% conf. interval]"
    head = f"{'T':<12} |     T(obs)       c       n   p=c/n   SE(p) {ci}"
    out = ["", ct.rule(), head, ct.rule("mid")]
    for it, t, c in zip(items, observed, counts):
        se = "." if c.se != c.se else fmt(c.se, "%7.4f")
        out.append(f"{abbrev(it.var, 12):>12} | {fmt_g(t, 9):>10}{c.c:>8}{c.n:>8}  {fmt(c.p, '%6.4f'):>6}"
                   f" {se:>7}  {fmt_g(c.lo, 9):>9}  {fmt_g(c.hi, 9):>9}".rstrip())
    out.append(ct.rule())
    rule = {"two": "c = #{|T| >= |T(obs)|}", "upper": "c = #{T >= T(obs)}", "lower": "c = #{T <= T(obs)}"}
    out += ["Note: Confidence interval is with respect to p=c/n.", f"Note: {rule[kind]}"]
    return out
