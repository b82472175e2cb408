"""The graph description: what is drawn, independent of where it is shown.

A Graph holds panels (one per `by()` group, or one), each a list of Series on one pair of
axes; text (title, subtitle, note, caption), the legend and the scheme. Every field is plain
data (numbers, strings, lists, numpy arrays), so a Graph converts to JSON and back
(`to_dict` / `from_dict`) for `graph save` / `graph use`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

SERIES_KINDS = ("scatter", "line", "connected", "area", "bar", "rcap", "rspike", "rarea",
                "rconnected", "hbox", "box")
FORMAT_VERSION = 1


@dataclass
class Series:
    """One plotted thing. kind: scatter (markers), line, connected (markers joined), area (filled
    to `base`), bar (bars at x of height y from `base`), rcap/rspike/rarea/rconnected (ranges
    y..y2 at x), box (a box plot: `boxes` holds the five-number summaries and outside values).
    A line is broken where x or y is NaN (connect(L) and one-line-per-group use that).
    style keys: color, marker, hollow, msize, lpattern, lwidth, fcolor, alpha, barwidth,
    mlabels (list of str), zorder."""

    kind: str
    x: Any = None
    y: Any = None
    y2: Any = None
    label: str = ""
    legend: bool = True                # has a legend key
    base: float = 0.0
    style: dict = field(default_factory=dict)
    boxes: list = field(default_factory=list)     # box: [{"pos","q1","med","q3","lo","hi","out"}]

    def __post_init__(self):
        for k in ("x", "y", "y2"):
            v = getattr(self, k)
            if v is not None:
                setattr(self, k, np.asarray(v, dtype=float))


@dataclass
class Axis:
    """One axis: title; ticks (None = automatic; else values) with optional text per tick;
    angle of the labels; grid lines at the ticks; log scale; range (lo, hi) to include;
    reverse; off (not drawn)."""

    title: str | None = None
    ticks: list | None = None
    ticklabels: list | None = None
    angle: float | None = None
    grid: bool | None = None
    log: bool = False
    range: list | None = None
    reverse: bool = False
    off: bool = False
    fmt: str | None = None            # a Stata %fmt for the labels
    labels: bool = True               # nolabels: ticks without their text
    tickmarks: bool = True            # noticks / tlength(0): labels without tick marks
    labsize: str | None = None        # a Stata textsizestyle (small, vsmall, medlarge, *1.2 ...)


@dataclass
class Panel:
    series: list = field(default_factory=list)
    title: str = ""                   # the by-group's label
    xaxis: Axis = field(default_factory=Axis)
    yaxis: Axis = field(default_factory=Axis)
    xlines: list = field(default_factory=list)    # reference lines
    ylines: list = field(default_factory=list)
    aspect: float | None = None
    label: str = ""                   # text in the middle, no axes (graph matrix's diagonal)
    xcategories: list | None = None   # category names at x = 1, 2, ... (graph bar/box)
    horizontal: bool = False          # graph hbar/hbox: categories on the vertical axis
    texts: list = field(default_factory=list)     # text(): {"x","y","text","place","angle",
                                                  #  "box","fcolor","color","size"}


@dataclass
class Legend:
    show: bool | None = None          # None: shown when there are two keys or more
    order: list | None = None         # 1-based key numbers, or [number, text] pairs
    labels: dict = field(default_factory=dict)    # key number (1-based) -> text
    rows: int | None = None
    cols: int | None = None
    position: int = 6                 # clock position
    ring: int | None = None           # 0: inside the plot region
    title: str = ""


@dataclass
class Graph:
    kind: str = "twoway"
    panels: list = field(default_factory=list)
    title: str = ""
    subtitle: str = ""
    note: str = ""
    caption: str = ""
    legend: Legend = field(default_factory=Legend)
    scheme: str = "s2color"
    aspectratio: float | None = None
    rows: int | None = None           # panel grid (by(), graph combine, graph matrix)
    cols: int | None = None
    xsize: float = 5.5                # inches, like Stata's default graph
    ysize: float = 4.0
    command: str = ""                 # the command that made it (graph describe/dir)
    shared_legend: bool = True        # one legend for all panels (by())
    xrescale: bool = False            # by(): each panel its own x scale (default: common)
    yrescale: bool = False            # by(): each panel its own y scale
    parts: list = field(default_factory=list)     # graph combine: the whole graphs, one a cell
    iscale: float | None = None       # graph combine: text size of the parts (None: by grid)
    holes: list = field(default_factory=list)     # graph combine: cells (1-based) left empty
    legend_from: int | None = None    # grc1leg: the part whose legend is the combined graph's

    # ---- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"hlmshell_graph": FORMAT_VERSION, "graph": _plain(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "Graph":
        if not isinstance(d, dict) or d.get("hlmshell_graph") != FORMAT_VERSION:
            raise ValueError("not an hlmshell graph")
        return _graph(d["graph"])

    def all_series(self):
        for p in self.panels:
            yield from p.series


def _num(v):
    v = float(v)
    return None if math.isnan(v) else v


def _plain(obj):
    if isinstance(obj, np.ndarray):
        return [_num(v) for v in obj.ravel()]
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, float):
        return _num(obj)
    if isinstance(obj, (np.floating, np.integer)):
        return _num(obj)
    return obj


def _arr(v):
    return None if v is None else np.array([np.nan if a is None else a for a in v], dtype=float)


def _series(d: dict) -> Series:
    kw = {k: d[k] for k in ("kind", "label", "legend", "base", "style", "boxes") if k in d}
    return Series(x=_arr(d.get("x")), y=_arr(d.get("y")), y2=_arr(d.get("y2")), **kw)


def _axis(d: dict) -> Axis:
    names = {f.name for f in fields(Axis)}
    return Axis(**{k: v for k, v in (d or {}).items() if k in names})


def _panel(d: dict) -> Panel:
    return Panel(series=[_series(s) for s in d.get("series", [])], title=d.get("title", ""),
                 xaxis=_axis(d.get("xaxis")), yaxis=_axis(d.get("yaxis")),
                 xlines=list(d.get("xlines", [])), ylines=list(d.get("ylines", [])),
                 aspect=d.get("aspect"), label=d.get("label", ""),
                 xcategories=d.get("xcategories"), horizontal=d.get("horizontal", False),
                 texts=list(d.get("texts", [])))


def _graph(d: dict) -> Graph:
    names = {f.name for f in fields(Graph)} - {"panels", "legend", "parts"}
    g = Graph(**{k: v for k, v in d.items() if k in names})
    g.panels = [_panel(p) for p in d.get("panels", [])]
    g.parts = [_graph(p) for p in d.get("parts") or []]
    lg = d.get("legend") or {}
    g.legend = Legend(**{k: v for k, v in lg.items() if k in {f.name for f in fields(Legend)}})
    g.legend.labels = {int(k): v for k, v in g.legend.labels.items()}
    return g
