"""parmest and parmby (Roger Newson's SSC package, built in): the active estimation results as
a dataset (a "resultsset") with one observation per parameter -- estimate, standard error,
z or t with its degrees of freedom, P-value and confidence limits -- which is listed, saved to
a file, put in a frame, or written over the data in memory (list(), saving(), frame(),
norestore/fast; at least one of them). parmby runs an estimation command on each by-group
and stacks the groups' resultssets.

The statistics follow the package's help: t on e(df_r) (or dof()) when there is one, else z;
eform exponentiates the estimate and limits and multiplies the SE by the estimate; P-values test
the null value (0, or 1 under eform; nullvalue()).
"""
from __future__ import annotations

import math
import re

import numpy as np

from hlmshell import distributions as dist
from hlmshell.commands._postest import active
from hlmshell.data.dataset import Dataset, Variable
from hlmshell.errors import StataError
from hlmshell.registry import Opt, command

_OUTDEST = ("list", "saving", "norestore", "fast", "frame")

_OPTIONS = (
    Opt("list", "li", "string", desc="[varlist] [if] [in] [, list_options]: list the resultsset"),
    Opt("frame", "fra", "string", desc="name[, replace change]: put the resultsset in a frame"),
    Opt("saving", "sa", "string", desc="filename[, replace]: save the resultsset"),
    Opt("norestore", "nore", desc="write the resultsset over the data in memory"),
    Opt("fast", desc="as norestore"),
    Opt("flist", "fl", "string", desc="global macro to which the saving() filename is appended"),
    Opt("eform", "ef", desc="exponentiated estimates and confidence limits"),
    Opt("dof", "d", "string", desc="degrees of freedom for t-based limits (0: normal)"),
    Opt("level", "le", "numlist", desc="confidence level(s)"),
    Opt("clnumber", "cln", "string", desc="level|rank: how min##/max## are numbered"),
    Opt("mcompare", "mcomp", "string", desc="noadjust|bonferroni|sidak adjustment of limits and P"),
    Opt("mcomci", "mcomc", "string", desc="noadjust|bonferroni|sidak adjustment of limits only"),
    Opt("label", "l", desc="variable label of each parameter's variable"),
    Opt("ylabel", "yl", desc="variable label of the Y-variable"),
    Opt("omit", "om", desc="omit status variable"),
    Opt("empty", "emp", desc="empty cell status variable"),
    Opt("msetype", "mset", desc="matrix stripe element type variable"),
    Opt("idnum", "idn", "real", desc="numeric dataset ID"),
    Opt("idstr", "ids", "string", desc="string dataset ID"),
    Opt("stars", "sta", "numlist", desc="descending P-value thresholds for stars"),
    Opt("emac", "em", "string", desc="macro estimation results as variables em_#"),
    Opt("escal", "es", "string", desc="scalar estimation results as variables es_#"),
    Opt("evec", "ev", "string", desc="vectors of matrix estimation results as variables ev_#"),
    Opt("rename", "ren", "string", desc="oldname newname ...: rename resultsset variables"),
    Opt("format", "fo", "string", desc="varlist %fmt ...: display formats"),
    Opt("float", desc="store numeric variables as float"),
    Opt("nodouble", "nodou", desc="as float"),
    Opt("nozerop", "noze", desc="P-values of zero set to c(smallestdouble)"),
    Opt("nullvalue", "nu", "real", desc="value of the parameters under the null hypotheses"),
)


# ----------------------------------------------------------------------------- statistics
def _stripe(session) -> list[tuple[str, str]]:
    """e(b)'s column stripe as Stata shows it: ("", name) when there are no equations."""
    from hlmshell.syntax import matrix_expr as mx
    cols = mx.lookup(session, "e(b)").cols
    return [tuple(c.split(":", 1)) if ":" in c else ("", c) for c in cols]


def _dof(session, res, text: str | None) -> float | None:
    """dof(): a number or scalar name; 0 means normal; absent: e(df_r) when not missing."""
    if text is not None and text.strip():
        t = text.strip()
        try:
            v = float(t)
        except ValueError:
            v = _scalar_value(session, res, t)
        if v == v and v > 0:
            return v
        if v == 0:
            return None
    df = res.scalars.get("df_r")
    return float(df) if df is not None and df == df and df > 0 else None


