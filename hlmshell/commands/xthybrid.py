"""xthybrid (SSC, Schunck & Perales; Stata Journal 17(1), 2017), built in: the hybrid
(within-between) and correlated random-effects (Mundlak, `cre`) models, as the ado does it.

For each explanatory variable (or those in use()) the share of its variance within clusters is
floor(100 (1 - rho)), rho from a random-effects xtreg of the variable on a constant; a variable
above percentage() gets its cluster mean (B__x; D__x under cre) and, in the hybrid model, its
deviation from that mean (W__x; under cre the variable itself is W__x); the others enter as
they are (R__x), with xthybrid's note. The random-intercept model (random slopes on the W__/R__
variables of randomslope()) is fitted quietly, by `mixed, mle` for family(gaussian)
link(identity) (the same model meglm fits; hlmshell's meglm has no Gaussian family) and by
`meglm` otherwise, stored as `model`, and summarized as xthybrid does with estimates table:
b(%10.4f), the stats() (ll chi2 p aic bic), varwidth(20), style(columns), the model's title,
then the numbers of level-1 and level-2 units. The variance parameters are shown as meglm
names them (var(_cons[id]), var(e.y)). The data are restored unless keepvars.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import ic_row
from hlmshell.commands._toolkit import sample_columns, typed_args, varlist
from hlmshell.data.dataset import Variable
from hlmshell.engine import panel as pe
from hlmshell.errors import StataError
from hlmshell.output.numfmt import FormatError, fmt
from hlmshell.registry import Opt, command
from hlmshell.syntax.evaluate import marksample

FAMILIES = ("gaussian", "bernoulli", "binomial", "gamma", "nbinomial", "ordinal", "poisson")
LINKS = ("identity", "log", "logit", "probit", "cloglog")
POWERS = {"quadratic": 2, "cubic": 3, "quartic": 4}
PREFIXES = ("W__", "D__", "B__", "R__", "mEaN__", "dIfF__")
TOUSE = "__xthybrid_touse"
VW = 20


@command("xthybrid", family="Estimation", body="varlist", qualifiers="if in",
         desc="hybrid and correlated random-effects (Mundlak) models (SSC's, built in)",
         example="xthybrid mathach ses, clusterid(id)",
         options=(Opt("clusterid", "c", "name", None, "the cluster/grouping variable (required)"),
                  Opt("family", "f", "string", None, "gaussian (default), bernoulli, binomial, gamma, nbinomial, ordinal, poisson"),
                  Opt("link", "l", "string", None, "identity (default), log, logit, probit, cloglog"),
                  Opt("cre", desc="correlated random-effects (Mundlak) model instead of the hybrid model"),
                  Opt("nonlinearities", "n", "string", None, "quadratic, cubic or quartic terms of the cluster means"),
                  Opt("randomslope", "random", "string", None, "random slopes on these variables"),
                  Opt("use", "u", "string", None, "split only these variables into within and between parts"),
                  Opt("percentage", "perc", "int", 0, "minimum % within-cluster variance to split a variable"),
                  Opt("test", "te", desc="test the random-effects assumption for each variable"),
                  Opt("full", desc="print the full model output"),
                  Opt("stats", "st", "string", None, "summary statistics to report (ll chi2 p aic bic)"),
                  Opt("vce", "vce", "string", None, "vcetype of the model"),
                  Opt("se", desc="standard errors in the table"),
                  Opt("t", desc="t (z) values in the table"),
                  Opt("p", desc="p-values in the table"),
                  Opt("star", desc="stars for significance in the table"),
                  Opt("iterations", "it", desc="show the model's iteration log (and its output)"),
                  Opt("meglmopts", "meglm", "string", None, "further options of the model"),
                  Opt("keepvars", "keep", desc="keep the created variables in the data")))
def xthybrid_cmd(session, cmd) -> None:
    opts = typed_args(cmd)
    names = varlist(session, cmd.body, all_if_empty=False)
    if len(names) < 2:
        raise StataError("too few variables specified", 102)
    clusterid = opts.raw("clusterid")
    if not clusterid:
        raise StataError("option clusterid() required", 198)
    clusterid = varlist(session, clusterid)[0]
    family, link = _family_link(opts)
    power = _power(opts)
    ds = session.data
    for v in ds.names:
        if v.startswith(PREFIXES):
            raise StataError("Your dataset contains one or more variables with names beginning with W__, D__, B__, "
                             "R__ mEaN__ or dIfF__; rename them before running xthybrid", 110)
    mask = marksample(session, cmd, names + [clusterid])
    if not mask.any():
        raise StataError("no observations", 2000)
    depvar, indvars = names[0], list(dict.fromkeys(names[1:]))
    used = varlist(session, opts.raw("use")) if opts.raw("use") else indvars
    column = sample_columns(ds, mask)
    _, codes = np.unique(column(clusterid), return_inverse=True)
    codes = codes.reshape(-1)
    if _within_percent(column(depvar), codes) == 0:
        raise StataError(f"The dependent variable ({depvar}) does not vary within clusters.", 459)
    saved = ds.copy()
    try:
        _run(session, opts, mask, codes, depvar, indvars, used, clusterid, family, link, power)
    finally:
        if not opts.keepvars:
            session.data = saved
        elif TOUSE in session.data.names:
            session.data.drop([TOUSE])


def _family_link(opts):
    family = (opts.raw("family") or "gaussian").strip()
    link = (opts.raw("link") or "identity").strip()
    if family not in FAMILIES:
        raise StataError("The option 'family' supports the following: gaussian, bernoulli, binomial, gamma, "
                         "nbinomial, ordinal, poisson.", 198)
    if link not in LINKS:
        raise StataError("The option 'link' supports the following: identity, log, logit, probit, cloglog.", 198)
    return family, link


def _power(opts) -> int:
    text = (opts.raw("nonlinearities") or "").strip()
    if text and text not in POWERS:
        raise StataError("The option 'nonlinearities' supports the following: quadratic, cubic, quartic.", 198)
    return POWERS.get(text, 1)


def _within_percent(x: np.ndarray, codes: np.ndarray) -> int:
    """floor((1 - rho) * 100), rho of xtreg x, re (Swamy-Arora) on a constant."""
    P = pe.panels(codes)
    try:
        f = pe.fit_gls(np.asarray(x, dtype=float), np.ones((len(x), 1)), 0, P)
        su2, se2 = f.sigma_u ** 2, f.sigma_e ** 2
        rho = su2 / (su2 + se2) if su2 + se2 > 0 else 1.0
    except (ArithmeticError, np.linalg.LinAlgError, ValueError):
        rho = 1.0
    if not math.isfinite(rho):
        rho = 1.0
    return math.floor((1 - rho) * 100)


def _put(ds, name, values, mask):
    full = np.full(ds.n, np.nan)
    full[mask] = values
    ds.add(Variable(name, full, "double"))


def _build(session, opts, mask, codes, indvars, used, power):
    """Create the model's variables; returns (final varlist, split variables, notes shown)."""
    ds = session.data
    column = sample_columns(ds, mask)
    out = session.out
    split = []
    for v in used:
        within = _within_percent(column(v), codes)
        if within != 0 and within > opts.percentage:
            split.append(v)
        elif within == 0 or within < opts.percentage:
            out.line(f"The variable '{v}' does not vary sufficiently within clusters")
            out.line("and will not be used to create additional regressors.")
            out.line(f"[~{within}% of the total variance in '{v}' is within clusters]")
    cre = bool(opts.cre)
    means = {}
    for v in split:
        x = column(v)
        mean = np.bincount(codes, weights=x) / np.bincount(codes)
        means[v] = mean[codes]
    R, W, B, D = [], [], [], []
    for v in split:
        m = means[v]
        (D if cre else B).append((v, m))
        if not cre:
            W.append((f"W__{v}", column(v) - m))
        for pw in range(2, power + 1):
            B.append((f"{v}_{pw}", m ** pw))
    if cre:
        order = [v for v in ds.names if v in indvars]
        W = [(f"W__{v}", column(v)) for v in order if v in split]
        R = [(f"R__{v}", column(v)) for v in order if v not in split]
    else:
        R = [(f"R__{v}", column(v)) for v in indvars if v not in split]
    final = []
    for nm, vals in R + W:
        _put(ds, nm, vals, mask)
        final.append(nm)
    for v, vals in B:
        _put(ds, f"B__{v}", vals, mask)
        final.append(f"B__{v}")
    for v, vals in D:
        _put(ds, f"D__{v}", vals, mask)
        final.append(f"D__{v}")
    return final, split


