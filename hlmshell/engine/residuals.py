"""Residual-error covariance structures of `mixed ..., residuals()`: the within-group
covariance of the errors, relative to the base residual variance sigma^2.

Why a module of its own: the cross-product engine (suffstats/linalg_core/blocked) assumes
sigma^2 I errors. A residual structure makes the errors of one lowest-level group correlated
(or heteroskedastic), R_g = sigma^2 Lambda_g(phi); engine.marginal fits those models on the
marginal covariance V_g = sigma^2 (sum Z Psi~ Z' + Lambda_g). This module only says what
Lambda_g is for a parameter vector phi, so each structure is a few lines of arithmetic.

Every parameter is unconstrained (log sd ratios, atanh correlations, logit of a positive
correlation, raw MA coefficients) and is also the parameter Stata reports in e(b) (r_lns#ose,
r_atr#, r_logitr#, r_theta#); Lambda is computed with plain arithmetic on complex-capable arrays,
so its derivatives come exactly from the complex step (Lambda(phi + i h e_j).imag / h), with no
derivative code per structure.

Layout of phi, per category j of by() (one category without by()): for structures with one
variance, the log ratio of category j's sd to category 0's (j > 0 only), then the correlation
parameters; for unstructured and banded, the log sd ratio of every t level (but the first of
category 0) to that first one, then one atanh correlation per pair of t levels (within the band).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

KINDS = ("independent", "exchangeable", "ar", "ma", "unstructured", "banded", "toeplitz",
         "exponential")
# structures whose errors are correlated across the observations of a group: by() must then be
# constant within the lowest-level groups
CORRELATED = ("exchangeable", "ar", "ma", "unstructured", "banded", "toeplitz", "exponential")
# structures that read t(): time lags (integer for all but exponential) or time levels
NEEDS_T = ("ar", "ma", "unstructured", "banded", "toeplitz", "exponential")
INTEGER_T = ("ar", "ma", "toeplitz", "banded", "unstructured")
PER_LEVEL = ("unstructured", "banded")     # a variance per t level

STEP = 1e-30                               # complex step


@dataclass
class ParamRow:
    """One row of the residual table: kind 'var' (a variance, log-scale parameters), 'cov'
    (a covariance), 'rho' (a correlation parameter shown as itself), 'coef' (an AR/MA
    coefficient); label as Stata prints it (without the by() prefix); by: category index."""

    kind: str
    label: str
    by: int
    tlevels: tuple = ()     # var/cov of per-level structures: the t level indices


@dataclass
class ResidualStructure:
    """One `residuals()` specification, resolved against the data: kind, order (# of ar, ma,
    banded, toeplitz), the number of by() categories and the distinct t values (for
    unstructured and banded: its levels; for the others only their largest lag matters)."""

    kind: str
    order: int = 0
    nby: int = 1
    tvalues: np.ndarray = field(default_factory=lambda: np.zeros(0))
    maxlag: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(self.kind)
        self.K = len(self.tvalues)
        self._pairs = self._level_pairs()

    # ---- parameter layout ---------------------------------------------------------------
    def _level_pairs(self) -> list[tuple[int, int]]:
        if self.kind not in PER_LEVEL:
            return []
        K = self.K
        band = K if self.kind == "unstructured" else self.order
        tv = self.tvalues
        return [(a, b) for a in range(K) for b in range(a + 1, K)
                if self.kind == "unstructured" or abs(tv[b] - tv[a]) <= band]

    def _ncorr(self) -> int:
        k = self.kind
        if k == "independent":
            return 0
        if k in ("exchangeable", "exponential"):
            return 1
        if k in ("ar", "ma", "toeplitz"):
            return self.order
        return len(self._pairs)

    def _nvar(self, j: int) -> int:
        """Variance parameters of by() category j."""
        if self.kind in PER_LEVEL:
            return self.K - (1 if j == 0 else 0)
        return 0 if j == 0 else 1

    @property
    def n_params(self) -> int:
        return sum(self._nvar(j) + self._ncorr() for j in range(self.nby))

    def split(self, phi):
        """phi -> per category (variance parameters, correlation parameters)."""
        out, pos = [], 0
        for j in range(self.nby):
            nv, nc = self._nvar(j), self._ncorr()
            out.append((phi[pos:pos + nv], phi[pos + nv:pos + nv + nc]))
            pos += nv + nc
        return out

    def names(self) -> list[str]:
        """e(b) names of phi (the variance part's lnsig_e follows them)."""
        out = []
        nlns, natr = 1, 0
        for j in range(self.nby):
            for _ in range(self._nvar(j)):
                nlns += 1
                out.append(f"r_lns{nlns}ose")
            for _ in range(self._ncorr()):
                natr += 1
                if self.kind == "ma":
                    out.append(f"r_theta{natr}")
                elif self.kind == "exponential":
                    out.append(f"r_logitr{natr}")
                else:
                    out.append(f"r_atr{natr}")
        return out

    def start(self) -> np.ndarray:
        return np.zeros(self.n_params)

    # ---- Lambda ---------------------------------------------------------------------------
    def _log_sd(self, var_parts, by, kt):
        """log sd ratio per observation (G, m)."""
        if self.kind in PER_LEVEL:
            table = np.zeros((self.nby, self.K), dtype=np.result_type(*[v.dtype for v, _ in var_parts]))
            for j, (v, _) in enumerate(var_parts):
                if j == 0:
                    table[0, 1:] = v
                else:
                    table[j, :] = v
            return table[by, kt]
        table = np.zeros(self.nby, dtype=np.result_type(*[v.dtype for v, _ in var_parts]))
        for j, (v, _) in enumerate(var_parts):
            if j > 0:
                table[j] = v[0]
        return table[by]

    def _acf(self, c, maxlag: int):
        """Autocorrelations at lags 0..maxlag of one category's correlation parameters c."""
        dtype = c.dtype
        acf = np.zeros(maxlag + 1, dtype=dtype)
        acf[0] = 1.0
        k = self.kind
        if k == "ar":
            phi = ar_coefficients(np.tanh(c))
            p = len(phi)
            rho = _ar_acf_start(phi)
            for d in range(1, maxlag + 1):
                acf[d] = rho[d] if d <= p else sum(phi[i] * acf[d - 1 - i] for i in range(p))
        elif k == "ma":
            th = np.concatenate([np.ones(1, dtype=dtype), c])
            den = np.sum(th * th)
            for d in range(1, min(self.order, maxlag) + 1):
                acf[d] = np.sum(th[:len(th) - d] * th[d:]) / den
        elif k == "toeplitz":
            r = np.tanh(c)
            for d in range(1, min(self.order, maxlag) + 1):
                acf[d] = r[d - 1]
        return acf

    def relcov(self, phi, t, by, same) -> np.ndarray:
        """Lambda for a batch of groups: t (G, m) time values, by (G, m) category codes,
        same (G, m, m) whether two observations share a lowest-level group. Complex phi gives
        a complex Lambda (the complex step)."""
        phi = np.asarray(phi)
        parts = self.split(phi)
        G, m = by.shape
        kt = self._t_index(t) if self.kind in PER_LEVEL else None
        lsd = self._log_sd(parts, by, kt) if self.n_params else np.zeros((G, m))
        sd = np.exp(lsd)
        corr = self._corr(parts, t, by, kt, phi.dtype)
        lam = corr * same * sd[:, :, None] * sd[:, None, :]
        return lam

    def _t_index(self, t):
        return np.searchsorted(self.tvalues, t)

    def _corr(self, parts, t, by, kt, dtype):
        G, m = by.shape
        eye = np.broadcast_to(np.eye(m, dtype=bool), (G, m, m))
        k = self.kind
        if k == "independent":
            return eye.astype(dtype)
        out = np.zeros((G, m, m), dtype=dtype)
        bya = by[:, :, None]                   # a pair's category: constant within a group
        for j, (_, c) in enumerate(parts):
            if k == "exchangeable":
                val = np.where(eye, 1.0, np.tanh(c[0]))
            elif k == "exponential":
                rho = 1.0 / (1.0 + np.exp(-c[0]))
                lag = np.abs(t[:, :, None] - t[:, None, :])
                val = rho ** lag
            elif k in PER_LEVEL:
                table = np.eye(self.K, dtype=dtype)
                r = np.tanh(c)
                for (a, b), v in zip(self._pairs, r):
                    table[a, b] = table[b, a] = v
                val = table[kt[:, :, None], kt[:, None, :]]
            else:
                lag = np.abs(t[:, :, None] - t[:, None, :]).astype(np.int64)
                acf = self._acf(c, max(self.maxlag, int(lag.max()) if lag.size else 0))
                val = acf[lag]
            out = np.where(bya == j, val, out)
        return out

    def relcov_and_derivs(self, phi, t, by, same):
        """Lambda and d Lambda / d phi_k (k, G, m, m), by complex steps."""
        phi = np.asarray(phi, dtype=float)
        lam = self.relcov(phi, t, by, same)
        ders = []
        for k in range(len(phi)):
            pc = phi.astype(complex)
            pc[k] += 1j * STEP
            ders.append(self.relcov(pc, t, by, same).imag / STEP)
        return lam, ders

    # ---- what the table shows -----------------------------------------------------------
    def rows(self) -> list[ParamRow]:
        """The table's rows, in Stata's order, per by() category."""
        out = []
        for j in range(self.nby):
            out += self._rows_of(j)
        return out

    def _rows_of(self, j: int) -> list[ParamRow]:
        k = self.kind
        if k == "independent":
            return [ParamRow("var", "var(e)", j)]
        if k == "exchangeable":
            return [ParamRow("var", "var(e)", j), ParamRow("cov", "cov(e)", j)]
        if k in ("ar", "exponential") and (k == "exponential" or self.order == 1):
            return [ParamRow("rho", "rho", j), ParamRow("var", "var(e)", j)]
        if k == "ar":
            return [ParamRow("coef", f"phi{i + 1}", j) for i in range(self.order)] + \
                [ParamRow("var", "var(e)", j)]
        if k == "ma":
            return [ParamRow("coef", f"theta{i + 1}", j) for i in range(self.order)] + \
                [ParamRow("var", "var(e)", j)]
        if k == "toeplitz":
            return [ParamRow("rho", f"rho{i + 1}", j) for i in range(self.order)] + \
                [ParamRow("var", "var(e)", j)]
        lab = [_tlabel(v) for v in self.tvalues]
        rows = [ParamRow("var", f"var(e{lab[a]})", j, (a,)) for a in range(self.K)]
        rows += [ParamRow("cov", f"cov(e{lab[a]},e{lab[b]})", j, (a, b)) for a, b in self._pairs]
        return rows

    def title(self) -> str:
        """`Residual: AR(1)` and so on (without the by() line)."""
        k = self.kind
        if k in ("independent", "exchangeable", "unstructured", "exponential"):
            return k.capitalize()
        return {"ar": "AR", "ma": "MA", "banded": "Banded", "toeplitz": "Toeplitz"}[k] + \
            f"({self.order})"

    # ---- numbers in the table's metric --------------------------------------------------
    def row_values(self, phi, lnsig: float) -> np.ndarray:
        """Every row's estimate (variances, covariances, correlations, coefficients) as a
        function of (phi, lnsig_e), complex-step safe: the delta method differentiates it."""
        phi = np.asarray(phi)
        parts = self.split(phi)
        vals = []
        s2 = np.exp(2 * lnsig)
        for j, (v, c) in enumerate(parts):
            k = self.kind
            if k in PER_LEVEL:
                lsd = np.concatenate([np.zeros(1, dtype=phi.dtype), v]) if j == 0 else v
                r = np.tanh(c)
                vals += [s2 * np.exp(2 * x) for x in lsd]
                for (a, b), rv in zip(self._pairs, r):
                    vals.append(rv * s2 * np.exp(lsd[a] + lsd[b]))
                continue
            var = s2 * (np.exp(2 * v[0]) if j > 0 else 1.0)
            if k == "independent":
                vals.append(var)
            elif k == "exchangeable":
                vals += [var, np.tanh(c[0]) * var]
            elif k == "exponential":
                vals += [1.0 / (1.0 + np.exp(-c[0])), var]
            elif k == "ar" and self.order == 1:
                vals += [np.tanh(c[0]), var]
            elif k == "ar":
                vals += list(ar_coefficients(np.tanh(c))) + [var]
            elif k == "ma":
                vals += list(c) + [var]
            else:
                vals += list(np.tanh(c)) + [var]
        return np.array(vals)

    def sd_values(self, phi, lnsig: float) -> np.ndarray:
        """The rows in the stddeviations metric: sd(e) for var(e), corr for cov."""
        vals = self.row_values(phi, lnsig)
        rows = self.rows()
        out = vals.copy()
        for i, r in enumerate(rows):
            if r.kind == "var":
                out[i] = np.sqrt(vals[i])
            elif r.kind == "cov":
                if self.kind in PER_LEVEL:
                    a, b = r.tlevels
                    ia = _find(rows, r.by, (a,))
                    ib = _find(rows, r.by, (b,))
                    out[i] = vals[i] / np.sqrt(vals[ia] * vals[ib])
                else:
                    out[i] = vals[i] / vals[i - 1]
        return out


    def table(self, phi, lnsig: float, V, *, metric: str = "variance", z: float = 1.96):
        """[(ParamRow, label, est, se, lo, hi)] of the residual table. V: covariance of
        (phi, lnsig_e) (None: no standard errors). Standard errors by the delta method (the
        complex step differentiates the rows' values); intervals on the scale each parameter
        is estimated on (log for variances and sds, atanh for correlations, logit for the
        exponential's rho), as Stata's."""
        x = np.concatenate([np.asarray(phi, dtype=float), [float(lnsig)]])
        fun = self.sd_values if metric == "sd" else self.row_values

        def f(v):
            return fun(v[:-1], v[-1])

        est = np.real(f(x))
        J = np.empty((len(est), len(x)))
        for k in range(len(x)):
            xc = x.astype(complex)
            xc[k] += 1j * STEP
            J[:, k] = f(xc).imag / STEP
        out = []
        for i, r in enumerate(self.rows()):
            label = self._label(r, metric)
            e = float(est[i])
            if V is None:
                out.append((r, label, e, None, None, None))
                continue
            var = float(J[i] @ V @ J[i])
            se = math.sqrt(var) if var >= 0 else None
            lo, hi = _interval(self._scale(r, metric), e, se, z)
            out.append((r, label, e, se, lo, hi))
        return out

    def _scale(self, r: ParamRow, metric: str) -> str:
        if r.kind == "var":
            return "log"
        if r.kind == "cov":
            return "atanh" if metric == "sd" else "linear"
        if r.kind == "rho":
            return "logit" if self.kind == "exponential" else "atanh"
        return "linear"

    @staticmethod
    def _label(r: ParamRow, metric: str) -> str:
        if metric != "sd":
            return r.label
        if r.kind == "var":
            return "sd" + r.label[3:]
        if r.kind == "cov":
            return "corr" + r.label[3:]
        return r.label


def _interval(scale: str, est: float, se: float | None, z: float):
    """The confidence interval of one row, computed on its estimation scale."""
    if se is None or not math.isfinite(se):
        return None, None
    if scale == "log":
        if not est > 0:
            return None, None
        w = z * se / est
        # an unidentified variance (est near 0, se huge): the upper bound is beyond a double
        return est * math.exp(-w), (est * math.exp(w) if w < 700 else math.inf)
    if scale == "atanh":
        if not abs(est) < 1:
            return None, None
        a, w = math.atanh(est), z * se / (1 - est * est)
        return math.tanh(a - w), math.tanh(a + w)
    if scale == "logit":
        if not 0 < est < 1:
            return None, None
        a, w = math.log(est / (1 - est)), z * se / (est * (1 - est))
        return _expit(a - w), _expit(a + w)
    return est - z * se, est + z * se


def _expit(a: float) -> float:
    return 1 / (1 + math.exp(-a)) if a > -700 else 0.0


def _find(rows, by, tl):
    for i, r in enumerate(rows):
        if r.by == by and r.kind == "var" and r.tlevels == tl:
            return i
    raise KeyError(tl)


def _tlabel(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def ar_coefficients(pacf):
    """AR coefficients from partial autocorrelations (Durbin-Levinson): a stationary AR(p) for
    every pacf in (-1, 1)^p, which is why the optimiser works on atanh(pacf)."""
    p = len(pacf)
    phi = np.zeros(0, dtype=np.asarray(pacf).dtype)
    for k in range(p):
        a = pacf[k]
        phi = np.concatenate([phi - a * phi[::-1], np.array([a], dtype=phi.dtype)])
    return phi


def _ar_acf_start(phi):
    """Autocorrelations at lags 0..p of a stationary AR(p) (the Yule-Walker equations)."""
    p = len(phi)
    if p == 1:
        return np.array([1.0, phi[0]], dtype=phi.dtype)
    # rho_k = sum_i phi_i rho_|k-i|, rho_0 = 1: p linear equations in rho_1..rho_p
    A = np.eye(p, dtype=phi.dtype)
    b = np.zeros(p, dtype=phi.dtype)
    for k in range(1, p + 1):
        for i in range(1, p + 1):
            lag = abs(k - i)
            if lag == 0:
                b[k - 1] += phi[i - 1]
            else:
                A[k - 1, lag - 1] -= phi[i - 1]
    rho = np.linalg.solve(A, b)
    return np.concatenate([np.ones(1, dtype=phi.dtype), rho])


def validate_t(kind: str, t: np.ndarray) -> None:
    """Stata's requirement on t(): integer values for the lag-based and per-level structures."""
    if kind in INTEGER_T and not np.all(np.equal(np.floor(t), t)):
        raise ValueError("t() must be integer-valued")


def make_structure(kind: str, order: int, t: np.ndarray | None, nby: int) -> ResidualStructure:
    """The structure for the estimation sample's t values."""
    tv = np.unique(t) if t is not None and kind in PER_LEVEL else np.zeros(0)
    maxlag = 0
    if t is not None and kind in ("ar", "ma", "toeplitz") and len(t):
        maxlag = int(np.max(t) - np.min(t))
    return ResidualStructure(kind, order, nby, tv, maxlag)