def _scalar_value(session, res, name: str) -> float:
    m = re.fullmatch(r"e\((\w+)\)", name.replace(" ", ""))
    if m:
        v = res.scalars.get(m.group(1))
    else:
        v = getattr(session, "scalars", {}).get(name)
    if v is None:
        raise StataError("option dof() invalid", 198)
    return float(v)


def _adjusted(alpha: float, k: int, method: str) -> float:
    if method == "bonferroni":
        return alpha / k
    if method == "sidak":
        return 1.0 - (1.0 - alpha) ** (1.0 / k)
    return alpha


def _method(text: str | None) -> str:
    word = (text or "noadjust").strip().lower()
    for name, least in (("noadjust", 5), ("bonferroni", 4), ("sidak", 3)):
        if len(word) >= least and name.startswith(word):
            return name
    raise StataError(f"invalid multiple-comparison method {word}", 198)


def _p_values(stat: np.ndarray, dof: float | None, method: str, k: int) -> np.ndarray:
    a = np.abs(stat)
    if dof is None:
        p = 2.0 * np.array([dist.norm_sf(x) if x == x else np.nan for x in a])
    else:
        p = 2.0 * np.array([dist.t_sf(x, dof) if x == x else np.nan for x in a])
    if method == "bonferroni":
        p = np.minimum(1.0, p * k)
    elif method == "sidak":
        p = 1.0 - (1.0 - p) ** k
    return p


def _quantile(conf: float, dof: float | None) -> float:
    upper = 1.0 - (1.0 - conf) / 2.0
    return float(dist.norm_ppf(upper) if dof is None else dist.t_ppf(upper, dof))


def _level_name(level: float, rank: int, by_rank: bool) -> str:
    if by_rank:
        return str(rank)
    text = f"{level:g}".replace(".", "_").replace("e-", "em")
    return text


def _levels(session, opts) -> list[float]:
    if "level" not in opts:
        return [float(session.settings.get("level", 95.0))]
    out = []
    for w in opts.level:
        try:
            v = float(w)
        except ValueError:
            raise StataError("option level() invalid", 198) from None
        if not 0 <= v < 100:
            raise StataError("level() must be at least 0 and less than 100", 198)
        out.append(v)
    if not out:
        raise StataError("option level() invalid", 198)
    return out


def _stars(values: list[str], p: np.ndarray) -> np.ndarray:
    try:
        cut = [float(v) for v in values]
    except ValueError:
        raise StataError("option stars() invalid", 198) from None
    if any(b > a for a, b in zip(cut, cut[1:])):
        raise StataError("stars() must be a descending list of P-value thresholds", 198)
    return np.array(["*" * sum(pi <= c for c in cut) if pi == pi else "" for pi in p], dtype=object)


# ----------------------------------------------------------------------------- the resultsset
def _str_var(name: str, values, label: str = "") -> Variable:
    vals = np.array([str(v) for v in values], dtype=object)
    width = max([len(v) for v in vals] + [1])
    return Variable(name, vals, f"str{min(width, 2045)}", label=label)


def _num_var(name: str, values, label: str, vtype: str) -> Variable:
    arr = np.asarray(values, dtype=float)
    if vtype == "float":
        arr = arr.astype(np.float32).astype(float)
    return Variable(name, arr, vtype, label=label)


def _labels(session, parms: list[str]) -> list[str]:
    data = session.data
    out = []
    for p in parms:
        if p == "_cons":
            out.append("Constant")
        elif data is not None and p in data:
            out.append(data.var(p).label or "")
        else:
            out.append("")
    return out


def _ylabels(session, res, eqs: list[str]) -> list[str]:
    data = session.data

    def lab(name: str) -> str:
        return data.var(name).label or "" if data is not None and name and name in data else ""
    dep = (res.depvar or "").split()
    if len(dep) == 1 and data is not None and dep[0] in data:
        return [lab(dep[0])] * len(eqs)
    return [lab(e) for e in eqs]


def _statistics(session, res, opts, k: int):
    """Estimates, SEs, dof (None: normal), test statistics and P-values on parmest's rules."""
    b = np.asarray(res.b, dtype=float).reshape(-1)[:k]
    V = np.asarray(res.V, dtype=float).reshape(len(res.names), len(res.names))
    se = np.sqrt(np.clip(np.diag(V)[:k], 0.0, None))
    dof = _dof(session, res, opts.raw("dof") if "dof" in opts else None)
    eform = bool(opts.eform)
    null = opts.nullvalue if "nullvalue" in opts else (1.0 if eform else 0.0)
    if eform and not null > 0:
        raise StataError("nullvalue() must be positive with eform", 198)
    centre = math.log(null) if eform else null
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, (b - centre) / se, np.nan)
    p = _p_values(stat, dof, _method(opts.raw("mcompare") if "mcompare" in opts else None), k)
    if opts.nozerop and not (opts.float or opts.nodouble):
        p = np.where(p == 0.0, np.finfo(float).tiny, p)
    return b, se, dof, stat, p


