"""The one command vocabulary: a typed spec per command, in the spirit of Stata's `syntax`.

Everything that needs to know what a command is reads this table: the parser (command word,
`=exp`, qualifiers, options with their abbreviations and types), the interpreter (byable,
transactional), the REPL's completer and highlighter, and `help`.

    @command("summarize", abbrev="su", family="Data", body="varlist",
             qualifiers="if in weight", weights="aw fw iw",
             options=(Opt("detail", "d", desc="additional statistics"),
                      Opt("separator", "sep", "int", 5, "separator line every # variables")),
             desc="summary statistics", example="summarize mathach ses, detail")
    def summarize(session, cmd): ...

`abbrev` is Stata's minimum abbreviation of the command ("su": su, sum, ..., summarize);
`Opt(name, min, type, default, desc)` the same for an option (`cov` for covariance()).
`abbrev_match(typed, full, minlen)` is the one helper that decides whether a typed word
abbreviates a full one; everything else calls it.

This module imports nothing from hlmshell.commands (the handler modules are imported lazily by
`Registry.load`), so hlmshell.syntax can use it without a package cycle.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Iterable

from hlmshell.errors import StataError


# ---- the one abbreviation helper --------------------------------------------------------
def abbrev_match(typed: str, full: str, minlen: int | str) -> bool:
    """`typed` abbreviates `full`: a prefix of it at least `minlen` characters long (an int,
    or the minimum abbreviation itself as a string)."""
    n = len(minlen) if isinstance(minlen, str) else minlen
    return bool(typed) and len(typed) >= n and full.startswith(typed)


def abbrev_lookup(typed: str, table: Iterable[tuple[str, Any]]) -> str | None:
    """First full name in (full, minimum) pairs that `typed` abbreviates, else None."""
    for full, mn in table:
        if abbrev_match(typed, full, mn):
            return full
    return None


# ---- spec types ---------------------------------------------------------------------------
class Byable(Enum):
    NO = "no"        # `by ...:` refused (r(190))
    YES = "yes"      # the interpreter runs the command once per by-group
    SELF = "self"    # the handler does `by` itself (generate, egen, keep, drop ...)


OPTION_TYPES = ("flag", "int", "real", "string", "name", "varlist", "numlist", "anything")
BODY_KINDS = ("none", "varlist", "newvarlist", "varname", "fvvarlist", "anything", "raw")
PRESENCE = ("none", "optional", "required")


@dataclass(frozen=True)
class OptionSpec:
    """One option: `covariance(cov)=string` -> OptionSpec('covariance', 'cov', 'string')."""

    name: str
    min: str = ""                     # minimum abbreviation ("" = the full name)
    type: str = "flag"
    default: Any = None
    desc: str = ""

    def __post_init__(self):
        if self.type not in OPTION_TYPES:
            raise ValueError(f"option type {self.type!r}")
        if not self.min:
            object.__setattr__(self, "min", self.name)

    @property
    def takes_arg(self) -> bool:
        return self.type != "flag"

    def matches(self, typed: str) -> bool:
        return abbrev_match(typed, self.name, self.min)

    def synopsis(self) -> str:
        """Stata's help shows the minimum abbreviation underlined; in text: `cov(ariance)`."""
        rest = self.name[len(self.min):]
        word = f"{self.min}({rest})" if rest else self.name
        if self.takes_arg:
            word += "(" + {"int": "#", "real": "#", "numlist": "numlist", "varlist": "varlist",
                           "name": "name"}.get(self.type, "string") + ")"
        return word


def Opt(name: str, min: str = "", type: str = "flag", default: Any = None, desc: str = "") -> OptionSpec:  # noqa: N802
    return OptionSpec(name, min, type, default, desc)


def options_from(text: str) -> tuple[OptionSpec, ...]:
    """The compact form, `detail(d) separator(sep)=int level(l)=`, as OptionSpecs: `name(min)`,
    then `=type` for an option taking an argument (a bare `=` is a string)."""
    out = []
    for word in text.split():
        word, eq, typ = word.partition("=")
        name, _, mn = word.partition("(")
        out.append(OptionSpec(name, mn.rstrip(")"), (typ or "string") if eq else "flag",
                              desc=OPTION_HELP.get(name, "")))
    return tuple(out)


