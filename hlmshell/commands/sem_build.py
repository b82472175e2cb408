"""From sem's parsed paths and options to the engine's RAM model and the table of parameters.

Stata's defaults (the [SEM] manual's "default normalization constraints" and "default
covariance assumptions"):
- a name is latent when given in latent() or, unless nocapslatent, when it starts with a
  capital letter; a variable with an incoming path is endogenous, any other exogenous;
- every endogenous variable has an error with a free variance; errors are uncorrelated
  unless cov() says otherwise;
- observed endogenous variables have a free intercept (unless noconstant or `_cons@#`);
  latent endogenous ones none unless `_cons` is among their paths; latent exogenous variables
  have mean 0 unless means() (or `(L <- _cons)`) frees it;
- latent exogenous variables covary freely with each other, not with observed exogenous ones;
  observed exogenous variables' means, variances and covariances are free and, when nothing
  constrains them, reported as fixed at their sample values (Stata's x-conditional fit: not in
  e(b)), though their likelihood is part of log L;
- each latent variable whose scale nothing else fixes has its first path to an observed
  variable (or, without one, to a latent variable) constrained to 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from hlmshell.commands.sem_paths import Edge, Term, bad, group_name
from hlmshell.engine.sem_model import Entry, RamModel
from hlmshell.errors import StataError


@dataclass
class Param:
    """One reported parameter: its e(b) name (eq, name), table label, cell, free index k or
    fixed value, and where it is shown (section: Structural | Measurement | mean | var | cov)."""

    eq: str
    name: str
    label: str
    section: str
    mat: str
    i: int
    j: int
    k: int = -1
    value: float = 0.0


@dataclass
class SemSpec:
    """What the command asked for, names already resolved."""

    edges: list[Edge]
    latent: list[str]
    observed: list[str]
    noconstant: bool = False
    variances: list[Term] = field(default_factory=list)
    covs: list[tuple[str, str, Term]] = field(default_factory=list)
    means: list[Term] = field(default_factory=list)
    covstructure: list[tuple[str, str]] = field(default_factory=list)
    noxconditional: bool = False      # observed exogenous moments as parameters (mlmv too)


@dataclass
class Built:
    model: RamModel
    params: list[Param]
    names: list[str]              # all variables, observed first
    n_obs: int
    endo: list[str]
    exo_obs: list[str]
    exo_lat: list[str]
    struct_eqs: list[str]
    meas_eqs: list[str]
    xconditional: bool
    hidden: list[int]             # free parameters not reported (x-conditional moments)
    k_free: int = 0
    labelled: set = field(default_factory=set)    # parameters carrying a user's @name


class _Cells:
    """Collects the model's cells, with equality labels mapped to shared parameters."""

    def __init__(self):
        self.entries: list[Entry] = []
        self.labels: dict[str, int] = {}
        self.n_par = 0
        self.where: dict[tuple, Entry] = {}

    def add(self, mat: str, i: int, j: int, t: Term | None) -> Entry:
        key = (mat, max(i, j), min(i, j)) if mat == "S" else (mat, i, j)
        if key in self.where:
            e = self.where[key]
        else:
            e = Entry(mat, *key[1:])
            self.entries.append(e)
            self.where[key] = e
        if t is not None and t.fixed is not None:
            e.k, e.value = -1, t.fixed
        elif t is not None and t.label is not None:
            if t.label not in self.labels:
                self.labels[t.label] = self._new()
            e.k = self.labels[t.label]
        elif e.k < 0:
            e.k = self._new()
        return e

    def fix(self, mat, i, j, value) -> Entry:
        return self.add(mat, i, j, Term("", fixed=value))

    def compact(self) -> None:
        """Renumber the parameters still used (a default one replaced by a constraint, as an
        anchored loading, leaves a gap)."""
        used = sorted({e.k for e in self.entries if e.k >= 0})
        new = {k: n for n, k in enumerate(used)}
        for e in self.entries:
            if e.k >= 0:
                e.k = new[e.k]
        self.labels = {lab: new[k] for lab, k in self.labels.items() if k in new}
        self.n_par = len(used)

    def _new(self) -> int:
        self.n_par += 1
        return self.n_par - 1


