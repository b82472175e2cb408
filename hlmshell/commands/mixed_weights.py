"""Weights of `mixed`: `[fweight = exp]` and `[pweight = exp]` at the observation level.

Why a module of its own: the weights change what the fit maximises, what e() reports and which
options combine with them, in several places of estimation.py's `mixed` path; the rules sit here.

- fweights: each row stands for w copies of itself. The likelihood is that of the expanded data
  (engine.lmm.fit_lmm weights every cross product), e(N) and the groups' sizes count the copies,
  the LR test against the linear model compares two weighted likelihoods.
- pweights: sampling weights. Each row's log-likelihood term inside its group is multiplied by
  its weight (the pseudo-likelihood of Stata's Methods and formulas, level-one weights only),
  the VCE is the sandwich over the top-level groups (vce(robust) is implied), ML only, and no LR
  test against the linear model is reported. e(N) counts the rows.
pwscale(size|effective) rescales the level-one pweights within each group of a two-level
model. Weights at higher levels (`|| id:, pweight()` / `fweight()`) and pwscale(gk) are refused
plainly: they weight whole groups' likelihoods, which the cross-product engine does not do.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell.commands._toolkit import weights
from hlmshell.engine import ols
from hlmshell.engine.types import LmmFit
from hlmshell.errors import StataError

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


def check_options(kind: str | None, o) -> None:
    """Stata's combinations: pweights imply vce(robust) (so ML only), no residual structure or
    small-sample DF with weights here."""
    if kind is None:
        return
    if o.residuals is not None:
        raise StataError("weights not allowed with residuals()", 101)
    if o.dfmethod is not None:
        raise StataError("option dfmethod() not allowed with weights", 198)
    if kind == "pweight":
        if o.vce.kind == "oim":
            raise StataError("vce(oim) not allowed with pweights", 198)
        if o.vce.kind == "":
            o.vce.kind = "robust"


def parse_pwscale(text: str | None) -> str:
    """pwscale(size|effective|gk): the method's full name (Stata takes no abbreviation)."""
    word = (text or "").strip().lower()
    if word not in ("size", "effective", "gk"):
        raise StataError(f"pwscale({text}) invalid", 198)
    return word


def apply_pwscale(data, method: str | None) -> None:
    """pwscale(size): within each second-level group the level-one weights are scaled to sum
    to the group's size n_j; pwscale(effective): to the effective size (sum w)^2 / sum w^2
    ([ME] mixed, Survey data). Both need [pweight=] and exactly two levels; gk, which moves the
    weights to level two, is refused (group-level weights are not available)."""
    if method is None:
        return
    if data.wkind != "pweight":
        raise StataError("pwscale() requires pweights", 198)
    if len(data.blocks) != 1 or data.blocks[0].label == "_all":
        raise StataError("pwscale() is only allowed with two-level models", 198)
    if method == "gk":
        raise StataError("pwscale(gk) not supported: it sets level-two weights", 198)
    codes = np.asarray(data.blocks[0].group, dtype=np.int64)
    w = data.weights
    sw = np.bincount(codes, weights=w)
    if method == "size":
        target = np.bincount(codes).astype(float)
    else:
        target = sw * sw / np.bincount(codes, weights=w * w)
    data.weights = w * (target / sw)[codes]


def higher_level_weight(full: str) -> None:
    """fweight() / pweight() typed in a random-effects equation."""
    raise StataError(f"option {full}() at higher levels not supported", 198)


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


def post(res, cmd, kind: str | None, w: np.ndarray | None) -> None:
    """e(wtype), e(wexp); fweights: e(N) is their sum (the group sizes, which the caller
    reads after this, then count the copies: MixedResults.block_groups)."""
    if kind is None:
        return
    res.macros["wtype"] = kind
    m = _TEXT.search(cmd.text or "")
    res.macros["wexp"] = f"= {m.group(1).strip()}" if m else f"= {cmd.weight.exp}"
    if kind == "fweight":
        res.scalars["N"] = int(round(float(w.sum())))
