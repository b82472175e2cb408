"""graph bar / graph hbar: a statistic of each yvar per over() category -- `graph bar
(mean) y, over(g)` -- or, with no yvars, the percent (or `(count)`) of observations in
each category, Stata's `graph bar, over(g)`. blabel(bar|total|name|group[, format()
position()]) writes a label on each bar. Called by `graph` (graph_cmd.py)."""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands._toolkit import percentile
from hlmshell.commands.graph_over import Over, over_groups
from hlmshell.commands.graph_stat import OVER_OPTS, make_graph
from hlmshell.errors import StataError
from hlmshell.graphics.model import Panel, Series
from hlmshell.output.numfmt import fmt
from hlmshell.registry import abbrev_match
from hlmshell.syntax.ast import Command
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.parser import fill_qualifiers
from hlmshell.syntax.varlist import expand_varlist

BAR_STATS = ("mean", "median", "sum", "count", "min", "max", "sd", "first", "last", "p1",
             "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "percent", "iqr")
BLABEL_WHAT = ("none", "bar", "total", "name", "group")
BLABEL_WHERE = ("outside", "inside", "base", "center")


def bar_stat(stat: str, x: np.ndarray, total: int = 0) -> float:
    """The statistic of one bar; `percent` is the bar's share of the `total` observations."""
    if stat == "percent":
        return 100.0 * len(x) / total if total else float("nan")
    if stat == "count":
        return float(len(x))
    if len(x) == 0:
        return float("nan")
    x = np.sort(x)
    simple = {"mean": np.mean, "sum": np.sum, "min": np.min, "max": np.max}
    if stat in simple:
        return float(simple[stat](x))
    if stat == "sd":
        return float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")
    if stat in ("first", "last"):
        return float(x[0] if stat == "first" else x[-1])
    if stat == "iqr":
        return percentile(x, 75) - percentile(x, 25)
    p = 50 if stat == "median" else int(stat[1:])
    return percentile(x, p)


def _stat_word(word: str) -> str:
    stat = {"med": "median", "n": "count", "p": "p50"}.get(word, word)
    if stat not in BAR_STATS:
        raise StataError(f"{word} is not a valid statistic", 198)
    return stat


def bar_spec(text: str) -> tuple[str | None, str]:
    """`(median) y x, opts` -> ('median', 'y x, opts'); no (stat): (None, text)."""
    m = re.match(r"\s*\(\s*(\w+)\s*\)\s*", text)
    if not m:
        return None, text
    return _stat_word(m.group(1)), text[m.end():]


def _read(session, text: str, stat: str | None):
    """(yvars, sample, own options, graph options); no yvars is allowed with (percent),
    (count) or no statistic."""
    cmd = Command(name="graph bar")
    fill_qualifiers(cmd, text, allow_exp=False)
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    own, gopts = gc.split_options(cmd.options, OVER_OPTS)
    names: list[str] = []
    if cmd.body.strip():
        names = list(expand_varlist(session.data, cmd.body))
        for nm in names:
            if session.data.var(nm).is_string:
                raise StataError("type mismatch", 109)
    elif stat not in (None, "percent", "count"):
        raise StataError("varlist required", 100)
    elif own.get("over") is None:
        raise StataError("varlist required", 100)
    mask = np.asarray(marksample(session, cmd, names), dtype=bool)
    return names, mask, own, gopts


def _blabel(arg: str | None) -> tuple[str, str | None, str]:
    """blabel(what[, format(%fmt) position(where) ...]) -> (what, format, where)."""
    if arg is None:
        return "none", None, "outside"
    head, opts = gc.head_and_options(arg)
    what = next((w for w in BLABEL_WHAT if head.strip() and abbrev_match(head.strip(), w,
                                                                         w[:3])), None)
    if what is None:
        raise StataError("option blabel() incorrectly specified", 198)
    form, where = None, "outside"
    for o in opts:
        if abbrev_match(o.name, "format", "form"):
            form = gc.display_format(o.arg)
        elif abbrev_match(o.name, "position", "pos"):
            where = next((w for w in BLABEL_WHERE if abbrev_match((o.arg or "").strip(), w,
                                                                  w[:2])), None)
            if where is None:
                raise StataError("option position() incorrectly specified", 198)
    return what, form, where


def _bar_texts(what: str, form: str | None, heights, label: str, over: Over) -> list[str]:
    if what in ("bar", "total"):
        return ["" if np.isnan(h) else fmt(float(h), form or "%9.0g").strip() for h in heights]
    if what == "name":
        return [label] * len(heights)
    return [lab.split("\n")[0] for lab in over.labels]


def graph_bar(session, text: str, horizontal: bool = False) -> None:
    stat, rest = bar_spec(text)
    names, mask, own, gopts = _read(session, rest, stat)
    stat = stat or ("mean" if names else "percent")
    if not mask.any():
        raise StataError("no observations", 2000)
    over = over_groups(session, own, mask)
    blabel = _blabel(own.get("blabel"))
    ys = [np.asarray(session.data.var(n).values, dtype=float) for n in names] or [None]

    def build(m, title):
        sel = mask if m is None else mask & m
        if over.codes is not None:
            sel = sel & (over.codes >= 0)
        total = int(sel.sum())
        cells = [sel if u is None else sel & (over.codes == u) for u in over.cats]
        heights = [[bar_stat(stat, np.zeros(int(c.sum())) if y is None else y[c], total)
                    for c in cells] for y in ys]
        if over.sort is not None or over.descending:
            before = list(over.cats)
            over.sort_by(session, sel, heights, lambda how, x: bar_stat(_stat_word(how), x))
            heights = [[h[before.index(u)] for u in over.cats] for h in heights]
        return _panel(title, heights, names, stat, over, blabel, horizontal)

    ytitle = _ytitle(stat, names)
    make_graph(session, "hbar" if horizontal else "bar", gopts, build, ("", None),
               (ytitle, None), "graph bar" + text)


def _ytitle(stat: str, names: list[str]) -> str:
    if not names:
        return "frequency" if stat == "count" else "percent"
    return f"{stat} of {names[0]}" if len(names) == 1 else ""


def _panel(title, heights, names, stat, over: Over, blabel, horizontal) -> Panel:
    nv = max(len(names), 1)
    series = []
    for j, hs in enumerate(heights):
        pos = np.arange(1, len(over.cats) + 1) + (j - (nv - 1) / 2) * 0.8 / nv
        label = f"{stat} of {names[j]}" if names else stat
        style = {"pstyle": j, "barwidth": 0.8 / nv, "horizontal": horizontal}
        what, form, where = blabel
        if what != "none":
            style["blabels"] = _bar_texts(what, form, hs, names[j] if names else label, over)
            style["blabel_pos"] = where
        series.append(Series("bar", pos, hs, label=label, style=style))
    panel = Panel(title=title, series=series, horizontal=horizontal,
                  xcategories=over.labels if over.name is not None else [""])
    panel.xaxis.angle = over.angle
    return panel
