"""tsline: one line per variable against the tsset time variable, in time order; the legend
names the variables when there are several; r(111) without a time variable."""
import numpy as np
import pytest

from test_graph_helpers import G


@pytest.fixture()
def g():
    return G(setup=("clear", "set obs 20", "gen t = 21 - _n", "gen y = t^2", "gen z = 3*t",
                    "label variable y \"Squares\"", "tsset t"))


def test_lines_in_time_order(g):
    g.ok("tsline y")
    ax = g.fig().axes[0]
    (line,) = ax.lines
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    assert x.tolist() == list(range(1, 21)) and np.allclose(y, x ** 2)
    assert ax.get_ylabel() == "Squares" and ax.get_xlabel() == "t"
    g.ok("tsline y z, ttitle(Time) title(Both)")
    fig = g.fig()
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.get_xlabel() == "Time"
    assert np.allclose(np.asarray(ax.lines[1].get_ydata(), float), 3 * np.arange(1, 21))


def test_errors(g):
    g.fails("tsline nosuch", 111)
    g.ok("tsset, clear")
    g.fails("tsline y", 111, "time variable not set")
