"""The me* commands with several random-effects levels: nested (`melogit y x || school: ||
class:`) and crossed (`|| _all: R.item || subj:`), fitted by engine.glmm_multi.

Methods, as Stata 17: nested models default to mvaghermite with 7 points (adaptive quadrature
nested level by level), ghermite and laplace on request; crossed models (an `R.var` level)
default to laplace, the only method offered for them here (Stata allows quadrature but calls it
prohibitively slow). mcaghermite is refused with more than one level (its mode-curvature
adaptation is only implemented per group of one level). vce(robust) and vce(cluster) sandwich
the top-level groups' scores (nested models; the clusters must contain whole top-level
groups); refused with crossed effects.

Names, as Stata's: a level is labelled by its path (`school>class`; an `R.var` factor
`_all>var`, or `id>var` within the groups of id), e(b) holds `/:var(_cons[school])`, `/:var(_cons[school>class])`,
`/:cov(x[school],_cons[school])`; e(N_g), e(g_min), e(g_avg), e(g_max) are 1 x levels;
e(ivars) lists the level variables. The table shows each level's variances under its path and
the LR test against the one-level model (`chi2(k)` with Stata's conservative note when k > 1).
"""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import me_glmm as one
from hlmshell.commands import me_start
from hlmshell.commands.me_table_view import table_view
from hlmshell.engine import glmm
from hlmshell.engine import glmm_families as gf
from hlmshell.engine.types import IndicatorMatrix
from hlmshell.engine.vcparams import Structure, normalize_structure
from hlmshell.errors import StataError
from hlmshell.output import me_output as meo
from hlmshell.output.coeftable import cluster_note
from hlmshell.output.mixed_output import LevelInfo
from hlmshell.results import EstimationResults


def level_labels(blocks) -> list[str]:
    """Stata's path label of every level: `school`, `school>class`; `_all>item` for R.item."""
    out, path = [], []
    for b in blocks:
        if b.label != "_all":
            path.append(b.label)
        base = ">".join(path) if path else "_all"
        if isinstance(b.Z, IndicatorMatrix):
            rv = b.names[0][2:] if b.names and b.names[0].startswith("R.") else b.label
            base += f">{rv}"
        out.append(base)
    return out


def _group_label(b) -> str:
    return b.label


def _method(opts, crossed: bool) -> str:
    given = "intmethod" in opts.given
    method = one._method(opts) if given else ("laplace" if crossed else "mvaghermite")
    if crossed and method != "laplace":
        raise StataError(f"intmethod({method}) is not available with crossed random effects; "
                         "use intmethod(laplace)", 198)
    if method == "mcaghermite":
        raise StataError("intmethod(mcaghermite) is not available with more than one "
                         "random-effects level; use mvaghermite or laplace", 198)
    return method


_var_rows = me_start.var_rows


def _entries(structures, s, var_rows):
    """The variance entries of e(b) at Stata-metric s (levels concatenated)."""
    from hlmshell.engine import glmm_multi as gm
    vals, k = [], 0
    for st, m, rows in zip(structures, gm.stata_sizes(structures), var_rows):
        psi, _ = st.cov_from_stata(s[k:k + m])
        k += m
        vals += [psi[a, b] for _, (a, b) in rows]
    return np.array(vals)


