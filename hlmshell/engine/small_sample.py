"""Small-sample inference for the fixed effects of a linear mixed model: the numerics behind
Stata's `mixed ..., dfmethod(residual|repeated|anova|satterthwaite|kroger)`, `estat df` and
`test/lincom/contrast, small`.

Why this module exists apart from the fit: every quantity below is a function of the *marginal*
model at the estimates -- per top-level group g the fixed design X_g, the covariance
V_g = Z_g G Z_g' + R_g and its derivatives dV_g/dphi_k with respect to K variance parameters
phi -- so it does not care how the fit was parametrised or optimised. The caller (the `mixed`
command) builds a MarginalModel once; Satterthwaite and Kenward-Roger then share one pass over
the groups (`precompute`).

Notation. Phi = (X'V^-1 X)^-1, W_g = V_g^-1 X_g, and with V_k = dV/dphi_k, V_kl = d2V/dphi_k dphi_l

    P_k  = X'V^-1 V_k V^-1 X           = sum_g W_g' V_gk W_g                 (p x p)
    Q_kl = X'V^-1 V_k V^-1 V_l V^-1 X  = sum_g W_g' V_gk V_g^-1 V_gl W_g      (p x p)
    R_kl = X'V^-1 V_kl V^-1 X          = sum_g W_g' V_gkl W_g                 (p x p)
    dPhi/dphi_k = Phi P_k Phi.

(Kenward and Roger's own P_i is X' dV^-1/dphi_i X = -P_k; only products of two enter, so the sign
is immaterial.) The REML projection P = V^-1 - V^-1 X Phi X'V^-1 is not block diagonal, but every
trace it enters decomposes into per-group sums plus p x p algebra:

    tr(P V_k P V_l) = sum_g tr(V_g^-1 V_gk V_g^-1 V_gl) - 2 tr(Phi Q_kl) + tr(Phi P_k Phi P_l)
    tr(P V_kl)      = sum_g tr(V_g^-1 V_gkl) - tr(Phi R_kl)
    y'P V_k P V_l P y = sum_g a_gk' V_g^-1 a_gl - h_k' Phi h_l,
        u_g = V_g^-1 (y_g - X_g b),  a_gk = V_gk u_g,  h_k = sum_g W_g' a_gk.

The information of the variance parameters (REML):
    expected (eim, Stata's default)  I_kl = 1/2 tr(P V_k P V_l)
    observed (oim)                   -d2 l_R = -1/2 tr(P V_l P V_k) + 1/2 tr(P V_kl)
                                               + y'P V_l P V_k P y - 1/2 y'P V_kl P y
and A = I^-1 is the covariance of phi_hat used by both approximations. At the REML optimum the
observed-information Satterthwaite DF does not depend on the parametrisation of phi (the score
is 0 there), which is why our var/cov parametrisation reproduces lmerTest (which differentiates
numerically in lme4's theta/sigma metric); the expected one never depends on it.

Groups are processed in batches of equal (padded) size: a group of n_g rows padded to s rows with
X = 0, V = I, dV = 0, resid = 0 contributes exactly nothing to any of the sums above, so groups of
nearby sizes share one stacked (G, s, s) computation -- numpy batched linear algebra and GEMMs
instead of a Python loop per group (20,000 groups of 10 are one batch).

Stata's rules, as read in its ado files (`_xtmixed_estimate.ado` 1.4.1, `_mixed_ddf.ado`,
`_mixed_ddf_u.ado`, `_mixed_ddf_test.ado`, `mixed.sthlp`, `j_mixed_ddf.sthlp`); the numbers
themselves are compiled Mata (lmixed.mlib) we could not read. Every error below is r(198):
  * satterthwaite/kroger need REML: "option dfmethod(kroger) is allowed only with REML
    estimation" (same with satterthwaite) from `mixed`; after an ML fit, `estat df,
    method(kroger)` says "Kenward-Roger DF method is available only with REML estimation"
    ("Satterthwaite DF method ..."). residual, repeated and anova work under ML and REML.
  * eim (default) / oim only with kroger or satterthwaite: "suboption oim can only be
    specified when option dfmethod() contains kroger or satterthwaite"; both: "only one of
    eim or oim is allowed in option dfmethod()"; two methods: "only one method is allowed in
    option dfmethod()"; unknown: "invalid method foo in option dfmethod()".
  * repeated is two-level only: "option dfmethod(repeated) is not available for models with
    more than two levels".
  * no random effects (independent residuals): "model is linear regression;  option
    dfmethod(residual) should be used".
  * also refused: weights ("option dfmethod() is not allowed with weighted estimation"),
    vce() other than oim ("option dfmethod() is not allowed with option vce(robust)"),
    no fixed effects ("option dfmethod() is not allowed for a model with no fixed effects"),
    nostderr ("computing degrees of freedom requires standard-error computation").
F tests (`test, small`, the header's F(df1, df2) = e(F), e(ddf_m)) and their df2:
  * residual: n - rank(X) always.  repeated/anova: the common DF of the rows' coefficients;
    when they differ, the DDF is missing (j_mixed_ddf.sthlp; `exact_contrast_df`).
  * satterthwaite: F = Wald/q with Phi; df2 from the per-direction Satterthwaite DFs of the
    eigen-decomposed L Phi L' (Fai and Cornelius 1996; SAS's and lmerTest's rule) -- Stata's
    Methods and formulas as we recall it, not verified against Stata output.
  * kroger: F* = lambda (Lb)'(L Phi_A L')^-1(Lb)/q with Kenward-Roger's df2 m.
  * kroger: e(V) keeps the conventional Phi; e(V_df) holds Phi_A, which the coefficient table's
    standard errors use (Stata's KR example: time's SE .13434 against the unadjusted
    .1327319, t = b/SE without lambda).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "CoefficientDF",
    "MarginalModel",
    "Pieces",
    "RandomTerm",
    "SmallSampleResult",
    "adjusted_vcov",
    "anova_df",
    "coefficient_df",
    "exact_contrast_df",
    "fai_cornelius_ddf",
    "kenward_roger",
    "precompute",
    "repeated_df",
    "residual_df",
    "satterthwaite",
]

_PAD_RATIO = 1.25          # a batch pads its groups up to at most 25% (+1 row) over their size


@dataclass
class MarginalModel:
    """The marginal model y_g ~ N(X_g b, V_g) at the estimates, one entry per top-level group.

    X: X_g (n_g x p), the fixed design, estimable (non-omitted) columns only.
    V: V_g (n_g x n_g), the marginal covariance at the estimates.
    dV: (K x n_g x n_g), dV_g/dphi_k for K variance parameters phi, in a parametrisation in
        which V is as near linear as possible (variances, covariances, residual variance): then
        d2V is 0 and Kenward-Roger's R_ij term vanishes, as Stata and pbkrtest assume.
    d2V: optional (K x K x n_g x n_g) second derivatives (None = V linear in phi), for nonlinear
        parameters such as an AR rho.
    resid: optional y_g - X_g b_hat (n_g,), needed only for the observed information (oim).

    Any of the lists may instead be one stacked array with a leading group axis (all groups the
    same size), which skips the per-group stacking.
    """

    X: list
    V: list
    dV: list
    d2V: list | None = None
    resid: list | None = None


@dataclass
class Pieces:
    """Everything the approximations share, from one pass over the groups (see module doc).

    phi: Phi (p x p); P: (K, p, p); Q: (K, K, p, p); R: (K, K, p, p) or None;
    info: the information used (K x K); A: its inverse, the covariance of phi_hat.
    """

    phi: np.ndarray
    P: np.ndarray
    Q: np.ndarray
    R: np.ndarray | None
    info: np.ndarray
    A: np.ndarray
    info_kind: str = "eim"
    _phi_a: dict = field(default_factory=dict, repr=False)

    @property
    def dphi(self) -> np.ndarray:
        """dPhi/dphi_k = Phi P_k Phi, (K, p, p): the Satterthwaite gradient's matrix."""
        return np.einsum("pq,kqr,rs->kps", self.phi, self.P, self.phi)