def _random_vars(opts, session, final):
    text = opts.raw("randomslope")
    if not text:
        return []
    out = []
    for v in text.split():
        out += [nm for nm in (f"W__{v}", f"R__{v}") if nm in final]
    return out


def _run(session, opts, mask, codes, depvar, indvars, used, clusterid, family, link, power):
    out = session.out
    out.line("")
    final, split = _build(session, opts, mask, codes, indvars, used, power)
    _put(session.data, TOUSE, np.ones(int(mask.sum())), mask)
    slopes = " ".join(_random_vars(opts, session, final))
    vce = f" vce({opts.raw('vce').strip()})" if opts.raw("vce") else ""
    extra = f" {opts.raw('meglmopts').strip()}" if opts.raw("meglmopts") else ""
    gaussian = family == "gaussian" and link == "identity"
    head = "mixed" if gaussian else "meglm"
    tail = ", mle" if gaussian else f", family({family}) link({link})"
    line = f"{head} {depvar} {' '.join(final)} if {TOUSE} || {clusterid}: {slopes}{tail}{vce}{extra}"
    quiet = "" if opts.iterations else "quietly "
    session.runner.run_command(quiet + line)
    res = session.e
    session.runner.run_command("estimates store model")
    cre = bool(opts.cre)
    title = ("Correlated random effects model" if cre else "Hybrid model") + f". Family: {family}. Link: {link}."
    if not opts.full and not opts.iterations:
        for ln in table_lines(res, depvar, clusterid, gaussian, title, opts):
            out.line(ln)
        ng = res.matrices.get("N_g")
        n_g = int(np.asarray(ng).ravel()[0]) if ng is not None else int(codes.max()) + 1
        out.line(f"Level 1: {int(res.scalars['N'])} units. Level 2: {n_g} units.")
    if opts.full:
        session.runner.run_command(head)
    if not split:
        text = "specified in the option 'use()' " if opts.raw("use") else ""
        out.line(f"None of the independent variables {text}varies within clusters.")
        out.line("Neither cluster-mean nor mean-differenced variables were added to the mixed-effects model.")
    if opts.test:
        _tests(out, res, depvar, used, cre)
    if opts.keepvars:
        out.line("Please remember to remove any variables beginning with the prefix B__, W__ or R__ from "
                 "the data before executing xthybrid again")


