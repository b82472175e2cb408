"""`graph`: the graph subcommands (twoway, export, save, use, display, dir, drop, close,
rename, copy, describe) and the other graph families (box, bar, matrix, combine: see
graph_stat.py). The text after `graph` is read here (the command is registered raw)."""
from __future__ import annotations

import copy
import fnmatch
import os

from hlmshell.commands import graph_bar, graph_stat, graph_twoway
from hlmshell.commands import graph_common as gc
from hlmshell.errors import StataError
from hlmshell.graphics import store as gstore
from hlmshell.registry import Sub, abbrev_match, command
from hlmshell.syntax.lexer import strip_quotes

SUBCOMMANDS = (("twoway", "tw"), ("export", "export"), ("save", "save"), ("use", "use"),
               ("display", "di"), ("dir", "dir"), ("drop", "drop"), ("close", "close"),
               ("rename", "rename"), ("copy", "copy"), ("describe", "d"), ("box", "box"),
               ("hbox", "hbox"), ("bar", "bar"), ("hbar", "hbar"), ("matrix", "matrix"),
               ("combine", "combine"), ("query", "query"), ("pie", "pie"))


def _only(opts, allowed: dict) -> dict:
    """Options by canonical name ({name: (min, takes_arg)}), r(198) for any other."""
    out = {}
    for o in opts:
        found = gc.resolve(o.name, allowed)
        if found is None:
            raise gc.not_allowed(o.name)
        full, _t = found
        gc.check_arg(o, full, allowed[full][1])
        out[full] = o.arg
    return out


# ---- export ---------------------------------------------------------------------------------
EXPORT_OPTS = {"replace": ("replace", False), "width": ("w", True), "height": ("h", True),
               "quality": ("quality", True),
               "as": ("as", True), "name": ("name", True), "fontface": ("fontface", True),
               "mag": ("mag", True), "cmyk": ("cmyk", True), "pagesize": ("pagesize", True),
               "tif": ("tif", True), "logo": ("logo", True), "preview": ("preview", True)}


def _pixels(val, what: str):
    if val is None:
        return None
    v = gc.integer(val, what, 1)
    if not 8 <= v <= 16000:
        raise StataError(f"{what}() must be between 8 and 16000", 198)
    return v


def _quality(arg, fmt: str) -> int | None:
    """quality(#), 0-100: the JPEG's compression quality (jpg only, as in Stata)."""
    if arg is None:
        return None
    if fmt != "jpg":
        raise StataError("option quality() allowed only with JPEG files", 198)
    try:
        q = float(arg)
    except ValueError:
        raise StataError("option quality() invalid", 198) from None
    if not 0 <= q <= 100 or q != int(q):
        raise StataError("option quality() must be an integer between 0 and 100", 198)
    return int(q)


def graph_export(session, text: str) -> None:
    words, opts = gc.split_words(text)
    if len(words) != 1:
        raise StataError("invalid file specification" if words else "invalid syntax", 198)
    o = _only(opts, EXPORT_OPTS)
    path = words[0]
    fmt = gstore.export_format(path, strip_quotes(o["as"]) if o.get("as") else None)
    if not os.path.splitext(path)[1]:
        path += "." + fmt
    name, graph = gc.store(session).get(strip_quotes(o["name"].strip()) if o.get("name") else None)
    width, height = _pixels(o.get("width"), "width"), _pixels(o.get("height"), "height")
    quality = _quality(o.get("quality"), fmt)
    gstore.check_new_file(path, "replace" in o)
    gstore.export(graph, path, fmt, width, height, quality=quality)
    session.out.line(f"file {path} saved as {gstore.FORMAT_NAMES[fmt]} format")


# ---- save / use ------------------------------------------------------------------------------
def graph_save(session, text: str) -> None:
    words, opts = gc.split_words(text)
    o = _only(opts, {"replace": ("replace", False), "asis": ("asis", False)})
    if len(words) == 1:
        name, path = None, words[0]
    elif len(words) == 2:
        name, path = words
    else:
        raise StataError("invalid file specification" if words else "invalid syntax", 198)
    if not os.path.splitext(path)[1]:
        path += ".gph"
    _, graph = gc.store(session).get(name)
    gstore.check_new_file(path, "replace" in o)
    gstore.save(graph, path)
    session.out.line(f"file {path} saved")


def graph_use(session, text: str) -> None:
    words, opts = gc.split_words(text)
    o = _only(opts, {"name": ("name", True), "nodraw": ("nodraw", False),
                     "scheme": ("sch", True)})
    if len(words) != 1:
        raise StataError("invalid file specification" if words else "invalid syntax", 198)
    path = words[0]
    if not os.path.splitext(path)[1]:
        path += ".gph"
    graph = gstore.load(path)
    if o.get("scheme"):
        graph.scheme = gc.schemes.scheme_name(o["scheme"])
    # the default name is the file's, without its path and .gph (Stata's graph use)
    base = os.path.splitext(os.path.basename(path))[0]
    name, replace = gc.name_rule(o["name"]) if o.get("name") else gc.name_rule(base)
    gc.store(session).check_name(name, replace)
    gc.store(session).add(graph, name, draw="nodraw" not in o)


# ---- memory -----------------------------------------------------------------------------------
def graph_display(session, text: str) -> None:
    words, opts = gc.split_words(text)
    o = _only(opts, {"scheme": ("sch", True), "xsize": ("xsiz", True), "ysize": ("ysiz", True)})
    if len(words) > 1:
        raise StataError("invalid syntax", 198)
    st = gc.store(session)
    name, graph = st.get(words[0] if words else None)
    if o:
        graph = copy.deepcopy(graph)
        gc.apply_text(graph, {k: v for k, v in o.items()})
        st.graphs[name] = graph
    st.current = name
    if st.show is not None:
        st.show(graph, name)


