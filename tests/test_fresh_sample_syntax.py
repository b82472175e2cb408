"""Syntax from a fresh sample of public do-files: small-marker symbols (smcircle_hollow),
bar/cap outline options (blpattern(), blcolor()), estimates table's stfmt(), eststo's
`title (text)` with a space before the parenthesis."""
import numpy as np
import pytest

from hlmshell.session import Session
from session_run import ok, run
from test_graph_helpers import G


def test_small_hollow_symbol_and_cap_outline():
    g = G(setup=("use hsb", "keep in 1/60", "gen lo = mathach - 1", "gen hi = mathach + 1"))
    g.ok("twoway (scatter mathach ses, msymbol(smcircle_hollow) mlwidth(vvthin))")
    coll = g.fig().axes[0].collections[0]
    assert np.allclose(coll.get_facecolors()[:, 3], 0)          # hollow: no fill
    g.ok("twoway (rcap lo hi ses, blpatt(dash) blcolor(black))")
    graph = g.graph()
    st = graph.panels[0].series[0].style
    assert st.get("lpattern") == "dash" and st.get("lcolor") == "black"
    g.fails("twoway (rcap lo hi ses, blpatt(nosuch))", 198)


def test_estimates_table_stfmt_and_eststo_title():
    s = Session()
    ok(s, "use hsb")
    ok(s, "quietly regress mathach ses\nestimates store r1")
    out = ok(s, "estimates table r1, stats(N ll) stfmt(%10.2f)")
    ll = s.estimates["r1"].scalars["ll"]
    line = next(ln for ln in out.splitlines() if ln.split("|")[0].strip() == "ll")
    assert line.split("|")[1].split()[0] == f"{ll:.2f}"
    rc, _ = run(s, "estimates table r1, stats(ll) stfmt(bad)")
    assert rc == 120
    ok(s, "eststo, title (2012-2015): quietly regress mathach ses")
    assert s.e.macros.get("estimates_title") == "2012-2015"
