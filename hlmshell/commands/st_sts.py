"""sts: Kaplan-Meier survivor functions of stset data ([ST] sts).

    sts list  [if] [in] [, by(varlist) failure at(numlist) level(#) noshow]
    sts test  varlist [if] [in] [, logrank|wilcoxon strata(varlist) noshow]
    sts graph [if] [in] [, by(varlist) failure ci level(#) twoway options]

The estimates are engine.survival's: product limit over (_t0, _t], Greenwood standard errors
and log-log intervals; the tests are the k-sample logrank and Wilcoxon (Breslow-Gehan) tests.
sts graph draws step functions through hlmshell's graphics layer, one line per by() group."""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import graph_common as gc
from hlmshell.commands import st_common as sc
from hlmshell.commands._toolkit import touse, typed_args, value_text, varlist
from hlmshell.engine.survival import kaplan_meier, rank_test
from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.registry import Opt, Sub, command
from hlmshell.results import RResults

_LIST_OPTS = (Opt("by", "by", "string", None, "separate estimates for each group"),
              Opt("failure", "f", desc="report the failure function 1 - S(t)"),
              Opt("at", "at", "string", None, "report estimates at the specified times (numlist)"),
              Opt("compare", "c", desc="with by() and at(): the groups' estimates side by side"),
              Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
              Opt("noshow", "nosh", desc="do not show st setting information"))
_TEST_OPTS = (Opt("logrank", "l", desc="log-rank test; the default"),
              Opt("wilcoxon", "w", desc="Wilcoxon-Breslow-Gehan test"),
              Opt("strata", "str", "string", None, "stratified test"),
              Opt("detail", "d", desc="accepted for compatibility"),
              Opt("noshow", "nosh", desc="do not show st setting information"))


def _groups(session, byvars, mask):
    """[(label, mask over the records)] of by(), or one group."""
    if not byvars:
        return [("", np.ones(int(mask.sum()), bool))]
    cols = [np.asarray(session.data.values(v))[mask] for v in byvars]
    keys = sorted(set(zip(*cols)), key=lambda k: tuple(str(x) if isinstance(x, str) else float(x) for x in k))
    out = []
    for key in keys:
        m = np.ones(int(mask.sum()), bool)
        for c, v in zip(cols, key):
            m &= c == v
        lab = " ".join(f"{nm} = {_vtext(session, nm, v)}" for nm, v in zip(byvars, key))
        out.append((lab, m))
    return out


def _vtext(session, name, v) -> str:
    var = session.data.var(name)
    return str(v) if var.is_string else value_text(session.data, var, float(v))


def _byvars(session, text):
    if not text:
        return []
    names = varlist(session, text, all_if_empty=False)
    return names


@command("sts", family="Survival", body="anything", qualifiers="if in", byable=False, exp=False,
         desc="Kaplan-Meier survivor function: list, graph, test",
         example="sts test drug, logrank",
         subcommands=(Sub("list", "l", "list the survivor function", _LIST_OPTS),
                      Sub("test", "t", "test equality of survivor functions", _TEST_OPTS, "varlist"),
                      Sub("graph", "g", "graph the survivor function"),
                      Sub("generate", "gen", "create variables of the survivor function",
                          (Opt("by", "by", "string", None, "separate estimates for each group"),
                           Opt("level", "l", "real", 95, "confidence level of lb(s), ub(s)")),
                          "newvar = s|se(s)|lb(s)|ub(s)|n|d|h|na [newvar = ...]")))
def sts_cmd(session, cmd) -> None:
    words = (cmd.body or "").split(None, 1)
    head = words[0] if words else "graph"
    rest = words[1] if len(words) > 1 else ""
    for name, mn in (("list", "l"), ("test", "t"), ("graph", "g"), ("generate", "gen")):
        if len(head) >= len(mn) and name.startswith(head):
            break
    else:
        raise StataError(f"unknown subcommand {head}", 198)
    st = sc.settings(session)
    if name == "generate":
        _generate(session, cmd, rest, typed_args(cmd, sub="generate"))
        return
    if name == "list":
        if rest.strip():
            raise StataError("varlist not allowed", 101)
        _list(session, cmd, st, typed_args(cmd, sub="list"))
    elif name == "test":
        _test(session, cmd, st, rest, typed_args(cmd, sub="test"))
    else:
        if rest.strip():
            raise StataError("varlist not allowed", 101)
        _graph(session, cmd, st)


