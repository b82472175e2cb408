"""serrbar: means with standard-error bars (Stata's serrbar mvar svar xvar).

    serrbar mvar svar xvar [if] [in] [, scale(#) addplot(plot) twoway options]

Multilevel handouts plot school residuals (the posterior mean and its SE, ranked) with it: a
cap plot of mvar - scale*svar .. mvar + scale*svar at xvar (scale 1 by default, 1.96 for 95%
intervals) and the means as markers; legend off, as Stata draws it."""
from __future__ import annotations

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands.graph_addplot import AddPlot
from hlmshell.commands.graph_stat import _x, read
from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.registry import command

_OWN = {"scale": ("sc", True), "addplot": ("addplot", True), "mvopts": ("mvopts", True)}


@command("serrbar", abbrev="serrbar", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="graph of means with standard-error bars",
         example="serrbar mean se rank, scale(1.96)")
def serrbar(session, cmd):
    _c, names, mask, own, gopts = read(session, cmd.body, "serrbar", _OWN, nvars=(3, 3))
    scale = gc.number(own["scale"], "scale") if own.get("scale") else 1.0
    if not np.isfinite(scale) or scale < 0:
        raise StataError("option scale() invalid", 198)
    m, s, x = (_x(session, n) for n in names)
    ok = mask & ~np.isnan(m) & ~np.isnan(s) & ~np.isnan(x)
    if not ok.any():
        raise StataError("no observations", 2000)
    o = np.flatnonzero(ok)[np.argsort(x[ok], kind="stable")]
    series = [Series("rcap", x[o], m[o] - scale * s[o], y2=m[o] + scale * s[o], label="",
                     style={"pstyle": 0}),
              Series("scatter", x[o], m[o], label=gc.var_title(session.data, names[0]),
                     style={"pstyle": 0})]
    extra = AddPlot(session, own.get("addplot"))
    extra.merge_options(gopts)
    panel = extra.extend(session, Panel(series=series), None)
    gc.check_finish(session, gopts)
    graph = Graph(kind="twoway", panels=[panel])
    graph.legend.show = False
    gc.apply_text(graph, gopts)
    gc.apply_axes(graph, gopts, (gc.var_title(session.data, names[2]), session.data.var(names[2])),
                  (gc.var_title(session.data, names[0]), None), None, None, session.data)
    gc.finish(session, graph, gopts, cmd.text)
