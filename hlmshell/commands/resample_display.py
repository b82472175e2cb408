"""What bootstrap, jackknife and estat bootstrap print (Stata 17): the header (title, Number
of obs, Replications, and for a command's own coefficients its Wald test and fit
statistics), the legend, and the tables under `Observed / Bootstrap / Normal-based` or
`Jackknife` column headers -- regress's and mixed's own tables with those headers when the
prefix collected their coefficients. The results are e() as hlmshell/commands/resample.py
posts them; `plan` and `ob` are its Plan and Observed (read only)."""
from __future__ import annotations

import copy
import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import simulate as sim
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt, fmt_count
from hlmshell.results import EstimationResults


def _right(label: str, value: str) -> str:
    return f"{label:<14}= {value:>6}"


def header_lines(res: EstimationResults, reps_label: str = "Replications") -> list[str]:
    """`Bootstrap results   Number of obs = 74 / Replications = 100` (and, for a command's
    own coefficients, its title with the Wald test and regress's fit statistics)."""
    sc = res.scalars
    title = res.macros.get("title") or "Bootstrap results"
    rights = [_right("Number of obs", fmt_count(int(sc["N"]))),
              _right(reps_label, fmt_count(int(sc.get("N_reps", 0))))]
    if "chi2" in sc:
        chi = sc["chi2"]
        rights.append(_right(f"Wald chi2({int(sc['df_m'])})", "." if chi != chi else f"{chi:.2f}"))
        p = sc.get("p", math.nan)
        rights.append(_right("Prob > chi2", "." if p != p else fmt(p, "%6.4f").strip()))
    if res.macros.get("cmd") == "regress":
        rights += [_right("R-squared", fmt(sc["r2"], "%6.4f").strip()),
                   _right("Adj R-squared", fmt(sc["r2_a"], "%6.4f").strip()),
                   _right("Root MSE", fmt(sc["rmse"], "%6.4f").strip())]
    lefts = [title] + [""] * (len(rights) - 1)
    return [(a.ljust(56) + b).rstrip() for a, b in zip(lefts, rights)]


def observed_header(depvar: str, kind: str, level: float, stat: str = "z") -> list[str]:
    """The two header rows of a bootstrap table: `Observed  Bootstrap  Normal-based` over
    `coefficient  std. err.  z  P>|z|  [95% conf. interval]`."""
    top = " " * (ct.NAME_W + 1) + "|" + f"{'Observed':>11}{kind:>12}"
    top += " " * (62 - len(top)) + "Normal-based"
    return [top, ct.column_header(depvar, stat, level, "coefficient", "std. err.")]


def replace_header(lines: list[str], kind: str, level: float) -> list[str]:
    """A command's own table (regress, mixed) with its `Coefficient  Std. err.` header row
    turned into the two rows of a bootstrap table."""
    out = []
    for ln in lines:
        if "Coefficient  Std. err." in ln and "|" in ln:
            if kind == "Jackknife":
                out += [ct.vcetype_line(kind), ln.replace("Std. err.", "std. err.")]
            else:
                out += observed_header(ln.split("|")[0].strip(), kind, level)
        elif "Random-effects parameters" in ln and "Std. err." in ln:
            if kind == "Jackknife":
                top = " " * 29 + "|" + f"{kind:>23}"
            else:
                top = " " * 29 + "|" + f"{'Observed':>11}   {kind:>9}"
                top += " " * (62 - len(top)) + "Normal-based"
            out += [top, ln.replace("Std. err.", "std. err.")]
        else:
            out.append(ln)
    return out


def table_lines(res: EstimationResults, level: float, kind: str = "Bootstrap") -> list[str]:
    """The table of an exp_list (or of coefficients without the command's own display)."""
    names = [nm for _, nm in res.names]
    eqs = [q for q, _ in res.names]
    se = res.se
    b = np.asarray(res.b, dtype=float)
    if len(set(eqs)) == 1 and eqs[0]:
        # one equation (logit, glm, ...): its name over the rows, factor terms as the command shows them
        groups = ct.groups_from_names(names, value_labels=getattr(res, "value_labels", None))
        return ct.coef_table(eqs[0], groups, b, se, stat="z", level=level) if kind == "Jackknife" else \
            replace_header(ct.coef_table(eqs[0], groups, b, se, stat="z", level=level), kind, level)
    out = [ct.rule()] + observed_header("", kind, level) + [ct.rule("mid")]
    if len(set(eqs)) > 1 or any(eqs):
        sections = []
        for j, (q, nm) in enumerate(res.names):
            if not sections or sections[-1][0] != q:
                sections.append((q, []))
            sections[-1][1].append(ct.Group(None, [ct.Row(nm, j, None)]))
        for k, (q, groups) in enumerate(sections):
            if k:
                out.append(ct.rule("mid"))
            out.append(f"{q[:ct.NAME_W]:<{ct.NAME_W}} |")
            out += ct.body_lines(groups, b, se, stat="z", level=level)
    else:
        groups = [ct.Group(None, [ct.Row(nm, j, None)]) for j, nm in enumerate(names)]
        out += ct.body_lines(groups, b, se, stat="z", level=level)
    return out + [ct.rule()]


