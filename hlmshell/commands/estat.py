"""estat ic / icc / recovariance / group / sd after mixed (ic after any estimation).

estat sd follows Stata's _xtme_estat: the random-effects table as standard deviations and
correlations (`mixed, stddev noheader nogroup nolrtest nofetable`; `verbose` keeps the
fixed-effects table), and r(b), r(V) (e(b_sd), e(V_sd) of _xtme_estatsd): e(b) with each ln sd
replaced by the sd, each atanh correlation by the correlation, lnsig_e by sd(e), and e(V)
carried by the delta method, columns named `id:sd(_cons)`, `id:corr(ses,_cons)`,
`Residual:sd(e)`.

ICC follows Stata's _estat_icc: for level i, the sum of the random-intercept variances of
levels 1..i over the sum of all intercept variances plus the residual variance; its standard
error comes from the delta method in the log-standard-deviation metric of e(V) and the
confidence interval is computed on the logit scale.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import mixed_dfmethod, wcorrelation
from hlmshell.commands._postest import active, confidence_level, ic_n_option, print_ic
from hlmshell.commands.estat_sd_post import already_posted, post, variance_metric
from hlmshell.commands.program import NamedMatrix
from hlmshell.engine.vcparams import normalize_structure
from hlmshell.errors import StataError
from hlmshell.output import postest_output as po
from hlmshell.registry import REGISTRY, Opt, Sub, abbrev_lookup, bind_command, command
from hlmshell.results import EstimationResults, RResults
from hlmshell.results.mixed import MixedResults

# Stata subcommands hlmshell knows but does not have (r(321) "not implemented")
_NOT_IMPLEMENTED = ()


def _resolve(word: str) -> str:
    """The subcommand `word` abbreviates: from the spec on the registration line below."""
    sub = REGISTRY.commands["estat"].subcommand(word)
    full = sub.name if sub is not None else abbrev_lookup(word, _NOT_IMPLEMENTED)
    if full is None:
        raise StataError(f"invalid subcommand {word}", 321)
    return full


def _need_mixed(res: EstimationResults, *, linear_ok: bool = False) -> MixedResults:
    """The active results as mixed's; `linear_ok`: also a mixed fit without random effects."""
    if res.cmd not in ("mixed", "xtmixed") or res.model is None:
        raise StataError("requested action not valid after most recent estimation command", 321)
    if not linear_ok and not getattr(res.model, "blocks", None):
        raise StataError("requested action not valid after most recent estimation command", 321)
    return MixedResults.of(res)


# --------------------------------------------------------------------------- icc
def _icc_inputs(m: MixedResults) -> list:
    """Each level's random-intercept variance, or Stata's refusal when a level has none or
    the model has crossed effects."""
    if any(b.label == "_all" for b in m.blocks):
        raise StataError("estat icc not allowed after crossed-effects models", 321)
    if m.residual_structure is not None:
        # the ICC's denominator is one residual variance: a residual structure has several
        raise StataError("estat icc not allowed with residual-error structures other than "
                         "independent homoskedastic", 321)
    parts = m.intercept_variances
    if any(p.variance is None for p in parts):
        raise StataError("estat icc not allowed after random-effects models with random-level "
                         "specifications that do not contain random intercepts", 321)
    return parts


def _icc_se_ci(m: MixedResults, variances: list[float], thetas: list[int], th_e: int, i: int,
               icc: float, z: float) -> tuple[float, float, float]:
    """Delta-method standard error of the level-i ICC in e(V)'s ln-sd metric, and its
    interval computed on the logit scale (NaN when e(V) does not have the terms)."""
    s2 = float(m.model.fit.sigma2)
    den = sum(variances) + s2
    idx = thetas + [th_e]
    g = np.array([2 * v * ((1.0 if k <= i else 0.0) - icc) / den for k, v in enumerate(variances)]
                 + [-2 * s2 * icc / den])
    V = np.asarray(m.V, dtype=float)
    se = float(math.sqrt(max(g @ V[np.ix_(idx, idx)] @ g, 0.0)))
    lo = hi = float("nan")
    if 0 < icc < 1:
        k_est = math.log(icc / (1 - icc))
        sek = se / (icc * (1 - icc))
        lo = 1 / (1 + math.exp(-(k_est - z * sek)))
        hi = 1 / (1 + math.exp(-(k_est + z * sek)))
    return se, lo, hi