def _names_values(depvar, design, fit, structures, V_s, fam, var_rows):
    from hlmshell.engine import glmm_multi as gm
    names = [(depvar, nm) for nm in design.stata_names]
    kf = len(names)
    keep = np.flatnonzero(design.keep)
    ne = fam.n_extra
    extra = getattr(fam, "extra_names", None) or one.EXTRA_NAMES.get(fam.name, [])
    names += [("/", nm) for nm in extra[:ne]]
    flat = [r for rows in var_rows for r in rows]
    names += [("/", nm) for nm, _ in flat]
    p = len(fit.beta)
    sp = gm.stata_point(fit, structures)
    ks = len(sp) - p - ne
    s = sp[p:p + ks]
    k = kf + ne + len(flat)
    b = np.zeros(k)
    b[keep] = fit.beta
    if ne:
        b[kf:kf + ne] = sp[p + ks:]
    b[kf + ne:] = _entries(structures, s, var_rows)
    V = np.zeros((k, k))
    if V_s is not None:
        J = np.zeros((p + ne + len(flat), len(sp)))
        J[:p, :p] = np.eye(p)
        J[p:p + ne, p + ks:] = np.eye(ne)
        for j in range(ks):
            e = np.zeros(ks)
            e[j] = 1e-6
            J[p + ne:, p + j] = (_entries(structures, s + e, var_rows)
                                 - _entries(structures, s - e, var_rows)) / 2e-6
        idx = np.concatenate([keep, kf + np.arange(ne + len(flat))])
        V[np.ix_(idx, idx)] = J @ V_s @ J.T
    return names, b, V, kf


def _fit(session, opts, data, fam, structures, method, points, start):
    """Stata's three phases with their log; (the one-level model's ll, the fit). `start`:
    me_glmm.start_layout's plan, names, kept columns and variance rows."""
    from hlmshell.engine import glmm_multi as gm
    out = session.out
    log = not opts.nolog or opts.log
    n = data.n
    gd = glmm.GlmmData.build(data.y, data.X, np.zeros((n, 0)), np.zeros(n, dtype=np.int64),
                             offset=data.offset, trials=data.trials)
    plan, names, keep, var_rows = start
    b0, extra0, ll0 = me_start.first_phase(out, log, gd, fam, plan, names, keep)
    kf = len(names) - fam.n_extra - sum(len(r) for r in var_rows)
    b0, thetas, extra0 = plan.apply(b0, [st.start(1.0) for st in structures], extra0, kf=kf,
                                    keep=keep, structures=structures, var_rows=var_rows)
    x0 = np.concatenate([b0] + thetas + [extra0])
    prob = gm.make_problem(data, fam, structures, "laplace" if method == "laplace" else "agq",
                           points, "none" if method == "ghermite" else "mv")
    return ll0, one.full_model(out, log, plan, prob, x0, opts.iterate, gm.fit_problem)


def run(session, cmd, name, opts, depvar, design, blocks, column, mask, vlabels) -> None:
    from hlmshell.engine import glmm_multi as gm
    fam_name, link = one._family_of(name, opts)
    one._eform_title(link, opts)
    crossed = any(isinstance(b.Z, IndicatorMatrix) for b in blocks)
    method = _method(opts, crossed)
    points = 1 if method == "laplace" else opts.intpoints
    if method != "laplace" and not 1 <= points <= 195:
        raise StataError("intpoints() must be between 1 and 195", 198)
    vce = one._vce(session, opts, blocks[0], column)     # top groups must nest in clusters
    if vce is not None and crossed:
        raise StataError("vce(robust) and vce(cluster) are not available with crossed random "
                         "effects", 198)
    n = int(mask.sum())
    trials = one._trials(opts, column, n)
    if fam_name == "ordinal":
        y, fam = one._ordinal(np.asarray(column(depvar), dtype=float), link)
    else:
        y = one._outcome(fam_name, np.asarray(column(depvar), dtype=float), trials,
                         opts.raw("binomial") is not None)
        fam = gf.family(fam_name, link, dispersion=one._dispersion(opts))
    offset = one._offset(opts, column, n)
    structures = [Structure(normalize_structure(b.covariance, b.Z.shape[1]), b.Z.shape[1])
                  for b in blocks]
    data = gm.MultiData(y, design.X_keep, offset, trials, blocks)
    start = one.start_layout(session, opts, depvar, design, fam, blocks, level_labels(blocks))
    try:
        ll0, fit = _fit(session, opts, data, fam, structures, method, points, start)
        V_s = gm.observed_vcov(fit, structures)
        n_clust = None
        if vce is not None and V_s is not None:
            V_s, n_clust = _sandwich(fit, structures, V_s, blocks[0], vce)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    labels = level_labels(blocks)
    var_rows = _var_rows(blocks, labels)
    names, b, V, kf = _names_values(depvar, design, fit, structures, V_s, fam, var_rows)
    res = EstimationResults(cmd=name, names=names, b=b, V=V,
                            omitted=np.concatenate([design.omitted,
                                                    np.zeros(len(names) - len(design.omitted), bool)]),
                            k_f=kf, sample=mask.copy())
    title, _base = one.TITLES[(fam_name, link)]
    _post(res, cmd, fit, ll0, data, title, method, points, fam_name, link, blocks, labels,
          sum(len(r) for r in var_rows), V_s, free=sum(s.m for s in structures))
    for key in ("offset", "exposure", "binomial"):
        if opts.raw(key):
            res.macros[key] = opts.raw(key).strip()
    if fam_name == "nbinomial":
        res.macros["dispersion"] = fam.dispersion
    if vce is not None:
        one._post_robust(res, vce, n_clust)
        res.macros["clustvar"] = vce[0] or blocks[0].label
    res.model = gm.MultiModel(data, fam, structures, fit, blocks, method, design, vlabels)
    session.post_estimation(res)
    display(session, res, opts)


