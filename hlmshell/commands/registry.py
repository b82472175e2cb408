"""The one command table: canonical names, Stata's minimum abbreviations, handlers.

A handler is `fn(session, cmd: Command) -> None`. Register with

    @command("summarize", abbrev="su")
    def summarize(session, cmd): ...

`abbrev` is Stata's minimum abbreviation: any prefix of the full name at least that long
resolves to it ("su", "sum", "summ", ... "summarize"). Without `abbrev` only the full name
works (Stata requires `replace`, `drop`, `use` ... in full). `aliases` are other full words
(`xtmixed` for mixed). Modules under hlmshell.commands register on import; load_all()
imports them all.

Extras read by check_qualifiers() (the interpreter calls it before the handler, so a
command never silently ignores what it does not take): qualifiers="if in weight" lists the
qualifiers a non-raw command accepts (without the key nothing is checked; the handler
does it), options=False says it takes no options at all.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

from hlmshell.errors import StataError, option_not_allowed


@dataclass
class CommandInfo:
    name: str
    handler: Callable
    abbrev: str
    aliases: tuple[str, ...] = ()
    # name of a start rule in grammar/stata.lark that parses this command's body into
    # Command.args (None: generic body, the handler parses it)
    rule: str | None = None
    # keep the body text verbatim (no varlist-ish tokenising): display, local, global, ...
    raw: bool = False
    extra: dict = field(default_factory=dict)


COMMANDS: dict[str, CommandInfo] = {}


def command(name: str, abbrev: str | None = None, *, aliases: tuple[str, ...] = (),
            rule: str | None = None, raw: bool = False, **extra):
    def deco(fn):
        COMMANDS[name] = CommandInfo(name, fn, abbrev or name, tuple(aliases), rule, raw, extra)
        return fn

    return deco


def resolve(word: str) -> CommandInfo:
    """Command word as typed -> CommandInfo, or Stata's r(199)."""
    load_all()
    if word in COMMANDS:
        return COMMANDS[word]
    for info in COMMANDS.values():
        if word in info.aliases:
            return info
    for info in COMMANDS.values():
        if info.name.startswith(word) and len(word) >= len(info.abbrev):
            return info
    raise StataError(f"command {word} is unrecognized", 199)


# Stata's messages when a command's syntax has no [if], [in] or [weight]
_NOT_ALLOWED = {"if": "if not allowed", "in": "in range not allowed", "weight": "weights not allowed"}


def check_qualifiers(info: CommandInfo, cmd) -> None:
    """Reject an if/in/weight or option the command does not take (r(101), r(198))."""
    allowed = info.extra.get("qualifiers")
    if allowed is not None and not info.raw:
        given = {"if": cmd.if_, "in": cmd.in_, "weight": cmd.weight}
        for kind, value in given.items():
            if value is not None and kind not in allowed.split():
                raise StataError(_NOT_ALLOWED[kind], 101)
    if info.extra.get("options") is False and not info.raw and cmd.options:
        raise option_not_allowed(cmd.options[0].name)


def names() -> list[str]:
    load_all()
    return sorted(COMMANDS)


_loaded = False


def load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import hlmshell.commands as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in ("registry", "options"):
            importlib.import_module(f"hlmshell.commands.{mod.name}")
