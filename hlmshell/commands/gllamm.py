"""gllamm (Rabe-Hesketh, Skrondal & Pickles; SSC), built in for its common uses: multilevel
generalized linear models with random intercepts and (through `eq` equations) random slopes,
at one or several nested levels (`i(class school)`, lowest level first).

Why a front end and not a second engine: the model gllamm fits is the one melogit, meprobit,
mecloglog, mepoisson, meologit, meoprobit (engine.glmm / engine.glmm_multi) and, for the
Gaussian family, mixed (exact ML) fit. gllamm's default quadrature is ordinary Gauss-Hermite
with nip(8) points (the me* commands' intmethod(ghermite) intpoints(8)); `adapt` is adaptive
quadrature at the posterior means and variances (intmethod(mvaghermite)). The command is
handed to the me* command (commands.me_glmm) or mixed with those options, its log kept, and
the results re-posted in gllamm's parametrisation (commands.gllamm_params): the fixed part
under the depvar, `lns1:_cons` (log level-1 SD, Gaussian), then per level the Cholesky factor
of the random effects' covariance (`scho1:_cons` for a random intercept without eqs();
`sch1_1:cons`, `sch1_2:ses`, `sch1_2_1:_cons` with eqs()), e(V) by the delta method.
The display (commands.gllamm_display) is gllamm's: units per level, the condition number,
`gllamm model`, the log likelihood, the fixed-effects table and the variances and
covariances of the random effects. Predictions: commands.gllapred.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import gllamm_eq
from hlmshell.errors import StataError
from hlmshell.registry import Opt, bind_command, command

FAMILIES = (("gaussian", 3, "gauss"), ("normal", 3, "gauss"), ("binomial", 3, "binom"),
            ("poisson", 3, "poiss"), ("gamma", 3, "gamma"))
LINKS = (("identity", 2, "ident"), ("logit", 4, "logit"), ("probit", 3, "probit"),
         ("cll", 3, "cll"), ("log", 3, "log"), ("ologit", 3, "ologit"),
         ("oprobit", 3, "oprobit"), ("ocll", 3, "ocll"), ("reciprocal", 3, "recip"),
         ("ll", 2, "ll"), ("mlogit", 3, "mlogit"), ("sprobit", 3, "sprobit"),
         ("soprobit", 3, "soprobit"))
DEFAULT_LINK = {"gauss": "ident", "binom": "logit", "poiss": "log", "gamma": "recip"}
# (family, link) -> the command that fits it
ME_COMMAND = {("binom", "logit"): "melogit", ("binom", "probit"): "meprobit",
              ("binom", "cll"): "mecloglog", ("poiss", "log"): "mepoisson",
              ("binom", "ologit"): "meologit", ("binom", "oprobit"): "meoprobit",
              ("gauss", "ident"): "mixed"}

_OPTIONS = (
    Opt("i", "i", "string", None, "the level variables, lowest level first (required)"),
    Opt("nrf", "nr", "string", None, "number of random effects at each level above 1"),
    Opt("eqs", "e", "string", None, "equations (eq) for the random effects' variables"),
    Opt("geqs", "ge", "string", None, "regressions of random effects (not available)"),
    Opt("family", "f", "string", None, "gaussian, binomial, poisson (gamma not available)"),
    Opt("link", "l", "string", None, "identity, logit, probit, cll, log, ologit, oprobit"),
    Opt("denom", "de", "string", None, "binomial denominator variable"),
    Opt("offset", "o", "string", None, "offset variable"),
    Opt("nip", "ni", "string", None, "number of quadrature points (default 8)"),
    Opt("ip", "ip", "string", None, "quadrature: g (Gauss-Hermite, the only one here)"),
    Opt("adapt", "ad", desc="adaptive quadrature (posterior means and variances)"),
    Opt("nocorrel", "nocor", desc="uncorrelated random effects within a level"),
    Opt("noconstant", "nocons", desc="no constant in the fixed part"),
    Opt("weight", "we", "string", None, "weight variables: stub1 (level 1), stub2, ..."),
    Opt("pweight", "pwe", "string", None, "sampling weight variables: stub1, stub2, ..."),
    Opt("robust", "rob", desc="sandwich standard errors"),
    Opt("cluster", "clu", "string", None, "sandwich standard errors clustered on varname"),
    Opt("from", "fr", "string", None, "starting values (checked; the fit starts from the "
                                       "fixed-effects model and reaches the same maximum)"),
    Opt("copy", desc="from() values taken by position"),
    Opt("skip", desc="from() values matched by name, extra ones skipped"),
    Opt("long", desc="accepted: from() in the long form"),
    Opt("iterate", "it", "int", 300, "maximum number of iterations"),
    Opt("trace", "tr", desc="accepted: the model information is not shown"),
    Opt("nolog", "nolo", desc="do not show the iteration log"),
    Opt("log", desc="show the iteration log; the default"),
    Opt("dots", "do", desc="accepted for compatibility"),
    Opt("nodisplay", "nodis", desc="do not display the results"),
    Opt("eform", desc="exponentiated fixed effects"),
    Opt("allc", desc="also show every estimated parameter as estimated"),
    Opt("level", "le", "real", 95, "confidence level"),
    Opt("init", "in", desc="fit only the fixed-effects model (starting values)"),
    Opt("adoonly", desc="accepted for compatibility"),
    Opt("eval", "ev", desc="not available"),
)


@dataclass
class GllammSpec:
    """What gllamm was asked to fit, in its own terms (levels lowest first)."""

    depvar: str
    fixed: list[str]
    levels: list[str]                       # i(): level 2, level 3, ...
    nrf: list[int]
    eqvars: list[list[str]]                 # per level: one variable per random effect ([] none)
    eqs_given: bool
    family: str
    link: str
    nip: int
    adapt: bool
    correl: bool
    noconstant: bool
    denom: str | None = None
    offset: str | None = None
    wtype: str | None = None                # fweight (weight()) or pweight (pweight())
    wvar: str | None = None
    robust: bool = False
    cluster: str | None = None
    options: object = None
    extra: dict = field(default_factory=dict)


def _word(text: str, table, what: str) -> str:
    w = (text or "").strip().lower()
    for full, k, code in table:
        if len(w) >= min(k, len(full)) and full.startswith(w):
            return code
    raise StataError(f"unknown {what} {text.strip()}", 198)


def _family_link(opts) -> tuple[str, str]:
    fam_t, link_t = opts.raw("family"), opts.raw("link")
    if fam_t and len(fam_t.split()) > 1 or link_t and len(link_t.split()) > 1:
        raise StataError("several families or links (fv(), lv()) are not available", 198)
    fam = _word(fam_t, FAMILIES, "family") if fam_t else None
    link = _word(link_t, LINKS, "link") if link_t else None
    if link in ("ologit", "oprobit", "ocll"):
        fam = fam or "binom"
    fam = fam or "gauss"
    link = link or DEFAULT_LINK[fam]
    if link == "ocll":
        raise StataError("link(ocll) is not available; use ologit or oprobit", 198)
    if (fam, link) not in ME_COMMAND:
        raise StataError(f"family({fam}) link({link}) is not available", 198)
    return fam, link


def _ints(text: str | None, what: str) -> list[int]:
    out = []
    for w in (text or "").replace(",", " ").split():
        try:
            v = int(w)
        except ValueError:
            raise StataError(f"{what}() invalid", 198) from None
        if v < 1:
            raise StataError(f"{what}() invalid", 198)
        out.append(v)
    return out


def _nip(opts, nlev: int) -> int:
    vals = _ints(opts.raw("nip"), "nip")
    if not vals:
        return 8
    if len(vals) not in (1, nlev):
        raise StataError(f"option nip() has {len(vals)} arguments, need 1 or {nlev}", 198)
    if len(set(vals)) > 1:
        raise StataError("different numbers of quadrature points per level are not available", 198)
    if not 1 <= vals[0] <= 195:
        raise StataError("nip() must be between 1 and 195", 198)
    return vals[0]


def _levels(session, opts) -> list[str]:
    from hlmshell.commands.model_terms import resolve_var
    text = opts.raw("i")
    if not text or not text.strip():
        raise StataError("option i() required", 198)
    levels = resolve_var(session.data, text)
    if len(set(levels)) != len(levels):
        raise StataError("i() repeats a variable", 198)
    return levels


def _random_design(session, opts, nlev: int) -> tuple[list[int], list[list[str]], bool]:
    """nrf() per level and each random effect's variable (from eqs(); none for intercepts)."""
    nrf = _ints(opts.raw("nrf"), "nrf") or [1] * nlev
    if len(nrf) != nlev:
        raise StataError(f"option nrf() does not contain {nlev} argument(s)", 198)
    names = (opts.raw("eqs") or "").split()
    if not names:
        if any(k > 1 for k in nrf):
            raise StataError("eqs() option required", 198)
        return nrf, [[] for _ in range(nlev)], False
    if len(names) != sum(nrf):
        raise StataError(f"{len(names)} equations specified: {' '.join(names)}, need {sum(nrf)}",
                         198)
    per, pos = [], 0
    for k in nrf:
        vars_ = []
        for nm in names[pos:pos + k]:
            ev = gllamm_eq.lookup(session, nm)
            if len(ev) > 1:
                raise StataError(f"equation {nm} has several variables: factor loadings are "
                                 "not available", 198)
            vars_.append(ev[0] if ev else "_cons")
        per.append(vars_)
        pos += k
    return nrf, per, True


