"""tebalance summarize: covariate balance after teffects, as Stata 17's [TE] tebalance
summarize: standardized differences and variance ratios of each covariate in the raw data
and in the data balanced by the estimator (weighted by the inverse-probability weights of
ipw, ipwra and aipw; the matched sample of nnmatch and psmatch).

Why its own module: it only reads e() and the data; the balancing weights come from what
teffects kept (the propensity scores, or how often each unit serves as a match).
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import teffects_syntax as tsx
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Sub, command
from hlmshell.results import RResults


def balance_weights(res, t: np.ndarray) -> np.ndarray:
    """Weights that balance the sample: each unit's count in the matched sample, or its
    inverse-probability weight (rescaled to total the sample size)."""
    stat = res.macros["stat"]
    n = t.size
    if res.macros["subcmd"] in ("nnmatch", "psmatch"):
        K = np.zeros(n)
        for js in res.match_sets:
            if js is not None and len(js):
                K[js] += 1.0 / len(js)
        return np.where(t == 1, 1.0, K) if stat == "atet" else 1.0 + K
    P = np.asarray(res.fit.ps)
    if P.ndim == 2 and P.shape[1] > 2:
        raise StataError("tebalance with more than two treatment levels is not implemented "
                         "here", 198)
    p = P[:, 1] if P.ndim == 2 else P
    w = t + (1 - t) * p / (1 - p) if stat == "atet" else t / p + (1 - t) / (1 - p)
    return w * n / w.sum()


def _moments(x, w):
    m = np.sum(w * x) / np.sum(w)
    v = np.sum(w * (x - m) ** 2) / (np.sum(w) - 1)
    return m, v


def balance_stats(x, t, w):
    """(standardized difference, variance ratio) of x between the levels, under weights w."""
    m1, v1 = _moments(x[t == 1], w[t == 1])
    m0, v0 = _moments(x[t == 0], w[t == 0])
    sd = (m1 - m0) / np.sqrt((v1 + v0) / 2)
    return sd, v1 / v0


def _covariates(session, res):
    terms = res.oterms if res.macros["subcmd"] == "nnmatch" else res.tterms
    if not terms:
        raise StataError("no covariates to balance", 459)
    mask = np.asarray(res.sample, dtype=bool)
    column = sample_columns(session.data, mask)
    dsg, _ = tsx.design(None, terms, column, int(mask.sum()), True)   # factors keep a base
    return dsg, mask, column


def _fmt(x: float, w: int) -> str:
    return f"{fmt_g(float(x), 9):>{w}}"


@command("tebalance", family="Estimation", raw=True, check_options=False,
         subcommands=(Sub("summarize", "summ", "standardized differences and variance ratios, "
                                                 "raw and balanced"),),
         desc="check covariate balance after teffects", example="tebalance summarize")
def tebalance_cmd(session, cmd) -> None:
    text = (cmd.body or "").strip()
    sub, _, rest = text.partition(" ")
    if not sub:
        raise StataError("subcommand required", 198)
    if not (len(sub) >= 2 and "summarize".startswith(sub.lower())):
        if sub.lower() in ("overid", "density", "box"):
            raise StataError(f"tebalance {sub} is not implemented here", 198)
        raise StataError(f"{sub} is not a valid tebalance subcommand", 198)
    res = session.e
    if res is None or res.cmd != "teffects":
        raise StataError("last estimates not found", 301)
    if res.macros["subcmd"] == "ra":
        raise StataError("tebalance not allowed after teffects ra", 321)
    if rest.strip() and not rest.strip().startswith(","):
        raise StataError("varlist not allowed", 101)
    if rest.strip().strip(","):
        raise StataError(f"option {rest.strip().strip(',').split()[0]} not allowed", 198)
    summarize(session, res)


def summarize(session, res) -> None:
    if res.macros["subcmd"] in ("nnmatch", "psmatch") and not getattr(res, "generated", False):
        # Stata refits a matching estimator to get the matches; here they were kept
        session.out.line("(refitting the model using the generate() option)")
    dsg, mask, column = _covariates(session, res)
    t = (np.asarray(column(res.macros["tvar"]), dtype=float) == res.treated).astype(float)
    w = balance_weights(res, t)
    one = np.ones_like(t)
    rows, names = [], []
    groups = display_groups(dsg, baselevels=False, value_labels=res.fv_labels)
    groups = [g for g in groups if not (g.header is None and [r.label for r in g.rows] == ["_cons"])]
    for j in [r.index for g in groups for r in g.rows if r.status is None]:
        x = dsg.column(j)
        rows.append([*balance_stats(x, t, one), *balance_stats(x, t, w)])
        names.append(dsg.names[j])
    table = np.array(rows)[:, [0, 2, 1, 3]]
    matched = res.macros["subcmd"] in ("nnmatch", "psmatch")
    _print(session, res, groups, table, t, w, matched)
    size = np.array([[t.size, w.sum()], [t.sum(), w[t == 1].sum()],
                     [(1 - t).sum(), w[t == 0].sum()]])
    session.r = RResults(matrices={
        "table": NamedMatrix(table, names, ["Raw", "Matched" if matched else "Weighted",
                                            "Raw", "Matched" if matched else "Weighted"]),
        "size": NamedMatrix(size, ["N", "N_treated", "N_control"],
                            ["Raw", "Matched" if matched else "Weighted"])})


def _count(x: float, matched: bool) -> str:
    return fmt_count(int(round(x))) if matched else f"{x:,.1f}"


def _print(session, res, groups, table, t, w, matched) -> None:
    out = session.out
    col = "Matched" if matched else "Weighted"
    out.line("")
    out.line("  Covariate balance summary")
    out.line("")
    out.line(f"{'':<16}{'Raw':>12}{col:>13}")
    out.line("-" * 41)
    for lab, raw, bal in (("Number of obs", t.size, w.sum()),
                          ("Treated obs", t.sum(), w[t == 1].sum()),
                          ("Control obs", (1 - t).sum(), w[t == 0].sum())):
        out.line(f"{lab:<14}= {fmt_count(int(raw)):>12}{_count(bal, matched):>13}")
    out.line("-" * 41)
    out.line("")
    out.line("-" * 65)
    out.line(f"{'':16}|Standardized differences          Variance ratio")
    out.line(f"{'':16}|{'Raw':>11}{col:>12}{'Raw':>14}{col:>11}")
    out.line("-" * 16 + "+" + "-" * 48)
    k = 0
    for g in groups:
        rows = [r for r in g.rows if r.status is None]
        if g.header is not None and rows:
            out.line(f"{abbrev(g.header, 15):>15} |")
        for r in rows:
            v = table[k]
            label = f"{abbrev(r.label, 14):>14}  " if g.header is not None else \
                f"{abbrev(r.label, 15):>15} "
            out.line(f"{label}|{_fmt(v[0], 11)}{_fmt(v[1], 12)}{_fmt(v[2], 14)}"
                     f"{_fmt(v[3], 11)}")
            k += 1
    out.line("-" * 65)
