"""mlogit: multinomial logistic regression in Stata 17's layout ([R] mlogit).

`mlogit depvar [indepvars] [if] [in] [, baseoutcome(#) rrr vce(oim|robust|cluster v)
level(#) nolog noconstant]`. The base outcome is the most frequent one unless baseoutcome()
names a value. e(b) holds one equation per outcome, named by its value label (or its value),
the base outcome's columns as o.name with zeros, as Stata posts them; the table shows the base
outcome's line `(base outcome)` and every other outcome's coefficients (relative-risk ratios
with rrr). LR (Wald with a robust VCE) chi2 against the constant-only model. predict gives pr
(one new variable per outcome, or outcome()) and xb, stdp with outcome(); `test [eq]var` and
lincom work on e(b)'s equation names. Numbers from engine.mlogit."""
from __future__ import annotations

import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import sample_columns
from hlmshell.commands.estimation import _mixed_sample, _resolve_fixed_part, _split_spec, parse_vce
from hlmshell.commands.glm_cmds import _sandwich, robust_macros
from hlmshell.commands.model_terms import engine_terms, factor_labels
from hlmshell.commands.predict import PREDICTORS, _add, _new_names, _touse
from hlmshell.engine import design as dz
from hlmshell.errors import StataError
from hlmshell.output import coeftable as ct
from hlmshell.output import glm_output as go
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.output.numfmt import fmt_g
from hlmshell.registry import Opt, bind_command, command
from hlmshell.results import EstimationResults

_VCE = (("oim", 3), ("robust", 1), ("cluster", 2))
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


def _eq_name(labels: dict, v: float) -> str:
    lab = labels.get(v)
    if lab and _NAME.match(lab):
        return lab
    return fmt_g(v, 9).strip()


def _outcomes(ds, depvar: str, y: np.ndarray):
    values = np.unique(y)
    var = ds.var(depvar)
    labels = ds.value_labels.get(var.vallab, {}) if var.vallab else {}
    return values, [_eq_name(labels, float(v)) for v in values]


def _base(values, y, opts) -> int:
    if opts.raw("baseoutcome") is None:
        counts = [(int(np.sum(y == v)), -i) for i, v in enumerate(values)]
        return -max(counts)[1]
    text = opts.raw("baseoutcome").strip()
    try:
        v = float(text[1:]) if text.startswith("#") else float(text)
    except ValueError:
        raise StataError(f"baseoutcome() invalid: {text}", 198) from None
    if text.startswith("#"):
        if v != int(v) or not 1 <= v <= len(values):
            raise StataError(f"outcome {text} not found", 111)
        return int(v) - 1
    hit = np.flatnonzero(values == v)
    if not len(hit):
        raise StataError(f"outcome {text} not found", 111)
    return int(hit[0])


@command("mlogit", rule="mixed", family="Estimation", body="fvvarlist", qualifiers="if in",
         desc="multinomial (polytomous) logistic regression",
         example="mlogit sector ses minority, baseoutcome(0) rrr",
         options=(Opt("baseoutcome", "b", "string", None, "value of depvar that will be the base outcome"),
                  Opt("rrr", desc="report relative-risk ratios"),
                  Opt("noconstant", "nocons", desc="suppress the constant terms"),
                  Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
                  Opt("vce", "vce", "string", None, "vcetype: oim, robust or cluster clustvar"),
                  Opt("robust", "r", desc="old syntax of vce(robust)"),
                  Opt("cluster", "cl", "string", None, "old syntax of vce(cluster clustvar)"),
                  Opt("nolog", desc="do not show the iteration log"),
                  Opt("log", desc="show the iteration log; the default"),
                  Opt("iterate", "iter", "int", 300, "maximum number of iterations"),
                  Opt("constraints", "c", "string", None, "apply specified linear constraints"),
                  Opt("nocnsreport", "nocnsr", desc="do not display constraints")))
