"""gsem: generalized structural equation models, the multilevel subset that courses use
(Stata 17's `gsem` with multilevel latent variables):

    gsem (write <- math M1[cid]) (science <- write math M2[cid])        // multilevel mediation
    gsem (y <- x c.x#M1[school] M1[school], logit), intmethod(laplace)  // random slope, logit
    gsem (write <- math) (science <- write math), vce(cluster cid)

Each response has its own family and link (gaussian, bernoulli logit/probit, poisson, ordinal
logit/probit); latent variables live at one cluster level, covary freely with one another
(Stata's default for exogenous latent variables; `cov(A[g]*B[g]@0)` or `covstructure(_LEx,
diagonal)` removes a covariance), and the first path of each latent variable has its loading
fixed at 1. Missing values are dropped equation-wise unless `listwise`.

The paths are read by gsem_paths, turned into the engine's model here, fitted by
engine.gsem_fit (exact likelihood when every response is gaussian, quadrature otherwise) and
shown by gsem_output; predict lives in gsem_predict.
"""
from __future__ import annotations

from hlmshell.commands import gsem_paths as gp
from hlmshell.commands._postest import confidence_level
from hlmshell.errors import StataError
from hlmshell.registry import Opt, bind_options, command
from hlmshell.syntax.ast import Command
from hlmshell.syntax.parser import fill_qualifiers
from hlmshell.syntax.varlist import expand_varlist

OPTIONS = (Opt("covariance", "cov", "string", None, "covariances: cov(M1[g]*M2[g]@0)"),
           Opt("covstructure", "covstr", "string", None, "covstructure(_LEx, diagonal|unstructured)"),
           Opt("means", "mean", "string", None, "means(M1[g]@0): the default"),
           Opt("latent", "lat", "string", None, "names of the latent variables"),
           Opt("family", "fam", "string", None, "default family of the responses"),
           Opt("link", "link", "string", None, "default link of the responses"),
           Opt("logit", "logit", desc="default: bernoulli responses, logit link"),
           Opt("probit", "probit", desc="default: bernoulli responses, probit link"),
           Opt("poisson", "poisson", desc="default: poisson responses"),
           Opt("ologit", "ologit", desc="default: ordinal responses, logit link"),
           Opt("oprobit", "oprobit", desc="default: ordinal responses, probit link"),
           Opt("regress", "regress", desc="default: gaussian responses"),
           Opt("noconstant", "nocons", desc="no intercepts"),
           Opt("intmethod", "intm", "string", None, "mvaghermite (default), mcaghermite, ghermite or laplace"),
           Opt("intpoints", "intp", "int", None, "integration points per latent variable; default 7"),
           Opt("vce", "vce", "string", None, "oim (default), robust or cluster clustvar"),
           Opt("listwise", "listwise", desc="drop observations with any missing model variable"),
           Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
           Opt("nolog", "nolog", desc="suppress the iteration log"),
           Opt("log", "log", desc="show the iteration log"),
           Opt("difficult", "dif", desc="accepted (the optimiser is hlmshell's)"),
           Opt("technique", "tech", "string", None, "accepted"),
           Opt("iterate", "iter", "int", None, "accepted"),
           Opt("tolerance", "tol", "real", None, "accepted"),
           Opt("ltolerance", "ltol", "real", None, "accepted"),
           Opt("startgrid", "startgrid", "string", None, "accepted"),
           Opt("nocnsreport", "nocnsr", desc="do not list the constraints"),
           Opt("noheader", "nohe", desc="suppress the header"),
           Opt("notable", "notable", desc="suppress the coefficient table"),
           Opt("coeflegend", "coefl", desc="display the legend of the coefficients"),
           Opt("nocapslatent", "nocaps", desc="not supported"))
_MULTI = ("covariance",)


def _collect(options):
    multi: dict[str, list[str]] = {k: [] for k in _MULTI}
    rest = []
    for o in options:
        spec = next((s for s in OPTIONS if s.matches(o.name)), None)
        if spec is None:
            raise StataError(f"option {o.name} not allowed", 198)
        if spec.name in _MULTI:
            if not (o.arg or "").strip():
                raise StataError(f"option {spec.name}() incorrectly specified", 198)
            multi[spec.name].append(o.arg)
        else:
            rest.append(o)
    return multi, bind_options(OPTIONS, rest)


