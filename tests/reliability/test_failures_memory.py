"""Running out of memory is Stata's r(909) `op. sys. refuses to provide memory`.

Real memory exhaustion, in subprocesses whose address space is capped with
resource.setrlimit(RLIMIT_AS): the allocation really fails (MemoryError inside numpy, pandas
or Python), and hlmshell must report r(909) once, let `capture` catch it, leave the data
exactly as they were and go on working -- `display "alive"` right after, under the same cap.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

resource = pytest.importorskip("resource")

MB = 1024 * 1024
pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (Linux)")


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("HLMSHELL_DEBUG", "PYTHONWARNINGS")}
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"     # a smaller, steadier baseline
    return env


def _vm_peak_after_startup(tmp_path) -> int:
    """Address space the CLI needs for a small session (imports included), in bytes."""
    (tmp_path / "small.do").write_text("set obs 10\ngenerate x = _n\nsummarize x, detail\n")
    code = ("import sys\nfrom hlmshell.cli import main\nrc = main(['small.do'])\n"
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmPeak')][0])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.split()[-1]) * 1024


def test_cli_generate_beyond_the_address_space(tmp_path):
    """The real CLI under a cap 400 MB above what it needs to start: `set obs` 100 million
    (no variable yet, nothing allocated) and then a double variable (800 MB) cannot be had."""
    limit = _vm_peak_after_startup(tmp_path) + 400 * MB
    (tmp_path / "mem.do").write_text(textwrap.dedent("""\
        set obs 100000000
        capture noisily generate double x = 1
        display "rc " _rc
        display "alive"
        display c(k) " variables, " _N " observations"
        generate y = _n
        display "not reached"
        """))

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run([sys.executable, "-m", "hlmshell", "mem.do"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=300, preexec_fn=cap)
    out = proc.stdout
    assert "r(9999)" not in out and "unexpected error" not in out and "Traceback" not in out + proc.stderr
    # capture noisily: the message, no r(); _rc is 909
    assert ". capture noisily generate double x = 1\nop. sys. refuses to provide memory\n\n" in out
    assert "\nrc 909\n" in out and "\nalive\n" in out
    assert "\n0 variables, 100000000 observations\n" in out    # nothing half-made was left behind
    # without capture the do-file stops there: the message once, r(909), exit status 255
    assert out.endswith(". generate y = _n\nop. sys. refuses to provide memory\nr(909);\n\n"
                        "end of do-file\n\nr(909);\n"), out[-500:]
    assert proc.returncode == 255
    assert proc.stderr == "hlmshell: mem.do stopped at line 6 with r(909)\n"


# One subprocess: data made first, then the address space capped just above what it uses, so
# that each command below must fail for want of memory (each needs at least one more copy of a
# 40 MB column); after each failure the data are checked in place and `display "alive"` runs.
SCRIPT = r'''
import hashlib, json, resource, sys
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

s = Session(Capture())
interp = Interpreter(s)
N = 5_000_000
for line in [f"set obs {N}", "generate double id = _n", "generate double y = runiform()",
             "save usingdata, replace", "drop y", "generate double x = runiform()",
             "global G kept", "scalar sc = 1", "quietly summarize id"]:
    assert interp.run_line(line) == 0, (line, s.out.getvalue())

def state():
    # hash the arrays in place (memoryview): no copy, so this works under the cap too
    return ([(k, v.vtype, hashlib.md5(memoryview(v.values)).hexdigest()) for k, v in s.data.vars.items()],
            s.data.n, s.data.filename, dict(s.globals), repr(s.scalars), repr(sorted(s.r.scalars.items())))

before = state()
vm = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize")][0]
limit = vm + 24 * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
report = []
for line in sys.argv[1:]:
    start = s.out.stream.tell()
    rc = interp.run_line(line)
    out = s.out.getvalue()[start:]
    start = s.out.stream.tell()
    alive = interp.run_line('display "alive"'), s.out.getvalue()[start:]
    report.append({"line": line, "rc": rc, "out": out, "same": state() == before, "alive": alive,
                   "settled": len(s.locals) == 1 and interp.nesting == 0 and s.out.quiet == 0})
print(json.dumps(report))
'''

FAILING = ["summarize x", "summarize x, detail", "generate z = x * 2", "replace x = x + 1",
           "merge 1:1 id using usingdata", "use usingdata, clear", "collapse (mean) x, by(id)",
           "sort x"]


def test_commands_out_of_memory_keep_the_session(tmp_path):
    """generate, replace, summarize, merge, use, collapse, sort each out of memory: r(909)
    printed once (or caught by capture), data untouched, and the next command still runs."""
    proc = subprocess.run([sys.executable, "-c", SCRIPT, *FAILING, *[f"capture {c}" for c in FAILING[:2]]],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    report = json.loads(proc.stdout.splitlines()[-1])
    for r in report:
        assert r["settled"] and r["same"], r
        assert r["alive"] == [0, "alive\n"], r
        if r["line"].startswith("capture"):
            assert (r["rc"], r["out"]) == (0, ""), r
        else:
            assert (r["rc"], r["out"]) == (909, "op. sys. refuses to provide memory\nr(909);\n"), r
