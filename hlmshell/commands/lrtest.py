"""lrtest: likelihood-ratio test of two fitted models (stored names or `.` for the active one).

Follows Stata's lrtest.ado: the model with more parameters (e(rank)) is taken as the
unrestricted one whatever the order typed; the checks (nesting of mixed models, ML against
REML, REML with different fixed parts, sample size, estimator, depvar) run unless `force`.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import expand_names, lookup, model_df, print_ic
from hlmshell.errors import StataError, syntax_error
from hlmshell.output import postest_output as po
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults, RResults

_MIXED = ("mixed", "xtmixed")


def _n_vc(res: EstimationResults) -> tuple[float, float]:
    """(k_rs, k_rc): variance and covariance parameter counts of the random part."""
    if "k_rs" in res.scalars and "k_rc" in res.scalars:
        return float(res.scalars["k_rs"]), float(res.scalars["k_rc"])
    blocks = getattr(res.model, "blocks", None) or []
    krs = krc = 0
    for b in blocks:
        q = len(b.names)
        cov = (b.covariance or "").lower()
        if cov.startswith("un"):
            krs += q
            krc += q * (q - 1) // 2
        elif cov.startswith("ex"):
            krs += 1
            krc += 1 if q > 1 else 0
        elif cov.startswith("id"):
            krs += 1
        else:
            krs += q
    return float(krs), float(krc)


def _method(res: EstimationResults) -> str:
    return (res.macros.get("method") or "").upper()


def _fmt_n(x: float) -> str:
    return f"{x:g}" if x != int(x) else str(int(x))


def _modelspecs(body: str) -> tuple[list[str], str]:
    """The modelspecs typed -- a name, `.` or `(namelist)` each, read as lrtest.ado's
    `gettoken ..., match(parens)` does -- and the text after the second."""
    text = (body or "").strip()
    specs: list[str] = []
    i = 0
    while i < len(text) and len(specs) < 2:
        if text[i].isspace():
            i += 1
            continue
        if text[i] == "(":
            j, depth = i, 0
            while j < len(text):
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            if depth:
                raise syntax_error()
            specs.append(text[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace():
                j += 1
            specs.append(text[i:j])
            i = j
    return specs, text[i:].strip()


def _model_names(session, body: str) -> tuple[str, str]:
    """The two models named (`.` added when only one is): stored names or `.`.

    As lrtest.ado: each modelspec is expanded (`_all`, wildcards, a namelist); models named
    in both are r(198) before anything is looked at, so `lrtest _all` -- the stored models
    against the active one, itself stored -- is "models m2 specified more than once". A
    composite model (several names) is r(498) after mixed, the only composite lrtest here.
    """
    specs, rest = _modelspecs(body)
    if not specs or not specs[0].strip():
        raise StataError("name(s) of estimation results expected", 198)
    if len(specs) == 2 and not specs[1].strip():    # `()` second: lrtest.ado reads no model2
        rest = f"() {rest}"
    if rest:
        raise StataError(f"invalid input following specifications: {' '.join(rest.split())}", 198)
    if len(specs) == 1:
        if session.e is None:
            raise StataError("last estimates not found\nsecond specification expected", 301)
        specs.append(".")
    m1 = expand_names(session, specs[0])
    m2 = expand_names(session, specs[1])
    overlap = list(dict.fromkeys(n for n in m1 if n in m2))
    if overlap:
        raise StataError(f"models {' '.join(overlap)} specified more than once", 198)
    if len(m1) != 1 or len(m2) != 1:
        raise StataError("composite models not allowed after mixed", 498)
    return m1[0], m2[0]


def _check_ll(nm: str, r: EstimationResults, force: bool) -> None:
    ll = r.scalars.get("ll")
    if ll is None:
        raise StataError(f"{nm} does not contain scalar e(ll)", 498)
    if isinstance(ll, float) and math.isnan(ll):
        raise StataError(f"{nm}: e(ll) is missing", 498)
    if not force and (r.macros.get("vcetype") == "Robust"):
        raise StataError("LR test likely invalid for models with robust vce", 498)


def _df_option(opts, df: float) -> float:
    """df(#) (typed real by the spec) replaces the difference in parameter counts."""
    if "df" not in opts:
        return df
    if opts.df <= 0:
        raise StataError("df() should be positive", 198)
    return opts.df


def _check_df(u: EstimationResults, rr: EstimationResults, df: float) -> None:
    if df < 0:
        raise StataError(f"df(unrestricted) < df(restricted): {_fmt_n(model_df(u))} < "
                         f"{_fmt_n(model_df(rr))}", 498)
    if df == 0:
        raise StataError(f"df(unrestricted) = df(restricted) = {_fmt_n(model_df(u))}", 498)


def _check_mixed_pair(u: EstimationResults, rr: EstimationResults) -> tuple[bool, bool]:
    """Nesting and estimator checks of two mixed models: (conservative, reml) -- the test is
    conservative when they differ in variance components, a REML test needs the same fixed
    part."""
    u_rs, u_rc = _n_vc(u)
    r_rs, r_rc = _n_vc(rr)
    if u.k_f < rr.k_f or u_rc < r_rc or u_rs < r_rs:
        raise StataError("Mixed models are not nested", 498)
    if _method(u) != _method(rr):
        raise StataError("cannot compare a REML model with an ML model", 498)
    reml = _method(u) == "REML"
    if reml and u.k_f != rr.k_f:
        raise StataError("REML criterion is not comparable under different "
                         "fixed-effects specifications", 498)
    return u_rs != r_rs, reml


def _check_same_data(u: EstimationResults, rr: EstimationResults) -> None:
    """Same observations, sample, estimator and dependent variable."""
    nu, nr = u.scalars.get("N"), rr.scalars.get("N")
    if nu != nr:
        raise StataError(f"observations differ: {_fmt_n(nu)} vs. {_fmt_n(nr)}", 498)
    su, sr = u.sample, rr.sample
    if su is not None and sr is not None and len(su) == len(sr):
        if np.any(np.asarray(su, bool) != np.asarray(sr, bool)):
            raise StataError("samples differ", 498)
    if u.cmd != rr.cmd:
        raise StataError(f"test involves different estimators: {u.cmd} vs. {rr.cmd}", 498)
    if u.depvar and rr.depvar and u.depvar.split() != rr.depvar.split():
        raise StataError(f"dependent variables differ: {u.depvar} vs. {rr.depvar}", 498)


def _comparability(u: EstimationResults, rr: EstimationResults, df: float) -> tuple[bool, bool]:
    """lrtest.ado's checks (skipped by `force`): (conservative, reml) for the output's notes."""
    _check_df(u, rr, df)
    conservative = reml = False
    if u.cmd in _MIXED and rr.cmd in _MIXED:
        conservative, reml = _check_mixed_pair(u, rr)
    _check_same_data(u, rr)
    return conservative, reml


@command("lrtest", byable=False, qualifiers="",
          family="Postestimation", body="anything", desc="likelihood-ratio test after estimation",
          example="lrtest ses_random .",
          options=(Opt("df", "", "real", None, "override the degrees of freedom (a positive number)"),
                   Opt("force", desc="test even when the models are not nested or not comparable"),
                   Opt("stats", desc="display AIC and BIC of the models"),
                   Opt("dir", desc="display the descriptions of the models"),
                   Opt("asis", desc="take the first model as the unrestricted one, as typed")))
def lrtest_cmd(session, cmd) -> None:
    opts = bind_command("lrtest", cmd.options)     # typed by the spec on the registration line
    name1, name2 = _model_names(session, cmd.body)
    r1, r2 = lookup(session, name1), lookup(session, name2)
    force = opts.force
    for nm, r in ((name1, r1), (name2, r2)):
        _check_ll(nm, r, force)
    # guess: the first is unrestricted; swap when it has fewer parameters
    u_name, u, r_name, rr = name1, r1, name2, r2
    if model_df(u) < model_df(rr) and not opts.asis:
        u_name, u, r_name, rr = name2, r2, name1, r1
    df = _df_option(opts, model_df(u) - model_df(rr))
    conservative, reml = (False, False) if force else _comparability(u, rr, df)

    chi2 = -2.0 * (float(rr.scalars["ll"]) - float(u.scalars["ll"]))
    p = float(dist.chi2_sf(chi2, df)) if df > 0 else float("nan")
    for line in po.lrtest_lines(r_name, u_name, df, chi2, p, conservative, reml):
        session.out.line(line)
    if opts.stats:
        print_ic(session, [(r_name, rr), (u_name, u)])
    if opts.dir:
        rows = [(nm, r.macros.get("cmd2") or r.cmd, r.depvar, len(r.names), r.macros.get("estimates_title", ""))
                for nm, r in ((r_name, rr), (u_name, u))]
        for line in po.dir_lines(rows):
            session.out.line(line)
    session.r = RResults(scalars={"df": float(df), "chi2": chi2, "p": p})
