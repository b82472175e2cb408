"""Statistics of a two-way table of counts, as `tabulate r c` reports them (Stata's [R] tabulate
twoway, Methods and formulas; Agresti 2002 for the asymptotic standard errors).

Pure numerics on an r x c array of (possibly weighted) frequencies: Pearson and
likelihood-ratio chi2, Cramér's V, Goodman and Kruskal's gamma and Kendall's tau-b with their
ASEs, expected frequencies and per-cell contributions, and Fisher's exact test for any table
small enough to enumerate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def expected(tab: np.ndarray) -> np.ndarray:
    """Expected frequencies under independence, r_i c_j / N."""
    return np.outer(tab.sum(axis=1), tab.sum(axis=0)) / float(tab.sum())


def pearson_cells(tab: np.ndarray) -> np.ndarray:
    """Each cell's contribution (n - m)^2 / m to Pearson's chi2 (0 where m is 0)."""
    m = expected(tab)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m > 0, (tab - m) ** 2 / np.where(m > 0, m, 1.0), 0.0)


def lr_cells(tab: np.ndarray) -> np.ndarray:
    """Each cell's contribution 2 n ln(n / m) to the likelihood-ratio chi2 (0 for empty cells)."""
    m = expected(tab)
    pos = (tab > 0) & (m > 0)
    out = np.zeros_like(tab, dtype=float)
    out[pos] = 2.0 * tab[pos] * np.log(tab[pos] / m[pos])
    return out


def degrees_of_freedom(tab: np.ndarray) -> int:
    return (tab.shape[0] - 1) * (tab.shape[1] - 1)


def cramers_v(tab: np.ndarray) -> float:
    """Cramér's V; signed for a 2 x 2 table (the phi coefficient), as Stata defines it."""
    n = float(tab.sum())
    if tab.shape == (2, 2):
        r, c = tab.sum(axis=1), tab.sum(axis=0)
        den = math.sqrt(float(r[0] * r[1] * c[0] * c[1]))
        return (tab[0, 0] * tab[1, 1] - tab[0, 1] * tab[1, 0]) / den if den > 0 else math.nan
    q = min(tab.shape) - 1
    if q < 1 or n <= 0:
        return math.nan
    return math.sqrt(float(pearson_cells(tab).sum()) / n / q)