def _one_var(session, text: str | None) -> str | None:
    from hlmshell.commands.model_terms import resolve_var
    if not text or not text.strip():
        return None
    v = resolve_var(session.data, text.strip())
    if len(v) != 1:
        raise StataError("too many variables specified", 103)
    return v[0]


def _weights(session, opts) -> tuple[str | None, str | None]:
    """weight(stub)/pweight(stub): stub1 is the level-1 weight; higher-level ones refused."""
    for key, kind in (("weight", "fweight"), ("pweight", "pweight")):
        stub = (opts.raw(key) or "").strip()
        if not stub:
            continue
        ds = session.data
        have = [j for j in range(1, 10) if f"{stub}{j}" in ds]
        if not have:
            raise StataError(f"weight variables {stub} not found", 111)
        if have != [1]:
            raise StataError("weights above level 1 are not available", 198)
        return kind, f"{stub}1"
    return None, None


def parse(session, cmd) -> GllammSpec:
    from hlmshell.commands.estimation import _split_spec
    spec, fixed_raw = _split_spec(session, cmd)
    opts = bind_command("gllamm", list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    if spec.levels:
        raise StataError("invalid syntax", 198)
    for bad in ("geqs", "eval"):
        if bad in opts.given:
            raise StataError(f"option {bad}() is not available", 198)
    if (opts.raw("ip") or "g").strip().lower() not in ("g", ""):
        raise StataError("only ip(g) (Gauss-Hermite quadrature) is available", 198)
    levels = _levels(session, opts)
    fam, link = _family_link(opts)
    nrf, eqvars, eqs_given = _random_design(session, opts, len(levels))
    wtype, wvar = _weights(session, opts)
    g = GllammSpec(depvar=spec.depvar, fixed=[str(t) for t in fixed_raw], levels=levels, nrf=nrf,
                   eqvars=eqvars, eqs_given=eqs_given, family=fam, link=link,
                   nip=_nip(opts, len(levels)), adapt=bool(opts.adapt),
                   correl=not opts.nocorrel, noconstant=bool(opts.noconstant),
                   denom=_one_var(session, opts.raw("denom")),
                   offset=_one_var(session, opts.raw("offset")), wtype=wtype, wvar=wvar,
                   robust=bool(opts.robust) or wtype == "pweight",
                   cluster=_one_var(session, opts.raw("cluster")), options=opts)
    if g.link in ("ologit", "oprobit"):
        g.noconstant = True
    if g.denom and g.family != "binom":
        g.denom = None                       # gllamm: a note, the option ignored
    return g


# --------------------------------------------------------------------------- the me command
def _level_text(g: GllammSpec, k: int) -> str:
    """`|| school: cons ses, nocons cov(un)` for level k (gllamm order)."""
    clus = g.levels[k]
    vars_ = g.eqvars[k]
    if not vars_:
        return f"|| {clus}:"
    if vars_ == ["_cons"]:
        return f"|| {clus}:"
    terms = [v for v in vars_ if v != "_cons"]
    nocons = "_cons" not in vars_
    if "_cons" in vars_ and vars_.index("_cons") != 0:
        raise StataError("an empty equation (the intercept) must come first in eqs()", 198)
    cov = "unstructured" if g.correl and len(vars_) > 1 else "independent"
    opts = " ".join(x for x in ("nocons" if nocons else "", f"cov({cov})") if x)
    return f"|| {clus}: {' '.join(terms)}, {opts}"


def me_command(session, cmd, g: GllammSpec):
    """The me*/mixed Command that fits gllamm's model (levels outermost first)."""
    from hlmshell.syntax.ast import Option, Weight
    from hlmshell.syntax.parser import parse_expr, parse_mixed
    name = ME_COMMAND[(g.family, g.link)]
    ordinal = g.link in ("ologit", "oprobit")
    head = " ".join([g.depvar] + g.fixed) + (", nocons" if g.noconstant and not ordinal else "")
    body = head + " " + " ".join(_level_text(g, k) for k in reversed(range(len(g.levels))))
    options = []
    if name == "mixed":
        options.append(Option("mle"))
    else:
        options += [Option("intmethod", "mvaghermite" if g.adapt else "ghermite"),
                    Option("intpoints", str(g.nip))]
        if g.denom:
            options.append(Option("binomial", g.denom))
    if g.offset:
        if name == "mixed":
            raise StataError("offset() is not available with the gaussian family", 198)
        options.append(Option("offset", g.offset))
    if g.cluster:
        options.append(Option("vce", f"cluster {g.cluster}"))
    elif g.robust and g.wtype != "pweight":
        options.append(Option("vce", "robust"))
    opts = g.options
    if opts.nolog and not opts.log:
        options.append(Option("nolog"))
    if "iterate" in opts.given:
        options.append(Option("iterate", str(opts.iterate)))
    me_cmd = copy.copy(cmd)
    me_cmd.name = me_cmd.typed = name
    me_cmd.args = parse_mixed(body, me_cmd)      # (which resets the qualifiers: kept)
    me_cmd.if_, me_cmd.in_ = cmd.if_, cmd.in_
    me_cmd.body = body
    me_cmd.options = options
    me_cmd.opts = None
    me_cmd.weight = Weight(g.wtype, parse_expr(g.wvar)) if g.wvar else None
    return name, me_cmd


def run_me(session, name: str, me_cmd) -> list[str]:
    """Fit with the me* command (or mixed), its printed lines kept (the log)."""
    from hlmshell.output.writer import Capture
    outer = session.out
    cap = Capture()
    session.out = cap
    try:
        if name == "mixed":
            from hlmshell.commands.estimation import mixed_cmd
            mixed_cmd(session, me_cmd)
        else:
            from hlmshell.commands import me_glmm
            me_glmm._run(session, me_cmd, name)
    finally:
        session.out = outer
    return cap.getvalue().split("\n")


def _log_lines(lines: list[str], adapt: bool, ll: float) -> list[str]:
    """gllamm's log: the full model's iterations (adaptive: `Running adaptive quadrature`,
    then the Newton-Raphson step at the converged adaptation)."""
    from hlmshell.output.numfmt import fmt_g
    start = next((i for i, ln in enumerate(lines) if ln.startswith(("Fitting full model:",
                                                                       "Performing"))), None)
    its = [ln for ln in lines[(start or 0):] if ln.startswith("Iteration")]
    notes = [ln for ln in lines if ln.startswith("convergence not achieved")]
    if not adapt:
        return its + notes
    return (["Running adaptive quadrature"] + its
            + ["Adaptive quadrature has converged, running Newton-Raphson",
               f"Iteration 0:   log likelihood = {fmt_g(ll, 10).strip()}"] + notes)


# --------------------------------------------------------------------------- the command
def _run(session, cmd) -> None:
    from hlmshell.commands.estimation import _split_spec
    from hlmshell.commands import gllamm_display as gd
    from hlmshell.commands import gllamm_params as gp
    if _split_spec(session, cmd)[0] is None:
        gd.replay(session, cmd)
        return
    g = parse(session, cmd)
    if g.options.init:
        raise StataError("option init is not available: gllamm's starting-value model is not "
                         "kept", 198)
    name, me_cmd = me_command(session, cmd, g)
    before = session.e
    try:
        lines = run_me(session, name, me_cmd)
        me_res = session.e
        res = gp.gllamm_results(cmd, g, name, me_res)
        if g.options.raw("from"):
            gp.check_from(session, g, len(res.names))
        gp.add_units(res, session.data)
    except StataError:
        session.e = before
        raise
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        session.e = before
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    session.post_estimation(res)
    if g.family == "gauss" and not g.adapt:
        session.out.line("note: the Gaussian model is fitted by exact maximum likelihood (what "
                         "adapt gives); ordinary quadrature is not used for it")
    if not (g.options.nolog and not g.options.log):
        for line in _log_lines(lines, g.adapt, res.scalars["ll"]):
            session.out.line(line)
    if not g.options.nodisplay:
        gd.display(session, res, g.options)


@command("gllamm", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="generalized linear latent and mixed models (SSC; random intercepts and slopes)",
         example="gllamm y x, i(school) family(binomial) link(logit) adapt",
         options=_OPTIONS)
def gllamm_cmd(session, cmd) -> None:
    _run(session, cmd)