@dataclass
class SmallSampleResult:
    """One contrast matrix L (r x p) under Satterthwaite or Kenward-Roger.

    row_df / row_se: each row of L as its own t test (t = l'b / row_se, DF row_df).
    vcov: the covariance of b the statistics use -- Phi for Satterthwaite, Phi_A for KR.
    num_df: rank(L), the F test's numerator DF; den_df: its denominator DF; scale: lambda, the
    F multiplier (1 for Satterthwaite): F = scale * (Lb - r0)'(L vcov L')^-1 (Lb - r0) / num_df.
    Row-level statistics carry no lambda (as lmerTest/pbkrtest report KR t tests).
    """

    method: str
    info: str
    L: np.ndarray
    row_df: np.ndarray
    row_se: np.ndarray
    vcov: np.ndarray
    num_df: int
    den_df: float
    scale: float = 1.0
    row_nu: np.ndarray | None = None   # Satterthwaite: the per-eigen-direction DFs (Fai-Cornelius)

    def f_stat(self, beta, r0=None) -> float:
        """The test's F statistic for estimates beta (H0: L b = r0), scale included."""
        L = _independent_rows(self.L, self.vcov)
        d = L @ np.asarray(beta, dtype=float) - (0.0 if r0 is None else _reduced_r0(self.L, L, r0))
        w = float(d @ np.linalg.solve(L @ self.vcov @ L.T, d))
        return self.scale * w / self.num_df


