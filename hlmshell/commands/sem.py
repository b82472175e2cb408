"""sem: linear structural equation models by maximum likelihood (Stata 17's `sem`).

Growth-curve and multilevel courses fit latent growth curves and path models with it:

    sem (t1 <- i@1 s@0 _cons@0) (t2 <- i@1 s@1 _cons@0) ..., latent(i s) means(i s)
    sem (ppltrst <- A) (pplfair <- A) (pplhlp <- A), latent(A) standardized

The paths are read by sem_paths, turned into a RAM model by sem_build (Stata's default
constraints), fitted by engine.sem_fit on the N-divisor covariance matrix and means of the
listwise-complete sample (method(ml)), and shown by sem_output in Stata's layout. The fit
statistics of estat gof / eqgof live in sem_estat; predict (xb, latent) in sem_predict.
gsem is not part of hlmshell (r(199)).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import sem_paths as sp
from hlmshell.commands._postest import confidence_level
from hlmshell.commands.sem_build import SemSpec, build, starting_values
from hlmshell.errors import StataError
from hlmshell.registry import Opt, bind_options, command
from hlmshell.results import EstimationResults
from hlmshell.syntax.ast import Command
from hlmshell.syntax.evaluate import marksample
from hlmshell.syntax.parser import fill_qualifiers
from hlmshell.syntax.varlist import expand_varlist

OPTIONS = (Opt("latent", "lat", "string", None, "names of the latent variables"),
           Opt("nocapslatent", "nocaps", desc="names starting with a capital letter are not latent"),
           Opt("noconstant", "nocons", desc="no intercepts"),
           Opt("means", "mean", "string", None, "means of exogenous variables: means(L L@c)"),
           Opt("variance", "var", "string", None, "variances: var(e.y@a L@1)"),
           Opt("covariance", "cov", "string", None, "covariances: cov(e.y1*e.y2)"),
           Opt("covstructure", "covstr", "string", None, "covstructure(variables, structure)"),
           Opt("standardized", "stand", desc="standardized coefficients"),
           Opt("method", "meth", "string", None, "ml (the default) or mlmv (missing values)"),
           Opt("vce", "vce", "string", None, "oim (the default) or robust"),
           Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
           Opt("nolog", "nolog", desc="suppress the iteration log"),
           Opt("log", "log", desc="show the iteration log"),
           Opt("iterate", "iter", "int", None, "accepted"),
           Opt("nocnsreport", "nocnsr", desc="do not list the constraints"),
           Opt("noheader", "nohe", desc="suppress the header"),
           Opt("nodescribe", "nodescr", desc="suppress the list of variables"),
           Opt("nofootnote", "nofoot", desc="suppress the footnotes"),
           Opt("notable", "notable", desc="suppress the coefficient table"),
           Opt("heywood", "heywood", desc="allow negative error variances"),
           Opt("noxconditional", "noxcond", desc="estimate the observed exogenous moments"),
           Opt("group", "gr", "string", None, "fit the model in each group of varname"),
           Opt("ginvariant", "ginv", "string", None, "parameter classes equal across groups; default mcoef mcons"),
           Opt("coeflegend", "coefl", desc="display the legend of the coefficients"))
_MULTI = ("latent", "means", "variance", "covariance", "covstructure")


@dataclass
class SemRequest:
    spec: SemSpec
    level: float
    standardized: bool = False
    robust: bool = False
    log: bool = True
    opts: object = None
    method: str = "ml"
    group: tuple | None = None        # (variable, invariant classes)
    flags: dict = field(default_factory=dict)


def _collect(options) -> tuple[dict[str, list[str]], object]:
    """Repeatable options (var(), cov(), ...) gathered as lists; the rest bound once."""
    multi: dict[str, list[str]] = {k: [] for k in _MULTI}
    rest = []
    for o in options:
        spec = next((s for s in OPTIONS if s.matches(o.name)), None)
        if spec is None:
            raise StataError(f"option {o.name} not allowed", 198)
        if spec.name in _MULTI:
            if o.arg is None or not o.arg.strip():
                raise StataError(f"option {spec.name}() incorrectly specified", 198)
            multi[spec.name].append(o.arg)
        else:
            rest.append(o)
    return multi, bind_options(OPTIONS, rest)


def _resolve_names(session, edges, latent_opt: list[str], nocaps: bool):
    data = session.data
    latent = []
    for w in " ".join(latent_opt).split():
        if not w.isidentifier():
            raise StataError("invalid latent() specification", 198)
        latent.append(w)
    observed = []
    for e in edges:
        for t in (e.dep, e.src.name):
            if t == "_cons" or t in latent:
                continue
            if not nocaps and t[0].isupper():
                latent.append(t)
                continue
            name = expand_varlist(data, t)
            if len(name) != 1:
                raise StataError(f"{t} ambiguous abbreviation", 111)
            if name[0] != t:
                _rename(edges, t, name[0])
            if name[0] not in observed:
                observed.append(name[0])
    return latent, observed


def _expand_lists(session, group: str) -> str:
    """Variable lists inside a path (`x*`, `c1-c4`, `x?`): each word expanded against the data,
    its `@` constraint carried to every name."""
    import re
    text = group.replace("<-", " \x01 ").replace("->", " \x02 ")
    text = re.sub(r"\s*-\s*", "-", text).replace("\x01", "<-").replace("\x02", "->")
    out = []
    for w in text.split():
        name, at, con = w.partition("@")
        if w in ("<-", "->") or not re.search(r"[*?~]|\w-\w", name):
            out.append(w)
            continue
        names = expand_varlist(session.data, name)
        out += [n + at + con for n in names]
    return " ".join(out)


def _rename(edges, old, new):
    for e in edges:
        if e.dep == old:
            e.dep = new
        if e.src.name == old:
            e.src.name = new


def read_request(session, cmd) -> tuple[SemRequest, Command]:
    c = Command(name="sem")
    fill_qualifiers(c, cmd.body or "", allow_exp=False)
    if c.weight is not None:
        raise StataError("weights not allowed", 101)
    groups = sp.split_groups(c.body)
    if not groups:
        raise StataError("invalid path specification", 198)
    paths, path_opts = _path_options(groups)
    multi, opts = _collect(c.options)
    for k, v in path_opts.items():
        multi[k] = v + multi[k]
    if opts.raw("ginvariant") is not None and not opts.raw("group"):
        raise StataError("option ginvariant() requires option group()", 198)
    method = (opts.raw("method") or "ml").strip().lower()
    if method not in ("ml", "mlmv"):
        raise StataError(f"method({method}) not allowed; hlmshell's sem fits ml and mlmv", 198)
    vce = (opts.raw("vce") or "oim").strip().lower()
    if vce not in ("oim", "robust", "r", "rob", "robu", "robus"):
        raise StataError(f"vcetype '{vce}' not allowed", 198)
    edges = [e for g in paths for e in sp.parse_path(_expand_lists(session, g))]
    latent, observed = _resolve_names(session, edges, multi["latent"], opts.nocapslatent)
    spec = SemSpec(edges, latent, observed, noconstant=opts.noconstant,
                   variances=[t for a in multi["variance"] for t in sp.parse_terms(a)],
                   covs=[c3 for a in multi["covariance"] for c3 in sp.parse_covs(a)],
                   means=[t for a in multi["means"] for t in sp.parse_terms(a)],
                   covstructure=sp.parse_covstructure(multi["covstructure"]),
                   noxconditional=opts.noxconditional or method == "mlmv")
    _resolve_option_names(session, spec)
    req = SemRequest(spec, confidence_level(session, opts), opts.standardized,
                     vce.startswith("r"), not opts.nolog, opts)
    req.method = method
    if opts.raw("group"):
        from hlmshell.commands.sem_group import parse_ginvariant
        gv = expand_varlist(session.data, opts.raw("group"))
        if len(gv) != 1:
            raise StataError("option group() incorrectly specified", 198)
        if method != "ml":
            raise StataError("option group() is available with method(ml) only", 198)
        req.group = (gv[0], parse_ginvariant(opts.raw("ginvariant")))
    return req, c


def _path_options(groups: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The paths without their `, options`, and those options' var()/cov()/means() arguments
    (Stata reads `(y <- x, var(e.y@c))` as `(y <- x), var(e.y@c)`)."""
    paths, found = [], {k: [] for k in ("variance", "covariance", "means")}
    for g in groups:
        path, opt_text = sp.split_path_options(g)
        paths.append(path)
        if not opt_text:
            continue
        c = Command(name="sem")
        fill_qualifiers(c, ", " + opt_text, allow_exp=False)
        multi, rest = _collect(c.options)
        extra = [o.name for o in c.options
                 if next(s for s in OPTIONS if s.matches(o.name)).name not in found]
        if extra:
            raise StataError(f"option {extra[0]} not allowed within a path", 198)
        for k in found:
            found[k] += multi[k]
    return paths, found


