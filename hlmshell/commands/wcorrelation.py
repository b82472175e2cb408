"""estat wcorrelation after mixed: the within-cluster correlation (or covariance) matrix of
the outcome that the fitted model implies, V = Z G Z' + R, for one cluster of the outermost
level: the first in the estimation sample, or the one at() names.

r(sd), r(Corr) (r(Cov) with `covariance`), r(G), r(R) and r(V) as Stata stores them.
`list` first lists the cluster's data (the outcome, the model's variables and its levels), so
that the matrices' obs numbers can be read against it."""
from __future__ import annotations

import numpy as np

from hlmshell.commands.program import NamedMatrix
from hlmshell.engine import marginal
from hlmshell.errors import StataError
from hlmshell.output.numfmt import FormatError, fmt
from hlmshell.results import RResults

ROW_W = 10


def _at_rows(session, m, text: str | None) -> np.ndarray:
    """Rows of the estimation sample (indices into the model's arrays) of the cluster: the
    first one, or the one whose level variables take the values in at(var=# ...)."""
    sample = np.flatnonzero(np.asarray(m.sample, dtype=bool))
    top = min(m.blocks, key=lambda b: b.depth)
    codes = np.asarray(top.group, dtype=np.int64)
    if top.label == "_all":
        codes = np.zeros(len(codes), dtype=np.int64)
    pick = 0
    if text:
        ok = np.ones(len(sample), dtype=bool)
        for part in text.replace(",", " ").split():
            name, eq, val = part.partition("=")
            if not eq:
                raise StataError("invalid at() option", 198)
            levels = [b.label for b in m.blocks]
            if name not in levels:
                raise StataError(f"{name} is not a level variable", 198)
            try:
                v = float(val)
            except ValueError:
                raise StataError("invalid at() option", 198) from None
            col = np.asarray(session.data.values(name), dtype=float)[sample]
            ok &= col == v
        if not ok.any():
            raise StataError("no observations in the specified cluster", 2000)
        pick = int(np.flatnonzero(ok)[0])
    return np.flatnonzero(codes == codes[pick]), sample, top


def _matrix_lines(title: str, rows: list[str], cols: list[str], M, form: str,
                  lower: bool) -> list[str]:
    """One matrix as matlist prints it, in column blocks that fit 78 characters."""
    width = max(len(fmt(0.0, form)), max((len(c) for c in cols), default=1)) + 2
    per = max(1, (78 - ROW_W - 2) // width)
    out = ["", f"{title}:", ""]
    for start in range(0, len(cols), per):
        block = range(start, min(start + per, len(cols)))
        out.append(f"{'obs':>{ROW_W}} |" + "".join(f"{cols[j]:>{width}}" for j in block))
        out.append("-" * (ROW_W + 1) + "+" + "-" * (width * len(block)))
        for i, r in enumerate(rows):
            cells = []
            for j in block:
                if lower and j > i:
                    cells.append(" " * width)
                else:
                    cells.append(fmt(M[i][j], form).strip().rjust(width))
            if lower and all(not c.strip() for c in cells):
                continue
            out.append((f"{r:>{ROW_W}} |" + "".join(cells)).rstrip())
        out.append("")
    return out[:-1]


def _model_variables(ds, res, m) -> list[str]:
    """The outcome, the variables of the fixed and random parts (factor-variable and
    interaction names taken apart) and the level variables, each once, in that order."""
    import re
    words = [res.depvar]
    for _eq, nm in res.names:
        words += re.split(r"[#()\[\]]", nm)
    words += [b.label for b in sorted(m.blocks, key=lambda b: b.depth)]
    out = []
    for w in words:
        w = re.sub(r"^(?:[0-9]*[bno]*\.|[ci]\.)+", "", w.strip())
        if w and w not in out and w in ds.names:
            out.append(w)
    return out


def _list_lines(session, res, m, sample, rows) -> list[str]:
    """`list`: the cluster's observations as list shows them (obs numbers of the data)."""
    from hlmshell.commands.inspect import _boxed_lines, _list_column
    ds = session.data
    idx = sample[rows]
    cols = [_list_column(ds, nm, idx, True, 8) for nm in _model_variables(ds, res, m)]
    obsw = max(3, len(str(ds.n)) + 1)
    bar = "-" * (len("   ".join("-" * w for _, _, w, _ in cols)) + 2)
    return [""] + _boxed_lines(cols, idx, " " * (obsw + 2), bar, False, obsw, 5, True)


def wcorrelation(session, res, opts, need_mixed) -> None:
    m = need_mixed(res)
    given = (opts.format or "").strip()
    try:
        if given:
            fmt(0.5, given)
    except FormatError:
        raise StataError(f"invalid format {given}", 120) from None
    form = given or "%6.3f"          # correlations
    vform = given or "%9.0g"         # standard deviations and covariances
    rows, sample, top = _at_rows(session, m, opts.raw("at"))
    V = marginal.marginal_covariance(m.model, rows)
    sd = np.sqrt(np.diag(V))
    obs = [str(int(sample[i]) + 1) for i in rows]
    out = session.out
    if top.label == "_all":
        head = "all observations"
    else:
        val = np.asarray(session.data.values(top.label))[sample[rows[0]]]
        head = f"{top.label} = {fmt(float(val), '%9.0g').strip()}" \
            if not isinstance(val, str) else f"{top.label} = {val}"
    mats = {"V": NamedMatrix(V, obs, obs)}
    if getattr(opts, "list", False):        # xtmixed_corr passes its own options
        for line in _list_lines(session, res, m, sample, rows):
            out.line(line)
    if opts.covariance:
        out.line("")
        out.line(f"Covariances for {head}:")
        for line in _matrix_lines("Covariances", obs, obs, V, vform, True)[2:]:
            out.line(line)
        mats["Cov"] = NamedMatrix(V, obs, obs)
    else:
        corr = V / np.outer(sd, sd)
        out.line("")
        out.line(f"Standard deviations and correlations for {head}:")
        for line in _matrix_lines("Standard deviations", ["sd"], obs, sd[None, :], vform, False):
            out.line(line)
        for line in _matrix_lines("Correlations", obs, obs, corr, form, True):
            out.line(line)
        mats["sd"] = NamedMatrix(sd[None, :], ["sd"], obs)
        mats["Corr"] = NamedMatrix(corr, obs, obs)
    session.r = RResults(matrices=mats)