def _icc_title(m: MixedResults) -> tuple[str, bool]:
    """Stata's title, and whether random slopes make the ICC conditional on them."""
    has_rcov = any(nm != "_cons" for b in m.blocks for nm in b.names)
    has_fcov = any(n != "_cons" for _, n in m.names[: m.k_f])
    if not has_rcov and not has_fcov:
        return "Intraclass correlation", has_rcov
    if not has_rcov:
        return "Residual intraclass correlation", has_rcov
    return "Conditional intraclass correlation", has_rcov


def icc_table(res: EstimationResults, level: float = 95.0):
    """(title, rows (label, icc, se, lo, hi) innermost-nesting last, conditional?) of estat icc:
    for level i, the intercept variances of levels 1..i over all of them plus the residual's."""
    m = _need_mixed(res)
    parts = _icc_inputs(m)
    variances = [p.variance for p in parts]
    thetas = [p.theta for p in parts]
    s2 = float(m.model.fit.sigma2)
    th_e = m.coef_index("lnsig_e", "_cons")
    V = np.asarray(m.V, dtype=float)
    have_v = th_e >= 0 and all(t >= 0 for t in thetas) and V.size and V[th_e, th_e] > 0
    den = sum(variances) + s2
    z = float(dist.norm_ppf(1 - (1 - level / 100) / 2))
    rows = []
    labels: list[str] = []
    for i, p in enumerate(parts):
        labels.insert(0, p.label)
        lab = "|".join(labels)
        icc = sum(variances[: i + 1]) / den
        nan = float("nan")
        se, lo, hi = _icc_se_ci(m, variances, thetas, th_e, i, icc, z) if have_v else (nan, nan, nan)
        rows.append((lab if len(lab) <= 28 else f"Level {len(parts) - i + 1}", icc, se, lo, hi))
    title, has_rcov = _icc_title(m)
    return title, rows, has_rcov


# the latent response's residual variance: logistic, standard normal, extreme value (cloglog)
_LATENT = {"logit": math.pi ** 2 / 3.0, "probit": 1.0, "cloglog": math.pi ** 2 / 6.0}


