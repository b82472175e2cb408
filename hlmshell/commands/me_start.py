"""Starting values of the me* commands: startvalues(zero|constantonly|fixedonly) and
from(matname[, skip copy]), as Stata's meglm takes them.

fixedonly (the default) starts the full model at the one-level (fixed-effects) fit with unit
standard deviations; constantonly at the constant-only one-level fit; zero at b = 0 and zero
in the estimation metric of the variances (ln sd = 0, atanh corr = 0) and of ln alpha (an
ordinal model's cutpoints keep the outcome's cumulative proportions: tied cutpoints have no
likelihood). from() takes a row vector in e(b)'s metric (variances and covariances, as
`matrix b = e(b)` holds them): by default its columns are matched to e(b)'s names (`eq:name`,
or a bare name for the first equation holding it) and parameters it does not name keep the
startvalues() ones; `skip` ignores names the model does not have (an error otherwise);
`copy` takes the values by position (the vector must be as long as e(b)).
startvalues(iv) (Stata's instrumental-variables start for the fixed part) is not available.
The one-level model is fitted either way: the LR test compares against it."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlmshell.engine.types import IndicatorMatrix
from hlmshell.engine.vcparams import normalize_structure
from hlmshell.errors import StataError

KINDS = ("zero", "constantonly", "fixedonly", "iv")


@dataclass
class StartPlan:
    kind: str = "fixedonly"
    given: dict = field(default_factory=dict)      # index in e(b) -> value
    from_given: bool = False

    def apply(self, beta, thetas, extra, *, kf, keep, structures, var_rows):
        """The optimiser's pieces with from()'s values put in (fixed part, the family's own
        parameters, each level's variances and covariances -> the level's factor)."""
        beta, extra = np.array(beta, dtype=float), np.array(extra, dtype=float)
        thetas = [np.array(t, dtype=float) for t in thetas]
        pos = {int(j): i for i, j in enumerate(keep)}
        for i, v in self.given.items():
            if i < kf and i in pos:
                beta[pos[i]] = v
            elif kf <= i < kf + len(extra):
                extra[i - kf] = v
        k = kf + len(extra)
        for lev, (st, rows) in enumerate(zip(structures, var_rows)):
            hit = [(ab, self.given[k + r]) for r, (_, ab) in enumerate(rows) if k + r in self.given]
            k += len(rows)
            if not hit:
                continue
            lam = st.lam(thetas[lev])
            psi = lam @ lam.T
            for (a, b), v in hit:
                psi[a, b] = psi[b, a] = v
            try:
                if np.any(np.diag(psi) < 0):
                    raise np.linalg.LinAlgError("negative variance")
                thetas[lev] = st.theta_from_relcov(psi)
            except np.linalg.LinAlgError:
                raise StataError("initial values not feasible", 1400) from None
        return beta, thetas, extra


def _kind(opts) -> str:
    text = (opts.raw("startvalues") or "").strip().lower() if "startvalues" in opts.given else ""
    if not text:
        return "fixedonly"
    word = text.split(",")[0].strip()
    hits = [k for k in KINDS if k == word or (len(word) >= 3 and k.startswith(word))]
    if len(hits) != 1:
        raise StataError(f"startvalues({text}) invalid", 198)
    if hits[0] == "iv":
        raise StataError("startvalues(iv) is not available; use zero, constantonly or "
                         "fixedonly", 198)
    return hits[0]


def plan(session, opts, names: list) -> StartPlan:
    """Read startvalues() and from() against e(b)'s names (before anything is fitted)."""
    out = StartPlan(kind=_kind(opts))
    text = (opts.raw("from") or "").strip() if "from" in opts.given else ""
    if not text:
        return out
    mat, _, rest = text.partition(",")
    flags = rest.split()
    for f in flags:
        if f not in ("skip", "copy"):
            raise StataError(f"option {f} not allowed", 198)
    if not mat.strip() or len(mat.split()) != 1:
        raise StataError("invalid syntax", 198)
    from hlmshell.commands.program import _get_matrix
    vals, _rows, cols, _sym = _get_matrix(session, mat.strip())
    if vals.shape[0] != 1:
        raise StataError(f"{mat.strip()} not a row vector", 503)
    vec = vals[0]
    if np.any(~np.isfinite(vec)):
        raise StataError("initial values not feasible", 1400)
    out.from_given = True
    if "copy" in flags:
        if len(vec) != len(names):
            raise StataError(f"from(): {mat.strip()} has {len(vec)} values; the model has "
                             f"{len(names)} parameters", 503)
        out.given = {i: float(v) for i, v in enumerate(vec)}
        return out
    for (eq, nm), v in zip(cols, vec):
        idx = [i for i, (e, n) in enumerate(names) if n == nm and (not eq or e == eq)]
        if not idx:
            if "skip" in flags:
                continue
            raise StataError(f"extra parameter {eq + ':' if eq else ''}{nm} found", 111)
        out.given[idx[0]] = float(v)
    return out


