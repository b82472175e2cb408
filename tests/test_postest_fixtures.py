"""Builders shared by the post-estimation tests: hsb data and EstimationResults made by hand
(fit_lmm on an explicit design), so the tests do not depend on the `mixed` command."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

import hlmshell
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.engine.types import MixedModel, RandomBlock
from hlmshell.results import EstimationResults
from hlmshell.session import Session
from hlmshell.output.writer import Capture

HSB = os.path.join(os.path.dirname(hlmshell.__file__), "sample_data", "hsb.dta")

# the notes' models: fixed columns in e(b) order ('o.' = omitted, kept in e(b) as Stata does)
FULL = ["ses", "sector", "c.ses#c.sector", "o.ses", "2.sized", "3.sized", "2.sized#c.ses",
        "3.sized#c.ses", "1.female", "1o.sector", "1.female#1.sector", "1.female#2.sized",
        "1.female#3.sized", "_cons"]
REDUCED = ["ses", "sector", "c.ses#c.sector", "1.female", "2.sized", "3.sized",
           "1.female#2.sized", "1.female#3.sized", "_cons"]
FINAL = ["ses", "sector", "c.ses#c.sector", "1.female", "1.sized_1", "1.female#1.sized_1", "_cons"]


def hsb_frame() -> pd.DataFrame:
    df = pd.read_stata(HSB, convert_categoricals=False)
    size = df["size"].to_numpy(float)
    df["sized"] = np.where(size <= 499, 1.0, np.where(size <= 1199, 2.0, 3.0))
    df["sized_1"] = (df["sized"] == 1).astype(float)
    return df


def hsb_session(df: pd.DataFrame | None = None) -> Session:
    df = hsb_frame() if df is None else df
    s = Session(out=Capture())
    data = Dataset()
    for c in df.columns:
        data.add(Variable(c, df[c].to_numpy(dtype=float), "float" if c not in ("id",) else "double"))
    s.data = data
    return s


def column(df, name: str) -> np.ndarray:
    if name == "_cons":
        return np.ones(len(df))
    out = np.ones(len(df))
    for part in name.split("#"):
        if part.startswith("c."):
            part = part[2:]
        if "." in part:
            lev, var = part.split(".", 1)
            lev = lev.rstrip("o")
            out = out * (df[var].to_numpy(float) == float(lev))
        else:
            out = out * df[part].to_numpy(float)
    return out


def fit_results(df, fixed: list[str], group: str = "id", slopes: tuple[str, ...] = (),
                cov: str = "identity", reml: bool = False, depvar: str = "mathach",
                sample: np.ndarray | None = None, name: str | None = None) -> EstimationResults:
    from hlmshell.engine.lmm import fit_lmm

    n_all = len(df)
    sample = np.ones(n_all, bool) if sample is None else sample
    d = df[sample]
    omitted = np.array([("o." in f) for f in fixed])
    X = np.column_stack([column(d, f) for f, o in zip(fixed, omitted) if not o])
    y = d[depvar].to_numpy(float)
    codes = np.unique(d[group].to_numpy(float), return_inverse=True)[1]
    Z = np.column_stack([column(d, s) for s in slopes] + [np.ones(len(d))])
    blk = RandomBlock(codes.astype(np.int64), Z, list(slopes) + ["_cons"], cov, group, 1)
    fit = fit_lmm(y, X, [blk], reml=reml)
    k_f = len(fixed)
    names = [(depvar, f) for f in fixed] + list(fit.vc_names)
    b = np.zeros(len(names))
    live = np.flatnonzero(~omitted)
    b[live] = fit.beta
    b[k_f:] = fit.vc_theta
    V = np.zeros((len(names), len(names)))
    V[np.ix_(live, live)] = fit.V_beta
    if fit.vc_V is not None:
        V[k_f:, k_f:] = fit.vc_V
    om = np.concatenate([omitted, np.zeros(len(fit.vc_names), bool)])
    model = MixedModel(y=y, X=X, blocks=[blk], fit=fit, fixed_names=fixed, omitted=omitted)
    res = EstimationResults(
        cmd="mixed", names=names, b=b, V=V, omitted=om, k_f=k_f,
        scalars={"N": float(len(y)), "ll": fit.ll, "k_f": float(k_f),
                 "rank": float(np.count_nonzero(~om))},
        macros={"cmd": "mixed", "depvar": depvar, "method": "REML" if reml else "ML",
                "ivars": group},
        sample=sample, model=model, name=name)
    return res


@pytest.fixture(scope="session")
def hsb():
    return hsb_frame()


def test_fixture_fits_the_notes_noslope_model():
    df = hsb_frame()
    res = fit_results(df, FULL)
    assert round(res.scalars["ll"], 3) == -23251.547
    assert res.scalars["rank"] == 14
