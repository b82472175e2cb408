"""anova: analysis of variance and covariance with factorial terms, in Stata 17's layout.

    anova depvar term [term ...] [if] [in] [, partial sequential]

A term is a variable (categorical unless prefixed `c.`), or variables joined by `#`
(interaction) or `##` (full factorial). Partial sums of squares are the increase in residual SS
when a term is dropped from the model fitted with sum-to-zero (effect) coding of the factors --
Stata's partial SS, which agree with SAS's type III when every cell has data; `sequential`
adds the terms in the order typed (type I). e() holds the reference-coded coefficients (base
levels and empty cells as omitted columns) so that test/lincom/margins-like follow-ups work.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._toolkit import touse, typed_args, varlist, weights
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import EstimationResults


@dataclass(frozen=True)
class Part:
    var: str
    continuous: bool


Term = tuple[Part, ...]


# ----------------------------------------------------------------------------- parsing
def _part(session, text: str) -> Part:
    low = text.lower()
    cont = low.startswith("c.")
    if low.startswith(("c.", "i.")):
        text = text[2:]
    if not text or any(ch in text for ch in "().|"):
        raise StataError("invalid syntax" if "|" not in text else "nested terms (|) not supported", 198)
    names = varlist(session, text, all_if_empty=False)
    if len(names) != 1:
        raise StataError(f"{text} invalid term", 198)
    v = session.data.var(names[0])
    if v.is_string:
        raise StataError("string variables not allowed in varlist;\n" f"{names[0]} is a string variable", 109)
    return Part(names[0], cont)


def _expand(token: str, session) -> list[Term]:
    """`a##b##c` -> a b a#b c a#c b#c a#b#c; `a#b` -> a#b."""
    if "##" in token:
        groups = [tuple(_part(session, p) for p in g.split("#")) for g in token.split("##")]
        terms: list[Term] = []
        for grp in groups:
            terms = terms + [grp] + [t + grp for t in terms]
        return terms
    return [tuple(_part(session, p) for p in token.split("#"))]


def parse_terms(session, text: str) -> tuple[str, list[Term]]:
    words = (text or "").split()
    if not words:
        raise StataError("varlist required", 100)
    dep = varlist(session, words[0], all_if_empty=False)
    if len(dep) != 1:
        raise StataError("too many variables specified", 103)
    if session.data.var(dep[0]).is_string:
        raise StataError("type mismatch", 109)
    terms: list[Term] = []
    for w in words[1:]:
        for t in _expand(w, session):
            key = tuple(sorted((p.var, p.continuous) for p in t))
            cats = [p.var for p in t if not p.continuous]
            if len(set(cats)) != len(cats) or set(cats) & {p.var for p in t if p.continuous}:
                raise StataError(f"{w}: a factor variable may not be interacted with itself", 198)
            if key not in [tuple(sorted((p.var, p.continuous) for p in u)) for u in terms]:
                terms.append(t)
    if not terms:
        raise StataError("too few variables specified", 102)
    return dep[0], terms


def term_name(t: Term) -> str:
    return "#".join(("c." if p.continuous and len(t) > 1 else "") + p.var for p in t)


# ----------------------------------------------------------------------------- design
def _part_matrices(x: np.ndarray, continuous: bool):
    """(effect-coded, reference-coded with base columns, labels) for one factor or covariate."""
    if continuous:
        col = x[:, None]
        return col, col, [None]
    levels = np.unique(x)
    ind = (x[:, None] == levels[None, :]).astype(float)
    eff = ind[:, :-1] - ind[:, -1:] if len(levels) > 1 else np.zeros((len(x), 0))
    return eff, ind, list(levels)


def _rowkron(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a[:, :, None] * b[:, None, :]).reshape(a.shape[0], -1)


def _level_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else fmt_g(v, 9)


