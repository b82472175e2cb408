"""svy [linearized] [, subpop([varname] [if]) level(#) dof(#) noheader notable ...] : command

The survey prefix of Stata 17 with Taylor-linearized variances (hlmshell.engine.survey) over
the design svyset declared: strata, first-stage PSUs, pweights, fpc() and singleunit(). The
commands it runs are those people use with it: mean, proportion, total, ratio, regress, logit,
logistic, probit and poisson (commands.svy_descriptive and commands.svy_models). Point
estimates are the pweighted ones; observations outside subpop() stay in the design with zero
scores; t statistics and intervals use the design df, #PSU - #strata (or svyset's dof()).
e() holds what Stata posts (e(prefix) = "svy", e(N_pop), e(N_psu), e(N_strata), e(df_r), ...),
so test, lincom, margins and estimates work on it as after the command itself.
"""
from __future__ import annotations

from hlmshell.commands._postest import confidence_level
from hlmshell.commands.svy_design import OPTIONS, SvyRun
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import abbrev_match, command

SUPPORTED = ("mean", "proportion", "total", "ratio", "regress", "logit", "logistic", "probit", "poisson",
             "cloglog", "tabulate", "ologit", "mlogit")
# commands Stata's svy runs that hlmshell's does not (yet): said plainly, not as unsupported by svy
_STATA_SVY = ("oprobit", "mprobit", "nbreg", "gnbreg", "glm", "tobit",
              "intreg", "ivregress", "heckman", "heckprob", "biprobit", "zip", "zinb", "stcox", "streg",
              "cnsreg", "truncreg", "binreg", "betareg", "fracreg", "qreg", "gsem", "sem", "mixed",
              "melogit", "meprobit", "mepoisson", "meglm", "slogit", "clogit", "scobit", "hetprobit",
              "churdle", "tpoisson", "tnbreg", "ztp", "ztnb", "cpoisson", "ivprobit", "ivtobit")
_VCETYPES = (("linearized", 6), ("bootstrap", 4), ("brr", 3), ("jackknife", 4), ("sdr", 3))


@command("svy", byable=False, raw=True, family="Survey",
         desc="survey estimation prefix (linearized): mean, proportion, total, ratio, tabulate, regress, "
              "logit, logistic, probit, poisson, cloglog, ologit, mlogit", example="svy: mean x")
def svy_cmd(session, cmd):
    run(session, cmd.body)


def run(session, body: str) -> None:
    """svy [vcetype] [, options] : command -- or the replay when there is no colon."""
    from hlmshell.commands.simulate import command_name
    from hlmshell.commands.statsby import split_body
    from hlmshell.registry import bind_options
    from hlmshell.syntax.lexer import find_top
    from hlmshell.syntax.parser import parse_options

    if find_top(body, ":") < 0:
        return replay(session, body)
    spec, opt_text, inner = split_body(body)
    from hlmshell.commands.svyset import design
    settings = design(session.data)
    if not settings:
        raise StataError("data not set up for svy, use svyset", 119)
    _check_vcetype(spec.strip(), settings)
    opts = bind_options(OPTIONS, parse_options(opt_text), strict=True)
    name = command_name(inner)
    if name in _STATA_SVY:
        raise StataError(f"svy: {name} is not available in hlmshell; svy runs {', '.join(SUPPORTED)}", 198)
    if name not in SUPPORTED:
        raise StataError(f"{name} is not supported by svy with vce(linearized); see help svy "
                         "estimation for a list of Stata estimation commands that are supported by svy", 322)
    if opts.dof is not None and not opts.dof > 0:
        raise StataError("dof() must be a positive number", 198)
    ctx = SvyRun(settings, opts, confidence_level(session, opts), inner, body.strip())
    if name in ("mean", "proportion", "total", "ratio"):
        from hlmshell.commands import svy_descriptive
        svy_descriptive.run(session, ctx, name)
    elif name == "tabulate":
        from hlmshell.commands import svy_tabulate
        svy_tabulate.run(session, ctx)
    elif name in ("ologit", "mlogit"):
        from hlmshell.commands import svy_categorical
        svy_categorical.run(session, ctx, name)
    else:
        from hlmshell.commands import svy_models
        svy_models.run(session, ctx, name)


def replay(session, body: str) -> None:
    """`svy` typed alone (or `svy, level(90)`): the last svy results again."""
    from hlmshell.registry import bind_options
    from hlmshell.syntax.parser import parse_options

    body = body.strip()
    if body and not body.startswith(","):
        raise syntax_error()
    res = session.e
    if res is None or res.macros.get("prefix") != "svy":
        raise StataError("last estimates not found", 301)
    if res.cmd == "tabulate":
        from hlmshell.commands import svy_tabulate
        svy_tabulate.replay(session, body, res)
        return
    opts = bind_options(OPTIONS, parse_options(body[1:]), strict=True)
    level = confidence_level(session, opts)
    if res.cmd in ("mean", "proportion", "total", "ratio"):
        from hlmshell.commands import svy_descriptive
        svy_descriptive.display(session, opts, level, res)
    elif res.cmd in ("ologit", "mlogit"):
        from hlmshell.commands import svy_categorical
        svy_categorical.display(session, opts, level, res)
    else:
        from hlmshell.commands import svy_models
        svy_models.display(session, opts, level, res)


def _check_vcetype(word: str, settings: dict) -> None:
    if word:
        kind = next((v for v, n in _VCETYPES if abbrev_match(word, v, n)), None)
        if kind is None:
            raise syntax_error()
    else:
        kind = settings.get("vce", "linearized")
    if kind != "linearized":
        raise StataError(f"svy {kind}: only linearized variance estimation is available in hlmshell", 198)


