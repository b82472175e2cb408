"""No Python warning ever reaches the user: numerical edge cases are Stata's missing values.

Two layers, each tested on its own:
* the real edge cases (log(0), 0/0, overflow, the mean of an empty or all-missing group,
  correlate of a constant, mixed on tiny data ...) are handled so that no warning is raised at
  all: run over the interpreter API with warnings turned into errors, none may occur (an
  escaped warning would become r(9999) and fail the test);
* the CLI installs a warnings filter as a backstop, so that a library's warning that slipped
  through still never prints: the real `hlmshell` on a do-file of edge cases writes nothing to
  stderr, and a warning raised on purpose inside a command stays silent unless the user asked
  for warnings (PYTHONWARNINGS / -W).
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

EDGE_CASES = textwrap.dedent("""\
    clear
    set obs 10
    generate g = cond(_n <= 5, 1, 2)
    generate x = .
    generate y = 1
    generate z = _n
    generate double h = 8e307
    generate w = z / 0
    generate a = log(0) + ln(-1) + sqrt(-1) + exp(1000) + 10^400 + 0/0
    generate b = 1e308 * 10 - 1e308 * 10
    generate c = logit(1) + logit(0) + invlogit(1000) + lngamma(0) + comb(-1, 2)
    generate d = invchi2(-1, .5) + invttail(-1, .5) + chi2(-1, 2) + ttail(0, 1) + F(-1, 2, 3)
    generate e = round(x, 0) + mod(x, 0) + float(1e300) + max(x, x) + real("1e999")
    generate double f = sum(h)
    generate s = string(x) + subinstr("aaa", "a", "b", 1e300)
    summarize x
    summarize x, detail
    summarize y, detail
    summarize h, detail
    summarize y [aw = x]
    summarize y [aw = z - z]
    summarize x if g == 3
    egen m1 = mean(x), by(g)
    egen m2 = sd(x), by(g)
    egen m3 = sd(y), by(g)
    egen m4 = std(y)
    egen m5 = rowmean(x x)
    egen m6 = total(h)
    egen m7 = median(x), by(g)
    correlate y z
    correlate h z
    pwcorr x y z
    capture noisily correlate x z
    capture noisily tabulate g, summarize(x)
    tabulate g, summarize(y)
    local q = 1e300 * 1e300
    display "`q'" log(0) 0/0 %9.2f 1/0
    scalar sq = sqrt(-1)
    matrix M = (1e308 * 10, 1)
    preserve
    collapse (mean) x (sd) y (sd) sz=z (semean) se=z (iqr) iq=x (p50) md=x (sum) sh=h, by(g)
    restore
    preserve
    keep if g == 3
    summarize
    capture noisily collapse (mean) z, by(g)
    restore
    capture noisily regress y z
    capture noisily regress z y
    capture noisily regress x z
    capture noisily mixed z || g:
    capture noisily mixed y z || g:
    capture noisily mixed z in 1/3 || g:
    capture noisily estat icc
    capture noisily predict u0, reffects
    quietly regress z g
    capture noisily test g = 1e300
    capture noisily lincom g / 0
    clear
    set obs 1
    generate x = 1
    summarize x, detail
    correlate x
    egen sdx = sd(x)
    capture noisily regress x
    collapse (sd) x
    display "finished"
    """)


def test_edge_cases_raise_no_warning():
    """Warnings as errors, in process: any warning would surface as an internal error."""
    s = Session(Capture())
    interp = Interpreter(s)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for line in EDGE_CASES.splitlines():
            start = s.out.stream.tell()
            rc = interp.run_line(line)
            out = s.out.getvalue()[start:]
            assert rc != 9999 and "unexpected error" not in out and "Warning" not in out.replace(
                "Warning: Standard-error calculation failed", ""), (line, out)
    assert s.out.getvalue().endswith("finished\n")


def _cli(tmp_path, args, env_extra=None, code=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "HLMSHELL_DEBUG")}
    env.update(env_extra or {})
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "hlmshell", *args]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_cli_prints_no_warning(tmp_path):
    """The real CLI, PYTHONWARNINGS unset: stderr stays empty on every edge case."""
    (tmp_path / "edge.do").write_text(EDGE_CASES)
    proc = _cli(tmp_path, ["edge.do"])
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert proc.stderr == ""
    for word in ("Warning:", "RuntimeWarning", "FutureWarning", "DeprecationWarning", "Traceback",
                 "r(9999)", "unexpected error"):
        assert word not in proc.stdout.replace("Warning: Standard-error calculation failed", ""), word
    assert "\nfinished\n" in proc.stdout


# A command that warns on purpose (numpy and a FutureWarning, as pandas does), then the CLI.
WARNER = textwrap.dedent("""\
    import sys, warnings
    import numpy as np
    from hlmshell.registry import command
    from hlmshell.cli import main

    @command("zzwarn")
    def _zzwarn(session, cmd):
        warnings.warn("zz future", FutureWarning)
        warnings.warn("zz runtime", RuntimeWarning)
        session.out.line("warned")

    sys.exit(main(sys.argv[1:]))
    """)


@pytest.mark.parametrize("asked", [False, True], ids=["default", "PYTHONWARNINGS=default"])
def test_cli_filter_is_the_backstop(tmp_path, asked):
    """A warning no edge-case fix prevented is still silenced by the CLI's filter -- and only
    by it: with PYTHONWARNINGS set the same warning is printed."""
    (tmp_path / "w.do").write_text("zzwarn\n")
    proc = _cli(tmp_path, ["w.do"], {"PYTHONWARNINGS": "default"} if asked else None, code=WARNER)
    assert proc.returncode == 0 and "\nwarned\n" in proc.stdout
    if asked:       # a developer who asks for warnings gets them
        assert "FutureWarning: zz future" in proc.stderr and "RuntimeWarning: zz runtime" in proc.stderr
    else:
        assert proc.stderr == ""