# one-line descriptions of options that mean the same in every command that takes them
OPTION_HELP = {
    "replace": "overwrite an existing file or variable", "clear": "replace the data in memory",
    "nolabel": "ignore value labels", "level": "set confidence level; default is level(95)",
    "generate": "create new variable(s)", "detail": "display additional statistics",
    "noheader": "suppress the header", "separator": "draw a separator line every # lines",
    "missing": "treat missing values like other values", "sort": "sort the output",
    "noconstant": "suppress the constant term", "baselevels": "report base levels of factor variables",
    "allbaselevels": "display all base levels", "by": "compute within groups of varlist",
    "force": "proceed despite a mismatch or loss of information", "keep": "which observations or results to keep",
    "before": "place the new variable before varname", "after": "place the new variable after varname",
    "notest": "do not display the test", "name": "name of the log", "append": "append to an existing file",
    "text": "save as plain text", "smcl": "save as SMCL", "noobs": "do not list observation numbers",
    "clean": "list without boxes", "abbreviate": "abbreviate variable names to # characters",
    "label": "value label to use or create", "format": "use each variable's display format",
    "delimiter": "column delimiter", "varnames": "where the variable names are (#|nonames)",
    "meanonly": "compute the mean only, quietly (no output)", "prefix": "prefix of new variable names",
    "nogenerate": "do not create the _merge variable", "keepusing": "variables to keep from the using data",
    "update": "update missing values of same-named variables", "assert": "require merge results",
    "stats": "display statistics", "title": "title of the results",
}


@dataclass(frozen=True)
class SubcommandSpec:
    name: str
    min: str = ""
    desc: str = ""
    options: tuple[OptionSpec, ...] = ()
    syntax: str = ""                  # what follows the subcommand, e.g. "name"

    def matches(self, typed: str) -> bool:
        return abbrev_match(typed, self.name, self.min or self.name)


def Sub(name: str, min: str = "", desc: str = "", options: tuple[OptionSpec, ...] | str = (),  # noqa: N802
        syntax: str = "") -> SubcommandSpec:
    if isinstance(options, str):
        options = options_from(options)
    return SubcommandSpec(name, min, desc, tuple(options), syntax)


@dataclass
class CommandSpec:
    """What a command takes; the parser, interpreter, completer, highlighter and help read it."""

    name: str
    handler: Callable
    abbrev: str = ""
    aliases: tuple[str, ...] = ()
    family: str = "Other"
    desc: str = ""
    example: str = ""
    body: str = "anything"            # one of BODY_KINDS; "raw": text kept verbatim
    exp: str = "optional"             # none | optional | required | text (split, not parsed strictly)
    using: str = "none"               # none | optional | required
    qualifiers: frozenset[str] | None = None   # subset of {if, in, weight}; None: handler checks
    weights: tuple[str, ...] = ()
    options: tuple[OptionSpec, ...] | None = None   # None: not checked by the parser
    subcommands: tuple[SubcommandSpec, ...] = ()
    byable: Byable = Byable.YES
    changes_data: bool = True         # False: never changes the data (declarative only)
    transactional: bool = True
    rule: str | None = None           # a start rule in grammar/stata.lark for the body
    raw: bool = False                 # body kept verbatim, nothing split (display, local, ...)
    check_options: bool = True        # the parser binds options to the spec (cmd.opts)

    def __post_init__(self):
        self.abbrev = self.abbrev or self.name
        if self.body not in BODY_KINDS:
            raise ValueError(f"body kind {self.body!r}")

    # ---- lookups --------------------------------------------------------------------------
    def option(self, typed: str) -> OptionSpec | None:
        return next((o for o in self.options or () if o.matches(typed)), None)

    def subcommand(self, typed: str) -> SubcommandSpec | None:
        return next((s for s in self.subcommands if s.matches(typed)), None)

    def all_options(self) -> tuple[OptionSpec, ...]:
        """Options of the command and of all its subcommands (what Tab may offer)."""
        out = list(self.options or ())
        for s in self.subcommands:
            out += [o for o in s.options if o not in out]
        return tuple(out)

    def synopsis(self) -> str:
        """Stata-like syntax line: `su(mmarize) [varlist] [if] [in] [weight] [, options]`."""
        rest = self.name[len(self.abbrev):]
        parts = [f"{self.abbrev}({rest})" if rest else self.name]
        if self.subcommands:
            parts.append("subcommand")
        parts += _BODY_SYNOPSIS.get(self.body, [])
        if self.exp == "required":
            parts.append("=exp")
        elif self.exp == "optional" and self.body in ("newvarlist", "varname"):
            parts.append("[=exp]")
        if self.using == "required":
            parts.append("using filename")
        elif self.using == "optional":
            parts.append("[using filename]")
        for q in ("if", "in", "weight"):
            if self.qualifiers and q in self.qualifiers:
                parts.append(f"[{q}]")
        if self.options:
            parts.append("[, options]")
        return " ".join(parts)


