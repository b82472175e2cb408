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

Real-file shapes (`--shapes`; two do-files of a public corpus stopped on these fits):
  6. xtprobit y x1-x12, re on 28,315 rows in 5,663 panels of 5 (the shape of Wooldridge's
     lfp.dta: unscaled age and age squared, means of the time-varying covariates, sigma_u ~ 4,
     many panels all 0 or all 1); Stata's default 12-point mvaghermite, glmer nAGQ = 12 with
     the probit link beside;
  7. melogit y a || g: a, cov(unstructured) intpoints(7) on 63,388 rows in 118 groups of very
     unequal size (the largest 14,000 rows: the shape of a census teaching extract with
     a = age group 1..8 and 82% ones); no glmer beside (it has no quadrature for random
     slopes) -- the Laplace fit of the same model (row 8) is compared with glmer's.
  8. row 7 with intmethod(laplace), glmer (a | g) nAGQ = 1 beside.
These rows time one fit in a fresh session (what a do-file pays, imports excluded) and give
the CPU seconds too (on a loaded machine the wall time says little).
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
if sys.argv[2] == "warm":
    it.run_line(sys.argv[1])
c = time.process_time()
t = time.perf_counter(); rc = it.run_line(sys.argv[1]); t = time.perf_counter() - t
c = time.process_time() - c
print("BENCH", rc, t, repr(s.e.scalars.get("ll") if s.e else None), c)
"""
SHAPES = [
    ("lfp-shaped xtprobit", "xtprobit y x1-x12, re", "y ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + "
     "x9 + x10 + x11 + x12 + (1|g)", 12, "probit", "lfp"),
    ("census-shaped RS mvagh. 7", "melogit y a || g: a, cov(unstructured) intpoints(7) nolog",
     "", 0, "logit", "census"),
    ("census-shaped RS Laplace",
     "melogit y a || g: a, cov(unstructured) intmethod(laplace) nolog", "y ~ a + (a|g)", 1,
     "logit", "census"),
]


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


def make_lfp_shaped(path: Path, seed: int = 20261202) -> Path:
    """5,663 panels of 5 periods: 12 covariates as in the lfp model (kids, log income, their
    panel means, education, black, age, age squared, four period dummies), a probit with a
    random intercept of sd 4; the covariates keep their natural units (age^2 in the thousands)."""
    rng = np.random.default_rng(seed)
    G, T = 5663, 5
    g = np.repeat(np.arange(G), T)
    kids = np.clip(np.round(rng.normal(2, 1.2, G)[g] + rng.normal(0, .3, G * T)), 0, 9)
    linc = rng.normal(10.3, .5, G)[g] + rng.normal(0, .2, G * T)
    kbar = np.bincount(g, kids)[g] / T
    lbar = np.bincount(g, linc)[g] / T
    educ = np.clip(np.round(rng.normal(12.5, 2.3, G)), 5, 17)[g]
    black = (rng.random(G) < .1).astype(float)[g]
    age = np.clip(np.round(rng.normal(39, 7.5, G)), 20, 60)[g]
    agesq = age ** 2
    per = np.tile(np.eye(T)[:, 1:], (G, 1))
    X = np.column_stack([kids, linc, kbar, lbar, educ, black, age, agesq, per])
    b = np.array([-.24, -.23, -.83, -1.4, .44, .79, .57, -.0077, -.03, -.1, -.13, -.17])
    eta = X @ b + 4.0 * rng.normal(size=G)[g]
    eta -= np.mean(eta) - 1.2                    # about 3 in 4 ones, as lfp
    y = (rng.random(G * T) < _phi(eta)).astype(int)
    with open(path, "w") as f:
        f.write("y," + ",".join(f"x{j}" for j in range(1, 13)) + ",g\n")
        for i in range(G * T):
            f.write(f"{y[i]}," + ",".join(f"{v:.17g}" for v in X[i]) + f",{g[i]}\n")
    return path


def _phi(v):
    from math import erf, sqrt
    return np.array([0.5 * (1 + erf(t / sqrt(2))) for t in v])


def make_census_shaped(path: Path, seed: int = 20261203) -> Path:
    """63,388 rows in 118 groups whose sizes range from 3 to ~14,000 (a log-normal spread),
    a = age group 1..8, y ~ Bernoulli(expit(1.9 - .2 (a - 4) + u0 + u1 (a - 4))) with an
    intercept sd .5, slope sd .1 and correlation -.5 (about 82% ones)."""
    rng = np.random.default_rng(seed)
    n, G = 63388, 118
    w = np.exp(rng.normal(0, 1.6, G))
    w[0] = w.max() * 3
    g = rng.choice(G, size=n, p=w / w.sum())
    a = rng.integers(1, 9, n).astype(float)
    z = rng.normal(size=(G, 2))
    u0 = .5 * z[:, 0]
    u1 = .1 * (-.5 * z[:, 0] + np.sqrt(.75) * z[:, 1])
    eta = 1.9 - .2 * (a - 4) + u0[g] + u1[g] * (a - 4)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    with open(path, "w") as f:
        f.write("y,a,g\n")
        for row in zip(y, a, g):
            f.write(f"{row[0]},{row[1]:.0f},{row[2]}\n")
    return path


def time_hlm(csv: Path, cmd: str, timeout: float, warm: bool = True) -> dict:
    code = CHILD % str(csv)
    try:
        r = subprocess.run([sys.executable, "-c", code, cmd, "warm" if warm else "cold"],
                           capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout} s"}
    return parse_child(r.stdout) or {"error": (r.stderr or r.stdout)[-300:]}


def parse_child(stdout: str) -> dict | None:
    """The child's `BENCH rc wall ll cpu` line as numbers (None when there is none)."""
    for line in stdout.splitlines():
        if line.startswith("BENCH"):
            _, rc, t, ll, cpu = line.split()
            return {"rc": int(rc), "secs": float(t), "ll": None if ll == "None" else float(ll),
                    "cpu": float(cpu)}
    return None


