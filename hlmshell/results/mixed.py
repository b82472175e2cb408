"""`mixed`'s results: e() plus the fitted MixedModel, and what is derived from them.

The derived quantities (the Wald test of the fixed part, the grouping structure, the
random-effects table, the inputs of the intraclass correlations) are read-only cached
properties computed from the model on first use, so replay, estat and predict share one
definition of each and stored results carry no side dictionaries. Results built from e()
and a model alone (as tests and `estimates restore` hand them around) become MixedResults
through `MixedResults.of`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cached_property

import numpy as np

from hlmshell import distributions as dist
from hlmshell.engine import lmm
from hlmshell.engine.design import Design
from hlmshell.engine.types import MixedModel, RandomBlock
from hlmshell.output import mixed_output as mo
from hlmshell.output.coeftable import cluster_note, coef_table, groups_from_names
from hlmshell.output.labels import display_groups, re_rows
from hlmshell.output.mixed_output import LevelInfo, RERow
from hlmshell.results.base import EstimationResults


def group_sizes(label: str, codes: np.ndarray, weights: np.ndarray | None = None,
                group_weights: np.ndarray | None = None) -> LevelInfo:
    """Number of groups and observations per group (min, average, max) of one grouping, as the
    expanded data count them under frequency weights: `weights` per row (each row counting its
    copies), `group_weights` per group code (each group counting its copies: the number of
    groups and the average weigh by them, as Stata's mixed does)."""
    codes = np.asarray(codes, dtype=np.int64)
    present = np.bincount(codes) > 0
    counts = np.bincount(codes, weights=weights) if weights is not None else np.bincount(codes)
    counts = np.rint(counts[present]).astype(np.int64)
    if group_weights is None:
        return LevelInfo(label, len(counts), int(counts.min()), float(counts.mean()),
                         int(counts.max()))
    g = np.asarray(group_weights, dtype=float)[:len(present)][present]
    return LevelInfo(label, round(float(g.sum())), int(counts.min()),
                     float(g @ counts / g.sum()), int(counts.max()))


def wald_test(beta: np.ndarray, V: np.ndarray, names: list[str]) -> tuple[int, float | None, float | None]:
    """Wald chi2 that every coefficient but `_cons` is zero: (df, chi2, p); chi2 and p are None
    when there is nothing to test."""
    idx = [i for i, nm in enumerate(names) if nm != "_cons"]
    if not idx:
        return 0, None, None
    b = beta[idx]
    Vs = V[np.ix_(idx, idx)]
    try:
        chi2 = float(b @ np.linalg.solve(Vs, b))
    except np.linalg.LinAlgError:
        chi2 = float(b @ np.linalg.pinv(Vs) @ b)
    return len(idx), chi2, float(dist.chi2_sf(chi2, len(idx)))


def re_table(fit, blocks: list[RandomBlock], *, metric: str = "variance",
             level: float = 95) -> tuple[list[tuple[str, list[RERow]]], RERow]:
    """Stata's random-effects table for a fit: [(title, rows)] outermost level first, and the
    residual's row; the engine's numbers under the output layer's labels."""
    components, residual = lmm.variance_components(fit, blocks, metric=metric, level=level)
    return re_rows(components, residual)


@dataclass
class InterceptVariance:
    """One level's random-intercept variance for the intraclass correlations."""

    label: str              # the level variable
    variance: float | None  # None when the level has no random intercept
    theta: int              # e(b) column of its ln sd (-1 when absent)


@dataclass
class MixedResults(EstimationResults):
    """e() of `mixed`, with the fit (model) and the fixed-part design (None for results built
    without one: they cannot redisplay the coefficient table, everything else works)."""

    model: MixedModel | None = None
    design: Design | None = None
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, res: EstimationResults) -> MixedResults:
        """`res` itself when it is MixedResults, else the same e() as MixedResults."""
        if isinstance(res, cls):
            return res
        return cls(**{f.name: getattr(res, f.name) for f in fields(EstimationResults)})

    @property
    def blocks(self) -> list[RandomBlock]:
        return list(self.model.blocks) if self.model is not None else []

    @property
    def robust(self) -> bool:
        """e(vcetype) is Robust: e(V) is the sandwich, not the model's information."""
        return bool(self.macros.get("vcetype"))

    @cached_property
    def wald(self) -> tuple[int, float | None, float | None]:
        """(df, chi2, p) of the Wald test of the fixed part (e(df_m), e(chi2), e(p)), from e(V)
        (the robust VCE after vce(robust))."""
        kf = self.k_f
        keep = np.flatnonzero(~np.asarray(self.omitted[:kf], dtype=bool))
        kept = [self.names[i][1] for i in keep]
        V = np.asarray(self.V, dtype=float)
        return wald_test(np.asarray(self.b, dtype=float)[keep], V[np.ix_(keep, keep)], kept)

    @cached_property
    def block_groups(self) -> list[LevelInfo]:
        """Group counts per random-effects block (the header's table)."""
        return [group_sizes(b.label, b.group, self._frequency_weights, self._group_fweights)
                for b in self.blocks]

    @property
    def _fweighted(self) -> bool:
        """[fw=] or an equation's fweight() (e(fweight1)): sizes count the copies."""
        return self.model is not None and (self.macros.get("wtype") == "fweight"
                                           or "fweight1" in self.macros)

    @property
    def _frequency_weights(self) -> np.ndarray | None:
        """The fit's level-one fweights (the group sizes count the copies), else None."""
        return self.model.weights if self._fweighted else None

    @property
    def _group_fweights(self) -> np.ndarray | None:
        """fweight() of the random-effects equation (groups counting their copies)."""
        return getattr(self.model, "group_weights", None) if self._fweighted else None

    @cached_property
    def levels(self) -> list[tuple[str, list[int]]]:
        """Distinct level variables, outermost first, with the blocks that belong to each
        (`|| _all: R.x || id:` and repeated `|| id:` equations share a level)."""
        out: list[tuple[str, list[int]]] = []
        blocks = self.blocks
        for i in sorted(range(len(blocks)), key=lambda i: blocks[i].depth):
            lab = blocks[i].label
            for name, idx in out:
                if name == lab:
                    idx.append(i)
                    break
            else:
                out.append((lab, [i]))
        return out

    @cached_property
    def level_groups(self) -> list[LevelInfo]:
        """Group counts per level variable (estat group)."""
        return [group_sizes(name, self.blocks[idx[0]].group, self._frequency_weights,
                            self._group_fweights) for name, idx in self.levels]

    def theta_index(self, bi: int) -> int:
        """Column of e(b) holding ln sd of block bi's `_cons` (-1 when absent)."""
        blocks = self.blocks
        b = blocks[bi]
        eqno = 1 + sum(1 for j in range(bi) if blocks[j].depth == b.depth)
        cov = (b.covariance or "").lower()
        k = 1 if cov.startswith(("id", "ex")) else b.names.index("_cons") + 1
        return self.coef_index(f"lns{b.depth}_{eqno}_{k}", "_cons")

    @cached_property
    def intercept_variances(self) -> list[InterceptVariance]:
        """Per level (outermost first): the variance of its random intercept, from the first of
        its blocks that has one -- the inputs of estat icc."""
        out = []
        covs = self.model.fit.covs
        for name, idx in self.levels:
            var, theta = None, -1
            for bi in idx:
                b = self.blocks[bi]
                if "_cons" in b.names:
                    j = b.names.index("_cons")
                    var = float(np.asarray(covs[bi])[j, j])
                    theta = self.theta_index(bi)
                    break
            out.append(InterceptVariance(name, var, theta))
        return out

    def variance_fit(self):
        """The fit whose vc_V the random-effects table reads: the model's, with the variance
        block of e(V) (the sandwich) in place of the information's inverse when robust."""
        fit = self.model.fit
        if self.robust and fit.vc_V is not None:
            kf = self.k_f
            fit = replace(fit, vc_V=np.asarray(self.V, dtype=float)[kf:, kf:])
        return fit

    def re_table(self, metric: str = "variance", level: float = 95.0):
        """The random-effects table's rows in the metric asked for ('variance' or 'sd')."""
        return re_table(self.variance_fit(), self.blocks, metric=metric, level=level)

    @property
    def residual_structure(self):
        """engine.residuals' structure of `residuals()`, None for sigma^2 I errors."""
        fit = self.model.fit if self.model is not None else None
        return fit.extra.get("residual") if fit is not None and fit.extra else None

    def residual_section(self, metric: str = "variance", level: float = 95.0):
        """(title lines, rows) of the residual structure's part of the table; None without one."""
        rs = self.residual_structure
        if rs is None:
            return None
        fit = self.variance_fit()
        nv = len(fit.vc_names)
        idx = list(range(nv - 1 - rs.n_params, nv))
        s = np.asarray(fit.vc_theta, dtype=float)
        V = None if fit.vc_V is None else np.asarray(fit.vc_V, dtype=float)[np.ix_(idx, idx)]
        z = float(dist.norm_ppf(0.5 + level / 200.0))
        byvar = self.macros.get("rbyvar") or None
        labels = (self.macros.get("rglabels") or "").split() if byvar else []
        rows = []
        for r, label, est, se, lo, hi in rs.table(s[idx[:-1]], s[-1], V, metric=metric, z=z):
            if byvar and r.by < len(labels):
                label = f"{labels[r.by]}: {label}"
            rows.append(RERow(label, est, se, lo, hi))
        return mo.residual_title(rs.title(), byvar), rows

    # ---- the tables as `mixed` prints them (replay, estat sd) ------------------------------
    def fixed_groups(self, baselevels: bool = False):
        """The coefficient table's groups: from the design when the results carry one, else
        rebuilt from the e(b) names."""
        if self.design is None:
            names = [nm for _, nm in self.names[: self.k_f]]
            return groups_from_names(names, baselevels=baselevels, value_labels=self.value_labels)
        return display_groups(self.design, baselevels=baselevels, value_labels=self.value_labels)

    def fe_table_lines(self, level: float = 95.0, baselevels: bool = False,
                       dftable: str = "default") -> list[str]:
        """The fixed-effects table; after vce(robust), `(Std. err. adjusted for G clusters in
        id)` above it and `Robust` over its std. err. column."""
        vcetype = self.macros.get("vcetype") or None
        out = []
        if self.scalars.get("N_clust") and self.macros.get("clustvar"):
            out.append(cluster_note(int(self.scalars["N_clust"]), self.macros["clustvar"]))
        kf = self.k_f
        if self.macros.get("dfmethod"):
            # dfmethod(): t tests on each coefficient's DF; Kenward-Roger's adjusted SEs
            Vdf = self.matrices.get("V_df")
            se = np.sqrt(np.clip(np.diag(np.asarray(Vdf, dtype=float)), 0, None)) \
                if Vdf is not None else self.se[:kf]
            df = np.asarray(self.matrices["df"], dtype=float).reshape(-1)
            return out + coef_table(self.depvar, self.fixed_groups(baselevels), self.b[:kf],
                                    se, stat="t", df_r=df, level=level, vcetype=vcetype,
                                    dfcol=None if dftable == "default" else dftable)
        return out + coef_table(self.depvar, self.fixed_groups(baselevels), self.b[:kf],
                                self.se[:kf], stat="z", level=level, vcetype=vcetype)

    @property
    def df_header(self) -> mo.DfHeader | None:
        """The header's DF method block after dfmethod() (None otherwise)."""
        if not self.macros.get("dfmethod"):
            return None
        sc = self.scalars
        return mo.DfHeader(self.macros.get("dftitle", ""), sc.get("df_min"), sc.get("df_avg"),
                           sc.get("df_max"), sc.get("F"), int(sc.get("df_m", 0) or 0),
                           sc.get("ddf_m"), sc.get("p"))

    def re_table_lines(self, metric: str = "variance", level: float = 95.0) -> list[str]:
        """The random-effects table (metric 'variance' or 'sd'); after vce(robust), Stata's
        `Robust` line over its std. err. column."""
        levels, resid = self.re_table(metric, level)
        section = self.residual_section(metric, level)
        if section is None:
            lines = mo.re_table_lines(levels, [resid], level)
        else:
            lines = mo.re_table_lines(levels, section[1], level, residual_title=section[0])
        vcetype = self.macros.get("vcetype") or None
        if vcetype:
            lines = [lines[0], " " * mo.RE_NAME_W + " |" + vcetype.rjust(21),
                     lines[1].replace("Std. err.", "std. err.")] + lines[2:]
        return lines
