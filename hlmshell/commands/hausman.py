"""`hausman name-consistent [name-efficient] [, constant alleqs sigmamore sigmaless df(#) ...]`:
Hausman's specification test on stored estimation results.

As Stata's hausman: each model's coefficients with zero variance (omitted) are struck, only
the first equation is kept (unless alleqs), `_cons` is dropped (unless constant), the
coefficients in common are matched by equation and name, and
chi2 = (b-B)'[(V_b-V_B)^+](b-B) with the Moore-Penrose inverse (hlmshell.engine.panel.hausman),
df its rank. sigmamore (sigmaless) bases both covariance matrices on the efficient
(consistent) estimator's disturbance variance: e(sigma_e) after xtreg, fe and mle, e(rmse)
after xtreg, re, else e(sigma) or e(rmse). `.` names the active results.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import expand_names, lookup
from hlmshell.engine import panel as pn
from hlmshell.errors import StataError, syntax_error
from hlmshell.output import coeftable as ct
from hlmshell.output import xtreg_output as xo
from hlmshell.output.text import abbrev
from hlmshell.registry import Args, Opt, bind_command, command
from hlmshell.results import EstimationResults, RResults


@dataclass
class Coefs:
    """One model's coefficients under test: (equation, name) labels, b, V, sigma."""

    cmd: str
    labels: list[tuple[str, str]]
    b: np.ndarray
    V: np.ndarray
    sigma: float | None


def _eq_names(res: EstimationResults) -> list[tuple[str, str]]:
    """(equation, name) of e(b); a single-equation model's equation is Stata's `_` (blank)."""
    eqs = {eq for eq, _ in res.names}
    if res.cmd in _ML_FE and res.macros.get("model") == "fe":
        return list(res.names)          # Stata's e(b) keeps depvar: (ml), as the re fit's
    return [("" if len(eqs) == 1 else eq, nm) for eq, nm in res.names]


# conditional fixed-effects fits whose single equation is named by the depvar in Stata's e(b),
# so `hausman fe re` matches them with the re fit's first equation ([XT] xtpoisson)
_ML_FE = ("xtpoisson", "xtnbreg", "xtlogit")


def _sigma(res: EstimationResults) -> float | None:
    sc = res.scalars
    if res.cmd == "xtreg":
        key = "sigma_e" if res.macros.get("model") in ("fe", "ml") else "rmse"
        v = sc.get(key)
    else:
        v = sc.get("sigma", sc.get("rmse"))
    return float(v) if v is not None and math.isfinite(float(v)) else None


def _coefs(res: EstimationResults, opts: Args, skip: list[str]) -> Coefs:
    if (res.macros.get("clustvar") or res.macros.get("vce") == "robust"
            or res.macros.get("wtype") == "pweight") and not opts.force:
        raise StataError("hausman cannot be used with vce(robust), vce(cluster cvar), or "
                         "p-weighted data", 198)
    labels = _eq_names(res)
    b = np.asarray(res.b, dtype=float).reshape(-1)
    V = np.asarray(res.V, dtype=float).reshape(len(b), len(b))
    keep = np.diag(V) != 0
    if not keep.any():
        raise StataError("nothing to test", 498)
    if skip:
        keep &= np.array([eq not in skip for eq, _ in labels])
    elif not opts.alleqs and "equations" not in opts:
        first = labels[0][0]
        keep &= np.array([eq == first for eq, _ in labels])
    if not opts.constant:
        cons = np.array([nm == "_cons" for _, nm in labels])
        if np.all(cons[keep]):
            raise StataError("no common coefficients names (eq:coef), nothing to test", 498)
        keep &= ~cons
    idx = np.flatnonzero(keep)
    return Coefs(res.macros.get("cmd2") or res.cmd, [labels[i] for i in idx], b[idx],
                 V[np.ix_(idx, idx)], _sigma(res))


def _equations(c: Coefs, order: list[str]) -> Coefs:
    """equations(#:#, ...): the listed equations (by position), renamed comp1, comp2, ..."""
    eqs = list(dict.fromkeys(eq for eq, _ in c.labels))
    names = []
    for k, pos in enumerate(order, 1):
        if not 1 <= int(pos) <= len(eqs):
            raise StataError(f"equation #{pos} not found", 303)
        names.append((eqs[int(pos) - 1], f"comp{k}"))
    rename = dict(names)
    idx = [i for i, (eq, _) in enumerate(c.labels) if eq in rename]
    return Coefs(c.cmd, [(rename[c.labels[i][0]], c.labels[i][1]) for i in idx], c.b[idx],
                 c.V[np.ix_(idx, idx)], c.sigma)


def _match(c1: Coefs, c2: Coefs) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The coefficients of the consistent model found in the efficient one, in its order."""
    pos2 = {lab: i for i, lab in enumerate(c2.labels)}
    i1 = [i for i, lab in enumerate(c1.labels) if lab in pos2]
    if not i1:
        raise StataError("no coefficients in common; specify equations(matchlist)\n"
                         "for problems with different equation names.", 498)
    i2 = [pos2[c1.labels[i]] for i in i1]
    return ([c1.labels[i] for i in i1], c1.b[i1], c1.V[np.ix_(i1, i1)], c2.b[i2],
            c2.V[np.ix_(i2, i2)])


def _parse_equations(text: str | None) -> tuple[list[str], list[str]]:
    """`1:1, 2:3` -> (['1', '2'], ['1', '3'])."""
    a, b = [], []
    for pair in (text or "").replace(",", " ").split():
        left, colon, right = pair.partition(":")
        if not colon or not left.isdigit() or not right.isdigit():
            raise syntax_error()
        a.append(left)
        b.append(right)
    if not a:
        raise syntax_error()
    return a, b


def _models(session, body: str) -> tuple[list[str], list[str]]:
    """The two results' names (`.` the active ones) and the titles they get (as typed)."""
    words = body.split()
    if not words:
        raise syntax_error()
    if len(words) == 1:
        words.append(".")
    names = [n for w in words for n in expand_names(session, w)]
    if len(names) > 2 or len(words) > 2:
        raise StataError("too many names specified", 198)
    if len(names) < 2:
        raise StataError("too few names specified", 198)
    if names[0] == names[1]:
        raise StataError("the two models need to be different", 198)
    titles = words if len(words) == 2 and all(w == n or "*" not in w for w, n in zip(words, names)) else names
    return names, titles


