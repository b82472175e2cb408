"""Reading a coefplot command line (SSC coefplot, Ben Jann) into subgraphs, plots and models.

    coefplot subgraph [|| subgraph ...] [, globalopts]
    subgraph:  plot [plot ...] [, subgraph options]
    plot:      name | _skip | (model [\\ model ...] [, plot options])
    model:     namelist [, model options]        (`.` or nothing: the active results)
               | matrix(mspec) [, model options]  (a row or column of a user matrix)

Options live at four levels -- model (what is collected: keep(), drop(), levels(), eform,
...), plot (how it is drawn: label(), msymbol(), ciopts(), ...), subgraph (bylabel()) and
global (horizontal, order(), coeflabels(), titles, ...). A lower-level option typed at a
higher level is the default for everything below it; the nearer one wins (global < p#() <
subgraph < plot < model). A higher-level option typed lower down is r(198), as coefplot
refuses it. Options after the last subgraph are global; options of an earlier subgraph
belong to it; in `(m1, o1 \\ m2, o2)` o2 applies to the whole plot, in
`(m1, o1 \\ m2, o2 \\)` to m2 alone."""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from hlmshell.commands import graph_common as gc
from hlmshell.commands import graph_twoway as gt
from hlmshell.errors import StataError
from hlmshell.registry import abbrev_match
from hlmshell.syntax.ast import Option
from hlmshell.syntax.lexer import find_top, matching_paren, split_top
from hlmshell.syntax.parser import parse_options

# canonical name -> (minimum abbreviation, takes an argument: True / False / None = optional)
MODEL_OPTS = {
    "omitted": ("omit", False), "baselevels": ("base", False), "keep": ("keep", True),
    "drop": ("drop", True), "noci": ("noci", False), "levels": ("l", True),
    "eform": ("eform", None), "rescale": ("rescale", True), "rename": ("rename", True),
    "at": ("at", None), "asequation": ("aseq", None), "swapnames": ("swap", False),
    "citype": ("citype", True), "df": ("df", True), "ci": ("ci", True), "se": ("se", True),
    "v": ("v", True),
}
_LOOK = ("msymbol", "mcolor", "msize", "mfcolor", "mlcolor", "mlwidth", "mlabposition",
         "mlabsize", "mlabcolor", "mlabangle", "mlabgap", "lcolor", "lwidth", "lpattern",
         "color", "fcolor", "barwidth", "fintensity", "lstyle")
PLOT_OPTS = {
    "mlabel": ("ml", None), "label": ("lab", True), "nokey": ("nokey", False),
    "key": ("key", None), "pstyle": ("psty", True), "offset": ("offset", True),
    "recast": ("recast", True), "cionly": ("cionly", False), "citop": ("citop", False),
    "cirecast": ("cire", True), "ciopts": ("ciop", True), "axis": ("ax", True),
    **{k: gt.PLOT_OPTIONS[k] for k in _LOOK},
}
SUBGRAPH_OPTS = {"bylabel": ("bylab", True)}
GLOBAL_OPTS = {
    "horizontal": ("hor", False), "vertical": ("vert", False), "order": ("order", True),
    "sort": ("sort", None), "nolabels": ("nolab", False), "coeflabels": ("coefl", True),
    "noeqlabels": ("noeql", False), "eqlabels": ("eql", True), "plotlabels": ("plotl", True),
    "bylabels": ("bylabels", True), "grid": ("grid", True), "nooffsets": ("nooff", False),
    "format": ("format", True), "byopts": ("byop", True), "eqstrict": ("eqstrict", False),
    "norecycle": ("norec", False), "addplot": ("addplot", True),
    "headings": ("head", True),
}
_LEVELS = ((MODEL_OPTS, "model"), (PLOT_OPTS, "plot"), (SUBGRAPH_OPTS, "subgraph"),
           (GLOBAL_OPTS, "global"))
_RANK = {"model": 0, "plot": 1, "subgraph": 2, "global": 3, "graph": 3}


