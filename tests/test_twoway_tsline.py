"""twoway tsline (a plot type of twoway, hlmshell/commands/graph_twoway.py): lines against the
tsset/xtset time variable in time order, with tscale()/tlabel()/ttitle() as the time axis's
options; r(111) without a time variable."""
import numpy as np
import pytest

from test_graph_helpers import G


@pytest.fixture()
def g():
    return G(setup=("clear", "set obs 30", "gen id = 1 + (_n > 15)", "bysort id: gen year = 2001 + 15 - _n",
                    "gen y = year^2 / 1000 + id", "gen z = 3*year", "xtset id year"))


def test_twoway_tsline_plots_in_time_order(g):
    g.ok("twoway (tsline y, lcolor(green)) (tsline z) if id == 1, ttitle(Year) title(One)")
    ax = g.fig().axes[0]
    assert len(ax.lines) == 2
    x = np.asarray(ax.lines[0].get_xdata(), float)
    y = np.asarray(ax.lines[0].get_ydata(), float)
    assert x.tolist() == list(range(2001, 2016))
    assert np.allclose(y, x ** 2 / 1000 + 1)
    assert ax.get_xlabel() == "Year"
    g.ok("twoway tsline y z if id == 2, tscale(range(2000 2020))")


def test_twoway_tsline_errors(g):
    g.fails("twoway tsline nosuch", 111)
    g.ok("xtset, clear")
    g.fails("twoway (tsline y)", 111, "time variable not set")
