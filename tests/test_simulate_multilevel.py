"""A course-handout simulation run end to end: a program (with syntax) that simulates a
two-level dataset with expand, fits mixed and returns its estimates; simulate collects them
and the Monte Carlo means recover the true values; bootstrap of the same model resamples
whole schools. Checks against the values the data were generated with."""
import numpy as np

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

DOFILE = """
capture program drop twolevel
program define twolevel, rclass
    syntax [, schools(integer 30) pupils(integer 10)]
    drop _all
    set obs `schools'
    generate school = _n
    generate u = rnormal(0, 2)
    expand `pupils'
    generate x = rnormal()
    generate y = 5 + 1.5*x + u + rnormal(0, 3)
    mixed y x || school:
    return scalar b = _b[x]
    return scalar se = _se[x]
    return scalar sd_u = exp(_b[lns1_1_1:_cons])
end
simulate b=r(b) se=r(se) sd_u=r(sd_u), reps(25) seed(2718) nodots: twolevel, schools(30) pupils(12)
"""


def test_simulated_mixed_models_recover_the_truth():
    s = Session(out=Capture())
    interp = Interpreter(s)
    rc = interp.run_text(DOFILE, echo=False)
    assert rc == 0, s.out.getvalue()
    assert s.data.names == ["b", "se", "sd_u"] and s.data.n == 25
    b = s.data.var("b").values
    se = s.data.var("se").values
    sd_u = s.data.var("sd_u").values
    # the slope is estimated without bias: 25 replications put its mean within 4 MC errors
    assert abs(b.mean() - 1.5) < 4 * b.std(ddof=1) / 5
    # the model SE of the slope matches the spread of the estimates (3/sqrt(360) ~ 0.16)
    assert abs(se.mean() - 3 / np.sqrt(360)) < 0.03
    assert abs(b.std(ddof=1) - se.mean()) < 0.07
    assert abs(np.median(sd_u) - 2) < 0.6
    # the last simulated dataset is gone: the results replace it
    assert "school" not in s.data.names

    s.out = Capture()
    rc = interp.run_text("quietly twolevel, schools(20) pupils(8)\n"
                         "bootstrap _b, reps(4) seed(1) nodots cluster(school) idcluster(nid): "
                         "mixed y x || nid:", echo=False)
    assert rc == 0, s.out.getvalue()
    assert s.e.cmd == "mixed" and s.e.scalars["N_clust"] == 20 and s.e.scalars["N_reps"] == 4
    assert s.e.macros["vce"] == "bootstrap" and np.all(np.isfinite(s.e.se))
