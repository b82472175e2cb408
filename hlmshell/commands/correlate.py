"""correlate and pwcorr — correlation (covariance) matrices in Stata 17's layout.

correlate: listwise deletion over the varlist; `(obs=N)`, then the lower triangle with a
12-character row stub, 9-character columns (names abbreviated to 8), correlations in %9.4f and
covariances as Stata prints them (` %8.0g`, e.g. `  2.59065`, `-3629.43`). Columns that do
not fit the line size go into further blocks of the same shape (`wrap` keeps one block).

pwcorr: pairwise deletion (listwise with `listwise`/`casewise`), blocks of seven columns,
` %7.4f` coefficients with a `*` column (star()), a significance row (sig) and an
observations row (obs) under each variable; p-values from the t test of rho = 0 with optional
Bonferroni/Sidak adjustment. r(N) and r(rho) are those of the first pair, as Stata's pwcorr.ado.
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._toolkit import ensure_data, touse, typed_args, varlist, weights
from hlmshell.commands.program import NamedMatrix
from hlmshell.registry import Opt, command
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.output.text import abbrev
from hlmshell.results import RResults

_SEP13 = "-" * 13


# ----------------------------------------------------------------------------- numerics
def moments(X: np.ndarray, w: np.ndarray | None, kind: str | None):
    """(N, sum of weights, means, covariance matrix) of the columns of X, Stata's weighting:
    fweights count as replicated observations, aweights are rescaled to sum to n."""
    n = X.shape[0]
    if w is None:
        N, sw = n, float(n)
        mean = X.mean(axis=0) if n else np.full(X.shape[1], math.nan)
        D = X - mean
        cov = D.T @ D / (n - 1) if n > 1 else np.full((X.shape[1],) * 2, math.nan)
        return N, sw, mean, cov
    sw = float(np.sum(w))
    mean = (w @ X) / sw if sw > 0 else np.full(X.shape[1], math.nan)
    D = X - mean
    cross = (D * w[:, None]).T @ D
    if kind == "fweight":
        N = int(round(sw))
        cov = cross / (sw - 1) if sw > 1 else np.full_like(cross, math.nan)
    else:
        N = n
        cov = cross / sw * n / (n - 1) if n > 1 else np.full_like(cross, math.nan)
    return N, sw, mean, cov


def corr_from_cov(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        C = cov / np.outer(sd, sd)
    C = np.clip(C, -1.0, 1.0)
    ok = sd > 0
    C[np.diag_indices_from(C)] = np.where(ok, 1.0, math.nan)
    return C


def _numeric_names(session, text: str) -> list[str]:
    """The varlist, strings rejected (correlate) — with no varlist, every numeric variable."""
    ensure_data(session)
    ds = session.data
    if not (text or "").strip():
        return [nm for nm in ds.names if not ds.var(nm).is_string]
    names = varlist(session, text, ts=True)
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError(f"string variables not allowed in varlist;\n{nm} is a string variable", 109)
    return names


def _matrix(values: np.ndarray, names: list[str]) -> NamedMatrix:
    return NamedMatrix(np.array(values, dtype=float), names, names)


def _weighted(session, cmd, mask):
    """Weight vector and kind (aweights and fweights only, like Stata)."""
    w = weights(session, cmd, mask, allowed=("aweight", "fweight"))
    kind = cmd.weight.kind if cmd.weight is not None else None
    return w, kind


# ----------------------------------------------------------------------------- correlate
def _columns_per_block(session, wrap: bool, k: int) -> int:
    if wrap:
        return max(k, 1)
    linesize = int(session.settings.get("linesize", 80) or 80)
    return max(1, (linesize - 14) // 9)


def _lower_triangle(out, names, M, cell, per_block) -> None:
    """Stata's correlate matrix: blocks of columns, each a lower triangle from its first column."""
    k = len(names)
    for j0 in range(0, k, per_block):
        cols = list(range(j0, min(j0 + per_block, k)))
        out.line(" " * 13 + "|" + "".join(abbrev(names[j], 8).rjust(9) for j in cols))
        out.line(_SEP13 + "+" + "-" * (9 * len(cols)))
        for i in range(j0, k):
            cells = "".join(cell(M[i, j]) for j in cols if j <= i)
            out.line(f"{abbrev(names[i], 12).rjust(12)} |{cells}")
        out.line()


def _corr_cell(x: float) -> str:
    return fmt(float(x), "%9.4f")


def _cov_cell(x: float) -> str:
    return " " + fmt_g(float(x), 8).rjust(8) if not math.isnan(x) else ".".rjust(9)


def _display_format(var, noformat: bool) -> str:
    """The means table keeps a variable's own narrow numeric format; otherwise %9.0g."""
    f = var.format or ""
    m = re.fullmatch(r"%(\d+)\.(\d+)([fg])", f)
    if noformat or not m or int(m.group(1)) > 9:
        return "%9.0g"
    return f


