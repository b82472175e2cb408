"""qreg: quantile (median by default) regression in Stata 17's layout ([R] qreg).

`qreg depvar [indepvars] [if] [in] [, quantile(#) vce(iid|robust [, denmethod bwidth]) level(#)
nolog]`; quantile() above 1 is a percentage. The numbers come from engine.qreg (interior point
then the optimal vertex; the sparsity from the fits at tau +- h, Hall-Sheather bandwidth, as
Stata's defaults). The header shows the raw and minimized sums of check-function deviations and
the pseudo R2 = 1 - min/raw; t statistics on N - k degrees of freedom. Typed alone it replays.
predict after qreg gives xb (the default), stdp and residuals (predict's linear path)."""
from __future__ import annotations

import numpy as np

from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample, _resolve_fixed_part, _split_spec
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.engine import design as dz
from hlmshell.errors import StataError
from hlmshell.output.coeftable import coef_table
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt, fmt_count, fmt_g
from hlmshell.registry import Opt, abbrev_lookup, bind_command, command
from hlmshell.results import EstimationResults

_DEN = (("fitted", "fit"), ("residual", "res"), ("kernel", "k"))
_BW = (("hsheather", "hs"), ("bofinger", "bo"), ("chamberlain", "ch"))
_VCE = (("iid", "iid"), ("robust", "r"))


def _quantile(opts) -> float:
    q = float(opts.quantile) if opts.quantile is not None else 0.5
    if q >= 1:
        q = q / 100.0
    if not 0 < q < 1:
        raise StataError("quantile(" + fmt_g(float(opts.quantile), 9).strip()
                         + ") out of range", 198)
    return q


def parse_vce(opts) -> tuple[str, str, str]:
    """(vce, denmethod, bwidth) of vce([iid|robust] [, denmethod bwidth]) and `robust`."""
    text = (opts.raw("vce") or "").strip()
    head, _, tail = text.partition(",")
    words = head.split()
    kind = "robust" if opts.robust else "iid"
    if len(words) > 1:
        raise StataError("option vce() misspecified", 198)
    if words:
        kind = abbrev_lookup(words[0].lower(), _VCE)
        if kind is None:
            raise StataError(f"vcetype '{words[0]}' not allowed", 198)
    den, bw = "fitted", "hsheather"
    for w in tail.split():
        d, b = abbrev_lookup(w.lower(), _DEN), abbrev_lookup(w.lower(), _BW)
        if d == "kernel":
            raise StataError("vce(, kernel) is not available; use fitted or residual", 198)
        if d:
            den = d
        elif b:
            bw = b
        else:
            raise StataError("option vce() misspecified", 198)
    return kind, den, bw


def _title(q: float) -> str:
    return "Median regression" if q == 0.5 else f"{fmt_g(q, 9).strip()} Quantile regression"


def _header(res) -> list[str]:
    sc = res.scalars
    pr2 = 1.0 - sc["sum_adev"] / sc["sum_rdev"] if sc["sum_rdev"] > 0 else float("nan")
    raw = f"  Raw sum of deviations {fmt_g(sc['sum_rdev'], 9)} (about {fmt_g(sc['q_v'], 9).strip()})"
    mn = f"  Min sum of deviations {fmt_g(sc['sum_adev'], 9)}"
    return [f"{res.macros['title']:<52}Number of obs = {fmt_count(int(sc['N'])):>10}", raw,
            f"{mn:<52}Pseudo R2     = {fmt(pr2, '%10.4f')}"]


def display_qreg(session, res, level: float) -> None:
    out = session.out
    out.line("")
    for ln in _header(res):
        out.line(ln)
    out.line("")
    groups = display_groups(res.design, baselevels=False, value_labels=res.value_labels)
    for ln in coef_table(res.depvar, groups, res.b, res.se, stat="t", df_r=res.scalars["df_r"],
                         level=level, vcetype=res.macros.get("vcetype") or None):
        out.line(ln)