def _classify(spec: SemSpec):
    deps = []
    for e in spec.edges:
        if e.src.name != "_cons" and e.dep not in deps:
            deps.append(e.dep)
    names: list[str] = []
    for e in spec.edges:
        for n in (e.dep, e.src.name):
            if n != "_cons" and n not in names:
                names.append(n)
    lat = [n for n in names if n in spec.latent]
    obs = [n for n in names if n not in spec.latent]
    return deps, lat, obs


def _order(obs, deps):
    """Observed variables: endogenous first (in order of appearance), then exogenous."""
    return [n for n in obs if n in deps] + [n for n in obs if n not in deps]


def build(spec: SemSpec) -> Built:
    deps, lat, obs = _classify(spec)
    if not obs:
        raise StataError("no observed variables in the model", 198)
    obs = _order(obs, deps)
    names = obs + lat
    idx = {n: i for i, n in enumerate(names)}
    endo = [n for n in names if n in deps]
    exo_obs = [n for n in obs if n not in deps]
    exo_lat = [n for n in lat if n not in deps]
    spec = _expand_groups(spec, endo, exo_obs, exo_lat)
    cells = _Cells()
    _paths(spec, cells, idx)
    _intercepts(spec, cells, idx, obs, lat, deps)
    _variances(spec, cells, idx, endo, exo_obs, exo_lat)
    _anchor(spec, cells, idx, lat)
    xcond = _xconditional(spec, exo_obs) and not spec.noxconditional
    cells.compact()
    model = RamModel(len(obs), len(names), cells.n_par, cells.entries)
    params, hidden = _catalog(spec, cells, names, idx, deps, exo_obs, exo_lat, xcond)
    struct, meas = _equations(spec, deps, lat)
    b = Built(model, params, names, len(obs), endo, exo_obs, exo_lat, struct, meas, xcond, hidden)
    b.k_free = cells.n_par - len(hidden)
    b.labelled = {k for lab, k in cells.labels.items() if not lab.startswith("__cs")}
    return b


def _paths(spec, cells, idx):
    for e in spec.edges:
        if e.src.name == "_cons":
            continue
        if e.src.name == e.dep:
            raise bad()
        cells.add("A", idx[e.dep], idx[e.src.name], e.src)


def _intercepts(spec, cells, idx, obs, lat, deps):
    cons = {e.dep: e.src for e in spec.edges if e.src.name == "_cons"}
    means = {t.name: t for t in spec.means}
    for n in list(obs) + list(lat):
        i = idx[n]
        if n in cons:
            cells.add("m", i, 0, cons[n] if (cons[n].fixed is not None or cons[n].label) else None)
        elif n in deps:
            if n in obs and not spec.noconstant:
                cells.add("m", i, 0, None)
        elif n in means:
            t = means[n]
            cells.add("m", i, 0, t if (t.fixed is not None or t.label) else None)
        elif n in obs:
            cells.add("m", i, 0, None)            # observed exogenous mean
    for t in spec.means:
        if t.name not in idx or t.name in deps:
            raise StataError(f"invalid means() specification: {t.name} is not an exogenous variable in the model", 198)


def _resolve_var(name: str, idx, deps) -> int:
    base = name[2:] if name.startswith("e.") else name
    if base not in idx:
        raise StataError(f"{base} not in model", 198)
    if name.startswith("e.") != (base in deps):
        raise StataError(f"invalid specification: {name}", 198)
    return idx[base]


def _variances(spec, cells, idx, endo, exo_obs, exo_lat):
    vt = {}
    for t in spec.variances:
        vt[_resolve_var(t.name, idx, endo)] = t
    for n in endo + exo_obs + exo_lat:
        i = idx[n]
        t = vt.get(i)
        cells.add("S", i, i, t if t is not None and (t.fixed is not None or t.label) else None)
    for a, b_ in _pairs(exo_obs) + _pairs(exo_lat):
        cells.add("S", idx[a], idx[b_], None)
    _covstructures(spec, cells, idx, endo, exo_obs, exo_lat)
    for a, b_, t in spec.covs:
        i, j = _resolve_var(a, idx, endo), _resolve_var(b_, idx, endo)
        if i == j:
            raise bad()
        cells.add("S", i, j, t if (t.fixed is not None or t.label) else None)


def _pairs(names):
    return [(names[a], names[b]) for a in range(len(names)) for b in range(a)]


