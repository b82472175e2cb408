"""sem (hlmshell/commands/sem.py): a path model on the sweep's hsb session; its own bad-input
cases (paths, constraints, options) are in tests/test_sem.py."""
BASE = {"sem": "sem (mathach <- ses minority) (ses <- minority)"}
TAKES = {"sem": "if in"}