_GEN_STATS = {"s": "S(t)", "se(s)": "S.E. of S(t)", "lb(s)": "lower bound of S(t)",
              "ub(s)": "upper bound of S(t)", "n": "number at risk", "d": "number of failures",
              "h": "hazard contribution d/n", "na": "Nelson-Aalen cumulative hazard"}


def _gen_pairs(session, text):
    """[(newvar, statistic)] of `newvar = stat [newvar = stat ...]`."""
    import re

    from hlmshell.commands._toolkit import check_name
    item = r"([^\s=]+)\s*=\s*([A-Za-z]+(?:\([sS]\))?)"
    if not re.fullmatch(rf"\s*(?:{item}\s*)+", text or ""):
        raise StataError("invalid syntax", 198)
    pairs = [(nm, stat.lower()) for nm, stat in re.findall(item, text)]
    for nm, stat in pairs:
        check_name(nm)
        if nm in session.data:
            raise StataError(f"variable {nm} already defined", 110)
        if stat not in _GEN_STATS:
            raise StataError(f"{stat} invalid", 198)
    if len({nm for nm, _s in pairs}) != len(pairs):
        raise StataError(f"variable {pairs[0][0]} already defined", 110)
    return pairs


def _generate(session, cmd, text, opts) -> None:
    """sts generate: each record's value at its own _t, by() group by group."""
    from hlmshell.data.dataset import Variable
    pairs = _gen_pairs(session, text)
    byvars = _byvars(session, opts.raw("by"))
    z = _z(float(opts.level))
    mask = touse(session, cmd, byvars)
    rec = sc.records(session, mask)
    n = session.data.n
    cols = {stat: np.full(n, np.nan) for _nm, stat in pairs}
    where = np.flatnonzero(rec.mask)
    for _lab, m in _groups(session, byvars, rec.mask):
        km = kaplan_meier(rec.t0[m], rec.t[m], rec.d[m], z)
        j = np.searchsorted(km.time, rec.t[m], side="right") - 1
        with np.errstate(all="ignore"):
            table = {"s": km.surv, "se(s)": km.se, "lb(s)": km.lower, "ub(s)": km.upper,
                     "n": km.at_risk, "d": km.fail, "h": km.fail / km.at_risk,
                     "na": np.cumsum(km.fail / km.at_risk)}
        for _nm, stat in pairs:
            cols[stat][where[m]] = table[stat][j]
    for nm, stat in pairs:
        session.data.add(Variable(nm, cols[stat], "float", label=_GEN_STATS[stat]))


def _z(level: float) -> float:
    if not 10 <= level <= 99.99:
        raise StataError("level() must be between 10 and 99.99 inclusive", 198)
    return float(dist.norm_ppf(1 - (100 - level) / 200))


def _list(session, cmd, st, opts) -> None:
    byvars = _byvars(session, opts.raw("by"))
    mask = touse(session, cmd, byvars)
    rec = sc.records(session, mask)
    level = float(opts.level)
    z = _z(level)
    at = _at_numlist(opts.raw("at"))
    if not opts.noshow:
        sc.header(session, st)
    if rec.t.size == 0:
        raise StataError("no observations", 2000)
    if opts.compare and (at is None or not byvars):
        raise StataError("compare requires by() and, in hlmshell, at(numlist)", 198)
    out = session.out
    fail = bool(opts.failure)
    out.line("Kaplan–Meier " + ("failure" if fail else "survivor") + " function")
    if byvars:
        out.line("By variable: " + " ".join(byvars))
    out.line("")
    if opts.compare:
        _compare(session, out, byvars, rec, at, z, fail)
        return
    fn = "Failure" if fail else "Survivor"
    out.line(f"{'Beg.':>17}{'Net':>14}{fn:>12}{'Std.':>10}")
    out.line(f"{'Time':>8}{'total':>9}{'Fail':>7}{'lost':>7}{'function':>11}{'error':>10}"
             f"     [{level:g}% conf. int.]")
    out.line("-" * 79)
    for lab, m in _groups(session, byvars, rec.mask):
        km = kaplan_meier(rec.t0[m], rec.t[m], rec.d[m], z)
        if lab:
            out.line(lab)
        if at is None:
            for j in range(len(km.time)):
                out.line(_row(km.time[j], km.at_risk[j], km.fail[j], km.lost[j], km.surv[j],
                              km.se[j], km.lower[j], km.upper[j], fail))
        else:
            _at_rows(out, km, at, rec.t0[m], rec.t[m], fail)
    out.line("-" * 79)
    if at is not None:
        out.line("Note: Survivor function is calculated over full data and evaluated at indicated")
        out.line("      times; it is not calculated from aggregates shown at left.")


