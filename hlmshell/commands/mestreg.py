"""mestreg: multilevel mixed-effects parametric survival models ([ME] mestreg) of stset data.

    mestreg [indepvars] [if] [in] || levelvar: [varlist] [, covariance() noconstant]
            [|| levelvar: ...] , distribution(exponential|weibull|lognormal|loglogistic)
            [time nohr tratio noshow intmethod(mvaghermite|mcaghermite|ghermite|laplace)
            intpoints(#) vce(oim|robust|cluster var) level(#) nolog nolrtest]

Why built on the GLMM engine: given the random effects u the records are independent with the
log likelihood d log h(t) - (H(t) - H(t0)) of eta = xb + z'u (engine.survival_me's family), so
the engine's Laplace approximation, adaptive quadrature, observed information and EB means
serve unchanged. The fixed-effects model is streg's (engine.survival_param), which gives the
starting values and the LR test against the model without random effects.

Metrics as Stata's: exponential and weibull are proportional hazards (hazard ratios unless
nohr) unless `time`, lognormal and loglogistic accelerated failure time (coefficients, time
ratios with tratio). e(b): `_t:` fixed part, `/:ln_p` (weibull) or `/:logs`, then
`/:var(_cons[id])` (and the other variances and covariances). Several levels (nested, or
crossed by Laplace) go through engine.glmm_multi as me_multilevel's models do; vce(robust)
and level-1 fweight/pweight/iweight are for one level. Not here: distribution(gamma) (Stata's
mestreg has no gompertz), offset(), constraints().
"""
from __future__ import annotations

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import me_glmm, me_weights
from hlmshell.commands import st_common as sc
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample, _random_spec, _resolve_fixed_part
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.errors import StataError
from hlmshell.output import me_output as meo
from hlmshell.output.coeftable import coef_table
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.registry import Opt, abbrev_lookup, bind_command, command

NAME = "mestreg"
_DISTS = (("exponential", "e"), ("weibull", "w"), ("lognormal", "logn"), ("lnormal", "ln"),
          ("loglogistic", "logl"), ("llogistic", "ll"), ("gamma", "gam"), ("gompertz", "gom"))
_LABEL = {"exponential": "exponential", "weibull": "Weibull", "lognormal": "lognormal",
          "loglogistic": "loglogistic"}
_OPTIONS = (
    Opt("distribution", "dist", "string", None, "exponential, weibull, lognormal or loglogistic"),
    Opt("time", desc="use the accelerated failure-time metric"),
    Opt("nohr", desc="do not report hazard ratios"),
    Opt("tratio", "tr", desc="report time ratios"),
    Opt("noshow", "nosh", desc="do not show st setting information"),
    Opt("noconstant", "nocons", desc="suppress the constant term (fixed part or a random-effects equation)"),
    Opt("covariance", "cov", "name", "independent", "variance-covariance structure of the random effects"),
    Opt("intmethod", "intm", "string", "mvaghermite", "integration method: mvaghermite, mcaghermite, ghermite, laplace"),
    Opt("intpoints", "intp", "int", 7, "number of integration points"),
    Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
    Opt("nolog", desc="do not show the iteration log"),
    Opt("log", desc="show the iteration log; the default"),
    Opt("nolrtest", desc="do not perform the LR test against the model without random effects"),
    Opt("noheader", desc="suppress the output header"),
    Opt("nogroup", "nogr", desc="suppress the group information in the header"),
    Opt("coeflegend", "coefl", desc="display the legend of the coefficients"),
    Opt("notable", desc="suppress the coefficient table"),
    Opt("nocnsreport", desc="do not display constraints (there are none to report)"),
    Opt("vsquish", desc="suppress the blank separator rows"),
    Opt("noomitted", desc="do not display omitted collinear variables"),
    Opt("noemptycells", desc="do not display empty interaction cells"),
    Opt("iterate", "iter", "int", 300, "maximum number of iterations"),
    Opt("tolerance", "tol", "real", 1e-6, "accepted: the fit runs to a vanishing gradient"),
    Opt("ltolerance", "ltol", "real", 1e-7, "accepted: the fit runs to a vanishing gradient"),
    Opt("difficult", desc="accepted for compatibility"),
    Opt("technique", "tech", "string", None, "accepted for compatibility"),
    Opt("vce", "vce", "string", None, "vcetype: oim, robust or cluster clustvar"),
)
_REPLAY = ("nohr", "tratio", "level", "nolrtest", "noshow", "noheader", "nogroup", "coeflegend",
           "notable", "nocnsreport", "vsquish", "noomitted", "noemptycells")