def glmm_icc_table(res: EstimationResults, level: float = 95.0):
    """estat icc after melogit/meprobit/mecloglog and meologit/meoprobit: the latent-response
    ICC var(_cons) / (var(_cons) + pi^2/3) (logit), + 1 (probit) or + pi^2/6 (cloglog, the
    extreme-value distribution's variance); with nested levels one row per level, the intercept
    variances of that level and the ones above it over all of them plus pi^2/3 (label
    `school|class`); delta-method standard errors from e(V), intervals on the logit scale, as
    after mixed."""
    link = res.macros.get("link")
    if (res.macros.get("family") not in ("bernoulli", "binomial", "ordinal") or link not in _LATENT
            or (res.macros.get("family") == "ordinal" and link == "cloglog")):
        raise StataError("estat icc not valid after this model", 321)
    var_rows = [(i, nm) for i, (eq, nm) in enumerate(res.names) if eq == "/" and nm.startswith("var(")]
    cons = [(i, nm[len("var(_cons["):-2]) for i, nm in var_rows if nm.startswith("var(_cons[")]
    if any(lab.startswith("_all") for _, lab in cons):
        raise StataError("estat icc not valid after crossed-effects models", 321)
    levels = list(dict.fromkeys(nm[nm.index("[") + 1:-2] for _, nm in var_rows))
    if not cons or len(cons) != len(levels):
        raise StataError("estat icc not allowed after random-effects models with random-level "
                         "specifications that do not contain random intercepts", 321)
    if len(cons) < len(var_rows):
        title = "Conditional intraclass correlation"
    elif any(nm != "_cons" for _, nm in res.names[:res.k_f]):
        title = "Residual intraclass correlation"
    else:
        title = "Intraclass correlation"
    idx = [i for i, _ in cons]
    v = np.array([float(res.b[i]) for i in idx])
    Vv = np.asarray(res.V, dtype=float)[np.ix_(idx, idx)]
    c = _LATENT[link]
    den = float(v.sum()) + c
    z = float(dist.norm_ppf(1 - (1 - level / 100) / 2))
    rows = []
    for k in range(len(v)):
        top = float(v[:k + 1].sum())
        icc = top / den
        grad = np.where(np.arange(len(v)) <= k, (den - top) / den ** 2, -top / den ** 2)
        se = math.sqrt(max(float(grad @ Vv @ grad), 0.0))
        lo = hi = float("nan")
        if 0 < icc < 1:
            kk, sk = math.log(icc / (1 - icc)), se / (icc * (1 - icc))
            lo, hi = 1 / (1 + math.exp(-(kk - z * sk))), 1 / (1 + math.exp(-(kk + z * sk)))
        label = cons[k][1].replace(">", "|")
        rows.append((label if len(label) <= 28 else f"Level {len(v) - k + 1}", icc, se, lo, hi))
    return title, rows, title.startswith("Conditional")


def _icc(session, res, opts) -> None:
    level = confidence_level(session, opts)
    if res.cmd in ("melogit", "meprobit", "mecloglog", "mepoisson", "menbreg", "meglm",
                   "meologit", "meoprobit"):
        title, rows, cond = glmm_icc_table(res, level)
    else:
        title, rows, cond = icc_table(res, level)
    for line in po.icc_lines(title, rows, level, cond):
        session.out.line(line)
    n = len(rows)
    sc, mac, mat = {"level": level}, {}, {}
    for i, (lab, icc, se, lo, hi) in enumerate(rows):
        k = n - i + 1
        sc[f"icc{k}"] = icc
        sc[f"se{k}"] = se
        mac[f"label{k}"] = lab
        mat[f"ci{k}"] = np.array([[lo, hi]])
    session.r = RResults(scalars=sc, macros=mac, matrices=mat)


# --------------------------------------------------------------------------- group
_GLMM_CMDS = ("melogit", "meprobit", "mecloglog", "mepoisson", "menbreg", "meologit",
              "meoprobit", "meglm", "mestreg")


def _glmm_block(res):
    """The random-effects block and covariance of a one-level me* fit (None otherwise)."""
    if res.cmd not in _GLMM_CMDS or res.model is None or not hasattr(res.model.fit, "cov"):
        return None
    return res.model.blocks[0], np.asarray(res.model.fit.cov, dtype=float)


def _glmm_levels(res):
    """(labels, blocks, covariances) of a me* fit with several levels (None otherwise)."""
    if res.cmd not in _GLMM_CMDS or res.model is None or not hasattr(res.model.fit, "covs"):
        return None
    m = res.model
    covs = [np.asarray(c, dtype=float) if c.shape[0] == len(b.names) or b.label == "_all"
            else float(c[0, 0]) * np.eye(len(b.names)) for c, b in zip(m.fit.covs, m.blocks)]
    return res.macros.get("ivars", "").split(), m.blocks, covs


