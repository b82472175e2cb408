"""pca: principal components of a correlation (default) or covariance matrix, Stata 17's layout.

    pca varlist [if] [in] [weight] [, components(#) mineigen(#) correlation covariance blanks(#)]

Eigenvalues of the matrix with Stata's eigenvector signs (each vector sums to a positive
number); e(L) holds the unit-length eigenvectors of the retained components, e(Ev) all the
eigenvalues, e(Psi) the variance each variable keeps unexplained by the retained ones.
`rotate`, `predict` (component scores), `estat loadings`, `estat kmo`/`smc` and `screeplot`
work after it (commands.factor_post).
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands import factor_display as fd
from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.commands.factor import FactorState, moments, read_sample, rotation_title
from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, command
from hlmshell.results import EstimationResults


class _Fit:
    """pca's counterpart of engine.factor.FactorFit for the shared state (params unused)."""

    def __init__(self, f: int, p: int):
        self.n_params = p * f - f * (f - 1) // 2
        self.notes: list = []


def display_pca(session, res: EstimationResults, blanks: float = 0.0, norotated: bool = False) -> None:
    st: FactorState = res.model
    out = session.out
    rot = None if norotated else st.rotation
    ctype = "covariance" if st.extra.get("covariance") else "correlation"
    trace = float(st.ev.sum())
    out.line("")
    out.line(fd.header_line(f"Principal components/{ctype}", "Number of obs    ", f"{st.n:,}", 50, 10))
    out.line(fd.header_line("", "Number of comp.  ", str(st.f), 50, 10))
    out.line(fd.header_line("", "Trace            ", fmt_g(trace, 9), 50, 10))
    rtitle = "(unrotated = principal)" if rot is None else rotation_title(rot)
    out.line(fd.header_line(f"    Rotation: {rtitle}", "Rho              ", f"{res.scalars['rho']:.4f}", 50, 10))
    out.line("")
    names_all = [f"Comp{j + 1}" for j in range(len(st.ev))]
    if rot is None:
        fd.eigen_table(out, names_all, st.ev, trace, head="Component", g_format=True, namew=12)
        L, title = st.L[:, :st.f], "Principal components (eigenvectors)"
    else:
        W = rot.L
        var = np.diag(W.T @ st.C @ W)
        k = W.shape[1]
        if rot.klass == "orthogonal":
            fd.eigen_table(out, names_all[:k], var, trace, head="Component", what="Variance",
                           g_format=True, namew=12)
        else:
            fd.oblique_variance_table(out, names_all[:k], var, trace, head="Component", namew=12)
        L, title = W, "Rotated components"
    out.line("")
    out.line(title)
    out.line("")
    fd.matrix_table(out, st.names, st.factor_names(L.shape[1]), L, blanks=blanks,
                    tail=("Unexplained", unexplained(st, L), "unexpl"))
    if rot is not None:
        out.line("")
        out.line("Component rotation matrix")
        out.line("")
        fd.square_table(out, st.factor_names(L.shape[1]), rot.T)


def unexplained(st: FactorState, L: np.ndarray) -> np.ndarray:
    """Variance of each variable not explained by the retained components."""
    k = L.shape[1]
    lam = np.asarray(st.ev[:k], dtype=float)
    if st.rotation is not None and L is st.rotation.L:
        explained = np.einsum("ij,jk,ik->i", L, L.T @ st.C @ L, L)
    else:
        explained = (L ** 2 * lam).sum(1)
    v = np.diag(st.C) - explained
    return np.where(np.abs(v) < 1e-12 * np.abs(np.diag(st.C)).max(), 0.0, v)


def fit_pca(names, C, means, sds, n, opts) -> FactorState:
    from hlmshell.engine.factor import cov_to_corr, eigen_desc

    covariance = bool(opts.covariance)
    M = C if covariance else cov_to_corr(C)
    ev, V = eigen_desc(M)
    p = len(names)
    k = p if opts.components is None else opts.components
    if opts.mineigen is not None:
        k = min(k, int((ev > opts.mineigen).sum()))
    k = max(min(k, p), 0)
    st = FactorState("pca", list(names), cov_to_corr(C), M, np.asarray(means, float),
                     np.asarray(sds, float), int(n), "pca", V, np.zeros(p), ev, float(ev.sum()), k,
                     fit=_Fit(k, p), extra={"covariance": covariance})
    st.psi = unexplained(st, V[:, :k])
    return st