def _sandwich(fit, structures, V_s, top, vce):
    """V (sum_c S_c S_c') V x C/(C-1): S the top-level groups' scores
    (engine.glmm_multi.group_scores) summed within the clusters (the top groups by default)."""
    from hlmshell.engine import glmm_multi as gm
    S = gm.group_scores(fit, structures)
    _, cl = vce
    gcl = np.zeros(S.shape[0], dtype=np.int64)
    gcl[np.asarray(top.group, dtype=np.int64)] = cl
    C = int(gcl.max()) + 1
    if C < 2:
        raise StataError("error calculating robust variance", 430)
    Sc = np.zeros((C, S.shape[1]))
    np.add.at(Sc, gcl, S)
    V = V_s @ (Sc.T @ Sc) @ V_s * (C / (C - 1))
    return 0.5 * (V + V.T), C


def _group_info(blocks, labels):
    out = []
    for blk in blocks:
        g = np.asarray(blk.group, dtype=np.int64)
        counts = np.bincount(g)
        counts = counts[counts > 0]
        out.append(LevelInfo(_group_label(blk), len(counts), int(counts.min()),
                             float(counts.mean()), int(counts.max())))
    return out


def _post(res, cmd, fit, ll0, data, title, method, points, fam, link, blocks, labels, kr, V_s,
          free=None):
    """e(): kr rows of random-effects parameters, `free` of them free (the LR test's df:
    exchangeable's equal variances count once, as mixed's test counts them)."""
    free = kr if free is None else free
    kf = res.k_f
    keep = np.flatnonzero(~np.asarray(res.omitted[:kf], dtype=bool))
    wt = [i for i in keep if res.names[i][1] != "_cons"]
    chi2 = float("nan")
    if wt and V_s is not None:
        bb = res.b[wt]
        try:
            chi2 = float(bb @ np.linalg.solve(res.V[np.ix_(wt, wt)], bb))
        except np.linalg.LinAlgError:
            chi2 = float("nan")
    chi2_c = max(2.0 * (fit.ll - ll0), 0.0)
    p_c = float(dist.chi2_sf(chi2_c, free))
    if free == 1:
        p_c = 0.5 * p_c if chi2_c > 0 else 1.0
    info = _group_info(blocks, labels)
    ne = len(res.names) - kf - kr
    res.scalars = {"N": float(data.n), "ll": fit.ll, "k": float(len(keep) + ne + kr),
                   "k_f": float(kf), "k_r": float(kr), "df_m": float(len(wt)), "chi2": chi2,
                   "p": float(dist.chi2_sf(chi2, len(wt))) if wt and chi2 == chi2 else float("nan"),
                   "ll_c": ll0, "chi2_c": chi2_c, "df_c": float(free), "p_c": p_c,
                   "converged": 1.0 if fit.converged else 0.0, "ic": float(fit.iterations),
                   "rank": float(len(keep) + ne + kr), "n_quad": float(points),
                   "k_rs": float(sum(nm.startswith("var(") for _, nm in res.names[kf + ne:])),
                   "k_rc": float(sum(nm.startswith("cov(") for _, nm in res.names[kf + ne:]))}
    res.macros = {"cmd": res.cmd, "cmdline": cmd.text, "depvar": res.names[0][0], "title": title,
                  "family": "bernoulli" if fam == "binomial" and np.all(data.trials == 1) else fam,
                  "link": link, "intmethod": method,
                  "ivars": " ".join(_group_label(b) for b in blocks),
                  "chi2type": "Wald", "vce": "oim", "properties": "b V", "model": "glmm",
                  "covariances": " ".join(normalize_structure(b.covariance, len(b.names))
                                          for b in blocks),
                  "redim": " ".join(str(1 if isinstance(b.Z, IndicatorMatrix) else len(b.names))
                                    for b in blocks)}
    res.matrices = {"N_g": np.array([[lv.n_groups for lv in info]], dtype=float),
                    "g_min": np.array([[lv.g_min for lv in info]], dtype=float),
                    "g_avg": np.array([[lv.g_avg for lv in info]], dtype=float),
                    "g_max": np.array([[lv.g_max for lv in info]], dtype=float)}


