"""glm: generalized linear models (Stata 17's `glm`), family() x link() with Stata's names and
abbreviations, offset()/exposure(), scale(x2|dev|#), vce(oim|robust|cluster), irls, eform.

The fit is Fisher scoring (engine.glm_family); with Stata's default `ml` the standard errors come
from the observed information (OIM), with `irls` from the expected one (EIM). The scale
parameter multiplies the variance: 1 for the discrete families, Pearson X2/df for the
continuous ones (Gaussian, gamma, inverse Gaussian) unless scale() says otherwise. The
sandwich of vce(robust|cluster) is scale-free and carries Stata's n/(n-1) or G/(G-1) factor.
AIC = (-2 ll + 2k)/N and BIC = deviance - (N - k) ln N, as Stata's glm header shows them."""
from __future__ import annotations

import math

import numpy as np

from hlmshell.commands import glm_cmds
from hlmshell.commands.glm_cmds import _offset, _prepare
from hlmshell.engine import glm_family as gfm
from hlmshell.errors import StataError
from hlmshell.output import glm_family_output as gout
from hlmshell.output.coeftable import cluster_note, coef_table
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt
from hlmshell.results import EstimationResults

FAMILIES = (("gaussian", 3), ("igaussian", 2), ("binomial", 1), ("poisson", 1),
            ("nbinomial", 2), ("gamma", 3))
LINKS = (("identity", 1), ("logit", 1), ("log", 3), ("probit", 1), ("cloglog", 1),
         ("power", 3), ("opower", 3), ("nbinomial", 2), ("loglog", 4), ("logc", 4))
DEFAULT_LINK = {"gaussian": ("identity", 0.0), "binomial": ("logit", 0.0), "poisson": ("log", 0.0),
                "nbinomial": ("log", 0.0), "gamma": ("power", -1.0), "igaussian": ("power", -2.0)}
VARFUNC = {"gaussian": ("Gaussian", "1", "glim_v1"), "binomial": ("Binomial", "", "glim_v2"),
           "poisson": ("Poisson", "u", "glim_v3"), "gamma": ("Gamma", "u^2", "glim_v4"),
           "igaussian": ("Inverse Gaussian", "u^3", "glim_v5"),
           "nbinomial": ("Neg. Binomial", "", "glim_v6")}
CONTINUOUS = ("gaussian", "gamma", "igaussian")


def _word(text: str, table, what: str) -> str:
    w = text.strip().lower()
    if w in {full for full, _ in table}:
        return w
    for full, k in table:
        if len(w) >= k and full.startswith(w):
            return full
    raise StataError(f"unknown {what}() option", 198)


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise StataError(f"{what}() invalid", 198) from None


def parse_family(text: str | None, column, n: int):
    """(Family, binomial-denominator name or None) from family(name [arg])."""
    words = (text or "gaussian").split()
    name = _word(words[0], FAMILIES, "family") if words else "gaussian"
    arg = words[1:]
    if len(arg) > 1 or (arg and name not in ("binomial", "nbinomial")):
        raise StataError("invalid family() option", 198)
    fam = gfm.Family(name)
    if name == "binomial":
        fam.m = np.ones(n)
        if arg:
            try:
                fam.m = np.full(n, float(arg[0]))
                fam.m_text = arg[0]
            except ValueError:
                fam.m = np.asarray(column(arg[0]), dtype=float)
                fam.m_text = arg[0]
            fam.bernoulli = False
            if np.any(~np.isfinite(fam.m)) or np.any(fam.m <= 0) or np.any(fam.m != np.round(fam.m)):
                raise StataError("binomial denominator must be a positive integer", 499)
    if name == "nbinomial":
        if arg and arg[0].lower() == "ml":
            fam.nbml = True                 # alpha estimated first (nbreg's fit), then fixed
            return fam
        fam.k = _number(arg[0], "family") if arg else 1.0
        if fam.k <= 0:
            raise StataError("family(nbinomial #): # must be positive", 198)
    return fam


def parse_link(text: str | None, fam) -> gfm.Link:
    if not text or not text.strip():
        name, power = DEFAULT_LINK[fam.name]
        return gfm.make_link(name, power)
    words = text.split()
    name = _word(words[0], LINKS, "link")
    if name in ("power", "opower"):
        power = _number(words[1], "link") if len(words) == 2 else (1.0 if name == "power" else 0.0)
        if len(words) > 2:
            raise StataError("invalid link() option", 198)
        return gfm.make_link(name, power)
    if len(words) > 1:
        raise StataError("invalid link() option", 198)
    if name == "nbinomial":
        return gfm.make_link("nbinomial", fam.k)
    return gfm.make_link(name)


