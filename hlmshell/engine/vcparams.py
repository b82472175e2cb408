"""Covariance structures of one random-effects block, in the two metrics the engine needs.

Optimiser metric: the relative factor Lambda (Psi/sigma^2 = Lambda Lambda'), linear in the
parameter vector so its gradient is a plain projection, and free of constraints so the optimiser
can walk up to a singular (boundary) covariance as Stata's matrix-square-root metric does.

Stata metric (what e(b) shows): log standard deviations, atanh correlations, per Stata's names
lns<depth>_<k>_<j> / atr<depth>_<k>_<i>_<j>.
"""
from __future__ import annotations

import numpy as np

CMAX = 1.0 - 1e-15   # keeps atanh(corr) finite when a factor is exactly singular

# the covariance structures `mixed` fits (their titles are hlmshell.output.mixed_output's)
STRUCTURES = ("identity", "independent", "exchangeable", "unstructured")


def normalize_structure(cov: str, q: int) -> str:
    c = (cov or "").lower()
    for full in STRUCTURES:
        if c and full.startswith(c[:2]) and full.startswith(c):
            c = full
            break
    if c not in STRUCTURES:
        raise ValueError(f"unknown covariance structure {cov!r}")
    if q == 1 and c != "identity":
        # one random effect: every structure is the identity one (Stata labels it Identity)
        return "identity"
    return c


