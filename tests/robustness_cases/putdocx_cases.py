"""putdocx (hlmshell/commands/putdocx.py): its text is its own to read (subcommands, `name =`,
parenthesised expressions); tests/test_putdocx.py holds its bad-input cases."""
RAW = {"putdocx"}