_BODY_SYNOPSIS = {"varlist": ["[varlist]"], "newvarlist": ["newvarlist"], "varname": ["varname"],
                  "fvvarlist": ["depvar", "[indepvars]"], "anything": ["[anything]"],
                  "raw": ["[text]"]}


# ---- parsed options: the typed arguments object -------------------------------------------
class Args:
    """Options of one command resolved against its spec: `args.detail` (bool for a flag),
    `args.separator` (typed value, the spec's default when absent), `"level" in args`
    (given?), `args.raw("level")` (the text inside the parentheses)."""

    def __init__(self, specs: tuple[OptionSpec, ...], given: dict[str, str | None]):
        self._specs = {o.name: o for o in specs}
        self.given = given

    def __contains__(self, name: str) -> bool:
        return name in self.given

    def raw(self, name: str) -> str | None:
        return self.given.get(name)

    def get(self, name: str, default=None):
        """dict-style access to the text (code written for OptionSpec.parse's dict keeps working)."""
        return self.given.get(name, default)

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self._specs:
            raise AttributeError(name)
        spec = self._specs[name]
        if spec.type == "flag":
            return name in self.given
        if name not in self.given:
            return spec.default
        return convert_option(spec, self.given[name])

    def __repr__(self) -> str:
        return f"Args({self.given!r})"


def _incorrect(name: str) -> StataError:
    return StataError(f"option {name}() incorrectly specified", 198)


def convert_option(spec: OptionSpec, text: str | None):
    """The argument of an option as its declared type; Stata's message when it is not one."""
    text = (text or "").strip()
    if spec.type in ("int", "real"):
        try:
            v = float(text)
        except ValueError:
            raise _incorrect(spec.name) from None
        if spec.type == "int":
            if not (v == v and abs(v) < 2**53 and v == int(v)):
                raise _incorrect(spec.name)
            return int(v)
        return v
    if spec.type in ("varlist", "numlist"):
        return text.split()
    if spec.type == "name":
        if len(text.split()) != 1:
            raise _incorrect(spec.name)
    return text


def bind_options(specs: tuple[OptionSpec, ...], options, *, strict: bool = False) -> Args:
    """Typed options (syntax.ast.Option list) -> Args. An option the spec does not declare is
    Stata's `option x not allowed` r(198). With strict, also an argument missing or where none
    goes (the messages commands.options.OptionSpec.parse gives); the parser binds without it, so
    handlers that accept `reses` bare or refuse `relevel()` in their own words keep doing so.
    Values are converted to their types when read (`option level() incorrectly specified`)."""
    given: dict[str, str | None] = {}
    for o in options:
        spec = next((s for s in specs if s.matches(o.name)), None)
        if spec is None:
            raise StataError(f"option {o.name} not allowed", 198)
        if strict and spec.takes_arg and not o.arg:
            raise StataError("invalid syntax", 198)
        if strict and not spec.takes_arg and o.arg is not None and o.arg != "":
            raise StataError(f"option {o.name} not allowed", 198)
        given[spec.name] = o.arg
    return Args(specs, given)


def bind_command(command: str, options, sub: str | None = None,
                 registry: "Registry | None" = None) -> Args:
    """Options typed with a command (or one of its subcommands; none for an unknown one) bound
    strictly to the spec on its registration line: an argument missing where one is needed is
    `invalid syntax`, one given to a flag `option x not allowed` (r(198)); values are converted
    when read, in convert_option. The one strict binding every handler uses."""
    spec = (registry or REGISTRY).resolve(command)
    if sub is None:
        specs = spec.options or ()
    else:
        found = spec.subcommand(sub)
        specs = found.options if found is not None else ()
    return bind_options(specs, options, strict=True)


def args_of(cmd, registry: "Registry | None" = None) -> Args:
    """The typed options of a command: what the parser bound (cmd.opts), or bound now from the
    command's spec for a Command built by hand."""
    if getattr(cmd, "opts", None) is None:
        spec = (registry or REGISTRY).resolve(cmd.name)
        cmd.opts = bind_options(spec.options or (), cmd.options)
    return cmd.opts