def _check_outcome(fam, y, depvar) -> None:
    bad = {"binomial": np.any(y < 0) or np.any(y > fam.m) if fam.m is not None else False,
           "poisson": np.any(y < 0), "nbinomial": np.any(y < 0),
           "gamma": np.any(y <= 0), "igaussian": np.any(y <= 0)}.get(fam.name, False)
    if bad:
        what = {"binomial": "outside the range [0, 1]" if fam.bernoulli else
                "outside the range [0, binomial denominator]",
                "gamma": "less than or equal to zero",
                "igaussian": "less than or equal to zero"}.get(fam.name, "negative")
        raise StataError(f"dependent variable {depvar} has values {what}", 459)


def _ml_alpha(y, X, off) -> float:
    """family(nbinomial ml): alpha of the negative binomial (mean dispersion) by maximum
    likelihood, as nbreg estimates it (engine.glmm.glm_fit with ln alpha as the family's own
    parameter), started at the Poisson fit."""
    import math as _m

    from hlmshell.engine import glmm
    from hlmshell.engine import glmm_families as gf
    data = glmm.GlmmData.build(y, X, np.zeros((len(y), 0)), np.zeros(len(y), dtype=np.int64),
                               offset=off)
    b0, _ = glmm.glm_newton(data, gf.family("poisson", "log"), np.zeros(X.shape[1]), [])
    try:
        with np.errstate(all="ignore"):
            x, _ = glmm.glm_fit(data, gf.family("nbinomial", "log"), np.r_[b0, 0.0], [])
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError("could not estimate the negative binomial parameter", 430) from None
    alpha = _m.exp(float(x[-1]))
    if not np.isfinite(alpha) or alpha <= 0:
        raise StataError("could not estimate the negative binomial parameter", 430)
    return alpha


def _scale(opts, fam, fit, df) -> tuple[float, str]:
    text = (opts.raw("scale") or "").strip().lower()
    if not text:
        text = "x2" if fam.name in CONTINUOUS else "1"
    if text == "x2":
        return fit.pearson / df, "x2"
    if text in ("dev", "deviance"):
        return fit.deviance / df, "dev"
    try:
        phi = float(text)
    except ValueError:
        raise StataError("scale() invalid", 198) from None
    if phi <= 0:
        raise StataError("scale() invalid", 198)
    return phi, "#"


def _replay(session, cmd) -> None:
    """`glm` or `glm, eform level(90)`: the active glm results shown again."""
    from hlmshell.commands._postest import active
    from hlmshell.output.coeftable import groups_from_names
    from hlmshell.registry import bind_command
    res = active(session)
    if res.cmd != "glm":
        raise StataError("last estimates not found", 301)
    opts = bind_command("glm", cmd.options)
    bad = [k for k in opts.given if k not in ("eform", "level")]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    sc, mac = res.scalars, res.macros
    fam_name = {"Bernoulli": "binomial", "Binomial": "binomial", "Poisson": "poisson",
                "Neg. Binomial": "nbinomial", "Gaussian": "gaussian", "Gamma": "gamma",
                "Inverse Gaussian": "igaussian"}[mac["varfunct"]]
    fam = gfm.Family(fam_name)
    link = gfm.Link(mac["link"], mac["linkt"], mac["linkf"], sc.get("power", 0.0))
    kind = "#"
    if fam_name not in CONTINUOUS and sc["phi"] != 1.0:
        kind = "x2" if sc["phi"] == sc["dispers_p"] else "dev" if sc["phi"] == sc["dispers"] else "#"
    groups = groups_from_names([nm for _, nm in res.names])
    _display(session, res, groups, float(opts.level), opts.eform, fam, link, kind)


