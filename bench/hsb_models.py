"""The course notes' models on hsb, built directly with numpy (columns in the notes' order)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hlmshell.engine.types import RandomBlock

HSB = Path(__file__).resolve().parent.parent / "hlmshell" / "sample_data" / "hsb.dta"


def load_hsb():
    df = pd.read_stata(HSB, convert_categoricals=False)
    size = df["size"].to_numpy(float)
    sized = np.where(size <= 499, 1, np.where(size <= 1199, 2, 3))
    return df, sized


def fixed_full(df, sized):
    ses = df["ses"].to_numpy(float)
    sector = df["sector"].to_numpy(float)
    female = df["female"].to_numpy(float)
    s2, s3 = (sized == 2).astype(float), (sized == 3).astype(float)
    cols = [ses, sector, ses * sector, s2, s3, s2 * ses, s3 * ses, female, female * sector,
            female * s2, female * s3, np.ones_like(ses)]
    return np.column_stack(cols)


def fixed_reduced(df, sized):
    ses = df["ses"].to_numpy(float)
    sector = df["sector"].to_numpy(float)
    female = df["female"].to_numpy(float)
    s2, s3 = (sized == 2).astype(float), (sized == 3).astype(float)
    return np.column_stack([ses, sector, ses * sector, female, s2, s3, female * s2, female * s3,
                            np.ones_like(ses)])


def fixed_final(df, sized):
    ses = df["ses"].to_numpy(float)
    sector = df["sector"].to_numpy(float)
    female = df["female"].to_numpy(float)
    s1 = (sized == 1).astype(float)
    return np.column_stack([ses, sector, ses * sector, female, s1, female * s1, np.ones_like(ses)])


def models():
    """name -> (y, X, blocks)"""
    df, sized = load_hsb()
    y = df["mathach"].to_numpy(float)
    gid = df["id"].to_numpy()
    _, group = np.unique(gid, return_inverse=True)
    ones = np.ones((len(y), 1))
    ses = df["ses"].to_numpy(float)[:, None]
    female = df["female"].to_numpy(float)[:, None]

    def blk(Z, names, cov):
        return [RandomBlock(group=group, Z=Z, names=names, covariance=cov, label="id", depth=1)]

    Xf = fixed_full(df, sized)
    return {
        "full_unstructured": (y, Xf, blk(np.hstack([ses, female, ones]), ["ses", "female", "_cons"], "unstructured")),
        "sesrandom": (y, Xf, blk(np.hstack([ses, ones]), ["ses", "_cons"], "unstructured")),
        "noslope": (y, Xf, blk(ones, ["_cons"], "identity")),
        "femalerandom": (y, Xf, blk(np.hstack([female, ones]), ["female", "_cons"], "unstructured")),
        "reduced": (y, fixed_reduced(df, sized), blk(ones, ["_cons"], "identity")),
        "final": (y, fixed_final(df, sized), blk(ones, ["_cons"], "identity")),
        "empty_reml": (y, ones, blk(ones, ["_cons"], "identity")),
    }
