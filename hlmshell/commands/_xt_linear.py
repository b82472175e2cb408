"""What xtgls, xtpcse and xtrc share before they fit: replay when typed alone, no random-effects
equations, no weights, the options bound from the fixed part and after the comma, and the
estimation sample with its fixed design and panel codes."""
from __future__ import annotations

from hlmshell.commands._postest import confidence_level
from hlmshell.commands.estimation import _split_spec
from hlmshell.errors import StataError
from hlmshell.registry import bind_command


def model_or_replay(session, cmd, name: str, display):
    """(spec, fixed_raw, options) of a new fit, or None after replaying the last one."""
    spec, fixed_raw = _split_spec(session, cmd)
    if spec is None:
        res = session.e
        if res is None or res.cmd != name:
            raise StataError("last estimates not found", 301)
        display(session, res, confidence_level(session, bind_command(name, cmd.options)))
        return None
    if spec.levels or cmd.weight is not None:
        raise StataError("invalid syntax" if spec.levels else "weights not allowed",
                         198 if spec.levels else 101)
    opts = bind_command(name, list(spec.fixed_options)
                        + [op for op in cmd.options if op not in spec.fixed_options])
    return spec, fixed_raw, opts


def panel_sample(session, cmd, spec, fixed_raw, noconstant: bool, ps, timevar: bool):
    """The estimation sample of xtgls, xtpcse and xtrc: depvar and regressors nonmissing
    within if/in, the panel (and time) variables too; r(2000) when nothing is left. Returns
    (depvar, fixed terms, mask, column reader, fixed design, panel codes 0..N-1)."""
    import numpy as np

    from hlmshell.commands._toolkit import sample_columns
    from hlmshell.commands.estimation import _resolve_fixed_part
    from hlmshell.commands.model_terms import engine_terms
    from hlmshell.engine import design as dz
    from hlmshell.syntax.evaluate import marksample

    ds = session.data
    depvar, fixed, fvars = _resolve_fixed_part(ds, spec, fixed_raw)
    mask = marksample(session, cmd, [depvar] + [v for v in fvars if v != depvar])
    mask &= marksample(session, None, [ps.panelvar] + ([ps.timevar] if timevar else []))
    n = int(mask.sum())
    if n == 0:
        raise StataError("no observations", 2000)
    column = sample_columns(ds, mask)
    design = dz.build_fixed(engine_terms(fixed), column, n, constant=not noconstant)
    _, codes = np.unique(np.asarray(ds.var(ps.panelvar).values, dtype=float)[mask], return_inverse=True)
    return depvar, fixed, mask, column, design, codes.reshape(-1)
