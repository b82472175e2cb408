"""suest: seemingly unrelated estimation, stacking stored models' scores into one robust VCE.

    suest namelist [, vce(robust | cluster clustvar) level(#) dir eform(string) cformat() ...]

Each stored model (regress, logit, probit, poisson, mlogit, ologit, oprobit; unweighted, or all with the same
pweights or fweights) contributes its coefficients and per-observation scores, rebuilt here
from e(b), the data and e(sample); engine.suest_scores makes the sandwich. As in [R] suest,
regress enters as `name_mean` and `name_lnvar` (ln of e(rmse)^2, as a Stata 17 log of suest
after regress shows: A_lnvar -1.745891 = ln(.174489532), the residual mean square), a
single-equation model as `name`, and the equations of a multi-equation model as `name_eq`.
The result replaces e() (e(cmd) suest), so `test [m1]x = [m2]x` works across the models.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands._postest import confidence_level, expand_names, lookup
from hlmshell.commands.predict import column_values
from hlmshell.engine import suest_scores as ss
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output.numfmt import fmt_count
from hlmshell.registry import Opt, args_of, command
from hlmshell.results import EstimationResults

_SUPPORTED = ("regress", "logit", "logistic", "probit", "poisson", "mlogit", "ologit", "oprobit")


class _Model:
    """One stored model's part of the stack: its equations' names, estimates, scores over the
    union sample and its block of D."""

    def __init__(self, name, names, b, omitted, scores, D):
        self.name, self.names, self.b, self.omitted = name, names, b, omitted
        self.scores, self.D = scores, D


def _design(res, data, cols) -> np.ndarray:
    return np.column_stack([column_values(data, res.names[j][1]) for j in cols]) \
        if cols else np.zeros((data.n, 0))


def _check(res, name: str, n: int) -> np.ndarray:
    cmd = res.cmd
    if cmd not in _SUPPORTED:
        raise StataError(f"{cmd} is not supported by suest", 322)
    if res.macros.get("wtype") not in (None, "", "pweight", "fweight"):
        raise StataError(f"{res.macros['wtype']}s not allowed with suest", 101)
    if res.macros.get("offset"):
        raise StataError(f"{name}: estimates with offset() are not supported by hlmshell's suest", 322)
    if res.sample is None or len(res.sample) != n:
        raise StataError(f"estimation sample of the model saved under {name} could not be restored", 322)
    return np.asarray(res.sample, dtype=bool)


def _single(res, name: str, data, sample, w) -> _Model:
    """regress / logit / probit / poisson: one equation (regress: plus lnvar)."""
    k = len(res.names)
    b = np.asarray(res.b, dtype=float).reshape(-1)
    omitted = np.asarray(res.omitted, dtype=bool).reshape(-1)
    keep = [j for j in range(k) if not omitted[j]]
    X = _design(res, data, keep)[sample]
    y = np.asarray(data.values(res.depvar), dtype=float)[sample]
    bk = b[keep]
    extra = None
    ws = None if w is None else w[sample]
    if res.cmd == "regress":
        rmse = float(res.scalars.get("rmse", float("nan")))
        sc, Dk, extra = ss.regress_parts(X, y, bk, ws, rmse * rmse if rmse > 0 else None)
    elif res.cmd in ("logit", "logistic"):
        sc, Dk = ss.logit_parts(X, (y != 0).astype(float), bk, ws)
    elif res.cmd == "probit":
        sc, Dk = ss.probit_parts(X, (y != 0).astype(float), bk, ws)
    else:
        sc, Dk = ss.poisson_parts(X, y, bk, ws)
    eq = f"{name}_mean" if res.cmd == "regress" else name
    names = [(eq, res.names[j][1]) for j in range(k)]
    pos = list(keep)
    est, om = list(b), list(omitted)
    if extra is not None:
        names.append((f"{name}_lnvar", "_cons"))
        pos.append(k)
        est.append(extra)
        om.append(False)
    return _expand(name, names, np.array(est), np.array(om), sample, sc, Dk, pos)


def _expand(name, names, b, omitted, sample, sc, Dk, pos) -> _Model:
    """Scores and D on all of the model's columns (omitted ones: zero), rows over all obs."""
    k = len(names)
    scores = np.zeros((len(sample), k))
    scores[np.ix_(np.flatnonzero(sample), pos)] = sc
    D = np.zeros((k, k))
    D[np.ix_(pos, pos)] = Dk
    return _Model(name, names, b, omitted, scores, D)


