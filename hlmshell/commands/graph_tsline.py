"""tsline / twoway tsline: time-series line plots against the time variable set by tsset/xtset.

    tsline varlist [if] [in] [, twoway options]

Growth-curve and panel do-files plot a series over time with it. Each variable is one line
against the time variable, observations in time order (Stata's tsline sorts by time); the
y title is the variable's label when there is one variable, the legend names the variables
when there are several; with no time variable set, Stata's r(111) "time variable not set".
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands._panel import time_settings
from hlmshell.commands.graph_stat import _x, read
from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.registry import command

_OWN = {"lcolor": ("lc", True), "lpattern": ("lp", True), "lwidth": ("lw", True),
        "tscale": ("tsc", True), "tlabel": ("tlab", True), "ttitle": ("tti", True)}


@command("tsline", abbrev="tsline", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="time-series line plot (against the tsset time variable)",
         example="tsline y")
def tsline(session, cmd):
    _c, names, mask, own, gopts = read(session, cmd.body, "tsline", _OWN, nvars=(1, None))
    tvar = time_settings(session).timevar
    t = _x(session, tvar)
    mask = mask & ~np.isnan(t)
    if not mask.any():
        raise StataError("no observations", 2000)
    order = np.flatnonzero(mask)[np.argsort(t[mask], kind="stable")]
    series = [Series("line", t[order], _x(session, nm)[order], label=gc.var_title(session.data, nm),
                     style={"pstyle": k}) for k, nm in enumerate(names)]
    if own.get("ttitle") and "xtitle" not in gopts:
        gopts["xtitle"] = own["ttitle"]
    if own.get("tlabel") and "xlabel" not in gopts:
        gopts["xlabel"] = own["tlabel"]
    gc.check_finish(session, gopts)
    graph = Graph(kind="twoway", panels=[Panel(series=series)])
    graph.legend.show = len(names) > 1
    gc.apply_text(graph, gopts)
    ytitle = gc.var_title(session.data, names[0]) if len(names) == 1 else ""
    gc.apply_axes(graph, gopts, (gc.var_title(session.data, tvar), session.data.var(tvar)),
                  (ytitle, None), None, None, session.data)
    gc.finish(session, graph, gopts, cmd.text)
