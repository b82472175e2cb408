"""Commands added by the [XT] manual sweep: xtcloglog (xt_glmm.py; its numbers and own
refusals are in tests/test_xt_manual_postest.py)."""
BASE = {"xtcloglog": "xtcloglog minority ses, i(id) pa"}
TAKES = {"xtcloglog": "if in"}
