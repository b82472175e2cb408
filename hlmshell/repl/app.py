"""The interactive shell: read a complete input at the `. ` prompt, run it, repeat.

Reading (prompt_toolkit) and running (the interpreter) are kept apart so tests can drive
the real prompt through a pipe with a stand-in interpreter. The REPL itself handles only
what Stata's console handles outside the language: `exit` (refused while the data in memory
has unsaved changes), Ctrl-C at the prompt (drop the input) and Ctrl-D (quit).

Ctrl-D is `exit` typed at the keyboard, so it must not throw away unsaved data either: with
the dataset changed since it was last saved it is refused like `exit` (r(4)); `exit, clear`
or a second Ctrl-D in a row (the user insisting) quits.
"""
from __future__ import annotations

import re
import sys

from prompt_toolkit import PromptSession
from prompt_toolkit.application.current import get_app
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory

from hlmshell import __version__
from hlmshell.errors import Break, ExitDo, StataError, report_internal_error
from hlmshell.interpreter import Interpreter
from hlmshell.registry import REPL_COMMANDS
from hlmshell.repl.completer import StataCompleter
from hlmshell.repl.graph_window import install_graph_window
from hlmshell.repl.highlight import repl_style, stata_lexer
from hlmshell.repl.history import make_history
from hlmshell.repl.interrupt import reliable_sigint
from hlmshell.repl.keybindings import repl_key_bindings
from hlmshell.repl.screen import Screen
from hlmshell.session import Session
from hlmshell.syntax.lexer import continuation_prompt, join_continuations

PROMPT = ". "
BANNER = (f"hlmshell {__version__} - Stata-like shell for multilevel (mixed) models\n"
          "Type exit to quit.")

_EXIT = REPL_COMMANDS[0]        # `exit`: the registry's word the shell handles before the interpreter
_EXIT_RE = re.compile(rf"^{_EXIT}(?:\s+(?P<code>\d+))?\s*(?:,(?P<opts>.*))?$")
_EXIT_WORD = re.compile(rf"^{_EXIT}\b")


class ExitRequest:
    """Parsed `exit [#] [, clear STATA]` typed at the prompt."""

    def __init__(self, code: int = 0, clear: bool = False):
        self.code = code
        self.clear = clear


def parse_exit(line: str):
    """`exit ...` -> ExitRequest; None when the line is another command.

    A malformed exit raises StataError (invalid syntax / option not allowed, r(198)).
    """
    text = line.strip()
    if not _EXIT_WORD.match(text):
        return None
    m = _EXIT_RE.match(text)
    if not m:
        raise StataError("invalid syntax", 198)
    clear = False
    for opt in (m.group("opts") or "").split():
        if opt == "clear":
            clear = True
        elif opt.lower() == "stata":
            pass
        else:
            raise StataError(f"option {opt} not allowed", 198)
    return ExitRequest(int(m.group("code") or 0), clear)


def data_changed(session) -> bool:
    """Unsaved changes in memory (Stata's c(changed)) that `exit` must not throw away."""
    data = getattr(session, "data", None)
    if data is None or not getattr(data, "changed", False):
        return False
    return bool(getattr(data, "vars", None)) or getattr(data, "n", 0) > 0


