"""`mixed ..., dfmethod(residual|repeated|anova|satterthwaite [, eim|oim]|kroger [, eim|oim])`
and `estat df`: small-sample inference for the fixed effects.

The option is checked as Stata's _xtmixed_estimate checks it (the messages are in
engine.small_sample's docstring); the degrees of freedom come from engine.small_sample on the
marginal model of the fit (engine.marginal.marginal_pieces). The results carry e(dfmethod),
e(dftitle), e(df) (one DF per fixed coefficient), e(F)/e(ddf_m) for the model test and, for
Kenward-Roger, e(V_df) (the adjusted covariance, whose standard errors the table shows)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlmshell import distributions as dist
from hlmshell.engine import marginal
from hlmshell.engine import small_sample as ss
from hlmshell.errors import StataError

METHODS = (("residual", 3), ("repeated", 3), ("anova", 3), ("satterthwaite", 4), ("kroger", 4))
TITLES = {"residual": "Residual", "repeated": "Repeated", "anova": "ANOVA",
          "satterthwaite": "Satterthwaite", "kroger": "Kenward-Roger"}


@dataclass
class DfRequest:
    method: str
    info: str = "eim"


@dataclass
class DfResult:
    """Per fixed coefficient (estimable columns) its DF, the covariance the table uses, and the
    model test F(df1, ddf)."""

    method: str
    info: str
    df: np.ndarray
    V: np.ndarray | None          # Kenward-Roger's adjusted covariance (None: e(V)'s)
    F: float | None
    df1: int
    ddf: float | None
    p: float | None


def _err(msg: str) -> StataError:
    return StataError(msg, 198)


def parse_dfmethod(text: str | None) -> DfRequest | None:
    if text is None:
        return None
    head, _, tail = text.partition(",")
    words = head.split()
    if not words:
        raise _err("option dfmethod() invalid")
    if len(words) > 1:
        raise _err("only one method is allowed in option dfmethod()")
    w = words[0].lower()
    method = next((full for full, k in METHODS if len(w) >= k and full.startswith(w)), None)
    if method is None:
        raise _err(f"invalid method {words[0]} in option dfmethod()")
    subs = [t.lower() for t in tail.split()]
    if any(t not in ("eim", "oim") for t in subs):
        raise _err(f"invalid method {tail.strip()} in option dfmethod()")
    if len(subs) > 1:
        raise _err("only one of eim or oim is allowed in option dfmethod()")
    if subs and method not in ("satterthwaite", "kroger"):
        raise _err(f"suboption {subs[0]} can only be specified when option dfmethod() "
                   "contains kroger or satterthwaite")
    return DfRequest(method, subs[0] if subs else "eim")


def check(req: DfRequest, *, reml: bool, robust: bool, blocks, n_fixed: int) -> None:
    """Stata's refusals, in its order."""
    if req.method in ("satterthwaite", "kroger") and not reml:
        raise _err(f"option dfmethod({req.method}) is allowed only with REML estimation")
    if robust:
        raise _err("option dfmethod() is not allowed with option vce(robust)")
    if n_fixed == 0:
        raise _err("option dfmethod() is not allowed for a model with no fixed effects")
    if not blocks and req.method != "residual":
        raise _err("model is linear regression;  option dfmethod(residual) should be used")
    if req.method == "repeated" and len({b.label for b in blocks}) > 1:
        raise _err("option dfmethod(repeated) is not available for models with more than two "
                   "levels")


def _test_rows(names: list[str]) -> np.ndarray:
    """The model test's L: every estimable coefficient but _cons."""
    idx = [i for i, nm in enumerate(names) if nm != "_cons"]
    L = np.zeros((len(idx), len(names)))
    L[np.arange(len(idx)), idx] = 1.0
    return L


def compute(req: DfRequest, y, X, blocks, fit, names: list[str]) -> DfResult:
    """DFs of the estimable coefficients (X's columns, named `names`) and the model test."""
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    L = _test_rows(names)
    b = np.asarray(fit.beta, dtype=float)
    V = None
    if req.method in ("satterthwaite", "kroger"):
        Xl, Vl, dVl, rl = marginal.marginal_pieces(y, X, blocks, fit)
        m = ss.MarginalModel(Xl, Vl, dVl, None, rl)
        pc = ss.precompute(m, info=req.info)
        cd = ss.coefficient_df(pc, req.method, info=req.info)
        df = np.asarray(cd.df, dtype=float)
        if req.method == "kroger":
            V = np.asarray(cd.vcov, dtype=float)
        F = df1 = ddf = None
        if len(L):
            test = (ss.satterthwaite if req.method == "satterthwaite" else ss.kenward_roger)(
                pc, L, info=req.info)
            F, df1, ddf = float(test.f_stat(b)), int(test.num_df), float(test.den_df)
    else:
        df = _exact_df(req.method, X, blocks, n)
        F = df1 = ddf = None
        if len(L):
            _, ddf = ss.exact_contrast_df(df, L)
            Lb = L @ b
            W = float(Lb @ np.linalg.solve(L @ fit.V_beta @ L.T, Lb))
            df1 = len(L)
            F = W / df1
    pval = None
    if F is not None and ddf is not None and np.isfinite(ddf):
        pval = float(dist.f_sf(F, df1, ddf))
    return DfResult(req.method, req.info, df, V, F, df1 or 0, ddf, pval)


def _exact_df(method: str, X, blocks, n: int) -> np.ndarray:
    if method == "residual":
        return np.full(X.shape[1], ss.residual_df(n, np.linalg.matrix_rank(X)))
    top = min(blocks, key=lambda b: b.depth)
    if method == "repeated":
        return ss.repeated_df(X, np.asarray(top.group))
    return ss.anova_df(X, _random_terms(X, blocks))