def var_rows(blocks, labels):
    """Per level the e(b) rows (as Stata names them): (name, (a, b) entry of the level's covariance)."""
    out = []
    for blk, lab in zip(blocks, labels):
        q = len(blk.names)
        kind = normalize_structure(blk.covariance, q)
        rows = []
        if isinstance(blk.Z, IndicatorMatrix) or (kind == "identity" and q == 1):
            rows.append((f"var(_cons[{lab}])", (0, 0)))
        elif kind == "identity":
            rows.append((f"var({blk.names[0]}[{lab}])", (0, 0)))
        else:
            rows += [(f"var({nm}[{lab}])", (j, j)) for j, nm in enumerate(blk.names)]
            if kind in ("unstructured", "exchangeable"):
                pairs = [(a, b) for a in range(q) for b in range(a + 1, q)]
                if kind == "exchangeable":
                    pairs = pairs[:1]
                rows += [(f"cov({blk.names[a]}[{lab}],{blk.names[b]}[{lab}])", (a, b))
                         for a, b in pairs]
        out.append(rows)
    return out


def constant_columns(names, keep) -> list[int]:
    """Columns of the kept design that are the constant (constantonly's one-level model)."""
    return [j for j, i in enumerate(keep) if names[i][1] == "_cons"]


def first_phase(out, log: bool, data, fam, plan: StartPlan, names, keep):
    """The one-level model (its ll is the LR test's comparison) and the fixed part's start
    with its log: `Fitting fixed-effects model:` (fixedonly), `Fitting constant-only model:`
    (constantonly), nothing for zero or from(). (b0, extra0, ll0)."""
    import dataclasses

    from hlmshell.engine import glmm
    from hlmshell.output import me_output as meo
    extra_orig = np.asarray(fam.extra, dtype=float).copy()

    def one_level(d):
        fam.extra = extra_orig.copy()
        lines: list = []
        b, ll = glmm.glm_start_log(d, fam, lines)
        ex = extra_orig.copy()
        if fam.n_extra:
            lines = []
            xf, ll = glmm.glm_fit(d, fam, np.concatenate([b, ex]), lines)
            b, ex = xf[:len(b)], xf[len(b):]
        return b, ex, ll, lines

    b0, extra0, ll0, lines = one_level(data)
    title = "Fitting fixed-effects model:"
    if plan.kind == "constantonly":
        cols = constant_columns(names, keep)
        bc, extra0, _, lines = one_level(dataclasses.replace(data, X=data.X[:, cols]))
        b0 = np.zeros(len(keep))
        b0[cols] = bc
        title = "Fitting constant-only model:"
    elif plan.kind == "zero":
        b0 = np.zeros(len(keep))
        extra0 = extra_orig.copy() if fam.name == "ordinal" else np.zeros(fam.n_extra)
        lines = []
    fam.extra = extra0.copy()
    if log and lines and not plan.from_given:
        out.line("")
        out.line(title)
        out.line("")
        for i, ll in enumerate(lines):
            out.line(meo.iteration_line(i, ll))
    return b0, extra0, ll0
