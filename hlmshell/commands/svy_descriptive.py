"""svy: mean, svy: proportion, svy: total and svy: ratio (with over()): weighted estimates and
their linearized covariance. Each estimate is a smooth function of weighted totals, so its
influence (score) per observation is known in closed form (engine.survey); the covariance of
all estimates at once is the design covariance of those scores."""
from __future__ import annotations

import math

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import svy_design as se_
from hlmshell.commands._toolkit import touse, value_text, varlist
from hlmshell.engine import survey
from hlmshell.errors import StataError, syntax_error
from hlmshell.output import svy_output as so
from hlmshell.registry import Opt, bind_options
from hlmshell.results import EstimationResults

_OPTS = (Opt("over", "over", "string"), Opt("level", "l", "real", None), Opt("nolabel", "nol"),
         Opt("citype", "citype", "string"), Opt("noheader", "noh"), Opt("notable", "notab"))
_TITLES = {"mean": ("Mean estimation", "Mean"), "proportion": ("Proportion estimation", "Proportion"),
           "total": ("Total estimation", "Total"), "ratio": ("Ratio estimation", "Ratio")}


def _parse(inner: str):
    from hlmshell.syntax.ast import Command
    from hlmshell.syntax.parser import fill_qualifiers, parse_options

    word, _, rest = inner.strip().partition(" ")
    cmd = Command(name=word)
    fill_qualifiers(cmd, rest, allow_exp=False)
    if cmd.weight is not None:
        raise StataError("weights can only be supplied to svyset", 198)
    opts = bind_options(_OPTS, cmd.options or parse_options(""), strict=True)
    return cmd, opts


def run(session, ctx: se_.SvyRun, name: str) -> None:
    cmd, opts = _parse(ctx.inner)
    level = opts.level if opts.level is not None else ctx.level
    if name == "ratio":
        items = _ratio_items(session, cmd.body or "")
        needed = [v for _, y, x in items for v in (y, x)]
    else:
        needed = varlist(session, cmd.body or "", all_if_empty=False)
        if not needed:
            raise StataError("varlist required", 100)
        if name != "proportion" and any(session.data.var(v).is_string for v in needed):
            raise StataError("type mismatch", 109)
    sample = touse(session, cmd, needed) & se_.design_sample(session, ctx.settings)
    groups = _over(session, opts, sample)
    sample &= groups[0] >= 0
    fr = ctx.frame(session, sample)
    g = groups[0][fr.sample]
    if name == "proportion":
        est = _proportions(session, needed, fr, g, groups, opts)
    elif name == "ratio":
        est = _ratios(session, items, fr, g, groups)
    else:
        est = _means(session, needed, fr, g, groups, name)
    names, b, Z, counts, rows = est
    V = survey.score_variance(fr.design, Z)
    srs = survey.srs_score_variance(Z, fr.w, fpc=bool(fr.design.fraction.any()))
    res = _results(ctx, name, fr, names, b, V, counts, needed, groups[3], len(_group_list(g)))
    res.matrices.update({"V_srs": srs[0], "V_srswr": srs[1]})
    res.svy_rows, res.svy_items = rows, (items if name == "ratio" else [])
    session.post_estimation(res)
    se_.running_line(session, name)
    display(session, ctx.opts, level, res, noheader=opts.noheader, notable=opts.notable)


# ---- over() -------------------------------------------------------------------------------------
def _over(session, opts, sample):
    """(codes per observation, labels, Stata level names, over text) as mean's over()."""
    from hlmshell.commands.means_cmds import _over_groups

    class _O:
        over = opts.raw("over").split() if "over" in opts and opts.raw("over") else None
        nolabel = opts.nolabel
    return _over_groups(session, _O, sample)


def _group_list(g) -> list[int]:
    return sorted(set(g.tolist()))


# ---- the estimators ---------------------------------------------------------------------------
def _means(session, names, fr, g, groups, name):
    _, labels, stata, over = groups
    est = survey.mean if name == "mean" else survey.total
    out_names, b, cols, counts, rows = [], [], [], [], []
    for nm in names:
        y = session.data.var(nm).values[fr.sample].astype(float)
        if over:
            rows.append(("T", f"c.{nm}@{over}"))
        for k in _group_list(g):
            inside = fr.sub & (g == k)
            val, z = est(y, fr.w * inside)
            out_names.append(f"c.{nm}@{stata[k]}" if over else nm)
            b.append(val)
            cols.append(z)
            counts.append(int(inside.sum()))
            rows.append(("E", labels[k] if over else nm))
    return out_names, np.array(b), np.column_stack(cols), counts, rows