class Repl:
    def __init__(self, interpreter, session, *, input=None, output=None, history=None,
                 history_path: str | None = None):
        self.interp = interpreter
        self.session = session
        self.out = session.out
        self.prompt_session = PromptSession(
            message=PROMPT,
            multiline=True,
            prompt_continuation=self._continuation,
            lexer=stata_lexer(),
            style=repl_style(),
            include_default_pygments_style=False,
            completer=StataCompleter(lambda: self.session),
            complete_while_typing=False,
            auto_suggest=AutoSuggestFromHistory(),   # grey hint from history; -> accepts it
            history=history if history is not None else make_history(history_path),
            key_bindings=repl_key_bindings(),
            enable_open_in_editor=False,
            input=input,
            output=output,
        )
        self.exit_code = 0
        self._eof_refused = False      # the previous input was a refused Ctrl-D
        session.screen = Screen(input=input, output=output)   # cls, browse (commands/shell.py)

    # -- reading -------------------------------------------------------------------------
    @staticmethod
    def _continuation(width, line_number, wrap_count):
        if wrap_count:
            return " " * width
        try:
            text = get_app().current_buffer.text
        except Exception:
            text = ""
        return [("class:continuation", continuation_prompt(text, line_number))]

    def read(self) -> str | None:
        """One complete input; None at end of input (Ctrl-D); '' when Ctrl-C cancelled it."""
        try:
            return self.prompt_session.prompt()
        except KeyboardInterrupt:
            return ""
        except EOFError:
            return None

    # -- running -------------------------------------------------------------------------
    def _error(self, message: str, rc: int) -> None:
        self.out.line(message)
        self.out.line(f"r({rc});")

    def _log_echo(self, text: str) -> None:
        """Open logs record typed commands as Stata's do (the terminal already shows them)."""
        logs = getattr(self.out, "logs", None)
        if not logs:
            return
        lines = text.split("\n")
        echoed = [PROMPT + lines[0]]
        echoed += [continuation_prompt(text, i) + ln for i, ln in enumerate(lines) if i > 0]
        for f in logs:
            try:
                f.write("\n".join(echoed) + "\n")
            except Exception:
                pass

    def execute(self, text: str) -> bool:
        """Run one complete input; False when the session should end."""
        if not text.strip():
            return True
        self._log_echo(text)
        joined = join_continuations(text)
        try:
            try:
                request = parse_exit(joined) if "\n" not in joined.strip() else None
            except StataError as err:
                self._error(err.message, err.rc)
                return True
            if request is not None:
                return self._exit(request)
            with reliable_sigint():
                if "\n" in joined.strip():
                    self.interp.run_text(joined, echo=False)
                else:
                    self.interp.run_line(joined.strip())
        except ExitDo as ex:
            return self._exit(ExitRequest(getattr(ex, "rc", 0) or 0, getattr(ex, "clear", False)))
        except (KeyboardInterrupt, Break):
            self.out.line("--Break--")
            self.out.line("r(1);")
        except Exception as exc:  # an interpreter bug must not end the session
            report_internal_error(exc, self.out)
        finally:
            try:
                self.out.flush()
            except Exception:
                pass
        self.out.line()
        return True

    def _exit(self, request: ExitRequest) -> bool:
        if data_changed(self.session) and not request.clear:
            self._error("no; dataset in memory has changed since last saved", 4)
            self.out.line()
            return True
        self.exit_code = request.code
        return False

    def _refuse_eof(self) -> bool:
        """True when this Ctrl-D must not end the session (unsaved data, first Ctrl-D)."""
        if self._eof_refused or not data_changed(self.session):
            return False
        self._eof_refused = True
        self._error("no; dataset in memory has changed since last saved", 4)
        self.out.line()
        return True

    def loop(self, banner: bool = True) -> int:
        if banner:
            self.out.line(BANNER)
            self.out.line()
        while True:
            try:
                text = self.read()
                if text is None:
                    if self._refuse_eof():
                        continue
                    break
                self._eof_refused = False
                if not self.execute(text):
                    break
            except KeyboardInterrupt:
                # Ctrl-C landing between prompt and command (or while printing): keep going
                self.out.line("--Break--")
                self.out.line("r(1);")
                self.out.line()
        return self.exit_code


def run_repl(session=None, interpreter=None, *, input=None, output=None,
             history_path: str | None = None, banner: bool = True) -> int:
    """Run the interactive shell until exit; returns the process exit status."""
    if session is None:
        session = getattr(interpreter, "session", None)
    if session is None:
        session = Session()
    if interpreter is None:
        interpreter = Interpreter(session)
    install_graph_window(session)
    repl = Repl(interpreter, session, input=input, output=output, history_path=history_path)
    return repl.loop(banner=banner)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_repl())