def mlogit_cmd(session, cmd) -> None:
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = session.e
        if res is None or res.cmd != "mlogit":
            raise StataError("last estimates not found", 301)
        opts = bind_command("mlogit", cmd.options)
        display_mlogit(session, res, confidence_level(session, opts), opts.rrr)
        return
    if spec.levels:
        raise StataError("invalid syntax", 198)
    opts = bind_command("mlogit", list(spec.fixed_options)
                        + [o for o in cmd.options if o not in spec.fixed_options])
    level = confidence_level(session, opts)
    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    vce = parse_vce(ds, opts, _VCE)
    numeric = [depvar] + [v for v in fvars if v != depvar]
    strg = []
    if vce.clustvar:
        (strg if ds.var(vce.clustvar).is_string else numeric).append(vce.clustvar)
    mask = _mixed_sample(session, cmd, numeric, strg)
    column = sample_columns(ds, mask)
    y = np.asarray(column(depvar), dtype=float)
    values, eqs = _outcomes(ds, depvar, y)
    if len(values) < 2:
        raise StataError("outcome does not vary", 2000)
    if len(values) > 50:                  # one equation per outcome: refused, as tabulate's
        raise StataError("too many values", 134)
    base = _base(values, y, opts)
    n = int(mask.sum())
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not opts.noconstant)
    X = design.X_keep
    if X.shape[1] == 0:
        raise StataError("no variables and no constant", 102)
    codes = np.searchsorted(values, y)
    from hlmshell.commands import constraint as cn
    cns = cn.prepare(session, opts.raw("constraints"), *_names(design, eqs, base))
    fit = _fit(session, X, codes, len(values), base, not opts.nolog or opts.log, opts.iterate, cns)
    V, n_clust = fit.V, None
    if vce.robust:
        V, n_clust = _sandwich(fit.V, fit.scores, column(vce.clustvar) if vce.clustvar else None)
    res = _results(cmd, depvar, design, mask, fit, V, values, eqs, base, vce, n_clust)
    cn.post_ml(res, cns, opts.nocnsreport)
    res.value_labels = factor_labels(ds, fixed)
    session.post_estimation(res)
    display_mlogit(session, res, level, opts.rrr)


def _fit(session, X, codes, J, base, show_log: bool, maxit: int, cns=None):
    from hlmshell.engine import mlogit as em
    try:
        if cns is not None:           # constraints(): Newton over their null space
            from hlmshell.engine import constrained as ec
            fit = ec.mlogit_fit(X, codes, J, base, cns.basis, maxit=maxit)
        else:
            fit = em.fit(X, codes, J, base, maxit=maxit)
    except (np.linalg.LinAlgError, FloatingPointError, ValueError):
        raise StataError("could not calculate numerical derivatives -- flat or discontinuous "
                         "region encountered", 430) from None
    if show_log:
        session.out.line("")
        for i, v in enumerate(fit.iterations):
            session.out.line(go.iteration_line(i, v))
    return fit


_LEVEL = re.compile(r"^(\d+)(b?)(o?)\.(.+)$")


def omitted_name(name: str) -> str:
    """A column's name in the base outcome's equation, with Stata's omitted operator:
    ses -> o.ses, _cons -> o._cons, 1.sector -> 1o.sector, 0b.sector unchanged,
    1.sector#c.ses -> 1o.sector#co.ses."""
    parts = []
    for part in name.split("#"):
        m = _LEVEL.match(part)
        if m:
            parts.append(part if m.group(2) or m.group(3) else f"{m.group(1)}o.{m.group(4)}")
        elif part.startswith("c."):
            parts.append("co." + part[2:])
        elif part.startswith(("o.", "co.")):
            parts.append(part)
        else:
            parts.append("o." + part)
    return "#".join(parts)


def _names(design, eqs, base):
    """e(b)'s column names and which are omitted (the base outcome's, collinear ones)."""
    names, omitted = [], []
    for j, eq in enumerate(eqs):
        for c, nm in enumerate(design.stata_names):
            is_base = j == base
            names.append((eq, omitted_name(nm) if is_base else nm))
            omitted.append(is_base or bool(design.omitted[c]))
    return names, omitted


