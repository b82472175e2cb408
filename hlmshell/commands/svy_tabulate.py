"""svy: tabulate varname [varname2] [if] [in] [, options]: one- and two-way tables of survey
data, Stata 17's svy: tabulate with linearized variances.

Every number in the table is a smooth function of weighted totals over the subpopulation:
cell proportions (means of cell indicators), weighted counts (totals), row and column
proportions (ratios of cell to margin totals); engine.survey gives each its scores and the
design covariance. Two-way tables add the tests of independence of engine.survey_tables
(Pearson with Rao and Scott's second-order correction by default; wald). What is displayed
is chosen by the options; e(b) and e(V) hold the cell proportions (the counts, row or column
proportions when se, ci, deff, deft or cv are asked of those), as Stata posts them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.commands import svy_design as se_
from hlmshell.engine import survey, survey_tables
from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import Opt, bind_options
from hlmshell.results import EstimationResults

OPTS = (Opt("cell"), Opt("count"), Opt("obs"), Opt("row"), Opt("column", "col"), Opt("se"), Opt("ci"),
        Opt("deff"), Opt("deft"), Opt("cv"), Opt("proportion", "prop"), Opt("percent", "per"),
        Opt("format", "f", "string"), Opt("nolabel", "nol"), Opt("nomarginals", "nomarg"), Opt("missing", "m"),
        Opt("level", "l", "real", None), Opt("pearson", "pear"), Opt("wald"), Opt("noadjust", "noadj"),
        Opt("null"), Opt("lr"), Opt("llwald", "llw"), Opt("vertical", "vert"), Opt("markout"),
        Opt("nokey"), Opt("noheader", "noh"), Opt("notable", "notab"))
UNCERTAINTY = ("se", "ci", "deff", "deft", "cv")


@dataclass
class Table:
    """Everything the display needs, over the R x C table plus its margins."""

    rowvar: str
    colvar: str | None
    rlabels: list[str]
    clabels: list[str]
    rtitle: str
    ctitle: str
    est: dict = field(default_factory=dict)     # kind -> (values (R+1)x(C+1), se, deff), last row/col = margins
    obs: np.ndarray | None = None
    pearson: survey_tables.PearsonTest | None = None
    wald: survey_tables.WaldTest | None = None
    df: float = np.nan
    cell_codes: np.ndarray | None = None     # row-major cell per sample row, -1 outside the subpopulation


# ---- parsing ------------------------------------------------------------------------------------
def _parse(inner: str):
    from hlmshell.syntax.ast import Command
    from hlmshell.syntax.parser import fill_qualifiers, parse_options

    _, _, rest = inner.strip().partition(" ")
    cmd = Command(name="tabulate")
    fill_qualifiers(cmd, rest, allow_exp=False)
    if cmd.weight is not None:
        raise StataError("weights can only be supplied to svyset", 198)
    opts = bind_options(OPTS, cmd.options or parse_options(""), strict=True)
    return cmd, opts


def check_options(opts, twoway: bool) -> None:
    """The combinations Stata refuses (r(198))."""
    for name in ("null", "llwald"):
        if getattr(opts, name, False):
            raise StataError(f"svy: tabulate option {name} is not available in hlmshell", 198)
    if not twoway and (opts.row or opts.column):
        raise StataError(f"option {'row' if opts.row else 'column'} not allowed with one-way tables", 198)
    if not twoway and (opts.pearson or opts.wald or opts.lr):
        raise StataError("tests of independence need a two-way table", 198)
    if opts.percent and opts.proportion:
        raise StataError("only one of percent or proportion can be specified", 198)
    kinds = [k for k in ("cell", "count", "row", "column") if getattr(opts, k)]
    if len(kinds) > 1 and any(getattr(opts, u) for u in UNCERTAINTY):
        raise StataError("only one of cell, count, row, or column can be specified when se, ci, deff, "
                         "deft, or cv is specified", 198)
    if "format" in opts and opts.raw("format"):
        from hlmshell.output.numfmt import fmt
        try:
            fmt(0.5, opts.raw("format").strip())
        except Exception:
            raise StataError(f"invalid format {opts.raw('format').strip()}", 198) from None
    if opts.level is not None and not 10 <= opts.level <= 99.99:
        raise StataError("level() must be between 10 and 99.99 inclusive", 198)


# ---- the command --------------------------------------------------------------------------------
def run(session, ctx: se_.SvyRun) -> None:
    from hlmshell.commands._toolkit import varlist

    cmd, opts = _parse(ctx.inner)
    names = varlist(session, cmd.body or "", all_if_empty=False)
    if not names:
        raise StataError("varlist required", 100)
    if len(names) > 2:
        raise StataError("too many variables specified", 103)
    check_options(opts, len(names) == 2)
    sample = _sample(session, cmd, names, opts.missing) & se_.design_sample(session, ctx.settings)
    fr = ctx.frame(session, sample)
    table, res = _compute(session, ctx, fr, names, opts)
    res.svy_table = table
    session.post_estimation(res)
    se_.running_line(session, "tabulate")
    from hlmshell.output import svy_tab_output as sto
    level = opts.level if opts.level is not None else ctx.level
    sto.display(session.out, res, table, opts, level, noheader=ctx.opts.noheader or opts.noheader,
                notable=ctx.opts.notable or opts.notable, adjust=not (opts.noadjust or ctx.opts.noadjust))


def _sample(session, cmd, names, missing: bool) -> np.ndarray:
    from hlmshell.commands._toolkit import touse
    mask = touse(session, cmd, [] if missing else names, strok=True)
    if not missing:
        for nm in names:
            v = session.data.var(nm)
            if v.is_string:
                mask &= np.asarray(v.values != "", dtype=bool)
    return mask


def _categories(session, name: str, fr, labels: bool):
    """(codes over the sample rows, level values, their texts) of the subpopulation's values."""
    from hlmshell.commands.tabulate import _codes, _levels, _text

    var = session.data.var(name)
    x = var.values[fr.sample]
    levels = _levels(var, x[fr.sub])
    codes = np.full(len(x), -1, dtype=np.int64)
    codes[fr.sub] = _codes(var, x[fr.sub], levels)
    texts = [_text(session.data, var, v, labels) for v in levels]
    return codes, levels, texts


