"""Panel post-estimation (hlmshell/commands/xttest0.py)."""
# xttest0 takes no arguments and needs xtreg, re with a panel: its refusals (r(198) for any text,
# r(301) after other models, r(301) with no estimates) are tested in tests/test_xttest0.py
RAW = {"xttest0"}
BASE = {"xtgee": "xtgee minority ses, i(id) family(binomial) link(logit) corr(exchangeable)"}
TAKES = {"xtgee": "if in"}