def _results(cmd, depvar, design, mask, fit, V, values, eqs, base, vce, n_clust):
    cols = design.stata_names
    kc = len(cols)
    keep = np.flatnonzero(design.keep)
    names, omitted = _names(design, eqs, base)
    K = len(names)
    b = np.zeros(K)
    Vf = np.zeros((K, K))
    pos = []
    for m, j in enumerate([j for j in range(len(eqs)) if j != base]):
        idx = j * kc + keep
        b[idx] = fit.beta[m]
        pos.extend(idx.tolist())
    pos = np.array(pos)
    Vf[np.ix_(pos, pos)] = V
    res = EstimationResults(cmd="mlogit", names=names, b=b, V=Vf,
                            omitted=np.array(omitted, dtype=bool), k_f=K, sample=mask.copy())
    df_m = (len(eqs) - 1) * len([c for c in keep if cols[c] != "_cons"])
    if vce.robust:
        wt = [p for p in pos if names[p][1] != "_cons"]
        bb = b[wt]
        chi2 = float(bb @ np.linalg.pinv(Vf[np.ix_(wt, wt)]) @ bb) if wt else 0.0   # pinv: constraints
        chi2type = "Wald"
    else:
        chi2, chi2type = max(2.0 * (fit.ll - fit.ll_0), 0.0), "LR"
    res.scalars = {"N": float(mask.sum()), "k": float(K), "k_eq": float(len(eqs)),
                   "k_eq_model": float(len(eqs) - 1), "k_out": float(len(eqs)),
                   "k_dv": 1.0, "df_m": float(df_m), "ll": fit.ll, "ll_0": fit.ll_0,
                   "chi2": chi2, "p": float(dist.chi2_sf(chi2, df_m)) if df_m else float("nan"),
                   "r2_p": 1.0 - fit.ll / fit.ll_0 if fit.ll_0 else float("nan"),
                   "ibaseout": float(base + 1), "baseout": float(values[base]),
                   "rank": float(len(pos)), "ic": float(len(fit.iterations) - 1),
                   "converged": 1.0 if fit.converged else 0.0}
    res.macros = {"cmd": "mlogit", "cmdline": cmd.text, "depvar": depvar,
                  "title": "Multinomial logistic regression", "chi2type": chi2type,
                  "vce": vce.kind or "oim", "eqnames": " ".join(eqs), "properties": "b V",
                  "predict": "mlogit_p", "k_eq_model": str(len(eqs) - 1)}
    robust_macros(res, vce, n_clust)
    res.matrices["out"] = np.asarray(values, dtype=float).reshape(1, -1)
    res.design = design
    res.outcomes = [float(v) for v in values]
    return res


def _eq_groups(groups, offset: int):
    return [ct.Group(g.header, [ct.Row(r.label, r.index + offset, r.status) for r in g.rows])
            for g in groups]


def display_mlogit(session, res, level: float, rrr: bool) -> None:
    out = session.out
    sc = res.scalars
    robust = bool(res.macros.get("vcetype"))
    out.line("")
    for line in go.header_lines(res.macros["title"], int(sc["N"]), int(sc["df_m"]), sc["chi2"],
                                sc["p"], sc["ll"], sc["r2_p"], res.macros["chi2type"], robust):
        out.line(line)
    out.line("")
    from hlmshell.commands import constraint as cn
    for line in cn.report_lines(res):
        out.line(line)
    if sc.get("N_clust"):
        out.line(ct.cluster_note(int(sc["N_clust"]), res.macros["clustvar"]))
    for line in mlogit_table(res, level, rrr):
        out.line(line)
    if rrr and any(nm == "_cons" for _, nm in res.names):
        out.line("Note: _cons estimates baseline relative risk for each outcome.")


def mlogit_table(res, level: float, rrr: bool) -> list[str]:
    design = res.design
    groups = display_groups(design, baselevels=False, value_labels=getattr(res, "value_labels", {}))
    kc = len(design.stata_names)
    eqs = res.macros["eqnames"].split()
    base = int(res.scalars["ibaseout"]) - 1
    vt = res.macros.get("vcetype") or None
    se = res.se
    first = "RRR" if rrr else "Coefficient"
    head = [ct.rule()]
    if vt:
        head += [ct.vcetype_line(vt), ct.column_header(res.depvar, "z", level, first, "std. err.")]
    else:
        head.append(ct.column_header(res.depvar, "z", level, first))
    lines = list(head)
    for j, eq in enumerate(eqs):
        lines.append(ct.rule("mid"))
        if j == base:
            lines.append(f"{ct.abbrev(eq, ct.NAME_W):<{ct.NAME_W}} |  (base outcome)")
            continue
        lines.append(f"{ct.abbrev(eq, ct.NAME_W):<{ct.NAME_W}} |")
        from hlmshell.commands import constraint as cn
        g = cn.mark_groups(_eq_groups(groups, j * kc), res)
        if rrr:
            full = eform_table(res.depvar, g, res.b, se, title="RRR", level=level, vcetype=vt)
            lines += full[len(head) + 1:-1]
        else:
            lines += ct.body_lines(g, res.b, se, stat="z", level=level)
    return lines + [ct.rule()]