# ---- the registry ---------------------------------------------------------------------------
# words the interpreter itself understands in command position (not handlers)
INTERPRETER_KEYWORDS = ("foreach", "forvalues", "while", "for", "if", "else", "program", "end")
# words the interactive shell handles itself before the interpreter (exit refuses unsaved data)
REPL_COMMANDS = ("exit",)
# prefixes peeled off before the command word: (full name, minimum abbreviation)
PREFIXES = (("quietly", "qui"), ("noisily", "n"), ("capture", "cap"))
BY_PREFIXES = (("bysort", "bys"), ("by", "by"))

_BYABLE = {False: Byable.NO, True: Byable.YES, "self": Byable.SELF}


class Registry:
    """A table of CommandSpecs. The global one is `REGISTRY`; tests make their own."""

    def __init__(self, loader: Callable[[], None] | None = None,
                 index: Callable[[], list] | None = None):
        self.commands: dict[str, CommandSpec] = {}
        self._loader = loader
        self._loaded = loader is None
        self._index = index             # () -> [(name, module, abbrev, aliases)], in load order
        self._index_rows: list | None = None

    def load(self) -> None:
        if not self._loaded:
            self._loaded = True
            self._loader()

    def prepare(self) -> None:
        """Ready for lookups: the shipped index read (command modules are imported when first
        used), or, for a table without an index, every module loaded now."""
        if self._index is None:
            self.load()
        elif self._index_rows is None and not self._loaded:
            self._index_rows = list(self._index())

    def _lookup_indexed(self, word: str) -> CommandSpec | None:
        """A do-file needs only the commands it runs: the shipped index (registry_index.py)
        names each command's module, which is imported on first use (start-up stays small
        however many command modules there are). Same resolution order as a full load: a
        name, then an alias, then an abbreviation, in registration order."""
        if self._index_rows is None:
            self._index_rows = list(self._index())
        if word in self.commands:
            return self.commands[word]
        rows = self._index_rows
        hit = next((r for r in rows if r[0] == word), None) \
            or next((r for r in rows if word in r[3]), None) \
            or next((r for r in rows if abbrev_match(word, r[0], r[2])), None)
        if hit is None:                 # not a shipped command: a run-time registration, or an
            self.load()                 # index out of date; the whole table decides
            return self._lookup_loaded(word)
        if hit[0] not in self.commands:
            importlib.import_module(f"hlmshell.commands.{hit[1]}")
        spec = self.commands.get(hit[0])
        if spec is None:                # an index out of date: fall back to the whole table
            self.load()
            return self._lookup_loaded(word)
        return spec

    def add(self, spec: CommandSpec) -> CommandSpec:
        self.commands[spec.name] = spec
        return spec

    def command(self, name: str, abbrev: str | None = None, **kw):
        """Decorator registering a handler; keyword arguments are CommandSpec fields, plus the
        old spellings (raw=True, byable=True|False|"self", exp=False|"raw", qualifiers="if in",
        options=False)."""
        def deco(fn):
            self.add(make_spec(name, fn, abbrev, **kw))
            return fn

        return deco

    def extended(self) -> "Registry":
        """A new table holding this one's commands (loaded now), to which a test can add stub
        commands without changing this one: `Interpreter(session, registry=table)`."""
        self.load()
        table = Registry()
        table.commands.update(self.commands)
        return table

    def resolve(self, word: str) -> CommandSpec:
        """Command word as typed -> its spec, or Stata's `command xx is unrecognized` r(199)."""
        spec = self.lookup(word)
        if spec is None:
            raise StataError(f"command {word} is unrecognized", 199)
        return spec

    def lookup(self, word: str) -> CommandSpec | None:
        if not self._loaded and self._index is not None:
            return self._lookup_indexed(word)
        self.load()
        return self._lookup_loaded(word)

    def _lookup_loaded(self, word: str) -> CommandSpec | None:
        if word in self.commands:
            return self.commands[word]
        for spec in self.commands.values():
            if word in spec.aliases:
                return spec
        for spec in self.commands.values():
            if abbrev_match(word, spec.name, spec.abbrev):
                return spec
        return None

    def names(self, aliases: bool = False) -> list[str]:
        self.load()
        out = set(self.commands)
        if aliases:
            out.update(a for s in self.commands.values() for a in s.aliases)
        return sorted(out)

    def vocabulary(self) -> list[str]:
        """Every word that may stand in command position: commands, aliases, interpreter
        keywords, prefixes."""
        words = set(self.names(aliases=True)) | set(INTERPRETER_KEYWORDS) | set(REPL_COMMANDS)
        words |= {p for p, _ in PREFIXES} | {p for p, _ in BY_PREFIXES}
        return sorted(words)

    def by_family(self) -> dict[str, list[CommandSpec]]:
        self.load()
        out: dict[str, list[CommandSpec]] = {}
        for spec in sorted(self.commands.values(), key=lambda s: s.name):
            out.setdefault(spec.family, []).append(spec)
        return out