def _resolve_option_names(session, spec: SemSpec) -> None:
    """Abbreviated observed names in var()/cov()/means() -> the full names used in paths."""
    def fix(name: str) -> str:
        pre = "e." if name.startswith("e.") else ""
        base = name[len(pre):]
        if base in spec.latent or base in spec.observed or sp.group_name(name):
            return name
        full = expand_varlist(session.data, base)
        return pre + full[0] if len(full) == 1 else name
    for t in spec.variances + spec.means:
        t.name = fix(t.name)
    spec.covs = [(fix(a), fix(b), sp.Term(fix(t.name), t.fixed, t.label)) for a, b, t in spec.covs]


@command("sem", family="Estimation", raw=True, byable=True, options=OPTIONS, check_options=False,
         desc="structural equation models (linear, ML): paths (y <- x) (L -> y1 y2), @ constraints",
         example="sem (t1 <- i@1 s@0 _cons@0) (t2 <- i@1 s@1 _cons@0) (t3 <- i@1 s@2 _cons@0), "
                 "latent(i s) means(i s)")
def sem_cmd(session, cmd) -> None:
    from hlmshell.commands import sem_output
    if not (cmd.body or "").strip() or (cmd.body or "").strip().startswith(","):
        _replay(session, cmd)
        return
    req, c = read_request(session, cmd)
    fitted = fit_request(session, req, c)
    res = fitted.results(cmd.text)
    session.post_estimation(res)
    sem_output.display(session, res, req.level, req.standardized, req.flags)