def display(session, res, opts) -> None:
    """The header with the group table, the fixed effects, each level's variances under its
    path, the LR test."""
    m = res.model
    out = session.out
    sc = res.scalars
    level = float(opts.level)
    labels = level_labels(m.blocks)
    head = meo.multi_header_lines(title=res.macros["title"], n_obs=int(sc["N"]),
                                  levels=_group_info(m.blocks, labels),
                                  method=res.macros["intmethod"], points=int(sc["n_quad"]),
                                  wald_df=int(sc["df_m"]), wald_chi2=sc["chi2"], wald_p=sc["p"],
                                  ll=sc["ll"])
    head = meo.header_view(one.overdispersion_line(head, res), opts)
    vt = res.macros.get("vcetype") or None
    if vt:
        head = [one._pseudo(ln) for ln in head]
    out.line("")
    for line in head:
        out.line(line)
    if vt and head:
        out.line(cluster_note(int(sc["N_clust"]), res.macros["clustvar"]))
    kf = res.k_f
    groups = one.fixed_groups(m.design, m.value_labels, opts)
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    table = one.fixed_table(res, groups, se, opts, level, vt)
    z = float(dist.norm_ppf(0.5 + level / 200.0))
    var_rows = _var_rows(m.blocks, labels)
    kr = sum(len(r) for r in var_rows)
    ne = len(res.names) - kf - kr
    lines = table[:-1] + meo.extra_rows([(res.names[kf + i][1], res.b[kf + i], se[kf + i])
                                          for i in range(ne)], z)
    off = kf + ne
    for lab, rows in zip(labels, var_rows):
        items = []
        for nm, _ in rows:
            short = nm.split("[")[0] + ")" if nm.count("[") == 1 else one._pair_label(nm)
            items.append((short, res.b[off], se[off] if res.V[off, off] > 0 else None,
                          nm.startswith("var")))
            off += 1
        lines += meo.variance_rows(lab, items, z)
    for line in table_view(lines + [table[-1]], res, opts):
        out.line(line)
    for line in one.eform_notes(res, opts):
        out.line(line)
    if not opts.nolrtest and "chi2_c" in sc:
        base = one.TITLES[(m.family.name, m.family.link)][1]
        for line in meo.lr_lines(base, sc["chi2_c"], int(sc["df_c"]), sc["p_c"]):
            out.line(line)


one.MULTILEVEL.update(run=run, display=display)
