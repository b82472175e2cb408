"""tssmooth ma (hlmshell/commands/tssmooth.py) against moving averages computed here with pandas:
uniform window(#l #c #f) and weights(), by panel after xtset, missing periods left out with the
weights of the terms present renormalised."""
import numpy as np
import pandas as pd
import pytest

from hlmshell.data.dataset import Variable
from hlmshell.output.writer import Capture
from hlmshell.session import Session
from tests.session_run import ok, run


def _session():
    rng = np.random.default_rng(4)
    n_id, T = 3, 15
    ids = np.repeat(np.arange(1, n_id + 1), T).astype(float)
    t = np.tile(np.arange(1, T + 1), n_id).astype(float)
    y = rng.normal(size=n_id * T)
    y[[4, 20, 33]] = np.nan
    keep = np.ones(len(y), bool)
    keep[[17, 40]] = False                      # gaps in time
    s = Session(out=Capture())
    ok(s, f"set obs {int(keep.sum())}")
    for name, v in (("id", ids[keep]), ("t", t[keep]), ("y", y[keep])):
        s.data.add(Variable(name, v, "double"))
    ok(s, "xtset id t")
    return s, pd.DataFrame({"id": ids[keep], "t": t[keep], "y": y[keep]})


def _reference(df, offsets_weights):
    full = df.set_index(["id", "t"]).y
    out = []
    for (i, t) in zip(df.id, df.t):
        num = den = 0.0
        for off, w in offsets_weights:
            v = full.get((i, t + off), np.nan)
            if not np.isnan(v):
                num, den = num + w * v, den + w
        out.append(num / den if den else np.nan)
    return np.array(out)


@pytest.mark.parametrize("opt,terms", [
    ("window(4 1 0)", [(-4, 1), (-3, 1), (-2, 1), (-1, 1), (0, 1)]),
    ("window(2 0 2)", [(-2, 1), (-1, 1), (1, 1), (2, 1)]),
    ("weights(1/2 <3> 2/1)", [(-2, 1), (-1, 2), (0, 3), (1, 2), (2, 1)]),
])
def test_moving_averages_match_pandas(opt, terms):
    s, df = _session()
    out = ok(s, f"tssmooth ma double m = y, {opt}")
    assert "The smoother applied was" in out
    got = np.asarray(s.data.var("m").values, dtype=float)
    np.testing.assert_allclose(got, _reference(df, terms), rtol=1e-12, equal_nan=True)


def test_refusals_leave_data_unchanged():
    s, _ = _session()
    ok(s, "tssmooth ma m = y, window(1 1 1)")
    k = len(s.data.names) if hasattr(s.data, "names") else None
    for line, rc in (("tssmooth ma m = y, window(1)", 110), ("tssmooth ma q = y", 198),
                     ("tssmooth ma q = y, window(1 2)", 198), ("tssmooth ma q = nosuch, window(1)", 111),
                     ("tssmooth nl q = y", 199), ("tssmooth ma q = y, window(30 1 0)", 198)):
        got, out = run(s, line)
        assert got == rc, (line, out)
    assert "q" not in s.data
    if k is not None:
        assert len(s.data.names) == k