def _id_vars(opts, k: int, vtype: str) -> list[Variable]:
    cols = []
    if "idnum" in opts:
        cols.append(_num_var("idnum", [opts.idnum] * k, "Numeric ID", vtype))
    if "idstr" in opts:
        cols.append(_str_var("idstr", [opts.raw("idstr").strip().strip('"')] * k, "String ID"))
    return cols


def build(session, opts) -> Dataset:
    """The resultsset of the active estimation results under parmest's options."""
    res = active(session)
    stripe = _stripe(session)
    k = len(stripe)
    b, se, dof, stat, p = _statistics(session, res, opts, k)
    eform = bool(opts.eform)
    cmethod = _method(opts.raw("mcomci") if "mcomci" in opts
                      else opts.raw("mcompare") if "mcompare" in opts else None)
    vtype = "float" if (opts.float or opts.nodouble) else "double"
    cols = _id_vars(opts, k, vtype)
    eqs = [e for e, _ in stripe]
    parms = [n for _, n in stripe]
    if any(eqs):
        cols.append(_str_var("eq", eqs, "Equation name"))
    cols.append(_str_var("parm", parms, "Parameter name"))
    cols += _flag_vars(res, opts, parms, k)
    if opts.label:
        cols.append(_str_var("label", _labels(session, parms), "Parameter label"))
    if opts.ylabel:
        cols.append(_str_var("ylabel", _ylabels(session, res, eqs), "Y-variable label"))
    est = np.exp(b) if eform else b
    cols.append(_num_var("estimate", est, "Parameter estimate", vtype))
    cols.append(_num_var("stderr", se * est if eform else se, "SE of parameter estimate", vtype))
    if dof is not None:
        cols.append(_num_var("dof", [dof] * k, "Degrees of freedom", vtype))
    cols.append(_num_var("t" if dof is not None else "z", stat,
                         "t-test statistic" if dof is not None else "z-test statistic", vtype))
    cols.append(_num_var("p", p, "P-value", vtype))
    if "stars" in opts:
        cols.append(_str_var("stars", _stars(opts.stars, p), "Stars for P-value"))
    cols += _limits(session, opts, b, se, dof, eform, cmethod, k, vtype)
    cols += _e_vars(res, opts, k, vtype)
    ds = Dataset()
    for v in cols:
        ds.vars[v.name] = v
    ds._n = k
    ds.changed = True
    _rename(ds, opts.raw("rename") if "rename" in opts else None)
    _formats(ds, opts.raw("format") if "format" in opts else None)
    return ds


def _flag_vars(res, opts, parms: list[str], k: int) -> list[Variable]:
    out = []
    if opts.msetype:
        kinds = ["interaction" if "#" in n else "factor" if re.match(r"\d+[bno]*\.", n)
                 else "variable" for n in parms]
        out.append(_str_var("msetype", kinds, "Matrix stripe element type"))
    om = np.asarray(res.omitted, dtype=bool)[:k] if res.omitted is not None else np.zeros(k, bool)
    if opts.omit:
        out.append(Variable("omit", om.astype(float), "byte", label="Omit status"))
    if opts.empty:
        out.append(Variable("empty", np.zeros(k), "byte", label="Empty cell status"))
    return out


def _limits(session, opts, b, se, dof, eform, method, k, vtype) -> list[Variable]:
    levels = _levels(session, opts)
    rule = (opts.raw("clnumber") or "level").strip().lower() if "clnumber" in opts else "level"
    if rule not in ("level", "rank"):
        raise StataError("option clnumber() invalid", 198)
    ranks = {lev: i for i, lev in enumerate(sorted(set(levels)), start=1)}
    out = []
    for lev in levels:
        conf = 1.0 - _adjusted(1.0 - lev / 100.0, k, method)
        q = _quantile(conf, dof)
        lo, hi = b - q * se, b + q * se
        if eform:
            lo, hi = np.exp(lo), np.exp(hi)
        tag = _level_name(lev, ranks[lev], rule == "rank")
        for nm, vals, side in ((f"min{tag}", lo, "Lower"), (f"max{tag}", hi, "Upper")):
            v = _num_var(nm, vals, f"{side} {lev:g}% confidence limit", vtype)
            v.chars = {"level": f"{lev:g}"}
            out.append(v)
    return out


