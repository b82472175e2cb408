"""Estimates do not depend on the units or the location of the data (issue 9).

Stata's `regress` and `mixed` are invariant to adding a constant to the outcome or to a
covariate and to rescaling either: slopes scale with the units, standard errors likewise, the
log likelihood moves only by the Jacobian of a rescaled outcome (and, for REML, of the rescaled
fixed-effects design), the LR test against the linear model not at all. Property tests: random
shifts up to 1e12 and scales 1e-12..1e12 of the outcome and of each covariate, on a subsample of
the course's High School and Beyond data and on small simulated data with random slopes.

The data are first rounded to multiples of 2^-9 and shifted data rescaled by m 2^k (m odd,
at most 7), so that the transformed data are exact in doubles: they carry exactly the
information of the original, and any difference in the estimates is the estimator's (a shift
of 1e12 followed by a scaling by 1e3 would round the data to 1e-5 of their spread, which no
estimator can undo).
A random-slope covariate is only rescaled, never shifted: a random slope on x + a is another
model (Stata's too) unless the covariance is unstructured.
"""
from __future__ import annotations

import functools
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import hlmshell
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.data.dta import read_dta
from hlmshell.interpreter import Interpreter
from hlmshell.output.writer import Capture
from hlmshell.session import Session

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")
GRID = 2.0 ** -9
RTOL = 1e-6
# (shift a, scale c) of one variable, v' = (v + a) c. Exact in doubles when shifting: v on the
# 2^-9 grid plus |a| <= 2^40 needs 50 bits, an odd m <= 7 three more, 2^k none; so the
# transformed data carry exactly the original's information and every difference in the
# estimates is the estimator's. c = m 2^k spans 1e-12..1e12 and is rarely a power of two.
# Without a shift any real scale 10^u keeps the information (one rounding of 1e-16 relative).
EXACT_AFFINE = st.builds(lambda a, m, k: (a, math.ldexp(m, k)), st.integers(-2 ** 40, 2 ** 40),
                         st.sampled_from([1, 3, 5, 7]), st.integers(-40, 40))
PURE_SCALE = st.builds(lambda u: (0, 10.0 ** u),
                       st.floats(-12.0, 12.0, allow_nan=False, allow_infinity=False))
