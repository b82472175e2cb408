"""estat ic / icc / recovariance / group after mixed (ic after any estimation).

ICC follows Stata's _estat_icc: for level i, the sum of the random-intercept variances of
levels 1..i over the sum of all intercept variances plus the residual variance; its standard
error comes from the delta method in the log-standard-deviation metric of e(V) and the
confidence interval is computed on the logit scale.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from hlmshell.commands.estimates import print_ic
from hlmshell.commands.options import OptionSpec, level_option
from hlmshell.commands.registry import command
from hlmshell.commands.test import active
from hlmshell.errors import StataError
from hlmshell.output import postest_output as po
from hlmshell.results import EstimationResults, RResults

_SUBS = [("ic", 2), ("icc", 3), ("recovariance", 5), ("group", 2), ("summarize", 2), ("vce", 3)]


def _resolve(word: str) -> str:
    if word in ("ic", "icc"):
        return word
    for full, mn in _SUBS:
        if full.startswith(word) and len(word) >= mn:
            return full
    raise StataError(f"invalid subcommand {word}", 321)


def _need_mixed(res: EstimationResults):
    if res.cmd not in ("mixed", "xtmixed") or res.model is None or not getattr(res.model, "blocks", None):
        raise StataError("requested action not valid after most recent estimation command", 321)
    return res.model


def _levels(model) -> list[tuple[str, list[int]]]:
    """Distinct level variables, outermost first, with the blocks that belong to each."""
    out: list[tuple[str, list[int]]] = []
    order = sorted(range(len(model.blocks)), key=lambda i: model.blocks[i].depth)
    for i in order:
        lab = model.blocks[i].label
        for name, idx in out:
            if name == lab:
                idx.append(i)
                break
        else:
            out.append((lab, [i]))
    return out


def _theta_index(res: EstimationResults, model, bi: int) -> int:
    """Column of e(b) holding ln sd of block bi's `_cons` (-1 when absent)."""
    b = model.blocks[bi]
    eqno = 1 + sum(1 for j in range(bi) if model.blocks[j].depth == b.depth)
    cov = (b.covariance or "").lower()
    k = 1 if cov.startswith(("id", "ex")) else b.names.index("_cons") + 1
    return res.coef_index(f"lns{b.depth}_{eqno}_{k}", "_cons")


# --------------------------------------------------------------------------- icc
def icc_table(res: EstimationResults, level: float = 95.0):
    model = _need_mixed(res)
    if any(b.label == "_all" for b in model.blocks):
        raise StataError("estat icc not allowed after crossed-effects models", 321)
    levels = _levels(model)
    fit = model.fit
    variances, thetas = [], []
    for name, idx in levels:
        var, th = None, -1
        for bi in idx:
            b = model.blocks[bi]
            if "_cons" in b.names:
                j = b.names.index("_cons")
                var = float(np.asarray(fit.covs[bi])[j, j])
                th = _theta_index(res, model, bi)
                break
        if var is None:
            raise StataError("estat icc not allowed after random-effects models with random-level "
                             "specifications that do not contain random intercepts", 321)
        variances.append(var)
        thetas.append(th)
    s2 = float(fit.sigma2)
    th_e = res.coef_index("lnsig_e", "_cons")
    V = np.asarray(res.V, dtype=float)
    have_v = th_e >= 0 and all(t >= 0 for t in thetas) and V.size and V[th_e, th_e] > 0
    den = sum(variances) + s2
    z = float(stats.norm.ppf(1 - (1 - level / 100) / 2))
    rows = []
    labels = []
    for i in range(len(levels)):
        labels.insert(0, levels[i][0])
        lab = "|".join(labels)
        icc = sum(variances[: i + 1]) / den
        se = lo = hi = float("nan")
        if have_v:
            idx = thetas + [th_e]
            g = np.array([2 * v * ((1.0 if k <= i else 0.0) - icc) / den for k, v in enumerate(variances)]
                         + [-2 * s2 * icc / den])
            Vs = V[np.ix_(idx, idx)]
            se = float(math.sqrt(max(g @ Vs @ g, 0.0)))
            if 0 < icc < 1:
                k_est = math.log(icc / (1 - icc))
                sek = se / (icc * (1 - icc))
                lo = 1 / (1 + math.exp(-(k_est - z * sek)))
                hi = 1 / (1 + math.exp(-(k_est + z * sek)))
        rows.append((lab if len(lab) <= 28 else f"Level {len(levels) - i + 1}", icc, se, lo, hi))
    has_rcov = any(nm != "_cons" for b in model.blocks for nm in b.names)
    fixed = [n for (eq, n), om in zip(res.names[: res.k_f], res.omitted[: res.k_f]) if n != "_cons"]
    has_fcov = len(fixed) > 0
    if not has_rcov and not has_fcov:
        title = "Intraclass correlation"
    elif not has_rcov:
        title = "Residual intraclass correlation"
    else:
        title = "Conditional intraclass correlation"
    return title, rows, has_rcov