def _agreement(tab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A_ij (counts in cells concordant with cell ij) and D_ij (discordant), by 2-D cumsums."""
    def below_right(t):
        # s[i, j] = sum of t[k, l] with k > i and l > j
        c = np.cumsum(np.cumsum(t[::-1, ::-1], axis=0), axis=1)[::-1, ::-1]
        s = np.zeros_like(t)
        s[:-1, :-1] = c[1:, 1:]
        return s

    a = below_right(tab) + below_right(tab[::-1, ::-1])[::-1, ::-1]
    d = below_right(tab[:, ::-1])[:, ::-1] + below_right(tab[::-1, :])[::-1, :]
    return a, d


def gamma(tab: np.ndarray) -> tuple[float, float]:
    """Goodman and Kruskal's gamma and its asymptotic standard error."""
    a, d = _agreement(tab)
    p, q = float((tab * a).sum()), float((tab * d).sum())
    if p + q <= 0:
        return math.nan, math.nan
    g = (p - q) / (p + q)
    var = 16.0 * float((tab * (q * a - p * d) ** 2).sum()) / (p + q) ** 4
    return g, math.sqrt(max(var, 0.0))


def taub(tab: np.ndarray) -> tuple[float, float]:
    """Kendall's tau-b and its asymptotic standard error."""
    a, d = _agreement(tab)
    n = float(tab.sum())
    rt, ct = tab.sum(axis=1), tab.sum(axis=0)
    wr, wc = n * n - float((rt ** 2).sum()), n * n - float((ct ** 2).sum())
    if wr <= 0 or wc <= 0:
        return math.nan, math.nan
    p, q = float((tab * a).sum()), float((tab * d).sum())
    w = math.sqrt(wr * wc)
    tb = (p - q) / w
    v = rt[:, None] * wc + ct[None, :] * wr
    z = float((tab * (2.0 * w * (a - d) + tb * v) ** 2).sum()) - n ** 3 * tb ** 2 * (wr + wc) ** 2
    return tb, math.sqrt(max(z, 0.0)) / (wr * wc)


# ---- Fisher's exact test ------------------------------------------------------------------------
class ExactTooLarge(Exception):
    """The enumeration would exceed its work limit; no p-value is made up in its place."""


@dataclass(frozen=True)
class FisherResult:
    p: float                     # two-sided: P(tables no more probable than the observed one)
    p1: float | None             # one-sided, 2 x 2 tables only


def _log_fact(n: int) -> float:
    return math.lgamma(n + 1.0)


def fisher_exact(tab: np.ndarray, limit: int = 1_000_000) -> FisherResult:
    """Fisher's exact test of an r x c table of integer counts.

    The network algorithm of Mehta and Patel (1983): the tables with the observed margins are
    paths through nodes (the row margins still to fill, kept sorted because what can follow
    depends only on their multiset -- each table is still exactly one path), filled column by
    column. At each node, the paths whose past probability is high enough that even the most
    probable completion cannot exceed the observed table's probability are all counted at once
    (their completions' total is closed-form), those whose least probable completion already
    exceeds it are dropped, and paths with equal past probability are pooled. The p-value sums
    the hypergeometric probabilities of the tables no more probable than the observed one
    (relative tolerance 1e-7, as R's fisher.test). Raises ExactTooLarge beyond `limit` path
    extensions rather than approximate.
    """
    t = np.asarray(tab, dtype=np.int64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return FisherResult(1.0, 1.0 if t.shape == (2, 2) else None)
    if t.shape[0] > t.shape[1]:
        t = t.T
    rows, cols = t.sum(axis=1), np.sort(t.sum(axis=0))[::-1]
    n = int(t.sum())
    lf = np.array([_log_fact(k) for k in range(n + 1)])
    const = float(lf[rows].sum() + lf[cols].sum() - lf[n])
    obs = const - float(lf[t.ravel()].sum())
    cut = obs + math.log1p(1e-7) - const          # compared with a path's sum of -log n_ij!
    if t.shape == (2, 2):
        return _fisher_2x2(t, const, cut + const)
    net = _Network(lf, [int(c) for c in cols], cut, limit, const)
    return FisherResult(min(1.0, net.run(tuple(sorted(int(x) for x in rows)))), None)


class _Network:
    """The node-by-node sweep of fisher_exact (see there), in log space around `const`."""

    def __init__(self, lf: np.ndarray, cols: list[int], cut: float, limit: int, const: float):
        self.lf, self.cols, self.cut, self.limit, self.const = lf.tolist(), cols, cut, limit, const
        self.work = 0
        self.memo: dict[tuple, tuple[float, float]] = {}

    def _neglf(self, counts) -> float:
        lf = self.lf
        return -sum(lf[x] for x in counts)

    def extremes(self, rem: tuple, j: int) -> tuple[float, float]:
        """The most and the least probable completion from node `rem` before column j, as sums
        of -log n_ij!: the longest and shortest paths through the rest of the network,
        memoized by node."""
        key = (rem, j)
        got = self.memo.get(key)
        if got is not None:
            return got
        if j == len(self.cols) - 1:
            v = self._neglf(rem)
            got = (v, v)
        else:
            hi, lo = -math.inf, math.inf
            for fill in _fills(rem, self.cols[j]):
                self._charge(1)
                step = self._neglf(fill)
                h, low = self.extremes(tuple(sorted(r - x for r, x in zip(rem, fill))), j + 1)
                hi, lo = max(hi, step + h), min(lo, step + low)
            got = (hi, lo)
        self.memo[key] = got
        return got

    def _charge(self, units: int) -> None:
        self.work += units
        if self.work > self.limit:
            raise ExactTooLarge()

    def run(self, start: tuple) -> float:
        """The p-value: the probability of the tables no more probable than the observed one."""
        states = {start: (np.zeros(1), np.ones(1))}
        total = 0.0
        for j, cj in enumerate(self.cols):
            nxt: dict[tuple, list] = {}
            for rem, (pasts, wts) in states.items():
                self._charge(1)
                hi, lo = self.extremes(rem, j)
                # log of the total of all completions' prod 1/n_ij! (hypergeometric normalizer)
                tot = self.lf[sum(rem)] + self._neglf(rem) + self._neglf(self.cols[j:])
                done = pasts + hi <= self.cut
                total += float((wts[done] * np.exp(self.const + pasts[done] + tot)).sum())
                keep = ~done & (pasts + lo <= self.cut)
                if keep.any():
                    self._expand(rem, cj, pasts[keep], wts[keep], nxt)
            states = {k: _pool(v) for k, v in nxt.items()}
        for pasts, wts in states.values():              # every row filled: the tables themselves
            total += float((wts * np.exp(self.const + pasts))[pasts <= self.cut].sum())
        return total

    def _expand(self, rem, cj, pasts, wts, nxt) -> None:
        for fill in _fills(rem, cj):
            self._charge(len(pasts))
            step = self._neglf(fill)
            key = tuple(sorted(r - x for r, x in zip(rem, fill)))
            nxt.setdefault(key, []).append((pasts + step, wts))


def _pool(parts: list) -> tuple[np.ndarray, np.ndarray]:
    """Paths at one node with (to 1e-9) the same past: one entry, their counts summed."""
    pasts = np.concatenate([p for p, _ in parts])
    wts = np.concatenate([w for _, w in parts])
    keys, inv = np.unique(np.round(pasts, 9), return_inverse=True)
    out_w = np.zeros(len(keys))
    np.add.at(out_w, inv, wts)
    out_p = np.zeros(len(keys))
    out_p[inv] = pasts
    return out_p, out_w


def _fisher_2x2(t: np.ndarray, const: float, cut: float) -> FisherResult:
    """2 x 2: the hypergeometric distribution of n11 directly; one-sided in the observed
    direction (the smaller tail)."""
    r1, c1 = int(t[0].sum()), int(t[:, 0].sum())
    n = int(t.sum())
    lo, hi = max(0, r1 + c1 - n), min(r1, c1)
    xs = np.arange(lo, hi + 1)
    lp = np.array([const - _log_fact(x) - _log_fact(r1 - x) - _log_fact(c1 - x)
                   - _log_fact(n - r1 - c1 + x) for x in xs])
    pr = np.exp(lp)
    x0 = int(t[0, 0])
    two = float(pr[lp <= cut].sum())
    lower, upper = float(pr[xs <= x0].sum()), float(pr[xs >= x0].sum())
    return FisherResult(min(1.0, two), min(1.0, lower, upper))


def _fills(rem: tuple, total: int):
    """Every way to put `total` counts in rows with remaining capacities `rem`."""
    k = len(rem)
    suffix = [0] * (k + 1)
    for i in range(k - 1, -1, -1):
        suffix[i] = suffix[i + 1] + rem[i]
    cur = [0] * k

    def rec(i, left):
        if i == k - 1:
            if left <= rem[i]:
                cur[i] = left
                yield tuple(cur)
            return
        for x in range(max(0, left - suffix[i + 1]), min(rem[i], left) + 1):
            cur[i] = x
            yield from rec(i + 1, left - x)

    if total <= suffix[0]:
        yield from rec(0, total)

