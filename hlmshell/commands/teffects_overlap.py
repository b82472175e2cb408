"""teffects overlap: kernel densities of the estimated propensity score of one treatment level
(ptlevel(), the treated level by default) among the units of each level, after teffects ipw,
ipwra, aipw and psmatch, drawn through hlmshell's graph model (graph_stat.make_graph).

Why its own module: it is a graph, with the graph options every plot takes; the scores come
from teffects' treatment equation (teffects_predict).
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands.graph_stat import make_graph
from hlmshell.errors import StataError
from hlmshell.graphics.model import Panel, Series
from hlmshell.syntax.ast import Command
from hlmshell.syntax.parser import fill_qualifiers

OWN = {"ptlevel": ("ptl", True), "kernel": ("k", True), "n": ("n", True),
       "bwidth": ("bw", True), "line1opts": ("line1opts", True),
       "line2opts": ("line2opts", True)}


def _scores(session, res):
    from hlmshell.commands import teffects_predict as tp
    if res.macros["subcmd"] == "psmatch":
        return tp._stored_ps(session, res)
    return tp._ps(session.data, res)


def overlap(session, text: str) -> None:
    res = session.e
    if res is None or res.cmd != "teffects":
        raise StataError("last estimates not found", 301)
    if res.macros["subcmd"] in ("ra", "nnmatch"):
        raise StataError(f"teffects overlap not allowed after teffects {res.macros['subcmd']};"
                         " there is no treatment model", 321)
    if res.scalars.get("k_levels", 2) > 2:
        raise StataError("teffects overlap with more than two treatment levels is not "
                         "implemented here", 198)
    c = Command(name="teffects")
    fill_qualifiers(c, text, allow_exp=False)
    if c.body.strip() or c.if_ is not None or c.in_ is not None or c.weight is not None:
        raise StataError("invalid syntax", 198)
    own, gopts = gc.split_options(c.options, OWN)
    from hlmshell.commands.teffects_predict import _level
    ctrl, trt = int(res.scalars["control"]), int(res.scalars["treated"])
    pt = _level(own["ptlevel"], (ctrl, trt)) if own.get("ptlevel") else trt
    from hlmshell.commands.graph_twoway import kernel_name
    from hlmshell.graphics import stats
    kern = kernel_name(own.get("kernel"))
    n = gc.integer(own["n"], "n", 2) if own.get("n") else None
    bw = gc.number(own["bwidth"], "bwidth") if own.get("bwidth") else None
    if bw is not None and bw <= 0:
        raise StataError("bwidth() must be positive", 198)
    mask = np.asarray(res.sample, dtype=bool)
    if res.macros["subcmd"] == "psmatch" and not getattr(res, "generated", False):
        session.out.line("(refitting the model using the generate() option)")
    p = _scores(session, res)
    score = p if pt == trt else 1 - p
    tv = np.asarray(session.data.values(res.macros["tvar"]), dtype=float)
    tvar = res.macros["tvar"]
    labels = res.level_labels
    series = []
    for k, lev in enumerate((ctrl, trt)):
        x = score[mask & (tv == lev) & np.isfinite(score)]
        if x.size < 2:
            raise StataError("insufficient observations", 2001)
        grid, dens, _ = stats.kdensity(x, bw, kern, n)
        series.append(Series("line", grid, dens, label=f"{tvar}={labels[lev]}",
                             style={"pstyle": k + 1}))

    def build(_mask, _title):
        return Panel(series=list(series))
    make_graph(session, "twoway", gopts, build,
               (f"Propensity score, {tvar}={labels[pt]}", None), ("density", None),
               "teffects overlap " + text, own=own)
