"""regress's diagnostic plots ([R] regress postestimation diagnostic plots): avplot, avplots,
cprplot, acprplot, rvpplot and lvr2plot, drawn through hlmshell's graph model like rvfplot
(graph_stat.make_graph: addplot(), titles, axes, name(), saving(); matplotlib only when drawn).

avplot x: residuals of y and of x, each on the other regressors (x need not be in the model);
the line through them has slope b_x, with `coef = , se = , t =` below the graph. cprplot x:
e + b_x x against x with the line b_x x; acprplot x the same from the model with x^2 added.
rvpplot x: residuals against x. lvr2plot: leverage against the normalized squared residual,
with lines at their means. The numbers come from engine.reg_influence."""
from __future__ import annotations

import copy

import numpy as np

from hlmshell.commands import graph_common as gc
from hlmshell.commands._postest import active
from hlmshell.commands.graph_stat import DIAG_OPTS, _diag_style, make_graph
from hlmshell.commands.reg_diagnostics import regress_sample
from hlmshell.errors import StataError
from hlmshell.graphics.model import Graph, Panel, Series
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import command
from hlmshell.syntax.ast import Command
from hlmshell.syntax.parser import fill_qualifiers
from hlmshell.syntax.varlist import expand_varlist

PLOT_OPTS = dict(DIAG_OPTS, lowess=("low", False), lsopts=("lsop", True),
                 mspline=("msp", False), msopts=("msop", True), generate=("gen", True))


def _parse(session, text: str, who: str, want_var: bool):
    """(variable or None, own options, graph options) of `who [varname] [, options]`."""
    c = Command(name=who)
    fill_qualifiers(c, text, allow_exp=False)
    if c.if_ is not None or c.in_ is not None:
        raise StataError("if not allowed" if c.if_ is not None else "in range not allowed", 101)
    if c.weight is not None:
        raise StataError("weights not allowed", 101)
    own, gopts = gc.split_options(c.options, PLOT_OPTS)
    body = c.body.strip()
    if not want_var:
        if body:
            raise StataError("varlist not allowed", 101)
        return None, own, gopts
    if not body:
        raise StataError("varlist required", 100)
    names = list(expand_varlist(session.data, body))
    if len(names) != 1:
        raise StataError("too many variables specified", 103)
    if session.data.var(names[0]).is_string:
        raise StataError("type mismatch", 109)
    return names[0], own, gopts


def _fit_line(x, slope, intercept=0.0, label="Fitted values") -> Series:
    xs = np.array([np.nanmin(x), np.nanmax(x)])
    return Series("line", xs, intercept + slope * xs, label=label, legend=False,
                  style={"pstyle": 1})


def _lowess_series(x, y) -> Series:
    from hlmshell.graphics import stats
    xs, sm = stats.lowess(x, y)
    return Series("line", xs, sm, label="lowess", legend=False, style={"pstyle": 2})


def _draw(session, kind, own, gopts, series, xtitle, ytitle, cmdtext, note="",
          xlines=(), ylines=()):
    def build(m, title):
        return Panel(series=list(series), xlines=list(xlines), ylines=list(ylines))
    gopts.pop("by", None)
    if note and "note" not in gopts:
        gopts["note"] = f'"{note}"'
    return make_graph(session, kind, gopts, build, (xtitle, None), (ytitle, None), cmdtext,
                      own=own)


# ---- added-variable plots ---------------------------------------------------------------------
def av_data(session, res, var: str):
    """(e_x, e_y, coef, se, df) of the added-variable plot of var (in the model or not)."""
    from hlmshell.engine.reg_influence import residualize
    X, names, y, sample = regress_sample(session, res, "avplot")
    col = [j for j, nm in enumerate(names) if nm == var]
    if col:
        j = col[0]
        others = np.delete(X, j, axis=1)
        ex, ey = residualize(X[:, j], others), residualize(y, others)
        b, se = float(res.b[res.coef_index(None, var)]), float(res.se[res.coef_index(None, var)])
        return ex, ey, b, se, res.scalars.get("df_r")
    xv = np.asarray(session.data.values(var), dtype=float)[sample]
    ok = ~np.isnan(xv)
    if not ok.any():
        raise StataError("no observations", 2000)
    Xo, yo = X[ok], y[ok]
    ex, ey = residualize(xv[ok], Xo), residualize(yo, Xo)
    sxx = float(ex @ ex)
    if sxx <= 1e-12 * max(1.0, float(xv[ok] @ xv[ok])):
        raise StataError(f"{var} collinear with the model", 459)
    b = float(ex @ ey) / sxx
    df = len(yo) - X.shape[1] - 1
    rss = float(np.sum((ey - b * ex) ** 2))
    se = float(np.sqrt(rss / df / sxx)) if df > 0 else float("nan")
    return ex, ey, b, se, df


def _av_note(res, b, se) -> str:
    t = b / se if se > 0 else float("nan")
    what = "(robust) se" if res.macros.get("vcetype") else "se"
    return (f"coef = {fmt_g(b, 9).strip()}, {what} = {fmt_g(se, 9).strip()}, "
            f"t = {t:.2f}")


def _av_series(ex, ey, b, own) -> list[Series]:
    return [Series("scatter", ex, ey, label="", style=_diag_style(own)), _fit_line(ex, b)]