def post_pca(session, st: FactorState, sample, cmdline: str) -> None:
    p = len(st.names)
    fn = st.factor_names()
    rho = float(st.ev[:st.f].sum() / st.ev.sum())
    res = EstimationResults(cmd="pca", names=[], b=np.zeros(0), V=np.zeros((0, 0)),
                            omitted=np.zeros(0, dtype=bool), k_f=0, sample=sample, model=st)
    sign, logdet = np.linalg.slogdet(st.C)
    ev_pos = st.ev[st.ev > 0]
    res.scalars = {"N": float(st.n), "f": float(st.f), "rho": rho, "trace": float(st.ev.sum()),
                   "lndet": float(logdet) if sign > 0 else -math.inf,
                   "cond": float(math.sqrt(ev_pos.max() / ev_pos.min())) if len(ev_pos) else math.nan}
    res.macros = {"cmd": "pca", "cmdline": cmdline, "Ctype": "covariance" if st.extra["covariance"] else "correlation",
                  "title": "Principal components", "properties": "nob noV eigen",
                  "rotate_cmd": "pca_rotate", "estat_cmd": "pca_estat", "predict": "pca_p",
                  "marginsnotok": "_ALL"}
    res.matrices = {"C": NamedMatrix(st.C, st.names, st.names),
                    "means": NamedMatrix(st.means[None, :], ["mean"], st.names),
                    "sds": NamedMatrix(st.sds[None, :], ["sd"], st.names),
                    "Ev": NamedMatrix(st.ev[None, :], ["Ev"], [f"Comp{j + 1}" for j in range(p)]),
                    "L": NamedMatrix(st.L[:, :st.f], st.names, fn),
                    "Psi": NamedMatrix(st.psi[None, :], ["Psi"], st.names)}
    session.post_estimation(res)


@command("pca", byable=True, qualifiers="if in weight", weights="fweight aweight", body="varlist",
         changes_data=False, family="Multivariate", desc="principal component analysis",
         example="pca x1-x8, components(2)",
         options=(Opt("components", "comp", "int", None, "retain maximum of # principal components"),
                  Opt("factors", "fa", "int", None, "synonym for components()"),
                  Opt("mineigen", "mine", "real", None, "retain eigenvalues larger than #"),
                  Opt("correlation", "cor", desc="perform PCA of the correlation matrix; the default"),
                  Opt("covariance", "cov", desc="perform PCA of the covariance matrix"),
                  Opt("blanks", "bl", "real", 0.0, "display loadings as blanks when |loadings| < #"),
                  Opt("novce", desc="accepted for compatibility"),
                  Opt("norotated", "norot", desc="display unrotated results (replay only)")))
def pca_cmd(session, cmd):
    opts = typed_args(cmd)
    if not (cmd.body or "").strip():
        if cmd.if_ is not None or cmd.in_ is not None or cmd.weight is not None:
            raise StataError("varlist required", 100)
        res = session.e
        if res is None or res.cmd != "pca":
            raise StataError("last estimates not found", 301)
        display_pca(session, res, opts.blanks, opts.norotated)
        return
    if opts.norotated:
        raise StataError("option norotated not allowed", 198)
    if opts.correlation and opts.covariance:
        raise StataError("options correlation and covariance may not be combined", 198)
    if opts.factors is not None and opts.components is None:
        opts.given["components"] = opts.raw("factors")
    if opts.components is not None and opts.components < 1:
        raise StataError("components() must be a positive integer", 198)
    if opts.blanks < 0:
        raise StataError("blanks() must be nonnegative", 198)
    names = varlist(session, cmd.body, all_if_empty=False)
    X, w, wkind, mask = read_sample(session, cmd, names)
    C, mu, sds, N = moments(X, w, wkind)
    st = fit_pca(names, C, mu, sds, N, opts)
    post_pca(session, st, mask, cmd.text or "")
    display_pca(session, session.e, opts.blanks)
