"""What every graph command shares: the session's graph store, Stata's graph options
(titles, axes, legend, by(), scheme, name(), saving(), nodraw), option-name resolution and
the last step (store, save, show). No command is registered here."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands._toolkit import value_text
from hlmshell.errors import StataError
from hlmshell.graphics import schemes
from hlmshell.graphics.model import Axis, Graph, Legend
from hlmshell.graphics.store import GraphStore, check_new_file, save
from hlmshell.registry import abbrev_match
from hlmshell.syntax.ast import Option
from hlmshell.syntax.lexer import find_top, strip_quotes, top_words
from hlmshell.syntax.numlist import numlist
from hlmshell.syntax.parser import parse_options


def store(session) -> GraphStore:
    """The session's graphs (created on first use; the REPL installs one with a show hook)."""
    if session.graphs is None:
        session.graphs = GraphStore()
    return session.graphs


# ---- option names -------------------------------------------------------------------------
# canonical name -> (minimum abbreviation, takes an argument)
GRAPH_OPTIONS = {
    "title": ("ti", True), "subtitle": ("subti", True), "note": ("note", True),
    "caption": ("cap", True), "xtitle": ("xti", True), "ytitle": ("yti", True),
    "xlabel": ("xla", True), "ylabel": ("yla", True), "xscale": ("xsc", True),
    "yscale": ("ysc", True), "legend": ("leg", True), "by": ("by", True),
    "aspectratio": ("aspect", True), "scheme": ("sch", True), "name": ("name", True),
    "saving": ("saving", True), "nodraw": ("nodraw", False), "xsize": ("xsiz", True),
    "ysize": ("ysiz", True), "xline": ("xli", True), "yline": ("yli", True),
    "text": ("text", True),
}
# accepted and ignored (look only: regions, minor ticks, text boxes)
IGNORED_OPTIONS = {
    "graphregion": ("graphr", True), "plotregion": ("plotr", True), "xtick": ("xtick", True),
    "ytick": ("ytick", True), "xmtick": ("xmtick", True), "ymtick": ("ymtick", True),
    "xmlabel": ("xmlab", True), "ymlabel": ("ymlab", True), "ttext": ("ttext", True), "l1title": ("l1title", True), "l2title": ("l2title", True),
    "b1title": ("b1title", True), "b2title": ("b2title", True), "r1title": ("r1title", True),
    "t1title": ("t1title", True), "t2title": ("t2title", True), "iscale": ("iscale", True),
    "xcommon": ("xcommon", False), "ycommon": ("ycommon", False), "play": ("play", True),
    "yalternate": ("yalt", False), "xalternate": ("xalt", False), "nolabel": ("nolabel", False),
    "graphregion_": ("graphregion_", True),
    "fxsize": ("fxsize", True), "fysize": ("fysize", True),   # a graph's share in graph combine
    "bgcolor": ("bgcolor", True),       # undocumented: the background colour (graphregion's look)
}


def resolve(name: str, *tables: dict) -> tuple[str, dict] | None:
    """(canonical name, its table) for a typed option name, or None."""
    for table in tables:
        if name in table:
            return name, table
    for table in tables:
        for full, (mn, _arg) in table.items():
            if abbrev_match(name, full, mn):
                return full, table
    return None


def not_allowed(name: str) -> StataError:
    return StataError(f"option {name} not allowed", 198)


def check_arg(opt: Option, full: str, takes: bool) -> None:
    if takes and opt.arg is None:
        raise StataError(f"option {full}() incorrectly specified", 198)
    if takes is False and opt.arg not in (None, ""):
        raise not_allowed(opt.name)


OVER_SEP = "\x00"          # joins repeated over() options (graph bar/box nest them)