@dataclass
class CoefficientDF:
    """Coefficient-wise results for all p fixed effects: df (p,), vcov (Phi or Phi_A), se."""

    df: np.ndarray
    vcov: np.ndarray
    se: np.ndarray


# --------------------------------------------------------------------------- batching

def _as_batches(m: MarginalModel):
    """Yield dicts of stacked (G, s, ...) arrays, grouping groups of nearby sizes and padding
    them (X 0, V I, dV 0, resid 0 contribute nothing) so the numerics run batched."""
    if isinstance(m.X, np.ndarray) and m.X.ndim == 3:
        yield _stacked_batch(m)
        return
    sizes = np.array([np.shape(x)[0] for x in m.X], dtype=int)
    order = np.argsort(sizes, kind="stable")
    start = 0
    while start < len(order):
        lo = sizes[order[start]]
        stop = start
        while stop < len(order) and sizes[order[stop]] <= lo * _PAD_RATIO + 1:
            stop += 1
        idx = order[start:stop]
        yield _pad_batch(m, idx, int(sizes[idx].max()))
        start = stop


def _stacked_batch(m: MarginalModel) -> dict:
    """The whole model as one batch when the caller already stacked equal-size groups."""
    return {"X": np.asarray(m.X, float), "V": np.asarray(m.V, float),
            "dV": np.asarray(m.dV, float),
            "d2V": None if m.d2V is None else np.asarray(m.d2V, float),
            "r": None if m.resid is None else np.asarray(m.resid, float)}


def _pad_batch(m: MarginalModel, idx: np.ndarray, s: int) -> dict:
    """Stack the groups idx into (G, s, ...) arrays, padding short groups."""
    G = len(idx)
    p = np.shape(m.X[idx[0]])[1]
    K = np.shape(m.dV[idx[0]])[0]
    X = np.zeros((G, s, p))
    V = np.broadcast_to(np.eye(s), (G, s, s)).copy()
    dV = np.zeros((G, K, s, s))
    d2V = None if m.d2V is None else np.zeros((G, K, K, s, s))
    r = None if m.resid is None else np.zeros((G, s))
    for j, g in enumerate(idx):
        n = np.shape(m.X[g])[0]
        X[j, :n] = m.X[g]
        V[j, :n, :n] = m.V[g]
        dV[j, :, :n, :n] = m.dV[g]
        if d2V is not None:
            d2V[j, :, :, :n, :n] = m.d2V[g]
        if r is not None:
            r[j, :n] = m.resid[g]
    return {"X": X, "V": V, "dV": dV, "d2V": d2V, "r": r}


# --------------------------------------------------------------------------- one pass