def _group(session, res, opts) -> None:
    if _glmm_levels(res) is not None:
        labels = res.macros.get("ivars", "").split()
        rows = [(lab, int(res.matrices["N_g"][0, j]), int(res.matrices["g_min"][0, j]),
                 float(res.matrices["g_avg"][0, j]), int(res.matrices["g_max"][0, j]))
                for j, lab in enumerate(labels)]
        for line in po.group_lines(rows):
            session.out.line(line)
        session.r = RResults(matrices={k: np.array(res.matrices[k], dtype=float)
                                       for k in ("N_g", "g_min", "g_avg", "g_max")})
        return
    gb = _glmm_block(res)
    if gb is not None:
        counts = np.bincount(np.asarray(gb[0].group, dtype=np.int64))
        counts = counts[counts > 0]
        row = (gb[0].label, len(counts), int(counts.min()), float(counts.mean()), int(counts.max()))
        for line in po.group_lines([row]):
            session.out.line(line)
        session.r = RResults(matrices={k: np.array([[v]], float) for k, v in
                                       zip(("N_g", "g_min", "g_avg", "g_max"), row[1:])})
        return
    m = _need_mixed(res, linear_ok=True)
    if not m.blocks:
        raise StataError("model is linear regression; no group information available", 459)
    groups = m.level_groups
    for line in po.group_lines([(g.label, g.n_groups, g.g_min, g.g_avg, g.g_max) for g in groups]):
        session.out.line(line)
    session.r = RResults(matrices={name: np.array([[getattr(g, attr) for g in groups]], float)
                                   for name, attr in (("N_g", "n_groups"), ("g_min", "g_min"),
                                                      ("g_avg", "g_avg"), ("g_max", "g_max"))})


# --------------------------------------------------------------------------- recovariance
def _recov_levels(session, opts, levels) -> None:
    """estat recovariance after a me* fit with several levels: each level's matrix."""
    labels, blocks, covs = levels
    want = opts.relevel
    if want and want not in labels:
        raise StataError(f"{want} is not a level variable in this model", 198)
    mats: dict = {}
    for lab, b, M in zip(labels, blocks, covs):
        if (want and lab != want) or lab == "_all":
            continue
        if opts.correlation:
            d = np.sqrt(np.diag(M))
            with np.errstate(invalid="ignore", divide="ignore"):
                M = M / np.outer(d, d)
        kind = "correlation" if opts.correlation else "covariance"
        for line in po.matrix_lines(f"Random-effects {kind} matrix for level {lab}", b.names, M):
            session.out.line(line)
        mats = {"corr" if opts.correlation else "cov": M}
    session.r = RResults(scalars={"relevels": float(len(labels))}, matrices=mats)


def _recov(session, res, opts) -> None:
    levels = _glmm_levels(res)
    if levels is not None:
        _recov_levels(session, opts, levels)
        return
    gb = _glmm_block(res)
    if gb is not None:
        b, M = gb
        if opts.relevel and opts.relevel != b.label:
            raise StataError(f"{opts.relevel} is not a level variable in this model", 198)
        if opts.correlation:
            d = np.sqrt(np.diag(M))
            with np.errstate(invalid="ignore", divide="ignore"):
                M = M / np.outer(d, d)
        kind = "correlation" if opts.correlation else "covariance"
        for line in po.matrix_lines(f"Random-effects {kind} matrix for level {b.label}", b.names, M):
            session.out.line(line)
        session.r = RResults(scalars={"relevels": 1.0},
                             matrices={"corr" if opts.correlation else "cov": M})
        return
    m = _need_mixed(res)
    blocks = m.blocks
    want = opts.relevel
    if want and want not in [b.label for b in blocks]:
        raise StataError(f"{want} is not a level variable in this model", 198)
    corr = opts.correlation
    mats: dict = {}
    for bi in sorted(range(len(blocks)), key=lambda i: blocks[i].depth):
        b = blocks[bi]
        if want and b.label != want:
            continue
        M = np.asarray(m.model.fit.covs[bi], dtype=float)
        if M.shape[0] != len(b.names):          # a compact v I of an R.var with many levels
            M = float(M[0, 0]) * np.eye(len(b.names))
        if corr:
            d = np.sqrt(np.diag(M))
            with np.errstate(invalid="ignore", divide="ignore"):
                M = M / np.outer(d, d)
        kind = "correlation" if corr else "covariance"
        for line in po.matrix_lines(f"Random-effects {kind} matrix for level {b.label}", b.names, M):
            session.out.line(line)
        mats = {"corr" if corr else "cov": M}
    session.r = RResults(scalars={"relevels": float(len(m.levels))}, matrices=mats)