def _e_vars(res, opts, k: int, vtype: str) -> list[Variable]:
    out = []
    for i, name in enumerate((opts.raw("emac") or "").split() if "emac" in opts else [], start=1):
        out.append(_str_var(f"em_{i}", [res.macros.get(name, "")] * k, f"e({name})"))
    for i, name in enumerate((opts.raw("escal") or "").split() if "escal" in opts else [], start=1):
        v = res.scalars.get(name)
        out.append(_num_var(f"es_{i}", [np.nan if v is None else v] * k, f"e({name})", vtype))
    for i, name in enumerate((opts.raw("evec") or "").split() if "evec" in opts else [], start=1):
        out.append(_num_var(f"ev_{i}", _vector(res, name, k), f"e({name})", vtype))
    return out


def _vector(res, name: str, k: int) -> np.ndarray:
    """evec(): the diagonal of a k x k matrix, else its first row (k columns) or first column."""
    m = {"b": res.b, "V": res.V}.get(name, res.matrices.get(name))
    out = np.full(k, np.nan)
    if m is None:
        return out
    m = np.atleast_2d(np.asarray(getattr(m, "values", m), dtype=float))
    if m.shape == (k, k):
        return np.diag(m).copy()
    vec = m[0] if m.shape[1] == k else m[:, 0]
    n = min(k, len(vec))
    out[:n] = vec[:n]
    return out


def _rename(ds: Dataset, text: str | None) -> None:
    if not text:
        return
    words = text.split()
    if len(words) % 2:
        raise StataError("option rename() invalid: pairs of names required", 198)
    for old, new in zip(words[::2], words[1::2]):
        if old not in ds.vars:
            raise StataError(f"variable {old} not found", 111)
        if new in ds.vars and new != old:
            raise StataError(f"{new} already defined", 110)
        v = ds.vars.pop(old)
        v.name = new
        ds.vars[new] = v


def _formats(ds: Dataset, text: str | None) -> None:
    """format(varlist %fmt [varlist %fmt ...]); names not in the resultsset are ignored, as the
    package does when a variable (say t or dof) is absent."""
    if not text:
        return
    from hlmshell.commands.recast import format_kind
    pending: list[str] = []
    for w in text.split():
        if w.startswith("%"):
            if not pending:
                raise StataError("option format() invalid", 198)
            if format_kind(w) == "string":
                raise StataError("invalid %format", 120)
            for name in pending:
                if name in ds.vars and not ds.vars[name].is_string:
                    ds.vars[name].format = w
            pending = []
        else:
            pending.append(w)
    if pending:
        raise StataError("option format() invalid", 198)


# ----------------------------------------------------------------------------- destinations
def check_destination(opts) -> None:
    if not any(o in opts for o in _OUTDEST):
        raise StataError("You must specify at least one of the options list(), frame(), "
                         "saving(), norestore and fast", 198)


def deliver(session, ds: Dataset, opts) -> None:
    """list(), saving(), frame(), then norestore/fast: the data in memory replaced."""
    if "list" in opts:
        _list(session, ds, opts.raw("list") or "")
    if "saving" in opts:
        from hlmshell.commands.statsby import _save, _saving
        fname, replace = _saving(opts.raw("saving"))
        _save(session, ds.copy(), fname, replace)
        if "flist" in opts:
            g = opts.raw("flist").strip()
            old = session.globals.get(g, "")
            session.globals[g] = (old + " " + fname).strip()
    if "frame" in opts:
        _to_frame(session, ds, opts.raw("frame") or "")
    if opts.norestore or opts.fast:
        session.data = ds


def _list(session, ds: Dataset, spec: str) -> None:
    from hlmshell.commands.statsby import _runner
    saved = session.data
    session.data = ds
    try:
        _runner(session)(("list " + spec).strip())
    finally:
        session.data = saved


def _to_frame(session, ds: Dataset, spec: str) -> None:
    from hlmshell.commands import frames
    name, _, sub = spec.partition(",")
    name, words = name.strip(), sub.split()
    if not re.fullmatch(r"[A-Za-z_]\w*", name or ""):
        raise StataError("option frame() invalid", 198)
    if name == frames.current(session):
        raise StataError("frame() may not specify the current frame; use norestore", 198)
    replace = any("replace".startswith(w) and len(w) >= 3 for w in words)
    change = any("change".startswith(w) and len(w) >= 3 for w in words)
    if name in frames.names(session) and not replace:
        raise StataError(f"frame {name} already exists", 110)
    frames._others(session)[name] = ds.copy()
    if change:
        frames.change_to(session, name)


