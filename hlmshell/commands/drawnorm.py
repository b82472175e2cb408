"""drawnorm and corr2data: multivariate normal data for simulations (correlated random effects
of a multilevel model are drawn this way in course handouts).

    drawnorm newvarlist [, clear double n(#) means(vector) sds(vector) corr(matrix|vector)
                          cov(matrix|vector) cstorage(full|lower|upper) forcepsd seed(#)]
    corr2data newvarlist [, same options]

A vector is a matrix name or numbers (`means(2,3)`); a matrix is a matrix name, or with
cstorage(lower|upper) a vector of the triangle. drawnorm draws X = mu + Z A' with A a square
root of the covariance (Cholesky, or the eigen root when it is only semidefinite) and Z iid
standard normal from the session's generator; corr2data transforms its draws so that the
sample means, standard deviations and correlations (N - 1 divisor, as `correlate` and
`summarize` report) are exactly the ones asked for.
Without n(), or with n() equal to _N, the variables are added to the data; another n()
replaces the data (r(4) on unsaved changes without clear).
"""
from __future__ import annotations

import re

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import typed_args
from hlmshell.commands.files import check_can_replace_data
from hlmshell.commands.simulate import set_seed
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command

_OPTIONS = (Opt("clear", desc="replace the data in memory"),
            Opt("double", desc="generate double variables (default float)"),
            Opt("n", "n", "int", None, "number of observations"),
            Opt("means", "m", "string", None, "means (vector)"),
            Opt("sds", "sd", "string", None, "standard deviations (vector)"),
            Opt("corr", "corr", "string", None, "correlation matrix"),
            Opt("cov", "cov", "string", None, "covariance matrix"),
            Opt("cstorage", "cs", "string", None, "full, lower or upper"),
            Opt("forcepsd", "force", desc="make the matrix positive semidefinite"),
            Opt("seed", "seed", "string", None, "seed of the random-number generator"))


def _numbers(session, text: str, what: str) -> np.ndarray:
    """A matrix name (its values, row-major) or numbers separated by commas/blanks."""
    t = text.strip()
    if re.fullmatch(r"[A-Za-z_]\w*|[er]\(\s*\w+\s*\)", t):
        from hlmshell.syntax import matrix_expr as mx
        return np.asarray(mx.lookup(session, t).values, dtype=float)
    parts = [p for p in re.split(r"[,\s\\]+", t.strip("() ")) if p]
    try:
        return np.array([float(p) for p in parts], dtype=float)
    except ValueError:
        raise StataError(f"{what}() invalid", 198) from None


def _vector(session, text: str | None, k: int, default: float, what: str) -> np.ndarray:
    if text is None:
        return np.full(k, default)
    v = _numbers(session, text, what).ravel()
    if v.size == 1:
        return np.full(k, float(v[0]))
    if v.size != k:
        raise StataError(f"{what}() must have {k} elements", 503)
    return v


def _triangle(v: np.ndarray, k: int, storage: str) -> np.ndarray:
    if v.size != k * (k + 1) // 2:
        raise StataError(f"vector must have {k * (k + 1) // 2} elements", 503)
    M = np.zeros((k, k))
    rows, cols = np.tril_indices(k) if storage == "lower" else np.triu_indices(k)
    M[rows, cols] = v
    return M + (np.tril(M, -1).T if storage == "lower" else np.triu(M, 1).T)


def _square(session, text: str, k: int, storage: str, what: str) -> np.ndarray:
    vals = _numbers(session, text, what)
    if storage in ("lower", "upper"):
        return _triangle(vals.ravel(), k, storage)
    if vals.ndim == 1:
        if vals.size != k * k:
            raise StataError(f"{what}() must be {k} x {k}", 503)
        vals = vals.reshape(k, k)
    if vals.shape != (k, k):
        raise StataError(f"{what}() must be {k} x {k}", 503)
    if not np.allclose(vals, vals.T, rtol=1e-10, atol=1e-12):
        raise StataError(f"{what}() not symmetric", 505)
    return vals


