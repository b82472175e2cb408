"""discard, update, adoupdate (hlmshell/commands/maintenance.py) and sysdir/adopath
(adopath.py): no qualifiers; their refusals are in tests/test_adopath.py."""
BASE = {"discard": "discard", "update": "update all", "adoupdate": "adoupdate"}
RAW = {"sysdir", "adopath"}     # their text is a folder or codeword
TAKES = {k: "" for k in BASE}
RAW |= {"translate"}            # two file names; its refusals are in tests/test_log_tools.py
BASE["cmdlog"] = "cmdlog query"
TAKES["cmdlog"] = ""
RAW |= {"ado", "view"}          # `ado dir [pkg]`, `view file|browse url|help topic`; refusals in test_vocab_options.py