def split_options(options: list[Option], *tables: dict) -> tuple[dict, dict]:
    """Typed options -> ({plot-level canonical: arg}, {graph-level canonical: arg}); the
    first table in `tables` holds the command's own options; GRAPH_OPTIONS go to the second
    dict; IGNORED_OPTIONS are dropped; anything else is r(198)."""
    own: dict = {}
    graph: dict = {}
    for o in options:
        found = resolve(o.name, *tables, GRAPH_OPTIONS, IGNORED_OPTIONS)
        if found is None:
            raise not_allowed(o.name)
        full, table = found
        check_arg(o, full, table[full][1])
        if table is IGNORED_OPTIONS:
            continue
        target = graph if table is GRAPH_OPTIONS else own
        if full in ("xline", "yline") and full in target:
            target[full] = target[full] + " " + (o.arg or "")
        elif full == "text" and full in target:           # text() repeats: every one drawn
            target[full] = target[full] + OVER_SEP + (o.arg or "")
        elif full == "legend" and full in target:
            target[full] = target[full] + " " + (o.arg or "")
        elif full == "over" and full in target:          # graph bar/box: over() over() nest
            target[full] = target[full] + OVER_SEP + (o.arg or "")
        else:
            target[full] = o.arg
    return own, graph


# ---- pieces of option arguments ----------------------------------------------------------------
def head_and_options(arg: str) -> tuple[str, list[Option]]:
    """`stuff, suboptions` -> ('stuff', [Option...])."""
    arg = arg or ""
    comma = find_top(arg, ",")
    if comma < 0:
        return arg.strip(), []
    return arg[:comma].strip(), parse_options(arg[comma + 1:])


def text_arg(arg: str) -> str:
    """A title's text: `"line 1" "line 2", size(small)` -> 'line 1\\nline 2'."""
    head, _ = head_and_options(arg)
    words = [head[s:e] for s, e in top_words(head)]
    if words and all(w.startswith('"') or w.startswith('`"') for w in words):
        return "\n".join(strip_quotes(w) for w in words)
    return strip_quotes(head)


