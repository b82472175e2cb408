"""Tab completion that knows where in a Stata command the cursor is.

First word (after prefixes such as quietly/capture/by ...:) -> command names; after
`estimates restore|replay|drop|...`, `lrtest` ... -> stored estimate names; after
`use`/`do`/`run`/`save`/`import delimited`/`... using` -> file names with the right
extension; anywhere else -> variable names in memory.
"""
from __future__ import annotations

import os
import re
from typing import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

# Words that may precede a command on the same line.
_PREFIXES = {"quietly", "noisily", "capture", "xi", "_"}
_PREFIX_ABBREV = {"qui": "quietly", "n": "noisily", "noi": "noisily", "cap": "capture"}

# words the interpreter (not the command table) understands in command position
REPL_WORDS = ("exit", "foreach", "forvalues", "while", "if", "else", "quietly", "noisily",
              "capture", "by", "bysort")

ESTIMATES_SUBCOMMANDS = ("clear", "describe", "dir", "drop", "replay", "restore", "stats",
                         "store", "table", "title")
# `estimates <sub>` whose arguments are names of stored estimates
_EST_NAME_SUBS = ("describe", "drop", "replay", "restore", "stats", "table", "title")
# commands whose arguments are names of stored estimates
_EST_NAME_COMMANDS = ("lrtest", "suest", "hausman")

DIRS_ONLY = ("\0dir",)   # no file name ends so: only directories are offered
_DTA = (".dta",)
_DO = (".do", ".ado")
_CSV = (".csv", ".txt", ".tsv")
# file extensions offered for a file argument, by command
_FILE_EXT = {
    "use": _DTA, "save": _DTA, "saveold": _DTA, "merge": _DTA, "append": _DTA,
    "joinby": _DTA, "describe": _DTA,
    "do": _DO, "run": _DO, "include": _DO,
    "insheet": _CSV, "import delimited": _CSV, "export delimited": _CSV, "outsheet": _CSV,
    "log": (".log", ".smcl"), "cd": DIRS_ONLY,
}
# commands whose first argument is a file (no `using` needed)
_FILE_FIRST = ("use", "save", "saveold", "do", "run", "include", "cd")


def _matches(word: str, full: str, minimum: str) -> bool:
    """`word` abbreviates `full` (at least as long as `minimum`)."""
    return full.startswith(word) and len(word) >= len(minimum)


def canonical(word: str) -> str:
    """Typed command word -> canonical name where the completer needs to know it."""
    if not word:
        return word
    table = (("estimates", "est"), ("do", "do"), ("run", "run"), ("use", "use"),
             ("save", "save"), ("merge", "merge"), ("append", "append"), ("import", "import"),
             ("export", "export"), ("insheet", "insheet"), ("lrtest", "lrtest"),
             ("describe", "d"), ("include", "include"), ("sysuse", "sysuse"), ("webuse", "webuse"), ("log", "log"), ("cd", "cd"),
             ("quietly", "qui"), ("noisily", "n"), ("capture", "cap"), ("bysort", "bys"),
             ("by", "by"), ("help", "h"))
    for full, minimum in table:
        if _matches(word, full, minimum):
            return full
    return word


def _strip_prefixes(words: list[str]) -> list[str]:
    """Drop leading prefix commands (quietly, capture, by g:, version 17:, ...)."""
    i = 0
    while i < len(words):
        w = canonical(words[i])
        if w in _PREFIXES:
            i += 1
            if i < len(words) and words[i] == ":":
                i += 1
            continue
        if w in ("by", "bysort", "version", "xi"):
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


