"""reghdfe (SSC's, built in): linear regression absorbing several sets of fixed effects.

`reghdfe y x, absorb(fe1 fe2 fe1#fe2 i.g##c.z new=fe) vce(robust|cluster c)`: the depvar and
regressors are swept free of the absorbed terms by alternating projections
(engine.hdfe.demean, tolerance 1e-8) after singleton groups are dropped, the slopes are OLS on
the swept columns, and the constant is reported as reghdfe 6 does (the means added back:
_cons = mean(y) - mean(x)'b, with its variance from the regression on the re-centred columns).
Degrees of freedom: df_r = N - K - e(df_a), e(df_a) from reghdfe's table of absorbed degrees of
freedom (engine.hdfe.absorbed_dof); robust VCE scaled by N/df_r, cluster VCE by
(N-1)/df_r * G/(G-1) with t tests on G-1 (reghdfe's small-sample factors).
Without absorb() (or with noabsorb) only the constant is absorbed.
predict: xb (with _cons), and with the resid option residuals and d (the sum of the fixed
effects); `new=fe` in absorb() saves that term's fixed effect.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _fixed_groups, _resolve_fixed_part, _split_spec
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.engine import hdfe
from hlmshell.errors import StataError
from hlmshell.output.coeftable import cluster_note, coef_table
from hlmshell.output.numfmt import fmt, fmt_count
from hlmshell.output.text import abbrev
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results.regress import RegressResults
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.varlist import expand_varlist


@dataclass
class AbsSpec:
    """One absvar as typed: its factor variables, slope variable, and saved name."""
    factors: list[str]
    slope: str | None = None
    intercept: bool = True
    save: str | None = None

    @property
    def label(self) -> str:
        return "#".join(self.factors)


@dataclass
class HdfeRequest:
    absvars: list[AbsSpec] = field(default_factory=list)
    vce: str = "unadjusted"
    clustvars: list[str] = field(default_factory=list)
    keepsingletons: bool = False
    resid: str | None = None
    level: float = 95.0
    tol: float = 1e-8


_PART = re.compile(r"^(?:(i)\.)?([A-Za-z_]\w*)$")
_SLOPE = re.compile(r"^c\.([A-Za-z_]\w*)$")


def _one_name(ds, text: str) -> str:
    names = expand_varlist(ds, text)
    if len(names) != 1:
        raise StataError("invalid absvar", 198)
    return names[0]


def _absvar(ds, token: str) -> AbsSpec:
    save = None
    if "=" in token:
        save, token = token.split("=", 1)
        if not re.fullmatch(r"[A-Za-z_]\w*", save) or not token:
            raise StataError("invalid syntax", 198)
        if save in ds:
            raise StataError(f"variable {save} already defined", 110)
    parts = re.split(r"(##|#)", token)
    factors, slope, intercept = [], None, True
    for k in range(0, len(parts), 2):
        p, sep = parts[k], (parts[k - 1] if k else "#")
        m = _SLOPE.match(p)
        if m:
            if slope is not None or k == 0 or k != len(parts) - 1:
                raise StataError("invalid absvar", 198)
            slope, intercept = _one_name(ds, m.group(1)), sep == "##"
            continue
        m = _PART.match(p)
        if m is None or sep == "##":
            raise StataError(f"{token}: invalid absvar", 198)
        factors.append(_one_name(ds, m.group(2)))
    if not factors:
        raise StataError("invalid absvar", 198)
    return AbsSpec(factors, slope, intercept, save)


def _absorb(ds, text: str | None) -> list[AbsSpec]:
    """The absvars; the savefe suboption names every unnamed term __hdfe#__ (reghdfe's names)."""
    body, _, sub = (text or "").partition(",")
    savefe = False
    for w in sub.split():
        if w.lower() not in ("savefe", "save", "savef"):
            raise StataError(f"option {w} not allowed", 198)
        savefe = True
    specs = [_absvar(ds, tok) for tok in body.split()]
    if savefe:
        for k, a in enumerate(specs):
            if a.save is None:
                a.save = f"__hdfe{k + 1}__"
                if a.save in ds:
                    raise StataError(f"variable {a.save} already defined", 110)
    return specs


