"""Copy-on-write columns (issue 10): stored value arrays are read-only, so a snapshot -- the
one the interpreter takes before every command, and `preserve` -- copies no array, `summarize`
copies no data, and rolling back a failed command stays exact.

Speed (the 5,000,000 x 5 `forvalues ... { local x = `i' }` loop under 2 s) is measured by
bench/bench_session.py; these tests check the structural properties behind it.
"""
from __future__ import annotations

import hashlib
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hlmshell.data.dataset import Dataset, Variable
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

ROWS, NVARS = 5_000_000, 5
MIB = 2 ** 20


def fingerprint(ds: Dataset | None):
    """Everything observable about a dataset, values by digest."""
    if ds is None:
        return None
    out = []
    for nm, v in ds.vars.items():
        vals = v.values
        digest = (hashlib.sha1(repr(list(vals)).encode()).hexdigest() if vals.dtype == object
                  else hashlib.sha1(np.ascontiguousarray(vals).tobytes()).hexdigest())
        out.append((nm, v.name, v.vtype, v.format, v.label, v.vallab, len(vals), digest))
    return (tuple(out), repr(sorted((k, sorted(t.items())) for k, t in ds.value_labels.items())),
            tuple(ds.sortedby), ds.label, ds.n)


def session(setup=()) -> Session:
    s = Session(Capture())
    Interpreter(s)
    for line in setup:
        assert s.interpreter.run_line(line) == 0, (line, s.out.getvalue())
    return s


def run(s: Session, line: str) -> int:
    s.out.stream.seek(0)
    s.out.stream.truncate()
    return s.interpreter.run_line(line)


def traced_peak(fn) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---- the big dataset: nothing is copied --------------------------------------------------------
@pytest.fixture(scope="module")
def big():
    s = session()
    rng = np.random.default_rng(7)
    ds = Dataset()
    for j in range(NVARS):
        ds.add(Variable(f"x{j + 1}", rng.standard_normal(ROWS), "double"))
    s.data = ds
    return s


def test_snapshot_allocates_no_array_memory(big):
    col = ROWS * 8
    snap = {}
    top = traced_peak(lambda: snap.update(big.snapshot()))
    assert top < col / 100, f"snapshot() allocated {top / MIB:.1f} MiB"
    assert all(snap["data"].vars[nm].values is big.data.vars[nm].values for nm in big.data.names)
    assert run(big, "preserve") == 0 and run(big, "restore") == 0    # warm up the parser
    top = traced_peak(lambda: run(big, "preserve"))
    assert top < col / 10 and big.preserved is not None
    assert big.preserved.vars["x1"].values is big.data.vars["x1"].values
    assert run(big, "restore") == 0


def test_commands_in_a_loop_copy_no_column(big):
    """1,000 passes of a command that changes the data (so no flag can spare its snapshot):
    the whole loop allocates less than one column."""
    col = ROWS * 8
    top = traced_peak(lambda: run(big, 'forvalues i = 1/1000 {\nlabel variable x1 "`i\'"\n'
                                       "local x = `i'\n}"))
    assert top < col / 10, f"the loop allocated {top / MIB:.1f} MiB"
    assert big.data.var("x1").label == "1000"


def test_summarize_makes_no_copy_of_the_data(big):
    col = ROWS * 8
    top = traced_peak(lambda: run(big, "summarize"))
    assert big.r.scalars["N"] == ROWS
    # one temporary column (the deviations from the mean) and masks: not the dataset, not
    # even a copy of each column it summarizes
    assert top < 2 * col, f"summarize allocated {top / MIB:.1f} MiB ({top / col:.2f} columns)"


# ---- read-only columns --------------------------------------------------------------------------
DATA = ["set obs 8", "gen x = _n", "gen double y = x / 3", 'gen s = "a" + string(x)',
        "gen byte g = mod(x, 3)", 'label define L 0 "zero" 1 "one"', "label values g L"]


