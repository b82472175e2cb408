"""ivregress: single-equation instrumental-variables regression, as Stata 17's [R] ivregress.

    ivregress 2sls|liml|gmm depvar [varlist1] (varlist2 = varlist_iv) [if] [in]
        [, noconstant small first vce(unadjusted|robust|cluster clustvar) level(#)
           wmatrix(robust|cluster clustvar|unadjusted) igmm center noheader depname()]

Public panel and policy do-files use it for 2SLS with factor-variable controls and clustered
errors. The numerics are engine.ivreg's; this module reads the syntax (the parenthesised
endogenous = instruments block), builds X = [endogenous, exogenous, _cons] and
Z = [exogenous, _cons, excluded instruments], posts e() and prints the header, table and the
Instrumented:/Instruments: footer. estat firststage, endogenous and overid are in
commands.ivregress_estat. Typed alone, ivregress replays.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample
from hlmshell.commands.model_terms import engine_terms, factor_labels, resolve_terms
from hlmshell.engine import design as dz
from hlmshell.engine import ivreg
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.registry import Opt, bind_options, command
from hlmshell.results import EstimationResults
from hlmshell.syntax.ast import Command
from hlmshell.syntax.parser import fill_qualifiers

_ESTIMATORS = {"2sls": "2SLS", "liml": "LIML", "gmm": "GMM"}

OPTIONS = (Opt("noconstant", "nocons", desc="suppress the constant term"),
           Opt("hascons", "h", desc="has user-supplied constant"),
           Opt("small", desc="small-sample statistics (t and F)"),
           Opt("first", desc="report the first-stage regressions"),
           Opt("vce", "vce", "string", None, "unadjusted, robust or cluster clustvar"),
           Opt("robust", "r", desc="synonym for vce(robust)"),
           Opt("cluster", "cl", "string", None, "synonym for vce(cluster clustvar)"),
           Opt("wmatrix", "wmat", "string", None, "GMM weight matrix: robust, cluster clustvar or unadjusted"),
           Opt("igmm", "i", desc="iterated GMM"),
           Opt("center", "c", desc="center the moments in the weight matrix"),
           Opt("eps", "eps", "real", 1e-6, "parameter convergence criterion"),
           Opt("weps", "weps", "real", 1e-6, "weight-matrix convergence criterion"),
           Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
           Opt("noheader", "nohe", desc="display only the coefficient table"),
           Opt("depname", "dep", "name", None, "substitute dependent variable name"),
           Opt("perfect", desc="accepted for compatibility"))


class IvSpec:
    """The parts of `est depvar [varlist1] (varlist2 = varlist_iv) [varlist1]`."""

    def __init__(self, estimator: str, depvar: str, exog: str, endog: str, inst: str):
        self.estimator, self.depvar = estimator, depvar
        self.exog, self.endog, self.inst = exog, endog, inst


def _block_start(text: str) -> int:
    """Where the first `(varlist = varlist)` block opens: a parenthesis at the start or after a
    blank, not a time-series operator's (`l(0/1).w`, `L2.(k ys)`); -1 if none."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(" and depth == 0 and (i == 0 or text[i - 1].isspace()):
            return i
        depth += {"(": 1, ")": -1}.get(ch, 0)
    return -1


def _paren_block(body: str) -> tuple[str, str, str]:
    """(text before, inside, text after) of the one top-level parenthesised block."""
    start = _block_start(body)
    if start < 0:
        raise StataError("equation not found", 198) if "=" in body else StataError("invalid syntax", 198)
    depth = 0
    for i in range(start, len(body)):
        depth += {"(": 1, ")": -1}.get(body[i], 0)
        if depth == 0:
            return body[:start], body[start + 1:i], body[i + 1:]
    raise StataError("unmatched quote or parenthesis", 198)


def parse_spec(body: str) -> IvSpec:
    words = body.split(None, 1)
    if not words:
        raise StataError("invalid syntax", 198)
    est = words[0].lower()
    if est not in _ESTIMATORS:
        raise StataError(f"estimator {words[0]} not allowed" if "(" in body else "invalid syntax", 198)
    before, inside, after = _paren_block(words[1] if len(words) > 1 else "")
    if _block_start(after) >= 0 or "=" not in inside:
        raise StataError("invalid syntax", 198)
    left, _, right = inside.partition("=")
    pre = before.split()
    if not pre:
        raise StataError("varlist required", 100)
    if not left.strip():
        raise StataError("invalid syntax", 198)
    return IvSpec(est, pre[0], " ".join(pre[1:] + after.split()), left.strip(), right.strip())


