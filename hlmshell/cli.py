"""Command-line entry point: the REPL, a do-file, piped commands, or `hlmshell check`.

Users never see a Python traceback: anything unexpected is reported in one line (set
HLMSHELL_DEBUG=1 to get the traceback), nor a Python warning (quiet_warnings()). The exit
status is the Stata return code of the error that stopped a do-file, squeezed into 1..255 so
a shell sees failure as failure.
"""
from __future__ import annotations

import os
import sys

# One BLAS thread unless the user chose otherwise, set before numpy is first imported: the
# engine's work is many small products (per-group blocks, p x p Schur complements), where
# OpenBLAS's threads only synchronise, and on a machine whose cores are busy they spin and make
# a fit 3-10x slower (measured: crossed 50k-row fit 0.2 s with one thread, 1.8-2.5 s with two).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from hlmshell import __version__  # noqa: E402
# the debug switch and the one-line report of an internal error are the errors module's, so
# the REPL and the interpreter report crashes without importing the command-line front end
from hlmshell.errors import debug_enabled, report_internal_error
from hlmshell.repl.interrupt import reliable_sigint

USAGE = """\
usage: hlmshell [FILE.do [ARG ...]]
       hlmshell check NOTES.do STATA.log [...]
       hlmshell --version | -h

  (no argument)     interactive shell on a terminal; commands piped on stdin run as a do-file
  FILE.do [ARG ...] run the do-file (echoing commands, as Stata's `do`; ARGs become
                    its locals `1', `2', ...) and exit
  -                 read the do-file from stdin
  check ...         replay a do-file and compare its numbers with a Stata log
  --version         print the version and exit
  -h, --help        show this help and exit

Environment: HLMSHELL_HISTORY (history file, default ~/.hlmshell_history),
             HLMSHELL_DEBUG=1 (show Python tracebacks of internal errors)."""


def exit_status(rc) -> int:
    """Stata return code -> process exit status: 0 stays 0, errors map into 1..255."""
    try:
        rc = int(rc or 0)
    except (TypeError, ValueError):
        return 1
    if rc == 0:
        return 0
    return min(max(rc, 1), 255)


def _stata_error(message: str, rc: int) -> int:
    print(message)
    print(f"r({rc});")
    return exit_status(rc)


def _interpreter():
    """A fresh session and its interpreter. Imported here, not at the top, so that --help,
    --version and `check`'s argument errors answer without loading the interpreter."""
    from hlmshell.interpreter import Interpreter
    from hlmshell.session import Session

    session = Session()
    return Interpreter(session), session


def _do_args(args: list[str]) -> str:
    """Shell words -> the argument text of Stata's `do file arg1 "arg 2"` (locals 0, 1, 2...)."""
    return " ".join(f'"{a}"' if (not a or any(c.isspace() for c in a)) else a for a in args)


def run_file(path: str, args: list[str] | None = None) -> int:
    if not os.path.isfile(path) and not os.path.splitext(path)[1] and os.path.isfile(path + ".do"):
        path += ".do"   # as Stata's `do name` finds name.do
    if not os.path.isfile(path):
        return _stata_error(f"file {path} not found", 601)
    interp, _ = _interpreter()
    with reliable_sigint():
        if args:
            return exit_status(interp.run_dofile(path, echo=True, args=_do_args(args)))
        return exit_status(interp.run_dofile(path, echo=True))


def run_stdin() -> int:
    text = sys.stdin.read()
    interp, _ = _interpreter()
    with reliable_sigint():
        return exit_status(interp.run_text(text, echo=True, name="stdin"))


def run_check(argv: list[str]) -> int:
    try:
        from hlmshell import check
    except ImportError as exc:
        if getattr(exc, "name", "") in ("hlmshell.check",) or "hlmshell.check" in str(exc):
            print("hlmshell: the `check` command is not available in this installation "
                  "(hlmshell.check is missing)", file=sys.stderr)
            return 2
        raise
    rc = check.main(argv)
    return rc if isinstance(rc, int) else 0


def _interactive(argv: list[str]) -> bool:
    """No argument and a terminal on stdin: the interactive shell."""
    return not argv and sys.stdin is not None and sys.stdin.isatty()


def run_interactive() -> int:
    from hlmshell.repl.app import run_repl

    return exit_status(run_repl())


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if argv and argv[0] == "--version":
        print(f"hlmshell {__version__}")
        return 0
    if argv and argv[0] == "check":
        return run_check(argv[1:])
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        if _interactive(argv):
            return run_interactive()
        return run_stdin()
    if argv[0] == "-":
        if len(argv) > 1:
            print(f"hlmshell: unexpected argument {argv[1]!r}\n\n{USAGE}", file=sys.stderr)
            return 2
        return run_stdin()
    if argv[0].startswith("-"):
        print(f"hlmshell: unknown option {argv[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    return run_file(argv[0], argv[1:])


def quiet_warnings() -> None:
    """No Python warning (RuntimeWarning, FutureWarning, ...) reaches the user's terminal:
    Stata reports numerical edge cases as missing values, and hlmshell handles them so, but a
    library's warning must not leak into a do-file's output either. A developer who asks for
    warnings (python -W ..., PYTHONWARNINGS, HLMSHELL_DEBUG=1) still gets them."""
    if sys.warnoptions or debug_enabled():
        return
    import warnings

    warnings.simplefilter("ignore")


def main(argv: list[str] | None = None) -> int:
    """The command line's exit status. Called without arguments (the console script,
    `python -m hlmshell`) it is the whole process, and ends it when done (see _leave)."""
    whole_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    quiet_warnings()
    rc = _main(argv)
    if whole_process and not _interactive(argv):
        _leave(rc)
    return rc


def _main(argv: list[str]) -> int:
    try:
        return _dispatch(argv)
    except KeyboardInterrupt:
        print("--Break--")
        print("r(1);")
        return 1
    except BrokenPipeError:
        # output piped into e.g. `head` that closed early: not an error worth a traceback
        try:
            sys.stdout = open(os.devnull, "w")
        except Exception:
            pass
        return 1
    except SystemExit:
        raise
    except BaseException as exc:  # last line of defence: never a traceback for the user
        report_internal_error(exc)
        return 1


def _leave(rc: int) -> None:
    """End the process at once, output flushed, without tearing the interpreter down: freeing
    numpy's, scipy's and pandas' objects module by module takes ~0.1 s and nothing needs it
    (no atexit work is registered; log files are flushed at every write). If the flush fails
    (the reader of a pipe went away), the process ends the ordinary way instead."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        return
    os._exit(rc)