def _default_family(opts) -> tuple[str | None, str | None]:
    text = " ".join(n for n in gp.SHORTCUTS if n in opts)
    if opts.raw("family"):
        text += f" family({opts.raw('family')})"
    if opts.raw("link"):
        text += f" link({opts.raw('link')})"
    fam, link, _ = gp.equation_options(text)
    return fam, link


def _one_var(ds, name: str) -> str:
    names = expand_varlist(ds, name)
    if len(names) != 1:
        raise StataError(f"{name} ambiguous abbreviation", 111)
    if ds.var(names[0]).is_string:
        raise StataError("string variables not allowed in varlist;", 109)
    return names[0]


def read_paths(session, body: str, opts) -> list[gp.EqSpec]:
    groups, rest = gp.split_groups(body)
    if rest.strip() or not groups:
        raise StataError("invalid path specification", 198)
    eqs = gp.merge([e for g in groups for e in gp.parse_group(g)])
    fam0, link0 = _default_family(opts)
    ds = session.data
    for e in eqs:
        e.depvar = _one_var(ds, e.depvar)
        e.family, e.link = gp.resolve_family(e.family or fam0, e.link or link0)
        e.noconstant = e.noconstant or bool(opts.noconstant)
        terms = [r.coef_name for r in e.latents]
        if len(set(terms)) != len(terms):
            raise StataError(f"{e.depvar}: a latent variable path is specified twice", 198)
        for ref in e.latents:
            if ">" in ref.group:
                raise StataError("nested latent variables (M[a>b]) are not available in "
                                 "hlmshell's gsem", 198)
            ref.group = _one_var(ds, ref.group)
            if ref.slope is not None:
                ref.slope = _one_var(ds, ref.slope)
    deps = [e.depvar for e in eqs]
    if len(set(deps)) != len(deps):
        raise StataError("invalid path specification", 198)
    _check_recursive(eqs)
    return eqs


def _check_recursive(eqs: list[gp.EqSpec]) -> None:
    """A response may be a covariate of another (mediation), but not in a loop."""
    deps = {e.depvar for e in eqs}
    uses = {e.depvar: {t.split(".")[-1] for t in e.observed} & deps for e in eqs}
    state: dict[str, int] = {}

    def visit(n):
        if state.get(n) == 1:
            raise StataError("nonrecursive models (feedback loops) are not available in "
                             "hlmshell's gsem", 198)
        if state.get(n) == 2:
            return
        state[n] = 1
        for m in uses.get(n, ()):
            visit(m)
        state[n] = 2
    for d in deps:
        visit(d)


def _latents(eqs: list[gp.EqSpec]) -> tuple[list[str], str | None]:
    labels: list[str] = []
    names: dict[str, str] = {}
    for e in eqs:
        for ref in e.latents:
            if names.setdefault(ref.name, ref.group) != ref.group:
                raise StataError(f"latent variable {ref.name} used with two levels", 198)
            if ref.label not in labels:
                labels.append(ref.label)
    groups = {names[n] for n in names}
    if len(groups) > 1:
        raise StataError("latent variables at more than one level are not available in "
                         "hlmshell's gsem", 198)
    return labels, (groups.pop() if groups else None)


def _cov_pairs(latents: list[str], multi: dict, opts) -> list[tuple[int, int]]:
    pairs = [(a, b) for b in range(len(latents)) for a in range(b)]
    cs = (opts.raw("covstructure") or "").strip()
    if cs:
        what, _, kind = cs.partition(",")
        kind = kind.strip().lower()
        if what.strip() not in ("_LEx", *latents) or not kind:
            raise StataError("invalid covstructure() specification", 198)
        if "diagonal".startswith(kind) and len(kind) >= 3:
            pairs = []
        elif not ("unstructured".startswith(kind) and len(kind) >= 2):
            raise StataError(f"covstructure({kind}) not allowed in hlmshell's gsem", 198)
    for text in multi["covariance"]:
        for a, b, fixed in gp.parse_covs(text):
            if a not in latents or b not in latents or a == b:
                raise StataError("invalid covariance() specification", 198)
            ia, ib = sorted((latents.index(a), latents.index(b)))
            if fixed == 0 and (ia, ib) in pairs:
                pairs.remove((ia, ib))
            elif fixed is None and (ia, ib) not in pairs:
                pairs.append((ia, ib))
    return pairs