def _mlogit(res, name: str, data, sample, w) -> _Model:
    eqs = []
    for eq, _ in res.names:
        if eq not in eqs:
            eqs.append(eq)
    b = np.asarray(res.b, dtype=float).reshape(-1)
    omitted = np.asarray(res.omitted, dtype=bool).reshape(-1)
    cols = [nm for e, nm in res.names if e == eqs[0]]
    clean = [c.removeprefix("o.") for c in cols]
    per = len(cols)
    base = next((i for i in range(len(eqs)) if omitted[i * per:(i + 1) * per].all()), None)
    if base is None or len(res.names) != per * len(eqs):
        raise StataError(f"equations of the model saved under {name} could not be matched", 322)
    X = np.column_stack([column_values(data, c) for c in clean])[sample]
    y = np.asarray(data.values(res.depvar), dtype=float)[sample]
    levels = np.unique(y[~np.isnan(y)])
    if len(levels) != len(eqs):
        raise StataError(f"outcomes of the model saved under {name} could not be matched", 322)
    outcome = np.searchsorted(levels, y)
    B = b.reshape(len(eqs), per)
    sc, Dk = ss.mlogit_parts(X, outcome, B, base, None if w is None else w[sample])
    pos = [i * per + j for i in range(len(eqs)) if i != base for j in range(per)]
    names = [(f"{name}_{e}", nm) for e, nm in res.names]
    return _expand(name, names, b, omitted, sample, sc, Dk, pos)


def _weights(session, results) -> tuple[str, np.ndarray | None]:
    """The models' common weights (pweight or fweight, the same expression for all)."""
    kinds = {(r.macros.get("wtype") or "", (r.macros.get("wexp") or "").strip()) for r in results}
    if len(kinds) > 1:
        raise StataError("suest requires that all models be estimated with the same weights", 322)
    kind, wexp = kinds.pop()
    if not kind:
        return "", None
    from hlmshell.syntax.evaluate import evaluate
    w = np.asarray(evaluate(wexp.lstrip("= ").strip(), session), dtype=float)
    return kind, np.broadcast_to(w, (session.data.n,)).astype(float)


def _ordinal(res, name: str, data, sample, w) -> _Model:
    """ologit/oprobit: the index equation as `name`, each cutpoint an equation `name_cut#`."""
    k = len(res.names)
    b = np.asarray(res.b, dtype=float).reshape(-1)
    omitted = np.asarray(res.omitted, dtype=bool).reshape(-1)
    xcols = [j for j, (e, _) in enumerate(res.names) if e != "/"]
    cuts = [j for j, (e, _) in enumerate(res.names) if e == "/"]
    keep = [j for j in xcols if not omitted[j]]
    X = _design(res, data, keep)[sample]
    y = np.asarray(data.values(res.depvar), dtype=float)[sample]
    levels = np.unique(y)
    if len(levels) != len(cuts) + 1:
        raise StataError(f"outcomes of the model saved under {name} could not be matched", 322)
    outcome = np.searchsorted(levels, y)
    pos = keep + cuts
    sc, Dk = ss.ordinal_parts(X, outcome, b[pos], len(levels), res.cmd == "oprobit",
                              None if w is None else w[sample])
    names = [(name, nm) if e != "/" else (f"{name}_{nm}", "_cons") for e, nm in res.names]
    return _expand(name, names, b, omitted[:k], sample, sc, Dk, pos)


