"""Speed of hlmshell's mixed-model engine, beside statsmodels MixedLM and R's lme4.

Run from the project root:

    python bench/bench_mixed.py            # notes models + 200,000-row synthetic model
    python bench/bench_mixed.py --quick    # skip the slow competitors on the big model

Prints the time per fit of each course-notes model (hsb data) and of a synthetic model with
200,000 rows, 2,000 groups and 3 correlated random effects (unstructured), then the same big
model fitted by statsmodels (if importable) and lme4 (if `Rscript` with lme4 is on PATH), all
by ML, with the ratios. Competitors missing are reported as skipped.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hsb_models import models  # noqa: E402
from hlmshell.engine.lmm import fit_lmm  # noqa: E402
from hlmshell.engine.types import RandomBlock  # noqa: E402


def best_time(fn, repeat):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def synthetic(n=200_000, groups=2_000, seed=20240601):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, size=n)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    x3 = rng.normal(size=n)
    cov = np.array([[0.5, 0.1, 0.2], [0.1, 0.3, -0.1], [0.2, -0.1, 2.0]])
    u = rng.multivariate_normal(np.zeros(3), cov, size=groups)
    y = 1.0 + 0.5 * x1 - 0.3 * x2 + 0.2 * x3 + u[g, 0] * x1 + u[g, 1] * x2 + u[g, 2] \
        + rng.normal(scale=1.5, size=n)
    X = np.column_stack([x1, x2, x3, np.ones(n)])
    Z = np.column_stack([x1, x2, np.ones(n)])
    return y, X, Z, g


def nested3(n=200_000, schools=400, classes_per=10, seed=7):
    """Three levels: school (x and _cons, unstructured) > class (_cons)."""
    rng = np.random.default_rng(seed)
    cls = rng.integers(0, schools * classes_per, size=n)
    sch = cls // classes_per
    x = rng.normal(size=n)
    u = rng.multivariate_normal([0, 0], [[0.3, 0.1], [0.1, 1.0]], size=schools)
    v = rng.normal(scale=0.7, size=schools * classes_per)
    y = 2 + 0.5 * x + u[sch, 0] * x + u[sch, 1] + v[cls] + rng.normal(size=n)
    X = np.column_stack([x, np.ones(n)])
    blocks = [RandomBlock(group=sch, Z=np.column_stack([x, np.ones(n)]), names=["x", "_cons"],
                          covariance="unstructured", label="school", depth=1),
              RandomBlock(group=cls, Z=np.ones((n, 1)), names=["_cons"], covariance="identity",
                          label="class", depth=2)]
    return y, X, blocks


def run_statsmodels(y, X, Z, g):
    try:
        import statsmodels.api as sm
    except ImportError:
        return None, "statsmodels not installed"
    import warnings
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.MixedLM(y, X, groups=g, exog_re=Z).fit(reml=False, method="lbfgs")
    return time.perf_counter() - t, f"ll {res.llf:.3f}"


R_SCRIPT = r"""
suppressMessages(library(lme4))
d <- read.csv(commandArgs(TRUE)[1])
t <- system.time(m <- lmer(y ~ x1 + x2 + x3 + (x1 + x2 | g), data = d, REML = FALSE))
cat(t[["elapsed"]], as.numeric(logLik(m)), "\n")
"""


def run_lme4(y, X, Z, g):
    if shutil.which("Rscript") is None:
        return None, "Rscript not found"
    chk = subprocess.run(["Rscript", "-e", "suppressMessages(library(lme4))"], capture_output=True)
    if chk.returncode != 0:
        return None, "lme4 not installed"
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "d.csv")
        rs = os.path.join(tmp, "fit.R")
        with open(csv, "w") as fh:
            fh.write("y,x1,x2,x3,g\n")
            np.savetxt(fh, np.column_stack([y, X[:, 0], X[:, 1], X[:, 2], g]), delimiter=",",
                       fmt=["%.17g"] * 4 + ["%d"])
        Path(rs).write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", rs, csv], capture_output=True, text=True)
        if out.returncode != 0:
            return None, "lme4 failed: " + out.stderr.strip()[-200:]
        secs, ll = out.stdout.split()[:2]
        return float(secs), f"ll {float(ll):.3f} (lmer call only, data load excluded)"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="skip statsmodels and lme4")
    args = ap.parse_args(argv)

    print("Course-notes models (hsb, 7,185 obs, 160 groups): best of 5, whole fit incl. SEs")
    for name, (y, X, blocks) in models().items():
        secs, fit = best_time(lambda: fit_lmm(y, X, blocks, reml=name == "empty_reml"), 5)
        print(f"  {name:18s} {secs * 1000:8.1f} ms   ll = {fit.ll:.3f}")

    y, X, Z, g = synthetic()
    blocks = [RandomBlock(group=g, Z=Z, names=["x1", "x2", "_cons"], covariance="unstructured",
                          label="g", depth=1)]
    secs, fit = best_time(lambda: fit_lmm(y, X, blocks), 3)
    print(f"\nSynthetic: {len(y):,} obs, {g.max() + 1:,} groups, 3 correlated random effects")
    print(f"  hlmshell           {secs:8.3f} s    ll = {fit.ll:.3f}")
    y3, X3, b3 = nested3()
    secs3, fit3 = best_time(lambda: fit_lmm(y3, X3, b3), 3)
    print(f"  hlmshell, 3 levels {secs3:8.3f} s    ll = {fit3.ll:.3f}  "
          f"({len(y3):,} obs, 400 schools > 4,000 classes; no competitor run)")
    if args.quick:
        return
    for label, runner in (("statsmodels", run_statsmodels), ("lme4", run_lme4)):
        other, info = runner(y, X, Z, g)
        if other is None:
            print(f"  {label:18s} skipped ({info})")
        else:
            print(f"  {label:18s} {other:8.3f} s    {info}   ratio {other / secs:6.1f}x")


if __name__ == "__main__":
    main()