def _means_table(out, ds, names, X, mean, cov, noformat) -> None:
    out.line()
    out.line("    Variable |         Mean    Std. dev.          Min          Max")
    out.line(_SEP13 + "+" + "-" * 52)
    for j, nm in enumerate(names):
        f = _display_format(ds.var(nm), noformat)
        sd = math.sqrt(cov[j, j]) if not math.isnan(cov[j, j]) else math.nan
        vals = (mean[j], sd, float(np.min(X[:, j])), float(np.max(X[:, j])))
        out.line(f"{abbrev(nm, 12).rjust(12)} |" + "".join("    " + fmt(float(v), f).rjust(9) for v in vals))
    out.line()


@command("correlate", abbrev="cor",
          family="Data inspection", body="varlist", desc="correlations (or covariances) of variables", example="correlate mathach ses",
          options=(Opt("means", "m", desc="display means, standard deviations, minimums and maximums"),
                   Opt("noformat", "nof", desc="ignore display formats in the means table"),
                   Opt("covariance", "c", desc="display covariances instead of correlations"),
                   Opt("wrap", "w", desc="do not split a wide matrix into blocks")))
def correlate_cmd(session, cmd):
    opts = typed_args(cmd)
    names = _numeric_names(session, cmd.body)
    ds = session.data
    mask = touse(session, cmd, names)
    w, kind = _weighted(session, cmd, mask)
    if w is not None:
        mask &= ~np.isnan(w) & (w != 0)
    X = np.column_stack([ds.var(nm).values[mask] for nm in names]) if names else np.zeros((0, 0))
    if not np.any(mask) or not names:
        raise StataError("no observations", 2000)
    ww = w[mask] if w is not None else None
    N, sw, mean, cov = moments(X, ww, kind)
    C = corr_from_cov(cov)
    covariance = opts.covariance
    M = cov if covariance else C

    sc: dict[str, float] = {"N": float(N)}
    if w is not None:
        sc["sum_w"] = sw
    if len(names) >= 2:
        sc["rho"] = float(C[0, 1])
        if covariance:
            sc["cov_12"] = float(cov[0, 1])
            sc["Var_1"] = float(cov[0, 0])
            sc["Var_2"] = float(cov[1, 1])
    session.r = RResults(scalars=sc, matrices={"C": _matrix(M, names)})

    out = session.out
    if kind == "aweight":
        out.line(f"(sum of wgt is {fmt(sw, '%12.0gc').strip()})")
    out.line(f"(obs={fmt_count(N)})")
    if opts.means:
        _means_table(out, ds, names, X, mean, cov, opts.noformat)
    out.line()
    per = _columns_per_block(session, opts.wrap, len(names))
    _lower_triangle(out, names, M, _cov_cell if covariance else _corr_cell, per)


# ----------------------------------------------------------------------------- pwcorr
def _level(v: float | None, name: str) -> float:
    """star()/print() level (a real, converted by the spec): .05 or 5 (percent) both mean 5%;
    -1 when not given."""
    if v is None:
        return -1.0
    if not math.isfinite(v):
        raise StataError(f"option {name}() incorrectly specified", 198)
    if v < 0:
        raise StataError(f"{name}() out of range", 198)
    if v >= 1:
        v /= 100.0
        if v >= 1:
            raise StataError(f"{name}() out of range", 198)
    return v


def pair_pvalue(rho: float, n: float, adj: float) -> float:
    """Two-sided p of the t test of rho = 0 (df n-2), times adj, capped at 1 (Stata's min()
    ignores a missing argument, so an undefined t gives 1)."""
    if math.isnan(rho):
        return math.nan
    if rho >= 1:
        return 0.0
    df = n - 2
    if df <= 0 or rho <= -1:
        return 1.0
    t = abs(rho) * math.sqrt(df) / math.sqrt(1 - rho * rho)
    return min(2 * adj * float(dist.t_sf(t, df)), 1.0)


@command("pwcorr",
          family="Data inspection", body="varlist", desc="pairwise correlations", example="pwcorr mathach ses, sig",
          options=(Opt("obs", "o", desc="print the number of observations of each pair"),
                   Opt("sig", desc="print the significance level of each correlation"),
                   Opt("listwise", "list", desc="use complete cases of all variables (listwise deletion)"),
                   Opt("casewise", "case", desc="synonym for listwise"),
                   Opt("print", "p", "real", None, "print only correlations significant at level #"),
                   Opt("star", "st", "real", None, "star correlations significant at level #"),
                   Opt("bonferroni", "b", desc="Bonferroni-adjusted significance levels"),
                   Opt("sidak", "sid", desc="Sidak-adjusted significance levels")))
