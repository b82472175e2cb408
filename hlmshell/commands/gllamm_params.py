"""gllamm's parametrisation of a fitted me*/mixed model, and its e().

Why: gllamm estimates the random effects' covariance matrix of each level through its
Cholesky factor L (Psi = L L'): the diagonal elements under one equation per random effect
(`scho1:_cons` for a random intercept without eqs(); `sch1_1:cons`, `sch1_2:ses` with eqs()),
then the elements below the diagonal row by row (`sch1_2_1:_cons`), level 2 first; the
Gaussian level-1 standard deviation as its log (`lns1:_cons`). The me* commands post
variances and covariances (`/:var(ses[school])`), mixed ln sd and atanh correlations. Both
are mapped here to gllamm's vector, e(V) by the delta method (numerical Jacobian: at the
maximum the inverse information transforms exactly). The random effects keep gllamm's
order within a level (the order of eqs()), which the me* commands may not (`_cons` last).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from hlmshell.errors import StataError
from hlmshell.results import EstimationResults

_VC = re.compile(r"^(var|cov)\((.*)\)$")


@dataclass
class GllammModel:
    """What gllapred and replay need: the spec, the command that fitted it and its results."""

    spec: object
    me_name: str
    me_res: EstimationResults


def _effects(g, k: int) -> list[str]:
    """Level k's random effects in gllamm's order ("_cons" for an intercept)."""
    return list(g.eqvars[k]) or ["_cons"]


def _me_order(g, k: int) -> list[str]:
    vars_ = _effects(g, k)
    return [v for v in vars_ if v != "_cons"] + (["_cons"] if "_cons" in vars_ else [])


def _me_levels(res, nlev: int):
    """(extras, [Psi per me level, outermost first], effect names per level) from me* e(b)."""
    labs, entries, extras = [], {}, []
    for j in range(res.k_f, len(res.names)):
        eq, nm = res.names[j]
        m = _VC.match(nm)
        if eq != "/" or not m:
            extras.append(j)
            continue
        items = [it.strip() for it in m.group(2).split(",")]
        parts = [(it[:it.index("[")], it[it.index("[") + 1:-1]) for it in items]
        lab = parts[0][1]
        if lab not in labs:
            labs.append(lab)
            entries[lab] = ([], {})
        names, vals = entries[lab]
        if m.group(1) == "var":
            names.append(parts[0][0])
            vals[(parts[0][0], parts[0][0])] = j
        else:
            vals[(parts[0][0], parts[1][0])] = j
    if len(labs) != nlev:
        raise StataError("gllamm: unexpected random-effects layout", 498)
    return extras, [entries[lab] for lab in labs]


def _mixed_levels(res, nlev: int):
    """The same from mixed's e(b) (lns#_1_#, atr#_1_#_#, lnsig_e)."""
    per = [dict() for _ in range(nlev)]
    resid = None
    for j in range(res.k_f, len(res.names)):
        eq = res.names[j][0]
        if eq == "lnsig_e":
            resid = j
            continue
        m = re.match(r"^(lns|atr)(\d+)_1_(\d+)(?:_(\d+))?$", eq)
        if not m:
            raise StataError("gllamm: unexpected random-effects layout", 498)
        k = int(m.group(2)) - 1
        if m.group(1) == "lns":
            per[k][("lns", int(m.group(3)) - 1)] = j
        else:
            per[k][("atr", int(m.group(3)) - 1, int(m.group(4)) - 1)] = j
    return resid, per


def _chol(P: np.ndarray) -> np.ndarray:
    """Cholesky factor with a non-negative diagonal, defined at the boundary too."""
    q = P.shape[0]
    L = np.zeros_like(P)
    for j in range(q):
        d = P[j, j] - float(L[j, :j] @ L[j, :j])
        L[j, j] = math.sqrt(max(d, 0.0))
        for i in range(j + 1, q):
            r = P[i, j] - float(L[i, :j] @ L[j, :j])
            L[i, j] = r / L[j, j] if L[j, j] > 0 else 0.0
    return L