def display_bootstrap(session, res: EstimationResults, plan, ob, own: bool) -> None:
    out = session.out
    opts = plan.display
    level = plan.level
    if own and res.macros.get("cmd") in ("mixed", "xtmixed") and not opts["notable"]:
        _display_mixed(session, res, level, opts["noheader"])
        return
    if not opts["noheader"]:
        out.line()
        for ln in header_lines(res):
            out.line(ln)
        if not opts["nolegend"]:
            sim.legend(out, plan.inner, ob.items, opts["verbose"], always=False)
    if opts["notable"]:
        return
    out.line()
    if res.scalars.get("N_clust") and plan.cluster:
        note = f"(Replications based on {fmt_count(int(res.scalars['N_clust']))} clusters in " \
               f"{' '.join(plan.cluster)})"
        out.line(note.rjust(ct.WIDTH))
    if own and res.macros.get("cmd") == "regress":
        from hlmshell.commands.estimation import _fixed_groups
        lines = ct.coef_table(res.depvar, _fixed_groups(res, False), res.b, res.se, stat="z", level=level)
        lines = replace_header(lines, "Bootstrap", level)
    else:
        lines = table_lines(res, level)
    for ln in lines + missing_note(res, "bootstrap"):
        out.line(ln)


def missing_note(res: EstimationResults, what: str) -> list[str]:
    """Stata's note under the table when some replications gave no value."""
    k = int(res.scalars.get("N_misreps", 0) or 0)
    if not k:
        return []
    return [f"Note: One or more parameters could not be estimated in {fmt_count(k)} {what} "
            f"replicate{'s' if k > 1 else ''};",
            "      standard-error estimates include only complete replications."]


def _display_mixed(session, res, level: float, noheader: bool, kind: str = "Bootstrap") -> None:
    """mixed's own output with the bootstrap standard errors: its header (and Replications),
    the fixed-effects and random-effects tables under bootstrap column headers."""
    from hlmshell.commands.estimation import _display_opts, display_mixed
    from hlmshell.output.writer import Capture
    from hlmshell.registry import bind_command

    o = _display_opts(session, bind_command("mixed", []))
    o.level = level
    o.noheader = noheader
    o.nolrtest = True
    shown = copy.copy(res)
    shown.macros = {k: v for k, v in res.macros.items() if k != "vcetype"}
    shown.__dict__.pop("se", None)
    shown.__dict__.pop("wald", None)
    saved = session.out
    session.out = Capture()
    try:
        display_mixed(session, shown, o)
        text = session.out.getvalue()
    finally:
        session.out = saved
    lines = text.rstrip("\n").split("\n")
    if kind == "Bootstrap":
        lines = [ln.replace("(Std. err. adjusted for", " (Replications based on") for ln in lines]
    lines = replace_header(lines, kind, level)
    for i, ln in enumerate(lines):
        if "Number of obs" in ln:
            lines.insert(i + 1, " " * 48 + f"{'Replications':<18}={fmt_count(int(res.scalars['N_reps'])):>11}")
            break
    for ln in lines:
        saved.line(ln)


def jackknife_header(res: EstimationResults) -> list[str]:
    sc = res.scalars
    title = res.macros.get("title") or "Jackknife results"
    rights = [_right("Number of obs", fmt_count(int(sc["N"]))),
              _right("Replications", fmt_count(int(sc.get("N_reps", 0))))]
    if res.macros.get("cmd") == "regress" and "F" in sc:
        F = sc["F"]
        df1, df2 = int(sc.get("df_m", 0)), int(sc["df_r"])
        pF = float(dist.f_sf(F, df1, df2)) if df1 and F == F else math.nan
        rights += [_right(f"F({df1}, {df2})", "." if F != F else f"{F:.2f}"),
                   _right("Prob > F", "." if pF != pF else fmt(pF, "%6.4f").strip()),
                   _right("R-squared", fmt(sc["r2"], "%6.4f").strip()),
                   _right("Adj R-squared", fmt(sc["r2_a"], "%6.4f").strip()),
                   _right("Root MSE", fmt(sc["rmse"], "%6.4f").strip())]
    lefts = [title] + [""] * (len(rights) - 1)
    return [(a.ljust(56) + b).rstrip() for a, b in zip(lefts, rights)]


