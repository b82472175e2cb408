"""Mata's errors: a return code, a message, and where it happened.

Run-time errors print as Mata does, `<istmt>:  3200  conformability error` (or the failing
function's name, then `<istmt>:     -  function returned error`); compile-time errors
(syntax, an unknown name) print their message alone. Both become r(#) for Stata.
"""
from __future__ import annotations

from hlmshell.errors import StataError

_INDENT = " " * 17

MESSAGES = {
    3000: "invalid expression",
    3200: "conformability error",
    3201: "vector required",
    3202: "rowvector required",
    3203: "colvector required",
    3204: "matrix found where scalar required",
    3205: "square matrix required",
    3250: "type mismatch",
    3253: "nonreal found where real required",
    3300: "argument out of range",
    3301: "subscript invalid",
    3351: "argument has missing values",
    3352: "singular matrix",
    3353: "matrix not positive definite",
    3498: "invalid operation",
    3499: "not found",
    3598: "Stata returned error",
}


class MataError(StataError):
    """A Mata error. `func`: the library function that failed (None: the statement itself);
    `compile`: found while parsing (no `<istmt>:` line)."""

    def __init__(self, code: int, message: str | None = None, func: str | None = None,
                 compile_time: bool = False):
        self.mata_message = message if message is not None else MESSAGES.get(code, "error")
        self.func = func
        self.compile_time = compile_time
        self.rc = code
        super().__init__(self.report(), code)

    def report(self, code: int | None = None) -> str:
        """The lines Mata shows for this error (without the r(#) line)."""
        if self.compile_time:
            return self.mata_message
        code = getattr(self, "rc", code)
        if self.func:
            return (f"{_INDENT}{self.func}():  {code}  {self.mata_message}\n"
                    f"{_INDENT}<istmt>:     -  function returned error")
        return f"{_INDENT}<istmt>:  {code}  {self.mata_message}"


def syntax(message: str = "invalid expression") -> MataError:
    return MataError(3000, message, compile_time=True)


def conform() -> MataError:
    return MataError(3200)


def type_mismatch() -> MataError:
    return MataError(3250)


def subscript() -> MataError:
    return MataError(3301)
