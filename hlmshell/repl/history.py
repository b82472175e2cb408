"""Command history kept across sessions (like Stata's Review window, but in a file).

The file is ~/.hlmshell_history unless HLMSHELL_HISTORY names another (tests use a temp
file). An unwritable location degrades to in-memory history instead of failing the REPL.
Commands can hold names, paths and data values, so the file is private to the user: created
with mode 0600, and an existing one is tightened to 0600.
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
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _make_private(fd)
        finally:
            os.close(fd)
    except OSError:
        return InMemoryHistory()
    return FileHistory(path)


def _make_private(fd: int) -> None:
    """Mode 0600 for a history file this user owns (another user's file is left alone:
    chmod would fail, and the file is still usable)."""
    st = os.fstat(fd)
    if st.st_uid == os.getuid() and (st.st_mode & 0o777) != 0o600:
        os.fchmod(fd, 0o600)