def test_stored_arrays_are_read_only():
    s = session(DATA + ["replace x = x * 2 in 2/4", "sort y", "egen m = mean(x), by(g)",
                        "recode g (0 = 5)", "rename y w", "encode s, gen(e)", "set obs 10",
                        "tostring g, replace", "destring g, replace"])
    for v in s.data.vars.values():
        assert not v.values.flags.writeable, v.name
        with pytest.raises(ValueError):
            v.values[0] = v.values[1]
    v = s.data.var("x")
    v.values = np.arange(10.0)           # assigning a new array freezes it
    assert not v.values.flags.writeable


def test_snapshot_shares_arrays_not_metadata():
    s = session(DATA)
    before = fingerprint(s.data)
    snap = s.snapshot()
    ds = s.data
    ds.var("x").label = "changed"
    ds.var("x").format = "%5.2f"
    ds.var("g").vallab = None
    ds.var("y").values = ds.var("y").values * 2
    ds.update("x", vtype="double")
    ds.value_labels["L"][7] = "seven"
    ds.rename("s", "t")
    ds.take(np.arange(ds.n)[::-1])
    ds.set_obs(12)
    ds.sortedby.append("x")
    ds.label = "changed"
    assert fingerprint(snap["data"]) == before
    s.restore(snap)
    assert fingerprint(s.data) == before


# ---- property: failures roll back exactly, successes leave earlier snapshots alone ---------------
COMMANDS = [
    # succeed (mostly)
    "replace x = x + 1", "replace x = 2.5 in 1", "replace y = . if g == 1", 'replace s = "zz" in 2',
    "gen z = x * 2", "drop z", "sort y", "gsort -x", "sort g x", 'label variable x "the x"',
    'label define L 2 "two", add', "label values g L", "label values g", "format x %9.2f",
    "rename y w", "rename w y", "recode g (1 = 2)", "egen mx = max(x), by(g)", "drop mx",
    "set obs 12", "keep in 1/10", "tostring g, replace", "destring g, replace",
    "encode s, gen(e)", "drop e", "order y", "preserve", "restore", "compress", "summarize",
    "replace x = x[_n-1] if _n > 1", "drop if x > 1e9", "clonevar xc = x", "drop xc",
    # fail
    "replace nosuch = 1", "gen x = 1", "sort nosuch", "rename x y", "label values s L",
    "recode s (1 = 2)", "drop nosuch", 'replace x = "a"', "summarize nosuch", "keep in 50/60",
    "gen q = 1 +", "egen = mean(x)", "encode x, gen(q)", "destring s, replace",
    "replace x = 1, nopromote bogus", "order nosuch", "format x %zz", "restore",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(COMMANDS), min_size=1, max_size=12))
def test_failures_roll_back_and_snapshots_do_not_move(seq):
    s = session(DATA)
    for line in seq:
        before, preserved = fingerprint(s.data), fingerprint(s.preserved)
        snap = s.snapshot()
        rc = run(s, line)
        assert rc != 9999 and "unexpected error" not in s.out.getvalue(), (line, s.out.getvalue())
        if rc:
            assert fingerprint(s.data) == before, line
        if line not in ("preserve", "restore"):
            assert fingerprint(s.preserved) == preserved, line
        # whatever the command did, a snapshot taken before it still holds the old data
        assert fingerprint(snap["data"]) == before, line
        for v in s.data.vars.values():
            assert not v.values.flags.writeable, (line, v.name)


def test_successful_replace_does_not_change_an_earlier_snapshot():
    s = session(DATA)
    before = fingerprint(s.data)
    snap = s.snapshot()
    assert run(s, "replace x = x * 100") == 0
    assert run(s, 'label variable x "new"') == 0
    assert fingerprint(s.data) != before
    assert fingerprint(snap["data"]) == before
    s.restore(snap)
    assert fingerprint(s.data) == before