def _ref_names(t: Term, labels: list[list]) -> tuple[list[str], list[bool]]:
    """Stata's column names of a term (1b.a#2o.b ...) and which are base columns."""
    names, base = [], []
    for combo in itertools.product(*labels):
        any_base = any(lv is not None and lv == lab[0] for lv, lab in zip(combo, labels))
        parts = []
        for p, lv, lab in zip(t, combo, labels):
            if lv is None:
                parts.append(("co." if any_base else "c.") + p.var if len(t) > 1 else p.var)
            else:
                mark = "b" if lv == lab[0] else ("o" if any_base else "")
                parts.append(f"{_level_text(lv)}{mark}.{p.var}")
        names.append("#".join(parts))
        base.append(any_base)
    return names, base


def build(ds, mask, terms: list[Term]):
    """Per term: effect-coded block, reference-coded block, names, base flags."""
    blocks = []
    for t in terms:
        eff = np.ones((int(mask.sum()), 1))
        ref = eff.copy()
        labels = []
        for p in t:
            x = ds.var(p.var).values[mask].astype(float)
            if not p.continuous and np.any(x != np.floor(x)):
                raise StataError(f"{p.var}:  factor variables may not contain noninteger values", 452)
            if not p.continuous and np.any(x < 0):
                raise StataError(f"{p.var}:  factor variables may not contain negative values", 452)
            e, r, lab = _part_matrices(x, p.continuous)
            eff, ref = _rowkron(eff, e), _rowkron(ref, r)
            labels.append(lab)
        names, base = _ref_names(t, labels)
        blocks.append((eff, ref, names, base))
    return blocks