def _params(res, depvar, clusterid, gaussian):
    """[(equation, name, b, se)] as meglm names them."""
    b = np.asarray(res.b, dtype=float).ravel()
    V = np.asarray(res.V, dtype=float)
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    rows = []
    if not gaussian:
        return [(eq, nm, b[i], se[i]) for i, (eq, nm) in enumerate(res.names)
                if not res.omitted[i]]
    k = res.k_f
    for i in range(k):
        if not res.omitted[i]:
            rows.append((depvar, res.names[i][1], b[i], se[i]))
    rnames = _re_names(res, clusterid)
    j = 0
    for i in range(k, len(res.names)):
        eq = res.names[i][0]
        v = math.exp(2 * b[i])
        label = rnames[j] if eq.startswith("lns") and j < len(rnames) else f"var(e.{depvar})"
        if eq.startswith("lns"):
            j += 1
        rows.append(("/", label, v, 2 * v * se[i]))
    return rows


def _re_names(res, clusterid):
    """var(x[id]) ... var(_cons[id]) in mixed's order of the random terms."""
    terms = (res.macros.get("revars") or "").split()
    if not terms:
        terms = ["_cons"]
    return [f"var({t}[{clusterid}])" for t in terms]


def _cell(v, f):
    """v in the fixed format f; wider when it does not fit (as Stata's display widens %f)."""
    if not math.isfinite(v):
        return "."
    try:
        text = fmt(v, f).strip()
    except FormatError:
        text = "e"
    return text if "e" not in text else f"{v:.{int(f.split('.')[1][:-1])}f}"