def _proportions(session, names, fr, g, groups, opts):
    _, labels, stata, over = groups
    ds = session.data
    out_names, b, cols, counts, rows = [], [], [], [], []
    for nm in names:
        v = ds.var(nm)
        x = v.values[fr.sample] if v.is_string else v.values[fr.sample].astype(float)
        rows.append(("T", f"{nm}@{over}" if over else nm))
        for c in sorted(set(x[fr.sub].tolist())):
            lvl = f"{int(c) if not v.is_string and float(c).is_integer() else c}"
            cl = value_text(ds, v, c, labels=not opts.nolabel)
            for k in _group_list(g):
                inside = fr.sub & (g == k)
                val, z = survey.mean((x == c).astype(float), fr.w * inside)
                out_names.append(f"{lvl}.{nm}@{stata[k]}" if over else f"{lvl}.{nm}")
                b.append(val)
                cols.append(z)
                counts.append(int(inside.sum()))
                rows.append(("E", f"{cl} {labels[k]}" if over else cl))
    return out_names, np.array(b), np.column_stack(cols), counts, rows


def _ratio_items(session, text: str) -> list[tuple[str, str, str]]:
    """`y/x`, `name: y/x`, `(name: y/x) (y2/x2)` -> [(name, y, x)], unnamed ones _ratio_#."""
    import re

    text = text.strip()
    parts = re.findall(r"\(([^()]*)\)", text) if text.startswith("(") else [text]
    if not parts or (text.startswith("(") and re.sub(r"\([^()]*\)", "", text).strip()):
        raise syntax_error()
    out = []
    for i, p in enumerate(parts, 1):
        label, _, expr = p.rpartition(":") if ":" in p else ("", "", p)
        ys, slash, xs = expr.partition("/")
        if not slash:
            raise syntax_error()
        y, x = varlist(session, ys, all_if_empty=False), varlist(session, xs, all_if_empty=False)
        if len(y) != 1 or len(x) != 1:
            raise syntax_error()
        if session.data.var(y[0]).is_string or session.data.var(x[0]).is_string:
            raise StataError("type mismatch", 109)
        out.append((label.strip() or f"_ratio_{i}", y[0], x[0]))
    return out


def _ratios(session, items, fr, g, groups):
    _, labels, stata, over = groups
    out_names, b, cols, counts, rows = [], [], [], [], []
    for label, yv, xv in items:
        y = session.data.var(yv).values[fr.sample].astype(float)
        x = session.data.var(xv).values[fr.sample].astype(float)
        if over:
            rows.append(("T", f"{label}@{over}"))
        for k in _group_list(g):
            inside = fr.sub & (g == k)
            val, z = survey.ratio(y, x, fr.w * inside)
            out_names.append(f"{label}@{stata[k]}" if over else label)
            b.append(val)
            cols.append(z)
            counts.append(int(inside.sum()))
            rows.append(("E", labels[k] if over else label))
    return out_names, np.array(b), np.column_stack(cols), counts, rows


# ---- e() and the display ------------------------------------------------------------------------
def _results(ctx, name, fr, names, b, V, counts, needed, over, n_over) -> EstimationResults:
    sc = fr.scalars()
    sc.update({"k_eq": 1.0, "N_over": float(n_over), "rank": float(len(names))})
    mac = se_.common_macros(ctx, name, fr)
    mac.update({"cmd": name, "title": _TITLES[name][0], "properties": "b V", "varlist": " ".join(needed),
                "over": over or ""})
    return EstimationResults(cmd=name, names=[("", nm) for nm in names], b=np.asarray(b, float),
                             V=np.asarray(V, float), omitted=np.zeros(len(names), bool), k_f=len(names),
                             scalars=sc, macros=mac, matrices={"_N": np.asarray(counts, float)[None, :]},
                             sample=fr.sample.copy())


def display(session, opts, level, res, *, noheader=False, notable=False) -> None:
    """Header, ratio legend and table of svy: mean/proportion/total/ratio (also the replay)."""
    out = session.out
    name = res.cmd
    labels = getattr(res, "svy_rows", None) or [("E", nm) for _, nm in res.names]
    items = getattr(res, "svy_items", [])
    sc = res.scalars
    if not (opts.noheader or noheader):
        for ln in so.header_lines(_TITLES[name][0], sc, [], model_width=False):
            out.line(ln)
    if items and not opts.nolegend:
        out.line("")
        for lab, y, x in items:
            out.line(f"{lab:>12}: {y}/{x}")
    if opts.notable or notable:
        return
    out.line("")
    df = sc["df_r"]
    crit = float(dist.t_ppf(1 - (1 - level / 100) / 2, df)) if df > 0 else math.nan
    rows, i = [], 0
    se = np.sqrt(np.diag(res.V)) if np.all(np.isfinite(res.V)) else np.full(len(res.b), np.nan)
    for kind, lab in labels:
        if kind == "T":
            rows.append(lab)
            continue
        b, s = float(res.b[i]), float(se[i])
        if name == "proportion":
            from hlmshell.commands.means_cmds import _logit_ci
            lo, hi = _logit_ci(b, s, crit)
        else:
            lo, hi = b - crit * s, b + crit * s
        rows.append((lab, b, s, lo, hi))
        i += 1
    for ln in so.stat_table(rows, level, _TITLES[name][1], "Logit" if name == "proportion" else ""):
        out.line(ln)
    if not np.all(np.isfinite(res.V)) and sc.get("singleton"):
        out.line(so.singleton_note())