class Structure:
    """Parametrisation of one block: Lambda = sum_j theta_j * basis[j]."""

    def __init__(self, kind: str, q: int):
        self.kind = kind
        self.q = q
        basis = []
        if kind == "identity":
            # compact: Lambda = theta I_q is passed to the engine as the 1 x 1 [[theta]] (engine.
            # blocked reads a 1 x 1 factor as lambda I and returns the trace as its gradient), so
            # an `R.var` block with 10^4 levels never builds a 10^4 x 10^4 matrix
            basis.append(np.eye(1))
        elif kind == "independent":
            for i in range(q):
                e = np.zeros((q, q))
                e[i, i] = 1.0
                basis.append(e)
        elif kind == "exchangeable":
            j = np.full((q, q), 1.0 / q)
            basis.append(np.eye(q) - j)   # alpha: eigenvalue on contrasts
            basis.append(j)               # beta: eigenvalue on the mean direction
        elif kind == "unstructured":
            for i in range(q):
                for k in range(i + 1):
                    e = np.zeros((q, q))
                    e[i, k] = 1.0
                    basis.append(e)
        else:
            raise ValueError(kind)
        self.basis = np.array(basis)              # (m, q, q)
        self.m = len(basis)

    # ---- optimiser metric -------------------------------------------------------------
    def lam(self, theta: np.ndarray) -> np.ndarray:
        return np.tensordot(theta, self.basis, axes=1)

    def theta_grad(self, lam_bar: np.ndarray) -> np.ndarray:
        return np.tensordot(self.basis, lam_bar, axes=([1, 2], [0, 1]))

    def theta_of(self, lam: np.ndarray) -> np.ndarray:
        """Parameters of a factor that lies in the structure's span (the basis matrices are
        orthogonal in the Frobenius inner product, so each one's coefficient is a projection).
        Used to carry a factor across a rescaling of Z, which keeps it in the span."""
        norms = np.einsum("kij,kij->k", self.basis, self.basis)
        return np.tensordot(self.basis, lam, axes=([1, 2], [0, 1])) / norms

    @property
    def dim(self) -> int:
        """The side of the factor lam() returns: 1 for the compact identity, else q."""
        return 1 if self.kind == "identity" else self.q

    def start(self, scale: float = 1.0) -> np.ndarray:
        if self.kind in ("exchangeable", "identity"):
            return np.array([scale] * self.m)
        return self.theta_from_relcov(np.eye(self.q) * scale * scale)

    def theta_from_relcov(self, psi: np.ndarray) -> np.ndarray:
        """Lambda parameters reproducing the relative covariance psi (must fit the structure)."""
        q = self.q
        if self.kind == "identity":
            return np.array([np.sqrt(max(psi[0, 0], 0.0))])
        if self.kind == "independent":
            return np.sqrt(np.maximum(np.diag(psi), 0.0))
        if self.kind == "exchangeable":
            v = psi[0, 0]
            c = psi[0, 1] if q > 1 else 0.0
            a2 = v - c                       # eigenvalue on contrasts
            b2 = v + (q - 1) * c             # eigenvalue on the mean direction
            if a2 < 0 or b2 < 0:
                raise np.linalg.LinAlgError("not positive semidefinite")
            return np.array([np.sqrt(a2), np.sqrt(b2)])
        lam = np.linalg.cholesky(psi)
        return np.array([lam[i, k] for i in range(q) for k in range(i + 1)])

    # ---- Stata metric -----------------------------------------------------------------
    def stata_names(self, depth: int, k: int) -> list[str]:
        q = self.q
        if self.kind == "identity":
            return [f"lns{depth}_{k}_1"]
        if self.kind == "independent":
            return [f"lns{depth}_{k}_{j + 1}" for j in range(q)]
        if self.kind == "exchangeable":
            return [f"lns{depth}_{k}_1", f"atr{depth}_{k}_1_1"]
        names = [f"lns{depth}_{k}_{j + 1}" for j in range(q)]
        names += [f"atr{depth}_{k}_{i + 1}_{j + 1}" for i in range(q) for j in range(i + 1, q)]
        return names

    def stata_shift(self, log_c: float, log_d: np.ndarray) -> np.ndarray:
        """Change of the Stata-metric parameters when the covariance becomes
        c^2 D^-1 Psi D^-1 (outcome scaled by c, Z column j by d_j > 0): every ln sd_j moves by
        log c - log d_j, correlations stay (identity/exchangeable blocks have one common d)."""
        q = self.q
        lns = log_c - np.asarray(log_d, dtype=float).reshape(q)
        if self.kind == "identity":
            return lns[:1]
        if self.kind == "independent":
            return lns
        if self.kind == "exchangeable":
            return np.array([lns[0], 0.0])
        return np.concatenate([lns, np.zeros(q * (q - 1) // 2)])

    def stata_from_cov(self, psi: np.ndarray) -> np.ndarray:
        """Absolute covariance -> ln sd / atanh corr parameters."""
        q = self.q
        sd = np.sqrt(np.diag(psi))
        with np.errstate(divide="ignore", invalid="ignore"):
            lns = np.log(sd)
            if self.kind == "identity":
                return np.array([lns[0]])
            if self.kind == "independent":
                return lns
            corr = psi / np.outer(sd, sd)
            if self.kind == "exchangeable":
                return np.array([lns[0], np.arctanh(np.clip(corr[0, 1], -CMAX, CMAX))])
            atr = [np.arctanh(np.clip(corr[i, j], -CMAX, CMAX)) for i in range(q) for j in range(i + 1, q)]
        return np.concatenate([lns, atr])

    def cov_from_stata(self, s: np.ndarray):
        """ln sd / atanh corr -> (absolute covariance, list of d cov / d s_j)."""
        q = self.q
        if self.kind == "identity":                  # compact, as lam(): v I_q as [[v]]
            v = np.exp(2 * s[0])
            psi = np.array([[v]])
            return psi, [2 * psi]
        if self.kind == "independent":
            v = np.exp(2 * s)
            psi = np.diag(v)
            jac = []
            for i in range(q):
                d = np.zeros((q, q))
                d[i, i] = 2 * v[i]
                jac.append(d)
            return psi, jac
        if self.kind == "exchangeable":
            v = np.exp(2 * s[0])
            r = np.tanh(s[1])
            off = np.ones((q, q)) - np.eye(q)
            psi = v * (np.eye(q) + r * off)
            return psi, [2 * psi, v * (1 - r * r) * off]
        sd = np.exp(s[:q])
        corr = np.eye(q)
        pairs = [(i, j) for i in range(q) for j in range(i + 1, q)]
        for (i, j), a in zip(pairs, s[q:]):
            corr[i, j] = corr[j, i] = np.tanh(a)
        psi = corr * np.outer(sd, sd)
        jac = []
        for i in range(q):
            d = np.zeros((q, q))
            d[i, :] += psi[i, :]
            d[:, i] += psi[:, i]
            jac.append(d)
        for (i, j) in pairs:
            d = np.zeros((q, q))
            d[i, j] = d[j, i] = sd[i] * sd[j] * (1 - corr[i, j] ** 2)
            jac.append(d)
        return psi, jac