def _expand_groups(spec: SemSpec, endo, exo_obs, exo_lat) -> SemSpec:
    """A copy of spec with the group names of var(), cov() and means() (`_LEx`, `_OEx`,
    `e._OEn`, ...) replaced by the variables they stand for: `var(e._OEn@c)` is one term per
    error, `cov(_LEx*_OEx)` one covariance per pair (a pair given twice counted once)."""
    def names(n):
        return _group_names(n, spec, endo, exo_obs, exo_lat)

    def terms(ts):
        return [Term(n, t.fixed, t.label) for t in ts for n in names(t.name)]
    covs, seen = [], set()
    for a, b_, t in spec.covs:
        for x in names(a):
            for y in names(b_):
                if (a != x or b_ != y) and (x == y or frozenset((x, y)) in seen):
                    continue        # a group's pairs with itself: only distinct ones, once
                seen.add(frozenset((x, y)))
                covs.append((x, y, Term(x, t.fixed, t.label)))
    return replace(spec, variances=terms(spec.variances), means=terms(spec.means), covs=covs)


def _group_names(text: str, spec, endo, exo_obs, exo_lat) -> list[str]:
    """covstructure()'s names: _OEx, _LEx, _Ex, e._OEn, e._LEn, e._En or a list."""
    low = group_name(text)
    if low is None:
        return [text]
    lat_endo = [n for n in endo if n in spec.latent]
    obs_endo = [n for n in endo if n not in spec.latent]
    groups = {"_oex": exo_obs, "_lex": exo_lat, "_ex": exo_obs + exo_lat,
              "e._oen": ["e." + n for n in obs_endo], "e._len": ["e." + n for n in lat_endo],
              "e._en": ["e." + n for n in obs_endo + lat_endo]}
    return groups.get(low, [text])


def _covstructures(spec, cells, idx, endo, exo_obs, exo_lat):
    for text, struct in spec.covstructure:
        names = [n for w in text.split() for n in _group_names(w, spec, endo, exo_obs, exo_lat)]
        ix = [_resolve_var(n, idx, endo) for n in names]
        tag = f"__cs{len(cells.labels)}"
        for a in range(len(ix)):
            var_t = {"identity": Term("", label=tag + "v"), "exchangeable": Term("", label=tag + "v"),
                     "zero": Term("", fixed=0.0)}.get(struct)
            cells.add("S", ix[a], ix[a], var_t)
            for b_ in range(a):
                cov_t = {"unstructured": None, "exchangeable": Term("", label=tag + "c")}.get(
                    struct, Term("", fixed=0.0))
                cells.add("S", ix[a], ix[b_], cov_t)


def _anchor(spec, cells, idx, lat):
    """Fix the first loading of each latent variable whose scale is not already set."""
    for L in lat:
        i = idx[L]
        var_e = cells.where.get(("S", i, i))
        if var_e is not None and var_e.k < 0:
            continue
        out = [e for e in spec.edges if e.src.name == L]
        if any(e.src.fixed is not None or e.src.label for e in out):
            continue
        if not out:
            raise StataError(f"latent variable {L} has no paths to other variables", 198)
        obs_first = [e for e in out if e.dep not in spec.latent]
        first = (obs_first or out)[0]
        cells.fix("A", idx[first.dep], i, 1.0)


def _xconditional(spec, exo_obs) -> bool:
    named = {t.name for t in spec.variances} | {t.name for t in spec.means}
    named |= {a for a, _, _ in spec.covs} | {b for _, b, _ in spec.covs}
    cs = " ".join(t for t, _ in spec.covstructure).lower()
    return not (named & set(exo_obs)) and "_oex" not in cs and "_ex" not in cs.replace("e._en", "")


def _equations(spec, deps, lat):
    srcs: dict[str, list[str]] = {}
    for e in spec.edges:
        if e.src.name != "_cons":
            srcs.setdefault(e.dep, []).append(e.src.name)
    meas = [d for d in deps if d not in lat and srcs.get(d) and all(s in lat for s in srcs[d])]
    struct = [d for d in deps if d not in lat and d not in meas] + [d for d in deps if d in lat]
    return struct, meas


def _entry_param(e: Entry, eq, name, label, section) -> Param:
    return Param(eq, name, label, section, e.mat, e.i, e.j, e.k, e.value)