def _label_lines(labels: list[tuple[str, str]]) -> list[tuple[str | None, list[str], int]]:
    """(equation, label lines, index) per coefficient, as _ms_display shows them (vsquish):
    a factor group's header before its levels."""
    out: list[tuple[str | None, list[str], int]] = []
    k = 0
    while k < len(labels):
        eq = labels[k][0]
        j = k
        while j < len(labels) and labels[j][0] == eq:
            j += 1
        names = [nm for _, nm in labels[k:j]]
        for g in ct.groups_from_names(names, status=[None] * len(names)):
            head = [f"{ln}" for ln in ct.header_lines(g.header)] if g.header else []
            for r_i, row in enumerate(g.rows):
                lines = [ct.level_label(row.label)] if g.header else ct.name_lines(row.label)
                out.append((eq, (head if r_i == 0 else []) + lines, k + row.index))
        k = j
    return out


def _table(labels, b1, b2, d, se) -> list[str]:
    rows: list[str] = []
    eqs = list(dict.fromkeys(eq for eq, _ in labels))
    held = None
    for eq, lines, i in _label_lines(labels):
        if len(eqs) > 1 and eq != held:
            if held is not None:
                rows.append("-" * 13 + "+" + "-" * 64)
            rows.append(f"{abbrev(eq, 12):<13}|")
            held = eq
        rows += xo.hausman_row(lines, float(b1[i]), float(b2[i]), float(d[i]), float(se[i]))
    return rows


@command("hausman", family="Postestimation", body="anything", byable=False, qualifiers="",
         exp=False, changes_data=False, desc="Hausman specification test on stored estimates",
         example="hausman fe re, sigmamore",
         options=(Opt("constant", "c", desc="include the constant in the comparison"),
                  Opt("alleqs", "a", desc="use all equations, not only the first"),
                  Opt("skipeqs", "sk", "string", None, "equations to skip"),
                  Opt("equations", "eq", "string", None, "match equations by position: #:# [, #:# ...]"),
                  Opt("sigmamore", "sig", desc="base both covariance matrices on the efficient estimator's disturbance variance"),
                  Opt("sigmaless", "sigmal", desc="base both covariance matrices on the consistent estimator's disturbance variance"),
                  Opt("df", "df", "int", None, "degrees of freedom of the test"),
                  Opt("force", desc="perform the test even with robust VCEs or p-weights"),
                  Opt("tconsistent", "tcon", "string", None, "title of the consistent estimator's column"),
                  Opt("tefficient", "teff", "string", None, "title of the efficient estimator's column")))
def hausman_cmd(session, cmd) -> None:
    opts = bind_command("hausman", cmd.options)
    (name1, name2), (title1, title2) = _models(session, cmd.body or "")
    if opts.sigmamore and opts.sigmaless:
        raise StataError("options sigmamore and sigmaless may not be combined", 198)
    if opts.df is not None and not 0 < opts.df < 11000:
        raise StataError("option df() incorrectly specified", 198)
    skip = (opts.skipeqs or "").split()
    c1 = _coefs(lookup(session, name1), opts, skip)
    c2 = _coefs(lookup(session, name2), opts, skip)
    if "equations" in opts:
        e1, e2 = _parse_equations(opts.equations)
        c1, c2 = _equations(c1, e1), _equations(c2, e2)
    _scale_sigma(opts, c1, c2)
    labels, b1, V1, b2, V2 = _match(c1, c2)
    test = pn.hausman(b1 - b2, V1 - V2)
    df = opts.df if opts.df is not None else test.rank
    p = float(dist.chi2_sf(test.chi2, df)) if df > 0 else math.nan
    out = session.out
    lines = xo.rank_note(test.rank, len(b1)) if test.rank != len(b1) else []
    lines += [""] + xo.hausman_head(abbrev(opts.tconsistent or title1, 12) or ".",
                                    abbrev(opts.tefficient or title2, 12) or ".")
    lines += _table(labels, b1, b2, b1 - b2, test.se) + xo.hausman_foot(c1.cmd, c2.cmd)
    lines += xo.hausman_test_lines(test.chi2, df, p, test.posdef)
    for line in lines:
        out.line(line)
    session.r = RResults(scalars={"chi2": test.chi2, "df": float(df), "p": p, "rank": float(test.rank)})


def _scale_sigma(opts: Args, c1: Coefs, c2: Coefs) -> None:
    if not (opts.sigmamore or opts.sigmaless):
        return
    if c1.sigma is None or c2.sigma is None:
        raise StataError("Estimators do not save e(sigma) or e(rmse),\nsigma option not allowed", 198)
    if opts.sigmamore:
        c1.V = (c2.sigma / c1.sigma) ** 2 * c1.V
    else:
        c2.V = (c1.sigma / c2.sigma) ** 2 * c2.V
