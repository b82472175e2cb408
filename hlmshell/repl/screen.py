"""What the interactive shell offers commands beyond printed lines: clearing the terminal
(`cls`) and the full-screen data viewer (`browse`, repl/browse.py, imported when first used).

The REPL puts a Screen on the session (session.screen); commands look for it and, in a do-file
run outside the shell (no screen), do without. Commands never import this module.
"""
from __future__ import annotations


class Screen:
    def __init__(self, input=None, output=None):
        self.input = input
        self.output = output

    def _output(self):
        if self.output is not None:
            return self.output
        from prompt_toolkit.output.defaults import create_output

        return create_output()

    def clear(self) -> None:
        """Erase the terminal and put the cursor top left (Stata's cls)."""
        out = self._output()
        out.erase_screen()
        out.cursor_goto(0, 0)
        out.flush()

    def browse(self, table) -> None:
        """Show `table` (see repl/browse.py) full screen until the user presses q."""
        from hlmshell.repl.browse import run_browse

        run_browse(table, input=self.input, output=self.output)