def graph_dir(session, text: str) -> None:
    words, opts = gc.split_words(text)
    o = _only(opts, {"memory": ("mem", False), "gph": ("gph", False), "detail": ("d", False)})
    if len(words) > 1:
        raise StataError("invalid syntax", 198)
    pattern = words[0] if words else "*"
    graphs = gc.store(session).graphs
    names = [] if "gph" in o and "memory" not in o else sorted(graphs)
    if "memory" not in o or "gph" in o:           # and the .gph files of the working directory
        names += sorted(f for f in os.listdir(".") if f.endswith(".gph") and os.path.isfile(f))
    names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    if "detail" in o:
        width = max((len(n) for n in names), default=0)
        for n in names:
            cmd = graphs[n].command if n in graphs else ""
            session.out.line(f"  {n:<{width}}  {cmd}".rstrip())
    elif names:
        session.out.line("  " + "  ".join(names))


def graph_drop(session, text: str) -> None:
    words, opts = gc.split_words(text)
    _only(opts, {})
    if not words:
        raise StataError("invalid syntax", 198)
    st = gc.store(session)
    if words == ["_all"]:
        st.drop_all()
    else:
        st.drop(words)


def graph_close(session, text: str) -> None:
    words, opts = gc.split_words(text)
    _only(opts, {})
    st = gc.store(session)
    for w in words:
        if w != "_all" and w not in st.graphs:
            raise StataError(f"graph {w} not found", 111)
    # windows belong to the show hook; in batch runs there are none


def graph_rename(session, text: str) -> None:
    words, opts = gc.split_words(text)
    o = _only(opts, {"replace": ("replace", False)})
    st = gc.store(session)
    if len(words) == 1:
        words = [st.get()[0], words[0]]
    if len(words) != 2:
        raise StataError("invalid syntax", 198)
    old, new = words
    _, graph = st.get(old)
    gc.name_rule(new)
    st.check_name(new, "replace" in o)
    del st.graphs[old]
    st.graphs[new] = graph
    if st.current == old:
        st.current = new


def graph_copy(session, text: str) -> None:
    words, opts = gc.split_words(text)
    o = _only(opts, {"replace": ("replace", False)})
    st = gc.store(session)
    if len(words) == 1:
        words = [st.get()[0], words[0]]
    if len(words) != 2:
        raise StataError("invalid syntax", 198)
    _, graph = st.get(words[0])
    gc.name_rule(words[1])
    st.check_name(words[1], "replace" in o)
    st.graphs[words[1]] = copy.deepcopy(graph)


def graph_describe(session, text: str) -> None:
    words, opts = gc.split_words(text)
    _only(opts, {})
    name, graph = gc.store(session).get(words[0] if words else None)
    session.out.line()
    session.out.line(f"{name} stored in memory")
    session.out.line()
    session.out.line(f"    command:  {graph.command}")
    session.out.line(f"     scheme:  {graph.scheme}")
    session.out.line(f"     panels:  {len(graph.panels)}")


def graph_query(session, text: str) -> None:
    from hlmshell.graphics.schemes import SCHEMES
    session.out.line("schemes: " + " ".join(SCHEMES))


def _twoway(session, text: str) -> None:
    graph_twoway.run_twoway(session, text, command="graph twoway " + text)


HANDLERS = {"twoway": _twoway, "export": graph_export, "save": graph_save, "use": graph_use,
            "display": graph_display, "dir": graph_dir, "drop": graph_drop,
            "close": graph_close, "rename": graph_rename, "copy": graph_copy,
            "describe": graph_describe, "query": graph_query,
            "box": graph_stat.graph_box, "hbox": graph_stat.graph_box,
            "bar": graph_bar.graph_bar, "hbar": graph_bar.graph_bar,
            "matrix": graph_stat.graph_matrix, "combine": graph_stat.graph_combine}


def subcommand(word: str) -> str | None:
    for full, mn in SUBCOMMANDS:
        if word == full or abbrev_match(word, full, mn):
            return full
    return None


@command("graph", abbrev="gr", family="Graphics", raw=True, byable=False, changes_data=False,
         subcommands=tuple(Sub(n, m) for n, m in SUBCOMMANDS),
         desc="graphs: twoway, box, bar, pie, matrix, combine; export, save, use, display, dir, drop",
         example="graph export mygraph.png, width(800) replace")
def graph(session, cmd):
    text = cmd.body.strip()
    word = text.split(None, 1)[0] if text else ""
    word = word.split(",", 1)[0]
    full = subcommand(word)
    if full is None:
        if not word:
            raise StataError("invalid syntax", 198)
        if _maybe_plot(word) is None:
            raise StataError(f"{word} is not a graph command", 198)
        graph_twoway.run_twoway(session, text, command="graph " + text)
        return
    rest = text[len(word):]
    if full == "box" or full == "hbox":
        graph_stat.graph_box(session, rest, horizontal=full == "hbox")
    elif full in ("bar", "hbar"):
        graph_bar.graph_bar(session, rest, horizontal=full == "hbar")
    elif full == "pie":
        from hlmshell.commands.graph_pie import graph_pie
        graph_pie(session, rest)
    else:
        HANDLERS[full](session, rest)


def _maybe_plot(word: str) -> str | None:
    """`graph scatter y x` (a twoway plot type after graph, as Stata allows for twoway)."""
    try:
        return graph_twoway.plot_type(word)
    except StataError:
        return None
