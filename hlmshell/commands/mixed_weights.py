"""Weights of `mixed`: `[fweight = exp]` and `[pweight = exp]` at the observation level.

Why a module of its own: the weights change what the fit maximises, what e() reports and which
options combine with them, in several places of estimation.py's `mixed` path; the rules sit here.

- fweights: each row stands for w copies of itself. The likelihood is that of the expanded data
  (engine.lmm.fit_lmm weights every cross product), e(N) and the groups' sizes count the copies,
  the LR test against the linear model compares two weighted likelihoods.
- As Stata's _xtmixed_estimate: no REML with any weights (r(101)), weights constant within
  their level's groups (r(459)), pweights and fweights not mixed (r(198)), e(fweight1) /
  e(pweight1) hold an equation's weight expression, e(pwscale) the scaling.
- pweights: sampling weights. Each row's log-likelihood term inside its group is multiplied by
  its weight (the pseudo-likelihood of Stata's Methods and formulas),
  the VCE is the sandwich over the top-level groups (vce(robust) is implied), ML only, and no LR
  test against the linear model is reported. e(N) counts the rows.
Weights at the second level of a two-level model (`|| id:, pweight(exp)` / `fweight(exp)`,
constant within each group) multiply each group's whole log likelihood: engine.lmm_group_weights
fits that (the cross-product engine cannot); pweight() implies the robust VCE as [pw=] does.
pwscale(size|effective) rescales the level-one pweights within each group, pwscale(gk) moves
them to the second level (Graubard and Korn). Weights at a third level are refused plainly.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.commands._toolkit import weights
from hlmshell.engine import ols
from hlmshell.engine.types import LmmFit
from hlmshell.errors import StataError
from hlmshell.syntax.evaluate import evaluate

KINDS = ("fweight", "pweight")
_TEXT = re.compile(r"\[\s*\w+\s*=\s*([^\]]*)\]")


def sample_weights(session, cmd, mask: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """(the weights of the sample rows, the kind) or (None, None) without weights. marksample
    has already dropped rows with a missing or zero weight; noninteger fweights are r(401),
    negative weights r(402), other kinds r(101)."""
    if cmd.weight is None:
        return None, None
    w = weights(session, cmd, mask, allowed=KINDS)
    return np.asarray(w[mask], dtype=float), cmd.weight.kind


def weighted_sample(session, cmd, mask: np.ndarray, level_weights):
    """(the sample without rows whose fweight()/pweight() is missing or zero, the level-one
    weights of its rows, their kind)."""
    if level_weights:
        mask = level_weight_values(session, level_weights, mask)
        if not mask.any():
            raise StataError("no observations", 2000)
    w, kind = sample_weights(session, cmd, mask)
    return mask, w, kind


def check_options(kind: str | None, o, obs_weighted: bool = True) -> None:
    """Stata's combinations (its messages): no REML with weights, no observation-level weights
    beside a residual structure (here: no weights at all), no dfmethod(); pweights imply
    vce(robust)."""
    if kind is None:
        return
    if o.reml:
        raise StataError("REML not supported with weights", 101)
    if o.residuals is not None:
        raise StataError("observation-level weights not allowed with correlated residual "
                         "structures" if obs_weighted else
                         "weights at higher levels not allowed with residuals()", 101)
    if o.dfmethod is not None:
        raise StataError("option dfmethod() is not allowed with weighted estimation", 198)
    if kind == "pweight":
        if o.vce.kind == "oim":
            raise StataError("vce(oim) not allowed with pweights", 198)
        if o.vce.kind == "":
            o.vce.kind = "robust"


def parse_pwscale(text: str | None) -> str:
    """pwscale(size|effective|gk), abbreviated as Stata takes them (size, eff..., gk)."""
    word = (text or "").strip().lower()
    for full, least in (("size", 4), ("effective", 3), ("gk", 2)):
        if len(word) >= least and full.startswith(word):
            return full
    raise StataError("invalid pscale()", 198)


def apply_pwscale(data, method: str | None) -> None:
    """pwscale(size): within each second-level group the level-one weights are scaled to sum
    to the group's size n_j; pwscale(effective): to the effective size (sum w)^2 / sum w^2
    ([ME] mixed, Survey data); pwscale(gk): the level-two weight becomes the group's mean of
    w_i|j w_j and the level-one weights 1. pweights and exactly two levels are required."""
    if method is None:
        return
    if data.wkind != "pweight":
        raise StataError("pwscale() allowed only with pweights", 198)
    if data.weights is None and method != "gk":
        return                  # no level-one weights to scale
    if len(data.blocks) != 1 or data.blocks[0].label == "_all":
        raise StataError("pwscale() allowed only with two-level models", 198)
    codes = np.asarray(data.blocks[0].group, dtype=np.int64)
    w = data.weights if data.weights is not None else np.ones(len(codes))
    if method == "gk":          # Graubard and Korn: the level-two weight becomes the group's
        wg = data.group_weights if data.group_weights is not None else np.ones(int(codes.max()) + 1)
        data.group_weights = np.bincount(codes, weights=w * wg[codes]) / np.bincount(codes)
        data.weights = np.ones(len(codes))      # mean of w_i|j w_j; level one becomes 1
        return
    sw = np.bincount(codes, weights=w)
    if method == "size":
        target = np.bincount(codes).astype(float)
    else:
        target = sw * sw / np.bincount(codes, weights=w * w)
    data.weights = w * (target / sw)[codes]


def level_weight_values(session, level_weights, mask: np.ndarray) -> np.ndarray:
    """fweight()/pweight() of a random-effects equation evaluated on every row: rows with a
    missing or zero weight leave the sample (the returned mask); negative weights are r(402),
    noninteger fweights r(401), a string r(109)."""
    out = mask.copy()
    for kind, text in level_weights:
        v = np.asarray(evaluate(text, session))
        if v.dtype == object or v.dtype.kind in "US":
            raise StataError("type mismatch", 109)
        v = np.broadcast_to(v.astype(float), (session.data.n,))
        out &= ~np.isnan(v) & (v != 0)
        if np.any(v[out] < 0):
            raise StataError("negative weights encountered", 402)
        if kind == "fweight" and np.any(v[out] != np.round(v[out])):
            raise StataError("may not use noninteger frequency weights", 401)
    return out


def group_weights(session, data, level_weights) -> np.ndarray | None:
    """The second level's weight per group code (None without fweight()/pweight()). Only two-
    level models; the weight must be constant within each group; fweights and pweights are not
    mixed across levels. Sets data.wkind (pweight() makes the fit a pseudo-likelihood)."""
    if not level_weights:
        return None
    if len(level_weights) != 1 or len(data.blocks) != 1 or data.blocks[0].label == "_all":
        raise StataError("weights at higher levels are only allowed with two-level models", 198)
    kind, text = level_weights[0]
    if data.wkind is not None and data.wkind != kind:
        raise StataError("cannot mix pweights with fweights", 198)
    v = np.broadcast_to(np.asarray(evaluate(text, session), dtype=float),
                        (session.data.n,))[data.mask]
    codes = np.asarray(data.blocks[0].group, dtype=np.int64)
    G = int(codes.max()) + 1
    first = np.full(G, np.nan)
    first[codes[::-1]] = v[::-1]
    if np.any(first[codes] != v):
        raise StataError(f"weights not constant within groups defined by {data.blocks[0].label}",
                         459)
    data.wkind = kind
    return first


def parse_level_weight(opts, full: str) -> tuple[str, str]:
    """(kind, expression text) of `fweight(exp)` / `pweight(exp)` in an equation."""
    text = (opts.raw(full) or "").strip()
    if not text:
        raise StataError(f"option {full}() incorrectly specified", 198)
    return full, text


def weighted_linear_ll(y: np.ndarray, X: np.ndarray, w: np.ndarray, reml: bool) -> float:
    """The linear model's log likelihood with frequency weights (the expanded data's): least
    squares on sqrt(w)-scaled rows give the weighted residual sum of squares and log|X'WX|."""
    f = _weighted_ols(y, X, w)
    return float(ols.loglik(f.rss, float(w.sum()), f.p, reml, f.logdet_XtX))