class Mapping:
    """src e(b) -> gllamm's e(b), for one fitted model."""

    def __init__(self, g, me_name: str, res):
        self.g = g
        self.mixed = me_name == "mixed"
        self.kf = res.k_f
        nlev = len(g.levels)
        if self.mixed:
            self.resid, self.lev = _mixed_levels(res, nlev)
            self.extras = []
        else:
            self.resid = None
            self.extras, self.lev = _me_levels(res, nlev)

    def psi(self, b, k_me: int, order: list[str]) -> np.ndarray:
        q = len(order)
        P = np.zeros((q, q))
        if self.mixed:
            ent = self.lev[k_me]
            sd = np.array([math.exp(b[ent[("lns", j)]]) if ("lns", j) in ent else 0.0
                           for j in range(q)])
            P[np.diag_indices(q)] = sd * sd
            for key, j in ent.items():
                if key[0] == "atr":
                    a, c = key[1], key[2]
                    P[a, c] = P[c, a] = math.tanh(b[j]) * sd[a] * sd[c]
            return P
        names, vals = self.lev[k_me]
        for (x, y), j in vals.items():
            a, c = order.index(x), order.index(y)
            P[a, c] = P[c, a] = b[j]
        return P

    def __call__(self, b) -> np.ndarray:
        g = self.g
        out = list(b[:self.kf]) + [b[j] for j in self.extras]
        if self.resid is not None:
            out.append(b[self.resid])
        nlev = len(g.levels)
        for k in range(nlev):
            eff, order = _effects(g, k), _me_order(g, k)
            P = self.psi(b, nlev - 1 - k, order)
            perm = [order.index(v) for v in eff]
            P = P[np.ix_(perm, perm)]
            if g.correl and len(eff) > 1:
                L = _chol(P)
                out += list(np.diag(L))
                out += [L[i, j] for i in range(1, len(eff)) for j in range(i)]
            else:
                out += list(np.sqrt(np.clip(np.diag(P), 0.0, None)))
        return np.array(out, dtype=float)


def gllamm_names(g, res, mapping: Mapping) -> list[tuple[str, str]]:
    names = list(res.names[:res.k_f])
    ncut = len(mapping.extras)
    names += [(f"_cut1{j + 1}", "_cons") for j in range(ncut)]
    if mapping.resid is not None:
        names.append(("lns1", "_cons"))
    for k, clus in enumerate(g.levels):
        eff = _effects(g, k)
        if not g.eqs_given:
            names.append((f"{clus[:4]}{k + 1}", "_cons"))
            continue
        stem = f"{clus[:3]}{k + 1}_"
        names += [(f"{stem}{r + 1}", v) for r, v in enumerate(eff)]
        if g.correl and len(eff) > 1:
            names += [(f"{stem}{i + 1}_{j + 1}", "_cons") for i in range(1, len(eff))
                      for j in range(i)]
    return names


def _jacobian(f, x: np.ndarray) -> np.ndarray:
    y0 = f(x)
    J = np.zeros((len(y0), len(x)))
    for j in range(len(x)):
        h = 1e-6 * max(abs(x[j]), 1e-3)
        e = np.zeros(len(x))
        e[j] = h
        J[:, j] = (f(x + e) - f(x - e)) / (2 * h)
    return J


def _units(session_data, sample, g) -> list[int]:
    """number of level 1, 2, ... units in the sample (levels nested in the ones above)."""
    out = [int(sample.sum())]
    for k in range(len(g.levels)):
        cols = [np.asarray(session_data.values(v))[sample] for v in g.levels[k:]]
        keys = np.unique(np.column_stack(cols), axis=0) if cols[0].dtype != object else \
            {tuple(r) for r in zip(*cols)}
        out.append(len(keys))
    return out


