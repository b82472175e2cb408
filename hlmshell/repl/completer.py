"""Tab completion that knows where in a Stata command the cursor is.

Every word it offers comes from the command registry (hlmshell/registry.py) or the session:
first word (after prefixes such as quietly/capture/by ...:) -> command names, aliases and the
interpreter's keywords; after a comma -> the command's options (also after a `||` equation of
`mixed`: `mixed y x || id:, cov<Tab>` -> `covariance(`); right after a command that has
subcommands -> the subcommands (`estat <Tab>`, `estimates re<Tab>`); after a subcommand or
command that takes names of stored estimates -> those names; after `use`/`do`/`save`/
`import delimited`/`... using` -> file names with the right extension; anywhere else ->
variable names in memory.
"""
from __future__ import annotations

import os
import re
from typing import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from hlmshell import registry as reg
from hlmshell.data.locate import sample_data_dir
from hlmshell.syntax.lexer import join_continuations

DIRS_ONLY = ("\0dir",)   # no file name ends so: only directories are offered
_DTA = (".dta",)
_DO = (".do", ".ado")
_CSV = (".csv", ".txt", ".tsv")
# file extensions offered for a file argument, by (canonical) command
_FILE_EXT = {
    "use": _DTA, "save": _DTA, "merge": _DTA, "append": _DTA, "describe": _DTA,
    "do": _DO, "run": _DO, "include": _DO,
    "import delimited": _CSV, "export delimited": _CSV,
    "log": (".log", ".smcl"), "cd": DIRS_ONLY,
}
# commands whose first argument is a file (no `using` needed)
_FILE_FIRST = ("use", "save", "do", "run", "include", "cd")
# commands whose arguments are names of stored estimates
_EST_NAME_COMMANDS = ("lrtest",)


def _strip_prefixes(words: list[str]) -> list[str]:
    """Drop leading prefix commands (quietly, capture, by g:, version 17:, ...)."""
    i = 0
    while i < len(words):
        w = words[i]
        if reg.abbrev_lookup(w, reg.PREFIXES):
            i += 1
            if i < len(words) and words[i] == ":":
                i += 1
            continue
        if reg.abbrev_lookup(w, reg.BY_PREFIXES) or w in ("version", "vers"):
            # runs to the first word ending in ':' (the prefix separator)
            j = i
            while j < len(words) and not words[j].endswith(":"):
                j += 1
            if j >= len(words):
                return words[i:]  # still typing the prefix
            i = j + 1
            continue
        break
    return words[i:]


def _split_words(text: str) -> list[str]:
    """Whitespace words, keeping a `by x:` colon attached and quoted paths whole."""
    return re.findall(r'"[^"]*"?|[^\s"]+', text)


def _current_line(text: str) -> str:
    """The logical command being typed: after the last newline or `{`, `///` lines joined."""
    line = re.split(r"[\n{]", text)[-1]
    if "\n" in text:
        line = join_continuations(text).split("\n")[-1]
        line = line.rsplit("{", 1)[-1]
    return line


def _after_comma(line: str) -> bool:
    """A top-level comma in the current equation (after the last `||`), outside quotes and
    parentheses: the cursor is among the options."""
    seg = line.rsplit("||", 1)[-1]
    depth, quoted = 0, False
    seen = False
    for c in seg:
        if c == '"':
            quoted = not quoted
        elif not quoted and c in "([":
            depth += 1
        elif not quoted and c in ")]":
            depth -= 1
        elif not quoted and depth == 0 and c == ",":
            seen = True
    return seen and depth == 0 and not quoted


