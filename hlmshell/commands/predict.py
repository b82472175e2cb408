"""predict after mixed (xb, stdp, fitted, residuals, rstandard, reffects, reses) and regress.

The fixed part is rebuilt from the e(b) column names (`1.female#2.sized`, `c.ses#c.sector`,
`_cons`), so predictions exist for every observation with nonmissing covariates, inside or
outside e(sample). BLUPs come from hlmshell.engine.blup on the estimation sample and are
carried to other observations of the same group (matched on the level variables' values).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from hlmshell.commands.options import OptionSpec
from hlmshell.commands.registry import command
from hlmshell.commands.test import active
from hlmshell.data.dataset import Variable, to_storage
from hlmshell.errors import StataError
from hlmshell.results import EstimationResults

_LEVEL = re.compile(r"^(\d+)[bon]*\.(.+)$")
_TYPES = ("byte", "int", "long", "float", "double")
_NEWNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


# --------------------------------------------------------------------------- design columns
def column_values(data, name: str) -> np.ndarray:
    """Values of one e(b) column (`ses`, `2.sized`, `1.female#c.ses`, `_cons`) for all obs."""
    n = data.n
    if name == "_cons":
        return np.ones(n)
    out = np.ones(n)
    for part in name.split("#"):
        p = part
        if p.startswith("c."):
            p = p[2:]
        if p.startswith("o.") or p.startswith("b."):
            p = p[2:]
        m = _LEVEL.match(p)
        if m:
            v = np.asarray(data.values(m.group(2)), dtype=float)
            col = np.where(np.isnan(v), np.nan, (v == float(m.group(1))).astype(float))
        else:
            col = np.asarray(data.values(p), dtype=float)
        out = out * col
    return out


def fixed_part(res: EstimationResults, data) -> tuple[np.ndarray, np.ndarray]:
    """(X over all observations for the non-omitted fixed columns, their column indexes)."""
    idx = [j for j in range(res.k_f) if not res.omitted[j]]
    X = np.column_stack([column_values(data, res.names[j][1]) for j in idx]) if idx else np.zeros((data.n, 0))
    return X, np.array(idx, dtype=int)


def xb_all(res: EstimationResults, data) -> np.ndarray:
    X, idx = fixed_part(res, data)
    b = np.asarray(res.b, dtype=float).reshape(-1)[idx]
    return X @ b if len(idx) else np.zeros(data.n)


def stdp_all(res: EstimationResults, data) -> np.ndarray:
    X, idx = fixed_part(res, data)
    k = len(res.names)
    V = np.asarray(res.V, dtype=float).reshape(k, k)[np.ix_(idx, idx)]
    if not len(idx):
        return np.zeros(data.n)
    return np.sqrt(np.clip(np.einsum("ij,jk,ik->i", X, V, X), 0.0, None))


# --------------------------------------------------------------------------- groups outside the sample
def _level_keys(model) -> list[list[str]]:
    """Per block: the level variables identifying its groups (outer levels first)."""
    out = []
    for b in model.blocks:
        keys: list[str] = []
        for other in sorted(model.blocks, key=lambda x: x.depth):
            if other.depth <= b.depth and other.label != "_all" and other.label not in keys:
                keys.append(other.label)
        out.append(keys if b.label != "_all" else [])
    return out


def group_codes_all(model, data, sample: np.ndarray) -> list[np.ndarray]:
    """Per block: group code for every observation (-1 when its group is not in the sample)."""
    n = data.n
    pos = np.flatnonzero(sample)
    codes_all = []
    for b, keys in zip(model.blocks, _level_keys(model)):
        codes = np.full(n, -1, dtype=np.int64)
        codes[pos] = np.asarray(b.group, dtype=np.int64)
        if not keys:
            codes[:] = 0
        else:
            frame = pd.DataFrame({k: data.values(k) for k in keys})
            known = frame.iloc[pos].copy()
            known["_code"] = np.asarray(b.group, dtype=np.int64)
            known = known.drop_duplicates(subset=keys)
            merged = frame.merge(known, on=keys, how="left")
            mapped = merged["_code"].to_numpy()
            miss = ~sample
            ok = miss & ~pd.isna(mapped)
            codes[ok] = mapped[ok].astype(np.int64)
        codes_all.append(codes)
    return codes_all


def z_values(b, data, sample: np.ndarray) -> np.ndarray:
    """Z of one block for all observations (sample rows from the fit; others from the data)."""
    n = data.n
    Z = np.full((n, len(b.names)), np.nan)
    for j, nm in enumerate(b.names):
        if nm == "_cons" or nm.startswith("R."):
            Z[:, j] = 1.0 if nm == "_cons" else np.nan
        else:
            try:
                Z[:, j] = column_values(data, nm)
            except StataError:
                pass
    Z[np.flatnonzero(sample)] = np.asarray(b.Z, dtype=float)
    return Z


# --------------------------------------------------------------------------- parsing
def _new_names(body: str, count: int | None) -> tuple[str, list[str]]:
    words = body.split()
    vtype = "float"
    if words and words[0] in _TYPES:
        vtype = words.pop(0)
    if not words:
        raise StataError("varlist required", 100)
    if count is None:
        if len(words) > 1:
            raise StataError("too many variables specified", 103)
        if words[0].endswith("*"):
            raise StataError("invalid syntax", 198)
        names = words
    elif len(words) == 1 and words[0].endswith("*"):
        stub = words[0][:-1]
        names = [f"{stub}{i}" for i in range(1, count + 1)]
    else:
        if len(words) != count:
            msg = "too few variables specified" if len(words) < count else "too many variables specified"
            raise StataError(f"{msg}\nyou must specify {count} new variable(s)", 102 if len(words) < count else 103)
        names = words
    for nm in names:
        if not _NEWNAME.match(nm):
            raise StataError(f"{nm} invalid name", 198)
    return vtype, names


def _touse(session, cmd) -> np.ndarray:
    n = session.data.n
    if cmd.if_ is None and cmd.in_ is None and getattr(session, "by_restrict", None) is None:
        return np.ones(n, dtype=bool)
    from hlmshell.syntax.evaluate import marksample
    return np.asarray(marksample(session, cmd), dtype=bool)


def _add(session, names, columns, labels, vtype, touse) -> None:
    for nm in names:
        if nm in session.data:
            raise StataError(f"variable {nm} already defined", 110)
    if len(set(names)) != len(names):
        raise StataError(f"variable {names[0]} already defined", 110)
    for nm, col, lab in zip(names, columns, labels):
        vals = np.where(touse, col, np.nan)
        vals = to_storage(vals, vtype)
        session.data.add(Variable(nm, vals, vtype, label=lab))
        nmiss = int(np.count_nonzero(np.isnan(vals)))
        if nmiss:
            session.out.line(f"({nmiss:,} missing value{'s' if nmiss != 1 else ''} generated)")


# --------------------------------------------------------------------------- predict
_STATS = ("xb", "stdp", "fitted", "residuals", "rstandard", "reffects")


@command("predict", qualifiers="if in")
def predict_cmd(session, cmd) -> None:
    res = active(session)
    spec = OptionSpec("xb stdp fitted(fit) residuals(r) rstandard(rsta) reffects(ref) "
                      "reses(rese) relevel(relev)= scores(sc)")
    opts: dict = {}
    for o in cmd.options:
        full, _ = spec.resolve(o.name)
        if full not in ("reses", "relevel") and o.arg not in (None, ""):
            raise StataError(f"option {o.name} not allowed", 198)
        opts[full] = o.arg
    if "relevel" in opts and not opts["relevel"]:
        raise StataError("invalid syntax", 198)
    chosen = [s for s in _STATS if s in opts]
    reses_arg = opts.get("reses")
    if "reses" in opts and not reses_arg:
        chosen.append("reses")
    if len(chosen) > 1:
        raise StataError("only one of options xb, stdp, fitted, reffects, reses, scores, residuals, "
                         "or rstandard should be specified", 198)
    if "scores" in opts:
        raise StataError("option scores not allowed", 198)
    stat = chosen[0] if chosen else None
    data = session.data
    sample = res.sample
    if sample is None or len(sample) != data.n:
        raise StataError("predict requires that the data used in estimation be in memory", 459)
    sample = np.asarray(sample, dtype=bool)
    touse = _touse(session, cmd)

    if res.cmd not in ("mixed", "xtmixed"):
        _predict_linear(session, cmd, res, stat, touse, opts)
        return

    model = res.model
    if reses_arg and stat != "reffects":
        raise StataError("option reses() requires option reffects", 198)
    relevel = opts.get("relevel")
    if relevel:
        labels = [b.label for b in model.blocks]
        if relevel not in labels:
            raise StataError(f"{relevel} is not a level variable in this model", 198)
        if stat in (None, "xb", "stdp"):
            what = "default statistic xb" if stat is None else f"statistic {stat}"
            raise StataError(f"option relevel() not allowed with {what}", 198)

    if stat in (None, "xb", "stdp"):
        vtype, names = _new_names(cmd.body or "", None)
        if stat is None:
            session.out.line("(option xb assumed)")
        if stat == "stdp":
            col, lab = stdp_all(res, data), "S.E. of the linear prediction, fixed portion"
        else:
            col, lab = xb_all(res, data), "Linear prediction, fixed portion"
        _add(session, names, [col], [lab], vtype, touse)
        return

    from hlmshell.engine.blup import compute_blups

    blocks = list(model.blocks)
    if stat in ("reffects", "reses"):
        sel = [i for i, b in enumerate(blocks) if not relevel or b.label == relevel]
        count = sum(len(blocks[i].names) for i in sel)
        if count == 0:
            raise StataError("random-effects equation(s) empty; BLUPs of random effects not available", 459)
        vtype, names = _new_names(cmd.body or "", count)
        se_names = None
        if reses_arg:
            _, se_names = _new_names(reses_arg, count)
        blups = compute_blups(model, with_se=(stat == "reses" or bool(reses_arg)))
        codes = group_codes_all(model, data, sample)
        cols, labs, se_cols, se_labs = [], [], [], []
        for i in sel:
            b = blocks[i]
            c = codes[i]
            ok = c >= 0
            for j, nm in enumerate(b.names):
                col = np.full(data.n, np.nan)
                col[ok] = blups[i].u[c[ok], j]
                cols.append(col)
                labs.append(f"BLUP r.e. for {b.label}: {nm}")
                if blups[i].se is not None:
                    sc = np.full(data.n, np.nan)
                    sc[ok] = blups[i].se[c[ok], j]
                    se_cols.append(sc)
                    se_labs.append(f"S.E. of BLUP r.e. for {b.label}: {nm}")
        if stat == "reses":
            _add(session, names, se_cols, se_labs, vtype, touse)
            return
        allnames = names + (se_names or [])
        if len(set(allnames)) != len(allnames):
            dup = next(nm for nm in allnames if allnames.count(nm) > 1)
            raise StataError(f"variable {dup} already defined", 110)
        for nm in allnames:
            if nm in data:
                raise StataError(f"variable {nm} already defined", 110)
        _add(session, names, cols, labs, vtype, touse)
        if se_names:
            _add(session, se_names, se_cols, se_labs, vtype, touse)
        return

    # fitted / residuals / rstandard
    vtype, names = _new_names(cmd.body or "", None)
    depth = None
    if relevel:
        depth = max(b.depth for b in blocks if b.label == relevel)
    blups = compute_blups(model, with_se=False)
    codes = group_codes_all(model, data, sample)
    fitted = xb_all(res, data)
    for b, bl, c in zip(blocks, blups, codes):
        if depth is not None and b.depth > depth:
            continue
        Z = z_values(b, data, sample)
        u = np.full((data.n, len(b.names)), np.nan)
        ok = c >= 0
        u[ok] = bl.u[c[ok]]
        fitted = fitted + np.sum(Z * u, axis=1)
    suffix = f", level({relevel})" if relevel else ""
    if stat == "fitted":
        _add(session, names, [fitted], [f"Fitted values: xb + Zu{suffix}"], vtype, touse)
        return
    y = np.asarray(data.values(res.depvar), dtype=float)
    resid = y - fitted
    if stat == "residuals":
        _add(session, names, [resid], [f"Residuals{suffix}"], vtype, touse)
        return
    sigma = float(np.sqrt(model.fit.sigma2))
    _add(session, names, [resid / sigma], [f"Standardized residuals{suffix}"], vtype, touse & sample)


def _predict_linear(session, cmd, res, stat, touse, opts) -> None:
    """predict after regress: xb (fitted values), stdp, residuals."""
    if stat not in (None, "xb", "stdp", "residuals"):
        raise StataError(f"option {stat} not allowed", 198)
    vtype, names = _new_names(cmd.body or "", None)
    data = session.data
    if stat is None:
        session.out.line("(option xb assumed; fitted values)")
    if stat == "stdp":
        col, lab = stdp_all(res, data), "S.E. of the prediction"
    elif stat == "residuals":
        y = np.asarray(data.values(res.depvar), dtype=float)
        col, lab = y - xb_all(res, data), "Residuals"
    else:
        col, lab = xb_all(res, data), "Fitted values"
    _add(session, names, [col], [lab], vtype, touse)
