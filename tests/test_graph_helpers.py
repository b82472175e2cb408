"""Helpers for tests/test_graph_*.py: a session on hsb, the graphs it made, their figures."""
from __future__ import annotations

import numpy as np

from hlmshell.graphics.render import draw
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session


class G:
    def __init__(self, setup=("use hsb",)):
        self.s = Session(Capture())
        Interpreter(self.s)
        for line in setup:
            self.ok(line)

    def run(self, line):
        s = self.s
        s.out.stream.seek(0)
        s.out.stream.truncate()
        rc = s.interpreter.run_line(line)
        return rc, s.out.getvalue()

    def ok(self, line):
        rc, out = self.run(line)
        assert rc == 0, (line, out)
        return out

    def fails(self, line, rc, message=None):
        got, out = self.run(line)
        assert got == rc, (line, out)
        if message is not None:
            assert message in out, out
        return out

    def graph(self, name=None):
        st = self.s.graphs
        return st.graphs[name or st.current]

    def fig(self, name=None, **kw):
        return draw(self.graph(name), **kw)

    def col(self, name):
        return np.asarray(self.s.data.var(name).values, dtype=float)


def scatter_points(ax):
    """Offsets of every scatter (PathCollection with offsets) on an axes."""
    from matplotlib.collections import PathCollection
    return [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]


def lines(ax):
    return [ln for ln in ax.lines]


def _subfigs(fig):
    out = []
    for sf in fig.subfigs:
        out += [sf] + _subfigs(sf)
    return out


def legend_texts(fig):
    legs = list(fig.legends) + [leg for sf in _subfigs(fig) for leg in sf.legends]
    legs += [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return [t.get_text() for leg in legs for t in leg.get_texts()]


def runs(y):
    """Contiguous non-NaN runs of a line's y data (connect(L) breaks lines with NaN)."""
    ok = ~np.isnan(np.asarray(y, dtype=float))
    return int(np.sum(ok[1:] & ~ok[:-1]) + ok[0]) if len(ok) else 0