def _distribution(opts) -> tuple[str, bool]:
    """(distribution, accelerated failure time?) from distribution() and time."""
    raw = (opts.raw("distribution") or "").strip().lower()
    if not raw:
        raise StataError("option distribution() required", 198)
    d = abbrev_lookup(raw, _DISTS)
    if d is None or d == "gompertz":
        raise StataError(f"distribution({raw}) not allowed", 198)
    d = {"lnormal": "lognormal", "llogistic": "loglogistic"}.get(d, d)
    if d == "gamma":
        raise StataError("distribution(gamma) is not available in hlmshell; use weibull, "
                         "exponential, lognormal or loglogistic", 198)
    return d, bool(opts.time) or d in ("lognormal", "loglogistic")


def _parse(session, cmd):
    """The model read as `_t indepvars || ...` (so the parser's mixed rules apply)."""
    from hlmshell.syntax.parser import parse_mixed
    body = cmd.body
    spec = parse_mixed("_t " + body, cmd)
    cmd.body = body               # kept as typed: a by-prefix runs the same command again
    cmd.args = spec
    return spec


def _prepare(session, cmd, spec):
    glob, fixed_nocons = [], False
    for opt in spec.fixed_options:
        if me_glmm._option_name(NAME, opt) == "noconstant":
            fixed_nocons = True
        else:
            glob.append(opt)
    level_opts = [me_glmm._level_options(NAME, lev, glob) for lev in spec.levels]
    opts = bind_command(NAME, glob)
    ds = session.data
    _dep, fixed, fvars = _resolve_fixed_part(ds, spec, list(spec.fixed))
    rspecs, tv = [], []
    for lev, lo in zip(spec.levels, level_opts):
        rs, v = _random_spec(ds, lev, *lo)
        rspecs.append(rs)
        tv += [w for w in v if w not in tv]
    groups = [rs.group for rs in rspecs if rs.group != "_all"]
    strg = [g for g in groups if ds.var(g).is_string]
    numeric = ["_t", "_t0", "_d"] + [v for v in fvars + tv if v not in ("_t", "_t0", "_d")]
    numeric += [g for g in groups if g not in strg and g not in numeric]
    mask = _mixed_sample(session, cmd, numeric, strg) & (np.asarray(ds.values("_st"), float) == 1)
    if not mask.any():
        raise StataError("no observations", 2000)
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not fixed_nocons)
    blocks = dz.build_random(rspecs, column, n) if rspecs else []
    return opts, design, blocks, mask, factor_labels(ds, fixed)


def _replay(session, cmd) -> None:
    res = session.e
    if res is None or res.cmd != NAME or res.model is None:
        raise StataError("last estimates not found", 301)
    opts = bind_command(NAME, cmd.options)
    bad = [k for k in opts.given if k not in _REPLAY]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    if opts.tratio and res.macros.get("frm2") != "time":
        raise StataError("option tratio not allowed with the proportional-hazards metric", 198)
    display(session, res, opts)


@command(NAME, family="Survival", raw=True, byable=True, weights=("fweight", "pweight", "iweight"),
         desc="multilevel mixed-effects parametric survival models",
         example="mestreg age female || patient:, distribution(weibull)", options=_OPTIONS)
