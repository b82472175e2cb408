"""Per-command overhead of the interpreter with a big dataset in memory.

    python bench/bench_session.py              # 5,000,000 observations x 5 doubles
    python bench/bench_session.py --rows 1e6   # smaller

Every command runs inside session.snapshot() (restored if it fails). With copy-on-write
columns (data/dataset.py) a snapshot copies no array, so the overhead of a command does not
depend on the size of the data. Prints:
  - session.snapshot(): time and tracemalloc peak (bytes allocated while taking it);
  - `forvalues i = 1/1000 { local x = `i' }` (issue 10 acceptance: under 2 s), and the same
    loop around `label variable` (a command that changes the data, so no registry flag can let
    the interpreter skip copying it) -- per-command overhead in microseconds;
  - `summarize`: time and tracemalloc peak, against the size of one column and of the data.
Speed is measured here, not in the unit tests (tests/test_cow.py checks the structural
properties: no array memory in a snapshot, no copy of the data in summarize).
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from hlmshell.data.dataset import Dataset, Variable
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

NVARS = 5


def big_session(rows: int) -> Session:
    s = Session(Capture())
    Interpreter(s)
    rng = np.random.default_rng(1)
    ds = Dataset()
    for j in range(NVARS):
        ds.add(Variable(f"x{j + 1}", rng.standard_normal(rows), "double"))
    s.data = ds
    return s


def run(s: Session, text: str) -> float:
    s.out.stream.seek(0)
    s.out.stream.truncate()
    t0 = time.perf_counter()
    rc = s.interpreter.run_line(text)
    dt = time.perf_counter() - t0
    assert rc == 0, (text, s.out.getvalue())
    return dt


def peak(fn) -> tuple[float, int]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return dt, top


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=float, default=5e6)
    ap.add_argument("--loops", type=int, default=1000)
    a = ap.parse_args()
    rows, loops = int(a.rows), a.loops
    s = big_session(rows)
    col = rows * 8
    print(f"data: {rows:,} obs x {NVARS} doubles = {col * NVARS / 2**20:,.0f} MiB "
          f"(one column {col / 2**20:,.0f} MiB)")

    dt, top = peak(s.snapshot)
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        s.snapshot()
    each = (time.perf_counter() - t0) / reps
    print(f"session.snapshot():                  {each * 1e6:10.1f} us   peak {top / 2**20:10.3f} MiB")

    for label, body in (("local x = `i'", "local x = `i'"),
                        ("label variable x1 \"`i'\"", "label variable x1 \"`i'\"")):
        empty = run(s, f"forvalues i = 1/{loops} {{\n}}")
        dt = run(s, f"forvalues i = 1/{loops} {{\n{body}\n}}")
        per = (dt - empty) / loops
        print(f"forvalues i = 1/{loops} {{ {label} }}: {dt:8.3f} s   "
              f"({per * 1e6:,.0f} us per command)")

    dt, top = peak(lambda: run(s, "summarize"))
    print(f"summarize (all {NVARS}):               {dt:8.3f} s   peak {top / 2**20:10.1f} MiB "
          f"({top / col:.2f} columns, {top / (col * NVARS):.2f} of the data)")
    dt, top = peak(lambda: run(s, "count if x1 > 0"))
    print(f"count if x1 > 0:                     {dt:8.3f} s   peak {top / 2**20:10.1f} MiB "
          f"({top / col:.2f} columns)")
    dt, top = peak(lambda: run(s, "summarize x1"))
    print(f"summarize x1:                        {dt:8.3f} s   peak {top / 2**20:10.1f} MiB "
          f"({top / col:.2f} columns)")


if __name__ == "__main__":
    main()
