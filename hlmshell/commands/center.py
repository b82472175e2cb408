"""center: Ben Jann's community command (SSC `center`) for centring and standardising.

    [by varlist:] center varlist [weight] [if] [in] [, prefix(c_) | generate(newvar)
        meansave[(m_)] sdsave[(sd_)] standardize theta(#|varname) casewise replace double
        nolabel addtolabel(string)]

Multilevel course do-files use it for the within/between split that hybrid and "within-between"
models need: `bysort state: center emp, prefix(wi_) meansave(bw_)` writes the group-mean
centred variable wi_emp and the group means bw_emp. It is built in because such do-files
run it after `ssc install center`. Definitions as center.ado's help states them: the mean over
the sample (if/in, nonmissing, and with `casewise` nonmissing on every variable), per by-group;
the standard deviation with weights as summarize computes it (fweights/iweights: W - 1 in the
denominator; aweights/pweights: W - W/N); observations outside the sample get missing values.
"""
from __future__ import annotations

import numpy as np

from hlmshell.commands import generate as g
from hlmshell.commands._toolkit import weights
from hlmshell.commands.egen import combine_codes
from hlmshell.data.dataset import Variable
from hlmshell.errors import StataError
from hlmshell.registry import Args, Opt, bind_options, command

_OPTS = (Opt("casewise", "c", "flag", False, "one sample: nonmissing on every variable"),
         Opt("inplace", "i", "flag", False, "replace the variables themselves"),
         Opt("prefix", "pre", "string", None, "prefix of the new variables (default c_)"),
         Opt("generate", "g", "string", None, "name of the new variable (one variable only)"),
         Opt("theta", "th", "string", None, "subtract theta times the mean"),
         Opt("standardize", "s", "flag", False, "divide by the standard deviation"),
         Opt("replace", "r", "flag", False, "overwrite existing variables"),
         Opt("double", "d", "flag", False, "store as double"),
         Opt("nolabel", "nol", "flag", False, "no variable labels"),
         Opt("addtolabel", "a", "string", None, "text added to the labels"),
         Opt("meansave", "mean", "string", None, "save the means [(prefix), default m_]"),
         Opt("sdsave", "sd", "string", None, "save the standard deviations [(prefix), sd_]"))
_OPTIONAL_ARG = ("meansave", "sdsave")


def _bind(cmd) -> Args:
    """Options bound loosely (meansave and sdsave take an optional argument, which a typed spec
    cannot say), then checked: the others need their argument."""
    opts = bind_options(_OPTS, cmd.options)
    for spec in _OPTS:
        if spec.name in opts and spec.name not in _OPTIONAL_ARG:
            has = bool((opts.raw(spec.name) or "").strip())
            if has != spec.takes_arg:
                raise StataError("invalid syntax" if spec.takes_arg
                                 else f"option {spec.name} not allowed", 198)
    return opts