AFFINE = st.one_of(EXACT_AFFINE, PURE_SCALE)
SCALE = st.one_of(EXACT_AFFINE.map(lambda t: (0, t[1])), PURE_SCALE)
SETTINGS = settings(max_examples=int(os.environ.get("HLM_INVARIANCE_EXAMPLES", "10")), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def on_grid(v) -> np.ndarray:
    return np.round(np.asarray(v, dtype=float) / GRID) * GRID


def hsb_subsample(n_schools: int = 30) -> dict[str, np.ndarray]:
    ds = read_dta(HSB)
    ids = ds.values("id")
    keep = np.isin(ids, np.unique(ids)[:n_schools])
    return {"y": on_grid(ds.values("mathach")[keep]), "x": on_grid(ds.values("ses")[keep]),
            "w": ds.values("female")[keep].astype(float), "id": ids[keep].astype(float)}


def simulated(seed: int = 3, groups: int = 40, size: int = 12) -> dict[str, np.ndarray]:
    """Random intercepts and slopes well inside the parameter space (sd 1.5 and 0.7,
    correlation 0.3), classes of 4 within each group (sd 0.8) and a crossed factor f with 5
    levels (sd 1), so that every fit has an interior optimum."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), size)
    cls = np.repeat(np.arange(groups * size // 4), 4)
    f = rng.integers(0, 5, size=g.size)
    x = on_grid(rng.normal(size=g.size))
    w = on_grid(rng.normal(size=g.size))
    L = np.linalg.cholesky(np.array([[1.5 ** 2, 0.3 * 1.5 * 0.7], [0.3 * 1.5 * 0.7, 0.7 ** 2]]))
    u = rng.normal(size=(groups, 2)) @ L.T
    y = (1 + 2 * x - w + u[g, 0] + u[g, 1] * x + 0.8 * rng.normal(size=cls.max() + 1)[cls]
         + rng.normal(size=5)[f] + rng.normal(size=g.size))
    return {"y": on_grid(y), "x": x, "w": w, "id": g.astype(float), "cls": cls.astype(float),
            "f": f.astype(float)}


def fit(columns: dict[str, np.ndarray], command: str):
    s = Session(out=Capture())
    ds = Dataset()
    for name, v in columns.items():
        ds.add(Variable(name, np.asarray(v, dtype=float), "double"))
    s.data = ds
    rc = Interpreter(s).run_line(command)
    assert rc == 0, s.out.getvalue()
    return s.e


def transform(columns, spec: dict[str, tuple[int, float]]):
    """New columns v' = (v + a) c for each name -> (a, c); returns them and the scales."""
    out = dict(columns)
    for name, (a, c) in spec.items():
        out[name] = (columns[name] + float(a)) * c
    return out, {name: c for name, (_, c) in spec.items()}


def coef(e, name: str) -> tuple[float, float]:
    i = e.coef_index(None, name)
    return float(e.b[i]), math.sqrt(float(e.V[i, i]))


def close(got: float, want: float, rtol: float = RTOL, what: str = "") -> None:
    assert got == pytest.approx(want, rel=rtol, abs=1e-300), f"{what}: {got} vs {want}"


def check_fixed(ref, new, scales: dict[str, float], covariates: list[str]) -> None:
    """Slopes and their standard errors scale by c_y / c_x."""
    cy = scales.get("y", 1.0)
    for v in covariates:
        f = cy / scales.get(v, 1.0)
        b0, se0 = coef(ref, v)
        b1, se1 = coef(new, v)
        close(b1, b0 * f, what=f"b[{v}]")
        close(se1, se0 * abs(f), what=f"se[{v}]")


def jacobian(e, scales: dict[str, float], covariates: list[str]) -> float:
    """ll(transformed) - ll(original): -n log c_y for ML; the REML criterion's residual
    contrasts give -(n - p) log c_y, its -1/2 log|X'V^-1 X| gives -sum log c_x."""
    n = int(e.scalars["N"])
    logcy = math.log(scales.get("y", 1.0))
    if e.macros.get("method") == "REML":
        p = int(e.scalars["rank"]) - int(e.scalars["k_r"])
        return -(n - p) * logcy - sum(math.log(scales.get(v, 1.0)) for v in covariates)
    return -n * logcy


def check_mixed(ref, new, scales, covariates, slope: str | None = None) -> None:
    check_fixed(ref, new, scales, covariates)
    close(new.scalars["ll"] - jacobian(ref, scales, covariates), ref.scalars["ll"], what="ll")
    close(new.scalars["ll_c"] - jacobian(ref, scales, covariates), ref.scalars["ll_c"],
          what="ll_c")
    close(new.scalars["chi2_c"], ref.scalars["chi2_c"], what="chi2_c")
    # variance part in e(b): ln sd moves by log c_y (and -log c_x for a slope), atanh corr stays;
    # its standard errors (e(V)) do not move at all
    kf = ref.k_f
    logcy = math.log(scales.get("y", 1.0))
    logcx = math.log(scales.get(slope, 1.0)) if slope else 0.0
    for i, (eq, _) in enumerate(ref.names[kf:], start=kf):
        shift = 0.0
        if eq.startswith("lns") or eq == "lnsig_e":
            shift = logcy
        if eq == "lns1_1_1" and slope:      # the slope is the block's first random effect
            shift -= logcx
        assert new.b[i] == pytest.approx(ref.b[i] + shift, rel=RTOL, abs=RTOL), eq
        close(math.sqrt(new.V[i, i]), math.sqrt(ref.V[i, i]), what=f"se[{eq}]")


HSB_DATA = hsb_subsample()
SIM_DATA = simulated()
SLOPE_MODELS = {"independent": "mixed y x w || id: x, nolog",
                "unstructured": "mixed y x w || id: x, covariance(unstructured) nolog",
                "reml": "mixed y x w || id: x, covariance(unstructured) nolog reml",
                "nested": "mixed y x w || id: x || cls:, nolog",
                "nested reml": "mixed y x w || id: x, covariance(unstructured) || cls:, nolog reml"}
# x enters an exchangeable block (tied to _cons) or none at all: only y and w may be
# transformed here, x may be shifted (fixed part only) in the crossed model
TIED_MODELS = {"crossed": "mixed y x w || _all: R.f || id:, nolog",
               "crossed reml": "mixed y x w || _all: R.f || id:, nolog reml",
               "exchangeable": "mixed y x w || id: x, covariance(exchangeable) nolog"}


@functools.cache
def reference(data: str, command: str):
    """The fit on the untransformed data (once per module run)."""
    return fit(HSB_DATA if data == "hsb" else SIM_DATA, command)


@pytest.fixture(scope="module", autouse=True)
def _references():
    """Fit the references before any property test runs: the first Interpreter raises the
    recursion limit (limits.ensure_stack), which hypothesis warns about inside a test."""
    reference("hsb", "regress y x w")
    for method in ("mle", "reml"):
        reference("hsb", f"mixed y x w || id:, nolog {method}")
    for command in list(SLOPE_MODELS.values()) + list(TIED_MODELS.values()):
        reference("sim", command)


# --- regress ------------------------------------------------------------------------------------


@SETTINGS
@given(ty=AFFINE, tx=AFFINE, tw=AFFINE)
def test_regress_invariant(ty, tx, tw):
    regress_ref = reference("hsb", "regress y x w")
    cols, scales = transform(HSB_DATA, {"y": ty, "x": tx, "w": tw})
    new = fit(cols, "regress y x w")
    check_fixed(regress_ref, new, scales, ["x", "w"])
    for stat in ("r2", "r2_a", "F", "df_r"):
        close(new.scalars[stat], regress_ref.scalars[stat], what=stat)
    close(new.scalars["rss"], regress_ref.scalars["rss"] * scales["y"] ** 2, what="rss")
    close(new.scalars["ll"] + len(cols["y"]) * math.log(scales["y"]), regress_ref.scalars["ll"],
          what="ll")


# --- mixed: random intercept, ML and REML ---------------------------------------------------------
@SETTINGS
@given(method=st.sampled_from(["mle", "reml"]), ty=AFFINE, tx=AFFINE, tw=AFFINE)
def test_mixed_random_intercept_invariant(method, ty, tx, tw):
    command = f"mixed y x w || id:, nolog {method}"
    cols, scales = transform(HSB_DATA, {"y": ty, "x": tx, "w": tw})
    check_mixed(reference("hsb", command), fit(cols, command), scales, ["x", "w"])


# --- mixed: random slopes (the slope's covariate only rescaled) ------------------------------------
@SETTINGS
@given(model=st.sampled_from(sorted(SLOPE_MODELS)), ty=AFFINE, sx=SCALE, tw=AFFINE)
def test_mixed_random_slope_invariant(model, ty, sx, tw):
    command = SLOPE_MODELS[model]
    cols, scales = transform(SIM_DATA, {"y": ty, "x": sx, "w": tw})
    check_mixed(reference("sim", command), fit(cols, command), scales, ["x", "w"], slope="x")


# --- mixed: crossed effects (_all: R.f) and an exchangeable block -----------------------------------
@SETTINGS
@given(model=st.sampled_from(sorted(TIED_MODELS)), ty=AFFINE, tx=AFFINE, tw=AFFINE)
def test_mixed_crossed_and_exchangeable_invariant(model, ty, tx, tw):
    command = TIED_MODELS[model]
    spec = {"y": ty, "w": tw}
    if model.startswith("crossed"):
        spec["x"] = tx          # x is only a fixed covariate there
    cols, scales = transform(SIM_DATA, spec)
    check_mixed(reference("sim", command), fit(cols, command), scales, ["x", "w"])
