"""The workflow of a real MI tutorial do-file (Wijesuriya et al. 2023, CATS example), small:
reshape wide, mi set flong, register, mi impute mvn with a parameter trace (mi ptrace use,
tsset iter), adaptive rounding by replace ... if _mi_m != 0 on the flong data, mi reshape
long, mi xtset, mi estimate: xtmixed; and the same with mi impute chained. The combined
estimate is checked against fits of each imputation taken out with mi extract."""
import numpy as np
import pytest
from session_run import iok, irun, interp_session

from hlmshell.data.dataset import Variable
from hlmshell.engine import mi_combine

N, M = 150, 3


def _long_data(s):
    rng = np.random.default_rng(77)
    ids = np.repeat(np.arange(1, N + 1), 3)
    time = np.tile([3.0, 5.0, 7.0], N)
    age = np.repeat(rng.uniform(7, 10, N), 3)
    sex = np.repeat((rng.random(N) < 0.5) * 1.0, 3)
    u = np.repeat(rng.normal(0, 0.5, N), 3)
    dep = (rng.random(3 * N) < 0.3) * 1.0
    score = 2 - 0.2 * age + 0.15 * sex - 0.1 * dep + u + rng.normal(0, 0.5, 3 * N)
    sdq = 16 + 1.6 * dep + rng.normal(0, 3, 3 * N)
    dep[rng.random(3 * N) < 0.15] = np.nan
    score[rng.random(3 * N) < 0.2] = np.nan
    for name, v in (("c_id", ids), ("time", time), ("c_age", age), ("c_sex", sex),
                    ("prev_dep", dep), ("numeracy_score", score), ("prev_sdq", sdq)):
        s.data.add(Variable(name, v, "double"))


PRE = ["reshape wide prev_dep numeracy_score prev_sdq, i(c_id) j(time)",
       "mi set flong",
       "mi register imputed prev_dep* numeracy_score*",
       "mi register regular c_age c_sex prev_sdq*"]


def _session():
    s = interp_session()
    _long_data(s)
    for ln in PRE:
        iok(s, ln)
    return s


def _check_estimate(s, cmd):
    iok(s, f"quietly mi estimate: {cmd}")
    e = s.e
    bs, Vs = [], []
    for m in range(1, M + 1):
        t = interp_session()
        t.data = s.data.copy()
        iok(t, f"mi extract {m}, clear")
        iok(t, f"quietly {cmd}")
        bs.append(np.asarray(t.e.b, float).ravel())
        Vs.append(np.asarray(t.e.V, float))
    c = mi_combine.combine(bs, Vs)
    np.testing.assert_allclose(np.asarray(e.b).ravel(), np.mean(bs, axis=0), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(np.diag(e.V), np.diag(c.V), rtol=1e-6, atol=1e-12)
    return e


def test_mvn_tutorial_flow(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)             # the trace files; the working folder comes back after
    s = _session()
    out = iok(s, "mi impute mvn prev_dep3 prev_dep5 prev_dep7 numeracy_score3 numeracy_score5 "
                 f"numeracy_score7 = c_age c_sex prev_sdq3 prev_sdq5 prev_sdq7, add({M}) burnin(20) "
                 "burnbetween(5) rseed(2937405) saveptrace(trace, replace)")
    assert "Multivariate normal regression" in out
    iok(s, "preserve")
    iok(s, "mi ptrace use trace, clear")
    iok(s, "tsset iter")
    assert s.data.n == 20 + 5 * (M - 1)
    iok(s, "restore")
    # adaptive rounding of the binary variables, on the flong data as the tutorial does
    iok(s, """foreach var of varlist prev_dep* {
        quietly sum `var' if _mi_m==0
        local omegabar = `r(mean)'
        local threshold = `omegabar' - invnorm(`omegabar') * sqrt(`omegabar'*(1 - `omegabar'))
        quietly replace `var' = 0 if `var' < `threshold' & _mi_m!=0
        quietly replace `var' = 1 if `var' > `threshold' & _mi_m!=0
    }""")
    d = s.data
    for v in ("prev_dep3", "prev_dep5", "prev_dep7"):
        assert set(d.values(v)[d.values("_mi_m") > 0]) <= {0.0, 1.0}
    out = iok(s, "mi reshape long prev_dep numeracy_score prev_sdq, i(c_id) j(time)")
    assert set(s.data.dta_chars["_mi_ivars"].split()) == {"prev_dep", "numeracy_score"}
    assert set(s.data.dta_chars["_mi_rvars"].split()) == {"c_age", "c_sex", "prev_sdq"}
    assert s.data.n == 3 * N * (M + 1)
    iok(s, "mi xtset c_id")
    e = _check_estimate(s, "xtmixed numeracy_score i.prev_dep time c_age i.c_sex || c_id:")
    assert e.scalars["N"] == 3 * N and e.scalars["M_mi"] == M
    assert e.macros["cmd_mi"] == "xtmixed"


def test_chained_tutorial_flow(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = _session()
    out = iok(s, "mi impute chained (regress) numeracy_score3 (regress) numeracy_score5 (regress) "
                 "numeracy_score7 (logit) prev_dep3 (logit) prev_dep5 (logit) prev_dep7 = "
                 f"c_age c_sex prev_sdq3 prev_sdq5 prev_sdq7, add({M}) burnin(3) rseed(238130) "
                 "savetrace(trace, replace)")
    assert "Chained equations" in out
    iok(s, "preserve")
    iok(s, "use trace, clear")
    iok(s, "keep if m==1")
    iok(s, "tsset iter")
    assert "numeracy_score3_mean" in s.data
    iok(s, "restore")
    iok(s, "mi reshape long prev_dep numeracy_score prev_sdq, i(c_id) j(wave)")
    iok(s, "mi xtset c_id")
    _check_estimate(s, "xtmixed numeracy_score i.prev_dep wave c_age i.c_sex || c_id:")
    rc, out = irun(s, "mi estimate: xtmixed nosuch wave || c_id:")
    assert rc == 111
