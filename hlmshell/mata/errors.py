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
    """A Mata error. `func`: the function that failed, then the functions that called it
    (a tuple, innermost first; empty: the statement itself); `compile_time`: found while
    parsing (the message alone, no `<istmt>:` line)."""

    def __init__(self, code: int, message: str | None = None, func=(),
                 compile_time: bool = False):
        self.mata_message = message if message is not None else MESSAGES.get(code, "error")
        self.func = (func,) if isinstance(func, str) else tuple(func or ())
        self.compile_time = compile_time
        self.rc = code
        super().__init__(self.report(), code)

    def within(self, name: str) -> MataError:
        """The same error seen from the caller: `name` failed (or passed the failure on)."""
        return MataError(self.rc, self.mata_message, self.func + (name,), self.compile_time)

    def report(self) -> str:
        """The lines Mata shows for this error (without the r(#) line)."""
        if self.compile_time:
            return self.mata_message
        if not self.func:
            return f"{_INDENT}<istmt>:  {self.rc}  {self.mata_message}"
        lines = [f"{_INDENT}{self.func[0]}():  {self.rc}  {self.mata_message}"]
        lines += [f"{_INDENT}{f}():     -  function returned error" for f in self.func[1:]]
        lines.append(f"{_INDENT}<istmt>:     -  function returned error")
        return "\n".join(lines)


def syntax(message: str = "invalid expression") -> MataError:
    return MataError(3000, message, compile_time=True)


def conform() -> MataError:
    return MataError(3200)


def type_mismatch() -> MataError:
    return MataError(3250)


def subscript() -> MataError:
    return MataError(3301)