def _rss_rank(X: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    if X.shape[1] == 0:
        return float(y @ y), 0
    beta, _, rank, sv = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    tol = sv.max() * max(X.shape) * 1e-12 if sv.size else 0
    return float(r @ r), int((sv > tol).sum())


def term_ss(y: np.ndarray, blocks, sequential: bool, sw: np.ndarray | None = None) -> list[tuple[float, int]]:
    """(SS, df) of each term: partial (drop it from the effect-coded model) or sequential;
    with weights, y and the design rows come scaled by the square roots of the weights."""
    if sw is not None:
        blocks = [(b[0] * sw[:, None],) + tuple(b[1:]) for b in blocks]
    one = np.ones((len(y), 1)) if sw is None else sw[:, None]
    full = np.hstack([one] + [b[0] for b in blocks])
    out = []
    if sequential:
        prev = _rss_rank(one, y)
        for i in range(len(blocks)):
            cur = _rss_rank(np.hstack([one] + [b[0] for b in blocks[:i + 1]]), y)
            out.append((max(prev[0] - cur[0], 0.0), cur[1] - prev[1]))
            prev = cur
        return out
    rss, rank = _rss_rank(full, y)
    for i in range(len(blocks)):
        red = np.hstack([one] + [b[0] for j, b in enumerate(blocks) if j != i])
        r2, k2 = _rss_rank(red, y)
        out.append((max(r2 - rss, 0.0), rank - k2))
    return out


def _keep_columns(X: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Greedy left-to-right choice of linearly independent columns (Stata omits later ones)."""
    keep = np.zeros(X.shape[1], bool)
    Q = np.zeros((X.shape[0], 0))
    for j in range(X.shape[1]):
        if base[j]:
            continue
        x = X[:, j]
        r = x - Q @ (Q.T @ x)
        nr = float(np.linalg.norm(r))
        if nr > 1e-9 * max(float(np.linalg.norm(x)), 1.0):
            keep[j] = True
            Q = np.hstack([Q, (r / nr)[:, None]])
    return keep


# ----------------------------------------------------------------------------- output
def _row(label: str, ss: float, df: int, ms: float, F: float | None, p: float | None) -> str:
    line = f"{abbrev(label, 24):>24} |{fmt_g(ss, 10):>11}{df:>11d}{fmt_g(ms, 10):>11}"
    if F is not None and F == F:
        line += f"{F:>10.2f}{p:>8.4f}"
    return line.rstrip() + ("  " if F is None else "")


def _display(out, st: dict, rows, sequential: bool) -> None:
    out.line("")
    out.line(f"{'Number of obs =':>39}{fmt_count(int(st['N'])):>11}    R-squared     = {st['r2']:>7.4f}")
    out.line(f"{'Root MSE      =':>39}{fmt_g(st['rmse'], 9):>11}    Adj R-squared = {st['r2_a']:>7.4f}")
    out.line("")
    head = "Seq. SS" if sequential else "Partial SS"
    out.line(f"{'Source':>24} |{head:>11}{'df':>11}{'MS':>11}{'F':>10}{'Prob>F':>8}")
    rule = " " * 14 + "-" * 11 + "+" + "-" * 52
    out.line(rule)
    out.line(_row("Model", st["mss"], st["df_m"], st["mss"] / st["df_m"] if st["df_m"] else math.nan,
                  st["F"], st["p"]))
    out.line(f"{'':>24} |")
    for name, ss, df, F, p in rows:
        out.line(_row(name, ss, df, ss / df if df else math.nan, F, p))
    out.line(f"{'':>24} |")
    msr = st["rss"] / st["df_r"] if st["df_r"] else math.nan
    out.line(_row("Residual", st["rss"], st["df_r"], msr, None, None))
    out.line(rule)
    out.line(_row("Total", st["tss"], st["N"] - 1, st["tss"] / (st["N"] - 1), None, None))


# ----------------------------------------------------------------------------- command
def fit_anova(ds, mask, dep: str, terms: list[Term], sequential: bool, w: np.ndarray | None = None):
    """OLS (WLS with weights w on the sample) of the reference-coded model, and the term SS.
    Returns y, names, b, V, omitted, tss, rss, df_m, df_r, ss."""
    y = ds.var(dep).values[mask].astype(float)
    blocks = build(ds, mask, terms)
    n = len(y)
    wt = np.ones(n) if w is None else w
    N = float(wt.sum())
    sw = np.sqrt(wt)
    ybar = float((wt * y).sum() / N)
    tss = float((wt * (y - ybar) ** 2).sum())
    X = np.hstack([b[1] for b in blocks] + [np.ones((n, 1))])
    base = np.array(sum((b[3] for b in blocks), []) + [False])
    names = sum((b[2] for b in blocks), []) + ["_cons"]
    order = list(range(X.shape[1] - 1))
    keep = _keep_columns(X[:, [X.shape[1] - 1] + order], np.r_[False, base[:-1]])
    keep = np.r_[keep[1:], keep[0]]
    Xk = X[:, keep] * sw[:, None]
    ys = y * sw
    beta, *_ = np.linalg.lstsq(Xk, ys, rcond=None)
    resid = ys - Xk @ beta
    rss = float(resid @ resid)
    k = int(keep.sum())
    df_r, df_m = int(round(N)) - k, k - 1
    s2 = rss / df_r if df_r > 0 else math.nan
    V = np.zeros((len(names), len(names)))
    b = np.zeros(len(names))
    b[keep] = beta
    V[np.ix_(keep, keep)] = s2 * np.linalg.pinv(Xk.T @ Xk)
    ss = term_ss(ys, blocks, sequential, None if w is None else sw)
    return y, names, b, V, ~keep, tss, rss, df_m, df_r, ss


@command("anova", byable=True, qualifiers="if in weight", weights="aw fw", body="anything", exp=False,
         family="Estimation", desc="analysis of variance and covariance",
         example="anova mathach sector##minority",
         options=(Opt("partial", "p", desc="partial (marginal) sums of squares; the default"),
                  Opt("sequential", "seq", desc="sequential (type I) sums of squares"),
                  Opt("noconstant", "nocons", desc="not supported"),
                  Opt("dropemptycells", desc="drop empty cells from the design")))
def anova_cmd(session, cmd):
    opts = typed_args(cmd)
    if opts.partial and opts.sequential:
        raise StataError("options partial and sequential may not be combined", 198)
    if opts.noconstant:
        raise StataError("option noconstant not implemented", 198)
    if not (cmd.body or "").strip():
        res = session.e
        if res is None or res.cmd != "anova":
            raise StataError("last estimates not found", 301)
        _display(session.out, res.anova_stats, res.anova_rows, res.macros.get("sstype") == "sequential")
        return
    dep, terms = parse_terms(session, cmd.body)
    allvars = [dep] + list(dict.fromkeys(p.var for t in terms for p in t))
    mask, w = _sample(session, cmd, allvars)
    y, names, b, V, omitted, tss, rss, df_m, df_r, ss = fit_anova(session.data, mask, dep, terms,
                                                                   opts.sequential, w)
    n = int(round(w.sum())) if w is not None else int(mask.sum())
    if df_r <= 0 or df_m <= 0:
        raise StataError("insufficient observations", 2001)
    st, rows, scalars = _statistics(n, tss, rss, df_m, df_r, terms, ss)
    _display(session.out, st, rows, opts.sequential)
    macros = {"cmd": "anova", "cmdline": cmd.text, "depvar": dep, "title": "Analysis of variance",
              "varnames": " ".join(allvars[1:]), "term_names": " ".join(r[0] for r in rows),
              "sstype": "sequential" if opts.sequential else "partial", "properties": "b V",
              "predict": "regres_p", "model": "ols", "vce": "ols"}
    macros.update({f"term_{i}": r[0] for i, r in enumerate(rows, start=1)})
    if cmd.weight is not None:
        macros["wtype"] = cmd.weight.kind
    res = EstimationResults(cmd="anova", names=[(dep, nm) for nm in names], b=b, V=V,
                            omitted=omitted, k_f=len(names), scalars=scalars, macros=macros,
                            sample=mask.copy())
    res.anova_stats, res.anova_rows = st, rows
    session.post_estimation(res)


def _sample(session, cmd, allvars: list[str]):
    """The estimation sample and its weights (aweights scaled to sum to the sample size)."""
    mask = touse(session, cmd, allvars)
    w = weights(session, cmd, mask, allowed=("fweight", "aweight"))
    if w is not None:
        mask &= ~np.isnan(w)
        w = w[mask]
        if cmd.weight.kind == "aweight" and w.sum() > 0:
            w = w * len(w) / w.sum()
    if not mask.any():
        raise StataError("no observations", 2000)
    return mask, w


def _statistics(n: int, tss: float, rss: float, df_m: int, df_r: int, terms, ss):
    """The table's numbers (model, each term) and the e() scalars."""
    mse = rss / df_r
    mss = tss - rss
    F = (mss / df_m) / mse if mse > 0 else math.nan
    st = {"N": n, "mss": mss, "rss": rss, "tss": tss, "df_m": df_m, "df_r": df_r, "F": F,
          "p": float(dist.f_sf(F, df_m, df_r)) if F == F else math.nan,
          "r2": mss / tss if tss > 0 else math.nan, "rmse": math.sqrt(mse)}
    st["r2_a"] = 1 - (1 - st["r2"]) * (n - 1) / df_r
    rows = []
    scalars = {"N": float(n)}
    for i, (t, (s_i, d_i)) in enumerate(zip(terms, ss), start=1):
        Fi = (s_i / d_i) / mse if d_i and mse > 0 else math.nan
        pi = float(dist.f_sf(Fi, d_i, df_r)) if Fi == Fi else math.nan
        rows.append((term_name(t), s_i, d_i, Fi, pi))
        scalars.update({f"ss_{i}": s_i, f"df_{i}": float(d_i), f"F_{i}": Fi})
    ll = -0.5 * n * (math.log(2 * math.pi) + math.log(rss / n) + 1)
    ll0 = -0.5 * n * (math.log(2 * math.pi) + math.log(tss / n) + 1)
    scalars.update({"mss": mss, "df_m": float(df_m), "rss": rss, "df_r": float(df_r),
                    "r2": st["r2"], "r2_a": st["r2_a"], "F": F, "rmse": st["rmse"], "ll": ll,
                    "ll_0": ll0, "rank": float(df_m + 1)})
    return st, rows, scalars