def have_lme4() -> bool:
    if shutil.which("Rscript") is None:
        return False
    r = subprocess.run(["Rscript", "-e", "library(lme4)"], capture_output=True)
    return r.returncode == 0


def time_glmer(csv: Path, formula: str, nagq: int, timeout: float, link: str = "logit") -> dict:
    code = (f'suppressMessages(library(lme4)); d <- read.csv("{csv}");'
            f't <- system.time(m <- glmer({formula}, data = d, family = binomial("{link}"), '
            f'nAGQ = {nagq}));'
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
    ap.add_argument("--shapes", action="store_true", help="only the real-file shapes (6-8)")
    a = ap.parse_args(argv)
    n, G = (10_000, 100) if a.quick else (100_000, 1_000)
    r_ok = not a.quick and have_lme4()
    out = []
    if a.shapes:
        return report(shape_rows(a.timeout, r_ok), n, G, a.json)
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
    return report(out, n, G, a.json)


def shape_rows(timeout: float, r_ok: bool) -> list:
    """Rows 6-8: one fresh-session fit each on the real-file shapes, glmer beside where it has
    the same method."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {"lfp": make_lfp_shaped(Path(tmp) / "lfp.csv"),
                 "census": make_census_shaped(Path(tmp) / "census.csv")}
        for label, cmd, formula, nagq, link, which in SHAPES:
            h = time_hlm(files[which], cmd, timeout, warm=False)
            r = (time_glmer(files[which], formula, nagq, timeout, link)
                 if r_ok and formula else {})
            out.append({"model": label, "rows": "28,315" if which == "lfp" else "63,388",
                        "hlmshell": h, "glmer": r})
    return out


def report(out: list, n: int, G: int, json_path) -> int:
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
        if h.get("cpu") is not None:
            print(f"   hlmshell CPU {h['cpu']:.2f} s")
        if h.get("error"):
            print("   hlmshell:", h["error"])
    if json_path:
        Path(json_path).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