class StataCompleter(Completer):
    """Completions from a live session (read afresh on every key press)."""

    def __init__(self, session_getter: Callable[[], object],
                 command_names: Callable[[], Iterable[str]] | None = None,
                 cwd: Callable[[], str] | None = None):
        self._session = session_getter
        self._command_names = command_names or _registry_names
        self._cwd = cwd or os.getcwd

    # -- sources ---------------------------------------------------------------------
    def commands(self) -> list[str]:
        names = set(self._command_names())
        names.update(REPL_WORDS)
        return sorted(names)

    def variables(self) -> list[str]:
        s = self._session()
        data = getattr(s, "data", None)
        return list(getattr(data, "names", []) or [])

    def estimates(self) -> list[str]:
        s = self._session()
        return sorted(getattr(s, "estimates", {}) or {})

    # -- context ---------------------------------------------------------------------
    def context(self, text: str) -> tuple[str, str, tuple[str, ...]]:
        """(kind, word being typed, file extensions) for the text before the cursor.

        kind is one of: command, variable, estimate, estsub, file.
        """
        # only the current logical command matters: after the last newline / `{`
        line = re.split(r"[\n{]", text)[-1]
        # a `///` continuation joins lines: use everything since the last complete line
        if "\n" in text:
            from hlmshell.repl.continuation import join_continuations

            line = join_continuations(text).split("\n")[-1]
            line = line.rsplit("{", 1)[-1]
        typing_new = line == "" or line[-1].isspace()
        words = _split_words(line)
        current = "" if typing_new else (words.pop() if words else "")
        words = _strip_prefixes(words)
        if not words:
            return "command", current, ()
        cmd = canonical(words[0])
        if cmd in ("help",) and len(words) == 1:
            return "command", current, ()
        if cmd == "estimates":
            if len(words) == 1:
                return "estsub", current, ()
            sub = next((s for s in ESTIMATES_SUBCOMMANDS if words[1] and s.startswith(words[1])
                        and len(words[1]) >= min(3, len(s))), words[1])
            if sub in _EST_NAME_SUBS and "," not in words[1:]:
                return "estimate", current, ()
            if sub in ("use", "save"):
                return "file", current, (".ster",)
            return "variable", current, ()
        if cmd in _EST_NAME_COMMANDS:
            return "estimate", current, ()
        if cmd in ("sysuse", "webuse") and len(words) == 1:
            return "sample", current, ()
        if cmd in ("import", "export") and len(words) >= 2 and "delimited".startswith(words[1]) \
                and len(words[1]) >= 5:
            key = f"{cmd} delimited"
            if len(words) == 2 or words[-1] == "using":
                return "file", current, _FILE_EXT[key]
        if words[-1] == "using":
            return "file", current, _FILE_EXT.get(cmd, None)
        if cmd in _FILE_FIRST and len(words) == 1:
            return "file", current, _FILE_EXT.get(cmd, None)
        return "variable", current, ()

    # -- completion --------------------------------------------------------------------
    def get_completions(self, document: Document, complete_event: CompleteEvent):
        try:
            kind, word, exts = self.context(document.text_before_cursor)
        except Exception:  # never let a completion bug reach the user
            return
        if kind == "file":
            yield from self._files(word, exts)
            return
        if kind == "command":
            pool = self.commands()
        elif kind == "estimate":
            pool = self.estimates()
        elif kind == "sample":
            pool = _sample_names()
        elif kind == "estsub":
            pool = list(ESTIMATES_SUBCOMMANDS)
        else:
            pool = self.variables()
        for name in pool:
            if name.startswith(word):
                yield Completion(name, start_position=-len(word))

    def _files(self, word: str, exts: tuple[str, ...]):
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
            full = os.path.join(root, name)
            is_dir = os.path.isdir(full)
            if not is_dir and exts is not None and not name.lower().endswith(exts):
                continue
            text = os.path.join(dirpart, name) + (os.sep if is_dir else "")
            if quoted or " " in text:
                text = '"' + text + ("" if is_dir else '"')
            yield Completion(text, start_position=-len(word), display=name + (os.sep if is_dir else ""))


def _sample_names() -> list[str]:
    """Datasets shipped with hlmshell (what `sysuse NAME` loads)."""
    try:
        from hlmshell.data.locate import sample_data_dir

        d = sample_data_dir()
        if d is None:
            return []
        return sorted(p.name[:-4] for p in d.iterdir() if p.name.endswith(".dta"))
    except Exception:
        return []


def _registry_names() -> list[str]:
    """Command names from the shared table; a broken command module must not break Tab."""
    try:
        from hlmshell.commands import registry

        names = registry.names()
        return names + [a for info in registry.COMMANDS.values() for a in info.aliases]
    except Exception:
        try:
            from hlmshell.commands.registry import COMMANDS

            return sorted(COMMANDS)
        except Exception:
            return []
