"""Shell conveniences (hlmshell/commands/shell.py): cls, browse/edit, query, about, creturn, timer."""
BASE = {"browse": "browse ses", "edit": "edit ses"}
TAKES = {"browse": "if in", "edit": "if in"}
# their text is theirs to read (subcommands, numbers): tests/test_shell_commands.py
RAW = {"cls", "query", "about", "creturn", "timer"}