def _compare(session, out, byvars, rec, at, z, fail) -> None:
    """sts list, by() compare at(): one column per group, the estimate at each time."""
    groups = _groups(session, byvars, rec.mask)
    labels = [lab.split(" = ", 1)[1] if len(byvars) == 1 else lab for lab, _m in groups]
    name = " ".join(byvars)[:12]
    out.line(f"{name:>12} " + "".join(f"{lab[:9]:>10}" for lab in labels))
    out.line("-" * (13 + 10 * len(labels)))
    cols = []
    for _lab, m in groups:
        km = kaplan_meier(rec.t0[m], rec.t[m], rec.d[m], z)
        j = np.searchsorted(km.time, at, side="right") - 1
        v = np.where(j >= 0, km.surv[np.maximum(j, 0)], 1.0)
        beyond = at > rec.t[m].max()
        v = np.where(beyond, np.nan, 1 - v if fail else v)
        cols.append(v)
    for i, a in enumerate(at):
        out.line(f"{'Time' if i == 0 else '':<4}{fmt_g(float(a), 8):>8} "
                 + "".join(f"{_num(c[i])}" for c in cols))
    out.line("-" * (13 + 10 * len(labels)))


def _at_numlist(text):
    from hlmshell.syntax.numlist import numlist
    if text is None:
        return None
    vals = np.sort(np.asarray(numlist(text), float))
    if not vals.size:
        raise StataError("at(): numlist required", 198)
    return vals


def _at_rows(out, km, at, t0, t, fail) -> None:
    """sts list, at(): at risk at each time, failures and net lost since the previous one,
    the estimate of the last step at or before it."""
    from hlmshell.engine.survival import at_risk
    prev = -np.inf
    for a in at:
        inside = (km.time > prev) & (km.time <= a)
        n = float(at_risk(t0, t, np.array([a]))[0])
        j = int(np.searchsorted(km.time, a, side="right")) - 1
        s, se, lo, hi = (1.0, np.nan, np.nan, np.nan) if j < 0 else \
            (km.surv[j], km.se[j], km.lower[j], km.upper[j])
        out.line(_row(a, n, km.fail[inside].sum(), km.lost[inside].sum(), s, se, lo, hi, fail))
        prev = a


def _num(v, spec="%10.4f") -> str:
    return fmt(float(v), spec) if np.isfinite(v) else f"{'.':>{int(spec[1:spec.index('.')])}}"


def _row(t, n, f, lost, s, se, lo, hi, fail) -> str:
    if fail:
        s, lo, hi = 1 - s, 1 - hi, 1 - lo
    return (f"{fmt_g(float(t), 8):>8}{int(n):>9,}{int(f):>7}{int(lost):>7}{_num(s, '%11.4f')}"
            f"{_num(se)}{_num(lo, '%11.4f')}{_num(hi)}")


