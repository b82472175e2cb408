"""A line whose first word is not a command name: Stata names the offending character
(`/ is not a valid command name`, r(199)). A line pasted from a log with its `. ` prompt runs
the command after the prompt (tests/test_dofile.py); `.name` is not a prompt."""
import pytest

from hlmshell.session import Session
from tests.session_run import run


@pytest.mark.parametrize("line, message", [
    (".clear", ". is not a valid command name"),       # a period before a name is no prompt
    ("/Users/me/data", "/ is not a valid command name"),
    ("}", "invalid syntax"),                           # a `}` without its block (statements.py)
])
def test_lines_that_do_not_start_with_a_command_name(line, message):
    s = Session()
    rc, out = run(s, line)
    assert rc in (199, 198) and message in out