class _Sums:
    """Accumulators of the per-group sums (module doc), filled batch by batch."""

    def __init__(self):
        self.M = self.P = self.Q = self.T = None
        self.R = self.trVd2 = None
        self.S = self.h = self.uV2u = None

    @staticmethod
    def _add(old, new):
        return new if old is None else old + new

    def add_core(self, X, Vi, dV):
        """X'V^-1X, P_k, Q_kl and sum_g tr(V^-1 V_k V^-1 V_l) for one batch, as GEMMs."""
        G, s, p = X.shape
        K = dV.shape[1]
        W = Vi @ X                                    # V^-1 X            (G, s, p)
        C = dV @ W[:, None]                           # V_k V^-1 X        (G, K, s, p)
        B = Vi[:, None] @ dV                          # V^-1 V_k          (G, K, s, s)
        D = B @ W[:, None]                            # V^-1 V_k V^-1 X   (G, K, s, p)
        self.M = self._add(self.M, np.einsum("gip,giq->pq", X, W))
        Wf = W.reshape(G * s, p)
        Cf = C.transpose(1, 0, 2, 3).reshape(K, G * s, p)
        self.P = self._add(self.P, np.einsum("ap,kaq->kpq", Wf, Cf))
        Cr = C.transpose(1, 3, 0, 2).reshape(K * p, G * s)
        Dr = D.transpose(1, 3, 0, 2).reshape(K * p, G * s)
        self.Q = self._add(self.Q, (Cr @ Dr.T).reshape(K, p, K, p).transpose(0, 2, 1, 3))
        Bf = B.transpose(1, 0, 2, 3).reshape(K, -1)
        Bt = B.transpose(1, 0, 3, 2).reshape(K, -1)
        self.T = self._add(self.T, Bf @ Bt.T)
        return W

    def add_second(self, W, Vi, d2V):
        """R_kl and sum_g tr(V^-1 V_kl) when V is not linear in phi."""
        self.R = self._add(self.R, np.einsum("gip,gklij,gjq->klpq", W, d2V, W, optimize=True))
        self.trVd2 = self._add(self.trVd2, np.einsum("gij,gklji->kl", Vi, d2V, optimize=True))

    def add_observed(self, W, Vi, dV, d2V, r):
        """The data-dependent parts of the observed information (module doc)."""
        u = np.einsum("gij,gj->gi", Vi, r)
        a = np.einsum("gkij,gj->gki", dV, u)
        Via = np.einsum("gij,gkj->gki", Vi, a)
        self.S = self._add(self.S, np.einsum("gki,gli->kl", a, Via))
        self.h = self._add(self.h, np.einsum("gip,gki->kp", W, a))
        if d2V is not None:
            self.uV2u = self._add(self.uV2u,
                                  np.einsum("gi,gklij,gj->kl", u, d2V, u, optimize=True))


