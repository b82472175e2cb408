"""Stata-style errors.

Every user-facing failure is a StataError carrying Stata's message and return code; the
interpreter prints ``message`` then ``r(rc);`` and restores the session snapshot, so a failed
command never leaves half-applied changes.
"""


class StataError(Exception):
    def __init__(self, message: str, rc: int = 198):
        super().__init__(message)
        self.message = message
        self.rc = rc

    def __str__(self) -> str:  # pragma: no cover - convenience
        return f"{self.message} r({self.rc});"


class ExitDo(Exception):
    """`exit` inside a do-file: ends that do-file (not an error)."""

    def __init__(self, rc: int = 0, clear: bool = False):
        super().__init__(rc)
        self.rc = rc
        self.clear = clear


class Break(Exception):
    """Ctrl-C / `--Break--`: Stata's r(1)."""


def syntax_error() -> StataError:
    return StataError("invalid syntax", 198)


def var_not_found(name: str) -> StataError:
    return StataError(f"variable {name} not found", 111)


def option_not_allowed(name: str) -> StataError:
    return StataError(f"option {name} not allowed", 198)