@command("avplot", abbrev="avplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="added-variable plot after regress", example="avplot ses")
def avplot_cmd(session, cmd) -> None:
    var, own, gopts = _parse(session, cmd.body or "", "avplot", True)
    res = active(session)
    ex, ey, b, se, _df = av_data(session, res, var)
    _draw(session, "avplot", own, gopts, _av_series(ex, ey, b, own), f"e( {var} | X )",
          f"e( {res.depvar} | X )", cmd.text, note=_av_note(res, b, se))


@command("avplots", abbrev="avplots", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="all added-variable plots in one image after regress",
         example="avplots")
def avplots_cmd(session, cmd) -> None:
    _v, own, gopts = _parse(session, cmd.body or "", "avplots", False)
    res = active(session)
    _X, names, _y, _s = regress_sample(session, res, "avplots")
    names = [n for n in names if n != "_cons"]
    if not names:
        raise StataError("no independent variables", 102)
    gc.check_finish(session, gopts)
    parts = []
    for nm in names:
        ex, ey, b, se, _df = av_data(session, res, nm)
        panel = Panel(series=_av_series(ex, ey, b, own))
        panel.xaxis.title = f"e( {nm} | X )"
        panel.yaxis.title = f"e( {res.depvar} | X )"
        part = Graph(kind="avplot", panels=[panel], note=_av_note(res, b, se))
        part.legend.show = False
        parts.append(part)
    graph = Graph(kind="combine", panels=[copy.deepcopy(p.panels[0]) for p in parts],
                  parts=parts)
    graph.legend.show = False
    gc.apply_text(graph, gopts)
    gc.finish(session, graph, gopts, cmd.text)


# ---- component-plus-residual plots ------------------------------------------------------------
def _model_column(names: list[str], var: str, who: str) -> int:
    if var not in names:
        raise StataError(f"{var} is not in the model", 398)
    return names.index(var)


def cpr_data(session, res, var: str, augmented: bool):
    """(x, component plus residual, slope of the drawn line) on the estimation sample."""
    X, names, y, _s = regress_sample(session, res, "acprplot" if augmented else "cprplot")
    j = _model_column(names, var, "cprplot")
    x = X[:, j]
    if not augmented:
        b = np.linalg.lstsq(X, y, rcond=None)[0]
        e = y - X @ b
        return x, e + b[j] * x, float(b[j])
    Xa = np.column_stack([X, x ** 2])
    b = np.linalg.lstsq(Xa, y, rcond=None)[0]
    e = y - Xa @ b
    comp = e + b[j] * x + b[-1] * x ** 2
    slope = np.polyfit(x, comp, 1)
    return x, comp, (float(slope[0]), float(slope[1]))


def _cpr(session, cmd, who: str, augmented: bool) -> None:
    var, own, gopts = _parse(session, cmd.body or "", who, True)
    res = active(session)
    x, comp, slope = cpr_data(session, res, var, augmented)
    line = _fit_line(x, slope[0], slope[1]) if augmented else _fit_line(x, slope)
    series = [Series("scatter", x, comp, style=_diag_style(own)), line]
    if "lowess" in own:
        series.append(_lowess_series(x, comp))
    ytitle = "Augmented component plus residual" if augmented else "Component plus residual"
    _draw(session, who, own, gopts, series, gc.var_title(session.data, var), ytitle, cmd.text)


@command("cprplot", abbrev="cprplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="component-plus-residual plot after regress",
         example="cprplot ses, lowess")
def cprplot_cmd(session, cmd) -> None:
    _cpr(session, cmd, "cprplot", False)


@command("acprplot", abbrev="acprplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="augmented component-plus-residual plot after regress",
         example="acprplot ses, lowess")
def acprplot_cmd(session, cmd) -> None:
    _cpr(session, cmd, "acprplot", True)


# ---- residual-versus-predictor and leverage-versus-squared-residual ---------------------------
@command("rvpplot", abbrev="rvpplot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="residual-versus-predictor plot after regress",
         example="rvpplot ses, yline(0)")
def rvpplot_cmd(session, cmd) -> None:
    var, own, gopts = _parse(session, cmd.body or "", "rvpplot", True)
    res = active(session)
    X, names, y, sample = regress_sample(session, res, "rvpplot")
    e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    x = np.asarray(session.data.values(var), dtype=float)[sample]
    ok = ~np.isnan(x)
    series = [Series("scatter", x[ok], e[ok], label="Residuals", style=_diag_style(own))]
    _draw(session, "rvpplot", own, gopts, series, gc.var_title(session.data, var), "Residuals",
          cmd.text)


def lvr2_data(session, res):
    """(normalized squared residual, leverage) on the estimation sample."""
    from hlmshell.engine.reg_influence import leverage
    X, _names, y, _s = regress_sample(session, res, "lvr2plot")
    e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    rss = float(e @ e)
    if rss <= 0:
        raise StataError("residuals are all zero", 459)
    return e ** 2 / rss, leverage(X)


@command("lvr2plot", abbrev="lvr2plot", family="Graphics", raw=True, byable=False,
         changes_data=False, desc="leverage-versus-squared-residual plot after regress",
         example="lvr2plot")
def lvr2plot_cmd(session, cmd) -> None:
    _v, own, gopts = _parse(session, cmd.body or "", "lvr2plot", False)
    res = active(session)
    r2, h = lvr2_data(session, res)
    series = [Series("scatter", r2, h, label="Leverage", style=_diag_style(own))]
    _draw(session, "lvr2plot", own, gopts, series, "Normalized residual squared", "Leverage",
          cmd.text, xlines=[float(np.mean(r2))], ylines=[float(np.mean(h))])