def _vce(ds, opts, req: HdfeRequest) -> None:
    words = (opts.raw("vce") or "").replace(",", " ").split()
    if opts.robust:
        words = words or ["robust"]
    if opts.raw("cluster"):
        words = ["cluster"] + opts.raw("cluster").split()
    if not words:
        return
    kind = words[0].lower()
    if kind in ("unadjusted", "unadj", "un", "ols"):
        req.vce = "unadjusted"
    elif kind in ("robust", "r", "rob", "hc1"):
        req.vce = "robust"
    elif "cluster".startswith(kind) and len(kind) >= 2:
        if len(words) < 2:
            raise StataError("option vce() incorrectly specified", 198)
        req.vce = "cluster"
        req.clustvars = [_one_name(ds, w) for w in words[1:]]
        if len(req.clustvars) > 1:
            raise StataError("multi-way clustering is not available in hlmshell's reghdfe", 198)
    else:
        raise StataError("vcetype '" + kind + "' not allowed", 198)


def _request(session, opts) -> HdfeRequest:
    ds = session.data
    req = HdfeRequest(level=confidence_level(session, opts))
    if opts.raw("absorb") and opts.noabsorb:
        raise StataError("absorb() and noabsorb are mutually exclusive", 198)
    req.absvars = _absorb(ds, opts.raw("absorb"))
    _vce(ds, opts, req)
    req.keepsingletons = bool(opts.keepsingletons)
    if "residuals" in opts or opts.resid:
        name = (opts.raw("residuals") or "").strip() or "_reghdfe_resid"
        if name in ds and name != "_reghdfe_resid":
            raise StataError(f"variable {name} already defined", 110)
        req.resid = name
    if opts.tolerance is not None:
        req.tol = float(opts.tolerance)
    return req