def _covariance(session, opts, k: int) -> np.ndarray:
    storage = (opts.cstorage or "full").strip().lower()
    if storage not in ("full", "lower", "upper"):
        raise StataError("cstorage() must be full, lower, or upper", 198)
    if opts.corr is not None and opts.cov is not None:
        raise StataError("specify either corr() or cov(), not both", 198)
    if opts.cov is not None:
        if opts.sds is not None:
            raise StataError("sds() and cov() are mutually exclusive", 198)
        return _square(session, opts.cov, k, storage, "cov")
    sd = _vector(session, opts.sds, k, 1.0, "sds")
    if np.any(sd < 0):
        raise StataError("sds() must be nonnegative", 498)
    R = np.eye(k) if opts.corr is None else _square(session, opts.corr, k, storage, "corr")
    if opts.corr is not None and (not np.allclose(np.diag(R), 1.0) or np.any(np.abs(R) > 1 + 1e-12)):
        raise StataError("corr() is not a correlation matrix", 498)
    return R * np.outer(sd, sd)


def _root(S: np.ndarray, force: bool) -> np.ndarray:
    """A with A A' = S: Cholesky when S is positive definite, else the eigen root of a
    semidefinite S (negative eigenvalues: r(506) unless forcepsd sets them to zero)."""
    try:
        return np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        pass
    w, U = np.linalg.eigh(S)
    tol = 1e-10 * max(1.0, float(np.max(np.abs(w))))
    if np.any(w < -tol) and not force:
        raise StataError("matrix not positive semidefinite", 506)
    return U * np.sqrt(np.clip(w, 0.0, None))


def _exact(Z: np.ndarray) -> np.ndarray:
    """Columns with sample mean 0 and sample covariance I (N - 1 divisor)."""
    Zc = Z - Z.mean(axis=0)
    C = Zc.T @ Zc / (Z.shape[0] - 1)
    L = np.linalg.cholesky(C)
    return np.linalg.solve(L, Zc.T).T


def _size(session, opts, names: list[str], exact: bool) -> tuple[int, bool]:
    """(observations, whether the data are replaced), with Stata's refusals."""
    n_now = session.data.n
    if opts.n is None and n_now == 0:
        raise StataError("no observations", 2000)
    n = n_now if opts.n is None else opts.n
    if n < 1:
        raise StataError("n() must be positive", 198)
    if exact and n < len(names) + 1:
        raise StataError("insufficient observations", 2001)
    replace_data = opts.n is not None and n != n_now and bool(session.data.names)
    if replace_data:
        check_can_replace_data(session, bool(opts.clear))
    else:
        for nm in names:
            g.check_newname(session, nm)
    for nm in names:
        if names.count(nm) > 1:
            raise StataError(f"{nm} mentioned more than once", 198)
    return n, replace_data


def _run(session, cmd, exact: bool) -> None:
    opts = typed_args(cmd)
    names = (cmd.body or "").split()
    if not names:
        raise StataError("varlist required", 100)
    n_now = session.data.n
    n, replace_data = _size(session, opts, names, exact)
    k = len(names)
    S = _covariance(session, opts, k)
    mu = _vector(session, opts.means, k, 0.0, "means")
    A = _root(S, bool(opts.forcepsd))
    set_seed(session, opts.seed)
    Z = session.rng.standard_normal((n, k))
    if exact:
        Z = _exact(Z)
    X = mu + Z @ A.T
    vtype = "double" if opts.double else "float"
    ds = Dataset() if (replace_data or not session.data.names) else session.data
    if ds is not session.data:
        session.data = ds
    for j, nm in enumerate(names):
        ds.add(Variable(nm, g.store(X[:, j], vtype), vtype))
    if replace_data or opts.n is not None and n_now == 0:
        session.out.line(f"(obs {n:,})")


@command("drawnorm", byable=False, qualifiers="", body="anything", changes_data=True,
         family="Data management", desc="draw a sample from a multivariate normal distribution",
         example="drawnorm u0 u1, n(100) corr(C) sds(2 1)", options=_OPTIONS)
def drawnorm_cmd(session, cmd):
    _run(session, cmd, exact=False)


@command("corr2data", byable=False, qualifiers="", body="anything", changes_data=True,
         family="Data management", desc="create data with exactly the given means and correlations",
         example="corr2data x y, n(100) corr(C)", options=_OPTIONS)
def corr2data_cmd(session, cmd):
    _run(session, cmd, exact=True)
