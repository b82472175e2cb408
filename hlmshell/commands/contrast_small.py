"""The `small` option of contrast and pwcompare after `mixed ..., dfmethod()`: each contrast a t
test and each joint test an F test on the fit's small-sample degrees of freedom.

Why one place: contrast (effects and Wald rows) and pwcompare (comparisons and margins) ask
the same two questions of a linear combination L of the fixed effects -- its standard error
and DF as a single t test, and the F test of several rows at once -- and the answers come from
the same machinery as `test` and `lincom` after dfmethod() (engine.small_sample on the fit's
marginal model, built once per command): Satterthwaite and Kenward-Roger DFs per contrast
(Kenward-Roger with its adjusted covariance, as the coefficient table), the exact methods'
DF (residual, repeated, anova) from the coefficients' DFs."""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands.margins_build import r_table
from hlmshell.engine import contrasts as ce
from hlmshell.errors import StataError


def check(res, opts) -> "SmallSample | None":
    """The small-sample context when `small` is given (r(198) unless after mixed with
    dfmethod()), else None."""
    if not opts.small:
        return None
    if res.cmd != "mixed" or not res.macros.get("dfmethod"):
        raise StataError("option small is allowed only after mixed with dfmethod()", 198)
    return SmallSample(res)


class SmallSample:
    """Small-sample tests of combinations L (rows over e(b)'s fixed part) after one fit."""

    def __init__(self, res):
        self.res = res
        kf = res.k_f
        self.kf = kf
        self.keep = np.flatnonzero(~np.asarray(res.omitted[:kf], dtype=bool))
        self.method = res.macros["dfmethod"]
        self.info = res.macros.get("dfinfo", "eim")
        self.col_df = np.asarray(res.matrices["df"], dtype=float).reshape(-1)[self.keep]
        self.V = np.asarray(res.V, dtype=float)[np.ix_(self.keep, self.keep)]
        self.b = np.asarray(res.b, dtype=float)[self.keep]
        self._mm = None

    def _model(self):
        if self._mm is None:
            from hlmshell.engine import marginal
            from hlmshell.engine import small_sample as ss
            m = self.res
            Xl, Vl, dVl, rl = marginal.marginal_pieces(m.model.y, m.model.X, m.blocks, m.model.fit)
            self._mm = ss.MarginalModel(Xl, Vl, dVl, None, rl)
        return self._mm

    def _approx(self, L):
        from hlmshell.engine import small_sample as ss
        fn = ss.satterthwaite if self.method == "satterthwaite" else ss.kenward_roger
        try:
            return fn(self._model(), L, info=self.info)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            raise StataError("could not compute the degrees of freedom", 430) from None

    def _exact_df(self, L) -> float:
        from hlmshell.engine import small_sample as ss
        if self.method == "residual":
            return float(self.col_df[0])
        return float(ss.exact_contrast_df(self.col_df, L)[1])

    def rows(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(standard errors, DFs) of each row of L as its own t test."""
        L = np.atleast_2d(np.asarray(L, dtype=float))[:, self.keep]
        if L.shape[0] == 0:
            return np.zeros(0), np.zeros(0)
        if self.method in ("satterthwaite", "kroger"):
            se, df = np.full(L.shape[0], np.nan), np.full(L.shape[0], np.nan)
            live = np.flatnonzero(np.any(L != 0, axis=1))
            if live.size:
                t = self._approx(L[live])
                se[live], df[live] = t.row_se, t.row_df
            return se, df
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", L, self.V, L), 0, None))
        df = np.array([self._exact_df(row[None, :]) if np.any(row != 0) else np.nan for row in L])
        return se, df

    def joint(self, L: np.ndarray) -> tuple[int, float, float, float]:
        """(numerator DF, F, denominator DF, p) of H0: L b = 0."""
        L = np.atleast_2d(np.asarray(L, dtype=float))[:, self.keep]
        if self.method in ("satterthwaite", "kroger"):
            t = self._approx(L)
            F = float(t.f_stat(self.res.model.fit.beta))
            q, ddf = int(t.num_df), float(t.den_df)
        else:
            q, F, _ = ce.wald(L @ self.b, L @ self.V @ L.T, None)
            if q == 0:
                return 0, float("nan"), float("nan"), float("nan")
            F = F / q
            ddf = self._exact_df(L)
        return q, F, ddf, float(dist.f_sf(F, q, ddf))


def table(b: np.ndarray, se: np.ndarray, df: np.ndarray, level: float) -> np.ndarray:
    """r(table) (9 x k) with each column's own t distribution."""
    cols = [r_table(b[j:j + 1], se[j:j + 1], float(df[j]) if np.isfinite(df[j]) else None, level)
            for j in range(b.size)]
    return np.hstack(cols) if cols else np.zeros((9, 0))


def adjust(T: np.ndarray, idx: list, method: str, m: int, rank: int, level: float,
           ncells: int = 0) -> None:
    """mcompare() over m comparisons on columns idx of T, each on its own DF (T's df row)."""
    for j in idx:
        df = T[6, j] if np.isfinite(T[6, j]) else None
        p, crit = ce.adjusted(method, T[2, j:j + 1], m, rank, level, df, ncells=ncells)
        T[3, j] = p[0]
        T[4, j], T[5, j], T[7, j] = T[0, j] - crit * T[1, j], T[0, j] + crit * T[1, j], crit
