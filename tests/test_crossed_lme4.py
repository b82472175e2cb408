"""Crossed and partially crossed random effects through `mixed`, against lme4.

The reference numbers are lme4's (R 4.2.2, lme4 1.1-31, lmer with tight optimiser
tolerances), computed once by tests/data/crossed_lme4.R on the data of this file:
simulated data rebuilt here from numpy seeds (`python tests/test_crossed_lme4.py DIR` writes
them as CSV for the R script), and lme4's own Penicillin and sleepstudy data sets written out
as tests/data/penicillin.csv and tests/data/sleepstudy.csv (see the R script for provenance).

Log likelihoods must agree to 1e-8 relative (lme4 stops at its optimum to ~1e-13 here);
fixed effects and variance components to what lme4's optimiser resolves (1e-5 relative).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from hlmshell.data.dataset import Dataset, Variable
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

DATA = Path(__file__).resolve().parent / "data"


def crossed_sim() -> dict:
    """40 subjects x 15 items, each observation a random pair; random subject slope on x."""
    rng = np.random.default_rng(20240611)
    n, S, I = 600, 40, 15
    subj = rng.integers(0, S, n) + 1
    item = rng.integers(0, I, n) + 1
    x = rng.normal(size=n)
    u = rng.normal(size=(S + 1, 2)) * [0.8, 0.3]
    v = rng.normal(size=I + 1) * 0.5
    y = 1 + 0.5 * x + u[subj, 0] + u[subj, 1] * x + v[item] + rng.normal(size=n)
    return dict(y=y, x=x, subj=subj, item=item)


def partial_sim() -> dict:
    """Classes nested in schools, crossed with items."""
    rng = np.random.default_rng(77)
    S, C, I, per = 20, 4, 25, 10
    school = np.repeat(np.arange(S), C * per) + 1
    klass = np.repeat(np.arange(S * C), per) + 1
    n = len(school)
    item = rng.integers(0, I, n) + 1
    x = rng.normal(size=n)
    y = (2 - 0.3 * x + rng.normal(size=S + 1)[school] * 0.7 + rng.normal(size=S * C + 1)[klass] * 0.5
         + rng.normal(size=I + 1)[item] * 0.6 + rng.normal(size=n))
    return dict(y=y, x=x, school=school, klass=klass, item=item)


def csv_data(name: str) -> dict:
    r = np.genfromtxt(DATA / name, delimiter=",", names=True)
    return {k: r[k] for k in r.dtype.names}


def session(data: dict) -> Session:
    s = Session(Capture())
    Interpreter(s)
    ds = Dataset()
    for k, v in data.items():
        ds.add(Variable(k, np.asarray(v, dtype=float), "double"))
    s.data = ds
    return s


# (data, command, lme4 ll, fixed effects in Stata's order, [variance components per block in
# Stata's order: a number (identity) or the covariance matrix], residual variance)
CASES = {
    "crossed ML": (crossed_sim, "mixed y x || _all: R.item || subj:",
                   -958.686104695851, [0.458633003275957, 0.881725735706776],
                   [0.198392042989406, 0.822500403776595], 1.16060078704664),
    "crossed REML": (crossed_sim, "mixed y x || _all: R.item || subj:, reml",
                     -961.591357031736, [0.45875513835629, 0.881574888358214],
                     [0.205585357118354, 0.837535405765301], 1.16253183688308),
    "crossed slope ML": (crossed_sim, "mixed y x || _all: R.item || subj: x, cov(un)",
                         -956.429488126529, [0.461089610737307, 0.885217671141172],
                         [0.194836555949984, [[0.0214706527257798, 0.0782513508662254],
                                              [0.0782513508662254, 0.81886283279335]]],
                         1.13779638530638),
    "partial ML": (partial_sim, "mixed y x || _all: R.item || school: || klass:",
                   -1226.05667740677, [-0.279997470991915, 2.2071727168883],
                   [0.33141091338273, 0.326927187292256, 0.31373280527261], 0.975776488841704),
    "partial REML": (partial_sim, "mixed y x || _all: R.item || school: || klass:, reml",
                     -1229.19539401253, [-0.279985055830046, 2.2071648893511],
                     [0.337831706139264, 0.340988452586329, 0.313759267264429], 0.977081877411204),
    "penicillin ML": (lambda: csv_data("penicillin.csv"), "mixed diameter || _all: R.plate || _all: R.sample",
                      -166.09417433425, [22.972222222217], [0.714992379902811, 3.1351881599741],
                      0.302425417050186),
    "penicillin REML": (lambda: csv_data("penicillin.csv"),
                        "mixed diameter || _all: R.plate || _all: R.sample, reml",
                        -165.430294495543, [22.9722222222272], [0.716908286004867, 3.73091748894817],
                        0.302415454559925),
    "sleepstudy ML": (lambda: csv_data("sleepstudy.csv"), "mixed Reaction Days || Subject: Days, cov(un)",
                      -875.969672231599, [10.4672859595958, 251.405104848483],
                      [[[32.682197916572, 11.0554265192211], [11.0554265192211, 565.515368782307]]],
                      654.941025755727),
}


@pytest.mark.parametrize("name", list(CASES))
def test_mixed_matches_lme4(name):
    make, cmd, ll, beta, comps, s2 = CASES[name]
    s = session(make())
    assert s.interpreter.run_line(cmd + (" nolog" if "," in cmd else ", nolog")) == 0
    fit = s.e.model.fit
    assert fit.converged
    assert fit.ll == pytest.approx(ll, rel=1e-8)
    np.testing.assert_allclose(fit.beta, beta, rtol=1e-5, atol=1e-6)
    assert fit.sigma2 == pytest.approx(s2, rel=1e-5)
    for cov, want in zip(fit.covs, comps):
        want = np.atleast_2d(want)
        got = cov if want.shape == cov.shape else cov[:1, :1]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert s.e.scalars["ll"] == pytest.approx(ll, rel=1e-8)


def test_crossed_identity_block_is_one_variance_per_level():
    """`_all: R.item` fits one variance shared by the item levels: its covariance is v I."""
    s = session(crossed_sim())
    assert s.interpreter.run_line("mixed y x || _all: R.item || subj:, nolog") == 0
    cov = s.e.model.fit.covs[0]
    assert cov.shape == (15, 15)
    np.testing.assert_allclose(cov, cov[0, 0] * np.eye(15), atol=1e-15)


def test_r_dot_levels_may_be_negative_or_fractional():
    """R. is not a factor-variable operator: its levels are the distinct values (real files cross
    with years coded -5..4). Relabelling the levels leaves the fit unchanged."""
    d = crossed_sim()
    fits = []
    for shift, scale in ((0.0, 1.0), (-8.0, 1.0), (-8.0, 0.25)):
        s = session(dict(d, item=(d["item"] + shift) * scale))
        assert s.interpreter.run_line("mixed y x || _all: R.item || subj:, nolog") == 0
        fits.append(s.e.scalars["ll"])
    assert fits[1] == pytest.approx(fits[0], rel=1e-10) and fits[2] == pytest.approx(fits[0], rel=1e-10)


def write_csv(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, make in (("crossed", crossed_sim), ("partial", partial_sim)):
        d = make()
        keys = list(d)
        np.savetxt(out / f"{name}.csv", np.column_stack([d[k] for k in keys]), delimiter=",",
                   header=",".join(keys), comments="", fmt="%.17g")


if __name__ == "__main__":
    write_csv(sys.argv[1] if len(sys.argv) > 1 else ".")


def test_predict_after_crossed_fit():
    """fitted values and BLUPs of a crossed model: xb + u_item + u_subj per observation."""
    d = crossed_sim()
    s = session(d)
    assert s.interpreter.run_line("mixed y x || _all: R.item || subj:, nolog") == 0
    assert s.interpreter.run_line("predict fit, fitted") == 0
    assert s.interpreter.run_line("predict xb, xb") == 0
    m = s.e.model
    from hlmshell.engine.blup import compute_blups

    bl = compute_blups(m, with_se=False)
    want = s.data.values("xb") + bl[0].u[0, d["item"] - 1] + bl[1].u[d["subj"] - 1, 0]
    np.testing.assert_allclose(s.data.values("fit"), want, rtol=1e-6, atol=1e-6)   # stored as float


def test_unidentified_component_with_huge_se_shows_missing_bounds():
    """Two intercepts at one level (`|| g: x || g: race` with race constant within g) leave
    a log-sd with a standard error of ~20 or more; exp(2*(ln sd + 1.96 se)) overflows. The table
    must show the bound as missing (inf), not fail with OverflowError (r(9999) in a real file)."""
    import dataclasses
    from hlmshell.engine import lmm
    d = crossed_sim()
    s = session(d)
    assert s.interpreter.run_line("mixed y x || subj: x, nolog") == 0
    model = s.e.model
    fit = model.fit
    V = np.diag(np.full(len(fit.vc_theta), 400.0 ** 2))     # se 400 on the log scale
    comps, resid = lmm.variance_components(dataclasses.replace(fit, vc_V=V), model.blocks)
    rows = [r for b in comps for r in b.rows] if hasattr(comps[0], "rows") else []
    assert np.isinf(resid.hi) and resid.lo == 0.0
    for r in rows:
        if r.kind == "var":
            assert np.isinf(r.hi)