def mestreg_cmd(session, cmd) -> None:
    from hlmshell.syntax.parser import parse_options
    body = (cmd.body or "").strip()
    if not body or body.startswith(","):
        cmd.options = parse_options(body[1:]) if body else []
        _replay(session, cmd)
        return
    st = sc.settings(session)                      # r(119) before anything else
    spec = _parse(session, cmd)
    opts, design, blocks, mask, vlabels = _prepare(session, cmd, spec)
    dname, aft = _distribution(opts)
    if opts.tratio and not aft:
        raise StataError("option tratio not allowed with the proportional-hazards metric", 198)
    multi, method, points, vce = _integration_and_vce(session, opts, blocks, mask)
    wts, wkind = me_weights.level1_weights(session, cmd, mask, multi)
    if wts is not None:
        vce = me_weights.robust_groups(wkind, vce, blocks[0])
    rec = sc.records(session, mask)
    if rec.d.sum() == 0:
        raise StataError("no failures in the estimation sample", 2000)
    if not opts.noshow:
        sc.header(session, st)
    for note in design.notes:
        session.out.line(note)
    from hlmshell.commands import mestreg_fit
    if multi:
        res = mestreg_fit.fit_and_post_multi(session, cmd, opts, dname, aft, design, blocks,
                                             rec, mask, vlabels, method, points)
    else:
        res = mestreg_fit.fit_and_post(session, cmd, opts, dname, aft, design, blocks[0], rec,
                                       mask, vlabels, method, points, vce, (wts, wkind))
    session.post_estimation(res)
    display(session, res, opts)


def _integration_and_vce(session, opts, blocks, mask):
    """(several levels?, intmethod, points, vce request) checked before anything is fitted."""
    vce_words = (opts.raw("vce") or "oim").replace(",", " ").split() or ["oim"]
    vce_kind = abbrev_lookup(vce_words[0].lower(), (("oim", "oim"), ("robust", "r"),
                                                    ("cluster", "cl")))
    if vce_kind is None:
        raise StataError(f"vcetype '{vce_words[0]}' not allowed", 198)
    if not blocks:
        raise StataError("mestreg requires a random-effects equation (|| levelvar:); for the "
                         "model without random effects use streg", 198)
    multi = (len(blocks) > 1 or blocks[0].label == "_all"
             or not isinstance(blocks[0].Z, np.ndarray))
    if multi:
        from hlmshell.commands.me_multilevel import _method as multi_method
        method = multi_method(opts, any(not isinstance(b.Z, np.ndarray) for b in blocks))
    else:
        method = me_glmm._method(opts)
    if multi and vce_kind != "oim":
        raise StataError("vce(robust) and vce(cluster) with several random-effects levels are "
                         "not available with mestreg in hlmshell", 198)
    vce = None if multi else _vce(session, vce_kind, vce_words, blocks[0], mask)
    points = 1 if method == "laplace" else opts.intpoints
    if method != "laplace" and not 1 <= points <= 195:
        raise StataError("intpoints() must be between 1 and 195", 198)
    return multi, method, points, vce


def _vce(session, kind, words, block, mask):
    """vce(robust) / vce(cluster var): None for oim; (clustvar or None, cluster code of every
    sample row). Clusters must hold whole groups (r(459)), as Stata requires."""
    if kind == "oim":
        return None
    if kind == "robust":
        return (None, np.asarray(block.group, dtype=np.int64))
    if len(words) != 2:
        raise StataError("invalid vce(cluster) option", 198)
    from hlmshell.commands._toolkit import varlist
    names = varlist(session, words[1], all_if_empty=False)
    if len(names) != 1:
        raise StataError("invalid vce(cluster) option", 198)
    vals = np.asarray(session.data.values(names[0]))[mask]
    if vals.dtype.kind in "OUS":
        vals = vals.astype(str)
    elif np.any(np.isnan(vals.astype(float))):
        raise StataError(f"missing values in {names[0]}", 459)
    cl = np.unique(vals, return_inverse=True)[1].ravel().astype(np.int64)
    g = np.asarray(block.group, dtype=np.int64)
    first = np.full(int(g.max()) + 1, -1)
    first[g] = cl
    if np.any(first[g] != cl):
        raise StataError(f"highest-level groups are not nested within {names[0]}", 459)
    return (names[0], cl)


