"""Stata-style errors.

Every user-facing failure is a StataError carrying Stata's message and return code; the
interpreter prints ``message`` then ``r(rc);`` and restores the session snapshot, so a failed
command never leaves half-applied changes.

Internal errors (Python exceptions that are not StataErrors) are reported here too, by
`report_internal_error`, with the HLMSHELL_DEBUG switch: the command-line front end, the
interactive shell and the interpreter all need them, and this module is the one layer they
all sit on, so none of them has to import another to report a crash.
"""
import os
import sys


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


# --- internal errors ----------------------------------------------------------------------------
def debug_enabled() -> bool:
    """HLMSHELL_DEBUG=1 (anything but empty or 0): show Python tracebacks of internal errors."""
    return os.environ.get("HLMSHELL_DEBUG", "") not in ("", "0")


def report_internal_error(exc: BaseException, out=None) -> None:
    """One line for the user instead of a traceback (the traceback with HLMSHELL_DEBUG=1).

    `out` (the session's output, when there is one) is flushed first so the message follows
    what the failing command had already printed."""
    msg = f"hlmshell: internal error: {type(exc).__name__}: {exc}"
    if debug_enabled():
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    else:
        msg += " (set HLMSHELL_DEBUG=1 for details)"
    try:
        if out is not None:
            out.flush()
    except Exception:
        pass
    print(msg, file=sys.stderr)
