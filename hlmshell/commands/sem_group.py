"""sem ..., group(varname) [ginvariant(classes)]: the same model fitted in each group at once.

The groups' models are joined into one block-diagonal RAM model whose observed variables are
the G copies of the model's, each observation having values only in its group's block, so the
full-information likelihood over those patterns is the sum of the groups' likelihoods. A
parameter is shared by all groups when its class is in ginvariant() (default: mcoef mcons,
Stata's default: measurement coefficients and intercepts) or when it carries a user's @name;
otherwise each group has its own. With the measurement intercepts invariant, the means of the
latent exogenous variables are 0 in the first group and free in the others, as Stata does.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from hlmshell.commands.sem_build import Built, Param
from hlmshell.engine.sem_model import Entry, RamModel
from hlmshell.errors import StataError

CLASSES = ("mcoef", "mcons", "merrvar", "merrcov", "scoef", "scons", "serrvar", "serrcov",
           "smerrcov", "meanex", "covex")


def parse_ginvariant(text: str | None) -> set[str]:
    if text is None:
        return {"mcoef", "mcons"}
    words = text.lower().split()
    if words == ["none"]:
        return set()
    if words == ["all"]:
        return set(CLASSES)
    bad = [w for w in words if w not in CLASSES]
    if bad or not words:
        raise StataError("option ginvariant() invalid", 198)
    return set(words)


def _class(built: Built, e: Entry) -> str:
    names = built.names
    meas = set(built.meas_eqs)
    endo = set(built.endo)
    if e.mat == "A":
        return "mcoef" if names[e.i] in meas else "scoef"
    if e.mat == "m":
        if names[e.i] in meas:
            return "mcons"
        return "scons" if names[e.i] in endo else "meanex"
    a, b = names[e.i], names[e.j]
    if a not in endo or b not in endo:
        return "covex"
    if e.i == e.j:
        return "merrvar" if a in meas else "serrvar"
    if a in meas and b in meas:
        return "merrcov"
    return "serrcov" if (a not in meas and b not in meas) else "smerrcov"


@dataclass
class GroupFit:
    """The joined model and, per group, each local parameter's global index."""

    model: RamModel
    maps: list[dict[int, int]]
    free_means: list[tuple[int, int]]     # (group, global k) of latent means freed in group > 0
    G: int
    p: int


def join(built: Built, G: int, invariant: set[str], means_named: set[str]) -> GroupFit:
    p, n = built.n_obs, len(built.names)

    def gi(g: int, v: int) -> int:
        return g * p + v if v < p else G * p + g * (n - p) + (v - p)

    cls = {}
    for e in built.model.entries:
        if e.k >= 0:
            cls.setdefault(e.k, _class(built, e))
    glob: dict[tuple, int] = {}
    maps: list[dict[int, int]] = []
    entries: list[Entry] = []
    free_means = []
    exo_lat = {built.names.index(v) for v in built.exo_lat if v not in means_named}
    for g in range(G):
        local: dict[int, int] = {}
        with_mean = {e.i for e in built.model.entries if e.mat == "m"}
        if g and "mcons" in invariant:
            for i in sorted(exo_lat - with_mean):
                k = len(glob)
                glob[("mean", i, g)] = k
                free_means.append((g, k))
                entries.append(Entry("m", gi(g, i), 0, k))
        for e in built.model.entries:
            j = 0 if e.mat == "m" else gi(g, e.j)
            if e.k < 0:
                entries.append(Entry(e.mat, gi(g, e.i), j, -1, e.value))
                continue
            shared = cls[e.k] in invariant or e.k in built.labelled
            key = (e.k,) if shared else (e.k, g)
            k = glob.setdefault(key, len(glob))
            local[e.k] = k
            entries.append(Entry(e.mat, gi(g, e.i), j, k))
        maps.append(local)
    return GroupFit(RamModel(G * p, G * n, len(glob), entries), maps, free_means, G, p)


def group_params(built: Built, gf: GroupFit, levels: list, gvar: str) -> tuple[list, list]:
    """e(b)'s parameters of all groups (each labelled with its group) and the display rows:
    [(label, section, eq, [(row label, index into params)])]."""
    params: list[Param] = []
    rows = []
    p, n = built.n_obs, len(built.names)

    def gi(g, v):
        return g * p + v if v < p else gf.G * p + g * (n - p) + (v - p)

    freed = {g for g, _ in gf.free_means}
    for q in built.params:
        members = []
        for g, lev in enumerate(levels):
            k = gf.maps[g].get(q.k, -1) if q.k >= 0 else -1
            value = q.value
            if q.k < 0 and q.section == "mean" and g in freed and q.name.startswith("mean("):
                k = _freed_k(gf, g, built, q)
            tag = f"{lev}.{gvar}"
            name = (f"{tag}#c.{q.name}" if q.name != "_cons" else tag) if q.eq != "/" else f"{q.name}#{tag}"
            params.append(replace(q, name=name, k=k, value=value, i=gi(g, q.i),
                                  j=0 if q.mat == "m" else gi(g, q.j)))
            members.append(len(params) - 1)
        rows.append((q, members))
    return params, rows


def _freed_k(gf: GroupFit, g: int, built: Built, q: Param) -> int:
    p, n = built.n_obs, len(built.names)
    target = gf.G * p + g * (n - p) + (q.i - p)
    for e in gf.model.entries:
        if e.mat == "m" and e.i == target:
            return e.k
    return -1


def group_data(X: np.ndarray, codes: np.ndarray, G: int):
    """Patterns (one per group: its block of variables) and the per-group moments."""
    from hlmshell.engine.sem_model import Pattern, Patterns
    p = X.shape[1]
    pats = Patterns()
    moments = []
    for g in range(G):
        Y = X[codes == g]
        if Y.shape[0] < 2:
            raise StataError("insufficient observations", 2001)
        xb = Y.mean(axis=0)
        D = Y - xb
        S = D.T @ D / Y.shape[0]
        pats.append(Pattern(np.arange(g * p, (g + 1) * p), Y.shape[0], S, xb))
        moments.append((Y.shape[0], S, xb))
    return pats, moments