def _group_stats(x, w, codes, ok, weight_kind):
    """Per-observation group mean and standard deviation over the rows in `ok`."""
    k = int(codes.max()) + 1 if codes.size else 0
    ww = np.where(ok, w, 0.0)
    W = np.bincount(codes, ww, k)
    S = np.bincount(codes, np.where(ok, w * x, 0.0), k)
    N = np.bincount(codes, ok.astype(float), k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(N > 0, S / W, np.nan)
        dev = np.where(ok, x - mu[codes], 0.0)
        ss = np.bincount(codes, ww * dev * dev, k)
        denom = W - W / N if weight_kind in ("aweight", "pweight") else W - 1
        sd = np.sqrt(np.where(denom > 0, ss / denom, np.nan))
    return mu[codes], sd[codes]


def _names(opts, names: list[str]) -> tuple[list[str], list[str | None], list[str | None]]:
    """The centred variables' names and those of the saved means and SDs."""
    if opts.generate and len(names) > 1:
        raise StataError("too many variables specified; generate() allows one", 103)
    if opts.generate and opts.prefix:
        raise StataError("options prefix() and generate() may not be combined", 198)
    if opts.inplace:
        out = list(names)
    elif opts.generate:
        out = [opts.generate.strip()]
    else:
        out = [(opts.prefix or "c_").strip() + n for n in names]

    def saved(key, default):
        if key not in opts:
            return [None] * len(names)
        spec = (opts.raw(key) or "").strip()
        if opts.generate:
            return [spec or default + names[0]]
        return [(spec or default) + n for n in names]
    return out, saved("meansave", "m_"), saved("sdsave", "sd_")


def _check_targets(session, opts, sources, targets):
    for src, t in zip(sources, targets):
        if t is None or (opts.inplace and t == src):
            continue
        if t in session.data and not opts.replace:
            raise StataError(f"variable {t} already defined", 110)
        if t not in session.data:
            g.check_newname(session, t)


def _theta(session, opts, n):
    if opts.theta is None:
        return np.ones(n)
    text = opts.theta.strip()
    try:
        return np.full(n, float(text))
    except ValueError:
        pass
    if text not in session.data or session.data.var(text).is_string:
        raise StataError(f"variable {text} not found", 111)
    return np.asarray(session.data.var(text).values, dtype=float)


@command("center", byable="self", qualifiers="if in weight", options=_OPTS, check_options=False,
         weights=("fweight", "aweight", "iweight", "pweight"), body="varlist",
         family="Data management", desc="center or standardize variables (community: center)",
         example="bysort id: center ses, prefix(wi_) meansave(bw_)")
def center_cmd(session, cmd):
    opts = _bind(cmd)
    ds = session.data
    names = g.varlist(session, cmd.body or "")
    if any(ds.var(n).is_string for n in names):
        raise StataError("type mismatch", 109)
    prefix_codes = g.by_groups(session, cmd)
    mask = g.sample(session, cmd, prefix_codes)
    n = ds.n
    codes = combine_codes(prefix_codes, np.zeros(n, dtype=np.int64))
    w, kind = _weights(session, cmd, n)
    cols = {nm: np.asarray(ds.var(nm).values, dtype=float) for nm in names}
    if opts.casewise:
        mask = mask & np.all([~np.isnan(c) for c in cols.values()], axis=0)
    out, means, sds = _names(opts, names)
    for group in (out, means, sds):
        _check_targets(session, opts, names, group)
    theta = _theta(session, opts, n)
    vtype = "double" if opts.double else g.default_type(session)
    add = opts.addtolabel if opts.addtolabel is not None else (
        " (standardized)" if opts.standardize else " (centered)")
    new = []
    for nm, t, m_name, s_name in zip(names, out, means, sds):
        x = cols[nm]
        ok = mask & ~np.isnan(x) & ~np.isnan(w)
        mu, sd = _group_stats(x, w, codes, ok, kind)
        val = x - theta * mu
        if opts.standardize:
            val = val / sd
        val = np.where(ok, val, np.nan)
        label = "" if opts.nolabel else (ds.var(nm).label or nm) + add
        new.append(Variable(t, g.store(val, vtype), vtype, label=label))
        if m_name:
            new.append(Variable(m_name, g.store(np.where(ok, mu, np.nan), vtype), vtype,
                                label="" if opts.nolabel else f"mean of {nm}"))
        if s_name:
            new.append(Variable(s_name, g.store(np.where(ok, sd, np.nan), vtype), vtype,
                                label="" if opts.nolabel else f"sd of {nm}"))
    for var in new:
        if var.name in ds:
            ds.put(var)
        else:
            ds.add(var)
    ds.changed = True


def _weights(session, cmd, n):
    w = weights(session, cmd, np.ones(n, dtype=bool), ("fweight", "aweight", "iweight", "pweight"))
    if w is None:
        return np.ones(n), None
    return w, cmd.weight.kind
