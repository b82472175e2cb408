"""gsem's read paths turned into the engine's model on the estimation sample, fitted, and
posted as e(): e(b) in Stata's order and names

    write:math  write:M1[cid]  write:_cons  science:write ...  /write:cut1 (ordinal)
    /:var(M1[cid])  /:cov(M1[cid],M2[cid])  /:var(e.write)

with the constrained loadings (b = 1, V = 0) and omitted covariates (b = 0) in place.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlmshell.commands import gsem_paths as gp
from hlmshell.errors import StataError
from hlmshell.results import EstimationResults
from hlmshell.syntax.evaluate import marksample


@dataclass
class Request:
    eqs: list[gp.EqSpec]
    latents: list[str]
    group_var: str | None
    cov_pairs: list[tuple[int, int]]
    intmethod: tuple[str, int]
    vce: tuple[str, str | None]
    listwise: bool
    level: float


@dataclass
class EqInfo:
    """What e() and the display need of one equation."""

    depvar: str
    family: str
    link: str
    cov_names: list[str]          # covariate columns' e(b) names (Stata's markers), no _cons
    cov_status: list              # None | 'omitted' | 'base' per covariate column
    latent_refs: list             # gp.LatentRef
    constant: bool
    levels: list | None           # ordinal outcome values
    n_obs: int


@dataclass
class GsemFitted:
    """The fit behind e(): engine model and fit, equations, the b index of each theta."""

    model: object
    fit: object
    eqs: list[EqInfo]
    latents: list[str]
    group_var: str | None
    cov_pairs: list
    sample: np.ndarray            # e(sample) over the dataset
    eq_masks: list                # each equation's rows, over the dataset
    theta_pos: list               # e(b) position of each theta element
    vce: tuple


def eq_vars(session, e: gp.EqSpec) -> tuple[list, list[str]]:
    """Resolved factor-variable terms of the equation and every variable it needs."""
    from hlmshell.commands.model_terms import resolve_terms
    from hlmshell.syntax.parser import parse_fvlist
    terms = resolve_terms(session.data, parse_fvlist(" ".join(e.observed))) if e.observed else []
    names = [e.depvar] + [p.name for t in terms for p in t.parts]
    names += [r.group for r in e.latents] + [r.slope for r in e.latents if r.slope]
    for n in names:
        if session.data.var(n).is_string:
            raise StataError("string variables not allowed in varlist;", 109)
    return terms, names


def samples(session, c, eqs, terms_vars, listwise: bool, extra: list[str]):
    base = np.asarray(marksample(session, c, extra), dtype=bool)
    masks = [base & np.asarray(marksample(session, None, names), dtype=bool)
             for _, names in terms_vars]
    if listwise:
        both = np.logical_and.reduce(masks)
        masks = [both.copy() for _ in masks]
    union = np.logical_or.reduce(masks)
    if not union.any():
        raise StataError("no observations", 2000)
    for m in masks:
        if not m.any():
            raise StataError("no observations", 2000)
    return union, masks


def _design(session, e: gp.EqSpec, terms, rows: np.ndarray):
    from hlmshell.commands.model_terms import engine_terms
    from hlmshell.engine import design as dz
    ds = session.data

    def column(name):
        return np.asarray(ds.var(name).values, float)[rows]
    constant = not e.noconstant and e.family != "ordinal"
    return dz.build_fixed(engine_terms(terms), column, int(rows.sum()), constant=constant)


def _code_y(e: gp.EqSpec, y: np.ndarray) -> tuple[np.ndarray, list | None]:
    if e.family == "bernoulli":
        return (y != 0).astype(float), None
    if e.family == "ordinal":
        levels = np.unique(y)
        if levels.size < 2:
            raise StataError("outcome does not vary", 2000)
        return np.searchsorted(levels, y).astype(float), [float(v) for v in levels]
    if e.family == "poisson" and (np.any(y < 0) or np.any(y != np.floor(y))):
        raise StataError(f"{e.depvar} must be nonnegative integers for family(poisson)", 459)
    return y.astype(float), None


def _equation(session, e, terms, mask, union, q_index):
    """(engine Equation, EqInfo, loadings) of one response on the union sample."""
    from hlmshell.engine.gsem_model import Equation, Loading
    d = _design(session, e, terms, mask)
    keep = ~d.omitted
    names = d.stata_names
    cols = [j for j in range(len(d.columns)) if d.columns[j].name != "_cons"]
    N = int(union.sum())
    X = np.zeros((N, int(keep.sum())))
    pos = np.flatnonzero(mask[union])
    X[pos] = np.column_stack([d.column(j) for j in np.flatnonzero(keep)]) if keep.any() else X[pos]
    y = np.zeros(N)
    yraw = np.asarray(session.data.var(e.depvar).values, float)
    yc, levels = _code_y(e, yraw[mask])
    y[pos] = yc
    use = np.zeros(N, bool)
    use[pos] = True
    eq = Equation(e.depvar, e.family, e.link, y, X, use, n_cut=len(levels) - 1 if levels else 0)
    info = EqInfo(e.depvar, e.family, e.link, [names[j] for j in cols],
                  [d.status(j) for j in cols], list(e.latents), d.constant, levels, int(mask.sum()))
    loads = []
    for ref in e.latents:
        z = np.ones(N) if ref.slope is None else np.nan_to_num(
            np.asarray(session.data.var(ref.slope).values, float)[union])
        loads.append(Loading(-1, q_index[ref.label], z, fixed=True))
    return eq, info, loads, keep, cols


def build(session, c, req: Request):
    from hlmshell.engine.gsem_model import GsemModel
    tv = [eq_vars(session, e) for e in req.eqs]
    extra = [req.vce[1]] if req.vce[1] else []
    union, masks = samples(session, c, req.eqs, tv, req.listwise, extra)
    q_index = {lab: j for j, lab in enumerate(req.latents)}
    eqs, infos, loads, keeps = [], [], [], []
    seen: set = set()
    for k, (e, (terms, _)) in enumerate(zip(req.eqs, tv)):
        eq, info, ld, keep, cols = _equation(session, e, terms, masks[k], union, q_index)
        for ref, L in zip(e.latents, ld):
            L.eq = k
            first = ref.label not in seen
            seen.add(ref.label)
            L.fixed = ref.fixed is not None or first
            if ref.fixed is not None:
                L.z = L.z * ref.fixed
        eqs.append(eq)
        infos.append(info)
        loads += ld
        keeps.append((keep, cols))
    N = int(union.sum())
    if req.latents:
        gv = np.asarray(session.data.var(req.group_var).values, float)[union]
        _, groups = np.unique(gv, return_inverse=True)
        G = int(groups.max()) + 1
    else:
        groups, G = np.arange(N), N
    model = GsemModel(eqs, loads, len(req.latents), groups, G, list(req.cov_pairs))
    return model, infos, union, masks, keeps


def _b_layout(model, infos, keeps, latents, cov_pairs):
    """e(b) names, the b position of each theta element, fixed values and omitted flags."""
    names, fixed, omitted = [], {}, []
    pos = [0] * model.n_par
    th = 0
    load_th = {}
    i_free = model.n_beta + model.n_cut
    for li in model.free_loadings:
        load_th[li] = i_free
        i_free += 1
    li = 0
    for k, info in enumerate(infos):
        keep, cols = keeps[k]
        kept = iter(range(th, th + int(keep.sum())))
        jmap = {j: next(kept) for j in np.flatnonzero(keep)}
        for j, nm in zip(cols, info.cov_names):
            if j in jmap:
                pos[jmap[j]] = len(names)
            omitted.append(j not in jmap)
            names.append((info.depvar, nm))
        for ref in info.latent_refs:
            ld = model.loadings[li]
            if ld.fixed:
                fixed[len(names)] = 1.0 if ref.fixed is None else ref.fixed
            else:
                pos[load_th[li]] = len(names)
            omitted.append(False)
            names.append((info.depvar, ref.coef_name))
            li += 1
        if info.constant:
            pos[jmap[len(keep) - 1]] = len(names)
            omitted.append(False)
            names.append((info.depvar, "_cons"))
        th += int(keep.sum())
    for k, info in enumerate(infos):
        for c in range(model.eqs[k].n_cut):
            pos[th] = len(names)
            th += 1
            omitted.append(False)
            names.append((f"/{info.depvar}", f"cut{c + 1}"))
    th = i_free
    rest = ([f"var({lab})" for lab in latents]
            + [f"cov({latents[a]},{latents[b]})" for a, b in cov_pairs]
            + [f"var(e.{info.depvar})" for info in infos if info.family == "gaussian"])
    for nm in rest:
        pos[th] = len(names)
        th += 1
        omitted.append(False)
        names.append(("/", nm))
    return names, pos, fixed, np.array(omitted, bool)


def fit_request(session, c, req: Request, cmdline: str) -> EstimationResults:
    from hlmshell.engine import gsem_fit as gf
    model, infos, union, masks, keeps = build(session, c, req)
    method, points = req.intmethod
    try:
        with np.errstate(all="ignore"):
            fit = gf.fit(model, method=method, points=points)
    except (gf.GsemFitError, np.linalg.LinAlgError, ValueError, FloatingPointError, OverflowError):
        raise StataError("initial values not feasible", 1400) from None
    if not np.isfinite(fit.ll):
        raise StataError("initial values not feasible", 1400)
    V = fit.V
    n_clust = None
    if req.vce[0] == "robust" and req.latents:
        # robust with latent variables: Stata clusters at the latent variables' level
        req.vce = ("cluster", req.group_var)
    if req.vce[0] != "oim":
        clusters = None
        if req.vce[0] == "cluster":
            cv = np.asarray(session.data.var(req.vce[1]).values, float)[union]
            clusters = _model_group_clusters(model, cv)
        V, n_clust = gf.robust_vcov(model, fit, clusters)
    sample = np.zeros(session.data.n, bool)
    sample[np.flatnonzero(union)] = True
    names, pos, fixed, omitted = _b_layout(model, infos, keeps, req.latents, req.cov_pairs)
    fitted = GsemFitted(model, fit, infos, req.latents, req.group_var, req.cov_pairs, sample,
                        masks, pos, req.vce)
    return _results(fitted, names, pos, fixed, omitted, V, n_clust, cmdline, req)


def _model_group_clusters(model, cv: np.ndarray) -> np.ndarray:
    """The vce cluster of each model group (a latent's groups must nest in the clusters)."""
    out = np.zeros(model.n_groups)
    for g in range(model.n_groups):
        vals = np.unique(cv[model.groups == g])
        if vals.size != 1:
            raise StataError("highest-level groups are not nested within the clusters", 198)
        out[g] = vals[0]
    return out


def _results(fitted: GsemFitted, names, pos, fixed, omitted, V_theta, n_clust, cmdline, req):
    fit = fitted.fit
    k = len(names)
    b = np.zeros(k)
    V = np.zeros((k, k))
    b[pos] = fit.theta
    V[np.ix_(pos, pos)] = V_theta
    for i, v in fixed.items():
        b[i] = v
    n = int(fitted.sample.sum())
    rank = int(np.linalg.matrix_rank(V_theta)) if V_theta.size else 0
    sc = {"N": float(n), "ll": fit.ll, "k": float(k), "k_dv": float(len(fitted.eqs)),
          "k_eq": float(len(fitted.eqs)), "rank": float(rank), "converged": float(fit.converged),
          "n_quad": float(fit.points), "k_lv": float(len(fitted.latents))}
    vce = req.vce[0]
    mac = {"cmd": "gsem", "cmdline": cmdline, "title": "Generalized structural equation model",
           "method": "ml",
           "intmethod": fit.method, "vce": vce,
           "vcetype": {"oim": "OIM", "robust": "Robust", "cluster": "Robust"}[vce],
           "properties": "b V", "predict": "gsem_p", "lxvars": " ".join(fitted.latents),
           "opt": "ml", "technique": "nr"}
    if vce == "cluster":
        mac["clustvar"] = req.vce[1]
        sc["N_clust"] = float(n_clust)
    for i, e in enumerate(fitted.eqs):
        sc[f"N{i + 1}"] = float(e.n_obs)
    res = EstimationResults("gsem", names, b, V, omitted, k, sc, mac)
    res.sample = fitted.sample.copy()
    res.model = fitted
    return res