@command("gsem", family="Estimation", raw=True, byable=True, options=OPTIONS, check_options=False,
         desc="generalized SEM, multilevel subset: (y <- x M1[g]) (z <- y x M2[g], logit)",
         example="gsem (write <- math M1[cid]) (science <- write math M2[cid])")
def gsem_cmd(session, cmd) -> None:
    from hlmshell.commands import gsem_fitting, gsem_output
    body = (cmd.body or "").strip()
    if not body or body.startswith(","):
        _replay(session, cmd)
        return
    c = Command(name="gsem")
    fill_qualifiers(c, cmd.body or "", allow_exp=False)
    if c.weight is not None:
        raise StataError("weights not allowed", 101)
    multi, opts = _collect(c.options)
    if opts.nocapslatent or opts.raw("latent"):
        raise StataError("latent variables without a level are not available in hlmshell's gsem", 198)
    level = confidence_level(session, opts)
    eqs = read_paths(session, c.body or "", opts)
    latents, gvar = _latents(eqs)
    if opts.raw("means") and not all(w.endswith("@0") for w in opts.raw("means").split()):
        raise StataError("means() of latent variables other than @0 are not available in "
                         "hlmshell's gsem", 198)
    req = gsem_fitting.Request(eqs, latents, gvar, _cov_pairs(latents, multi, opts),
                               _intmethod(opts), _vce(session, opts), bool(opts.listwise), level)
    res = gsem_fitting.fit_request(session, c, req, cmd.text)
    session.post_estimation(res)
    gsem_output.display(session, res, level, _flags(opts))


def _intmethod(opts) -> tuple[str, int]:
    m = (opts.raw("intmethod") or "mvaghermite").strip().lower()
    full = [f for f in ("mvaghermite", "mcaghermite", "ghermite", "laplace")
            if len(m) >= 2 and f.startswith(m)]
    if len(full) != 1:
        raise StataError(f"intmethod({m}) not allowed", 198)
    m = full[0]
    pts = 7 if opts.raw("intpoints") is None else int(opts.intpoints)
    if m == "laplace":
        pts = 1
    if not 1 <= pts <= 128:
        raise StataError("intpoints() must be an integer between 1 and 128", 198)
    return m, pts


def _vce(session, opts) -> tuple[str, str | None]:
    v = (opts.raw("vce") or "oim").strip()
    words = v.split()
    kind = words[0].lower() if words else "oim"
    if kind == "oim" and len(words) == 1:
        return "oim", None
    if "robust".startswith(kind) and len(kind) >= 1 and len(words) == 1:
        return "robust", None
    if "cluster".startswith(kind) and len(kind) >= 2 and len(words) == 2:
        return "cluster", _one_var(session.data, words[1])
    raise StataError(f"vcetype '{kind}' not allowed", 198)


def _flags(opts) -> dict:
    return {"log": not opts.nolog, "nocnsreport": opts.nocnsreport, "noheader": opts.noheader,
            "notable": opts.notable, "coeflegend": opts.coeflegend}


def _replay(session, cmd) -> None:
    from hlmshell.commands import gsem_output
    res = session.e
    if res is None or res.cmd != "gsem":
        raise StataError("last estimates not found", 301)
    c = Command(name="gsem")
    fill_qualifiers(c, cmd.body or "", allow_exp=False)
    _, opts = _collect(c.options)
    flags = _flags(opts)
    flags["log"] = False
    gsem_output.display(session, res, confidence_level(session, opts), flags)