def _weighted_ols(y, X, w):
    s = np.sqrt(w)
    return ols.fit(y * s, X * s[:, None])


def fit_linear(y: np.ndarray, X: np.ndarray, w: np.ndarray, reml: bool, callback) -> LmmFit:
    """`mixed` without a random-effects equation, weighted: the weighted least-squares fit with
    sigma^2 = rss_w / sum(w) (REML: / (sum(w) - p)), in fit_lmm's metric."""
    n, p = X.shape
    nw = float(w.sum())
    nu = nw - p if reml else nw
    if nu <= 0:
        raise StataError("insufficient observations", 2001)
    f = _weighted_ols(y, X, w)
    sigma2 = f.rss / nu
    ll = float(ols.loglik(f.rss, nw, p, reml, f.logdet_XtX))
    callback("gradient", 0, ll)
    callback("gradient", 1, ll)
    return LmmFit(beta=f.beta, V_beta=sigma2 * f.XtX_inv, ll=ll, reml=reml, converged=True,
                  iterations=1, sigma2=sigma2, covs=[], vc_names=[("lnsig_e", "_cons")],
                  vc_theta=np.array([0.5 * math.log(sigma2)]), vc_V=np.array([[1.0 / (2 * nu)]]),
                  n_obs=n)


def row_weights(data) -> np.ndarray | None:
    """Each row's total weight: its level-one weight times its group's weight (fweights: the
    copies of the row in the expanded data)."""
    w = data.weights
    if data.group_weights is None:
        return w
    codes = np.asarray(data.blocks[0].group, dtype=np.int64)
    wg = data.group_weights[codes]
    return wg if w is None else w * wg


def post(res, cmd, kind: str | None, w: np.ndarray | None, level_weights=(),
         pwscale: str | None = None) -> None:
    """e(wtype), e(wexp); fweights: e(N) is their sum (the group sizes, which the caller
    reads after this, then count the copies: MixedResults.block_groups)."""
    if kind is None:
        return
    for k, (lkind, text) in enumerate(level_weights, start=1):
        res.macros[f"{lkind}{k}"] = text             # e(pweight1) / e(fweight1)
    if pwscale:
        res.macros["pwscale"] = pwscale
    if cmd.weight is None:
        if kind == "fweight":
            res.scalars["N"] = round(float(w.sum()))
        return
    res.macros["wtype"] = kind
    m = _TEXT.search(cmd.text or "")
    if m or cmd.weight is not None:
        res.macros["wexp"] = f"= {m.group(1).strip()}" if m else f"= {cmd.weight.exp}"
    if kind == "fweight":
        res.scalars["N"] = round(float(w.sum()))
