"""Option parsing with Stata's abbreviations.

    spec = OptionSpec("generate(gen) clear detail(d) covariance(cov) reml accumulate(acc)")
    opts = spec.parse(cmd.options)      # {'generate': 'sized', 'clear': None}

Each word is `fullname` or `fullname(minabbrev)`; a typed option resolves to the one full name
it abbreviates (at least the minimum abbreviation). Unknown options raise Stata's
`option foo not allowed` r(198). Options that take an argument are declared with a trailing
`=`: "generate(gen)=" means generate(...) requires an argument.
"""
from __future__ import annotations

import re

from hlmshell.errors import StataError, option_not_allowed
from hlmshell.registry import REGISTRY, abbrev_match
from hlmshell.syntax.ast import Option


class OptionSpec:
    """`OptionSpec("a(ab) b=")`, or `OptionSpec(command="mixed")`: the options declared in the
    command's spec on its registration line (hlmshell/registry.py), read when first used."""

    def __init__(self, spec: str = "", *, command: str | None = None, sub: str | None = None):
        self._command, self._sub = command, sub
        self._entries: list[tuple[str, str, bool]] | None = None if command else []
        for word in spec.split():
            takes = word.endswith("=")
            word = word.rstrip("=")
            m = re.fullmatch(r"([A-Za-z_][\w]*)(?:\(([\w]+)\))?", word)
            if not m:
                raise ValueError(word)
            full, mn = m.group(1), m.group(2) or m.group(1)
            self._entries.append((full, mn, takes))

    @property
    def entries(self) -> list[tuple[str, str, bool]]:
        """(full, min, takes_arg) of each option."""
        if self._entries is None:
            cspec = REGISTRY.resolve(self._command)
            opts = cspec.subcommand(self._sub).options if self._sub else cspec.options or ()
            self._entries = [(o.name, o.min, o.takes_arg) for o in opts]
        return self._entries

    def resolve(self, typed: str) -> tuple[str, bool]:
        for full, mn, takes in self.entries:
            if abbrev_match(typed, full, mn):
                return full, takes
        raise option_not_allowed(typed)

    def parse(self, options: list[Option]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for o in options:
            full, takes = self.resolve(o.name)
            if takes and not o.arg:
                raise StataError(f"option {full}() required an argument" if False else "invalid syntax", 198)
            if not takes and o.arg is not None and o.arg != "":
                raise StataError(f"option {o.name} not allowed", 198)
            out[full] = o.arg
        return out


def level_option(arg: str | None, session) -> float:
    """level(#) of a confidence interval (the session's `set level` without it), Stata's check."""
    if arg is None:
        return float(session.settings.get("level", 95.0))
    try:
        lv = float(arg)
    except ValueError:
        lv = float("nan")
    if not 10 <= lv <= 99.99:
        raise StataError("level() must be between 10 and 99.99 inclusive", 198)
    return lv


def int_option(opts: dict, name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer option such as separator(#): absent or empty -> default; anything that is not
    an integer (abc, 2.5, 1e400, nan) or is below `minimum` is `option name() incorrectly specified`."""
    arg = opts.get(name)
    if arg is None or not str(arg).strip():
        return default
    try:
        v = float(arg)
    except ValueError:
        v = float("nan")
    if not (v == v and abs(v) < 2**53 and v == int(v)) or (minimum is not None and v < minimum):
        raise StataError(f"option {name}() incorrectly specified", 198)
    return int(v)
