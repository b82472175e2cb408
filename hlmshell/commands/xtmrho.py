"""xtmrho (SSC, Lars E. Kroll): intraclass correlations, median odds ratios and median
incidence-rate ratios for every level of the last xtmixed/mixed, xtmelogit/melogit or
xtmepoisson/mepoisson fit.

For level k (outermost = 1) the ICC is that level's random-intercept variance over the total
(all levels' intercept variances plus the residual variance after mixed, plus pi^2/3, the
logistic latent variance, after a logit model) -- the level's own share, not estat icc's
cumulative one (the help file's productivity example: region .1956, state .6647). MOR and MIRR
are exp(sqrt(2 V) * invnormal(.75)) of the level's variance. The results are added to
e() as the ado does: e(rho#), e(mor#) or e(mirr#), and e(u#) (the variance on the level).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import active
from hlmshell.errors import StataError
from hlmshell.registry import command

_LINEAR = ("mixed", "xtmixed")
_LOGIT = ("melogit", "xtmelogit", "meqrlogit")
_POISSON = ("mepoisson", "xtmepoisson", "meqrpoisson")


def _glmm_levels(res) -> tuple[list[str], list[float]]:
    """Levels (outermost first) and their random-intercept variances from e(b)'s /var(_cons[g])."""
    names, vals = [], []
    for (eq, nm), b in zip(res.names, np.asarray(res.b, dtype=float)):
        if eq == "/" and nm.startswith("var(_cons[") and nm.endswith("])"):
            names.append(nm[len("var(_cons["):-2].split(">")[-1])
            vals.append(float(b))
    return names, vals


def _mixed_levels(res) -> tuple[list[str], list[float], float]:
    from hlmshell.results.mixed import MixedResults
    m = MixedResults.of(res)
    parts = m.intercept_variances
    if any(p.variance is None for p in parts):
        raise StataError("xtmrho needs a random intercept at every level", 198)
    return [p.label.split(">")[-1] for p in parts], [p.variance for p in parts], float(m.model.fit.sigma2)


def _median_ratio(v: float) -> float:
    return math.exp(math.sqrt(2.0 * v) * float(dist.norm_ppf(0.75)))


@command("xtmrho", byable=False, qualifiers="", body="none", options=False, changes_data=False,
         family="Postestimation", desc="intraclass correlations, MOR and MIRR per level (community: xtmrho)",
         example="xtmrho")
def xtmrho_cmd(session, cmd):
    import copy
    res = copy.copy(active(session))        # e() is replaced, never changed in place
    res.scalars = dict(res.scalars)
    kind = res.cmd if res.cmd in _LINEAR + _LOGIT + _POISSON else None
    if kind is None:
        raise StataError("xtmrho works after xtmixed, xtmelogit or xtmepoisson (mixed, melogit, "
                         "mepoisson)", 301)
    if kind in _LINEAR:
        levels, variances, resid = _mixed_levels(res)
    else:
        levels, variances = _glmm_levels(res)
        resid = math.pi ** 2 / 3.0 if kind in _LOGIT else 0.0
    if not levels:
        raise StataError("xtmrho needs a random intercept", 198)
    out = session.out
    out.line("")
    out.line("Levels: " + " ".join(levels))
    out.line("")
    total = sum(variances) + resid
    for k in range(1, len(levels) + 1):
        v = float(variances[k - 1])
        res.scalars[f"u{k}"] = v
        if kind in _POISSON:
            mirr = _median_ratio(v)
            res.scalars[f"mirr{k}"] = mirr
            out.line(f"level {k}:")
            out.line(f"Median Incidence Rate Ratio (MIRR): MIRR{k} = {mirr:.5f}")
            out.line("")
            continue
        rho = v / total if total > 0 else float("nan")
        res.scalars[f"rho{k}"] = rho
        if kind in _LINEAR:
            out.line(f"Intra class correlation on level {k} rho = {_g(rho)}")
            continue
        mor = _median_ratio(v)
        res.scalars[f"mor{k}"] = mor
        out.line(f"level {k}:")
        out.line(f"Intraclass correlation  (ICC):  rho{k} = {rho:.5f}")
        out.line(f"Median Odds Ratio (MOR):        mor{k} = {mor:.5f}")
        out.line("")
    session.e = res


def _g(x: float) -> str:
    from hlmshell.output.numfmt import fmt_g
    return fmt_g(x, 10).strip()
