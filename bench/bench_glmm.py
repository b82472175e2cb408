"""melogit beside lme4::glmer on 100,000 observations in 1,000 groups (issue 15's speed rows).

    python bench/bench_glmm.py            # 100,000 rows; glmer beside when Rscript has lme4
    python bench/bench_glmm.py --quick    # 10,000 rows in 100 groups, no R
    python bench/bench_glmm.py --json out.json
    python bench/bench_glmm.py --nested-only   # the two nested rows

Data (numpy seed): y ~ Bernoulli(expit(-.5 + .7 x - .3 x2 + u0 + u1 x)), (u0, u1) independent
N(0, .64) and N(0, .16) per group, x, x2 ~ N(0, 1); written as CSV to a temporary directory.
Models (method as named):
  1. random intercept, Laplace       melogit y x x2 || g:, intmethod(laplace)     glmer nAGQ = 1
  2. random intercept, 7-point AGQ   melogit y x x2 || g:                          glmer nAGQ = 7
  3. correlated random slope, Laplace  melogit y x x2 || g: x, cov(unstr) intmethod(laplace)
                                                                                glmer (x | g)
Nested rows (issue 15's multi-level part): 100,000 rows in 1,000 level-3 groups of 10 level-2
groups each (y ~ Bernoulli(expit(-.5 + .7 x - .3 x2 + u_g + v_gc)), sd .8 and .6):
  4. melogit y x x2 || g: || c:, intmethod(laplace)                          glmer (1|g/c)
  5. melogit y x x2 || g: || c:   (Stata's default: mvaghermite 7, nested; glmer has no
     quadrature for nested effects, so nothing is beside it)
hlmshell: the second of two fits in one session (a child Python importing hlmshell), so the
import and the data are not counted; glmer: the glmer() call inside R (system.time, default
settings). ratio = glmer / hlmshell (issue 15's goal: at least 5 for the same method). The log
likelihoods of both are printed: for nAGQ = 7 they differ in the 4th-5th digit because the
quadratures adapt differently (glmer at the mode and curvature, hlmshell at the posterior mean
and variance, as Stata's mvaghermite).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODELS = [
    ("RI Laplace", "melogit y x x2 || g:, intmethod(laplace) nolog", "y ~ x + x2 + (1|g)", 1),
    ("RI mvaghermite 7", "melogit y x x2 || g:, nolog", "y ~ x + x2 + (1|g)", 7),
    ("RS Laplace", "melogit y x x2 || g: x, cov(unstructured) intmethod(laplace) nolog",
     "y ~ x + x2 + (x|g)", 1),
]
NESTED = [
    ("3-level Laplace", "melogit y x x2 || g: || c:, intmethod(laplace) nolog", "y ~ x + x2 + (1|g/c)", 1),
    ("3-level mvagh. 7", "melogit y x x2 || g: || c:, nolog", "y ~ x + x2 + (1|g/c)", 1),
]
CHILD = r"""
import sys, time
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session
s = Session(Capture()); it = Interpreter(s)
it.run_line('import delimited "%s", clear')
it.run_line(sys.argv[1])
t = time.perf_counter(); rc = it.run_line(sys.argv[1]); t = time.perf_counter() - t
print("BENCH", rc, t, repr(s.e.scalars.get("ll") if s.e else None))
"""


def make_data(n: int, G: int, path: Path, seed: int = 20261130) -> Path:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, G, n)
    x, x2 = rng.normal(size=(2, n))
    u0, u1 = rng.normal(size=G) * 0.8, rng.normal(size=G) * 0.4
    eta = -0.5 + 0.7 * x - 0.3 * x2 + u0[g] + u1[g] * x
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    with open(path, "w") as f:
        f.write("y,x,x2,g\n")
        for row in zip(y, x, x2, g):
            f.write(f"{row[0]},{row[1]:.17g},{row[2]:.17g},{row[3]}\n")
    return path


def make_nested_data(n: int, G: int, path: Path, seed: int = 20261201) -> Path:
    """G level-3 groups g of 10 level-2 groups c each, random intercepts at both levels."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, G, n)
    c = rng.integers(0, 10, n)
    x, x2 = rng.normal(size=(2, n))
    u, v = rng.normal(size=G) * 0.8, rng.normal(size=(G, 10)) * 0.6
    eta = -0.5 + 0.7 * x - 0.3 * x2 + u[g] + v[g, c]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    with open(path, "w") as f:
        f.write("y,x,x2,g,c\n")
        for row in zip(y, x, x2, g, c):
            f.write(f"{row[0]},{row[1]:.17g},{row[2]:.17g},{row[3]},{row[4]}\n")
    return path