# ---- predict -----------------------------------------------------------------------------------
def _outcome_index(res, text: str) -> int:
    outs = res.outcomes
    eqs = res.macros["eqnames"].split()
    t = text.strip()
    if t.startswith("#"):
        try:
            k = int(t[1:])
        except ValueError:
            k = 0
        if not 1 <= k <= len(outs):
            raise StataError(f"outcome({t}) not found", 111)
        return k - 1
    if t in eqs:
        return eqs.index(t)
    try:
        v = float(t)
    except ValueError:
        raise StataError(f"outcome({t}) not found", 111) from None
    if v not in outs:
        raise StataError(f"outcome({t}) not found", 111)
    return outs.index(v)


def _linear(res, data) -> np.ndarray:
    """(n, J) linear predictions x b_j, zero for the base outcome."""
    kc = len(res.design.stata_names)
    J = len(res.outcomes)
    cols = res.design.stata_names
    X = np.column_stack([_col(data, nm) for nm in cols])
    B = np.asarray(res.b, dtype=float).reshape(J, kc)
    B = np.where(np.isnan(B), 0.0, B)
    return X @ B.T


def _col(data, nm: str) -> np.ndarray:
    from hlmshell.commands.predict import column_values
    return column_values(data, nm)


def _statistic(opts) -> tuple[str, bool]:
    """(pr, xb or stdp; whether it was typed)."""
    stats = [s for s in ("pr", "xb", "stdp") if s in opts and getattr(opts, s, False)]
    for bad in ("residuals", "fitted", "rstandard", "reffects", "mu", "n", "ir"):
        if bad in opts and getattr(opts, bad, None):
            raise StataError(f"option {bad} not allowed", 198)
    if len(stats) > 1:
        raise StataError("only one statistic may be specified", 198)
    return (stats[0], True) if stats else ("pr", False)


def _targets(cmd, res, stat: str, out_text):
    """(storage type, new names, outcome indexes): every outcome for pr with k names or a
    stub*, else the one of outcome() (the first outcome by default)."""
    words = [w for w in (cmd.body or "").split() if w not in ("byte", "int", "long", "float", "double")]
    if stat == "pr" and not out_text and (len(words) != 1 or words[0].endswith("*")):
        vtype, names = _new_names(cmd.body or "", len(res.outcomes))
        return vtype, names, list(range(len(res.outcomes)))
    vtype, names = _new_names(cmd.body or "", None)
    return vtype, names, [_outcome_index(res, out_text) if out_text else 0]


def predict_mlogit(session, cmd, res, opts) -> None:
    stat, typed = _statistic(opts)
    data = session.data
    touse = _touse(session, cmd)
    eqs = res.macros["eqnames"].split()
    depvar = res.depvar
    vtype, names, which = _targets(cmd, res, stat, opts.raw("outcome"))
    if not typed:
        session.out.line("(option pr assumed; predicted probabilit"
                         + ("ies)" if len(which) > 1 else "y)"))
    eta = _linear(res, data)
    if stat == "pr":
        ex = np.exp(eta - np.nanmax(eta, axis=1, keepdims=True))
        P = ex / ex.sum(axis=1, keepdims=True)
        cols = [P[:, j] for j in which]
        labels = [f"Pr({depvar}=={eqs[j]})" for j in which]
    elif stat == "xb":
        cols = [eta[:, j] for j in which]
        labels = [f"Linear prediction, {depvar}=={eqs[j]}" for j in which]
    else:
        cols, labels = [_stdp(res, data, which[0])], [f"S.E. of linear prediction, {depvar}=={eqs[which[0]]}"]
    _add(session, names, cols, labels, vtype, touse)


def _stdp(res, data, j: int) -> np.ndarray:
    kc = len(res.design.stata_names)
    cols = res.design.stata_names
    X = np.column_stack([_col(data, nm) for nm in cols])
    V = np.asarray(res.V, dtype=float)[j * kc:(j + 1) * kc, j * kc:(j + 1) * kc]
    return np.sqrt(np.clip(np.einsum("ij,jk,ik->i", X, V, X), 0, None))


PREDICTORS["mlogit"] = predict_mlogit
