"""svy: ologit and svy: mlogit: the pweighted pseudo-ML fit on the subpopulation
(engine.survey_categorical; observations outside it weigh nothing) and the linearized VCE
H^-1 G H^-1 from its scores, with G the design covariance of the weighted score totals
(engine.survey). e() as the command's own (cutpoints /cut#; one equation per outcome, the base
one's columns omitted) with svy's counts and macros; the model test is the adjusted Wald F on
the coefficients (not the cutpoints or constants), and the table shows t statistics on the
design df, as Stata's svy does."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from hlmshell.commands import svy_design as se_
from hlmshell.engine import survey
from hlmshell.errors import StataError
from hlmshell.output import svy_output as so

TITLES = {"ologit": "Ordered logistic regression", "mlogit": "Multinomial logistic regression"}


def run(session, ctx: se_.SvyRun, name: str) -> None:
    from hlmshell.commands import glm_cmds as gc
    from hlmshell.commands.estimation import VceRequest
    from hlmshell.commands.svy_models import _finish, _inner_level
    from hlmshell.syntax.parser import parse_command

    cmd = parse_command(ctx.inner)
    if cmd.weight is not None:
        raise StataError("weights can only be supplied to svyset", 198)
    given = list(cmd.options) + list(getattr(cmd.args, "fixed_options", None) or [])
    if any(o.name == "vce" or o.name.startswith(("cl", "rob")) or o.name == "r" for o in given):
        raise StataError(f"option vce() of {name} is not allowed with the svy prefix", 198)
    base = se_.design_sample(session, ctx.settings)
    mask = gc._prepare(session, cmd, name, keep=base)[4]
    fr = ctx.frame(session, mask)
    opts, depvar, design, column, mask, _, vlabels = gc._prepare(session, cmd, name, keep=fr.sample)
    if "constraints" in opts and opts.raw("constraints"):   # not fitted under the design here
        raise StataError("option constraints() not allowed", 198)
    y = np.asarray(column(depvar), dtype=float)
    w = fr.w * fr.sub
    fit_rows = w > 0
    values = np.unique(y[fit_rows])
    if len(values) < 2:
        raise StataError("outcome does not vary", 2000)
    if len(values) > 50:
        raise StataError("too many values", 134)
    codes = np.clip(np.searchsorted(values, y), 0, len(values) - 1)
    X = design.X_keep
    if int(fit_rows.sum()) <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    vce = VceRequest("robust")
    if name == "ologit":
        res = _ologit(cmd, design, depvar, mask, X, codes, values, w, fr, vce)
    else:
        res = _mlogit(session, cmd, opts, design, depvar, mask, X, codes, values, w, fr, vce)
    res.value_labels = vlabels
    test = [i for i, (eq, nm) in enumerate(res.names)
            if eq != "/" and nm != "_cons" and not res.omitted[i]]
    _finish(res, ctx, fr, name, TITLES[name], test)
    res.svy_display = (design, vlabels, bool(getattr(opts, "rrr", False)))
    level = _inner_level(given, ctx)
    session.post_estimation(res)
    se_.running_line(session, name)
    display(session, ctx.opts, level, res)


def _sandwich(fr, fit):
    try:
        bread = np.linalg.inv(fit.info)
    except np.linalg.LinAlgError:
        raise StataError("Hessian is not negative semidefinite", 430) from None
    return bread @ survey.score_variance(fr.design, fit.scores) @ bread.T


def _ologit(cmd, design, depvar, mask, X, codes, values, w, fr, vce):
    from hlmshell.commands import glm_extra
    from hlmshell.engine import survey_categorical as sc

    keep = [j for j, nm in enumerate(np.asarray(design.stata_names)[design.keep]) if nm != "_cons"]
    Xc = X[:, keep]
    try:
        fit = sc.ologit(Xc, codes, len(values), w)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError("could not calculate numerical derivatives -- discontinuous region "
                         "with missing values encountered", 430) from None
    V = _sandwich(fr, fit)
    fam = SimpleNamespace(n_extra=len(values) - 1)
    res = glm_extra._results(cmd, "ologit", depvar, design, mask, fit.x, V, fit.ll, np.nan, vce, None, fam,
                             Xc.shape[1])
    res.scalars["converged"] = float(fit.converged)
    return res


def _mlogit(session, cmd, opts, design, depvar, mask, X, codes, values, w, fr, vce):
    from hlmshell.commands import mlogit as ml
    from hlmshell.engine import survey_categorical as sc

    _, eqs = ml._outcomes(session.data, depvar, values)
    base = ml._base(values, values[codes][w > 0], opts)      # the most frequent in the subpopulation
    try:
        fit = sc.mlogit(X, codes, len(values), base, w)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError("could not calculate numerical derivatives -- flat or discontinuous "
                         "region encountered", 430) from None
    V = _sandwich(fr, fit)
    wrapped = SimpleNamespace(beta=fit.x.reshape(len(values) - 1, X.shape[1]), ll=fit.ll, ll_0=np.nan,
                              iterations=[fit.ll], converged=fit.converged)
    res = ml._results(cmd, depvar, design, mask, wrapped, V, values, eqs, base, vce, None)
    return res


def display(session, opts, level, res) -> None:
    """Header and table of svy: ologit / svy: mlogit (also their replay)."""
    from hlmshell import distributions as dist

    out = session.out
    sc = res.scalars
    if not opts.noheader:
        for ln in so.header_lines(res.macros["title"], sc, so.model_rows(sc, False), model_width=True):
            out.line(ln)
    if opts.notable:
        return
    out.line("")
    df = sc["df_r"]
    se = np.sqrt(np.clip(np.diag(res.V), 0, None))
    se = np.where(np.isfinite(np.diag(res.V)), se, np.nan)
    if res.cmd == "mlogit":
        rrr = bool(getattr(opts, "rrr", False)) or bool(getattr(res, "svy_display", (0, 0, False))[2])
        lines = _mlogit_lines(res, se, level, df, rrr)
    else:
        lines = _ologit_lines(res, se, level, df, float(dist.t_ppf(0.5 + level / 200.0, df)))
    for ln in lines:
        out.line(ln)
    if not np.all(np.isfinite(res.V)) and sc.get("singleton"):
        out.line(so.singleton_note())


def _ologit_lines(res, se, level, df, crit) -> list[str]:
    from hlmshell.commands.glm_extra import _reindex
    from hlmshell.output import me_output as meo
    from hlmshell.output.coeftable import coef_table
    from hlmshell.output.labels import display_groups

    design = res.svy_display[0] if getattr(res, "svy_display", None) else res.design
    kf = res.k_f
    groups = display_groups(design, baselevels=False, value_labels=getattr(res, "value_labels", {}))
    groups = [g for g in groups if not (g.header is None and g.rows and all(r.label == "_cons" for r in g.rows))]
    index = {nm: i for i, (eq, nm) in enumerate(res.names[:kf])}
    table = coef_table(res.macros["depvar"], _reindex(groups, design, index), res.b, se, stat="t", df_r=df,
                       level=level, vcetype="Linearized")
    extra = meo.extra_rows([(res.names[i][1], res.b[i], se[i]) for i in range(kf, len(res.names))], crit)
    return table[:-1] + extra + [table[-1]]


def _mlogit_lines(res, se, level, df, rrr: bool = False) -> list[str]:
    from hlmshell.commands.mlogit import _eq_groups
    from hlmshell.output import coeftable as ct
    from hlmshell.output.labels import display_groups

    design = res.design
    groups = display_groups(design, baselevels=False, value_labels=getattr(res, "value_labels", {}))
    kc = len(design.stata_names)
    eqs = res.macros["eqnames"].split()
    base = int(res.scalars["ibaseout"]) - 1
    lines = [ct.rule(), ct.vcetype_line("Linearized"),
             ct.column_header(res.macros["depvar"], "t", level, "RRR" if rrr else "Coefficient", "std. err.")]
    for j, eq in enumerate(eqs):
        lines.append(ct.rule("mid"))
        if j == base:
            lines.append(f"{ct.abbrev(eq, ct.NAME_W):<{ct.NAME_W}} |  (base outcome)")
            continue
        lines.append(f"{ct.abbrev(eq, ct.NAME_W):<{ct.NAME_W}} |")
        g = _eq_groups(groups, j * kc)
        if rrr:             # exp(b), exp(b) se and exp() of b's interval, t on the design df
            lines += so.eform_table(res.macros["depvar"], g, res.b, se, title="RRR", level=level, df=df)[4:-1]
        else:
            lines += ct.body_lines(g, res.b, se, stat="t", df_r=df, level=level)
    out = lines + [ct.rule()]
    if rrr and any(nm == "_cons" for _, nm in res.names):
        out.append("Note: _cons estimates baseline relative risk for each outcome.")
    return out
