"""alpha: interitem covariances (correlations) and Cronbach's alpha, Stata 17's layout.

    alpha varlist [if] [in] [, asis casewise detail generate(newvar) item label min(#)
                              reverse(varlist) std]

Covariances are pairwise by default (each pair over the observations where both items are
present; `casewise` keeps complete cases only). Item senses come from the first principal
factor unless `asis` or `reverse()` say otherwise; reversed items enter negated. With `item`,
the item-test and item-rest correlations and the alpha of the scale without each item are
computed from the same (signed) covariance matrix. r(alpha), r(k), r(cov) or r(rho).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands._toolkit import check_name, touse, typed_args, varlist
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, command
from hlmshell.results import RResults


def pairwise_cov(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariances of columns over pairwise-complete rows (N-1), and the pair counts."""
    k = X.shape[1]
    C = np.full((k, k), np.nan)
    N = np.zeros((k, k), dtype=int)
    ok = ~np.isnan(X)
    for i in range(k):
        for j in range(i, k):
            m = ok[:, i] & ok[:, j]
            n = int(m.sum())
            N[i, j] = N[j, i] = n
            if n > 1:
                a, b = X[m, i], X[m, j]
                C[i, j] = C[j, i] = float(((a - a.mean()) * (b - b.mean())).sum() / (n - 1))
    return C, N


def alpha_of(C: np.ndarray) -> tuple[float, float]:
    """(alpha, mean off-diagonal entry) of a signed covariance/correlation matrix."""
    k = len(C)
    off = C[~np.eye(k, dtype=bool)]
    cbar = float(off.mean())
    vbar = float(np.diag(C).mean())
    denom = vbar + (k - 1) * cbar
    a = k * cbar / denom if denom != 0 else math.nan
    return a, cbar


def item_statistics(C: np.ndarray) -> dict:
    """Per item: item-test and item-rest correlations, and the mean interitem entry and alpha
    of the scale without it (from the signed matrix C)."""
    k = len(C)
    tot = C.sum()
    itc, irc, a_wo, c_wo = (np.full(k, np.nan) for _ in range(4))
    for i in range(k):
        cov_it = C[i].sum()
        itc[i] = cov_it / math.sqrt(C[i, i] * tot) if tot > 0 else math.nan
        rest_var = tot - 2 * cov_it + C[i, i]
        cov_ir = cov_it - C[i, i]
        irc[i] = cov_ir / math.sqrt(C[i, i] * rest_var) if rest_var > 0 else math.nan
        if k > 2:
            keep = [j for j in range(k) if j != i]
            a_wo[i], c_wo[i] = alpha_of(C[np.ix_(keep, keep)])
        else:
            c_wo[i] = C[1 - i, 1 - i] if k == 2 else math.nan
    return {"itc": itc, "irc": irc, "alpha": a_wo, "cbar": c_wo}


def _signs(session, names, R, opts) -> np.ndarray:
    k = len(names)
    if opts.reverse:
        rev = set(varlist(session, " ".join(opts.reverse)))
        for nm in rev:
            if nm not in names:
                raise StataError(f"{nm} not in varlist", 198)
        return np.array([-1.0 if nm in rev else 1.0 for nm in names])
    if opts.asis:
        return np.ones(k)
    from hlmshell.engine.factor import eigen_desc

    Rr = R.copy()
    try:
        np.fill_diagonal(Rr, 1 - 1 / np.diag(np.linalg.inv(R)))
    except np.linalg.LinAlgError:
        pass
    _, V = eigen_desc(Rr)
    return np.where(V[:, 0] < 0, -1.0, 1.0)


@command("alpha", byable=True, qualifiers="if in", body="varlist", changes_data=True,
         family="Multivariate", desc="Cronbach's alpha and interitem correlations (covariances)",
         example="alpha q1-q5, item",
         options=(Opt("asis", "a", desc="take sign of each item as is"),
                  Opt("casewise", "c", desc="delete cases with missing values"),
                  Opt("detail", "d", desc="list individual interitem correlations and covariances"),
                  Opt("generate", "g", "name", None, "save the generated scale in newvar"),
                  Opt("item", "i", desc="display item-test and item-rest correlations"),
                  Opt("label", "l", desc="include variable labels in output table"),
                  Opt("min", "m", "int", None, "must have at least # observations for inclusion"),
                  Opt("reverse", "r", "varlist", None, "reverse signs of these variables"),
                  Opt("std", "s", desc="standardize items in the scale to mean 0, variance 1")))