def number(text: str, what: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise StataError(f"option {what}() incorrectly specified", 198) from None
    if v != v or abs(v) == float("inf"):
        raise StataError(f"option {what}() incorrectly specified", 198)
    return v


def integer(text: str, what: str, lo: int = 0) -> int:
    v = number(text, what)
    if v != int(v) or v < lo:
        raise StataError(f"option {what}() incorrectly specified", 198)
    return int(v)


def sub(opts: list[Option], full: str, mn: str):
    """The last suboption matching `full` (min abbreviation `mn`): its argument ('' for a
    flag), or None."""
    found = None
    for o in opts:
        if abbrev_match(o.name, full, mn):
            found = "" if o.arg is None else o.arg
    return found


# ---- axes ---------------------------------------------------------------------------------------
def label_rule(arg: str, axis: Axis, values=None, var=None, ds=None) -> None:
    """xlabel()/ylabel(): `0(5)20`, `#5`, `none`, `minmax`, `1 "low" 2 "high"`, then
    `, angle(#) nogrid grid format(%fmt) valuelabel`."""
    head, opts = head_and_options(arg)
    words = [head[s:e] for s, e in top_words(head)]
    if words == ["none"]:
        axis.ticks, axis.ticklabels = [], None
    elif words == ["minmax"] and values is not None and len(values):
        axis.ticks = [float(np.nanmin(values)), float(np.nanmax(values))]
    elif words and not re.fullmatch(r"#\d+", words[0]):
        _tick_values(words, axis)
    _axis_suboptions(opts, axis, var, ds)


def _tick_values(words: list[str], axis: Axis) -> None:
    ticks: list[float] = []
    labels: list = []
    for w in words:
        if w.startswith('"') or w.startswith('`"'):
            if not ticks:
                raise StataError("invalid label specifier", 198)
            labels[-1] = strip_quotes(w)
            continue
        vals = _numlist(w)
        ticks += vals
        labels += [None] * len(vals)
    axis.ticks = ticks
    axis.ticklabels = None
    if any(lab is not None for lab in labels):
        from hlmshell.graphics.render import stata_number
        axis.ticklabels = [lab if lab is not None else stata_number(v)
                           for v, lab in zip(ticks, labels)]


def _numlist(text: str) -> list[float]:
    try:
        return [float(v) for v in numlist(text)]
    except StataError:
        raise StataError("invalid label specifier", 198) from None


def _axis_suboptions(opts: list[Option], axis: Axis, var=None, ds=None) -> None:
    for o in opts:
        n = o.name
        if abbrev_match(n, "angle", "a"):
            axis.angle = angle(o.arg)
        elif n == "nogrid":
            axis.grid = False
        elif n == "grid":
            axis.grid = True
        elif abbrev_match(n, "format", "form"):
            axis.fmt = (o.arg or "").strip()
        elif abbrev_match(n, "valuelabel", "val"):
            if var is not None and ds is not None:
                _value_label_ticks(axis, var, ds)
        elif not _look_suboption(o, axis):
            raise not_allowed(n)


# axis_label_options that only change the look: name -> minimal abbreviation
_LOOK_ARGS = {"labcolor": "labc", "labgap": "labg", "labstyle": "labst", "tlcolor": "tlc", "tlwidth": "tlw",
              "tlstyle": "tlsty", "tstyle": "tsty", "tposition": "tp", "glcolor": "glc", "glwidth": "glw",
              "glpattern": "glp", "glstyle": "glsty", "gstyle": "gsty", "tlength": "tl"}
_LOOK_FLAGS = ("gmin", "nogmin", "gmax", "nogmax", "gextend", "nogextend", "alternate", "norescale",
               "add", "custom", "ticks")


def _look_suboption(o: Option, axis: Axis) -> bool:
    """[no]labels, [no]ticks, labsize() and the look-only suboptions of [G-3]
    axis_label_options; False when `o` is none of them."""
    n = o.name.lower()
    if abbrev_match(n, "labsize", "labs") and o.arg is not None:
        axis.labsize = o.arg.strip()
    elif n in ("labels", "label", "labe") or (len(n) >= 5 and "nolabels".startswith(n)):
        if o.arg is not None:
            return False
        axis.labels = not n.startswith("no")
    elif n == "noticks" and o.arg is None:
        axis.tickmarks = False
    elif abbrev_match(n, "tlength", "tl") and o.arg is not None:
        if o.arg.strip() in ("0", "zero", "none"):
            axis.tickmarks = False
    elif any(abbrev_match(n, full, mn) for full, mn in _LOOK_ARGS.items()):
        return o.arg is not None
    else:
        return n in _LOOK_FLAGS and o.arg is None
    return True


def _value_label_ticks(axis: Axis, var, ds) -> None:
    if axis.ticks is None and var.vallab in ds.value_labels:
        axis.ticks = sorted(ds.value_labels[var.vallab])
    if axis.ticks:
        axis.ticklabels = [value_text(ds, var, v) for v in axis.ticks]


def angle(arg: str | None) -> float:
    a = (arg or "").strip().lower()
    named = {"horizontal": 0, "h": 0, "0": 0, "vertical": 90, "v": 90, "forty_five": 45,
             "45": 45, "ninety": 90, "rvertical": -90, "rhorizontal": 180}
    if a in named:
        return named[a]
    return number(a, "angle")


def scale_rule(arg: str, axis: Axis) -> None:
    """xscale()/yscale(): log, range(a b), reverse, off, noline (look only)."""
    for o in parse_options(arg or ""):
        n = o.name
        if n == "log":
            axis.log = True
        elif abbrev_match(n, "range", "r"):
            axis.range = [number(v, "range") for v in (o.arg or "").replace(",", " ").split()]
        elif abbrev_match(n, "reverse", "rev"):
            axis.reverse = True
        elif n == "off":
            axis.off = True
        elif n in ("noline", "line", "on", "titlegap", "outergap", "lstyle", "lcolor",
                   "lwidth", "fill", "noextend", "extend", "alt"):
            continue
        else:
            raise not_allowed(n)


# ---- legend ---------------------------------------------------------------------------------------
def legend_rule(arg: str, legend: Legend) -> None:
    for o in parse_options(arg or ""):
        n = o.name
        if n == "off":
            legend.show = False
        elif n == "on":
            legend.show = True
        elif abbrev_match(n, "order", "order"):
            legend.order = _order(o.arg or "")
        elif abbrev_match(n, "label", "lab"):
            num, _, text = (o.arg or "").strip().partition(" ")
            legend.labels[integer(num, "label", 1)] = text_arg(text)
        elif abbrev_match(n, "rows", "r"):
            legend.rows, legend.cols = integer(o.arg, "rows", 1), None
        elif abbrev_match(n, "cols", "c"):
            legend.cols, legend.rows = integer(o.arg, "cols", 1), None
        elif abbrev_match(n, "position", "pos"):
            legend.position = integer(o.arg, "position") % 13
        elif n == "ring":
            legend.ring = integer(o.arg, "ring")
        elif abbrev_match(n, "title", "ti"):
            legend.title = text_arg(o.arg or "")
        else:
            continue            # size(), region(), colfirst, symxsize(), ...: look only


def _order(text: str) -> list:
    out: list = []
    for s, e in top_words(text):
        w = text[s:e]
        if w.startswith('"') or w.startswith('`"'):
            if not out:
                raise StataError("option order() incorrectly specified", 198)
            last = out[-1]
            num = last[0] if isinstance(last, list) else last
            out[-1] = [num, strip_quotes(w)]
        elif w == "-":                  # a line of text without a key: - "country:"
            out.append(["-", ""])
        else:
            out.append(integer(w, "order", 1))
    return out


# ---- by(), name(), saving() ------------------------------------------------------------------------
@dataclass
class ByRule:
    varnames: list[str]
    total: bool = False
    cols: int | None = None
    rows: int | None = None
    note: str | None = None
    title: str | None = None
    legend_off: bool = False
    xrescale: bool = False
    yrescale: bool = False
    extra: dict = field(default_factory=dict)


def by_rule(arg: str, expand) -> ByRule:
    head, opts = head_and_options(arg)
    if not head:
        raise StataError("varlist required", 100)
    rule = ByRule(expand(head))
    for o in opts:
        n = o.name
        if abbrev_match(n, "total", "tot"):
            rule.total = True
        elif abbrev_match(n, "cols", "c"):
            rule.cols = integer(o.arg, "cols", 1)
        elif abbrev_match(n, "rows", "r"):
            rule.rows = integer(o.arg, "rows", 1)
        elif n == "note":
            rule.note = text_arg(o.arg or "")
        elif abbrev_match(n, "title", "ti"):
            rule.title = text_arg(o.arg or "")
        elif abbrev_match(n, "legend", "leg"):
            rule.legend_off = "off" in (o.arg or "")
        elif n in ("xrescale", "yrescale", "rescale"):
            rule.xrescale |= n != "yrescale"
            rule.yrescale |= n != "xrescale"
        elif n in ("compact", "ixaxes", "iyaxes", "ixtitle", "iytitle", "noiytick", "noixtick",
                   "imargin", "missing", "colfirst", "holes", "iscale", "subtitle", "caption",
                   "graphregion", "plotregion", "noedgelabel", "edgelabel", "style",
                   "noiylabel", "noixlabel", "ixlabel", "iylabel", "iyaxes"):
            continue
        else:
            raise not_allowed(n)
    return rule


def name_rule(arg: str) -> tuple[str, bool]:
    """name(g1[, replace]); the name may be quoted, name("g1", replace), as do-files write it."""
    head, opts = head_and_options(arg)
    head = strip_quotes(head) if head.startswith('"') else head
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", head or ""):
        raise StataError(f"{head} invalid name", 198)
    replace = False
    for o in opts:
        if o.name == "replace":
            replace = True
        else:
            raise not_allowed(o.name)
    return head, replace


def file_rule(arg: str, suffix: str) -> tuple[str, bool]:
    head, opts = head_and_options(arg)
    path = strip_quotes(head)
    if not path or len(top_words(head)) != 1:
        raise StataError("invalid file specification", 198)
    if not re.search(r"\.[A-Za-z0-9]+$", path.split("/")[-1]):
        path += suffix
    replace = False
    for o in opts:
        if o.name in ("replace", "asis"):
            replace = replace or o.name == "replace"
        else:
            raise not_allowed(o.name)
    return path, replace


# ---- applying the graph options ------------------------------------------------------------------
def apply_text(graph: Graph, gopts: dict) -> None:
    for key in ("title", "subtitle", "note", "caption"):
        if key in gopts:
            setattr(graph, key, text_arg(gopts[key]))
    if "legend" in gopts:
        legend_rule(gopts["legend"], graph.legend)
    if "scheme" in gopts:
        graph.scheme = schemes.scheme_name(text_arg(gopts["scheme"]))
    if "aspectratio" in gopts:
        head, _ = head_and_options(gopts["aspectratio"])
        v = number(head, "aspectratio")
        if v <= 0:
            raise StataError("option aspectratio() incorrectly specified", 198)
        graph.aspectratio = v
    for key in ("xsize", "ysize"):
        if key in gopts:
            v = number(gopts[key], key)
            if not 0 < v <= 100:
                raise StataError(f"{key}() out of range", 198)
            setattr(graph, key, v)


def apply_axes(graph: Graph, gopts: dict, xinfo=(None, None), yinfo=(None, None),
               xvalues=None, yvalues=None, ds=None) -> None:
    """Axis options onto every panel: titles, labels, scales, reference lines. xinfo/yinfo are
    (default title, Variable or None) of the axes."""
    for panel in graph.panels:
        for ax_name, axis, (title, var), vals in (("x", panel.xaxis, xinfo, xvalues),
                                                  ("y", panel.yaxis, yinfo, yvalues)):
            if axis.title is None:
                axis.title = title
            if f"{ax_name}title" in gopts:
                axis.title = text_arg(gopts[f"{ax_name}title"])
            if f"{ax_name}label" in gopts:
                label_rule(gopts[f"{ax_name}label"], axis, vals, var, ds)
            if f"{ax_name}scale" in gopts:
                scale_rule(gopts[f"{ax_name}scale"], axis)
        for key, target in (("xline", panel.xlines), ("yline", panel.ylines)):
            if key in gopts:
                head, _ = head_and_options(gopts[key])
                target.extend(_numlist(head))
        if "text" in gopts:
            panel.texts.extend(added_text(gopts["text"]))


# compassdirstyle: the words, their short forms and clock positions
_PLACES = {"c": "c", "center": "c", "0": "c", "n": "n", "north": "n", "12": "n", "ne": "ne",
           "neast": "ne", "1": "ne", "2": "ne", "e": "e", "east": "e", "3": "e", "se": "se",
           "seast": "se", "4": "se", "5": "se", "s": "s", "south": "s", "6": "s", "sw": "sw",
           "swest": "sw", "7": "sw", "8": "sw", "w": "w", "west": "w", "9": "w", "nw": "nw",
           "nwest": "nw", "10": "nw", "11": "nw"}
_ORIENT = {"horizontal": 0, "vertical": 90, "rhorizontal": 180, "rvertical": 270}


def added_text(arg: str) -> list[dict]:
    """text(y x "text" [y x "text" ...] [, placement() orientation() box fcolor() color()
    size() ...]) -- repeated text() options joined by OVER_SEP -- as Panel.texts entries."""
    out: list[dict] = []
    for part in arg.split(OVER_SEP):
        head, opts = head_and_options(part)
        style = _text_style(opts)
        words = [head[s:e] for s, e in top_words(head)]
        k = 0
        while k < len(words):
            if k + 2 >= len(words) or words[k].startswith('"'):     # y x "text" needed
                raise StataError("invalid text() option", 198)
            y, x = number(words[k], "text"), number(words[k + 1], "text")
            k += 2
            lines = []
            while k < len(words) and (words[k].startswith('"') or words[k].startswith('`"')):
                lines.append(strip_quotes(words[k]))
                k += 1
            if not lines:
                raise StataError("invalid text() option", 198)
            out.append({"x": x, "y": y, "text": "\n".join(lines), **style})
    return out


def _text_style(opts) -> dict:
    style: dict = {"place": "c", "angle": 0, "box": False}
    for o in opts:
        n, a = o.name, (o.arg or "").strip().lower()
        if abbrev_match(n, "placement", "place"):
            if a not in _PLACES:
                raise StataError(f"compass direction {a} invalid", 198)
            style["place"] = _PLACES[a]
        elif abbrev_match(n, "orientation", "orient"):
            word = next((w for w in _ORIENT if w.startswith(a) and a), None)
            if word is None:
                raise StataError(f"orientation {a} invalid", 198)
            style["angle"] = _ORIENT[word]
        elif n in ("box", "nobox"):
            style["box"] = n == "box"
        elif abbrev_match(n, "fcolor", "fc") or abbrev_match(n, "color", "color"):
            schemes.color(a)
            style["fcolor" if n.startswith("f") else "color"] = a
        elif abbrev_match(n, "size", "size"):
            style["size"] = a
    return style


def check_finish(session, gopts: dict) -> tuple[str, bool, tuple | None]:
    """Validate name()/saving() before anything is built: (name, replace, saving)."""
    name, replace = ("Graph", True)
    if "name" in gopts:
        name, replace = name_rule(gopts["name"])
    store(session).check_name(name, replace)
    saving = None
    if "saving" in gopts:
        saving = file_rule(gopts["saving"], ".gph")
        check_new_file(*saving)
    return name, replace, saving


def finish(session, graph: Graph, gopts: dict, command: str = "") -> None:
    """Store the graph (as name() or "Graph"), write saving(), show it unless nodraw."""
    name, _replace, saving = check_finish(session, gopts)
    graph.command = command
    note = schemes.community_note(text_arg(gopts["scheme"])) if "scheme" in gopts else None
    if note:
        session.out.line(note)
    if saving is not None:
        save(graph, saving[0])
    store(session).add(graph, name, draw="nodraw" not in gopts)
    if saving is not None:
        session.out.line(f"(file {saving[0]} saved)")


def var_title(ds, name: str) -> str:
    var = ds.var(name)
    return var.label or name


def group_label(ds, name: str, value) -> str:
    var = ds.var(name)
    if var.is_string:
        return str(value)
    return value_text(ds, var, float(value))


def split_words(text: str) -> tuple[list[str], list]:
    """`words, options` of a subcommand's text (file names may be quoted)."""
    comma = find_top(text, ",")
    head, opts = (text, "") if comma < 0 else (text[:comma], text[comma + 1:])
    words = [strip_quotes(head[s:e]) for s, e in top_words(head)]
    return words, parse_options(opts)


def display_format(arg: str | None) -> str:
    """A label's format(%fmt) suboption (blabel(), plabel()): the format, checked as Stata
    checks it (r(120) invalid format)."""
    from hlmshell.output.numfmt import FormatError, fmt
    form = (arg or "").strip()
    try:
        fmt(1.0, form)
    except (FormatError, ValueError):
        raise StataError(f"invalid format {form}", 120) from None
    return form
