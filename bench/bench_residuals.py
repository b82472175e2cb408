"""`mixed ..., residuals(ar 1, t(t))` on a 200,000-row panel: hlmshell's speed beside nlme.

Run from the project root, in the venv hlmshell is installed in:

    python bench/bench_residuals.py                  # 20,000 and 200,000 rows, nlme beside
    python bench/bench_residuals.py --quick          # 20,000 rows only, hlmshell only (no R)
    python bench/bench_residuals.py --no-slow-peers  # no nlme fit expected > 30 s
    python bench/bench_residuals.py --hlmshell PATH  # an `hlmshell` executable instead of
                                                     # `python -m hlmshell`
    python bench/bench_residuals.py --json out.json  # also write every number

The panel: `subjects` x 10 waves (t = 1..10), sorted by id and t,
    y = 1 + .5 t + .3 x + u0 + u1 t + e,   (u0, u1) ~ N(0, PANEL_COV) per subject,
    x ~ N(0, 1),   e stationary AR(1) within subject, rho .6, Var(e) = 1,
generated deterministically (numpy seed) and written as CSV and as .dta (pandas `to_stata`,
version 118; hlmshell's own writer when pandas is missing) to a temporary directory
(`--data-dir` keeps them).

Measured, as bench/bench_speed.py does (its process runner is reused):
  - hlmshell warm fit: best whole-process time of a do-file `use` + fit + fit minus the best of
    `use` + fit (the issue's in-session cost; goal: < 2 s on 200,000 rows); `in-proc`: the
    best warm fit timed inside one session (bench_speed.py's `_session` child, which imports
    hlmshell into this Python -- so not with --hlmshell);
  - hlmshell whole process: best time of the `use` + fit do-file;
  - nlme (when `Rscript` with nlme is on PATH): `lme(y ~ t + x, random = ~ t | id, correlation =
    corAR1(form = ~ t | id), method = "ML")`, the lme() call timed inside R (system.time, data
    read beforehand), and the whole Rscript process (start, library(nlme), read.csv, fit).
    ratio = nlme fit / hlmshell warm fit.
The fit command is FIT_CMD below. While hlmshell cannot fit it the table shows ERROR and the
error text is printed below it (the script does not fail).
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import bench_speed as bs  # noqa: E402  (process runner, parsers, memory cap)

BASE_SEED = 20240917
WAVES = 10
FULL_SUBJECTS = 20_000          # 200,000 rows
QUICK_SUBJECTS = 2_000          # 20,000 rows
RHO = 0.6
PANEL_COV = np.array([[1.0, 0.05], [0.05, 0.09]])          # (u0, u1)
FIT_CMD = "mixed y t x || id: t, cov(unstructured) residuals(ar 1, t(t)) nolog"
GOAL_S = 2.0                    # issue: the 200,000-row panel fits in < 2 s
GOAL_ROWS = FULL_SUBJECTS * WAVES
SLOW_PEER_S = 30.0              # --no-slow-peers: skip nlme fits expected to take longer
NLME_MARK = "BENCH_NLME"
LL_MARK = bs.LL_MARK


# ---- data --------------------------------------------------------------------------------------
def panel_columns(subjects: int, waves: int = WAVES, seed: int = BASE_SEED) -> dict:
    """{name: (values, storage type)} for y, t, x, id; subjects x waves rows sorted by id, t."""
    rng = np.random.default_rng([seed, subjects, waves])
    n = subjects * waves
    sid = np.repeat(np.arange(1, subjects + 1), waves)
    t = np.tile(np.arange(1, waves + 1), subjects)
    x = rng.standard_normal(n)
    u = rng.multivariate_normal(np.zeros(2), PANEL_COV, size=subjects)
    z = rng.standard_normal((subjects, waves))
    e = np.empty((subjects, waves))
    e[:, 0] = z[:, 0]                                   # stationary start: Var(e) = 1
    s = math.sqrt(1.0 - RHO * RHO)
    for k in range(1, waves):
        e[:, k] = RHO * e[:, k - 1] + s * z[:, k]
    y = 1.0 + 0.5 * t + 0.3 * x + u[sid - 1, 0] + u[sid - 1, 1] * t + e.ravel()
    return {"y": (y, "double"), "t": (t.astype(np.float64), "byte"), "x": (x, "double"),
            "id": (sid.astype(np.float64), "long")}


def write_csv(columns: dict, path: Path) -> Path:
    names = list(columns)
    with open(path, "w") as fh:
        fh.write(",".join(names) + "\n")
        fmt = ["%.17g" if columns[n][1] in ("double", "float") else "%d" for n in names]
        np.savetxt(fh, np.column_stack([columns[n][0] for n in names]), delimiter=",", fmt=fmt)
    return path


_PD_TYPES = {"byte": np.int8, "int": np.int16, "long": np.int32, "float": np.float32,
             "double": np.float64}


def write_dta(columns: dict, path: Path) -> Path:
    """pandas' to_stata (version 118); hlmshell's writer when pandas is not importable."""
    try:
        import pandas as pd
    except ImportError:
        return bs.write_columns(columns, path)
    df = pd.DataFrame({n: np.asarray(v).astype(_PD_TYPES[t]) for n, (v, t) in columns.items()})
    df.to_stata(path, write_index=False, version=118)
    return path


# ---- nlme -------------------------------------------------------------------------------------
R_FIT = r"""
args <- commandArgs(TRUE)
suppressPackageStartupMessages(library(nlme))
t0 <- proc.time()[["elapsed"]]
d <- read.csv(args[1])
load <- proc.time()[["elapsed"]] - t0
msg <- ""
el <- system.time(m <- tryCatch(
  lme(y ~ t + x, data = d, random = ~ t | id, correlation = corAR1(form = ~ t | id),
      method = "ML"),
  error = function(e) { msg <<- conditionMessage(e); NULL }))[["elapsed"]]
