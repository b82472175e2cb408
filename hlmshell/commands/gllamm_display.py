"""gllamm's output: the number of units per level, the condition number, `gllamm model`, the
log likelihood, the fixed-effects table (first equation; ordinal thresholds as their own
equations), `Variance at level 1` (Gaussian) and `Variances and covariances of random
effects` per level (`var(1): v (se)`, `cov(2,1): c (se) cor(2,1): r`), as gllamm's Replay
and disprand print them. Numbers outside the table in display's default format (%10.0g).

Why the variances are computed here: e(b) holds the Cholesky factors; the variances and
covariances Psi = L L' and their standard errors come from e(V) by the delta method (the
derivative of L L' with respect to each element of L), as gllamm's sechol does.
"""
from __future__ import annotations

import math

import numpy as np

from hlmshell.errors import StataError
from hlmshell.output.coeftable import Group, Row, coef_table, equation_table
from hlmshell.output.eform_table import eform_table
from hlmshell.output.labels import display_groups
from hlmshell.syntax.display import display_number as num

DASHES = "-" * 78
_REPLAY = ("level", "eform", "allc", "robust", "cluster", "nodisplay", "dots")


def _fixed_groups(res):
    m = res.model
    design = getattr(getattr(m.me_res, "model", None), "design", None)
    if design is not None:
        vl = getattr(m.me_res.model, "value_labels", None)
        return display_groups(design, baselevels=False, value_labels=vl)
    return [Group(None, [Row(nm, j, None) for j, (_, nm) in enumerate(res.names[:res.k_f])])]


def _se(res) -> np.ndarray:
    return np.sqrt(np.clip(np.diag(np.asarray(res.V, dtype=float)), 0, None))


def fixed_lines(res, opts) -> list[str]:
    level = float(opts.level)
    se = _se(res)
    kf = res.k_f
    groups = _fixed_groups(res)
    vt = res.macros.get("vcetype") or None
    ncut = sum(1 for eq, _ in res.names if eq.startswith("_cut1"))
    if ncut:
        sections = [(res.depvar, groups)] + [
            (res.names[kf + j][0], [Group(None, [Row("_cons", kf + j, None)])]) for j in range(ncut)]
        return equation_table(res.depvar, sections, res.b, se, stat="z", level=level)
    if opts.eform:
        return eform_table(res.depvar, groups, res.b[:kf], se[:kf], title="exp(b)", level=level,
                           vcetype=vt)
    return coef_table(res.depvar, groups, res.b[:kf], se[:kf], stat="z", level=level, vcetype=vt)


def level_blocks(res):
    """Per level (cluster name, Psi, SEs of Psi's lower triangle by row, correlated)."""
    g = res.model.spec
    b = np.asarray(res.b, dtype=float)
    V = np.asarray(res.V, dtype=float)
    pos = res.k_f + sum(1 for eq, _ in res.names if eq.startswith("_cut1") or eq == "lns1")
    out = []
    for k, clus in enumerate(g.levels):
        q = max(len(g.eqvars[k]), 1)
        idx = [[-1] * q for _ in range(q)]
        for i in range(q):
            idx[i][i] = pos + i
        pos += q
        cor = g.correl and q > 1
        if cor:
            for i in range(1, q):
                for j in range(i):
                    idx[i][j] = pos
                    pos += 1
        tri = [(i, j) for i in range(q) for j in range(i + 1)]
        used = sorted({idx[i][j] for i, j in tri if idx[i][j] >= 0})
        L = np.zeros((q, q))
        for i, j in tri:
            if idx[i][j] >= 0:
                L[i, j] = b[idx[i][j]]
        H = np.zeros((len(tri), len(used)))
        for c, p in enumerate(used):
            i0, j0 = next((i, j) for i, j in tri if idx[i][j] == p)
            A = np.zeros((q, q))
            A[i0, j0] = 1.0
            D = A @ L.T + L @ A.T
            H[:, c] = [D[i, j] for i, j in tri]
        C = V[np.ix_(used, used)]
        se = np.sqrt(np.clip(np.diag(H @ C @ H.T), 0, None))
        out.append((clus, L @ L.T, se, tri, cor))
    return out


def random_lines(res) -> list[str]:
    b = np.asarray(res.b, dtype=float)
    V = np.asarray(res.V, dtype=float)
    lines = [""]
    if res.scalars.get("lev1") == 1.0:
        j = next(j for j, (eq, _) in enumerate(res.names) if eq == "lns1")
        var = math.exp(2 * b[j])
        se = 2 * var * math.sqrt(max(V[j, j], 0.0))
        lines += ["Variance at level 1", DASHES, "", f"  {num(var)} ({num(se)})"]
    lines += ["", "Variances and covariances of random effects", DASHES, ""]
    for k, (clus, P, se, tri, cor) in enumerate(level_blocks(res)):
        lines += ["", f"***level {k + 2} ({clus})"]
        for t, (i, j) in enumerate(tri):
            if i == j:
                lines += ["", f"    var({i + 1}): {num(P[i, i])} ({num(se[t])})"]
            elif not cor:
                lines.append(f"    cov({i + 1},{j + 1}): fixed at 0")
            else:
                den = math.sqrt(P[i, i] * P[j, j])
                r = P[i, j] / den if den > 0 else float("nan")
                lines.append(f"    cov({i + 1},{j + 1}): {num(P[i, j])} ({num(se[t])}) "
                             f"cor({i + 1},{j + 1}): {num(r)}")
    return lines + [DASHES, "", ""]


def allc_lines(res, opts) -> list[str]:
    """`allc`: every parameter as estimated, one equation per gllamm equation."""
    kf = res.k_f
    sections = [(res.depvar, _fixed_groups(res))]
    j = kf
    while j < len(res.names):
        eq = res.names[j][0]
        rows = []
        while j < len(res.names) and res.names[j][0] == eq:
            rows.append(Row(res.names[j][1], j, None))
            j += 1
        sections.append((eq, [Group(None, rows)]))
    return equation_table(res.depvar, sections, res.b, _se(res), stat="z",
                          level=float(opts.level))


def display(session, res, opts) -> None:
    out = session.out
    sc = res.scalars
    lines = [""]
    nu = res.matrices.get("nu")
    if nu is not None:
        lines += [f"number of level {j + 1} units = {int(v)}" for j, v in enumerate(nu[0])] + [""]
    cn = sc.get("cn", -1.0)
    lines.append(f"Condition Number = {num(cn)}" if cn > 0
                 else "Condition Number could not be computed")
    lines += ["", "gllamm model", "", f"log likelihood = {num(sc['ll'])}", ""]
    if res.macros.get("vcetype"):
        clus = res.macros.get("robclus")
        lines.append(f"Robust standard errors for clustered data: cluster({clus})" if clus
                     else "Robust standard errors")
    lines += fixed_lines(res, opts) + random_lines(res)
    if opts.allc:
        lines += allc_lines(res, opts)
    for line in lines:
        out.line(line)


def replay(session, cmd) -> None:
    from hlmshell.commands._postest import active
    from hlmshell.registry import bind_command
    res = active(session)
    if res.cmd != "gllamm" or res.model is None:
        raise StataError("gllamm was not the last command", 301)
    opts = bind_command("gllamm", cmd.options)
    bad = [k for k in opts.given if k not in _REPLAY]
    if bad:
        raise StataError(f"option {bad[0]} not allowed", 198)
    if "robust" in opts.given or "cluster" in opts.given:
        raise StataError("robust standard errors on replay are not available; refit with "
                         "robust", 198)
    display(session, res, opts)