# --------------------------------------------------------------------------- sd
def _sd_labels(m: MixedResults) -> list[str]:
    """Column names of r(b) after estat sd (Stata's _xtme_estatsd stripe)."""
    out = [f"{m.depvar}:{nm}" for _, nm in m.names[: m.k_f]]
    blocks = m.blocks
    for bi in sorted(range(len(blocks)), key=lambda i: blocks[i].depth):
        b = blocks[bi]
        names = [nm.replace("R.", "R_") for nm in b.names]
        q = len(names)
        if q == 0:              # `|| id:, noconstant` beside a residual structure
            continue
        kind = normalize_structure(b.covariance, q)
        lev = b.label
        if kind in ("identity", "exchangeable"):
            out.append(f"{lev}:sd({names[0]})")
            if kind == "exchangeable":
                out.append(f"{lev}:corr({names[0]},{names[1]})")
            continue
        out += [f"{lev}:sd({nm})" for nm in names]
        if kind == "unstructured":
            out += [f"{lev}:corr({names[i]},{names[j]})" for i in range(q) for j in range(i + 1, q)]
    # a residual structure's own parameters keep their e(b) names, in their natural metric
    out += [f"Residual:{eq[2:]}" for eq, _ in m.names[m.k_f:] if eq.startswith("r_")]
    return out + ["Residual:sd(e)"]


