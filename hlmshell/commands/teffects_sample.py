"""What every teffects estimator reads the same way: the statistic asked for (ate, atet,
pomeans), vce(), the estimation sample with the outcome and treatment columns, weights, the
propensity-score overlap check, and what the display needs to name the treatment levels.

Why its own module: teffects (the estimating-equation estimators) and teffects_match (the
matching estimators) both use these, and neither should import the other.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import teffects_syntax as tsx
from hlmshell.commands._toolkit import sample_columns
from hlmshell.errors import StataError
from hlmshell.syntax.evaluate import marksample


def stat_of(opts, sub: str) -> str:
    given = [s for s in ("ate", "atet", "pomeans") if getattr(opts, s)]
    if len(given) > 1:
        raise StataError("only one of ate, atet, or pomeans is allowed", 198)
    stat = given[0] if given else "ate"
    if stat == "atet" and sub == "aipw":
        raise StataError("option atet not allowed", 198)
    if stat == "pomeans" and sub in ("nnmatch", "psmatch"):
        raise StataError("option pomeans not allowed", 198)
    return stat


def check_vce(opts, matching: bool) -> int:
    """vce(robust) for the estimating-equation estimators; for matching vce(robust [, nn(#)])
    (the number of matches for the variance, 2 by default) or vce(iid) (returned as 0)."""
    raw = (opts.raw("vce") or "robust").strip()
    word, _, tail = raw.partition(",")
    word = word.strip().lower()
    if matching and word == "iid" and not tail.strip():
        return 0
    if not word or not "robust".startswith(word) or (len(word) < 1):
        raise StataError(f"vcetype '{word}' not allowed", 198)
    tail = tail.strip()
    if not tail:
        return 2
    if not matching or not (tail.startswith("nn(") and tail.endswith(")")):
        raise StataError("invalid vce() option", 198)
    try:
        k = int(tail[3:-1])
    except ValueError:
        raise StataError("invalid vce() option", 198) from None
    if k < 1:
        raise StataError("vce(robust, nn(#)) requires # to be a positive integer", 198)
    return k


class TeSample:
    """The estimation sample and the columns the estimators read from it."""

    def __init__(self, session, c, models, extra_terms=()):
        ds = session.data
        self.oterms = tsx.terms_of(session, models.outcome.covariates)
        self.tterms = tsx.terms_of(session, models.treatment.covariates)
        self.ovar = tsx.terms_of(session, models.outcome.var)
        self.tvar_t = tsx.terms_of(session, models.treatment.var)
        if len(self.ovar) != 1 or self.ovar[0].parts[0].factor or len(self.tvar_t) != 1:
            raise StataError("invalid syntax", 198)
        self.y_name = self.ovar[0].parts[0].name
        self.t_name = self.tvar_t[0].parts[0].name
        names = [self.y_name, self.t_name] + tsx.term_vars(self.oterms) + \
            tsx.term_vars(self.tterms)
        for terms in extra_terms:
            names += tsx.term_vars(terms)
        names = list(dict.fromkeys(names))
        for nm in names:
            if ds.var(nm).is_string:
                raise StataError("string variables not allowed in varlist;\n"
                                 f"{nm} is a string variable", 109)
        mask = marksample(session, c, names)
        if not mask.any():
            raise StataError("no observations", 2000)
        self.mask = mask
        self.column = sample_columns(ds, mask)
        self.n = int(mask.sum())
        self.y = np.asarray(self.column(self.y_name), dtype=float)
        self.tv = np.asarray(self.column(self.t_name), dtype=float)


def weights_of(session, c, mask):
    if c.weight is None:
        return None, ""
    from hlmshell.commands._toolkit import weights
    w = weights(session, c, mask, ("fweight", "pweight", "iweight"))
    return w[mask], c.weight.kind


def check_overlap(ps, opts, tvar, levels=None) -> None:
    """Stata's overlap check: no propensity score below pstolerance() (1e-5 by default).
    ps: n x L probabilities of the levels (in `levels` order), or a binary treatment's
    probability of the treated level."""
    tol = float(opts.pstolerance) if "pstolerance" in opts else 1e-5
    P = np.column_stack([1 - ps, ps]) if np.ndim(ps) == 1 else np.asarray(ps)
    levels = levels or list(range(P.shape[1]))
    for j in range(P.shape[1]):
        low = int(np.sum(P[:, j] < tol))
        if low:
            raise StataError(f"treatment {int(levels[j])} has {low} propensity scores less than "
                             f"{tol:.2e}\ntreatment overlap assumption has been violated; use "
                             "option osample() to identify the observations", 459)


def attach_display_info(session, res, smp, pair, eq_designs, levels=None) -> None:
    ctrl, trt = pair
    res.control, res.treated = ctrl, trt
    res.level_labels = {v: tsx.level_text(session, smp.t_name, v) for v in (levels or pair)}
    res.eq_designs = eq_designs
    res.oterms, res.tterms = smp.oterms, smp.tterms
    res.fv_labels = {**tsx.value_labels_of(session, smp.oterms),
                     **tsx.value_labels_of(session, smp.tterms)}
