"""estat sd after the me* commands: the variances and covariances of e(b) as standard
deviations and correlations, with standard errors by the delta method from e(V).

Read from e(b)'s own names (`/:var(x[lev])`, `/:cov(x[lev],z[lev])`), so one-level and
multi-level fits are handled alike without the model's internals: sd = sqrt(var), se(sd) =
se(var) / (2 sd); corr = cov / (sd_x sd_z) with the gradient in (cov, var_x, var_z). r(b) and
r(V) hold e(b) and e(V) with those entries replaced (names `lev:sd(x)`, `lev:corr(x,z)`)."""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import confidence_level
from hlmshell.commands.program import NamedMatrix
from hlmshell.errors import StataError
from hlmshell.output import me_sd_output as so
from hlmshell.results import RResults

_VAR = re.compile(r"^var\((.+)\[(.+)\]\)$")
_COV = re.compile(r"^cov\((.+)\[(.+)\],(.+)\[(.+)\]\)$")


def _parse(names):
    """{index: ('var', x, lev) | ('cov', x, z, lev)} for the variance entries of e(b)."""
    out = {}
    for i, (eq, nm) in enumerate(names):
        if eq != "/":
            continue
        m = _VAR.match(nm)
        if m:
            out[i] = ("var", m.group(1), m.group(2))
            continue
        m = _COV.match(nm)
        if m and m.group(2) == m.group(4):
            out[i] = ("cov", m.group(1), m.group(3), m.group(2))
    return out


def sd_metric(res):
    """(b, V, column names, [(level, [(label, est, se, kind)])]) of estat sd."""
    b = np.asarray(res.b, dtype=float)
    V = np.asarray(res.V, dtype=float)
    k = len(b)
    entries = _parse(res.names)
    var_at = {(e[2], e[1]): i for i, e in entries.items() if e[0] == "var"}
    J = np.eye(k)
    nb = b.copy()
    names = [f"{eq}:{nm}" if eq != "/" else f"/:{nm}" for eq, nm in res.names]
    levels: dict = {}
    for i, e in entries.items():
        if e[0] == "var":
            sd = math.sqrt(max(b[i], 0.0))
            nb[i] = sd
            J[i, i] = 0.5 / sd if sd > 0 else 0.0
            names[i] = f"{e[2]}:sd({e[1]})"
            levels.setdefault(e[2], []).append((i, f"sd({e[1]})", "sd"))
            continue
        _, x, z, lev = e
        ia, ib = var_at.get((lev, x)), var_at.get((lev, z))
        if ia is None or ib is None or b[ia] <= 0 or b[ib] <= 0:
            continue
        den = math.sqrt(b[ia] * b[ib])
        r = b[i] / den
        nb[i] = r
        J[i, i] = 1.0 / den
        J[i, ia] = -0.5 * r / b[ia]
        J[i, ib] = -0.5 * r / b[ib]
        names[i] = f"{lev}:corr({x},{z})"
        levels.setdefault(lev, []).append((i, f"corr({x},{z})", "corr"))
    nV = J @ V @ J.T
    se = np.sqrt(np.clip(np.diag(nV), 0.0, None))
    table = [(lev, [(lab, float(nb[i]), float(se[i]) if nV[i, i] > 0 else None, kind)
                    for i, lab, kind in rows]) for lev, rows in levels.items()]
    return nb, nV, names, table


def glmm_sd(session, res, opts) -> None:
    from hlmshell.commands.estat_sd_post import already_posted

    if opts.variance:
        raise StataError("option variance not allowed", 198)
    if already_posted(res):
        raise StataError("estat sd: e() already holds the results of estat sd, post", 321)
    level = confidence_level(session, opts)
    b, V, names, table = sd_metric(res)
    if not table:
        raise StataError("requested action not valid after most recent estimation command", 321)
    z = float(dist.norm_ppf(0.5 + level / 200.0))
    lines = so.sd_table(table, z, level)
    if opts.verbose or opts.post:              # post implies verbose
        lines = _verbose(res, table, lines, z, level)
    session.out.line("")
    for line in lines:
        session.out.line(line)
    session.r = RResults(matrices={"b": NamedMatrix(b[None, :], ["y1"], names),
                                   "V": NamedMatrix(V, names, names)})
    if opts.post:
        from hlmshell.commands.estat_sd_post import post
        post(session, res, b, V, names)


def _verbose(res, table, sd_lines, z: float, level: float) -> list[str]:
    """`estat sd, verbose`: the whole estimation table, the variance part as standard
    deviations and correlations (the fixed part and the family's own parameters as posted)."""
    from hlmshell.output import me_output as meo
    from hlmshell.output.coeftable import coef_table, groups_from_names
    kf = res.k_f
    b = np.asarray(res.b, dtype=float)
    se = np.sqrt(np.clip(np.diag(np.asarray(res.V, dtype=float)), 0.0, None))
    groups = groups_from_names([nm for _, nm in res.names[:kf]])
    fixed = coef_table(res.depvar, groups, b, se, stat="z", level=level,
                       vcetype=res.macros.get("vcetype") or None)
    entries = _parse(res.names)
    extras = [(nm, b[i], se[i]) for i, (eq, nm) in enumerate(res.names)
              if i >= kf and eq == "/" and i not in entries]
    return fixed[:-1] + meo.extra_rows(extras, z) + sd_lines[2:-1] + [fixed[-1]]