def alpha_cmd(session, cmd):
    opts = typed_args(cmd)
    names = varlist(session, cmd.body, all_if_empty=False)
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    if len(set(names)) != len(names):
        raise StataError("variables may not be repeated", 198)
    ds = session.data
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError("type mismatch", 109)
    if opts.asis and opts.reverse:
        raise StataError("options asis and reverse() may not be combined", 198)
    k = len(names)
    minobs = opts.min if opts.min is not None else 1
    if not 1 <= minobs <= k:
        raise StataError("invalid option min()", 198)
    if opts.generate:
        check_name(opts.generate)
        if opts.generate in ds:
            raise StataError(f"variable {opts.generate} already defined", 110)
    mask = touse(session, cmd, names if opts.casewise else ())
    Xall = np.column_stack([ds.var(nm).values.astype(float) for nm in names])
    present = (~np.isnan(Xall)).sum(1)
    mask = mask & (present >= minobs)
    X = Xall[mask]
    if X.shape[0] == 0:
        raise StataError("no observations", 2000)
    C, Npair = pairwise_cov(X)
    if np.isnan(C).any() or np.any(np.diag(C) <= 0):
        raise StataError("insufficient observations", 2001)
    sd = np.sqrt(np.diag(C))
    R = C / np.outer(sd, sd)
    s = _signs(session, names, R, opts)
    M = (R if opts.std else C) * np.outer(s, s)
    alpha, cbar = alpha_of(M)
    stats = item_statistics(M) if opts.item else None
    _show(session, names, s, M, alpha, cbar, stats, Npair, opts)
    sc = {"alpha": alpha, "k": float(k), ("rho" if opts.std else "cov"): cbar}
    mats = {}
    if stats is not None:
        from hlmshell.commands.program import NamedMatrix
        row = lambda v: NamedMatrix(np.asarray(v)[None, :], ["r1"], names)  # noqa: E731
        mats = {"Alpha": row(stats["alpha"]), "ItemTestCorr": row(stats["itc"]),
                "ItemRestCorr": row(stats["irc"]),
                ("MeanInterItemCorr" if opts.std else "MeanInterItemCov"): row(stats["cbar"])}
    if opts.generate:
        _generate(session, opts.generate, Xall, mask, s, bool(opts.std), X)
    session.r = RResults(scalars=sc, matrices=mats)


def _generate(session, name: str, Xall: np.ndarray, mask: np.ndarray, s: np.ndarray, std: bool,
              X: np.ndarray) -> None:
    """The scale: mean of the (signed, standardized with std) items present in each observation."""
    Z = Xall * s
    if std:
        mu = np.nanmean(X, 0)
        sd = np.nanstd(X, 0, ddof=1)
        Z = (Xall - mu) / sd * s
    with np.errstate(invalid="ignore"):
        score = np.nanmean(np.where(np.isnan(Z), np.nan, Z), 1) if Z.size else np.full(len(Z), np.nan)
    score = np.where(mask & ~np.isnan(Z).all(1), score, np.nan)
    session.data.add(Variable(name, score.astype(np.float32).astype(float), "float"))


def _show(session, names, s, M, alpha, cbar, stats, Npair, opts) -> None:
    out = session.out
    what = "standardized" if opts.std else "unstandardized"
    out.line("")
    out.line(f"Test scale = mean({what} items)")
    rev = [nm for nm, v in zip(names, s) if v < 0]
    if rev:
        out.line(f"Reversed item{'s' if len(rev) > 1 else ''}:  {' '.join(rev)}")
    if opts.detail:
        _detail(out, names, M, "correlations" if opts.std else "covariances")
    out.line("")
    if stats is None:
        lab = "Average interitem correlation:" if opts.std else "Average interitem covariance:"
        out.line(f"{lab:<30}{fmt_g(cbar, 9):>12}")
        out.line(f"{'Number of items in the scale:':<30}{len(names):>12}")
        out.line(f"{'Scale reliability coefficient:':<30}{alpha:>12.4f}")
        return
    avg = "correlation" if opts.std else "covariance"
    out.line(f"{'average':>67}")
    out.line(f"{'item-test':>38}{'item-rest':>14}{'interitem':>16}")
    head = f"{'Item':<13}|  Obs  Sign   correlation   correlation{avg:>15}      alpha"
    if opts.label:
        head += "   Label"
    out.line(head)
    out.line("-" * 13 + "+" + "-" * (len(head) - 14))
    ds = session.data
    for i, nm in enumerate(names):
        sign = "+" if s[i] > 0 else "-"
        line = (f"{abbrev(nm, 12):<13}|{int(Npair[i, i]):>5}    {sign}  {stats['itc'][i]:>12.4f}"
                f"{stats['irc'][i]:>14.4f}{fmt_g(stats['cbar'][i], 9):>16}{_f4(stats['alpha'][i]):>12}")
        if opts.label:
            line += "   " + (ds.var(nm).label or "")
        out.line(line)
    out.line("-" * 13 + "+" + "-" * (len(head) - 14))
    line = f"{'Test scale':<13}|{'':>40}{fmt_g(cbar, 9):>16}{_f4(alpha):>12}"
    if opts.label:
        line += f"   mean({what} items)"
    out.line(line)
    out.line("-" * len(head))


def _f4(v: float) -> str:
    return "." if v != v else f"{v:.4f}"


def _detail(out, names, M, what) -> None:
    out.line("")
    out.line(f"Interitem {what} (reverse applied)")
    out.line("")
    k = len(names)
    out.line(f"{'Items':<13}|" + "".join(f"{abbrev(n, 9):>10}" for n in names))
    out.line("-" * 13 + "+" + "-" * (10 * k))
    for i, n in enumerate(names):
        out.line(f"{abbrev(n, 12):<13}|" + "".join(f"{fmt_g(M[i, j], 9):>10}" for j in range(i + 1)))