def make_spec(name: str, fn: Callable, abbrev: str | None = None, *, raw: bool = False,
              byable: Any = True, exp: Any = "optional", qualifiers: Any = None,
              weights: str | tuple = (), options: Any = None, subcommands: tuple = (),
              **kw) -> CommandSpec:
    """CommandSpec from the decorator's keywords (old and new spellings)."""
    if raw:
        kw.setdefault("body", "raw")
    if isinstance(byable, (bool, str)) and not isinstance(byable, Byable):
        byable = _BYABLE[byable] if byable in _BYABLE else Byable(byable)
    exp = {False: "none", True: "optional", "raw": "text"}.get(exp, exp)
    if isinstance(qualifiers, str):
        qualifiers = frozenset(qualifiers.split())
    if isinstance(weights, str):
        weights = tuple(weights.split())
    if options is False:
        options = ()
    elif isinstance(options, str):
        options = options_from(options)
    return CommandSpec(name, fn, abbrev or name, raw=raw, byable=byable, exp=exp, qualifiers=qualifiers,
                       weights=tuple(weights), options=options, subcommands=tuple(subcommands), **kw)


def _load_command_modules() -> None:
    pkg = importlib.import_module("hlmshell.commands")
    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in ("registry", "options"):
            importlib.import_module(f"hlmshell.commands.{mod.name}")


def _command_index() -> list:
    from hlmshell.registry_index import COMMANDS
    return COMMANDS


def build_index(registry: "Registry | None" = None) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(name, module, abbrev, aliases) of every command, in registration order: what
    registry_index.py ships (python -m hlmshell.registry writes it)."""
    reg = registry or REGISTRY
    reg.load()
    return [(s.name, s.handler.__module__.rsplit(".", 1)[-1], s.abbrev, tuple(s.aliases))
            for s in reg.commands.values()]


REGISTRY = Registry(loader=_load_command_modules, index=_command_index)
command = REGISTRY.command
resolve = REGISTRY.resolve


# Stata's messages when a command's syntax has no [if], [in] or [weight]
_NOT_ALLOWED = {"if": "if not allowed", "in": "in range not allowed", "weight": "weights not allowed"}


def check_qualifiers(spec: CommandSpec, cmd) -> None:
    """Reject an if/in/weight or option the command does not take (r(101), r(198))."""
    if spec.qualifiers is not None and not spec.raw:
        given = {"if": cmd.if_, "in": cmd.in_, "weight": cmd.weight}
        for kind, value in given.items():
            if value is not None and kind not in spec.qualifiers:
                raise StataError(_NOT_ALLOWED[kind], 101)
    if spec.options == () and not spec.raw and cmd.options:
        raise StataError(f"option {cmd.options[0].name} not allowed", 198)


# ---- Stata commands hlmshell does not have (help says so; running them is still r(199)) ------
STATA_ONLY = frozenset("""
manova
egenmore heckman
ratio total
cluster
""".split())


if __name__ == "__main__":     # python -m hlmshell.registry: regenerate registry_index.py
    from pathlib import Path

    from hlmshell import registry as _reg       # the imported module, whose table commands fill
    rows = _reg.build_index()
    body = "".join(f"    {row!r},\n" for row in rows)
    text = ('"""Generated by `python -m hlmshell.registry`: every command\'s name, module, minimum\n'
            'abbreviation and aliases, in registration order. The registry imports a command\'s\n'
            'module when the command is first used; tests/test_registry_index.py checks this file\n'
            'against a full load."""\n\nCOMMANDS = [\n' + body + "]\n")
    Path(__file__).with_name("registry_index.py").write_text(text)
    print(f"{len(rows)} commands written to registry_index.py")
