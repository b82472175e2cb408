"""`xtreg, fe [fweight = exp]`: frequency weights, constant within each panel.

Why a module of its own: Stata's rule for frequency weights is that the results equal those on
the expanded data (each row present w times), and with a weight constant within its panel the
copies stay in their panel, so the within estimator and every statistic xtreg reports (N and
the panel sizes counting the copies, R-squared within, between and overall, sigma_u, rho,
corr(u_i, Xb), the F test that all u_i = 0, cluster-robust SEs by panel) are those of the fit on
the repeated rows. That fit is what this module hands to engine.panel.fit_within: the rows of
the estimation sample repeated w times (e(sample) stays the rows as they are). Expansions
beyond MAX_ROWS rows are refused (r(909)) instead of exhausting memory.
The other models refuse weights as Stata does (re, be: r(101)); aweights and pweights with fe,
and the weights Stata takes with mle, are not available here and say so (r(101)).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from hlmshell.commands._toolkit import weights
from hlmshell.errors import StataError

MAX_ROWS = 50_000_000


def check_kind(cmd, req) -> None:
    """Before anything is computed: which weights the model takes."""
    if cmd.weight is None:
        return
    kind = cmd.weight.kind
    if req.model in ("re", "be"):
        raise StataError("weights not allowed", 101)
    if req.model != "fe":
        raise StataError(f"{kind}s with xtreg, mle are not available", 101)
    if kind != "fweight":
        if kind == "iweight":
            raise StataError("iweights not allowed", 101)
        raise StataError(f"{kind}s with xtreg, fe are not available (areg, absorb() takes them)",
                         101)


def expand(session, cmd, data, req):
    """The estimation data with each row repeated its fweight times (data itself without
    weights); r(199) when a weight varies within a panel."""
    if cmd.weight is None:
        return data
    w = weights(session, cmd, data.mask, allowed=("fweight",))[data.mask]
    codes = np.asarray(data.codes, dtype=np.int64)
    first = np.full(int(codes.max()) + 1, np.nan)
    first[codes[::-1]] = w[::-1]
    if np.any(first[codes] != w):
        raise StataError(f"weight must be constant within {req.ivar}", 199)
    reps = w.astype(np.int64)
    if int(reps.sum()) > MAX_ROWS:
        raise StataError("insufficient memory: the frequency weights expand to too many rows", 909)
    design = replace(data.design, X=np.asfortranarray(np.repeat(data.design.X, reps, axis=0)))
    clusters = None if data.clusters is None else np.repeat(data.clusters, reps)
    return replace(data, design=design, y=np.repeat(data.y, reps), codes=np.repeat(codes, reps),
                   clusters=clusters)


def post(res, cmd) -> None:
    if cmd.weight is not None:
        res.macros["wtype"] = cmd.weight.kind
        res.macros["wexp"] = f"= {cmd.weight.exp}"