def _stars(p):
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _stat(res, s):
    if s in ("aic", "bic"):
        row = ic_row(res, "")
        return row[5] if s == "aic" else row[6]
    v = res.scalars.get(s)
    return math.nan if v is None else float(v)


def table_lines(res, depvar, clusterid, gaussian, title, opts) -> list[str]:
    """estimates table model, stat() b(%10.4f) stf(%10.4f) [se t p | star] style(columns)
    varwidth(20) title()."""
    cw = 10 + (3 if opts.star else 0)
    top = "-" * (VW + 1) + "-" + "-" * (cw + 2) + "-"
    mid = "-" * (VW + 1) + "+" + "-" * (cw + 2) + "+"
    lines = [title, "", top, f"{'Variable':>{VW}} |" + f" {'model':^{cw}} |", mid]
    last = None
    for eq, nm, b, se in _params(res, depvar, clusterid, gaussian):
        if eq != last:
            if last is not None:
                lines.append(mid)
            lines.append(f"{eq[:VW]:<{VW}} |" + " " * (cw + 2) + "|")
            last = eq
        z = b / se if se > 0 else math.nan
        p = 2 * float(dist.norm_sf(abs(z))) if math.isfinite(z) else math.nan
        cell = _cell(b, "%10.4f")
        if opts.star:
            cell = f"{cell:>10}{_stars(p) if math.isfinite(p) else '':<3}"
        lines.append(f"{nm[-VW:]:>{VW}} |" + f" {cell:>{cw}} |")
        if not opts.star:
            for flag, v, f in ((opts.se, se, "%10.4f"), (opts.t, z, "%10.2f"), (opts.p, p, "%10.4f")):
                if flag:
                    lines.append(" " * VW + " |" + f" {_cell(v, f):>{cw}} |")
    stats = (opts.raw("stats") or "ll chi2 p aic bic").split()
    lines.append(mid)
    for s in stats:
        lines.append(f"{s[:VW]:>{VW}} |" + f" {_cell(_stat(res, s), '%10.4f'):>{cw}} |")
    lines.append(top)
    if opts.star:
        lines.append("legend: * p<0.05; ** p<0.01; *** p<0.001")
    else:
        shown = ["b"] + [n for n, f in (("se", opts.se), ("t", opts.t), ("p", opts.p)) if f]
        if len(shown) > 1:
            lines.append("legend: " + "/".join(shown))
    return lines


def _tests(out, res, depvar, used, cre) -> None:
    idx = {nm: i for i, (eq, nm) in enumerate(res.names) if i < res.k_f and not res.omitted[i]}
    b = np.asarray(res.b, dtype=float).ravel()
    V = np.asarray(res.V, dtype=float)
    out.line("")
    out.line("Tests of the random effects assumption:")
    for v in used:
        if cre:
            i = idx.get(f"D__{v}")
            if i is None or V[i, i] <= 0:
                continue
            chi2 = b[i] ** 2 / V[i, i]
            out.line(f"  _b[D__{v}] = 0; p-value: {fmt(float(dist.chi2_sf(chi2, 1)), '%6.4f')}")
            continue
        i, j = idx.get(f"B__{v}"), idx.get(f"W__{v}")
        if i is None or j is None:
            continue
        var = V[i, i] + V[j, j] - 2 * V[i, j]
        if var <= 0:
            continue
        chi2 = (b[i] - b[j]) ** 2 / var
        out.line(f"  _b[B__{v}] = _b[W__{v}]; p-value: {fmt(float(dist.chi2_sf(chi2, 1)), '%6.4f')}")