def _terms(session, text: str):
    from hlmshell.syntax.parser import parse_fvlist
    return resolve_terms(session.data, parse_fvlist(text)) if text.strip() else []


def _term_names(terms) -> list[str]:
    out: list[str] = []
    for t in terms:
        for p in t.parts:
            if p.name not in out:
                out.append(p.name)
    return out


def _vce_words(session, words: list[str], option: str = "vce") -> tuple[str, str]:
    """(kind, clustvar) of vce()'s or wmatrix()'s words."""
    from hlmshell.syntax.varlist import expand_varlist
    if not words:
        return "unadjusted", ""
    kind = words[0].lower()
    if len(kind) >= 2 and "unadjusted".startswith(kind) and len(words) == 1:
        return "unadjusted", ""
    if "robust".startswith(kind) and len(words) == 1:
        return "robust", ""
    if len(kind) >= 2 and "cluster".startswith(kind) and len(words) == 2:
        return "cluster", expand_varlist(session.data, words[1])[0]
    if kind in ("bootstrap", "boot", "jackknife", "jack", "hac"):
        raise StataError(f"{option}({words[0]}) not allowed with ivregress here", 198)
    raise StataError(f"option {option}() incorrectly specified", 198)


def _vce(session, opts) -> tuple[str, str]:
    """vce(), or the old robust and cluster() spellings public do-files still use."""
    words = (opts.raw("vce") or "").split()
    if opts.robust:
        words = words or ["robust"]
    if opts.raw("cluster"):
        words = words or ["cluster", opts.raw("cluster")]
    return _vce_words(session, words)


def _wmatrix(session, opts, vce: tuple[str, str]) -> tuple[str, str]:
    """GMM's weight matrix: wmatrix(), else robust (vce's kind when that is not unadjusted)."""
    text = opts.raw("wmatrix")
    if not text:
        return ("robust", "") if vce[0] == "unadjusted" else vce
    return _vce_words(session, text.split(), "wmatrix")


def _variance_requests(session, opts, spec: IvSpec) -> tuple[tuple[str, str], tuple[str, str]]:
    """(vce, wmatrix): after gmm the VCE defaults to the weight matrix's kind."""
    vce = _vce(session, opts)
    if spec.estimator != "gmm":
        if opts.raw("wmatrix"):
            raise StataError("option wmatrix() not allowed", 198)
        return vce, ("", "")
    wm = _wmatrix(session, opts, vce)
    if not opts.raw("vce") and not opts.robust and not opts.raw("cluster"):
        vce = wm
    return vce, wm


class IvData:
    """The estimation sample's y, X, Z, the design for names and the cluster codes."""

    def __init__(self, session, c: Command, spec: IvSpec, constant: bool, clustvars):
        ds = session.data
        self.exog_t = _terms(session, spec.exog)
        self.endog_t = _terms(session, spec.endog)
        self.inst_t = _terms(session, spec.inst)
        if not self.inst_t:
            raise StataError("invalid syntax", 198)
        from hlmshell.commands._toolkit import varlist
        dep = varlist(session, spec.depvar, all_if_empty=False)
        if len(dep) != 1:
            raise StataError("invalid syntax", 198) if not dep else StataError("too many variables specified", 103)
        self.depvar = dep[0]
        names = [self.depvar] + _term_names(self.endog_t + self.exog_t + self.inst_t)
        for nm in names:
            if ds.var(nm).is_string:
                raise StataError("type mismatch", 109)
        self.mask = _mixed_sample(session, c, names, [v for v in clustvars if v])
        column = sample_columns(ds, self.mask)
        n = int(self.mask.sum())
        self.design = dz.build_fixed(engine_terms(self.endog_t + self.exog_t), column, n,
                                     constant=constant)
        inst = dz.build_fixed(engine_terms(self.inst_t), column, n, constant=False)
        self.X = np.asarray(self.design.X_keep, float)
        n_t = len(self.endog_t)
        self.n_endog = sum(1 for j in np.flatnonzero(self.design.keep)
                           if 0 <= self.design.columns[j].term < n_t)
        self.Zex = np.asarray(inst.X_keep, float)
        self.inst_names = [inst.stata_names[j] for j in np.flatnonzero(inst.keep)]
        self.Z = np.column_stack([self.X[:, self.n_endog:], self.Zex])
        self.y = np.asarray(column(self.depvar), float)
        self.notes = self.design.notes + inst.notes
        self.column = column