def _models(session, names: list[str]):
    data = session.data
    results = [lookup(session, nm) for nm in names]
    samples = []
    for nm, res in zip(names, results):
        label = res.name if nm == "." and res.name else ("_LAST" if nm == "." else nm)
        samples.append((label, _check(res, label, data.n)))
    kind, w = _weights(session, results)
    out, union = [], np.zeros(data.n, dtype=bool)
    for (label, sample), res in zip(samples, results):
        union |= sample
        part = {"mlogit": _mlogit, "ologit": _ordinal, "oprobit": _ordinal}.get(res.cmd, _single)
        out.append(part(res, label, data, sample, w))
    return out, union, kind, w


def _clusters(session, vce: str | None, union: np.ndarray):
    if not vce:
        return None, None
    words = vce.split()
    kind = words[0].lower()
    if "robust".startswith(kind) and len(kind) >= 1 and len(words) == 1:
        return None, None
    if "cluster".startswith(kind) and len(kind) >= 2 and len(words) == 2:
        from hlmshell.syntax.varlist import expand_varlist
        var = expand_varlist(session.data, words[1])
        if len(var) != 1:
            raise StataError("too many variables specified", 103)
        vals = session.data.values(var[0])
        return np.asarray(vals)[union], var[0]
    raise StataError("vcetype '" + vce.strip() + "' not allowed", 198)


@command("suest", byable=False, body="anything", family="Postestimation",
         desc="seemingly unrelated estimation (stacked-score robust VCE of stored models)",
         example="suest m1 m2, vce(cluster id)",
         options=(Opt("svy", desc="survey data estimation (not available)"),
                  Opt("vce", "vce", "string", None, "vcetype may be robust or cluster clustvar"),
                  Opt("level", "l", "real", None, "set confidence level; default is level(95)"),
                  Opt("dir", "d", desc="display a table describing the models"),
                  Opt("eform", "ef", "string", None, "report exponentiated coefficients"),
                  Opt("cformat", "cformat", "string", None, "format of the coefficients"),
                  Opt("pformat", "pformat", "string", None, "format of the p-values"),
                  Opt("sformat", "sformat", "string", None, "format of the test statistics"),
                  Opt("coeflegend", "coefl", desc="display legend instead of statistics")))
def suest_cmd(session, cmd) -> None:
    opts = args_of(cmd)
    level = confidence_level(session, opts)
    body = (cmd.body or "").strip()
    if not body:
        if session.e is not None and session.e.cmd == "suest":
            _display(session, session.e, level, opts.eform, bool(opts.coeflegend))
            return
        raise StataError("namelist required", 100)
    if opts.svy:
        raise StataError("option svy requires svyset data; not available in hlmshell's suest", 198)
    names = expand_names(session, body)
    if not names:
        raise StataError(f"estimation result {body} not found", 111)
    if len(set(names)) != len(names):
        raise StataError("duplicate names in namelist", 198)
    models, union, kind, w = _models(session, names)
    clusters, clustvar = _clusters(session, opts.vce, union)
    freq = w[union] if kind == "fweight" else None
    res = _combine(session, cmd, models, union, (clusters, clustvar), freq)
    if kind:
        res.macros.update(wtype=kind, wexp=lookup(session, names[0]).macros.get("wexp", ""))
    if opts.dir:
        _dir(session, names)
    session.post_estimation(res)
    _display(session, res, level, opts.eform, bool(opts.coeflegend))