def _spd_inverse(M: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive (semi)definite matrix, symmetrised; pinv if singular."""
    M = (M + M.T) / 2
    try:
        out = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        out = np.linalg.pinv(M)
    return (out + out.T) / 2


def _information(sums: _Sums, phi: np.ndarray, info: str) -> np.ndarray:
    """Expected or observed REML information of phi from the accumulated sums."""
    PhiP = np.einsum("pq,kqr->kpr", phi, sums.P)
    trPVPV = (sums.T - 2 * np.einsum("pq,klqp->kl", phi, sums.Q)
              + np.einsum("kpq,lqp->kl", PhiP, PhiP))
    expected = trPVPV / 2
    if info == "eim":
        return (expected + expected.T) / 2
    obs = -expected + sums.S - sums.h @ phi @ sums.h.T
    if sums.R is not None:
        trPV2 = sums.trVd2 - np.einsum("pq,klqp->kl", phi, sums.R)
        obs = obs + trPV2 / 2 - sums.uV2u / 2
    return (obs + obs.T) / 2


def precompute(m: MarginalModel, info: str = "eim") -> Pieces:
    """One pass over the groups: Phi, P_k, Q_kl, R_kl and the information (eim or oim).

    Why public: the coefficient table, `test`, `lincom` and `estat df` all reuse the same
    pieces; pass the result wherever a MarginalModel is accepted to skip the pass.
    """
    if info not in ("eim", "oim"):
        raise ValueError(f"info must be 'eim' or 'oim', not {info!r}")
    if info == "oim" and m.resid is None:
        raise ValueError("the observed information needs the residuals y - X b (resid)")
    sums = _Sums()
    for b in _as_batches(m):
        Vi = np.linalg.inv(b["V"])
        Vi = (Vi + np.swapaxes(Vi, -1, -2)) / 2
        W = sums.add_core(b["X"], Vi, b["dV"])
        if b["d2V"] is not None:
            sums.add_second(W, Vi, b["d2V"])
        if info == "oim":
            sums.add_observed(W, Vi, b["dV"], b["d2V"], b["r"])
    phi = _spd_inverse(sums.M)
    I = _information(sums, phi, info)
    return Pieces(phi=phi, P=sums.P, Q=sums.Q, R=sums.R, info=I, A=_spd_inverse(I),
                  info_kind=info)


def _pieces(m, info: str) -> Pieces:
    """Accept a MarginalModel or already computed Pieces (whose info kind must match)."""
    if isinstance(m, Pieces):
        if m.info_kind != info:
            raise ValueError(f"pieces were computed with info={m.info_kind!r}, not {info!r}")
        return m
    return precompute(m, info)


# --------------------------------------------------------------------------- contrasts

def _as_rows(L, p: int) -> np.ndarray:
    L = np.atleast_2d(np.asarray(L, dtype=float))
    if L.shape[1] != p:
        raise ValueError(f"L has {L.shape[1]} columns; the model has {p} fixed effects")
    return L


def _eigen_rows(L: np.ndarray, vcov: np.ndarray, tol: float = 1e-8):
    """(d, U'L): eigenvalues of L vcov L' above tol (relative) and the matching rotated rows.

    Why: a rank-deficient L (dependent constraints, as `test` may be given) is reduced to its
    row space this way, and Fai-Cornelius needs exactly these directions."""
    d, U = np.linalg.eigh(L @ vcov @ L.T)
    keep = d > tol * max(float(d.max(initial=0.0)), np.finfo(float).tiny)
    return d[keep], U[:, keep].T @ L


def _independent_rows(L: np.ndarray, vcov: np.ndarray) -> np.ndarray:
    """L itself when of full row rank, else a basis of its row space (the F test is
    invariant to the basis)."""
    d, rows = _eigen_rows(L, vcov)
    return L if len(d) == L.shape[0] else rows


def _reduced_r0(L, Lr, r0):
    """r0 mapped to the reduced rows Lr = T L (least squares T; exact for consistent r0)."""
    r0 = np.broadcast_to(np.asarray(r0, dtype=float), (L.shape[0],))
    if Lr is L:
        return r0
    T = np.linalg.lstsq(L.T, Lr.T, rcond=None)[0].T
    return T @ r0


def _row_se(L: np.ndarray, vcov: np.ndarray) -> np.ndarray:
    """sqrt(l' vcov l) per row; nan where the variance is not positive (a Phi_A from an
    indefinite observed information can be)."""
    v = np.einsum("rp,pq,rq->r", L, vcov, L)
    with np.errstate(invalid="ignore"):
        return np.where(v >= 0, np.sqrt(np.abs(v)), np.nan)


def _satterthwaite_rows(pc: Pieces, L: np.ndarray) -> np.ndarray:
    """df = 2 (l'Phi l)^2 / (g'A g), g_k = l'Phi P_k Phi l, for every row l of L at once.
    g = 0 (no variance parameter moves l'b's variance) gives inf; g'A g < 0, possible with an
    indefinite observed information, gives nan."""
    LPhi = L @ pc.phi
    var = np.einsum("rp,rp->r", LPhi, L)
    g = np.einsum("rp,kpq,rq->rk", LPhi, pc.P, LPhi)
    den = np.einsum("rk,kl,rl->r", g, pc.A, g)
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, 2 * var ** 2 / safe, np.where(den == 0, np.inf, np.nan))


def fai_cornelius_ddf(nu: np.ndarray) -> float:
    """Denominator DF of a q-row F test from the DFs of its q eigen directions (Fai and
    Cornelius 1996; SAS's rule, and Stata's as we read its Methods and formulas):
    E = sum nu/(nu-2) over nu > 2, ddf = 2E/(E - q); missing (nan) when E <= q (SAS prints 0).
    Equal nu give nu itself. lmerTest agrees except at the edge: any nu <= 2 gives it 2."""
    nu = np.asarray(nu, dtype=float)
    q = len(nu)
    if q == 1:
        return float(nu[0])
    if np.all(np.isinf(nu)):
        return float("inf")
    if np.all(np.isfinite(nu)) and np.all(np.abs(np.diff(nu)) < 1e-8 * np.abs(nu).max()):
        return float(nu.mean())
    big = nu > 2
    with np.errstate(invalid="ignore"):
        ratio = np.where(np.isinf(nu), 1.0, nu / (nu - 2))    # nu = inf (exact) counts 1
    E = float(np.sum(ratio[big]))
    return 2 * E / (E - q) if E > q else float("nan")


def satterthwaite(m, L, *, info: str = "eim") -> SmallSampleResult:
    """Satterthwaite DF for each row of L and the multi-row F test's DDF (Fai-Cornelius:
    eigen-decompose L Phi L' = U D U', nu_j = Satterthwaite DF of row j of U'L, combine).

    m: a MarginalModel or Pieces from precompute(m, info). L: r x p contrast rows.
    """
    pc = _pieces(m, info)
    L = _as_rows(L, pc.phi.shape[0])
    d, rows = _eigen_rows(L, pc.phi)
    nu = _satterthwaite_rows(pc, rows)
    return SmallSampleResult(
        method="satterthwaite", info=info, L=L, row_df=_satterthwaite_rows(pc, L),
        row_se=_row_se(L, pc.phi), vcov=pc.phi,
        num_df=len(d), den_df=fai_cornelius_ddf(nu), scale=1.0, row_nu=nu)


# --------------------------------------------------------------------------- Kenward-Roger

def adjusted_vcov(m, *, info: str = "eim", r_term: bool = False) -> np.ndarray:
    """Kenward-Roger's Phi_A = Phi + 2 Phi {sum_kl A_kl (Q_kl - P_k Phi P_l - R_kl/4)} Phi.

    Stata stores it in e(V_df) (e(V) keeps Phi) and its coefficient table shows its SEs.
    r_term: include the second-derivative term R_kl (needs d2V). Off by default because Stata
    (like pbkrtest) forms only P_i and Q_ij (`_mixed_ddf_u.ado` steps 15-18); it is 0 anyway
    when V is linear in phi (variances/covariances), and matters only for parameters such as
    an AR rho, where Kenward and Roger's full formula keeps it.
    """
    pc = _pieces(m, info)
    use_r = bool(r_term and pc.R is not None)
    if use_r not in pc._phi_a:
        phi = pc.phi
        inner = pc.Q - np.einsum("kpq,qr,lrs->klps", pc.P, phi, pc.P)
        if use_r:
            inner = inner - pc.R / 4
        U = np.einsum("kl,klpq->pq", pc.A, inner)
        phi_a = phi + 2 * phi @ U @ phi
        pc._phi_a[use_r] = (phi_a + phi_a.T) / 2
    return pc._phi_a[use_r]


def _kr_moments(A1, A2, q: int):
    """Kenward-Roger (1997) denominator DF m and F scale lambda from A1, A2 (arrays ok)."""
    A1 = np.asarray(A1, dtype=float)
    A2 = np.asarray(A2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        B = (A1 + 6 * A2) / (2 * q)
        g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
        den = 3 * q + 2 * (1 - g)
        c1, c2, c3 = g / den, (q - g) / den, (q + 2 - g) / den
        Estar = 1 / (1 - A2 / q)
        Vstar = (2 / q) * (1 + c1 * B) / ((1 - c2 * B) ** 2 * (1 - c3 * B))
        rho = Vstar / (2 * Estar ** 2)
        mdf = 4 + (q + 2) / (q * rho - 1)
        lam = mdf / (Estar * (mdf - 2))
    none = A2 <= 0          # no variance parameter moves the contrast: exact, infinite DF
    return np.where(none, np.inf, mdf), np.where(none, 1.0, lam)


def _kr_test(pc: Pieces, L: np.ndarray):
    """(m, lambda) of the Kenward-Roger F test of the full-row-rank rows L."""
    q = L.shape[0]
    phi = pc.phi
    Theta = L.T @ np.linalg.solve(L @ phi @ L.T, L)
    TP = np.einsum("pq,kqr->kpr", Theta, pc.dphi)               # Theta Phi P_k Phi
    tr = np.einsum("kpp->k", TP)
    A1 = tr @ pc.A @ tr
    A2 = np.einsum("kl,kpq,lqp->", pc.A, TP, TP)
    mdf, lam = _kr_moments(A1, A2, q)
    return float(mdf), float(lam)


def _kr_rows(pc: Pieces, L: np.ndarray) -> np.ndarray:
    """Kenward-Roger DF of each row of L as a 1-df test, all rows at once: for one row,
    Theta = l l'/(l'Phi l) and A1 = A2 = t'A t, t_k = l'Phi P_k Phi l / l'Phi l."""
    LPhi = L @ pc.phi
    var = np.einsum("rp,rp->r", LPhi, L)
    t = np.einsum("rp,kpq,rq->rk", LPhi, pc.P, LPhi) / var[:, None]
    a = np.einsum("rk,kl,rl->r", t, pc.A, t)
    return _kr_moments(a, a, 1)[0]


def kenward_roger(m, L, *, info: str = "eim", r_term: bool = False) -> SmallSampleResult:
    """Kenward-Roger DF for each row of L, and the F test of L: Phi_A, rank, DDF m, lambda.

    m: a MarginalModel or Pieces from precompute(m, info). L: r x p contrast rows.
    The DDF and lambda use the unadjusted Phi (Theta = L'(L Phi L')^-1 L), as Kenward and
    Roger, pbkrtest and Stata do; the statistic uses Phi_A (r_term: see adjusted_vcov).
    """
    pc = _pieces(m, info)
    L = _as_rows(L, pc.phi.shape[0])
    phi_a = adjusted_vcov(pc, info=info, r_term=r_term)
    Lr = _independent_rows(L, pc.phi)
    mdf, lam = _kr_test(pc, Lr)
    return SmallSampleResult(
        method="kroger", info=info, L=L, row_df=_kr_rows(pc, L),
        row_se=_row_se(L, phi_a), vcov=phi_a,
        num_df=Lr.shape[0], den_df=mdf, scale=lam)


def coefficient_df(m, method: str, *, info: str = "eim", r_term: bool = False) -> CoefficientDF:
    """DF of every fixed effect (the p unit contrasts) in one go, sharing the pieces:
    method 'satterthwaite' (vcov Phi) or 'kroger' (vcov Phi_A, the table's SEs, whose t
    statistics carry no lambda). For the coefficient table, e(df) and the DF min/avg/max."""
    pc = _pieces(m, info)
    eye = np.eye(pc.phi.shape[0])
    if method == "satterthwaite":
        df, vcov = _satterthwaite_rows(pc, eye), pc.phi
    elif method == "kroger":
        df, vcov = _kr_rows(pc, eye), adjusted_vcov(pc, info=info, r_term=r_term)
    else:
        raise ValueError(f"method must be 'satterthwaite' or 'kroger', not {method!r}")
    return CoefficientDF(df=df, vcov=vcov, se=_row_se(eye, vcov))


# --------------------------------------------------------------------------- exact methods

def residual_df(n: int, rank: int) -> float:
    """Stata's residual DF, n - rank(X), for every coefficient and test."""
    return float(n - rank)


def _rank(A: np.ndarray, tol: float | None = None) -> int:
    if A.size == 0:
        return 0
    s = np.linalg.svd(A, compute_uv=False)
    if tol is None:
        tol = s.max(initial=0.0) * max(A.shape) * np.finfo(float).eps * 10
    return int(np.sum(s > tol))


def _constant_within(X: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Which columns of X are constant within every group (between-group columns)."""
    first = np.zeros(codes.max() + 1, dtype=int)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    ref = X[first[codes]]
    scale = np.maximum(np.abs(X).max(axis=0), 1.0)
    return np.all(np.abs(X - ref) <= 1e-12 * scale, axis=0)


def repeated_df(X, groups) -> np.ndarray:
    """Stata's repeated (between-within, Schluchter-Elashoff) DF per column of X.

    X: n x p fixed design (estimable columns, the constant included); groups: (n,) codes of the
    level-2 groups (two-level models only -- Stata refuses more levels, r(198)). A column that
    is constant within every group is a between-subject effect (the constant is one) and gets
    s - rank(X_b); any other column gets the within-subject DF n - s - (rank(X) - rank(X_b)),
    s the number of groups. (Stata's example `mixed score i.drug || person:, dfmethod(repeated)`,
    5 persons x 4 drugs: drug 12, _cons 4, avg 10.)
    """
    X = np.asarray(X, dtype=float)
    codes = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
    n, s = X.shape[0], int(codes.max()) + 1
    between = _constant_within(X, codes)
    rank_b = _rank(X[:, between])
    nu_b = s - rank_b
    nu_w = n - s - (_rank(X) - rank_b)
    return np.where(between, float(nu_b), float(nu_w))


@dataclass
class RandomTerm:
    """One random-effects term of one level, in Stata's order (highest level first; within an
    equation the covariates in order, then _cons).

    codes: (n,) group codes of the term's level (nested: unique across the higher levels);
    z: (n,) the covariate (ones for a random intercept);
    contains: the indices of the fixed-effects columns of the same variable (the constant's
    column for a random intercept), i.e. the fixed effects this term "contains".
    """

    codes: np.ndarray
    z: np.ndarray
    contains: tuple = ()


def anova_df(X, terms: list[RandomTerm]) -> np.ndarray:
    """Stata's ANOVA DF per column of X (containment).

    Stata's rule (help mixed): "the DF for a test of a fixed effect of a given variable depends
    on whether that variable is also included in any of the random-effects equations". Our
    reading, the containment method: a column no term contains gets n - rank([X Z]); a column
    contained in terms gets the smallest rank contribution of those terms to [X Z], each term
    added in order. Balanced one-way/randomized block designs give the classical ANOVA DFs
    (y i.trt || id: with 16 ids x 3 trts: trt 30, _cons 15).

    Cost: dense orthonormal bases of [X Z]: O(n rank([X Z])^2); meant for the moderate designs
    where this method is used.
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    basis = _orth(X)
    contrib = []
    for t in terms:
        Z = _term_matrix(t, n)
        new = _orth(Z - basis @ (basis.T @ Z))
        contrib.append(new.shape[1])
        basis = np.hstack([basis, new])
    df = np.full(X.shape[1], np.inf)
    for t, c in zip(terms, contrib):
        for j in t.contains:
            df[j] = min(df[j], c)
    return np.where(np.isinf(df), float(n - basis.shape[1]), df)


def _term_matrix(t: RandomTerm, n: int) -> np.ndarray:
    codes = np.unique(np.asarray(t.codes), return_inverse=True)[1].ravel()
    Z = np.zeros((n, int(codes.max()) + 1))
    Z[np.arange(n), codes] = np.asarray(t.z, dtype=float)
    return Z


def _orth(A: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of A (SVD, relative tolerance)."""
    if A.shape[1] == 0:
        return A
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    tol = max(s.max(initial=0.0), 1.0) * max(A.shape) * np.finfo(float).eps * 100
    return U[:, s > tol]


def exact_contrast_df(col_df, L) -> tuple[np.ndarray, float]:
    """(row DFs, F test DDF) of L under residual/repeated/anova: a row gets the common DF of
    the coefficients it involves, the F test the common DF of its rows; where they differ,
    nan -- Stata's "small-sample inference is not available" / missing DDF."""
    col_df = np.asarray(col_df, dtype=float)
    L = np.atleast_2d(np.asarray(L, dtype=float))
    rows = np.full(L.shape[0], np.nan)
    for i, row in enumerate(L):
        used = col_df[np.abs(row) > 0]
        if used.size and np.all(used == used[0]):
            rows[i] = used[0]
    ok = np.all(rows == rows[0]) and not np.isnan(rows[0])
    return rows, (float(rows[0]) if ok else float("nan"))