def _icc(session, res, options) -> None:
    opts = OptionSpec("level=").parse(options)
    level = level_option(opts.get("level"), session)
    title, rows, cond = icc_table(res, level)
    for line in po.icc_lines(title, rows, level, cond):
        session.out.line(line)
    n = len(rows)
    sc, mac, mat = {"level": level}, {}, {}
    for i, (lab, icc, se, lo, hi) in enumerate(rows):
        k = n - i + 1
        sc[f"icc{k}"] = icc
        sc[f"se{k}"] = se
        mac[f"label{k}"] = lab
        mat[f"ci{k}"] = np.array([[lo, hi]])
    session.r = RResults(scalars=sc, macros=mac, matrices=mat)


# --------------------------------------------------------------------------- group
def _group(session, res, options) -> None:
    OptionSpec("").parse(options)
    model = _need_mixed(res)
    rows = []
    N_g, mins, avgs, maxs = [], [], [], []
    for name, idx in _levels(model):
        g = np.asarray(model.blocks[idx[0]].group)
        counts = np.bincount(g)
        counts = counts[counts > 0]
        rows.append((name, len(counts), int(counts.min()), float(counts.mean()), int(counts.max())))
        N_g.append(len(counts))
        mins.append(counts.min())
        avgs.append(counts.mean())
        maxs.append(counts.max())
    for line in po.group_lines(rows):
        session.out.line(line)
    session.r = RResults(matrices={"N_g": np.array([N_g], float), "g_min": np.array([mins], float),
                                   "g_avg": np.array([avgs], float), "g_max": np.array([maxs], float)})


# --------------------------------------------------------------------------- recovariance
def _recov(session, res, options) -> None:
    opts = OptionSpec("relevel(relev)= correlation(corr) matlist").parse(options)
    model = _need_mixed(res)
    want = opts.get("relevel")
    labels = [b.label for b in model.blocks]
    if want and want not in labels:
        raise StataError(f"{want} is not a level variable in this model", 198)
    corr = "correlation" in opts
    mats: dict = {}
    for k, bi in enumerate(sorted(range(len(model.blocks)), key=lambda i: model.blocks[i].depth), 1):
        b = model.blocks[bi]
        if want and b.label != want:
            continue
        M = np.asarray(model.fit.covs[bi], dtype=float)
        if corr:
            d = np.sqrt(np.diag(M))
            with np.errstate(invalid="ignore", divide="ignore"):
                M = M / np.outer(d, d)
        kind = "correlation" if corr else "covariance"
        for line in po.matrix_lines(f"Random-effects {kind} matrix for level {b.label}", b.names, M):
            session.out.line(line)
        mats = {"corr" if corr else "cov": M}
    session.r = RResults(scalars={"relevels": float(len(_levels(model)))}, matrices=mats)


@command("estat", byable=False, qualifiers="")
def estat_cmd(session, cmd) -> None:
    words = (cmd.body or "").split()
    if not words:
        raise StataError("subcommand expected", 198)
    sub = _resolve(words[0])
    res = active(session)
    if len(words) > 1 and sub in ("ic", "icc", "group", "recovariance"):
        raise StataError("invalid syntax", 198)
    if sub == "ic":
        OptionSpec("").parse(cmd.options)
        print_ic(session, [(res.name or ".", res)])
    elif sub == "icc":
        _icc(session, res, cmd.options)
    elif sub == "group":
        _group(session, res, cmd.options)
    elif sub == "recovariance":
        _recov(session, res, cmd.options)
    else:
        raise StataError(f"estat {sub} not implemented", 321)