def time_hlm(csv: Path, cmd: str, timeout: float) -> dict:
    code = CHILD % str(csv)
    try:
        r = subprocess.run([sys.executable, "-c", code, cmd], capture_output=True, text=True,
                           timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout} s"}
    for line in r.stdout.splitlines():
        if line.startswith("BENCH"):
            _, rc, t, ll = line.split(maxsplit=3)
            return {"rc": int(rc), "secs": float(t), "ll": None if ll == "None" else float(ll)}
    return {"error": (r.stderr or r.stdout)[-300:]}


def have_lme4() -> bool:
    if shutil.which("Rscript") is None:
        return False
    r = subprocess.run(["Rscript", "-e", "library(lme4)"], capture_output=True)
    return r.returncode == 0


def time_glmer(csv: Path, formula: str, nagq: int, timeout: float) -> dict:
    code = (f'suppressMessages(library(lme4)); d <- read.csv("{csv}");'
            f't <- system.time(m <- glmer({formula}, data = d, family = binomial, nAGQ = {nagq}));'
            'cat("BENCH", t[["elapsed"]], format(as.numeric(logLik(m)), digits = 15), "\\n")')
    try:
        r = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout} s"}
    for line in r.stdout.splitlines():
        if line.startswith("BENCH"):
            _, t, ll = line.split()
            return {"secs": float(t), "ll": float(ll)}
    return {"error": r.stderr[-300:]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 rows in 100 groups, no R")
    ap.add_argument("--json", help="write every number to this file")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--nested-only", action="store_true", help="only the nested rows (4, 5)")
    a = ap.parse_args(argv)
    n, G = (10_000, 100) if a.quick else (100_000, 1_000)
    r_ok = not a.quick and have_lme4()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        csv = make_data(n, G, Path(tmp) / "glmm.csv")
        for label, cmd, formula, nagq in ([] if a.nested_only else MODELS):
            h = time_hlm(csv, cmd, a.timeout)
            r = time_glmer(csv, formula, nagq, a.timeout) if r_ok else {}
            out.append({"model": label, "rows": n, "hlmshell": h, "glmer": r})
        nested = make_nested_data(n, G, Path(tmp) / "nested.csv")
        for label, cmd, formula, nagq in NESTED:
            h = time_hlm(nested, cmd, a.timeout)
            # glmer beside the Laplace row only: it has no quadrature for nested effects
            r = time_glmer(nested, formula, nagq, a.timeout) if r_ok and "Laplace" in label else {}
            out.append({"model": label, "rows": n, "hlmshell": h, "glmer": r})
    print(f"\nmelogit on {n:,} rows, {G:,} groups (hlmshell: warm in-session fit)")
    print(f"{'model':<20}{'hlmshell s':>12}{'glmer s':>10}{'ratio':>8}   log likelihoods")
    for rec in out:
        h, r = rec["hlmshell"], rec["glmer"]
        hs = h.get("secs")
        rs = r.get("secs")
        ratio = f"{rs / hs:7.1f}x" if hs and rs else "      -"
        lls = f"{h.get('ll')} / {r.get('ll')}" if rs else f"{h.get('ll')}"
        print(f"{rec['model']:<20}{(f'{hs:.3f}' if hs else 'ERROR'):>12}"
              f"{(f'{rs:.2f}' if rs else '-'):>10}{ratio:>8}   {lls}")
        if h.get("error"):
            print("   hlmshell:", h["error"])
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