def pwcorr_cmd(session, cmd):
    opts = typed_args(cmd)
    ensure_data(session)
    names, cols, mask, w, kind = _pwcorr_data(session, cmd, opts.listwise or opts.casewise)
    bonf, sidak = opts.bonferroni, opts.sidak
    if bonf and sidak:
        raise StataError("invalid syntax", 198)
    star = _level(opts.star, "star")
    prt = _level(opts.print, "print")
    k = len(names)
    nrho = k * (k - 1) / 2
    C, Nm, P = _pairwise(cols, mask, w, kind, nrho if bonf else 1.0, nrho if sidak else None)
    table = _PairTable(names, C, Nm, P, prt, star)
    for j0 in range(0, k, 7):
        for line in table.block_lines(list(range(j0, min(j0 + 7, k))), opts.sig, opts.obs):
            session.out.line(line)
    mats = {"C": _matrix(C, names)}
    if opts.sig:
        mats["sig"] = _matrix(table.shown_p(), names)
    session.r = RResults(scalars={"rho": float(C[0, 1]), "N": float(Nm[0, 1])}, matrices=mats)


def _pwcorr_data(session, cmd, listwise: bool):
    """The numeric variables named (strings noted and skipped), their columns, the sample
    (listwise: complete cases of every variable named) and the weights."""
    ds = session.data
    given = varlist(session, cmd.body)
    mask = touse(session, cmd, given if listwise else ())
    names = []
    for nm in given:
        if ds.var(nm).is_string:
            session.out.line(f"({nm} ignored because string variable)")
        else:
            names.append(nm)
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    w, kind = _weighted(session, cmd, mask)
    if w is not None:
        mask &= ~np.isnan(w) & (w != 0)
    cols = [ds.var(nm).values for nm in names]
    if len(names) == 2 and not np.any(mask & ~np.isnan(cols[0]) & ~np.isnan(cols[1])):
        raise StataError("no observations", 2000)
    return names, cols, mask, w, kind


def _pairwise(cols, mask, w, kind, adj: float, sidak_n: float | None):
    """Correlation, observation count and p-value of every pair on the pair's complete cases
    (p multiplied by `adj` for Bonferroni, Sidak-adjusted over `sidak_n` tests)."""
    k = len(cols)
    C = np.full((k, k), math.nan)
    Nm = np.zeros((k, k))
    P = np.full((k, k), math.nan)
    for i in range(k):
        for j in range(i + 1):
            sel = mask & ~np.isnan(cols[i]) & ~np.isnan(cols[j])
            if not np.any(sel):
                continue
            X = np.column_stack([cols[i][sel], cols[j][sel]])
            n, _sw, _mean, cov = moments(X, w[sel] if w is not None else None, kind)
            rho = float(corr_from_cov(cov)[0, 1])
            p = pair_pvalue(rho, n, adj)
            if sidak_n is not None and not math.isnan(p):
                p = min(1.0, 1 - (1 - p) ** sidak_n)
            C[i, j] = C[j, i] = rho
            Nm[i, j] = Nm[j, i] = n
            P[i, j] = P[j, i] = p
    return C, Nm, P


class _PairTable:
    """pwcorr's lower triangle, seven columns per block: rho (starred at star()), its
    p-value under sig, the count under obs; print() blanks pairs less significant."""

    def __init__(self, names, C, Nm, P, prt: float, star: float):
        self.names, self.C, self.Nm, self.P = names, C, Nm, P
        self.prt, self.star = prt, star

    def shown(self, i: int, j: int) -> bool:
        return self.prt == -1 or i == j or self.P[i, j] <= self.prt

    def shown_p(self) -> np.ndarray:
        """r(sig): the p-values printed (0 for pairs print() hides and on the diagonal)."""
        k = len(self.names)
        S = np.zeros((k, k))
        for i in range(k):
            for j in range(i):
                if self.shown(i, j):
                    S[i, j] = S[j, i] = self.P[i, j]
        return S

    def block_lines(self, block: list[int], sig: bool, obs: bool) -> list[str]:
        out = ["", " " * 13 + "|" + "".join(abbrev(self.names[j], 8).rjust(9) for j in block),
               _SEP13 + "+" + "-" * (9 * len(block))]
        for i in range(block[0], len(self.names)):
            out.append(self._rho_row(i, block))
            if sig:
                out.append(self._cells(i, [j for j in block if j < i], "  %7.4f", self.P))
            if obs:
                out.append(self._cells(i, [j for j in block if j <= i], "  %7.0g", self.Nm))
            if sig or obs:
                out.append(" " * 13 + "|")
        return out

    def _rho_row(self, i: int, block: list[int]) -> str:
        row = f"{abbrev(self.names[i], 12).rjust(12)} | "
        for j in block:
            if j > i:
                break
            if self.shown(i, j):
                ast = "*" if i != j and self.P[i, j] <= self.star else " "
                row += " " + fmt(float(self.C[i, j]), "%7.4f") + ast
            else:
                row += " " * 9
        return row.rstrip()

    def _cells(self, i: int, cols: list[int], spec: str, M) -> str:
        """A row of p-values or counts under row i's correlations."""
        row = " " * 13 + "|"
        for j in cols:
            row += "  " + fmt(float(M[i, j]), spec[2:]) if self.shown(i, j) else " " * 9
        return row.rstrip()
