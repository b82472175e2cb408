"""teffects output: the `Treatment-effects estimation` header (estimator, outcome and
treatment models; for the matching estimators the matches requested, min and max beside it)
and the table, whose first sections are the effects (ATE/ATET as `(treated vs control)`
under the treatment variable, POmean(s) by level) and, with aequations, the outcome (OME#)
and treatment (TME#) equations.

Why its own module: every teffects subcommand and the replay draw the same layout from e().
"""
from __future__ import annotations

from hlmshell.output import coeftable as ct
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt_count, fmt_g
from hlmshell.output.text import abbrev

ESTIMATORS = {"ra": "regression adjustment", "ipw": "inverse-probability weights",
              "ipwra": "IPW regression adjustment", "aipw": "augmented IPW",
              "nnmatch": "nearest-neighbor matching", "psmatch": "propensity-score matching"}
METRICS = {"mahalanobis": "Mahalanobis", "ivariance": "Inverse variance",
           "euclidean": "Euclidean"}


def _outcome_model(res) -> str:
    sub = res.macros["subcmd"]
    if sub in ("nnmatch", "psmatch"):
        return "matching"
    if sub == "ipw":
        return "weighted mean"
    om = res.macros.get("omodel", "linear")
    return f"{om} by ML" if sub == "aipw" else om


def header_lines(res) -> list[str]:
    sub = res.macros["subcmd"]
    n = fmt_count(int(res.scalars["N"]))
    lines = [""]
    est = ESTIMATORS[sub]
    if sub in ("nnmatch", "psmatch"):
        third = (f"Distance metric: {METRICS[res.macros['metric']]}" if sub == "nnmatch"
                 else f"Treatment model: {res.macros['tmodel']}")
        lines += [f"{'Treatment-effects estimation':<47}{'Number of obs':<19}= {n:>10}",
                  f"{'Estimator      : ' + est:<47}{'Matches: requested':<19}= "
                  f"{int(res.scalars['k_nneighbor']):>10}",
                  f"{'Outcome model  : matching':<47}{'min':>18} = "
                  f"{int(res.scalars['k_nnmin']):>10}",
                  f"{third:<47}{'max':>18} = {int(res.scalars['k_nnmax']):>10}"]
        return lines
    lines += [f"{'Treatment-effects estimation':<48}{'Number of obs':<18}= {n:>10}",
              f"Estimator      : {est}",
              f"Outcome model  : {_outcome_model(res)}",
              f"Treatment model: {res.macros.get('tmodel', 'none') or 'none'}"]
    return lines


def _contrast_lines(treated: str, control: str) -> list[str]:
    whole = f"({treated} vs {control})"
    if len(whole) <= ct.NAME_W - 1:
        return [ct.level_label(whole)]
    return [ct.level_label(f"({treated}"), ct.level_label("vs"), ct.level_label(f"{control})")]


def _effect_section(res, eq: str, idx: list[int], level: float) -> list[str]:
    tvar = res.macros["tvar"]
    lines = [f"{abbrev(eq, ct.NAME_W):<{ct.NAME_W}} |"]
    lines += [f"{ln}|" for ln in ct.header_lines(tvar)]
    labels = res.level_labels          # value -> text of the treatment levels
    for i in idx:
        name = res.names[i][1]
        if name.startswith("r"):
            tv, cv = name[1:].split(".")[0].split("vs")
            labs = _contrast_lines(labels[float(tv)], labels[float(cv)])
        else:
            lv = float(name.split(".")[0].rstrip("bn"))
            labs = [ct.level_label(labels[lv])]
        cells = ct.number_cells(float(res.b[i]), float(res.se[i]), level=level)
        lines += ct.coef_row(labs, cells)
    return lines


def _equation_section(res, eq: str, eqd, offset: int, level: float) -> list[str]:
    groups = display_groups(eqd, baselevels=False, value_labels=res.fv_labels)
    shifted = []
    for g in groups:
        rows = []
        for r in g.rows:
            k = r.index + offset
            status = r.status or ("omitted" if res.omitted[k] else None)
            rows.append(ct.Row(r.label, k, status))
        shifted.append(ct.Group(g.header, rows))
    return ([f"{abbrev(eq, ct.NAME_W):<{ct.NAME_W}} |"]
            + ct.body_lines(shifted, res.b, res.se, level=level))


def table_lines(res, level: float, aequations: bool, legend: bool = False) -> list[str]:
    vcetype = res.macros.get("vcetype", "Robust")
    lines = [ct.rule()] + ([] if legend else [ct.vcetype_line(vcetype)]) + [
        ct.column_header(res.depvar, "z", level, "Coefficient", "std. err."), ct.rule("mid")]
    sections = []
    eqs: list[str] = []
    for e, _ in res.names:
        if e not in eqs:
            eqs.append(e)
    for eq in eqs:
        idx = [i for i, (e, _) in enumerate(res.names) if e == eq]
        if eq in ("ATE", "ATET", "POmean", "POmeans"):
            sections.append(_effect_section(res, eq, idx, level))
        elif aequations and eq in res.eq_designs:
            sections.append(_equation_section(res, eq, res.eq_designs[eq], idx[0], level))
    for k, sec in enumerate(sections):
        if k:
            lines.append(ct.rule("mid"))
        lines += sec
    return lines + [ct.rule()]


def iteration_lines(criteria) -> list[str]:
    return [f"Iteration {k}:   EE criterion = {fmt_g(c, 10):>10}" for k, c in enumerate(criteria)]


def show(session, res, level: float, *, aequations: bool = False,
         coeflegend: bool = False) -> None:
    lines = header_lines(res) + table_lines(res, level, aequations or coeflegend, coeflegend)
    if coeflegend:
        # the legend names every column of e(b), so the auxiliary equations are listed too
        from hlmshell.output.coeflegend import rewrite
        lines = rewrite("\n".join(lines), res.names).split("\n")
    for ln in lines:
        session.out.line(ln)
