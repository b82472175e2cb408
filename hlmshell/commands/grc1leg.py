"""grc1leg (V. Wiggins, from www.stata.com/users/vwiggins; also grc1leg2 on SSC): graph combine
with one legend for all the graphs -- the legend of legendfrom() (the first graph by default),
drawn below the grid (position()/ring() move it), every graph's own legend suppressed.

    grc1leg name [name ...] [, legendfrom(name) position(#) ring(#) span cols(#) rows(#)
        holes() iscale() ycommon xcommon ... graph options (title, name(), saving(), ...)]
"""
from __future__ import annotations

import copy

from hlmshell.commands import graph_common as gc
from hlmshell.commands.graph_stat import COMBINE_OPTS, _holes, _iscale
from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph
from hlmshell.registry import command

OWN = {**COMBINE_OPTS, "legendfrom": ("leg", True), "position": ("pos", True),
       "ring": ("ring", True), "span": ("span", False)}


def _parts(session, words):
    import os

    from hlmshell.graphics import store as gstore
    st = gc.store(session)
    parts = []
    for w in words:
        if w in st.graphs:
            parts.append(copy.deepcopy(st.graphs[w]))
        elif w.endswith(".gph") or os.path.isfile(w + ".gph"):
            parts.append(gstore.load(w if w.endswith(".gph") else w + ".gph"))
        else:
            raise StataError(f"graph {w} not found", 111)
    return parts


@command("grc1leg", family="Graphics", raw=True, byable=False, changes_data=False,
         desc="graph combine with one common legend (V. Wiggins's grc1leg)",
         example="grc1leg g1 g2, legendfrom(g1)")
def grc1leg(session, cmd) -> None:
    words, opts = gc.split_words(cmd.body or "")
    if not words:
        raise StataError("invalid syntax", 198)
    own, gopts = gc.split_options(opts, OWN)
    parts = _parts(session, words)
    src = (own.get("legendfrom") or words[0]).strip()
    if src not in words:
        raise StataError(f"legendfrom({src}): graph not among those combined", 198)
    k = words.index(src)
    legend = copy.deepcopy(parts[k].legend)
    legend.show = True
    if own.get("position"):
        legend.position = gc.integer(own["position"], "position", 0)
    if own.get("ring"):
        legend.ring = gc.integer(own["ring"], "ring", 0)
    for p in parts:
        p.legend.show = False
    gc.check_finish(session, gopts)
    graph = Graph(kind="combine", panels=[pn for p in parts for pn in copy.deepcopy(p.panels)],
                  parts=parts, legend=legend, legend_from=k)
    if own.get("cols"):
        graph.cols = gc.integer(own["cols"], "cols", 1)
    if own.get("rows"):
        graph.rows = gc.integer(own["rows"], "rows", 1)
    if own.get("iscale"):
        graph.iscale = _iscale(own["iscale"])
    if own.get("holes"):
        graph.holes = _holes(own["holes"])
    gc.apply_text(graph, gopts)
    gc.finish(session, graph, gopts, "grc1leg " + (cmd.body or ""))
