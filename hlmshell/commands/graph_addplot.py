"""addplot(): the twoway plots a user adds to a graph that is not itself a twoway command
(histogram, kdensity, qnorm, pnorm, rvfplot, xtline, marginsplot), as Stata's
[G-3] addplot_option:

    addplot(plot)                  addplot(scatter mathach ses if sector == 1)
    addplot((plot) (plot) ...)     addplot((line y x, sort) (scatter y x))
    addplot(plot || plot)          addplot(plot ..., below)

The plots are read with twoway's own reader (any plot type, its if/in and options); they are
drawn in every panel (restricted to the panel's by() group, as twoway's by() does), after the
command's own series, or under them with `below`, in the next plot styles of the scheme.
Graph options typed inside the added plots (title() ...) apply unless the command set them.
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import graph_twoway as gt
from hlmshell.errors import StataError
from hlmshell.graphics.model import Panel

_BELOW = re.compile(r",\s*below\s*$", re.IGNORECASE)


class AddPlot:
    """The parsed addplot(): its plots, whether they go below, the graph options they carry."""

    def __init__(self, session, text: str | None):
        self.plots: list = []
        self.below = False
        self.gopts: dict = {}
        if text is None:
            return
        text = text.strip()
        if not text:
            raise StataError("option addplot() incorrectly specified", 198)
        if _BELOW.search(text):
            self.below = True
            text = _BELOW.sub("", text).strip()
        self.plots, self.gopts = gt.read_twoway(session, text)

    def __bool__(self) -> bool:
        return bool(self.plots)

    def merge_options(self, gopts: dict) -> None:
        """Graph options from inside the added plots, where the command has none."""
        for k, v in self.gopts.items():
            gopts.setdefault(k, v)

    def extend(self, session, panel: Panel | None, mask: np.ndarray | None,
               first_style: int | None = None) -> Panel | None:
        """Add the plots' series to `panel` (mask: its by() group, None for all), in the plot
        styles after the panel's own (or from first_style)."""
        if panel is None or not self.plots:
            return panel
        if first_style is None:
            first_style = 1 + max([int(s.style.get("pstyle", 0)) for s in panel.series
                                   if isinstance(s.style.get("pstyle", 0), (int, float))] or [-1])
        added = []
        for i, plot in enumerate(self.plots):
            added += gt.plot_series(session, plot, first_style + i, mask)
        panel.series = added + panel.series if self.below else panel.series + added
        return panel

    def wrap(self, session, build, first_style: int | None = None):
        """build(mask, title) -> Panel, with the added plots in every panel it builds."""
        if not self.plots:
            return build

        def built(mask, title):
            return self.extend(session, build(mask, title), mask, first_style)

        return built