def _weights(session, c: Command, data: IvData):
    """The weights on the estimation sample (observations with a zero or missing weight
    leave it), or None; aweights print their sum as regress does."""
    if c.weight is None:
        return None
    from hlmshell.commands._toolkit import weights
    w = weights(session, c, data.mask, ("aweight", "fweight", "pweight"))
    keep = ~np.isnan(w[data.mask]) & (w[data.mask] > 0)
    if not keep.all():
        idx = np.flatnonzero(data.mask)
        data.mask[idx[~keep]] = False
        data.y, data.X, data.Z, data.Zex = data.y[keep], data.X[keep], data.Z[keep], data.Zex[keep]
        col = data.column
        data.column = lambda name: np.asarray(col(name))[keep]
    if not data.mask.any():
        raise StataError("no observations", 2000)
    wv = w[data.mask]
    data.w_fit = wv if c.weight.kind == "fweight" else wv * (len(wv) / wv.sum())
    if c.weight.kind == "aweight":
        session.out.line(f"(sum of wgt is {fmt(float(wv.sum()), '%12.0gc').strip()})")
    return wv


def _fit(data: IvData, spec: IvSpec, opts, vce, wm, clusters, w=None, weight=None):
    kw = {"small": bool(opts.small)}
    if w is not None:
        kw.update(w=w, fweight=weight.kind == "fweight")
    if spec.estimator == "gmm":
        wcl = np.asarray(data.column(wm[1])) if wm[0] == "cluster" else None
        return ivreg.fit_gmm(data.y, data.X, data.Z, wtype=wm[0], wclusters=wcl, vce=vce[0],
                             clusters=clusters, igmm=bool(opts.igmm), center=bool(opts.center),
                             eps=float(opts.eps), weps=float(opts.weps), **kw)
    return ivreg.fit_kclass(data.y, data.X, data.Z, liml=spec.estimator == "liml",
                            n_endog=data.n_endog, vce=vce[0], clusters=clusters, **kw)


def _check(data: IvData, constant: bool) -> None:
    N, k = data.X.shape
    if data.n_endog == 0:
        raise StataError("no endogenous variables", 481)
    if data.Zex.shape[1] < data.n_endog:
        raise StataError("equation not identified; must have at least as many instruments "
                         "not in the regression as there are instrumented variables", 481)
    if N <= k:
        raise StataError("insufficient observations", 2001)
    if np.linalg.matrix_rank(data.Z) < data.Z.shape[1]:
        raise StataError("instruments are collinear", 481)


def _scalars(res, fit, data: IvData, small: bool, constant: bool) -> None:
    N, k = fit.N, fit.k
    y = data.y
    w = getattr(data, "w_fit", None)
    if w is None:
        w = np.ones_like(y)
    ybar = float(w @ y / w.sum())
    tss = float(w @ (y - ybar) ** 2) if constant else float(w @ y ** 2)
    r2 = 1 - fit.rss / tss
    df_m = k - (1 if constant else 0)
    sc = {"N": float(N), "rss": fit.rss, "mss": tss - fit.rss, "df_m": float(df_m),
          "r2": r2, "r2_a": 1 - (1 - r2) * ((N - 1) if constant else N) / (N - k),
          "rmse": math.sqrt(fit.rss / (N - k) if small else fit.rss / N), "rank": float(k)}
    idx = np.arange(k - (1 if constant else 0))
    stat = float("nan")
    if len(idx):
        bb = fit.b[idx]
        try:
            stat = float(bb @ np.linalg.solve(fit.V[np.ix_(idx, idx)], bb))
        except np.linalg.LinAlgError:
            stat = float("nan")
    if small:
        df_r = (fit.n_clust - 1) if fit.n_clust else N - k
        sc.update(df_r=float(df_r), F=stat / df_m if df_m else float("nan"))
    else:
        sc["chi2"] = stat
    if fit.n_clust:
        sc["N_clust"] = float(fit.n_clust)
    if not math.isnan(fit.J):
        sc.update(J=fit.J, J_df=float(data.Z.shape[1] - k), iterations=float(fit.iterations))
    if fit.kappa != 1.0:
        sc["kappa"] = fit.kappa
    res.scalars = sc


