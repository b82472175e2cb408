"""What xtgls and xtpcse share before they fit: replay when typed alone, no random-effects
equations, no weights, and the options bound from the fixed part and after the comma."""
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
