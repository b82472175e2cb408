"""graph pie: slices that are the sums of several variables (`graph pie a b c`), the sums of
one variable per over() category (`graph pie y, over(g)`), or the counts of the categories
(`graph pie, over(g)`), as Stata 17 draws them: clockwise from 12 o'clock (angle0(90),
noclockwise turns the other way), one color per slice in the scheme's order, a legend naming
the slices. plabel(_all|# percent|sum|name[, format() size() color() gap()]) writes a label in
slices; pie(#, explode color()) styles one; sort / descending order the slices by size.
Called by `graph` (graph_cmd.py)."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands.graph_over import over_groups
from hlmshell.commands.graph_stat import make_graph
from hlmshell.errors import StataError
from hlmshell.graphics.model import Panel, Series
from hlmshell.output.numfmt import fmt
from hlmshell.registry import abbrev_match
from hlmshell.syntax.ast import Command
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.parser import fill_qualifiers
from hlmshell.syntax.varlist import expand_varlist

PIE_OPTS = {"over": ("over", True), "missing": ("mis", False), "allcategories": ("allc", False),
            "cw": ("cw", False), "sort": ("sort", False), "descending": ("desc", False),
            "noclockwise": ("noclock", False), "clockwise": ("clock", False),
            "angle0": ("angle0", True), "pie": ("pie", True), "plabel": ("plabel", True),
            "ptext": ("ptext", True), "intensity": ("intensity", True), "line": ("line", True),
            "addplot": ("addplot", True)}
_PLABEL_WHAT = ("sum", "percent", "name")


def _read(session, text: str):
    cmd = Command(name="graph pie")
    fill_qualifiers(cmd, text, allow_exp=False)
    if cmd.weight is not None and cmd.weight.kind not in ("fweight", "aweight", "pweight", "iweight",
                                                          "fw", "aw", "pw", "iw", "weight"):
        raise StataError("weights not allowed", 101)
    repeated: dict[str, list[str]] = {"plabel": [], "pie": []}     # options that repeat
    rest = []
    for o in cmd.options:
        key = next((k for k in repeated if abbrev_match(o.name, k, PIE_OPTS[k][0])), None)
        if key is None:
            rest.append(o)
        elif o.arg is None:
            raise StataError(f"option {o.name}() incorrectly specified", 198)
        else:
            repeated[key].append(o.arg)
    own, gopts = gc.split_options(rest, PIE_OPTS)
    own.update({k: v for k, v in repeated.items() if v})
    names = list(expand_varlist(session.data, cmd.body)) if cmd.body.strip() else []
    for nm in names:
        if session.data.var(nm).is_string:
            raise StataError("type mismatch", 109)
    if not names and own.get("over") is None:
        raise StataError("varlist required", 100)
    if len(names) > 1 and own.get("over") is not None:
        raise StataError("only one variable allowed with over()", 103)
    mask = np.asarray(marksample(session, cmd, names), dtype=bool)
    w = None
    if cmd.weight is not None:
        from hlmshell.syntax.evaluate import evaluate
        w = np.asarray(evaluate(cmd.weight.exp, session), dtype=float) * np.ones(session.data.n)
        mask &= ~np.isnan(w)
    return names, mask, w, own, gopts


def _slices(session, names, sel, w, over):
    """(values, labels) of the slices within the observations `sel`."""
    ws = np.ones(session.data.n) if w is None else w
    if over.name is None:
        vals = [float(np.nansum(np.asarray(session.data.var(n).values, dtype=float)[sel] * ws[sel]))
                for n in names]
        labels = [session.data.var(n).label or n for n in names]
        return np.array(vals), labels
    y = np.asarray(session.data.var(names[0]).values, dtype=float) if names else np.ones(session.data.n)
    vals = [float(np.nansum((y * ws)[sel & (over.codes == c)])) for c in over.cats]
    return np.array(vals), [lab.replace("\n", " ") for lab in over.labels]


def _plabels(arg_list: list[str], values, labels) -> list[str]:
    """plabel(_all|# what[, format()]) -> the text inside each slice ('' where none)."""
    out = [""] * len(values)
    total = float(np.nansum(values))
    for arg in arg_list:
        head, opts = gc.head_and_options(arg)
        words = head.split()
        if len(words) < 2:
            raise StataError("option plabel() incorrectly specified", 198)
        which, what = words[0], next((k for k in _PLABEL_WHAT if abbrev_match(words[1], k, k[:3])), None)
        if what is None:
            raise StataError("option plabel() incorrectly specified", 198)
        form = "%9.0g"
        for o in opts:
            if abbrev_match(o.name, "format", "form"):
                form = gc.display_format(o.arg)
        idx = range(len(values)) if which == "_all" else [_slice_number(which, len(values))]
        for i in idx:
            if what == "name":
                out[i] = labels[i]
            else:
                v = values[i] if what == "sum" else (100.0 * values[i] / total if total else np.nan)
                out[i] = fmt(float(v), form).strip() + ("%" if what == "percent" else "")
    return out


def _slice_number(text: str, n: int) -> int:
    if not text.isdigit() or not 1 <= int(text) <= n:
        raise StataError("option plabel() incorrectly specified", 198)
    return int(text) - 1


def _pie_styles(arg_list: list[str], n: int) -> tuple[list[float], list]:
    """pie(#, explode[(#)] color()) -> per slice: the explode distance, the color (or None)."""
    explode, colors = [0.0] * n, [None] * n
    for arg in arg_list:
        head, opts = gc.head_and_options(arg)
        k = _slice_number(head.strip(), n) if head.strip() != "_all" else None
        for o in opts:
            targets = range(n) if k is None else [k]
            for t in targets:
                if abbrev_match(o.name, "explode", "expl"):
                    explode[t] = 0.1                 # a tenth of the radius out
                elif abbrev_match(o.name, "color", "col"):
                    colors[t] = (o.arg or "").strip()
                else:
                    raise StataError(f"option {o.name} not allowed", 198)
    return explode, colors


def _all_args(own: dict, key: str) -> list[str]:
    v = own.get(key)
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def graph_pie(session, text: str) -> None:
    names, mask, w, own, gopts = _read(session, text)
    if not mask.any():
        raise StataError("no observations", 2000)
    over = over_groups(session, own, mask)
    angle = float(own.get("angle0") or 90)
    clockwise = "noclockwise" not in own

    def build(m, title):
        sel = mask if m is None else mask & m
        values, labels = _slices(session, names, sel, w, over)
        if (values < 0).any():
            raise StataError("negative values encountered", 402)
        order = list(range(len(values)))
        if "sort" in own or "descending" in own:
            order = sorted(order, key=lambda i: values[i], reverse="descending" in own)
        values, labels = values[order], [labels[i] for i in order]
        explode, colors = _pie_styles(_all_args(own, "pie"), len(values))
        style = {"slices": labels, "plabels": _plabels(_all_args(own, "plabel"), values, labels),
                 "angle0": angle, "clockwise": clockwise, "explode": explode, "colors": colors}
        return Panel(title=title, series=[Series("pie", np.arange(len(values), dtype=float), values,
                                                 label="", style=style)])

    make_graph(session, "pie", gopts, build, ("", None), ("", None), "graph pie" + text, own=own)