def sd_metric(m: MixedResults) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(b, V, column names) of estat sd: e(b) and e(V) with the variance parameters as
    standard deviations and correlations (delta method)."""
    b = np.asarray(m.b, dtype=float).copy()
    V = np.asarray(m.V, dtype=float)
    jac = np.ones(len(b))
    for i, (eq, _) in enumerate(m.names[m.k_f:], start=m.k_f):
        if eq.startswith(("atr", "r_atr")):
            b[i] = math.tanh(b[i])
            jac[i] = 1.0 - b[i] * b[i]
        elif eq.startswith("r_logitr"):
            b[i] = 1.0 / (1.0 + math.exp(-b[i]))
            jac[i] = b[i] * (1.0 - b[i])
        elif eq.startswith("r_theta"):
            jac[i] = 1.0
        else:                                   # lns#_#_#, r_lns#ose, lnsig_e
            b[i] = math.exp(b[i])
            jac[i] = b[i]
    return b, V * np.outer(jac, jac), _sd_labels(m)


def _sd(session, res, opts) -> None:
    if res.cmd in _GLMM_CMDS and res.model is not None:
        from hlmshell.commands.estat_glmm_sd import glmm_sd
        glmm_sd(session, res, opts)
        return
    m = _need_mixed(res, linear_ok=True)
    if already_posted(m):
        raise StataError("estat sd: e() already holds the results of estat sd, post", 321)
    level = confidence_level(session, opts)
    b, V, names = sd_metric(m)
    if opts.variance:
        b, V, names = variance_metric(m, names)
    out = session.out
    if opts.verbose or opts.post:               # post implies verbose
        out.line("")
        for line in m.fe_table_lines(level):
            out.line(line)
    out.line("")
    for line in m.re_table_lines("variance" if opts.variance else "sd", level):
        out.line(line)
    session.r = RResults(matrices={"b": NamedMatrix(b[None, :], ["y1"], names),
                                   "V": NamedMatrix(V, names, names)})
    if opts.post:
        post(session, m, b, V, names)


@command("estat", byable=False, qualifiers="",
          family="Postestimation", body="anything", desc="postestimation statistics",
          example="estat icc",
          subcommands=(Sub("ic", "ic", "Akaike's and Schwarz's Bayesian information criteria",
                           (Opt("n", "n", "string", None, "N used in calculating BIC"),)),
                       Sub("gof", "gof", "goodness-of-fit statistics (after sem; Pearson or Hosmer-Lemeshow after logit, logistic, probit)",
                           (Opt("stats", "stat", "string", None, "chi2, rmsea, ic, indices, residuals or all"),
                            Opt("group", "g", "int", None, "after logit: Hosmer-Lemeshow test with # quantile groups"),
                            Opt("table", "t", desc="after logit: display the table of groups"),
                            Opt("all", desc="after logit: use all observations in the data"))),
                       Sub("hettest", "hett", "Breusch-Pagan/Cook-Weisberg test for heteroskedasticity (after regress)",
                           (Opt("rhs", desc="use the right-hand-side variables"),
                            Opt("iid", desc="assume i.i.d. error terms"),
                            Opt("fstat", desc="report the F-statistic version"),
                            Opt("normal", desc="assume normal error terms; the default"))),
                       Sub("ovtest", "ovt", "Ramsey RESET test for omitted variables (after regress)",
                           (Opt("rhs", desc="use powers of the regressors (not available)"),)),
                       Sub("classification", "class", "classification table after logit, logistic, probit",
                           (Opt("cutoff", "cut", "real", 0.5, "positive outcome threshold; default is 0.5"),
                            Opt("all", desc="use all observations in the data"))),
                       Sub("eqgof", "eqgof", "equation-level goodness of fit (after sem)"),
                       Sub("mindices", "mi", "modification indices (after sem)",
                           (Opt("minchi2", "minchi2", "string", None, "show indices >= #; default 3.84"),)),
                       Sub("icc", "icc", "intraclass correlations", (Opt("level", "", "real", 95, "set confidence level; default is level(95)"),)),
                       Sub("recovariance", "recov", "random-effects covariance matrices",
                           (Opt("relevel", "relev", "name", None, "display the matrix of this level only"),
                            Opt("correlation", "corr", desc="display correlations instead of covariances"),
                            Opt("matlist", desc="accepted for compatibility (display options are ignored)"))),
                       Sub("group", "gr", "summarize the groups of each level"),
                       Sub("sd", "sd", "random-effects parameters as standard deviations and correlations",
                           (Opt("verbose", desc="display the fixed-effects table as well"),
                            Opt("level", "", "real", 95, "set confidence level; default is level(95)"),
                            Opt("variance", "var", desc="variances and covariances instead (after mixed)"),
                            Opt("post", desc="post the results to e(b) and e(V)"))),
                       Sub("wcorrelation", "wcor", "within-cluster correlations (or covariances) of the outcome",
                           (Opt("covariance", "cov", desc="display covariances instead of correlations"),
                            Opt("correlation", "corr", desc="display correlations; the default"),
                            Opt("at", "at", "string", None, "the cluster: at(levelvar=# ...); default the first"),
                            Opt("all", desc="accepted: every observation of the cluster is shown"),
                            Opt("iis", desc="accepted for compatibility"),
                            Opt("nosort", desc="accepted for compatibility"),
                            Opt("list", desc="list the cluster's data before the matrices"),
                            Opt("format", "format", "string", None, "display format; default %6.3f"))),
                       Sub("summarize", "su", "summary statistics of the estimation sample",
                           (Opt("labels", "lab", desc="display variable labels"),
                            Opt("noheader", "nohea", desc="suppress the header"),
                            Opt("noweights", desc="accepted for compatibility"))),
                       Sub("vif", "vif", "variance inflation factors (after regress)",
                           (Opt("uncentered", "unc", desc="uncentered VIFs (collinearity with the constant)"),)),
                       Sub("effects", "eff", "design effects DEFF and DEFT (after svy)",
                           (Opt("deff", desc="report DEFF"), Opt("deft", desc="report DEFT"),
                            Opt("srssubpop", desc="accepted for compatibility"))),
                       Sub("phtest", "phtest", "test of proportional hazards (after stcox)",
                           (Opt("detail", "d", desc="test each covariate"),
                            Opt("log", desc="use the log of analysis time"),
                            Opt("km", desc="not available"), Opt("rank", desc="not available"))),
                       Sub("vce", "vce", "covariance matrix of the estimates",
                           (Opt("covariance", "cov", desc="display as covariance matrix; the default"),
                            Opt("correlation", "corr", desc="display as correlation matrix"),
                            Opt("format", "format", "string", None, "display format for the cells"))),
                       Sub("bootstrap", "boot", "bootstrap confidence intervals (after bootstrap)",
                           (Opt("bc", desc="bias-corrected CIs; the default"),
                            Opt("percentile", "per", desc="percentile CIs"),
                            Opt("normal", desc="normal-based CIs"),
                            Opt("bca", desc="BCa CIs (need bootstrap, bca)"),
                            Opt("all", desc="all available CIs"),
                            Opt("noheader", "noh", desc="suppress the table header"),
                            Opt("nolegend", "nol", desc="suppress the table legend"),
                            Opt("verbose", "v", desc="display the full table legend"))),
                       Sub("kmo", "kmo", "Kaiser-Meyer-Olkin measure of sampling adequacy (after factor, pca)",
                           (Opt("novalues", desc="accepted for compatibility"),)),
                       Sub("smc", "smc", "squared multiple correlations (after factor, pca)",
                           (Opt("format", "for", "string", None, "accepted for compatibility"),)),
                       Sub("loadings", "loa", "component loadings (after pca)",
                           (Opt("cnorm", "cnorm", "string", None, "unit, eigen or inveigen"),
                            Opt("format", "for", "string", None, "accepted for compatibility"))),
                       Sub("firststage", "first", "first-stage regression statistics (after ivregress)",
                           (Opt("all", desc="accepted for compatibility"),
                            Opt("forcenonrobust", "force", desc="accepted for compatibility"))),
                       Sub("endogenous", "endog", "tests of endogeneity (after ivregress)",
                           (Opt("lags", "lags", "int", None, "accepted for compatibility"),
                            Opt("forceweights", desc="accepted for compatibility"),
                            Opt("forcenonrobust", "force", desc="accepted for compatibility"))),
                       Sub("overid", "overid", "tests of overidentifying restrictions (after ivregress)",
                           (Opt("lags", "lags", "int", None, "accepted for compatibility"),
                            Opt("forceweights", desc="accepted for compatibility"),
                            Opt("forcenonrobust", "force", desc="accepted for compatibility"))),
                       Sub("df", "df", "degrees of freedom of the fixed effects (dfmethod())",
                           (Opt("method", "method", "string", None, "residual, repeated, anova, satterthwaite or kroger (default: the fit's dfmethod())"),
                            Opt("post", desc="accepted for compatibility (e() is not changed)")))))
def estat_cmd(session, cmd) -> None:
    words = (cmd.body or "").split()
    if not words:
        raise StataError("subcommand expected", 198)
    sub = _resolve(words[0])
    res = active(session)
    if sub in ("icc", "group", "recovariance"):      # meqrlogit/meqrpoisson: melogit's e()
        from hlmshell.commands.meqr import me_view
        res = me_view(res)
    if len(words) > 1 and sub in _TAKES_VARLIST:
        _HANDLERS[sub](session, res, bind_command("estat", cmd.options, sub), " ".join(words[1:]))
        return
    if len(words) > 1 and sub in _HANDLERS:
        raise StataError("invalid syntax", 198)
    if sub not in _HANDLERS:
        raise StataError(f"estat {sub} not implemented", 321)
    if sub == "group" and cmd.options:
        raise StataError("options not allowed with subcommand group", 198)
    opts = bind_command("estat", cmd.options, sub)     # typed by the subcommand's spec below
    if sub == "ic":
        print_ic(session, [(res.name or ".", res)], ic_n_option(opts.raw("n")))
    else:
        _HANDLERS[sub](session, res, opts)


def _df(session, res, opts) -> None:
    mixed_dfmethod.estat_df(session, res, opts, _need_mixed)


def _wcorrelation(session, res, opts) -> None:
    if res.macros.get("model") == "pa" and "R" in res.matrices:     # after xtgee (or xt*, pa)
        from hlmshell.commands.xtgee import estat_wcorrelation
        estat_wcorrelation(session, res, opts)
        return
    wcorrelation.wcorrelation(session, res, opts, _need_mixed)


def _summarize(session, res, opts) -> None:
    from hlmshell.commands.estat_summarize import estat_summarize
    estat_summarize(session, res, opts)


def _vif(session, res, opts) -> None:
    from hlmshell.commands.vif import report_vif
    report_vif(session, res, bool(opts.uncentered))


def _bootstrap(session, res, opts) -> None:
    from hlmshell.commands.resample_display import estat_bootstrap
    estat_bootstrap(session, res, opts)


def _vce(session, res, opts) -> None:
    from hlmshell.commands.estat_vce import estat_vce
    estat_vce(session, res, opts)


def _factor_estat(name):
    """estat kmo / smc / loadings after factor and pca (commands.factor_post)."""
    def handler(session, res, opts) -> None:
        from hlmshell.commands import factor_post
        getattr(factor_post, f"estat_{name}")(session, res, opts)
    return handler


_HANDLERS = {"kmo": _factor_estat("kmo"), "smc": _factor_estat("smc"),
             "loadings": _factor_estat("loadings"), "ic": None, "icc": _icc, "group": _group, "recovariance": _recov, "sd": _sd,
             "wcorrelation": _wcorrelation, "df": _df, "vce": _vce, "summarize": _summarize,
             "vif": _vif, "bootstrap": _bootstrap}


def _sem_estat(name):
    """estat gof / eqgof after sem (commands.sem_estat)."""
    def handler(session, res, opts) -> None:
        from hlmshell.commands import sem_estat
        getattr(sem_estat, f"estat_{name}")(session, res, opts)
    return handler


_HANDLERS.update({"gof": _sem_estat("gof"), "eqgof": _sem_estat("eqgof"),
                  "mindices": _sem_estat("mindices")})


def _binary_estat(name, other=None):
    """estat gof / classification after logit, logistic, probit (commands.logit_postest)."""
    def handler(session, res, opts) -> None:
        if other is not None and res.cmd not in ("logit", "logistic", "probit"):
            other(session, res, opts)
            return
        from hlmshell.commands import logit_postest
        getattr(logit_postest, f"estat_{name}")(session, res, opts)
    return handler


_HANDLERS.update({"gof": _binary_estat("gof", _HANDLERS["gof"]),
                  "classification": _binary_estat("classification")})


def _reg_test(name):
    """estat hettest [varlist] / estat ovtest after regress (commands.reg_tests)."""
    def handler(session, res, opts, text="") -> None:
        from hlmshell.commands import reg_tests
        getattr(reg_tests, name)(session, res, text, opts)
    return handler


_HANDLERS.update({"hettest": _reg_test("hettest"), "ovtest": _reg_test("ovtest")})


def _phtest(session, res, opts) -> None:
    """estat phtest after stcox (commands.st_cox)."""
    from hlmshell.commands.st_cox import estat_phtest
    estat_phtest(session, res, opts)


_HANDLERS["phtest"] = _phtest


def _effects(session, res, opts) -> None:
    """estat effects after svy (commands.svy_effects)."""
    from hlmshell.commands.svy_effects import estat_effects
    estat_effects(session, res, opts)


_HANDLERS["effects"] = _effects
_TAKES_VARLIST = ("hettest",)


def _ivregress_estat(name):
    """estat firststage / endogenous / overid after ivregress (commands.ivregress_estat)."""
    def handler(session, res, opts) -> None:
        from hlmshell.commands import ivregress_estat
        getattr(ivregress_estat, f"estat_{name}")(session, res, opts)
    return handler


_HANDLERS.update({n: _ivregress_estat(n) for n in ("firststage", "endogenous", "overid")})