def _test(session, cmd, st, text, opts) -> None:
    names = varlist(session, text, all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    strata = _byvars(session, opts.raw("strata"))
    if opts.logrank and opts.wilcoxon:
        raise StataError("options logrank and wilcoxon may not be combined", 198)
    kind = "wilcoxon" if opts.wilcoxon else "logrank"
    mask = touse(session, cmd, names + strata)
    rec = sc.records(session, mask)
    if not opts.noshow:
        sc.header(session, st)
    if rec.t.size == 0:
        raise StataError("no observations", 2000)
    groups = _groups(session, names, rec.mask)
    g = np.zeros(len(rec.t))
    for k, (_lab, m) in enumerate(groups):
        g[m] = k
    sid = None
    if strata:
        sg = _groups(session, strata, rec.mask)
        sid = np.zeros(len(rec.t))
        for k, (_lab, m) in enumerate(sg):
            sid[m] = k
    res = rank_test(rec.t0, rec.t, rec.d, g, kind, sid)
    out = session.out
    out.line("Equality of survivor functions")
    out.line(("Log-rank test" if kind == "logrank" else "Wilcoxon (Breslow) test")
             + (", stratified" if strata else ""))
    out.line("")
    name = " ".join(names)[:12]
    w = max(len(name), 5) + 1
    labels = [lab.split(" = ", 1)[1] if len(names) == 1 else lab for lab, _m in groups]
    w = max([w] + [len(lab) + 1 for lab in labels])
    wil = kind == "wilcoxon"
    extra = "        Sum of" if wil else ""
    out.line(f"{'':{w}}|  Observed       Expected{extra}")
    out.line(f"{name:<{w}}|    events         events{'         ranks' if wil else ''}")
    rule = "-" * w + "+" + "-" * (25 + (14 if wil else 0))
    out.line(rule)
    for k, lab in enumerate(labels):
        out.line(f"{lab:>{w - 1}} | {res.observed[k]:>9g} {fmt(res.expected[k], '%14.2f')}"
                 + (f" {fmt(res.sum_ranks[k], '%13.0f')}" if wil else ""))
    out.line(rule)
    out.line(f"{'Total':>{w - 1}} | {res.observed.sum():>9g} {fmt(res.expected.sum(), '%14.2f')}"
             + (f" {fmt(0.0, '%13.0f')}" if wil else ""))
    p = float(dist.chi2_sf(res.chi2, res.df)) if res.df > 0 else math.nan
    out.line("")
    out.line(f"{'':18}chi2({res.df}) = {fmt(res.chi2, '%6.2f')}")
    out.line(f"{'':18}Pr>chi2 = {fmt(p, '%6.4f')}")
    session.r = RResults(scalars={"chi2": res.chi2, "df": float(res.df), "p": p})


_GRAPH_OWN = {"by": ("by", True), "failure": ("f", False), "ci": ("ci", False),
              "level": ("l", True), "noshow": ("nosh", False), "atrisk": ("atrisk", False),
              "censored": ("cens", True), "survival": ("surv", False)}


def _graph(session, cmd, st) -> None:
    own, gopts = gc.split_options(cmd.options, _GRAPH_OWN)
    byv = own.get("by")
    byvars = _byvars(session, byv)
    gopts.pop("by", None)
    level = gc.number(own["level"], "level") if own.get("level") else 95.0
    z = _z(level)
    mask = touse(session, cmd, byvars)
    rec = sc.records(session, mask)
    if "noshow" not in own:
        sc.header(session, st)
    if rec.t.size == 0:
        raise StataError("no observations", 2000)
    gc.check_finish(session, gopts)
    fail = "failure" in own
    series = []
    for k, (lab, m) in enumerate(_groups(session, byvars, rec.mask)):
        km = kaplan_meier(rec.t0[m], rec.t[m], rec.d[m], z)
        x, y = step_xy(km.time, km.surv)
        if "ci" in own:
            _xl, lo = step_xy(km.time, np.where(np.isnan(km.lower), km.surv, km.lower))
            _xu, hi = step_xy(km.time, np.where(np.isnan(km.upper), km.surv, km.upper))
            if fail:
                lo, hi = 1 - hi, 1 - lo
            series.append(Series("rarea", x, lo, y2=hi, label=f"{level:g}% CI", legend=False,
                                 style={"pstyle": k, "alpha": 0.3}))
        series.append(Series("line", x, 1 - y if fail else y, label=lab or None,
                             style={"pstyle": k}))
    graph = Graph(kind="twoway", panels=[Panel(series=series)])
    graph.title = "Kaplan–Meier " + ("failure" if fail else "survival") + " estimate" + (
        "s" if byvars else "")
    graph.legend.show = bool(byvars)
    gc.apply_text(graph, gopts)
    gc.apply_axes(graph, gopts, ("analysis time", None), ("", None), None, None, session.data)
    gc.finish(session, graph, gopts, cmd.text)


def step_xy(times, surv):
    """The step function from (0, 1) through each time: x doubled at the jumps."""
    x = np.repeat(np.r_[0.0, times], 2)[1:]
    y = np.repeat(np.r_[1.0, surv], 2)[:-1]
    return x, y
