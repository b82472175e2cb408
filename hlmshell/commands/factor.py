"""factor and factormat: exploratory factor analysis, Stata 17's layout and e() results.

    factor varlist [if] [in] [weight] [, pf|pcf|ipf|ml factors(#) mineigen(#) citerate(#)
                                         blanks(#) altdivisor norotated]
    factormat matname, n(#) [names(...) shape(full|lower|upper) sds() means() method options]

Survey do-files build attitude scales this way (`factor q31a-q31h, pcf`, then `rotate` and
`predict`). The numbers come from hlmshell.engine.factor; this module reads the data, posts
e(L), e(Psi), e(Ev), e(C), e(means), e(sds), e(Phi) and prints the eigenvalue and loading
tables. Typing `factor` alone replays the last results (rotated ones when `rotate` ran).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import factor_display as fd
from hlmshell.commands._toolkit import touse, typed_args, varlist, weights
from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, command
from hlmshell.results import EstimationResults

_METHODS = ("pf", "pcf", "ipf", "ml")
_MTITLE = {"pf": "principal factors", "pcf": "principal-component factors",
           "ipf": "iterated principal factors", "ml": "maximum likelihood"}


@dataclass
class FactorState:
    """What factor/pca leave behind for rotate, predict, estat and replay (e()'s model)."""

    kind: str                      # "factor" or "pca"
    names: list[str]
    R: np.ndarray                  # correlation matrix analysed
    C: np.ndarray                  # matrix shown as e(C) (covariance for pca, covariance)
    means: np.ndarray
    sds: np.ndarray
    n: int
    method: str
    L: np.ndarray                  # unrotated loadings (pca: eigenvectors)
    psi: np.ndarray
    ev: np.ndarray
    divisor: float
    f: int
    fit: object = None
    rotation: object = None
    from_matrix: bool = False
    extra: dict = field(default_factory=dict)

    def factor_names(self, k: int | None = None) -> list[str]:
        stem = "Factor" if self.kind == "factor" else "Comp"
        return [f"{stem}{j + 1}" for j in range(self.f if k is None else k)]


# ----------------------------------------------------------------------------- data
def moments(X: np.ndarray, w: np.ndarray | None, kind: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(covariance, means, sds, N) of the columns of X with Stata's weight conventions."""
    n = X.shape[0]
    if w is None:
        w = np.ones(n)
    elif kind == "aweight":
        w = w * n / w.sum()
    N = int(round(w.sum()))
    mu = (w[:, None] * X).sum(0) / w.sum()
    D = X - mu
    C = (w[:, None] * D).T @ D / (w.sum() - 1)
    return C, mu, np.sqrt(np.diag(C)), N


def read_sample(session, cmd, names: list[str]):
    """Numeric variables over the sample: (X, weights, weight kind, mask)."""
    ds = session.data
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    for nm in names:
        if ds.var(nm).is_string:
            raise StataError("type mismatch", 109)
    mask = touse(session, cmd, names)
    w = weights(session, cmd, mask, allowed=("fweight", "aweight"))
    if w is not None:
        mask = mask & ~np.isnan(w) & (w > 0)
    X = np.column_stack([ds.var(nm).values[mask].astype(float) for nm in names])
    if X.shape[0] == 0:
        raise StataError("no observations", 2000)
    if X.shape[0] <= 1:
        raise StataError("insufficient observations", 2001)
    sds = X.std(0)
    if np.any(sds == 0):
        bad = names[int(np.flatnonzero(sds == 0)[0])]
        raise StataError(f"{bad} has zero variance", 498)
    return X, (w[mask] if w is not None else None), (cmd.weight.kind if cmd.weight is not None else None), mask


# ----------------------------------------------------------------------------- fitting
def _method(opts) -> str:
    chosen = [m for m in _METHODS if getattr(opts, m)]
    if len(chosen) > 1:
        raise StataError(f"options {chosen[0]} and {chosen[1]} may not be combined", 198)
    return chosen[0] if chosen else "pf"


def extract(R: np.ndarray, n: int, method: str, opts) -> object:
    from hlmshell.engine import factor as fe

    p = len(R)
    factors = opts.factors
    if factors is not None and factors < 1:
        raise StataError("factors() must be a positive integer", 198)
    if opts.citerate is not None and method != "ipf":
        raise StataError("option citerate() allowed only with ipf", 198)
    if method != "pcf":
        try:
            fe.smc(R)
        except np.linalg.LinAlgError:
            raise StataError("correlation matrix is singular; variables are collinear", 506) from None
        if np.linalg.eigvalsh(R).min() <= 1e-12:
            raise StataError("correlation matrix is singular; variables are collinear", 506)
    if method != "ml":
        return fe.principal(R, method, factors, opts.mineigen, opts.citerate)
    kmax = fe.ml_max_factors(p)
    if kmax < 1:
        raise StataError("too few variables for maximum-likelihood factor analysis", 198)
    pf = fe.principal(R, "pf", None, opts.mineigen)
    k = min(factors if factors is not None else max(pf.f, 1), kmax)
    return fe.maximum_likelihood(R, n, k)


def build_state(names, C, means, sds, n, method, fit, from_matrix=False) -> FactorState:
    from hlmshell.engine.factor import cov_to_corr

    R = cov_to_corr(C)
    return FactorState("factor", list(names), R, R, np.asarray(means, float), np.asarray(sds, float),
                       int(n), method, fit.L, fit.psi, fit.ev, fit.divisor, fit.f, fit=fit,
                       from_matrix=from_matrix)


def post(session, st: FactorState, sample: np.ndarray | None, cmdline: str, wkind: str | None) -> None:
    from hlmshell.engine.factor import lr_independence

    p = len(st.names)
    fn = st.factor_names()
    chi2_i, df_i = lr_independence(st.R, st.n)
    res = EstimationResults(cmd="factor", names=[], b=np.zeros(0), V=np.zeros((0, 0)),
                            omitted=np.zeros(0, dtype=bool), k_f=0, sample=sample, model=st)
    sc = {"N": float(st.n), "f": float(st.f), "evsum": float(st.ev.sum()), "df_m": float(st.fit.n_params),
          "df_r": float(p * (p + 1) // 2 - st.fit.n_params), "chi2_i": chi2_i, "df_i": float(df_i),
          "p_i": float(dist.chi2_sf(chi2_i, df_i)) if chi2_i == chi2_i else math.nan}
    if st.method == "ml":
        fit = st.fit
        sc.update({"ll": fit.ll, "aic": -2 * fit.ll + 2 * fit.n_params,
                   "bic": -2 * fit.ll + fit.n_params * math.log(st.n), "chi2_1": fit.chi2_1,
                   "df_1": float(fit.df_1),
                   "p_1": float(dist.chi2_sf(fit.chi2_1, fit.df_1)) if fit.df_1 > 0 else math.nan})
    res.scalars = sc
    res.macros = {"cmd": "factor", "cmdline": cmdline, "method": st.method, "title": "Factor analysis",
                  "mtitle": _MTITLE[st.method], "properties": "nob noV eigen",
                  "rotate_cmd": "factor_rotate", "estat_cmd": "factor_estat", "predict": "factor_p",
                  "marginsnotok": "_ALL"}
    if wkind:
        res.macros["wtype"] = wkind
    res.matrices = {"sds": NamedMatrix(st.sds[None, :], ["sd"], st.names),
                    "means": NamedMatrix(st.means[None, :], ["mean"], st.names),
                    "C": NamedMatrix(st.R, st.names, st.names),
                    "Phi": NamedMatrix(np.eye(st.f), fn, fn),
                    "L": NamedMatrix(st.L, st.names, fn),
                    "Psi": NamedMatrix(st.psi[None, :], ["Psi"], st.names),
                    "Ev": NamedMatrix(st.ev[None, :], ["Ev"], [f"Factor{j + 1}" for j in range(len(st.ev))])}
    session.post_estimation(res)


# ----------------------------------------------------------------------------- display
def display(session, res: EstimationResults, blanks: float = 0.0, norotated: bool = False) -> None:
    st: FactorState = res.model
    out = session.out
    rot = None if norotated else st.rotation
    out.line("")
    out.line(fd.header_line("Factor analysis/correlation", "Number of obs    ", f"{st.n:,}"))
    out.line(fd.header_line(f"    Method: {_MTITLE[st.method]}", "Retained factors ", str(st.f)))
    rtitle = "(unrotated)" if rot is None else rotation_title(rot)
    out.line(fd.header_line(f"    Rotation: {rtitle}", "Number of params ", str(st.fit.n_params)))
    if st.method == "ml":
        out.line(fd.header_line("", "Schwarz's BIC    ", fmt_g(res.scalars["bic"], 9)))
        out.line(fd.header_line(f"    Log likelihood = {fmt_g(st.fit.ll, 9)}", "(Akaike's) AIC   ",
                                fmt_g(res.scalars["aic"], 9)))
    out.line("")
    if rot is None:
        shown = st.ev if st.method != "ml" else st.ev[:st.f]
        fd.eigen_table(out, [f"Factor{j + 1}" for j in range(len(shown))], shown, st.divisor)
    elif rot.klass == "orthogonal":
        fd.eigen_table(out, st.factor_names(rot.L.shape[1]), (rot.L ** 2).sum(0), st.divisor, what="Variance")
    else:
        fd.oblique_variance_table(out, st.factor_names(rot.L.shape[1]), (rot.L ** 2).sum(0), st.divisor)
    chi2_i, df_i = res.scalars["chi2_i"], int(res.scalars["df_i"])
    out.line(f"    LR test: independent vs. saturated:  {f'chi2({df_i})':<8} = {chi2_i:8.2f} Prob>chi2 = "
             f"{res.scalars['p_i']:6.4f}")
    if st.method == "ml" and st.fit.df_1 > 0:
        lab = f"{st.f} factor{'s' if st.f > 1 else ''} vs. saturated:"
        out.line(f"    LR test: {lab:>26}  {f'chi2({st.fit.df_1})':<8} = {st.fit.chi2_1:8.2f} Prob>chi2 = "
                 f"{res.scalars['p_1']:6.4f}")
    for note in st.fit.notes:
        out.line(f"    Beware: solution is a {note.replace(' encountered', '')}")
    out.line("")
    if st.f == 0:
        out.line("no factors retained")
        return
    L = st.L if rot is None else rot.L
    title = "Factor loadings (pattern matrix) and unique variances"
    out.line(title if rot is None else "Rotated " + title[0].lower() + title[1:])
    out.line("")
    fd.matrix_table(out, st.names, st.factor_names(L.shape[1]), L, blanks=blanks,
                    tail=("Uniqueness", st.psi, "uniq"))
    if rot is not None:
        out.line("")
        out.line("Factor rotation matrix")
        out.line("")
        fd.square_table(out, st.factor_names(L.shape[1]), rot.T)


def rotation_title(rot) -> str:
    kaiser = "Kaiser on" if rot.normalize else "Kaiser off"
    crit = rot.criterion if rot.criterion != "promax" else f"promax({fmt_g(rot.power, 9)})"
    if rot.criterion == "oblimin":
        crit = f"oblimin({fmt_g(rot.gamma, 9)})"
    return f"{rot.klass} {crit} ({kaiser})"


_OPTS = (Opt("pf", desc="principal factor; the default"),
         Opt("pcf", desc="principal-component factor"),
         Opt("ipf", "ip", desc="iterated principal factor"),
         Opt("ml", desc="maximum-likelihood factor"),
         Opt("factors", "fa", "int", None, "maximum number of factors to be retained"),
         Opt("mineigen", "mine", "real", None, "minimum value of eigenvalues to be retained"),
         Opt("citerate", "cit", "int", None, "communality reestimation iterations (ipf only)"),
         Opt("blanks", "bl", "real", 0.0, "display loadings as blanks when |loadings| < #"),
         Opt("altdivisor", "altdiv", desc="use trace of correlation matrix as the divisor for proportions"),
         Opt("norotated", "norot", desc="display the unrotated solution (replay only)"),
         Opt("protect", "pr", "int", None, "accepted for compatibility (ml only)"),
         Opt("random", "r", desc="accepted for compatibility (ml only)"),
         Opt("seed", "seed", "string", None, "accepted for compatibility (ml only)"))


def _replay(session, opts) -> None:
    res = session.e
    if res is None or res.cmd != "factor":
        raise StataError("last estimates not found", 301)
    display(session, res, opts.blanks, opts.norotated)


def run_factor(session, names, C, means, sds, n, opts, *, sample, cmdline, wkind, from_matrix=False) -> None:
    from hlmshell.engine.factor import cov_to_corr

    method = _method(opts)
    if opts.blanks < 0:
        raise StataError("blanks() must be nonnegative", 198)
    R = cov_to_corr(C)
    fit = extract(R, n, method, opts)
    if opts.altdivisor:
        fit.divisor = float(np.trace(R))
    st = build_state(names, C, means, sds, n, method, fit, from_matrix=from_matrix)
    post(session, st, sample, cmdline, wkind)
    display(session, session.e, opts.blanks)


@command("factor", abbrev="fac", byable=True, qualifiers="if in weight", weights="fweight aweight",
         body="varlist", changes_data=False, family="Multivariate",
         desc="factor analysis (principal, iterated principal, principal-component, ML factors)",
         example="factor q1-q8, pcf", options=_OPTS)
def factor_cmd(session, cmd):
    opts = typed_args(cmd)
    if not (cmd.body or "").strip():
        if cmd.if_ is not None or cmd.in_ is not None or cmd.weight is not None:
            raise StataError("varlist required", 100)
        _replay(session, opts)
        return
    if opts.norotated:
        raise StataError("option norotated not allowed", 198)
    names = varlist(session, cmd.body, all_if_empty=False)
    X, w, wkind, mask = read_sample(session, cmd, names)
    C, mu, sds, N = moments(X, w, wkind)
    run_factor(session, names, C, mu, sds, N, opts, sample=mask, cmdline=cmd.text or "",
               wkind=wkind)


# ----------------------------------------------------------------------------- factormat
def matrix_from_session(session, matname: str, shape: str, names_opt: list[str] | None) -> tuple[np.ndarray, list[str]]:
    """A square (or triangular-vector) matrix of the user's, as a full symmetric matrix."""
    from hlmshell.syntax import matrix_expr as mx

    m = mx.lookup(session, matname)
    V = np.asarray(m.values, dtype=float)
    if shape == "full":
        if V.shape[0] != V.shape[1]:
            raise StataError(f"{matname} not square", 505)
        if not np.allclose(V, V.T, atol=1e-10):
            raise StataError(f"{matname} not symmetric", 505)
        names = names_opt or [str(c).split(":")[-1] for c in m.cols]
        if len(names) != V.shape[0]:
            raise StataError("names() has the wrong number of names", 198)
        return V, names
    vec = V.ravel()
    p = int((math.isqrt(8 * len(vec) + 1) - 1) // 2)
    if p * (p + 1) // 2 != len(vec) or min(V.shape) != 1:
        raise StataError(f"{matname} is not a vector of a triangular matrix", 503)
    if not names_opt or len(names_opt) != p:
        raise StataError("names() required with shape(lower) or shape(upper), one name per variable", 198)
    M = np.zeros((p, p))
    idx = np.tril_indices(p) if shape == "lower" else np.triu_indices(p)
    M[idx] = vec
    M = M + M.T - np.diag(np.diag(M))
    return M, names_opt


@command("factormat", byable=False, qualifiers="", body="anything", changes_data=False,
         family="Multivariate", desc="factor analysis of a correlation or covariance matrix",
         example="factormat R, n(500) factors(2)",
         options=_OPTS + (Opt("n", "n", "int", None, "number of observations (required)"),
                          Opt("names", "names", "string", None, "variable names"),
                          Opt("shape", "shape", "string", "full", "full, lower or upper"),
                          Opt("sds", "sds", "string", None, "matrix of standard deviations"),
                          Opt("means", "means", "string", None, "matrix of means"),
                          Opt("forcepsd", "forcepsd", desc="accepted for compatibility")))
def factormat_cmd(session, cmd):
    opts = typed_args(cmd)
    words = (cmd.body or "").split()
    if len(words) != 1:
        raise StataError("invalid syntax", 198)
    if opts.n is None:
        raise StataError("option n() required", 198)
    if opts.n < 1:
        raise StataError("n() must be a positive integer", 198)
    shape = (opts.shape or "full").strip().lower()
    if shape not in ("full", "lower", "upper"):
        raise StataError("option shape() invalid", 198)
    C, names = matrix_from_session(session, words[0], shape, opts.names.split() if opts.names else None)
    p = len(names)
    if np.any(np.diag(C) <= 0):
        raise StataError("matrix has nonpositive diagonal elements", 506)
    sds = _vec_option(session, opts.sds, p, np.sqrt(np.diag(C)) if not np.allclose(np.diag(C), 1) else np.ones(p))
    means = _vec_option(session, opts.means, p, np.zeros(p))
    run_factor(session, names, C, means, sds, opts.n, opts, sample=None,
               cmdline=cmd.text or "", wkind=None, from_matrix=True)


def _vec_option(session, name: str | None, p: int, default: np.ndarray) -> np.ndarray:
    if not name:
        return default
    from hlmshell.syntax import matrix_expr as mx

    v = np.asarray(mx.lookup(session, name.strip()).values, dtype=float).ravel()
    if len(v) != p:
        raise StataError(f"{name} has the wrong dimensions", 503)
    return v
