"""Key bindings of the prompt.

Enter runs the input only when it is complete (syntax/lexer.is_complete); otherwise it opens
the next line, so `///` continuations and `{` blocks are typed and edited as one input and
recalled from history as one entry. Ctrl-C (cancel input) and Ctrl-D (quit on an empty
line) keep prompt_toolkit's behaviour; the REPL loop gives them their meaning.
"""
from __future__ import annotations

from prompt_toolkit.filters import has_focus
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.enums import DEFAULT_BUFFER

from hlmshell.syntax.lexer import is_complete


def repl_key_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter", filter=has_focus(DEFAULT_BUFFER))
    def _enter(event):
        buf = event.current_buffer
        if buf.complete_state and buf.complete_state.current_completion is not None:
            # Enter on a highlighted completion keeps it and closes the menu (as IPython)
            buf.complete_state = None
            return
        if is_complete(buf.text):
            buf.validate_and_handle()
            return
        line = buf.document.current_line
        indent = line[: len(line) - len(line.lstrip())]
        buf.insert_text("\n" + indent)

    return kb