if (is.null(m)) {
  cat("BENCH_NLME_MSG", gsub("\n", " ", msg), "\n")
} else {
  cat(sprintf("BENCH_NLME %.6f %.17g %d %.3f %.10g\n", el, as.numeric(logLik(m)), nrow(d), load,
              coef(m$modelStruct$corStruct, unconstrained = FALSE)[[1]]))
}
"""


def parse_nlme(text: str) -> dict | None:
    """`BENCH_NLME secs ll nobs load_secs rho` or `BENCH_NLME_MSG text`."""
    tok = bs._last_match(rf"^{NLME_MARK} (\S+) (\S+) (\d+) (\S+) (\S+)\s*$", text)
    if tok is not None:
        return {"secs": float(tok[0]), "ll": float(tok[1]), "nobs": int(tok[2]),
                "load_secs": float(tok[3]), "rho": float(tok[4])}
    msg = bs._last_match(rf"^{NLME_MARK}_MSG (.*)$", text)
    return {"error": f"lme failed: {msg.strip()}"} if msg is not None else None


class Nlme:
    def __init__(self, workdir: Path, timeout: float, enabled: bool):
        self.timeout = timeout
        self.reason = "" if enabled else "--quick"
        self.version = ""
        if enabled:
            self._detect()
        self.script = workdir / "bench_nlme.R"
        self.script.write_text(R_FIT)

    @property
    def ok(self) -> bool:
        return not self.reason

    def _detect(self) -> None:
        if shutil.which("Rscript") is None:
            self.reason = "Rscript not found"
            return
        r = bs.run_process(["Rscript", "-e", 'cat("nlme", as.character(packageVersion("nlme")),'
                            ' "R", paste(R.version$major, R.version$minor, sep = "."), "\\n")'],
                           timeout=60)
        if not r.ok or "nlme" not in r.out:
            self.reason = "R package nlme not installed"
            return
        self.version = r.out.strip().splitlines()[-1]

    def fit(self, csv: Path) -> dict:
        if not self.ok:
            return {"skipped": self.reason}
        r = bs.run_process(["Rscript", str(self.script), str(csv)], timeout=self.timeout)
        res = parse_nlme(r.out) if r.ok else None
        if res is None:
            return {"error": r.why(), "whole_s": r.wall}
        res["whole_s"] = r.wall
        return res


# ---- hlmshell ---------------------------------------------------------------------------------
class Hlm:
    def __init__(self, args, workdir: Path):
        self.a, self.dir = args, workdir
        self.argv = [args.hlmshell] if args.hlmshell else [sys.executable, "-m", "hlmshell"]

    def run(self, dofile: Path) -> bs.Run:
        return bs.run_process([*self.argv, str(dofile)], cwd=self.dir, timeout=self.a.timeout)

    def dofile(self, name: str, lines: list[str]) -> Path:
        p = self.dir / f"{name}.do"
        p.write_text("\n".join(lines) + "\n")
        return p

    def two_minus_one(self, data: Path, tag: str) -> dict:
        """Best of (use; fit; fit) minus best of (use; fit), pairs interleaved after one untimed
        warm-up; at least 2 pairs, up to --repeat within --budget s. A failing run ends it with
        the error text (the tail of what hlmshell printed)."""
        use = f'use "{data}", clear'
        show = f'display "{LL_MARK} " %21.15e e(ll)'
        one = self.dofile(f"{tag}_one", [use, FIT_CMD, show])
        two = self.dofile(f"{tag}_two", [use, FIT_CMD, FIT_CMD, show])
        warm = self.run(one)
        if not warm.ok:
            return {"error": warm.why(), "warmup_s": warm.wall}
        r1: list[bs.Run] = []
        r2: list[bs.Run] = []
        spent = 0.0
        while len(r1) < max(2, self.a.repeat):
            a, b = self.run(one), self.run(two)
            if not (a.ok and b.ok):
                return {"error": (a if not a.ok else b).why()}
            r1.append(a)
            r2.append(b)
            spent += a.wall + b.wall
            if len(r1) >= 2 and spent + a.wall + b.wall > self.a.budget:
                break
        t1, t2 = min(r.wall for r in r1), min(r.wall for r in r2)
        return {"one_fit_s": t1, "two_fits_s": t2, "secs": t2 - t1, "pairs": len(r1),
                "warmup_s": warm.wall, "one_fit_runs": [r.wall for r in r1],
                "two_fits_runs": [r.wall for r in r2], "ll": bs.parse_ll(r1[-1].out)}

    def session(self, data: Path) -> dict:
        if self.a.hlmshell:
            return {"skipped": "--hlmshell given (the in-process child imports hlmshell here)"}
        argv = [sys.executable, str(ROOT / "bench" / "bench_speed.py"), "_session", "--data",
                str(data), "--cmd", FIT_CMD, "--fits", "2", "--budget", "20"]
        r = bs.run_process(argv, cwd=self.dir, timeout=self.a.timeout)
        rec = bs.parse_session(r.out) or {}
        if not (r.ok or rec.get("error")) or not rec.get("done"):
            rec["error"] = r.why()
        return rec


# ---- the table --------------------------------------------------------------------------------
def _f(x, fmt="{:.3f}") -> str:
    return bs._f(x, fmt)


def measure(a, workdir: Path, hlm: Hlm, nlme: Nlme, subjects: int, prev_nlme: dict | None) -> dict:
    rows = subjects * WAVES
    stem = f"panel_{rows}"
    dta, csv = workdir / f"{stem}.dta", workdir / f"{stem}.csv"
    if not (dta.exists() and csv.exists()):
        bs.log(f"writing {stem}.csv / .dta")
        cols = panel_columns(subjects)
        write_csv(cols, csv)
        write_dta(cols, dta)
        del cols
    rec: dict = {"rows": rows, "subjects": subjects, "dta_mb": dta.stat().st_size / 2**20}
    bs.log(f"{rows:,} rows: hlmshell, two fits - one fit")
    rec["hlmshell"] = hlm.two_minus_one(dta, stem)
    if "error" not in rec["hlmshell"]:
        bs.log(f"{rows:,} rows: hlmshell, in-process session")
        rec["session"] = hlm.session(dta)
    skip = ""
    if nlme.ok and a.no_slow_peers and prev_nlme and "secs" in prev_nlme:
        expect = prev_nlme["secs"] * rows / prev_nlme["nobs"]
        if expect > SLOW_PEER_S:
            skip = (f"not run: ~{expect:,.0f} s expected ({prev_nlme['secs']:.1f} s at "
                    f"{prev_nlme['nobs']:,} rows, linear in rows) > {SLOW_PEER_S:.0f} s (--no-slow-peers)")
    if skip:
        rec["nlme"] = {"skipped": skip}
    else:
        if nlme.ok:
            bs.log(f"{rows:,} rows: nlme")
        rec["nlme"] = nlme.fit(csv)
    return rec


def _verdict(m: float | None) -> str:
    if m is None:
        return "ERROR"
    if m <= 0:
        return "noise?"
    return "pass" if m < GOAL_S else "FAIL"


def status(rec: dict) -> str:
    """The goal judged on `hlm warm`, with the in-process verdict added when it differs (on a
    loaded machine whole-process differences are noisy: prefer in-proc)."""
    h = rec["hlmshell"]
    if "error" in h:
        return "ERROR"
    if rec["rows"] < GOAL_ROWS:
        return "-"
    out = _verdict(h["secs"])
    inproc = (rec.get("session") or {}).get("warm_fit_s")
    if inproc is not None and _verdict(inproc) != out:
        out += f" ({_verdict(inproc)} in-proc)"
    return out


def print_table(recs: list[dict]) -> None:
    print(f"\n{FIT_CMD}   (goal: < {GOAL_S:g} s warm fit on {GOAL_ROWS:,} rows)")
    head = (f"{'rows':>9s} {'hlm warm':>9s} {'in-proc':>8s} {'hlm whole':>9s} {'nlme fit':>9s} "
            f"{'nlme whole':>10s} {'nlme/hlm':>8s}  status")
    print(head)
    print("-" * len(head))
    notes = []
    for rec in recs:
        h, s, p = rec["hlmshell"], rec.get("session") or {}, rec["nlme"]
        warm = h.get("secs")
        ratio = p["secs"] / warm if warm and warm > 0 and "secs" in p else None
        print(f"{rec['rows']:>9,} {_f(warm):>9s} {_f(s.get('warm_fit_s')):>8s} "
              f"{_f(h.get('one_fit_s')):>9s} {_f(p.get('secs')):>9s} {_f(p.get('whole_s')):>10s} "
              f"{_f(ratio, '{:.1f}x'):>8s}  {status(rec)}")
        if "error" in h:
            notes.append(f"{rec['rows']:,} rows: hlmshell failed: {h['error']}")
        elif s.get("error"):
            notes.append(f"{rec['rows']:,} rows: in-process session: {s['error']}")
        why = p.get("error") or (p.get("skipped") if p.get("skipped") != "--quick" else "")
        if why:
            notes.append(f"{rec['rows']:,} rows: nlme {why}")
        ll_h = h.get("ll") if h.get("ll") is not None else s.get("ll")
        if ll_h is not None or "ll" in p:
            notes.append(f"{rec['rows']:,} rows: log likelihood hlmshell {_f(ll_h, '{:.6f}')}, nlme "
                         f"{_f(p.get('ll'), '{:.6f}')} (rel. diff {bs._rel(ll_h, p.get('ll'))})"
                         + (f"; nlme rho {p['rho']:.6f}" if "rho" in p else ""))
    print()
    bs._para("hlm warm: best whole-process time of a do-file `use` + fit + fit minus the best of `use`"
             " + fit; in-proc: best warm fit inside one session; hlm whole: best time of the `use` +"
             " fit do-file; nlme fit: the lme() call (system.time, data read beforehand); nlme"
             " whole: Rscript start + library(nlme) + read.csv + fit; nlme/hlm = nlme fit / hlm warm.")
    for n in notes:
        bs._para(n, indent="  note: ", sub="        ")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_SUBJECTS * WAVES:,} rows only, hlmshell only (no R), 2 repeats")
    ap.add_argument("--no-slow-peers", action="store_true",
                    help=f"skip nlme where it should take > {SLOW_PEER_S:.0f} s (judged from the smaller panel)")
    ap.add_argument("--json", metavar="FILE", help="write every number to FILE")
    ap.add_argument("--repeat", type=int, default=None, help="whole-process pairs (3; 2 with --quick)")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds of whole-process runs per size")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per hlmshell process")
    ap.add_argument("--peer-timeout", type=float, default=900.0, help="seconds per Rscript process")
    ap.add_argument("--mem-limit-gb", type=float, default=None,
                    help="address-space cap of every child (default 60%% of RAM; 0: none)")
    ap.add_argument("--data-dir", help="write (and reuse) the datasets and do-files here")
    ap.add_argument("--hlmshell", metavar="PATH",
                    help="the hlmshell executable (default: `python -m hlmshell` with this Python)")
    a = ap.parse_args(argv)
    if a.repeat is None:
        a.repeat = 2 if a.quick else 3
    return a


def main(argv=None) -> int:
    a = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, bs._terminate)
    mem = bs._mem_limit(a.mem_limit_gb)
    if mem:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            mem = min(mem, hard)
        resource.setrlimit(resource.RLIMIT_AS, (mem, hard))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hlmbench_resid_") as tmp:
        workdir = Path(a.data_dir) if a.data_dir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        hlm = Hlm(a, workdir)
        nlme = Nlme(workdir, a.peer_timeout, enabled=not a.quick)
        print(f"bench_residuals {time.strftime('%Y-%m-%d %H:%M:%S')}: hlmshell = {' '.join(hlm.argv)}; "
              f"peer: {nlme.version or nlme.reason}")
        sizes = [QUICK_SUBJECTS] if a.quick else [QUICK_SUBJECTS, FULL_SUBJECTS]
        recs: list[dict] = []
        for subjects in sizes:
            prev = recs[-1]["nlme"] if recs else None
            recs.append(measure(a, workdir, hlm, nlme, subjects, prev))
        print_table(recs)
        total = time.perf_counter() - t0
        print(f"\ntotal {total:.0f} s")
        if a.json:
            Path(a.json).write_text(json.dumps({"cmd": FIT_CMD, "rows": recs, "total_s": total,
                                                "nlme": nlme.version or nlme.reason},
                                               indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
