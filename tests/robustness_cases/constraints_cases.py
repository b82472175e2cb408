"""constraint (its text is a subcommand or a number and an expression: raw) and cnsreg, which
needs a constraint defined before it can run, so the sweep cannot build a valid line for it
on its own session; tests/test_constraints.py covers both commands' bad input."""
RAW = {"constraint", "cnsreg"}