# ----------------------------------------------------------------------------- commands
@command("parmest", byable=False, qualifiers="", exp=False, family="Postestimation",
         desc="resultsset of the estimates: one observation per parameter (SSC parmest)",
         example="parmest, label norestore", options=_OPTIONS)
def parmest_cmd(session, cmd):
    from hlmshell.commands._toolkit import typed_args
    opts = typed_args(cmd)
    check_destination(opts)
    ds = build(session, opts)
    deliver(session, ds, opts)


_PARMBY_OPTIONS = _OPTIONS + (
    Opt("by", type="string", desc="varlist: run the command on each by-group"),
    Opt("command", desc="add a variable with the estimation command"),
)


def _parmby_body(body: str) -> str:
    text = (body or "").strip()
    m = re.fullmatch(r'`"(.*)"\'|"(.*)"', text, re.DOTALL)
    if m is None or not (m.group(1) or m.group(2) or "").strip():
        raise StataError("parmby: the estimation command must be given in quotes", 198)
    return (m.group(1) if m.group(1) is not None else m.group(2)).strip()


@command("parmby", byable=False, qualifiers="", exp=False, family="Postestimation",
         desc="run an estimation command by groups and stack the parmest resultssets (SSC parmest)",
         example='parmby "regress mathach ses", by(sector) norestore', options=_PARMBY_OPTIONS)
def parmby_cmd(session, cmd):
    from hlmshell.commands import statsby as sb
    from hlmshell.commands._toolkit import typed_args, varlist
    opts = typed_args(cmd)
    check_destination(opts)
    text = _parmby_body(cmd.body)
    full = session.data
    by = varlist(session, opts.raw("by"), all_if_empty=False) if "by" in opts else []
    groups = sb.group_masks(full, by, False, False, False)
    saved = (session.e, session.r, session.estimation_serial, session.test_chain)
    parts = []
    try:
        for grp, mask in groups:
            session.data = full.copy()
            if mask is not None:
                session.data.take(np.flatnonzero(mask))
            sb._runner(session)("quietly " + text)
            ds = build(session, opts)
            parts.append((grp, ds))
    finally:
        session.data = full
        session.e, session.r, session.estimation_serial, session.test_chain = saved
    deliver(session, _stack(full, by, parts, text if opts.command else None), opts)


def _stack(full: Dataset, by: list[str], parts, command_text: str | None) -> Dataset:
    """The groups' resultssets one after another, the by-variables first and parmseq added."""
    names: list[str] = []
    for _, ds in parts:
        for nm in ds.names:
            if nm not in names:
                names.append(nm)
    out = Dataset()
    n = sum(ds.n for _, ds in parts)
    for nm in by:
        src = full.var(nm)
        vals = [grp.get(nm) for grp, ds in parts for _ in range(ds.n)]
        arr = np.array(vals, dtype=object if src.is_string else float)
        out.vars[nm] = Variable(nm, arr, src.vtype, src.format, src.label, src.vallab)
        if src.vallab and src.vallab in full.value_labels:
            out.value_labels[src.vallab] = dict(full.value_labels[src.vallab])
    seq = [i for _, ds in parts for i in range(1, ds.n + 1)]
    out.vars["parmseq"] = Variable("parmseq", np.array(seq, dtype=float), "long",
                                   label="Parameter sequence number")
    if command_text is not None:
        out.vars["command"] = _str_var("command", [command_text] * n, "Estimation command")
    for nm in names:
        out.vars[nm] = _stacked(nm, parts)
    out._n = n
    out.changed = True
    return out


def _stacked(nm: str, parts) -> Variable:
    first = next(ds.var(nm) for _, ds in parts if nm in ds)
    if first.is_string:
        vals = [v for _, ds in parts for v in (ds.var(nm).values if nm in ds else [""] * ds.n)]
        return _str_var(nm, vals, first.label)
    vals = np.concatenate([np.asarray(ds.var(nm).values, dtype=float) if nm in ds
                           else np.full(ds.n, np.nan) for _, ds in parts])
    v = Variable(nm, vals, first.vtype, first.format, first.label)
    v.chars = dict(first.chars)
    return v
