"""r(table) and r(level): what Stata 17's coefficient table leaves in r() after an estimation
command (b, se, t or z, pvalue, ll, ul, df, crit, eform by coefficient), so that do-files can
read p-values and intervals with `matrix list r(table)` or `el(r(table), 4, 1)`.

Built from e(b) and e(V) in e(b)'s metric; t statistics and a t critical value when the
results carry e(df_r), z otherwise; omitted and base coefficients are b = 0 and missing
elsewhere, as Stata shows them."""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.results.base import EstimationResults, RResults


class TableMatrix:
    """A named matrix (the same shape as the command layer's NamedMatrix: values, names)."""

    def __init__(self, values, rownames, colnames):
        self.values = np.atleast_2d(np.asarray(values, dtype=float))
        self.rownames = list(rownames)
        self.colnames = list(colnames)


def coef_table_results(e: EstimationResults, level: float) -> RResults | None:
    b = np.asarray(e.b, dtype=float).ravel()
    V = np.asarray(e.V, dtype=float)
    if b.size == 0 or V.shape != (b.size, b.size):
        return None
    df_r = e.scalars.get("df_r")
    use_t = df_r is not None and np.isfinite(df_r) and df_r > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.diag(V))
        omitted = np.asarray(getattr(e, "omitted", np.zeros(b.size, bool)), dtype=bool)
        if omitted.size != b.size:
            omitted = np.zeros(b.size, bool)
        se = np.where(omitted | (se <= 0), np.nan, se)
        stat = b / se
        alpha = (100.0 - level) / 200.0
        if use_t:
            p = 2 * np.asarray(dist.t_sf(np.abs(stat), df_r), dtype=float)
            crit = float(dist.t_isf(alpha, df_r))
            df = np.full(b.size, float(df_r))
        else:
            p = 2 * np.asarray(dist.norm_sf(np.abs(stat)), dtype=float)
            crit = float(dist.norm_isf(alpha))
            df = np.full(b.size, np.nan)
        rows = np.vstack([b, se, stat, p, b - crit * se, b + crit * se, df,
                          np.full(b.size, crit), np.zeros(b.size)])
    names = [f"{q}:{n}" if q else n for q, n in e.names]
    table = TableMatrix(rows, ["b", "se", "t" if use_t else "z", "pvalue", "ll", "ul", "df",
                               "crit", "eform"], names)
    return RResults(scalars={"level": float(level)}, matrices={"table": table})