def _codes(ds, names: list[str], mask: np.ndarray) -> np.ndarray:
    """Group codes 0..G-1 of the combination of `names` on the sample."""
    cols = []
    for nm in names:
        v = ds.var(nm)
        vals = np.asarray(v.values)[mask]
        cols.append(hdfe.recode(vals.astype(str) if v.is_string else vals.astype(float)))
    if len(cols) == 1:
        return cols[0]
    key = np.stack(cols, axis=1)
    _, inv = np.unique(key, axis=0, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def _terms(ds, req: HdfeRequest, mask: np.ndarray) -> list[hdfe.AbsorbTerm]:
    out = []
    for a in req.absvars:
        z = np.asarray(ds.var(a.slope).values, dtype=float)[mask] if a.slope else None
        out.append(hdfe.AbsorbTerm(a.label, _codes(ds, a.factors, mask), z, a.intercept, a.slope or ""))
    return out


def _sample(session, cmd, req: HdfeRequest, depvar: str, fvars: list[str]) -> tuple[np.ndarray, int]:
    """e(sample) after singletons are dropped, and how many were dropped."""
    absnames = [v for a in req.absvars for v in a.factors + ([a.slope] if a.slope else [])]
    mask = marksample(session, cmd, [depvar] + [v for v in fvars if v != depvar])
    mask &= marksample(session, None, absnames + req.clustvars, strok=True)
    if not mask.any():
        raise StataError("no observations", 2000)
    if req.keepsingletons or not any(a.intercept for a in req.absvars):
        return mask, 0
    idx = np.flatnonzero(mask)
    codes = [_codes(session.data, a.factors, mask) for a in req.absvars if a.intercept]
    keep = hdfe.singletons(codes)
    dropped = int((~keep).sum())
    mask = mask.copy()
    mask[idx[~keep]] = False
    if not mask.any():
        raise StataError("no observations", 2000)
    return mask, dropped


@dataclass
class HdfeFit:
    b: np.ndarray          # slopes then _cons, over the kept columns
    V: np.ndarray
    resid: np.ndarray
    d: np.ndarray          # the sum of the fixed effects (y - xb - resid)
    rss: float
    tss: float
    tss_within: float
    df_r: int
    df_a: int
    K: int
    n_clust: int = 0
    iterations: int = 0


def _collinear(Xt: np.ndarray, Xc: np.ndarray) -> np.ndarray:
    """Columns kept after sweeping: one whose swept sum of squares is below 1e-9 of its
    centred one, alone or after the earlier kept columns, is omitted (reghdfe's tol = 1.0e-09)."""
    keep = np.zeros(Xt.shape[1], dtype=bool)
    for j in range(Xt.shape[1]):
        ref = float(Xc[:, j] @ Xc[:, j])
        v = Xt[:, j]
        if keep.any():
            Q = Xt[:, keep]
            v = v - Q @ np.linalg.lstsq(Q, v, rcond=None)[0]
        keep[j] = ref > 0 and float(v @ v) > 1e-9 * ref
    return keep


def _vce_matrix(A: np.ndarray, e: np.ndarray, XtXi: np.ndarray, req: HdfeRequest,
                clusters: np.ndarray | None, N: int, df_r: int, rss: float) -> tuple[np.ndarray, int]:
    if req.vce == "unadjusted":
        return XtXi * (rss / df_r), 0
    S = A * e[:, None]
    if req.vce == "robust":
        return XtXi @ (S.T @ S) @ XtXi * (N / df_r), 0
    G = int(clusters.max()) + 1
    sums = np.stack([np.bincount(clusters, weights=S[:, j], minlength=G) for j in range(S.shape[1])],
                    axis=1)
    q = (N - 1) / df_r * G / (G - 1) if G > 1 else math.nan
    return XtXi @ (sums.T @ sums) @ XtXi * q, G


def fit_hdfe(y: np.ndarray, X: np.ndarray, terms: list[hdfe.AbsorbTerm], req: HdfeRequest,
             clusters: list[np.ndarray]) -> tuple[HdfeFit, np.ndarray, list[hdfe.DofRow]]:
    N = len(y)
    if not any(t.intercept for t in terms):
        terms = terms + [hdfe.AbsorbTerm("_cons", np.zeros(N, dtype=np.int64))]
    M = np.column_stack([y, X]) if X.shape[1] else y[:, None]
    Mt, iters = hdfe.demean(M, terms, req.tol)
    yt, Xt = Mt[:, 0], Mt[:, 1:]
    keep = _collinear(Xt, X - X.mean(axis=0)) if X.shape[1] else np.zeros(0, dtype=bool)
    Xk = Xt[:, keep]
    rows = hdfe.absorbed_dof(terms, clusters if req.vce == "cluster" else [])
    df_a = sum(r.coefs for r in rows) + hdfe.constant_dof(rows)
    K = int(keep.sum())
    df_r = N - K - df_a
    if df_r <= 0:
        raise StataError("insufficient observations", 2001)
    beta = np.linalg.lstsq(Xk, yt, rcond=None)[0] if K else np.zeros(0)
    e = yt - Xk @ beta
    xbar = X[:, keep].mean(axis=0)
    cons = float(y.mean() - xbar @ beta)
    A = np.column_stack([Xk + xbar, np.ones(N)])
    XtXi = np.linalg.inv(A.T @ A)
    rss = float(e @ e)
    V, G = _vce_matrix(A, e, XtXi, req, clusters[0] if clusters else None, N, df_r, rss)
    b = np.append(beta, cons)
    xb = X[:, keep] @ beta + cons
    fit = HdfeFit(b, V, e, y - xb - e, rss, float(np.sum((y - y.mean()) ** 2)), float(yt @ yt),
                  df_r, df_a, K, G, iters)
    return fit, keep, rows


def _save_fe(terms: list[hdfe.AbsorbTerm], d: np.ndarray, tol: float) -> list[np.ndarray]:
    """Each intercept term's share of d by back-fitting (Gauss-Seidel on the group means)."""
    parts = [np.zeros_like(d) for _ in terms]
    for _ in range(10000):
        change = 0.0
        for k, t in enumerate(terms):
            r = d - sum(p for j, p in enumerate(parts) if j != k)
            G = t.levels
            new = (np.bincount(t.codes, weights=r, minlength=G) / np.bincount(t.codes, minlength=G))[t.codes]
            change = max(change, float(np.max(np.abs(new - parts[k]))) if len(d) else 0.0)
            parts[k] = new
        if change < tol:
            break
    return parts


# --- display ------------------------------------------------------------------------------------------
def _right(label: str, value: str) -> str:
    return f"{label:<16}= {value:>10}"


def _header(res) -> list[str]:
    sc, m = res.scalars, res.macros
    n_hdfe = int(sc["N_hdfe"])
    left = ["HDFE Linear regression",
            f"Absorbing {n_hdfe} HDFE group{'s' if n_hdfe != 1 else ''}"]
    if m.get("vce") in ("robust", "cluster"):
        left.append("Statistics robust to heteroskedasticity")
    Ftxt = fmt(sc["F"], "%10.2f").strip() if math.isfinite(sc["F"]) else "."
    right = [_right("Number of obs", fmt_count(int(sc["N"]))),
             f"F({int(sc['df_m']):>4},{int(sc['df_r']):>7})".ljust(16) + "= " + f"{Ftxt:>10}",
             _right("Prob > F", fmt(sc["p"], "%10.4f").strip() if math.isfinite(sc["p"]) else "."),
             _right("R-squared", fmt(sc["r2"], "%10.4f").strip()),
             _right("Adj R-squared", fmt(sc["r2_a"], "%10.4f").strip()),
             _right("Within R-sq.", fmt(sc["r2_within"], "%10.4f").strip()),
             _right("Root MSE", fmt(sc["rmse"], "%10.4f").strip())]
    if "N_clust" in sc:
        clust = f"Number of clusters ({m['clustvar']})"
        left += [""] * (len(right) - 1 - len(left))
        left.append(f"{clust:<28} = {fmt_count(int(sc['N_clust'])):>10}")
    lines = []
    for k, r in enumerate(right):
        text = left[k] if k < len(left) else ""
        lines.append(f"{text:<50}{r}")
    return lines


def _dof_table(rows: list[hdfe.DofRow]) -> list[str]:
    w = max([12] + [len(r.label) + 1 for r in rows])
    out = ["Absorbed degrees of freedom:", "-" * (w + 41) + "+",
           f"{'Absorbed FE':>{w}} | Categories  - Redundant  = Num. Coefs |",
           "-" * (w + 1) + "+" + "-" * 39 + "|"]
    for r in rows:
        mark = "*" if r.nested else ("?" if r.maybe else " ")
        out.append(f"{r.label:>{w}} | {r.categories:>9} {r.redundant:>11} {r.coefs:>11}    {mark}|")
    out.append("-" * (w + 41) + "+")
    if any(r.maybe and not r.nested for r in rows):
        out.append("? = number of redundant parameters may be higher")
    if any(r.nested for r in rows):
        out.append("* = FE nested within cluster; treated as redundant for DoF computation")
    return out


def display_reghdfe(session, res, level: float) -> None:
    out = session.out
    out.line("")
    for ln in _header(res):
        out.line(ln)
    out.line("")
    sc = res.scalars
    if "N_clust" in sc:
        out.line(cluster_note(int(sc["N_clust"]), res.macros["clustvar"]))
    groups = _fixed_groups(res, False)
    vcetype = "Robust" if res.macros.get("vce") in ("robust", "cluster") else None
    for ln in coef_table(res.depvar, groups, res.b, res.se, stat="t", df_r=sc["df_r"],
                         level=level, vcetype=vcetype):
        out.line(ln)
    out.line("")
    for ln in _dof_table(res.dof_rows):
        out.line(ln)


@dataclass
class HdfeResults(RegressResults):
    dof_rows: list = field(default_factory=list)
    fe_sum: np.ndarray | None = None
    resid: np.ndarray | None = None


# --- the command --------------------------------------------------------------------------------------
@command("reghdfe", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="linear regression absorbing multiple levels of fixed effects (SSC's, built in)",
         example="reghdfe ln_wage age tenure, absorb(idcode year)",
         options=(Opt("absorb", "a", "string", None, "the fixed effects to absorb: fe1 fe2 fe1#fe2 i.g##c.z new=fe"),
                  Opt("noabsorb", "noa", desc="absorb only the constant"),
                  Opt("vce", "vce", "string", None, "unadjusted, robust or cluster clustvar"),
                  Opt("robust", "r", desc="synonym for vce(robust)"),
                  Opt("cluster", "cl", "string", None, "synonym for vce(cluster clustvar)"),
                  Opt("resid", desc="keep the residuals (needed by predict, residuals and d)"),
                  Opt("residuals", "res", "string", None, "save the residuals in newvar"),
                  Opt("keepsingletons", "keepsin", desc="do not drop singleton groups"),
                  Opt("tolerance", "tol", "real", None, "convergence criterion; default 1e-8"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)")))
def reghdfe_cmd(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = session.e
        if res is None or res.cmd != "reghdfe":
            raise StataError("last estimates not found", 301)
        opts = bind_command("reghdfe", cmd.options)
        display_reghdfe(session, res, confidence_level(session, opts))
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    if cmd.weight is not None:
        raise StataError("weights not allowed", 101)
    opts = bind_command("reghdfe", list(spec.fixed_options)
                        + [op for op in cmd.options if op not in spec.fixed_options])
    ds = session.data
    req = _request(session, opts)
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    mask, dropped = _sample(session, cmd, req, depvar, fvars)
    n = int(mask.sum())
    column = sample_columns(ds, mask)
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=True)
    terms = _terms(ds, req, mask)
    clusters = [_codes(ds, [c], mask) for c in req.clustvars]
    y = column(depvar)
    try:
        fit, keep, rows = fit_hdfe(y, design.X_keep[:, :-1], terms, req, clusters)
    except (np.linalg.LinAlgError, FloatingPointError):
        raise StataError("numerical derivatives are approximate", 430) from None
    res = _results(cmd, ds, req, design, fixed, fit, keep, rows, mask, depvar, dropped)
    if dropped:
        session.out.line(f"(dropped {dropped} singleton observations)")
    if req.keepsingletons and req.absvars:
        session.out.line("WARNING: Singleton observations not dropped; statistical significance is biased (link)")
    if req.absvars:
        it = fit.iterations
        session.out.line(f"(MWFE estimator converged in {it} iteration{'s' if it != 1 else ''})")
    for j, c in enumerate(design.columns):
        if c.omitted and not c.base:
            session.out.line(f"note: {c.name} is probably collinear with the fixed effects "
                             "(all partialled-out values are close to zero; tol = 1.0e-09)")
    _save_variables(session, req, terms, fit, mask)
    session.post_estimation(res)
    display_reghdfe(session, res, req.level)


def _save_variables(session, req: HdfeRequest, terms, fit: HdfeFit, mask: np.ndarray) -> None:
    from hlmshell.data.dataset import Variable
    saved = [(a.save, k) for k, a in enumerate(req.absvars) if a.save]
    if saved:
        plain = [t for t in terms if t.z is None]
        if len(plain) != len(terms):
            raise StataError("saving the fixed effects of slope terms is not supported", 198)
        parts = _save_fe(terms, fit.d, 1e-10)
        for name, k in saved:
            col = np.full(session.data.n, np.nan)
            col[mask] = parts[k]
            session.data.add(Variable(name, col, "double",
                                      label=f"[FE] {req.absvars[k].label}"))
    if req.resid and req.resid != "_reghdfe_resid":
        col = np.full(session.data.n, np.nan)
        col[mask] = fit.resid
        session.data.add(Variable(req.resid, col, "double", label="Residuals"))


def _results(cmd, ds, req, design, fixed, fit: HdfeFit, keep, rows, mask, depvar, dropped):
    kidx = np.flatnonzero(design.keep)[:-1]          # the slopes; _cons is the last column
    for j, kept in zip(kidx, keep):
        if not kept:
            design.columns[j].omitted = True
    kf = len(design.columns)
    est = [int(j) for j, kept in zip(kidx, keep) if kept] + [kf - 1]
    b, V = np.zeros(kf), np.zeros((kf, kf))
    b[est] = fit.b
    V[np.ix_(est, est)] = fit.V
    N, K = len(fit.resid), fit.K
    sl = list(range(K))
    F = math.nan
    if K:
        try:
            F = float(fit.b[:K] @ np.linalg.solve(fit.V[np.ix_(sl, sl)], fit.b[:K])) / K
        except np.linalg.LinAlgError:
            F = math.nan
    df_r = fit.df_r if req.vce != "cluster" else fit.n_clust - 1
    r2 = 1 - fit.rss / fit.tss if fit.tss > 0 else math.nan
    sc = {"N": float(N), "df_m": float(K), "df_r": float(df_r), "df_a": float(fit.df_a),
          "N_hdfe": float(max(len(req.absvars), 1)), "rss": fit.rss, "tss": fit.tss,
          "tss_within": fit.tss_within, "mss": fit.tss - fit.rss, "r2": r2,
          "r2_a": 1 - (1 - r2) * (N - 1) / fit.df_r,
          "r2_within": 1 - fit.rss / fit.tss_within if fit.tss_within > 0 else math.nan,
          "rmse": math.sqrt(fit.rss / fit.df_r), "F": F,
          "p": float(dist.f_sf(F, K, df_r)) if K and math.isfinite(F) and df_r > 0 else math.nan,
          "ll": -0.5 * N * (math.log(2 * math.pi) + math.log(fit.rss / N) + 1),
          "rank": float(K + 1), "num_singletons": float(dropped),
          "ic": float(fit.iterations)}
    m = {"cmd": "reghdfe", "cmdline": cmd.text, "depvar": depvar, "title": "HDFE Linear regression",
         "absvars": " ".join(a.label for a in req.absvars) or "_cons",
         "vce": req.vce, "properties": "b V", "predict": "reghdfe_p", "model": "ols"}
    if req.vce != "unadjusted":
        m["vcetype"] = "Robust"
    if req.vce == "cluster":
        sc["N_clust"] = float(fit.n_clust)
        m["clustvar"] = " ".join(req.clustvars)
    if req.resid:
        m["resid"] = req.resid
    res = HdfeResults(cmd="reghdfe", names=[(depvar, nm) for nm in design.stata_names], b=b, V=V,
                      omitted=design.omitted, k_f=kf, scalars=sc, macros=m, matrices={},
                      sample=mask.copy(), model=None, design=design,
                      value_labels=factor_labels(ds, fixed))
    res.dof_rows = rows
    res.fe_sum, res.resid = fit.d, fit.resid
    return res


# --- predict ------------------------------------------------------------------------------------------
def predict(session, cmd, res, opts) -> None:
    from hlmshell.commands.predict import _add, _new_names, _touse, xb_all
    given = [s for s in ("xb", "residuals", "d", "xbd", "stdp") if opts.raw(s) or s in opts]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    stat = given[0] if given else "xb"
    if stat == "stdp":
        raise StataError("option stdp not allowed", 198)
    if stat != "xb" and not res.macros.get("resid"):
        raise StataError("you must add the resid option to reghdfe before running this prediction",
                         498)
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    if not given:
        session.out.line("(option xb assumed; fitted values)")
    xb = xb_all(res, data)
    col = np.full(data.n, np.nan)
    sample = np.asarray(res.sample, dtype=bool)
    if len(sample) != data.n:
        raise StataError("data have changed since estimation", 459)
    if stat == "xb":
        col, lab = xb, "Linear prediction"
    elif stat == "d":
        col[sample], lab = res.fe_sum, "d[absorbed fixed effects]"
    elif stat == "xbd":
        col[sample], lab = xb[sample] + res.fe_sum, "xb + d[absorbed fixed effects]"
    else:
        col[sample], lab = res.resid, "Residuals"
    _add(session, names, [col], [lab], vtype, _touse(session, cmd))


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["reghdfe"] = predict


_register_predict()