@dataclass
class Model:
    name: str                          # a stored name, or "." for the active results
    opts: dict = field(default_factory=dict)


@dataclass
class Plot:
    models: list = field(default_factory=list)
    opts: dict = field(default_factory=dict)
    skip: bool = False


@dataclass
class Subgraph:
    plots: list = field(default_factory=list)
    opts: dict = field(default_factory=dict)


@dataclass
class Spec:
    subgraphs: list
    opts: dict                         # global, subgraph, plot and model options typed globally
    gopts: dict                        # the graph options (titles, axes, legend, name(), ...)
    pnum: dict                         # p#(plot options): plot number -> options


def _resolve(name: str):
    """(canonical, level, takes) of an option name; coefplot's own tables first, then the
    graph options."""
    for exact in (True, False):
        for table, level in _LEVELS:
            for full, (mn, takes) in table.items():
                if (name == full) if exact else abbrev_match(name, full, mn):
                    return full, level, takes
    found = gc.resolve(name, gc.GRAPH_OPTIONS, gc.IGNORED_OPTIONS)
    if found is None or found[0] == "by":
        raise gc.not_allowed(name)
    full, table = found
    return full, ("graph" if table is gc.GRAPH_OPTIONS else "ignored"), table[full][1]


def read_options(text: str, highest: str) -> dict:
    """Options text -> {canonical: arg}; levels above `highest` are r(198)."""
    out: dict = {}
    for o in parse_options(text or ""):
        full, level, takes = _resolve(o.name)
        if level == "ignored":
            continue
        if _RANK[level] > _RANK[highest]:
            raise gc.not_allowed(o.name)
        gc.check_arg(Option(o.name, o.arg), full, takes)
        if full in ("xline", "yline", "legend") and full in out:
            out[full] = out[full] + " " + (o.arg or "")
        elif full == "text" and full in out:
            out[full] = out[full] + gc.OVER_SEP + (o.arg or "")
        else:
            out[full] = "" if o.arg is None else o.arg
    return out


def _head_opts(text: str) -> tuple[str, str]:
    comma = find_top(text, ",")
    return (text, "") if comma < 0 else (text[:comma], text[comma + 1:])


def parse(session, text: str) -> Spec:
    parts = split_top(text or "", "||")
    last_head, global_text = _head_opts(parts[-1])
    pnum: dict = {}
    global_text = _take_pnum(global_text, pnum)
    opts = read_options(global_text, "global")
    gopts = {k: opts.pop(k) for k in list(opts) if k in gc.GRAPH_OPTIONS}
    heads = [_head_opts(p) for p in parts[:-1]] + [(last_head, "")]
    subgraphs = []
    for k, (head, sub_text) in enumerate(heads):
        if not head.strip() and k == len(heads) - 1 and len(heads) > 1:
            continue                   # `... ||, global options`
        sg = Subgraph(opts=read_options(sub_text, "subgraph"))
        sg.plots = _plots(session, head)
        subgraphs.append(sg)
    return Spec(subgraphs, opts, gopts, pnum)


_PNUM = re.compile(r"(?<![\w.])p(\d+)\(")


def _take_pnum(text: str, pnum: dict) -> str:
    """Remove p#(...) options from the global options text into pnum."""
    while True:
        m = _PNUM.search(text)
        if m is None or find_top(text, m.group(0), m.start()) != m.start():
            return text
        close = matching_paren(text, m.end() - 1)
        if close < 0:
            raise StataError("invalid syntax", 198)
        pnum[int(m.group(1))] = read_options(text[m.end():close], "plot")
        text = text[:m.start()] + text[close + 1:]