def _run(session, cmd, name: str) -> None:
    from hlmshell.commands.estimation import _split_spec
    if _split_spec(session, cmd)[0] is None:
        _replay(session, cmd)
        return
    opts, depvar, design, column, mask, vce, vlabels = _prepare(session, cmd, name)
    n = int(mask.sum())
    fam = parse_family(opts.raw("family"), column, n)
    link = parse_link(opts.raw("link"), fam)
    y = np.asarray(column(depvar), dtype=float)
    _check_outcome(fam, y, depvar)
    off = _offset(opts, column, n)
    X = design.X_keep
    if n <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    if getattr(fam, "nbml", False):
        fam.k = _ml_alpha(y, X, off)
        link = parse_link(opts.raw("link"), fam)
    from hlmshell.commands import constraint as cn
    cns = cn.prepare(session, opts.raw("constraints"), [(depvar, nm) for nm in design.stata_names],
                     design.omitted)
    if cns is not None:           # over b = T a + t: the design X T, X t joins the offset
        X, off = X @ cns.basis.T, off + X @ cns.basis.t
    k = X.shape[1]
    try:
        with np.errstate(all="ignore"):
            fit = gfm.fit(y, X, off, fam, link, maxit=opts.iterate)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError("could not find feasible values", 430) from None
    df = n - k
    phi, scale_kind = _scale(opts, fam, fit, df)
    ll = fam.loglik(y, fit.mu, fit.pearson / df, fit.deviance)
    irls = bool(opts.irls)
    info = fit.info_eim if irls else fit.info_oim
    try:
        V = phi * np.linalg.inv(info)
    except np.linalg.LinAlgError:
        raise StataError("Hessian is not negative semidefinite", 430) from None
    if not np.all(np.isfinite(V)):
        raise StataError("Hessian is not negative semidefinite", 430)
    _log(session, opts, fam, link, y, X, off, fit, df, irls, vce.robust)
    n_clust = None
    if vce.robust:
        V, n_clust = glm_cmds._sandwich(V / phi, fit.scores,
                                        column(vce.clustvar) if vce.clustvar else None)
    if cns is not None:
        fit, V = _expand(fit, V, cns.basis)
    res = _results(cmd, depvar, design, mask, fit, V, ll, phi, df, fam, link, irls, vce, n_clust)
    cn.post_ml(res, cns, opts.nocnsreport)
    glm_cmds.offset_macros(res, opts)
    session.post_estimation(res)
    _display(session, res, display_groups(design, baselevels=False, value_labels=vlabels),
             float(opts.level), opts.eform, fam, link, scale_kind)


def _expand(fit, V, B):
    """A fit over the constraints' free parameters back in e(b)'s coefficients."""
    import dataclasses
    return dataclasses.replace(fit, beta=B.expand(fit.beta)), B.T @ V @ B.T.T


def _log(session, opts, fam, link, y, X, off, fit, df, irls, robust) -> None:
    if opts.nolog and not opts.log:
        return
    out = session.out
    out.line("")
    if irls:
        for i, d in enumerate(fit.devs):
            out.line(gout.deviance_line(i + 1, d))
        return
    for i, b in enumerate(fit.betas):
        f = gfm.finish(y, X, off, fam, link, b)
        out.line(glm_cmds.go.iteration_line(i, fam.loglik(y, f.mu, f.pearson / df, f.deviance),
                                            robust))


