"""bootstrap and jackknife prefixes (Stata 17's [R] bootstrap, [R] jackknife):

    bootstrap exp_list [, reps(#) strata() cluster() idcluster() size() seed() saving() mse
                        level() notable noheader nolegend verbose nodots noisily nowarn]: command
    jackknife exp_list [, cluster() idcluster() saving() mse level() ...]: command

The command runs once on the data as they are (the observed statistics), then on each
bootstrap sample (rows drawn with replacement, within strata, whole clusters with cluster())
or with each observation (cluster) left out. e() becomes the prefix's results: e(b) the
observed values, e(V) the replicates' covariance, and the intervals (e(ci_normal),
e(ci_percentile), e(ci_bc)). With `_b` after an estimation command the command's own e()
is kept with the bootstrap e(V), and its header is shown over the table.

The numbers come from hlmshell.engine.resampling; running the command and the exp_list are
shared with simulate (hlmshell/commands/simulate.py); what is printed (and estat bootstrap)
is in resample_display.py, vce(bootstrap) of regress/mixed in vce_resample.py, bsample in
bsample.py and permute in permute.py.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands import simulate as sim
from hlmshell.commands._postest import confidence_level
from hlmshell.commands._toolkit import typed_args, varlist
from hlmshell.commands.resample_display import display_bootstrap, display_jackknife
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.engine import resampling as rs
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command
from hlmshell.results import EstimationResults

_NESTED = ("bootstrap", "jackknife", "statsby", "simulate", "permute")

_WARNING = (
    "Warning: Because {cmd} is not an estimation command or does not set e(sample),",
    "         {caller} has no way to determine which observations are used in",
    "         calculating the statistics and so assumes that all observations are",
    "         used. This means that no observations will be excluded from the",
    "         resampling because of missing values or other reasons.",
    "",
    "         If the assumption is not true, press Break, save the data, and drop",
    "         the observations that are to be excluded. Be sure that the dataset in",
    "         memory contains only the relevant data.",
)


@dataclass
class Plan:
    """What one bootstrap/jackknife run needs, parsed and checked before anything runs."""

    caller: str
    inner: str
    words: list | None
    reps: int = 50
    level: float = 95.0
    strata: list[str] = field(default_factory=list)
    cluster: list[str] = field(default_factory=list)
    idcluster: str | None = None
    group: str | None = None            # group(): ids of groups nested in the clusters
    size: int | None = None
    saving: tuple | None = None
    mse: bool = False
    noisily: bool = False
    nodots: bool = False
    every: int = 1
    nowarn: bool = False
    bca: bool = False
    keep: bool = False
    display: dict = field(default_factory=dict)


@dataclass
class Observed:
    """The command's run on all the data: the statistics, its e() (when it is an estimation
    command), the observations to resample, and the items collected."""

    items: list
    values: np.ndarray
    e: EstimationResults | None
    keep: np.ndarray
    eclass: bool
    nfunction: str = ""


# ============================================================================ parsing
_COMMON = (Opt("reps", "r", "int", None, "perform # bootstrap replications; default is reps(50) (bootstrap only)"),
           Opt("strata", "str", "string", None, "variables identifying strata (bootstrap only)"),
           Opt("size", "si", "string", None, "draw samples of size #; default is _N (bootstrap only)"),
           Opt("cluster", "cl", "string", None, "variables identifying resampling clusters"),
           Opt("idcluster", "id", "string", None, "create new cluster ID variable"),
           Opt("group", "g", "string", None, "ID variable of groups within cluster(), made unique per drawn cluster"),
           Opt("saving", "sa", "string", None, "filename[, replace double every(#)]: save the replicates"),
           Opt("mse", desc="use MSE formula for variance estimation"),
           Opt("bca", desc="compute acceleration for BCa confidence intervals (bootstrap only)"),
           Opt("keep", desc="keep pseudovalues (jackknife only)"),
           Opt("level", "l", "real", 95, "set confidence level; default is level(95)"),
           Opt("notable", desc="suppress table of results"),
           Opt("noheader", "noh", desc="suppress table header"),
           Opt("nolegend", "nol", desc="suppress table legend"),
           Opt("verbose", "v", desc="display the full table legend"),
           Opt("nodots", desc="suppress replication dots"),
           Opt("dots", "dots", "string", None, "display dots every # replications"),
           Opt("noisily", "noi", desc="display any output from command"),
           Opt("trace", "tr", desc="trace command"),
           Opt("title", "ti", "string", None, "use text as title for the results"),
           Opt("seed", "seed", "string", None, "set random-number seed to # (bootstrap only)"),
           Opt("nowarn", desc="do not warn when e(sample) is not set"),
           Opt("force", desc="accepted (weights are not checked)"),
           Opt("nodrop", desc="do not drop observations"),
           Opt("double", desc="save the replicates as doubles"))


def _names(session, text: str | None, what: str) -> list[str]:
    if text is None:
        return []
    names = varlist(session, text, all_if_empty=False)
    if not names:
        raise StataError(f"option {what}() invalid", 198)
    return names


def _size(text: str | None) -> int | None:
    if text is None or text.strip() in ("", "_N"):
        return None
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (v == v and v == int(v) and v >= 1):
        raise StataError("size() must be a positive integer", 198)
    return int(v)


_ONLY = {"bootstrap": ("reps", "strata", "size", "seed", "bca"), "jackknife": ("keep",)}


def _caller_only(opts, caller: str) -> None:
    """Options of the other prefix: `option x not allowed`."""
    for other, names in _ONLY.items():
        bad = next((k for k in names if k in opts), None) if other != caller else None
        if bad:
            flag = bad in ("bca", "keep")
            raise StataError(f"option {bad}{'' if flag else '()'} not allowed", 198)


def parse_plan(session, cmd, caller: str) -> Plan:
    explist, opt_text, inner = sim.split_prefix(cmd.body or "")
    from hlmshell.syntax.ast import Option
    from hlmshell.syntax.parser import parse_options
    # a bare `dots` is dots(1): a dot for every replication (Stata's default display)
    given = [Option(o.name, "1") if o.name == "dots" and o.arg is None else o
             for o in parse_options(opt_text)]
    opts = typed_args(cmd, options=given)
    sim.check_not_nested(inner, caller, _NESTED)
    plan = Plan(caller, inner, sim.exp_words(explist) if explist.strip() else None)
    plan.level = confidence_level(session, opts)
    plan.cluster = _names(session, opts.raw("cluster"), "cluster")
    if "group" in opts:
        if "idcluster" not in opts:
            raise StataError("group() can only be specified with the idcluster() option", 198)
        plan.group = _names(session, opts.raw("group"), "group")[0]
    if "idcluster" in opts:
        if not plan.cluster:
            raise StataError("idcluster() can only be specified with the cluster() option", 198)
        plan.idcluster = (opts.raw("idcluster") or "").strip()
        if len(plan.idcluster.split()) != 1:
            raise StataError("option idcluster() invalid", 198)
    if caller == "bootstrap":
        plan.reps = 50 if opts.reps is None else opts.reps
        if plan.reps < 2:
            raise StataError("reps() must be an integer greater than 1", 198)
        plan.strata = _names(session, opts.raw("strata"), "strata")
        plan.size = _size(opts.raw("size"))
        plan.bca = opts.bca
    _caller_only(opts, caller)
    plan.keep = caller == "jackknife" and opts.keep
    plan.saving = sim.saving_option(opts.raw("saving") if "saving" in opts else None)
    sim.check_saving(plan.saving)
    plan.mse, plan.nowarn = opts.mse, opts.nowarn
    plan.noisily = opts.noisily or opts.trace
    plan.nodots = opts.nodots
    plan.every = sim.dots_every(opts)
    plan.display = {"notable": opts.notable, "noheader": opts.noheader, "nolegend": opts.nolegend,
                    "verbose": opts.verbose, "title": (opts.raw("title") or "").strip() or None}
    if caller == "bootstrap":
        sim.set_seed(session, opts.raw("seed") if "seed" in opts else None)
    return plan


# ============================================================================ the full run
def observe(session, plan: Plan) -> Observed:
    """Run the command on all the data; the statistics it gives, and which observations are
    resampled: e(sample) after an estimation command, else every observation (with Stata's
    warning)."""
    out = session.out
    name = sim.command_name(plan.inner)
    if not plan.nodots:
        out.line(f"(running {name} on estimation sample)")
    if plan.noisily:
        out.line(f"{plan.caller}: First call to {name} with data as is:")
        out.line()
        out.line(f". {plan.inner}")
    eclass = sim.first_run(session, plan.inner, plan.noisily, plan.caller)
    n = session.data.n
    e = session.e if eclass else None
    sample = None if e is None else e.sample
    if sample is not None and len(sample) == n:
        keep = np.asarray(sample, dtype=bool).copy()
    else:
        keep = _if_in(session, plan)
        nfunc = plan.caller == "jackknife" and "N" in session.r.scalars
        if not plan.nowarn and not nfunc:
            out.line()
            for ln in _WARNING:
                out.line(ln.format(cmd=name, caller=plan.caller).rstrip())
    words = plan.words if plan.words is not None else sim.default_words(session, eclass, "", rclass_ok=False)
    stub = "_bs_" if plan.caller == "bootstrap" else "_jk_"
    items = sim.build_items(session, words, stub)
    values, _ = sim.evaluate_items(session, items)
    for it, v in zip(items, values):
        if np.isnan(v):
            raise StataError(f"'{it.text}' evaluated to missing in full sample", 322)
    nfunction = "r(N)" if plan.caller == "jackknife" and e is None and "N" in session.r.scalars else ""
    return Observed(items, np.asarray(values, dtype=float), e, keep, eclass, nfunction)


_IN_RANGE = re.compile(r"(?<=\s)in\s+[-\w/.]+(?=\s|,|$)")


def _if_in(session, plan: Plan) -> np.ndarray:
    """The observations a command that sets no e(sample) selects with its own if/in: only
    those are resampled (as Stata's prefixes mark them), and an `in` range leaves the command,
    which then runs on every observation of each sample."""
    from hlmshell.syntax.evaluate import marksample
    from hlmshell.syntax.parser import parse_command

    n = session.data.n
    try:
        parsed = parse_command(plan.inner)
    except StataError:
        return np.ones(n, dtype=bool)            # a user program: its arguments are its own
    if parsed.if_ is None and parsed.in_ is None:
        return np.ones(n, dtype=bool)
    mask = marksample(session, parsed)
    if parsed.in_ is not None:
        head, comma, tail = plan.inner.partition(",")
        plan.inner = (_IN_RANGE.sub("", head).rstrip() + (" " if comma else "") + comma + tail).strip()
    return mask


def _codes(ds: Dataset, names: list[str], rows: np.ndarray) -> np.ndarray | None:
    """Integer group codes of the observations `rows` by the variables `names`."""
    if not names:
        return None
    cols = []
    for nm in names:
        v = ds.var(nm)
        vals = v.values[rows]
        if v.is_string:
            _, inv = np.unique(vals.astype(str), return_inverse=True)
        else:
            _, inv = np.unique(vals.astype(float), return_inverse=True)
        cols.append(np.asarray(inv).reshape(-1))
    stacked = np.column_stack(cols)
    _, inv = np.unique(stacked, axis=0, return_inverse=True)
    return np.asarray(inv).reshape(-1)


def _missing_rows(ds: Dataset, names: list[str], rows: np.ndarray) -> np.ndarray:
    bad = np.zeros(len(rows), dtype=bool)
    for nm in names:
        v = ds.var(nm)
        vals = v.values[rows]
        bad |= (vals == "") if v.is_string else np.isnan(vals.astype(float))
    return bad


@dataclass
class Design:
    """The observations resampled (rows of the data), their strata and cluster codes."""

    rows: np.ndarray
    strata: np.ndarray | None
    clusters: np.ndarray | None
    n_clust: int = 0
    n_strata: int = 0


def resampling_design(ds: Dataset, plan: Plan, keep: np.ndarray) -> Design:
    rows = np.flatnonzero(keep)
    miss = _missing_rows(ds, plan.strata, rows)
    rows = rows[~miss]
    if plan.cluster and _missing_rows(ds, plan.cluster, rows).any():
        bad = next(nm for nm in plan.cluster if _missing_rows(ds, [nm], rows).any())
        raise StataError(f"missing values in cluster variable {bad} not allowed", 459)
    if not len(rows):
        raise StataError("no observations", 2000)
    strata = _codes(ds, plan.strata, rows)
    clusters = _codes(ds, plan.strata + plan.cluster, rows) if plan.cluster else None
    d = Design(rows, strata, clusters)
    d.n_strata = 0 if strata is None else int(strata.max()) + 1
    d.n_clust = 0 if clusters is None else int(clusters.max()) + 1
    if plan.size is not None:
        groups = clusters if clusters is not None else np.arange(len(rows))
        per = [len(np.unique(groups[strata == s])) for s in range(d.n_strata)] if strata is not None \
            else [len(np.unique(groups))]
        if plan.size > min(per):
            what = "clusters" if clusters is not None else "observations"
            raise StataError(f"size() must not be greater than number of {what}", 498)
    return d


# ============================================================================ replications
def _with_idcluster(ds: Dataset, name: str, ids: np.ndarray) -> None:
    old = ds.vars.get(name)
    vtype = "float" if ids.size == 0 or ids.max() < 2 ** 24 else "double"
    ds.put(Variable(name, ids.astype(float), vtype, label=old.label if old else ""))


def _with_group(ds: Dataset, name: str, ids: np.ndarray) -> None:
    """group(): the group variable renumbered 1, 2, ... over (new cluster id, old group)."""
    old = ds.vars[name]
    vals = np.asarray(old.values)
    key = np.column_stack([ids.astype(float), np.unique(vals, return_inverse=True)[1].astype(float)])
    codes = np.unique(key, axis=0, return_inverse=True)[1].ravel() + 1
    ds.put(Variable(name, codes.astype(float), "float" if codes.max(initial=0) < 2 ** 24 else "double",
                    label=old.label))


def bootstrap_replicates(session, plan: Plan, full: Dataset, d: Design, items) -> np.ndarray:
    """Run the command on plan.reps bootstrap samples; the statistics per replication."""
    base = full.copy()
    base.take(d.rows)
    out = session.out
    show = not plan.nodots or plan.noisily
    if show:
        out.line()
    dots = sim.Dots(out, "Bootstrap replications", plan.reps, show, plan.every, plan.noisily)
    rows = []
    for _ in range(plan.reps):
        idx, ids = rs.bootstrap_rows(session.rng, len(d.rows), d.strata, d.clusters, plan.size)
        sample = base.copy()
        sample.take(idx)
        if plan.idcluster and ids is not None:
            _with_idcluster(sample, plan.idcluster, ids)
            if plan.group:              # a group drawn twice (in two copies of its cluster)
                _with_group(sample, plan.group, ids)    # becomes two groups
        rows.append(_one_replicate(session, plan, sample, items, dots))
    dots.close()
    return np.asarray(rows, dtype=float).reshape(plan.reps, len(items))


def _one_replicate(session, plan: Plan, sample: Dataset, items, dots) -> list[float]:
    session.data = sample
    if plan.noisily:
        session.out.line(f". {plan.inner}")
    if sim.run_inner(session, plan.inner, plan.noisily):
        dots.mark("x")
        return [np.nan] * len(items)
    vals, missing = sim.evaluate_items(session, items)
    dots.mark("e" if missing else ".")
    return vals


def jackknife_replicates(session, plan: Plan, full: Dataset, d: Design, items) -> np.ndarray:
    """The statistics with each observation (each cluster) left out in turn."""
    base = full.copy()
    base.take(d.rows)
    groups = d.clusters if d.clusters is not None else np.arange(len(d.rows))
    ng = int(groups.max()) + 1 if len(groups) else 0
    out = session.out
    show = not plan.nodots or plan.noisily
    if show:
        out.line()
    dots = sim.Dots(out, "Jackknife replications", ng, show, plan.every, plan.noisily)
    rows = []
    for j in range(ng):
        sample = base.copy()
        sample.take(groups != j)
        rows.append(_one_replicate(session, plan, sample, items, dots))
    dots.close()
    return np.asarray(rows, dtype=float).reshape(ng, len(items))


# ============================================================================ e()
def _columns(items, ob: Observed) -> tuple[list[tuple[str, str]], bool]:
    """e(b)'s column names, and whether the results are the command's own coefficients
    (`_b` of an estimation command and nothing else: its e() is kept)."""
    own = ob.e is not None and all(it.kind == "b" for it in items) and len(items) == len(ob.e.names) \
        and [(it.eq, it.coef) for it in items] == list(ob.e.names)
    if own:
        return list(ob.e.names), True
    return [it.col for it in items], False


def _model_test(res: EstimationResults) -> None:
    """Wald chi2 of every coefficient but the constants of the first equation, with the
    replicates' e(V) (as _prefix_model_test), in e(chi2), e(df_m), e(p)."""
    kf = res.k_f
    idx = [i for i in range(kf) if res.names[i][1] != "_cons" and not res.omitted[i]]
    res.scalars.pop("F", None)
    if not idx:
        return
    b = np.asarray(res.b, dtype=float)[idx]
    V = np.asarray(res.V, dtype=float)[np.ix_(idx, idx)]
    try:
        chi2 = float(b @ np.linalg.pinv(V) @ b)
        rank = int(np.linalg.matrix_rank(V))
    except (np.linalg.LinAlgError, ValueError):
        return
    res.scalars["chi2"] = chi2
    res.scalars["df_m"] = rank
    res.scalars["p"] = float(dist.chi2_sf(chi2, rank)) if rank else math.nan
    res.macros["chi2type"] = "Wald"


def _own_results(ob: Observed, V: np.ndarray) -> EstimationResults:
    """The command's e() with the replicates' e(V): vce(bootstrap) as the command posts it."""
    res = copy.copy(ob.e)
    res.__dict__.pop("se", None)
    for k in ("wald",):
        res.__dict__.pop(k, None)
    res.scalars = dict(ob.e.scalars)
    res.macros = dict(ob.e.macros)
    res.matrices = dict(ob.e.matrices)
    res.matrices["V_modelbased"] = np.asarray(ob.e.V, dtype=float)
    res.V = V
    for k in ("df_r",):
        res.scalars.pop(k, None)
    model = getattr(res, "model", None)
    fit = getattr(model, "fit", None)
    if fit is not None and getattr(fit, "vc_V", None) is not None:
        kf = res.k_f
        res.model = replace(model, fit=replace(fit, vc_V=np.asarray(V, dtype=float)[kf:, kf:]))
    _model_test(res)
    return res


def post_results(session, plan: Plan, ob: Observed, reps: np.ndarray, d: Design,
                 accel: np.ndarray | None = None) -> EstimationResults:
    """e() of bootstrap: the observed values and the replicates' covariance, with the
    bootstrap's scalars, macros and interval matrices."""
    s = rs.bootstrap_summary(ob.values, reps, level=plan.level, mse=plan.mse)
    cols, own = _columns(ob.items, ob)
    k = len(cols)
    if own:
        res = _own_results(ob, s.V)
    else:
        res = EstimationResults(cmd="bootstrap", names=cols, b=ob.values.copy(), V=s.V,
                                omitted=np.zeros(k, dtype=bool), k_f=k)
    res.sample = _full_mask(session.data.n, d.rows)
    sc = res.scalars
    sc.update({"N": len(d.rows), "N_reps": plan.reps, "N_misreps": plan.reps - s.n_complete,
               "level": plan.level, "k_eq": len({q for q, _ in cols}), "k_exp": sum(not it.eexp for it in ob.items),
               "k_eexp": sum(it.eexp for it in ob.items), "k_extra": 0})
    if d.n_clust:
        sc["N_clust"] = d.n_clust
    if d.n_strata:
        sc["N_strata"] = d.n_strata
    _prefix_macros(res, plan, ob, own, "bootstrap", "Bootstrap")
    row, ci = _named(cols)
    res.matrices.update({"b_bs": row(s.mean), "reps": row(s.reps), "bias": row(s.bias), "se": row(s.se),
                         "z0": row(s.z0), "ci_normal": ci(s.ci_normal),
                         "ci_percentile": ci(s.ci_percentile), "ci_bc": ci(s.ci_bc)})
    if accel is not None:
        bca = np.array([rs.bca_interval(reps[:, j], ob.values[j], accel[j], plan.level)
                        for j in range(k)]).T
        res.matrices.update({"accel": row(accel), "ci_bca": ci(bca)})
    return res


def _named(cols):
    """Makers of e() matrices named as Stata names them: a row `y1` (or the rows ll, ul of an
    interval) over the columns of e(b)."""
    from hlmshell.commands.program import NamedMatrix

    names = [f"{q}:{nm}" if q else nm for q, nm in cols]
    return (lambda v: NamedMatrix(np.asarray(v, dtype=float).reshape(1, -1), ["y1"], names),
            lambda v: NamedMatrix(np.asarray(v, dtype=float).reshape(2, -1), ["ll", "ul"], names))


def _full_mask(n: int, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask


def _prefix_macros(res: EstimationResults, plan: Plan, ob: Observed, own: bool, prefix: str,
                   vcetype: str) -> None:
    mac = res.macros
    mac.update({"prefix": prefix, "cmdname": sim.command_name(plan.inner), "command": plan.inner,
                "vce": prefix, "vcetype": vcetype, "properties": "b V",
                "cmdline": f"{prefix} {plan.display.get('cmdline', '')}".rstrip()})
    if not own:
        mac["cmd"] = prefix
        mac["title"] = plan.display.get("title") or f"{vcetype} results"
    elif plan.display.get("title"):
        mac["title"] = plan.display["title"]
    for j, it in enumerate([it for it in ob.items if not it.eexp], 1):
        mac[f"exp{j}"] = it.text
    res.exp_columns = [it.var for it in ob.items if not it.eexp]     # the legend of estat bootstrap
    if plan.cluster:
        mac["cluster"] = " ".join(plan.cluster)
        mac["clustvar"] = " ".join(plan.cluster)
    if plan.strata:
        mac["strata"] = " ".join(plan.strata)
    if plan.size is not None:
        mac["size"] = str(plan.size)


# ============================================================================ the commands
def add_idcluster(session, plan: Plan) -> None:
    """idcluster(newvar) not yet in the data: the cluster groups numbered 1, 2, ... (as
    Stata's egen group()), so that the first run on all the data can use it."""
    ds = session.data
    if not plan.idcluster or plan.idcluster in ds.vars:
        return
    from hlmshell.commands._toolkit import RESERVED
    if not re.fullmatch(r"[^\W\d]\w{0,31}", plan.idcluster) or plan.idcluster in RESERVED:
        raise StataError(f"{plan.idcluster} invalid name", 198)
    rows = np.arange(ds.n)
    miss = _missing_rows(ds, plan.cluster, rows)
    ids = np.full(ds.n, np.nan)
    codes = _codes(ds, plan.cluster, rows[~miss])
    if codes is not None:
        ids[~miss] = codes + 1
    data = ds.copy()
    _with_idcluster(data, plan.idcluster, ids)
    session.data = data


def _finish(session, plan: Plan, full: Dataset, d: Design, reps: np.ndarray, items) -> None:
    """The data back as they were (with the idcluster() variable), the replicates saved."""
    session.data = full
    if plan.saving is not None:
        vtype = "double" if plan.saving[2] else "float"
        ds = sim.results_dataset(items, reps, vtype, f"{plan.caller}: {sim.command_name(plan.inner)}",
                                 plan.inner)
        sim.save_results(session, ds, plan.saving)


def _is_replay(cmd) -> bool:
    from hlmshell.syntax.lexer import find_top

    return find_top(cmd.body or "", ":") < 0 and not (cmd.body or "").split(",")[0].strip()


def replay(session, cmd, caller: str) -> None:
    """`bootstrap` / `jackknife` alone (or with display options): the last results again."""
    res = session.e
    if res is None or res.macros.get("prefix") != caller:
        raise StataError("last estimates not found", 301)
    from hlmshell.syntax.parser import parse_options
    body = cmd.body or ""
    opts = typed_args(cmd, options=parse_options(body.partition(",")[2]))
    allowed = {"level", "notable", "noheader", "nolegend", "verbose", "title"}
    bad = next((k for k in opts.given if k not in allowed), None)
    if bad:
        raise StataError(f"option {bad} not allowed", 198)
    plan = Plan(caller, res.macros.get("command", ""), None)
    plan.level = confidence_level(session, opts) if "level" in opts else float(res.scalars.get("level", 95))
    plan.cluster = res.macros.get("cluster", "").split()
    plan.display = {"notable": opts.notable, "noheader": opts.noheader, "nolegend": opts.nolegend,
                    "verbose": opts.verbose, "title": None}
    items = [sim.Item(nm, res.macros.get(f"exp{j}", ""), col=("", nm))
             for j, nm in enumerate(getattr(res, "exp_columns", []), 1)]
    ob = Observed(items, np.asarray(res.b, dtype=float), None, np.ones(0, dtype=bool), False,
                  res.macros.get("nfunction", ""))
    own = res.macros.get("cmd") != caller
    (display_bootstrap if caller == "bootstrap" else display_jackknife)(session, res, plan, ob, own)


def _start(session, cmd, name: str):
    """What bootstrap and jackknife do first: replay (None), or the plan, the full data, the
    command's run on the full data and the resampling design."""
    if _is_replay(cmd):
        replay(session, cmd, name)
        return None
    plan = parse_plan(session, cmd, name)
    plan.display["cmdline"] = (cmd.body or "").strip()
    add_idcluster(session, plan)
    full = session.data
    ob = observe(session, plan)
    session.data = full
    return plan, full, ob, resampling_design(full, plan, ob.keep)


@command("bootstrap", abbrev="bootstrap", aliases=("bs", "bstrap"), raw=True, byable=False,
          qualifiers="", family="Statistics",
          desc="bootstrap sampling and estimation (prefix: bootstrap exp_list, reps(#): command)",
          example="bootstrap r(mean), reps(200) seed(1): summarize mathach",
          options=_COMMON)
def bootstrap_cmd(session, cmd):
    started = _start(session, cmd, "bootstrap")
    if started is None:
        return
    plan, full, ob, d = started
    accel = None
    if plan.bca:        # the jackknife's leave-one-out values give the acceleration
        loo = jackknife_replicates(session, plan, full, d, ob.items)
        accel = np.array([rs.acceleration(loo[:, j]) for j in range(loo.shape[1])])
    reps = bootstrap_replicates(session, plan, full, d, ob.items)
    _finish(session, plan, full, d, reps, ob.items)
    res = post_results(session, plan, ob, reps, d, accel)
    session.post_estimation(res)
    own = res.macros.get("cmd") != "bootstrap"
    display_bootstrap(session, res, plan, ob, own)


# ============================================================================ jackknife
def post_jackknife(session, plan: Plan, ob: Observed, loo: np.ndarray, d: Design) -> EstimationResults:
    """e() of jackknife: observed values, the jackknife covariance of the leave-one-out
    values, e(b_jk) the mean of the pseudo-values, t tests on N - 1 (clusters - 1) DF."""
    j = rs.jackknife_summary(ob.values, loo, mse=plan.mse)
    cols, own = _columns(ob.items, ob)
    k = len(cols)
    if own:
        res = _own_results(ob, j.V)
    else:
        res = EstimationResults(cmd="jackknife", names=cols, b=ob.values.copy(), V=j.V,
                                omitted=np.zeros(k, dtype=bool), k_f=k)
    res.sample = _full_mask(session.data.n, d.rows)
    nrep = len(loo)
    sc = res.scalars
    sc.update({"N": len(d.rows), "N_reps": nrep, "N_misreps": nrep - j.n, "df_r": nrep - 1,
               "level": plan.level, "k_eq": len({q for q, _ in cols}),
               "k_exp": sum(not it.eexp for it in ob.items), "k_eexp": sum(it.eexp for it in ob.items),
               "k_extra": 0})
    if d.n_clust:
        sc["N_clust"] = d.n_clust
    if own and "chi2" in sc:
        # regress's F form of the Wald test, on (df_m, N_reps - 1) degrees of freedom
        sc["F"] = sc.pop("chi2") / sc["df_m"] if sc.get("df_m") else math.nan
        sc.pop("p", None)
    _prefix_macros(res, plan, ob, own, "jackknife", "Jackknife")
    if ob.nfunction:
        res.macros["nfunction"] = ob.nfunction
    res.matrices["b_jk"] = _named(cols)[0](j.mean_pseudo)
    return res


@command("jackknife", abbrev="jackknife", aliases=("jknife",), raw=True, byable=False,
          qualifiers="", family="Statistics",
          desc="jackknife estimation (prefix: jackknife exp_list: command)",
          example="jackknife r(mean): summarize mathach",
          options=_COMMON)
def jackknife_cmd(session, cmd):
    started = _start(session, cmd, "jackknife")
    if started is None:
        return
    plan, full, ob, d = started
    loo = jackknife_replicates(session, plan, full, d, ob.items)
    _finish(session, plan, full, d, loo, ob.items)
    res = post_jackknife(session, plan, ob, loo, d)
    if plan.keep:
        keep_pseudovalues(session, ob, loo, d, res)
    session.post_estimation(res)
    own = res.macros.get("cmd") != "jackknife"
    display_jackknife(session, res, plan, ob, own)


def keep_pseudovalues(session, ob: Observed, loo: np.ndarray, d: Design, res: EstimationResults) -> None:
    """jackknife, keep: a variable per statistic holding each observation's pseudo-value
    n t - (n-1) t_(i) (its cluster's, with cluster()); missing outside the sample."""
    pseudo = rs.jackknife_summary(ob.values, loo).pseudo
    groups = d.clusters if d.clusters is not None else np.arange(len(d.rows))
    data = session.data.copy()
    for j, it in enumerate(ob.items):
        if it.var in data.vars:
            raise StataError(f"{it.var} already defined", 110)
        vals = np.full(data.n, np.nan)
        vals[d.rows] = pseudo[groups, j]
        data.put(Variable(it.var, vals, "double", label=f"pseudovalues: {it.text}"[:80]))
    session.data = data
    res.macros["pseudo"] = " ".join(it.var for it in ob.items)


def _no_predict(session, cmd, res, opts) -> None:
    """predict after results of an exp_list (e(predict) is Stata's _no_predict)."""
    raise StataError(f"predict is not allowed after {res.macros.get('prefix', res.cmd)}:"
                     f"{res.macros.get('cmdname', '')}", 301)


def _register_predict() -> None:
    from hlmshell.commands.predict import PREDICTORS

    PREDICTORS.setdefault("bootstrap", _no_predict)
    PREDICTORS.setdefault("jackknife", _no_predict)


_register_predict()
