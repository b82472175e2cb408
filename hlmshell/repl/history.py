"""Command history kept across sessions (like Stata's Review window, but in a file).

The file is ~/.hlmshell_history unless HLMSHELL_HISTORY names another (tests use a temp
file). An unwritable location degrades to in-memory history instead of failing the REPL.
"""
from __future__ import annotations

import os

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

ENV_VAR = "HLMSHELL_HISTORY"
DEFAULT_NAME = ".hlmshell_history"


def history_path() -> str:
    env = os.environ.get(ENV_VAR)
    if env:
        return os.path.expanduser(env)
    return os.path.join(os.path.expanduser("~"), DEFAULT_NAME)


def make_history(path: str | None = None) -> History:
    path = path or history_path()
    try:
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        with open(path, "ab"):
            pass
    except OSError:
        return InMemoryHistory()
    return FileHistory(path)
