"""gllamm, gllapred and eq (SSC's gllamm, built in: hlmshell/commands/gllamm*.py, gllapred.py)."""
BASE = {"gllamm": "gllamm minority ses, i(id) family(binomial) nip(2)"}
TAKES = {"gllamm": "if in"}
# eq's text is its own (`eq name: varlist`); gllapred needs gllamm's results (the sweep's are
# mixed's): tests/test_gllamm.py covers both
RAW = {"eq", "gllapred"}