def _catalog(spec, cells, names, idx, deps, exo_obs, exo_lat, xcond):
    struct, meas = _equations(spec, deps, spec.latent)
    params = _equation_params(spec, cells, idx, struct, meas)
    shown_exo = exo_lat + ([] if xcond else exo_obs)
    params += _mean_params(spec, cells, idx, exo_obs, shown_exo)
    lat_endo = [n for n in struct if n in spec.latent]
    for n in [n for n in struct if n not in lat_endo] + meas + lat_endo + shown_exo:
        lab = f"var(e.{n})" if n in deps else f"var({n})"
        params.append(_entry_param(cells.where[("S", idx[n], idx[n])], "/", lab, lab, "var"))
    params += _cov_params(cells, names, deps, exo_obs, xcond)
    shown = {p.k for p in params if p.k >= 0}
    hidden = sorted(set(range(cells.n_par)) - shown)
    return params, hidden


def _equation_params(spec, cells, idx, struct, meas) -> list[Param]:
    params = []
    for eq in struct + meas:
        section = "Measurement" if eq in meas else "Structural"
        i = idx[eq]
        for e in spec.edges:
            if e.dep == eq and e.src.name != "_cons":
                params.append(_entry_param(cells.where[("A", i, idx[e.src.name])], eq, e.src.name,
                                           e.src.name, section))
        m = cells.where.get(("m", i, 0))
        if m is not None:
            params.append(_entry_param(m, eq, "_cons", "_cons", section))
    return params


def _mean_params(spec, cells, idx, exo_obs, shown_exo) -> list[Param]:
    out = []
    for n in shown_exo:
        m = cells.where.get(("m", idx[n], 0))
        if m is not None and (n in exo_obs or m.k >= 0 or any(t.name == n for t in spec.means)):
            out.append(_entry_param(m, "/", f"mean({n})", f"mean({n})", "mean"))
    return out


def _cov_params(cells, names, deps, exo_obs, xcond) -> list[Param]:
    out = []
    for e in cells.entries:
        if e.mat != "S" or e.i == e.j:
            continue
        a, b_ = names[min(e.i, e.j)], names[max(e.i, e.j)]
        if ((a in exo_obs or b_ in exo_obs) and xcond) or (e.k < 0 and e.value == 0):
            continue
        la = f"e.{a}" if a in deps else a
        lb = f"e.{b_}" if b_ in deps else b_
        out.append(_entry_param(e, "/", f"cov({la},{lb})", f"cov({la},{lb})", "cov"))
    return out


def starting_values(built: Built, S_N: np.ndarray, xbar: np.ndarray) -> list[np.ndarray]:
    """Two starting vectors: loadings 1, regressions 0, intercepts at the means, error
    variances half the observed variance (latent variances from their indicators), observed
    exogenous moments at the sample values; the second with error variances at 0.9."""
    out = []
    for share in (0.5, 0.9, 0.2):
        out.append(_start(built, S_N, xbar, share))
    return out


def _start(built, S_N, xbar, share) -> np.ndarray:
    model = built.model
    p = built.n_obs
    exo_obs = {built.names.index(n) for n in built.exo_obs}
    theta = np.zeros(model.n_par)
    seen = set()
    ind_var = _indicator_variances(built, S_N)
    for e in model.entries:
        if e.k < 0 or e.k in seen:
            continue
        seen.add(e.k)
        theta[e.k] = _start_value(e, p, exo_obs, S_N, xbar, share, ind_var)
    return theta


def _indicator_variances(built, S_N) -> dict[int, float]:
    out: dict[int, list[float]] = {}
    for e in built.model.entries:
        if e.mat == "A" and e.i < built.n_obs and e.j >= built.n_obs:
            out.setdefault(e.j, []).append(S_N[e.i, e.i])
    return {j: float(np.mean(v)) for j, v in out.items()}


def _start_value(e, p, exo_obs, S_N, xbar, share, ind_var) -> float:
    if e.mat == "A":
        return 1.0 if e.j >= p else 0.0
    if e.mat == "m":
        return float(xbar[e.i]) if e.i < p else 0.0
    if e.i < p and e.j < p and e.i in exo_obs and e.j in exo_obs:
        return float(S_N[e.i, e.j])
    if e.i != e.j:
        return 0.0
    if e.i < p:
        return share * float(S_N[e.i, e.i])
    return (1 - share) * ind_var.get(e.i, 1.0) if ind_var.get(e.i) else 1.0