def condition_number(V: np.ndarray) -> float:
    """gllamm's e(cn): sqrt(largest / smallest eigenvalue) of the information inv(V)."""
    try:
        w = np.linalg.eigvalsh(np.linalg.inv(0.5 * (V + V.T)))
    except np.linalg.LinAlgError:
        return -1.0
    if w.min() <= 0:
        return -1.0
    return float(math.sqrt(w.max() / w.min()))


FAMILY_NAMES = {"gauss": "gauss", "binom": "binom", "poiss": "poiss"}


def gllamm_results(cmd, g, me_name: str, me_res, data=None) -> EstimationResults:
    mapping = Mapping(g, me_name, me_res)
    b_src = np.asarray(me_res.b, dtype=float)
    b = mapping(b_src)
    J = _jacobian(mapping, b_src)
    V = J @ np.asarray(me_res.V, dtype=float) @ J.T
    V = 0.5 * (V + V.T)
    names = gllamm_names(g, me_res, mapping)
    omitted = np.concatenate([np.asarray(me_res.omitted[:me_res.k_f], dtype=bool),
                              np.zeros(len(names) - me_res.k_f, dtype=bool)])
    keep = ~omitted
    cn = condition_number(V[np.ix_(keep, keep)])
    sc = me_res.scalars
    ms = me_res.macros
    res = EstimationResults(cmd="gllamm", names=names, b=b, V=V, omitted=omitted,
                            k_f=me_res.k_f, sample=me_res.sample)
    res.scalars = {"N": float(sc["N"]), "ll": float(sc["ll"]), "k": float(len(names)),
                   "rank": float(keep.sum()), "cn": cn, "tplv": float(len(g.levels) + 1),
                   "lev1": 1.0 if g.family == "gauss" else 0.0, "cor": 1.0 if g.correl else 0.0,
                   "adapt": 1.0 if g.adapt else 0.0, "nip": float(g.nip),
                   "converged": float(sc.get("converged", 1.0)), "ll_0": float("nan"),
                   "df_m": float(sc.get("df_m", float("nan")))}
    if "N_clust" in sc:
        res.scalars["N_clust"] = float(sc["N_clust"])
    res.macros = {"cmd": "gllamm", "cmdline": cmd.text, "depvar": g.depvar,
                  "title": "gllamm model", "clus": " ".join(reversed(g.levels)),
                  "family": g.family, "link": g.link, "predict": "gllapred",
                  "properties": "b V", "me_cmd": me_name}
    if g.offset:
        res.macros["offset"] = g.offset
    if g.denom:
        res.macros["denom"] = g.denom
    if g.wvar:
        res.macros["weight" if g.wtype == "fweight" else "pweight"] = g.wvar[:-1]
    if ms.get("vcetype") or g.robust or g.cluster:
        res.macros["vcetype"] = "Robust"
        res.macros["robclus"] = g.cluster or ""
    res.matrices = {"nrf": np.array([g.nrf], dtype=float)}
    res.model = GllammModel(spec=g, me_name=me_name, me_res=me_res)
    return res


def add_units(res, data) -> None:
    """e(nu): the number of units at each level, as gllamm prints them."""
    g = res.model.spec
    res.matrices["nu"] = np.array([_units(data, np.asarray(res.sample, dtype=bool), g)],
                                  dtype=float)


def check_from(session, g, k: int) -> None:
    """from(matrix): only starting values. The fit here starts from its own (the fixed-effects
    model's estimates), which reaches the same maximum; the matrix is checked as gllamm
    checks it (a matrix; with copy, one value per parameter)."""
    name = (g.options.raw("from") or "").strip()
    mat = session.matrices.get(name)
    if mat is None:
        raise StataError(f"{name} not a matrix", 111)
    vals = np.atleast_2d(np.asarray(getattr(mat, "values", mat), dtype=float))
    cols = int(vals.shape[1])
    if g.options.copy and cols != k:
        raise StataError(f"from(): {cols} values given, {k} parameters in the model", 503)