def _replay(session, cmd) -> None:
    from hlmshell.commands import sem_output
    res = session.e
    if res is None or res.cmd != "sem":
        raise StataError("last estimates not found", 301)
    c = Command(name="sem")
    fill_qualifiers(c, cmd.body or "", allow_exp=False)
    _, opts = _collect(c.options)
    sem_output.display(session, res, confidence_level(session, opts), opts.standardized,
                       {"nodescribe": True, "log": False})


def _sample(session, c: Command, obs: list[str], method: str) -> tuple[np.ndarray, np.ndarray]:
    """(estimation-sample mask, data matrix): listwise complete for ml; for mlmv every
    observation with at least one of the model's observed variables (NaN kept)."""
    for n in obs:
        if session.data.var(n).is_string:
            raise StataError("type mismatch", 109)
    if method == "ml":
        mask = np.asarray(marksample(session, c, obs), dtype=bool)
    else:
        mask = np.asarray(marksample(session, c, []), dtype=bool)
    X = np.column_stack([np.asarray(session.data.var(n).values, float)[mask] for n in obs])
    if method == "mlmv":
        keep = ~np.isnan(X).all(axis=1)
        idx = np.flatnonzero(mask)
        mask = np.zeros_like(mask)
        mask[idx[keep]] = True
        X = X[keep]
    if X.shape[0] == 0:
        raise StataError("no observations", 2000)
    if X.shape[0] < 2:
        raise StataError("insufficient observations", 2001)
    return mask, X


def _moments(X: np.ndarray, built, method: str):
    """What the fit works on and the saturated and baseline log likelihoods: the N-divisor
    covariance and means (ml), or the missing-value patterns with the saturated and baseline
    models fitted by full-information ML (mlmv)."""
    from hlmshell.engine import sem_fit, sem_model
    N = X.shape[0]
    exog = [built.names.index(n) for n in built.exo_obs]
    if method == "ml":
        xbar = X.mean(axis=0)
        S_N = np.cov(X, rowvar=False, bias=True).reshape(X.shape[1], X.shape[1])
        return (S_N, xbar, S_N, sem_model.saturated_loglik(S_N, N),
                sem_model.baseline_loglik(S_N, N, exog))
    pats = sem_model.patterns_of(X)
    xbar0 = np.nanmean(X, axis=0)
    var0 = np.nanvar(X, axis=0)
    if not np.all(np.isfinite(var0)) or np.any(var0 <= 0):
        raise StataError("no observations", 2000)
    ll_s, Sig, mu = sem_fit.moments_fit(pats, X.shape[1], None, xbar0, var0)
    ll_b = sem_fit.moments_fit(pats, X.shape[1], exog, xbar0, var0)[0]
    return pats, mu, Sig, ll_s, ll_b


def display_flags(req: SemRequest) -> dict:
    opts = req.opts
    return {"nodescribe": opts.nodescribe, "log": req.log, "nocnsreport": opts.nocnsreport,
            "noheader": opts.noheader, "nofootnote": opts.nofootnote,
            "notable": opts.notable, "coeflegend": opts.coeflegend}


def fit_request(session, req: SemRequest, c: Command):
    from hlmshell.commands.sem_results import FittedSem
    from hlmshell.engine import sem_fit
    req.flags = display_flags(req)
    if req.group is not None:
        from hlmshell.commands.sem_group_fit import fit_groups
        return fit_groups(session, req, c)
    built = build(req.spec)
    obs = built.names[:built.n_obs]
    mask, X = _sample(session, c, obs, req.method)
    N = X.shape[0]
    opts = req.opts
    data, xbar, S_fit, ll_sat, ll_base = _moments(X, built, req.method)
    try:
        fit = sem_fit.fit(built.model, starting_values(built, S_fit, xbar), data, xbar, N,
                          heywood=opts.heywood)
    except sem_fit.SemFitError as err:
        if "identified" in str(err):
            raise StataError("the model is not identified", 498) from None
        raise StataError("initial values not feasible", 1400) from None
    except np.linalg.LinAlgError:
        raise StataError("initial values not feasible", 1400) from None
    V = sem_fit.robust_vcov(built.model, fit, X) if req.robust else fit.V
    out = FittedSem(built, fit, V, X, S_fit, xbar, mask, req)
    out.ll_sat, out.ll_base = ll_sat, ll_base
    return out