@command("qreg", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="quantile (median) regression", example="qreg mathach ses, quantile(.25)",
         options=(Opt("quantile", "q", "real", None, "estimate # quantile; default is quantile(.5)"),
                  Opt("vce", "vce", "string", None, "iid or robust [, fitted|residual hsheather|bofinger|chamberlain]"),
                  Opt("robust", "r", desc="synonym for vce(robust)"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("nolog", desc="do not show the iteration log"),
                  Opt("log", desc="show the iteration log; the default"),
                  Opt("wlsiter", "wls", "int", 1, "accepted for compatibility"),
                  Opt("iterate", "iter", "int", 1000, "maximum number of iterations")))
def qreg_cmd(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = session.e
        if res is None or res.cmd != "qreg":
            raise StataError("last estimates not found", 301)
        display_qreg(session, res, confidence_level(session, bind_command("qreg", cmd.options)))
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("qreg", list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    level = confidence_level(session, opts)
    tau = _quantile(opts)
    vce, den, bw = parse_vce(opts)
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    mask = _mixed_sample(session, cmd, [depvar] + [v for v in fvars if v != depvar], [])
    column = sample_columns(ds, mask)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=True)
    X = design.X_keep
    if n <= X.shape[1]:
        raise StataError("insufficient observations", 2001)
    y = np.asarray(column(depvar), dtype=float)
    fit = _fit(session, X, y, tau, vce, den, bw, not opts.nolog or opts.log)
    res = _results(cmd, depvar, design, mask, fit, tau, vce, den, bw)
    res.value_labels = factor_labels(ds, fixed)
    for note in design.notes:
        session.out.line(note)
    session.post_estimation(res)
    display_qreg(session, res, level)


def _fit(session, X, y, tau, vce, den, bw, show_log: bool):
    from hlmshell.engine import qreg as eq
    lines: list[float] = []
    try:
        fit = eq.qreg(X, y, tau, vce, den, bw, trace=lambda i, v: lines.append(v))
    except ValueError:
        raise StataError("bandwidth too large for quantile(); the density at "
                         "quantile() +- bandwidth is not estimable", 498) from None
    except (np.linalg.LinAlgError, FloatingPointError):
        raise StataError("could not estimate the variance-covariance matrix "
                         "(density estimate of zero)", 498) from None
    if show_log:
        for i, v in enumerate(lines, 1):
            session.out.line(f"Iteration {i:>2}: sum of abs. weighted deviations = {fmt_g(v, 10):>10}")
        if fit.alternate:
            session.out.line("note: alternate solutions exist.")
    return fit


def _results(cmd, depvar, design, mask, fit, tau, vce, den, bw) -> EstimationResults:
    names = [(depvar, nm) for nm in design.stata_names]
    k = len(names)
    keep = np.flatnonzero(design.keep)
    b = np.zeros(k)
    b[keep] = fit.b
    V = np.zeros((k, k))
    V[np.ix_(keep, keep)] = fit.V
    res = EstimationResults(cmd="qreg", names=names, b=b, V=V, omitted=design.omitted.copy(),
                            k_f=k, sample=mask.copy())
    n, rank = int(mask.sum()), len(keep)
    res.scalars = {"N": float(n), "df_m": float(rank - 1), "df_r": float(n - rank),
                   "q": tau, "q_v": fit.q_v, "sum_adev": fit.sum_adev, "sum_rdev": fit.sum_rdev,
                   "sum_w": float(n), "f_r": 1.0 / fit.sparsity if fit.sparsity else float("nan"),
                   "sparsity": fit.sparsity, "bwidth": fit.bwidth, "rank": float(rank),
                   "convcode": 0.0}
    res.macros = {"cmd": "qreg", "cmdline": cmd.text, "depvar": depvar, "title": _title(tau),
                  "vce": vce, "denmethod": den, "bwmethod": bw, "properties": "b V",
                  "predict": "qreg_p", "marginsnotok": "stdp stddp"}
    if vce == "robust":
        res.macros["vcetype"] = "Robust"
    res.design = design
    return res