def display_jackknife(session, res: EstimationResults, plan, ob, own: bool) -> None:
    out = session.out
    opts = plan.display
    level = plan.level
    df = res.scalars["df_r"]
    if own and res.macros.get("cmd") in ("mixed", "xtmixed") and not opts["notable"]:
        _display_mixed(session, res, level, opts["noheader"], "Jackknife")
        return
    if not opts["noheader"]:
        out.line()
        for ln in jackknife_header(res):
            out.line(ln)
        if not opts["nolegend"]:
            extra = [("n()", ob.nfunction)] if ob.nfunction else []
            sim.legend(out, plan.inner, ob.items, opts["verbose"], extra, always=False)
    if opts["notable"]:
        return
    out.line()
    if res.scalars.get("N_clust") and plan.cluster:
        out.line(ct.cluster_note(int(res.scalars["N_clust"]), " ".join(plan.cluster)))
    if own and res.macros.get("cmd") in ("regress", "mixed", "xtmixed"):
        from hlmshell.commands.estimation import _fixed_groups
        kf = res.k_f
        groups = _fixed_groups(res, False)
        lines = ct.coef_table(res.depvar, groups, res.b[:kf], res.se[:kf], stat="t", df_r=df,
                              level=level, vcetype="Jackknife")
    else:
        groups = [ct.Group(None, [ct.Row(nm, j, None)]) for j, (_, nm) in enumerate(res.names)]
        lines = ct.coef_table("", groups, res.b, res.se, stat="t", df_r=df, level=level,
                              vcetype="Jackknife")
    for ln in lines + missing_note(res, "jackknife"):
        out.line(ln)


_CI_KINDS = (("normal", "N", "Normal", "ci_normal"), ("percentile", "P", "Percentile", "ci_percentile"),
             ("bc", "BC", "Bias-corrected", "ci_bc"), ("bca", "BCa", "Bias-corrected and accelerated", "ci_bca"))


def estat_bootstrap(session, res: EstimationResults, opts) -> None:
    """`estat bootstrap [, normal percentile bc all noheader nolegend verbose]`: the observed
    values, bias and bootstrap standard error with the chosen intervals (bias-corrected by
    default), as Stata 17 lays the table out, and the key to the interval kinds."""
    if res is None or res.macros.get("vce") != "bootstrap" or "ci_bc" not in res.matrices:
        raise StataError("bootstrap estimation results not found", 301)
    has_bca = "ci_bca" in res.matrices
    if opts.bca and not has_bca:
        raise StataError("BCa confidence intervals not available; rerun bootstrap with the bca option", 198)
    kinds = [k for k in _CI_KINDS if (opts.all and (k[0] != "bca" or has_bca)) or getattr(opts, k[0])] \
        or [_CI_KINDS[2]]
    out = session.out
    level = float(res.scalars.get("level", 95))
    if not opts.noheader:
        out.line()
        for ln in header_lines(res):
            out.line(ln)
        if not opts.nolegend:
            exps = [(nm, res.macros.get(f"exp{j}", "")) for j, nm in
                    enumerate(getattr(res, "exp_columns", []), 1)]
            out.line()
            out.line(f"{'Command':>13}: {res.macros.get('command', '')}")
            for nm, text in exps:
                out.line(f"{nm[:13]:>13}: {text}")
    for ln in estat_table(res, kinds, level):
        out.line(ln)


def _values(m) -> np.ndarray:
    return np.asarray(getattr(m, "values", m), dtype=float)


def estat_table(res: EstimationResults, kinds, level: float) -> list[str]:
    from hlmshell.output.numfmt import fmt_g
    depvar = res.depvar if res.macros.get("cmd") != "bootstrap" else ""
    ci = f"[{level:g}% conf. interval]"
    out = ["", ct.rule(), f"{'':12} |    Observed               Bootstrap",
           f"{depvar[:12]:>12} | coefficient       Bias    std. err.  {ci}", ct.rule("mid")]
    b = np.asarray(res.b, dtype=float)
    bias = _values(res.matrices["bias"]).reshape(-1)
    se = res.se
    for j, (_, nm) in enumerate(res.names):
        for k, (_, tag, _, mat) in enumerate(kinds):
            lo, hi = _values(res.matrices[mat])[:, j]
            left = f"{nm[:12]:>12} |{fmt_g(b[j], 9):>12}{fmt_g(bias[j], 9):>11}{fmt_g(se[j], 10):>13}" \
                if k == 0 else f"{'':12} |{'':36}"
            out.append(f"{left}  {fmt_g(lo, 9):>9}  {fmt_g(hi, 9):>9}{'(' + tag + ')':>6}")
    out.append(ct.rule())
    for k, (_, tag, name, _) in enumerate(kinds):
        out.append(f"{'Key:' if k == 0 else '':4}{tag:>3}: {name}")
    return out
