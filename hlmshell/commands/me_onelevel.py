"""melogit, meprobit, mecloglog, mepoisson, menbreg, meologit, meoprobit and meglm typed
without a random-effects equation (`melogit y x1 x2`): Stata 17 fits the one-level model with
the same machinery and reports it under the me* command (e(cmd) = "melogit", e(k_r) = 0) in a
plain header -- "Logistic regression", the number of observations, the Wald test, the log
likelihood -- with the fixed-effects table (and /cut#, /lnalpha rows) and no LR test.

The fit is the fixed-effects phase of the mixed models (commands.me_start.first_phase on the
engine.glmm families), the standard errors from the observed information: X'(-l'')X for the
slopes, the Hessian of the log likelihood by central differences of its gradient when the
family has its own parameters (cutpoints, ln alpha). vce(robust) is the observation-level
sandwich (the clusters' with vce(cluster)), C/(C-1)-scaled.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import me_glmm, me_start, me_weights
from hlmshell.engine import glmm
from hlmshell.engine import glmm_families as gf
from hlmshell.errors import StataError
from hlmshell.output.coeftable import cluster_note
from hlmshell.output.numfmt import fmt, fmt_count
from hlmshell.results import EstimationResults

TITLES = {("binomial", "logit"): "Logistic regression",
          ("binomial", "probit"): "Probit regression",
          ("binomial", "cloglog"): "Complementary log-log regression",
          ("poisson", "log"): "Poisson regression",
          ("nbinomial", "log"): "Negative binomial regression",
          ("ordinal", "logit"): "Ordered logistic regression",
          ("ordinal", "probit"): "Ordered probit regression"}


class _Sink:
    def __init__(self):
        self.lines: list[str] = []

    def line(self, text: str = "") -> None:
        self.lines.append(text)


def _gradient_parts(data, fam, x, p):
    """(per-observation scores in b (n x p), the gradient in the family's parameters)."""
    ne = fam.n_extra
    fam.extra = np.asarray(x[p:], dtype=float).copy()
    eta = data.X @ x[:p] + data.offset
    _, l1, _, _ = glmm.derivs(fam, data, eta)
    S = data.X * l1[:, None]
    ge = np.zeros(ne)
    for k in range(ne):
        h = 1e-6 * max(1.0, abs(x[p + k]))
        vals = []
        for sgn in (1.0, -1.0):
            fam.extra = np.asarray(x[p:], dtype=float).copy()
            fam.extra[k] += sgn * h
            vals.append(float(glmm.derivs(fam, data, eta)[0].sum()))
        ge[k] = (vals[0] - vals[1]) / (2 * h)
    fam.extra = np.asarray(x[p:], dtype=float).copy()
    return S, ge


def _information(data, fam, x, p) -> np.ndarray:
    """Minus the Hessian of the log likelihood at x: exact in b alone, by central differences
    of the gradient when the family has parameters of its own."""
    if fam.n_extra == 0:
        fam.extra = np.zeros(0)
        _, _, l2, _ = glmm.derivs(fam, data, data.X @ x[:p] + data.offset)
        return data.X.T @ ((-l2)[:, None] * data.X)
    k = len(x)

    def grad(z):
        S, ge = _gradient_parts(data, fam, z, p)
        return np.concatenate([S.sum(axis=0), ge])

    H = np.zeros((k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(x[j]))
        e = np.zeros(k)
        e[j] = h
        H[:, j] = (grad(x + e) - grad(x - e)) / (2 * h)
    fam.extra = np.asarray(x[p:], dtype=float).copy()
    return -0.5 * (H + H.T)


def _sandwich(data, fam, x, p, V, clusters):
    """V (sum_c s_c s_c') V x C/(C-1), s_c the clusters' scores (observations by default)."""
    if fam.n_extra:
        raise StataError("vce(robust) with a family's own parameters not available without "
                         "a random-effects equation", 198)
    S, _ = _gradient_parts(data, fam, x, p)        # weighted by derivs, as the likelihood
    cl = clusters[data.order]
    C = int(cl.max()) + 1
    if C < 2:
        raise StataError("error calculating robust variance", 430)
    Sc = np.zeros((C, S.shape[1]))
    np.add.at(Sc, cl, S)
    Vr = V @ (Sc.T @ Sc) @ V * (C / (C - 1))
    return 0.5 * (Vr + Vr.T), C


def _clusters(session, opts, column, n, wkind):
    from hlmshell.commands.estimation import parse_vce
    req = parse_vce(session.data, opts, (("oim", "oim"), ("robust", "r"), ("cluster", "cl")))
    if not req.robust and wkind != "pweight":
        return None
    if req.clustvar:
        return req.clustvar, np.unique(np.asarray(column(req.clustvar)).astype(str),
                                       return_inverse=True)[1].ravel()
    return None, np.arange(n)


def run(session, cmd, name, opts, depvar, design, column, mask, vlabels) -> None:
    from hlmshell.commands._postest import confidence_level
    fam_name, link = me_glmm._family_of(name, opts)
    me_glmm._eform_title(link, opts)
    confidence_level(session, opts)               # checked before anything is fitted
    n = int(mask.sum())
    wts, wkind = me_weights.level1_weights(session, cmd, mask, False)
    trials = me_glmm._trials(opts, column, n)
    if fam_name == "ordinal":
        y, fam = me_glmm._ordinal(np.asarray(column(depvar), dtype=float), link)
    else:
        y = me_glmm._outcome(fam_name, np.asarray(column(depvar), dtype=float), trials,
                             opts.raw("binomial") is not None)
        fam = gf.family(fam_name, link, dispersion=me_glmm._dispersion(opts))
    vce = _clusters(session, opts, column, n, wkind)
    X = design.X_keep
    p = X.shape[1]
    data = glmm.GlmmData.build(y, X, np.zeros((n, 0)), np.zeros(n, dtype=np.int64),
                               offset=me_glmm._offset(opts, column, n), trials=trials,
                               weights=wts)
    sink = _Sink()
    try:
        with np.errstate(all="ignore"):
            b, extra, ll = me_start.first_phase(sink, True, data, fam, me_start.StartPlan(),
                                                [("", "")] * p, np.arange(p))
            if fam.n_extra == 0:                 # polished: the start's tolerance is loose
                b, ll = glmm.glm_newton(data, fam, b, [])
            x = np.concatenate([b, extra])
            V = np.linalg.inv(_information(data, fam, x, p))
            n_clust = 0
            if vce is not None:
                V, n_clust = _sandwich(data, fam, x, p, V, vce[1])
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    if not opts.nolog or opts.log:
        for ln in [""] + sink.lines[3:]:          # the iterations, without the mixed heading
            session.out.line(ln)
    res = _results(cmd, name, depvar, design, fam, x, V, ll, n, mask, fam_name, link)
    for key in ("offset", "exposure", "binomial"):
        if opts.raw(key):
            res.macros[key] = opts.raw(key).strip()
    if fam_name == "nbinomial":
        res.macros["dispersion"] = fam.dispersion
    me_weights.post(res, cmd, wkind, data)
    if vce is not None:
        res.macros.update(vce="cluster" if vce[0] else "robust", vcetype="Robust")
        if vce[0]:
            res.macros["clustvar"] = vce[0]
            res.scalars["N_clust"] = float(n_clust)
    session.post_estimation(res)
    display(session, res, me_glmm.fixed_groups(design, vlabels, opts), opts)


def _results(cmd, name, depvar, design, fam, x, V_s, ll, n, mask, fam_name, link):
    p = design.X_keep.shape[1]
    names = [(depvar, nm) for nm in design.stata_names]
    kf = len(names)
    ne = fam.n_extra
    extra_names = (getattr(fam, "extra_names", None)
                   or me_glmm.EXTRA_NAMES.get(fam.name, []))[:ne]
    names += [("/", nm) for nm in extra_names]
    keep = np.flatnonzero(design.keep)
    b = np.zeros(len(names))
    b[keep] = x[:p]
    b[kf:] = x[p:]
    V = np.zeros((len(names), len(names)))
    idx = np.concatenate([keep, kf + np.arange(ne)])
    V[np.ix_(idx, idx)] = V_s
    res = EstimationResults(cmd=name, names=names, b=b, V=V,
                            omitted=np.concatenate([design.omitted, np.zeros(ne, bool)]),
                            k_f=kf, sample=mask.copy())
    wt = [int(i) for i in keep if names[i][1] != "_cons"]
    chi2 = math.nan
    if wt:
        try:
            chi2 = float(b[wt] @ np.linalg.solve(V[np.ix_(wt, wt)], b[wt]))
        except np.linalg.LinAlgError:
            pass
    res.scalars = {"N": float(n), "ll": ll, "k": float(len(idx)), "k_f": float(kf),
                   "k_r": 0.0, "df_m": float(len(wt)), "chi2": chi2,
                   "p": float(dist.chi2_sf(chi2, len(wt))) if wt and chi2 == chi2 else math.nan,
                   "rank": float(len(idx)), "converged": 1.0}
    res.macros = {"cmd": name, "cmdline": cmd.text, "depvar": depvar,
                  "title": TITLES[(fam_name, link)],
                  "family": "bernoulli" if fam_name == "binomial" else fam_name, "link": link,
                  "chi2type": "Wald", "vce": "oim", "properties": "b V", "model": "glm"}
    return res


def _header(res) -> list[str]:
    sc = res.scalars
    right = lambda label, v: f"{label:<18}={v:>11}"   # noqa: E731
    chi = "." if sc["chi2"] != sc["chi2"] else fmt(sc["chi2"], "%10.2f").strip()
    pv = "." if sc["p"] != sc["p"] else fmt(sc["p"], "%10.4f").strip()
    what = "pseudolikelihood" if res.macros.get("vcetype") else "likelihood"
    rows = [(res.macros["title"], right("Number of obs", fmt_count(int(sc["N"])))),
            ("", right(f"Wald chi2({int(sc['df_m'])})", chi)),
            (f"Log {what} = {fmt(sc['ll'], '%10.0g')}", right("Prob > chi2", pv))]
    return [""] + [(a.ljust(48) + b_).rstrip() for a, b_ in rows]


def display(session, res, groups, opts) -> None:
    from hlmshell.output import me_output as meo
    out = session.out
    for ln in ([] if getattr(opts, "noheader", False) else _header(res)) + [""]:
        out.line(ln)
    vt = res.macros.get("vcetype")
    if vt and res.macros.get("clustvar"):
        out.line(cluster_note(int(res.scalars["N_clust"]), res.macros["clustvar"]))
    kf = res.k_f
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    from hlmshell.commands._postest import confidence_level
    level = confidence_level(session, opts)
    table = me_glmm.fixed_table(res, groups, se, opts, level, vt)
    z = float(dist.norm_ppf(0.5 + level / 200.0))
    extra = meo.extra_rows([(res.names[kf + i][1], res.b[kf + i], se[kf + i])
                            for i in range(len(res.names) - kf)], z)
    from hlmshell.commands.me_table_view import table_view
    for ln in table_view(table[:-1] + extra + [table[-1]], res, opts):
        out.line(ln)


# --------------------------------------------------------------------------- predict
def _family(res):
    """The fitted family rebuilt from e(): its name and link, the cutpoints or ln alpha."""
    fam_name = {"bernoulli": "binomial"}.get(res.macros["family"], res.macros["family"])
    kf = res.k_f
    extra = np.asarray(res.b, dtype=float).ravel()[kf:]
    if fam_name == "ordinal":
        fam = gf.family("ordinal", res.macros["link"], len(extra) + 1)
    else:
        fam = gf.family(fam_name, res.macros["link"],
                        dispersion=res.macros.get("dispersion", "mean"))
    fam.extra = extra.copy()
    return fam


def predict(session, cmd, res, opts) -> None:
    """predict after a me* model without random effects: mu (pr after ordinal models; the
    default), pr, eta, xb, stdp and the residuals, all of the fixed part alone (there are no
    random effects to predict: reffects is refused)."""
    from hlmshell.commands import me_predict as mp
    from hlmshell.commands.predict import _add, _new_names, _touse, stdp_all, xb_all
    from hlmshell.engine import glmm_residuals as gr
    fam = _family(res)
    ordinal = fam.name == "ordinal"
    stat = mp._statistic(opts, ordinal)
    if stat in ("reffects", "reses"):
        raise StataError("no random effects in the model", 198)
    data = session.data
    touse = _touse(session, cmd)
    if stat in ("xb", "stdp"):
        vtype, names = _new_names(cmd.body or "", None)
        col = xb_all(res, data) if stat == "xb" else stdp_all(res, data)
        label = "Linear prediction, fixed portion" if stat == "xb" else "S.E. of the prediction"
        _add(session, names, [col], [label], vtype, touse)
        return
    if stat == "pr" and not ordinal and fam.name != "binomial":
        raise StataError("option pr not allowed after this model", 198)
    eta = xb_all(res, data) + mp._offset(res, data, opts)
    if stat == "eta":
        _add(session, mp.names_of(cmd), [eta], ["Fitted linear predictor"], "float", touse)
        return
    if stat in ("density", "distribution"):
        from hlmshell.commands import me_density
        me_density.predict(session, cmd, res, fam, stat, eta, touse)
        return
    if ordinal:
        which = mp._categories_request(cmd, opts, res, data)
        levels = mp._levels(res, data)
        P = gr.ordinal_probs(fam, eta)
        vtype, names = _new_names(cmd.body or "", None if len(which) == 1 else len(which))
        if not opts.raw("outcome") and len(which) == 1 and len(levels) > 1:
            session.out.line("(option pr assumed; predicted probability of the first outcome)")
        _add(session, names, [P[:, k] for k in which],
             [f"Pr({res.depvar}=={mp._value_text(levels[k])})" for k in which], vtype, touse)
        return
    trials = mp._trials(res, data, stat)
    mu = fam.mean(eta, trials)
    vtype, names = _new_names(cmd.body or "", None)
    if stat in mp.RESIDUALS:
        fn, label = mp.RESIDUALS[stat]
        y = np.asarray(data.values(res.depvar), dtype=float)
        if fam.name == "binomial" and not res.macros.get("binomial"):
            y = np.where(np.isnan(y), np.nan, (y != 0).astype(float))
        _add(session, names, [fn(fam, y, mu, trials)], [label], vtype, touse)
        return
    _add(session, names, [mu], ["Predicted mean" if stat == "mu" else "Predicted probability"],
         vtype, touse)
