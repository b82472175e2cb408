"""Compatibility re-export: the command table now lives in hlmshell/registry.py (outside the
commands package, so hlmshell.syntax never imports hlmshell.commands). Import from there."""
from __future__ import annotations

from hlmshell.registry import (REGISTRY, CommandSpec, Registry, abbrev_match, check_qualifiers,
                               command, make_spec, resolve)

CommandInfo = CommandSpec
COMMANDS = REGISTRY.commands


def names() -> list[str]:
    return REGISTRY.names()


def load_all() -> None:
    REGISTRY.load()


__all__ = ["COMMANDS", "CommandInfo", "CommandSpec", "REGISTRY", "Registry", "abbrev_match",
           "check_qualifiers", "command", "load_all", "make_spec", "names", "resolve"]