def _post(session, c: Command, spec: IvSpec, data: IvData, fit, opts, vce, wm):
    d = data.design
    names = d.stata_names
    K = len(names)
    keep = np.flatnonzero(d.keep)
    b = np.zeros(K)
    V = np.zeros((K, K))
    b[keep] = fit.b
    V[np.ix_(keep, keep)] = fit.V
    omitted = np.ones(K, dtype=bool)
    omitted[keep] = False
    res = EstimationResults(cmd="ivregress", names=[(data.depvar, n) for n in names], b=b, V=V,
                            omitted=omitted, k_f=K, sample=data.mask.copy())
    constant = not opts.noconstant
    _scalars(res, fit, data, bool(opts.small), constant)
    xnames = [names[j] for j in keep]
    instd = xnames[:data.n_endog]
    exogr = [n for n in xnames[data.n_endog:] if n != "_cons"]
    m = {"cmd": "ivregress", "cmdline": c.text, "depvar": data.depvar, "estimator": spec.estimator,
         "title": f"Instrumental variables {_ESTIMATORS[spec.estimator]} regression",
         "instd": " ".join(instd), "exogr": " ".join(exogr),
         "insts": " ".join(exogr + data.inst_names), "constant": "constant" if constant else "noconstant",
         "vce": vce[0], "properties": "b V", "predict": "ivregress_p",
         "estat_cmd": "ivregress_estat", "marginsok": "XB default"}
    if vce[0] != "unadjusted":
        m["vcetype"] = "Robust"
    if vce[0] == "cluster":
        m["clustvar"] = vce[1]
    if opts.small:
        m["small"] = "small"
    if c.weight is not None:
        m.update(wtype=c.weight.kind, wexp=f"= {c.weight.exp}")
    if spec.estimator == "gmm":
        m["wmatrix"] = wm[0] + (f" {wm[1]}" if wm[1] else "")
    res.macros = m
    res.design = d
    res.value_labels = factor_labels(session.data, data.endog_t + data.exog_t)
    res.iv = {"y": data.y, "X": data.X, "Z": data.Z, "n_endog": data.n_endog,
              "resid": fit.resid, "endog_names": instd,
              "clusters": np.asarray(data.column(vce[1])) if vce[0] == "cluster" else None}
    return res


@command("ivregress", family="Estimation", raw=True, byable=True, options=OPTIONS,
         check_options=False, desc="single-equation instrumental-variables regression",
         example="ivregress 2sls mathach female (ses = meanses)")
def ivregress_cmd(session, cmd) -> None:
    c = Command(name="ivregress", text=cmd.text)
    fill_qualifiers(c, cmd.body or "", allow_exp=False)
    opts = bind_options(OPTIONS, c.options)
    if not c.body.strip():
        res = session.e
        if res is None or res.cmd != "ivregress":
            raise StataError("last estimates not found", 301)
        display(session, res, confidence_level(session, opts), opts)
        return
    spec = parse_spec(c.body)
    if c.weight is not None and spec.estimator == "gmm":
        raise StataError("weights with ivregress gmm are not implemented here", 101)
    level = confidence_level(session, opts)
    vce, wm = _variance_requests(session, opts, spec)
    constant = not opts.noconstant
    data = IvData(session, c, spec, constant, [vce[1], wm[1]])
    w = _weights(session, c, data)
    if w is not None and c.weight.kind == "pweight" and vce[0] == "unadjusted":
        vce = ("robust", "")
    _check(data, constant)
    clusters = np.asarray(data.column(vce[1])) if vce[0] == "cluster" else None
    try:
        fit = _fit(data, spec, opts, vce, wm, clusters, w, c.weight)
    except np.linalg.LinAlgError:
        raise StataError("matrix not positive definite", 506) from None
    for note in data.notes:
        session.out.line(note)
    res = _post(session, c, spec, data, fit, opts, vce, wm)
    if opts.first:
        from hlmshell.commands.ivregress_estat import first_stage_tables
        first_stage_tables(session, res, level)
    session.post_estimation(res)
    display(session, res, level, opts)


