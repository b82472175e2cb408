"""spagplot (SSC, built in): one OLS line per id through the id's observed x, the overall
fit as a very thick line, the note and legend(off) of the ado, nofit / noover, twoway
options passing through -- the drawn lines checked against per-school least squares done
here with numpy.linalg.lstsq."""
from __future__ import annotations

import numpy as np
import pytest
from test_graph_helpers import G, legend_texts, runs

from hlmshell.commands.spagplot import within_fits
from hlmshell.graphics import schemes


@pytest.fixture(scope="module")
def g():
    return G()


def _lstsq_fits(y, x, ids):
    out = np.empty_like(y)
    for u in np.unique(ids):
        m = ids == u
        X = np.column_stack([np.ones(m.sum()), x[m]])
        b = np.linalg.lstsq(X, y[m], rcond=None)[0]
        out[m] = X @ b
    return out


def test_within_fits_match_lstsq():
    rng = np.random.default_rng(3)
    ids = np.repeat(np.arange(8), 6)
    x = rng.normal(size=48) * 100 + 1e4
    y = 2 + 0.3 * x + rng.normal(size=48)
    assert np.allclose(within_fits(y, x, ids), _lstsq_fits(y, x, ids), rtol=1e-10)
    # an id whose x does not vary: its mean
    x2 = x.copy()
    x2[ids == 3] = 5.0
    got = within_fits(y, x2, ids)
    assert np.allclose(got[ids == 3], y[ids == 3].mean())


def test_lines_are_the_per_school_fits(g):
    out = g.ok("spagplot mathach ses if id < 1400, id(id)")
    assert out.strip() == ""
    ds = g.s.data
    assert "__spagplot_fit" not in ds.names and not any(n.startswith("__") for n in ds.names)
    graph = g.graph()
    assert graph.note == "Spaghetti plot of mathach ses id id"
    ids, x, y = g.col("id"), g.col("ses"), g.col("mathach")
    sel = ids < 1400
    fits = _lstsq_fits(y[sel], x[sel], ids[sel])
    order = np.lexsort((x[sel], ids[sel]))
    ax = g.fig().axes[0]
    spag, overall = ax.lines
    xs, ys = np.asarray(spag.get_xdata(), float), np.asarray(spag.get_ydata(), float)
    ok = ~np.isnan(ys)
    assert np.allclose(xs[ok], x[sel][order]) and np.allclose(ys[ok], fits[order], rtol=1e-9)
    # connect(L): a new line where x goes back, so at least one line per id that follows
    # an id ending further right
    assert runs(ys) >= 2 and runs(ys) <= len(np.unique(ids[sel]))
    b = np.polyfit(x[sel], y[sel], 1)
    ox = np.asarray(overall.get_xdata(), float)
    assert np.allclose(overall.get_ydata(), np.polyval(b, ox))
    assert ox.min() == pytest.approx(x[sel].min()) and ox.max() == pytest.approx(x[sel].max())
    assert overall.get_linewidth() == pytest.approx(schemes.LWIDTHS["vthick"])
    assert not legend_texts(g.fig())
    assert ax.get_xlabel() == g.s.data.var("ses").label and ax.get_ylabel() == "Fitted values"
    assert not spag.get_marker() or spag.get_marker() in ("", "None", "none")


def test_options_pass_through_and_variants(g):
    g.ok('spagplot mathach ses if id < 1300, id(id) title("By school") note("Simulated") '
         'xtitle("SES") ytitle("Math") name("figdata", replace) scheme(cblind1)')
    graph = g.graph("figdata")
    assert (graph.title, graph.note, graph.scheme) == ("By school", "Simulated", "stcolor")
    ax = g.fig("figdata").axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("SES", "Math")
    g.ok("spagplot mathach ses if id < 1300, id(id) noover")
    assert len(g.fig().axes[0].lines) == 1
    g.ok("spagplot mathach ses if id < 1300, id(id) nofit")
    (raw,) = g.fig().axes[0].lines
    ids, x, y = g.col("id"), g.col("ses"), g.col("mathach")
    sel = ids < 1300
    order = np.lexsort((x[sel], ids[sel]))
    ys = np.asarray(raw.get_ydata(), float)
    assert np.allclose(ys[~np.isnan(ys)], y[sel][order])
    g.ok("spagplot mathach ses if id < 1500, id(id) by(sector)")
    assert len(g.graph().panels) == 2


def test_errors_and_ssc(g):
    g.ok("scatter mathach ses in 1/5, name(kept, replace)")
    for line, rc in (("spagplot mathach ses", 198), ("spagplot mathach, id(id)", 102),
                     ("spagplot mathach ses female, id(id)", 103),
                     ("spagplot mathach ses, id(nosuch)", 111),
                     ("spagplot mathach ses if id < 0, id(id)", 2000),
                     ("spagplot mathach ses, id(id) nofit(3)", 198),
                     ("spagplot mathach ses, id(id) mcolor(nosuch)", 198),
                     ("spagplot mathach ses [fw=id], id(id)", 101)):
        g.fails(line, rc)
    assert g.s.graphs.current == "kept"
    assert "built into hlmshell" in g.ok("ssc install spagplot, replace")
