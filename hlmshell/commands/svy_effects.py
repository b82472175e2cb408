"""estat effects after svy: design effects of each estimate. DEFF is the linearized variance
over the variance the estimate would have under simple random sampling of the same size
without replacement (e(V_srs)); DEFT the square root of the ratio to the with-replacement
variance (e(V_srswr)), Kish's deft. Both variances are posted by the svy commands
(commands.svy_models, commands.svy_descriptive)."""
from __future__ import annotations

import numpy as np

from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt_g
from hlmshell.output.text import abbrev
from hlmshell.results import RResults

_STAT = {"mean": "Mean", "proportion": "Proportion", "total": "Total", "ratio": "Ratio"}


def estat_effects(session, res, opts) -> None:
    if res.macros.get("prefix") != "svy" or "V_srs" not in res.matrices:
        raise StataError("requested action not valid after most recent estimation command", 321)
    b = np.asarray(res.b, float)
    v = np.diag(np.asarray(res.V, float))
    vs = np.diag(np.asarray(res.matrices["V_srs"], float))
    vwr = np.diag(np.asarray(res.matrices.get("V_srswr", res.matrices["V_srs"]), float))
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.where(vs > 0, v / vs, np.nan)
        deft = np.where(vwr > 0, np.sqrt(v / vwr), np.nan)
    show_deff = opts.deff or not opts.deft
    show_deft = opts.deft or not opts.deff
    out = session.out
    first = _STAT.get(res.cmd, "Coefficient")
    depvar = "" if res.cmd in _STAT else res.macros.get("depvar", "")
    cols = ("        DEFF" if show_deff else "") + ("      DEFT" if show_deft else "")
    width = 36 + len(cols)
    out.line("")
    out.line("-" * width)
    out.line(f"{'':13}|{'':13}Linearized")
    out.line(f"{abbrev(depvar, 12):>12} |{first:>12}  std. err.{cols}")
    out.line("-" * 13 + "+" + "-" * (width - 14))
    omitted = np.asarray(res.omitted, bool)
    for i, (_, nm) in enumerate(res.names):
        if omitted[i] or nm.split(".")[0].endswith(("b", "o")) and "." in nm and v[i] == 0:
            continue
        cells = f"{fmt_g(b[i], 9):>11}{fmt_g(np.sqrt(v[i]), 9):>11}"
        if show_deff:
            cells += f"{fmt_g(deff[i], 9):>12}"
        if show_deft:
            cells += f"{fmt_g(deft[i], 9):>10}"
        out.line(f"{abbrev(nm, 12):>12} |{cells}")
    out.line("-" * width)
    session.r = RResults(matrices={"deff": deff[None, :], "deft": deft[None, :]})
