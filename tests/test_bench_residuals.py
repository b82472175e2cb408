"""bench/bench_residuals.py: its command line and its panel generator (nothing is timed, no R)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import bench_residuals as br  # noqa: E402


def test_help_runs():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_residuals.py"), "--help"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for flag in ("--quick", "--no-slow-peers", "--hlmshell", "--json", "--data-dir"):
        assert flag in r.stdout


def test_panel_shapes_and_determinism():
    cols = br.panel_columns(50)
    assert list(cols) == ["y", "t", "x", "id"]
    for values, _ in cols.values():
        assert values.shape == (50 * br.WAVES,)
    t, sid = cols["t"][0], cols["id"][0]
    assert np.array_equal(t, np.tile(np.arange(1, br.WAVES + 1), 50))          # sorted by id, t
    assert np.array_equal(sid, np.repeat(np.arange(1, 51), br.WAVES))
    assert np.all(np.isfinite(cols["y"][0]))
    again = br.panel_columns(50)
    assert all(np.array_equal(cols[n][0], again[n][0]) for n in cols)
    assert not np.array_equal(cols["y"][0], br.panel_columns(50, seed=1)["y"][0])
    assert br.FULL_SUBJECTS * br.WAVES == 200_000 and br.QUICK_SUBJECTS * br.WAVES == 20_000


def test_panel_residuals_are_ar1():
    """Second differences within subject remove u0 + u1 t; for stationary AR(1) e with Var 1,
    Var(e_t - 2 e_(t-1) + e_(t-2)) = 6 - 8 rho + 2 rho^2 (6 for independent errors)."""
    n = 4_000
    cols = br.panel_columns(n)
    y, t, x = cols["y"][0], cols["t"][0], cols["x"][0]
    r = (y - 1.0 - 0.5 * t - 0.3 * x).reshape(n, br.WAVES)
    d2 = np.diff(r, n=2, axis=1)
    assert abs(d2.var() - (6 - 8 * br.RHO + 2 * br.RHO ** 2)) < 0.15


def test_written_files(tmp_path):
    cols = br.panel_columns(20)
    csv = br.write_csv(cols, tmp_path / "p.csv")
    lines = csv.read_text().splitlines()
    assert lines[0] == "y,t,x,id" and len(lines) == 1 + 20 * br.WAVES
    back = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert np.array_equal(back[:, 0], cols["y"][0]) and np.array_equal(back[:, 3], cols["id"][0])
    dta = br.write_dta(cols, tmp_path / "p.dta")
    from hlmshell.data.dta import read_dta
    ds = read_dta(dta)
    assert ds.names == ["y", "t", "x", "id"] and ds.n == 20 * br.WAVES
    for name in cols:
        assert np.array_equal(ds.var(name).values, cols[name][0])


def test_parse_nlme():
    assert br.parse_nlme("BENCH_NLME 12.5 -1234.5 200000 0.8 0.61\n") == {
        "secs": 12.5, "ll": -1234.5, "nobs": 200000, "load_secs": 0.8, "rho": 0.61}
    assert br.parse_nlme("BENCH_NLME_MSG nlminb problem, convergence error code = 1 \n") == {
        "error": "lme failed: nlminb problem, convergence error code = 1"}
    assert br.parse_nlme("Error in library(nlme)\n") is None