class StataCompleter(Completer):
    """Completions from a live session (read afresh on every key press) and a registry."""

    def __init__(self, session_getter: Callable[[], object],
                 command_names: Callable[[], Iterable[str]] | None = None,
                 cwd: Callable[[], str] | None = None,
                 registry: reg.Registry | None = None):
        self._session = session_getter
        self._registry = registry or reg.REGISTRY
        self._command_names = command_names or self._registry_names
        self._cwd = cwd or os.getcwd

    # -- sources ---------------------------------------------------------------------
    def _registry_names(self) -> list[str]:
        try:
            return self._registry.names(aliases=True)
        except Exception:  # a broken command module must not break Tab
            return sorted(self._registry.commands)     # the modules that did load

    def commands(self) -> list[str]:
        names = set(self._command_names())
        # `end` only closes a program definition: not offered as a command to start with
        names.update((k for k in reg.INTERPRETER_KEYWORDS if k != "end"), reg.REPL_COMMANDS)
        names.update(p for p, _ in reg.PREFIXES + reg.BY_PREFIXES)
        return sorted(names)

    def variables(self) -> list[str]:
        data = getattr(self._session(), "data", None)
        return list(getattr(data, "names", []) or [])

    def estimates(self) -> list[str]:
        return sorted(getattr(self._session(), "estimates", {}) or {})

    def _spec(self, word: str) -> reg.CommandSpec | None:
        try:
            return self._registry.lookup(word)
        except Exception:
            return None

    # -- context ---------------------------------------------------------------------
    def context(self, text: str) -> tuple[str, str, object]:
        """(kind, word being typed, extra) for the text before the cursor.

        kind is one of: command, variable, estimate, subcommand, option, sample, file; extra is
        the file extensions (file), the spec (subcommand) or the options offered (option).
        """
        line = _current_line(text)
        typing_new = line == "" or line[-1].isspace()
        words = _split_words(line)
        current = "" if typing_new else (words.pop() if words else "")
        words = _strip_prefixes(words)
        if not words:
            return "command", current, ()
        spec = self._spec(words[0])
        if spec is None:
            return ("command", current, ()) if words[0] == "help" and len(words) == 1 else ("variable", current, ())
        if _after_comma(line) and "(" not in current:
            return "option", current, self._options(spec, words)
        return self._argument_context(spec, words, current)

    def _options(self, spec: reg.CommandSpec, words: list[str]) -> tuple[reg.OptionSpec, ...]:
        # `estat icc, l`: the subcommand word may carry the comma
        sub = spec.subcommand(words[1].rstrip(",")) if spec.subcommands and len(words) > 1 else None
        if sub is not None:
            return sub.options
        return spec.options or spec.all_options()

    def _argument_context(self, spec: reg.CommandSpec, words: list[str], current: str):
        name = spec.name
        if name == "help" and len(words) == 1:
            return "command", current, ()
        if spec.subcommands:
            if len(words) == 1:
                return "subcommand", current, spec
            sub = spec.subcommand(words[1])
            if sub is not None and "name" in sub.syntax and name == "estimates":
                return "estimate", current, ()
            if sub is not None and sub.name == "delimited" and (len(words) == 2 or words[-1] == "using"):
                return "file", current, _FILE_EXT.get(f"{name} delimited")
        if name in _EST_NAME_COMMANDS:
            return "estimate", current, ()
        if name in ("sysuse", "webuse") and len(words) == 1:
            return "sample", current, ()
        if words[-1] == "using":
            return "file", current, _FILE_EXT.get(name)
        if name in _FILE_FIRST and len(words) == 1:
            return "file", current, _FILE_EXT.get(name)
        return "variable", current, ()

    # -- completion --------------------------------------------------------------------
    def get_completions(self, document: Document, complete_event: CompleteEvent):
        try:
            kind, word, extra = self.context(document.text_before_cursor)
            if kind == "file":
                yield from self._files(word, extra)
                return
            if kind == "option":
                yield from self._option_completions(word, extra)
                return
            for name in self._pool(kind, extra):
                if name.startswith(word):
                    yield Completion(name, start_position=-len(word))
        except Exception:  # never let a completion bug reach the user
            return

    def _pool(self, kind: str, extra) -> list[str]:
        if kind == "command":
            return self.commands()
        if kind == "estimate":
            return self.estimates()
        if kind == "sample":
            return _sample_names()
        if kind == "subcommand":
            return sorted(s.name for s in extra.subcommands)
        return self.variables()

    @staticmethod
    def _option_completions(word: str, options):
        """Options the typed word may begin (or abbreviate): `cov` -> `covariance(`."""
        for o in options:
            if o.name.startswith(word):
                text = o.name + ("(" if o.takes_arg else "")
                yield Completion(text, start_position=-len(word),
                                 display=o.name + ("()" if o.takes_arg else ""),
                                 display_meta=o.desc or reg.OPTION_HELP.get(o.name, ""))

    def _files(self, word: str, exts: tuple[str, ...] | None):
        quoted = word.startswith('"')
        raw = word[1:] if quoted else word
        dirpart, base = os.path.split(raw)
        where = os.path.expanduser(dirpart) if dirpart else ""
        root = where if os.path.isabs(where) else os.path.join(self._cwd(), where)
        try:
            entries = sorted(os.listdir(root or "."))
        except OSError:
            return
        for name in entries:
            if not name.startswith(base) or (name.startswith(".") and not base.startswith(".")):
                continue
            is_dir = os.path.isdir(os.path.join(root, name))
            if not is_dir and exts is not None and not name.lower().endswith(exts):
                continue
            yield _file_completion(os.path.join(dirpart, name), name, is_dir, quoted, word)


def _file_completion(path: str, name: str, is_dir: bool, quoted: bool, word: str) -> Completion:
    text = path + (os.sep if is_dir else "")
    if quoted or " " in text:
        text = '"' + text + ("" if is_dir else '"')
    return Completion(text, start_position=-len(word), display=name + (os.sep if is_dir else ""))


def _sample_names() -> list[str]:
    """Datasets shipped with hlmshell (what `sysuse NAME` loads)."""
    try:
        d = sample_data_dir()
        if d is None:
            return []
        return sorted(p.name[:-4] for p in d.iterdir() if p.name.endswith(".dta"))
    except Exception:
        return []
