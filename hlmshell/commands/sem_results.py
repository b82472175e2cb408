"""sem's e(): the reported parameters as e(b) and e(V) with Stata's names (`t1:i`, `t1:_cons`,
`/:var(e.t1)`, `/:cov(i,s)`, `/:mean(i)`), the LR test against the saturated model, and the
fitted model kept for replay, estat gof/eqgof and predict.

Degrees of freedom: the saturated model has p(p+3)/2 free means, variances and covariances of
the p observed variables; the model's free parameters include the observed exogenous moments
even when they are not reported (x-conditional fit), so chi2_ms's df is the difference."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist
from hlmshell.results import EstimationResults


@dataclass
class FittedSem:
    built: object
    fit: object
    V_free: np.ndarray
    X: np.ndarray
    S_N: np.ndarray
    xbar: np.ndarray
    mask: np.ndarray
    req: object
    ll_sat: float = float("nan")      # saturated and baseline models' log likelihoods
    ll_base: float = float("nan")
    n_moments: int | None = None      # group(): G p(p+3)/2 free moments in the saturated model
    n_base: int | None = None         # ... and the baseline model's free parameters
    groups: tuple | None = None       # group(): (variable, levels, display rows, one group's model)

    @property
    def N(self) -> int:
        return int(self.X.shape[0])

    def b_V(self, theta=None) -> tuple[np.ndarray, np.ndarray]:
        """e(b) and e(V) over the reported parameters (fixed ones: b = value, V = 0)."""
        theta = self.fit.theta if theta is None else theta
        params = self.built.params
        b = np.array([theta[p.k] if p.k >= 0 else p.value for p in params])
        ks = [p.k for p in params]
        V = np.zeros((len(params), len(params)))
        for r, kr in enumerate(ks):
            for c, kc in enumerate(ks):
                if kr >= 0 and kc >= 0:
                    V[r, c] = self.V_free[kr, kc]
        return b, V

    def lr_saturated(self) -> tuple[float, int, float]:
        p = self.built.n_obs
        moments = self.n_moments if self.n_moments is not None else p * (p + 3) // 2
        df = moments - self.built.model.n_par
        chi2 = max(2 * (self.ll_sat - self.fit.ll), 0.0)
        pv = float(dist.chi2_sf(chi2, df)) if df > 0 else float("nan")
        return chi2, df, pv

    def lr_baseline(self) -> tuple[float, int, float]:
        p = self.built.n_obs
        kx = len(self.built.exo_obs)
        df = p * (p + 3) // 2 - (2 * p + kx * (kx - 1) // 2)
        if self.n_moments is not None:
            df = self.n_moments - self.n_base
        chi2 = max(2 * (self.ll_sat - self.ll_base), 0.0)
        pv = float(dist.chi2_sf(chi2, df)) if df > 0 else float("nan")
        return chi2, df, pv

    def results(self, cmdline: str) -> EstimationResults:
        built = self.built
        b, V = self.b_V()
        names = [(p.eq, p.name) for p in built.params]
        chi2, df, pv = self.lr_saturated()
        chi2b, dfb, pvb = self.lr_baseline()
        k_free = built.k_free
        sc = {"N": float(self.N), "ll": self.fit.ll, "df_m": float(k_free), "rank": float(k_free),
              "k": float(len(b)), "chi2_ms": chi2, "df_ms": float(df), "p_ms": pv,
              "chi2_bs": chi2b, "df_bs": float(dfb), "p_bs": pvb, "N_groups": 1.0,
              "converged": float(self.fit.converged), "ic": float(self.fit.iterations),
              "k_lv": float(len(built.names) - built.n_obs), "k_ov": float(built.n_obs),
              "k_cns": float(sum(1 for p in built.params if p.k < 0)), "modelmeans": 1.0}
        lat = built.names[built.n_obs:]
        obs = built.names[:built.n_obs]
        mac = {"cmd": "sem", "cmdline": cmdline, "title": "Structural equation model",
               "method": self.req.method, "vce": "robust" if self.req.robust else "oim",
               "vcetype": "Robust" if self.req.robust else "OIM", "properties": "b V",
               "predict": "sem_p", "estat_cmd": "sem_estat",
               "oyvars": " ".join(n for n in obs if n in built.endo),
               "oxvars": " ".join(built.exo_obs),
               "lyvars": " ".join(n for n in lat if n in built.endo),
               "lxvars": " ".join(built.exo_lat)}
        omitted = np.zeros(len(b), bool)
        res = EstimationResults("sem", names, b, V, omitted, len(b), sc, mac)
        if self.groups is not None:
            mac["group"] = self.groups[0]
            sc["N_groups"] = float(len(self.groups[1]))
        res.sample = self.mask.copy()
        res.model = self
        return res