def _table_title(res, opts) -> str | None:
    aft = res.macros.get("frm2") == "time"
    if aft:
        return "Time ratio" if opts.tratio else None
    return None if opts.nohr else "Haz. ratio"


def _header(res) -> list[str]:
    s = res.scalars
    m = res.matrices
    blocks = res.model.blocks
    common = dict(title=res.macros["title"], n_obs=int(s["N"]), method=res.macros["intmethod"],
                  points=int(s["n_quad"]), wald_df=int(s["df_m"]), wald_chi2=s["chi2"],
                  wald_p=s["p"], ll=s["ll"])
    if len(blocks) > 1 or type(res.model).__name__ == "MultiModel":
        from hlmshell.commands.me_multilevel import _group_info, level_labels
        return meo.multi_header_lines(levels=_group_info(blocks, level_labels(blocks)), **common)
    return meo.header_lines(group=blocks[0].label, n_groups=int(m["N_g"][0, 0]),
                            g_min=int(m["g_min"][0, 0]), g_avg=float(m["g_avg"][0, 0]),
                            g_max=int(m["g_max"][0, 0]), **common)


def _variance_lines(res, se, off, z) -> list[str]:
    """Each level's variances and covariances under its label (path for nested levels)."""
    blocks = res.model.blocks
    if type(res.model).__name__ == "MultiModel":
        from hlmshell.commands.me_multilevel import _var_rows, level_labels
        labels = level_labels(blocks)
        per_level = [[nm for nm, _ in rows] for rows in _var_rows(blocks, labels)]
    else:
        labels = [blocks[0].label]
        per_level = [[nm for _eq, nm in res.names[off:]]]
    lines = []
    for lab, names in zip(labels, per_level):
        items = []
        for nm in names:
            short = nm.split("[")[0] + ")" if nm.count("[") == 1 else me_glmm._pair_label(nm)
            items.append((short, res.b[off], se[off] if res.V[off, off] > 0 else None,
                          nm.startswith("var")))
            off += 1
        lines += meo.variance_rows(lab, items, z)
    return lines


def display(session, res, opts) -> None:
    out = session.out
    s = res.scalars
    level = float(opts.level)
    vt = res.macros.get("vcetype") or None
    head = meo.header_view(_header(res), opts)
    out.line("")
    for line in head:
        out.line(me_glmm._pseudo(line) if vt else line)
    if vt and head:
        from hlmshell.output.coeftable import cluster_note
        out.line(cluster_note(int(s["N_clust"]), res.macros["clustvar"]))
    kf = res.k_f
    groups = display_groups(res.model.design, baselevels=False,
                            value_labels=res.model.value_labels)
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    title = _table_title(res, opts)
    if title:
        table = eform_table("_t", groups, res.b[:kf], se[:kf], title=title, level=level,
                            vcetype=vt)
    else:
        table = coef_table("_t", groups, res.b[:kf], se[:kf], stat="z", level=level,
                           vcetype=vt)
    z = float(dist.norm_ppf(0.5 + level / 200.0))
    ne = 0 if res.macros["distribution"] == "exponential" else 1
    ex_lines = meo.extra_rows([(res.names[kf + i][1], res.b[kf + i], se[kf + i])
                               for i in range(ne)], z)
    re_lines = _variance_lines(res, se, kf + ne, z)
    from hlmshell.commands.me_table_view import table_view
    for line in table_view(table[:-1] + ex_lines + re_lines + [table[-1]], res, opts):
        out.line(line)
    if title and any(nm == "_cons" for _, nm in res.names[:kf]):
        what = "hazard ratios" if title == "Haz. ratio" else "time ratios"
        base = "baseline hazard" if title == "Haz. ratio" else "baseline time"
        out.line(f"Note: Estimates are transformed only in the first equation to {what}.")
        out.line(f"Note: _cons estimates {base} (conditional on zero random effects).")
    if not opts.nolrtest and "chi2_c" in s:
        for line in meo.lr_lines(_LABEL[res.macros["distribution"]], s["chi2_c"],
                                 int(s["df_c"]), s["p_c"]):
            out.line(line)