def _title(session, name: str) -> str:
    lab = session.data.var(name).label
    return lab if lab else name


def _compute(session, ctx, fr, names, opts):
    rc, rlev, rtext = _categories(session, names[0], fr, not opts.nolabel)
    if len(names) == 2:
        cc, clev, ctext = _categories(session, names[1], fr, not opts.nolabel)
    else:
        cc, clev, ctext = np.where(rc >= 0, 0, -1), [1.0], ["Total"]
    R, C = len(rlev), len(clev)
    w = fr.w * fr.sub
    cell = np.where(rc >= 0, rc * C + cc, -1)
    ind = np.zeros((len(cell), R * C))
    ind[cell >= 0, cell[cell >= 0]] = 1.0
    table = Table(names[0], names[1] if len(names) == 2 else None, rtext, ctext, _title(session, names[0]),
                  _title(session, names[1]) if len(names) == 2 else "", df=fr.design.df, cell_codes=cell)
    fpc = bool(fr.design.fraction.any())
    pv, pZ = _columns(survey.mean, ind, w)
    nv, nZ = _columns(survey.total, ind, w)
    V = survey.score_variance(fr.design, pZ)
    VN = survey.score_variance(fr.design, nZ)
    Vsrs = survey.srs_score_variance(pZ, fr.w, fpc=fpc)[0]
    table.est["cell"] = _with_margins(fr, ind, w, R, C, survey.mean, "cell", fpc)
    table.est["count"] = _with_margins(fr, ind, w, R, C, survey.total, "count", fpc)
    if C > 1 and len(names) == 2:
        table.est["row"] = _with_margins(fr, ind, w, R, C, survey.ratio, "row", fpc)
        table.est["column"] = _with_margins(fr, ind, w, R, C, survey.ratio, "column", fpc)
    obs = ind[fr.sub].sum(axis=0).reshape(R, C)
    table.obs = _margins_sum(obs)
    m = float(fr.sub.sum())
    if len(names) == 2:
        table.pearson = survey_tables.pearson(pv.reshape(R, C), V, m, fr.design.df)
        table.wald = survey_tables.wald(nv.reshape(R, C), VN, fr.design.df)
    res = _results(ctx, fr, table, opts, (pv, V, Vsrs), (nv, VN), obs, (rlev, clev))
    return table, res