def _hdr(label: str, value: str) -> str:
    return f"{label:<16}= {value:>10}"


def header_lines(res) -> list[str]:
    sc, m = res.scalars, res.macros
    right = [_hdr("Number of obs", fmt_count(int(sc["N"])))]
    if "F" in sc:
        right += [_hdr(f"F({int(sc['df_m'])}, {int(sc['df_r'])})", _f2(sc["F"])),
                  _hdr("Prob > F", _p4(dist.f_sf(sc["F"], sc["df_m"], sc["df_r"])))]
    else:
        right += [_hdr(f"Wald chi2({int(sc['df_m'])})", _f2(sc["chi2"])),
                  _hdr("Prob > chi2", _p4(dist.chi2_sf(sc["chi2"], sc["df_m"])))]
    right.append(_hdr("R-squared", "." if sc["r2"] < 0 else fmt(sc["r2"], "%6.4f").strip()))
    if "F" in sc:
        right.append(_hdr("Adj R-squared", "." if sc["r2_a"] < 0 else fmt(sc["r2_a"], "%6.4f").strip()))
    right.append(_hdr("Root MSE", fmt_g(sc["rmse"], 10, 5).strip()))
    left = [m["title"]]
    if m["estimator"] == "gmm":
        left.append(f"GMM weight matrix: {_wlabel(m['wmatrix'])}")
    out = [""]
    for k, r in enumerate(right):
        out.append(f"{(left[k] if k < len(left) else ''):<50}{r}")
    return out


def _wlabel(w: str) -> str:
    kind = w.split()[0]
    return {"robust": "Robust", "unadjusted": "Unadjusted", "cluster": "Cluster"}.get(kind, kind)


def _f2(x: float) -> str:
    return "." if not math.isfinite(x) else fmt(x, "%10.2f").strip()


def _p4(p: float) -> str:
    return "." if not math.isfinite(p) else fmt(p, "%6.4f").strip()


def display(session, res, level: float, opts=None) -> None:
    out = session.out
    if not (opts is not None and opts.noheader):
        for ln in header_lines(res):
            out.line(ln)
        if "N_clust" in res.scalars:
            out.line(ct.cluster_note(int(res.scalars["N_clust"]), res.macros["clustvar"]))
        out.line("")
    groups = display_groups(res.design, baselevels=False,
                            value_labels=getattr(res, "value_labels", {}))
    dep = (opts.raw("depname") if opts is not None else None) or res.depvar
    small = "F" in res.scalars
    for ln in ct.coef_table(dep, groups, res.b, np.sqrt(np.clip(np.diag(res.V), 0, None)),
                            stat="t" if small else "z",
                            df_r=res.scalars.get("df_r") if small else None, level=level,
                            vcetype=res.macros.get("vcetype")):
        out.line(ln)
    out.line(f"Instrumented: {res.macros['instd']}")
    out.line(f" Instruments: {res.macros['insts']}")


def predict(session, cmd, res, opts) -> None:
    """predict after ivregress: xb (default), residuals, stdp from e(b), e(V)."""
    from hlmshell.commands.predict import _add, _new_names, _touse, column_values
    given = [w for w in ("xb", "residuals", "stdp") if w in opts and getattr(opts, w, None)]
    if len(given) > 1:
        raise StataError("only one statistic may be specified", 198)
    stat = given[0] if given else "xb"
    if not given:
        session.out.line("(option xb assumed; fitted values)")
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    idx = [i for i in range(len(res.names)) if not res.omitted[i]]
    X = np.column_stack([column_values(data, res.names[i][1]) for i in idx])
    b = np.ravel(res.b)[idx]
    if stat == "stdp":
        V = np.asarray(res.V)[np.ix_(idx, idx)]
        col, lab = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", X, V, X), 0, None)), "S.E. of the prediction"
    elif stat == "residuals":
        col, lab = np.asarray(data.values(res.depvar), float) - X @ b, "Residuals"
    else:
        col, lab = X @ b, "Linear prediction"
    _add(session, names, [col], [lab], vtype, _touse(session, cmd))


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS
    PREDICTORS["ivregress"] = predict


_register_predict()
