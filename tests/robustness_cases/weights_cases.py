"""Weights on `mixed`, `areg` and `xtreg` (hlmshell/commands/mixed_weights.py, areg.py,
xtreg_weights.py): they take
[weight] now, so the sweep's `[pw=ses]` (negative weights, r(402)) and `[fw=name]` (a string,
r(109)) mutations are expected of them. Their own bad input (noninteger fweights r(401),
aweights/iweights where Stata refuses them, weights varying within an absorbed group or with
options Stata does not combine with them) is in tests/test_mixed_weights.py,
tests/test_areg_weights.py and tests/test_xtreg_weights.py, each checking that the session is
left as it was."""
TAKES = {"mixed": "if in weight", "areg": "if in weight", "xtreg": "if in weight"}
