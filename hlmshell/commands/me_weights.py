"""Level-1 weights of the one-level me* commands: fweight, pweight and iweight.

Each observation's log-likelihood terms are multiplied by its weight (engine.glmm.derivs), so
fweights fit exactly what the expanded data would (e(N) is their sum, the groups' sizes are
weighted), pweights give the log pseudolikelihood with the groups' sandwich VCE (Stata's
vce(robust), implied), and iweights scale the terms and nothing else. Weights at the group
level (`|| id:, pweight()`) and with several levels are not available."""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands._toolkit import weights
from hlmshell.errors import StataError

_TEXT = re.compile(r"\[\s*\w+\s*=\s*([^\]]*)\]")


def level1_weights(session, cmd, mask, multilevel: bool):
    """(the weights of the sample rows, in their order, or None; the kind)."""
    if cmd.weight is None:
        return None, None
    if multilevel:
        raise StataError("weights not allowed with more than one random-effects level", 101)
    w = weights(session, cmd, mask, allowed=("fweight", "pweight", "iweight"))[mask]
    w = np.where(np.isnan(w), 0.0, w)          # Stata's markout: a missing weight drops the row
    if not np.any(w > 0):
        raise StataError("no observations", 2000)
    return w, cmd.weight.kind


def robust_groups(kind, vce, block):
    """pweights imply vce(robust): the groups are the clusters unless vce(cluster) says."""
    if kind != "pweight" or vce is not None:
        return vce
    return (None, np.asarray(block.group, dtype=np.int64))


def post(res, cmd, kind, data) -> None:
    """e(wtype), e(wexp); with fweights e(N) and the group sizes count the copies."""
    if kind is None:
        return
    res.macros["wtype"] = kind
    m = _TEXT.search(cmd.text or "")
    res.macros["wexp"] = f"= {m.group(1).strip()}" if m else ""
    w = data.weights
    if kind == "fweight":
        res.scalars["N"] = float(w.sum())
        sizes = np.bincount(data.codes, weights=w)
        res.matrices["g_min"] = np.array([[sizes.min()]])
        res.matrices["g_avg"] = np.array([[sizes.mean()]])
        res.matrices["g_max"] = np.array([[sizes.max()]])
    else:
        res.scalars["N"] = float(np.count_nonzero(w > 0))