def _plots(session, head: str) -> list[Plot]:
    """The plots of one subgraph: parenthesised groups and bare names (each its own plot)."""
    plots: list[Plot] = []
    i, n = 0, len(head)
    while i < n:
        c = head[i]
        if c.isspace():
            i += 1
        elif c == "(":
            j = matching_paren(head, i)
            if j < 0:
                raise StataError("invalid syntax", 198)
            plots.append(_group(session, head[i + 1:j]))
            i = j + 1
        else:
            j = i
            while j < n and not head[j].isspace() and head[j] != "(":
                j += 1
            word = head[i:j]
            _no_qualifier(word)
            if j < n and head[j] == "(":
                close = matching_paren(head, j)
                if not abbrev_match(word, "matrix", "m") or close < 0:
                    raise StataError("invalid syntax", 198)
                plots.append(Plot(models=[Model(f"matrix({head[j + 1:close].strip()})")]))
                i = close + 1
                continue
            if word == "_skip":
                plots.append(Plot(skip=True))
            else:
                plots += [Plot(models=[Model(nm)]) for nm in model_names(session, word)]
            i = j
    if not plots:
        plots.append(Plot(models=[Model(".")]))
    return plots


def _no_qualifier(word: str) -> None:
    """coefplot takes no if, in or weights (r(101), as Stata's syntax says); a stray
    parenthesis is invalid syntax."""
    if ")" in word:
        raise StataError("invalid syntax", 198)
    if word == "if":
        raise StataError("if not allowed", 101)
    if word == "in":
        raise StataError("in range not allowed", 101)
    if word.startswith("["):
        raise StataError("weights not allowed", 101)


def _group(session, inner: str) -> Plot:
    segments = split_top(inner, "\\")
    parsed = [_head_opts(s) for s in segments]
    plot = Plot()
    if len(parsed) > 1 and not parsed[-1][0].strip():
        plot.opts = read_options(parsed[-1][1], "plot")
        parsed = parsed[:-1]
        own_last = True
    else:
        plot.opts = read_options(parsed[-1][1], "plot")
        own_last = False
    for k, (head, mtext) in enumerate(parsed):
        last = k == len(parsed) - 1
        mopts = read_options(mtext, "model") if (own_last or not last) else {}
        for w in _matrix_words(head):
            if w.startswith("matrix("):
                plot.models.append(Model(w, dict(mopts)))
                continue
            plot.models += [Model(nm, dict(mopts)) for nm in model_names(session, w)]
    if not plot.models:
        plot.models.append(Model("."))
    return plot


def _matrix_words(head: str) -> list[str]:
    """The names of a plot's model: stored names, `.`, and matrix(mspec) (any abbreviation
    of matrix down to m), kept whole; nothing is the active results."""
    out: list[str] = []
    i, n = 0, len(head)
    while i < n:
        if head[i].isspace():
            i += 1
            continue
        j = i
        while j < n and not head[j].isspace() and head[j] != "(":
            j += 1
        word = head[i:j]
        if j < n and head[j] == "(":
            close = matching_paren(head, j)
            if not abbrev_match(word, "matrix", "m") or close < 0:
                raise StataError("invalid syntax", 198)
            out.append(f"matrix({head[j + 1:close].strip()})")
            i = close + 1
            continue
        out.append(word)
        i = j
    return out or ["."]


def model_names(session, word: str) -> list[str]:
    """A model name: `.` (active results, r(301) without), a stored name, or a pattern."""
    if word == ".":
        if session.e is None:
            raise StataError("last estimates not found", 301)
        return ["."]
    if any(ch in word for ch in "*?"):
        hits = [n for n in session.estimates if fnmatch.fnmatchcase(n, word)]
        if not hits:
            raise StataError(f"estimation result {word} not found", 111)
        return hits
    if word not in session.estimates:
        if session.e is not None and session.e.name == word:
            return ["."]
        raise StataError(f"estimation result {word} not found", 111)
    return [word]


def merged(spec: Spec, sg: Subgraph, plot: Plot, number: int, model: Model | None) -> dict:
    """The options in force for one model of one plot (nearer levels win)."""
    out = dict(spec.opts)
    out.update(spec.pnum.get(number, {}))
    out.update(sg.opts)
    out.update(plot.opts)
    if model is not None:
        out.update(model.opts)
    return out