def _columns(est, ind: np.ndarray, w: np.ndarray):
    vals, cols = [], []
    for j in range(ind.shape[1]):
        v, z = est(ind[:, j], w)
        vals.append(v)
        cols.append(z)
    return np.array(vals), np.column_stack(cols)


def _margins_sum(M: np.ndarray) -> np.ndarray:
    out = np.zeros((M.shape[0] + 1, M.shape[1] + 1))
    out[:-1, :-1] = M
    out[:-1, -1] = M.sum(axis=1)
    out[-1, :-1] = M.sum(axis=0)
    out[-1, -1] = M.sum()
    return out


def _with_margins(fr, ind, w, R, C, est, kind, fpc):
    """Values, standard errors and design effects over the table with its margins (last row
    and column) for one kind of estimate."""
    cells = ind.reshape(len(ind), R, C)
    full = np.zeros((len(ind), R + 1, C + 1))
    full[:, :R, :C] = cells
    full[:, :R, C] = cells.sum(axis=2)
    full[:, R, :C] = cells.sum(axis=1)
    full[:, R, C] = cells.sum(axis=(1, 2))
    vals, cols = np.full((R + 1, C + 1), np.nan), []
    for i in range(R + 1):
        for j in range(C + 1):
            if kind == "row":
                v, z = est(full[:, i, j], full[:, i, C], w)
            elif kind == "column":
                v, z = est(full[:, i, j], full[:, R, j], w)
            else:
                v, z = est(full[:, i, j], w)
            vals[i, j] = v
            cols.append(z)
    Z = np.column_stack(cols)
    var = np.diag(survey.score_variance(fr.design, Z)).reshape(R + 1, C + 1)
    srs = np.diag(survey.srs_score_variance(Z, fr.w, fpc=fpc)[0]).reshape(R + 1, C + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ses = np.where(var >= 0, np.sqrt(np.abs(var)), np.nan)
        deffs = np.where(srs > 0, var / np.where(srs > 0, srs, 1.0), np.nan)
    return vals, ses, deffs


# ---- e() ----------------------------------------------------------------------------------------
def _setype(opts) -> str:
    kinds = [k for k in ("cell", "count", "row", "column") if getattr(opts, k)]
    if kinds and any(getattr(opts, u) for u in UNCERTAINTY):
        return kinds[0]
    return "cell"


def _posted(fr, table, setype, cellp, R, C):
    """e(b), e(V), e(V_srs) of what Stata posts: the cell proportions unless se & co. asked
    for another kind."""
    if setype == "cell":
        return cellp
    _, Z = _kind_scores(fr, table, setype, R, C)
    b = table.est[setype][0][:R, :C].reshape(-1)
    fpc = bool(fr.design.fraction.any())
    return b, survey.score_variance(fr.design, Z), survey.srs_score_variance(Z, fr.w, fpc=fpc)[0]


def _kind_scores(fr, table, kind, R, C):
    """Scores of the R x C estimates of one kind (row-major), for their covariance."""
    w = fr.w * fr.sub
    cols, vals = [], []
    codes = table.cell_codes
    for r in range(R):
        for c in range(C):
            y = (codes == r * C + c).astype(float)
            if kind == "count":
                v, z = survey.total(y, w)
            elif kind == "row":
                v, z = survey.ratio(y, (codes // C == r).astype(float) * (codes >= 0), w)
            else:
                v, z = survey.ratio(y, ((codes % C) == c).astype(float) * (codes >= 0), w)
            vals.append(v)
            cols.append(z)
    return np.array(vals), np.column_stack(cols)


def _results(ctx, fr, table, opts, cellp, counts, obs, levels) -> EstimationResults:
    R, C = obs.shape
    pv, V, Vsrs = cellp
    setype = _setype(opts)
    b, Vb, Vsrs = _posted(fr, table, setype, (pv, V, Vsrs), R, C)
    names = [("", f"p{r + 1}{c + 1}") for r in range(R) for c in range(C)]
    sc = fr.scalars()
    sc.update({"r": float(R), "c": float(C) if table.colvar else 1.0, "total": float(np.sum(fr.w[fr.sub])),
               "k_eq": 1.0, "rank": float(np.linalg.matrix_rank(V)) if np.all(np.isfinite(V)) else 0.0})
    _test_scalars(sc, table, bool(opts.wald), bool(opts.lr))
    mac = se_.common_macros(ctx, "tabulate", fr)
    mac.update({"cmd": "tabulate", "rowvar": table.rowvar, "colvar": table.colvar or "", "setype": setype,
                "properties": "b V"})
    deff = np.diag(Vb) / np.where(np.diag(Vsrs) > 0, np.diag(Vsrs), np.nan)
    mats = {"Prop": pv.reshape(R, C), "Obs": obs.astype(float), "Deff": deff[None, :],
            "Deft": np.sqrt(deff)[None, :], "V_srs": Vsrs, "Row": np.asarray(_numeric(levels[0]))[None, :],
            "_N": obs.reshape(1, -1).astype(float)}
    if table.colvar:
        mats["Col"] = np.asarray(_numeric(levels[1]))[None, :]
    res = EstimationResults(cmd="tabulate", names=names, b=np.asarray(b, float), V=np.asarray(Vb, float),
                            omitted=np.zeros(len(names), bool), k_f=len(names), scalars=sc, macros=mac,
                            matrices=mats, sample=fr.sample.copy())
    return res


def _numeric(levels) -> list[float]:
    return [float(v) if not isinstance(v, str) else np.nan for v in levels]


def _test_scalars(sc: dict, table: Table, wald: bool, lr: bool = False) -> None:
    t = table.pearson
    if t is not None:
        sc.update({"cun_Pear": t.chi2, "F_Pear": t.F, "df1_Pear": t.df1, "df2_Pear": t.df2, "p_Pear": t.p,
                   "mgdeff": t.mean_deff, "cvgdeff": t.cv_deff})
        if lr:
            sc.update({"cun_LR": t.lr_chi2, "F_LR": t.lr_F, "df1_LR": t.df1, "df2_LR": t.df2, "p_LR": t.lr_p})
    wt = table.wald
    if wt is not None and wald:
        sc.update({"cun_Wald": wt.chi2, "Fun_Wald": wt.F_unadj, "pun_Wald": wt.p_unadj, "F_Wald": wt.F,
                   "df1_Wald": float(wt.df), "df2_Wald": wt.df2, "p_Wald": wt.p})


def replay(session, body: str, res) -> None:
    """`svy` alone (or with display options) after svy: tabulate: the table again."""
    from hlmshell.commands._postest import confidence_level
    from hlmshell.output import svy_tab_output as sto
    from hlmshell.syntax.parser import parse_options

    table = getattr(res, "svy_table", None)
    if table is None:
        raise StataError("last estimates not found", 301)
    if body and not body.startswith(","):
        raise syntax_error()
    opts = bind_options(OPTS, parse_options(body[1:] if body else ""), strict=True)
    check_options(opts, table.colvar is not None)
    level = opts.level if opts.level is not None else confidence_level(session, opts)
    sto.display(session.out, res, table, opts, level, noheader=bool(opts.noheader), notable=bool(opts.notable),
                adjust=not opts.noadjust)