def _combine(session, cmd, models, union, cluster, freq) -> EstimationResults:
    clusters, clustvar = cluster
    scores = np.column_stack([m.scores for m in models])[union]
    k = scores.shape[1]
    D = np.zeros((k, k))
    at = 0
    for m in models:
        w = len(m.names)
        D[at:at + w, at:at + w] = m.D
        at += w
    V, m_clust = ss.stacked_sandwich(scores, D, clusters, freq)
    V = (V + V.T) / 2
    names = [nm for m in models for nm in m.names]
    b = np.concatenate([m.b for m in models])
    omitted = np.concatenate([m.omitted for m in models])
    res = EstimationResults(cmd="suest", names=names, b=b, V=V, omitted=omitted, k_f=k,
                            sample=union.copy())
    n = int(union.sum()) if freq is None else round(float(np.sum(freq)))
    res.scalars = {"N": float(n), "rank": float(np.linalg.matrix_rank(V)) if k else 0.0}
    res.macros = {"cmd": "suest", "cmdline": cmd.text, "names": " ".join(m.name for m in models),
                  "eqnames": " ".join(dict.fromkeys(e for e, _ in names)), "vce": "robust",
                  "vcetype": "Robust", "properties": "b V",
                  "title": "Simultaneous results for " + ", ".join(m.name for m in models)}
    if clustvar:
        res.scalars["N_clust"] = float(m_clust)
        res.macros.update(vce="cluster", clustvar=clustvar)
    return res


def _dir(session, names: list[str]) -> None:
    out = session.out
    out.line("")
    out.line("-" * 78)
    out.line(f"{'name':>12} | {'command':<11}{'depvar':<13}{'N':>7}")
    out.line("-" * 13 + "+" + "-" * 64)
    for nm in names:
        r = lookup(session, nm)
        n = int(r.scalars.get("N", 0))
        out.line(f"{nm:>12} | {r.cmd:<11}{r.depvar:<13}{fmt_count(n):>7}")
    out.line("-" * 78)


def _display(session, res, level: float, eform: str | None = None, legend: bool = False) -> None:
    out = session.out
    title = res.macros.get("title", "Simultaneous results")
    right = f"Number of obs = {fmt_count(int(res.scalars['N']))}"
    out.line("")
    out.line(f"{title}{right:>{max(ct.WIDTH - len(title), len(right) + 1)}}")
    out.line("")
    if "N_clust" in res.scalars:
        out.line(ct.cluster_note(int(res.scalars["N_clust"]), res.macros["clustvar"]))
    sections = []
    for eq in dict.fromkeys(e for e, _ in res.names):
        idx = [j for j, (e, _) in enumerate(res.names) if e == eq]
        groups = ct.groups_from_names([res.names[j][1] for j in idx])
        for g in groups:
            for r in g.rows:
                r.index = idx[r.index]
        sections.append((eq, groups))
    if legend:
        lines = _legend_lines(res)
    elif eform:
        lines = _eform_lines(sections, res, level, eform)
    else:
        lines = ct.equation_table("", sections, res.b, res.se, stat="z", level=level)
        lines[1:2] = [ct.vcetype_line("Robust"), ct.column_header("", "z", level, se_title="std. err.")]
    for ln in lines:
        out.line(ln)


def _legend_lines(res) -> list[str]:
    """coeflegend: each coefficient with the name that refers to it, _b[eq:name]."""
    out = [ct.rule(), f"{'':12} | Coefficient  Legend", ct.rule("mid")]
    prev = None
    for j, (eq, nm) in enumerate(res.names):
        if eq != prev:
            if prev is not None:
                out.append(ct.rule("mid"))
            out.append(f"{eq[:12]:<12} |")
            prev = eq
        label = nm.removeprefix("o.")
        out.append(f"{label[-12:]:>12} |  {ct.cnum(float(res.b[j]))}  _b[{eq}:{nm}]")
    return out + [ct.rule()]


def _eform_lines(sections, res, level: float, title: str) -> list[str]:
    """eform(string): every equation's exp(b) with the column titled `string`."""
    from hlmshell.output.eform_table import eform_table
    out: list[str] = []
    for k, (eq, groups) in enumerate(sections):
        table = eform_table("", groups, res.b, res.se, title=title[:11], level=level, vcetype="Robust")
        if not k:
            out += table[:4]
        else:
            out.append(ct.rule("mid"))
        out.append(f"{eq[:12]:<12} |")
        out += table[4:-1]
    return out + [ct.rule()]