def _random_terms(X, blocks) -> list:
    """The random-effects terms for the ANOVA method, highest level first: each column of each
    equation, with the fixed columns of the same variable it contains (the constant's column for
    a random intercept)."""
    cons = [j for j in range(X.shape[1]) if np.all(X[:, j] == 1.0)]
    terms = []
    for b in sorted(blocks, key=lambda b: b.depth):
        Z = np.asarray(b.Z, dtype=float).reshape(len(b.group), -1)
        for j, nm in enumerate(b.names):
            if nm == "_cons":
                contains = tuple(cons)
            else:
                contains = tuple(k for k in range(X.shape[1]) if np.array_equal(X[:, k], Z[:, j]))
            terms.append(ss.RandomTerm(np.asarray(b.group), Z[:, j], contains))
    return terms


def post(res, dfr: DfResult, keep: np.ndarray, kf: int) -> None:
    """e() of dfmethod(): DF per coefficient (missing for omitted columns), the F test in place
    of the Wald chi2, Kenward-Roger's adjusted covariance."""
    df_full = np.full(kf, np.nan)
    df_full[keep] = dfr.df
    res.matrices["df"] = df_full[None, :]
    res.macros["dfmethod"] = dfr.method
    res.macros["dfinfo"] = dfr.info
    res.macros["dftitle"] = TITLES[dfr.method]
    res.scalars["small"] = 1.0
    for k in ("chi2",):
        res.scalars.pop(k, None)
    res.macros.pop("chi2type", None)
    if dfr.F is not None:
        res.scalars["F"] = dfr.F
        res.scalars["df_m"] = dfr.df1
        res.scalars["ddf_m"] = dfr.ddf if dfr.ddf is not None else float("nan")
        res.scalars["p"] = dfr.p if dfr.p is not None else float("nan")
    if dfr.V is not None:
        V = np.zeros((kf, kf))
        V[np.ix_(keep, keep)] = dfr.V
        res.matrices["V_df"] = V
    finite = dfr.df[np.isfinite(dfr.df)]
    if len(finite):
        res.scalars["df_min"] = float(finite.min())
        res.scalars["df_avg"] = float(finite.mean())
        res.scalars["df_max"] = float(finite.max())


def estat_df(session, res, opts, need_mixed) -> None:
    """estat df [, method(dfmethod)]: the degrees of freedom of the fixed effects, those of the
    fit's dfmethod() or of the method asked for (computed now on the stored fit); r(df)."""
    from hlmshell.commands.program import NamedMatrix
    from hlmshell.output.coeftable import df_table
    from hlmshell.results import RResults
    m = need_mixed(res)
    text = opts.raw("method")
    if text is None and not m.macros.get("dfmethod"):
        raise _err("option method() required: the fit has no dfmethod()")
    kf = m.k_f
    if text is None:
        df_full = np.asarray(m.matrices["df"], dtype=float).reshape(-1)
        method = m.macros["dfmethod"]
    else:
        req = parse_dfmethod(text)
        reml = m.macros.get("method") == "REML"
        if req.method in ("satterthwaite", "kroger") and not reml:
            raise _err(f"{TITLES[req.method]} DF method is available only with REML estimation")
        check(req, reml=reml, robust=m.robust, blocks=m.blocks, n_fixed=m.model.X.shape[1])
        keep = np.flatnonzero(~np.asarray(m.omitted[:kf], dtype=bool))
        names = [m.names[j][1] for j in keep]
        try:
            dfr = compute(req, m.model.y, m.model.X, m.blocks, m.model.fit, names)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            raise StataError("could not compute the degrees of freedom", 430) from None
        df_full = np.full(kf, np.nan)
        df_full[keep] = dfr.df
        method = req.method
    out = session.out
    out.line("")
    out.line(f"Degrees of freedom ({TITLES[method]})")
    out.line("")
    for line in df_table(m.depvar, m.fixed_groups(), df_full):
        out.line(line)
    cols = [f"{m.depvar}:{nm}" for _, nm in m.names[:kf]]
    session.r = RResults(matrices={"df": NamedMatrix(df_full[None, :], ["df"], cols)},
                         macros={"dfmethod": method, "dftitle": TITLES[method]})


def small_test(res, R: np.ndarray, r: np.ndarray) -> tuple[float, int, float, float]:
    """`test` after dfmethod(): H0: R b = r on the fixed part (R over all e(b)'s fixed
    columns). (F, numerator DF, denominator DF, Wald chi2 on e(V))."""
    m = res
    kf = m.k_f
    keep = np.flatnonzero(~np.asarray(m.omitted[:kf], dtype=bool))
    L = R[:, keep]
    b = np.asarray(m.b, dtype=float)[keep]
    V = np.asarray(m.V, dtype=float)[np.ix_(keep, keep)]
    d = L @ b - r
    chi2 = float(d @ np.linalg.solve(L @ V @ L.T, d))
    method = m.macros["dfmethod"]
    q = L.shape[0]
    if method in ("satterthwaite", "kroger"):
        info = m.macros.get("dfinfo", "eim")
        Xl, Vl, dVl, rl = marginal.marginal_pieces(m.model.y, m.model.X, m.blocks, m.model.fit)
        mm = ss.MarginalModel(Xl, Vl, dVl, None, rl)
        fn = ss.satterthwaite if method == "satterthwaite" else ss.kenward_roger
        t = fn(mm, L, info=info)
        return float(t.f_stat(m.model.fit.beta, r)), int(t.num_df), float(t.den_df), chi2
    col = np.asarray(m.matrices["df"], dtype=float).reshape(-1)[keep]
    if method == "residual":
        ddf = float(col[0])
    else:
        _, ddf = ss.exact_contrast_df(col, L)
    return chi2 / q, q, float(ddf), chi2