def _results(cmd, depvar, design, mask, fit, V, ll, phi, df, fam, link, irls, vce, n_clust):
    names = [(depvar, nm) for nm in design.stata_names]
    kk = len(names)
    keep = np.flatnonzero(design.keep)
    b = np.zeros(kk)
    b[keep] = fit.beta
    Vf = np.zeros((kk, kk))
    Vf[np.ix_(keep, keep)] = V
    res = EstimationResults(cmd="glm", names=names, b=b, V=Vf, omitted=design.omitted.copy(),
                            k_f=kk, sample=mask.copy())
    n = float(mask.sum())
    k = len(keep)
    has_cons = any(names[i][1] == "_cons" for i in keep)
    vtitle, vform, vprog = VARFUNC[fam.name]
    if fam.name == "binomial":
        vtitle = "Bernoulli" if fam.bernoulli else "Binomial"
        vform = "u*(1-u)" if fam.bernoulli else f"u*(1-u/{fam.m_text})"
    if fam.name == "nbinomial":
        vform = f"u+({fmt_g(fam.k, 9)})u^2"
    res.scalars = {"N": n, "k": float(k), "df_m": float(k - 1 if has_cons else k), "df": float(df),
                   "phi": phi, "aic": (-2 * ll + 2 * k) / n, "bic": fit.deviance - df * math.log(n),
                   "ll": ll, "deviance": fit.deviance, "deviance_s": fit.deviance / phi,
                   "deviance_p": fit.pearson, "deviance_ps": fit.pearson / phi,
                   "dispers": fit.deviance / df, "dispers_s": fit.deviance / df / phi,
                   "dispers_p": fit.pearson / df, "dispers_ps": fit.pearson / df / phi,
                   "nbml": 1.0 if getattr(fam, "nbml", False) else 0.0, "vf": 1.0, "power": float(link.power), "rank": float(k),
                   "ic": float(fit.iterations), "converged": 1.0 if fit.converged else 0.0, "rc": 0.0}
    res.macros = {"cmd": "glm", "cmdline": cmd.text, "depvar": depvar,
                  "title": "Generalized linear models", "varfunc": vprog, "varfunct": vtitle,
                  "varfuncf": vform, "link": link.name, "linkt": link.title, "linkf": link.formula,
                  "m": fam.m_text if fam.name == "binomial" else "", "opt": "irls" if irls else "ml",
                  "opt1": "MQL Fisher scoring" if irls else "ML",
                  "vce": vce.kind or ("eim" if irls else "oim"), "properties": "b V",
                  "predict": "glm_p"}
    if irls:
        res.macros["opt2"] = "(IRLS EIM)"
        res.scalars.pop("ll")
        res.scalars.pop("aic")
    glm_cmds.robust_macros(res, vce, n_clust)
    return res


def _eform_title(fam, link) -> str:
    if link.name == "logit" and fam.name == "binomial":
        return "Odds ratio"
    if link.name == "log" and fam.name in ("poisson", "nbinomial"):
        return "IRR"
    if link.name == "log" and fam.name == "binomial":
        return "Risk ratio"
    return "exp(b)"


def _display(session, res, groups, level, eform, fam, link, scale_kind) -> None:
    out = session.out
    robust = bool(res.macros.get("vcetype"))
    out.line("")
    for line in gout.header_lines(res.scalars, res.macros, robust):
        out.line(line)
    out.line("")
    from hlmshell.commands import constraint as cn
    for line in cn.report_lines(res):
        out.line(line)
    if res.scalars.get("N_clust"):
        out.line(cluster_note(int(res.scalars["N_clust"]), res.macros["clustvar"]))
    groups = cn.mark_groups(groups, res)
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    vt = res.macros.get("vcetype") or ("EIM" if res.macros["opt"] == "irls" else "OIM")
    if eform:
        lines = eform_table(res.depvar, groups, res.b, se, title=_eform_title(fam, link),
                            level=level, vcetype=vt)
    else:
        lines = coef_table(res.depvar, groups, res.b, se, stat="z", level=level, vcetype=vt)
    for line in lines[:-1] + glm_cmds.go.offset_rows(res.macros.get("offset")) + lines[-1:]:
        out.line(line)
    if getattr(fam, "nbml", False):
        out.line("Note: Negative binomial parameter estimated via ML and treated as fixed once "
                 "estimated.")
    if not robust and fam.name not in CONTINUOUS and scale_kind in ("x2", "dev"):
        what = "Pearson X2-based" if scale_kind == "x2" else "deviance-based"
        out.line(f"(Standard errors scaled using square root of {what} dispersion.)")


def _opts():
    base = tuple(o for o in glm_cmds._opts("probit") if o.name != "level")
    return base + (
        Opt("level", "le", "real", 95, "set confidence level; default is level(95)"),
        Opt("family", "f", "string", "gaussian", "distribution: gaussian, igaussian, binomial [#|var], "
            "poisson, nbinomial [#], gamma"),
        Opt("link", "l", "string", None, "identity, log, logit, probit, cloglog, power #, "
            "opower #, nbinomial, loglog, logc"),
        Opt("exposure", "exp", "string", None, "include ln(varname) with coefficient 1"),
        Opt("eform", "ef", desc="report exponentiated coefficients"),
        Opt("irls", desc="iterated, reweighted least squares (EIM standard errors)"),
        Opt("ml", desc="maximum likelihood (OIM standard errors); the default"),
        Opt("scale", "sca", "string", None, "scale parameter: x2, dev or #"))


glm_cmd = glm_cmds.register("glm", "generalized linear models",
                            "glm deaths uvb, family(poisson) exposure(expected)", _run, _opts())
